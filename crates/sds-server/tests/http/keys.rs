//! Keys while the server runs: revoking with `sds keys revoke`, importing
//! existing values with `sds keys import`, and `sds keys list`.

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

/// `sds keys revoke` is another process: its commit grows the store's
/// change counter, which the server watches, so the key stops opening
/// queries within a second although keys are cached for 10 seconds.
#[test]
fn a_key_revoked_by_another_process_stops_opening_queries_within_a_second() {
    let server = TestServer::start_with(&["--auth-cache-seconds", "10"]);
    let access_id = access_id_of(&server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV));
    let query_key = server.create_key("default");
    let query = || server.get(&format!("/REST/v1/data/{access_id}/Shops/Shops?$format=json&key={query_key}"));
    assert_eq!(query().status(), 200, "the key is cached now");
    let id = key_id(&server, &query_key);
    server.keys_command(&["revoke", "--id", &id]);
    let revoked = std::time::Instant::now();
    loop {
        let status = query().status();
        if status == 401 {
            break;
        }
        assert_eq!(status, 200);
        assert!(
            revoked.elapsed() < std::time::Duration::from_secs(1),
            "the revoked key still opened queries after a second"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn revoking_needs_a_successor_of_the_same_account() {
    let server = TestServer::start();
    let stranger = server.create_key("adatum");
    let master_id = key_id(&server, &server.master_key);
    let stranger_id = key_id(&server, &stranger);
    let output = server
        .sds()
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

fn keys_failure(server: &TestServer, args: &[&str]) -> String {
    let output = server.sds().arg("keys").args(args).arg("--data-dir").arg(server.data_dir()).output().unwrap();
    assert!(!output.status.success(), "{args:?} should fail");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn an_imported_key_works_at_once_and_is_listed_with_its_label_and_data_sources() {
    let server = TestServer::start_with(&["--auth-cache-seconds", "0"]);
    let bing_master = "AqBingMasterKey0123456789_-abcdefghijklmnopqrstuvwxyzABCDEFGHIJK";
    let bing_query = "QrBingQueryKey00123456789";
    let said = server.keys_command(&["import", "--account", "contoso", "--key", bing_master, "--label", "web app"]);
    assert!(said.contains("imported a key for account 'contoso'"), "{said}");
    server.keys_command(&["import", "--account", "contoso", "--key", bing_query]);
    // The imported value is the key: a load with it makes it the master key.
    let url = format!(
        "{}/Dataflows/LoadDataSource?dataSourceName=Shops&loadOperation=complete&input=csv&output=json&key={bing_master}&queryKey={bing_query}",
        server.root
    );
    let created = server.client.post(url).body(SHOPS_CSV).send().unwrap();
    assert_eq!(created.status(), 201);
    let job = server.wait_job(&location(&created), bing_master);
    assert_eq!(job["status"], "Completed", "{job}");
    let access_id = access_id_of(&job);
    let query = server.get(&format!("/REST/v1/data/{access_id}/Shops/Shops?$format=json&key={bing_query}"));
    assert_eq!(query.status(), 200);

    let listing = server.keys_command(&["list"]);
    assert!(!listing.contains(bing_master) && !listing.contains(bing_query), "hints only: {listing}");
    let master_line = format!("key {}… (id ", &bing_master[..6]);
    let after_master = &listing[listing.find(&master_line).expect("the master key is listed")..];
    let mut lines = after_master.lines();
    assert!(lines.next().unwrap().ends_with(", label \"web app\")"), "{listing}");
    assert_eq!(lines.next().unwrap().trim(), format!("master key of: Shops ({access_id})"), "{listing}");
    let query_line = format!("key {}… (id ", &bing_query[..6]);
    let after_query = &listing[listing.find(&query_line).expect("the query key is listed")..];
    assert_eq!(after_query.lines().nth(1).unwrap().trim(), format!("query key of: Shops ({access_id})"), "{listing}");
}

#[test]
fn key_import_refuses_bad_values_and_values_already_registered() {
    let server = TestServer::start();
    let short = keys_failure(&server, &["import", "--account", "contoso", "--key", "only15characters"[..15].as_ref()]);
    assert!(short.contains("16 to 128 characters long; this one has 15"), "{short}");
    let long = "k".repeat(129);
    assert!(keys_failure(&server, &["import", "--account", "contoso", "--key", &long]).contains("this one has 129"));
    let unsafe_chars = keys_failure(&server, &["import", "--account", "contoso", "--key", "abcdefgh/ijklmnop"]);
    assert!(unsafe_chars.contains("URL-safe"), "{unsafe_chars}");
    // The default account's master key, imported into another account: the
    // refusal does not tell which account has it.
    let taken = keys_failure(&server, &["import", "--account", "contoso", "--key", &server.master_key]);
    assert!(taken.contains("already registered"), "{taken}");
    assert!(!taken.contains("default"), "names no account: {taken}");
    // A refused import stores nothing, not even its account.
    let ghost = keys_failure(&server, &["import", "--account", "ghost", "--key", &server.master_key]);
    assert!(ghost.contains("already registered"), "{ghost}");
    assert!(!server.keys_command(&["list"]).contains("account ghost"), "a refused import created its account");
    server.keys_command(&["import", "--account", "contoso", "--key", "ContosoKey_0123456789"]);
    let again = keys_failure(&server, &["import", "--account", "contoso", "--key", "ContosoKey_0123456789"]);
    assert!(again.contains("already registered"), "{again}");
    // None of the refused values became a key.
    let listing = server.keys_command(&["list"]);
    assert_eq!(listing.matches("  key ").count(), 3, "{listing}");
    let refused = server.get(&format!("/REST/v1/data?$format=json&key={long}"));
    assert_eq!(refused.status(), 401);
}

#[test]
fn key_import_takes_the_value_from_the_environment() {
    let server = TestServer::start();
    let value = "FromTheEnvironment_0123456789";
    let output = server
        .sds()
        .args(["keys", "import", "--account", "default", "--data-dir"])
        .arg(server.data_dir())
        .env("SDS_IMPORT_KEY", value)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(server.get(&format!("/REST/v1/data?key={value}")).status(), 200);
}

#[test]
fn a_created_key_can_carry_a_label_of_bounded_length() {
    let server = TestServer::start();
    let said = server.keys_command(&["create", "--account", "contoso", "--label", "store locator"]);
    let key = said.lines().last().unwrap();
    let listing = server.keys_command(&["list"]);
    let line = format!("key {}… (id ", &key[..6]);
    let listed = &listing[listing.find(&line).expect("the new key is listed")..];
    assert!(listed.lines().next().unwrap().ends_with(", label \"store locator\")"), "{listing}");

    let long = "x".repeat(201);
    let refused = keys_failure(&server, &["create", "--account", "contoso", "--label", &long]);
    assert!(refused.contains("201 characters long; at most 200"), "{refused}");
    let refused =
        keys_failure(&server, &["import", "--account", "contoso", "--key", "AbcdefghIjklmnopQrst", "--label", "a\nb"]);
    assert!(refused.contains("control character"), "{refused}");
    assert!(!server.keys_command(&["list"]).contains("Abcdef"), "a refused import stores nothing");
}
