//! `SDS/query-api/query-by-area.md`: the page's five examples — bbox with
//! `$select`/`$top=3`, nearby with `__Distance` (JSON with the page's empty
//! `&$filter&`), nearby with `$filter=IsWifiHotSpot eq 1` (JSON asked with
//! `format=json`), nearby an address with `$select=*,__Distance`, and
//! `SpatialFilter=intersects('…'` without its closing `)` plus
//! `$select=intersection('…'),EntityID` — each in Atom and JSON.

// Coordinates are written with the docs' own digits.
#![allow(clippy::excessive_precision)]

use serde_json::{json, Value};

use super::support::*;

const BBOX: (f64, f64, f64, f64) = (40.7801465817126, -74.46958923339845, 40.88535150706938, -74.163070678710937);
const BBOX_FILTER: &str =
    "spatialFilter=bbox(40.7801465817126,-74.46958923339845,40.88535150706938,-74.163070678710937)";
const CENTER: (f64, f64) = (40.83274904439099, -74.3163299560546935);
const NEARBY_FILTER: &str = "spatialFilter=nearby(40.83274904439099,-74.3163299560546935,5)";

fn location_entry(sample: &Sample, shop: &Shop, first: Option<String>) -> String {
    let mut properties = Vec::new();
    properties.extend(first);
    properties.push(atom_property("Latitude", Some("Edm.Double"), &shop.lat.to_string()));
    properties.push(atom_property("Longitude", Some("Edm.Double"), &shop.lon.to_string()));
    atom_entry(&sample.entry_uri(shop.id), &properties)
}

/// Shops in the page's bbox, first 3 by entity ID (the default order).
fn bbox_expected() -> Vec<Shop> {
    let (south, west, north, east) = BBOX;
    let mut inside: Vec<Shop> =
        shops().into_iter().filter(|s| s.lat >= south && s.lat <= north && s.lon >= west && s.lon <= east).collect();
    inside.sort_by(|a, b| a.id.cmp(b.id));
    inside.truncate(3);
    inside
}

/// Shops within `km` of the page's point passing `keep`, nearest first
/// (ties by entity ID), first 3.
fn nearby_expected(keep: impl Fn(&Shop) -> bool) -> Vec<(Shop, f64)> {
    let mut near: Vec<(Shop, f64)> = shops()
        .into_iter()
        .map(|shop| {
            let distance = distance_km(CENTER, (shop.lat, shop.lon));
            (shop, distance)
        })
        .filter(|(shop, distance)| *distance <= 5.0 && keep(shop))
        .collect();
    near.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.id.cmp(b.0.id)));
    near.truncate(3);
    near
}

#[test]
fn docs_query_by_area_bbox_atom_and_json() {
    let sample = Sample::start();
    let key = &sample.server.query_key;
    let expected = bbox_expected();
    assert_eq!(expected.len(), 3);

    let atom = sample.query(&format!("{BBOX_FILTER}&$select=EntityID,Latitude,Longitude&$top=3&key={key}"));
    assert_eq!(atom.status, 200, "{}", atom.body);
    assert!(atom.content_type.starts_with("application/atom+xml"), "{}", atom.content_type);
    let entries: Vec<String> = expected
        .iter()
        .map(|shop| location_entry(&sample, shop, Some(atom_property("EntityID", None, shop.id))))
        .collect();
    assert_xml_matches("query-by-area bbox Atom", &atom_feed(&entries), &atom.body, &[]);

    let json =
        sample.query(&format!("{BBOX_FILTER}&$select=EntityID,Latitude,Longitude&$top=3&$format=json&key={key}"));
    assert_eq!(json.status, 200, "{}", json.body);
    let results: Vec<Value> = expected
        .iter()
        .map(|shop| {
            json_entry(
                &sample.entry_uri(shop.id),
                &[("EntityID", json!(shop.id)), ("Latitude", json!(shop.lat)), ("Longitude", json!(shop.lon))],
            )
        })
        .collect();
    assert_json_matches("query-by-area bbox JSON", &json_feed(results), &json.body, &[]);
    assert_eq!(key_order(&json.body, "/d/results/0"), ["__metadata", "EntityID", "Latitude", "Longitude"]);
}

