//! Reading the `xs:schema` of a DataSet document into an SDS [`Schema`].
//!
//! The schema element is small, so it is first read into a flat tree (only
//! elements and their attributes; text and annotations are dropped), then
//! interpreted. Both steps are iterative: a deep or huge schema is an error,
//! never deep recursion or unbounded memory.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::NsReader;
use sds_core::{EdmType, Property, Schema, SchemaError};

use super::input::Tracked;
use super::{at_line, read_event, MSDATA_NAMESPACE, XSD_NAMESPACE};
use crate::FormatError;

/// More elements than any schema of 350 columns needs, even verbose ones.
const MAX_SCHEMA_ELEMENTS: usize = 20_000;

#[derive(Clone, Copy, PartialEq, Eq)]
enum AttributeNamespace {
    None,
    MsData,
    Other,
}

struct Attribute {
    namespace: AttributeNamespace,
    local: String,
    value: String,
}

pub(super) struct Node {
    line: u64,
    /// In the XML Schema namespace, whatever prefix the document uses.
    xsd: bool,
    local: String,
    attributes: Vec<Attribute>,
    children: Vec<usize>,
}

impl Node {
    pub(super) fn from_start(xml: &NsReader<Tracked>, element: &BytesStart, line: u64) -> Result<Node, FormatError> {
        let (namespace, local) = xml.resolve_element(element.name());
        let xsd = matches!(namespace, ResolveResult::Bound(Namespace(uri)) if uri == XSD_NAMESPACE);
        let mut attributes = Vec::new();
        for attribute in element.attributes() {
            let attribute = attribute.map_err(|error| at_line(line, format!("malformed XML: {error}")))?;
            let (namespace, local) = xml.resolve_attribute(attribute.key);
            let namespace = match namespace {
                ResolveResult::Unbound => AttributeNamespace::None,
                ResolveResult::Bound(Namespace(uri)) if uri == MSDATA_NAMESPACE => AttributeNamespace::MsData,
                _ => AttributeNamespace::Other,
            };
            let value = attribute.unescape_value().map_err(|error| at_line(line, format!("malformed XML: {error}")))?;
            attributes.push(Attribute { namespace, local: utf8(local.as_ref(), line)?, value: value.into_owned() });
        }
        Ok(Node { line, xsd, local: utf8(local.as_ref(), line)?, attributes, children: Vec::new() })
    }

    pub(super) fn is_xsd(&self, local: &str) -> bool {
        self.xsd && self.local == local
    }

    fn attribute(&self, namespace: AttributeNamespace, local: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|attribute| attribute.namespace == namespace && attribute.local == local)
            .map(|attribute| attribute.value.as_str())
    }

    fn plain(&self, local: &str) -> Option<&str> {
        self.attribute(AttributeNamespace::None, local)
    }

    fn msdata_flag(&self, local: &str) -> bool {
        self.attribute(AttributeNamespace::MsData, local).is_some_and(|value| value.trim().eq_ignore_ascii_case("true"))
    }
}

fn utf8(bytes: &[u8], line: u64) -> Result<String, FormatError> {
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| at_line(line, "the document is not valid UTF-8 (SDS accepts UTF-8 only)"))
}

/// Reads the rest of the `xs:schema` element whose start tag was `schema`.
pub(super) fn read_tree(
    xml: &mut NsReader<Tracked>,
    buf: &mut Vec<u8>,
    schema: Node,
    empty: bool,
) -> Result<Vec<Node>, FormatError> {
    let mut nodes = vec![schema];
    let mut open = if empty { vec![] } else { vec![0] };
    while let Some(&parent) = open.last() {
        let line = xml.get_ref().line();
        let (node, is_start) = match read_event(xml, buf)? {
            Event::Start(element) => (Node::from_start(xml, &element, line)?, true),
            Event::Empty(element) => (Node::from_start(xml, &element, line)?, false),
            Event::End(_) => {
                open.pop();
                continue;
            }
            Event::Eof => return Err(at_line(line, "the document ends inside xs:schema")),
            _ => continue,
        };
        if nodes.len() >= MAX_SCHEMA_ELEMENTS {
            return Err(at_line(line, format!("xs:schema has more than {MAX_SCHEMA_ELEMENTS} elements")));
        }
        nodes.push(node);
        let index = nodes.len() - 1;
        nodes[parent].children.push(index);
        if is_start {
            open.push(index);
        }
    }
    Ok(nodes)
}

/// Navigation over the flat element tree.
#[derive(Clone, Copy)]
struct Tree<'a> {
    nodes: &'a [Node],
}

