//! `kill -9` at any moment loses nothing acknowledged and leaves no job
//! Pending for ever; a crashed load never changes the published version.

use std::time::{Duration, Instant};

use crate::common::dataset;
use crate::common::server::{access_id_of, location, JsonBody, TestServer};
use crate::fixtures::*;

#[test]
fn kill_during_a_load_then_restart_completes_it_and_keeps_published_data() {
    let mut server = TestServer::start();
    let first = server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV);
    let access_id = access_id_of(&first);
    let before = server.download(&access_id, "Shops");

    // Acknowledged jobs: a big load, then a second load of the same source
    // queued behind it. Kill while the first runs (or just after).
    let big = server.load("Shops", "complete", "csv", gzip(many_shops_csv(150_000).as_bytes()), "");
    assert_eq!(big.status(), 201);
    let big_url = location(&big);
    let queued = server.load("Shops", "incremental", "pipe", SHOPS_PIPE, "");
    assert_eq!(queued.status(), 201);
    let queued_url = location(&queued);
    std::thread::sleep(Duration::from_millis(150));
    let status = server.get(&format!("{big_url}?output=json&key={}", server.master_key)).json_value();
    let state_at_kill = status["resourceSets"][0]["resources"][0]["status"].clone();
    server.kill9();

    // While down, nothing; after restart the published data is still the
    // old one or the complete new one, never a mix.
    server.restart();
    let relocate = |url: &str| format!("{}{}", server.base, &url[url.find("/REST").unwrap()..]);
    let mid = dataset::parse(&server.download(&access_id, "Shops")).rows.len();
    assert!(
        mid == 3 || mid == 150_000 || mid == 150_002,
        "published data is whole: {mid} rows (job was {state_at_kill})"
    );

    let big_job = server.wait_job(&relocate(&big_url), &server.master_key);
    assert_eq!(big_job["status"], "Completed", "{big_job}");
    assert_eq!(big_job["totalEntityCount"], 150_000);
    let queued_job = server.wait_job(&relocate(&queued_url), &server.master_key);
    assert_eq!(queued_job["status"], "Completed", "{queued_job}");
    let after = dataset::parse(&server.download(&access_id, "Shops"));
    assert_eq!(after.rows.len(), 150_002, "the incremental load ran after the complete one");
    assert_ne!(server.download(&access_id, "Shops"), before);
}

#[test]
fn kill_right_after_acknowledging_loses_nothing() {
    let mut server = TestServer::start();
    let mut urls = Vec::new();
    for index in 0..5 {
        let response = server.load(&format!("Shops{index}"), "complete", "csv", SHOPS_CSV, "");
        assert_eq!(response.status(), 201);
        urls.push(location(&response));
    }
    server.kill9();
    server.restart();
    let deadline = Instant::now() + Duration::from_secs(60);
    for url in urls {
        let url = format!("{}{}", server.base, &url[url.find("/REST").unwrap()..]);
        let job = server.wait_job(&url, &server.master_key);
        assert_eq!(job["status"], "Completed", "{job}");
        assert!(Instant::now() < deadline);
        let name = job["name"].as_str().unwrap().to_owned();
        assert_eq!(dataset::parse(&server.download(&access_id_of(&job), &name)).rows.len(), 3);
    }
}
