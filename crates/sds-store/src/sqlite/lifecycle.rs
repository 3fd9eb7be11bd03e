//! Lifecycle changes to a data source (publish the staged version, roll
//! back, visibility, delete), each applied together with its job's
//! completion so that a crash leaves the data source before or after the
//! change, never in between.

use rusqlite::{params, Connection};
use sds_core::job::{JobOutcome, JobStatus};
use sds_core::{DataSourceId, JobId, VersionId, VersionState, WorkerId};

use super::codec::nanos;
use super::{data_sources, jobs, versions};
use crate::{DataSourceChange, StoreError, StoreResult};

pub(super) fn commit_change(
    connection: &Connection,
    job_id: &JobId,
    data_source: DataSourceId,
    change: &DataSourceChange,
    outcome: &JobOutcome,
    worker: Option<&WorkerId>,
) -> StoreResult<()> {
    let job = jobs::job(connection, job_id)?.ok_or_else(|| StoreError::NotFound(format!("job {job_id}")))?;
    if job.status != JobStatus::Pending {
        return Err(StoreError::Conflict(format!("job {job_id} has already ended ({})", job.status)));
    }
    super::cluster::check_claim(connection, job_id, worker)?;
    super::cluster::bump_changes(connection)?;
    let now = nanos(outcome.completed)?;
    let access_id: String = connection
        .prepare_cached("SELECT access_id FROM data_sources WHERE id = ?1")?
        .query_row([data_source.0], |row| row.get(0))
        .map_err(|_| StoreError::NotFound(format!("data source {data_source}")))?;
    match change {
        DataSourceChange::PublishStaged { previous_versions_kept } => {
            let staged = versions::versions_of(connection, data_source)?
                .into_iter()
                .find(|version| version.state == VersionState::Staged)
                .ok_or_else(|| StoreError::Conflict("the data source has no staged version".into()))?;
            promote(connection, data_source, staged.id, *previous_versions_kept, now)?;
        }
        DataSourceChange::Rollback { target, previous_versions_kept } => {
            let state = versions::state(connection, *target)?;
            if state != VersionState::Previous {
                return Err(StoreError::Conflict(format!(
                    "version {target} is {}, not a rollback target",
                    state.as_str()
                )));
            }
            promote(connection, data_source, *target, *previous_versions_kept, now)?;
        }
        DataSourceChange::SetPublic(public) => {
            connection
                .prepare_cached("UPDATE data_sources SET is_public = ?2, updated = ?3 WHERE id = ?1")?
                .execute(params![data_source.0, public, now])?;
        }
        DataSourceChange::DeleteStaged => versions::drop_staged(connection, data_source)?,
        DataSourceChange::Delete => {
            connection
                .prepare_cached("UPDATE data_sources SET published_version_id = NULL WHERE id = ?1")?
                .execute([data_source.0])?;
            for version in versions::versions_of(connection, data_source)? {
                versions::drop_version(connection, version.id)?;
            }
            connection
                .prepare_cached(
                    "INSERT OR IGNORE INTO retired_access_ids (access_id, account_id)
                     SELECT access_id, account_id FROM data_sources WHERE id = ?1",
                )?
                .execute([data_source.0])?;
            connection.prepare_cached("DELETE FROM data_sources WHERE id = ?1")?.execute([data_source.0])?;
        }
    }
    jobs::record_outcome(connection, job_id, JobStatus::Completed, outcome, Some(&access_id))
}

/// Makes `version` the published version; the published one becomes a
/// rollback target, and targets beyond `kept` are dropped.
fn promote(
    connection: &Connection,
    data_source: DataSourceId,
    version: VersionId,
    kept: usize,
    now: i64,
) -> StoreResult<()> {
    connection
        .prepare_cached("UPDATE versions SET state = 'previous' WHERE data_source_id = ?1 AND state = 'published'")?
        .execute([data_source.0])?;
    data_sources::publish(connection, version, data_source)?;
    connection
        .prepare_cached("UPDATE data_sources SET published_version_id = ?2, updated = ?3 WHERE id = ?1")?
        .execute(params![data_source.0, version.0, now])?;
    versions::prune_previous(connection, data_source, kept)
}
