//! Table snapshots kept in a data dir belong to the database they were
//! read from: a data dir pointed at another database (re-created, or a
//! different one whose rows carry the same ids) never serves them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::skip_unless_postgres;
use crate::common::database::TestDatabase;
use crate::common::server::{access_id_of, JsonBody, TestServer};

const FIRST: &str = "Bing Spatial Data Services, 1.0, Shops\n\
    EntityID(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\n\
    a,First,1,1\nb,Second,2,2\n";
const THIRD: &str = "Bing Spatial Data Services, 1.0, Shops\n\
    EntityID(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\n\
    a,Third first,1,1\nb,Third second,2,2\n";
const OTHER: &str = "Bing Spatial Data Services, 1.0, Shops\n\
    EntityID(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\n\
    a,Other first,1,1\nb,Other second,2,2\n";

fn names(server: &TestServer, access_id: &str) -> Vec<String> {
    let response =
        server.get(&format!("/REST/v1/data/{access_id}/Shops/Shops?$format=json&$top=10&key={}", server.query_key));
    assert_eq!(response.status(), 200);
    let mut names: Vec<String> = response.json_value()["d"]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|entity| entity["Name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

fn snapshot_files(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                snapshot_files(&path)
            } else {
                usize::from(path.extension().is_some_and(|extension| extension == "table"))
            }
        })
        .sum()
}

#[test]
fn a_data_dir_pointed_at_another_database_never_serves_its_snapshots() {
    if skip_unless_postgres() {
        return;
    }
    let mut first = TestServer::start();
    let first_access = access_id_of(&first.load_and_wait("Shops", "complete", "csv", FIRST));
    assert_eq!(names(&first, &first_access), ["First", "Second"]);
    // The query wrote the version's table to the data dir.
    let tables = first.data_dir().join("tables");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while snapshot_files(&tables) == 0 {
        assert!(std::time::Instant::now() < deadline, "no table snapshot was written");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }

    // Another database whose data source and version carry the same ids.
    let other = TestServer::start();
    let other_access = access_id_of(&other.load_and_wait("Shops", "complete", "csv", OTHER));
    first.restart_on_database(other.database());
    first.master_key.clone_from(&other.master_key);
    first.query_key.clone_from(&other.query_key);
    assert_eq!(names(&first, &other_access), ["Other first", "Other second"]);
}

fn wait_for_snapshots(dir: &std::path::Path, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while snapshot_files(dir) < count {
        assert!(Instant::now() < deadline, "{count} table snapshots were not written");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A database restored from a dump hands out the ids it had handed out
/// after the dump again (found by the breaker): the snapshot of version 2
/// as it was before the restore never answers for the version 2 made after
/// it, on a data dir that has that snapshot.
#[test]
fn a_snapshot_from_before_a_restore_never_answers_for_a_reused_version_id() {
    if skip_unless_postgres() {
        return;
    }
    let mut b = TestServer::start();
    let access_id = access_id_of(&b.load_and_wait("Shops", "complete", "csv", FIRST));
    b.kill9();
    // The "dump": the database as it is with one version.
    let restored = Arc::new(TestDatabase::copy_of(&b.database().unwrap()));
    b.restart();
    b.load_and_wait("Shops", "complete", "csv", OTHER);
    assert_eq!(names(&b, &access_id), ["Other first", "Other second"]);
    wait_for_snapshots(&b.data_dir().join("tables"), 2);
    b.kill9();

    // Restored, another server makes version 2 again, of other rows.
    let mut a = TestServer::start_on_database(Some(Arc::clone(&restored)), &[]);
    a.master_key.clone_from(&b.master_key);
    a.query_key.clone_from(&b.query_key);
    a.load_and_wait("Shops", "complete", "csv", THIRD);
    assert_eq!(names(&a, &access_id), ["Third first", "Third second"]);

    // B's data dir still has its snapshot of the old version 2.
    b.restart_on_database(Some(restored));
    assert_eq!(names(&b, &access_id), ["Third first", "Third second"], "B agrees with A");
    a.kill9();
}
