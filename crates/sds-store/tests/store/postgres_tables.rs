//! The PostgreSQL store's table per version (`src/postgres/partitions.rs`):
//! a batch caught in flight while its version is dropped, and the upgrade
//! of a database that migrations 1–3 made, with its data.

use std::thread;
use std::time::{Duration, Instant};

use chrono::Utc;
use postgres::{Client, NoTls};
use sds_core::job::{JobOutcome, JobStatus};
use sds_core::{AccessId, Entity, Job, JobKind, VersionId, WorkerId};
use sds_store::testing::{migrate_postgres_to, TestDatabase};
use sds_store::{LoadCommit, PostgresStore, Store, StoreError};

use crate::postgres::open;
use crate::suite::{schema, upsert, Fixture};

fn table_exists(client: &mut Client, version: VersionId) -> bool {
    let table = format!("entities_v{}", version.0);
    client.query_one("SELECT to_regclass($1) IS NOT NULL", &[&table]).unwrap().get(0)
}

/// A server stalled (stopped, not killed) in the middle of a batch, past
/// its lease: the server that takes the job over drops the version at
/// once, without waiting for the stalled transaction, and the stalled
/// batch, once it goes on, fails and leaves no row anywhere. The stall is
/// a lock the batch's `COPY` waits for, taken behind the store's back.
#[test]
fn a_batch_stalled_while_its_version_is_dropped_fails_and_leaves_no_rows() {
    let Some(harness) = open() else { return };
    let url = harness.database.url().to_owned();
    let f = Fixture::new(Box::new(harness));
    let a: &dyn Store = f.store();
    let b = PostgresStore::connect(&url).unwrap();
    let (a_worker, b_worker) = (WorkerId::generate(), WorkerId::generate());
    let lease = Duration::from_millis(300);
    let job = f.job(JobKind::LoadComplete, "Shops");
    assert!(a.claim_job(&job.id, &a_worker, lease).unwrap());
    let version = a.begin_version(&job.id, &schema()).unwrap();
    a.write_entities(version, &[upsert("1", "one")]).unwrap();

    let mut blocker = Client::connect(&url, NoTls).unwrap();
    let mut stall = blocker.transaction().unwrap();
    stall.batch_execute(&format!("LOCK TABLE entities_v{} IN SHARE MODE", version.0)).unwrap();
    let mut watcher = Client::connect(&url, NoTls).unwrap();
    thread::scope(|scope| {
        let stalled = scope.spawn(|| a.write_entities(version, &[upsert("2", "two"), upsert("3", "three")]));
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let waiting: i64 = watcher
                .query_one(
                    "SELECT COUNT(*) FROM pg_locks WHERE NOT granted AND relation = to_regclass($1)",
                    &[&format!("entities_v{}", version.0)],
                )
                .unwrap()
                .get(0);
            if waiting > 0 {
                break;
            }
            assert!(Instant::now() < deadline, "the batch never reached its COPY");
            thread::sleep(Duration::from_millis(10));
        }
        thread::sleep(lease + Duration::from_millis(100));

        let started = Instant::now();
        assert!(b.claim_job(&job.id, &b_worker, Duration::from_secs(60)).unwrap());
        assert!(started.elapsed() < Duration::from_secs(3), "the takeover waited for the stalled batch");
        assert_eq!(b.version(version).unwrap(), None, "the takeover dropped the stalled run's version");

        stall.commit().unwrap();
        let late = stalled.join().unwrap();
        assert!(matches!(late, Err(StoreError::NotFound(_))), "the late batch was not refused: {late:?}");
    });

    // The next sweep (here: another server's start) drops the table the
    // takeover could not have while the batch held it.
    b.discard_building_versions().unwrap();
    assert!(!table_exists(&mut watcher, version), "the dropped version's table is still there");
    let rows: i64 =
        watcher.query_one("SELECT COUNT(*) FROM entities WHERE version_id = $1", &[&version.0]).unwrap().get(0);
    assert_eq!(rows, 0);
    assert!(a.write_entities(version, &[upsert("4", "four")]).is_err(), "the old runner writes nowhere");
}

fn completed(entities: u64) -> JobOutcome {
    JobOutcome {
        status: JobStatus::Completed,
        completed: Utc::now(),
        total_entity_count: entities,
        processed_entity_count: entities,
        failed_entity_count: 0,
        error_message: None,
    }
}

fn publish(store: &dyn Store, job: &Job, version: VersionId) {
    store
        .commit_load(&LoadCommit {
            job_id: &job.id,
            version_id: version,
            account_id: job.account_id,
            data_source_name: &job.data_source_name,
            new_access_id: &AccessId::generate(),
            master_key: job.key_id,
            query_key: None,
            set_public: None,
            description: None,
            stage: false,
            previous_versions_kept: 2,
            outcome: &completed(1),
            failures: &[],
            worker: None,
        })
        .unwrap();
}

fn entities(store: &dyn Store, version: VersionId) -> Vec<Entity> {
    let mut read = Vec::new();
    store
        .for_each_entity(version, &mut |entity| {
            read.push(entity);
            Ok(())
        })
        .unwrap();
    read
}

/// Rows copied from one database to the other with binary `COPY`.
fn copy_rows(from: &mut Client, to: &mut Client, select: &str, table: &str) {
    let mut reader = from.copy_out(&format!("COPY ({select}) TO STDOUT (FORMAT binary)")).unwrap();
    let mut writer = to.copy_in(&format!("COPY {table} FROM STDIN (FORMAT binary)")).unwrap();
    std::io::copy(&mut reader, &mut writer).unwrap();
    writer.finish().unwrap();
}

