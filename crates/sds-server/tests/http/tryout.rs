//! The remaining gaps a new-user tryout of issue 9's fixes found, each over
//! HTTP with the real server: `__deleteEntity` in KML and GeoJSON (F2),
//! carriage returns and tabs in every wire XML output (F4), non-finite
//! doubles (F6), incremental loads onto a staged-only data source (F7) and
//! UTF-16 uploads (F8).

use serde_json::Value;

use crate::common::dataset;
use crate::common::server::{access_id_of, link, JsonBody, TestServer};

fn ids(server: &TestServer, job: &Value, name: &str) -> Vec<String> {
    dataset::parse(&server.download(&access_id_of(job), name)).by_id().into_keys().collect()
}

/// F2: a KML incremental load deletes by `__deleteEntity`, declared as a
/// SimpleField (read through SimpleData) or given as an ExtendedData `Data`.
#[test]
fn tryout_f2_kml_incremental_load_deletes_by_delete_entity() {
    let server = TestServer::start();
    let placemark = |id: &str, x: u32| {
        format!(r#"<Placemark id="{id}"><name>{id}</name><Point><coordinates>{x},1</coordinates></Point></Placemark>"#)
    };
    let all: String = ["a", "b", "c"].iter().enumerate().map(|(x, id)| placemark(id, x as u32)).collect();
    let complete = format!(r#"<kml xmlns="http://www.opengis.net/kml/2.2"><Document>{all}</Document></kml>"#);
    let job = server.load_and_wait("Stops", "complete", "kml", complete);
    assert_eq!(job["status"], "Completed", "{job}");

    let simple = r##"<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
  <Schema name="S" id="S"><SimpleField type="bool" name="__deleteEntity"/></Schema>
  <Placemark id="a"><ExtendedData><SchemaData schemaUrl="#S"><SimpleData name="__deleteEntity">1</SimpleData></SchemaData></ExtendedData></Placemark>
</Document></kml>"##;
    let job = server.load_and_wait("Stops", "incremental", "kml", simple);
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!(ids(&server, &job, "Stops"), ["b", "c"]);

    let data = r#"<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
  <Placemark id="b"><ExtendedData><Data name="__deleteEntity"><value>true</value></Data></ExtendedData></Placemark>
  <Placemark id="d"><name>d</name><ExtendedData><Data name="__deleteEntity"><value>false</value></Data></ExtendedData><Point><coordinates>5,1</coordinates></Point></Placemark>
</Document></kml>"#;
    let job = server.load_and_wait("Stops", "incremental", "kml", data);
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!(ids(&server, &job, "Stops"), ["c", "d"]);
}

/// F2: a GeoJSON incremental load deletes by a `__deleteEntity` property.
#[test]
fn tryout_f2_geojson_incremental_load_deletes_by_delete_entity() {
    let server = TestServer::start();
    let complete = r#"{"type":"FeatureCollection","features":[
 {"type":"Feature","id":"a","geometry":{"type":"Point","coordinates":[0,1]},"properties":{"label":"A"}},
 {"type":"Feature","id":"b","geometry":{"type":"Point","coordinates":[1,1]},"properties":{"label":"B"}}]}"#;
    let job = server.load_and_wait("Stops", "complete", "geojson", complete);
    assert_eq!(job["status"], "Completed", "{job}");
    let incremental = r#"{"type":"FeatureCollection","features":[
 {"type":"Feature","id":"a","geometry":null,"properties":{"label":null,"__deleteEntity":true}},
 {"type":"Feature","id":"c","geometry":{"type":"Point","coordinates":[2,1]},"properties":{"label":"C","__deleteEntity":false}}]}"#;
    let job = server.load_and_wait("Stops", "incremental", "geojson", incremental);
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!(ids(&server, &job, "Stops"), ["b", "c"]);
}

/// An XML DataSet upload of one `Shops` entity `s1` whose `Note` is `note`
/// (already escaped) and whose `Score` is `score`.
fn shops_xml(note: &str, score: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<ShopData>
  <xs:schema id="ShopSet" xmlns="" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:msdata="urn:schemas-microsoft-com:xml-msdata">
    <xs:element name="ShopSet" msdata:IsDataSet="true">
      <xs:complexType><xs:choice minOccurs="0" maxOccurs="unbounded">
        <xs:element name="Shops"><xs:complexType><xs:sequence>
          <xs:element name="EntityID" type="xs:string" />
          <xs:element name="Note" type="xs:string" minOccurs="0" />
          <xs:element name="Score" type="xs:double" minOccurs="0" />
          <xs:element name="Latitude" type="xs:double" minOccurs="0" />
          <xs:element name="Longitude" type="xs:double" minOccurs="0" />
        </xs:sequence></xs:complexType></xs:element>
      </xs:choice></xs:complexType>
      <xs:unique name="Constraint1" msdata:PrimaryKey="true"><xs:selector xpath=".//Shops" /><xs:field xpath="EntityID" /></xs:unique>
    </xs:element>
  </xs:schema>
  <Shops><EntityID>s1</EntityID><Note>{note}</Note><Score>{score}</Score><Latitude>1</Latitude><Longitude>2</Longitude></Shops>
  <Shops><EntityID>s2</EntityID><Note>plain</Note><Score>1.5</Score><Latitude>1</Latitude><Longitude>2</Longitude></Shops>
</ShopData>
"#
    )
}

