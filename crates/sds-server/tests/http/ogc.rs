//! OGC API – Features over HTTP (`/ogc`): every endpoint, JSON and HTML,
//! paging, bbox (also across the antimeridian), datetime, property
//! filters, every CQL2 operator, keys (own, another account's, public,
//! none) and errors as OGC exceptions.

use serde_json::Value;

use crate::common::server::{access_id_of, location, JsonBody, TestServer};
use crate::query::CAFES_CSV;

struct Fixture {
    server: TestServer,
    /// `{accessId}.Coffee`
    collection: String,
    /// The load job that made the first version.
    job_id: String,
}

impl Fixture {
    fn new() -> Fixture {
        let server = TestServer::start();
        let job = server.load_and_wait("Coffee", "complete", "csv", CAFES_CSV);
        assert_eq!(job["status"], "Completed", "{job}");
        let collection = format!("{}.Coffee", access_id_of(&job));
        let job_id = job["id"].as_str().unwrap().to_owned();
        Fixture { server, collection, job_id }
    }

    /// GETs `/ogc{path}` with the key in the X-Api-Key header.
    fn get(&self, path: &str, key: Option<&str>) -> (u16, String, String) {
        let mut request = self.server.client.get(format!("{}/ogc{path}", self.server.base));
        if let Some(key) = key {
            request = request.header("X-Api-Key", key);
        }
        let response = request.send().unwrap();
        let status = response.status().as_u16();
        let content_type =
            response.headers().get("content-type").map(|value| value.to_str().unwrap().to_owned()).unwrap_or_default();
        (status, content_type, response.text().unwrap())
    }

    fn json(&self, path: &str) -> Value {
        let (status, _, body) = self.get(path, Some(&self.server.master_key));
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    fn items(&self, query: &str) -> Value {
        self.json(&format!("/collections/{}/items?{query}", self.collection))
    }

    fn ids(&self, query: &str) -> Vec<String> {
        ids_of(&self.items(query))
    }

    /// The status and OGC exception of a request that fails.
    fn error(&self, path: &str) -> (u16, Value) {
        let (status, content_type, body) = self.get(path, Some(&self.server.master_key));
        assert!(content_type.starts_with("application/json"), "{path}: {content_type}");
        (status, serde_json::from_str(&body).unwrap())
    }
}

fn ids_of(collection: &Value) -> Vec<String> {
    collection["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|feature| feature["id"].as_str().unwrap().to_owned())
        .collect()
}

fn link<'a>(document: &'a Value, rel: &str) -> Option<&'a str> {
    document["links"].as_array()?.iter().find(|link| link["rel"] == rel)?["href"].as_str()
}

#[test]
fn landing_conformance_and_api_need_no_key() {
    let fixture = Fixture::new();
    let (status, content_type, body) = fixture.get("", None);
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    let landing: Value = serde_json::from_str(&body).unwrap();
    for rel in ["self", "alternate", "service-desc", "service-doc", "conformance", "data"] {
        let href = link(&landing, rel).unwrap_or_else(|| panic!("no {rel} link: {landing}"));
        assert!(href.starts_with(&format!("{}/ogc", fixture.server.base)), "{href}");
    }
    let (status, _, body) = fixture.get("/conformance", None);
    assert_eq!(status, 200);
    let conformance: Value = serde_json::from_str(&body).unwrap();
    let classes: Vec<&str> =
        conformance["conformsTo"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    for class in [
        "ogcapi-features-1/1.0/conf/core",
        "conf/geojson",
        "conf/html",
        "conf/oas30",
        "conf/features-filter",
        "cql2/1.0/conf/cql2-text",
        "conf/basic-cql2",
    ] {
        assert!(classes.iter().any(|known| known.ends_with(class) || known.contains(class)), "{class}: {classes:?}");
    }
    let (status, content_type, body) = fixture.get("/api", None);
    assert_eq!(status, 200);
    assert!(content_type.starts_with("application/vnd.oai.openapi+json"), "{content_type}");
    let api: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(api["openapi"], "3.0.3");
    for path in [
        "/",
        "/conformance",
        "/api",
        "/collections",
        "/collections/{collectionId}",
        "/collections/{collectionId}/items",
        "/collections/{collectionId}/items/{featureId}",
        "/collections/{collectionId}/queryables",
    ] {
        assert!(api["paths"][path]["get"]["responses"]["200"].is_object(), "{path}");
    }
    // With a key, each collection's items path lists its property filters.
    let api = fixture.json("/api");
    let names: Vec<&str> = api["paths"][format!("/collections/{}/items", fixture.collection)]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|parameter| parameter["name"].as_str().unwrap())
        .collect();
    for name in ["bbox", "filter", "Name", "Seats", "Opened"] {
        assert!(names.contains(&name), "{name}: {names:?}");
    }
    assert!(!names.contains(&"Latitude"), "coordinates are not filters: {names:?}");
}

