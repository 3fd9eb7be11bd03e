//! Streaming the rows of a DataSet upload.
//!
//! Choices where the format leaves room:
//! - Row elements match the entity type's name case-insensitively, and so
//!   do property elements; namespaces are ignored for rows (a DataSet with
//!   a target namespace puts its rows in it).
//! - Other elements directly under the root are skipped, as is stray text
//!   there: a DataSet may carry tables SDS has no use for.
//! - The root's name may equal the DataSet element's (an extension: the
//!   docs ask for different names, .NET's `DataSet.WriteXml` writes equal ones).
//! - An empty property element is `Some("")`, which the builder takes as
//!   the empty string for Edm.String and null for other types; an absent
//!   one is `None`, the same for Edm.String and null otherwise. Values are
//!   never trimmed; line ends inside them are normalized as XML requires,
//!   so a CR survives only as `&#13;`.
//! - Character references are resolved without XML 1.0's character range
//!   check, so that `&#1;` reaches the builder, which fails the row with a
//!   reason naming the character; raw bytes are only checked to be UTF-8.
//! - A problem inside one row (unknown or repeated property, markup inside
//!   a value, an unknown entity reference) fails that row only; anything
//!   that leaves the document unreadable ends it.

use std::io::BufRead;

use quick_xml::events::Event;
use quick_xml::NsReader;
use sds_core::Schema;

use super::input::Tracked;
use super::schema::{interpret, read_tree, Node};
use super::{at_line, is_blank, not_utf8, read_event};
use crate::{FormatError, Record, RecordReader, MAX_RECORD_BYTES};

/// Deeper nesting than this is refused: the parser keeps every open
/// element's name, so depth is memory.
const MAX_DEPTH: usize = 1_000;

/// A streaming reader of one XML DataSet document.
pub struct DataSetReader {
    xml: NsReader<Tracked>,
    buf: Vec<u8>,
    schema: Schema,
    finished: bool,
}

impl DataSetReader {
    /// Reads up to the end of the `xs:schema`; rows are read on demand.
    pub fn new(input: Box<dyn BufRead + Send>) -> Result<Self, FormatError> {
        let mut xml = NsReader::from_reader(Tracked::new(input));
        let mut buf = Vec::new();
        let root = read_root(&mut xml, &mut buf)?;
        let (schema_start, empty) = loop {
            let line = xml.get_ref().line();
            match read_event(&mut xml, &mut buf)? {
                Event::Start(element) => break (Node::from_start(&xml, &element, line)?, false),
                Event::Empty(element) => break (Node::from_start(&xml, &element, line)?, true),
                Event::Text(text) if is_blank(&text) => {}
                Event::Comment(_) | Event::PI(_) => {}
                _ => return Err(no_schema(line, &root)),
            }
        };
        if !schema_start.is_xsd("schema") {
            return Err(no_schema(xml.get_ref().line(), &root));
        }
        // The root may share the DataSet element's name: the docs ask for
        // different names, but .NET's `DataSet.WriteXml(…, WriteSchema)`
        // names both alike, and nothing here depends on the root's name.
        let schema = interpret(&read_tree(&mut xml, &mut buf, schema_start, empty)?)?;
        Ok(DataSetReader { xml, buf, schema, finished: false })
    }

    fn line(&self) -> u64 {
        self.xml.get_ref().line()
    }

    fn read_record(&mut self) -> Result<Option<Record>, FormatError> {
        enum Step {
            Row,
            EmptyRow,
            OtherElement,
            RootEnd,
            Nothing,
        }
        loop {
            let line = self.line();
            let entity_type = self.schema.entity_type_name.as_bytes();
            let step = match read_event(&mut self.xml, &mut self.buf)? {
                Event::Start(element) if element.local_name().as_ref().eq_ignore_ascii_case(entity_type) => Step::Row,
                Event::Empty(element) if element.local_name().as_ref().eq_ignore_ascii_case(entity_type) => {
                    Step::EmptyRow
                }
                Event::Start(_) => Step::OtherElement,
                Event::End(_) => Step::RootEnd,
                Event::Eof => return Err(at_line(line, "the document ends before its root element is closed")),
                _ => Step::Nothing,
            };
            match step {
                Step::Row => return self.read_row(line).map(Some),
                Step::EmptyRow => {
                    let cells = vec![None; self.schema.properties.len()];
                    return Ok(Some(Record { line, cells, problem: None }));
                }
                Step::OtherElement => self.skip_element()?,
                Step::RootEnd => {
                    self.read_epilog()?;
                    return Ok(None);
                }
                Step::Nothing => {}
            }
        }
    }