/// F4: a CR (and TAB, LF) in a string value comes back from Atom as a
/// character reference, so a parser reads the value byte-exact.
#[test]
fn tryout_f4_atom_keeps_carriage_returns() {
    let server = TestServer::start();
    let job = server.load_and_wait("Shops", "complete", "xml", shops_xml("a&#13;&#10;b&#13;c\td", "2"));
    assert_eq!(job["status"], "Completed", "{job}");
    let base = format!("/REST/v1/data/{}/Shops/Shops", access_id_of(&job));
    let key = &server.master_key;
    let json: Value = server.get(&format!("{base}('s1')?$format=json&key={key}")).json_value();
    assert_eq!(json["d"]["Note"], "a\r\nb\rc\td");
    for path in [format!("{base}('s1')?key={key}"), format!("{base}?$filter=EntityID eq 's1'&key={key}")] {
        let atom = server.get(&path).text().unwrap();
        assert!(atom.contains("<d:Note>a&#13;&#10;b&#13;c&#9;d</d:Note>"), "{atom}");
        assert!(!atom.contains('\r'), "{atom:?}");
    }
}

/// F6: a non-finite Edm.Double, however spelled, fails its row with a
/// reason naming the value and the property; the finite rows load.
#[test]
fn tryout_f6_non_finite_doubles_fail_their_rows() {
    let server = TestServer::start();
    let csv = "Bing Spatial Data Services, 1.0, Shops\n\
EntityID(Edm.String,primaryKey),Score(Edm.Double),Latitude(Edm.Double),Longitude(Edm.Double)\n\
nan,NaN,1,2\ninf,INF,1,2\nminus,-INF,1,2\nhuge,1e309,1,2\nword,Infinity,1,2\nfine,1.5,1,2\n";
    let job = server.load_and_wait("Shops", "complete", "csv", csv);
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!(job["failedEntityCount"], 5, "{job}");
    let failed =
        server.get(&format!("{}?key={}", link(&job, "output", Some("failed")), server.master_key)).text().unwrap();
    for value in ["NaN", "INF", "-INF", "1e309"] {
        let reason = format!("property 'Score': '{value}' is not a finite Edm.Double");
        assert!(failed.contains(&reason), "{reason} in {failed}");
    }
    assert!(failed.contains("property 'Score': 'Infinity' is not a valid Edm.Double"), "{failed}");
    assert_eq!(ids(&server, &job, "Shops"), ["fine"]);

    let job = server.load_and_wait("Xml", "complete", "xml", shops_xml("n", "NaN"));
    assert_eq!(job["failedEntityCount"], 1, "{job}");
    assert_eq!(ids(&server, &job, "Xml"), ["s2"]);
}

/// F7: an incremental or incrementalStaging load onto a data source that
/// has only a staged version is refused at submit with a 400 naming the
/// reason; the staged version is untouched and, once published, accepts it.
#[test]
fn tryout_f7_incremental_onto_a_staged_only_source_is_refused_at_submit() {
    let server = TestServer::start();
    let csv = "Bing Spatial Data Services, 1.0, Shops\n\
EntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\n\
a,1,2\n";
    let staged = server.load_and_wait("Shops", "completeStaging", "csv", csv);
    assert_eq!(staged["status"], "Completed", "{staged}");
    let more = csv.replace("a,1,2", "b,1,2");
    for operation in ["incremental", "incrementalStaging"] {
        let response = server.load("Shops", operation, "csv", more.clone(), "");
        assert_eq!(response.status(), 400, "{operation}");
        let body: Value = response.json_value();
        assert!(
            body["errorDetails"].to_string().contains("data source 'Shops' has no published version"),
            "{operation}: {body}"
        );
    }

    let access_id = access_id_of(&staged);
    let response =
        server.get(&format!("/REST/v1/data/{access_id}/Shops/$commit?output=json&key={}", server.master_key));
    assert_eq!(response.status(), 202, "publish");
    let published = server.wait_job(&crate::common::server::location(&response), &server.master_key);
    assert_eq!(published["status"], "Completed", "{published}");
    let job = server.load_and_wait("Shops", "incremental", "csv", more);
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!(ids(&server, &job, "Shops"), ["a", "b"]);
}

fn utf16le(text: &str, bom: bool) -> Vec<u8> {
    let units = bom.then_some(0xFEFF).into_iter().chain(text.encode_utf16());
    units.flat_map(u16::to_le_bytes).collect()
}

/// F8: a UTF-16 upload (XML with or without a BOM, CSV with one) aborts
/// saying it is UTF-16, as Latin-1 input gets a clear message.
#[test]
fn tryout_f8_utf16_uploads_are_named_as_such() {
    let server = TestServer::start();
    let xml = shops_xml("n", "1").replace("encoding=\"UTF-8\"", "encoding=\"utf-16\"");
    let csv = "Bing Spatial Data Services, 1.0, Shops\r\n\
EntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\r\na,1,2\r\n";
    for (input, body) in [("xml", utf16le(&xml, true)), ("xml", utf16le(&xml, false)), ("csv", utf16le(csv, true))] {
        let job = server.load_and_wait("Shops", "complete", input, body);
        assert_eq!(job["status"], "Aborted", "{job}");
        assert_eq!(job["errorMessage"], "the document is UTF-16; SDS accepts UTF-8 only", "{input}: {job}");
    }
    let job = server.load_and_wait("Shops", "complete", "csv", csv);
    assert_eq!(job["status"], "Completed", "{job}");
}
