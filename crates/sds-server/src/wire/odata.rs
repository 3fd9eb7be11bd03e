//! Query API responses in OData v2 verbose JSON (SPEC §3.5): a feed
//! `{"d":{"__copyright":…,"results":[…],"__count":"n"}}` or a single entry
//! `{"d":{"__copyright":…,"__metadata":{"uri":…},…}}`. Written by hand
//! into one buffer: a page is rendered per request, and the DateTime form
//! needs its slashes escaped in the raw text, which serializers do not do.

use std::fmt::Write;

use sds_core::EdmType;
use sds_query::spatial::Shape;
use sds_query::{fields, Cell, Field, Hit, Table};

use super::uri;

/// One page of query results and what rendering needs besides.
pub struct EntityPage<'a> {
    pub table: &'a Table,
    pub fields: &'a [Field],
    pub hits: &'a [Hit],
    /// Matches before paging, with `$inlinecount=allpages`.
    pub total: Option<usize>,
    /// `{root}/data/{accessId}/{dataSourceName}/{entityType}`.
    pub entity_base: &'a str,
    pub copyright: &'a str,
    pub intersection: Option<&'a Shape>,
}

/// A field's value for one hit.
pub enum FieldValue<'a> {
    Cell(Cell<'a>),
    /// Computed WKT (`__IntersectedGeom`).
    Wkt(String),
}

impl<'a> EntityPage<'a> {
    pub fn value(&self, field: Field, hit: &Hit) -> FieldValue<'a> {
        let table = self.table;
        FieldValue::Cell(match field {
            Field::Property(column) => table.cell(column, hit.row),
            Field::Latitude => Cell::Double(table.latitude(hit.row)),
            Field::Longitude => Cell::Double(table.longitude(hit.row)),
            Field::Distance if hit.distance.is_nan() => Cell::Null,
            Field::Distance => Cell::Double(hit.distance),
            Field::IntersectedGeom => {
                let Some(shape) = self.intersection else { return FieldValue::Cell(Cell::Null) };
                let wkt = table.intersection_wkt(shape, hit.row);
                return FieldValue::Wkt(wkt);
            }
        })
    }

    pub fn name(&self, field: Field) -> &'a str {
        fields::name(self.table.schema(), field)
    }

    pub fn edm_type(&self, field: Field) -> EdmType {
        fields::edm_type(self.table.schema(), field)
    }

    /// The entry URI: `{base}('{id}')`, the ID as [`uri::push_key`] writes it.
    pub fn entry_uri(&self, out: &mut String, row: u32) {
        out.push_str(self.entity_base);
        out.push_str("('");
        uri::push_key(out, self.table.id(row));
        out.push_str("')");
    }

    /// Reads every cell the page will render, before rendering. The hits'
    /// rows are scattered, so each cell is a cache miss; these loads are
    /// independent and overlap, where the rendering loop would take them
    /// one after the other.
    pub fn prefetch(&self) {
        let mut sum = 0usize;
        for hit in self.hits {
            sum = sum.wrapping_add(self.table.id(hit.row).as_bytes().first().copied().unwrap_or(0) as usize);
            for &field in self.fields {
                if let Field::Property(column) = field {
                    if let Cell::String(text) | Cell::Geography(text) = self.table.cell(column, hit.row) {
                        sum = sum.wrapping_add(text.as_bytes().first().copied().unwrap_or(0) as usize);
                    }
                }
            }
        }
        std::hint::black_box(sum);
    }
}

/// What every entry of a page repeats, escaped once per page: the entry
/// URI's start and each field's `,"Name":`.
struct EntryParts {
    uri_start: String,
    field_prefixes: Vec<String>,
}

impl EntryParts {
    fn new(page: &EntityPage<'_>) -> EntryParts {
        let mut uri_start = String::from("\"__metadata\":{\"uri\":\"");
        escape_into(&mut uri_start, page.entity_base);
        uri_start.push_str("('");
        let field_prefixes = page
            .fields
            .iter()
            .map(|&field| {
                let mut prefix = String::from(",");
                string(&mut prefix, page.name(field));
                prefix.push(':');
                prefix
            })
            .collect();
        EntryParts { uri_start, field_prefixes }
    }
}