#[test]
fn docs_query_by_area_nearby_with_distance_atom_and_json() {
    let sample = Sample::start();
    let key = &sample.server.query_key;
    let expected = nearby_expected(|_| true);
    assert_eq!(expected.len(), 3);

    let atom =
        sample.query(&format!("{NEARBY_FILTER}&$select=EntityID,Latitude,Longitude,__Distance&$top=3&key={key}"));
    assert_eq!(atom.status, 200, "{}", atom.body);
    let entries: Vec<String> = expected
        .iter()
        .map(|(shop, _)| {
            atom_entry(
                &sample.entry_uri(shop.id),
                &[
                    atom_property("EntityID", None, shop.id),
                    atom_property("Latitude", Some("Edm.Double"), &shop.lat.to_string()),
                    atom_property("Longitude", Some("Edm.Double"), &shop.lon.to_string()),
                    atom_property("__Distance", Some("Edm.Double"), "{{nonempty}}"),
                ],
            )
        })
        .collect();
    assert_xml_matches("query-by-area nearby Atom", &atom_feed(&entries), &atom.body, &[]);

    // The page's JSON URL carries an empty `&$filter&`.
    let json = sample.query(&format!(
        "{NEARBY_FILTER}&$filter&$select=EntityID,Latitude,Longitude,__Distance&$top=3&$format=json&key={key}"
    ));
    assert_eq!(json.status, 200, "{}", json.body);
    let results: Vec<Value> = expected
        .iter()
        .map(|(shop, _)| {
            json_entry(
                &sample.entry_uri(shop.id),
                &[
                    ("EntityID", json!(shop.id)),
                    ("Latitude", json!(shop.lat)),
                    ("Longitude", json!(shop.lon)),
                    ("__Distance", json!("{{any}}")),
                ],
            )
        })
        .collect();
    assert_json_matches("query-by-area nearby JSON", &json_feed(results), &json.body, &[]);
    let feed = json.json();
    for (index, (shop, distance)) in expected.iter().enumerate() {
        let got = feed["d"]["results"][index]["__Distance"].as_f64().expect("__Distance is a number");
        assert!((got - distance).abs() < 1e-6, "{}: __Distance {got} vs {distance} km", shop.id);
    }
    assert_eq!(
        key_order(&json.body, "/d/results/2"),
        ["__metadata", "EntityID", "Latitude", "Longitude", "__Distance"]
    );
}

#[test]
fn docs_query_by_area_nearby_with_property_filter_atom_and_json() {
    let sample = Sample::start();
    let key = &sample.server.query_key;
    let expected = nearby_expected(|shop| shop.wifi);
    assert_eq!(expected.len(), 3);
    let select = "$select=DisplayName,Latitude,Longitude&$top=3";

    let atom = sample.query(&format!("{NEARBY_FILTER}&$filter=IsWifiHotSpot%20eq%201&{select}&key={key}"));
    assert_eq!(atom.status, 200, "{}", atom.body);
    let entries: Vec<String> = expected
        .iter()
        .map(|(shop, _)| location_entry(&sample, shop, Some(atom_property("DisplayName", None, &shop.display_name()))))
        .collect();
    assert_xml_matches("query-by-area nearby+filter Atom", &atom_feed(&entries), &atom.body, &[]);

    // The page asks for JSON with `format=json` (no `$`).
    let json = sample.query(&format!("{NEARBY_FILTER}&$filter=IsWifiHotSpot%20eq%201&{select}&format=json&key={key}"));
    assert_eq!(json.status, 200, "{}", json.body);
    let results: Vec<Value> = expected
        .iter()
        .map(|(shop, _)| {
            json_entry(
                &sample.entry_uri(shop.id),
                &[
                    ("DisplayName", json!(shop.display_name())),
                    ("Latitude", json!(shop.lat)),
                    ("Longitude", json!(shop.lon)),
                ],
            )
        })
        .collect();
    assert_json_matches("query-by-area nearby+filter JSON", &json_feed(results), &json.body, &[]);
}

/// `nearby('1 Microsoft Way Redmond WA 98052',5)` (a space-separated
/// address) with `$select=*,__Distance`: every property, then the
/// distance. Needs a geocoder: without one, a 400 that says so.
#[test]
fn docs_query_by_area_nearby_address_all_properties() {
    let query = "spatialFilter=nearby('1 Microsoft Way Redmond WA 98052',5)&$filter=IsWifiHotSpot%20eq%201&$select=*,__Distance&$format=json";
    let plain = Sample::start();
    let refused = plain.query(&format!("{query}&key={}", plain.server.query_key));
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(refused.body.contains("geocoder"), "{}", refused.body);

    let flags = outside_services();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let sample = Sample::start_with(&flags);
    let reply = sample.query(&format!("{query}&key={}", sample.server.query_key));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let place = (PLACES[0].1, PLACES[0].2);
    let mut expected: Vec<(f64, &str)> = shops()
        .iter()
        .filter(|shop| shop.wifi)
        .map(|shop| (distance_km(place, (shop.lat, shop.lon)), shop.id))
        .filter(|(distance, _)| *distance <= 5.0)
        .collect();
    expected.sort_by(|a, b| a.0.total_cmp(&b.0));
    let ids: Vec<&str> = expected.iter().map(|(_, id)| *id).collect();
    assert!(!ids.is_empty());
    assert_eq!(result_ids(&reply.json(), "EntityID"), ids);
    let order = key_order(&reply.body, "/d/results/0");
    assert_eq!(order.first().map(String::as_str), Some("__metadata"));
    assert_eq!(order.last().map(String::as_str), Some("__Distance"), "{order:?}");
    assert_eq!(order.len(), 2 + 24, "every property of the schema: {order:?}");
}

