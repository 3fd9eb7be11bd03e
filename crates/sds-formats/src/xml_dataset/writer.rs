//! Writing a download: the DataSet document the toolkit reads positionally,
//! so the schema's shape is fixed to the element (and no whitespace sits
//! between schema nodes, in case a client keeps whitespace nodes).
//!
//! Text escaping keeps strings byte-exact through a reader that follows
//! XML: `&`, `<` and `>` are escaped; CR becomes `&#13;` because a literal
//! CR would be normalized to LF. The characters XML 1.0 excludes (C0
//! controls besides tab, LF and CR; U+FFFE, U+FFFF) fail their row at load
//! (`sds_core::value::check_xml_chars`), so only a version loaded before
//! that rule can hold one; it is written as U+FFFD, so that the document
//! stays well-formed for every XML parser.
//!
//! An empty Edm.String is written as an empty element (`<Phone />`), which
//! a .NET DataSet reads as `""`; a null of another type is left out, which
//! it reads as null. Both read back the same through `input=xml`.

use std::io::{self, Write};

use chrono::{Datelike, Timelike};
use sds_core::{Entity, NumberText, Schema, Timestamp, Value, ValueRef};

use crate::{EntityRow, RowFormat};

const ROOT: &str = "MainRoot";
/// The root must not share the DataSet element's name.
const ROOT_FOR_MAIN_ROOT: &str = "MainRootData";

/// Streams entities into a DataSet document. Give it a buffered writer.
pub struct DataSetWriter<W: Write> {
    out: W,
    root: &'static str,
    rows: DataSetRows,
    /// One row's text, before it goes to `out`.
    scratch: Vec<u8>,
}

/// The entity rows of a DataSet document (see [`crate::RowFormat`]).
#[derive(Clone)]
pub struct DataSetRows {
    /// `<EntityType>` and `</EntityType>`.
    row_tags: (String, String),
    /// `<Name>` and `</Name>` for each property, in schema order.
    property_tags: Vec<(String, String)>,
    /// `<Name />` for each Edm.String property (`None` for other types).
    empty_tags: Vec<Option<String>>,
}

