//! `SDS/query-api/query-near-route.md`: `nearRoute('Webster,TX','Kemah,TX')`
//! and its latitude/longitude form with `$select` and `$top=3`, Atom and
//! JSON, and the second example's route parameters (`avoid`, `optimize`,
//! `travelMode`) with a leading `?&` and `output=xml`. Entities within
//! 1.6 km (one mile) of the route are returned. Order: both the page's
//! and the traffic-incident page's examples list the entities in entity-ID
//! order, not along the route (Seabrook lies between Webster and Kemah but
//! comes last; Galveston's incident comes before Houston's).
//!
//! The route comes from the router `sds` is configured with; the stand-in
//! of [`outside_services`] routes along the straight segment.

use serde_json::{json, Value};

use super::support::*;

const START: (f64, f64) = (29.5386, -95.1194);
const END: (f64, f64) = (29.5431, -95.01831);

fn expected() -> Vec<Shop> {
    let mut near: Vec<Shop> =
        shops().into_iter().filter(|s| distance_to_segment_km((s.lat, s.lon), START, END) <= 1.6).collect();
    near.sort_by(|a, b| a.id.cmp(b.id));
    near.truncate(3);
    near
}

fn sample() -> Sample {
    let flags = outside_services();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    Sample::start_with(&flags)
}

#[test]
fn docs_query_near_route_addresses_atom_and_coordinates_json() {
    let sample = sample();
    let key = &sample.server.query_key;
    let expected = expected();
    assert_eq!(expected.iter().map(|s| s.id).collect::<Vec<_>>(), ["-9460", "-9510", "-9600"]);
    let select = "$select=EntityID,Latitude,Longitude,DisplayName,Phone&$top=3";

    let atom = sample.query(&format!("spatialFilter=nearRoute('Webster,TX','Kemah,TX')&{select}&key={key}"));
    assert_eq!(atom.status, 200, "{}", atom.body);
    let entries: Vec<String> = expected
        .iter()
        .map(|shop| {
            atom_entry(
                &sample.entry_uri(shop.id),
                &[
                    atom_property("EntityID", None, shop.id),
                    atom_property("Latitude", Some("Edm.Double"), &shop.lat.to_string()),
                    atom_property("Longitude", Some("Edm.Double"), &shop.lon.to_string()),
                    atom_property("DisplayName", None, &shop.display_name()),
                    atom_property("Phone", None, shop.phone),
                ],
            )
        })
        .collect();
    assert_xml_matches("near-route Atom", &atom_feed(&entries), &atom.body, &[]);

    let json = sample.query(&format!("spatialFilter=nearRoute('29.5386,-95.1194','29.5431,-95.01831')&$select=EntityID,Latitude,Longitude,DisplayName,Phone&$format=json&$top=3&key={key}"));
    assert_eq!(json.status, 200, "{}", json.body);
    let results: Vec<Value> = expected
        .iter()
        .map(|shop| {
            json_entry(
                &sample.entry_uri(shop.id),
                &[
                    ("EntityID", json!(shop.id)),
                    ("Latitude", json!(shop.lat)),
                    ("Longitude", json!(shop.lon)),
                    ("DisplayName", json!(shop.display_name())),
                    ("Phone", json!(shop.phone)),
                ],
            )
        })
        .collect();
    assert_json_matches("near-route JSON", &json_feed(results), &json.body, &[]);
}

#[test]
fn docs_query_near_route_with_route_parameters() {
    let sample = sample();
    let reply = sample.query(&format!(
        "&spatialFilter=nearRoute('Webster,TX','Kemah,TX')&$select=EntityID,Latitude,Longitude&avoid=tolls&optimize=time&travelMode=driving&output=xml&key={}",
        sample.server.query_key
    ));
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("<feed"), "output=xml answers Atom: {}", reply.body);
    let ids: Vec<String> =
        reply.body.split("<d:EntityID>").skip(1).map(|rest| rest[..rest.find('<').unwrap()].to_owned()).collect();
    let mut all: Vec<String> = shops()
        .iter()
        .filter(|s| distance_to_segment_km((s.lat, s.lon), START, END) <= 1.6)
        .map(|s| s.id.to_owned())
        .collect();
    all.sort();
    assert_eq!(ids, all);
}
