//! Hostile inputs, kept as regression tests: each must end in a clean
//! result (records or a `FormatError`), never a panic, a hang or a huge
//! allocation. The fuzz targets under `fuzz/` (see its README) found no
//! crash in their first runs (about 2 minutes each); any input they find
//! later belongs here, as inline bytes, next to these hand-made ones.

use std::time::{Duration, Instant};

use sds_core::EntityBuilder;

use crate::geojson::GeoJsonReader;
use crate::kml::KmlReader;
use crate::shapefile::tests::{dbf, parts, point, shp};
use crate::shapefile::ShapefileReader;
use crate::{FormatError, PathReaderOptions, RecordReader};

/// Reads everything, as the fuzz targets do; returns (records, error).
fn drain(reader: Result<Box<dyn RecordReader>, FormatError>) -> (usize, Option<String>) {
    let mut reader = match reader {
        Ok(reader) => reader,
        Err(error) => return (0, Some(error.to_string())),
    };
    let builder = EntityBuilder::for_complete(reader.schema().clone());
    let mut count = 0;
    while let Some(record) = reader.next_record() {
        match record {
            Ok(record) => {
                count += 1;
                let _ = builder.build(&record.cells);
            }
            Err(error) => return (count, Some(error.to_string())),
        }
    }
    (count, None)
}

fn options() -> PathReaderOptions {
    PathReaderOptions::new("Fuzz", 1 << 24)
}

fn kml(text: &str) -> (usize, Option<String>) {
    drain(KmlReader::from_bytes(text.as_bytes(), &options()).map(|reader| Box::new(reader) as _))
}

fn geojson(text: &str) -> (usize, Option<String>) {
    drain(GeoJsonReader::from_bytes(text.as_bytes(), &options()).map(|reader| Box::new(reader) as _))
}

fn shapefile(shp_bytes: Vec<u8>, dbf_bytes: Vec<u8>) -> (usize, Option<String>) {
    let reader = ShapefileReader::from_readers(
        Box::new(std::io::Cursor::new(shp_bytes)),
        Box::new(std::io::Cursor::new(dbf_bytes)),
        None,
        None,
        &options(),
    );
    drain(reader.map(|reader| Box::new(reader) as _))
}

#[test]
fn deeply_nested_kml_is_refused_not_overflowed() {
    let deep = format!("<kml>{}{}</kml>", "<a>".repeat(5_000), "</a>".repeat(5_000));
    let (_, error) = kml(&deep);
    assert!(error.unwrap().contains("nested more than"));
    // MultiGeometry recursion is bounded separately (the row fails).
    let multi = format!(
        "<kml><Placemark>{}<Point><coordinates>1,2</coordinates></Point>{}</Placemark></kml>",
        "<MultiGeometry>".repeat(200),
        "</MultiGeometry>".repeat(200)
    );
    let (count, error) = kml(&multi);
    assert_eq!((count, error), (1, None));
}

#[test]
fn kml_oddities_end_cleanly() {
    for text in [
        "<kml/>",
        "<kml><Placemark/></kml>",
        "<kml><Placemark><Point/></Placemark></kml>",
        "<kml><Placemark><Polygon><outerBoundaryIs/></Polygon></Placemark></kml>",
        "<kml><Placemark><Point><coordinates>1,2,3,4,5 6,7</coordinates></Point></Placemark></kml>",
        "<kml><Placemark><LineString><coordinates>nan,inf 1,2</coordinates></LineString></Placemark></kml>",
        "<kml><Placemark><ExtendedData><Data><value>x</value></Data></ExtendedData></Placemark></kml>",
        "<kml><Schema><SimpleField name='' type='int'/></Schema></kml>",
        "<kml></kml><kml></kml>",
        "<kml>&bogus;<Placemark id='&#0;'/></kml>",
        "\u{FEFF}<kml>text</kml>",
    ] {
        let _ = kml(text);
    }
}

