//! Query API over HTTP: each spatial filter, property filters, query by ID,
//! Atom/JSON/JSONP, the key rules and errors.

use serde_json::Value;

use crate::common::server::{access_id_of, location, JsonBody, TestServer};

/// Coffee shops around Seattle plus two on either side of the antimeridian.
pub const CAFES_CSV: &str = "Bing Spatial Data Services, 1.0, Cafes
EntityID(Edm.String,primaryKey),Name(Edm.String),Seats(Edm.Int64),Rating(Edm.Double),IsWiFiHotSpot(Edm.Boolean),Opened(Edm.DateTime),Latitude(Edm.Double),Longitude(Edm.Double)
c1,Pike Place Beans,12,4.5,true,2010-11-03T23:31:37Z,47.6097,-122.3422
c2,Fremont Roast,8,3.9,false,2012-05-01T08:00:00Z,47.6510,-122.3500
c3,San Juan Sips,,4.1,true,,48.5343,-123.0171
c4,Redmond Drip,20,,true,2015-01-01T00:00:00Z,47.6740,-122.1215
c5,Fiji East,4,2.0,false,,-17.0,179.95
c6,Samoa West,6,2.5,true,,-17.0,-179.95
";

struct Fixture {
    server: TestServer,
    access_id: String,
}

impl Fixture {
    fn new() -> Fixture {
        let server = TestServer::start();
        let job = server.load_and_wait("Coffee", "complete", "csv", CAFES_CSV);
        assert_eq!(job["status"], "Completed", "{job}");
        let access_id = access_id_of(&job);
        Fixture { server, access_id }
    }

    fn path(&self, query: &str) -> String {
        format!("/REST/v1/data/{}/Coffee/Cafes?{query}&key={}", self.access_id, self.server.master_key)
    }

    fn json(&self, query: &str) -> Value {
        let response = self.server.get(&self.path(&format!("{query}&$format=json")));
        assert_eq!(response.status(), 200, "{query}");
        response.json_value()
    }

    fn ids(&self, query: &str) -> Vec<String> {
        self.json(query)["d"]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| entry["EntityID"].as_str().unwrap().to_owned())
            .collect()
    }

    fn error(&self, query: &str) -> (u16, String) {
        let response = self.server.get(&self.path(&format!("{query}&$format=json")));
        let status = response.status().as_u16();
        let body = response.json_value();
        (status, body["errorDetails"][0].as_str().unwrap_or_default().to_owned())
    }
}

#[test]
fn nearby_bbox_and_intersects_find_and_order_entities() {
    let fixture = Fixture::new();
    let body = fixture.json("spatialFilter=nearby(47.61,-122.34,10)&$select=EntityID,__Distance");
    let results = body["d"]["results"].as_array().unwrap();
    let ids: Vec<&str> = results.iter().map(|entry| entry["EntityID"].as_str().unwrap()).collect();
    assert_eq!(ids, ["c1", "c2"], "nearest first");
    let distance = results[0]["__Distance"].as_f64().unwrap();
    assert!(distance > 0.0 && distance < 0.3, "{distance}");
    assert_eq!(fixture.ids("spatialFilter=bbox(47.5,-122.4,47.7,-122.1)"), ["c1", "c2", "c4"]);
    assert_eq!(fixture.ids("spatialFilter=bbox(-18,179,-16,-179)"), ["c5", "c6"], "across the antimeridian");
    assert_eq!(fixture.ids("spatialFilter=nearby(-17,-179.96,15)"), ["c6", "c5"], "nearest first, across");
    assert_eq!(
        fixture
            .ids("SpatialFilter=intersects('POLYGON((-122.5 47.5,-122.2 47.5,-122.2 47.7,-122.5 47.7,-122.5 47.5))')"),
        ["c1", "c2"]
    );
    assert_eq!(fixture.ids("spatialFilter=intersects('LINESTRING(-123.0171 48, -123.0171 49)'"), ["c3"], "no final )");
}

