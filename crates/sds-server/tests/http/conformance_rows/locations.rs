//! Findings 1 (location rules, every input format, complete and
//! incremental) and 2 (`__deleteEntity` declared with any type).

use serde_json::Value;

use super::{failed_rows, schema_page_text, schema_page_xml, Source};
use crate::common::dataset;
use crate::common::server::{access_id_of, location, TestServer};

#[test]
fn finding_1_lat_lon_row_with_empty_geography_loads() {
    let server = TestServer::start();
    let inputs = [
        ("SampleXml", "xml", schema_page_xml()),
        ("SampleCsv", "csv", schema_page_text(',')),
        ("SampleTab", "tab", schema_page_text('\t')),
        ("SamplePipe", "pipe", schema_page_text('|')),
    ];
    for (name, input, body) in inputs {
        let job = server.load_and_wait(name, "complete", input, body);
        assert_eq!(job["status"], "Completed", "{input}: {job}");
        assert_eq!(
            (job["processedEntityCount"].clone(), job["failedEntityCount"].clone()),
            (2.into(), 0.into()),
            "{input}: {job}"
        );
        let source = Source {
            server: &server,
            access_id: access_id_of(&job),
            name: name.into(),
            entity_type: "FourthCoffeeShops".into(),
        };
        let second = source.entity("-9002");
        assert_eq!(second["StoreLayout"], Value::Null, "{input}: {second}");
        assert!(second["Latitude"].as_f64().unwrap() > 47.0, "{input}: the given point is kept: {second}");
        let atom = source.text("('-9002')", "");
        assert!(atom.contains(r#"<d:StoreLayout m:type="Edm.Geography" m:null="true"/>"#), "{input}: {atom}");
        let first = source.entity("-9001");
        assert!(first["StoreLayout"].as_str().unwrap().starts_with("POLYGON"), "{input}: {first}");
        // Both are found where they are: the second by its point.
        assert_eq!(source.ids("spatialFilter=nearby(56.1535,10.2134,5)"), ["-9001"], "{input}");
        let near_second = if input == "xml" { "nearby(47.6815,-122.2087,1)" } else { "nearby(57.0488,9.9217,1)" };
        assert_eq!(source.ids(&format!("spatialFilter={near_second}")), ["-9002"], "{input}");
    }
}

#[test]
fn finding_1_every_location_combination_in_complete_and_incremental_loads() {
    let server = TestServer::start();
    let header = "Bing Spatial Data Services, 1.0, Spots\n\
Id(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double),Area(Edm.Geography)";
    let square = "\"POLYGON((20 40, 22 40, 22 42, 20 42, 20 40))\"";
    let rows = [
        format!("both,10,11,{square}"),
        "point,12,13,".to_owned(),
        format!("shape,,,{square}"),
        "neither,,,".to_owned(),
        format!("half,14,,{square}"),
    ];
    let csv = format!("{header}\n{}\n", rows.join("\n"));
    let job = server.load_and_wait("Spots", "complete", "csv", csv);
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!((job["processedEntityCount"].clone(), job["failedEntityCount"].clone()), (5.into(), 2.into()));
    let failures = failed_rows(&server, &job);
    assert!(failures.contains("line 6") && failures.contains("no location"), "{failures}");
    assert!(
        failures.contains("line 7") && failures.contains("Latitude and Longitude must be given together"),
        "{failures}"
    );
    let source =
        Source { server: &server, access_id: access_id_of(&job), name: "Spots".into(), entity_type: "Spots".into() };
    assert_eq!(source.ids("$filter=Id ne 'x'"), ["both", "point", "shape"]);
    let shape = source.entity("shape");
    assert_eq!(
        (shape["Latitude"].as_f64(), shape["Longitude"].as_f64()),
        (Some(41.0), Some(21.0)),
        "centroid: {shape}"
    );
    let both = source.entity("both");
    assert_eq!(
        (both["Latitude"].as_f64(), both["Longitude"].as_f64()),
        (Some(10.0), Some(11.0)),
        "given point kept: {both}"
    );

    // Incremental, with the same rules, and with __deleteEntity.
    let header = "Bing Spatial Data Services, 1.0, Spots\n\
Id(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double),Area(Edm.Geography),__deleteEntity(Edm.Boolean)";
    let csv = format!("{header}\nshape,30,31,,\nnew_shape,,,{square},\nnew_neither,,,,0\nboth,,,,1\n");
    let response = server.load("Spots", "incremental", "csv", csv, &format!("&accessId={}", source.access_id));
    assert_eq!(response.status(), 201);
    let job = server.wait_job(&location(&response), &server.master_key);
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!(job["failedEntityCount"], 1, "{job}");
    let failures = failed_rows(&server, &job);
    assert!(failures.contains("line 5, entity 'new_neither'") && failures.contains("no location"), "{failures}");
    assert_eq!(source.ids("$filter=Id ne 'x'"), ["new_shape", "point", "shape"]);
    let replaced = source.entity("shape");
    assert_eq!((replaced["Latitude"].as_f64(), replaced["Area"].clone()), (Some(30.0), Value::Null), "{replaced}");
}

#[test]
fn finding_1_geography_only_formats_need_a_geometry_per_row() {
    // KML and GeoJSON never declare Latitude/Longitude: every entity is
    // located by its geometry, and one without fails alone.
    let server = TestServer::start();
    let kml = r#"<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Placemark id="p1"><name>Pier</name><Point><coordinates>12.5,55.6</coordinates></Point></Placemark>
<Placemark id="p2"><name>Nowhere</name></Placemark>
</Document></kml>"#;
    let geojson = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","id":"g1","properties":{"Name":"Pier"},"geometry":{"type":"Point","coordinates":[12.5,55.6]}},
{"type":"Feature","id":"g2","properties":{"Name":"Nowhere"},"geometry":null}]}"#;
    for (name, input, body, failed_id) in [("Kml", "kml", kml, "p2"), ("GeoJson", "geojson", geojson, "g2")] {
        let job = server.load_and_wait(name, "complete", input, body);
        assert_eq!(job["status"], "Completed", "{input}: {job}");
        assert_eq!(job["failedEntityCount"], 1, "{input}: {job}");
        let failures = failed_rows(&server, &job);
        assert!(failures.contains("geometry"), "{input}: {failures}");
        let rows = dataset::parse(&server.download(&access_id_of(&job), name)).by_id();
        assert_eq!(rows.len(), 1, "{input}");
        assert!(!rows.contains_key(failed_id), "{input}");
    }
}

