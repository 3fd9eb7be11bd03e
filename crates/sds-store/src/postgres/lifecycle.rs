//! Lifecycle changes to a data source (publish the staged version, roll
//! back, visibility, delete), each applied together with its job's
//! completion, under the write lock: the same steps as `sqlite/lifecycle.rs`.

use postgres::Transaction;
use sds_core::job::{JobOutcome, JobStatus};
use sds_core::{DataSourceId, JobId, VersionId, VersionState, WorkerId};

use super::codec::nanos;
use super::{data_sources, jobs, versions};
use crate::{DataSourceChange, StoreError, StoreResult};

pub(super) fn commit_change(
    tx: &mut Transaction<'_>,
    job_id: &JobId,
    data_source: DataSourceId,
    change: &DataSourceChange,
    outcome: &JobOutcome,
    worker: Option<&WorkerId>,
) -> StoreResult<()> {
    let job = jobs::job(tx, job_id)?.ok_or_else(|| StoreError::NotFound(format!("job {job_id}")))?;
    if job.status != JobStatus::Pending {
        return Err(StoreError::Conflict(format!("job {job_id} has already ended ({})", job.status)));
    }
    super::cluster::check_claim(tx, job_id, worker)?;
    super::cluster::bump_changes(tx)?;
    let now = nanos(outcome.completed)?;
    let access_id: String = tx
        .query_opt("SELECT access_id FROM data_sources WHERE id = $1", &[&data_source.0])?
        .ok_or_else(|| StoreError::NotFound(format!("data source {data_source}")))?
        .get(0);
    match change {
        DataSourceChange::PublishStaged { previous_versions_kept } => {
            let staged = versions::versions_of(tx, data_source)?
                .into_iter()
                .find(|version| version.state == VersionState::Staged)
                .ok_or_else(|| StoreError::Conflict("the data source has no staged version".into()))?;
            promote(tx, data_source, staged.id, *previous_versions_kept, now)?;
        }
        DataSourceChange::Rollback { target, previous_versions_kept } => {
            let state = versions::state(tx, *target)?;
            if state != VersionState::Previous {
                return Err(StoreError::Conflict(format!(
                    "version {target} is {}, not a rollback target",
                    state.as_str()
                )));
            }
            promote(tx, data_source, *target, *previous_versions_kept, now)?;
        }
        DataSourceChange::SetPublic(public) => {
            tx.execute(
                "UPDATE data_sources SET is_public = $2, updated = $3 WHERE id = $1",
                &[&data_source.0, public, &now],
            )?;
        }
        DataSourceChange::DeleteStaged => versions::drop_staged(tx, data_source)?,
        DataSourceChange::Delete => {
            tx.execute("UPDATE data_sources SET published_version_id = NULL WHERE id = $1", &[&data_source.0])?;
            let ids: Vec<VersionId> =
                versions::versions_of(tx, data_source)?.iter().map(|version| version.id).collect();
            versions::drop_versions(tx, &ids)?;
            tx.execute(
                "INSERT INTO retired_access_ids (access_id, account_id)
                 SELECT access_id, account_id FROM data_sources WHERE id = $1
                 ON CONFLICT (access_id) DO NOTHING",
                &[&data_source.0],
            )?;
            tx.execute("DELETE FROM data_sources WHERE id = $1", &[&data_source.0])?;
        }
    }
    jobs::record_outcome(tx, job_id, JobStatus::Completed, outcome, Some(&access_id))
}

/// Makes `version` the published version; the published one becomes a
/// rollback target, and targets beyond `kept` are dropped.
fn promote(
    tx: &mut Transaction<'_>,
    data_source: DataSourceId,
    version: VersionId,
    kept: usize,
    now: i64,
) -> StoreResult<()> {
    tx.execute(
        "UPDATE versions SET state = 'previous' WHERE data_source_id = $1 AND state = 'published'",
        &[&data_source.0],
    )?;
    data_sources::set_state(tx, version, data_source, VersionState::Published)?;
    tx.execute(
        "UPDATE data_sources SET published_version_id = $2, updated = $3 WHERE id = $1",
        &[&data_source.0, &version.0, &now],
    )?;
    versions::prune_previous(tx, data_source, kept)
}
