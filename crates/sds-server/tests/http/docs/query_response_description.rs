//! `SDS/query-api/query-response-description.md`: a feed whose entries
//! carry `IsWiFiHotSpot` (Edm.Boolean `1`/`0`), `LastUpdatedDate`
//! (Edm.DateTime without zone), `Geom` and `__IntersectedGeom`
//! (Edm.Geography WKT), Atom by default and JSON with `$format=json`
//! (`\/Date(ms)\/` dates, `true`/`false`); each entry's id is a
//! query-by-ID URL that returns that entity.

use serde_json::{json, Value};

use super::support::*;

const SHAPES_CSV: &str = "Bing Spatial Data Services, 1.0, FourthCoffeeShops\n\
EntityID(Edm.String,primaryKey),IsWiFiHotSpot(Edm.Boolean),LastUpdatedDate(Edm.DateTime),Geom(Edm.Geography)\n\
-715,true,2010-11-03T23:31:37Z,\"POLYGON((-121.95 41.01, -121.94 41.02, -121.94 41.01, -121.95 41.01))\"\n\
-661,false,2010-11-03T00:00:00Z,POINT(-121.9 41.05)\n";

#[test]
fn docs_query_response_description_atom_and_json_examples() {
    let server = TestServer::start();
    let access_id = load_ok(&server, "FourthCoffeeSample", "csv", SHAPES_CSV);
    let area = "POLYGON((-122 41,-121 41,-121 42,-122 42,-122 41))";
    let base = format!("/REST/v1/data/{access_id}/FourthCoffeeSample/FourthCoffeeShops");
    let query = format!("spatialFilter=intersects('{area}')&$select=IsWiFiHotSpot,LastUpdatedDate,Geom,intersection('{area}')&$orderby=IsWiFiHotSpot%20desc&key={}", server.query_key);
    let uri = |id: &str| format!("{}/data/{access_id}/FourthCoffeeSample/FourthCoffeeShops('{id}')", server.root);

    let atom = get(&server, &format!("{base}?{query}"));
    assert_eq!(atom.status, 200, "{}", atom.body);
    assert!(atom.content_type.starts_with("application/atom+xml"), "Atom by default: {}", atom.content_type);
    let entries = vec![
        atom_entry(
            &uri("-715"),
            &[
                atom_property("IsWiFiHotSpot", Some("Edm.Boolean"), "1"),
                atom_property("LastUpdatedDate", Some("Edm.DateTime"), "2010-11-03T23:31:37"),
                atom_property("Geom", Some("Edm.Geography"), "{{nonempty}}"),
                atom_property("__IntersectedGeom", Some("Edm.Geography"), "{{nonempty}}"),
            ],
        ),
        atom_entry(
            &uri("-661"),
            &[
                atom_property("IsWiFiHotSpot", Some("Edm.Boolean"), "0"),
                atom_property("LastUpdatedDate", Some("Edm.DateTime"), "2010-11-03T00:00:00"),
                atom_property("Geom", Some("Edm.Geography"), "{{nonempty}}"),
                atom_property("__IntersectedGeom", Some("Edm.Geography"), "{{nonempty}}"),
            ],
        ),
    ];
    assert_xml_matches("query response Atom", &atom_feed(&entries), &atom.body, &[]);

    let json = get(&server, &format!("{base}?{query}&$format=json"));
    assert_eq!(json.status, 200, "{}", json.body);
    let results = vec![
        json_entry(
            &uri("-715"),
            &[
                ("IsWiFiHotSpot", json!(true)),
                ("LastUpdatedDate", json!(odata_date("2010-11-03T23:31:37"))),
                ("Geom", json!("{{nonempty}}")),
                ("__IntersectedGeom", json!("{{nonempty}}")),
            ],
        ),
        json_entry(
            &uri("-661"),
            &[
                ("IsWiFiHotSpot", json!(false)),
                ("LastUpdatedDate", json!(odata_date("2010-11-03T00:00:00"))),
                ("Geom", json!("{{nonempty}}")),
                ("__IntersectedGeom", json!("{{nonempty}}")),
            ],
        ),
    ];
    assert_json_matches("query response JSON", &json_feed(results), &json.body, &[]);
    assert!(json.body.contains(r#""\/Date(1288827097000)\/""#), "the page's escaped form: {}", json.body);

    // Geography values are WKT of the uploaded shapes (the page writes SQL
    // Server's `POINT (x y)` spacing; the numbers are what matters).
    let feed: Value = json.json();
    let point = &feed["d"]["results"][1];
    for member in ["Geom", "__IntersectedGeom"] {
        assert_eq!(wkt_numbers(point[member].as_str().unwrap()), ("POINT".to_owned(), vec![-121.9, 41.05]), "{member}");
    }
    let (kind, numbers) = wkt_numbers(feed["d"]["results"][0]["Geom"].as_str().unwrap());
    assert_eq!((kind.as_str(), numbers.len()), ("POLYGON", 8));
    let (kind, numbers) = wkt_numbers(feed["d"]["results"][0]["__IntersectedGeom"].as_str().unwrap());
    assert_eq!((kind.as_str(), numbers.len()), ("POLYGON", 8), "the triangle lies inside the area");

    // Each entry's id is the Query by ID URL of that entity.
    for entry in feed["d"]["results"].as_array().unwrap() {
        let uri = entry["__metadata"]["uri"].as_str().unwrap();
        let one = get(&server, &format!("{uri}?$format=json&key={}", server.query_key));
        assert_eq!(one.status, 200, "{uri}: {}", one.body);
        assert_eq!(one.json()["d"]["EntityID"], id_of_uri(uri));
    }
}

/// "Information returned for each entity includes a Query by ID URL that
/// returns the complete information for that entity": also for IDs with
/// characters a URL must encode (finding 10).
#[test]
fn docs_query_response_description_entry_ids_fetch_their_entity() {
    let server = TestServer::start();
    let csv = "Bing Spatial Data Services, 1.0, Shops\nEntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\n\
        a/b,1,1\na%2Fb,2,2\nit's,3,3\nx y,4,4\nq?k=1,5,5\n";
    let access_id = load_ok(&server, "Odd", "csv", csv);
    let feed =
        get(&server, &format!("/REST/v1/data/{access_id}/Odd/Shops?$format=json&key={}", server.query_key)).json();
    let entries = feed["d"]["results"].as_array().unwrap();
    assert_eq!(entries.len(), 5);
    for entry in entries {
        let uri = entry["__metadata"]["uri"].as_str().unwrap();
        let separator = if uri.contains('?') { '&' } else { '?' };
        let one = get(&server, &format!("{uri}{separator}$format=json&key={}", server.query_key));
        assert_eq!(one.status, 200, "{uri} (finding 10): {}", one.body);
        assert_eq!(one.json()["d"]["EntityID"], entry["EntityID"], "{uri} names its own entity (finding 10)");
    }
}