#[test]
fn hostile_geojson_ends_cleanly() {
    let deep = format!("{{\"features\":[{{\"properties\":{{\"a\":{}1{}}}}}]}}", "[".repeat(1000), "]".repeat(1000));
    let (_, error) = geojson(&deep);
    assert!(error.unwrap().contains("malformed JSON"));
    let collection = (0..100).fold("{\"type\":\"Point\",\"coordinates\":[1,2]}".to_string(), |inner, _| {
        format!("{{\"type\":\"GeometryCollection\",\"geometries\":[{inner}]}}")
    });
    let (count, error) = geojson(&format!("{{\"features\":[{{\"type\":\"Feature\",\"geometry\":{collection}}}]}}"));
    assert!(count <= 1 && error.is_some() || count == 1, "{error:?}");
    for text in [
        "",
        "{",
        "{\"features\":",
        "{\"features\":[",
        "{\"features\":[}",
        "{\"features\":[1]}",
        "{\"features\":[{}]}",
        "{\"features\":[{\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[]]}}]}",
        "{\"features\":[{\"geometry\":{\"type\":\"Point\",\"coordinates\":[1e999,2]}}]}",
        "{\"features\":[{\"id\":{},\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":[[]]}}]}",
        "{\"features\":[],\"features\":[]}",
        "{\"a\":\"\\\"]}\",\"features\":[]}",
        "{\"type\":17,\"features\":[]}",
    ] {
        let _ = geojson(text);
    }
}

#[test]
fn shapefile_counts_cannot_force_huge_allocations() {
    let started = Instant::now();
    // A record claiming 2^31-1 points and parts.
    let mut huge = parts(5, &[&[[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]]]);
    huge[36..40].copy_from_slice(&i32::MAX.to_le_bytes());
    huge[40..44].copy_from_slice(&i32::MAX.to_le_bytes());
    let one_row = dbf(&[("A", b'C', 1, 0)], &[vec![&b"x"[..]]], None, 0);
    let (count, error) = shapefile(shp(5, &[huge]), one_row.clone());
    assert_eq!((count, error), (1, None));
    // A record header claiming a 4 GB record.
    let mut bytes = shp(1, &[point(1, 1.0, 1.0)]);
    bytes[104..108].copy_from_slice(&i32::MAX.to_be_bytes());
    let (_, error) = shapefile(bytes, one_row.clone());
    assert!(error.unwrap().contains("invalid length"));
    // A .dbf header claiming 4 billion rows and a 64 KB header.
    let mut lying = one_row.clone();
    lying[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    let (_, error) = shapefile(shp(1, &[point(1, 1.0, 1.0), point(1, 1.0, 1.0)]), lying);
    assert!(error.unwrap().contains("truncated"));
    let mut long_header = one_row;
    long_header[8..10].copy_from_slice(&u16::MAX.to_le_bytes());
    let (_, error) = shapefile(shp(1, &[point(1, 1.0, 1.0)]), long_header);
    assert!(error.unwrap().contains("header"));
    // Many tiny rings: hole matching stays bounded.
    let rings: Vec<Vec<[f64; 2]>> = (0..20_000)
        .map(|index| {
            let x = f64::from(index % 200) * 0.01;
            let y = f64::from(index / 200) * 0.01;
            let ring = [[x, y], [x, y + 0.005], [x + 0.005, y + 0.005], [x + 0.005, y], [x, y]];
            if index % 2 == 0 {
                ring.to_vec()
            } else {
                ring.iter().rev().copied().collect()
            }
        })
        .collect();
    let borrowed: Vec<&[[f64; 2]]> = rings.iter().map(Vec::as_slice).collect();
    let (count, _) = shapefile(shp(5, &[parts(5, &borrowed)]), dbf(&[("A", b'C', 1, 0)], &[vec![&b"x"[..]]], None, 0));
    assert_eq!(count, 1);
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
}

#[test]
fn wkt_oddities_end_cleanly() {
    for text in [
        "POINT(1e308 1e308)",
        "GEOMETRYCOLLECTION EMPTY",
        "GEOMETRYCOLLECTION(GEOMETRYCOLLECTION(GEOMETRYCOLLECTION EMPTY))",
        "POLYGON((0 0, 0 0, 0 0, 0 0))",
        "LINESTRING(0 0, 0 0)",
        "MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)), EMPTY)",
        "GEOMETRYCOLLECTION(POINT EMPTY, POINT(1 2))",
        "GEOMETRYCOLLECTION(LINESTRING EMPTY, POLYGON EMPTY, POINT(1 2))",
        "MULTIPOINT(EMPTY, (1 2))",
        "MULTILINESTRING(EMPTY, (0 0, 1 1))",
    ] {
        if let Ok(geography) = sds_core::Geography::parse(text) {
            let _ = geography.centroid();
            let _ = geography.bounds();
        }
    }
}
