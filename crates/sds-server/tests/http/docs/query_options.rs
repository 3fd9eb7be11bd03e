//! `SDS/query-api/query-options.md`: the page's examples of each option —
//! `$filter` with `Eq … And …`, `StartsWith(…)` with and without `eq true`,
//! `EndsWith(…) eq true`, every listed operator and grouping; `$format`;
//! `$inlinecount=allpages`; `$orderby` (≤ 3 keys, not Latitude/Longitude);
//! `$select` names and the unquoted `intersection(POLYGON(…))`; `$skip`
//! with `$top` paging; `$top` default 25 and maximum 250; the four spatial
//! filters' forms, `intersects` with the page's blank after a comma.

use std::fmt::Write as _;

use serde_json::Value;

use super::support::*;

fn ids(reply: &Reply) -> Vec<String> {
    assert_eq!(reply.status, 200, "{}", reply.body);
    result_ids(&reply.json(), "EntityID")
}

fn sorted_ids(keep: impl Fn(&Shop) -> bool) -> Vec<String> {
    let mut ids: Vec<String> = shops().iter().filter(|shop| keep(shop)).map(|shop| shop.id.to_owned()).collect();
    ids.sort();
    ids
}

#[test]
fn docs_query_options_filter_examples_and_operators() {
    let sample = Sample::start();
    let key = &sample.server.query_key;
    let run = |filter: &str| ids(&sample.query(&format!("$filter={filter}&$top=250&$format=json&key={key}")));
    // "$filter=City Eq 'Seattle' And OpenOnSunday Eq 'Y'"
    assert_eq!(run("PrimaryCity Eq 'Clearwater' And StoreOpen Eq 'Y'"), sorted_ids(|s| s.city == "Clearwater"));
    // "$filter=StartsWith(Locality,'San')" (no `eq true`) and its `eq true` form.
    let clear = sorted_ids(|s| s.city.starts_with("Clear"));
    assert_eq!(run("StartsWith(PrimaryCity,'Clear')"), clear);
    assert_eq!(run("StartsWith(PrimaryCity,'Clear') eq true"), clear);
    // "$filter=EndsWith(Locality,'York') eq true"
    assert_eq!(run("EndsWith(PrimaryCity,'Hanover') eq true"), sorted_ids(|s| s.city.ends_with("Hanover")));
    // The operator table: Eq Ne Gt Ge Lt Le And Or Not and grouping.
    assert_eq!(run("StoreType Ne 'Coffee Shop'"), sorted_ids(|s| s.store_type != "Coffee Shop"));
    assert_eq!(run("PostalCode Gt '33760'"), sorted_ids(|s| s.postal > "33760"));
    assert_eq!(run("PostalCode Ge '33760'"), sorted_ids(|s| s.postal >= "33760"));
    assert_eq!(run("PostalCode Lt '07052'"), sorted_ids(|s| s.postal < "07052"));
    assert_eq!(run("PostalCode Le '07052'"), sorted_ids(|s| s.postal <= "07052"));
    assert_eq!(
        run("(StoreType Eq 'Kiosk' Or StoreType Eq 'Drive-Thru') And Not (IsWiFiHotSpot Eq true)"),
        sorted_ids(|s| (s.store_type == "Kiosk" || s.store_type == "Drive-Thru") && !s.wifi)
    );
    // "You cannot filter on the latitude and longitude entity properties."
    for forbidden in ["Latitude Gt 40", "Longitude Lt 0"] {
        let reply = sample.query(&format!("$filter={forbidden}&$format=json&key={key}"));
        assert_eq!(reply.status, 400, "{forbidden}: {}", reply.body);
    }
}

#[test]
fn docs_query_options_format_inlinecount_orderby_select() {
    let sample = Sample::start();
    let key = &sample.server.query_key;
    let filter = "$filter=CountryRegion Eq 'United States'";
    let total = shops().iter().filter(|s| s.country == "United States").count();

    // $inlinecount=allpages: the count of all matches, whatever $top is.
    let json = sample.query(&format!("{filter}&$inlinecount=allpages&$top=2&$format=json&key={key}"));
    assert_eq!(json.status, 200, "{}", json.body);
    assert_eq!(json.json()["d"]["__count"], Value::String(total.to_string()));
    assert_eq!(json.json()["d"]["results"].as_array().unwrap().len(), 2);
    let atom = sample.query(&format!("{filter}&$inlinecount=allpages&$top=2&key={key}"));
    assert!(atom.body.contains(&format!("<m:count>{total}</m:count>")), "{}", atom.body);
    let none = sample.query(&format!("{filter}&$inlinecount=none&$format=json&key={key}"));
    assert!(none.json()["d"].get("__count").is_none(), "{}", none.body);

    // $format: Atom by default, JSON when asked.
    assert!(atom.content_type.starts_with("application/atom+xml"), "{}", atom.content_type);
    assert!(json.content_type.starts_with("application/json"), "{}", json.content_type);

    // "$orderby=PostalCode": ascending; ties by the default order (entity ID).
    let mut by_postal: Vec<Shop> = shops().into_iter().filter(|s| s.country == "United States").collect();
    by_postal.sort_by(|a, b| a.postal.cmp(b.postal).then(a.id.cmp(b.id)));
    let expected: Vec<String> = by_postal.iter().map(|s| s.id.to_owned()).collect();
    assert_eq!(ids(&sample.query(&format!("{filter}&$orderby=PostalCode&$top=250&$format=json&key={key}"))), expected);
    // Up to three keys; not four; not Latitude/Longitude.
    let three = sample.query(&format!("{filter}&$orderby=StoreType,PostalCode desc,Name&$format=json&key={key}"));
    assert_eq!(three.status, 200, "{}", three.body);
    let four = sample.query(&format!("{filter}&$orderby=StoreType,PostalCode,Name,Phone&$format=json&key={key}"));
    assert_eq!(four.status, 400, "{}", four.body);
    for forbidden in ["Latitude", "Longitude"] {
        let reply = sample.query(&format!("{filter}&$orderby={forbidden}&$format=json&key={key}"));
        assert_eq!(reply.status, 400, "{forbidden}: {}", reply.body);
    }

    // "$select=Name,Phone", and "*" for every property.
    let named = sample.query(&format!("{filter}&$select=Name,Phone&$top=1&$format=json&key={key}"));
    assert_eq!(key_order(&named.body, "/d/results/0"), ["__metadata", "Name", "Phone"]);
    let star = sample.query(&format!("{filter}&$select=*&$top=1&$format=json&key={key}"));
    assert_eq!(key_order(&star.body, "/d/results/0").len(), 1 + 24);
}