#[test]
fn property_filters_order_page_and_count() {
    let fixture = Fixture::new();
    assert_eq!(fixture.ids("$filter=IsWiFiHotSpot%20eq%201"), ["c1", "c3", "c4", "c6"]);
    assert_eq!(fixture.ids("$filter=startswith(Name,'san')%20eq%20true"), ["c3"]);
    // c4's Rating is null: `Rating lt 4` is false for it, so `not (…)` holds.
    assert_eq!(fixture.ids("$filter=Seats%20ge%208%20And%20not%20(Rating%20lt%204)"), ["c1", "c4"]);
    assert_eq!(
        fixture.ids("$filter=Opened%20gt%20datetime'2011-01-01T00:00:00Z'&$orderby=Opened%20desc"),
        ["c4", "c2"]
    );
    assert_eq!(fixture.ids("$orderby=Seats%20desc,Name&$top=2&$skip=1"), ["c1", "c2"]);
    assert_eq!(fixture.ids("&$filter=entityId%20in%20('C5','c1')"), ["c1", "c5"], "?& start, case-insensitive ids");
    let counted = fixture.json("$filter=Rating%20gt%203&$top=1&$inlinecount=allpages");
    assert_eq!(counted["d"]["__count"], "3");
    assert_eq!(counted["d"]["results"].as_array().unwrap().len(), 1);
    let entry = &fixture.json("$filter=EntityID%20eq%20'c1'")["d"]["results"][0];
    assert_eq!(entry["Opened"], "/Date(1288827097000)/");
    assert_eq!(entry["IsWiFiHotSpot"], true);
    assert_eq!(entry["Seats"], 12);
    assert_eq!(entry["Rating"], 4.5);
    let uri = format!("{}/data/{}/Coffee/Cafes('c1')", fixture.server.root, fixture.access_id);
    assert_eq!(entry["__metadata"]["uri"], uri.as_str());
}

#[test]
fn query_by_id_returns_one_entry_or_404() {
    let fixture = Fixture::new();
    let base = format!("/REST/v1/data/{}/Coffee/Cafes", fixture.access_id);
    let key = &fixture.server.master_key;
    let single: Value = fixture.server.get(&format!("{base}('C2')?$format=json&key={key}")).json_value();
    assert_eq!(single["d"]["EntityID"], "c2");
    assert!(single["d"]["__metadata"]["uri"].as_str().unwrap().ends_with("Cafes('c2')"));
    assert!(single["d"].get("results").is_none());
    let atom = fixture.server.get(&format!("{base}('c2')?key={key}&$select=Name"));
    assert_eq!(atom.status(), 200);
    let text = atom.text().unwrap();
    assert!(text.contains("<d:Name>Fremont Roast</d:Name>") && text.starts_with("<?xml"), "{text}");
    assert!(!text.contains("d:Seats"));
    let missing = fixture.server.get(&format!("{base}('nope')?$format=json&key={key}"));
    assert_eq!(missing.status(), 404);
}

#[test]
fn atom_is_the_default_with_d_and_m_prefixes_and_cors() {
    let fixture = Fixture::new();
    let response = fixture.server.get(&fixture.path("$filter=EntityID%20eq%20'c3'"));
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/atom+xml"));
    let text = response.text().unwrap();
    for expected in [
        "<m:properties>",
        "<d:Name>San Juan Sips</d:Name>",
        "<d:Seats m:type=\"Edm.Int64\" m:null=\"true\"/>",
        "<d:IsWiFiHotSpot m:type=\"Edm.Boolean\">1</d:IsWiFiHotSpot>",
        "<d:Latitude m:type=\"Edm.Double\">48.5343</d:Latitude>",
    ] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
    let head = fixture.server.client.head(fixture.server.url(&fixture.path("$top=1"))).send().unwrap();
    assert_eq!(head.status(), 200);
}

#[test]
fn jsonp_wraps_json_and_passes_state_back() {
    let fixture = Fixture::new();
    let response = fixture.server.get(&fixture.path("$top=1&jsonp=Sds.callback&jsonso=page%201"));
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/javascript"));
    let text = response.text().unwrap();
    assert!(text.starts_with("Sds.callback({\"d\":") && text.ends_with(",\"page 1\")"), "{text}");
    let bad = fixture.server.get(&fixture.path("jsonp=alert(1)"));
    assert_eq!(bad.status(), 400);
}

