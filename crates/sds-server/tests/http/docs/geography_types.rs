//! `SDS/data-source-management-api/load-data-source-dataflow/geography-types.md`:
//! each geography type's example (our coordinates, the same shapes) loads
//! as an Edm.Geography value from CSV, quoted where it holds a comma;
//! `intersects` and `intersection` take them in single quotes, up to 250
//! points. The page's two slips — `MULTIPOINT((-122.3, 47),( -121.3 47))`
//! with a stray comma and a `MULTIPOLYGON` missing its outer parentheses
//! — are invalid WKT (SPEC.md §9 #21): those rows fail with a reason
//! naming the row and the property.

use super::support::*;

const SHAPES: &[(&str, &str)] = &[
    ("point", "POINT(117.03059 43.49031)"),
    ("linestring", "\"LINESTRING(-117.03059 43.49031, -117.03117 43.4928)\""),
    ("polygon", "\"POLYGON ((-96.44067 47.6559, -96.44083 47.66306, -96.43524 47.66315, -96.44067 47.6559))\""),
    ("multipoint", "\"MULTIPOINT((-123.3 46),(-122.3 46))\""),
    ("multilinestring", "\"MULTILINESTRING((-123.3 46, -122.3 46), (-122.3 44, -123.3 46))\""),
    (
        "multipolygon",
        "\" MULTIPOLYGON(((-96.44067 47.6559, -96.44083 47.66306, -96.43524 47.66315, -96.44067 47.6559)),((-96.43503 47.65588, -96.42981 47.65556, -96.4297 47.6524, -96.43503 47.65588)))\"",
    ),
    ("collection", "\"GEOMETRYCOLLECTION(POINT(117.03059 43.49031),LINESTRING(-116.92223 43.23223, -116.73234 43.432784))\""),
];

#[test]
fn docs_geography_types_each_example_loads() {
    let server = TestServer::start();
    let mut csv = String::from("Bing Spatial Data Services, 1.0, Shapes\nEntityID(Edm.String,primaryKey),Kind(Edm.String),Shape(Edm.Geography)\n");
    for (index, (kind, wkt)) in SHAPES.iter().enumerate() {
        csv.push_str(&format!("{index},{kind},{wkt}\n"));
    }
    let access_id = load_ok(&server, "Geographies", "csv", &csv);
    let feed = get(
        &server,
        &format!("/REST/v1/data/{access_id}/Geographies/Shapes?$top=250&$format=json&key={}", server.query_key),
    );
    let feed = feed.json();
    let results = feed["d"]["results"].as_array().unwrap();
    assert_eq!(results.len(), SHAPES.len());
    for (entity, (kind, wkt)) in results.iter().zip(SHAPES) {
        let stored = entity["Shape"].as_str().unwrap();
        let expected = wkt_numbers(wkt.trim_matches('"').trim());
        assert_eq!(wkt_numbers(stored), expected, "{kind}: {stored}");
    }
    // "When using 'intersects' and 'intersection' functions, enclose the
    // geography description in single quotes": a line crossing the polygon.
    let line = "LINESTRING(-96.45 47.66, -96.43 47.66)";
    let reply = get(
        &server,
        &format!("/REST/v1/data/{access_id}/Geographies/Shapes?spatialFilter=intersects('{line}')&$select=Kind,intersection('{line}')&$format=json&key={}", server.query_key),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let feed = reply.json();
    let kinds: Vec<&str> =
        feed["d"]["results"].as_array().unwrap().iter().map(|e| e["Kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["polygon", "multipolygon"]);
}

#[test]
fn docs_geography_types_the_pages_slips_fail_naming_row_and_property() {
    let server = TestServer::start();
    let csv = "Bing Spatial Data Services, 1.0, Shapes\nEntityID(Edm.String,primaryKey),Shape(Edm.Geography)\n\
        ok,POINT(1 2)\n\
        stray,\"MULTIPOINT((-122.3, 47),( -121.3 47))\"\n\
        unwrapped,\"MULTIPOLYGON((-95.44067 48.6559, -95.44083 48.66306, -95.43524 48.66315, -95.44067 48.6559)),((-95.43503 48.65588, -95.42981 48.65556, -95.4297 48.6524, -95.43503 48.65588)))\"\n";
    let job = server.load_and_wait("Slips", "complete", "csv", csv);
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!(job["failedEntityCount"], 2, "{job}");
    let log = get(&server, &format!("{}?key={}", link(&job, "output", Some("failed")), server.master_key));
    for line in ["line 4", "line 5"] {
        assert!(log.body.contains(line), "{line}: {}", log.body);
    }
    assert_eq!(log.body.matches("'Shape'").count(), 2, "{}", log.body);
}

/// "The maximum number of points for the 'intersects' spatial filter and
/// 'intersection' function is 250."
#[test]
fn docs_geography_types_intersects_takes_up_to_250_points() {
    let server = TestServer::start();
    let access_id = load_ok(&server, "Points", "csv", "Bing Spatial Data Services, 1.0, Shapes\nEntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\na,0.5,0.5\n");
    let ring = |points: usize| {
        let mut coordinates: Vec<String> = (0..points - 1)
            .map(|i| {
                let angle = i as f64 / (points - 1) as f64 * std::f64::consts::TAU;
                format!("{} {}", angle.cos(), angle.sin())
            })
            .collect();
        coordinates.push(coordinates[0].clone());
        format!("POLYGON(({}))", coordinates.join(","))
    };
    let query = |points: usize| {
        get(
            &server,
            &format!(
                "/REST/v1/data/{access_id}/Points/Shapes?spatialFilter=intersects('{}')&$format=json&key={}",
                ring(points),
                server.query_key
            ),
        )
    };
    let allowed = query(250);
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    assert_eq!(result_ids(&allowed.json(), "EntityID"), ["a"]);
    let refused = query(251);
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("250"), "{}", refused.body);
}
