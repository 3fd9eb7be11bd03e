//! The store contract, written once and run against every store: each
//! `pub fn` here is one test over a [`Fixture`], and [`store_suite!`]
//! instantiates all of them for one backend (as quickwit's metastore
//! suite does). A backend gives a [`Harness`]: its store, and a way to
//! count a version's entity rows behind the store's back.

use chrono::{DateTime, Duration, Utc};
use sds_core::job::{FailedEntity, JobOutcome, JobStatus, LoadParams};
use sds_core::{
    AccessId, AccountId, BuiltRecord, DownloadParams, EdmType, Entity, InputFormat, Job, JobId, JobKind, JobParams,
    KeyId, LoadOperation, Property, Schema, Value, VersionId, VersionState,
};
use sds_store::{DataSourceChange, LoadCommit, Store, StoreError};

/// One store under test.
pub trait Harness: Send + Sync {
    fn store(&self) -> &dyn Store;
    /// Entity rows of a version, counted behind the store's back.
    fn raw_entity_rows(&self, version: VersionId) -> i64;
}

/// Runs every contract test for one backend: `store_suite!(module, make)`
/// where `make()` returns `Option<Box<dyn Harness>>` (`None`: skipped).
macro_rules! store_suite {
    ($backend:ident, $make:ident) => {
        store_suite!(@tests $backend, $make, [
            accounts_and_keys_round_trip,
            a_labelled_key_keeps_its_label_and_a_taken_hash_is_refused_whole,
            revoking_a_key_can_hand_its_data_sources_to_another,
            jobs_round_trip_and_order,
            complete_loads_publish_demote_and_prune,
            incremental_load_copies_upserts_and_deletes,
            ids_are_case_insensitive_within_a_batch,
            writing_needs_a_building_version,
            discard_drops_only_building_versions,
            an_aborted_load_leaves_the_published_version_alone,
            a_failing_visitor_stops_the_scan,
            dates_round_trip_exactly,
            a_scan_keeps_its_snapshot_while_the_version_is_replaced_and_dropped,
            readers_and_the_writer_run_concurrently,
            staging_publish_rollback_and_delete_change_versions_atomically,
            ids_of_deleted_rows_are_never_handed_out_again,
            account_names_fold_ascii_case_only_and_list_in_that_order,
            data_source_names_and_entity_ids_fold_unicode_case,
            entities_come_back_in_byte_order_of_their_folded_ids,
            job_lists_break_ties_by_submission_order,
            a_refused_load_commit_changes_nothing,
            large_values_round_trip,
            nul_in_names_is_refused_and_in_diagnostics_replaced,
            instants_outside_the_stored_range_are_refused,
            access_ids_of_deleted_data_sources_stay_with_their_account,
            concurrent_commits_of_one_new_data_source_make_one,
        ]);
    };
    (@tests $backend:ident, $make:ident, [$($test:ident),* $(,)?]) => {
        mod $backend {
            $(
                #[test]
                fn $test() {
                    if let Some(harness) = super::$make() {
                        crate::suite::$test(&crate::suite::Fixture::new(harness));
                    }
                }
            )*
        }
    };
}
pub(crate) use store_suite;

pub struct Fixture {
    harness: Box<dyn Harness>,
    pub account: AccountId,
    pub key: KeyId,
}

pub fn schema() -> Schema {
    let properties = vec![
        Property::new("EntityID", EdmType::String),
        Property::new("Name", EdmType::String),
        Property::new("Latitude", EdmType::Double),
        Property::new("Longitude", EdmType::Double),
    ];
    Schema::new("Places", properties, "EntityID").unwrap()
}

pub fn entity(id: &str, name: &str) -> Entity {
    Entity {
        id: id.into(),
        latitude: 47.5,
        longitude: -122.25,
        bounds: None,
        values: vec![Value::String(id.into()), Value::String(name.into()), Value::Double(47.5), Value::Double(-122.25)],
    }
}

pub fn upsert(id: &str, name: &str) -> BuiltRecord {
    BuiltRecord::Upsert(entity(id, name))
}

pub fn outcome(status: JobStatus, processed: u64, failed: u64) -> JobOutcome {
    JobOutcome {
        status,
        completed: Utc::now(),
        total_entity_count: processed + failed,
        processed_entity_count: processed,
        failed_entity_count: failed,
        error_message: None,
    }
}

impl Fixture {
    /// The harness with account "Contoso" and its key `[1; 32]`.
    pub fn new(harness: Box<dyn Harness>) -> Fixture {
        let account = harness.store().ensure_account("Contoso").unwrap();
        let key = harness.store().add_key(account, &[1; 32], "abc").unwrap();
        Fixture { harness, account, key }
    }

    pub fn store(&self) -> &dyn Store {
        self.harness.store()
    }

    /// Entity rows of a version, counted behind the store's back.
    pub fn raw_entity_rows(&self, version: VersionId) -> i64 {
        self.harness.raw_entity_rows(version)
    }

    /// A pending job, stored.
    pub fn job(&self, kind: JobKind, name: &str) -> Job {
        let job = self.unsaved_job(kind, name);
        self.store().insert_job(&job).unwrap();
        job
    }

