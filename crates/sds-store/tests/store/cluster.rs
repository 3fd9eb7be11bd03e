//! What several servers on one store rely on (`sds_store::cluster`): job
//! claims with leases, fencing of results by the claim, quota-checked
//! inserts and the change counter. Each `pub fn` is one test over a
//! [`Fixture`] that uses only `&dyn Store`; [`cluster_suite!`] runs them all
//! against one store implementation (`sqlite.rs`, `postgres.rs`).

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use chrono::Utc;
use sds_core::job::{DownloadParams, FailedEntity, JobOutcome, JobStatus, LoadParams};
use sds_core::{
    AccessId, AccountId, BuiltRecord, DownloadFormat, EdmType, Entity, InputFormat, Job, JobId, JobKind, JobParams,
    KeyId, LoadOperation, Property, Schema, Value, VersionId, WorkerId,
};
use sds_store::{DataSourceChange, JobQuota, LoadCommit, QuotaRefusal, Store, StoreError};

const LONG: Duration = Duration::from_secs(60);
const SHORT: Duration = Duration::from_millis(300);

/// Runs every cluster test for one backend: `cluster_suite!(module, make)`
/// where `make()` returns `Option<(Arc<dyn Store>, Box<dyn Any + Send +
/// Sync>)>`, the store and what must live as long as it (`None`: skipped).
macro_rules! cluster_suite {
    ($backend:ident, $make:ident) => {
        cluster_suite!(@tests $backend, $make, [
            a_claim_is_exclusive_until_its_lease_runs_out_and_then_fenced,
            a_taken_over_load_starts_clean_and_the_old_runner_cannot_publish,
            a_job_claimed_again_by_its_own_server_starts_clean,
            building_versions_without_a_live_claim_are_discarded_at_start,
            jobs_of_one_data_source_are_claimed_one_at_a_time_in_order,
            a_released_claim_is_claimable_at_once,
            quotas_hold_under_concurrent_inserts,
            pending_loads_of_new_names_count_against_the_data_source_quota,
            the_change_counter_grows_with_every_change_servers_cache,
            no_quota_inserts_every_kind_of_job,
        ], [
            one_first_account_of_many_created_at_once,
        ]);
    };
    (@tests $backend:ident, $make:ident, [$($test:ident),* $(,)?], [$($empty:ident),* $(,)?]) => {
        mod $backend {
            $(
                #[test]
                fn $test() {
                    if let Some((store, keep)) = super::$make() {
                        crate::cluster::$test(&crate::cluster::Fixture::new(store, keep));
                    }
                }
            )*
            // Tests that need the store empty (no fixture account).
            $(
                #[test]
                fn $empty() {
                    if let Some((store, _keep)) = super::$make() {
                        crate::cluster::$empty(store);
                    }
                }
            )*
        }
    };
}
pub(crate) use cluster_suite;

pub struct Fixture {
    store: Arc<dyn Store>,
    account: AccountId,
    key: KeyId,
    _keep: Box<dyn std::any::Any + Send + Sync>,
}

impl Fixture {
    /// The store with account "Contoso" and its key `[1; 32]`; `keep`
    /// lives as long as the fixture (a temporary directory, a database).
    pub fn new(store: Arc<dyn Store>, keep: Box<dyn std::any::Any + Send + Sync>) -> Fixture {
        let account = store.ensure_account("Contoso").unwrap();
        let key = store.add_key(account, &[1; 32], "abc").unwrap();
        Fixture { store, account, key, _keep: keep }
    }
}

fn schema() -> Schema {
    let properties = vec![
        Property::new("EntityID", EdmType::String),
        Property::new("Latitude", EdmType::Double),
        Property::new("Longitude", EdmType::Double),
    ];
    Schema::new("Places", properties, "EntityID").unwrap()
}

fn record(id: &str) -> BuiltRecord {
    BuiltRecord::Upsert(Entity {
        id: id.into(),
        latitude: 47.5,
        longitude: -122.25,
        bounds: None,
        values: vec![Value::String(id.into()), Value::Double(47.5), Value::Double(-122.25)],
    })
}

fn completed() -> JobOutcome {
    JobOutcome {
        status: JobStatus::Completed,
        completed: Utc::now(),
        total_entity_count: 1,
        processed_entity_count: 1,
        failed_entity_count: 0,
        error_message: None,
    }
}

