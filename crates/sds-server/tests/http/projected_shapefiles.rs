//! Issue 9 finding 6 over HTTP: a zipped point shapefile whose `.prj` is
//! in the ESRI dialect (NAD83 / Washington North in US survey feet, as
//! ArcGIS writes it) loads through the real server with its points where
//! PROJ puts them; ESRI `.prj` files that cannot be converted end the job
//! with a message naming the projection or the datum.

use std::io::Write;
use std::path::PathBuf;

use serde_json::Value;

use crate::common::server::{access_id_of, link, location, TestServer};

/// 1e-8 degree (1.1 mm at most): see the same bound in sds-formats'
/// `shapefile/prj/tests.rs`, whose fixtures these are. The points go
/// through the store and the GeoJSON writer, which keep shortest
/// round-trip numbers, so nothing is lost on the way.
const TOLERANCE_DEGREES: f64 = 1e-8;

fn prj_fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sds-formats/tests/data/prj")
}

/// `(x, y, lon, lat)` rows of one case of the fixtures' `points.csv`
/// (computed with PROJ by `generate.py` there).
fn fixture_points(case: &str) -> Vec<[f64; 4]> {
    let csv = std::fs::read_to_string(prj_fixtures().join("points.csv")).unwrap();
    csv.lines()
        .skip(1)
        .map(|line| line.split(',').collect::<Vec<_>>())
        .filter(|cells| cells[0] == case)
        .map(|cells| std::array::from_fn(|index| cells[index + 1].parse::<f64>().unwrap()))
        .collect()
}

fn shp_header(file_words: usize, points: &[[f64; 4]]) -> Vec<u8> {
    let mut header = vec![0u8; 100];
    header[..4].copy_from_slice(&9994i32.to_be_bytes());
    header[24..28].copy_from_slice(&(file_words as i32).to_be_bytes());
    header[28..32].copy_from_slice(&1000i32.to_le_bytes());
    header[32..36].copy_from_slice(&1i32.to_le_bytes());
    let fold = |index: usize, pick: fn(f64, f64) -> f64| points.iter().map(|p| p[index]).reduce(pick).unwrap_or(0.0);
    for (slot, value) in [fold(0, f64::min), fold(1, f64::min), fold(0, f64::max), fold(1, f64::max)].iter().enumerate()
    {
        header[36 + 8 * slot..44 + 8 * slot].copy_from_slice(&value.to_le_bytes());
    }
    header
}

