//! Two `sds serve` processes on one PostgreSQL database (issue 13,
//! "Several servers, one database"): either answers for jobs the other
//! accepted, a change on one reaches the other's caches within a second,
//! and a server killed mid-job leaves it to the other, which finishes or
//! aborts it once the lease has run out.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::skip_unless_postgres;
use crate::common::dataset;
use crate::common::server::{access_id_of, link, location, JsonBody, TestServer};
use crate::fixtures::*;

/// Seconds a job's claim lasts unless its server renews it: short, so that
/// the kill tests see the takeover soon.
pub const LEASE_SECONDS: u64 = 4;

/// `serve` flags for a short lease (`--job-lease-seconds`).
pub fn lease_flags() -> [&'static str; 2] {
    const LEASE: &str = "4";
    debug_assert_eq!(LEASE.parse::<u64>().unwrap(), LEASE_SECONDS);
    ["--job-lease-seconds", LEASE]
}

const TWO_ROWS: &str = "Bing Spatial Data Services, 1.0, Shops\n\
    EntityID(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\n\
    a,First,1,1\nb,Second,2,2\n";

/// The job resource at `status_url` as `server` answers it (any port).
fn job_on(server: &TestServer, status_url: &str) -> Value {
    let url = server.on_current_port(status_url);
    let response = server.get(&format!("{url}?output=json&key={}", server.master_key));
    assert_eq!(response.status(), 200, "status of {url}");
    response.json_value()["resourceSets"][0]["resources"][0].clone()
}