impl Fixture {
    fn new_job(&self, kind: JobKind, name: &str) -> Job {
        let params = match kind {
            JobKind::Download => JobParams::Download(DownloadParams {
                access_id: AccessId::generate(),
                version_id: VersionId(1),
                format: DownloadFormat::Xml,
            }),
            _ => JobParams::Load(LoadParams::plain(LoadOperation::Complete, InputFormat::Csv)),
        };
        Job::pending(self.account, self.key, kind, name, params)
    }

    fn job(&self, kind: JobKind, name: &str) -> Job {
        let job = self.new_job(kind, name);
        self.store.insert_job(&job).unwrap();
        job
    }

    fn commit(&self, job: &Job, version: VersionId, worker: Option<&WorkerId>) -> Result<(), StoreError> {
        let outcome = completed();
        let failures: [FailedEntity; 0] = [];
        self.store
            .commit_load(&LoadCommit {
                job_id: &job.id,
                version_id: version,
                account_id: self.account,
                data_source_name: &job.data_source_name,
                new_access_id: &AccessId::generate(),
                master_key: self.key,
                query_key: None,
                set_public: None,
                description: None,
                stage: false,
                previous_versions_kept: 2,
                outcome: &outcome,
                failures: &failures,
                worker,
            })
            .map(|_| ())
    }
}

pub fn a_claim_is_exclusive_until_its_lease_runs_out_and_then_fenced(f: &Fixture) {
    let store = f.store.as_ref();
    let (a, b) = (WorkerId::generate(), WorkerId::generate());
    let job = f.job(JobKind::Download, "Shops");
    assert!(store.claim_job(&job.id, &a, SHORT).unwrap());
    assert!(!store.claim_job(&job.id, &b, LONG).unwrap(), "a live claim is not taken");
    assert!(store.claim_job(&job.id, &a, SHORT).unwrap(), "the holder renews");
    assert_eq!(store.renew_claims(&a, SHORT).unwrap(), vec![job.id.clone()]);
    assert!(
        matches!(store.finish_job(&job.id, &completed(), &[], None), Err(StoreError::ClaimLost { .. })),
        "nobody but the holder ends a claimed job"
    );

    thread::sleep(SHORT + Duration::from_millis(100));
    assert!(store.claim_job(&job.id, &b, LONG).unwrap(), "an expired claim is taken over");
    assert_eq!(store.renew_claims(&a, SHORT).unwrap(), Vec::<JobId>::new(), "a learns it lost the job");
    let refused = store.finish_job(&job.id, &completed(), &[], Some(&a));
    assert!(matches!(refused, Err(StoreError::ClaimLost { .. })), "{refused:?}");
    assert_eq!(store.job(&job.id).unwrap().unwrap().status, JobStatus::Pending, "the refusal changed nothing");
    store.finish_job(&job.id, &completed(), &[], Some(&b)).unwrap();
    assert_eq!(store.job(&job.id).unwrap().unwrap().status, JobStatus::Completed);
    assert!(!store.claim_job(&job.id, &a, LONG).unwrap(), "an ended job is never claimed");
    assert_eq!(store.renew_claims(&b, LONG).unwrap(), Vec::<JobId>::new());
}

/// A run that failed while the database was away could not drop its
/// version; the same server's next claim of the job (it claims only jobs it
/// does not run) drops it, so the next run starts clean.
pub fn a_job_claimed_again_by_its_own_server_starts_clean(f: &Fixture) {
    let store = f.store.as_ref();
    let a = WorkerId::generate();
    let job = f.job(JobKind::LoadComplete, "Shops");
    assert!(store.claim_job(&job.id, &a, LONG).unwrap());
    let left = store.begin_version(&job.id, &schema()).unwrap();
    store.write_entities(left, &[record("1"), record("2")]).unwrap();
    assert!(store.claim_job(&job.id, &a, LONG).unwrap(), "the holder claims it again");
    assert_eq!(store.version(left).unwrap(), None, "the failed run's version was dropped");
    let fresh = store.begin_version(&job.id, &schema()).unwrap();
    assert_ne!(fresh, left, "version ids are never reused");
    store.write_entities(fresh, &[record("3")]).unwrap();
    f.commit(&job, fresh, Some(&a)).unwrap();
    assert_eq!(store.count_entities(fresh).unwrap(), 1);
    assert_eq!(store.discard_building_versions().unwrap(), 0, "nothing else was left building");
}

