//! Spatial filters on entities with a geography (SPEC §5, issue 9 finding
//! 3): `nearby`, `bbox` and routes test the geography, not the centroid;
//! entities without one keep their point. Hand-computed answers, then the
//! indexed paths checked against a brute-force scan of a mixed table.

use sds_core::{EdmType, Entity, Property, Schema, Value};

use crate::plan::{Query, QueryLimits, QueryOptions};
use crate::spatial::reach;
use crate::spatial::sphere::{distance_km, LonLatBox, EARTH_RADIUS_KM};
use crate::table::{Table, TableBuilder};
use crate::SpatialFilter;

fn schema() -> Schema {
    Schema::new(
        "Places",
        vec![
            Property::new("Id", EdmType::String),
            Property::new("Latitude", EdmType::Double),
            Property::new("Longitude", EdmType::Double),
            Property::new("Geom", EdmType::Geography),
        ],
        "Id",
    )
    .unwrap()
}

/// Rows of (id, WKT or none, latitude, longitude), in ID order; the point
/// is what the store keeps (a centroid when only a geography was given).
fn table(rows: &[(&str, Option<&str>, f64, f64)]) -> Table {
    let mut builder = TableBuilder::new(schema(), rows.len());
    for &(id, wkt, latitude, longitude) in rows {
        builder.push(Entity {
            id: id.into(),
            latitude,
            longitude,
            bounds: None,
            values: vec![
                Value::String(id.into()),
                Value::Double(latitude),
                Value::Double(longitude),
                wkt.map_or(Value::Null, |text| Value::Geography(text.into())),
            ],
        });
    }
    builder.finish()
}

/// A country-sized square 0–10°E, 40–50°N (centroid 45N 5E), a line
/// along the equator, a square on the antimeridian's east side, and two
/// points without geography.
fn places() -> Table {
    table(&[
        ("a-square", Some("POLYGON((0 40, 10 40, 10 50, 0 50, 0 40))"), 45.0, 5.0),
        ("b-line", Some("LINESTRING(20 0, 30 0)"), 0.0, 25.0),
        ("c-east", Some("POLYGON((179 -1, 180 -1, 180 1, 179 1, 179 -1))"), 0.0, 179.5),
        ("d-point", None, 41.0, 1.0),
        ("e-point", None, 0.0, -179.9),
    ])
}

/// The IDs and `__Distance` of a query, in result order.
fn run(table: &Table, spatial: &str, select: Option<&str>) -> Vec<(String, f64)> {
    let options = QueryOptions { spatial_filter: Some(spatial), select, ..QueryOptions::default() };
    let query = Query::compile(table.schema(), &options, &QueryLimits::default()).unwrap();
    let hits = query.execute(table).unwrap().hits;
    hits.iter().map(|hit| (table.id(hit.row).to_owned(), hit.distance)).collect()
}

fn ids(results: &[(String, f64)]) -> Vec<&str> {
    results.iter().map(|(id, _)| id.as_str()).collect()
}

fn close(actual: f64, expected: f64, tolerance: f64) {
    assert!((actual - expected).abs() <= tolerance, "{actual} vs {expected}");
}

#[test]
fn finding_3_nearby_matches_polygon_containing_point() {
    let table = places();
    // 48.8566N 2.3522E is inside the square, 400 km from its centroid.
    assert!(distance_km(48.8566, 2.3522, 45.0, 5.0) > 400.0);
    let results = run(&table, "nearby(48.8566,2.3522,10)", None);
    assert_eq!(ids(&results), ["a-square"]);
    assert_eq!(results[0].1, 0.0, "__Distance is 0 inside");
}