/// `$select=intersection(POLYGON((…)))` (the page writes the WKT without
/// quotes) and `spatialFilter=intersects('POLYGON((…, …))')` with the
/// page's blank after one comma.
#[test]
fn docs_query_options_intersection_and_intersects() {
    let sample = Sample::start();
    let key = &sample.server.query_key;
    let polygon = "POLYGON((9.92 57.06,9.95 57.06, 9.95 57.03,9.92 57.03,9.92 57.06))";
    let reply = sample.query(&format!(
        "spatialFilter=intersects('{polygon}')&$select=EntityID,intersection({polygon})&$format=json&key={key}"
    ));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let feed = reply.json();
    assert_eq!(result_ids(&feed, "EntityID"), ["-31067"]);
    let denmark = sample_shop("-31067");
    let (kind, numbers) = wkt_numbers(feed["d"]["results"][0]["__IntersectedGeom"].as_str().unwrap());
    assert_eq!(
        (kind.as_str(), numbers),
        ("POINT", vec![denmark.lon, denmark.lat]),
        "the entity's point is its intersection"
    );
}

/// "&$skip=0&$top=10 [results 1 to 10]", "&$skip=10&$top=10 [11 to 20]";
/// `$top` defaults to 25 and stops at 250 (more with `$skip`).
#[test]
fn docs_query_options_skip_and_top() {
    let server = TestServer::start();
    let mut csv = String::from("Bing Spatial Data Services, 1.0, Stops\nEntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double),Elevation(Edm.Double)\n");
    for n in 0..300 {
        let _ = writeln!(csv, "s{n:03},{},{},{}", 47.0 + n as f64 / 1000.0, -122.0, 300 - n);
    }
    let access_id = load_ok(&server, "Transit", "csv", &csv);
    let page = |query: &str| {
        let reply = get(
            &server,
            &format!("/REST/v1/data/{access_id}/Transit/Stops?{query}&$format=json&key={}", server.query_key),
        );
        ids(&reply)
    };
    let all: Vec<String> = (0..300).map(|n| format!("s{n:03}")).collect();
    assert_eq!(page("$filter=EntityID Ne ''&$skip=0&$top=10"), all[0..10]);
    assert_eq!(page("$filter=EntityID Ne ''&$skip=10&$top=10"), all[10..20]);
    assert_eq!(page("$filter=EntityID Ne ''").len(), 25, "$top defaults to 25");
    assert_eq!(page("$filter=EntityID Ne ''&$top=250"), all[0..250]);
    assert_eq!(page("$filter=EntityID Ne ''&$top=300").len(), 250, "at most 250 per response");
    assert_eq!(page("$filter=EntityID Ne ''&$skip=250&$top=250"), all[250..300]);
    // "You can use the elevation property" to sort.
    let mut by_elevation = all.clone();
    by_elevation.reverse();
    assert_eq!(page("$filter=EntityID Ne ''&$orderby=Elevation&$top=5"), by_elevation[0..5]);
}

/// The four spatial filter forms of "Spatial Filter Query Options".
#[test]
fn docs_query_options_spatial_filters() {
    let flags = outside_services();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let sample = Sample::start_with(&flags);
    let key = &sample.server.query_key;
    let count =
        |filter: &str| ids(&sample.query(&format!("spatialFilter={filter}&$top=250&$format=json&key={key}"))).len();
    let near = shops().iter().filter(|s| distance_km((27.894007, -82.670776), (s.lat, s.lon)) <= 3.0).count();
    assert_eq!(count("nearby(27.894007,-82.670776,3)"), near);
    let boxed = shops().iter().filter(|s| s.lat >= 27.0 && s.lat <= 28.0 && s.lon >= -83.0 && s.lon <= -82.0).count();
    assert_eq!(count("bbox(27,-83,28,-82)"), boxed);
    let route = shops()
        .iter()
        .filter(|s| distance_to_segment_km((s.lat, s.lon), (29.5386, -95.1194), (29.5431, -95.01831)) <= 1.6)
        .count();
    assert!(route > 0);
    assert_eq!(count("nearRoute('Webster,TX','Kemah,TX')"), route);
    assert_eq!(count("intersects('POLYGON((-83 27,-82 27, -82 28,-83 28,-83 27))')"), boxed);
}