    pub fn unsaved_job(&self, kind: JobKind, name: &str) -> Job {
        let operation =
            if kind == JobKind::LoadIncremental { LoadOperation::Incremental } else { LoadOperation::Complete };
        Job {
            id: JobId::generate(),
            account_id: self.account,
            key_id: self.key,
            kind,
            status: JobStatus::Pending,
            data_source_name: name.into(),
            params: JobParams::Load(LoadParams {
                operation,
                input: InputFormat::Csv,
                set_public: Some(true),
                query_key: None,
                description: Some("shops".into()),
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
        }
    }

    /// Runs a complete load of `records` into data source `name`, as the job engine would.
    pub fn load(&self, name: &str, records: &[BuiltRecord]) -> (Job, VersionId, sds_core::DataSource) {
        let job = self.job(JobKind::LoadComplete, name);
        let version = self.store().begin_version(&job.id, &schema()).unwrap();
        self.store().write_entities(version, records).unwrap();
        let data_source = self.commit(&job, version, &AccessId::generate(), &[]);
        (job, version, data_source)
    }

    pub fn commit(
        &self,
        job: &Job,
        version: VersionId,
        access_id: &AccessId,
        failures: &[FailedEntity],
    ) -> sds_core::DataSource {
        self.commit_keeping(job, version, access_id, failures, 2)
    }

    pub fn commit_keeping(
        &self,
        job: &Job,
        version: VersionId,
        access_id: &AccessId,
        failures: &[FailedEntity],
        previous_versions_kept: usize,
    ) -> sds_core::DataSource {
        self.try_commit(job, version, access_id, failures, previous_versions_kept).unwrap()
    }

    pub fn try_commit(
        &self,
        job: &Job,
        version: VersionId,
        access_id: &AccessId,
        failures: &[FailedEntity],
        previous_versions_kept: usize,
    ) -> Result<sds_core::DataSource, StoreError> {
        let outcome = outcome(JobStatus::Completed, 3, failures.len() as u64);
        self.store().commit_load(&LoadCommit {
            job_id: &job.id,
            version_id: version,
            account_id: job.account_id,
            data_source_name: &job.data_source_name,
            new_access_id: access_id,
            master_key: job.key_id,
            query_key: None,
            set_public: None,
            description: None,
            stage: false,
            previous_versions_kept,
            outcome: &outcome,
            failures,
        })
    }

    /// `(id, name)` of every entity of a version, in the order read.
    pub fn ids(&self, version: VersionId) -> Vec<(String, String)> {
        let mut seen = Vec::new();
        self.store()
            .for_each_entity(version, &mut |entity| {
                let Value::String(name) = &entity.values[1] else { panic!("name is not a string") };
                seen.push((entity.id.clone(), name.clone()));
                Ok(())
            })
            .unwrap();
        seen
    }
}

pub fn accounts_and_keys_round_trip(f: &Fixture) {
    assert_eq!(f.store().ensure_account("CONTOSO").unwrap(), f.account);
    let other = f.store().ensure_account("Adatum").unwrap();
    assert_ne!(other, f.account);

    let record = f.store().key_by_hash(&[1; 32]).unwrap().unwrap();
    assert_eq!((record.id, record.account_id, record.hint.as_str()), (f.key, f.account, "abc"));
    assert_eq!(record.account_name, "Contoso");
    assert_eq!(f.store().key(f.key).unwrap(), Some(record.clone()));
    assert_eq!(f.store().key_by_hash(&[2; 32]).unwrap(), None);
    assert_eq!(f.store().key(KeyId(999)).unwrap(), None);

    assert!(matches!(f.store().add_key(other, &[1; 32], "dup"), Err(StoreError::Conflict(_))));
    assert!(matches!(f.store().add_key(AccountId(999), &[3; 32], "x"), Err(StoreError::NotFound(_))));
    let second = f.store().add_key(f.account, &[4; 32], "def").unwrap();

    let accounts = f.store().accounts().unwrap();
    let names: Vec<_> = accounts.iter().map(|account| account.name.as_str()).collect();
    assert_eq!(names, ["Adatum", "Contoso"]);
    assert!(accounts[0].keys.is_empty());
    let keys: Vec<_> = accounts[1].keys.iter().map(|key| key.id).collect();
    assert_eq!(keys, [f.key, second]);
    assert_eq!(accounts[1].keys[0], record);
    assert_eq!(record.label, None);
}

pub fn a_labelled_key_keeps_its_label_and_a_taken_hash_is_refused_whole(f: &Fixture) {
    let other = f.store().ensure_account("Adatum").unwrap();
    let id = f.store().add_labelled_key(other, &[8; 32], "lab", Some("web app")).unwrap();
    assert_eq!(f.store().key(id).unwrap().unwrap().label.as_deref(), Some("web app"));
    let taken = f.store().add_labelled_key(other, &[1; 32], "dup", Some("copy"));
    assert!(matches!(taken, Err(StoreError::Conflict(ref message)) if !message.contains("Contoso")), "{taken:?}");
    let labels: Vec<_> = f.store().accounts().unwrap().into_iter().flat_map(|a| a.keys).map(|k| k.label).collect();
    assert_eq!(labels, [Some("web app".to_owned()), None], "Adatum, then Contoso; the refused import left nothing");
}

pub fn revoking_a_key_can_hand_its_data_sources_to_another(f: &Fixture) {
    let (_, _, shops) = f.load("Shops", &[upsert("1", "a")]);
    let (_, _, cafes) = f.load("Cafes", &[upsert("1", "a")]);
    assert_eq!(f.store().key(f.key).unwrap().unwrap().revoked, None);
    let replacement = f.store().add_key(f.account, &[5; 32], "rep").unwrap();
    let stranger_account = f.store().ensure_account("Adatum").unwrap();
    let stranger = f.store().add_key(stranger_account, &[6; 32], "str").unwrap();

    // A key of another account, or the key itself, cannot take over; nothing changes.
    for refused in [stranger, f.key] {
        assert!(matches!(f.store().revoke_key(f.key, Some(refused)), Err(StoreError::Conflict(_))));
        assert_eq!(f.store().key(f.key).unwrap().unwrap().revoked, None, "a refused revocation rolls back");
    }
    assert!(matches!(f.store().revoke_key(KeyId(999), None), Err(StoreError::NotFound(_))));

    let outcome = f.store().revoke_key(f.key, Some(replacement)).unwrap();
    assert_eq!((outcome.transferred, outcome.without_master), (2, 0));
    let record = f.store().key_by_hash(&[1; 32]).unwrap().unwrap();
    assert!(record.revoked.is_some(), "the revoked key is still found, marked revoked");
    for source in [&shops, &cafes] {
        let now = f.store().data_source_by_access_id(&source.access_id).unwrap().unwrap();
        assert_eq!(now.master_key, replacement);
    }

    // Revoking the replacement without a successor leaves both data sources without a master.
    let outcome = f.store().revoke_key(replacement, None).unwrap();
    assert_eq!((outcome.transferred, outcome.without_master), (0, 2));
    // A revoked key cannot take over.
    let third = f.store().add_key(f.account, &[7; 32], "thr").unwrap();
    assert!(matches!(f.store().revoke_key(third, Some(replacement)), Err(StoreError::Conflict(_))));
}

pub fn jobs_round_trip_and_order(f: &Fixture) {
    let first = f.job(JobKind::LoadComplete, "Shops");
    assert_eq!(f.store().job(&first.id).unwrap(), Some(first.clone()));
    assert!(matches!(f.store().insert_job(&first), Err(StoreError::Conflict(_))));
    assert_eq!(f.store().job(&JobId::generate()).unwrap(), None);

    let mut download = first.clone();
    download.id = JobId::generate();
    download.kind = JobKind::Download;
    download.params = JobParams::Download(DownloadParams {
        access_id: AccessId::generate(),
        version_id: VersionId(4),
        format: sds_core::DownloadFormat::GeoJson,
    });
    // Same instant as `first`: order must come from insertion, not the clock.
    f.store().insert_job(&download).unwrap();
    let second = f.job(JobKind::LoadComplete, "SHOPS");
    f.job(JobKind::LoadComplete, "Other");

    let newest = f.store().newest_job(f.account, JobKind::LoadComplete, "shops").unwrap().unwrap();
    assert_eq!(newest.id, second.id);
    assert_eq!(f.store().newest_job(f.account, JobKind::Download, "Shops").unwrap().unwrap(), download);
    assert_eq!(f.store().newest_job(f.account, JobKind::Rollback, "Shops").unwrap(), None);
    assert_eq!(f.store().newest_job(AccountId(999), JobKind::LoadComplete, "Shops").unwrap(), None);

    let pending: Vec<_> = f.store().pending_jobs().unwrap().into_iter().map(|job| job.id).collect();
    assert_eq!(pending.len(), 4);
    assert_eq!(pending[..3], [first.id.clone(), download.id.clone(), second.id.clone()]);

    let failures = vec![
        FailedEntity { line: 7, entity_id: Some("x".into()), reason: "bad latitude".into() },
        FailedEntity { line: 3, entity_id: None, reason: "no id".into() },
    ];
    let mut ended = outcome(JobStatus::Aborted, 10, 2);
    ended.error_message = Some("too many failures".into());
    f.store().finish_job(&first.id, &ended, &failures, None).unwrap();
    assert_eq!(f.store().job_failures(&first.id).unwrap(), failures);
    assert_eq!(f.store().job_failures(&second.id).unwrap(), vec![]);

    let stored = f.store().job(&first.id).unwrap().unwrap();
    let expected = Job {
        status: JobStatus::Aborted,
        completed: Some(ended.completed),
        total_entity_count: 12,
        processed_entity_count: 10,
        failed_entity_count: 2,
        error_message: Some("too many failures".into()),
        ..first.clone()
    };
    assert_eq!(stored, expected);
    let pending = f.store().pending_jobs().unwrap();
    assert_eq!(pending.len(), 3);
    assert_eq!(pending[0].id, download.id);

    // Finishing again replaces the failures instead of appending to them.
    f.store().finish_job(&first.id, &ended, &failures[..1], None).unwrap();
    assert_eq!(f.store().job_failures(&first.id).unwrap(), failures[..1]);
    assert!(matches!(f.store().finish_job(&JobId::generate(), &ended, &[], None), Err(StoreError::NotFound(_))));
}

pub fn complete_loads_publish_demote_and_prune(f: &Fixture) {
    let access_id = AccessId::generate();
    let job1 = f.job(JobKind::LoadComplete, "Shops");
    let v1 = f.store().begin_version(&job1.id, &schema()).unwrap();
    f.store().write_entities(v1, &[upsert("1", "one"), upsert("2", "two")]).unwrap();
    assert_eq!(f.store().data_source_by_name(f.account, "shops").unwrap(), None);
    let failures = [FailedEntity { line: 4, entity_id: Some("3".into()), reason: "bad".into() }];
    let created = f.commit(&job1, v1, &access_id, &failures);

    assert_eq!(created.access_id, access_id);
    assert_eq!(created.name, "Shops");
    assert_eq!(created.master_key, f.key);
    assert!(!created.is_public);
    assert_eq!(created.published_version, Some(v1));
    assert_eq!(f.store().data_source_by_name(f.account, "SHOPS").unwrap(), Some(created.clone()));
    assert_eq!(f.store().data_source_by_access_id(&access_id).unwrap(), Some(created.clone()));
    let version = f.store().version(v1).unwrap().unwrap();
    assert_eq!(
        (version.state, version.entity_count, version.data_source_id),
        (VersionState::Published, 2, Some(created.id))
    );
    assert_eq!(version.schema, schema());
    let job = f.store().job(&job1.id).unwrap().unwrap();
    assert_eq!((job.status, job.result_access_id.as_ref()), (JobStatus::Completed, Some(&access_id)));
    assert_eq!(job.failed_entity_count, 1);
    assert_eq!(f.store().job_failures(&job1.id).unwrap(), failures);
    assert!(matches!(f.commit_load_again(&job1, v1), Err(StoreError::Conflict(_))));

    // Second load: same access id and master key, even though it offers others.
    let job2 = f.job(JobKind::LoadComplete, "shops");
    let v2 = f.store().begin_version(&job2.id, &schema()).unwrap();
    f.store().write_entities(v2, &[upsert("9", "nine")]).unwrap();
    let other_key = f.store().add_key(f.account, &[5; 32], "zzz").unwrap();
    let later = outcome(JobStatus::Completed, 1, 0);
    let updated = f
        .store()
        .commit_load(&LoadCommit {
            job_id: &job2.id,
            version_id: v2,
            account_id: f.account,
            data_source_name: "shops",
            new_access_id: &AccessId::generate(),
            master_key: other_key,
            query_key: Some(other_key),
            set_public: Some(true),
            description: Some("coffee"),
            previous_versions_kept: 2,
            stage: false,
            outcome: &later,
            failures: &[],
            worker: None,
        })
        .unwrap();
    assert_eq!((updated.id, &updated.access_id, updated.master_key), (created.id, &access_id, f.key));
    assert_eq!(
        (updated.query_key, updated.is_public, updated.description.as_deref()),
        (Some(other_key), true, Some("coffee"))
    );
    assert_eq!(
        (updated.published_version, updated.created, updated.updated),
        (Some(v2), created.created, later.completed)
    );
    assert_eq!(f.store().version(v1).unwrap().unwrap().state, VersionState::Previous);
    assert_eq!(f.store().version_by_job(&access_id, &job1.id).unwrap().unwrap().id, v1);
    assert_eq!(f.store().version_by_job(&access_id, &job2.id).unwrap().unwrap().id, v2);
    assert_eq!(f.store().version_by_job(&AccessId::generate(), &job2.id).unwrap(), None);

    // Third and fourth loads: only the two newest rollback targets stay.
    let (job3, v3, _) = f.load("Shops", &[upsert("a", "x")]);
    assert_eq!(f.store().version(v1).unwrap().unwrap().state, VersionState::Previous);
    let (_, v4, latest) = f.load("Shops", &[upsert("b", "y")]);
    assert_eq!(latest.access_id, access_id);
    assert_eq!(latest.published_version, Some(v4));
    assert_eq!(f.store().version(v1).unwrap(), None);
    assert_eq!(f.raw_entity_rows(v1), 0);
    assert_eq!(f.store().version_by_job(&access_id, &job1.id).unwrap(), None);
    assert_eq!(f.store().version(v2).unwrap().unwrap().state, VersionState::Previous);
    assert_eq!(f.store().version(v3).unwrap().unwrap().state, VersionState::Previous);
    assert_eq!(f.store().version_by_job(&access_id, &job3.id).unwrap().unwrap().id, v3);
    assert_eq!(f.raw_entity_rows(v2), 1);
    assert_eq!(f.ids(v4), [("b".to_string(), "y".to_string())]);

    let (_, v5, _) = f.load("Shops", &[]);
    assert_eq!(f.store().version(v2).unwrap(), None);
    assert_eq!(f.raw_entity_rows(v2), 0);
    assert_eq!(f.store().version(v5).unwrap().unwrap().entity_count, 0);
}

impl Fixture {
    fn commit_load_again(&self, job: &Job, version: VersionId) -> Result<sds_core::DataSource, StoreError> {
        let outcome = outcome(JobStatus::Completed, 0, 0);
        self.store().commit_load(&LoadCommit {
            job_id: &job.id,
            version_id: version,
            account_id: self.account,
            data_source_name: &job.data_source_name,
            new_access_id: &AccessId::generate(),
            master_key: self.key,
            query_key: None,
            set_public: None,
            description: None,
            previous_versions_kept: 2,
            stage: false,
            outcome: &outcome,
            failures: &[],
            worker: None,
        })
    }
}

pub fn incremental_load_copies_upserts_and_deletes(f: &Fixture) {
    let (_, base, _) = f.load("Shops", &[upsert("A", "a"), upsert("B", "b"), upsert("C", "c")]);

    let job = f.job(JobKind::LoadIncremental, "Shops");
    let version = f.store().begin_version(&job.id, &schema()).unwrap();
    assert_eq!(f.store().copy_entities(base, version).unwrap(), 3);
    f.store()
        .write_entities(
            version,
            &[upsert("b", "b2"), BuiltRecord::Delete { id: "c".into() }, BuiltRecord::Delete { id: "zz".into() }],
        )
        .unwrap();
    f.store().write_entities(version, &[upsert("D", "d"), upsert("d", "d2")]).unwrap();
    assert_eq!(f.store().count_entities(version).unwrap(), 3);
    let published = f.commit(&job, version, &AccessId::generate(), &[]);

    assert_eq!(published.published_version, Some(version));
    let expected = [("A", "a"), ("b", "b2"), ("d", "d2")].map(|(id, name)| (id.to_string(), name.to_string()));
    assert_eq!(f.ids(version), expected);
    assert_eq!(f.store().version(version).unwrap().unwrap().entity_count, 3);
    // The base is untouched.
    assert_eq!(f.ids(base).len(), 3);
}

pub fn ids_are_case_insensitive_within_a_batch(f: &Fixture) {
    let (_, version, _) = f.load("Shops", &[upsert("Key", "first"), upsert("KEY", "second"), upsert("kéy", "third")]);
    let ids = f.ids(version);
    assert_eq!(ids, [("KEY".to_string(), "second".to_string()), ("kéy".to_string(), "third".to_string())]);
}

pub fn writing_needs_a_building_version(f: &Fixture) {
    let (_, published, _) = f.load("Shops", &[upsert("1", "one")]);
    assert!(matches!(f.store().write_entities(published, &[upsert("2", "two")]), Err(StoreError::Conflict(_))));
    assert!(matches!(f.store().write_entities(VersionId(999), &[]), Err(StoreError::NotFound(_))));
    assert!(matches!(f.store().copy_entities(VersionId(999), published), Err(StoreError::NotFound(_))));
    assert!(matches!(f.store().count_entities(VersionId(999)), Err(StoreError::NotFound(_))));
    assert_eq!(f.ids(published).len(), 1);
}

pub fn discard_drops_only_building_versions(f: &Fixture) {
    let (_, published, _) = f.load("Shops", &[upsert("1", "one")]);
    let job = f.job(JobKind::LoadComplete, "Shops");
    let building = f.store().begin_version(&job.id, &schema()).unwrap();
    f.store().copy_entities(published, building).unwrap();
    let other = f.store().begin_version(&f.job(JobKind::LoadComplete, "Other").id, &schema()).unwrap();

    assert_eq!(f.store().discard_building_versions().unwrap(), 2);
    assert_eq!(f.store().version(building).unwrap(), None);
    assert_eq!(f.store().version(other).unwrap(), None);
    assert_eq!(f.raw_entity_rows(building), 0);
    assert_eq!(f.store().version(published).unwrap().unwrap().state, VersionState::Published);
    assert_eq!(f.ids(published).len(), 1);
    assert_eq!(f.store().discard_building_versions().unwrap(), 0);
}

pub fn an_aborted_load_leaves_the_published_version_alone(f: &Fixture) {
    let (_, published, before) = f.load("Shops", &[upsert("1", "one")]);
    let job = f.job(JobKind::LoadComplete, "Shops");
    let building = f.store().begin_version(&job.id, &schema()).unwrap();
    f.store().write_entities(building, &[upsert("2", "two")]).unwrap();
    assert_eq!(f.store().data_source_by_name(f.account, "Shops").unwrap(), Some(before.clone()));
    assert_eq!(f.store().version_by_job(&before.access_id, &job.id).unwrap(), None);

    f.store().finish_job(&job.id, &outcome(JobStatus::Aborted, 0, 0), &[], None).unwrap();
    assert_eq!(f.store().version(building).unwrap().unwrap().state, VersionState::Building);
    f.store().discard_version(building).unwrap();
    f.store().discard_version(building).unwrap();
    assert!(matches!(f.store().discard_version(published), Err(StoreError::Conflict(_))));

    assert_eq!(f.store().data_source_by_name(f.account, "Shops").unwrap(), Some(before.clone()));
    assert_eq!(f.store().data_source_by_access_id(&before.access_id).unwrap(), Some(before));
    assert_eq!(f.ids(published), [("1".to_string(), "one".to_string())]);
    assert_eq!(f.store().version(building).unwrap(), None);
    assert_eq!(f.raw_entity_rows(building), 0);
    assert_eq!(f.store().job(&job.id).unwrap().unwrap().status, JobStatus::Aborted);
}

pub fn a_failing_visitor_stops_the_scan(f: &Fixture) {
    let records: Vec<_> = (0..10).map(|index| upsert(&format!("{index:02}"), "n")).collect();
    let (_, version, _) = f.load("Shops", &records);
    let mut seen = Vec::new();
    let result = f.store().for_each_entity(version, &mut |entity| {
        seen.push(entity.id);
        if seen.len() == 3 {
            return Err(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"));
        }
        Ok(())
    });
    assert!(matches!(result, Err(StoreError::Visitor(error)) if error.kind() == std::io::ErrorKind::BrokenPipe));
    assert_eq!(seen, ["00", "01", "02"]);
    assert_eq!(f.store().for_each_entity(version, &mut |_| Ok(())).unwrap(), 10);
    assert!(matches!(f.store().for_each_entity(VersionId(999), &mut |_| Ok(())), Err(StoreError::NotFound(_))));
}

pub fn dates_round_trip_exactly(f: &Fixture) {
    let mut job = f.job(JobKind::LoadComplete, "Dates");
    job.id = JobId::generate();
    job.created = Utc::now() - Duration::nanoseconds(123_456_789_123);
    job.completed = Some(job.created + Duration::nanoseconds(1));
    f.store().insert_job(&job).unwrap();
    assert_eq!(f.store().job(&job.id).unwrap(), Some(job));
}

pub fn a_scan_keeps_its_snapshot_while_the_version_is_replaced_and_dropped(f: &Fixture) {
    let records: Vec<_> = (0..500).map(|index| upsert(&format!("{index:04}"), "old")).collect();
    let (_, old, _) = f.load("Shops", &records);
    let mut visited = 0;
    f.store()
        .for_each_entity(old, &mut |entity| {
            if visited == 0 {
                // Writes go on while the scan holds its read transaction.
                let job = f.job(JobKind::LoadComplete, "Shops");
                let version = f.store().begin_version(&job.id, &schema()).unwrap();
                f.store().write_entities(version, &[upsert("new", "new")]).unwrap();
                f.commit_keeping(&job, version, &AccessId::generate(), &[], 0);
                assert_eq!(f.store().version(old).unwrap(), None);
            }
            assert_eq!(entity.values[1], Value::String("old".into()));
            visited += 1;
            Ok(())
        })
        .unwrap();
    assert_eq!(visited, 500);
    assert_eq!(f.raw_entity_rows(old), 0);
}

pub fn readers_and_the_writer_run_concurrently(f: &Fixture) {
    let records: Vec<_> = (0..2_000).map(|index| upsert(&format!("{index}"), "n")).collect();
    let (_, version, data_source) = f.load("Shops", &records);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..5 {
                    assert_eq!(f.store().for_each_entity(version, &mut |_| Ok(())).unwrap(), 2_000);
                    assert!(f.store().data_source_by_access_id(&data_source.access_id).unwrap().is_some());
                }
            });
        }
        scope.spawn(|| {
            for round in 0..5 {
                f.load(&format!("Other{round}"), &records[..100]);
            }
        });
    });
    assert_eq!(f.store().pending_jobs().unwrap(), vec![]);
}