/// A point shapefile (`.shp`, `.shx`, `.dbf` with a NAME column, `.prj`)
/// zipped as SDS expects it.
fn point_shapefile_zip(points: &[[f64; 4]], prj: &str) -> Vec<u8> {
    // Each point record: 8 header bytes and 20 content bytes (10 words).
    let mut shp = shp_header(50 + 14 * points.len(), points);
    let mut shx = shp_header(50 + 4 * points.len(), points);
    for (index, point) in points.iter().enumerate() {
        shx.extend(((50 + 14 * index) as i32).to_be_bytes());
        shx.extend(10i32.to_be_bytes());
        shp.extend((index as i32 + 1).to_be_bytes());
        shp.extend(10i32.to_be_bytes());
        shp.extend(1i32.to_le_bytes());
        shp.extend(point[0].to_le_bytes());
        shp.extend(point[1].to_le_bytes());
    }
    let mut dbf = vec![3u8, 126, 11, 30];
    dbf.extend((points.len() as u32).to_le_bytes());
    dbf.extend(65u16.to_le_bytes()); // 32 + one 32-byte field + 1
    dbf.extend(11u16.to_le_bytes()); // deletion flag + 10
    dbf.extend([0u8; 20]);
    let mut field = [0u8; 32];
    field[..4].copy_from_slice(b"NAME");
    field[11] = b'C';
    field[16] = 10;
    dbf.extend(field);
    dbf.push(0x0D);
    for index in 0..points.len() {
        dbf.push(b' ');
        dbf.extend(format!("{:<10}", format!("P{}", index + 1)).bytes());
    }
    dbf.push(0x1A);

    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in
        [("sites.shp", shp), ("sites.shx", shx), ("sites.dbf", dbf), ("sites.prj", prj.as_bytes().to_vec())]
    {
        writer.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        writer.write_all(&bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn geojson_features(server: &TestServer, access_id: &str, name: &str) -> Vec<Value> {
    let response = server.get(&format!(
        "/REST/v1/Dataflows/DataSourceDownload/{access_id}/{name}?format=geojson&output=json&key={}",
        server.master_key
    ));
    assert_eq!(response.status(), 201);
    let job = server.wait_job(&location(&response), &server.master_key);
    assert_eq!(job["status"], "Completed", "{job}");
    let data = server.get(&format!("{}?key={}", link(&job, "output", Some("succeeded")), server.master_key));
    let collection: Value = serde_json::from_str(&data.text().unwrap()).expect("GeoJSON");
    collection["features"].as_array().unwrap().clone()
}

#[test]
fn finding_6_esri_lambert_conformal_conic_state_plane_loads_over_http() {
    let server = TestServer::start();
    let points = fixture_points("wa_north_ftus_lcc_2sp");
    assert_eq!(points.len(), 4);
    let prj = std::fs::read_to_string(prj_fixtures().join("wa_north_ftus_lcc_2sp.prj")).unwrap();
    assert!(prj.contains(r#"PROJECTION["Lambert_Conformal_Conic"]"#) && prj.contains(r#"UNIT["Foot_US""#));
    let job = server.load_and_wait("Sites", "complete", "shp", point_shapefile_zip(&points, &prj));
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!(job["totalEntityCount"], 4, "{job}");
    assert_eq!(job["failedEntityCount"], 0, "{job}");

    let features = geojson_features(&server, &access_id_of(&job), "Sites");
    assert_eq!(features.len(), 4);
    for (index, [x, y, lon, lat]) in points.iter().enumerate() {
        let name = format!("P{}", index + 1);
        let feature = features
            .iter()
            .find(|feature| feature["properties"]["NAME"] == name.as_str())
            .unwrap_or_else(|| panic!("no feature {name}"));
        assert_eq!(feature["geometry"]["type"], "Point", "{feature}");
        let coordinates = &feature["geometry"]["coordinates"];
        let (loaded_lon, loaded_lat) = (coordinates[0].as_f64().unwrap(), coordinates[1].as_f64().unwrap());
        assert!(
            (loaded_lon - lon).abs() < TOLERANCE_DEGREES && (loaded_lat - lat).abs() < TOLERANCE_DEGREES,
            "({x}, {y}) ft loaded as ({loaded_lon}, {loaded_lat}); PROJ says ({lon}, {lat})"
        );
    }
}

#[test]
fn finding_6_unconvertible_esri_prj_aborts_naming_the_projection_or_datum() {
    let server = TestServer::start();
    let points = fixture_points("wa_north_ftus_lcc_2sp");
    let state_plane = std::fs::read_to_string(prj_fixtures().join("wa_north_ftus_lcc_2sp.prj")).unwrap();
    let cases = [
        (
            state_plane.replace(r#"PROJECTION["Lambert_Conformal_Conic"]"#, r#"PROJECTION["Imaginary_Conic"]"#),
            "the projection \"Imaginary_Conic\" is not supported",
        ),
        (
            // NAD27, as ArcGIS writes it: no TOWGS84 in ESRI .prj files.
            state_plane.replace(
                r#"GEOGCS["GCS_North_American_1983",DATUM["D_North_American_1983",SPHEROID["GRS_1980",6378137.0,298.257222101]]"#,
                r#"GEOGCS["GCS_North_American_1927",DATUM["D_North_American_1927",SPHEROID["Clarke_1866",6378206.4,294.9786982]]"#,
            ),
            "the datum \"D_North_American_1927\" is not WGS 84",
        ),
    ];
    for (prj, expected) in cases {
        assert_ne!(prj, state_plane);
        let job = server.load_and_wait("Sites", "complete", "shp", point_shapefile_zip(&points, &prj));
        assert_eq!(job["status"], "Aborted", "{job}");
        let message = job["errorMessage"].as_str().unwrap();
        assert!(message.contains(expected), "{message}");
    }
}