pub fn a_taken_over_load_starts_clean_and_the_old_runner_cannot_publish(f: &Fixture) {
    let store = f.store.as_ref();
    let (a, b) = (WorkerId::generate(), WorkerId::generate());
    let job = f.job(JobKind::LoadComplete, "Shops");
    assert!(store.claim_job(&job.id, &a, SHORT).unwrap());
    let left = store.begin_version(&job.id, &schema()).unwrap();
    store.write_entities(left, &[record("1"), record("2")]).unwrap();
    // Another server starting now leaves a version under a live claim alone.
    assert_eq!(store.discard_building_versions().unwrap(), 0);
    assert!(store.version(left).unwrap().is_some());

    thread::sleep(SHORT + Duration::from_millis(100));
    assert!(store.claim_job(&job.id, &b, LONG).unwrap());
    assert_eq!(store.version(left).unwrap(), None, "the dead run's version went with the takeover");
    assert!(store.write_entities(left, &[record("3")]).is_err(), "the old runner writes nowhere");
    let fresh = store.begin_version(&job.id, &schema()).unwrap();
    store.write_entities(fresh, &[record("1")]).unwrap();
    let refused = f.commit(&job, fresh, Some(&a));
    assert!(matches!(refused, Err(StoreError::ClaimLost { .. })), "{refused:?}");
    assert_eq!(store.data_source_by_name(f.account, "Shops").unwrap(), None, "nothing published");
    f.commit(&job, fresh, Some(&b)).unwrap();
    let source = store.data_source_by_name(f.account, "shops").unwrap().unwrap();
    assert_eq!(source.published_version, Some(fresh));

    // A lifecycle commit is fenced the same way.
    let delete = f.job(JobKind::Delete, "Shops");
    assert!(store.claim_job(&delete.id, &a, LONG).unwrap());
    let refused = store.commit_change(&delete.id, source.id, &DataSourceChange::Delete, &completed(), Some(&b));
    assert!(matches!(refused, Err(StoreError::ClaimLost { .. })), "{refused:?}");
    assert!(store.data_source_by_name(f.account, "Shops").unwrap().is_some());
    store.commit_change(&delete.id, source.id, &DataSourceChange::Delete, &completed(), Some(&a)).unwrap();
    assert!(store.data_source_by_name(f.account, "Shops").unwrap().is_none());
}

pub fn building_versions_without_a_live_claim_are_discarded_at_start(f: &Fixture) {
    let store = f.store.as_ref();
    let a = WorkerId::generate();
    let (unclaimed, expired, live) = (
        f.job(JobKind::LoadComplete, "One"),
        f.job(JobKind::LoadComplete, "Two"),
        f.job(JobKind::LoadComplete, "Three"),
    );
    assert!(store.claim_job(&expired.id, &a, Duration::from_millis(1)).unwrap());
    assert!(store.claim_job(&live.id, &a, LONG).unwrap());
    let versions: Vec<VersionId> =
        [&unclaimed, &expired, &live].iter().map(|job| store.begin_version(&job.id, &schema()).unwrap()).collect();
    thread::sleep(Duration::from_millis(20));
    assert_eq!(store.discard_building_versions().unwrap(), 2);
    assert_eq!(store.version(versions[0]).unwrap(), None);
    assert_eq!(store.version(versions[1]).unwrap(), None);
    assert!(store.version(versions[2]).unwrap().is_some(), "another server's version in flight stays");
}

pub fn jobs_of_one_data_source_are_claimed_one_at_a_time_in_order(f: &Fixture) {
    let store = f.store.as_ref();
    let (a, b) = (WorkerId::generate(), WorkerId::generate());
    let first = f.job(JobKind::LoadComplete, "Shops");
    let second = f.job(JobKind::Delete, "SHOPS");
    let download = f.job(JobKind::Download, "Shops");
    let other = f.job(JobKind::LoadComplete, "Parks");
    assert!(!store.claim_job(&second.id, &b, LONG).unwrap(), "an older job of the data source is pending");
    assert!(store.claim_job(&first.id, &a, LONG).unwrap());
    assert!(!store.claim_job(&second.id, &b, LONG).unwrap(), "the data source is busy on another server");
    assert!(store.claim_job(&download.id, &b, LONG).unwrap(), "downloads do not wait");
    assert!(store.claim_job(&other.id, &b, LONG).unwrap(), "another data source does not wait");
    store.finish_job(&first.id, &completed(), &[], Some(&a)).unwrap();
    assert!(store.claim_job(&second.id, &b, LONG).unwrap(), "its turn once the older job ended");

    // Another account's data source of the same name is another data source.
    let other_account = store.ensure_account("Fabrikam").unwrap();
    let mut foreign = f.new_job(JobKind::LoadComplete, "Shops");
    foreign.account_id = other_account;
    store.insert_job(&foreign).unwrap();
    assert!(store.claim_job(&foreign.id, &a, LONG).unwrap());
}

