//! Download Data Source: job creation, status by name, versions by jobId,
//! several jobs at once, gzip.

use std::io::Read;

use crate::common::dataset;
use crate::common::server::{access_id_of, link, location, JsonBody, TestServer};
use crate::fixtures::*;

#[test]
fn download_job_status_and_location_use_the_sds_status_url() {
    let server = TestServer::start();
    let job = server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV);
    let access_id = access_id_of(&job);
    let response =
        server.get(&format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/Shops?key={}", server.master_key));
    assert_eq!(response.status(), 201);
    let status_url = location(&response);
    assert_eq!(status_url, format!("{}/dataflows/DataSourceDownload/Shops", server.root));
    let created = response.json_value();
    let resource = &created["resourceSets"][0]["resources"][0];
    assert_eq!(link(resource, "self", None), status_url);
    assert_eq!(resource["totalEntityCount"], 3);
    let done = server.wait_job(&status_url, &server.master_key);
    assert_eq!(done["status"], "Completed");
    assert_eq!(done["totalEntityCount"], 3);
    assert_eq!(done["processedEntityCount"], 0);
    assert_eq!(link(&done, "output", Some("succeeded")), format!("{status_url}/output/succeeded"));
}

#[test]
fn job_id_selects_an_older_version_and_a_specific_job() {
    let server = TestServer::start();
    let first = server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV);
    let second = server.load_and_wait("Shops", "complete", "pipe", SHOPS_PIPE);
    let access_id = access_id_of(&second);
    let old_job = first["id"].as_str().unwrap();

    let older = server.get(&format!(
        "/REST/v1/Dataflows/DataSourceDownload/{access_id}/Shops?jobId={old_job}&key={}",
        server.master_key
    ));
    assert_eq!(older.status(), 201);
    let older_job = older.json_value()["resourceSets"][0]["resources"][0]["id"].as_str().unwrap().to_owned();
    let newer =
        server.get(&format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/Shops?key={}", server.master_key));
    assert_eq!(newer.status(), 201);
    let status_url = location(&newer);
    let newest = server.wait_job(&status_url, &server.master_key);
    assert_ne!(newest["id"], older_job.as_str(), "the status URL answers for the newest job");

    // Both jobs' data, each addressed unambiguously by jobId.
    let older_status = format!("{status_url}?output=json&jobId={older_job}&key={}", server.master_key);
    for _ in 0..1000 {
        let job = server.get(&older_status).json_value();
        if job["resourceSets"][0]["resources"][0]["status"] != "Pending" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let old_data = server
        .get(&format!("{status_url}/output/succeeded?jobId={older_job}&key={}", server.master_key))
        .text()
        .unwrap();
    assert_eq!(dataset::parse(&old_data).rows.len(), 3, "the version of the first load");
    let new_data = server.get(&format!("{status_url}/output/succeeded?key={}", server.master_key)).text().unwrap();
    assert_eq!(dataset::parse(&new_data).rows.len(), 2, "the published version");
}

#[test]
fn unknown_version_or_source_is_404() {
    let server = TestServer::start();
    let job = server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV);
    let access_id = access_id_of(&job);
    let key = &server.master_key;
    let unknown_version = server
        .get(&format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/Shops?jobId={}&key={key}", "a".repeat(32)));
    assert_eq!(unknown_version.status(), 404);
    let wrong_name = server.get(&format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/Other?key={key}"));
    assert_eq!(wrong_name.status(), 404);
    let no_job_yet = server.get(&format!("/REST/v1/Dataflows/DataSourceDownload/Shops?key={key}"));
    assert_eq!(no_job_yet.status(), 404);
}

#[test]
fn gzip_is_honoured_when_accepted() {
    let server = TestServer::start();
    let job = server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV);
    let plain = server.download(&access_id_of(&job), "Shops");
    let url = format!("{}/dataflows/DataSourceDownload/Shops/output/succeeded?key={}", server.root, server.master_key);
    let response = server.client.get(url).header("accept-encoding", "gzip").send().unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let mut text = String::new();
    flate2::read::GzDecoder::new(&response.bytes().unwrap()[..]).read_to_string(&mut text).unwrap();
    assert_eq!(text, plain);
}

#[test]
fn xml_output_of_download_status() {
    let server = TestServer::start();
    let job = server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV);
    let access_id = access_id_of(&job);
    let response =
        server.get(&format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/Shops?o=xml&key={}", server.master_key));
    assert_eq!(response.status(), 201);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/xml"));
    let text = response.text().unwrap();
    assert!(text.contains("<DataflowJob>") && text.contains("<Status>Pending</Status>"), "{text}");
}

/// Runs a download job to completion; returns its job id and the URL of
/// its own output.
fn completed_download(server: &TestServer, access_id: &str) -> (String, String) {
    let response =
        server.get(&format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/Shops?key={}", server.master_key));
    assert_eq!(response.status(), 201);
    let job = server.wait_job(&location(&response), &server.master_key);
    assert_eq!(job["status"], "Completed", "{job}");
    let job_id = job["id"].as_str().unwrap().to_owned();
    let output = format!("{}?jobId={job_id}&key={}", link(&job, "output", Some("succeeded")), server.master_key);
    (job_id, output)
}

#[test]
fn deleting_a_data_source_removes_its_download_outputs() {
    if crate::common::database::skip_on_postgres(
        "download outputs are files of the data dir only beside SQLite; with PostgreSQL they are rows of the payload tables (the store suite tests those)",
    ) {
        return;
    }
    let server = TestServer::start();
    let shops = access_id_of(&server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV));
    let (job_id, _) = completed_download(&server, &shops);
    let output_file = server.data_dir().join("downloads").join(format!("{job_id}.xml"));
    assert!(output_file.exists(), "the output is at {}", output_file.display());

    let delete_url = format!("{}/data/{shops}/Shops?key={}", server.root, server.master_key);
    assert_eq!(server.client.delete(&delete_url).send().unwrap().status(), 202);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while output_file.exists() {
        assert!(std::time::Instant::now() < deadline, "the deleted data source's download output is still there");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let info = server.get(&format!("/REST/v1/data/{shops}/Shops?key={}", server.master_key));
    assert_eq!(info.status(), 404, "the output went with its data source");
}

#[test]
fn expired_download_outputs_are_removed_and_answer_404() {
    if crate::common::database::skip_on_postgres(
        "download outputs are files of the data dir only beside SQLite; with PostgreSQL they are rows of the payload tables (the store suite tests those)",
    ) {
        return;
    }
    let mut server = TestServer::start_with(&["--download-retention-days", "2"]);
    let shops = access_id_of(&server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV));
    let (old_job, old_output) = completed_download(&server, &shops);
    let (new_job, new_output) = completed_download(&server, &shops);
    let downloads = server.data_dir().join("downloads");
    // Written three days ago: past the two-day retention.
    let three_days_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3 * 86_400);
    let old_file = std::fs::File::options().write(true).open(downloads.join(format!("{old_job}.xml"))).unwrap();
    old_file.set_modified(three_days_ago).unwrap();
    drop(old_file);

    // The engine sweeps before it serves, then hourly.
    server.restart_with(&["--download-retention-days", "2"]);
    let (old_output, new_output) = (server.on_current_port(&old_output), server.on_current_port(&new_output));
    let expired = server.get(&old_output);
    assert_eq!(expired.status(), 404);
    let body = expired.json_value();
    assert!(body["errorDetails"][0].as_str().unwrap().contains("no longer available"), "{body}");
    assert_eq!(server.get(&new_output).status(), 200);
    assert!(!downloads.join(format!("{old_job}.xml")).exists());
    // The second download of the same version points at the first's kept output.
    assert!(downloads.join(format!("{new_job}.xml.kept")).exists(), "a fresh output stays");
}
