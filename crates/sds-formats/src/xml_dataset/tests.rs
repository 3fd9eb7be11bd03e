use std::io::{BufRead, BufReader, Cursor, Read};

use sds_core::{BuiltRecord, EdmType, Entity, EntityBuilder, Property, Schema, SchemaError, Timestamp, Value};

use super::{DataSetReader, DataSetWriter};
use crate::{FormatError, Record, RecordReader, MAX_RECORD_BYTES};

pub(super) fn input(text: impl Into<Vec<u8>>) -> Box<dyn BufRead + Send> {
    Box::new(Cursor::new(text.into()))
}

pub(super) fn open(text: &str) -> Result<DataSetReader, FormatError> {
    DataSetReader::new(input(text))
}

pub(super) fn records(reader: &mut DataSetReader) -> Vec<Record> {
    std::iter::from_fn(|| reader.next_record()).map(Result::unwrap).collect()
}

fn error_of(text: &str) -> String {
    match open(text) {
        Ok(mut reader) => match std::iter::from_fn(|| reader.next_record()).find_map(Result::err) {
            Some(error) => error.to_string(),
            None => panic!("expected an error"),
        },
        Err(error) => error.to_string(),
    }
}

/// A DataSet schema with one table, built the way the toolkit writes it.
pub(super) fn toolkit_schema(data_set: &str, table: &str, columns: &[(&str, &str)], key: &str) -> String {
    let mut columns_xml = String::new();
    for (name, xsd_type) in columns {
        columns_xml
            .push_str(&format!("\n            <xs:element name=\"{name}\" type=\"{xsd_type}\" minOccurs=\"0\" />"));
    }
    format!(
        r#"<xs:schema id="{data_set}" xmlns="" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:msdata="urn:schemas-microsoft-com:xml-msdata">
  <xs:element name="{data_set}" msdata:IsDataSet="true" msdata:UseCurrentLocale="true">
    <xs:complexType>
      <xs:choice minOccurs="0" maxOccurs="unbounded">
        <xs:element name="{table}">
          <xs:complexType>
            <xs:sequence>{columns_xml}
            </xs:sequence>
          </xs:complexType>
        </xs:element>
      </xs:choice>
    </xs:complexType>
    <xs:unique name="Constraint1" msdata:PrimaryKey="true">
      <xs:selector xpath=".//{table}" />
      <xs:field xpath="{key}" />
    </xs:unique>
  </xs:element>
</xs:schema>"#
    )
}

const SHOP_COLUMNS: &[(&str, &str)] = &[
    ("EntityID", "xs:string"),
    ("Name", "xs:string"),
    ("Latitude", "xs:double"),
    ("Longitude", "xs:double"),
    ("IsOpen", "xs:boolean"),
    ("Opened", "xs:dateTime"),
    ("Seats", "xs:long"),
];

pub(super) fn shops_document(rows: &str) -> String {
    let schema = toolkit_schema("Shops", "FourthCoffeeShops", SHOP_COLUMNS, "EntityID");
    format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ShopsData>\n{schema}\n{rows}</ShopsData>\n")
}

#[test]
fn the_toolkit_upload_form() {
    let rows = "  <FourthCoffeeShops>\n    <EntityID>1</EntityID>\n    <Name>Fourth Coffee</Name>\n    <Latitude>47.64</Latitude>\n    <Longitude>-122.13</Longitude>\n    <IsOpen>True</IsOpen>\n    <Opened>2010-11-03T23:31:37.0000000Z</Opened>\n  </FourthCoffeeShops>\n  <FourthCoffeeShops>\n    <Seats>12</Seats>\n    <IsOpen>False</IsOpen>\n    <Longitude>-122.2</Longitude>\n    <Latitude>47.5</Latitude>\n    <EntityID>2</EntityID>\n  </FourthCoffeeShops>\n";
    let document = shops_document(rows);
    let mut reader = open(&document).unwrap();
    let schema = reader.schema().clone();
    assert_eq!(schema.entity_type_name, "FourthCoffeeShops");
    assert_eq!(schema.key().name, "EntityID");
    let types: Vec<EdmType> = schema.properties.iter().map(|property| property.edm_type).collect();
    use EdmType::*;
    assert_eq!(types, [String, String, Double, Double, Boolean, DateTime, Int64]);

    let rows = records(&mut reader);
    assert_eq!(rows.len(), 2);
    let first_row_line = document.lines().position(|line| line.contains("<FourthCoffeeShops>")).unwrap() as u64 + 1;
    assert_eq!(rows[0].line, first_row_line);
    assert_eq!(rows[1].line, first_row_line + 8);
    let text = |row: &Record, index: usize| row.cells[index].clone();
    assert_eq!(text(&rows[0], 5).as_deref(), Some("2010-11-03T23:31:37.0000000Z"));
    assert_eq!(text(&rows[0], 6), None);
    assert_eq!(
        rows[1].cells[..5],
        [Some("2".into()), None, Some("47.5".into()), Some("-122.2".into()), Some("False".into())]
    );
    assert!(rows.iter().all(|row| row.problem.is_none()));

    let builder = EntityBuilder::for_complete(schema);
    let BuiltRecord::Upsert(entity) = builder.build(&rows[0].cells).unwrap() else { panic!() };
    assert_eq!(entity.values[4], sds_core::Value::Boolean(true));
    assert_eq!(entity.values[5].to_string(), "2010-11-03T23:31:37Z");
}

