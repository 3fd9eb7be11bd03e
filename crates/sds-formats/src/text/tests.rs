use std::io::{BufRead, BufReader, Cursor, Read};

use sds_core::{EdmType, SchemaError};

use super::{Delimiter, TextReader};
use crate::{FormatError, Record, RecordReader};

fn input(text: &[u8]) -> Box<dyn BufRead + Send> {
    Box::new(Cursor::new(text.to_vec()))
}

fn open(text: &str, delimiter: Delimiter) -> Result<TextReader, FormatError> {
    TextReader::new(input(text.as_bytes()), delimiter)
}

fn records(reader: &mut TextReader) -> Vec<Record> {
    std::iter::from_fn(|| reader.next_record()).map(Result::unwrap).collect()
}

fn cells(values: &[Option<&str>]) -> Vec<Option<String>> {
    values.iter().map(|value| value.map(str::to_owned)).collect()
}

fn error_of(text: &str, delimiter: Delimiter) -> String {
    match open(text, delimiter) {
        Ok(_) => panic!("expected an error for {text:?}"),
        Err(error) => error.to_string(),
    }
}

const CSV: &str = "Bing Spatial Data Services, 1.0, FourthCoffeeShops\n\
EntityID(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double),Open(Edm.Boolean)\n\
1,Café \"Central\",47.6,-122.3,True\n\
2, \"Seattle, WA\",47.5,-122.2,\n\
3,\"say \"\"hi\"\"\",1,2,false\n";

#[test]
fn csv_with_quoting_and_the_rejoined_key_header() {
    let mut reader = open(CSV, Delimiter::Comma).unwrap();
    let schema = reader.schema();
    assert_eq!(schema.entity_type_name, "FourthCoffeeShops");
    assert_eq!(schema.key().name, "EntityID");
    let types: Vec<EdmType> = schema.properties.iter().map(|property| property.edm_type).collect();
    use EdmType::*;
    assert_eq!(types, [String, String, Double, Double, Boolean]);
    let rows = records(&mut reader);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].line, 3);
    assert_eq!(
        rows[0].cells,
        cells(&[Some("1"), Some("Café \"Central\""), Some("47.6"), Some("-122.3"), Some("True")])
    );
    assert_eq!(rows[1].cells, cells(&[Some("2"), Some("Seattle, WA"), Some("47.5"), Some("-122.2"), None]));
    assert_eq!(rows[2].cells[1].as_deref(), Some("say \"hi\""));
    assert!(rows.iter().all(|row| row.problem.is_none()));
}

#[test]
fn tab_and_pipe_files_with_a_one_cell_version_line() {
    let tab = "Bing Spatial Data Services, 1.0, Shops\r\n\
               Id(Edm.String,primaryKey)\tShape(Edm.Geography)\tNote(Edm.String)\r\n\
               a\tPOINT (1 2)\t\"tab\there\"\r\n\
               b\tPOINT (3 4)\tx, y | z\r\n";
    let mut reader = open(tab, Delimiter::Tab).unwrap();
    let rows = records(&mut reader);
    assert_eq!(rows[0].cells, cells(&[Some("a"), Some("POINT (1 2)"), Some("tab\there")]));
    assert_eq!(rows[1].cells, cells(&[Some("b"), Some("POINT (3 4)"), Some("x, y | z")]));
    assert_eq!((rows[0].line, rows[1].line), (3, 4));

    let pipe = "Bing Spatial Data Services,1.0,Shops\n\
                Id(Edm.String, PRIMARYKEY ) | Shape( edm.geography )\n\
                a|\"POLYGON ((0 0, 1 0, 1 1, 0 0))\"|\n\
                \"b|c\"|POINT (1 1)\n";
    let mut reader = open(pipe, Delimiter::Pipe).unwrap();
    assert_eq!(reader.schema().properties[1].edm_type, EdmType::Geography);
    let rows = records(&mut reader);
    assert_eq!(rows[0].cells, cells(&[Some("a"), Some("POLYGON ((0 0, 1 0, 1 1, 0 0))")]));
    assert_eq!(rows[0].problem, None, "a trailing empty cell is not an extra column");
    assert_eq!(rows[1].cells[0].as_deref(), Some("b|c"));
}

