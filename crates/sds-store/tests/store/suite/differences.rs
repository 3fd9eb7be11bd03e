//! The differences a second backend could hide (folding, ordering,
//! transaction boundaries, large values, U+0000, instants, retired ids,
//! concurrency), pinned for every store.

use chrono::{DateTime, Duration, Utc};
use sds_core::job::{FailedEntity, JobStatus};
use sds_core::{AccessId, BuiltRecord, DownloadParams, Job, JobId, JobKind, JobParams, Value, VersionId, VersionState};
use sds_store::{DataSourceChange, LoadCommit, StoreError};

use super::{entity, outcome, schema, upsert, Fixture};

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

/// An ID seen in an earlier batch of the same load replaces that row, at
/// the start, in the middle or at the end of a large batch (the
/// PostgreSQL store copies a batch first and learns of the repeat from the
/// server, early or late in the copy).
pub fn ids_repeated_across_large_batches_replace_earlier_rows(f: &Fixture) {
    // The second batch's new IDs sort after, around and before the repeated one.
    for prefixes in [["z", "z"], ["0", "z"], ["0", "0"]] {
        let job = f.job(JobKind::LoadComplete, "Repeats");
        let version = f.store().begin_version(&job.id, &schema()).unwrap();
        let first: Vec<BuiltRecord> = (0..5_000).map(|index| upsert(&format!("a{index:05}"), "first")).collect();
        f.store().write_entities(version, &first).unwrap();
        let mut batch: Vec<BuiltRecord> =
            (0..4_999).map(|index| upsert(&format!("{}{index:05}", prefixes[index % 2]), "new")).collect();
        batch.push(upsert("A02500", "again"));
        f.store().write_entities(version, &batch).unwrap();
        assert_eq!(f.store().count_entities(version).unwrap(), 5_000 + 4_999, "{prefixes:?}");
        let again: Vec<(String, String)> = f.ids(version).into_iter().filter(|(_, name)| name != "new").collect();
        assert_eq!(again.len(), 5_000);
        assert_eq!(again[2_500], ("A02500".to_string(), "again".to_string()), "{prefixes:?}");
        assert!(again.iter().filter(|(_, name)| name == "again").count() == 1);
        f.store().discard_version(version).unwrap();
    }
}