#[test]
fn a_docs_style_document_with_other_prefixes() {
    let document = r#"<?xml version="1.0" encoding="utf-8"?>
<!-- exported by hand -->
<FourthCoffeeSample xmlns:mstns="urn:example:shops">
  <xsd:schema id="FourthCoffee" xmlns="" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:ms="urn:schemas-microsoft-com:xml-msdata">
    <xsd:element name="FourthCoffee" ms:IsDataSet="TRUE">
      <xsd:annotation><xsd:documentation>ignored</xsd:documentation></xsd:annotation>
      <xsd:complexType>
        <xsd:choice maxOccurs="unbounded">
          <xsd:element name="FourthCoffeeShops">
            <xsd:complexType>
              <xsd:sequence>
                <xsd:element name="AddressLine">
                  <xsd:simpleType>
                    <xsd:restriction base="xsd:string"><xsd:maxLength value="35" /></xsd:restriction>
                  </xsd:simpleType>
                </xsd:element>
                <xsd:element name="EntityID" />
                <xsd:element name="Latitude" type="xsd:double" />
                <xsd:element name="Longitude" type="xsd:double" />
                <xsd:element name="Geom" type="xsd:anyType" minOccurs="0" />
              </xsd:sequence>
            </xsd:complexType>
          </xsd:element>
        </xsd:choice>
      </xsd:complexType>
      <xsd:key name="PK" ms:PrimaryKey="true">
        <xsd:selector xpath=".//mstns:FourthCoffeeShops" />
        <xsd:field xpath="mstns:EntityID" />
      </xsd:key>
    </xsd:element>
  </xsd:schema>
  <Unrelated><FourthCoffeeShops>not a row</FourthCoffeeShops></Unrelated>
  <fourthcoffeeshops>
    <!-- a comment -->
    <entityid>1000</entityid>
    <AddressLine>1 Microsoft Way</AddressLine>
    <Latitude>47.639767</Latitude><Longitude>-122.129755</Longitude>
    <Geom>POLYGON ((-122.1 47.6, -122.2 47.6, -122.2 47.7, -122.1 47.6))</Geom>
  </fourthcoffeeshops>
  <FourthCoffeeShops/>
</FourthCoffeeSample>
"#;
    let mut reader = open(document).unwrap();
    let schema = reader.schema();
    assert_eq!(schema.key().name, "EntityID");
    let names: Vec<&str> = schema.properties.iter().map(|property| property.name.as_str()).collect();
    assert_eq!(names, ["AddressLine", "EntityID", "Latitude", "Longitude", "Geom"]);
    assert_eq!(schema.properties[0].edm_type, EdmType::String);
    assert_eq!(schema.properties[4].edm_type, EdmType::Geography);
    let rows = records(&mut reader);
    assert_eq!(rows.len(), 2, "the element inside <Unrelated> is not a row");
    assert_eq!(rows[0].line, 33);
    assert_eq!(rows[0].cells[1].as_deref(), Some("1000"));
    assert_eq!(rows[0].cells[0].as_deref(), Some("1 Microsoft Way"));
    assert_eq!(rows[1], Record { line: 40, cells: vec![None; 5], problem: None });
}

