//! Findings 4 (empty strings), 5 (NCName entity types), 7 (.NET
//! `DataSet.WriteXml` output), 8 (Atom fractional seconds) and 11
//! (well-formed XML outputs).

use serde_json::Value;

use super::{assert_well_formed, failed_rows, Source};
use crate::common::dataset;
use crate::common::server::{access_id_of, link, location, TestServer};

#[test]
fn finding_4_empty_strings_are_empty_strings_never_null() {
    let server = TestServer::start();
    let csv = "Bing Spatial Data Services, 1.0, Shops\n\
EntityID(Edm.String,primaryKey),Phone(Edm.String),SecondaryCity(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double),SeatingCapacity(Edm.Int64)\n\
bare,,,47.6,-122.1,\n\
quoted,\"\",\"\",47.6,-122.1,\"\"\n\
short,555-0100,Bellevue,47.6,-122.1\n\
full,555-0101,Bellevue,47.6,-122.1,12\n";
    let source = Source::load(&server, "Shops", "csv", csv, "Shops");
    for id in ["bare", "quoted"] {
        let entity = source.entity(id);
        assert_eq!((entity["Phone"].clone(), entity["SecondaryCity"].clone()), ("".into(), "".into()), "{entity}");
        assert_eq!(entity["SeatingCapacity"], Value::Null, "non-string types keep null: {entity}");
        let atom = source.text(&format!("('{id}')"), "");
        assert!(atom.contains("<d:Phone />") && atom.contains("<d:SecondaryCity />"), "{atom}");
        assert!(atom.contains(r#"<d:SeatingCapacity m:type="Edm.Int64" m:null="true"/>"#), "{atom}");
        assert!(!atom.contains(r#"m:type="Edm.String""#) && atom.matches("m:null").count() == 1, "{atom}");
    }
    assert_eq!(source.ids("$filter=Phone eq ''"), ["bare", "quoted"]);
    assert_eq!(source.ids("$filter=Phone ne ''"), ["full", "short"]);
    assert_eq!(source.ids("$filter=Phone eq null"), Vec::<String>::new());
    assert_eq!(source.ids("$filter=SeatingCapacity eq null"), ["bare", "quoted", "short"]);

    // The XML download writes empty strings as empty elements and leaves
    // null numbers out; re-uploaded, both come back as they were.
    let download = source.download();
    assert!(download.contains("<EntityID>bare</EntityID><Phone /><SecondaryCity />"), "{download}");
    let rows = dataset::parse(&download).by_id();
    assert!(!rows["bare"].contains_key("SeatingCapacity"));
    let copy = Source::load(&server, "ShopsCopy", "xml", download, "Shops");
    assert_eq!(copy.entity("bare")["Phone"], "");
    assert_eq!(copy.entity("bare")["SeatingCapacity"], Value::Null);
    assert_eq!(copy.ids("$filter=SecondaryCity eq ''"), ["bare", "quoted"]);

    // The XML upload form: `<Phone />` and an absent element are both "".
    let xml = crate::fixtures::toolkit_xml("Toolkit");
    let job = server.load_and_wait("Toolkit", "complete", "xml", xml.clone());
    assert_eq!(job["status"], "Completed", "{job}");
    let toolkit = Source {
        server: &server,
        access_id: access_id_of(&job),
        name: "Toolkit".into(),
        entity_type: "CoffeeShop".into(),
    };
    let strings: Vec<String> = dataset::parse(&xml)
        .columns
        .iter()
        .filter(|(_, xsd)| xsd == "xs:string")
        .map(|(name, _)| name.clone())
        .collect();
    for entry in toolkit.json("", "$filter=EntityID ne 'x'")["d"]["results"].as_array().unwrap() {
        for name in &strings {
            assert!(entry[name].is_string(), "{name} must be a string, never null: {entry}");
        }
    }

    // The CSV download re-uploads with the same distinction.
    let response = server.get(&format!(
        "/REST/v1/Dataflows/DataSourceDownload/{}/Shops?format=csv&output=json&key={}",
        source.access_id, server.master_key
    ));
    assert_eq!(response.status(), 201);
    let job = server.wait_job(&location(&response), &server.master_key);
    let csv_download =
        server.get(&format!("{}?key={}", link(&job, "output", Some("succeeded")), server.master_key)).text().unwrap();
    let from_csv = Source::load(&server, "ShopsCsv", "csv", csv_download, "Shops");
    assert_eq!(from_csv.entity("quoted")["SecondaryCity"], "");
    assert_eq!(from_csv.entity("quoted")["SeatingCapacity"], Value::Null);
    assert_eq!(from_csv.entity("full")["SeatingCapacity"], 12);
}

#[test]
fn finding_5_hyphenated_entity_type_works_everywhere() {
    let server = TestServer::start();
    let csv = "Bing Spatial Data Services, 1.0, Filialdaten-XX\n\
FilialId(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\n\
m1,Markt Nord,48.15,11.55\n\
m2,Markt Süd,48.10,11.57\n";
    let source = Source::load(&server, "Filialen", "csv", csv, "Filialdaten-XX");
    assert_eq!(source.ids("spatialFilter=nearby(48.15,11.55,2)"), ["m1"]);
    let feed = source.text("", "spatialFilter=nearby(48.15,11.55,2)");
    assert!(feed.contains("/Filialen/Filialdaten-XX(") && feed.contains("<d:FilialId>m1</d:FilialId>"), "{feed}");
    assert_eq!(source.entity("m2")["Name"], "Markt Süd");
    let metadata = server
        .get(&format!("/REST/v1/data/{}/Filialen/$metadata?key={}", source.access_id, server.master_key))
        .text()
        .unwrap();
    assert!(metadata.contains(r#"<EntityType Name="Filialdaten-XX">"#), "{metadata}");
    assert!(metadata.contains(r#"EntityType="FilialenDataSource.Filialdaten-XX""#), "{metadata}");
    let download = source.download();
    assert_well_formed(&download);
    let parsed = dataset::parse(&download);
    assert_eq!(parsed.entity_type, "Filialdaten-XX");
    assert_eq!(parsed.rows.len(), 2);
    let copy = Source::load(&server, "FilialenCopy", "xml", download, "Filialdaten-XX");
    assert_eq!(copy.ids("$filter=Name eq 'Markt Nord'"), ["m1"]);
    // The entity type in a URL is matched case-insensitively, as before.
    assert_eq!(server.get(&source.path("('m1')", "").replace("Filialdaten-XX", "filialdaten-xx")).status(), 200);

    // Any NCName: non-ASCII letters and dots too, percent-encoded in the URL.
    let csv = "Bing Spatial Data Services, 1.0, Cafés.v2
Id(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)
c1,48.15,11.55
";
    let cafes = Source::load(&server, "Cafes", "csv", csv, "Caf%C3%A9s.v2");
    assert_eq!(cafes.entity("c1")["Latitude"], 48.15);
    let parsed = dataset::parse(&cafes.download());
    assert_eq!((parsed.entity_type.as_str(), parsed.rows.len()), ("Cafés.v2", 1));
    // A name that is no NCName is refused with the reason.
    let csv = "Bing Spatial Data Services, 1.0, -Shops
Id(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)
x,1,1
";
    let job = server.load_and_wait("Dashed", "complete", "csv", csv);
    assert_eq!(job["status"], "Aborted", "{job}");
    assert!(job["errorMessage"].as_str().unwrap().contains("entity type name '-Shops' is invalid"), "{job}");
}

#[test]
fn finding_7_dotnet_write_xml_output_loads_as_is() {
    // DataSet.WriteXml(path, XmlWriteMode.WriteSchema): the root element is
    // named like the DataSet element, the key column has no minOccurs.
    let document = r#"<?xml version="1.0" standalone="yes"?>
<Kiosks>
  <xs:schema id="Kiosks" xmlns="" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:msdata="urn:schemas-microsoft-com:xml-msdata">
    <xs:element name="Kiosks" msdata:IsDataSet="true" msdata:UseCurrentLocale="true">
      <xs:complexType>
        <xs:choice minOccurs="0" maxOccurs="unbounded">
          <xs:element name="Kiosk">
            <xs:complexType>
              <xs:sequence>
                <xs:element name="KioskId" type="xs:string" />
                <xs:element name="Name" type="xs:string" minOccurs="0" />
                <xs:element name="Latitude" type="xs:double" minOccurs="0" />
                <xs:element name="Longitude" type="xs:double" minOccurs="0" />
                <xs:element name="Opened" msdata:DateTimeMode="Utc" type="xs:dateTime" minOccurs="0" />
              </xs:sequence>
            </xs:complexType>
          </xs:element>
        </xs:choice>
      </xs:complexType>
      <xs:unique name="Constraint1" msdata:PrimaryKey="true">
        <xs:selector xpath=".//Kiosk" />
        <xs:field xpath="KioskId" />
      </xs:unique>
    </xs:element>
  </xs:schema>
  <Kiosk>
    <KioskId>k1</KioskId>
    <Name>Harbour kiosk</Name>
    <Latitude>53.5461</Latitude>
    <Longitude>9.9665</Longitude>
    <Opened>2019-06-01T08:00:00Z</Opened>
  </Kiosk>
  <Kiosk>
    <KioskId>k2</KioskId>
    <Name>Station kiosk</Name>
    <Latitude>53.553</Latitude>
    <Longitude>10.0069</Longitude>
  </Kiosk>
</Kiosks>"#;
    let server = TestServer::start();
    let job = server.load_and_wait("Kiosks", "complete", "xml", document);
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!((job["processedEntityCount"].clone(), job["failedEntityCount"].clone()), (2.into(), 0.into()));
    let source =
        Source { server: &server, access_id: access_id_of(&job), name: "Kiosks".into(), entity_type: "Kiosk".into() };
    assert_eq!(source.entity("k2")["Name"], "Station kiosk");
}

#[test]
fn finding_8_atom_datetime_keeps_fractional_seconds() {
    let server = TestServer::start();
    let csv = "Bing Spatial Data Services, 1.0, Events\n\
Id(Edm.String,primaryKey),At(Edm.DateTime),Latitude(Edm.Double),Longitude(Edm.Double)\n\
ms,2021-03-28T05:06:09.952Z,1,1\n\
ticks,2010-11-11T01:19:36.4350494Z,1,1\n\
whole,2010-11-03T23:31:37Z,1,1\n";
    let source = Source::load(&server, "Events", "csv", csv, "Events");
    for (id, expected) in
        [("ms", "2021-03-28T05:06:09.952"), ("ticks", "2010-11-11T01:19:36.4350494"), ("whole", "2010-11-03T23:31:37")]
    {
        let atom = source.text(&format!("('{id}')"), "");
        assert!(atom.contains(&format!(r#"<d:At m:type="Edm.DateTime">{expected}</d:At>"#)), "{atom}");
        let feed = source.text("", &format!("$filter=Id eq '{id}'"));
        assert!(feed.contains(&format!(">{expected}</d:At>")), "{feed}");
    }
    assert_eq!(source.entity("ms")["At"], "/Date(1616907969952)/");
}

#[test]
fn finding_11_control_characters_fail_their_rows_and_xml_outputs_stay_well_formed() {
    let server = TestServer::start();
    let csv = "Bing Spatial Data Services, 1.0, Notes\n\
Id(Edm.String,primaryKey),Text(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\n\
ok,plain \t tab,1,1\n\
soh,a\u{1}b,1,1\n\
esc,\u{1b}[31mred,1,1\n\
nul,nul\u{0}here,1,1\n\
c1,C1 controls \u{85}\u{9f} are XML characters,1,1\n";
    let job = server.load_and_wait("Notes", "complete", "csv", csv);
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!(job["failedEntityCount"], 3, "{job}");
    let failures = failed_rows(&server, &job);
    for (line, code) in [(4, "U+0001"), (5, "U+001B"), (6, "U+0000")] {
        let expected = format!("line {line}, entity '");
        let row = failures.lines().find(|row| row.starts_with(&expected)).unwrap_or_else(|| panic!("{failures}"));
        assert!(row.contains("'Text'") && row.contains(code), "{row}");
    }
    let source =
        Source { server: &server, access_id: access_id_of(&job), name: "Notes".into(), entity_type: "Notes".into() };
    assert_eq!(source.ids("$filter=Id ne 'x'"), ["c1", "ok"]);

    // Every XML output of the data source parses strictly.
    assert_well_formed(&source.text("", "$filter=Id ne 'x'"));
    assert_well_formed(&source.text("('c1')", ""));
    let download = source.download();
    assert_well_formed(&download);
    assert!(download.contains("\u{85}\u{9f}"), "XML characters are kept: {download:?}");

    // XML input: a character reference to a control character fails its row.
    let xml = download.replace("<Text>plain \t tab</Text>", "<Text>bell&#7;</Text>");
    let job = server.load_and_wait("NotesXml", "complete", "xml", xml);
    assert_eq!(job["failedEntityCount"], 1, "{job}");
    assert!(failed_rows(&server, &job).contains("U+0007"));

    // Text a response repeats (a description) is made well-formed too.
    let response = server.load("Described", "complete", "csv", "Bing Spatial Data Services, 1.0, T\nId(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\n1,1,1\n", "&output=xml&description=bell%07here");
    assert_eq!(response.status(), 201);
    let status_url = location(&response);
    server.wait_job(&status_url, &server.master_key);
    let status = server.get(&format!("{status_url}?output=xml&key={}", server.master_key)).text().unwrap();
    assert!(status.contains("bell\u{fffd}here"), "{status}");
    assert_well_formed(&status);
    // An error repeating a control character of the request (Atom queries answer errors in XML).
    let error = server.get(&source.path("", "$filter=Text%20eq%20%01%1B"));
    assert_eq!(error.status(), 400);
    let error = error.text().unwrap();
    assert!(error.contains('\u{fffd}'), "the request's control characters are echoed as U+FFFD: {error}");
    assert_well_formed(&error);
    let service_document = server.get(&format!("/REST/v1/data?key={}", server.master_key)).text().unwrap();
    assert_well_formed(&service_document);
    assert!(service_document.contains("Described"), "{service_document}");
}