#[test]
fn html_by_f_parameter_and_by_accept_header() {
    let fixture = Fixture::new();
    let key = fixture.server.master_key.clone();
    let paths = [
        "?f=html".to_owned(),
        "/conformance?f=html".to_owned(),
        "/api?f=html".to_owned(),
        "/collections?f=html".to_owned(),
        format!("/collections/{}?f=html", fixture.collection),
        format!("/collections/{}/queryables?f=html", fixture.collection),
    ];
    for path in &paths {
        let (status, content_type, body) = fixture.get(path, Some(&key));
        assert_eq!(status, 200, "{path}");
        assert!(content_type.starts_with("text/html"), "{path}: {content_type}");
        assert!(body.starts_with("<!DOCTYPE html>"), "{path}");
        assert!(!body.contains(&key), "{path}: a page shows the key");
    }
    let (_, content_type, page) =
        fixture.get(&format!("/collections/{}/items?f=html&limit=2", fixture.collection), Some(&key));
    assert!(content_type.starts_with("text/html"));
    assert!(page.contains("<svg") && page.contains("<circle"), "a map of the items");
    assert!(page.contains("Pike Place Beans") && page.contains("Fremont Roast") && !page.contains("San Juan Sips"));
    assert!(page.contains("offset=2"), "a next link");
    // Other methods: 405 naming the allowed ones (RFC 9110 §15.5.6).
    let refused = fixture.server.client.post(format!("{}/ogc/collections", fixture.server.base)).send().unwrap();
    assert_eq!(refused.status(), 405);
    assert_eq!(refused.headers().get("allow").map(|value| value.to_str().unwrap()), Some("GET, HEAD"));
    // No script runs on these pages, whatever a data source's text holds.
    for path in [format!("/collections/{}/items?f=html", fixture.collection), "/api?f=html".to_owned()] {
        let response = fixture
            .server
            .client
            .get(format!("{}/ogc{path}", fixture.server.base))
            .header("X-Api-Key", &key)
            .send()
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let policy = response.headers().get("content-security-policy").map(|value| value.to_str().unwrap().to_owned());
        assert!(policy.is_some_and(|policy| policy.starts_with("default-src 'none'")), "{path}");
    }
    // A browser's Accept header gets HTML, GDAL's gets JSON.
    let url = format!("{}/ogc/collections/{}/items", fixture.server.base, fixture.collection);
    let browser = fixture
        .server
        .client
        .get(&url)
        .header("X-Api-Key", &key)
        .header("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .unwrap();
    assert!(browser.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let gdal = fixture
        .server
        .client
        .get(&url)
        .header("X-Api-Key", &key)
        .header("Accept", "application/geo+json, application/json")
        .send()
        .unwrap();
    assert_eq!(gdal.headers()["content-type"], "application/geo+json");
    let (status, body) = fixture.error("?f=xml");
    assert_eq!(status, 400);
    assert!(body["description"].as_str().unwrap().contains("'f'"), "{body}");
}

#[test]
fn collections_describe_extent_time_and_links_without_the_key() {
    let fixture = Fixture::new();
    let key = fixture.server.master_key.clone();
    let (_, _, text) = fixture.get("/collections", Some(&key));
    assert!(!text.contains(&key), "links must not carry the key");
    let list: Value = serde_json::from_str(&text).unwrap();
    let collections = list["collections"].as_array().unwrap();
    assert_eq!(collections.len(), 1);
    let collection = &collections[0];
    assert_eq!(collection["id"], fixture.collection);
    assert_eq!(collection["title"], "Coffee");
    assert_eq!(collection["itemType"], "feature");
    assert_eq!(collection["crs"][0], "http://www.opengis.net/def/crs/OGC/1.3/CRS84");
    // The fixture's own corners: Fiji/Samoa span the antimeridian, San Juan is north-west.
    assert_eq!(collection["extent"]["spatial"]["bbox"][0], serde_json::json!([-179.95, -17.0, 179.95, 48.5343]));
    assert_eq!(
        collection["extent"]["temporal"]["interval"][0],
        serde_json::json!(["2010-11-03T23:31:37Z", "2015-01-01T00:00:00Z"])
    );
    let items = link(collection, "items").unwrap();
    assert!(items.ends_with(&format!("/ogc/collections/{}/items?f=json", fixture.collection)), "{items}");
    assert_eq!(fixture.json(&format!("/collections/{}", fixture.collection))["id"], fixture.collection);
    let queryables = fixture.json(&format!("/collections/{}/queryables", fixture.collection));
    assert_eq!(queryables["type"], "object");
    assert_eq!(queryables["properties"]["Seats"]["type"], "integer");
    assert_eq!(queryables["properties"]["Rating"]["type"], "number");
    assert_eq!(queryables["properties"]["IsWiFiHotSpot"]["type"], "boolean");
    assert_eq!(queryables["properties"]["Opened"]["format"], "date-time");
    assert_eq!(queryables["properties"]["geometry"]["format"], "geometry-any");
    assert!(queryables["properties"]["Latitude"].is_null());
    let (status, body) = fixture.error("/collections/nope.Coffee");
    assert_eq!((status, body["code"].as_str().unwrap()), (404, "NotFound"));
    let (status, _) = fixture.error("/collections/no-dot-here");
    assert_eq!(status, 404);
    let (status, _) = fixture.error("/nowhere");
    assert_eq!(status, 404);
}

#[test]
fn items_are_typed_geojson_features_and_one_by_id() {
    let fixture = Fixture::new();
    let (status, content_type, text) =
        fixture.get(&format!("/collections/{}/items", fixture.collection), Some(&fixture.server.master_key));
    assert_eq!((status, content_type.as_str()), (200, "application/geo+json"));
    let page: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(page["type"], "FeatureCollection");
    assert_eq!((page["numberMatched"].as_u64(), page["numberReturned"].as_u64()), (Some(6), Some(6)));
    assert_eq!(ids_of(&page), ["c1", "c2", "c3", "c4", "c5", "c6"]);
    let first = &page["features"][0];
    assert_eq!(first["geometry"], serde_json::json!({ "type": "Point", "coordinates": [-122.3422, 47.6097] }));
    let properties = &first["properties"];
    assert_eq!(properties["Name"], "Pike Place Beans");
    assert_eq!(properties["Seats"], 12);
    assert_eq!(properties["Rating"], 4.5);
    assert_eq!(properties["IsWiFiHotSpot"], true);
    assert_eq!(properties["Opened"], "2010-11-03T23:31:37Z");
    assert!(page["features"][2]["properties"]["Seats"].is_null(), "c3 has no seats");
    let one = fixture.json(&format!("/collections/{}/items/c4", fixture.collection));
    assert_eq!((one["type"].as_str(), one["id"].as_str()), (Some("Feature"), Some("c4")));
    assert_eq!(one["properties"]["Name"], "Redmond Drip");
    assert!(link(&one, "collection").is_some());
    let (status, body) = fixture.error(&format!("/collections/{}/items/c9", fixture.collection));
    assert_eq!(status, 404);
    assert!(body["description"].as_str().unwrap().contains("'c9'"), "{body}");
}

#[test]
fn next_links_page_through_every_entity_once_in_id_order() {
    let fixture = Fixture::new();
    let mut url = format!("/collections/{}/items?limit=4", fixture.collection);
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = fixture.json(&url);
        pages += 1;
        assert_eq!(page["numberMatched"], 6);
        let returned = ids_of(&page);
        assert_eq!(page["numberReturned"].as_u64(), Some(returned.len() as u64));
        if pages == 2 {
            assert!(link(&page, "prev").unwrap().contains("offset=0"), "{page}");
        } else {
            assert!(link(&page, "prev").is_none());
        }
        seen.extend(returned);
        match link(&page, "next") {
            Some(next) => url = next.split("/ogc").nth(1).unwrap().to_owned(),
            None => break,
        }
    }
    assert_eq!(pages, 2);
    assert_eq!(seen, ["c1", "c2", "c3", "c4", "c5", "c6"]);
    // The next link keeps the filters.
    let page = fixture.items("limit=1&filter=Seats%20%3E%205");
    let next = link(&page, "next").unwrap();
    assert!(next.contains("filter=Seats") && next.contains("offset=1"), "{next}");
    assert_eq!(fixture.ids("limit=2&offset=3"), ["c4", "c5"]);
    assert_eq!(fixture.ids("limit=50000").len(), 6, "more than the maximum is clamped");
    for bad in ["limit=0", "limit=-1", "limit=abc", "offset=-1"] {
        let (status, body) = fixture.error(&format!("/collections/{}/items?{bad}", fixture.collection));
        assert_eq!((status, body["code"].as_str().unwrap()), (400, "InvalidParameterValue"), "{bad}");
        if bad.starts_with("limit") {
            let says = body["description"].as_str().unwrap_or_default();
            assert!(says.contains("from 1 to 10000"), "{bad}: {body}");
        }
    }
}

#[test]
fn bbox_including_one_across_the_antimeridian() {
    let fixture = Fixture::new();
    assert_eq!(fixture.ids("bbox=-122.4,47.5,-122.3,47.7"), ["c1", "c2"]);
    assert_eq!(fixture.ids("bbox=179,-20,-179,-10"), ["c5", "c6"], "minx > maxx crosses the antimeridian");
    assert_eq!(fixture.ids("bbox=179.9,-20,180,-10"), ["c5"]);
    assert_eq!(fixture.ids("bbox=-123.1,47,0,49,5,0".replace(",5,0", "").as_str()), ["c1", "c2", "c3", "c4"]);
    assert_eq!(fixture.ids("bbox=-123.1,47,-100,0,49,10"), ["c1", "c2", "c3", "c4"], "the 3D form");
    assert_eq!(fixture.items("bbox=0,0,1,1")["numberMatched"], 0);
    for (bad, named) in [("crs=EPSG:4326", "'crs'"), ("bbox=1,2,3&bbox-crs=EPSG:3857", "'bbox-crs'")] {
        let (status, body) = fixture.error(&format!("/collections/{}/items?{bad}", fixture.collection));
        assert_eq!(status, 400, "{bad}");
        assert!(body["description"].as_str().unwrap().contains(named), "{bad}: {body}");
    }
    for bad in ["bbox=1,2,3", "bbox=a,b,c,d", "bbox=0,50,1,40", "bbox=-200,0,0,1"] {
        let (status, body) = fixture.error(&format!("/collections/{}/items?{bad}", fixture.collection));
        assert_eq!(status, 400, "{bad}");
        assert!(body["description"].as_str().unwrap().contains("'bbox'"), "{bad}: {body}");
    }
}

#[test]
fn cql2_text_every_operator() {
    let fixture = Fixture::new();
    let filter = |text: &str| {
        let encoded: String = form_urlencoded::byte_serialize(text.as_bytes()).collect();
        fixture.ids(&format!("filter={encoded}&filter-lang=cql2-text"))
    };
    assert_eq!(filter("Seats = 12"), ["c1"]);
    assert_eq!(filter("Seats <> 12"), ["c2", "c4", "c5", "c6"]);
    assert_eq!(filter("Seats < 8"), ["c5", "c6"]);
    assert_eq!(filter("Seats <= 8"), ["c2", "c5", "c6"]);
    assert_eq!(filter("Rating > 4"), ["c1", "c3"]);
    assert_eq!(filter("Rating >= 3.9"), ["c1", "c2", "c3"]);
    assert_eq!(filter("Seats > 5 AND IsWiFiHotSpot = true"), ["c1", "c4", "c6"]);
    assert_eq!(filter("Seats = 4 OR Name = 'Fremont Roast'"), ["c2", "c5"]);
    assert_eq!(filter("NOT (IsWiFiHotSpot = true)"), ["c2", "c5"]);
    assert_eq!(filter("Name LIKE 'S%'"), ["c3", "c6"]);
    assert_eq!(filter("Name LIKE '%o_st'"), ["c2"]);
    assert_eq!(filter("EntityID IN ('c2', 'c5', 'zz')"), ["c2", "c5"]);
    assert_eq!(filter("Seats BETWEEN 6 AND 12"), ["c1", "c2", "c6"]);
    assert_eq!(filter("Seats IS NULL"), ["c3"]);
    assert_eq!(filter("Opened IS NOT NULL AND Opened > TIMESTAMP('2011-01-01T00:00:00Z')"), ["c2", "c4"]);
    assert_eq!(
        filter("S_INTERSECTS(geometry, POLYGON((-123 47,-122 47,-122 48,-123 48,-123 47)))"),
        ["c1", "c2", "c4"]
    );
    assert_eq!(filter("S_INTERSECTS(geometry, BBOX(179,-18,180,-16)) OR Seats = 20"), ["c4", "c5"]);
    // GDAL's spellings: `cql-text` and ILIKE.
    assert_eq!(fixture.ids("filter=Name%20ILIKE%20'%25DRIP'&filter-lang=cql-text"), ["c4"]);
    // With a bbox and paging: one query.
    assert_eq!(fixture.ids("bbox=-123.5,47,-122,49&filter=Seats%20IS%20NULL%20OR%20Seats%20%3E%2010&limit=1"), ["c1"]);
    let cases = [
        ("Seats >", "position 8", "expected a value"),
        ("Nope = 1", "position 1", "no property 'Nope'"),
        ("Seats = 'x'", "position 9", "does not fit"),
        ("S_INTERSECTS(geometry, POLYGON((0 0,1 1)))", "position 24", "WKT"),
    ];
    for (text, position, message) in cases {
        let encoded: String = form_urlencoded::byte_serialize(text.as_bytes()).collect();
        let (status, body) = fixture.error(&format!("/collections/{}/items?filter={encoded}", fixture.collection));
        let description = body["description"].as_str().unwrap();
        assert_eq!((status, body["code"].as_str().unwrap()), (400, "InvalidParameterValue"), "{text}");
        assert!(description.contains(position) && description.contains(message), "{text}: {description}");
    }
    let (status, body) =
        fixture.error(&format!("/collections/{}/items?filter=Seats%3D1&filter-lang=cql2-json", fixture.collection));
    assert_eq!(status, 400);
    assert!(body["description"].as_str().unwrap().contains("cql2-json"), "{body}");
}

#[test]
fn datetime_and_property_equality_filters() {
    let fixture = Fixture::new();
    assert_eq!(fixture.ids("datetime=2012-05-01T08:00:00Z"), ["c2"]);
    assert_eq!(fixture.ids("datetime=2011-01-01T00:00:00Z/.."), ["c2", "c4"]);
    assert_eq!(fixture.ids("datetime=../2012-01-01"), ["c1"]);
    assert_eq!(fixture.ids("datetime=2010-01-01/2013-01-01"), ["c1", "c2"]);
    assert_eq!(fixture.ids("Name=fremont%20roast"), ["c2"], "string equality ignores case, as SDS does");
    assert_eq!(fixture.ids("Seats=12"), ["c1"]);
    assert_eq!(fixture.ids("IsWiFiHotSpot=true&Seats=6"), ["c6"]);
    for (bad, named) in [
        ("datetime=yesterday", "'datetime'"),
        ("Seats=many", "'Seats'"),
        ("Color=red", "'color'"),
        ("datetime=../..", "'datetime'"),
    ] {
        let (status, body) = fixture.error(&format!("/collections/{}/items?{bad}", fixture.collection));
        assert_eq!(status, 400, "{bad}");
        assert!(body["description"].as_str().unwrap().contains(named), "{bad}: {body}");
    }
}

#[test]
fn keys_own_other_account_public_and_none() {
    let fixture = Fixture::new();
    let server = &fixture.server;
    let stranger = server.create_key("other");
    let public =
        server.load("Open", "complete", "csv", CAFES_CSV.replace("Pike Place", "Public Place"), "&setPublic=1");
    assert_eq!(public.status(), 201);
    let job = server.wait_job(&location(&public), &server.master_key);
    let open = format!("{}.Open", access_id_of(&job));
    let listed = |key: &str| -> Vec<String> {
        let (status, _, body) = fixture.get("/collections", Some(key));
        assert_eq!(status, 200, "{body}");
        let list: Value = serde_json::from_str(&body).unwrap();
        list["collections"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(listed(&server.master_key), [fixture.collection.clone(), open.clone()]);
    assert_eq!(listed(&server.query_key), [fixture.collection.clone(), open.clone()]);
    assert_eq!(listed(&stranger), vec![open.clone()], "another account sees only public data sources");
    // The other account's key cannot read the private collection, in any form.
    for path in [
        format!("/collections/{}", fixture.collection),
        format!("/collections/{}/items", fixture.collection),
        format!("/collections/{}/items/c1", fixture.collection),
        format!("/collections/{}/queryables", fixture.collection),
    ] {
        let (status, _, body) = fixture.get(&path, Some(&stranger));
        assert_eq!(status, 401, "{path}");
        let exception: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(exception["code"], "NotAuthorized");
        assert!(!body.contains("Pike"), "{body}");
    }
    let (status, _, body) = fixture.get(&format!("/collections/{open}/items?limit=1"), Some(&stranger));
    assert_eq!(status, 200);
    assert!(body.contains("Public Place"));
    // The key as a parameter works too, and is not copied into links.
    let page = server.get(&format!("/ogc/collections/{open}/items?limit=1&key={stranger}")).json_value();
    assert_eq!(ids_of(&page), ["c1"]);
    assert!(!page.to_string().contains(&stranger), "links carry no key");
    for (key, code) in [(None, "MissingCredentials"), (Some("not-a-key-at-all-0000"), "InvalidCredentials")] {
        let (status, _, body) = fixture.get(&format!("/collections/{open}/items"), key);
        assert_eq!(status, 401, "{key:?}");
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["code"], code);
        let (status, _, _) = fixture.get("/collections", key);
        assert_eq!(status, 401);
    }
    let (status, _, _) = fixture.get("/conformance", Some("not-a-key-at-all-0000"));
    assert_eq!(status, 200, "the API's description needs no key");
    let response = server.client.post(format!("{}/ogc/collections", server.base)).send().unwrap();
    assert_eq!(response.status(), 405);
}

#[test]
fn staged_and_older_versions_by_parameter() {
    let fixture = Fixture::new();
    let server = &fixture.server;
    let first_job = server.load_and_wait("Coffee", "complete", "csv", CAFES_CSV.replace("Pike Place", "Second Place"));
    let second_job = first_job["id"].as_str().unwrap().to_owned();
    let staged =
        server.load_and_wait("Coffee", "completeStaging", "csv", CAFES_CSV.replace("Pike Place", "Staged Place"));
    assert_eq!(staged["status"], "Completed", "{staged}");
    let name_of_c1 = |query: &str| {
        fixture.json(&format!("/collections/{}/items/c1?{query}", fixture.collection))["properties"]["Name"].clone()
    };
    assert_eq!(name_of_c1(""), "Second Place Beans");
    assert_eq!(name_of_c1("isStaging=1"), "Staged Place Beans");
    assert_eq!(name_of_c1(&format!("jobId={}", staged["id"].as_str().unwrap())), "Staged Place Beans");
    assert_eq!(name_of_c1(&format!("jobId={second_job}")), "Second Place Beans");
    assert_eq!(name_of_c1(&format!("jobId={}", fixture.job_id)), "Pike Place Beans", "the previous version");
    let (status, body) =
        fixture.error(&format!("/collections/{}/items?isStaging=1&jobId={}", fixture.collection, fixture.job_id));
    assert_eq!(status, 400, "{body}");
    // The links of a staged page keep isStaging.
    let page = fixture.items("isStaging=1&limit=1");
    assert!(link(&page, "next").unwrap().contains("isstaging=1"), "{page}");
    let (status, _) =
        fixture.error(&format!("/collections/{}/items?jobId=00000000000000000000000000000000", fixture.collection));
    assert_eq!(status, 404);
}

#[test]
fn geographies_are_geometries_and_intersect() {
    let server = TestServer::start();
    let csv = "Bing Spatial Data Services, 1.0, Parks
EntityID(Edm.String,primaryKey),Name(Edm.String),Boundary(Edm.Geography),Latitude(Edm.Double),Longitude(Edm.Double)
p1,Square,\"POLYGON((10 10,11 10,11 11,10 11,10 10))\",10.5,10.5
p2,Path,\"LINESTRING(20 20,21 21)\",20.5,20.5
p3,Spot,,30,30
";
    let job = server.load_and_wait("Parks", "complete", "csv", csv);
    assert_eq!(job["status"], "Completed", "{job}");
    let collection = format!("{}.Parks", access_id_of(&job));
    let get = |query: &str| {
        let response = server
            .client
            .get(format!("{}/ogc/collections/{collection}/items?{query}", server.base))
            .header("X-Api-Key", &server.master_key)
            .send()
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json_value()
    };
    let page = get("");
    assert_eq!(page["features"][0]["geometry"]["type"], "Polygon");
    let corner = &page["features"][0]["geometry"]["coordinates"][0][2];
    assert_eq!((corner[0].as_f64(), corner[1].as_f64()), (Some(11.0), Some(11.0)));
    assert_eq!(page["features"][1]["geometry"]["type"], "LineString");
    assert_eq!(page["features"][2]["geometry"], serde_json::json!({ "type": "Point", "coordinates": [30.0, 30.0] }));
    assert!(page["features"][0]["properties"]["Boundary"].is_null(), "the geography is the geometry, not a property");
    assert_eq!(ids_of(&get("bbox=10.9,10.9,12,12")), ["p1"], "the polygon's corner is in the box");
    assert_eq!(ids_of(&get("filter=S_INTERSECTS(geometry,POINT(20.5%2020.5))")), ["p2"]);
    assert_eq!(ids_of(&get("filter=S_INTERSECTS(Boundary,BBOX(0,0,40,40))%20AND%20NOT%20Name%3D'Path'")), ["p1", "p3"]);
    let html = server
        .client
        .get(format!("{}/ogc/collections/{collection}/items?f=html", server.base))
        .header("X-Api-Key", &server.master_key)
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(html.contains("<path") && html.contains("<circle"), "polygons, lines and points on the map");
}

/// The OpenAPI document passes `openapi-spec-validator` (PyPI; `.ci/run`
/// installs it when missing), with and without the per-collection paths
/// a key adds.
#[test]
fn the_openapi_document_is_valid_openapi_3() {
    let fixture = Fixture::new();
    let temp = tempfile::tempdir().unwrap();
    for (label, key) in [("anonymous", None), ("keyed", Some(fixture.server.master_key.as_str()))] {
        let (status, _, body) = fixture.get("/api", key);
        assert_eq!(status, 200);
        let path = temp.path().join(format!("{label}.json"));
        std::fs::write(&path, &body).unwrap();
        let validator = std::env::var("SDS_OPENAPI_VALIDATOR").unwrap_or_else(|_| "openapi-spec-validator".to_owned());
        let output = std::process::Command::new(validator)
            .arg(&path)
            .output()
            .unwrap_or_else(|error| panic!("openapi-spec-validator must be installed (pip): {error}"));
        assert!(
            output.status.success(),
            "{label}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
