//! Issue 9's findings at the DataSet reader and writer: empty strings (4),
//! NCName entity types (5), .NET `DataSet.WriteXml` output (7) and
//! characters XML cannot carry (11).

use sds_core::{BuiltRecord, EdmType, Entity, EntityBuilder, Property, Schema, Value};

use super::tests::{input, open, records, shops_document, toolkit_schema, write_download};
use super::DataSetReader;
use crate::RecordReader;

/// What .NET's `DataSet.WriteXml(path, XmlWriteMode.WriteSchema)` writes:
/// the root element is named like the DataSet element, the key column has
/// no `minOccurs`, the declaration says `standalone="yes"`.
const DOTNET_WRITE_XML: &str = r#"<?xml version="1.0" standalone="yes"?>
<FourthCoffeeSample>
  <xs:schema id="FourthCoffeeSample" xmlns="" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:msdata="urn:schemas-microsoft-com:xml-msdata">
    <xs:element name="FourthCoffeeSample" msdata:IsDataSet="true" msdata:UseCurrentLocale="true">
      <xs:complexType>
        <xs:choice minOccurs="0" maxOccurs="unbounded">
          <xs:element name="FourthCoffeeShops">
            <xs:complexType>
              <xs:sequence>
                <xs:element name="EntityID" type="xs:string" />
                <xs:element name="Name" type="xs:string" minOccurs="0" />
                <xs:element name="Latitude" type="xs:double" minOccurs="0" />
                <xs:element name="Longitude" type="xs:double" minOccurs="0" />
              </xs:sequence>
            </xs:complexType>
          </xs:element>
        </xs:choice>
      </xs:complexType>
      <xs:unique name="Constraint1" msdata:PrimaryKey="true">
        <xs:selector xpath=".//FourthCoffeeShops" />
        <xs:field xpath="EntityID" />
      </xs:unique>
    </xs:element>
  </xs:schema>
  <FourthCoffeeShops>
    <EntityID>A1</EntityID>
    <Name>Harbour kiosk</Name>
    <Latitude>53.5461</Latitude>
    <Longitude>9.9665</Longitude>
  </FourthCoffeeShops>
  <FourthCoffeeShops>
    <EntityID>A2</EntityID>
    <Name>Station kiosk</Name>
    <Latitude>53.5530</Latitude>
    <Longitude>10.0069</Longitude>
  </FourthCoffeeShops>
</FourthCoffeeSample>"#;

#[test]
fn finding_7_dotnet_write_xml_with_root_named_like_the_dataset_loads() {
    let mut reader = open(DOTNET_WRITE_XML).unwrap();
    assert_eq!(reader.schema().entity_type_name, "FourthCoffeeShops");
    assert_eq!(reader.schema().key().name, "EntityID");
    let rows = records(&mut reader);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].cells[0].as_deref(), Some("A2"));
    assert_eq!(rows[1].cells[3].as_deref(), Some("10.0069"));
    assert!(rows.iter().all(|row| row.problem.is_none()));
}

fn name_schema(entity_type: &str) -> Schema {
    let properties = vec![
        Property::new("Id", EdmType::String),
        Property::new("Phone", EdmType::String),
        Property::new("Latitude", EdmType::Double),
        Property::new("Longitude", EdmType::Double),
        Property::new("Seats", EdmType::Int64),
    ];
    Schema::new(entity_type, properties, "Id").unwrap()
}

fn entity(id: &str, phone: Value, seats: Value) -> Entity {
    Entity {
        id: id.into(),
        latitude: 1.0,
        longitude: 2.0,
        bounds: None,
        values: vec![Value::String(id.into()), phone, Value::Double(1.0), Value::Double(2.0), seats],
    }
}

#[test]
fn finding_4_empty_strings_download_as_empty_elements_and_read_back_as_empty_strings() {
    let schema = name_schema("Shops");
    // "b" stands for a version loaded when empty strings were stored as null.
    let entities = [entity("a", Value::String(String::new()), Value::Null), entity("b", Value::Null, Value::Int64(3))];
    let document = String::from_utf8(write_download("Shops1", &schema, &entities)).unwrap();
    assert!(document.contains("<Shops><Id>a</Id><Phone /><Latitude>1</Latitude><Longitude>2</Longitude></Shops>"));
    assert!(document.contains("<Shops><Id>b</Id><Phone /><Latitude>1</Latitude>"), "{document}");
    let mut reader = DataSetReader::new(input(document)).unwrap();
    let rows = records(&mut reader);
    assert_eq!(rows[0].cells[1].as_deref(), Some(""));
    assert_eq!(rows[0].cells[4], None, "a null Int64 is left out");
    let builder = EntityBuilder::for_complete(schema);
    let BuiltRecord::Upsert(back) = builder.build(&rows[0].cells).unwrap() else { panic!() };
    assert_eq!(back.values[1], Value::String(String::new()));
    assert_eq!(back.values[4], Value::Null);
}