#[test]
fn finding_2_delete_entity_declared_as_string_long_or_boolean() {
    let server = TestServer::start();
    let header = |marker: &str| {
        format!(
            "Bing Spatial Data Services, 1.0, Stops\nId(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double),__deleteEntity({marker})"
        )
    };
    let initial = "Bing Spatial Data Services, 1.0, Stops\nId(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\n\
a,A,1,1\nb,B,1,1\nc,C,1,1\nd,D,1,1\ne,E,1,1\nf,F,1,1\n";
    let source = Source::load(&server, "Stops", "csv", initial, "Stops");
    let incremental = |body: String, input: &str| {
        let response = server.load("Stops", "incremental", input, body, &format!("&accessId={}", source.access_id));
        assert_eq!(response.status(), 201);
        let job = server.wait_job(&location(&response), &server.master_key);
        assert_eq!(job["status"], "Completed", "{job}");
        assert_eq!(job["failedEntityCount"], 0, "{job}");
    };
    incremental(format!("{}\na,,,,1\nb,B2,2,2,0\n", header("Edm.String")), "csv");
    assert_eq!(source.ids("$filter=Id ne 'x'"), ["b", "c", "d", "e", "f"]);
    assert_eq!(source.entity("b")["Name"], "B2");
    incremental(format!("{}\nc,,,,True\nd,D2,2,2,\n", header("Edm.Int64")), "csv");
    assert_eq!(source.ids("$filter=Id ne 'x'"), ["b", "d", "e", "f"]);
    incremental(format!("{}\ne,,,,true\nf,F2,3,3,false\n", header("Edm.Boolean")), "csv");
    assert_eq!(source.ids("$filter=Id ne 'x'"), ["b", "d", "f"]);
    // The XML form, as the toolkit writes a marker it holds as a string.
    let xml = r#"<?xml version="1.0" encoding="utf-8"?>
<StopsData><xs:schema id="StopsSet" xmlns="" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:msdata="urn:schemas-microsoft-com:xml-msdata">
<xs:element name="StopsSet" msdata:IsDataSet="true" msdata:UseCurrentLocale="true"><xs:complexType><xs:choice minOccurs="0" maxOccurs="unbounded">
<xs:element name="Stops"><xs:complexType><xs:sequence>
<xs:element name="Id" type="xs:string" minOccurs="0" /><xs:element name="Name" type="xs:string" minOccurs="0" />
<xs:element name="Latitude" type="xs:double" minOccurs="0" /><xs:element name="Longitude" type="xs:double" minOccurs="0" />
<xs:element name="__deleteEntity" type="xs:string" minOccurs="0" />
</xs:sequence></xs:complexType></xs:element></xs:choice></xs:complexType>
<xs:unique name="Constraint1" msdata:PrimaryKey="true"><xs:selector xpath=".//Stops" /><xs:field xpath="Id" /></xs:unique></xs:element></xs:schema>
<Stops><Id>d</Id><__deleteEntity>1</__deleteEntity></Stops>
<Stops><Id>g</Id><Name>G</Name><Latitude>4</Latitude><Longitude>4</Longitude><__deleteEntity>0</__deleteEntity></Stops>
</StopsData>"#;
    incremental(xml.to_owned(), "xml");
    assert_eq!(source.ids("$filter=Id ne 'x'"), ["b", "f", "g"]);
}

