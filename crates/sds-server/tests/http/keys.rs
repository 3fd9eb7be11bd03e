//! Revoking keys with `sds keys revoke` while the server runs.

use crate::common::server::{access_id_of, location, JsonBody, TestServer};
use crate::fixtures::SHOPS_CSV;

/// The id `sds keys list` shows for a key (found by its hint).
fn key_id(server: &TestServer, key: &str) -> String {
    let listing = server.keys_command(&["list"]);
    let line = listing
        .lines()
        .find(|line| line.trim_start().starts_with(&format!("key {}…", &key[..6])))
        .unwrap_or_else(|| panic!("no key {}… in:\n{listing}", &key[..6]));
    line.split("(id ").nth(1).unwrap().split(',').next().unwrap().to_owned()
}

#[test]
fn a_revoked_key_opens_nothing_and_its_data_sources_pass_to_the_successor() {
    let server = TestServer::start_with(&["--auth-cache-seconds", "0"]);
    let access_id = access_id_of(&server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV));
    let query = |key: &str| server.get(&format!("/REST/v1/data/{access_id}/Shops/Shops?$format=json&key={key}"));
    let download =
        |key: &str| server.get(&format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/Shops?key={key}"));
    assert_eq!(query(&server.master_key).status(), 200);
    let successor = server.create_key("default");
    assert_eq!(download(&successor).status(), 401, "only the master key downloads");

    let old_id = key_id(&server, &server.master_key);
    let new_id = key_id(&server, &successor);
    let said = server.keys_command(&["revoke", "--id", &old_id, "--transfer-to", &new_id]);
    assert!(said.contains("1 data source(s) now belong to key"), "{said}");
    assert!(server.keys_command(&["list"]).contains(&format!("(id {old_id}, created")), "listed still");
    assert!(server.keys_command(&["list"]).contains("revoked"));

    for response in [query(&server.master_key), download(&server.master_key)] {
        assert_eq!(response.status(), 401);
        let body = response.json_value();
        assert_eq!(body["authenticationResultCode"], "CredentialsExpired", "{body}");
    }
    assert_eq!(query(&successor).status(), 200);
    let created = download(&successor);
    assert_eq!(created.status(), 201, "the successor is the master key now");
    let job = server.wait_job(&location(&created), &successor);
    assert_eq!(job["status"], "Completed", "{job}");
}

#[test]
fn revoking_needs_a_successor_of_the_same_account() {
    let server = TestServer::start();
    let stranger = server.create_key("adatum");
    let master_id = key_id(&server, &server.master_key);
    let stranger_id = key_id(&server, &stranger);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_sds"))
        .args(["keys", "revoke", "--id", &master_id, "--transfer-to", &stranger_id, "--data-dir"])
        .arg(server.data_dir())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("must be another active key of account 'default'"), "{error}");
    // Nothing was revoked.
    assert!(!server.keys_command(&["list"]).contains("revoked"));
    assert_eq!(server.get(&format!("/REST/v1/data?$format=json&key={}", server.master_key)).status(), 200);
}