#[test]
fn a_byte_order_mark_is_skipped() {
    let document =
        format!("\u{feff}{}", shops_document("<FourthCoffeeShops><EntityID>1</EntityID></FourthCoffeeShops>\n"));
    let rows = records(&mut open(&document).unwrap());
    assert_eq!(rows[0].cells[0].as_deref(), Some("1"));
}

#[test]
fn values_are_unescaped_byte_exact() {
    let rows = "<FourthCoffeeShops><EntityID>a</EntityID>\
        <Name>  Zürich | &lt;&amp;&gt; &quot;q&quot; &apos;&#233;&#x1F600;<![CDATA[ <raw> & ]]>\nline\r\ncrlf&#13;\n  </Name>\
        <Latitude></Latitude><Longitude/></FourthCoffeeShops>\n";
    let mut reader = open(&shops_document(rows)).unwrap();
    let row = reader.next_record().unwrap().unwrap();
    assert_eq!(row.problem, None);
    assert_eq!(row.cells[1].as_deref(), Some("  Zürich | <&> \"q\" 'é😀 <raw> & \nline\ncrlf\r\n  "));
    assert_eq!((row.cells[2].as_deref(), row.cells[3].as_deref()), (Some(""), Some("")));
}

#[test]
fn row_problems_fail_only_their_row() {
    let rows = "<FourthCoffeeShops><EntityID>1</EntityID><Colour>red</Colour><Name>x</Name></FourthCoffeeShops>\n\
        <FourthCoffeeShops><EntityID>2</EntityID><Name>x</Name><NAME>y</NAME></FourthCoffeeShops>\n\
        <FourthCoffeeShops><EntityID>3</EntityID><Name>x<b>bold<i>deep</i></b></Name></FourthCoffeeShops>\n\
        <FourthCoffeeShops><EntityID>4</EntityID><Name>&nbsp;</Name></FourthCoffeeShops>\n\
        <FourthCoffeeShops>stray<EntityID>5</EntityID></FourthCoffeeShops>\n\
        <FourthCoffeeShops><EntityID>6</EntityID><Name>fine</Name></FourthCoffeeShops>\n";
    let rows = records(&mut open(&shops_document(rows)).unwrap());
    let problems: Vec<Option<&str>> = rows.iter().map(|row| row.problem.as_deref()).collect();
    assert_eq!(
        problems,
        [
            Some("'Colour' is not a property of entity type 'FourthCoffeeShops'"),
            Some("property 'Name' is given twice"),
            Some("property 'Name' holds an element; values must be text"),
            Some("property 'Name': unknown reference '&nbsp;'"),
            Some("the row holds text outside its property elements"),
            None,
        ]
    );
    assert_eq!(rows[0].cells[1].as_deref(), Some("x"), "the row is still read to its end");
    assert_eq!(rows[5].cells[1].as_deref(), Some("fine"));
}

#[test]
fn document_errors_name_the_line() {
    let mismatched = shops_document("<FourthCoffeeShops>\n<EntityID>1</Name>\n</FourthCoffeeShops>\n");
    let error = error_of(&mismatched);
    let line = mismatched.lines().position(|line| line.contains("</Name>")).unwrap() + 1;
    assert!(error.starts_with(&format!("line {line}: malformed XML")), "{error}");

    let unclosed = shops_document("").replace("</ShopsData>\n", "<FourthCoffeeShops>\n<EntityID>1</EntityID>\n");
    assert!(error_of(&unclosed).contains("the document ends inside the row that starts on line"));
    let no_root_end = shops_document("").replace("</ShopsData>\n", "");
    assert!(error_of(&no_root_end).contains("the document ends before its root element is closed"));

    assert_eq!(error_of("not xml at all"), "line 1: unexpected content before the root element");
    assert_eq!(error_of(""), "line 1: the document has no root element");
    assert!(error_of("<a>\n<b/>\n</a>").starts_with("line 2: the document has no xs:schema"));
    assert!(error_of("<a/>").contains("has no xs:schema"));
    let trailing = shops_document("").replace("</ShopsData>\n", "</ShopsData>\n<More/>\n");
    assert!(error_of(&trailing).contains("unexpected content after the root element"));
}

