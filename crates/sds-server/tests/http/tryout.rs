//! The remaining gaps a new-user tryout of issue 9's fixes found, each over
//! HTTP with the real server: `__deleteEntity` in KML and GeoJSON (F2),
//! carriage returns and tabs in every wire XML output (F4), non-finite
//! doubles (F6), incremental loads onto a staged-only data source (F7) and
//! UTF-16 uploads (F8).

use serde_json::Value;

use crate::common::dataset;
use crate::common::server::{access_id_of, TestServer};

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

