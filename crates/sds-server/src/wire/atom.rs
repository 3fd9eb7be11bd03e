//! Query API responses in Atom (the default; SPEC §3.5). The `d` and `m`
//! prefixes are written literally: the docs' sample clients match
//! `m:properties` and `d:Name` by prefixed name. Every non-string property
//! carries `m:type`, and nulls carry it too (the toolkit reads `m:type` on
//! any property with attributes). Dates are UTC without a zone, with the
//! fraction of a second when it is not zero.

use std::fmt::Write;

use sds_core::EdmType;
use sds_query::Cell;

use super::odata::{EntityPage, FieldValue};
use super::xml::escape;

pub const ATOM_NAMESPACES: &str = r#"xmlns="http://www.w3.org/2005/Atom" xmlns:d="http://schemas.microsoft.com/ado/2007/08/dataservices" xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata""#;

/// The feed of a query. `feed_id` is the `uuid:…;id=n` text; `updated` is UTC `…Z`.
pub fn feed(page: &EntityPage<'_>, feed_id: &str, updated: &str) -> String {
    let mut out = String::with_capacity(512 + page.hits.len() * 96 * page.fields.len().max(1));
    let _ = write!(
        out,
        r#"<?xml version="1.0" encoding="utf-8"?><feed {ATOM_NAMESPACES}><title type="text"/><id>{}</id><rights type="text">{}</rights><updated>{updated}</updated>"#,
        escape(feed_id),
        escape(page.copyright)
    );
    if let Some(total) = page.total {
        let _ = write!(out, "<m:count>{total}</m:count>");
    }
    for hit in page.hits {
        out.push_str("<entry>");
        entry_body(&mut out, page, hit, updated);
        out.push_str("</entry>");
    }
    out.push_str("</feed>");
    out
}

/// A single entity (query by ID): `<entry>` as the root, rights after the content.
pub fn single(page: &EntityPage<'_>, updated: &str) -> String {
    let mut out = String::with_capacity(1024);
    let _ = write!(out, r#"<?xml version="1.0" encoding="utf-8"?><entry {ATOM_NAMESPACES}>"#);
    if let Some(hit) = page.hits.first() {
        entry_body(&mut out, page, hit, updated);
    }
    let _ = write!(out, r#"<rights type="text">{}</rights></entry>"#, escape(page.copyright));
    out
}

fn entry_body(out: &mut String, page: &EntityPage<'_>, hit: &sds_query::Hit, updated: &str) {
    out.push_str("<id>");
    let mut uri = String::new();
    page.entry_uri(&mut uri, hit.row);
    out.push_str(&escape(&uri));
    let _ = write!(
        out,
        r#"</id><title type="text"/><updated>{updated}</updated><content type="application/xml"><m:properties>"#
    );
    for &field in page.fields {
        let name = page.name(field);
        let edm_type = page.edm_type(field);
        let type_attribute = |out: &mut String| {
            if edm_type != EdmType::String {
                let _ = write!(out, r#" m:type="{}""#, edm_type.edm_name());
            }
        };
        let text = match page.value(field, hit) {
            FieldValue::Cell(Cell::Null) => {
                let _ = write!(out, r#"<d:{name} m:type="{}" m:null="true"/>"#, edm_type.edm_name());
                continue;
            }
            // An empty string is `<d:Name />`, as in the query-by-ID example,
            // never `m:null`: Edm.String values are never null.
            FieldValue::Cell(Cell::String("")) => {
                let _ = write!(out, "<d:{name} />");
                continue;
            }
            FieldValue::Cell(Cell::String(text) | Cell::Geography(text)) => escape(text).into_owned(),
            FieldValue::Cell(Cell::Int64(number)) => number.to_string(),
            FieldValue::Cell(Cell::Double(number)) => sds_core::Value::Double(number).to_string(),
            FieldValue::Cell(Cell::Boolean(flag)) => (if flag { "1" } else { "0" }).to_owned(),
            FieldValue::Cell(Cell::DateTime(timestamp)) => timestamp.to_iso8601_unzoned(),
            FieldValue::Wkt(text) => escape(&text).into_owned(),
        };
        let _ = write!(out, "<d:{name}");
        type_attribute(out);
        let _ = write!(out, ">{text}</d:{name}>");
    }
    out.push_str("</m:properties></content>");
}
