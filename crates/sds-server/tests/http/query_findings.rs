//! Regression tests for issue 9's query findings, over HTTP on the real
//! server: 3 (spatial filters test an entity's geography, on the Natural
//! Earth countries), 9 (the toolkit's doubly quoted `startsWith` text) and
//! 10 (entry URIs fetch the entity they name, whatever its ID holds).

use serde_json::Value;

use crate::common::server::{access_id_of, JsonBody, TestServer};
use crate::common::toolkit_client::{escape_data_string, raw_get};
use crate::common::xdoc;
use crate::toolkit_query::{haversine_km, idf_places, Fixture};

const ATOM: &str = "http://www.w3.org/2005/Atom";
const DATA: &str = "http://schemas.microsoft.com/ado/2007/08/dataservices";

fn json(server: &TestServer, base: &str, query: &str) -> Value {
    let response = server.get(&format!("{base}?{query}&$format=json&key={}", server.query_key));
    assert_eq!(response.status(), 200, "{query}");
    response.json_value()
}

fn column(body: &Value, name: &str) -> Vec<String> {
    body["d"]["results"].as_array().unwrap().iter().map(|entry| entry[name].as_str().unwrap().to_owned()).collect()
}

#[test]
fn finding_3_nearby_matches_polygon_containing_point() {
    let fixture = Fixture::new();
    let (server, countries) = (&fixture.server, &fixture.countries_base);
    let body = json(server, countries, "spatialFilter=nearby(48.8566,2.3522,10)&$select=name,__Distance");
    assert_eq!(column(&body, "name"), ["France"]);
    assert_eq!(body["d"]["results"][0]["__Distance"], 0.0);
    // The same countries as intersects finds with the point itself.
    let point = json(server, countries, "spatialFilter=intersects('POINT(2.3522 48.8566)')&$select=name");
    assert_eq!(column(&point, "name"), ["France"]);
}

#[test]
fn finding_3_nearby_orders_countries_by_distance_to_their_edge() {
    let fixture = Fixture::new();
    let (server, countries) = (&fixture.server, &fixture.countries_base);
    // Brussels: Belgium contains it; its neighbours' edges are within 150 km.
    let body = json(server, countries, "spatialFilter=nearby(50.8503,4.3517,150)&$select=name,__Distance&$top=250");
    let results = body["d"]["results"].as_array().unwrap();
    let names = column(&body, "name");
    assert_eq!(names[0], "Belgium");
    assert_eq!(results[0]["__Distance"], 0.0);
    assert!(
        names.len() >= 3 && names.contains(&"France".to_owned()) && names.contains(&"Netherlands".to_owned()),
        "{names:?}"
    );
    let distances: Vec<f64> = results.iter().map(|entry| entry["__Distance"].as_f64().unwrap()).collect();
    assert!(distances.windows(2).all(|pair| pair[0] <= pair[1]), "{distances:?}");
    assert!(distances[1..].iter().all(|distance| *distance > 0.0 && *distance <= 150.0), "{distances:?}");
    // Every country at distance 0 is one that contains the point.
    let containing = json(server, countries, "spatialFilter=intersects('POINT(4.3517 50.8503)')&$select=name");
    let at_zero: Vec<String> =
        names.iter().zip(&distances).filter(|(_, d)| **d == 0.0).map(|(n, _)| n.clone()).collect();
    assert_eq!(at_zero, column(&containing, "name"));
    // A smaller radius keeps exactly the countries nearer than it.
    let radius = (distances[1] + distances[2]) / 2.0;
    let nearer = json(server, countries, &format!("spatialFilter=nearby(50.8503,4.3517,{radius})&$select=name"));
    let expected: Vec<String> =
        names.iter().zip(&distances).filter(|(_, d)| **d <= radius).map(|(n, _)| n.clone()).collect();
    assert_eq!(column(&nearer, "name"), expected);
}

#[test]
fn finding_3_bbox_matches_geography_touching_box() {
    let fixture = Fixture::new();
    let (server, countries) = (&fixture.server, &fixture.countries_base);
    // A small box around Paris, far from France's centroid.
    let body = json(server, countries, "spatialFilter=bbox(48.8,2.3,48.9,2.4)&$select=name,__Distance");
    assert_eq!(column(&body, "name"), ["France"]);
    assert_eq!(body["d"]["results"][0]["__Distance"], 0.0, "the box's centre is in France");
    // Across the antimeridian: Fiji's islands lie on both sides of it.
    let body = json(server, countries, "spatialFilter=bbox(-17,179.5,-16,-179.5)&$select=name");
    assert_eq!(column(&body, "name"), ["Fiji"]);
    let west_only = json(server, countries, "spatialFilter=bbox(-17,-179.9,-16,-179.5)&$select=name");
    assert_eq!(column(&west_only, "name"), ["Fiji"], "the part east of the antimeridian");
    // Entities without a geography (the cities) keep their point.
    let cities = &fixture.cities_base;
    let body = json(server, cities, "spatialFilter=bbox(48.8,2.3,48.9,2.4)&$select=EntityID&$top=250");
    let expected: Vec<String> = fixture
        .places
        .iter()
        .filter(|place| (48.8..=48.9).contains(&place.latitude) && (2.3..=2.4).contains(&place.longitude))
        .map(|place| place.id.clone())
        .collect();
    assert_eq!(column(&body, "EntityID"), expected);
    assert!(!expected.is_empty());
}

/// Shops whose names the toolkit's wildcard searches look for.
const SHOPS_CSV: &str = "Bing Spatial Data Services, 1.0, Shop
EntityID(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)
1,Café de Flore,48.854,2.3326
2,Cafeteria,48.86,2.35
3,O'Brien's Pub,48.87,2.36
4,Rock',48.88,2.37
5,Le Café,48.89,2.38
";

