//! GeoJSON features (RFC 7946 §3.2) from table rows: `id` is the entity
//! ID, `geometry` the entity's geography or else its point, `properties`
//! every other property with its JSON type (DateTime as ISO 8601 text).

use std::io::Write;

use sds_core::EdmType;
use sds_query::{Cell, Table};

/// Appends one feature.
pub fn write_feature(out: &mut Vec<u8>, table: &Table, row: u32) {
    let schema = table.schema();
    let geography = schema.geography_index();
    out.extend_from_slice(b"{\"type\":\"Feature\",\"id\":");
    json_string(out, table.id(row));
    out.extend_from_slice(b",\"geometry\":");
    match table.geometry(row) {
        // Writing to a Vec cannot fail.
        Some(geometry) => drop(sds_formats::geojson::write_geometry(out, geometry)),
        None => {
            out.extend_from_slice(b"{\"type\":\"Point\",\"coordinates\":[");
            number(out, table.longitude(row));
            out.push(b',');
            number(out, table.latitude(row));
            out.extend_from_slice(b"]}");
        }
    }
    out.extend_from_slice(b",\"properties\":{");
    let mut first = true;
    for (index, property) in schema.properties.iter().enumerate() {
        if Some(index) == geography {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        json_string(out, &property.name);
        out.push(b':');
        match table.cell(index, row) {
            Cell::Null if property.edm_type == EdmType::String => out.extend_from_slice(b"\"\""),
            Cell::Null => out.extend_from_slice(b"null"),
            Cell::String(text) | Cell::Geography(text) => json_string(out, text),
            // Writing to a Vec cannot fail.
            Cell::Int64(value) => drop(write!(out, "{value}")),
            Cell::Double(value) => number(out, value),
            Cell::Boolean(value) => out.extend_from_slice(if value { b"true" } else { b"false" }),
            Cell::DateTime(value) => json_string(out, &value.to_iso8601()),
        }
    }
    out.extend_from_slice(b"}}");
}

/// A finite number in its shortest form; JSON has no NaN or infinity.
fn number(out: &mut Vec<u8>, value: f64) {
    if value.is_finite() {
        let mut buffer = ryu::Buffer::new();
        let text = buffer.format_finite(value);
        // `1.0` reads as the integer 1 in JSON either way; keep ryu's form.
        out.extend_from_slice(text.as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// A JSON string with the escapes RFC 8259 §7 requires.
pub fn json_string(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut start = 0;
    for (index, &byte) in bytes.iter().enumerate() {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..index]);
        if escape.is_empty() {
            out.extend_from_slice(format!("\\u{byte:04x}").as_bytes());
        } else {
            out.extend_from_slice(escape);
        }
        start = index + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}
