//! A namespace-resolved XML tree read as .NET's `XDocument.Load` reads a
//! document (whitespace-only text dropped, names as namespace URI + local
//! name, entity and character references resolved), for tests that parse
//! responses the way a .NET client does. Independent of the server's
//! writers; panics on XML that is not well-formed, as `XDocument` throws.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Element(Element),
    Text(String),
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Element {
    /// Namespace URI, empty when unbound.
    pub namespace: String,
    pub local: String,
    /// (namespace URI, local name, value); `xmlns` declarations excluded.
    pub attributes: Vec<(String, String, String)>,
    pub nodes: Vec<Node>,
}

impl Element {
    /// The first child element with this name (`XContainer.Element`).
    pub fn element(&self, namespace: &str, local: &str) -> Option<&Element> {
        self.elements().find(|child| child.namespace == namespace && child.local == local)
    }

    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.nodes.iter().filter_map(|node| match node {
            Node::Element(element) => Some(element),
            Node::Text(_) => None,
        })
    }

    /// Every element below this one, in document order (`Descendants()`).
    pub fn descendants(&self) -> Vec<&Element> {
        let mut found = Vec::new();
        for child in self.elements() {
            found.push(child);
            found.extend(child.descendants());
        }
        found
    }

    /// The concatenated text of the element and its descendants (`XElement.Value`).
    pub fn value(&self) -> String {
        self.nodes
            .iter()
            .map(|node| match node {
                Node::Element(element) => element.value(),
                Node::Text(text) => text.clone(),
            })
            .collect()
    }

    pub fn attribute(&self, namespace: &str, local: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(attribute_namespace, name, _)| attribute_namespace == namespace && name == local)
            .map(|(_, _, value)| value.as_str())
    }
}

/// Parses a document; returns its root element.
pub fn parse(text: &str) -> Element {
    let mut reader = NsReader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut text_buffer = String::new();
    let mut root = None;
    loop {
        let (resolved, event) =
            reader.read_resolved_event().unwrap_or_else(|error| panic!("ill-formed XML ({error}): {text}"));
        let namespace = namespace_of(&resolved);
        match event {
            Event::Start(start) => {
                flush_text(&mut stack, &mut text_buffer);
                stack.push(open(&reader, namespace, &start));
            }
            Event::Empty(start) => {
                flush_text(&mut stack, &mut text_buffer);
                let element = open(&reader, namespace, &start);
                close(&mut stack, &mut root, element);
            }
            Event::End(_) => {
                flush_text(&mut stack, &mut text_buffer);
                let element = stack.pop().expect("balanced tags");
                close(&mut stack, &mut root, element);
            }
            Event::Text(chunk) => text_buffer.push_str(&chunk.xml_content().expect("UTF-8 text")),
            Event::CData(data) => text_buffer.push_str(std::str::from_utf8(&data).expect("UTF-8 CDATA")),
            Event::GeneralRef(reference) => text_buffer.push(resolve_reference(&String::from_utf8_lossy(&reference))),
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(stack.is_empty(), "unclosed elements: {text}");
    root.expect("a root element")
}

fn namespace_of(resolved: &ResolveResult<'_>) -> String {
    match resolved {
        ResolveResult::Bound(namespace) => String::from_utf8(namespace.as_ref().to_vec()).unwrap(),
        ResolveResult::Unbound => String::new(),
        ResolveResult::Unknown(prefix) => panic!("undeclared prefix {}", String::from_utf8_lossy(prefix)),
    }
}

fn open(reader: &NsReader<&[u8]>, namespace: String, start: &BytesStart<'_>) -> Element {
    let local = String::from_utf8(start.local_name().as_ref().to_vec()).unwrap();
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.expect("a well-formed attribute");
        let key = attribute.key;
        if key.as_ref() == b"xmlns" || key.as_ref().starts_with(b"xmlns:") {
            continue;
        }
        let (resolved, local_name) = reader.resolve_attribute(key);
        let value = attribute.unescape_value().expect("a well-formed attribute value").into_owned();
        attributes.push((namespace_of(&resolved), String::from_utf8(local_name.as_ref().to_vec()).unwrap(), value));
    }
    Element { namespace, local, attributes, nodes: Vec::new() }
}

fn close(stack: &mut [Element], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.nodes.push(Node::Element(element)),
        None => *root = Some(element),
    }
}

/// Keeps text that is not only whitespace, as `LoadOptions.None` does.
fn flush_text(stack: &mut [Element], buffer: &mut String) {
    let text = std::mem::take(buffer);
    if text.trim().is_empty() {
        return;
    }
    if let Some(parent) = stack.last_mut() {
        parent.nodes.push(Node::Text(text));
    }
}

fn resolve_reference(name: &str) -> char {
    match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        "apos" => '\'',
        numeric => {
            let code = match numeric.strip_prefix("#x") {
                Some(hex) => u32::from_str_radix(hex, 16).expect("a hex character reference"),
                None => numeric.trim_start_matches('#').parse().expect("a character reference"),
            };
            char::from_u32(code).expect("a valid character")
        }
    }
}
