//! The PostgreSQL store: the contract suite on a fresh database per test
//! in the test cluster (`SDS_TEST_DATABASE_URL`, see `sds_store::testing`),
//! and what only a database server has: migrations raced by several
//! servers, the PostGIS view read by GDAL, a restart of the server.

use std::io::Read;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use postgres::{Client, NoTls};
use sds_core::{EdmType, Entity, JobId, Property, Schema, Value, VersionId};
use sds_store::testing::TestDatabase;
use sds_store::{PayloadStore, PostgresStore, Store, StoreError};

use crate::cluster::cluster_suite;
use crate::suite::{store_suite, upsert, Fixture, Harness};

pub(crate) struct PostgresHarness {
    // Dropped first: the pool's connections close before the database goes.
    pub(crate) store: PostgresStore,
    pub(crate) database: TestDatabase,
}

impl Harness for PostgresHarness {
    fn store(&self) -> &dyn Store {
        &self.store
    }

    fn raw_entity_rows(&self, version: VersionId) -> i64 {
        let mut client = Client::connect(self.database.url(), NoTls).unwrap();
        // A version's rows are in its own table (attached to `entities`
        // once sealed); the rows of a dropped version go with the table.
        let table = format!("entities_v{}", version.0);
        let exists: bool = client.query_one("SELECT to_regclass($1) IS NOT NULL", &[&table]).unwrap().get(0);
        if !exists {
            return 0;
        }
        client.query_one(&format!("SELECT COUNT(*) FROM {table}"), &[]).unwrap().get(0)
    }
}

pub(crate) fn open() -> Option<PostgresHarness> {
    let database = TestDatabase::create("pgstore_suite")?;
    let store = PostgresStore::connect(database.url()).unwrap();
    Some(PostgresHarness { store, database })
}

fn harness() -> Option<Box<dyn Harness>> {
    open().map(|harness| Box::new(harness) as Box<dyn Harness>)
}

store_suite!(contract, harness);

fn cluster_store() -> Option<(Arc<dyn Store>, Box<dyn std::any::Any + Send + Sync>)> {
    let database = TestDatabase::create("pgstore_cluster")?;
    let store = PostgresStore::connect(database.url()).unwrap();
    Some((Arc::new(store), Box::new(database)))
}

cluster_suite!(cluster, cluster_store);

/// Several servers starting at once on a new database: each migration is
/// applied once (under the advisory lock), and every server comes up on
/// the full schema. Without the lock, `CREATE EXTENSION` and `CREATE
/// TABLE` race and all but one server fail.
#[test]
fn migrations_run_once_when_several_servers_start_at_once() {
    let Some(database) = TestDatabase::create("pgstore_migrate") else { return };
    let stores: Vec<PostgresStore> = std::thread::scope(|scope| {
        let starting: Vec<_> = (0..6).map(|_| scope.spawn(|| PostgresStore::connect(database.url()))).collect();
        starting.into_iter().map(|handle| handle.join().unwrap().unwrap()).collect()
    });
    for store in &stores {
        store.ready().unwrap();
    }
    let mut client = Client::connect(database.url(), NoTls).unwrap();
    let applied: Vec<i32> = client
        .query("SELECT version FROM sds_schema_migrations ORDER BY version", &[])
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(applied, (1..=applied.len() as i32).collect::<Vec<_>>());
    let account = stores[0].ensure_account("Contoso").unwrap();
    assert_eq!(stores[5].ensure_account("CONTOSO").unwrap(), account);
    // A seventh server finds everything done.
    PostgresStore::connect(database.url()).unwrap().ready().unwrap();
}

fn places_with_geography() -> Schema {
    let properties = vec![
        Property::new("EntityID", EdmType::String),
        Property::new("Name", EdmType::String),
        Property::new("Population", EdmType::Int64),
        Property::new("Area", EdmType::Geography),
    ];
    Schema::new("Places", properties, "EntityID").unwrap()
}

fn place(id: &str, name: &str, population: i64, area: Option<&str>) -> sds_core::BuiltRecord {
    sds_core::BuiltRecord::Upsert(Entity {
        id: id.into(),
        latitude: 47.5,
        longitude: -122.25,
        bounds: None,
        values: vec![
            Value::String(id.into()),
            Value::String(name.into()),
            Value::Int64(population),
            area.map_or(Value::Null, |wkt| Value::Geography(wkt.into())),
        ],
    })
}

