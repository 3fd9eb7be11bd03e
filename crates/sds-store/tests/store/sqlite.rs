//! The SQLite store: the contract suite on a file in a temporary
//! directory, and what only a file store has (reopening, a killed
//! process, pages given back, the file's own settings).

use std::path::{Path, PathBuf};

use sds_core::job::JobStatus;
use sds_core::{AccessId, BuiltRecord, JobId, JobKind, VersionId};
use sds_store::{DataSourceChange, SqliteStore, Store};
use tempfile::TempDir;

use crate::cluster::cluster_suite;
use crate::suite::{outcome, schema, store_suite, upsert, Fixture, Harness};

struct SqliteHarness {
    store: SqliteStore,
    path: PathBuf,
    /// The directory, when the harness owns it.
    _dir: Option<TempDir>,
}

impl Harness for SqliteHarness {
    fn store(&self) -> &dyn Store {
        &self.store
    }

    fn raw_entity_rows(&self, version: VersionId) -> i64 {
        let connection = rusqlite::Connection::open(&self.path).unwrap();
        connection
            .query_row("SELECT COUNT(*) FROM entities WHERE version_id = ?1", [version.0], |row| row.get(0))
            .unwrap()
    }
}

fn open() -> SqliteHarness {
    let dir = tempfile::tempdir().unwrap();
    let mut harness = open_in(&dir.path().join("nested/dir"));
    harness._dir = Some(dir);
    harness
}

fn open_in(dir: &Path) -> SqliteHarness {
    let path = dir.join("sds.db");
    let store = SqliteStore::open(&path).unwrap();
    SqliteHarness { store, path, _dir: None }
}

fn harness() -> Option<Box<dyn Harness>> {
    Some(Box::new(open()))
}

store_suite!(contract, harness);

fn cluster_store() -> Option<(std::sync::Arc<dyn Store>, Box<dyn std::any::Any + Send + Sync>)> {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("sds.db")).unwrap();
    Some((std::sync::Arc::new(store), Box::new(dir)))
}

cluster_suite!(cluster, cluster_store);

/// A fixture on `sds.db` in a directory the test keeps.
fn fixture() -> (Fixture, PathBuf, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let harness = open_in(dir.path());
    let path = harness.path.clone();
    (Fixture::new(Box::new(harness)), path, dir)
}

#[test]
fn data_survives_reopening_the_file() {
    let (f, path, _dir) = fixture();
    let (job, version, data_source) = f.load("Shops", &[upsert("1", "one"), upsert("2", "two")]);
    let pending = f.job(JobKind::LoadComplete, "Next");
    let account = f.account;
    drop(f);

    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.ensure_account("contoso").unwrap(), account);
    assert_eq!(store.data_source_by_access_id(&data_source.access_id).unwrap(), Some(data_source));
    assert_eq!(store.job(&job.id).unwrap().unwrap().status, JobStatus::Completed);
    assert_eq!(store.pending_jobs().unwrap(), vec![pending]);
    assert_eq!(store.count_entities(version).unwrap(), 2);
    let connection = rusqlite::Connection::open(&path).unwrap();
    let schema_version: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0)).unwrap();
    assert_eq!(schema_version, 6);
    let mode: String = connection.query_row("PRAGMA journal_mode", [], |row| row.get(0)).unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn opening_creates_missing_directories() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/c.db");
    SqliteStore::open(&path).unwrap();
    assert!(Path::new(&path).exists());
}

/// Set in the child process of `acknowledged_writes_survive_a_killed_process`.
const CHILD_DIR: &str = "SDS_STORE_TEST_CHILD_DIR";

#[test]
fn acknowledged_writes_survive_a_killed_process() {
    if let Ok(dir) = std::env::var(CHILD_DIR) {
        let f = Fixture::new(Box::new(open_in(Path::new(&dir))));
        let (job, _, data_source) = f.load("Shops", &[upsert("1", "one")]);
        let building = f.job(JobKind::LoadComplete, "Shops");
        let version = f.store().begin_version(&building.id, &schema()).unwrap();
        f.store().write_entities(version, &[upsert("2", "two")]).unwrap();
        println!("ACK {} {}", job.id, data_source.access_id);
        // Like kill -9: no destructors, no checkpoint, no closing.
        std::process::abort();
    }

    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "sqlite::acknowledged_writes_survive_a_killed_process", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR, dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let ack = stdout.lines().find_map(|line| line.split_once("ACK ").map(|(_, ack)| ack)).unwrap_or_else(|| {
        panic!("the child acknowledged nothing:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr))
    });
    let (job_id, access_id) = ack.split_once(' ').unwrap();
    let job_id: JobId = job_id.parse().unwrap();
    let access_id: AccessId = access_id.parse().unwrap();

    let store = SqliteStore::open(&dir.path().join("sds.db")).unwrap();
    assert_eq!(store.job(&job_id).unwrap().unwrap().status, JobStatus::Completed);
    let data_source = store.data_source_by_access_id(&access_id).unwrap().unwrap();
    assert_eq!(store.count_entities(data_source.published_version.unwrap()).unwrap(), 1);
    assert_eq!(store.pending_jobs().unwrap().len(), 1);
    assert_eq!(store.discard_building_versions().unwrap(), 1);
}

#[test]
fn deleting_a_data_source_gives_its_pages_back() {
    let (f, path, _dir) = fixture();
    let records: Vec<BuiltRecord> = (0..20_000).map(|index| upsert(&format!("id{index}"), &"x".repeat(200))).collect();
    let (_, _, source) = f.load("Big", &records);
    let checkpoint_size = |path: &Path| {
        let connection = rusqlite::Connection::open(path).unwrap();
        connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
        std::fs::metadata(path).unwrap().len()
    };
    let loaded = checkpoint_size(&path);
    let delete = f.job(JobKind::Delete, "Big");
    f.store()
        .commit_change(&delete.id, source.id, &DataSourceChange::Delete, &outcome(JobStatus::Completed, 0, 0), None)
        .unwrap();
    let deleted = checkpoint_size(&path);
    assert!(deleted < loaded / 4, "the file shrinks after a delete: {loaded} -> {deleted} bytes");
}
