//! The store contract, written once and run against every store: each
//! `pub fn` of `contract.rs` and `differences.rs` is one test over a
//! [`Fixture`], and [`store_suite!`] instantiates all of them for one
//! backend (as quickwit's metastore suite does). A backend gives a
//! [`Harness`]: its store, and a way to count a version's entity rows
//! behind the store's back.

mod contract;
mod differences;

pub use contract::*;
pub use differences::*;

use chrono::Utc;
use sds_core::job::{FailedEntity, JobOutcome, JobStatus, LoadParams};
use sds_core::{
    AccessId, AccountId, BuiltRecord, EdmType, Entity, InputFormat, Job, JobKind, JobParams, KeyId, LoadOperation,
    Property, Schema, Value, VersionId,
};
use sds_store::{LoadCommit, Store, StoreError};

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
            ids_repeated_across_large_batches_replace_earlier_rows,
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
        let params = LoadParams {
            set_public: Some(true),
            description: Some("shops".into()),
            ..LoadParams::plain(operation, InputFormat::Csv)
        };
        Job::pending(self.account, self.key, kind, name, JobParams::Load(params))
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
            worker: None,
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
