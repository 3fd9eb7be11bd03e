//! GDAL/OGR (Debian's `gdal-bin`, which `.ci/run` installs) as a real
//! OGC API – Features client: `ogrinfo` lists the collections and runs
//! `-where`/`-spat` filters on the server (the server's log shows them),
//! and `ogr2ogr` copies all of cities1000 and all Natural Earth countries
//! into GeoPackages whose features match the data sources.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use crate::common::server::{access_id_of, shared_data, TestServer};
use crate::query::CAFES_CSV;
use crate::toolkit_query::shapefile_zip;

/// Runs a GDAL command with the key in `GDAL_HTTP_HEADERS`; returns stdout.
fn gdal(program: &str, args: &[&str], key: &str) -> String {
    let output = Command::new(program)
        .args(args)
        .env("GDAL_HTTP_HEADERS", format!("X-Api-Key: {key}"))
        .output()
        .unwrap_or_else(|error| panic!("{program} must be installed (apt-get install gdal-bin): {error}"));
    assert!(
        output.status.success(),
        "{program} {args:?}: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The `EntityID` values `ogrinfo` prints for a layer.
fn entity_ids(listing: &str) -> Vec<String> {
    listing.lines().filter_map(|line| line.trim().strip_prefix("EntityID (String) = ")).map(str::to_owned).collect()
}

/// The server's `ogc items` log lines so far.
fn items_log(server: &TestServer) -> Vec<String> {
    let log = std::fs::read_to_string(server.data_dir().join("server.log")).unwrap();
    log.lines().filter(|line| line.contains("ogc items")).map(str::to_owned).collect()
}

#[test]
fn ogrinfo_lists_collections_and_filters_on_the_server() {
    // The items log line is at debug level. Each test runs in a process of
    // its own (nextest), so this reaches only this test's server.
    std::env::set_var("RUST_LOG", "info,sds_server::ogc=debug");
    let server = TestServer::start();
    let job = server.load_and_wait("Coffee", "complete", "csv", CAFES_CSV);
    let collection = format!("{}.Coffee", access_id_of(&job));
    let url = format!("OAPIF:{}/ogc", server.base);
    let key = &server.master_key;
    let summary = gdal("ogrinfo", &["-so", &url], key);
    assert!(summary.contains(&format!("1: {collection} (title: Coffee) (Point)")), "{summary}");

    let filtered = gdal("ogrinfo", &["-q", &url, &collection, "-where", "Seats > 5 AND Name LIKE '%e%'"], key);
    assert_eq!(entity_ids(&filtered), ["c1", "c2", "c4", "c6"], "{filtered}");
    let log = items_log(&server);
    assert!(
        log.iter().any(|line| line.contains("filter=(Seats > 5) AND (Name LIKE '%e%')")),
        "GDAL sends the filter to the server: {log:#?}"
    );

    let boxed = gdal("ogrinfo", &["-q", &url, &collection, "-spat", "-122.4", "47.5", "-122.3", "47.7"], key);
    assert_eq!(entity_ids(&boxed), ["c1", "c2"], "{boxed}");
    let log = items_log(&server);
    assert!(log.iter().any(|line| line.contains("&bbox=-122.4") && line.contains(",47.5,-122.2999")), "{log:#?}");

    // A key in the URL's query string: GDAL appends it to every request itself.
    let keyed = format!("{url}?key={key}");
    let output = Command::new("ogrinfo").args(["-q", &keyed, &collection, "-where", "Seats = 4"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(entity_ids(&String::from_utf8(output.stdout).unwrap()), ["c5"]);
    // Without a key GDAL gets the 401 and fails.
    let refused = Command::new("ogrinfo").args(["-so", &url]).output().unwrap();
    assert!(!refused.status.success());
}

/// cities1000.csv as an SDS CSV: EntityID = the line number, zero-padded
/// (so entity-ID order is file order).
fn cities_csv() -> (Vec<u8>, Vec<csv::StringRecord>) {
    let mut reader = csv::Reader::from_path(shared_data("cities1000.csv")).unwrap();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let mut out = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
    out.write_record(["Bing Spatial Data Services", " 1.0", " City"]).unwrap();
    out.write_record([
        "EntityID(Edm.String,primaryKey)",
        "Latitude(Edm.Double)",
        "Longitude(Edm.Double)",
        "Name(Edm.String)",
        "Admin1(Edm.String)",
        "Admin2(Edm.String)",
        "CountryCode(Edm.String)",
    ])
    .unwrap();
    for (index, record) in records.iter().enumerate() {
        let id = format!("{:06}", index + 1);
        let mut fields = vec![id.as_str()];
        fields.extend(record.iter());
        out.write_record(&fields).unwrap();
    }
    (out.into_inner().unwrap(), records)
}

/// A layer of a file as CSV rows by column name, geometry as WKT.
fn layer_rows(path: &Path, layer: Option<&str>, out_dir: &Path) -> Vec<BTreeMap<String, String>> {
    let csv_path = out_dir.join(format!("{}.csv", layer.unwrap_or("layer").replace('.', "_")));
    let mut args = vec!["-f", "CSV", csv_path.to_str().unwrap(), path.to_str().unwrap()];
    if let Some(layer) = layer {
        args.push(layer);
    }
    args.extend(["-lco", "GEOMETRY=AS_WKT"]);
    gdal("ogr2ogr", &args, "");
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|record| headers.iter().zip(record.unwrap().iter()).map(|(h, v)| (h.to_owned(), v.to_owned())).collect())
        .collect()
}

/// The distinct vertices of a WKT geometry, rounded to 1e-9 degrees.
fn vertices(wkt: &str) -> BTreeSet<(i64, i64)> {
    let numbers: Vec<f64> = wkt
        .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == 'e' || c == 'E'))
        .filter(|part| !part.is_empty())
        .filter_map(|part| part.parse().ok())
        .collect();
    numbers.chunks(2).map(|pair| ((pair[0] * 1e9).round() as i64, (pair[1] * 1e9).round() as i64)).collect()
}

#[test]
fn ogr2ogr_copies_all_cities_and_countries_to_geopackage() {
    let server = TestServer::start();
    let key = server.master_key.clone();
    let (body, records) = cities_csv();
    let cities = server.load_and_wait("Cities", "complete", "csv", body);
    assert_eq!(cities["status"], "Completed", "{cities}");
    let countries = server.load_and_wait("Countries", "complete", "shp", shapefile_zip("naturalearth_lowres"));
    assert_eq!(countries["status"], "Completed", "{countries}");
    let temp = tempfile::tempdir().unwrap();
    let url = format!("OAPIF:{}/ogc", server.base);

    // Cities: every one, with its name, place and attributes.
    let collection = format!("{}.Cities", access_id_of(&cities));
    let gpkg = temp.path().join("cities.gpkg");
    let started = std::time::Instant::now();
    gdal("ogr2ogr", &["-f", "GPKG", gpkg.to_str().unwrap(), &url, &collection, "-oo", "PAGE_SIZE=10000"], &key);
    eprintln!("ogr2ogr copied the cities in {:?}", started.elapsed());
    let rows = layer_rows(&gpkg, None, temp.path());
    assert_eq!(rows.len(), records.len());
    for row in &rows {
        let id = &row["EntityID"];
        let expected = &records[id.parse::<usize>().unwrap() - 1];
        assert_eq!(row["Name"], expected[2], "{id}");
        assert_eq!(
            (row["Admin1"].as_str(), row["Admin2"].as_str(), row["CountryCode"].as_str()),
            (&expected[3], &expected[4], &expected[5]),
            "{id}"
        );
        let point = vertices(&row["WKT"]);
        let want = vertices(&format!("{} {}", &expected[1], &expected[0]));
        assert_eq!(point, want, "{id}: {}", row["WKT"]);
    }
    let distinct: BTreeSet<&String> = rows.iter().map(|row| &row["EntityID"]).collect();
    assert_eq!(distinct.len(), records.len(), "every city exactly once");

    // Countries: all 177, geometries vertex for vertex, names.
    let collection = format!("{}.Countries", access_id_of(&countries));
    let gpkg = temp.path().join("countries.gpkg");
    gdal("ogr2ogr", &["-f", "GPKG", gpkg.to_str().unwrap(), &url, &collection], &key);
    let copied = layer_rows(&gpkg, None, temp.path());
    let source = layer_rows(&shared_data("naturalearth_lowres/naturalearth_lowres.shp"), None, temp.path());
    assert_eq!((copied.len(), source.len()), (177, 177));
    let by_name = |rows: &[BTreeMap<String, String>]| -> BTreeMap<String, BTreeMap<String, String>> {
        rows.iter().map(|row| (row["name"].clone(), row.clone())).collect()
    };
    let (copied, source) = (by_name(&copied), by_name(&source));
    assert_eq!(copied.keys().collect::<Vec<_>>(), source.keys().collect::<Vec<_>>());
    for (name, original) in &source {
        let copy = &copied[name];
        assert_eq!(vertices(&copy["WKT"]), vertices(&original["WKT"]), "{name}");
        for column in ["iso_a3", "continent", "pop_est"] {
            let (a, b) = (copy[column].parse::<f64>().ok(), original[column].parse::<f64>().ok());
            match (a, b) {
                (Some(a), Some(b)) => assert!((a - b).abs() < 1e-6, "{name}.{column}"),
                _ => assert_eq!(copy[column], original[column], "{name}.{column}"),
            }
        }
    }
}