#[test]
fn finding_3_nearby_measures_to_the_nearest_edge_and_orders_by_it() {
    let table = places();
    // 1° south of the line's middle: 111.3 km to the line, 1° west of
    // the square's west edge at 45N: 78.8 km; d-point is 1° from both.
    let to_square = distance_km(45.0, -1.0, 45.0, 0.0);
    let results = run(&table, "nearby(45,-1,100)", Some("Id,__Distance"));
    assert_eq!(ids(&results), ["a-square"]);
    close(results[0].1, to_square, 1e-6);
    assert!(run(&table, "nearby(45,-1,78)", None).is_empty(), "the edge is 78.8 km away");
    let below_line = run(&table, "nearby(-1,25,112)", None);
    assert_eq!(ids(&below_line), ["b-line"]);
    close(below_line[0].1, EARTH_RADIUS_KM * 1f64.to_radians(), 1e-6);
    // Nearest first: the square (0 km, the point is inside) before d-point.
    let results = run(&table, "nearby(41.5,1,100)", None);
    assert_eq!(ids(&results), ["a-square", "d-point"]);
    assert_eq!(results[0].1, 0.0);
    close(results[1].1, distance_km(41.5, 1.0, 41.0, 1.0), 1e-9);
}

#[test]
fn finding_3_nearby_reaches_geographies_across_the_antimeridian() {
    let table = places();
    // From 179.8W: e-point is 0.1° away, c-east's edge at 180° is 0.2°.
    let results = run(&table, "nearby(0,-179.8,30)", None);
    assert_eq!(ids(&results), ["e-point", "c-east"]);
    close(results[1].1, distance_km(0.0, -179.8, 0.0, 180.0), 1e-9);
}

#[test]
fn finding_3_bbox_matches_geography_touching_box() {
    let table = places();
    // A box inside the square, far from its centroid.
    assert_eq!(ids(&run(&table, "bbox(48,2,49,3)", None)), ["a-square"]);
    // A box that only clips the square's corner and holds d-point.
    assert_eq!(ids(&run(&table, "bbox(39,-1,41.5,1.5)", None)), ["a-square", "d-point"]);
    // A box that holds the line's end but not its centroid (25E).
    assert_eq!(ids(&run(&table, "bbox(-1,29,1,31)", None)), ["b-line"]);
    // Across the antimeridian: the east square and the point west of it.
    assert_eq!(ids(&run(&table, "bbox(-0.5,179.8,0.5,-179.8)", None)), ["c-east", "e-point"]);
    assert!(run(&table, "bbox(-0.5,178,0.5,178.9)", None).is_empty());
}

#[test]
fn finding_3_bbox_distance_is_from_the_box_centre_to_the_geography() {
    let table = places();
    let results = run(&table, "bbox(48,2,49,3)", Some("Id,__Distance"));
    assert_eq!(results[0].1, 0.0, "the centre is inside the square");
    let results = run(&table, "bbox(-1,29,1,31)", Some("Id,__Distance"));
    assert_eq!(results[0].1, 0.0, "the centre (0N 30E) is the line's end");
    let results = run(&table, "bbox(44,-2,46,0.5)", Some("Id,__Distance"));
    close(results[0].1, distance_km(45.0, -0.75, 45.0, 0.0), 1e-6);
}

#[test]
fn finding_3_routes_reach_geographies() {
    let table = places();
    let mut query = Query::compile(table.schema(), &QueryOptions::default(), &QueryLimits::default()).unwrap();
    // A route crossing the square far from its centroid.
    query.spatial = Some(SpatialFilter::Route { points: vec![(49.0, -2.0), (49.0, 2.0)] });
    let hits = query.execute(&table).unwrap().hits;
    assert_eq!(hits.iter().map(|hit| table.id(hit.row)).collect::<Vec<_>>(), ["a-square"]);
    assert_eq!(hits[0].distance, 0.0);
}

