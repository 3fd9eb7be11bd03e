//! Authentication and lookup errors: status, `authenticationResultCode`,
//! and an SDS envelope in the requested format on every route.

use crate::common::server::{access_id_of, JsonBody, TestServer};
use crate::fixtures::*;

fn assert_error(response: reqwest::blocking::Response, status: u16, code: &str, detail: &str) {
    assert_eq!(response.status(), status);
    let body = response.json_value();
    assert_eq!(body["statusCode"], status);
    assert_eq!(body["authenticationResultCode"], code, "{body}");
    assert_eq!(body["resourceSets"], serde_json::json!([]));
    let details = body["errorDetails"].to_string();
    assert!(details.contains(detail), "expected '{detail}' in {details}");
}

#[test]
fn missing_unknown_and_foreign_keys_are_401() {
    let server = TestServer::start();
    let job = server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV);
    let access_id = access_id_of(&job);
    let download =
        |key: &str| server.get(&format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/Shops?output=json{key}"));
    assert_error(download(""), 401, "NoCredentials", "'key'");
    assert_error(download("&key=not-a-key"), 401, "InvalidCredentials", "not valid");
    // The other key of the same account is not the master key.
    assert_error(download(&format!("&key={}", server.query_key)), 401, "NotAuthorized", "master key");
    // A key of another account never reaches this data source or its jobs.
    let stranger = server.create_key("stranger");
    assert_error(download(&format!("&key={stranger}")), 401, "NotAuthorized", "master key");
    let status =
        server.get(&format!("/REST/v1/Dataflows/LoadDataSource/{}?key={stranger}", job["id"].as_str().unwrap()));
    assert_error(status, 401, "NotAuthorized", "another account");
    let overwrite = server
        .client
        .post(format!(
            "{}/Dataflows/LoadDataSource?dataSourceName=Shops&loadOperation=complete&input=csv&key={}",
            server.root, server.query_key
        ))
        .body(SHOPS_CSV)
        .send()
        .unwrap();
    assert_error(overwrite, 401, "NotAuthorized", "master key");
}

#[test]
fn unknown_jobs_sources_and_paths_are_404_in_the_requested_format() {
    let server = TestServer::start();
    let key = &server.master_key;
    assert_error(
        server.get(&format!("/REST/v1/Dataflows/LoadDataSource/{}?key={key}", "b".repeat(32))),
        404,
        "ValidCredentials",
        "no load job",
    );
    assert_error(
        server.get(&format!("/REST/v1/Dataflows/DataSourceDownload/{}/Nope?key={key}", "c".repeat(32))),
        404,
        "ValidCredentials",
        "no data source",
    );
    assert_error(server.get("/REST/v1/NoSuchThing?output=json"), 404, "None", "no resource");
    let xml = server.get(&format!("/REST/v1/Dataflows/LoadDataSource/{}?o=xml&key={key}", "b".repeat(32)));
    assert_eq!(xml.status(), 404);
    let text = xml.text().unwrap();
    assert!(text.contains("<StatusCode>404</StatusCode>") && text.contains("<ErrorDetails><string>"), "{text}");
}

#[test]
fn wrong_method_is_405_with_an_envelope() {
    let server = TestServer::start();
    let response = server.get(&format!("/REST/v1/Dataflows/LoadDataSource?output=json&key={}", server.master_key));
    assert_error(response, 405, "None", "not allowed");
}
