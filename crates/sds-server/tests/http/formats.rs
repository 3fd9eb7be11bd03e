//! The other input formats over HTTP (KML/KMZ, zipped Shapefiles, GeoJSON),
//! the GeoJSON and CSV downloads, `dataLocation`, the file limits, and
//! broken files ending in clear errors with the published data unchanged.

use std::io::{Read, Write};
use std::net::TcpListener;

use serde_json::Value;

use crate::common::server::{access_id_of, link, location, shared_data, TestServer};
use crate::fixtures::*;

/// A Shapefile set from ../shared/data as the zip SDS expects.
fn shapefile_zip(folder: &str, stem: &str, replace: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for extension in ["shp", "shx", "dbf", "prj", "cpg"] {
        let name = format!("{stem}.{extension}");
        let bytes = match replace.iter().find(|(replaced, _)| *replaced == extension) {
            Some((_, bytes)) => bytes.clone(),
            None => std::fs::read(shared_data(&format!("{folder}/{name}"))).unwrap(),
        };
        writer.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        writer.write_all(&bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// Downloads the published version in a given `format`.
fn download_as(server: &TestServer, access_id: &str, name: &str, format: &str) -> String {
    let response = server.get(&format!(
        "/REST/v1/Dataflows/DataSourceDownload/{access_id}/{name}?format={format}&output=json&key={}",
        server.master_key
    ));
    assert_eq!(response.status(), 201);
    let job = server.wait_job(&location(&response), &server.master_key);
    assert_eq!(job["status"], "Completed", "{job}");
    let data = server.get(&format!("{}?key={}", link(&job, "output", Some("succeeded")), server.master_key));
    let expected_type = if format == "geojson" { "application/geo+json" } else { "text/csv" };
    assert!(data.headers()["content-type"].to_str().unwrap().starts_with(expected_type));
    data.text().unwrap()
}

fn features(geojson: &str) -> Vec<Value> {
    let collection: Value = serde_json::from_str(geojson).expect("GeoJSON");
    assert_eq!(collection["type"], "FeatureCollection");
    collection["features"].as_array().unwrap().clone()
}

fn feature<'a>(features: &'a [Value], property: &str, value: &str) -> &'a Value {
    features
        .iter()
        .find(|feature| feature["properties"][property] == value)
        .unwrap_or_else(|| panic!("no feature with {property} = {value}"))
}

#[test]
fn shapefile_countries_and_cities_load_with_geometries_and_latin1_names() {
    let server = TestServer::start();
    let countries = server.load_and_wait(
        "Countries",
        "complete",
        "shp",
        shapefile_zip("naturalearth_lowres", "naturalearth_lowres", &[]),
    );
    assert_eq!(countries["status"], "Completed", "{countries}");
    assert_eq!(countries["totalEntityCount"], 177);
    assert_eq!(countries["failedEntityCount"], 0);
    let all = features(&download_as(&server, &access_id_of(&countries), "Countries", "geojson"));
    assert_eq!(all.len(), 177);
    let ivory_coast = feature(&all, "name", "Côte d'Ivoire");
    assert_eq!(ivory_coast["geometry"]["type"], "Polygon");
    assert!(ivory_coast["properties"]["pop_est"].is_number(), "{ivory_coast}");
    let canada = feature(&all, "name", "Canada");
    assert_eq!(canada["geometry"]["type"], "MultiPolygon");

    let cities = server.load_and_wait(
        "Cities",
        "complete",
        "shp",
        shapefile_zip("naturalearth_cities", "naturalearth_cities", &[]),
    );
    assert_eq!(cities["totalEntityCount"], 243, "{cities}");
    let points = features(&download_as(&server, &access_id_of(&cities), "Cities", "geojson"));
    assert!(points.iter().all(|point| point["geometry"]["type"] == "Point"));
    let xml = server.download(&access_id_of(&cities), "Cities");
    assert!(xml.contains(r#"type="xs:anyType""#), "the geometry is an Edm.Geography column");
}

pub(crate) const SHOPS_KML: &str = r##"<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2">
  <Document>
    <Schema name="shop" id="shop"><SimpleField name="Seats" type="int"/><SimpleField name="Rating" type="double"/></Schema>
    <Placemark id="p1">
      <name>Café Zürich</name><description>Point with data</description>
      <ExtendedData><SchemaData schemaUrl="#shop"><SimpleData name="Seats">40</SimpleData><SimpleData name="Rating">4.5</SimpleData></SchemaData></ExtendedData>
      <Point><coordinates>-122.13,47.64,0</coordinates></Point>
    </Placemark>
    <Placemark id="l1"><name>Road</name><LineString><coordinates>0,0 1,1 2,1</coordinates></LineString></Placemark>
    <Placemark id="a1"><name>Park</name>
      <Polygon>
        <outerBoundaryIs><LinearRing><coordinates>0,0 4,0 4,4 0,4 0,0</coordinates></LinearRing></outerBoundaryIs>
        <innerBoundaryIs><LinearRing><coordinates>1,1 1,2 2,2 2,1 1,1</coordinates></LinearRing></innerBoundaryIs>
      </Polygon>
    </Placemark>
    <Placemark id="m1"><name>Campus</name>
      <MultiGeometry><Point><coordinates>10,10</coordinates></Point><LineString><coordinates>10,10 11,11</coordinates></LineString></MultiGeometry>
    </Placemark>
  </Document>
</kml>"##;

#[test]
fn kml_and_kmz_load_every_geometry_with_typed_data() {
    let server = TestServer::start();
    let job = server.load_and_wait("Places", "complete", "kml", SHOPS_KML);
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!(job["totalEntityCount"], 4);
    let all = features(&download_as(&server, &access_id_of(&job), "Places", "geojson"));
    let cafe = feature(&all, "Name", "Café Zürich");
    assert_eq!(cafe["geometry"]["type"], "Point");
    assert_eq!(cafe["properties"]["Seats"], 40);
    assert_eq!(cafe["properties"]["Rating"], 4.5);
    assert_eq!(cafe["properties"]["Description"], "Point with data");
    assert_eq!(feature(&all, "Name", "Road")["geometry"]["type"], "LineString");
    let park = feature(&all, "Name", "Park");
    assert_eq!(park["geometry"]["type"], "Polygon");
    assert_eq!(park["geometry"]["coordinates"].as_array().unwrap().len(), 2, "outer ring and hole");
    assert_eq!(feature(&all, "Name", "Campus")["geometry"]["type"], "GeometryCollection");

    // The same document zipped as KMZ, and gzipped as the toolkit sends it.
    for (name, body) in [("Zipped", zip("doc.kml", SHOPS_KML.as_bytes())), ("Gzipped", gzip(SHOPS_KML.as_bytes()))] {
        let job = server.load_and_wait(name, "complete", "kml", body);
        assert_eq!(job["totalEntityCount"], 4, "{name}: {job}");
    }
}

pub(crate) const SHOPS_GEOJSON: &str = r#"{"type":"FeatureCollection","features":[
  {"type":"Feature","id":"s1","properties":{"name":"Fourth Coffee, \"Main\"","seats":40,"rating":4.5,"open":true,"since":"2010-11-03T23:31:37Z"},
   "geometry":{"type":"Point","coordinates":[-122.13,47.64]}},
  {"type":"Feature","id":"s2","properties":{"name":"Line shop\nsecond line","seats":12,"rating":3,"open":false,"since":"2020-01-01T00:00:00Z"},
   "geometry":{"type":"LineString","coordinates":[[0,0],[1,1]]}},
  {"type":"Feature","id":"s3","properties":{"name":"Área","seats":null,"rating":1.25,"open":true,"since":null},
   "geometry":{"type":"Polygon","coordinates":[[[0,0],[2,0],[2,2],[0,2],[0,0]]]}}
]}"#;

#[test]
fn geojson_round_trips_and_csv_download_reuploads_unchanged() {
    let server = TestServer::start();
    let job = server.load_and_wait("Shops", "complete", "geojson", SHOPS_GEOJSON);
    assert_eq!(job["status"], "Completed", "{job}");
    let access_id = access_id_of(&job);
    let all = features(&download_as(&server, &access_id, "Shops", "geojson"));
    assert_eq!(all.len(), 3);
    let first = all.iter().find(|feature| feature["id"] == "s1").unwrap();
    assert_eq!(first["properties"]["seats"], 40);
    assert_eq!(first["properties"]["rating"], 4.5);
    assert_eq!(first["properties"]["open"], true);
    assert_eq!(first["properties"]["name"], "Fourth Coffee, \"Main\"");
    assert_eq!(first["geometry"]["coordinates"], serde_json::json!([-122.13, 47.64]));
    let third = all.iter().find(|feature| feature["id"] == "s3").unwrap();
    assert_eq!(third["geometry"]["type"], "Polygon");
    assert_eq!(third["properties"]["name"], "Área");

    let csv = download_as(&server, &access_id, "Shops", "csv");
    assert!(csv.starts_with("Bing Spatial Data Services, 1.0,"), "{csv}");
    let copy = server.load_and_wait("Copy", "complete", "csv", csv.clone());
    assert_eq!(copy["status"], "Completed", "{copy}");
    assert_eq!(copy["failedEntityCount"], 0);
    assert_eq!(download_as(&server, &access_id_of(&copy), "Copy", "csv"), csv, "CSV re-uploads unchanged");

    // A property as the entity ID.
    let by_code = SHOPS_GEOJSON.replace("\"name\":", "\"code\":\"C-\",\"name\":");
    let by_code = by_code
        .replacen("\"code\":\"C-\"", "\"code\":\"C-1\"", 1)
        .replacen("\"code\":\"C-\"", "\"code\":\"C-2\"", 1)
        .replacen("\"code\":\"C-\"", "\"code\":\"C-3\"", 1);
    let response = server.load("Coded", "complete", "geojson", by_code, "&idProperty=code");
    let job = server.wait_job(&location(&response), &server.master_key);
    assert_eq!(job["status"], "Completed", "{job}");
    let ids: Vec<Value> = features(&download_as(&server, &access_id_of(&job), "Coded", "geojson"))
        .iter()
        .map(|feature| feature["id"].clone())
        .collect();
    assert_eq!(ids, ["C-1", "C-2", "C-3"]);
    let bad_format = server
        .get(&format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/Shops?format=shp&key={}", server.master_key));
    assert_eq!(bad_format.status(), 400);
}

#[test]
fn file_limits_are_enforced_with_clear_errors() {
    let server = TestServer::start_with(&["--max-polygons-per-file", "10", "--max-points-per-polygon", "5000"]);
    let countries = shapefile_zip("naturalearth_lowres", "naturalearth_lowres", &[]);
    let job = server.load_and_wait("Countries", "complete", "shp", countries);
    assert_eq!(job["status"], "Aborted", "{job}");
    assert!(job["errorMessage"].as_str().unwrap().contains("10"), "{job}");
    let server = TestServer::start_with(&["--max-points-per-polygon", "20"]);
    let job = server.load_and_wait(
        "Countries",
        "complete",
        "shp",
        shapefile_zip("naturalearth_lowres", "naturalearth_lowres", &[]),
    );
    assert_eq!(job["status"], "Aborted", "{job}");
    assert!(job["errorMessage"].as_str().unwrap().contains("20"), "{job}");
}

#[test]
fn broken_files_end_in_clear_errors_and_change_nothing() {
    let server = TestServer::start();
    let good = server.load_and_wait("Places", "complete", "kml", SHOPS_KML);
    let access_id = access_id_of(&good);
    let before = server.download(&access_id, "Places");

    let shp = std::fs::read(shared_data("naturalearth_cities/naturalearth_cities.shp")).unwrap();
    let mut dbf = std::fs::read(shared_data("naturalearth_cities/naturalearth_cities.dbf")).unwrap();
    dbf[4..8].copy_from_slice(&500u32.to_le_bytes());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("shp", shapefile_zip("naturalearth_cities", "naturalearth_cities", &[("shp", shp[..shp.len() / 2].to_vec())])),
        ("shp", shapefile_zip("naturalearth_cities", "naturalearth_cities", &[("dbf", dbf)])),
        ("shp", shapefile_zip("naturalearth_cities", "naturalearth_cities", &[("prj", b"PROJCS[\"Unknown\",GEOGCS[\"Mars 2000\",DATUM[\"D_Mars_2000\",SPHEROID[\"Mars_2000_IAU_IAG\",3396190.0,169.8944472]],PRIMEM[\"Reference_Meridian\",0.0],UNIT[\"Degree\",0.0174532925199433]],PROJECTION[\"Mystery\"],UNIT[\"Meter\",1.0]]".to_vec())])),
        ("kml", SHOPS_KML.replace("</Placemark>\n    <Placemark id=\"l1\">", "\n    <Placemark id=\"l1\">").into_bytes()),
        ("geojson", br#"{"type":"FeatureCollection","features":[{"type":"Feature","id":"x","properties":{},"geometry":null}]}"#.to_vec()),
        ("geojson", b"{\"type\":\"FeatureCollection\",\"features\":[".to_vec()),
    ];
    for (input, body) in cases {
        let job = server.load_and_wait("Places", "complete", input, body);
        assert_eq!(job["status"], "Aborted", "{input}: {job}");
        let message = job["errorMessage"].as_str().unwrap();
        assert!(message.len() > 10, "a message that names the problem: {message}");
    }
    assert_eq!(server.download(&access_id, "Places"), before, "the published data is unchanged");
}

/// A stand-in for a third-party file host, on loopback, for `dataLocation`.
fn file_host(routes: Vec<(&'static str, String, Vec<u8>)>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = Vec::new();
            let mut byte = [0u8; 1];
            while !request.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                request.push(byte[0]);
            }
            let text = String::from_utf8_lossy(&request);
            let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
            let response = match routes.iter().find(|(route, _, _)| *route == path) {
                Some((_, head, body)) => [
                    format!("{head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).into_bytes(),
                    body.clone(),
                ]
                .concat(),
                None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
            };
            let _ = stream.write_all(&response);
        }
    });
    port
}

