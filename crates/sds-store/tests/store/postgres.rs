//! The PostgreSQL store: the contract suite on a fresh database per test
//! in the test cluster (`SDS_TEST_DATABASE_URL`, see `sds_store::testing`),
//! and what only a database server has: migrations raced by several
//! servers, the PostGIS view read by GDAL, a restart of the server.

use std::process::Command;

use postgres::{Client, NoTls};
use sds_core::{EdmType, Entity, Property, Schema, Value, VersionId};
use sds_store::testing::TestDatabase;
use sds_store::{PostgresStore, Store, StoreError};

use crate::suite::{store_suite, upsert, Fixture, Harness};

struct PostgresHarness {
    // Dropped first: the pool's connections close before the database goes.
    store: PostgresStore,
    database: TestDatabase,
}

impl Harness for PostgresHarness {
    fn store(&self) -> &dyn Store {
        &self.store
    }

    fn raw_entity_rows(&self, version: VersionId) -> i64 {
        let mut client = Client::connect(self.database.url(), NoTls).unwrap();
        client.query_one("SELECT COUNT(*) FROM entities WHERE version_id = $1", &[&version.0]).unwrap().get(0)
    }
}

fn open() -> Option<PostgresHarness> {
    let database = TestDatabase::create("pgstore_suite")?;
    let store = PostgresStore::connect(database.url()).unwrap();
    Some(PostgresHarness { store, database })
}

fn harness() -> Option<Box<dyn Harness>> {
    open().map(|harness| Box::new(harness) as Box<dyn Harness>)
}

store_suite!(contract, harness);

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

    // Every pooled connection dies with the restart; the next call reconnects.
    cluster.pg_ctl(&["restart", "-m", "fast", "-w"]);
    assert_eq!(store.ensure_account("contoso").unwrap(), account);

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
