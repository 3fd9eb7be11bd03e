//! Golden tests of the data source life cycle (publish, rollback,
//! visibility, delete, job list) and of the data source information
//! documents (service documents, `$metadata`), compared with the contract
//! files under `tests/golden/lifecycle/` and `tests/golden/info/`.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::golden::{assert_json_golden, assert_xml_golden};
use crate::common::server::{access_id_of, location, JsonBody, TestServer};

const NAME: &str = "GoldenShops";

const THREE_ROWS: &str = "Bing Spatial Data Services, 1.0, GoldenShop\n\
    EntityID(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\n\
    1,One,47.6,-122.1\n2,Two,47.7,-122.2\n3,Three,47.8,-122.3\n";

const OTHER_ROWS: &str = "Bing Spatial Data Services, 1.0, GoldenShop\n\
    EntityID(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\n\
    4,Four,47.6,-122.1\n5,Five,47.7,-122.2\n6,Six,47.8,-122.3\n";

/// A completed load of `GoldenShops`; returns (access id, job id).
fn load(server: &TestServer, operation: &str, rows: &str) -> (String, String) {
    let job = server.load_and_wait(NAME, operation, "csv", rows);
    assert_eq!(job["status"], "Completed", "{operation} load: {job}");
    (access_id_of(&job), job["id"].as_str().unwrap().to_owned())
}

