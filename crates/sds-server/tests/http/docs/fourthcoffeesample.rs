//! `SDS/public-data-sources/fourthcoffeesample.md`: a public data source of
//! the page's shape (its properties, with its table's spelling
//! `IsWheelChairAccessible`: property names are case-insensitive, SPEC.md
//! §9 #22) queried as the page does, with any valid key, at the base URL
//! `data/{accessId}/FourthCoffeeSample/FourthCoffeeShops`.

use serde_json::json;

use super::support::*;

#[test]
fn docs_fourthcoffeesample_query_example_with_any_key() {
    let sample = Sample::start();
    let server = &sample.server;
    let public = get(
        server,
        &format!(
            "/REST/v1/data/{}/{SAMPLE_NAME}/$updateDataSource?setPublic=1&key={}",
            sample.access_id, server.master_key
        ),
    );
    wait(server, &location_of(&public));
    let any_key = server.create_key("any-bing-maps-account");

    let reply = sample.query(&format!(
        "spatialFilter=nearby(40.83274904439099,-74.3163299560546935,5)&$select=EntityID,Latitude,Longitude,__Distance&$top=3&$format=json&key={any_key}"
    ));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let center = (40.83274904439099, -74.31632995605469);
    let mut near: Vec<(f64, Shop)> =
        shops().into_iter().map(|s| (distance_km(center, (s.lat, s.lon)), s)).filter(|(d, _)| *d <= 5.0).collect();
    near.sort_by(|a, b| a.0.total_cmp(&b.0));
    let results: Vec<serde_json::Value> = near
        .iter()
        .take(3)
        .map(|(_, shop)| {
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
    assert_json_matches("FourthCoffeeSample query", &json_feed(results), &reply.body, &[]);

    let spelled = sample.query(&format!("$filter=IsWheelChairAccessible eq 1&$select=EntityID,IsWheelChairAccessible&$top=250&$format=json&key={any_key}"));
    assert_eq!(spelled.status, 200, "{}", spelled.body);
    let feed = spelled.json();
    let mut expected: Vec<&str> = Vec::new();
    let all = shops();
    for shop in all.iter().filter(|s| s.wheelchair) {
        expected.push(shop.id);
    }
    expected.sort();
    assert_eq!(result_ids(&feed, "EntityID"), expected);
    assert_eq!(feed["d"]["results"][0]["IsWheelchairAccessible"], true, "the schema's spelling: {}", spelled.body);
}
