//! `sds migrate` between two real servers: a "source" `sds` filled with
//! several data sources, and a target that has imported the source's keys.
//! After the migration, every query URL of the source with only host and
//! port changed gives the same answer from the target.

use std::process::{Command, Output};

use serde_json::Value;

use crate::common::server::{access_id_of, location, JsonBody, TestServer};
use crate::fixtures::{many_shops_csv, AREAS_CSV, SHOPS_CSV};

const PARKS: &str = "Bing Spatial Data Services, 1.0, Parks\n\
    ParkId(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double),Acres(Edm.Double)\n\
    p1,Jardin du Luxembourg,48.846,2.337,56.0\np2,Englischer Garten München,48.164,11.605,910.0\n";
const PARKS_STAGED: &str = "Bing Spatial Data Services, 1.0, Parks\n\
    ParkId(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double),Acres(Edm.Double)\n\
    p1,Jardin du Luxembourg,48.846,2.337,57.5\np3,Parc Güell,41.414,2.153,42.0\n";
const DRAFT: &str = "Bing Spatial Data Services, 1.0, Draft\n\
    Id(Edm.String,primaryKey),Note(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\n\
    d1,日本語のメモ,35.68,139.76\n";

/// Where each data source lives at the source: (name, entity type, accessId).
struct Filled {
    source: TestServer,
    sources: Vec<(String, String, String)>,
}

fn load(server: &TestServer, name: &str, operation: &str, body: &str, query: &str) -> String {
    let response = server.load(name, operation, "csv", body.to_owned(), query);
    assert_eq!(response.status(), 201, "load of {name}");
    let job = server.wait_job(&location(&response), &server.master_key);
    assert_eq!(job["status"], "Completed", "{job}");
    access_id_of(&job)
}

/// Points (public, non-ASCII, a description), polygons (private, with the
/// query key), a data source with a published and a staged version, and
/// one with only a staged version.
fn filled_source() -> Filled {
    let source = TestServer::start();
    let shops = load(
        &source,
        "Shops",
        "complete",
        SHOPS_CSV,
        "&setPublic=1&description=L%C3%A4den%20%E2%98%95%20%26%20caf%C3%A9s",
    );
    let areas = load(&source, "Areas", "complete", AREAS_CSV, &format!("&queryKey={}", source.query_key));
    let parks = load(&source, "Parks", "complete", PARKS, "");
    load(&source, "Parks", "completeStaging", PARKS_STAGED, "");
    let draft = load(&source, "Draft", "completeStaging", DRAFT, "");
    let sources = vec![
        ("Shops".to_owned(), "Shops".to_owned(), shops),
        ("Areas".to_owned(), "Areas".to_owned(), areas),
        ("Parks".to_owned(), "Parks".to_owned(), parks),
        ("Draft".to_owned(), "Draft".to_owned(), draft),
    ];
    Filled { source, sources }
}

/// A target whose default account has the source's two keys imported.
fn target_with_imported_keys(source: &TestServer) -> TestServer {
    let target = TestServer::start();
    target.keys_command(&["import", "--account", "default", "--key", &source.master_key, "--label", "from SDS"]);
    target.keys_command(&["import", "--account", "default", "--key", &source.query_key]);
    target
}