pub fn a_released_claim_is_claimable_at_once(f: &Fixture) {
    let store = f.store.as_ref();
    let (a, b) = (WorkerId::generate(), WorkerId::generate());
    let job = f.job(JobKind::LoadComplete, "Shops");
    assert!(store.claim_job(&job.id, &a, LONG).unwrap());
    store.release_claim(&job.id, &b).unwrap();
    assert!(!store.claim_job(&job.id, &b, LONG).unwrap(), "only the holder releases");
    store.release_claim(&job.id, &a).unwrap();
    assert_eq!(store.job(&job.id).unwrap().unwrap().status, JobStatus::Pending);
    assert!(store.claim_job(&job.id, &b, LONG).unwrap());
    let other = f.job(JobKind::Download, "Shops");
    assert!(store.claim_job(&other.id, &a, LONG).unwrap());
    assert_eq!(store.release_all_claims().unwrap(), 2);
    assert!(store.claim_job(&job.id, &a, LONG).unwrap());
    assert_eq!(store.renew_claims(&b, LONG).unwrap(), Vec::<JobId>::new());
}

/// Servers started at once on one empty database: exactly one creates the
/// first account and its keys.
pub fn one_first_account_of_many_created_at_once(store: Arc<dyn Store>) {
    let start = std::sync::Barrier::new(6);
    let created: Vec<bool> = thread::scope(|scope| {
        let threads: Vec<_> = (0..6u8)
            .map(|n| {
                let (store, start) = (Arc::clone(&store), &start);
                let keys = [([n; 32], format!("m{n}")), ([n + 100; 32], format!("q{n}"))];
                // Warm a connection first, so that the calls really overlap.
                store.accounts().unwrap();
                scope.spawn(move || {
                    start.wait();
                    store.create_first_account("default", &keys).unwrap().is_some()
                })
            })
            .collect();
        threads.into_iter().map(|thread| thread.join().unwrap()).collect()
    });
    assert_eq!(created.iter().filter(|&&created| created).count(), 1, "{created:?}");
    let accounts = store.accounts().unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0].name, "default");
    assert_eq!(accounts[0].keys.len(), 2, "only the winner's two keys");
    let winner = created.iter().position(|&created| created).unwrap() as u8;
    assert!(store.key_by_hash(&[winner; 32]).unwrap().is_some());
    assert_eq!(store.create_first_account("other", &[([200; 32], "x".into())]).unwrap(), None);
    assert_eq!(store.accounts().unwrap().len(), 1);
}

pub fn quotas_hold_under_concurrent_inserts(f: &Fixture) {
    let quota = JobQuota { max_in_process: 3, max_per_day: 0, since: Utc::now(), max_data_sources: 0 };
    let inserted: usize = thread::scope(|scope| {
        let threads: Vec<_> = (0..8)
            .map(|n| {
                let job = f.new_job(JobKind::Delete, &format!("Shops{n}"));
                let store = Arc::clone(&f.store);
                scope.spawn(move || store.insert_job_within(&job, &quota).unwrap().is_ok())
            })
            .collect();
        threads.into_iter().map(|thread| usize::from(thread.join().unwrap())).sum()
    });
    assert_eq!(inserted, 3);
    let refused = f.store.insert_job_within(&f.new_job(JobKind::Delete, "More"), &quota).unwrap();
    assert_eq!(refused, Err(QuotaRefusal::InProcess { count: 3, limit: 3 }));
    assert!(
        f.store.insert_job_within(&f.new_job(JobKind::Download, "More"), &quota).unwrap().is_ok(),
        "downloads are exempt"
    );

    let per_day = JobQuota {
        max_in_process: 0,
        max_per_day: 4,
        since: Utc::now() - chrono::Duration::hours(24),
        max_data_sources: 0,
    };
    assert!(f.store.insert_job_within(&f.new_job(JobKind::Delete, "Last"), &per_day).unwrap().is_ok());
    let refused = f.store.insert_job_within(&f.new_job(JobKind::Delete, "Over"), &per_day).unwrap();
    assert_eq!(refused, Err(QuotaRefusal::PerDay { count: 4, limit: 4 }));
}