#[test]
fn finding_4_empty_and_absent_string_elements_are_empty_strings() {
    let document = shops_document(
        "<FourthCoffeeShops><EntityID>1</EntityID><Name/><Latitude>1</Latitude><Longitude>2</Longitude></FourthCoffeeShops>\n\
         <FourthCoffeeShops><EntityID>2</EntityID><Latitude>1</Latitude><Longitude>2</Longitude></FourthCoffeeShops>",
    );
    let mut reader = open(&document).unwrap();
    let builder = EntityBuilder::for_complete(reader.schema().clone());
    let name = builder.target_schema().property_index("Name").unwrap();
    for row in records(&mut reader) {
        let BuiltRecord::Upsert(entity) = builder.build(&row.cells).unwrap() else { panic!() };
        assert_eq!(entity.values[name], Value::String(String::new()), "row {}", entity.id);
    }
}

#[test]
fn finding_5_hyphenated_entity_type_loads_and_downloads() {
    let document = format!(
        "<FilialenData>\n{}\n<Filialdaten-XX><Id>1</Id><Phone>0800</Phone><Latitude>48.1</Latitude><Longitude>11.5</Longitude></Filialdaten-XX>\n</FilialenData>",
        toolkit_schema(
            "Filialen",
            "Filialdaten-XX",
            &[("Id", "xs:string"), ("Phone", "xs:string"), ("Latitude", "xs:double"), ("Longitude", "xs:double"), ("Seats", "xs:long")],
            "Id"
        )
    );
    let mut reader = open(&document).unwrap();
    assert_eq!(reader.schema().entity_type_name, "Filialdaten-XX");
    let rows = records(&mut reader);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].cells[1].as_deref(), Some("0800"));
    let schema = name_schema("Filialdaten-XX");
    let download = String::from_utf8(write_download(
        "Filialen",
        &schema,
        &[entity("1", Value::String("0800".into()), Value::Null)],
    ))
    .unwrap();
    assert!(download.contains("<xs:element name=\"Filialdaten-XX\">"), "{download}");
    assert!(download.contains("<xs:selector xpath=\".//Filialdaten-XX\" />"), "{download}");
    assert!(download.contains("\n<Filialdaten-XX><Id>1</Id><Phone>0800</Phone>"), "{download}");
    let mut back = DataSetReader::new(input(download)).unwrap();
    assert_eq!(back.schema(), &schema);
    assert_eq!(records(&mut back).len(), 1);
}

#[test]
fn finding_11_control_characters_fail_their_row_and_downloads_stay_well_formed() {
    let document = shops_document(
        "<FourthCoffeeShops><EntityID>1</EntityID><Name>bell&#7;</Name><Latitude>1</Latitude><Longitude>2</Longitude></FourthCoffeeShops>",
    );
    let mut reader = open(&document).unwrap();
    let builder = EntityBuilder::for_complete(reader.schema().clone());
    let rows = records(&mut reader);
    let error = builder.build(&rows[0].cells).unwrap_err().to_string();
    assert!(error.contains("'Name'") && error.contains("U+0007"), "{error}");

    // A value stored before the rule is written as U+FFFD, never as a raw
    // control character or a character reference XML 1.0 forbids.
    let schema = name_schema("Shops");
    let legacy = entity("a", Value::String("nul\u{0} esc\u{1b} one\u{1} \u{fffe}\u{ffff} tab\t".into()), Value::Null);
    let download = String::from_utf8(write_download("Shops1", &schema, &[legacy])).unwrap();
    assert!(download.chars().all(sds_core::value::is_xml_char), "{download:?}");
    assert!(!download.contains("&#0;") && !download.contains("&#1;") && !download.contains("&#27;"));
    assert!(
        download.contains("<Phone>nul\u{fffd} esc\u{fffd} one\u{fffd} \u{fffd}\u{fffd} tab\t</Phone>"),
        "{download:?}"
    );
}
