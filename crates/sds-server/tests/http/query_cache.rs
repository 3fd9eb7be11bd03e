//! The query cache's memory budget (issue 16, "cache by memory, not by
//! count"): with a budget too small for any table, data sources queried
//! round-robin evict each other's tables at every switch, and every answer
//! stays the one the source's own rows give; with the default budget, the
//! same queries evict nothing.

use serde_json::Value;

use crate::common::server::{access_id_of, JsonBody, TestServer};

const SOURCES: usize = 3;
const ROWS: usize = 40;

/// Row `row` of source `source`: its name and point.
fn row(source: usize, row: usize) -> (String, f64, f64) {
    (format!("s{source}-{}", row % 5), 47.0 + row as f64 * 0.01, -122.0 - ((row * (source + 1)) % ROWS) as f64 * 0.005)
}

fn csv(source: usize) -> String {
    let mut text = String::from(
        "Bing Spatial Data Services, 1.0, Place\n\
         EntityID(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\n",
    );
    for number in 0..ROWS {
        let (name, latitude, longitude) = row(source, number);
        text.push_str(&format!("{number:03},{name},{latitude},{longitude}\n"));
    }
    text
}

/// Great-circle distance in km (mean Earth radius 6371 km, as SDS uses).
fn distance_km((lat1, lon1): (f64, f64), (lat2, lon2): (f64, f64)) -> f64 {
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let a = ((phi2 - phi1) / 2.0).sin().powi(2)
        + phi1.cos() * phi2.cos() * ((lon2 - lon1).to_radians() / 2.0).sin().powi(2);
    2.0 * 6371.0 * a.sqrt().asin()
}

/// The IDs a query returns, sorted.
fn ids(server: &TestServer, access_id: &str, name: &str, query: &str) -> Vec<String> {
    let body = server
        .get(&format!("/REST/v1/data/{access_id}/{name}/Place?{query}&$top=100&$format=json&key={}", server.query_key))
        .json_value();
    let results = body["d"]["results"].as_array().unwrap_or_else(|| panic!("no results: {body}"));
    let mut ids: Vec<String> =
        results.iter().map(|result: &Value| result["EntityID"].as_str().unwrap().to_owned()).collect();
    ids.sort();
    ids
}

/// Three rounds of nearby, bbox and `$filter` queries over every source,
/// each checked against the rows the source was loaded with.
fn query_round_robin(server: &TestServer, sources: &[String]) {
    let centre = (47.2, -122.1);
    for _round in 0..3 {
        for (source, access_id) in sources.iter().enumerate() {
            let name = format!("Cache{source}");
            let expect = |keep: &dyn Fn(&(String, f64, f64)) -> bool| -> Vec<String> {
                (0..ROWS).filter(|&number| keep(&row(source, number))).map(|number| format!("{number:03}")).collect()
            };
            let near = expect(&|(_, latitude, longitude)| distance_km(centre, (*latitude, *longitude)) <= 15.0);
            assert!(!near.is_empty() && near.len() < ROWS, "the circle cuts the rows");
            assert_eq!(ids(server, access_id, &name, "spatialFilter=nearby(47.2,-122.1,15)"), near, "{name} nearby");
            let boxed = expect(&|(_, latitude, _)| (47.05..=47.155).contains(latitude));
            assert_eq!(
                ids(server, access_id, &name, "spatialFilter=bbox(47.05,-123,47.155,-121)"),
                boxed,
                "{name} bbox"
            );
            let named = expect(&|(row_name, _, _)| row_name == &format!("s{source}-3"));
            let filter = format!("$filter=Name%20eq%20's{source}-3'");
            assert_eq!(ids(server, access_id, &name, &filter), named, "{name} $filter");
        }
    }
}

fn evictions(log: &str) -> usize {
    log.matches("evicted a cached table").count()
}

#[test]
fn round_robin_answers_stay_right_while_a_tiny_budget_evicts() {
    let mut server = TestServer::start_with(&["--query-cache-mb", "0"]);
    let sources: Vec<String> = (0..SOURCES)
        .map(|source| {
            let job = server.load_and_wait(&format!("Cache{source}"), "complete", "csv", csv(source));
            assert_eq!(job["status"], "Completed", "{job}");
            access_id_of(&job)
        })
        .collect();
    query_round_robin(&server, &sources);
    let log_path = server.data_dir().join("server.log");
    let log = server.log();
    assert!(log.contains("query cache budget (--query-cache-mb)"), "{log}");
    // Every switch to another source evicts the one before: 3 rounds of 3
    // sources make 8 switches.
    assert_eq!(evictions(&log), SOURCES * 3 - 1, "{log}");
    assert!(log.contains("a table larger than the query cache budget is kept alone"), "{log}");

    server.restart_with(&[]);
    let before = std::fs::read_to_string(&log_path).unwrap().len();
    query_round_robin(&server, &sources);
    let log = server.log();
    assert!(log.contains("query cache budget: a quarter of the machine's memory"), "{log}");
    assert_eq!(evictions(&log[before..]), 0, "the default budget holds three small tables: {log}");
}