#[test]
fn finding_3_empty_or_missing_geographies_fall_back_to_the_point() {
    let table = table(&[
        ("x", Some("GEOMETRYCOLLECTION EMPTY"), 10.0, 10.0),
        ("y", None, 10.0, 10.1),
        ("z", Some("POINT(50 50)"), 10.0, 10.2),
    ]);
    // z's geography, not its stored point, decides.
    assert_eq!(ids(&run(&table, "nearby(10,10.1,20)", None)), ["y", "x"]);
    assert_eq!(ids(&run(&table, "bbox(49,49,51,51)", None)), ["z"]);
}

struct Random(u64);

impl Random {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The R-tree and grid paths agree with testing every row, on a table of
/// small polygons, lines and plain points.
#[test]
fn finding_3_indexed_geographies_agree_with_a_scan() {
    let mut random = Random(7);
    let mut rows = Vec::new();
    let mut wkts = Vec::new();
    for index in 0..600 {
        let (lon, lat) = (random.next() * 40.0 - 20.0, random.next() * 40.0 - 20.0);
        let size = 0.05 + random.next() * 2.0;
        let wkt = match index % 3 {
            0 => Some(format!(
                "POLYGON(({lon} {lat}, {} {lat}, {} {}, {lon} {lat}))",
                lon + size,
                lon + size / 2.0,
                lat + size
            )),
            1 => Some(format!("LINESTRING({lon} {lat}, {} {})", lon + size, lat - size / 3.0)),
            _ => None,
        };
        wkts.push(wkt);
        rows.push((format!("r{index:04}"), lat, lon));
    }
    let borrowed: Vec<(&str, Option<&str>, f64, f64)> =
        rows.iter().zip(&wkts).map(|((id, lat, lon), wkt)| (id.as_str(), wkt.as_deref(), *lat, *lon)).collect();
    let table = table(&borrowed);
    let geometry = |row: usize| -> Option<geo::Geometry<f64>> {
        use std::str::FromStr;
        wkts[row].as_deref().map(|text| wkt::Wkt::from_str(text).unwrap().try_into().unwrap())
    };
    for _ in 0..40 {
        let (lat, lon, radius) =
            (random.next() * 40.0 - 20.0, random.next() * 40.0 - 20.0, 20.0 + random.next() * 300.0);
        let mut expected: Vec<(f64, String)> = (0..rows.len())
            .filter_map(|row| {
                let distance = match geometry(row) {
                    Some(shape) => reach::point_distance_km(&shape, lat, lon),
                    None => distance_km(lat, lon, rows[row].1, rows[row].2),
                };
                (distance <= radius).then(|| (distance, rows[row].0.clone()))
            })
            .collect();
        expected.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let options_text = format!("nearby({lat},{lon},{radius})");
        let options = QueryOptions { spatial_filter: Some(&options_text), top: Some("250"), ..QueryOptions::default() };
        let query = Query::compile(table.schema(), &options, &QueryLimits::default()).unwrap();
        let found: Vec<String> =
            query.execute(&table).unwrap().hits.iter().map(|hit| table.id(hit.row).to_owned()).collect();
        let expected_ids: Vec<String> = expected.into_iter().take(250).map(|(_, id)| id).collect();
        assert_eq!(found, expected_ids, "{options_text}");

        let (south, west) = (random.next() * 40.0 - 20.0, random.next() * 40.0 - 20.0);
        let area = LonLatBox {
            min_lon: west,
            min_lat: south,
            max_lon: west + random.next() * 5.0,
            max_lat: south + random.next() * 5.0,
        };
        let expected: Vec<&str> = (0..rows.len())
            .filter(|&row| match geometry(row) {
                Some(shape) => reach::touches_boxes(&shape, &[area]),
                None => area.contains(rows[row].2, rows[row].1),
            })
            .map(|row| rows[row].0.as_str())
            .take(25)
            .collect();
        let bbox = format!("bbox({},{},{},{})", area.min_lat, area.min_lon, area.max_lat, area.max_lon);
        assert_eq!(ids(&run(&table, &bbox, None)), expected, "{bbox}");
    }
}
