//! Two job engines (two servers, by their worker ids) on one real SQLite
//! store and one payload store, in one process: each job runs once, a
//! dead server's claim is taken over when its lease runs out (and its
//! half-written version dropped), a held claim is respected, quotas hold
//! under concurrent submits, and another process's change reaches the
//! caches within a second.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use sds_core::job::{JobStatus, LoadParams};
use sds_core::{
    AccessId, BuiltRecord, EdmType, Entity, InputFormat, Job, JobId, JobKind, JobParams, LoadOperation, Property,
    Schema, Value, WorkerId,
};
use sds_store::JobQuota;

use super::{test_stores, EngineSettings, JobEngine};
use crate::query_cache::QueryCache;

const LEASE: Duration = Duration::from_secs(2);

// The shared fixture, with inherent methods of these tests below.
use super::test_stores::TestStores as Cluster;

fn cluster() -> Cluster {
    Cluster::open()
}

impl Cluster {
    /// A server: its own scratch folders and caches, the shared stores.
    fn server(&self, name: &str) -> (JobEngine, Arc<QueryCache>) {
        let scratch = self.dir.path().join(name);
        let settings = EngineSettings {
            // Lifted: a load must outlast a progress interval here.
            limits: sds_core::limits::Limits {
                max_entities_per_data_source: 2_000_000,
                ..sds_core::limits::Limits::default()
            },
            ..test_stores::settings(&scratch, LEASE)
        };
        let cache = Arc::new(QueryCache::default());
        let engine =
            JobEngine::start(Arc::clone(&self.store), Arc::clone(&self.payloads), settings, Arc::clone(&cache) as _)
                .unwrap();
        (engine, cache)
    }

    fn load_job(&self, name: &str) -> Job {
        let params = JobParams::Load(LoadParams::plain(LoadOperation::Complete, InputFormat::Csv));
        Job::pending(self.account, self.key, JobKind::LoadComplete, name, params)
    }

    /// Stores a load's input as the upload route does.
    fn spool(&self, job: &Job, rows: usize) {
        let mut text = format!(
            "Bing Spatial Data Services, 1.0, {}\nEntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\n",
            job.data_source_name
        );
        for row in 0..rows {
            text.push_str(&format!("{row},47.5,-122.25\n"));
        }
        let file = self.dir.path().join(format!("{}.upload", job.id));
        std::fs::write(&file, text).unwrap();
        self.payloads.put_input(&job.id, &file).unwrap();
    }

