//! `SDS/query-api/query-by-property.md`: `$filter=StoreType Eq 'Coffee
//! Shop'` with `$orderby=IsWiFiHotSpot`, and the wildcard search
//! `StartsWith(PrimaryCity,'Clear') eq true` with `$select` naming
//! `IsWheelChairAccessible` in another casing than the schema's; the
//! template with a bare `?bbox(…)`; `$filter` without a spatial filter.
//!
//! Order: both examples show `true` before `false` for an `$orderby`
//! without `desc` (the text says "sorted in descending order"); SPEC.md
//! §9 #16 keeps OData's ascending default, so the page's order is checked
//! with an explicit `desc` and the URL as written with ascending order.
//! Within equal keys the page's entries follow the nearby default
//! (distance from the point), not the entity ID.

use serde_json::{json, Value};

use super::support::*;

const CENTER: (f64, f64) = (27.894007, -82.670776);

/// Shops within `km` of the page's point passing `keep`, ordered by
/// `key` (descending if asked), then distance, then entity ID.
fn ordered(km: f64, keep: impl Fn(&Shop) -> bool, key: impl Fn(&Shop) -> bool, descending: bool) -> Vec<Shop> {
    let mut hits: Vec<(Shop, f64)> = shops()
        .into_iter()
        .map(|shop| {
            let distance = distance_km(CENTER, (shop.lat, shop.lon));
            (shop, distance)
        })
        .filter(|(shop, distance)| *distance <= km && keep(shop))
        .collect();
    hits.sort_by(|a, b| {
        let by_key = key(&a.0).cmp(&key(&b.0));
        let by_key = if descending { by_key.reverse() } else { by_key };
        by_key.then(a.1.total_cmp(&b.1)).then(a.0.id.cmp(b.0.id))
    });
    hits.into_iter().map(|(shop, _)| shop).collect()
}

fn boolean(value: bool) -> &'static str {
    if value {
        "1"
    } else {
        "0"
    }
}

#[test]
fn docs_query_by_property_filter_and_orderby_atom_and_json() {
    let sample = Sample::start();
    let key = &sample.server.query_key;
    let filter =
        "spatialFilter=nearby(27.894007,-82.670776,2)&$filter=StoreType%20Eq%20'Coffee Shop'&$select=IsWiFiHotSpot";
    for (orderby, descending) in [("$orderby=IsWiFiHotSpot%20desc", true), ("$orderby=IsWiFiHotSpot", false)] {
        let expected = ordered(2.0, |shop| shop.store_type == "Coffee Shop", |shop| shop.wifi, descending);
        assert!(expected.len() >= 3 && expected.iter().any(|shop| shop.wifi));
        let atom = sample.query(&format!("{filter}&{orderby}&key={key}"));
        assert_eq!(atom.status, 200, "{}", atom.body);
        let entries: Vec<String> = expected
            .iter()
            .map(|shop| {
                atom_entry(
                    &sample.entry_uri(shop.id),
                    &[atom_property("IsWiFiHotSpot", Some("Edm.Boolean"), boolean(shop.wifi))],
                )
            })
            .collect();
        assert_xml_matches(&format!("query-by-property {orderby} Atom"), &atom_feed(&entries), &atom.body, &[]);

        let json = sample.query(&format!("{filter}&{orderby}&$format=json&key={key}"));
        assert_eq!(json.status, 200, "{}", json.body);
        let results: Vec<Value> = expected
            .iter()
            .map(|shop| json_entry(&sample.entry_uri(shop.id), &[("IsWiFiHotSpot", json!(shop.wifi))]))
            .collect();
        assert_json_matches(&format!("query-by-property {orderby} JSON"), &json_feed(results), &json.body, &[]);
    }
}