/// The published view, as GIS tools read it.
fn view_rows(client: &mut Client) -> Vec<(String, String, String, String, String)> {
    client
        .query(
            "SELECT data_source, access_id, entity_id, ST_AsEWKT(geography), properties::text
             FROM published_entities ORDER BY access_id, entity_id",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4)))
        .collect()
}

/// Migration 4 moves the entities of a database that migrations 1–3 made
/// into a table per version. The old database is made here with the
/// migrations 1–3 themselves, and its rows are those of a database the
/// store wrote (published versions, rollback targets, a version still
/// being built, a multi-batch version), copied over row for row with the
/// entities in one table as migrations 1–3 kept them. After the upgrade,
/// every version, entity and view row reads back as before, the version
/// being built can be finished, and a new load prunes a migrated version.
#[test]
fn a_database_at_migration_3_upgrades_with_every_version_reading_back_the_same() {
    let Some(harness) = open() else { return };
    let source_url = harness.database.url().to_owned();
    let f = Fixture::new(Box::new(harness));
    for round in 0..3 {
        f.load("Shops", &[upsert("1", &format!("one {round}")), upsert("2", "two")]);
    }
    let many: Vec<_> = (0..12_000).map(|index| upsert(&format!("c{index}"), "cafe")).collect();
    let (_, cafes, _) = f.load("Cafes", &many);
    let building_job = f.job(JobKind::LoadComplete, "Bars");
    let building = f.store().begin_version(&building_job.id, &schema()).unwrap();
    f.store().write_entities(building, &[upsert("b1", "bar"), upsert("b2", "bar")]).unwrap();

    let Some(old) = TestDatabase::create("pgload_upgrade") else { return };
    migrate_postgres_to(old.url(), 3).unwrap();
    let mut source = Client::connect(&source_url, NoTls).unwrap();
    let mut target = Client::connect(old.url(), NoTls).unwrap();
    // Foreign keys off while copying: data sources and versions name each other.
    target.batch_execute("SET session_replication_role = replica").unwrap();
    for table in ["accounts", "keys", "jobs", "job_failures", "data_sources", "versions", "retired_access_ids"] {
        copy_rows(&mut source, &mut target, &format!("SELECT * FROM {table}"), table);
    }
    let columns = "version_id, entity_key, entity_id, latitude, longitude, geography, properties, data";
    copy_rows(&mut source, &mut target, &format!("SELECT {columns} FROM entities"), "entities");
    copy_rows(&mut source, &mut target, &format!("SELECT {columns} FROM entities_v{}", building.0), "entities");
    for (table, column) in
        [("accounts", "id"), ("keys", "id"), ("jobs", "seq"), ("data_sources", "id"), ("versions", "id")]
    {
        target
            .batch_execute(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), (SELECT MAX({column}) FROM {table}))"
            ))
            .unwrap();
    }
    let before: Vec<VersionId> = source
        .query("SELECT id FROM versions ORDER BY id", &[])
        .unwrap()
        .iter()
        .map(|row| VersionId(row.get(0)))
        .collect();
    assert_eq!(before.len(), 5, "two rollback targets and a published Shops, Cafes, and Bars being built");
    let old_rows: i64 = target.query_one("SELECT COUNT(*) FROM entities", &[]).unwrap().get(0);
    assert_eq!(old_rows, 2 * 3 + 12_000 + 2);

    let upgraded = PostgresStore::connect(old.url()).unwrap();
    let migrations: i64 =
        target.query_one("SELECT MAX(version)::bigint FROM sds_schema_migrations", &[]).unwrap().get(0);
    assert_eq!(migrations, 4);
    for &version in &before {
        assert_eq!(upgraded.version(version).unwrap(), f.store().version(version).unwrap());
        assert_eq!(entities(&upgraded, version), entities(f.store(), version), "version {version}");
        assert_eq!(upgraded.count_entities(version).unwrap(), f.store().count_entities(version).unwrap());
    }
    assert_eq!(upgraded.count_entities(cafes).unwrap(), 12_000);
    assert_eq!(view_rows(&mut target), view_rows(&mut source));
    assert!(!view_rows(&mut target).is_empty());

    // The version being built is finished on the new schema: a batch that
    // replaces one of its rows, then its commit.
    upgraded.write_entities(building, &[upsert("b1", "replaced")]).unwrap();
    publish(&upgraded, &building_job, building);
    let bars: Vec<String> = entities(&upgraded, building).iter().map(|entity| entity.id.clone()).collect();
    assert_eq!(bars, ["b1", "b2"]);

    // A new load of Shops drops the oldest migrated rollback target.
    let job = f.unsaved_job(JobKind::LoadComplete, "Shops");
    upgraded.insert_job(&job).unwrap();
    let fresh = upgraded.begin_version(&job.id, &schema()).unwrap();
    assert!(before.iter().all(|version| *version != fresh), "a version id was handed out again");
    upgraded.write_entities(fresh, &[upsert("9", "nine")]).unwrap();
    publish(&upgraded, &job, fresh);
    assert_eq!(upgraded.version(before[0]).unwrap(), None);
    assert!(!table_exists(&mut target, before[0]), "the pruned version's table is still there");
    assert_eq!(entities(&upgraded, fresh).len(), 1);
}