#[test]
fn invalid_utf8_names_the_line() {
    let document =
        shops_document("<FourthCoffeeShops>\n<EntityID>1</EntityID>\n<Name>caf@</Name></FourthCoffeeShops>\n");
    let line = document.lines().position(|line| line.contains("caf@")).unwrap() as u64 + 1;
    let latin1: Vec<u8> = document.bytes().map(|byte| if byte == b'@' { 0xE9 } else { byte }).collect();
    let mut reader = DataSetReader::new(input(latin1)).unwrap();
    let error = reader.next_record().unwrap().unwrap_err().to_string();
    assert_eq!(error, format!("line {line}: the document is not valid UTF-8 (SDS accepts UTF-8 only)"));
    assert!(reader.next_record().is_none());
}

#[test]
fn dtds_are_refused() {
    let document = shops_document("").replace(
        "<ShopsData>",
        "<!DOCTYPE ShopsData [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;\">]>\n<ShopsData>",
    );
    assert_eq!(error_of(&document), "line 2: DTDs are not allowed (<!DOCTYPE ...>)");
}

#[test]
fn schema_errors() {
    let no_key = shops_document("").replace(" msdata:PrimaryKey=\"true\"", "");
    assert!(matches!(open(&no_key), Err(FormatError::Schema(SchemaError::NoPrimaryKey))));
    let unknown_key = shops_document("").replace("<xs:field xpath=\"EntityID\"", "<xs:field xpath=\"Id\"");
    assert!(matches!(open(&unknown_key), Err(FormatError::Schema(SchemaError::UnknownKey(_)))));
    let bad_type =
        shops_document("").replace("name=\"Seats\" type=\"xs:long\"", "name=\"Seats\" type=\"xs:hexBinary\"");
    let error = error_of(&bad_type);
    assert!(error.contains("column 'Seats' has type 'xs:hexBinary'") && error.starts_with("line 16:"), "{error}");
    let two_tables = shops_document("").replace("</xs:choice>", "<xs:element name=\"Other\" /></xs:choice>");
    assert!(error_of(&two_tables).contains("the DataSet declares 2 tables"));
    let not_a_data_set = shops_document("").replace("msdata:IsDataSet", "msdata:Other");
    assert!(error_of(&not_a_data_set).contains("no xs:element with msdata:IsDataSet=\"true\""));
    let wrong_namespace = shops_document("").replace("http://www.w3.org/2001/XMLSchema", "urn:not-xsd");
    assert!(error_of(&wrong_namespace).contains("has no xs:schema"));
}

#[test]
fn nesting_and_size_are_bounded() {
    let deep = format!(
        "<FourthCoffeeShops><EntityID>1</EntityID><Name>{}{}</Name></FourthCoffeeShops>\n",
        "<a>".repeat(2_000),
        "</a>".repeat(2_000)
    );
    assert!(error_of(&shops_document(&deep)).contains("nested more than 1000 deep"));
    let huge = shops_document(&format!(
        "<FourthCoffeeShops><Name>{}</Name></FourthCoffeeShops>",
        "x".repeat(MAX_RECORD_BYTES + 10)
    ));
    assert!(error_of(&huge).contains("longer than"), "a single text run is capped");
}

/// Hands out a few bytes per read, so events straddle buffer boundaries.
struct Trickle(Cursor<Vec<u8>>);

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let len = buf.len().min(3);
        self.0.read(&mut buf[..len])
    }
}

fn round_trip_schema() -> Schema {
    let properties = vec![
        Property::new("Id", EdmType::String),
        Property::new("Name", EdmType::String),
        Property::new("Latitude", EdmType::Double),
        Property::new("Longitude", EdmType::Double),
        Property::new("Seats", EdmType::Int64),
        Property::new("IsOpen", EdmType::Boolean),
        Property::new("Opened", EdmType::DateTime),
        Property::new("Shape", EdmType::Geography),
    ];
    Schema::new("Shops", properties, "Id").unwrap()
}

fn round_trip_entities(builder: &EntityBuilder) -> Vec<Entity> {
    let rows: &[[&str; 8]] = &[
        [
            "a",
            "  Zürich | \"quoted\" <&> \n two\r\nlines\r  ",
            "0.1",
            "-122.33",
            "9223372036854775807",
            "True",
            "2010-11-03T23:31:37.1234567Z",
            "POINT (1 2)",
        ],
        [
            "b",
            "C1 \u{7f}\u{85}\u{9f} and \u{fffd} and tab\t",
            "-90",
            "180",
            "-9223372036854775808",
            "false",
            "1601-01-01T00:00:00Z",
            "POLYGON ((0 0, 2 0, 2 2, 0 2, 0 0), (0.5 0.5, 1 0.5, 1 1, 0.5 0.5))",
        ],
        ["c", "", "", "", "", "", "", "POINT (-122.33 47.6)"],
        [
            "d",
            "]]> &amp; &#13;",
            "5e-324",
            "-179.99999999999997",
            "0",
            "1",
            "2024-02-29T12:00:00.5Z",
            "LINESTRING (1 1, 2 2)",
        ],
    ];
    rows.iter()
        .map(|row| {
            let cells: Vec<Option<&str>> = row.iter().map(|cell| Some(*cell)).collect();
            match builder.build(&cells).unwrap() {
                BuiltRecord::Upsert(entity) => entity,
                BuiltRecord::Delete { .. } => unreachable!(),
            }
        })
        .collect()
}