#[test]
fn docs_query_by_property_wildcard_search_atom_and_json() {
    let sample = Sample::start();
    let key = &sample.server.query_key;
    let query = "spatialFilter=nearby(27.894007,-82.670776,10)&$filter=StartsWith(PrimaryCity,'Clear')%20eq%20true";
    let select = "$select=DisplayName,IsWheelChairAccessible,Latitude,Longitude";
    for (orderby, descending) in
        [("$orderby=IsWheelchairAccessible%20desc", true), ("$orderby=IsWheelchairAccessible", false)]
    {
        let expected = ordered(10.0, |shop| shop.city.starts_with("Clear"), |shop| shop.wheelchair, descending);
        assert!(expected.len() >= 4);
        let atom = sample.query(&format!("{query}&{orderby}&{select}&key={key}"));
        assert_eq!(atom.status, 200, "{}", atom.body);
        let entries: Vec<String> = expected
            .iter()
            .map(|shop| {
                atom_entry(
                    &sample.entry_uri(shop.id),
                    &[
                        atom_property("DisplayName", None, &shop.display_name()),
                        atom_property("IsWheelchairAccessible", Some("Edm.Boolean"), boolean(shop.wheelchair)),
                        atom_property("Latitude", Some("Edm.Double"), &shop.lat.to_string()),
                        atom_property("Longitude", Some("Edm.Double"), &shop.lon.to_string()),
                    ],
                )
            })
            .collect();
        assert_xml_matches(
            &format!("query-by-property wildcard {orderby} Atom"),
            &atom_feed(&entries),
            &atom.body,
            &[],
        );

        let json = sample.query(&format!("{query}&{orderby}&{select}&$format=json&key={key}"));
        assert_eq!(json.status, 200, "{}", json.body);
        let results: Vec<Value> = expected
            .iter()
            .map(|shop| {
                json_entry(
                    &sample.entry_uri(shop.id),
                    &[
                        ("DisplayName", json!(shop.display_name())),
                        ("IsWheelchairAccessible", json!(shop.wheelchair)),
                        ("Latitude", json!(shop.lat)),
                        ("Longitude", json!(shop.lon)),
                    ],
                )
            })
            .collect();
        assert_json_matches(
            &format!("query-by-property wildcard {orderby} JSON"),
            &json_feed(results),
            &json.body,
            &[],
        );
        assert_eq!(
            key_order(&json.body, "/d/results/0"),
            ["__metadata", "DisplayName", "IsWheelchairAccessible", "Latitude", "Longitude"],
            "$select order, schema casing"
        );
    }
}

/// The page's templates: the bounding-box template writes `?bbox(…)`
/// without `spatialFilter=`; the `$filter` examples of the template table
/// (`Eq`, `and`, `Ge`); no spatial filter at all (its C# sample).
#[test]
fn docs_query_by_property_template_forms() {
    let sample = Sample::start();
    let key = &sample.server.query_key;
    let in_box = |shop: &Shop| shop.lat >= 27.85 && shop.lat <= 27.95 && shop.lon >= -82.75 && shop.lon <= -82.6;
    let bare = sample.query(&format!(
        "bbox(27.85,-82.75,27.95,-82.6)&$filter=StoreType%20Eq%20'Coffee Shop'&$format=json&key={key}"
    ));
    assert_eq!(bare.status, 200, "{}", bare.body);
    let mut expected: Vec<&str> = Vec::new();
    let all = shops();
    for shop in &all {
        if in_box(shop) && shop.store_type == "Coffee Shop" {
            expected.push(shop.id);
        }
    }
    expected.sort();
    assert_eq!(result_ids(&bare.json(), "EntityID"), expected);

    let both = sample.query(&format!(
        "$filter=CountryRegion%20Eq%20'United States'%20and%20Open%20Ge%20700&$top=250&$format=json&key={key}"
    ));
    assert_eq!(both.status, 200, "{}", both.body);
    let mut expected: Vec<&str> =
        all.iter().filter(|s| s.country == "United States" && s.open >= 700).map(|s| s.id).collect();
    expected.sort();
    assert_eq!(result_ids(&both.json(), "EntityID"), expected);
}