fn migrate(source: &TestServer, target: &TestServer, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sds"))
        .args(["migrate", "--from", &source.base, "--from-key", &source.master_key, "--to", &target.base])
        .args(["--to-key", &source.master_key, "--query-key", &source.query_key])
        .args(extra)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// The status column of the table row of `name`.
fn status_of(table: &str, name: &str) -> String {
    let line = table
        .lines()
        .find(|line| line.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no row {name} in:\n{table}"));
    line.split_whitespace().skip(4).collect::<Vec<_>>().join(" ")
}

/// GETs `path` from both servers; the source's answer with its host
/// replaced must equal the target's.
fn same_answer(source: &TestServer, target: &TestServer, path: &str) {
    let from_source = source.get(path);
    let from_target = target.get(path);
    let (status_source, status_target) = (from_source.status(), from_target.status());
    let text_source = per_response(&from_source.text().unwrap().replace(&source.base, &target.base));
    let text_target = per_response(&from_target.text().unwrap());
    assert_eq!(status_source, status_target, "{path}\nsource: {text_source}\ntarget: {text_target}");
    assert_eq!(text_source, text_target, "{path}");
}

/// Blanks what differs by design: what an Atom feed makes up per response
/// (its `uuid:` id and `updated` instants), an envelope's `traceId`, and the
/// `$metadata` JobID (job history does not move; the target's load job made
/// the version).
fn per_response(text: &str) -> String {
    const BLANKED: [(&str, char); 4] =
        [("<id>uuid:", '<'), ("<updated>", '<'), ("JobID=\"", '"'), ("\"traceId\":\"", '"')];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let next = BLANKED.iter().filter_map(|(open, end)| rest.find(open).map(|at| (at, *open, *end))).min();
        let Some((at, open, end)) = next else { break };
        out.push_str(&rest[..at + open.len()]);
        rest = &rest[at + open.len()..];
        rest = &rest[rest.find(end).unwrap_or(rest.len())..];
    }
    out.push_str(rest);
    out
}

fn query_paths(filled: &Filled) -> Vec<String> {
    let source = &filled.source;
    let mut paths = Vec::new();
    for (name, entity_type, access_id) in &filled.sources {
        for key in [&source.master_key, &source.query_key] {
            let base = format!("/REST/v1/data/{access_id}/{name}/{entity_type}");
            let staged = if name == "Draft" || name == "Parks" { "&isStaging=1" } else { "" };
            paths.push(format!("{base}?$format=json&key={key}"));
            paths.push(format!("{base}?$format=json&$inlinecount=allpages&$top=1&key={key}{staged}"));
            paths.push(format!("{base}?spatialFilter=nearby(47.6,-122.1,50)&$format=json&key={key}"));
            paths.push(format!("{base}?$format=atom&key={key}{staged}"));
            paths.push(format!("/REST/v1/data/{access_id}/{name}/$metadata?key={key}"));
        }
    }
    paths
}

/// The account listings of both, without the times that a load sets.
fn listing(server: &TestServer, key: &str) -> String {
    let text = server.get(&format!("/REST/v1/data?key={key}")).text().unwrap().replace(&server.base, "HOST");
    text.split(' ').filter(|part| !part.starts_with("bsi:updated=") && !part.starts_with("bsi:uploaded=")).collect()
}

#[test]
fn migrate_moves_every_data_source_and_keeps_every_query_url_but_the_host() {
    let filled = filled_source();
    let source = &filled.source;
    let target = target_with_imported_keys(source);
    let output = migrate(source, &target, &[]);
    let table = stdout(&output);
    assert!(output.status.success(), "{table}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(table.starts_with("name"), "{table}");
    for (name, _, access_id) in &filled.sources {
        assert_eq!(status_of(&table, name), "migrated", "{table}");
        assert!(table.contains(access_id.as_str()), "{table}");
    }
    let shops = table.lines().find(|line| line.starts_with("Shops")).unwrap();
    assert_eq!(shops.split_whitespace().nth(2), Some("3"), "{table}");
    assert_eq!(shops.split_whitespace().nth(3), Some("3"), "{table}");

    for path in query_paths(&filled) {
        same_answer(source, &target, &path);
    }
    // Names, entity types, accessIds, descriptions and public flags.
    assert_eq!(listing(source, &source.master_key), listing(&target, &source.master_key));
    // The public data source answers a key of another account at both.
    let (stranger_source, stranger_target) = (source.create_key("adatum"), target.create_key("adatum"));
    let shops_id = &filled.sources[0].2;
    for (server, key) in [(source, &stranger_source), (&target, &stranger_target)] {
        let path = format!("/REST/v1/data/{shops_id}/Shops/Shops?$format=json&key={key}");
        assert_eq!(server.get(&path).status(), 200);
    }
    // The private polygons keep their query key: another key of the
    // account is refused at both.
    let areas_id = &filled.sources[1].2;
    let other_source = source.create_key("default");
    let other_target = target.create_key("default");
    for (server, key) in [(source, &other_source), (&target, &other_target)] {
        let path = format!("/REST/v1/data/{areas_id}/Areas/Areas?$format=json&key={key}");
        assert_eq!(server.get(&path).status(), 401);
    }

    // Re-run: nothing changed, so nothing is loaded again.
    let again = migrate(source, &target, &[]);
    let table = stdout(&again);
    assert!(again.status.success(), "{table}");
    for (name, _, _) in &filled.sources {
        assert!(status_of(&table, name).starts_with("unchanged"), "{table}");
    }
    let loads = |server: &TestServer| {
        let list =
            server.get(&format!("/REST/v1/Dataflows/ListJobs?output=json&key={}", source.master_key)).json_value();
        list["resourceSets"][0]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|job| job["description"].as_str().is_some_and(|text| text.starts_with("DataSource")))
            .count()
    };
    let loaded_once = loads(&target);
    // A change at the source is picked up; --force reloads the rest.
    load(source, "Parks", "complete", PARKS_STAGED, "");
    let third = migrate(source, &target, &[]);
    let table = stdout(&third);
    assert_eq!(status_of(&table, "Parks"), "migrated", "{table}");
    assert!(status_of(&table, "Shops").starts_with("unchanged"), "{table}");
    same_answer(
        source,
        &target,
        &format!("/REST/v1/data/{}/Parks/Parks?$format=json&key={}", filled.sources[2].2, source.query_key),
    );
    let forced = migrate(source, &target, &["--force"]);
    assert!(stdout(&forced).lines().skip(1).all(|line| line.ends_with("migrated")), "{}", stdout(&forced));
    assert!(loads(&target) > loaded_once);
}

#[test]
fn migrate_only_and_dry_run() {
    let filled = filled_source();
    let source = &filled.source;
    let target = target_with_imported_keys(source);

    let dry = migrate(source, &target, &["--dry-run"]);
    let table = stdout(&dry);
    assert!(dry.status.success(), "{table}");
    for (name, _, _) in &filled.sources {
        assert_eq!(status_of(&table, name), "would create", "{table}");
    }
    let empty = target.get(&format!("/REST/v1/data?$format=json&key={}", source.master_key)).json_value();
    assert_eq!(empty["d"]["DataSources"].as_array().map_or(0, Vec::len), 0, "a dry run changes nothing: {empty}");

    let only = migrate(source, &target, &["--only", "shops", "Draft"]);
    let table = stdout(&only);
    assert!(only.status.success(), "{table}");
    assert_eq!(table.lines().count(), 3, "a header and two rows: {table}");
    assert_eq!(status_of(&table, "Shops"), "migrated");
    assert_eq!(status_of(&table, "Draft"), "migrated");
    let (parks_id, shops_id) = (&filled.sources[2].2, &filled.sources[0].2);
    assert_eq!(target.get(&format!("/REST/v1/data/{parks_id}/Parks?key={}", source.master_key)).status(), 404);
    assert_eq!(target.get(&format!("/REST/v1/data/{shops_id}/Shops?key={}", source.master_key)).status(), 200);

    let dry = migrate(source, &target, &["--dry-run"]);
    let table = stdout(&dry);
    assert!(status_of(&table, "Shops").starts_with("would update"), "{table}");
    assert_eq!(status_of(&table, "Parks"), "would create", "{table}");
}

#[test]
fn migrate_continues_past_a_failing_data_source() {
    let filled = filled_source();
    let source = &filled.source;
    // A data source of the account whose master key is another key: the
    // migration key cannot download it.
    let other = source.create_key("default");
    let url = format!(
        "{}/Dataflows/LoadDataSource?dataSourceName=Other&loadOperation=complete&input=csv&output=json&key={other}",
        source.root
    );
    let created = source.client.post(url).body(SHOPS_CSV.replace(", Shops\n", ", Other\n")).send().unwrap();
    assert_eq!(source.wait_job(&location(&created), &other)["status"], "Completed");
    let target = target_with_imported_keys(source);
    let output = migrate(source, &target, &[]);
    let table = stdout(&output);
    assert!(!output.status.success(), "a failure makes the exit status non-zero: {table}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("1 of 5 data source(s) failed"));
    let failure = status_of(&table, "Other");
    assert!(failure.starts_with("FAILED: the source:") && failure.contains("401"), "{table}");
    for (name, _, _) in &filled.sources {
        assert_eq!(status_of(&table, name), "migrated", "{table}");
    }
}

#[test]
fn migrate_reports_a_same_named_data_source_with_another_access_id() {
    let filled = filled_source();
    let source = &filled.source;
    let target = target_with_imported_keys(source);
    // The target already has a "Shops" of its own, with a new accessId: the
    // migration does not overwrite it under the source's id, and says why.
    let url = format!(
        "{}/Dataflows/LoadDataSource?dataSourceName=Shops&loadOperation=complete&input=csv&output=json&key={}",
        target.root, source.master_key
    );
    let created = target.client.post(url).body(SHOPS_CSV).send().unwrap();
    assert_eq!(target.wait_job(&location(&created), &source.master_key)["status"], "Completed");
    let output = migrate(source, &target, &["--only", "Shops"]);
    let table = stdout(&output);
    assert!(!output.status.success());
    let failure = status_of(&table, "Shops");
    assert!(failure.starts_with("FAILED: the target:") && failure.contains("with accessId"), "{table}");
    assert!(failure.contains("already has a data source named 'Shops'"), "{table}");
    // A name the source does not have fails its row (a typo is not a success).
    let typo = migrate(source, &target, &["--only", "NoSuchSource"]);
    assert!(!typo.status.success());
    assert!(status_of(&stdout(&typo), "NoSuchSource").contains("no data source of that name"));
    // The dry run says the same, rather than "would create".
    let dry = migrate(source, &target, &["--only", "Shops", "--dry-run"]);
    let table = stdout(&dry);
    assert!(status_of(&table, "Shops").contains("already has a data source named 'Shops'"), "{table}");
}

#[test]
fn migrate_the_200000_entity_limit_case() {
    let source = TestServer::start();
    let big = load(&source, "Big", "complete", &many_shops_csv(200_000), "");
    let target = target_with_imported_keys(&source);
    let output = migrate(&source, &target, &[]);
    let table = stdout(&output);
    assert!(output.status.success(), "{table}\n{}", String::from_utf8_lossy(&output.stderr));
    let row = table.lines().find(|line| line.starts_with("Big")).unwrap();
    assert_eq!(row.split_whitespace().nth(2), Some("200000"), "{table}");
    assert_eq!(row.split_whitespace().nth(3), Some("200000"), "{table}");
    for query in [
        "$format=json&$inlinecount=allpages&$top=3",
        "$format=json&$filter=Name%20eq%20'Shop%20number%20199999'",
        "spatialFilter=nearby(0.5,0.25,20)&$format=json&$top=250",
    ] {
        same_answer(&source, &target, &format!("/REST/v1/data/{big}/Big/Shops?{query}&key={}", source.master_key));
    }
    let value: Value = target
        .get(&format!(
            "/REST/v1/data/{big}/Big/Shops?$format=json&$inlinecount=allpages&$top=1&key={}",
            source.master_key
        ))
        .json_value();
    assert_eq!(value["d"]["__count"], "200000", "{value}");
}

#[test]
fn migrate_survives_a_source_that_dies_mid_way_and_a_rerun_finishes() {
    let mut filled = filled_source();
    // Listed last (by name) and large enough that the source is gone
    // before the migration reaches it.
    load(&filled.source, "Zoo", "complete", &many_shops_csv(20_000).replace(", Shops\n", ", Zoo\n"), "");
    let target = target_with_imported_keys(&filled.source);
    let (source_base, master, query) =
        (filled.source.base.clone(), filled.source.master_key.clone(), filled.source.query_key.clone());
    let run = |base: &str| {
        Command::new(env!("CARGO_BIN_EXE_sds"))
            .args(["migrate", "--from", base, "--from-key", &master, "--to", &target.base])
            .args(["--to-key", &master, "--query-key", &query])
            .output()
            .unwrap()
    };
    let output = std::thread::scope(|scope| {
        let migration = scope.spawn(|| run(&source_base));
        // Kill the source once the first data source has arrived.
        let listing = format!("/REST/v1/data?$format=json&key={master}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while target.get(&listing).json_value()["d"]["DataSources"].as_array().map_or(0, Vec::len) == 0 {
            assert!(std::time::Instant::now() < deadline, "nothing arrived at the target");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        filled.source.kill9();
        migration.join().unwrap()
    });
    let table = stdout(&output);
    assert!(!output.status.success(), "{table}");
    assert_eq!(table.lines().count(), 6, "every data source has its row: {table}");
    assert!(status_of(&table, "Zoo").starts_with("FAILED: the source:"), "{table}");

    filled.source.restart();
    let again = run(&filled.source.base);
    let table = stdout(&again);
    assert!(again.status.success(), "{table}\n{}", String::from_utf8_lossy(&again.stderr));
    assert_eq!(status_of(&table, "Zoo"), "migrated", "{table}");
    assert!(table.contains("unchanged"), "what arrived before is not loaded again: {table}");
    let zoo = table.lines().find(|line| line.starts_with("Zoo")).unwrap();
    assert_eq!(zoo.split_whitespace().nth(3), Some("20000"), "{table}");
}
