//! The contract every store keeps: accounts, keys, jobs, loads, versions,
//! lifecycle changes and scans.

use chrono::{Duration, Utc};
use sds_core::job::{FailedEntity, JobStatus};
use sds_core::{
    AccessId, AccountId, BuiltRecord, DownloadParams, Job, JobId, JobKind, JobParams, KeyId, Value, VersionId,
    VersionState,
};
use sds_store::{DataSourceChange, LoadCommit, StoreError};

use super::{outcome, schema, upsert, Fixture};

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