#[test]
fn data_location_fetches_within_the_rules() {
    let mut routes = vec![
        ("/shops.csv", "HTTP/1.1 200 OK".to_owned(), SHOPS_CSV.as_bytes().to_vec()),
        (
            "/shops.csv.gz",
            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream".to_owned(),
            gzip(SHOPS_CSV.as_bytes()),
        ),
        ("/big.csv", "HTTP/1.1 200 OK".to_owned(), many_shops_csv(5_000).into_bytes()),
    ];
    for hop in 0..7 {
        routes.push((
            Box::leak(format!("/hop{hop}").into_boxed_str()),
            format!("HTTP/1.1 302 Found\r\nLocation: /hop{}", hop + 1),
            Vec::new(),
        ));
    }
    routes.push(("/hop7", "HTTP/1.1 200 OK".to_owned(), SHOPS_CSV.as_bytes().to_vec()));
    let port = file_host(routes);
    let url = |path: &str| format!("http://127.0.0.1:{port}{path}");

    // By default, loopback and private addresses are never fetched.
    let strict = TestServer::start();
    let job = load_from(&strict, &url("/shops.csv"));
    assert_eq!(job["status"], "Aborted", "{job}");
    assert!(job["errorMessage"].as_str().unwrap().contains("loopback, private or reserved"), "{job}");
    let ftp = strict.load("Shops", "complete", "csv", Vec::new(), "&dataLocation=ftp://example.com/x.csv");
    assert_eq!(ftp.status(), 400);
    let listed = TestServer::start_with(&["--data-location-hosts", "files.example.com"]);
    let refused = listed.load("Shops", "complete", "csv", Vec::new(), &format!("&dataLocation={}", url("/shops.csv")));
    assert_eq!(refused.status(), 400, "hosts outside the allow-list are refused at once");

    let relaxed = TestServer::start_with(&["--data-location-allow-private", "true", "--max-upload-bytes", "100000"]);
    let job = load_from(&relaxed, &url("/shops.csv"));
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!(job["totalEntityCount"], 3);
    assert_eq!(load_from(&relaxed, &url("/shops.csv.gz"))["status"], "Completed");
    assert_eq!(load_from(&relaxed, &url("/hop3"))["status"], "Completed", "up to five redirects");
    let too_many = load_from(&relaxed, &url("/hop0"));
    assert!(too_many["errorMessage"].as_str().unwrap().contains("redirects more than 5"), "{too_many}");
    let missing = load_from(&relaxed, &url("/nope.csv"));
    assert!(missing["errorMessage"].as_str().unwrap().contains("404"), "{missing}");
    let big = load_from(&relaxed, &url("/big.csv"));
    assert!(big["errorMessage"].as_str().unwrap().contains("larger than the limit of 100000 bytes"), "{big}");
    let rows = crate::common::dataset::parse(&relaxed.download(&access_id_of(&job), "Shops")).rows.len();
    assert_eq!(rows, 3, "failed fetches leave the published data alone");
}

fn load_from(server: &TestServer, url: &str) -> Value {
    let response = server.load("Shops", "complete", "csv", Vec::new(), &format!("&dataLocation={url}"));
    assert_eq!(response.status(), 201, "{}", response.text().unwrap_or_default());
    let created = response.headers()["location"].to_str().unwrap().to_owned();
    server.wait_job(&created, &server.master_key)
}
