//! The table a load builds for its version (`load_table`) is exactly the
//! table a query builds from the store: for a complete load, for an
//! incremental one (upserts, deletes, an ID whose case changed, failed
//! rows) over a cached base table and over none, and an aborted load
//! leaves no table and no snapshot. Real SQLite store, real job engine.

use std::io::Cursor;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sds_core::job::{JobStatus, LoadParams};
use sds_core::{InputFormat, Job, JobKind, JobParams, LoadOperation, VersionState};
use sds_query::table::snapshot;
use sds_query::Table;
use sds_store::JobQuota;

use super::{load_table, test_stores, JobEngine, StoreWatcher};
use crate::query_cache::{QueryCache, TableKey};
use crate::snapshots::Snapshots;

// The shared fixture, with inherent methods of these tests below.
use super::test_stores::TestStores as Server;

fn server() -> Server {
    Server::open()
}

impl Server {
    /// A job engine with its own query cache, which keeps snapshots in `tables`.
    fn engine(&self, tables: &str) -> (JobEngine, Arc<QueryCache>) {
        let snapshots = Snapshots::open(self.dir.path().join(tables), Arc::clone(&self.store)).unwrap();
        let cache = Arc::new(QueryCache::default().with_snapshots(snapshots));
        let engine = JobEngine::start(
            Arc::clone(&self.store),
            Arc::clone(&self.payloads),
            test_stores::settings(self.dir.path(), Duration::from_secs(10)),
            Arc::clone(&cache) as _,
        )
        .unwrap();
        (engine, cache)
    }

    /// Runs a load of `csv` (rows after the schema line) into `Shops`.
    async fn load(&self, engine: &JobEngine, operation: LoadOperation, header: &str, rows: &[&str]) -> Job {
        let params = JobParams::Load(LoadParams::plain(operation, InputFormat::Csv));
        let job = Job::pending(self.account, self.key, JobKind::for_load(operation), "Shops", params);
        let mut text = format!("Bing Spatial Data Services, 1.0, Shops\n{header}\n");
        for row in rows {
            text.push_str(row);
            text.push('\n');
        }
        let file = self.dir.path().join(format!("{}.upload", job.id));
        std::fs::write(&file, text).unwrap();
        self.payloads.put_input(&job.id, &file).unwrap();
        engine.submit(&job, JobQuota::NONE).await.unwrap().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let found = self.store.job(&job.id).unwrap().unwrap();
            // The job ends in the store a moment before its runner hands
            // the table over and returns.
            if found.status != JobStatus::Pending && engine.progress(&job.id).is_none() {
                return found;
            }
            assert!(Instant::now() < deadline, "the load is still Pending");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The published or staged version's key and its table built from the store.
    fn built_from_store(&self, staged: bool) -> (TableKey, Table) {
        let source = self.store.data_source_by_name(self.account, "Shops").unwrap().unwrap();
        let versions = self.store.versions_of(source.id).unwrap();
        let version = if staged {
            versions.into_iter().find(|version| version.state == VersionState::Staged).unwrap()
        } else {
            self.store.version(source.published_version.unwrap()).unwrap().unwrap()
        };
        let table = load_table::from_store(self.store.as_ref(), version.id, &version.schema, version.entity_count);
        (TableKey { data_source: source.id, version: version.id }, table.unwrap())
    }
}

/// A table's whole content, as its snapshot spells it.
fn bytes(key: TableKey, table: &Table) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    snapshot::write(table, key.data_source, key.version, &mut out).unwrap();
    out.into_inner()
}

/// The table the load handed to the cache equals the one built from the
/// store, and its snapshot is on disk.
fn assert_same_as_store(server: &Server, cache: &QueryCache, staged: bool, rows: usize) {
    let (key, built) = server.built_from_store(staged);
    assert_eq!(built.len(), rows);
    let snapshots = cache.snapshots().unwrap();
    let cached = cache.cached_table(key).expect("the load cached its version's table");
    assert_eq!(bytes(key, &cached), bytes(key, &built), "the load's table is the store's");
    let snapshot = snapshots.load(key, built.schema(), rows as u64).expect("the load wrote the snapshot");
    assert_eq!(bytes(key, &snapshot), bytes(key, &built));
}

const HEADER: &str = "EntityID(Edm.String,primaryKey),Name(Edm.String),Rank(Edm.Int64),Score(Edm.Double),Open(Edm.Boolean),Since(Edm.DateTime),Latitude(Edm.Double),Longitude(Edm.Double),Shape(Edm.Geography)";

