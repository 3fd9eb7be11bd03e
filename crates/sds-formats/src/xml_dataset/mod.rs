//! The XML DataSet form: uploads with `input=xml`, and every download.
//!
//! A DataSet document is a root element whose first child is an
//! `xs:schema` declaring one table (the entity type) and its primary key,
//! followed by one element per entity, each with one child per non-null
//! property. Namespaces are resolved, so any prefix works for the XML
//! Schema and msdata namespaces.

pub(crate) mod input;
mod reader;
mod schema;
mod writer;

#[cfg(test)]
mod conformance_tests;
#[cfg(test)]
mod tests;

pub(crate) use reader::resolve_reference;
pub use reader::DataSetReader;
pub(crate) use writer::write_timestamp;
pub use writer::{DataSetRows, DataSetWriter};

use quick_xml::events::Event;
use quick_xml::NsReader;

use crate::{FormatError, MAX_RECORD_BYTES};
use input::Tracked;

const XSD_NAMESPACE: &[u8] = b"http://www.w3.org/2001/XMLSchema";
const MSDATA_NAMESPACE: &[u8] = b"urn:schemas-microsoft-com:xml-msdata";

pub(crate) fn at_line(line: u64, message: impl Into<String>) -> FormatError {
    FormatError::AtLine { line, message: message.into() }
}

/// The next parser event, with errors turned into line-numbered messages.
/// A DTD is refused wherever it appears: entity declarations are the usual
/// way to make a small XML document expand into a huge one.
pub(crate) fn read_event<'b>(xml: &mut NsReader<Tracked>, buf: &'b mut Vec<u8>) -> Result<Event<'b>, FormatError> {
    buf.clear();
    xml.get_mut().mark();
    let line = xml.get_ref().line();
    match xml.read_event_into(buf) {
        Ok(Event::DocType(_)) => Err(at_line(line, "DTDs are not allowed (<!DOCTYPE ...>)")),
        Ok(event) => Ok(event),
        Err(error) => {
            let input = xml.get_ref();
            let line = input.line();
            Err(match error {
                quick_xml::Error::Io(_) if input.over_limit() => {
                    at_line(line, format!("an XML text or tag is longer than {MAX_RECORD_BYTES} bytes"))
                }
                quick_xml::Error::Io(io) => FormatError::Io(std::io::Error::new(io.kind(), io.to_string())),
                quick_xml::Error::Encoding(_) => not_utf8(line),
                other => at_line(line, format!("malformed XML: {other}")),
            })
        }
    }
}

pub(crate) fn not_utf8(line: u64) -> FormatError {
    at_line(line, "the document is not valid UTF-8 (SDS accepts UTF-8 only)")
}

pub(crate) fn is_blank(text: &[u8]) -> bool {
    text.iter().all(|byte| matches!(byte, b' ' | b'\t' | b'\r' | b'\n'))
}
