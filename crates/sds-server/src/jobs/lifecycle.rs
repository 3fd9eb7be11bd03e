//! Running lifecycle jobs: publish the staged version, roll back, change
//! visibility, delete. Each applies its change and completes in one store
//! transaction; a change that no longer applies (the staged version or the
//! rollback target is gone) aborts the job and changes nothing.

use chrono::Utc;
use sds_core::job::JobOutcome;
use sds_core::{Job, JobParams, JobStatus, VersionState};
use sds_store::{DataSourceChange, StoreError};

use super::{EngineError, EngineInner};
use crate::routes::PREVIOUS_VERSIONS_KEPT;

pub(super) fn run(inner: &EngineInner, job: &Job) -> Result<(), EngineError> {
    let store = inner.store.as_ref();
    let outcome = |status, error_message| JobOutcome {
        status,
        completed: Utc::now(),
        total_entity_count: 0,
        processed_entity_count: 0,
        failed_entity_count: 0,
        error_message,
    };
    let abort =
        |message: String| store.finish_job(&job.id, &outcome(JobStatus::Aborted, Some(message)), &[], inner.claim());
    let Some(access_id) = job.params.access_id() else {
        abort("the job names no data source".into())?;
        return Ok(());
    };
    let Some(source) = store.data_source_by_access_id(access_id)? else {
        abort(format!("data source '{}' no longer exists", job.data_source_name))?;
        return Ok(());
    };
    let change = match &job.params {
        JobParams::Publish(_) => DataSourceChange::PublishStaged { previous_versions_kept: PREVIOUS_VERSIONS_KEPT },
        JobParams::Rollback { version_job, .. } => match store.version_by_job(access_id, version_job)? {
            Some(version) if version.state == VersionState::Previous => {
                DataSourceChange::Rollback { target: version.id, previous_versions_kept: PREVIOUS_VERSIONS_KEPT }
            }
            _ => {
                abort(format!("the version made by job '{version_job}' is no longer a previous version"))?;
                return Ok(());
            }
        },
        JobParams::Access { public, .. } => DataSourceChange::SetPublic(*public),
        JobParams::Delete { staged_only: true, .. } => DataSourceChange::DeleteStaged,
        JobParams::Delete { staged_only: false, .. } => DataSourceChange::Delete,
        JobParams::Load(_) | JobParams::Download(_) => unreachable!("loads and downloads have their own runners"),
    };
    match inner.committing(|| {
        store.commit_change(&job.id, source.id, &change, &outcome(JobStatus::Completed, None), inner.claim())
    }) {
        Ok(()) => {
            tracing::info!(access_id = %source.access_id, ?change, "data source changed");
            if matches!(change, DataSourceChange::Delete) {
                // Its download outputs can no longer be fetched.
                super::retention::sweep_downloads(inner);
            }
            Ok(())
        }
        // The state moved on since the job was accepted (say, the staged
        // version was replaced): a clear abort, not a retry for ever.
        Err(StoreError::Conflict(message)) => Ok(abort(message)?),
        Err(error) => Err(error.into()),
    }
}