const AREAS_CSV: &str = "Bing Spatial Data Services, 1.0, SampleEntityType\n\
EntityID(Edm.String,primaryKey),Geom(Edm.Geography)\n\
1001,\"LINESTRING(-117.01828 41.05, -117.01828 40.95)\"\n\
1002,\"POLYGON((-120.87 41.69, -120.87 41.70, -120.89 41.70, -120.89 41.69, -120.87 41.69))\"\n\
1003,\"POLYGON((-110 43, -109 43, -109 44, -110 44, -110 43))\"\n\
1004,POINT(-118.5 41.5)\n";

/// The intersects example, URL as the page writes it: `SpatialFilter`,
/// no `)` after the WKT's closing quote, `intersection(…)` first in
/// `$select` (so `__IntersectedGeom` comes first), `$top=2`.
#[test]
fn docs_query_by_area_intersects_with_intersection_atom_and_json() {
    let server = TestServer::start();
    let access_id = load_ok(&server, "SampleDataSource", "csv", AREAS_CSV);
    let polygon = "POLYGON((-112 42,-112 41,-123 41,-123 42,-112 42))";
    let url = |format: &str| {
        format!(
            "/REST/v1/data/{access_id}/SampleDataSource/SampleEntityType?SpatialFilter=intersects('{polygon}'&$select=intersection('{polygon}'),EntityID&$top=2{format}&key={}",
            server.query_key
        )
    };
    let uri = |id: &str| format!("{}/data/{access_id}/SampleDataSource/SampleEntityType('{id}')", server.root);
    let atom = get(&server, &url(""));
    assert_eq!(atom.status, 200, "{}", atom.body);
    let entries: Vec<String> = ["1001", "1002"]
        .iter()
        .map(|id| {
            atom_entry(
                &uri(id),
                &[
                    atom_property("__IntersectedGeom", Some("Edm.Geography"), "{{nonempty}}"),
                    atom_property("EntityID", None, id),
                ],
            )
        })
        .collect();
    assert_xml_matches("query-by-area intersects Atom", &atom_feed(&entries), &atom.body, &[]);

    let json = get(&server, &url("&$format=json"));
    assert_eq!(json.status, 200, "{}", json.body);
    let results: Vec<Value> = ["1001", "1002"]
        .iter()
        .map(|id| json_entry(&uri(id), &[("__IntersectedGeom", json!("{{nonempty}}")), ("EntityID", json!(id))]))
        .collect();
    assert_json_matches("query-by-area intersects JSON", &json_feed(results), &json.body, &[]);
    assert_eq!(key_order(&json.body, "/d/results/0"), ["__metadata", "__IntersectedGeom", "EntityID"]);
    let feed = json.json();
    let (kind, numbers) = wkt_numbers(feed["d"]["results"][0]["__IntersectedGeom"].as_str().unwrap());
    assert_eq!(kind, "LINESTRING", "the line clipped at latitude 41");
    let expected = [-117.01828, 41.05, -117.01828, 41.0];
    assert!(numbers.len() == 4 && numbers.iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-6), "{numbers:?}");
    let (kind, numbers) = wkt_numbers(feed["d"]["results"][1]["__IntersectedGeom"].as_str().unwrap());
    assert_eq!(kind, "POLYGON", "a polygon inside is its own intersection");
    assert_eq!(numbers.len(), 10, "{numbers:?}");
}

const STATES_CSV: &str = "Bing Spatial Data Services, 1.0, States\n\
EntityID(Edm.String,primaryKey),Name(Edm.String),Boundary(Edm.Geography)\n\
wide,Wide State,\"POLYGON((-110 40, -100 40, -100 45, -110 45, -110 40))\"\n\
far,Far State,\"POLYGON((10 10, 11 10, 11 11, 10 11, 10 10))\"\n";