impl<'a> Tree<'a> {
    fn children(self, node: &'a Node) -> impl Iterator<Item = &'a Node> {
        node.children.iter().map(move |&index| &self.nodes[index])
    }

    fn first_child(self, node: &'a Node, names: &[&str]) -> Option<&'a Node> {
        self.children(node).find(|child| names.iter().any(|name| child.is_xsd(name)))
    }

    /// The xs:element children of a complexType's model group: the tables
    /// of a DataSet (DataSet writes xs:choice there) or the columns of a
    /// table (xs:sequence).
    fn particles(self, node: &'a Node) -> Vec<&'a Node> {
        self.first_child(node, &["complexType"])
            .and_then(|complex| self.first_child(complex, &["choice", "sequence", "all"]))
            .map(|group| self.children(group).filter(|child| child.is_xsd("element")).collect())
            .unwrap_or_default()
    }
}

/// The entity schema the `xs:schema` tree declares.
pub(super) fn interpret(nodes: &[Node]) -> Result<Schema, FormatError> {
    let tree = Tree { nodes };
    let root = &nodes[0];

    let data_set = tree
        .children(root)
        .find(|child| child.is_xsd("element") && child.msdata_flag("IsDataSet"))
        .ok_or_else(|| at_line(root.line, "xs:schema declares no xs:element with msdata:IsDataSet=\"true\""))?;
    if data_set.plain("name").is_none() {
        return Err(at_line(data_set.line, "the DataSet's xs:element has no name"));
    }

    let tables = tree.particles(data_set);
    let [table] = tables.as_slice() else {
        return Err(at_line(
            data_set.line,
            format!(
                "the DataSet declares {} tables (xs:element in its xs:choice); SDS expects exactly one, the entity type",
                tables.len()
            ),
        ));
    };
    let table = match table.plain("ref") {
        Some(reference) => {
            let wanted = local_part(reference);
            tree.children(root)
                .find(|child| child.is_xsd("element") && child.plain("name") == Some(wanted))
                .ok_or_else(|| {
                    at_line(table.line, format!("xs:element ref=\"{reference}\" names no declared element"))
                })?
        }
        None => table,
    };
    let entity_type = table.plain("name").ok_or_else(|| at_line(table.line, "the table's xs:element has no name"))?;

    let attribute_column =
        tree.first_child(table, &["complexType"]).and_then(|complex| tree.first_child(complex, &["attribute"]));
    if let Some(attribute) = attribute_column {
        let name = attribute.plain("name").unwrap_or_default();
        return Err(at_line(
            attribute.line,
            format!("column '{name}' is an XML attribute; SDS expects child elements"),
        ));
    }
    let mut properties = Vec::new();
    for column in tree.particles(table) {
        let name = column.plain("name").ok_or_else(|| at_line(column.line, "a column's xs:element has no name"))?;
        properties.push(Property::new(name, column_type(tree, column, name)?));
    }

    let key = primary_key(tree, data_set)?;
    Ok(Schema::new(entity_type, properties, &key)?)
}

/// A column's type: its `type` attribute, else the base of an inline
/// restriction (`xs:simpleType/xs:restriction base=`), else string.
fn column_type(tree: Tree<'_>, column: &Node, name: &str) -> Result<EdmType, FormatError> {
    let restriction_base = || {
        tree.first_child(column, &["simpleType"])
            .and_then(|simple| tree.first_child(simple, &["restriction"]))
            .and_then(|restriction| restriction.plain("base").map(|base| (restriction.line, base)))
    };
    let declared = column.plain("type").map(|type_name| (column.line, type_name)).or_else(restriction_base);
    let Some((line, type_name)) = declared else { return Ok(EdmType::String) };
    EdmType::from_xsd_name(type_name).ok_or_else(|| {
        at_line(
            line,
            format!(
                "column '{name}' has type '{type_name}': expected xs:string, xs:long, xs:boolean, xs:double, xs:dateTime or xs:anyType"
            ),
        )
    })
}

/// The column named by the `xs:unique` (or `xs:key`) marked
/// `msdata:PrimaryKey="true"` anywhere inside the DataSet element.
fn primary_key(tree: Tree<'_>, data_set: &Node) -> Result<String, FormatError> {
    let mut pending: Vec<&Node> = vec![data_set];
    while let Some(node) = pending.pop() {
        if (node.is_xsd("unique") || node.is_xsd("key")) && node.msdata_flag("PrimaryKey") {
            let fields: Vec<&Node> = tree.children(node).filter(|child| child.is_xsd("field")).collect();
            let [field] = fields.as_slice() else {
                return Err(at_line(
                    node.line,
                    format!("the primary key constraint names {} xs:field elements; SDS expects one", fields.len()),
                ));
            };
            let xpath = field.plain("xpath").ok_or_else(|| at_line(field.line, "xs:field has no xpath"))?;
            return Ok(local_part(xpath.trim().trim_start_matches(".//").trim_start_matches('@')).to_owned());
        }
        let mut children: Vec<&Node> = tree.children(node).collect();
        children.reverse();
        pending.extend(children);
    }
    Err(SchemaError::NoPrimaryKey.into())
}

/// `mstns:EntityID` → `EntityID`.
fn local_part(qualified: &str) -> &str {
    qualified.rsplit(':').next().unwrap_or(qualified)
}
