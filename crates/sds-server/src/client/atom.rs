//! Reading the AtomPub service document of Get Data Source Information
//! (`GET /REST/v1/data?key=`, SDS's "Get data source information" page):
//! one `app:workspace` per data source (or per version, with
//! `showAllVersions`).

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// One `app:workspace`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceInfo {
    pub name: String,
    pub entity_type: String,
    /// From the collection URL `…/data/{accessId}/{name}/{entityType}`.
    pub access_id: String,
    pub description: Option<String>,
    pub is_public: bool,
    /// `bsi:isStagingDataSource` (only with `showAllVersions`).
    pub is_staging: bool,
    /// `bsi:isActive` (only with `showAllVersions`): the published version.
    pub is_active: bool,
}

/// The workspaces of a service document, in document order.
///
/// Errors: text that is not well-formed XML, or a workspace without a
/// collection URL holding `/data/{accessId}/`.
pub fn parse_service_document(text: &str) -> Result<Vec<SourceInfo>, String> {
    let mut reader = Reader::from_str(text);
    let mut workspaces = Vec::new();
    let mut current: Option<SourceInfo> = None;
    let mut in_collection = false;
    let mut text_of: Option<&'static str> = None;
    loop {
        let event = reader.read_event().map_err(|error| format!("the service document is not XML: {error}"))?;
        match event {
            Event::Start(element) | Event::Empty(element) if local(&element) == b"workspace" => {
                let mut info = SourceInfo::default();
                for attribute in element.attributes().flatten() {
                    let value = attribute.unescape_value().unwrap_or_default();
                    let yes = value.eq_ignore_ascii_case("true");
                    match attribute.key.local_name().as_ref() {
                        b"isPublic" => info.is_public = yes,
                        b"isStagingDataSource" => info.is_staging = yes,
                        b"isActive" => info.is_active = yes,
                        _ => {}
                    }
                }
                current = Some(info);
            }
            Event::Start(element) if local(&element) == b"collection" => {
                in_collection = true;
                if let Some(info) = current.as_mut() {
                    let href = element
                        .attributes()
                        .flatten()
                        .find(|attribute| attribute.key.local_name().as_ref() == b"href")
                        .map(|attribute| attribute.unescape_value().unwrap_or_default().into_owned())
                        .unwrap_or_default();
                    info.access_id = access_id_of(&href).ok_or_else(|| format!("no accessId in the URL '{href}'"))?;
                }
            }
            Event::Start(element) => {
                text_of = match local(&element).as_slice() {
                    b"title" if in_collection => Some("entity_type"),
                    b"title" => Some("name"),
                    b"description" => Some("description"),
                    _ => None,
                };
            }
            Event::Text(text) => {
                if let (Some(field), Some(info)) = (text_of, current.as_mut()) {
                    let value =
                        text.xml_content().map_err(|error| format!("bad text in the service document: {error}"))?;
                    append(info, field, &value);
                }
            }
            Event::GeneralRef(reference) => {
                if let (Some(field), Some(info)) = (text_of, current.as_mut()) {
                    let name = String::from_utf8_lossy(&reference).into_owned();
                    let resolved = match name.as_str() {
                        "lt" => "<".to_owned(),
                        "gt" => ">".to_owned(),
                        "amp" => "&".to_owned(),
                        "quot" => "\"".to_owned(),
                        "apos" => "'".to_owned(),
                        _ => reference
                            .resolve_char_ref()
                            .ok()
                            .flatten()
                            .map(String::from)
                            .ok_or_else(|| format!("unknown entity '&{name};' in the service document"))?,
                    };
                    append(info, field, &resolved);
                }
            }
            Event::CData(data) => {
                if let (Some(field), Some(info)) = (text_of, current.as_mut()) {
                    append(info, field, &String::from_utf8_lossy(&data));
                }
            }
            Event::End(element) => {
                text_of = None;
                match element.local_name().as_ref() {
                    b"collection" => in_collection = false,
                    b"workspace" => workspaces.extend(current.take()),
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(workspaces)
}

fn local(element: &BytesStart<'_>) -> Vec<u8> {
    element.local_name().as_ref().to_vec()
}

fn append(info: &mut SourceInfo, field: &str, value: &str) {
    match field {
        "name" => info.name.push_str(value),
        "entity_type" => info.entity_type.push_str(value),
        _ => info.description.get_or_insert_with(String::new).push_str(value),
    }
}

/// `https://host/REST/v1/data/{accessId}/{name}/{entityType}` → accessId.
fn access_id_of(url: &str) -> Option<String> {
    let lower = url.to_ascii_lowercase();
    let start = lower.find("/data/")? + "/data/".len();
    let id: String = url[start..].chars().take_while(|c| *c != '/').collect();
    (id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_workspaces_with_escaped_text() {
        let text = r#"<?xml version="1.0" encoding="utf-8"?><app:service xmlns:app="http://www.w3.org/2007/app" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:bsi="http://schemas.microsoft.com/bing/spatial/2010/11/odata"><bsi:copyright>c</bsi:copyright><app:workspace bsi:isPublic="true" bsi:updated="2020-01-01T00:00:00Z"><atom:title>Caf&#233; &amp; Co</atom:title><atom:description>Ä &lt;b&gt;</atom:description><app:collection app:href="https://x/REST/v1/data/0123456789abcdef0123456789ABCDEF/Cafe/Shops"><atom:title>Shops</atom:title></app:collection></app:workspace><app:workspace bsi:isStagingDataSource="true" bsi:isActive="false" bsi:isPublic="false"><atom:title>B</atom:title><app:collection app:href="https://x/REST/v1/data/ffffffffffffffffffffffffffffffff/B/T"><atom:title>T</atom:title></app:collection></app:workspace></app:service>"#;
        let found = parse_service_document(text).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].name, "Café & Co");
        assert_eq!(found[0].entity_type, "Shops");
        assert_eq!(found[0].access_id, "0123456789abcdef0123456789ABCDEF");
        assert_eq!(found[0].description.as_deref(), Some("Ä <b>"));
        assert!(found[0].is_public && !found[0].is_staging);
        assert!(found[1].is_staging && !found[1].is_active && !found[1].is_public);
        assert_eq!(found[1].description, None);
    }

    #[test]
    fn refuses_a_collection_without_an_access_id() {
        let text = r#"<service><workspace><title>A</title><collection href="https://x/other"><title>T</title></collection></workspace></service>"#;
        assert!(parse_service_document(text).unwrap_err().contains("no accessId"));
    }
}
