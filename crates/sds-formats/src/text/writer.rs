//! The `format=csv` download (an extension): the SDS CSV form, so that the
//! file uploads again with `input=csv` unchanged.
//!
//! Line 1 is `Bing Spatial Data Services, 1.0, <EntityType>`, line 2 the
//! typed header (`Name(Edm.Type)`, the key `Name(Edm.String,primaryKey)`,
//! unquoted, as the toolkit writes it), then one line per entity with the
//! canonical text of each value (`Value`'s `Display`) and empty cells for
//! nulls and empty strings (an empty cell reads back as the empty string
//! for Edm.String and as null for other types, so both survive). A cell is quoted (`"`, with `""` for a quote) when it holds a
//! comma, a quote, CR or LF, or starts with a blank (the reader drops
//! blanks before unquoted data). Lines end with CRLF.

use std::io::{self, Write};

use sds_core::{Entity, NumberText, Schema, ValueRef};

use super::{PRIMARY_KEY, SIGNATURE, VERSION};
use crate::{EntityRow, RowFormat};

/// Streams entities into an SDS CSV document. Give it a buffered writer.
pub struct CsvWriter<W: Write> {
    out: W,
    rows: CsvRows,
    /// One line's text, before it goes to `out`.
    scratch: Vec<u8>,
}

/// The entity lines of an SDS CSV download (see [`crate::RowFormat`]).
#[derive(Clone)]
pub struct CsvRows {
    columns: usize,
}

impl<W: Write> CsvWriter<W> {
    /// Writes the version and header lines. The data source name is not
    /// part of the format (the entity type is).
    pub fn new(mut out: W, _data_source_name: &str, schema: &Schema) -> io::Result<Self> {
        write!(out, "{SIGNATURE}, {VERSION}, {}\r\n", schema.entity_type_name)?;
        for (index, property) in schema.properties.iter().enumerate() {
            if index > 0 {
                out.write_all(b",")?;
            }
            if index == schema.key_index {
                write!(out, "{}({},{PRIMARY_KEY})", property.name, property.edm_type.edm_name())?;
            } else {
                write!(out, "{}({})", property.name, property.edm_type.edm_name())?;
            }
        }
        out.write_all(b"\r\n")?;
        Ok(CsvWriter { out, rows: CsvRows { columns: schema.properties.len() }, scratch: Vec::new() })
    }

    /// How this document's lines are formatted, for formatting them apart
    /// (then written with [`CsvWriter::write_formatted`]).
    pub fn rows(&self) -> CsvRows {
        self.rows.clone()
    }

    /// Writes lines formatted by [`CsvWriter::rows`], as they are.
    pub fn write_formatted(&mut self, text: &[u8]) -> io::Result<()> {
        self.out.write_all(text)
    }

    pub fn write_entity(&mut self, entity: &Entity) -> io::Result<()> {
        crate::check_value_count(entity, self.rows.columns)?;
        self.scratch.clear();
        self.rows.format_row(&mut self.scratch, entity, false);
        self.out.write_all(&self.scratch)
    }

