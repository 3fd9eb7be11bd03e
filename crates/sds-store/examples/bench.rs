//! Measures the load path on a GeoNames-sized data source (145,000 entities,
//! 7 properties): batched writes, a full scan, and publishing. Each of five
//! loads replaces the data source, so from the fourth on the commit also
//! drops a 145,000-entity rollback target. It runs twice: with IDs arriving
//! in key order (like GeoNames' ascending numeric ids) and scattered (like
//! GUIDs), since the order decides how many pages each batch rewrites.
//!
//! `cargo run --release -p sds-store --example bench [directory | postgres://…] [cities1000.csv]`
//! (the directory defaults to a temporary one; give one on the disk the
//! server will use, since commit cost is mostly fsync). With a PostgreSQL
//! URL it measures the PostgreSQL store in that database instead (which
//! it migrates and leaves behind: give it a scratch database). With a
//! GeoNames CSV (`lat,lon,name,admin1,admin2,cc`, as
//! `../shared/data/cities1000.csv`), it loads those rows instead, their
//! line number as ID.

use std::time::Instant;

use chrono::Utc;
use sds_core::job::{JobOutcome, JobStatus, LoadParams};
use sds_core::{
    AccessId, BuiltRecord, EdmType, Entity, InputFormat, Job, JobKind, JobParams, LoadOperation, Property, Schema,
    Value,
};
use sds_store::{LoadCommit, PostgresStore, SqliteStore, Store};

const ENTITIES: usize = 145_000;
const BATCH: usize = 5_000;
const LOADS: usize = 5;

fn main() {
    let temporary = tempfile::tempdir().expect("a temporary directory");
    let argument = std::env::args().nth(1);
    let inputs: Vec<(String, Vec<BuiltRecord>)> = match std::env::args().nth(2) {
        Some(csv) => vec![(csv.clone(), cities(&csv))],
        None => [true, false]
            .map(|sequential| {
                let label = if sequential { "sequential ids" } else { "scattered ids" };
                (label.to_owned(), (0..ENTITIES).map(|index| place(index, sequential)).collect())
            })
            .into(),
    };
    if let Some(url) = argument.as_deref().filter(|argument| argument.starts_with("postgres")) {
        let store = PostgresStore::connect(url).expect("the store connects");
        for (label, records) in &inputs {
            println!("PostgreSQL, {label}:");
            run(&store, label, records);
        }
        return;
    }
    let directory = argument.map(std::path::PathBuf::from).unwrap_or_else(|| temporary.path().into());
    for (index, (label, records)) in inputs.iter().enumerate() {
        println!("{label}:");
        let file = directory.join(format!("bench-{index}.db"));
        run(&SqliteStore::open(&file).expect("the store opens"), label, records);
        let size = |suffix: &str| {
            std::fs::metadata(format!("{}{suffix}", file.display())).map(|metadata| metadata.len() >> 20).unwrap_or(0)
        };
        println!("database {} MB, WAL {} MB", size(""), size("-wal"));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
        }
    }
}

fn run(store: &dyn Store, label: &str, records: &[BuiltRecord]) {
    let account = store.ensure_account(&format!("bench {label}")).unwrap();
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
    let entities = records.len();
    let access_id = AccessId::generate();

    for load in 1..=LOADS {
        let params = JobParams::Load(LoadParams::plain(LoadOperation::Complete, InputFormat::Csv));
        let job = Job::pending(account, key, JobKind::LoadComplete, "GeoNames", params);
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
            total_entity_count: entities as u64,
            processed_entity_count: entities as u64,
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
        assert_eq!(scanned as usize, entities);
        std::hint::black_box(latitude_sum);

        println!(
            "load {load}: write {:>9.0} entities/s ({:>4} ms)   commit {:>4} ms   load {:>9.0} entities/s   \
             scan {:>9.0} entities/s ({:>4} ms)",
            entities as f64 / write.as_secs_f64(),
            write.as_millis(),
            commit.as_millis(),
            entities as f64 / (write + commit).as_secs_f64(),
            entities as f64 / scan.as_secs_f64(),
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

/// The rows of a GeoNames CSV (`lat,lon,name,admin1,admin2,cc`), as the
/// same 7 properties, with their line number as ID.
fn cities(path: &str) -> Vec<BuiltRecord> {
    let mut reader = csv::Reader::from_path(path).expect("the CSV opens");
    reader
        .records()
        .enumerate()
        .map(|(index, row)| {
            let row = row.expect("a CSV row");
            let (latitude, longitude) = (row[0].parse().unwrap(), row[1].parse().unwrap());
            let id = (index + 1).to_string();
            let values = vec![
                Value::String(id.clone()),
                Value::String(row[2].into()),
                Value::String(row[3].into()),
                Value::String(row[4].into()),
                Value::String(row[5].into()),
                Value::Double(latitude),
                Value::Double(longitude),
            ];
            BuiltRecord::Upsert(Entity { id, latitude, longitude, bounds: None, values })
        })
        .collect()
}