#[test]
fn a_version_line_split_into_cells_is_accepted_for_every_delimiter() {
    let text = "\u{feff}\"Bing Spatial Data Services\"\t1.0\tShops\t\t\n\
                Id(Edm.String,primaryKey)\tLatitude(Edm.Double)\tLongitude(Edm.Double)\n";
    let reader = open(text, Delimiter::Tab).unwrap();
    assert_eq!(reader.schema().entity_type_name, "Shops");
    let csv = "bing spatial data services,1.0,Shops,,\nId(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\n";
    assert!(open(csv, Delimiter::Comma).is_ok());
}

#[test]
fn embedded_newlines_keep_the_following_line_numbers_right() {
    let text = "Bing Spatial Data Services, 1.0, Shops\r\n\
                Id(Edm.String,primaryKey),Note(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\r\n\
                1,\"two\nlines\r\nand crlf\",1,2\r\n\
                \r\n\
                ,,,\r\n\
                2,plain,1,2\r\n\
                3,  leading blanks dropped,1,2";
    let mut reader = open(text, Delimiter::Comma).unwrap();
    let rows = records(&mut reader);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].line, 3);
    assert_eq!(rows[0].cells[1].as_deref(), Some("two\nlines\r\nand crlf"));
    assert_eq!(rows[1].line, 8, "blank line 6 and empty-celled line 7 are skipped");
    assert_eq!(rows[2].line, 9);
    assert_eq!(rows[2].cells[1].as_deref(), Some("leading blanks dropped"));
}

#[test]
fn blanks_inside_quotes_and_after_data_are_kept() {
    let text = "Bing Spatial Data Services, 1.0, Shops\n\
                Id(Edm.String,primaryKey),Note(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\n\
                1,\"  inside  \",1,2\n\
                2,trailing  ,1,2\n\
                3,\"\",,2\n";
    let mut reader = open(text, Delimiter::Comma).unwrap();
    let rows = records(&mut reader);
    assert_eq!(rows[0].cells[1].as_deref(), Some("  inside  "));
    assert_eq!(rows[1].cells[1].as_deref(), Some("trailing  "));
    assert_eq!(rows[2].cells, cells(&[Some("3"), None, None, Some("2")]));
}

#[test]
fn a_row_with_too_many_cells_is_a_row_problem() {
    let text = "Bing Spatial Data Services, 1.0, Shops\n\
                Id(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\n\
                1,2,3,4\n\
                2,1,1\n";
    let mut reader = open(text, Delimiter::Comma).unwrap();
    let rows = records(&mut reader);
    assert_eq!(rows[0].problem.as_deref(), Some("row has 4 cells but the header declares 3 columns"));
    assert_eq!(rows[1].problem, None);
    let short = "Bing Spatial Data Services, 1.0, Shops\nId(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\n1\n";
    let rows = records(&mut open(short, Delimiter::Comma).unwrap());
    assert_eq!(rows[0].cells, cells(&[Some("1")]), "missing trailing cells are left to the builder");
}

#[test]
fn invalid_utf8_names_the_line() {
    let mut text = b"Bing Spatial Data Services, 1.0, Shops\nId(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\n1,2,3\n".to_vec();
    text.extend_from_slice(b"\xff\xfe,1,2\n");
    let mut reader = TextReader::new(input(&text), Delimiter::Comma).unwrap();
    assert!(reader.next_record().unwrap().is_ok());
    let error = reader.next_record().unwrap().unwrap_err().to_string();
    assert_eq!(error, "line 4: cell 1 is not valid UTF-8");
    assert!(reader.next_record().is_none(), "a document error ends the reader");

    let bad_header = b"Bing Spatial Data Services, 1.0, Shops\nId\xc3(Edm.String,primaryKey)\n";
    let error = TextReader::new(input(bad_header), Delimiter::Comma).err().unwrap().to_string();
    assert!(error.starts_with("line 2:"), "{error}");
}