const FIRST: &[&str] = &[
    "b2,Bakery,3,1.5,true,2020-01-02T03:04:05Z,47.5,-122.25,",
    "A1,Alpha,,,,,47.6,-122.3,\"POLYGON((-122.4 47.5,-122.2 47.5,-122.2 47.7,-122.4 47.5))\"",
    "Éclair,Cafe,7,2.25,false,2021-03-28T05:06:09.952Z,47.7,-122.1,POINT(-122.1 47.7)",
    "a0,Zero,0,0,false,,10,20,",
    "zz,Last,99,-1e300,true,,-45,170,",
    "bad,Nope,notanumber,1,true,,1,1,",
    "b2,Duplicate,1,1,true,,1,1,",
    "_u,Under,1,1,true,,0,0,",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_complete_load_builds_the_table_the_store_would() {
    let server = server();
    let (engine, cache) = server.engine("tables");
    let ended = server.load(&engine, LoadOperation::Complete, HEADER, FIRST).await;
    let failures = server.store.job_failures(&ended.id).unwrap();
    assert_eq!((ended.status, ended.failed_entity_count), (JobStatus::Completed, 2), "{failures:?}");
    assert_same_as_store(&server, &cache, false, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incremental_load_builds_the_table_the_store_would() {
    let server = server();
    let (engine, cache) = server.engine("tables");
    let first = server.load(&engine, LoadOperation::Complete, HEADER, FIRST).await;
    assert_eq!(first.status, JobStatus::Completed, "{:?}", first.error_message);
    let header = format!("{HEADER},__deleteEntity(Edm.Boolean)");
    let changes = [
        // An upsert that changes an ID's case, one new, two deletes (one
        // of an ID never stored), failed rows (a bad value, a repeat).
        "a1,Alpha again,2,,,,47.61,-122.31,,",
        "new,Fresh,5,5.5,true,2022-02-02T00:00:00Z,1,2,,",
        "ZZ,,,,,,,,,true",
        "missing,,,,,,,,,true",
        "oops,Bad,1.5,1,true,,1,1,,",
        "new,Again,1,1,true,,1,1,,",
    ];
    let ended = server.load(&engine, LoadOperation::Incremental, &header, &changes).await;
    assert_eq!((ended.status, ended.failed_entity_count), (JobStatus::Completed, 2), "{:?}", ended.error_message);
    assert_same_as_store(&server, &cache, false, 6);
    // A staged incremental load over it: the staged table, beside the published one.
    let staged = ["b2,Bakery moved,3,1.5,true,,48,-122,,", "_u,,,,,,,,,1"];
    let ended = server.load(&engine, LoadOperation::IncrementalStaging, &header, &staged).await;
    assert_eq!(ended.status, JobStatus::Completed, "{:?}", ended.error_message);
    assert_same_as_store(&server, &cache, true, 5);
    assert_same_as_store(&server, &cache, false, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incremental_load_without_its_base_table_reads_the_store() {
    let server = server();
    let (first, _) = server.engine("first");
    let ended = server.load(&first, LoadOperation::Complete, HEADER, FIRST).await;
    assert_eq!(ended.status, JobStatus::Completed, "{:?}", ended.error_message);
    assert_eq!(first.stop(tokio::time::Instant::now() + Duration::from_secs(10)).await, 0);
    // Another engine whose cache and snapshots never saw the base version.
    let (engine, cache) = server.engine("second");
    let header = format!("{HEADER},__deleteEntity(Edm.Boolean)");
    let changes = ["A0,Zero again,1,1,true,,3,4,,", "éclair,,,,,,,,,true"];
    let ended = server.load(&engine, LoadOperation::Incremental, &header, &changes).await;
    assert_eq!(ended.status, JobStatus::Completed, "{:?}", ended.error_message);
    assert_same_as_store(&server, &cache, false, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aborted_load_leaves_no_table_and_no_snapshot() {
    let server = server();
    let (engine, cache) = server.engine("tables");
    let rows = ["x,Bad,notanumber,1,true,,1,1,", "y,Bad,1,1,maybe,,1,1,"];
    let ended = server.load(&engine, LoadOperation::Complete, HEADER, &rows).await;
    assert_eq!(ended.status, JobStatus::Aborted);
    assert_eq!(cache.table_count(), 0, "no table cached");
    let left: Vec<_> = std::fs::read_dir(server.dir.path().join("tables")).unwrap().collect();
    assert!(left.is_empty(), "no snapshot written: {left:?}");
    // An incremental load that aborts over a published version leaves
    // only the published version's table.
    let first = server.load(&engine, LoadOperation::Complete, HEADER, FIRST).await;
    assert_eq!(first.status, JobStatus::Completed, "{:?}", first.error_message);
    let header = format!("{HEADER},__deleteEntity(Edm.Boolean)");
    let ended = server.load(&engine, LoadOperation::Incremental, &header, &["q,Bad,x,1,true,,1,1,,"]).await;
    assert_eq!(ended.status, JobStatus::Aborted);
    assert_eq!(cache.table_count(), 1);
    assert_eq!(std::fs::read_dir(server.dir.path().join("tables")).unwrap().count(), 1);
    assert_same_as_store(&server, &cache, false, 6);
}

fn schema() -> sds_core::Schema {
    use sds_core::{EdmType, Property};
    let properties = ["EntityID", "Latitude", "Longitude"];
    let types = [EdmType::String, EdmType::Double, EdmType::Double];
    let properties = properties.iter().zip(types).map(|(name, edm_type)| Property::new(*name, edm_type)).collect();
    sds_core::Schema::new("Shops", properties, "EntityID").unwrap()
}

#[test]
fn a_table_over_the_budget_is_not_gathered() {
    let watcher = QueryCache::new(4096, Duration::from_secs(1));
    assert_eq!(watcher.table_budget(), 4096);
    let mut gathered = load_table::Gathered::new(4096);
    let entity = |n: usize| sds_core::Entity {
        id: format!("e{n}"),
        latitude: 0.0,
        longitude: 0.0,
        bounds: None,
        values: vec![sds_core::Value::String("x".repeat(100))],
    };
    gathered.take((0..5).map(|n| sds_core::BuiltRecord::Upsert(entity(n))).collect());
    assert!(gathered.kept());
    gathered.take((5..20).map(|n| sds_core::BuiltRecord::Upsert(entity(n))).collect());
    assert!(!gathered.kept(), "20 entities of over 200 bytes pass a 4,096-byte budget");
    assert!(load_table::Gathered::new(0).complete(&schema()).is_none(), "no budget: nothing gathered");
}