    /// Reads one row's property elements, after its start tag.
    fn read_row(&mut self, line: u64) -> Result<Record, FormatError> {
        enum Child {
            Value(usize),
            EmptyValue(usize),
            Unknown(String, bool),
        }
        let mut cells: Vec<Option<String>> = vec![None; self.schema.properties.len()];
        let mut problem = None;
        let mut expected = 0;
        let mut bytes = 0;
        loop {
            let child_line = self.line();
            let child = match read_event(&mut self.xml, &mut self.buf)? {
                Event::Start(element) => match find_property(&self.schema, element.local_name().as_ref(), expected) {
                    Some(index) => Child::Value(index),
                    None => Child::Unknown(element_name(element.local_name().as_ref(), child_line)?, true),
                },
                Event::Empty(element) => match find_property(&self.schema, element.local_name().as_ref(), expected) {
                    Some(index) => Child::EmptyValue(index),
                    None => Child::Unknown(element_name(element.local_name().as_ref(), child_line)?, false),
                },
                Event::End(_) => break,
                Event::Text(text) if is_blank(&text) => continue,
                Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                    note(&mut problem, || "the row holds text outside its property elements".into());
                    continue;
                }
                Event::Eof => {
                    return Err(at_line(
                        child_line,
                        format!("the document ends inside the row that starts on line {line}"),
                    ))
                }
                _ => continue,
            };
            let (index, value) = match child {
                Child::Value(index) => (index, self.read_value(index, &mut problem)?),
                Child::EmptyValue(index) => (index, String::new()),
                Child::Unknown(name, has_content) => {
                    let entity_type = &self.schema.entity_type_name;
                    note(&mut problem, || format!("'{name}' is not a property of entity type '{entity_type}'"));
                    if has_content {
                        self.skip_element()?;
                    }
                    continue;
                }
            };
            bytes += value.len();
            if bytes > MAX_RECORD_BYTES {
                return Err(at_line(line, format!("the row is longer than {MAX_RECORD_BYTES} bytes")));
            }
            let cell = &mut cells[index];
            if cell.is_some() {
                let name = &self.schema.properties[index].name;
                note(&mut problem, || format!("property '{name}' is given twice"));
            } else {
                *cell = Some(value);
            }
            expected = index + 1;
        }
        Ok(Record { line, cells, problem })
    }

    /// Reads a property element's text, after its start tag.
    fn read_value(&mut self, index: usize, problem: &mut Option<String>) -> Result<String, FormatError> {
        let name = &self.schema.properties[index].name;
        let mut value = String::new();
        let mut depth = 0;
        loop {
            let line = self.xml.get_ref().line();
            match read_event(&mut self.xml, &mut self.buf)? {
                Event::Text(text) if depth == 0 => value.push_str(&text.xml10_content().map_err(|_| not_utf8(line))?),
                Event::CData(data) if depth == 0 => value.push_str(&data.xml10_content().map_err(|_| not_utf8(line))?),
                Event::GeneralRef(reference) if depth == 0 => {
                    let reference = reference.decode().map_err(|_| not_utf8(line))?;
                    match resolve_reference(&reference) {
                        Some(character) => value.push(character),
                        None => note(problem, || format!("property '{name}': unknown reference '&{reference};'")),
                    }
                }
                Event::Start(_) => {
                    if depth == 0 {
                        note(problem, || format!("property '{name}' holds an element; values must be text"));
                    }
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err(at_line(line, format!("elements are nested more than {MAX_DEPTH} deep")));
                    }
                }
                Event::Empty(_) if depth == 0 => {
                    note(problem, || format!("property '{name}' holds an element; values must be text"));
                }
                Event::End(_) if depth == 0 => return Ok(value),
                Event::End(_) => depth -= 1,
                Event::Eof => return Err(at_line(line, format!("the document ends inside property '{name}'"))),
                _ => {}
            }
            if value.len() > MAX_RECORD_BYTES {
                return Err(at_line(line, format!("a value is longer than {MAX_RECORD_BYTES} bytes")));
            }
        }
    }

    /// Skips the rest of an element whose start tag was just read.
    fn skip_element(&mut self) -> Result<(), FormatError> {
        let mut depth = 1;
        while depth > 0 {
            let line = self.line();
            match read_event(&mut self.xml, &mut self.buf)? {
                Event::Start(_) => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err(at_line(line, format!("elements are nested more than {MAX_DEPTH} deep")));
                    }
                }
                Event::End(_) => depth -= 1,
                Event::Eof => return Err(at_line(line, "the document ends before its root element is closed")),
                _ => {}
            }
        }
        Ok(())
    }

    /// After the root element only comments and processing instructions may follow.
    fn read_epilog(&mut self) -> Result<(), FormatError> {
        loop {
            let line = self.line();
            match read_event(&mut self.xml, &mut self.buf)? {
                Event::Eof => return Ok(()),
                Event::Text(text) if is_blank(&text) => {}
                Event::Comment(_) | Event::PI(_) => {}
                _ => return Err(at_line(line, "unexpected content after the root element")),
            }
        }
    }
}