pub fn pending_loads_of_new_names_count_against_the_data_source_quota(f: &Fixture) {
    let store = f.store.as_ref();
    let quota = JobQuota { max_in_process: 0, max_per_day: 0, since: Utc::now(), max_data_sources: 2 };
    let a = WorkerId::generate();
    let existing = f.job(JobKind::LoadComplete, "Existing");
    assert!(store.claim_job(&existing.id, &a, LONG).unwrap());
    let version = store.begin_version(&existing.id, &schema()).unwrap();
    store.write_entities(version, &[record("1")]).unwrap();
    f.commit(&existing, version, Some(&a)).unwrap();

    assert!(store.insert_job_within(&f.new_job(JobKind::LoadComplete, "New"), &quota).unwrap().is_ok());
    assert!(
        store.insert_job_within(&f.new_job(JobKind::LoadComplete, "NEW"), &quota).unwrap().is_ok(),
        "the same new name"
    );
    assert!(
        store.insert_job_within(&f.new_job(JobKind::LoadComplete, "existing"), &quota).unwrap().is_ok(),
        "no new data source"
    );
    let refused = store.insert_job_within(&f.new_job(JobKind::LoadCompleteStaging, "Third"), &quota).unwrap();
    assert_eq!(refused, Err(QuotaRefusal::DataSources { count: 2, limit: 2 }));
}

pub fn the_change_counter_grows_with_every_change_servers_cache(f: &Fixture) {
    let store = Arc::clone(&f.store);
    let mut last = store.change_counter().unwrap();
    let grew = |last: &mut u64, what: &str| {
        let now = store.change_counter().unwrap();
        assert!(now > *last, "{what} did not grow the counter");
        *last = now;
    };
    let key = f.store.add_key(f.account, &[2; 32], "def").unwrap();
    grew(&mut last, "add_key");
    let load = f.job(JobKind::LoadComplete, "Shops");
    let version = f.store.begin_version(&load.id, &schema()).unwrap();
    f.store.write_entities(version, &[record("1")]).unwrap();
    assert_eq!(f.store.change_counter().unwrap(), last, "inserting a job and building a version change no cache");
    f.commit(&load, version, None).unwrap();
    grew(&mut last, "commit_load");
    let source = f.store.data_source_by_name(f.account, "Shops").unwrap().unwrap();
    let access = f.job(JobKind::Access, "Shops");
    f.store.commit_change(&access.id, source.id, &DataSourceChange::SetPublic(true), &completed(), None).unwrap();
    grew(&mut last, "commit_change");
    f.store.revoke_key(key, None).unwrap();
    grew(&mut last, "revoke_key");
    let download = f.job(JobKind::Download, "Shops");
    f.store.finish_job(&download.id, &completed(), &[], None).unwrap();
    assert_eq!(f.store.change_counter().unwrap(), last, "a download changes no cache");

    // A waiter wakes when another thread (or server) commits.
    let waiter = {
        let store = Arc::clone(&f.store);
        thread::spawn(move || {
            let started = Instant::now();
            (store.wait_for_change(last, Duration::from_secs(10)).unwrap(), started.elapsed())
        })
    };
    thread::sleep(Duration::from_millis(200));
    let other = f.store.add_key(f.account, &[3; 32], "ghi").unwrap();
    let (seen, waited) = waiter.join().unwrap();
    assert!(seen > last && waited < Duration::from_secs(2), "woke after {waited:?} at {seen}");
    let started = Instant::now();
    assert_eq!(
        f.store.wait_for_change(seen, Duration::from_millis(300)).unwrap(),
        seen,
        "a timeout returns the counter"
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    let _ = other;
}

/// `JobQuota::NONE` (tools, downloads) inserts any job, whatever the
/// account has: its `since` is before any instant a store keeps.
pub fn no_quota_inserts_every_kind_of_job(f: &Fixture) {
    for kind in [JobKind::LoadComplete, JobKind::Delete, JobKind::Download] {
        let job = f.new_job(kind, "Shops");
        assert_eq!(f.store.insert_job_within(&job, &JobQuota::NONE).unwrap(), Ok(()), "{kind:?}");
        assert_eq!(f.store.job(&job.id).unwrap(), Some(job));
    }
}
