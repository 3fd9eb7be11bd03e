//! Table snapshots (issue 16, "fast cold tables"): a version's table is
//! written to the data dir once built, read back on its first query after a
//! restart, rebuilt when the file is damaged or not its own, and deleted
//! with its version.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::server::{access_id_of, JsonBody, TestServer};
use crate::fixtures::*;

const WRITTEN: &str = "table snapshot written";
const READ: &str = "table read from its snapshot";
const DISCARDED: &str = "discarding a damaged table snapshot";

fn log(server: &TestServer) -> String {
    std::fs::read_to_string(server.data_dir().join("server.log")).unwrap_or_default()
}

/// Waits until the log holds `line` `times` times.
fn wait_for_log(server: &TestServer, line: &str, times: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while log(server).matches(line).count() < times {
        assert!(Instant::now() < deadline, "no {times}× '{line}' in the log:\n{}", log(server));
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The snapshot files in the data dir, sorted: in `tables/`, or with a
/// PostgreSQL store in its `tables/store-{identity}/`.
fn snapshot_files(server: &TestServer) -> Vec<PathBuf> {
    fn files_in(dir: &std::path::Path) -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .map(|entry| entry.unwrap().path())
                    .flat_map(|path| if path.is_dir() { files_in(&path) } else { vec![path] })
                    .collect()
            })
            .unwrap_or_default()
    }
    let mut files = files_in(&server.data_dir().join("tables"));
    files.sort();
    files
}

/// The IDs and names a filter finds, in entity-ID order.
fn rows(server: &TestServer, access_id: &str, query: &str) -> Vec<(String, String)> {
    let body = server
        .get(&format!("/REST/v1/data/{access_id}/Shops/Shops?{query}&$top=250&$format=json&key={}", server.query_key))
        .json_value();
    let results = body["d"]["results"].as_array().unwrap_or_else(|| panic!("no results: {body}"));
    results
        .iter()
        .map(|result: &Value| {
            (result["EntityID"].as_str().unwrap().to_owned(), result["Name"].as_str().unwrap().to_owned())
        })
        .collect()
}

/// What the Shops fixture holds: a filter, a nearby and a bbox query.
fn shops_answers(server: &TestServer, access_id: &str) -> Vec<Vec<(String, String)>> {
    [
        "$filter=Seats gt 0 or IsOpen eq false",
        "spatialFilter=nearby(47.6,-122.1,20)",
        "spatialFilter=bbox(-40,150,-30,152)",
    ]
    .iter()
    .map(|query| rows(server, access_id, query))
    .collect()
}

fn expected_shops() -> Vec<Vec<(String, String)>> {
    let pipe = ("2".to_owned(), "Pipe | and \"quotes\" <&>".to_owned());
    let cafe = ("1".to_owned(), "Café Zürich".to_owned());
    vec![vec![cafe.clone(), pipe.clone()], vec![cafe, pipe], vec![("3".to_owned(), "two\nlines ".to_owned())]]
}

#[test]
fn a_restarted_server_reads_the_table_from_its_snapshot() {
    let mut server = TestServer::start();
    let access_id = access_id_of(&server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV));
    assert_eq!(shops_answers(&server, &access_id), expected_shops());
    wait_for_log(&server, WRITTEN, 1);
    assert_eq!(snapshot_files(&server).len(), 1);
    assert!(!log(&server).contains(READ), "built from the store the first time");

    server.restart();
    assert_eq!(shops_answers(&server, &access_id), expected_shops());
    wait_for_log(&server, READ, 1);
    assert_eq!(log(&server).matches(WRITTEN).count(), 1, "read back, not written again");
}

#[test]
fn a_truncated_or_corrupted_snapshot_is_rebuilt_and_answers_correctly() {
    let mut server = TestServer::start();
    let access_id = access_id_of(&server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV));
    assert_eq!(shops_answers(&server, &access_id), expected_shops());
    wait_for_log(&server, WRITTEN, 1);
    let [file] = &snapshot_files(&server)[..] else { panic!("one snapshot") };
    let whole = std::fs::read(file).unwrap();

    let truncated = whole[..whole.len() * 2 / 3].to_vec();
    let mut corrupted = whole.clone();
    // A name's byte, deep in the payload: only the checksum can tell.
    let at = whole.windows("Café".len()).rposition(|bytes| bytes == "Café".as_bytes()).unwrap();
    corrupted[at] = b'K';
    for (round, damaged) in [truncated, corrupted].into_iter().enumerate() {
        server.kill9();
        std::fs::write(file, damaged).unwrap();
        server.restart();
        assert_eq!(shops_answers(&server, &access_id), expected_shops(), "round {round}");
        wait_for_log(&server, DISCARDED, round + 1);
        // Rebuilt from the store, then written whole again.
        wait_for_log(&server, WRITTEN, round + 2);
        assert_eq!(std::fs::read(file).unwrap(), whole);
    }
    server.restart();
    assert_eq!(shops_answers(&server, &access_id), expected_shops());
    wait_for_log(&server, READ, 1);
}

