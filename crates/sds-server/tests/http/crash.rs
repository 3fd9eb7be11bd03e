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

/// Publish, rollback and delete each commit in one transaction: killed at
/// any moment, the data source is as before or as after, and the job runs
/// to its end after the restart.
#[test]
fn kill_during_publish_rollback_and_delete_leaves_before_or_after() {
    let mut server = TestServer::start();
    let header = "Bing Spatial Data Services, 1.0, Shops\nEntityID(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\n";
    let first = server.load_and_wait("Shops", "complete", "csv", format!("{header}old,Old,1,1\n"));
    let access_id = access_id_of(&first);
    server.load_and_wait("Shops", "completeStaging", "csv", many_shops_csv(30_000));
    let names = |server: &TestServer| -> usize { dataset::parse(&server.download(&access_id, "Shops")).rows.len() };
    let relocate = |server: &TestServer, url: &str| format!("{}{}", server.base, &url[url.find("/REST").unwrap()..]);

    // Publish, killed right away.
    let publish = server.get(&format!("/REST/v1/data/{access_id}/Shops/$commit?key={}", server.master_key));
    assert_eq!(publish.status(), 202);
    let publish_url = location(&publish);
    server.kill9();
    server.restart();
    let rows = names(&server);
    assert!(rows == 1 || rows == 30_000, "before or after the publish: {rows}");
    let done = server.wait_job(&relocate(&server, &publish_url), &server.master_key);
    assert_eq!(done["status"], "Completed", "{done}");
    assert_eq!(names(&server), 30_000);

    // Rollback to the first version, killed right away.
    let first_job = first["id"].as_str().unwrap();
    let rollback =
        server.get(&format!("/REST/v1/Dataflows/DataSourceRollback/{first_job}/Shops?key={}", server.master_key));
    assert_eq!(rollback.status(), 201);
    let rollback_url = location(&rollback);
    std::thread::sleep(Duration::from_millis(5));
    server.kill9();
    server.restart();
    let rows = names(&server);
    assert!(rows == 1 || rows == 30_000, "before or after the rollback: {rows}");
    let done = server.wait_job(&relocate(&server, &rollback_url), &server.master_key);
    assert_eq!(done["status"], "Completed", "{done}");
    assert_eq!(names(&server), 1);

    // Delete, killed right away: afterwards it is gone, never half-gone.
    let delete = server
        .client
        .delete(format!("{}/data/{access_id}/Shops?key={}", server.root, server.master_key))
        .send()
        .unwrap();
    assert_eq!(delete.status(), 202);
    server.kill9();
    server.restart();
    let metadata = server.get(&format!("/REST/v1/data/{access_id}/Shops/$metadata?key={}", server.master_key));
    assert!(metadata.status() == 200 || metadata.status() == 404, "before or after the delete");
    let deadline = Instant::now() + Duration::from_secs(60);
    while server.get(&format!("/REST/v1/data/{access_id}/Shops?key={}", server.master_key)).status() != 404 {
        assert!(Instant::now() < deadline, "the delete job never ran");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        server
            .get(&format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/Shops?key={}", server.master_key))
            .status(),
        404
    );
    let list = server.get(&format!("/REST/v1/Dataflows/ListJobs?key={}", server.master_key)).json_value();
    let jobs = list["resourceSets"][0]["resources"].as_array().unwrap().clone();
    assert!(jobs.iter().all(|job| job["status"] == "Completed"), "no job left Pending: {list}");
}
