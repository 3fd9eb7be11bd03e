//! Graceful shutdown: on SIGTERM the server finishes requests in flight,
//! stops running loads and downloads at a safe point (they stay Pending and
//! run again from their input at the next start, never half-published), and
//! exits with status 0.

use std::io::Read;
use std::time::{Duration, Instant};

use crate::common::dataset;
use crate::common::server::{access_id_of, link, location, JsonBody, TestServer};
use crate::fixtures::*;

/// Polls a job until it has processed some entities (it is running).
fn wait_until_running(server: &TestServer, status_url: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let job = server.get(&format!("{status_url}?output=json&key={}", server.master_key)).json_value();
        let job = &job["resourceSets"][0]["resources"][0];
        assert_eq!(job["status"], "Pending", "the job ended before the signal: {job}");
        if job["processedEntityCount"].as_u64().unwrap_or(0) > 0 {
            return;
        }
        assert!(Instant::now() < deadline, "the job never started: {job}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn server_log(server: &TestServer) -> String {
    std::fs::read_to_string(server.data_dir().join("server.log")).unwrap()
}

#[test]
fn sigterm_during_a_load_stops_it_pending_and_it_completes_after_restart() {
    let mut server = TestServer::start();
    let first = server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV);
    let access_id = access_id_of(&first);

    let big = server.load("Shops", "complete", "csv", gzip(many_shops_csv(190_000).as_bytes()), "");
    assert_eq!(big.status(), 201);
    let big_url = location(&big);
    wait_until_running(&server, &big_url);

    let (succeeded, elapsed) = server.terminate();
    assert!(succeeded, "the server exits with status 0");
    assert!(elapsed < Duration::from_secs(10), "the load stops at its next batch, not at its end: {elapsed:?}");
    let log = server_log(&server);
    assert!(log.contains("job stopped for shutdown"), "{log}");
    // The job stopped at a safe point: counted as left Pending, not as ended.
    assert!(log.contains("jobs_left_pending=1"), "{log}");
    assert_eq!(log.matches("job ended").count(), 1, "only the first load ended: {log}");

    // Restarted, the old version is still the published one (nothing half
    // published), and the job runs again from its spooled input.
    server.restart();
    let published = dataset::parse(&server.download(&access_id, "Shops")).rows.len();
    assert!(published == 3 || published == 190_000, "published data is whole: {published} rows");
    let job = server.wait_job(&server.on_current_port(&big_url), &server.master_key);
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!(job["totalEntityCount"], 190_000);
    assert_eq!(dataset::parse(&server.download(&access_id, "Shops")).rows.len(), 190_000);
}

#[test]
fn sigterm_during_downloads_finishes_the_transfer_and_reruns_the_job() {
    let mut server = TestServer::start();
    let loaded = server.load_and_wait("Shops", "complete", "csv", gzip(many_shops_csv(200_000).as_bytes()));
    assert_eq!(loaded["status"], "Completed", "{loaded}");
    let access_id = access_id_of(&loaded);
    let whole = server.download(&access_id, "Shops");
    assert_eq!(dataset::parse(&whole).rows.len(), 200_000);

    // A finished download's output, being transferred when the signal comes.
    let created = server
        .get(&format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/Shops?output=json&key={}", server.master_key));
    let done = server.wait_job(&location(&created), &server.master_key);
    let output_url = format!("{}?key={}", link(&done, "output", Some("succeeded")), server.master_key);
    let mut transfer = reqwest::blocking::Client::new().get(&output_url).send().unwrap();
    assert_eq!(transfer.status(), 200);
    let mut received = vec![0u8; 1024];
    transfer.read_exact(&mut received).unwrap();

    // And a download job running when it comes.
    let running = server
        .get(&format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/Shops?output=json&key={}", server.master_key));
    assert_eq!(running.status(), 201);
    let running_url = location(&running);

    let pid = server.pid();
    let terminated = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap()
    });
    // The transfer in flight completes, whole.
    transfer.read_to_end(&mut received).unwrap();
    assert!(terminated.join().unwrap().success());
    assert_eq!(String::from_utf8(received).unwrap(), whole, "the transfer in flight finished whole");
    assert!(server.wait_exit(), "the server exits with status 0");

    // The running job either finished before the signal or runs again:
    // either way its output is whole.
    server.restart();
    let job = server.wait_job(&server.on_current_port(&running_url), &server.master_key);
    assert_eq!(job["status"], "Completed", "{job}");
    let output = server.get(&format!("{}?key={}", link(&job, "output", Some("succeeded")), server.master_key));
    assert_eq!(output.text().unwrap(), whole);
    let downloads = std::fs::read_dir(server.data_dir().join("downloads")).unwrap();
    let partial = downloads.flatten().filter(|entry| entry.file_name().to_string_lossy().ends_with(".part")).count();
    assert_eq!(partial, 0, "no partial output is left behind");
}

#[test]
fn sigint_stops_as_sigterm_does() {
    let mut server = TestServer::start();
    server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV);
    let interrupted = std::process::Command::new("kill").args(["-INT", &server.pid().to_string()]).status().unwrap();
    assert!(interrupted.success());
    assert!(server.wait_exit(), "Ctrl-C exits with status 0");
    let log = server_log(&server);
    assert!(log.contains("shutting down") && log.contains("shut down"), "{log}");
}

/// A gzip-compressed download the client abandons half-way is no request
/// in flight any more: SIGTERM right after it does not wait out
/// `--shutdown-timeout` (30 s here).
#[test]
fn an_abandoned_gzip_download_does_not_hold_the_shutdown() {
    let mut server = TestServer::start_with(&["--shutdown-timeout", "30"]);
    let loaded = server.load_and_wait("Shops", "complete", "csv", gzip(many_shops_csv(200_000).as_bytes()));
    let access_id = access_id_of(&loaded);
    let created = server
        .get(&format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/Shops?output=json&key={}", server.master_key));
    let done = server.wait_job(&location(&created), &server.master_key);
    let output_url = format!("{}?key={}", link(&done, "output", Some("succeeded")), server.master_key);
    let client = reqwest::blocking::Client::builder().no_gzip().build().unwrap();
    for _ in 0..3 {
        let mut transfer = client.get(&output_url).header("accept-encoding", "gzip").send().unwrap();
        assert_eq!(transfer.status(), 200);
        assert_eq!(transfer.headers()["content-encoding"], "gzip");
        let mut received = vec![0u8; 64 * 1024];
        transfer.read_exact(&mut received).unwrap();
        drop(transfer);
    }
    std::thread::sleep(Duration::from_millis(200));
    let (succeeded, elapsed) = server.terminate();
    assert!(succeeded, "the server exits with status 0");
    assert!(elapsed < Duration::from_secs(10), "the shutdown waited {elapsed:?} for abandoned transfers");
}
