//! Data source lifecycle over HTTP: staging and publish, versions and
//! rollback, visibility, delete, the job list, and account quotas.

use crate::common::dataset;
use crate::common::server::{access_id_of, link, location, JsonBody, TestServer};
use crate::fixtures::*;

const TWO_ROWS: &str = "Bing Spatial Data Services, 1.0, Shops\n\
    EntityID(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\n\
    a,First,1,1\nb,Second,2,2\n";

fn rows(server: &TestServer, access_id: &str, extra: &str) -> Vec<String> {
    let response = server.get(&format!(
        "/REST/v1/Dataflows/DataSourceDownload/{access_id}/Shops?output=json&key={}{extra}",
        server.master_key
    ));
    assert_eq!(response.status(), 201, "download of {access_id}{extra}");
    let status_url = location(&response);
    let created = response.json_value()["resourceSets"][0]["resources"][0]["id"].as_str().unwrap().to_owned();
    let job = loop {
        let body =
            server.get(&format!("{status_url}?output=json&jobId={created}&key={}", server.master_key)).json_value();
        let job = body["resourceSets"][0]["resources"][0].clone();
        if job["status"] != "Pending" {
            break job;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(job["status"], "Completed", "{job}");
    let text = server
        .get(&format!("{}?jobId={created}&key={}", link(&job, "output", Some("succeeded")), server.master_key))
        .text()
        .unwrap();
    dataset::parse(&text).by_id().into_keys().collect()
}

/// Polls a link verbatim, as the toolkit does for publish and rollback.
fn poll_verbatim(server: &TestServer, url: &str) -> serde_json::Value {
    loop {
        let response = server.get(url);
        assert_eq!(response.status(), 200, "{url}");
        let text = response.text().unwrap();
        assert!(text.starts_with('{'), "JSON by default: {text}");
        let job = serde_json::from_str::<serde_json::Value>(&text).unwrap()["resourceSets"][0]["resources"][0].clone();
        assert_eq!(job["__type"], "DataflowJob:http://schemas.microsoft.com/search/local/ws/rest/v1");
        if job["status"] != "Pending" {
            return job;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn staging_then_publish() {
    let server = TestServer::start();
    let first = server.load_and_wait("Shops", "complete", "pipe", SHOPS_PIPE);
    let access_id = access_id_of(&first);
    let staged = server.load_and_wait("Shops", "completeStaging", "csv", TWO_ROWS);
    assert_eq!(staged["status"], "Completed", "{staged}");
    assert_eq!(staged["description"], "DataSourceCompleteStaging");
    assert_eq!(rows(&server, &access_id, ""), ["1", "2"], "the published version is untouched");
    assert_eq!(rows(&server, &access_id, "&isStaging=1"), ["a", "b"]);
    let staged_job = staged["id"].as_str().unwrap();
    assert_eq!(rows(&server, &access_id, &format!("&jobId={staged_job}")), ["a", "b"]);

    let response =
        server.get(&format!("/REST/v1/data/{access_id}/Shops/$commit?output=json&key={}", server.master_key));
    assert_eq!(response.status(), 202);
    let status_url = location(&response);
    let body = response.json_value();
    let job = &body["resourceSets"][0]["resources"][0];
    assert_eq!(job["__type"], "DataServiceJob:http://schemas.microsoft.com/search/local/ws/rest/v1");
    assert_eq!(job["description"], "DataSourcePublishFromStaged");
    assert_eq!(link(job, "self", None), status_url);
    assert!(status_url.ends_with("/$getstatus"), "{status_url}");
    let done = poll_verbatim(&server, &status_url);
    assert_eq!(done["status"], "Completed", "{done}");
    assert_eq!(rows(&server, &access_id, ""), ["a", "b"]);
    let nothing_staged =
        server.get(&format!("/REST/v1/data/{access_id}/Shops/$commit?output=json&key={}", server.master_key));
    assert_eq!(nothing_staged.status(), 400, "nothing left to publish");
}

#[test]
fn staging_rules() {
    let server = TestServer::start();
    let first = server.load_and_wait("Shops", "complete", "pipe", SHOPS_PIPE);
    let access_id = access_id_of(&first);
    let public_staging = server.load("Shops", "completeStaging", "csv", TWO_ROWS, "&setPublic=1");
    assert_eq!(public_staging.status(), 400);
    assert!(server.load("Shops", "completeStaging", "csv", TWO_ROWS, "&setPublic=0").status() == 201);
    let no_staged = server
        .get(&format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/Shops?isStaging=1&key={}", server.master_key));
    assert!(no_staged.status() == 201 || no_staged.status() == 404);
    // A newer staging replaces the older one; incremental staging builds on the published version.
    let changes = "Bing Spatial Data Services, 1.0, Shops\n\
        EntityID(Edm.String,primaryKey)|Name(Edm.String)|Latitude(Edm.Double)|Longitude(Edm.Double)\n3|Third|3|3\n";
    let job = server.load_and_wait("Shops", "incrementalStaging", "pipe", changes);
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!(rows(&server, &access_id, "&isStaged=1"), ["1", "2", "3"]);
    assert_eq!(rows(&server, &access_id, ""), ["1", "2"]);
    let delete_staged = server
        .client
        .delete(format!("{}/data/{access_id}/Shops?isStaging=1&key={}", server.root, server.master_key))
        .send()
        .unwrap();
    assert_eq!(delete_staged.status(), 202);
    wait_for_list_idle(&server);
    let gone = server
        .get(&format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/Shops?isStaging=1&key={}", server.master_key));
    assert_eq!(gone.status(), 404);
    assert_eq!(rows(&server, &access_id, ""), ["1", "2"], "the published version survives");
}

/// Waits until the account has no pending job, through the job list.
fn wait_for_list_idle(server: &TestServer) {
    for _ in 0..500 {
        let list = server.get(&format!("/REST/v1/Dataflows/ListJobs?key={}", server.master_key)).json_value();
        let jobs = list["resourceSets"][0]["resources"].as_array().unwrap().clone();
        if jobs.iter().all(|job| job["status"] != "Pending") {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("jobs stayed pending");
}

#[test]
fn rollback_restores_a_previous_version_and_only_two_are_kept() {
    let server = TestServer::start();
    let bodies = ["a,One,1,1\n", "b,Two,2,2\n", "c,Three,3,3\n", "d,Four,4,4\n"];
    let header = "Bing Spatial Data Services, 1.0, Shops\nEntityID(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\n";
    let jobs: Vec<serde_json::Value> =
        bodies.iter().map(|rows| server.load_and_wait("Shops", "complete", "csv", format!("{header}{rows}"))).collect();
    let access_id = access_id_of(&jobs[0]);
    let job_id = |index: usize| jobs[index]["id"].as_str().unwrap().to_owned();

    let versions = server
        .get(&format!("/REST/v1/data/{access_id}/Shops?showAllVersions=true&key={}", server.master_key))
        .text()
        .unwrap();
    for kept in [1, 2, 3] {
        assert!(versions.contains(&job_id(kept)), "version {kept} listed: {versions}");
    }
    assert!(!versions.contains(&job_id(0)), "only two previous versions are kept: {versions}");
    assert_eq!(rows(&server, &access_id, &format!("&jobId={}", job_id(1))), ["b"]);
    let dropped = server.get(&format!(
        "/REST/v1/Dataflows/DataSourceDownload/{access_id}/Shops?jobId={}&key={}",
        job_id(0),
        server.master_key
    ));
    assert_eq!(dropped.status(), 404);

    let response = server.get(&format!(
        "/REST/v1/Dataflows/DataSourceRollback/{}/Shops?output=json&key={}",
        job_id(1),
        server.master_key
    ));
    assert_eq!(response.status(), 201);
    let status_url = location(&response);
    let created = response.json_value();
    let job = &created["resourceSets"][0]["resources"][0];
    assert_eq!(job["description"], "DataSourceRollback");
    assert_eq!(job["status"], "Pending");
    let done = poll_verbatim(&server, &status_url);
    assert_eq!(done["status"], "Completed", "{done}");
    assert_eq!(link(&done, "dataSource", Some("service")), format!("{}/data/{access_id}/Shops", server.root));
    assert_eq!(rows(&server, &access_id, ""), ["b"]);
    assert_eq!(
        rows(&server, &access_id, &format!("&jobId={}", job_id(3))),
        ["d"],
        "the replaced version is a rollback target"
    );

    let to_published =
        server.get(&format!("/REST/v1/Dataflows/DataSourceRollback/{}/Shops?key={}", job_id(1), server.master_key));
    assert_eq!(to_published.status(), 400);
    let unknown = server.get(&format!(
        "/REST/v1/Dataflows/DataSourceRollback/{}/Shops?key={}",
        "e".repeat(32),
        server.master_key
    ));
    assert_eq!(unknown.status(), 404);
    let not_master =
        server.get(&format!("/REST/v1/Dataflows/DataSourceRollback/{}/Shops?key={}", job_id(2), server.query_key));
    assert_eq!(not_master.status(), 401);
}

#[test]
fn public_and_private() {
    let server = TestServer::start();
    let job = server.load_and_wait("Shops", "complete", "pipe", SHOPS_PIPE);
    let access_id = access_id_of(&job);
    let stranger = server.create_key("stranger");
    let public_list = |key: &str| {
        server.get(&format!("/REST/v1/data/$GetPublicDataSourceList?$format=json&key={key}")).json_value()["d"]
            ["DataSources"]
            .as_array()
            .unwrap()
            .clone()
    };
    assert!(public_list(&stranger).is_empty());
    let response = server.get(&format!(
        "/REST/v1/data/{access_id}/Shops/$updatedatasource?setPublic=1&o=json&key={}",
        server.master_key
    ));
    assert_eq!(response.status(), 201);
    let body = response.json_value();
    assert_eq!(body["resourceSets"][0]["resources"][0]["status"], "Created");
    wait_for_list_idle(&server);
    let listed = public_list(&stranger);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["Name"], "Shops");
    assert_eq!(listed[0]["IsPublic"], true);
    let info =
        server.get(&format!("/REST/v1/data/{access_id}/Shops?$format=json&key={}", server.query_key)).json_value();
    assert_eq!(info["d"]["IsPublic"], "true");
    assert!(
        server
            .get(&format!("/REST/v1/data/{access_id}/Shops/$updatedatasource?setPublic=0&key={}", server.master_key))
            .status()
            == 201
    );
    wait_for_list_idle(&server);
    assert!(public_list(&stranger).is_empty());
    let missing = server.get(&format!("/REST/v1/data/{access_id}/Shops/$updatedatasource?key={}", server.master_key));
    assert_eq!(missing.status(), 400);
}

#[test]
fn delete_makes_the_data_source_answer_404_everywhere() {
    let server = TestServer::start();
    let job = server.load_and_wait("Shops", "complete", "csv", many_shops_csv(20_000));
    let access_id = access_id_of(&job);
    let delete_url = format!("{}/data/{access_id}/Shops?key={}", server.root, server.master_key);
    assert_eq!(server.client.delete(&delete_url).send().unwrap().status(), 202);
    wait_for_list_idle(&server);
    let key = &server.master_key;
    for path in [
        format!("/REST/v1/data/{access_id}/Shops?key={key}"),
        format!("/REST/v1/data/{access_id}/Shops/$metadata?key={key}"),
        format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/Shops?key={key}"),
        format!("/REST/v1/data/{access_id}/Shops/$commit?key={key}"),
    ] {
        assert_eq!(server.get(&path).status(), 404, "{path}");
    }
    assert_eq!(server.client.delete(&delete_url).send().unwrap().status(), 404);
    let list = server.get(&format!("/REST/v1/data?$format=json&key={key}")).json_value();
    assert_eq!(list["d"]["DataSources"], serde_json::json!([]));
    // The name is free again, with a new access id.
    let again = server.load_and_wait("Shops", "complete", "pipe", SHOPS_PIPE);
    assert_ne!(access_id_of(&again), access_id);
}

#[test]
fn a_name_being_deleted_cannot_be_loaded() {
    let server = TestServer::start();
    let job = server.load_and_wait("Shops", "complete", "pipe", SHOPS_PIPE);
    let access_id = access_id_of(&job);
    // A slow load queued first keeps the delete pending behind it.
    assert_eq!(server.load("Shops", "complete", "csv", many_shops_csv(100_000), "").status(), 201);
    let deleted = server
        .client
        .delete(format!("{}/data/{access_id}/Shops?key={}", server.root, server.master_key))
        .send()
        .unwrap();
    assert_eq!(deleted.status(), 202);
    let refused = server.load("Shops", "complete", "pipe", SHOPS_PIPE, "");
    assert_eq!(refused.status(), 400);
    assert!(refused.json_value()["errorDetails"].to_string().contains("being deleted"));
    // The job list shows pending jobs first: the delete waits behind the load.
    let list = server.get(&format!("/REST/v1/Dataflows/ListJobs?key={}", server.master_key)).json_value();
    let statuses: Vec<&str> = list["resourceSets"][0]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|job| job["status"].as_str().unwrap())
        .collect();
    let first_done = statuses.iter().position(|status| *status != "Pending").unwrap_or(statuses.len());
    assert!(statuses[first_done..].iter().all(|status| *status != "Pending"), "pending first: {statuses:?}");
    assert!(first_done >= 1, "the delete is still pending: {statuses:?}");
    wait_for_list_idle(&server);
}

#[test]
fn job_list_shows_the_accounts_jobs_without_downloads() {
    let server = TestServer::start();
    let first = server.load_and_wait("Shops", "complete", "pipe", SHOPS_PIPE);
    let access_id = access_id_of(&first);
    server.download(&access_id, "Shops");
    server.load_and_wait("Shops", "completeStaging", "csv", TWO_ROWS);
    let publish = server.get(&format!("/REST/v1/data/{access_id}/Shops/$commit?key={}", server.master_key));
    assert_eq!(publish.status(), 202);
    wait_for_list_idle(&server);
    let stranger = server.create_key("stranger");
    server
        .client
        .post(format!(
            "{}/Dataflows/LoadDataSource?dataSourceName=Theirs&loadOperation=complete&input=pipe&key={stranger}",
            server.root
        ))
        .body(SHOPS_PIPE)
        .send()
        .unwrap();

    let list = server.get(&format!("/REST/v1/Dataflows/ListJobs?key={}", server.query_key)).json_value();
    let set = &list["resourceSets"][0];
    let jobs = set["resources"].as_array().unwrap();
    assert_eq!(set["estimatedTotal"], 3, "{list}");
    let descriptions: Vec<&str> = jobs.iter().map(|job| job["description"].as_str().unwrap()).collect();
    assert_eq!(descriptions, ["DataSourcePublishFromStaged", "DataSourceCompleteStaging", "DataSourceComplete"]);
    assert!(jobs[0]["__type"].as_str().unwrap().starts_with("DataServiceJob:"));
    assert!(jobs[1]["__type"].as_str().unwrap().starts_with("DataflowJob:"));
    let xml = server.get(&format!("/REST/v1/Dataflows/ListJobs?output=xml&key={}", server.master_key)).text().unwrap();
    assert!(xml.contains("<DataServiceJob>") && xml.contains("<DataflowJob>"), "{xml}");
}

#[test]
fn information_and_metadata() {
    let server = TestServer::start();
    let job = server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV);
    let access_id = access_id_of(&job);
    let atom = server.get(&format!("/REST/v1/data?key={}", server.query_key));
    assert_eq!(atom.status(), 200);
    assert!(atom.headers()["content-type"].to_str().unwrap().starts_with("application/atomsvc+xml"));
    let text = atom.text().unwrap();
    assert!(text.contains(&format!(r#"app:href="{}/data/{access_id}/Shops/Shops""#, server.root)), "{text}");
    assert!(text.contains("<atom:title>Shops</atom:title>"), "{text}");
    let json = server.get(&format!("/REST/v1/data?$format=json&key={}", server.master_key)).json_value();
    assert_eq!(json["d"]["DataSources"][0]["EntitySets"], serde_json::json!(["Shops"]));
    assert_eq!(json["d"]["DataSources"][0]["IsPublic"], "false");
    let metadata =
        server.get(&format!("/REST/v1/data/{access_id}/Shops/$metadata?key={}", server.master_key)).text().unwrap();
    assert!(metadata.contains(r#"<Property Name="Seats" Type="Edm.Int64" Nullable="true"/>"#), "{metadata}");
    assert!(metadata.contains(r#"<PropertyRef Name="EntityID"/>"#), "{metadata}");
    let account_metadata = server.get(&format!("/REST/v1/data/$metadata?key={}", server.master_key)).text().unwrap();
    assert!(account_metadata.contains(r#"EntityContainer Name="ShopsContext""#), "{account_metadata}");
    let stranger = server.create_key("stranger");
    assert_eq!(server.get(&format!("/REST/v1/data/{access_id}/Shops?key={stranger}")).status(), 401);
    assert_eq!(server.get(&format!("/REST/v1/data/{}/Shops?key={stranger}", "f".repeat(32))).status(), 404);
    assert_eq!(
        server.get(&format!("/REST/v1/data/{access_id}/Shops?$format=csv&key={}", server.master_key)).status(),
        400
    );
}

#[test]
fn account_quotas_refuse_and_change_nothing() {
    let server = TestServer::start_with(&["--max-data-sources", "2", "--max-jobs-per-day", "4"]);
    server.load_and_wait("One", "complete", "pipe", SHOPS_PIPE);
    server.load_and_wait("Two", "complete", "pipe", SHOPS_PIPE);
    let third = server.load("Three", "complete", "pipe", SHOPS_PIPE, "");
    assert_eq!(third.status(), 403);
    let body = third.json_value();
    assert_eq!(body["authenticationResultCode"], "ValidCredentials");
    assert!(body["errorDetails"].to_string().contains("limit of data sources per account is 2"), "{body}");
    // Overwriting an existing data source is not a new one.
    server.load_and_wait("One", "complete", "pipe", SHOPS_PIPE);
    server.load_and_wait("Two", "complete", "pipe", SHOPS_PIPE);
    let fifth = server.load("One", "complete", "pipe", SHOPS_PIPE, "");
    assert_eq!(fifth.status(), 503);
    assert!(fifth.json_value()["errorDetails"].to_string().contains("limit of jobs per 24 hours is 4"));
    let list = server.get(&format!("/REST/v1/Dataflows/ListJobs?key={}", server.master_key)).json_value();
    assert_eq!(list["resourceSets"][0]["estimatedTotal"], 4, "refused jobs are not stored");
}

#[test]
fn jobs_in_process_quota() {
    let server = TestServer::start_with(&["--max-jobs-in-process", "1"]);
    assert_eq!(server.load("Big", "complete", "csv", many_shops_csv(100_000), "").status(), 201);
    let second = server.load("Small", "complete", "pipe", SHOPS_PIPE, "");
    assert_eq!(second.status(), 503);
    let details = second.json_value()["errorDetails"].to_string();
    assert!(details.contains("jobs in process at once is 1 (the server's --max-jobs-in-process"), "{details}");
    wait_for_list_idle(&server);
    assert_eq!(server.load("Small", "complete", "pipe", SHOPS_PIPE, "").status(), 201);
}

#[test]
fn staged_versions_expire_after_their_retention() {
    let mut server = TestServer::start();
    let job = server.load_and_wait("Shops", "complete", "pipe", SHOPS_PIPE);
    let access_id = access_id_of(&job);
    server.load_and_wait("Shops", "completeStaging", "csv", TWO_ROWS);
    server.restart_with(&["--staged-retention-days", "1"]);
    assert_eq!(rows(&server, &access_id, "&isStaging=1"), ["a", "b"], "kept within its retention");
    server.restart_with(&["--staged-retention-days", "0"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let staged_url =
        format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/Shops?isStaging=1&key={}", server.master_key);
    while server.get(&staged_url).status() != 404 {
        assert!(std::time::Instant::now() < deadline, "the expired staged version was not dropped");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(rows(&server, &access_id, ""), ["1", "2"], "the published version stays");
}

#[test]
fn lifecycle_errors() {
    let server = TestServer::start();
    let job = server.load_and_wait("Shops", "complete", "pipe", SHOPS_PIPE);
    let access_id = access_id_of(&job);
    server.load_and_wait("Shops", "completeStaging", "csv", TWO_ROWS);
    let commit = |key: &str| server.get(&format!("/REST/v1/data/{access_id}/Shops/$commit?output=json&key={key}"));
    assert_eq!(commit(&server.query_key).status(), 401, "only the master key publishes");
    let stranger = server.create_key("stranger");
    assert_eq!(commit(&stranger).status(), 401);
    assert_eq!(
        server.get(&format!("/REST/v1/data/{}/Shops/$commit?key={}", "0".repeat(32), server.master_key)).status(),
        404
    );
    assert_eq!(server.get(&format!("/REST/v1/data/jobs/{}/$getstatus", "0".repeat(32))).status(), 404);
    assert_eq!(server.get("/REST/v1/data/jobs/not-a-job/$getstatus").status(), 404);
    // A load job's id is not a $getstatus job.
    assert_eq!(server.get(&format!("/REST/v1/data/jobs/{}/$getstatus", job["id"].as_str().unwrap())).status(), 404);
    let response = commit(&server.master_key);
    assert_eq!(response.status(), 202);
    let status_url = location(&response);
    assert_eq!(
        server.get(&format!("{status_url}?key={stranger}")).status(),
        401,
        "a key, when given, must be of the account"
    );
    assert_eq!(server.get(&format!("{status_url}?key=wrong")).status(), 401);
    let xml = server.get(&format!("{status_url}?output=xml")).text().unwrap();
    assert!(xml.contains("<DataServiceJob>"), "{xml}");
    let delete = |key: &str| {
        server.client.delete(format!("{}/data/{access_id}/Shops?key={key}", server.root)).send().unwrap().status()
    };
    assert_eq!(delete(&server.query_key), 401);
    assert_eq!(delete(""), 401);
}