impl RecordReader for DataSetReader {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn next_record(&mut self) -> Option<Result<Record, FormatError>> {
        crate::next_until_done(self)
    }
}

impl crate::RecordSource for DataSetReader {
    fn read_record(&mut self) -> Result<Option<Record>, FormatError> {
        self.read_record()
    }

    fn finished(&mut self) -> &mut bool {
        &mut self.finished
    }
}

/// Returns the root element's name, after its start tag.
fn read_root(xml: &mut NsReader<Tracked>, buf: &mut Vec<u8>) -> Result<String, FormatError> {
    loop {
        let line = xml.get_ref().line();
        match read_event(xml, buf)? {
            Event::Start(element) => return element_name(element.local_name().as_ref(), line),
            Event::Empty(_) => return Err(at_line(line, "the root element is empty: the document has no xs:schema")),
            Event::Text(text) if is_blank(&text) => {}
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => return Err(at_line(line, "the document has no root element")),
            _ => return Err(at_line(line, "unexpected content before the root element")),
        }
    }
}

fn no_schema(line: u64, root: &str) -> FormatError {
    at_line(line, format!("the document has no xs:schema (it must be the first element inside <{root}>)"))
}

/// Finds a row child's property: usually the one after the previous
/// child, so that is tried first, byte for byte.
fn find_property(schema: &Schema, name: &[u8], expected: usize) -> Option<usize> {
    let properties = &schema.properties;
    if properties.get(expected).is_some_and(|property| property.name.as_bytes() == name) {
        return Some(expected);
    }
    properties.iter().position(|property| property.name.as_bytes().eq_ignore_ascii_case(name))
}

fn element_name(name: &[u8], line: u64) -> Result<String, FormatError> {
    String::from_utf8(name.to_vec()).map_err(|_| not_utf8(line))
}

/// Keeps the first problem of a row: later ones are often its consequences.
fn note(problem: &mut Option<String>, message: impl FnOnce() -> String) {
    if problem.is_none() {
        *problem = Some(message());
    }
}

/// Resolves the five predefined entities and character references.
pub(crate) fn resolve_reference(reference: &str) -> Option<char> {
    match reference {
        "lt" => return Some('<'),
        "gt" => return Some('>'),
        "amp" => return Some('&'),
        "apos" => return Some('\''),
        "quot" => return Some('"'),
        _ => {}
    }
    let number = reference.strip_prefix('#')?;
    let (digits, radix) = match number.strip_prefix('x') {
        Some(hex) => (hex, 16),
        None => (number, 10),
    };
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(digits, radix).ok().and_then(char::from_u32)
}