#[test]
fn errors_are_400_with_the_reason_in_the_requested_format() {
    let fixture = Fixture::new();
    for (query, message) in [
        ("$filter=Name%20eq", "at position 8"),
        ("$filter=Latitude%20gt%201", "Latitude"),
        ("$filter=Nope%20eq%201", "no property 'Nope'"),
        ("spatialFilter=nearby(95,0,5)", "latitude 95 is out of range"),
        ("spatialFilter=intersects('POLYGON((0 0, 1 1))')", "not valid WKT"),
        ("$orderby=a,b,c,d", "limit is 3"),
        ("spatialFilter=nearby('1 Microsoft Way, Redmond',5)", "geocoder"),
        ("spatialFilter=nearRoute('47,-122','48,-122')", "router"),
        ("$select=__Distance", "__Distance needs"),
    ] {
        let (status, detail) = fixture.error(query);
        assert_eq!(status, 400, "{query}");
        assert!(detail.contains(message), "{query}: {detail}");
    }
    let atom_error = fixture.server.get(&fixture.path("$filter=Name%20eq"));
    assert_eq!(atom_error.status(), 400);
    assert!(atom_error.text().unwrap().contains("<StatusCode>400</StatusCode>"), "Atom queries get XML errors");
    let (status, detail) = fixture.error("isStaging=1");
    assert_eq!((status, detail.contains("no staged version")), (404, true), "{detail}");
    let unknown_type = fixture.server.get(&format!(
        "/REST/v1/data/{}/Coffee/Shops?$format=json&key={}",
        fixture.access_id, fixture.server.master_key
    ));
    assert_eq!(unknown_type.status(), 404);
}

#[test]
fn key_rules_master_query_account_and_public() {
    let server = TestServer::start();
    let other_account = server.create_key("other");
    let second_default = server.create_key("default");
    let query_of = |name: &str, access_id: &str, key: &str| {
        server.get(&format!("/REST/v1/data/{access_id}/{name}/Cafes?$format=json&key={key}")).status().as_u16()
    };

    // No query key: any key of the owning account.
    let open = access_id_of(&server.load_and_wait("Open", "complete", "csv", CAFES_CSV));
    assert_eq!(query_of("Open", &open, &server.master_key), 200);
    assert_eq!(query_of("Open", &open, &second_default), 200);
    assert_eq!(query_of("Open", &open, &other_account), 401);
    assert_eq!(query_of("Open", &open, "not-a-key"), 401);
    assert_eq!(server.get(&format!("/REST/v1/data/{open}/Open/Cafes?$format=json")).status(), 401);

    // A query key: only it and the master key.
    let response = server.load("Keyed", "complete", "csv", CAFES_CSV, &format!("&queryKey={}", server.query_key));
    assert_eq!(response.status(), 201);
    let keyed = access_id_of(&server.wait_job(&location(&response), &server.master_key));
    assert_eq!(query_of("Keyed", &keyed, &server.query_key), 200);
    assert_eq!(query_of("Keyed", &keyed, &server.master_key), 200);
    assert_eq!(query_of("Keyed", &keyed, &second_default), 401);

    // Public: any valid key.
    let response = server.load("Public", "complete", "csv", CAFES_CSV, "&setPublic=1");
    assert_eq!(response.status(), 201);
    let public = access_id_of(&server.wait_job(&location(&response), &server.master_key));
    assert_eq!(query_of("Public", &public, &other_account), 200);
    assert_eq!(query_of("Public", &public, "not-a-key"), 401);
}

#[test]
fn a_new_published_version_is_queried_after_a_reload() {
    let fixture = Fixture::new();
    assert_eq!(fixture.ids("$filter=EntityID%20eq%20'c9'").len(), 0);
    let more = format!("{CAFES_CSV}c9,New Place,1,1.0,false,,10,10\n");
    let job = fixture.server.load_and_wait("Coffee", "complete", "csv", more);
    assert_eq!(job["status"], "Completed");
    assert_eq!(fixture.ids("$filter=EntityID%20eq%20'c9'"), ["c9"]);
}

/// A misspelt option is refused with the name meant, not ignored (which
/// answered with every entity, unfiltered); other unknown names, such as
/// a cache-buster, are still ignored.
#[test]
fn a_misspelt_option_is_refused_with_the_name_meant() {
    let fixture = Fixture::new();
    for (query, meant) in [
        ("$fliter=Seats gt 10", "'$filter'"),
        ("$TOPP=1", "'$top'"),
        ("spatialFiter=nearby(47.6,-122.3,10)", "'spatialFilter'"),
        ("filter=Seats gt 10", "'$filter'"),
        ("select=Name", "'$select'"),
    ] {
        let (status, message) = fixture.error(query);
        assert_eq!(status, 400, "{query}: {message}");
        assert!(message.contains(meant) && message.contains("is not one the Query API has"), "{query}: {message}");
    }
    assert_eq!(fixture.ids("$filter=Seats gt 10&_=1700000000&c=en-US"), ["c1", "c4"]);
}