    /// Flushes and hands back the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

impl RowFormat for CsvRows {
    fn format_row(&self, out: &mut Vec<u8>, row: &impl EntityRow, _first: bool) {
        let mut numbers = NumberText::default();
        for index in 0..self.columns {
            if index > 0 {
                out.push(b',');
            }
            match row.value(index) {
                ValueRef::Null => {}
                ValueRef::String(text) | ValueRef::Geography(text) => write_cell(out, text),
                // Number, boolean and date texts hold no comma, quote,
                // line break or leading blank.
                ValueRef::Int64(number) => out.extend_from_slice(numbers.int(number).as_bytes()),
                ValueRef::Double(number) => out.extend_from_slice(numbers.double(number).as_bytes()),
                ValueRef::Boolean(flag) => out.extend_from_slice(if flag { b"true" } else { b"false" }),
                ValueRef::DateTime(timestamp) => crate::xml_dataset::write_timestamp(out, timestamp),
            }
        }
        out.extend_from_slice(b"\r\n");
    }
}

fn write_cell(out: &mut Vec<u8>, text: &str) {
    // One pass without early exits, which the compiler runs on whole vectors.
    let special = |byte: u8| byte == b',' || byte == b'"' || byte == b'\r' || byte == b'\n';
    let needs_quotes = text.starts_with([' ', '\t']) || text.bytes().fold(false, |found, byte| found | special(byte));
    if !needs_quotes {
        return out.extend_from_slice(text.as_bytes());
    }
    out.push(b'"');
    for piece in text.split_inclusive('"') {
        out.extend_from_slice(piece.as_bytes());
        if piece.ends_with('"') {
            out.push(b'"');
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use sds_core::{BuiltRecord, EdmType, EntityBuilder, Property, Schema};

    use super::*;
    use crate::text::{Delimiter, TextReader};
    use crate::RecordReader;

    fn schema() -> Schema {
        Schema::new(
            "Shops",
            vec![
                Property::new("Name", EdmType::String),
                Property::new("EntityID", EdmType::String),
                Property::new("Seats", EdmType::Int64),
                Property::new("Rating", EdmType::Double),
                Property::new("Open", EdmType::Boolean),
                Property::new("Since", EdmType::DateTime),
                Property::new("Latitude", EdmType::Double),
                Property::new("Longitude", EdmType::Double),
                Property::new("Shape", EdmType::Geography),
            ],
            "EntityID",
        )
        .unwrap()
    }

    #[test]
    fn csv_downloads_upload_again_unchanged() {
        let schema = schema();
        let builder = EntityBuilder::for_complete(schema.clone());
        let rows: Vec<Vec<&str>> = vec![
            vec![
                "Café, \"Zürich\"\r\nline 2",
                "a,1",
                "12",
                "4.5",
                "true",
                "2024-01-31T10:00:00.1234567Z",
                "",
                "",
                "POINT(-122.13 47.64)",
            ],
            vec!["  leading and trailing  ", "b\"", "", "", "", "", "47", "-122", "LINESTRING(0 0, 1 1)"],
            vec![
                "\ttab|pipe",
                "日本",
                "-9223372036854775808",
                "1e-7",
                "false",
                "1999-12-31",
                "",
                "",
                "POLYGON((0 0, 4 0, 4 4, 0 4, 0 0))",
            ],
            vec!["", "x", "", "-0.5e-3", "", "", "1", "2", "MULTIPOINT((1 2), (3 4))"],
        ];
        let originals: Vec<_> = rows
            .iter()
            .map(|row| {
                let cells: Vec<Option<&str>> = row.iter().map(|cell| Some(*cell)).collect();
                match builder.build(&cells) {
                    Ok(BuiltRecord::Upsert(entity)) => entity,
                    other => panic!("{other:?}"),
                }
            })
            .collect();
        let mut writer = CsvWriter::new(Vec::new(), "MyShops", &schema).unwrap();
        for entity in &originals {
            writer.write_entity(entity).unwrap();
        }
        let bytes = writer.finish().unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.starts_with(
                "Bing Spatial Data Services, 1.0, Shops\r\nName(Edm.String),EntityID(Edm.String,primaryKey),"
            ),
            "{text}"
        );

        let mut reader = TextReader::new(Box::new(std::io::Cursor::new(bytes)), Delimiter::Comma).unwrap();
        assert_eq!(reader.schema(), &schema);
        let mut read = Vec::new();
        while let Some(record) = reader.next_record() {
            let record = record.unwrap();
            assert_eq!(record.problem, None);
            match builder.build(&record.cells).unwrap() {
                BuiltRecord::Upsert(entity) => read.push(entity),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(read.len(), originals.len());
        for (original, read) in originals.iter().zip(&read) {
            // Compare the text forms, as a download does.
            assert_eq!(format!("{original:?}"), format!("{read:?}"));
        }
    }
}