/// The published entity ids of `Shops`, queried on `server` (`None`: the
/// data source is gone, 404).
fn published_ids(server: &TestServer, access_id: &str) -> Option<Vec<String>> {
    let response =
        server.get(&format!("/REST/v1/data/{access_id}/Shops/Shops?$format=json&$top=250&key={}", server.query_key));
    if response.status() == 404 {
        return None;
    }
    assert_eq!(response.status(), 200, "query on {}", server.base);
    let body = response.json_value();
    let mut ids: Vec<String> = body["d"]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|entity| entity["EntityID"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    Some(ids)
}

/// Waits until `server`'s answer is `expected`; panics after `within`
/// (measured from `since`).
fn seen_within(server: &TestServer, access_id: &str, expected: Option<&[&str]>, since: Instant, within: Duration) {
    loop {
        let ids = published_ids(server, access_id);
        if ids.as_deref().map(|ids| ids.iter().map(String::as_str).collect::<Vec<_>>()).as_deref() == expected {
            return;
        }
        assert!(since.elapsed() < within, "after {:?} {} still answers {ids:?}", since.elapsed(), server.base);
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_upload_on_one_server_is_polled_and_downloaded_on_the_other() {
    if skip_unless_postgres() {
        return;
    }
    let a = TestServer::start();
    let b = TestServer::start_beside(&a, &[]);
    let response = a.load("Shops", "complete", "csv", SHOPS_CSV, "");
    assert_eq!(response.status(), 201);
    let job = b.wait_job(&b.on_current_port(&location(&response)), &b.master_key);
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!(job["processedEntityCount"], 3, "{job}");
    let access_id = access_id_of(&job);

    // A download job made on A, polled and fetched on B.
    let created =
        a.get(&format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/Shops?output=json&key={}", a.master_key));
    assert_eq!(created.status(), 201);
    let done = b.wait_job(&b.on_current_port(&location(&created)), &b.master_key);
    assert_eq!(done["status"], "Completed", "{done}");
    let output = link(&done, "output", Some("succeeded"));
    assert!(output.starts_with(&b.base), "links name the server asked: {output}");
    let fetched = b.get(&format!("{output}?key={}", b.master_key));
    assert_eq!(fetched.status(), 200);
    let on_b = dataset::parse(&fetched.text().unwrap());
    let on_a = dataset::parse(&a.download(&access_id, "Shops"));
    assert_eq!(on_b.rows.len(), 3);
    assert_eq!(on_b.by_id(), on_a.by_id());
}

#[test]
fn a_publish_and_a_delete_on_one_server_reach_the_others_queries_within_a_second() {
    if skip_unless_postgres() {
        return;
    }
    let a = TestServer::start();
    let b = TestServer::start_beside(&a, &[]);
    let access_id = access_id_of(&a.load_and_wait("Shops", "complete", "csv", SHOPS_CSV));
    // B builds and caches the published version's table.
    assert_eq!(published_ids(&b, &access_id).unwrap(), ["1", "2", "3"]);
    let staged = a.load_and_wait("Shops", "completeStaging", "csv", TWO_ROWS);
    assert_eq!(staged["status"], "Completed", "{staged}");
    assert_eq!(published_ids(&b, &access_id).unwrap(), ["1", "2", "3"], "staging publishes nothing");

    let publish = a.get(&format!("/REST/v1/data/{access_id}/Shops/$commit?output=json&key={}", a.master_key));
    assert_eq!(publish.status(), 202);
    let status_url = location(&publish);
    let published = loop {
        let job = a.get(&status_url).json_value()["resourceSets"][0]["resources"][0].clone();
        if job["status"] != "Pending" {
            break job;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(published["status"], "Completed", "{published}");
    seen_within(&b, &access_id, Some(&["a", "b"]), Instant::now(), Duration::from_secs(1));

    let delete = a.client.delete(format!("{}/data/{access_id}/Shops?key={}", a.root, a.master_key)).send().unwrap();
    assert_eq!(delete.status(), 202);
    // The delete job carries no status URL: A's job list says when it ended.
    loop {
        let list = a.get(&format!("/REST/v1/Dataflows/ListJobs?key={}", a.master_key)).json_value();
        let jobs = list["resourceSets"][0]["resources"].as_array().unwrap().clone();
        if jobs.iter().all(|job| job["status"] != "Pending") {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    seen_within(&b, &access_id, None, Instant::now(), Duration::from_secs(1));
}

/// Waits until `server` reports the job at `status_url` running, with
/// entities processed (the server that runs it answers from memory, the
/// others from the counts it writes to the store every second).
fn wait_running_on(server: &TestServer, status_url: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let job = job_on(server, status_url);
        assert_eq!(job["status"], "Pending", "the job ended before the kill: {job}");
        if job["processedEntityCount"].as_u64().unwrap_or(0) > 0 {
            return;
        }
        assert!(Instant::now() < deadline, "{} never ran the job: {job}", server.base);
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Polls `server` after A was killed at `killed`: the job must be taken
/// over (running there with counts other than `stale`, the last ones A
/// wrote, or ended) within the lease and a few seconds of claim polling,
/// and end within two minutes; returns the ended job.
fn taken_over_and_ended(server: &TestServer, status_url: &str, killed: Instant, stale: &Value) -> Value {
    let takeover = Duration::from_secs(LEASE_SECONDS + 6);
    let mut taken_over = None;
    loop {
        let job = job_on(server, status_url);
        let counting = job["processedEntityCount"].as_u64().unwrap_or(0) > 0 && job["processedEntityCount"] != *stale;
        if taken_over.is_none() && (job["status"] != "Pending" || counting) {
            taken_over = Some(killed.elapsed());
        }
        if job["status"] != "Pending" {
            println!("taken over after {:?}, ended after {:?}", taken_over.unwrap(), killed.elapsed());
            return job;
        }
        assert!(
            taken_over.is_some() || killed.elapsed() < takeover,
            "not taken over after {:?}: {job}",
            killed.elapsed()
        );
        assert!(killed.elapsed() < Duration::from_secs(120), "still Pending: {job}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn kill9_during_a_large_load_leaves_it_to_the_other_server_and_publishes_one_whole_version() {
    if skip_unless_postgres() {
        return;
    }
    let flags = lease_flags();
    let mut a = TestServer::start_with(&flags);
    let first = a.load_and_wait("Shops", "complete", "csv", SHOPS_CSV);
    let access_id = access_id_of(&first);
    let big = a.load("Shops", "complete", "csv", gzip(many_shops_csv(150_000).as_bytes()), "");
    assert_eq!(big.status(), 201);
    let big_url = location(&big);
    wait_running_on(&a, &big_url);
    let b = TestServer::start_beside(&a, &flags);
    // A's counts reach B's status answers through the store.
    wait_running_on(&b, &big_url);
    a.kill9();
    let killed = Instant::now();
    let stale = job_on(&b, &big_url)["processedEntityCount"].clone();

    let job = taken_over_and_ended(&b, &big_url, killed, &stale);
    let rows = dataset::parse(&b.download(&access_id, "Shops")).rows.len();
    match job["status"].as_str() {
        Some("Completed") => {
            assert_eq!(job["totalEntityCount"], 150_000, "{job}");
            assert_eq!(rows, 150_000, "the new version, whole");
        }
        Some("Aborted") => {
            assert!(!job["errorMessage"].as_str().unwrap_or("").is_empty(), "an abort says why: {job}");
            assert_eq!(rows, 3, "the old version, whole");
        }
        other => panic!("{other:?}: {job}"),
    }
}

#[test]
fn kill9_during_a_download_leaves_it_to_the_other_server() {
    if skip_unless_postgres() {
        return;
    }
    let flags = lease_flags();
    let mut a = TestServer::start_with(&flags);
    let loaded = a.load_and_wait("Shops", "complete", "csv", gzip(many_shops_csv(150_000).as_bytes()));
    assert_eq!(loaded["status"], "Completed", "{loaded}");
    let access_id = access_id_of(&loaded);
    let b = TestServer::start_beside(&a, &flags);
    let created =
        a.get(&format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/Shops?output=json&key={}", a.master_key));
    assert_eq!(created.status(), 201);
    let status_url = location(&created);
    // A download shows no progress: A, told of the job as it accepts it,
    // claims it first and needs well over 50 ms for 150,000 entities
    // (still Pending is checked).
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(job_on(&a, &status_url)["status"], "Pending", "the download ended before the kill");
    a.kill9();
    let killed = Instant::now();

    let job = taken_over_and_ended(&b, &status_url, killed, &Value::from(0));
    match job["status"].as_str() {
        Some("Completed") => {
            let output = link(&job, "output", Some("succeeded"));
            let fetched = b.get(&format!("{output}?key={}", b.master_key));
            assert_eq!(fetched.status(), 200);
            assert_eq!(dataset::parse(&fetched.text().unwrap()).rows.len(), 150_000);
        }
        Some("Aborted") => assert!(!job["errorMessage"].as_str().unwrap_or("").is_empty(), "{job}"),
        other => panic!("{other:?}: {job}"),
    }
}