#[test]
fn finding_9_toolkit_doubly_quoted_startswith_matches() {
    let server = TestServer::start();
    let job = server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV);
    assert_eq!(job["status"], "Completed", "{job}");
    let base = format!("{}/data/{}/Shops/Shop", server.root, access_id_of(&job));
    // The filter exactly as the toolkit's FilterExpression writes it.
    let search = |function: &str, text: &str| {
        let filter = format!("{function}(Name,''{}'')%20eq%20true", escape_data_string(&text.replace('\'', "''")));
        let url = format!("{base}?&$filter={filter}&key={}&clientApi=SDSToolkit", server.query_key);
        let (status, body) = raw_get(&url);
        assert_eq!(status, 200, "{url}: {body}");
        let feed = xdoc::parse(&body);
        feed.descendants()
            .into_iter()
            .filter(|element| element.namespace == DATA && element.local == "EntityID")
            .map(|element| element.value())
            .collect::<Vec<_>>()
    };
    assert_eq!(search("startsWith", "Café"), ["1"]);
    assert_eq!(search("startsWith", "caf"), ["1", "2"]);
    assert_eq!(search("startsWith", "O'Brien"), ["3"]);
    assert_eq!(search("startsWith", "Rock'"), ["4"]);
    assert_eq!(search("endsWith", "Café"), ["5"]);
    assert_eq!(search("endsWith", "'s Pub"), ["3"]);
}

/// IDs that a link must encode: a slash, an escape, a quote, a space, `?`
/// and `#`, non-ASCII.
const ODD_IDS_CSV: &str = "Bing Spatial Data Services, 1.0, Thing
Id(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)
a/b,slash,1,1
a%2Fb,escaped slash,2,2
O'Hara's,quotes,3,3
sp ace?x#y,space query fragment,4,4
Zürich,non-ASCII,5,5
100%,percent,6,6
";

#[test]
fn finding_10_entry_uris_fetch_the_entity_they_name() {
    let server = TestServer::start();
    let job = server.load_and_wait("Odd", "complete", "csv", ODD_IDS_CSV);
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!(job["failedEntityCount"], 0, "{job}");
    let base = format!("{}/data/{}/Odd/Thing", server.root, access_id_of(&job));
    let feed = json(&server, &base, "$top=250");
    let entries = feed["d"]["results"].as_array().unwrap();
    assert_eq!(entries.len(), 6);
    let atom = xdoc::parse(&server.get(&format!("{base}?$top=250&key={}", server.query_key)).text().unwrap());
    let atom_ids: Vec<String> =
        atom.elements().filter(|e| e.local == "entry").map(|e| e.element(ATOM, "id").unwrap().value()).collect();
    for (entry, atom_id) in entries.iter().zip(&atom_ids) {
        let id = entry["Id"].as_str().unwrap();
        let uri = entry["__metadata"]["uri"].as_str().unwrap();
        assert_eq!(uri, atom_id, "JSON and Atom name the entity alike");
        assert!(uri.is_ascii() && !uri.contains(' ') && !uri.contains('#') && !uri.contains('?'), "{uri}");
        // Fetched byte for byte: JSON single entry, then the Atom entry.
        let (status, body) = raw_get(&format!("{uri}?key={}&$format=json", server.query_key));
        assert_eq!(status, 200, "{uri}: {body}");
        let single: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(single["d"]["Id"], id, "{uri}");
        assert_eq!(single["d"]["__metadata"]["uri"], uri);
        let (status, body) = raw_get(&format!("{uri}?key={}", server.query_key));
        assert_eq!(status, 200, "{uri}");
        let entry = xdoc::parse(&body);
        assert_eq!(entry.element(ATOM, "id").unwrap().value(), *uri);
        let properties =
            entry.descendants().into_iter().find(|e| e.namespace == DATA && e.local == "Id").unwrap().value();
        assert_eq!(properties, id);
    }
    // The quote is doubled, as the router reads it.
    assert!(atom_ids.iter().any(|uri| uri.ends_with("('O''Hara''s')")), "{atom_ids:?}");
    assert!(atom_ids.iter().any(|uri| uri.ends_with("('a%252Fb')")), "{atom_ids:?}");
}

#[test]
fn finding_10_places_from_real_data_round_trip_by_uri() {
    // Names used as IDs: quotes, hyphens, spaces (the places of Île-de-France).
    let places = idf_places();
    let mut csv = String::from(
        "Bing Spatial Data Services, 1.0, Place\nName(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\n",
    );
    for place in places.iter().filter(|place| place.name.contains('\'') || place.name.contains(' ')) {
        csv.push_str(&format!("\"{}\",{},{}\n", place.name.replace('"', "\"\""), place.latitude, place.longitude));
    }
    let server = TestServer::start();
    let job = server.load_and_wait("Named", "complete", "csv", csv);
    assert_eq!(job["status"], "Completed", "{job}");
    let base = format!("{}/data/{}/Named/Place", server.root, access_id_of(&job));
    let feed = json(&server, &base, "spatialFilter=nearby(48.85341,2.3488,30)&$top=250");
    let entries = feed["d"]["results"].as_array().unwrap();
    assert!(entries.len() > 3);
    for entry in entries {
        let (status, body) =
            raw_get(&format!("{}?key={}&$format=json", entry["__metadata"]["uri"].as_str().unwrap(), server.query_key));
        assert_eq!(status, 200, "{entry}");
        let single: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(single["d"]["Name"], entry["Name"]);
        let place = places.iter().find(|place| place.name == entry["Name"]).unwrap();
        assert!(haversine_km(48.85341, 2.3488, place.latitude, place.longitude) <= 30.0);
    }
}