impl<W: Write> DataSetWriter<W> {
    /// Writes the XML declaration, the root's start tag and the schema.
    pub fn new(mut out: W, data_source_name: &str, schema: &Schema) -> io::Result<Self> {
        let root = if data_source_name.eq_ignore_ascii_case(ROOT) { ROOT_FOR_MAIN_ROOT } else { ROOT };
        let entity_type = &schema.entity_type_name;
        out.write_all(b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<")?;
        out.write_all(root.as_bytes())?;
        out.write_all(b"><xs:schema id=\"")?;
        write_attribute(&mut out, data_source_name)?;
        out.write_all(
            b"\" xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" xmlns:msdata=\"urn:schemas-microsoft-com:xml-msdata\"><xs:element name=\"",
        )?;
        write_attribute(&mut out, data_source_name)?;
        out.write_all(
            b"\" msdata:IsDataSet=\"true\" msdata:UseCurrentLocale=\"true\"><xs:complexType><xs:choice minOccurs=\"0\" maxOccurs=\"unbounded\"><xs:element name=\"",
        )?;
        write_attribute(&mut out, entity_type)?;
        out.write_all(b"\"><xs:complexType><xs:sequence>")?;
        for property in &schema.properties {
            out.write_all(b"<xs:element name=\"")?;
            write_attribute(&mut out, &property.name)?;
            out.write_all(b"\" type=\"")?;
            out.write_all(property.edm_type.xsd_name().as_bytes())?;
            out.write_all(b"\" minOccurs=\"0\"")?;
            if property.edm_type == sds_core::EdmType::DateTime {
                out.write_all(b" msdata:DateTimeMode=\"Utc\"")?;
            }
            out.write_all(b" />")?;
        }
        out.write_all(b"</xs:sequence></xs:complexType></xs:element></xs:choice></xs:complexType>")?;
        out.write_all(b"<xs:unique name=\"Constraint1\" msdata:PrimaryKey=\"true\"><xs:selector xpath=\".//")?;
        write_attribute(&mut out, entity_type)?;
        out.write_all(b"\" /><xs:field xpath=\"")?;
        write_attribute(&mut out, &schema.key().name)?;
        out.write_all(b"\" /></xs:unique></xs:element></xs:schema>")?;

        // Schema::new checks property names to be [A-Za-z0-9_] and entity
        // type names to be XML NCNames, so they are element names as they are.
        let tags = |name: &str| (format!("<{name}>"), format!("</{name}>"));
        let empty_tags = schema
            .properties
            .iter()
            .map(|property| (property.edm_type == sds_core::EdmType::String).then(|| format!("<{} />", property.name)))
            .collect();
        let rows = DataSetRows {
            row_tags: tags(entity_type),
            property_tags: schema.properties.iter().map(|property| tags(&property.name)).collect(),
            empty_tags,
        };
        Ok(DataSetWriter { out, root, rows, scratch: Vec::new() })
    }

    /// How this document's rows are formatted, for formatting them apart
    /// (then written with [`DataSetWriter::write_formatted`]).
    pub fn rows(&self) -> DataSetRows {
        self.rows.clone()
    }

    /// Writes rows formatted by [`DataSetWriter::rows`], as they are.
    pub fn write_formatted(&mut self, text: &[u8]) -> io::Result<()> {
        self.out.write_all(text)
    }

    /// Writes one entity on its own line; null values are left out, empty
    /// strings are empty elements.
    pub fn write_entity(&mut self, entity: &Entity) -> io::Result<()> {
        crate::check_value_count(entity, self.rows.property_tags.len())?;
        self.scratch.clear();
        self.rows.format_row(&mut self.scratch, entity, false);
        self.out.write_all(&self.scratch)
    }

    /// Closes the document and hands back the (flushed) writer.
    pub fn finish(mut self) -> io::Result<W> {
        write!(self.out, "\n</{}>\n", self.root)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

impl crate::RowFormat for DataSetRows {
    fn format_row(&self, out: &mut Vec<u8>, row: &impl EntityRow, _first: bool) {
        let mut numbers = NumberText::default();
        out.push(b'\n');
        out.extend_from_slice(self.row_tags.0.as_bytes());
        for (index, ((open, close), empty_tag)) in self.property_tags.iter().zip(&self.empty_tags).enumerate() {
            let value = row.value(index);
            let empty = match value {
                ValueRef::Null => true,
                ValueRef::String(text) => text.is_empty(),
                _ => false,
            };
            if empty {
                // A null Edm.String (from a version loaded before strings
                // were never null) is the empty string too.
                if let Some(tag) = empty_tag {
                    out.extend_from_slice(tag.as_bytes());
                }
                continue;
            }
            out.extend_from_slice(open.as_bytes());
            match value {
                ValueRef::String(text) | ValueRef::Geography(text) => write_text(out, text),
                ValueRef::DateTime(timestamp) => write_timestamp(out, timestamp),
                ValueRef::Int64(number) => out.extend_from_slice(numbers.int(number).as_bytes()),
                ValueRef::Double(number) => out.extend_from_slice(numbers.double(number).as_bytes()),
                ValueRef::Boolean(flag) => out.extend_from_slice(if flag { b"true" } else { b"false" }),
                ValueRef::Null => {}
            }
            out.extend_from_slice(close.as_bytes());
        }
        out.extend_from_slice(self.row_tags.1.as_bytes());
    }
}

/// The same text as `Value::DateTime`'s `Display`, without its per-value
/// format parsing and allocations, which made dates half the cost of a
/// download. Unusual instants (years outside 0..=9999, leap seconds) take
/// the `Display` path, so the two cannot disagree there.
pub(crate) fn write_timestamp(out: &mut Vec<u8>, timestamp: Timestamp) {
    let datetime = timestamp.to_datetime();
    let year = datetime.year();
    if !(0..=9999).contains(&year) || timestamp.nanos >= 1_000_000_000 {
        return out.extend_from_slice(Value::DateTime(timestamp).to_string().as_bytes());
    }
    let mut text = *b"0000-00-00T00:00:00.000000000Z";
    let mut put = |at: usize, digits: usize, mut number: u32| {
        for index in (at..at + digits).rev() {
            text[index] = b'0' + (number % 10) as u8;
            number /= 10;
        }
    };
    put(0, 4, year as u32);
    put(5, 2, datetime.month());
    put(8, 2, datetime.day());
    put(11, 2, datetime.hour());
    put(14, 2, datetime.minute());
    put(17, 2, datetime.second());
    if timestamp.nanos == 0 {
        text[19] = b'Z';
        return out.extend_from_slice(&text[..20]);
    }
    put(20, 9, timestamp.nanos);
    let mut end = 29;
    while text[end - 1] == b'0' {
        end -= 1;
    }
    text[end] = b'Z';
    out.extend_from_slice(&text[..=end]);
}

/// U+FFFD in UTF-8: what a character XML cannot carry is written as.
const REPLACEMENT: &[u8] = "\u{FFFD}".as_bytes();

/// Element content: see the module comment for what is escaped and why.
fn write_text(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    // Most texts hold nothing to escape: one pass without early exits (the
    // compiler runs it on whole vectors) finds that, and they are copied.
    let special = |byte: u8| byte < 0x20 || byte == b'&' || byte == b'<' || byte == b'>' || byte == 0xEF;
    if !bytes.iter().fold(false, |found, &byte| found | special(byte)) {
        return out.extend_from_slice(bytes);
    }
    let mut clean_from = 0;
    for (at, &byte) in bytes.iter().enumerate() {
        let escaped: &[u8] = match byte {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'\r' => b"&#13;",
            b'\t' | b'\n' => continue,
            0..=0x1F => {
                out.extend_from_slice(&bytes[clean_from..at]);
                out.extend_from_slice(REPLACEMENT);
                clean_from = at + 1;
                continue;
            }
            // U+FFFE and U+FFFF are EF BF BE and EF BF BF in UTF-8.
            0xEF if bytes.get(at + 1) == Some(&0xBF) && matches!(bytes.get(at + 2), Some(0xBE | 0xBF)) => {
                out.extend_from_slice(&bytes[clean_from..at]);
                out.extend_from_slice(REPLACEMENT);
                clean_from = at + 3;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[clean_from..at]);
        out.extend_from_slice(escaped);
        clean_from = at + 1;
    }
    out.extend_from_slice(&bytes[clean_from..]);
}

fn write_attribute(out: &mut impl Write, text: &str) -> io::Result<()> {
    let bytes = text.as_bytes();
    let mut clean_from = 0;
    for (at, &byte) in bytes.iter().enumerate() {
        let escaped: &[u8] = match byte {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'"' => b"&quot;",
            _ => continue,
        };
        out.write_all(&bytes[clean_from..at])?;
        out.write_all(escaped)?;
        clean_from = at + 1;
    }
    out.write_all(&bytes[clean_from..])
}