pub(super) fn write_download(name: &str, schema: &Schema, entities: &[Entity]) -> Vec<u8> {
    let mut writer = DataSetWriter::new(Vec::new(), name, schema).unwrap();
    for entity in entities {
        writer.write_entity(entity).unwrap();
    }
    writer.finish().unwrap()
}

#[test]
fn a_download_reads_back_as_the_same_entities() {
    let builder = EntityBuilder::for_complete(round_trip_schema());
    let entities = round_trip_entities(&builder);
    let document = write_download("MyShops", builder.target_schema(), &entities);

    for slow in [false, true] {
        let source: Box<dyn BufRead + Send> = if slow {
            Box::new(BufReader::with_capacity(7, Trickle(Cursor::new(document.clone()))))
        } else {
            input(document.clone())
        };
        let mut reader = DataSetReader::new(source).unwrap();
        assert_eq!(reader.schema(), builder.target_schema());
        let rows = records(&mut reader);
        let lines: Vec<u64> = rows.iter().map(|row| row.line).collect();
        assert_eq!(lines, [3, 6, 7, 8], "the first name holds two line feeds");
        let reread = EntityBuilder::for_complete(reader.schema().clone());
        let back: Vec<Entity> = rows
            .iter()
            .map(|row| {
                assert_eq!(row.problem, None);
                match reread.build(&row.cells).unwrap() {
                    BuiltRecord::Upsert(entity) => entity,
                    BuiltRecord::Delete { .. } => unreachable!(),
                }
            })
            .collect();
        assert_eq!(back, entities);
    }
}

#[test]
fn the_download_has_the_documented_shape() {
    let schema = Schema::new(
        "Shops",
        vec![
            Property::new("Id", EdmType::String),
            Property::new("Latitude", EdmType::Double),
            Property::new("Longitude", EdmType::Double),
            Property::new("Opened", EdmType::DateTime),
        ],
        "Id",
    )
    .unwrap();
    let builder = EntityBuilder::for_complete(schema.clone());
    let BuiltRecord::Upsert(entity) = builder.build(&[Some("x<1"), Some("47.5"), Some("-122"), None]).unwrap() else {
        panic!()
    };
    let document = String::from_utf8(write_download("Main~Root", &schema, &[entity])).unwrap();
    let expected = concat!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n",
        "<MainRoot><xs:schema id=\"Main~Root\" xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" xmlns:msdata=\"urn:schemas-microsoft-com:xml-msdata\">",
        "<xs:element name=\"Main~Root\" msdata:IsDataSet=\"true\" msdata:UseCurrentLocale=\"true\"><xs:complexType>",
        "<xs:choice minOccurs=\"0\" maxOccurs=\"unbounded\"><xs:element name=\"Shops\"><xs:complexType><xs:sequence>",
        "<xs:element name=\"Id\" type=\"xs:string\" minOccurs=\"0\" />",
        "<xs:element name=\"Latitude\" type=\"xs:double\" minOccurs=\"0\" />",
        "<xs:element name=\"Longitude\" type=\"xs:double\" minOccurs=\"0\" />",
        "<xs:element name=\"Opened\" type=\"xs:dateTime\" minOccurs=\"0\" msdata:DateTimeMode=\"Utc\" />",
        "</xs:sequence></xs:complexType></xs:element></xs:choice></xs:complexType>",
        "<xs:unique name=\"Constraint1\" msdata:PrimaryKey=\"true\"><xs:selector xpath=\".//Shops\" /><xs:field xpath=\"Id\" /></xs:unique>",
        "</xs:element></xs:schema>\n",
        "<Shops><Id>x&lt;1</Id><Latitude>47.5</Latitude><Longitude>-122</Longitude></Shops>\n",
        "</MainRoot>\n",
    );
    assert_eq!(document, expected);

    let clash = String::from_utf8(write_download("mainroot", &schema, &[])).unwrap();
    assert!(clash.contains("\n<MainRootData><xs:schema id=\"mainroot\"") && clash.ends_with("</MainRootData>\n"));
    let reader = DataSetReader::new(input(clash)).unwrap();
    assert_eq!(reader.schema(), &schema);
}