/// `nearby` and `bbox` test an entity's geography when it has one
/// (SPEC.md §5; the query-options page says so of `intersection`): a point
/// inside a large polygon, far from its centroid, finds it at `__Distance`
/// 0, and a box that overlaps its edge finds it (finding 3).
#[test]
fn docs_query_by_area_nearby_and_bbox_test_the_geography() {
    let server = TestServer::start();
    let access_id = load_ok(&server, "USCensus2010_States", "csv", STATES_CSV);
    let query = |filter: &str| {
        get(&server, &format!("/REST/v1/data/{access_id}/USCensus2010_States/States?spatialFilter={filter}&$select=EntityID,__Distance&$format=json&key={}", server.query_key))
    };
    // (44.5, -109.5) lies inside "wide", ~560 km from its centroid (42.5, -105).
    let inside = query("nearby(44.5,-109.5,5)");
    assert_eq!(inside.status, 200, "{}", inside.body);
    let feed = inside.json();
    assert_eq!(result_ids(&feed, "EntityID"), ["wide"], "finding 3: {}", inside.body);
    assert_eq!(feed["d"]["results"][0]["__Distance"].as_f64(), Some(0.0), "inside: distance 0");
    // About 10 km west of the western edge (longitude -110): within 20 km.
    let near = query("nearby(42,-110.1211,20)");
    assert_eq!(result_ids(&near.json(), "EntityID"), ["wide"], "{}", near.body);
    // A box over the polygon's north-east corner, far from its centroid.
    let corner = get(&server, &format!("/REST/v1/data/{access_id}/USCensus2010_States/States?spatialFilter=bbox(44,-101,46,-99)&$format=json&key={}", server.query_key));
    assert_eq!(result_ids(&corner.json(), "EntityID"), ["wide"], "{}", corner.body);
}

/// The page's templates: GET and HEAD; `jsonp`/`jsonso` ("the state object
/// … provided as the second parameter to the callback function");
/// `isStaging=0` for the published version; `nearby` distances from 0.16
/// to 1000 km.
#[test]
fn docs_query_by_area_template_parameters() {
    let sample = Sample::start();
    let key = &sample.server.query_key;
    let url = format!("{}?spatialFilter=nearby(47.6,-122.3,50.0)&isStaging=0&key={key}", sample.set_path());
    let head = sample.server.client.head(sample.server.url(&url)).send().unwrap();
    assert_eq!(head.status(), 200);
    assert!(head.text().unwrap().is_empty(), "HEAD has no body");

    let jsonp = get(&sample.server, &format!("{url}&jsonp=MyCallbackFunction&jsonso=abc3144sd"));
    assert_eq!(jsonp.status, 200, "{}", jsonp.body);
    assert!(jsonp.content_type.starts_with("application/javascript"), "{}", jsonp.content_type);
    let inner = jsonp.body.strip_prefix("MyCallbackFunction(").and_then(|rest| rest.strip_suffix(",\"abc3144sd\")"));
    let inner = inner.unwrap_or_else(|| panic!("callback(json,\"state\"): {}", jsonp.body));
    let feed: Value = serde_json::from_str(inner).unwrap();
    let expected = shops().iter().filter(|s| distance_km((47.6, -122.3), (s.lat, s.lon)) <= 50.0).count();
    assert_eq!(feed["d"]["results"].as_array().unwrap().len(), expected);

    for (radius, status) in [("0.16", 200), ("1000", 200), ("1001", 400)] {
        let reply = sample.query(&format!("spatialFilter=nearby(47.6,-122.3,{radius})&$format=json&key={key}"));
        assert_eq!(reply.status, status, "{radius} km: {}", reply.body);
    }
}

/// "`__Distance` … the distance from the center of a bounding box", and
/// "You can use `__Distance` as a `$orderby` value for bounding box
/// searches".
#[test]
fn docs_query_by_area_bbox_distance_from_the_center() {
    let sample = Sample::start();
    let (south, west, north, east) = BBOX;
    let center = ((south + north) / 2.0, (west + east) / 2.0);
    let reply = sample.query(&format!(
        "{BBOX_FILTER}&$select=EntityID,__Distance&$orderby=__Distance&$format=json&key={}",
        sample.server.query_key
    ));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let mut expected: Vec<(f64, &str)> = Vec::new();
    let all = shops();
    for shop in all.iter().filter(|s| s.lat >= south && s.lat <= north && s.lon >= west && s.lon <= east) {
        expected.push((distance_km(center, (shop.lat, shop.lon)), shop.id));
    }
    expected.sort_by(|a, b| a.0.total_cmp(&b.0));
    let feed = reply.json();
    let got: Vec<(f64, String)> = feed["d"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["__Distance"].as_f64().unwrap(), e["EntityID"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(got.len(), expected.len());
    for ((distance, id), (want, want_id)) in got.iter().zip(&expected) {
        assert_eq!(id, want_id);
        assert!((distance - want).abs() < 1e-6, "{id}: {distance} vs {want}");
    }
}
