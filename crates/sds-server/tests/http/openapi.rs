//! `GET /openapi.json` (issue 12, "An OpenAPI 3.1 document"): valid by a
//! real validator, and every documented operation reaches its route on a
//! running server.

use std::process::Command;

use serde_json::Value;

use crate::common::server::{JsonBody, TestServer};

/// `openapi-spec-validator` (PyPI): `SDS_OPENAPI_VALIDATOR` names the
/// program (`.ci/run` installs it into a venv and sets it), else the one on
/// `PATH`.
fn validator() -> String {
    std::env::var("SDS_OPENAPI_VALIDATOR").unwrap_or_else(|_| "openapi-spec-validator".to_owned())
}

#[test]
fn the_served_document_is_valid_openapi_3_1() {
    let server = TestServer::start();
    let response = server.get("/openapi.json");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let text = response.text().unwrap();
    let temp = tempfile::tempdir().unwrap();
    let file = temp.path().join("openapi.json");
    std::fs::write(&file, &text).unwrap();
    let program = validator();
    let output = Command::new(&program).arg(&file).output().unwrap_or_else(|error| {
        panic!(
            "cannot run {program} ({error}): `pip install openapi-spec-validator`, or run .ci/run, which installs it"
        )
    });
    let said = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success() && said.contains("OK"), "{said}");

    // The validator rejects what is not OpenAPI: the check can fail.
    let mut broken: Value = serde_json::from_str(&text).unwrap();
    broken["paths"]["/healthz"]["get"]["responses"] = Value::String("none".into());
    std::fs::write(&file, broken.to_string()).unwrap();
    assert!(!Command::new(&program).arg(&file).output().unwrap().status.success());
}

/// Each documented operation, with sample values for its path parameters,
/// reaches a route: the answer is never "no resource exists at this path"
/// nor 405.
#[test]
fn every_documented_operation_reaches_a_route() {
    let server = TestServer::start();
    let document = server.get("/openapi.json").json_value();
    let mut checked = 0;
    for (template, item) in document["paths"].as_object().unwrap() {
        let path = template
            .replace("{jobId}", "0123456789abcdef0123456789abcdef")
            .replace("{accessId}", "fedcba9876543210fedcba9876543210")
            .replace("{dataSourceName}", "Shops")
            .replace("{entityTypeName}", "Shop")
            .replace("{outcome}", "succeeded");
        assert!(!path.contains('{'), "a path parameter without a sample value: {template}");
        for method in item.as_object().unwrap().keys() {
            let url = format!("{}?output=json&key={}", server.url(&path), server.master_key);
            let response = server
                .client
                .request(method.to_ascii_uppercase().parse().unwrap(), &url)
                .send()
                .unwrap_or_else(|error| panic!("{method} {path}: {error}"));
            let status = response.status();
            let body = response.text().unwrap();
            assert_ne!(status, 405, "{method} {template}: {body}");
            assert!(!body.contains("no resource exists at this path"), "{method} {template}: {body}");
            checked += 1;
        }
    }
    assert!(checked >= 23, "only {checked} operations documented");
}

/// A method a path does not have answers 405 with `Allow` listing the
/// ones it has (RFC 9110, section 15.5.6; schemathesis found it missing).
#[test]
fn a_wrong_method_names_the_allowed_ones() {
    let server = TestServer::start();
    for (method, path, allowed) in [
        ("PUT", "/REST/v1/data/fedcba9876543210fedcba9876543210/Shops", "DELETE, GET, HEAD"),
        ("GET", "/REST/v1/Dataflows/LoadDataSource", "POST"),
        ("POST", "/healthz", "GET,HEAD"),
    ] {
        let response = server
            .client
            .request(method.parse().unwrap(), format!("{}?key={}", server.url(path), server.master_key))
            .send()
            .unwrap();
        assert_eq!(response.status(), 405, "{method} {path}");
        assert_eq!(response.headers()["allow"], allowed, "{method} {path}");
    }
}
