//! Reads a downloaded XML DataSet the way a client does, independently of
//! the server's writer: the schema's columns and each row's values.

use std::collections::BTreeMap;

use quick_xml::events::Event;
use quick_xml::Reader;

#[derive(Debug, Default)]
pub struct DataSet {
    pub root: String,
    /// (name, xsd type) in schema order.
    pub columns: Vec<(String, String)>,
    pub entity_type: String,
    pub key: String,
    /// One map per row: property name to text.
    pub rows: Vec<BTreeMap<String, String>>,
}

impl DataSet {
    /// Rows by the key column's value.
    pub fn by_id(&self) -> BTreeMap<String, BTreeMap<String, String>> {
        self.rows.iter().map(|row| (row[&self.key].clone(), row.clone())).collect()
    }
}

pub fn parse(text: &str) -> DataSet {
    let mut reader = Reader::from_str(text);
    let mut dataset = DataSet::default();
    let mut path: Vec<String> = Vec::new();
    let mut row: Option<BTreeMap<String, String>> = None;
    let mut value = String::new();
    let mut first_child_checked = false;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(element) => {
                let name = String::from_utf8(element.name().as_ref().to_vec()).unwrap();
                handle_open(&mut dataset, &path, &name, &element, &mut row, &mut first_child_checked);
                path.push(name);
                value.clear();
            }
            Event::Empty(element) => {
                let name = String::from_utf8(element.name().as_ref().to_vec()).unwrap();
                handle_open(&mut dataset, &path, &name, &element, &mut row, &mut first_child_checked);
                if let (2, Some(row)) = (path.len(), row.as_mut()) {
                    row.insert(name, String::new());
                }
            }
            Event::Text(text) => value.push_str(&text.xml_content().unwrap()),
            Event::GeneralRef(reference) => {
                let name = String::from_utf8(reference.to_vec()).unwrap();
                let resolved = match name.as_str() {
                    "lt" => "<".to_owned(),
                    "gt" => ">".to_owned(),
                    "amp" => "&".to_owned(),
                    "quot" => "\"".to_owned(),
                    "apos" => "'".to_owned(),
                    numeric => {
                        let code = if let Some(hex) = numeric.strip_prefix("#x") {
                            u32::from_str_radix(hex, 16).unwrap()
                        } else {
                            numeric.trim_start_matches('#').parse().unwrap()
                        };
                        char::from_u32(code).unwrap().to_string()
                    }
                };
                value.push_str(&resolved);
            }
            Event::CData(data) => value.push_str(std::str::from_utf8(&data).unwrap()),
            Event::End(_) => {
                let name = path.pop().unwrap();
                if let (2, Some(row)) = (path.len(), row.as_mut()) {
                    row.insert(name, std::mem::take(&mut value));
                } else if let (1, Some(finished)) = (path.len(), row.take()) {
                    dataset.rows.push(finished);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    dataset
}

fn attribute(element: &quick_xml::events::BytesStart, name: &str) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|attribute| attribute.key.as_ref() == name.as_bytes())
        .map(|attribute| attribute.unescape_value().unwrap().into_owned())
}

fn handle_open(
    dataset: &mut DataSet,
    path: &[String],
    name: &str,
    element: &quick_xml::events::BytesStart,
    row: &mut Option<BTreeMap<String, String>>,
    first_child_checked: &mut bool,
) {
    if path.is_empty() {
        dataset.root = name.to_owned();
        return;
    }
    if path.len() == 1 && !*first_child_checked {
        assert_eq!(name, "xs:schema", "the first child of the root must be xs:schema");
        *first_child_checked = true;
        return;
    }
    let in_schema = path.get(1).is_some_and(|segment| segment == "xs:schema");
    if in_schema {
        match name {
            "xs:element" if path.len() == 5 => dataset.entity_type = attribute(element, "name").unwrap(),
            "xs:element" if path.len() == 8 => {
                dataset.columns.push((attribute(element, "name").unwrap(), attribute(element, "type").unwrap()))
            }
            "xs:field" => dataset.key = attribute(element, "xpath").unwrap(),
            _ => {}
        }
    } else if path.len() == 1 {
        assert_eq!(name, dataset.entity_type, "rows are named after the entity type");
        *row = Some(BTreeMap::new());
    }
}