#[test]
fn version_line_errors_name_line_one() {
    let headers = "\nId(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\n";
    let missing = error_of(&format!("Id(Edm.String,primaryKey){headers}"), Delimiter::Comma);
    assert!(missing.starts_with("line 1: expected the version line"), "{missing}");
    let version = error_of(&format!("Bing Spatial Data Services, 2.0, Shops{headers}"), Delimiter::Comma);
    assert!(version.starts_with("line 1: version '2.0' is not supported"), "{version}");
    let no_type = error_of(&format!("Bing Spatial Data Services, 1.0{headers}"), Delimiter::Pipe);
    assert!(no_type.starts_with("line 1: the entity type name is missing"), "{no_type}");
    let extra = error_of(&format!("Bing Spatial Data Services, 1.0, Shops, more{headers}"), Delimiter::Tab);
    assert!(extra.starts_with("line 1: unexpected 'more'"), "{extra}");
    assert!(error_of("", Delimiter::Comma).starts_with("line 1: the document is empty"));
}

#[test]
fn header_errors() {
    let version = "Bing Spatial Data Services, 1.0, Shops\n";
    let no_type =
        error_of(&format!("{version}Id(Edm.String,primaryKey),Latitude,Longitude(Edm.Double)\n"), Delimiter::Comma);
    assert_eq!(no_type, "line 2: header 'Latitude' has no type: expected Name(Edm.Type)");
    let unknown = error_of(&format!("{version}Id(Edm.String,primaryKey),Seats(Edm.Int32)\n"), Delimiter::Comma);
    assert!(unknown.starts_with("line 2: header 'Seats(Edm.Int32)': unknown type 'Edm.Int32'"), "{unknown}");
    let flag = error_of(&format!("{version}Id(Edm.String,key)\n"), Delimiter::Comma);
    assert!(flag.starts_with("line 2: header 'Id(Edm.String,key)'"), "{flag}");
    assert!(error_of(version, Delimiter::Comma).starts_with("line 2: the header line is missing"));

    let no_key =
        open(&format!("{version}Id(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\n"), Delimiter::Comma);
    assert!(matches!(no_key, Err(FormatError::Schema(SchemaError::NoPrimaryKey))));
    let two_keys = open(&format!("{version}A(Edm.String,primaryKey),B(Edm.String,primaryKey)\n"), Delimiter::Comma);
    assert!(matches!(two_keys, Err(FormatError::Schema(SchemaError::MultiplePrimaryKeys(..)))));
    let bad_layout = open(&format!("{version}Id(Edm.String,primaryKey)\n"), Delimiter::Comma);
    assert!(matches!(bad_layout, Err(FormatError::Schema(SchemaError::NoLocation))));
}

#[test]
fn an_unclosed_quote_is_a_document_error() {
    let text = "Bing Spatial Data Services, 1.0, Shops\nId(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\n1,\"open,1\n2,1,1\n";
    let mut reader = open(text, Delimiter::Comma).unwrap();
    let error = reader.next_record().unwrap().unwrap_err().to_string();
    assert_eq!(error, "line 3: a quoted cell is not closed before the end of the input");
}

/// Hands out one byte per read, so every state of the tokenizer meets a
/// buffer boundary.
struct Trickle(Cursor<Vec<u8>>);

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let len = buf.len().min(1);
        self.0.read(&mut buf[..len])
    }
}

#[test]
fn results_do_not_depend_on_buffer_boundaries() {
    let whole = records(&mut open(CSV, Delimiter::Comma).unwrap());
    let trickle = BufReader::with_capacity(1, Trickle(Cursor::new(CSV.replace('\n', "\r\n").into_bytes())));
    let mut reader = TextReader::new(Box::new(trickle), Delimiter::Comma).unwrap();
    assert_eq!(records(&mut reader), whole);
}