fn content_type(response: &reqwest::blocking::Response) -> String {
    response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

fn assert_content_type(response: &reqwest::blocking::Response, expected: &str) {
    let actual = content_type(response);
    assert!(
        actual.split(';').next().unwrap().trim().eq_ignore_ascii_case(expected),
        "content type {actual:?}, expected {expected}"
    );
}

/// GET with the status code checked; returns (Location header if any, body).
fn get_expect(server: &TestServer, url: &str, status: u16, content: &str) -> (Option<String>, String) {
    let response = server.get(url);
    assert_eq!(response.status(), status, "GET {url}");
    assert_content_type(&response, content);
    let location = response.headers().get("location").map(|v| v.to_str().unwrap().to_owned());
    (location, response.text().unwrap())
}

fn first_job(body: &str) -> Value {
    let value: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
    value["resourceSets"][0]["resources"][0].clone()
}

fn self_url(job: &Value) -> String {
    crate::common::server::link(job, "self", None)
}

/// Polls the job list until no job is `Pending` (delete jobs have no status
/// URL of their own).
fn wait_no_pending_jobs(server: &TestServer) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let body = server.get(&format!("/REST/v1/Dataflows/ListJobs?key={}", server.master_key)).json_value();
        let resources = body["resourceSets"][0]["resources"].as_array().cloned().unwrap_or_default();
        if resources.iter().all(|job| job["status"] != "Pending") {
            return;
        }
        assert!(Instant::now() < deadline, "jobs still pending: {body}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn commit_and_getstatus_envelopes() {
    let server = TestServer::start();
    let (access_id, _) = load(&server, "complete", THREE_ROWS);
    let vars = [("root", server.root.as_str()), ("accessId", access_id.as_str())];
    load(&server, "completeStaging", OTHER_ROWS);

    let commit = format!("/REST/v1/data/{access_id}/{NAME}/$commit?key={}", server.master_key);
    let (location, body) = get_expect(&server, &format!("{commit}&output=json"), 202, "application/json");
    assert_json_golden("lifecycle/commit-created.json", &body, &vars);
    let job = first_job(&body);
    assert_eq!(location.as_deref(), Some(self_url(&job).as_str()), "Location = self link");
    let status_url = location.unwrap();

    let done = server.wait_job(&status_url, &server.master_key);
    assert_eq!(done["status"], "Completed", "{done}");
    let (_, json) =
        get_expect(&server, &format!("{status_url}?output=json&key={}", server.master_key), 200, "application/json");
    assert_json_golden("lifecycle/getstatus-completed.json", &json, &vars);
    // The toolkit polls the self link verbatim: no key, no output.
    let (_, keyless) = get_expect(&server, &status_url, 200, "application/json");
    assert_json_golden("lifecycle/getstatus-completed.json", &keyless, &vars);
    let (_, xml) =
        get_expect(&server, &format!("{status_url}?output=xml&key={}", server.master_key), 200, "application/xml");
    assert_xml_golden("lifecycle/getstatus-completed.xml", &xml, &vars);

    // A second staged version, published with an XML answer.
    load(&server, "completeStaging", THREE_ROWS);
    let (location, body) = get_expect(&server, &format!("{commit}&o=xml"), 202, "application/xml");
    assert_xml_golden("lifecycle/commit-created.xml", &body, &vars);
    let location = location.expect("a Location header on $commit");
    assert!(body.contains(&format!(">{location}</Link>")), "Location {location} is not the self link: {body}");
    server.wait_job(&location, &server.master_key);
}

#[test]
fn rollback_envelopes() {
    let server = TestServer::start();
    let (access_id, first) = load(&server, "complete", THREE_ROWS);
    let vars = [("root", server.root.as_str()), ("accessId", access_id.as_str())];
    load(&server, "complete", OTHER_ROWS);

    let rollback = format!("/REST/v1/Dataflows/DataSourceRollback/{first}/{NAME}?key={}", server.master_key);
    let (location, body) = get_expect(&server, &format!("{rollback}&output=json"), 201, "application/json");
    assert_json_golden("lifecycle/rollback-created.json", &body, &vars);
    let job = first_job(&body);
    assert_eq!(location.as_deref(), Some(self_url(&job).as_str()), "Location = self link");
    let status_url = location.unwrap();
    let done = server.wait_job(&status_url, &server.master_key);
    assert_eq!(done["status"], "Completed", "{done}");
    let (_, json) =
        get_expect(&server, &format!("{status_url}?output=json&key={}", server.master_key), 200, "application/json");
    assert_json_golden("lifecycle/rollback-completed.json", &json, &vars);

    // Publish a third version, then roll back again (XML answer) to the
    // version that was active before it.
    load(&server, "complete", OTHER_ROWS);
    let (location, body) = get_expect(&server, &format!("{rollback}&o=xml"), 201, "application/xml");
    assert_xml_golden("lifecycle/rollback-created.xml", &body, &vars);
    let done = server.wait_job(&location.expect("a Location header on rollback"), &server.master_key);
    assert_eq!(done["status"], "Completed", "{done}");
}

#[test]
fn update_data_source_envelopes() {
    let server = TestServer::start();
    let (access_id, _) = load(&server, "complete", THREE_ROWS);
    let vars = [("root", server.root.as_str()), ("accessId", access_id.as_str())];
    let update = format!("/REST/v1/data/{access_id}/{NAME}/$updatedatasource?key={}", server.master_key);

    let (location, body) = get_expect(&server, &format!("{update}&setPublic=1&o=json"), 201, "application/json");
    assert_json_golden("lifecycle/updatedatasource-created.json", &body, &vars);
    let job = first_job(&body);
    if let Some(location) = &location {
        assert_eq!(location, &self_url(&job), "Location = self link");
    }
    let done = server.wait_job(&self_url(&job), &server.master_key);
    assert_eq!(done["status"], "Completed", "{done}");

    let (location, body) = get_expect(&server, &format!("{update}&setPublic=0&o=xml"), 201, "application/xml");
    assert_xml_golden("lifecycle/updatedatasource-created.xml", &body, &vars);
    if let Some(location) = location {
        server.wait_job(&location, &server.master_key);
    }
}

#[test]
fn list_jobs_envelopes() {
    let server = TestServer::start();
    let (access_id, _complete) = load(&server, "complete", THREE_ROWS);
    let vars = [("root", server.root.as_str()), ("accessId", access_id.as_str())];
    load(&server, "completeStaging", OTHER_ROWS);
    let data = format!("/REST/v1/data/{access_id}/{NAME}");
    let key = &server.master_key;

    let publish = server.get(&format!("{data}/$commit?key={key}&output=json"));
    assert_eq!(publish.status(), 202);
    server.wait_job(&location(&publish), key);

    let access =
        first_job(&server.get(&format!("{data}/$updatedatasource?setPublic=1&key={key}&o=json")).text().unwrap());
    server.wait_job(&self_url(&access), key);

    // The version replaced by the publish is the rollback target.
    let info = server.get(&format!("{data}?showAllVersions=true&$format=atom&key={key}")).text().unwrap();
    let previous = previous_version_job_id(&info);
    let rollback =
        server.get(&format!("/REST/v1/Dataflows/DataSourceRollback/{previous}/{NAME}?key={key}&output=json"));
    assert_eq!(rollback.status(), 201);
    server.wait_job(&location(&rollback), key);

    let delete = server.client.delete(server.url(&format!("{data}?key={key}"))).send().expect("DELETE");
    assert_eq!(delete.status(), 202);
    assert_eq!(delete.text().unwrap(), "", "delete answers with an empty body");
    wait_no_pending_jobs(&server);

    // Any key of the account lists its jobs; the toolkit sends no `output`.
    let response = server.get(&format!("/REST/v1/Dataflows/ListJobs?key={}", server.query_key));
    assert_eq!(response.status(), 200);
    assert_content_type(&response, "application/json");
    assert_json_golden("lifecycle/listjobs.json", &response.text().unwrap(), &vars);
    let response = server.get(&format!("/REST/v1/dataflows/listjobs?key={key}&output=xml"));
    assert_eq!(response.status(), 200);
    assert_content_type(&response, "application/xml");
    assert_xml_golden("lifecycle/listjobs.xml", &response.text().unwrap(), &vars);
}

/// The job id of the one workspace with `isActive="false"` and
/// `isStagingDataSource="false"` in a `showAllVersions` service document.
fn previous_version_job_id(atom: &str) -> String {
    let workspace = atom
        .split("<app:workspace")
        .skip(1)
        .find(|w| w.contains("bsi:isActive=\"false\"") && w.contains("bsi:isStagingDataSource=\"false\""))
        .unwrap_or_else(|| panic!("no previous version in {atom}"));
    workspace.split("<atom:jobId>").nth(1).unwrap().split('<').next().unwrap().trim().to_owned()
}

#[test]
fn data_source_information_documents() {
    let server = TestServer::start();
    let (access_id, previous) = load(&server, "complete", THREE_ROWS);
    let vars = [("root", server.root.as_str()), ("accessId", access_id.as_str())];
    let key = &server.master_key;
    let query_key = &server.query_key;
    let data = format!("/REST/v1/data/{access_id}/{NAME}");

    // One published version.
    let (_, atom) = get_expect(&server, &format!("/REST/v1/data?key={query_key}"), 200, "application/atomsvc+xml");
    assert_xml_golden("info/account.atom.xml", &atom, &vars);
    let (_, atom) =
        get_expect(&server, &format!("/REST/v1/data?$format=atom&key={key}"), 200, "application/atomsvc+xml");
    assert_xml_golden("info/account.atom.xml", &atom, &vars);
    let (_, json) = get_expect(&server, &format!("/REST/v1/data?$format=json&key={key}"), 200, "application/json");
    assert_json_golden("info/account.json", &json, &vars);
    let (_, json) = get_expect(&server, &format!("{data}?$format=json&key={key}"), 200, "application/json");
    assert_json_golden("info/single.json", &json, &vars);
    let (_, json) = get_expect(&server, &format!("{data}?$format=json&key={query_key}"), 200, "application/json");
    assert_json_golden("info/single.json", &json, &vars);

    for url in [format!("/REST/v1/data/$metadata?key={key}"), format!("{data}/$metadata?key={query_key}")] {
        let (_, xml) = get_expect(&server, &url, 200, "application/xml");
        assert_xml_golden("info/metadata.xml", &xml, &vars);
        assert!(xml.contains(&format!("JobID=\"{previous}\"")), "JobID is the published version: {xml}");
    }

    // Published, staged and previous versions.
    let (_, published) = load(&server, "complete", OTHER_ROWS);
    let (_, staged) = load(&server, "completeStaging", THREE_ROWS);
    let (_, atom) =
        get_expect(&server, &format!("{data}?showAllVersions=true&key={key}"), 200, "application/atomsvc+xml");
    assert_xml_golden("info/single-all-versions.atom.xml", &atom, &vars);
    let order: Vec<usize> = [&published, &staged, &previous]
        .iter()
        .map(|id| atom.find(&format!(">{id}<")).unwrap_or_else(|| panic!("version {id} missing: {atom}")))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "versions out of order (published, staged, previous): {atom}");

    // Public list after `$updateDataSource?setPublic=1`.
    let access =
        first_job(&server.get(&format!("{data}/$updatedatasource?setPublic=1&key={key}&o=json")).text().unwrap());
    let done = server.wait_job(&self_url(&access), key);
    assert_eq!(done["status"], "Completed", "{done}");
    let stranger = server.create_key("stranger");
    let (_, atom) = get_expect(
        &server,
        &format!("/REST/v1/data/$GetPublicDataSourceList?key={stranger}"),
        200,
        "application/atomsvc+xml",
    );
    assert_xml_golden("info/public-list.atom.xml", &atom, &vars);
    let (_, json) = get_expect(
        &server,
        &format!("/REST/v1/data/$GetPublicDataSourceList?$format=json&key={stranger}"),
        200,
        "application/json",
    );
    assert_json_golden("info/public-list.json", &json, &vars);
}