#[test]
fn the_writer_refuses_an_entity_that_does_not_fit_the_schema() {
    let schema = round_trip_schema();
    let mut writer = DataSetWriter::new(Vec::new(), "Shops", &schema).unwrap();
    let entity = Entity { id: "1".into(), latitude: 0.0, longitude: 0.0, bounds: None, values: vec![] };
    assert_eq!(writer.write_entity(&entity).unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
#[ignore = "throughput measurement; run with --release --ignored --nocapture"]
fn throughput() {
    let schema = Schema::new(
        "Shops",
        vec![
            Property::new("Id", EdmType::String),
            Property::new("Name", EdmType::String),
            Property::new("Latitude", EdmType::Double),
            Property::new("Longitude", EdmType::Double),
            Property::new("Seats", EdmType::Int64),
            Property::new("IsOpen", EdmType::Boolean),
            Property::new("Opened", EdmType::DateTime),
        ],
        "Id",
    )
    .unwrap();
    let builder = EntityBuilder::for_complete(schema.clone());
    let count = 1_000_000;
    let entities: Vec<Entity> = (0..count)
        .map(|index| {
            let id = format!("id{index}");
            let name = format!("Shop <{index}> & more");
            let cells = [
                Some(id.as_str()),
                Some(name.as_str()),
                Some("47.61"),
                Some("-122.33"),
                Some("42"),
                Some("true"),
                Some("2010-11-03T23:31:37Z"),
            ];
            match builder.build(&cells).unwrap() {
                BuiltRecord::Upsert(entity) => entity,
                BuiltRecord::Delete { .. } => unreachable!(),
            }
        })
        .collect();

    let start = std::time::Instant::now();
    let mut writer = DataSetWriter::new(std::io::BufWriter::new(Vec::new()), "Shops", &schema).unwrap();
    for entity in &entities {
        writer.write_entity(entity).unwrap();
    }
    let document = writer.finish().unwrap().into_inner().unwrap();
    let elapsed = start.elapsed();
    println!("writer: {count} entities in {elapsed:?}: {:.0}/s", count as f64 / elapsed.as_secs_f64());

    let start = std::time::Instant::now();
    let mut reader = DataSetReader::new(Box::new(BufReader::new(Cursor::new(document)))).unwrap();
    let mut read = 0;
    while let Some(record) = reader.next_record() {
        record.unwrap();
        read += 1;
    }
    let elapsed = start.elapsed();
    assert_eq!(read, count);
    println!("reader: {read} rows in {elapsed:?}: {:.0}/s", read as f64 / elapsed.as_secs_f64());
}

#[test]
fn fast_dates_match_the_canonical_form() {
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut timestamps = vec![
        Timestamp { seconds: 0, nanos: 0 },
        Timestamp { seconds: -62_135_596_800, nanos: 1 },
        Timestamp { seconds: 253_402_300_799, nanos: 999_999_999 },
        Timestamp { seconds: 253_402_300_800, nanos: 0 },
        Timestamp { seconds: -62_167_219_201, nanos: 5 },
        Timestamp { seconds: 1_288_827_097, nanos: 123_456_700 },
        Timestamp { seconds: 1_288_827_097, nanos: 1_500_000_000 },
    ];
    for _ in 0..20_000 {
        let seconds = (next() % 320_000_000_000) as i64 - 62_200_000_000;
        let nanos = match next() % 4 {
            0 => 0,
            1 => (next() % 1000) as u32 * 1_000_000,
            2 => (next() % 10_000_000) as u32 * 100,
            _ => (next() % 1_000_000_000) as u32,
        };
        timestamps.push(Timestamp { seconds, nanos });
    }
    for timestamp in timestamps {
        let mut fast = Vec::new();
        super::writer::write_timestamp(&mut fast, timestamp);
        assert_eq!(String::from_utf8(fast).unwrap(), Value::DateTime(timestamp).to_string(), "{timestamp:?}");
    }
}