#[test]
#[ignore = "throughput measurement; run with --release --ignored --nocapture"]
fn throughput() {
    let mut text = String::from(
        "Bing Spatial Data Services, 1.0, Shops\nId(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double),Seats(Edm.Int64),Open(Edm.Boolean),Since(Edm.DateTime)\n",
    );
    let rows = 2_000_000;
    for index in 0..rows {
        text.push_str(&format!(
            "id{index},Shop number {index},47.6{index},-122.3{index},{index},true,2010-11-03T23:31:37Z\n"
        ));
    }
    let start = std::time::Instant::now();
    let mut reader = open(&text, Delimiter::Comma).unwrap();
    let mut count = 0;
    while let Some(record) = reader.next_record() {
        record.unwrap();
        count += 1;
    }
    let elapsed = start.elapsed();
    assert_eq!(count, rows);
    println!("{count} rows in {elapsed:?}: {:.0} rows/s", count as f64 / elapsed.as_secs_f64());
}

/// The schema page's text sample in its shape (same columns, the second
/// row with an empty StoreLayout), with our own values; `{d}` is the delimiter.
fn schema_page_sample(delimiter: char) -> String {
    let d = delimiter;
    let polygon = "POLYGON((10.1 56.2,10.3 56.2,10.3 56.1,10.1 56.1,10.1 56.2))";
    let polygon = if d == ',' { format!("\"{polygon}\"") } else { polygon.to_owned() };
    format!(
        "Bing Spatial Data Services, 1.0, FourthCoffeeShops\n\
Phone(Edm.String){d}EntityID(Edm.String,primaryKey){d}Longitude(Edm.Double){d}Latitude(Edm.Double){d}StoreLayout(Edm.Geography){d}CountryRegion(Edm.String){d}Open(Edm.Int64){d}Close(Edm.Int64)\n\
555-0100{d}-9001{d}10.2{d}56.15{d}{polygon}{d}Danmark{d}800{d}1700\n\
555-0101{d}-9002{d}9.9{d}57.05{d}{d}Danmark{d}900{d}2100\n"
    )
}

fn build_all(reader: &mut TextReader) -> Vec<Result<sds_core::BuiltRecord, sds_core::EntityError>> {
    let builder = sds_core::EntityBuilder::for_complete(reader.schema().clone());
    records(reader).iter().map(|row| builder.build(&row.cells)).collect()
}

#[test]
fn finding_1_lat_lon_row_with_empty_geography_loads_in_csv_tab_and_pipe() {
    for (delimiter, character) in [(Delimiter::Comma, ','), (Delimiter::Tab, '\t'), (Delimiter::Pipe, '|')] {
        let mut reader = open(&schema_page_sample(character), delimiter).unwrap();
        let built = build_all(&mut reader);
        assert_eq!(built.len(), 2, "{character:?}");
        let sds_core::BuiltRecord::Upsert(second) = built[1].clone().unwrap() else { panic!() };
        assert_eq!((second.latitude, second.longitude, second.bounds), (57.05, 9.9, None), "{character:?}");
        let sds_core::BuiltRecord::Upsert(first) = built[0].clone().unwrap() else { panic!() };
        assert!(first.bounds.is_some(), "{character:?}");
    }
}

#[test]
fn finding_4_empty_and_quoted_empty_cells_are_empty_strings() {
    let csv = "Bing Spatial Data Services, 1.0, Shops\n\
Id(Edm.String,primaryKey),Phone(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double),Seats(Edm.Int64),Note(Edm.String)\n\
1,,1,2,,\n\
2,\"\",1,2,\"\",\"\"\n\
3,x,1,2\n";
    let mut reader = open(csv, Delimiter::Comma).unwrap();
    for record in build_all(&mut reader) {
        let sds_core::BuiltRecord::Upsert(entity) = record.unwrap() else { panic!() };
        if entity.id != "3" {
            assert_eq!(entity.values[1], sds_core::Value::String(String::new()), "{}", entity.id);
        }
        assert_eq!(entity.values[4], sds_core::Value::Null, "{}", entity.id);
        assert_eq!(entity.values[5], sds_core::Value::String(String::new()), "{}", entity.id);
    }
}

#[test]
fn finding_5_hyphenated_entity_type_in_the_version_line() {
    let csv = "Bing Spatial Data Services, 1.0, Filialdaten-XX\n\
Id(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\n\
1,48.1,11.5\n";
    let mut reader = open(csv, Delimiter::Comma).unwrap();
    assert_eq!(reader.schema().entity_type_name, "Filialdaten-XX");
    assert_eq!(records(&mut reader).len(), 1);
}