/// The published version of each data source is in `published_entities`
/// with its geography (else its point) and typed properties, and GDAL
/// reads it; staged and older versions are not there.
#[test]
fn the_published_view_holds_published_versions_and_gdal_reads_it() {
    let Some(harness) = open() else { return };
    let url = harness.database.url().to_owned();
    let f = Fixture::new(Box::new(harness));
    let polygon = "POLYGON((-122 47, -121 47, -121 48, -122 48, -122 47))";
    let load = |name: &str, records: &[sds_core::BuiltRecord], stage: bool| {
        let job = f.job(sds_core::JobKind::LoadComplete, name);
        let version = f.store().begin_version(&job.id, &places_with_geography()).unwrap();
        f.store().write_entities(version, records).unwrap();
        let outcome = crate::suite::outcome(sds_core::JobStatus::Completed, 1, 0);
        f.store()
            .commit_load(&sds_store::LoadCommit {
                job_id: &job.id,
                version_id: version,
                account_id: f.account,
                data_source_name: name,
                new_access_id: &sds_core::AccessId::generate(),
                master_key: f.key,
                query_key: None,
                set_public: None,
                description: None,
                stage,
                previous_versions_kept: 2,
                outcome: &outcome,
                failures: &[],
                worker: None,
            })
            .unwrap()
    };
    load("Shops", &[place("old", "Old", 1, None)], false);
    load("Shops", &[place("b", "Bakery", 12, None), place("a", "Area", 3_000_000_000, Some(polygon))], false);
    load("Shops", &[place("staged", "Staged", 0, None)], true);
    load("Parks", &[upsert("p", "Park")], true);

    let mut client = Client::connect(&url, NoTls).unwrap();
    let rows = client
        .query(
            "SELECT account, data_source, entity_id, ST_AsText(geography), properties->>'Name',
                    (properties->'Population')::bigint
             FROM published_entities ORDER BY entity_id",
            &[],
        )
        .unwrap();
    let seen: Vec<(String, String, String, String, String, i64)> =
        rows.iter().map(|row| (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4), row.get(5))).collect();
    let expected = [
        ("Contoso", "Shops", "a", "POLYGON((-122 47,-121 47,-121 48,-122 48,-122 47))", "Area", 3_000_000_000),
        ("Contoso", "Shops", "b", "POINT(-122.25 47.5)", "Bakery", 12),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(a, d, e, g, n, p)| (a.to_string(), d.to_string(), e.to_string(), g.to_string(), n.to_string(), *p))
        .collect();
    assert_eq!(seen, expected);

    // GDAL's PostgreSQL driver, as QGIS and ogr2ogr use it (GDAL knows
    // the `postgresql://` spelling of the URL, not `postgres://`).
    let gdal_url = format!("PG:{}", url.replacen("postgres://", "postgresql://", 1));
    let output = Command::new("ogrinfo")
        .args(["-ro", "-q", &gdal_url, "-sql"])
        .arg("SELECT entity_id, geography, properties FROM published_entities WHERE data_source = 'Shops' ORDER BY entity_id")
        .output()
        .expect("ogrinfo (gdal-bin) runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "ogrinfo failed: {text}\n{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(text.matches("OGRFeature(").count(), 2, "{text}");
    assert!(text.contains("POLYGON ((-122 47,-121 47,-121 48,-122 48,-122 47))"), "{text}");
    assert!(text.contains("POINT (-122.25 47.5)"), "{text}");
    assert!(text.contains("\"Name\": \"Bakery\""), "{text}");
}

/// A database restart: calls during the outage fail with `Unavailable`
/// within the connect timeout, and the same store works again once the
/// database is back, without being reopened. Runs its own cluster.
#[test]
fn a_database_restart_gives_unavailable_and_the_store_recovers() {
    let Some(cluster) = OwnCluster::start() else { return };
    let store = PostgresStore::connect(&cluster.url()).unwrap();
    let account = store.ensure_account("Contoso").unwrap();
    let counter = store.wait_for_change(0, Duration::from_millis(10)).unwrap();

    // Every pooled connection, and the listening one, dies with the
    // restart; the next calls connect anew.
    cluster.pg_ctl(&["restart", "-m", "fast", "-w"]);
    assert_eq!(store.ensure_account("contoso").unwrap(), account);
    assert_eq!(store.wait_for_change(counter, Duration::from_millis(10)).unwrap(), counter);
    let waiting = std::thread::scope(|scope| {
        let waiter = scope.spawn(|| store.wait_for_change(counter, Duration::from_secs(10)).unwrap());
        std::thread::sleep(Duration::from_millis(200));
        store.add_key(account, &[4; 32], "new").unwrap();
        waiter.join().unwrap()
    });
    assert!(waiting > counter, "the new listening connection is woken");

    cluster.pg_ctl(&["stop", "-m", "fast", "-w"]);
    let started = std::time::Instant::now();
    for attempt in [store.ensure_account("Contoso").map(|_| ()), store.accounts().map(|_| ()), store.ready()] {
        assert!(matches!(attempt, Err(StoreError::Unavailable(_))), "{attempt:?}");
    }
    let waited = started.elapsed();
    assert!(waited < sds_store::POSTGRES_CONNECT_TIMEOUT * 3 + std::time::Duration::from_secs(3), "{waited:?}");

    cluster.pg_ctl(&["start", "-w"]);
    assert_eq!(store.ensure_account("CONTOSO").unwrap(), account);
    store.ready().unwrap();
}

/// A PostgreSQL cluster of the test's own (initdb in a temporary
/// directory, a free loopback port), stopped when dropped. As root, the
/// server runs as the `postgres` user (it refuses to run as root).
struct OwnCluster {
    dir: tempfile::TempDir,
    port: u16,
    bin: std::path::PathBuf,
}

impl OwnCluster {
    fn start() -> Option<OwnCluster> {
        sds_store::testing::admin_url()?;
        let bin = std::env::var("SDS_TEST_PG_BIN")
            .expect("SDS_TEST_PG_BIN is not set: `eval \"$(.ci/pg-test-cluster)\"` exports it (initdb, pg_ctl)");
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cluster = OwnCluster { dir, port, bin: bin.into() };
        if is_root() {
            let chowned = Command::new("chown").args(["-R", "postgres"]).arg(cluster.dir.path()).status().unwrap();
            assert!(chowned.success());
        }
        cluster
            .run("initdb", &["-D", &cluster.data(), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C"]);
        let settings = format!(
            "listen_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{}'\nfsync = off\n",
            cluster.port,
            cluster.dir.path().display()
        );
        std::fs::OpenOptions::new()
            .append(true)
            .open(cluster.dir.path().join("data/postgresql.conf"))
            .and_then(|mut file| std::io::Write::write_all(&mut file, settings.as_bytes()))
            .unwrap();
        cluster.pg_ctl(&["start", "-w"]);
        Some(cluster)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn pg_ctl(&self, args: &[&str]) {
        let log = self.dir.path().join("server.log").display().to_string();
        let data = self.data();
        let mut all = vec!["-D", &data, "-l", &log];
        all.extend_from_slice(args);
        self.run("pg_ctl", &all);
    }

    fn run(&self, program: &str, args: &[&str]) {
        let program = self.bin.join(program);
        let mut command = if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        let output = command.args(args).output().unwrap();
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let program = self.bin.join("pg_ctl");
        let data = self.data();
        let mut command = if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        let _ = command.args(["-D", &data, "-m", "immediate", "stop"]).output();
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|output| output.stdout.trim_ascii() == b"0")
}

/// Two servers on one database: a change committed through one wakes a
/// waiter on the other at once (`NOTIFY` at the commit), and a job claimed
/// by one is not claimable by the other while its lease holds.
#[test]
fn a_change_on_one_server_wakes_a_waiter_on_another() {
    let Some(database) = TestDatabase::create("pgstore_notify") else { return };
    let (a, b) = (PostgresStore::connect(database.url()).unwrap(), PostgresStore::connect(database.url()).unwrap());
    let account = a.ensure_account("Contoso").unwrap();
    let seen = b.change_counter().unwrap();
    std::thread::scope(|scope| {
        let waiter = scope.spawn(|| {
            let started = Instant::now();
            (b.wait_for_change(seen, Duration::from_secs(20)).unwrap(), started.elapsed())
        });
        std::thread::sleep(Duration::from_millis(300));
        let committed = Instant::now();
        a.add_key(account, &[1; 32], "abc").unwrap();
        let (counter, waited) = waiter.join().unwrap();
        assert!(counter > seen, "{counter} after {seen}");
        assert!(waited < Duration::from_secs(5), "woke after {waited:?}");
        eprintln!("woken {:?} after the commit", committed.elapsed());
    });
    // A second waiter meanwhile polls: both return on time.
    let now = b.change_counter().unwrap();
    let started = Instant::now();
    std::thread::scope(|scope| {
        let first = scope.spawn(|| b.wait_for_change(now, Duration::from_millis(400)).unwrap());
        let second = scope.spawn(|| b.wait_for_change(now, Duration::from_millis(400)).unwrap());
        assert_eq!((first.join().unwrap(), second.join().unwrap()), (now, now));
    });
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
}

fn local_file(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn read_output(payloads: &dyn PayloadStore, job: &JobId, extension: &str) -> Option<(u64, Vec<u8>)> {
    let (length, reader) = payloads.open_output(job, extension).unwrap()?;
    let mut bytes = Vec::new();
    reader.into_read().read_to_end(&mut bytes).unwrap();
    Some((length, bytes))
}

/// Payloads in the database: an input put by one server is read by
/// another; outputs, kept outputs and pointers round-trip; a payload of
/// several chunks streams back byte for byte; names that are not plain are
/// refused, as by `FilePayloads`.
#[test]
fn payloads_round_trip_through_the_database_between_servers() {
    let Some(database) = TestDatabase::create("pgstore_payloads") else { return };
    let one = PostgresStore::connect(database.url()).unwrap().payloads();
    let other = PostgresStore::connect(database.url()).unwrap().payloads();
    let scratch = tempfile::tempdir().unwrap();

    let job = JobId::generate();
    // 2.5 chunks of a byte pattern that a misplaced chunk would break.
    let big: Vec<u8> = (0..(5 << 20) / 2).map(|index: u32| (index % 251) as u8).collect();
    let upload = local_file(scratch.path(), "upload.part", &big);
    one.put_input(&job, &upload).unwrap();
    assert!(!upload.exists(), "the local file is consumed");
    let local = other.input_file(&job, scratch.path()).unwrap().unwrap();
    assert_eq!(std::fs::read(local.path()).unwrap(), big);
    let copy = local.path().to_owned();
    drop(local);
    assert!(!copy.exists(), "the reader's copy goes when dropped");
    assert_eq!(other.inputs().unwrap().into_iter().map(|(job, _)| job).collect::<Vec<_>>(), vec![job.clone()]);
    let replaced = local_file(scratch.path(), "again.part", b"a,b\n");
    one.put_input(&job, &replaced).unwrap();
    let local = other.input_file(&job, scratch.path()).unwrap().unwrap();
    assert_eq!(std::fs::read(local.path()).unwrap(), b"a,b\n", "a second put replaces the input");
    other.discard_input(&job).unwrap();
    other.discard_input(&job).unwrap();
    assert!(one.input_file(&job, scratch.path()).unwrap().is_none());
    assert!(one.inputs().unwrap().is_empty());

    let (first, second) = (JobId::generate(), JobId::generate());
    let entry = "r1-1-2-3-abc.xml";
    assert!(!one.point_to_kept(&second, "xml", entry).unwrap(), "no entry yet");
    let output = local_file(scratch.path(), "out.part", &big);
    one.keep_output(entry, &output).unwrap();
    assert!(output.exists(), "a kept output's file stays");
    one.keep_output(entry, &output).unwrap();
    one.put_output(&first, "xml", &output).unwrap();
    assert_eq!(read_output(&other, &first, "xml"), Some((big.len() as u64, big.clone())));
    assert!(other.point_to_kept(&second, "xml", entry).unwrap());
    assert_eq!(read_output(&one, &second, "xml"), Some((big.len() as u64, big.clone())), "through the pointer");
    assert_eq!(one.kept_entries().unwrap(), vec![entry.to_owned()]);
    let mut outputs: Vec<(JobId, String)> =
        other.outputs().unwrap().into_iter().map(|output| (output.job, output.extension)).collect();
    outputs.sort();
    let mut expected = vec![(first.clone(), "xml".to_owned()), (second.clone(), "xml".to_owned())];
    expected.sort();
    assert_eq!(outputs, expected);

    // A reader whose payload is removed midway fails instead of ending early.
    let (_, reader) = one.open_output(&first, "xml").unwrap().unwrap();
    let mut reader = reader.into_read();
    let mut start = vec![0; 1 << 20];
    reader.read_exact(&mut start).unwrap();
    other.remove_output(&first, "xml").unwrap();
    let mut rest = Vec::new();
    assert!(reader.read_to_end(&mut rest).is_err());

    one.remove_kept(entry).unwrap();
    assert_eq!(read_output(&other, &second, "xml"), None, "a pointer to a removed entry leads nowhere");
    other.remove_output(&second, "xml").unwrap();
    assert!(one.outputs().unwrap().is_empty());

    let plain = local_file(scratch.path(), "x", b"x");
    for name in ["../escape", ".hidden", "a/b", ""] {
        assert_eq!(one.keep_output(name, &plain).unwrap_err().kind(), std::io::ErrorKind::InvalidInput, "{name}");
        assert!(one.put_output(&first, name, &plain).is_err(), "{name}");
    }
}

/// The server that stored an output keeps its local file and serves it
/// from there while the database lists it; another server streams it from
/// the database; once any server removes it (retention), the copy is
/// never served and goes.
#[test]
fn the_storing_server_serves_its_outputs_from_its_local_copy() {
    let Some(database) = TestDatabase::create("pgstore_local_copies") else { return };
    let scratch = tempfile::tempdir().unwrap();
    let copies = scratch.path().join("copies");
    let one = PostgresStore::connect(database.url()).unwrap().payloads().with_local_copies(copies.clone()).unwrap();
    let other = PostgresStore::connect(database.url()).unwrap().payloads();
    let big: Vec<u8> = (0..(3 << 20) / 2).map(|index: u32| (index % 253) as u8).collect();

    let (first, second) = (JobId::generate(), JobId::generate());
    one.put_output(&first, "xml", &local_file(scratch.path(), "a.part", &big)).unwrap();
    one.put_output(&second, "csv", &local_file(scratch.path(), "b.part", b"x,y\n")).unwrap();
    assert!(copies.join(format!("{first}.xml")).exists(), "the stored file became the local copy");
    let (length, reader) = one.open_output(&first, "xml").unwrap().unwrap();
    assert_eq!(length, big.len() as u64);
    assert!(matches!(reader, sds_store::PayloadReader::File(_)), "served from the local copy");
    assert_eq!(read_output(&one, &first, "xml"), Some((big.len() as u64, big.clone())));
    let (_, reader) = other.open_output(&first, "xml").unwrap().unwrap();
    assert!(matches!(reader, sds_store::PayloadReader::Stream(_)), "another server reads the database");
    assert_eq!(read_output(&other, &first, "xml"), Some((big.len() as u64, big.clone())));

    // A copy whose length disagrees with the database is not served.
    std::fs::write(copies.join(format!("{second}.csv")), b"x,").unwrap();
    assert_eq!(read_output(&one, &second, "csv"), Some((4, b"x,y\n".to_vec())));
    assert!(!copies.join(format!("{second}.csv")).exists());

    // Removed by another server: the copy is never served, and goes.
    other.remove_output(&first, "xml").unwrap();
    assert_eq!(read_output(&one, &first, "xml"), None);
    assert!(!copies.join(format!("{first}.xml")).exists());
    // A listing prunes copies of outputs removed elsewhere.
    let third = JobId::generate();
    one.put_output(&third, "geojson", &local_file(scratch.path(), "c.part", b"{}")).unwrap();
    other.remove_output(&third, "geojson").unwrap();
    assert!(one.outputs().unwrap().iter().all(|output| output.job != third));
    assert!(!copies.join(format!("{third}.geojson")).exists());
    one.remove_output(&second, "csv").unwrap();
    assert_eq!(std::fs::read_dir(&copies).unwrap().count(), 0);
}