pub fn staging_publish_rollback_and_delete_change_versions_atomically(f: &Fixture) {
    let (first_job, first, source) = f.load("Shops", &[upsert("1", "one")]);
    let staging = f.job(JobKind::LoadCompleteStaging, "Shops");
    let staged = f.store().begin_version(&staging.id, &schema()).unwrap();
    f.store().write_entities(staged, &[upsert("2", "two")]).unwrap();
    f.store()
        .commit_load(&LoadCommit {
            job_id: &staging.id,
            version_id: staged,
            account_id: f.account,
            data_source_name: "Shops",
            new_access_id: &AccessId::generate(),
            master_key: f.key,
            query_key: None,
            set_public: None,
            description: None,
            stage: true,
            previous_versions_kept: 2,
            outcome: &outcome(JobStatus::Completed, 1, 0),
            failures: &[],
            worker: None,
        })
        .unwrap();
    let after_staging = f.store().data_source_by_access_id(&source.access_id).unwrap().unwrap();
    assert_eq!(after_staging.published_version, Some(first), "staging leaves the published version");
    let states: Vec<_> = f.store().versions_of(source.id).unwrap().iter().map(|version| version.state).collect();
    assert_eq!(states, [VersionState::Published, VersionState::Staged]);

    let publish = f.job(JobKind::PublishFromStaged, "Shops");
    let change = DataSourceChange::PublishStaged { previous_versions_kept: 2 };
    f.store().commit_change(&publish.id, source.id, &change, &outcome(JobStatus::Completed, 0, 0), None).unwrap();
    assert_eq!(f.store().data_source_by_access_id(&source.access_id).unwrap().unwrap().published_version, Some(staged));
    assert_eq!(f.store().job(&publish.id).unwrap().unwrap().status, JobStatus::Completed);
    // Publishing again has nothing to publish: refused, nothing changes.
    let again = f.job(JobKind::PublishFromStaged, "Shops");
    assert!(matches!(
        f.store().commit_change(&again.id, source.id, &change, &outcome(JobStatus::Completed, 0, 0), None),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(f.store().job(&again.id).unwrap().unwrap().status, JobStatus::Pending);

    let rollback = f.job(JobKind::Rollback, "Shops");
    let target = f.store().version_by_job(&source.access_id, &first_job.id).unwrap().unwrap();
    let change = DataSourceChange::Rollback { target: target.id, previous_versions_kept: 2 };
    f.store().commit_change(&rollback.id, source.id, &change, &outcome(JobStatus::Completed, 0, 0), None).unwrap();
    assert_eq!(f.store().data_source_by_access_id(&source.access_id).unwrap().unwrap().published_version, Some(first));
    assert_eq!(f.store().version(staged).unwrap().unwrap().state, VersionState::Previous);

    let delete = f.job(JobKind::Delete, "Shops");
    f.store()
        .commit_change(&delete.id, source.id, &DataSourceChange::Delete, &outcome(JobStatus::Completed, 0, 0), None)
        .unwrap();
    assert_eq!(f.store().data_source_by_access_id(&source.access_id).unwrap(), None);
    assert_eq!(f.raw_entity_rows(first) + f.raw_entity_rows(staged), 0);
    assert_eq!(f.store().version(first).unwrap(), None);
}

/// Deleting the newest data source, with the newest version, frees no id:
/// what loads next gets new ones (caches and jobs name rows by these ids).
pub fn ids_of_deleted_rows_are_never_handed_out_again(f: &Fixture) {
    let (_, version, source) = f.load("Shops", &[upsert("1", "one")]);
    let delete = f.job(JobKind::Delete, "Shops");
    f.store()
        .commit_change(&delete.id, source.id, &DataSourceChange::Delete, &outcome(JobStatus::Completed, 0, 0), None)
        .unwrap();
    assert_eq!(f.store().version(version).unwrap(), None);
    let (_, next_version, next_source) = f.load("Shops", &[upsert("1", "one")]);
    assert!(next_version > version, "{next_version} after {version}");
    assert!(next_source.id > source.id, "{} after {}", next_source.id, source.id);
}

// The differences a second backend could hide, pinned for every store.

/// Account names fold ASCII letters only (SQLite's `NOCASE`, which the
/// first stores used), and list by the folded name's bytes.
pub fn account_names_fold_ascii_case_only_and_list_in_that_order(f: &Fixture) {
    let store = f.store();
    assert_eq!(store.ensure_account("CONTOSO").unwrap(), f.account);
    let upper = store.ensure_account("Ärger").unwrap();
    let lower = store.ensure_account("ärger").unwrap();
    assert_ne!(upper, lower, "only ASCII letters fold");
    let bravo = store.ensure_account("bravo").unwrap();
    assert_eq!(store.ensure_account("BRAVO").unwrap(), bravo);
    store.ensure_account("_under").unwrap();
    store.ensure_account("Zulu").unwrap();
    let names: Vec<String> = store.accounts().unwrap().into_iter().map(|account| account.name).collect();
    assert_eq!(names, ["_under", "bravo", "Contoso", "Zulu", "Ärger", "ärger"]);
}

/// Data source names and entity IDs fold with Unicode lowercase
/// (`DataSource::name_key`, `Entity::key_of`), within a batch and across batches.
pub fn data_source_names_and_entity_ids_fold_unicode_case(f: &Fixture) {
    let (_, _, café) = f.load("Café", &[upsert("1", "one")]);
    assert_eq!(f.store().data_source_by_name(f.account, "CAFÉ").unwrap(), Some(café.clone()));
    let (job, version, again) = f.load("cAFÉ", &[upsert("2", "two")]);
    assert_eq!((again.id, again.name.as_str()), (café.id, "Café"), "one data source, first spelling kept");
    assert_eq!(f.store().newest_job(f.account, JobKind::LoadComplete, "CAFÉ").unwrap().unwrap().id, job.id);
    assert_eq!(f.store().version(version).unwrap().unwrap().data_source_id, Some(café.id));

    let job = f.job(JobKind::LoadComplete, "Ids");
    let version = f.store().begin_version(&job.id, &schema()).unwrap();
    let batch = ["STRASSE", "straße", "Ärger", "ärger", "ÉTÉ", "été"].map(|id| upsert(id, id));
    f.store().write_entities(version, &batch).unwrap();
    f.store().write_entities(version, &[upsert("ÄRGER", "later")]).unwrap();
    let ids = f.ids(version);
    let expected = [("STRASSE", "STRASSE"), ("straße", "straße"), ("ÄRGER", "later"), ("été", "été")];
    assert_eq!(ids, expected.map(|(id, name)| (id.to_string(), name.to_string())));
}

/// A version reads back in the byte order of its folded IDs (SQLite's
/// `BINARY`; PostgreSQL's `COLLATE "C"`), whatever the database's locale.
pub fn entities_come_back_in_byte_order_of_their_folded_ids(f: &Fixture) {
    let job = f.job(JobKind::LoadComplete, "Order");
    let version = f.store().begin_version(&job.id, &schema()).unwrap();
    f.store().write_entities(version, &["b", "A", "_x", "a1", "Z"].map(|id| upsert(id, "n"))).unwrap();
    f.store().write_entities(version, &["é", "10", "9", "a-b", "a b"].map(|id| upsert(id, "n"))).unwrap();
    let ids: Vec<String> = f.ids(version).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["10", "9", "_x", "A", "a b", "a-b", "a1", "b", "Z", "é"]);
}

/// Jobs created at the same instant list in submission order: pending
/// first, then newest submitted first; `since` is inclusive.
pub fn job_lists_break_ties_by_submission_order(f: &Fixture) {
    f.store().ready().unwrap();
    let created = Utc::now();
    let mut jobs = Vec::new();
    for (index, name) in ["A", "B", "C", "D"].into_iter().enumerate() {
        let mut job = f.unsaved_job(JobKind::LoadComplete, name);
        job.created = created;
        f.store().insert_job(&job).unwrap();
        jobs.push(job);
        if index == 1 {
            let mut download = f.unsaved_job(JobKind::Download, name);
            download.created = created;
            download.params = JobParams::Download(DownloadParams {
                access_id: AccessId::generate(),
                version_id: VersionId(1),
                format: sds_core::DownloadFormat::Csv,
            });
            f.store().insert_job(&download).unwrap();
            jobs.push(download);
        }
    }
    let [a, b, download, c, d] = [0, 1, 2, 3, 4].map(|index| jobs[index].id.clone());
    f.store().finish_job(&b, &outcome(JobStatus::Completed, 1, 0), &[], None).unwrap();
    f.store().finish_job(&d, &outcome(JobStatus::Aborted, 0, 0), &[], None).unwrap();

    let listed: Vec<JobId> =
        f.store().account_jobs(f.account, created).unwrap().into_iter().map(|job| job.id).collect();
    assert_eq!(listed, [c.clone(), a.clone(), d, b]);
    let pending: Vec<JobId> = f.store().pending_jobs().unwrap().into_iter().map(|job| job.id).collect();
    assert_eq!(pending, [a, download, c]);
    let counts = f.store().job_counts(f.account, created).unwrap();
    assert_eq!((counts.pending, counts.created_since), (2, 4));
    let later = f.store().job_counts(f.account, created + Duration::nanoseconds(1)).unwrap();
    assert_eq!((later.pending, later.created_since), (2, 0));
    assert_eq!(f.store().account_jobs(f.account, created + Duration::nanoseconds(1)).unwrap(), vec![]);
}

/// A commit that fails at its last step (storing a failure whose line
/// does not fit) leaves everything as it was: one transaction.
pub fn a_refused_load_commit_changes_nothing(f: &Fixture) {
    let (_, first, before) = f.load("Shops", &[upsert("1", "one")]);
    let (_, second, _) = f.load("Shops", &[upsert("2", "two")]);
    let (_, third, before) = {
        let (job, version, source) = f.load("Shops", &[upsert("3", "three")]);
        assert_eq!(source.id, before.id);
        (job, version, source)
    };
    let job = f.job(JobKind::LoadComplete, "Shops");
    let building = f.store().begin_version(&job.id, &schema()).unwrap();
    f.store().write_entities(building, &[upsert("4", "four")]).unwrap();
    let unstorable = [FailedEntity { line: u64::MAX, entity_id: None, reason: "far away".into() }];
    let refused = f.try_commit(&job, building, &AccessId::generate(), &unstorable, 1);
    assert!(matches!(refused, Err(StoreError::Invalid(_))), "{refused:?}");

    assert_eq!(f.store().data_source_by_access_id(&before.access_id).unwrap(), Some(before.clone()));
    assert_eq!(f.store().job(&job.id).unwrap().unwrap().status, JobStatus::Pending);
    assert_eq!(f.store().job_failures(&job.id).unwrap(), vec![]);
    let state = |version| f.store().version(version).unwrap().map(|version| version.state);
    assert_eq!(
        [state(first), state(second), state(third), state(building)],
        [
            Some(VersionState::Previous),
            Some(VersionState::Previous),
            Some(VersionState::Published),
            Some(VersionState::Building)
        ]
    );
    assert_eq!(f.raw_entity_rows(first), 1, "the rollback target beyond the one kept was not dropped");

    // The same for a delete whose outcome cannot be stored: the data source stays whole.
    let delete = f.job(JobKind::Delete, "Shops");
    let mut unstorable = outcome(JobStatus::Completed, 0, 0);
    unstorable.total_entity_count = u64::MAX;
    let refused = f.store().commit_change(&delete.id, before.id, &DataSourceChange::Delete, &unstorable, None);
    assert!(matches!(refused, Err(StoreError::Invalid(_))), "{refused:?}");
    assert_eq!(f.store().access_id_retired_by(&before.access_id).unwrap(), None);
    assert_eq!(f.store().data_source_by_access_id(&before.access_id).unwrap(), Some(before));
    assert_eq!(f.ids(third), [("3".to_string(), "three".to_string())]);
    assert_eq!(f.store().job(&delete.id).unwrap().unwrap().status, JobStatus::Pending);
}

/// Large values come back whole: a megabyte-long text value, a long
/// description, thousands of failures, a batch of 20,000 entities.
pub fn large_values_round_trip(f: &Fixture) {
    let long: String = "é, x; ".repeat(200_000);
    let mut big = entity("big", "big");
    big.values[1] = Value::String(long.clone());
    let job = f.job(JobKind::LoadComplete, "Large");
    let version = f.store().begin_version(&job.id, &schema()).unwrap();
    let many: Vec<BuiltRecord> = (0..20_000).map(|index| upsert(&format!("id{index:05}"), "n")).collect();
    f.store().write_entities(version, &many).unwrap();
    f.store().write_entities(version, &[BuiltRecord::Upsert(big.clone())]).unwrap();
    let failures: Vec<FailedEntity> = (0..5_000)
        .map(|line| FailedEntity { line, entity_id: Some(format!("f{line}")), reason: "r".repeat(1_000) })
        .collect();
    let description = "d".repeat(100_000);
    let outcome = outcome(JobStatus::Completed, 20_001, 5_000);
    let source = f
        .store()
        .commit_load(&LoadCommit {
            job_id: &job.id,
            version_id: version,
            account_id: f.account,
            data_source_name: "Large",
            new_access_id: &AccessId::generate(),
            master_key: f.key,
            query_key: None,
            set_public: None,
            description: Some(&description),
            stage: false,
            previous_versions_kept: 2,
            outcome: &outcome,
            failures: &failures,
            worker: None,
        })
        .unwrap();
    assert_eq!(source.description.as_deref(), Some(description.as_str()));
    assert_eq!(f.store().job_failures(&job.id).unwrap(), failures);
    let mut found = None;
    let visited = f
        .store()
        .for_each_entity(version, &mut |entity| {
            if entity.id == "big" {
                found = Some(entity);
            }
            Ok(())
        })
        .unwrap();
    assert_eq!(visited, 20_001);
    assert_eq!(found, Some(big));
    assert_eq!(f.store().version(version).unwrap().unwrap().entity_count, 20_001);
}

/// PostgreSQL's text cannot hold U+0000, SQLite's can: both stores refuse
/// it in names and labels, and keep diagnostics with U+FFFD in its place.
pub fn nul_in_names_is_refused_and_in_diagnostics_replaced(f: &Fixture) {
    assert!(matches!(f.store().ensure_account("a\0b"), Err(StoreError::Invalid(_))));
    assert_eq!(f.store().accounts().unwrap().len(), 1);
    let refused = f.store().add_labelled_key(f.account, &[9; 32], "hint", Some("web\0app"));
    assert!(matches!(refused, Err(StoreError::Invalid(_))), "{refused:?}");
    assert_eq!(f.store().key_by_hash(&[9; 32]).unwrap(), None);
    let job = f.unsaved_job(JobKind::LoadComplete, "a\0b");
    assert!(matches!(f.store().insert_job(&job), Err(StoreError::Invalid(_))));
    assert_eq!(f.store().job(&job.id).unwrap(), None);

    let job = f.job(JobKind::LoadComplete, "Shops");
    let mut ended = outcome(JobStatus::Aborted, 0, 1);
    ended.error_message = Some("row 2: 'x\0' is not a number".into());
    let failures = [FailedEntity { line: 2, entity_id: Some("id\0".into()), reason: "'x\0' is not a number".into() }];
    f.store().finish_job(&job.id, &ended, &failures, None).unwrap();
    let stored = f.store().job(&job.id).unwrap().unwrap();
    assert_eq!(stored.error_message.as_deref(), Some("row 2: 'x\u{FFFD}' is not a number"));
    let stored = f.store().job_failures(&job.id).unwrap();
    assert_eq!(stored[0].entity_id.as_deref(), Some("id\u{FFFD}"));
    assert_eq!(stored[0].reason, "'x\u{FFFD}' is not a number");
}

/// Instants are kept to the nanosecond within 1677–2262 and refused outside.
pub fn instants_outside_the_stored_range_are_refused(f: &Fixture) {
    let far = DateTime::parse_from_rfc3339("2300-01-01T00:00:00Z").unwrap().with_timezone(&Utc);
    let mut job = f.unsaved_job(JobKind::LoadComplete, "Shops");
    job.created = far;
    assert!(matches!(f.store().insert_job(&job), Err(StoreError::Invalid(_))));
    assert_eq!(f.store().job(&job.id).unwrap(), None);
    assert!(matches!(f.store().account_jobs(f.account, far), Err(StoreError::Invalid(_))));
    let edge = DateTime::parse_from_rfc3339("2262-04-11T23:47:16.854775807Z").unwrap().with_timezone(&Utc);
    job.created = edge;
    f.store().insert_job(&job).unwrap();
    assert_eq!(f.store().job(&job.id).unwrap().unwrap().created, edge);
}

/// A deleted data source's access id stays with its account: another
/// account's new data source cannot adopt it, its own may.
pub fn access_ids_of_deleted_data_sources_stay_with_their_account(f: &Fixture) {
    let (_, _, source) = f.load("Shops", &[upsert("1", "one")]);
    assert_eq!(f.store().access_id_retired_by(&source.access_id).unwrap(), None);
    let delete = f.job(JobKind::Delete, "Shops");
    f.store()
        .commit_change(&delete.id, source.id, &DataSourceChange::Delete, &outcome(JobStatus::Completed, 0, 0), None)
        .unwrap();
    assert_eq!(f.store().access_id_retired_by(&source.access_id).unwrap(), Some(f.account));

    let other = f.store().ensure_account("Adatum").unwrap();
    let other_key = f.store().add_key(other, &[2; 32], "oth").unwrap();
    let mut theirs = f.unsaved_job(JobKind::LoadComplete, "Shops");
    (theirs.account_id, theirs.key_id) = (other, other_key);
    f.store().insert_job(&theirs).unwrap();
    let version = f.store().begin_version(&theirs.id, &schema()).unwrap();
    let refused = f.try_commit(&theirs, version, &source.access_id, &[], 2);
    assert!(matches!(refused, Err(StoreError::Conflict(_))), "{refused:?}");
    assert_eq!(f.store().data_sources_of(other).unwrap(), vec![]);

    let mine = f.job(JobKind::LoadComplete, "Shops");
    let version = f.store().begin_version(&mine.id, &schema()).unwrap();
    let adopted = f.commit(&mine, version, &source.access_id, &[]);
    assert_eq!(adopted.access_id, source.access_id);
    assert!(adopted.id > source.id);
}

/// Two loads that create one new data source at once make one data source
/// (the commits run one after the other), never a conflict.
pub fn concurrent_commits_of_one_new_data_source_make_one(f: &Fixture) {
    let prepared: Vec<(Job, VersionId)> = (0..4)
        .map(|index| {
            let job = f.job(JobKind::LoadComplete, "Race");
            let version = f.store().begin_version(&job.id, &schema()).unwrap();
            f.store().write_entities(version, &[upsert(&index.to_string(), "n")]).unwrap();
            (job, version)
        })
        .collect();
    let sources: Vec<sds_core::DataSource> = std::thread::scope(|scope| {
        let handles: Vec<_> = prepared
            .iter()
            .map(|(job, version)| scope.spawn(|| f.commit_keeping(job, *version, &AccessId::generate(), &[], 8)))
            .collect();
        handles.into_iter().map(|handle| handle.join().unwrap()).collect()
    });
    assert!(sources.iter().all(|source| source.id == sources[0].id && source.access_id == sources[0].access_id));
    let versions = f.store().versions_of(sources[0].id).unwrap();
    assert_eq!(versions.len(), 4);
    assert_eq!(versions.iter().filter(|version| version.state == VersionState::Published).count(), 1);
    assert_eq!(f.store().data_sources_of(f.account).unwrap().len(), 1);
}