/// The feed of a query.
pub fn feed(page: &EntityPage<'_>) -> String {
    page.prefetch();
    let parts = EntryParts::new(page);
    let mut out = String::with_capacity(256 + page.hits.len() * 64 * page.fields.len().max(1));
    out.push_str("{\"d\":{\"__copyright\":");
    string(&mut out, page.copyright);
    out.push_str(",\"results\":[");
    for (index, hit) in page.hits.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push('{');
        entry_members(&mut out, page, &parts, hit);
        out.push('}');
    }
    out.push(']');
    if let Some(total) = page.total {
        let _ = write!(out, ",\"__count\":\"{total}\"");
    }
    out.push_str("}}");
    out
}

/// A single entity (query by ID): the members directly in `d`.
pub fn single(page: &EntityPage<'_>) -> String {
    let mut out = String::with_capacity(512);
    out.push_str("{\"d\":{\"__copyright\":");
    string(&mut out, page.copyright);
    if let Some(hit) = page.hits.first() {
        out.push(',');
        entry_members(&mut out, page, &EntryParts::new(page), hit);
    }
    out.push_str("}}");
    out
}

fn entry_members(out: &mut String, page: &EntityPage<'_>, parts: &EntryParts, hit: &Hit) {
    out.push_str(&parts.uri_start);
    // Percent-encoded, the key holds nothing JSON must escape.
    uri::push_key(out, page.table.id(hit.row));
    out.push_str("')\"}");
    for (&field, prefix) in page.fields.iter().zip(&parts.field_prefixes) {
        out.push_str(prefix);
        match page.value(field, hit) {
            FieldValue::Cell(cell) => cell_json(out, cell),
            FieldValue::Wkt(text) => string(out, &text),
        }
    }
}

fn cell_json(out: &mut String, cell: Cell<'_>) {
    match cell {
        Cell::Null => out.push_str("null"),
        Cell::String(text) | Cell::Geography(text) => string(out, text),
        Cell::Int64(number) => {
            let _ = write!(out, "{number}");
        }
        // ryu: the same shortest round-trip digits as `Display`, several
        // times faster; JSON takes its exponent form too.
        Cell::Double(number) if number.is_finite() => out.push_str(ryu::Buffer::new().format_finite(number)),
        Cell::Double(_) => out.push_str("null"),
        Cell::Boolean(flag) => out.push_str(if flag { "true" } else { "false" }),
        // `"\/Date(ms)\/"`: the escaped slashes mark the string as a date to MS parsers.
        Cell::DateTime(timestamp) => {
            let _ = write!(out, "\"\\/Date({})\\/\"", timestamp.epoch_millis());
        }
    }
}

/// A JSON string literal.
pub fn string(out: &mut String, text: &str) {
    out.push('"');
    escape_into(out, text);
    out.push('"');
}

fn escape_into(out: &mut String, text: &str) {
    // Most values need no escaping: one quick scan, then one copy.
    if !text.bytes().any(|byte| byte == b'"' || byte == b'\\' || byte < 0x20) {
        out.push_str(text);
        return;
    }
    let mut start = 0;
    for (index, byte) in text.bytes().enumerate() {
        let escaped = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&text[start..index]);
        if escaped.is_empty() {
            let _ = write!(out, "\\u{byte:04x}");
        } else {
            out.push_str(escaped);
        }
        start = index + 1;
    }
    out.push_str(&text[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_for_json() {
        let mut out = String::new();
        string(&mut out, "a\"b\\c\nd\u{1}é/");
        assert_eq!(out, "\"a\\\"b\\\\c\\nd\\u0001é/\"");
        assert_eq!(serde_json::from_str::<String>(&out).unwrap(), "a\"b\\c\nd\u{1}é/");
    }

    #[test]
    fn dates_use_the_escaped_ms_form() {
        let mut out = String::new();
        let timestamp = sds_core::Timestamp::parse("2010-11-03T23:31:37.120Z").unwrap();
        cell_json(&mut out, Cell::DateTime(timestamp));
        assert_eq!(out, "\"\\/Date(1288827097120)\\/\"");
    }
}
