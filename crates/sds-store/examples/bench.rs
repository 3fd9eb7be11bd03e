//! Measures the load path on a GeoNames-sized data source (145,000 entities,
//! 7 properties): batched writes, a full scan, and publishing. Each of five
//! loads replaces the data source, so from the fourth on the commit also
//! drops a 145,000-entity rollback target. It runs twice: with IDs arriving
//! in key order (like GeoNames' ascending numeric ids) and scattered (like
//! GUIDs), since the order decides how many pages each batch rewrites.
//!
//! `cargo run --release -p sds-store --example bench [directory | postgres://…]`
//! (the directory defaults to a temporary one; give one on the disk the
//! server will use, since commit cost is mostly fsync). With a PostgreSQL
//! URL it measures the PostgreSQL store in that database instead (which
//! it migrates and leaves behind: give it a scratch database).

use std::time::Instant;

use chrono::Utc;
use sds_core::job::{JobOutcome, JobStatus, LoadParams};
use sds_core::{
    AccessId, BuiltRecord, EdmType, Entity, InputFormat, Job, JobId, JobKind, JobParams, LoadOperation, Property,
    Schema, Value,
};
use sds_store::{LoadCommit, PostgresStore, SqliteStore, Store};

const ENTITIES: usize = 145_000;
const BATCH: usize = 5_000;
const LOADS: usize = 5;

fn main() {
    let temporary = tempfile::tempdir().expect("a temporary directory");
    let argument = std::env::args().nth(1);
    if let Some(url) = argument.as_deref().filter(|argument| argument.starts_with("postgres")) {
        let store = PostgresStore::connect(url).expect("the store connects");
        for sequential in [true, false] {
            println!("PostgreSQL, {} ids:", if sequential { "sequential" } else { "scattered" });
            run(&store, sequential);
        }
        return;
    }
    let directory = argument.map(std::path::PathBuf::from).unwrap_or_else(|| temporary.path().into());
    for sequential in [true, false] {
        println!("{} ids:", if sequential { "sequential" } else { "scattered" });
        let file = directory.join(format!("bench-{sequential}.db"));
        run(&SqliteStore::open(&file).expect("the store opens"), sequential);
        let size = |suffix: &str| {
            std::fs::metadata(format!("{}{suffix}", file.display())).map(|metadata| metadata.len() >> 20).unwrap_or(0)
        };
        println!("database {} MB, WAL {} MB", size(""), size("-wal"));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
        }
    }
}

fn run(store: &dyn Store, sequential: bool) {
    let account = store.ensure_account(&format!("bench-{sequential}")).unwrap();
    let key = store.add_key(account, &rand::random(), "bench").unwrap();
    let schema = Schema::new(
        "Places",
        ["Id", "Name", "Admin1", "Admin2", "CountryCode"]
            .map(|name| Property::new(name, EdmType::String))
            .into_iter()
            .chain(["Latitude", "Longitude"].map(|name| Property::new(name, EdmType::Double)))
            .collect(),
        "Id",
    )
    .unwrap();
    let records: Vec<BuiltRecord> = (0..ENTITIES).map(|index| place(index, sequential)).collect();
    let access_id = AccessId::generate();

    for load in 1..=LOADS {
        let job = Job {
            id: JobId::generate(),
            account_id: account,
            key_id: key,
            kind: JobKind::LoadComplete,
            status: JobStatus::Pending,
            data_source_name: "GeoNames".into(),
            params: JobParams::Load(LoadParams {
                operation: LoadOperation::Complete,
                input: InputFormat::Csv,
                set_public: None,
                query_key: None,
                description: None,
                access_id: None,
                data_location: None,
                id_property: None,
            }),
            created: Utc::now(),
            completed: None,
            total_entity_count: 0,
            processed_entity_count: 0,
            failed_entity_count: 0,
            error_message: None,
            result_access_id: None,
        };
        store.insert_job(&job).unwrap();
        let version = store.begin_version(&job.id, &schema).unwrap();

        let started = Instant::now();
        for batch in records.chunks(BATCH) {
            store.write_entities(version, batch).unwrap();
        }
        let write = started.elapsed();

        let outcome = JobOutcome {
            status: JobStatus::Completed,
            completed: Utc::now(),
            total_entity_count: ENTITIES as u64,
            processed_entity_count: ENTITIES as u64,
            failed_entity_count: 0,
            error_message: None,
        };
        let started = Instant::now();
        store
            .commit_load(&LoadCommit {
                job_id: &job.id,
                version_id: version,
                account_id: account,
                data_source_name: "GeoNames",
                new_access_id: &access_id,
                master_key: key,
                query_key: None,
                set_public: None,
                description: None,
                previous_versions_kept: 2,
                stage: false,
                outcome: &outcome,
                failures: &[],
                worker: None,
            })
            .unwrap();
        let commit = started.elapsed();

        let started = Instant::now();
        let mut latitude_sum = 0.0;
        let scanned = store
            .for_each_entity(version, &mut |entity| {
                latitude_sum += entity.latitude;
                Ok(())
            })
            .unwrap();
        let scan = started.elapsed();
        assert_eq!(scanned as usize, ENTITIES);
        std::hint::black_box(latitude_sum);

        println!(
            "load {load}: write {:>9.0} entities/s ({:>4} ms)   commit {:>4} ms   load {:>9.0} entities/s   \
             scan {:>9.0} entities/s ({:>4} ms)",
            ENTITIES as f64 / write.as_secs_f64(),
            write.as_millis(),
            commit.as_millis(),
            ENTITIES as f64 / (write + commit).as_secs_f64(),
            ENTITIES as f64 / scan.as_secs_f64(),
            scan.as_millis(),
        );
    }
}

/// A GeoNames-like row.
fn place(index: usize, sequential: bool) -> BuiltRecord {
    let number = if sequential { index } else { index * 7919 % 1_000_003 };
    let id = format!("{}", 1_000_000 + number);
    let latitude = (index % 18_000) as f64 / 100.0 - 90.0;
    let longitude = (index % 36_000) as f64 / 100.0 - 180.0;
    let values = vec![
        Value::String(id.clone()),
        Value::String(format!("Place number {index}")),
        Value::String(format!("Admin region {}", index % 50)),
        Value::String(format!("County {}", index % 3_000)),
        Value::String(["US", "GB", "DE", "FR", "JP"][index % 5].into()),
        Value::Double(latitude),
        Value::Double(longitude),
    ];
    BuiltRecord::Upsert(Entity { id, latitude, longitude, bounds: None, values })
}