    async fn ended(&self, job: &JobId, within: Duration) -> Job {
        let deadline = Instant::now() + within;
        loop {
            let found = self.store.job(job).unwrap().unwrap();
            if found.status != JobStatus::Pending {
                return found;
            }
            assert!(Instant::now() < deadline, "job {job} still Pending after {within:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn started(engine: &JobEngine) -> u64 {
    engine.inner.started.load(Ordering::SeqCst)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_job_runs_once_on_one_of_two_servers() {
    let cluster = cluster();
    let (a, _) = cluster.server("a");
    let (b, _) = cluster.server("b");
    assert_ne!(a.worker(), b.worker());
    let mut jobs = Vec::new();
    for n in 0..8 {
        // Four data sources, two loads each: the second waits for the first.
        let job = cluster.load_job(&format!("Shops{}", n % 4));
        cluster.spool(&job, 50 + n);
        let engine = if n % 2 == 0 { &a } else { &b };
        engine.submit(&job, JobQuota::NONE).await.unwrap().unwrap();
        jobs.push(job);
    }
    for job in &jobs {
        let ended = cluster.ended(&job.id, Duration::from_secs(30)).await;
        assert_eq!(ended.status, JobStatus::Completed, "{:?}", ended.error_message);
    }
    assert_eq!(started(&a) + started(&b), 8, "every job ran exactly once, on one server");
    for n in 0..4 {
        let source = cluster.store.data_source_by_name(cluster.account, &format!("Shops{n}")).unwrap().unwrap();
        let published = cluster.store.version(source.published_version.unwrap()).unwrap().unwrap();
        assert_eq!(published.job_id, jobs[n + 4].id, "the later load of each data source published last");
        assert_eq!(published.entity_count, 50 + n as u64 + 4);
    }
    assert!(cluster.payloads.inputs().unwrap().is_empty(), "inputs go with their jobs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_servers_job_is_taken_over_when_its_lease_runs_out() {
    let cluster = cluster();
    // A server that claimed a load, wrote part of a version, and died.
    let dead = WorkerId::generate();
    let job = cluster.load_job("Shops");
    cluster.spool(&job, 20);
    cluster.store.insert_job(&job).unwrap();
    assert!(cluster.store.claim_job(&job.id, &dead, LEASE).unwrap());
    let schema = Schema::new(
        "Shops",
        vec![
            Property::new("EntityID", EdmType::String),
            Property::new("Latitude", EdmType::Double),
            Property::new("Longitude", EdmType::Double),
        ],
        "EntityID",
    )
    .unwrap();
    let leftover = cluster.store.begin_version(&job.id, &schema).unwrap();
    let stale = Entity {
        id: "stale".into(),
        latitude: 1.0,
        longitude: 1.0,
        bounds: None,
        values: vec![Value::String("stale".into()), Value::Double(1.0), Value::Double(1.0)],
    };
    cluster.store.write_entities(leftover, &[BuiltRecord::Upsert(stale)]).unwrap();
    let claimed_at = Instant::now();

    let (b, _) = cluster.server("b");
    // B starts while the claim is live: the dead run's version is not B's to drop yet.
    assert!(cluster.store.version(leftover).unwrap().is_some());
    let ended = cluster.ended(&job.id, Duration::from_secs(10)).await;
    assert!(claimed_at.elapsed() >= LEASE, "taken over only once the lease ran out");
    assert_eq!(ended.status, JobStatus::Completed, "{:?}", ended.error_message);
    assert_eq!(started(&b), 1);
    assert_eq!(cluster.store.version(leftover).unwrap(), None, "the dead run's version was dropped");
    let source = cluster.store.data_source_by_name(cluster.account, "Shops").unwrap().unwrap();
    let published = source.published_version.unwrap();
    assert_ne!(published, leftover);
    assert_eq!(cluster.store.count_entities(published).unwrap(), 20, "one whole version, from the input");

    // The dead server, were it only stalled, can no longer end the job.
    let refused = cluster.store.finish_job(&job.id, &super::aborted("late".into()), &[], Some(&dead));
    assert!(matches!(refused, Err(sds_store::StoreError::ClaimLost { .. })), "{refused:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_claim_is_respected_and_a_released_one_is_run_at_once() {
    let cluster = cluster();
    let other = WorkerId::generate();
    let job = cluster.load_job("Shops");
    cluster.spool(&job, 10);
    cluster.store.insert_job(&job).unwrap();
    assert!(cluster.store.claim_job(&job.id, &other, Duration::from_secs(600)).unwrap());
    let (b, _) = cluster.server("b");
    b.wake();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(cluster.store.job(&job.id).unwrap().unwrap().status, JobStatus::Pending);
    assert_eq!(started(&b), 0, "another server's live claim is not run");
    cluster.store.release_claim(&job.id, &other).unwrap();
    let released = Instant::now();
    let ended = cluster.ended(&job.id, Duration::from_secs(10)).await;
    assert_eq!(ended.status, JobStatus::Completed);
    assert!(released.elapsed() < Duration::from_secs(3), "a released job is picked up by the next poll");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quotas_hold_under_concurrent_submits_to_two_servers() {
    let cluster = cluster();
    let (a, _) = cluster.server("a");
    let (b, _) = cluster.server("b");
    // Nothing runs, so every accepted job stays in process.
    a.begin_stop();
    b.begin_stop();
    let quota = JobQuota { max_in_process: 3, max_per_day: 0, since: Utc::now(), max_data_sources: 0 };
    let mut submits = Vec::new();
    for n in 0..10 {
        let engine = if n % 2 == 0 { a.clone() } else { b.clone() };
        let job = cluster.load_job(&format!("Shops{n}"));
        submits.push(tokio::spawn(async move { engine.submit(&job, quota).await.unwrap().is_ok() }));
    }
    let mut accepted = 0;
    for submit in submits {
        accepted += usize::from(submit.await.unwrap());
    }
    assert_eq!(accepted, 3);
    assert_eq!(cluster.store.pending_jobs().unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_process_s_change_reaches_the_caches_within_a_second() {
    let cluster = cluster();
    let (b, cache) = cluster.server("b");
    let hash = [9u8; 32];
    let key = cluster.store.add_key(cluster.account, &hash, "xyz").unwrap();
    let record = cluster.store.key(key).unwrap().unwrap();
    let access_id = AccessId::generate();
    let source = sds_core::DataSource {
        id: sds_core::DataSourceId(1),
        access_id: access_id.clone(),
        account_id: cluster.account,
        name: "Shops".into(),
        description: None,
        master_key: cluster.key,
        query_key: None,
        is_public: false,
        published_version: None,
        created: Utc::now(),
        updated: Utc::now(),
    };
    // The watcher has read the counter it waits on.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let generation = b.generation().unwrap();
    cache.remember_data_source(source, generation);
    cache.remember_key(record);
    assert!(cache.data_source(&access_id, generation).is_some());

    // `sds keys revoke` in another process: one commit, nothing else.
    let revoked = Instant::now();
    cluster.store.revoke_key(key, None).unwrap();
    loop {
        let moved = b.generation().is_some_and(|now| now != generation);
        if moved && cache.key(&hash).is_none() {
            break;
        }
        assert!(revoked.elapsed() < Duration::from_secs(1), "the change did not reach the caches within a second");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let now = b.generation().unwrap();
    assert!(cache.data_source(&access_id, now).is_none(), "data sources are read again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_whose_claim_was_taken_over_drops_its_work() {
    let cluster = cluster();
    let (a, _) = cluster.server("a");
    let job = cluster.load_job("Shops");
    cluster.spool(&job, 200_000);
    a.submit(&job, JobQuota::NONE).await.unwrap().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    // Running: it has read rows, so it holds the claim.
    while a.progress(&job.id).is_none_or(|progress| progress.processed == 0) {
        assert!(Instant::now() < deadline, "the load never started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // Another server takes the job over while A still runs it (as if A
    // had stalled past its lease).
    let other = WorkerId::generate();
    cluster.store.release_claim(&job.id, a.worker()).unwrap();
    assert!(cluster.store.claim_job(&job.id, &other, Duration::from_secs(600)).unwrap());
    while a.progress(&job.id).is_some() {
        assert!(Instant::now() < deadline, "A's run never ended");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let after = cluster.store.job(&job.id).unwrap().unwrap();
    assert_eq!(after.status, JobStatus::Pending, "A's commit was refused: {:?}", after.error_message);
    assert_eq!(cluster.store.data_source_by_name(cluster.account, "Shops").unwrap(), None, "nothing published");
    assert_eq!(started(&a), 1);
    cluster.store.release_claim(&job.id, &other).unwrap();
    assert_eq!(cluster.store.discard_building_versions().unwrap(), 0, "A dropped the version it built");
    let inputs: Vec<JobId> = cluster.payloads.inputs().unwrap().into_iter().map(|(job, _)| job).collect();
    assert_eq!(inputs, vec![job.id.clone()], "the input stays for the server that holds the job");
}

/// With several servers on one store, a running job's counts reach the
/// store while it runs (another server answers its status from there),
/// only for the server holding its claim, and its end overwrites them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_jobs_counts_reach_the_store_for_the_other_servers() {
    let cluster = cluster();
    let (a, _) = cluster.server("a");
    let job = cluster.load_job("Shops");
    // Long enough to outlast a progress interval (1 s) or two.
    cluster.spool(&job, 1_000_000);
    a.submit(&job, JobQuota::NONE).await.unwrap().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let seen = loop {
        let stored = cluster.store.job(&job.id).unwrap().unwrap();
        if stored.status != JobStatus::Pending {
            panic!("the load ended before its progress reached the store: {stored:?}");
        }
        if stored.processed_entity_count > 0 {
            break stored;
        }
        assert!(Instant::now() < deadline, "no progress in the store");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(seen.total_entity_count, seen.processed_entity_count, "as the running server shows it");
    assert!(seen.processed_entity_count < 1_000_000);
    // A worker that does not hold the claim writes nothing.
    cluster.store.record_progress(&job.id, &WorkerId::generate(), 7, 7).unwrap();
    assert_ne!(cluster.store.job(&job.id).unwrap().unwrap().failed_entity_count, 7);
    let ended = cluster.ended(&job.id, Duration::from_secs(60)).await;
    assert_eq!(ended.status, JobStatus::Completed, "{:?}", ended.error_message);
    assert_eq!((ended.total_entity_count, ended.processed_entity_count), (1_000_000, 1_000_000));
    assert_eq!(ended.failed_entity_count, 0);
}