#[test]
fn a_snapshot_never_answers_for_another_data_source() {
    let mut server = TestServer::start();
    let shops = access_id_of(&server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV));
    assert_eq!(shops_answers(&server, &shops), expected_shops());
    wait_for_log(&server, WRITTEN, 1);
    let other = access_id_of(&server.load_and_wait("Other", "complete", "csv", SHOPS_CSV.replace("Café", "Tea")));
    let other_rows = |server: &TestServer| {
        server
            .get(&format!("/REST/v1/data/{other}/Other/Shops?$filter=Seats gt 0&$format=json&key={}", server.query_key))
            .json_value()["d"]["results"][0]["Name"]
            .clone()
    };
    assert_eq!(other_rows(&server), "Tea Zürich");
    wait_for_log(&server, WRITTEN, 2);
    let files = snapshot_files(&server);
    assert_eq!(files.len(), 2);

    // Swap the two files: each is now under the other's name.
    server.kill9();
    let (first, second) = (std::fs::read(&files[0]).unwrap(), std::fs::read(&files[1]).unwrap());
    std::fs::write(&files[0], &second).unwrap();
    std::fs::write(&files[1], &first).unwrap();
    server.restart();
    assert_eq!(other_rows(&server), "Tea Zürich");
    assert_eq!(shops_answers(&server, &shops), expected_shops());
    wait_for_log(&server, DISCARDED, 2);
    assert!(!log(&server).contains(READ));
}

#[test]
fn pruning_a_version_or_deleting_its_data_source_removes_its_snapshot() {
    let server = TestServer::start();
    let access_id = access_id_of(&server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV));
    assert_eq!(shops_answers(&server, &access_id), expected_shops());
    wait_for_log(&server, WRITTEN, 1);
    let [first] = &snapshot_files(&server)[..] else { panic!("one snapshot") };
    let first = first.clone();
    // Two previous versions are kept for rollback: the fourth load prunes the first.
    for loads in 1..=3 {
        server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV);
        assert_eq!(shops_answers(&server, &access_id), expected_shops());
        wait_for_log(&server, WRITTEN, loads + 1);
    }
    let files = snapshot_files(&server);
    assert!(!files.contains(&first), "the pruned version's snapshot is gone: {files:?}");
    assert_eq!(files.len(), 3, "{files:?}");

    let delete_url = format!("{}/data/{access_id}/Shops?key={}", server.root, server.master_key);
    let deleted = server.client.delete(&delete_url).send().unwrap();
    assert_eq!(deleted.status(), 202);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !snapshot_files(&server).is_empty() {
        assert!(Instant::now() < deadline, "snapshots left: {:?}", snapshot_files(&server));
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn kill_during_a_snapshot_write_leaves_no_torn_snapshot() {
    let mut server = TestServer::start();
    let access_id =
        access_id_of(&server.load_and_wait("Shops", "complete", "csv", gzip(many_shops_csv(200_000).as_bytes())));
    let query = "$filter=Name eq 'Shop number 123456'";
    let expected = vec![("id123456".to_owned(), "Shop number 123456".to_owned())];
    assert_eq!(rows(&server, &access_id, query), expected);
    // The snapshot is written after the answer: kill while it may be under way.
    server.kill9();
    server.restart();
    let files = snapshot_files(&server);
    assert!(
        files.iter().all(|file| file.extension().is_some_and(|extension| extension == "table")),
        "no unfinished file survives a restart: {files:?}"
    );
    assert_eq!(rows(&server, &access_id, query), expected);
    assert!(!log(&server).contains(DISCARDED), "a snapshot is whole or absent, never torn");
    if files.is_empty() {
        wait_for_log(&server, WRITTEN, 1);
    } else {
        wait_for_log(&server, READ, 1);
    }
}