/// A zipped point Shapefile (`.shp`, `.shx`, `.dbf`) written by hand after
/// the ESRI Shapefile Technical Description: `None` is a null shape
/// (shape type 0); each record has one character field `NAME`.
fn point_shapefile(records: &[(Option<(f64, f64)>, &str)]) -> Vec<u8> {
    use std::io::Write;
    let header = |words: usize| {
        let mut bytes = vec![0u8; 100];
        bytes[..4].copy_from_slice(&9994i32.to_be_bytes());
        bytes[24..28].copy_from_slice(&(words as i32).to_be_bytes());
        bytes[28..32].copy_from_slice(&1000i32.to_le_bytes());
        bytes[32..36].copy_from_slice(&1i32.to_le_bytes());
        bytes
    };
    let (mut shp_body, mut shx_body) = (Vec::new(), Vec::new());
    for (number, (point, _)) in records.iter().enumerate() {
        let mut content = Vec::new();
        match point {
            Some((x, y)) => {
                content.extend(1i32.to_le_bytes());
                content.extend(x.to_le_bytes());
                content.extend(y.to_le_bytes());
            }
            None => content.extend(0i32.to_le_bytes()),
        }
        shx_body.extend((((100 + shp_body.len()) / 2) as i32).to_be_bytes());
        shx_body.extend(((content.len() / 2) as i32).to_be_bytes());
        shp_body.extend((number as i32 + 1).to_be_bytes());
        shp_body.extend(((content.len() / 2) as i32).to_be_bytes());
        shp_body.extend(content);
    }
    let mut shp = header((100 + shp_body.len()) / 2);
    shp.extend(shp_body);
    let mut shx = header((100 + shx_body.len()) / 2);
    shx.extend(shx_body);
    let mut dbf = vec![0u8; 32];
    dbf[0] = 3;
    dbf[4..8].copy_from_slice(&(records.len() as u32).to_le_bytes());
    dbf[8..10].copy_from_slice(&65u16.to_le_bytes());
    dbf[10..12].copy_from_slice(&21u16.to_le_bytes());
    let mut field = [0u8; 32];
    field[..4].copy_from_slice(b"NAME");
    field[11] = b'C';
    field[16] = 20;
    dbf.extend(field);
    dbf.push(0x0D);
    for (_, name) in records {
        dbf.push(b' ');
        let mut cell = name.as_bytes().to_vec();
        cell.resize(20, b' ');
        dbf.extend(cell);
    }
    dbf.push(0x1A);
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in [("stops.shp", shp), ("stops.shx", shx), ("stops.dbf", dbf)] {
        writer.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        writer.write_all(&bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

#[test]
fn finding_1_shapefile_records_need_a_shape() {
    // A Shapefile declares no Latitude/Longitude either: a null shape fails
    // its record alone; the others are located by their points.
    let server = TestServer::start();
    let body = point_shapefile(&[(Some((12.5, 55.6)), "Pier"), (None, "Nowhere"), (Some((12.6, 55.7)), "")]);
    let job = server.load_and_wait("Stops", "complete", "shp", body);
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!((job["processedEntityCount"].clone(), job["failedEntityCount"].clone()), (3.into(), 1.into()));
    let failures = failed_rows(&server, &job);
    assert!(failures.contains("line 2") && failures.contains("null shape"), "{failures}");
    let source =
        Source { server: &server, access_id: access_id_of(&job), name: "Stops".into(), entity_type: "Stops".into() };
    assert_eq!(source.ids("spatialFilter=nearby(55.6,12.5,1)"), ["1"]);
    let third = source.entity("3");
    assert_eq!((third["Latitude"].as_f64(), third["Longitude"].as_f64()), (Some(55.7), Some(12.6)), "{third}");
    assert_eq!(third["NAME"], "", "a blank character field is the empty string: {third}");
}
