//! Data source lifecycle jobs: publish the staged version (`$commit`) and
//! its status (`$getstatus`), roll back to a previous version, make public
//! or private (`$updateDataSource`), and delete.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sds_core::{DataSource, JobId, JobKind, JobParams, TargetParams, VersionState};

use super::sources::{addressed_source, check_job_quota, submit_job, Right};
use super::RequestContext;
use crate::auth::authenticate;
use crate::error::{ApiError, ErrorKind};
use crate::state::AppState;

/// Previous versions kept as rollback targets, as SDS did.
pub const PREVIOUS_VERSIONS_KEPT: usize = 2;

pub async fn publish(
    state: &AppState,
    context: &RequestContext,
    access_id: &str,
    name: &str,
) -> Result<Response, ApiError> {
    let (key, source) = addressed_source(state, context, access_id, name, Right::Master).await?;
    require_staged(state, &source, "publish").await?;
    check_job_quota(state, &key).await?;
    let params = JobParams::Publish(TargetParams { access_id: source.access_id.clone() });
    let job = submit_job(state, &key, JobKind::PublishFromStaged, &source.name, params, 0).await?;
    Ok(context.created_response(StatusCode::ACCEPTED, &job))
}

pub async fn set_public(
    state: &AppState,
    context: &RequestContext,
    access_id: &str,
    name: &str,
) -> Result<Response, ApiError> {
    let (key, source) = addressed_source(state, context, access_id, name, Right::Master).await?;
    let public =
        context.params.flag("setpublic", "setPublic")?.ok_or_else(|| ApiError::missing_parameter("setPublic"))?;
    check_job_quota(state, &key).await?;
    let params = JobParams::Access { target: TargetParams { access_id: source.access_id.clone() }, public };
    let job = submit_job(state, &key, JobKind::Access, &source.name, params, 0).await?;
    Ok(context.created_response(StatusCode::CREATED, &job))
}

/// HTTP DELETE: 202 with no body; `isStaging=1` deletes only the staged version.
pub async fn delete(
    state: &AppState,
    context: &RequestContext,
    access_id: &str,
    name: &str,
) -> Result<Response, ApiError> {
    let (key, source) = addressed_source(state, context, access_id, name, Right::Master).await?;
    let staged_only = context.params.flag("isstaging", "isStaging")?.unwrap_or(false);
    if staged_only {
        require_staged(state, &source, "delete").await?;
    }
    check_job_quota(state, &key).await?;
    let params = JobParams::Delete { target: TargetParams { access_id: source.access_id.clone() }, staged_only };
    submit_job(state, &key, JobKind::Delete, &source.name, params, 0).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// Staged-only operations on a data source without a staged version are 400s.
async fn require_staged(state: &AppState, source: &DataSource, operation: &str) -> Result<(), ApiError> {
    let id = source.id;
    let versions = state.store_call(move |store| store.versions_of(id)).await?;
    if versions.iter().any(|version| version.state == VersionState::Staged) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!("data source '{}' has no staged version to {operation}", source.name)))
    }
}

/// `Dataflows/DataSourceRollback/{previousVersionJobId}/{name}`: the job id
/// names the version to restore (see `showAllVersions`).
pub async fn rollback(
    state: &AppState,
    context: &RequestContext,
    version_job: &str,
    name: &str,
) -> Result<Response, ApiError> {
    let key = authenticate(state, &context.params).await?;
    let (account, lookup) = (key.account_id, name.to_owned());
    let source = state
        .store_call(move |store| store.data_source_by_name(account, &lookup))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no data source '{name}' exists in the key's account")))?;
    if source.master_key != key.id {
        return Err(ApiError::not_authorized(format!(
            "the key is not the master key of data source '{}'",
            source.name
        )));
    }
    let missing =
        || ApiError::not_found(format!("data source '{}' keeps no version made by job '{version_job}'", source.name));
    let job_id: JobId = version_job.parse().map_err(|_| missing())?;
    let access_id = source.access_id.clone();
    let version =
        state.store_call(move |store| store.version_by_job(&access_id, &job_id)).await?.ok_or_else(missing)?;
    match version.state {
        VersionState::Previous => {}
        VersionState::Published => {
            return Err(ApiError::bad_request(format!(
                "the version made by job '{version_job}' is already the published one"
            )))
        }
        _ => {
            return Err(ApiError::bad_request(format!(
                "the version made by job '{version_job}' is not a previous version"
            )))
        }
    }
    check_job_quota(state, &key).await?;
    let params = JobParams::Rollback {
        target: TargetParams { access_id: source.access_id.clone() },
        version_job: version.job_id,
    };
    let job = submit_job(state, &key, JobKind::Rollback, &source.name, params, 0).await?;
    Ok(context.created_response(StatusCode::CREATED, &job))
}

/// `data/jobs/{id}/$getstatus` (publish, visibility and delete jobs) and
/// `Dataflows/DataSourceRollback/{id}`. The toolkit polls these links
/// verbatim, without a key: the random job id is then the credential
/// (`--keyless-job-status`). A key, when given, must be of the job's account.
pub async fn status(
    state: &AppState,
    context: &RequestContext,
    job_id: &str,
    rollback: bool,
) -> Result<Response, ApiError> {
    let key = match context.params.get("key").filter(|key| !key.is_empty()) {
        Some(_) => Some(authenticate(state, &context.params).await?),
        None if state.config.keyless_job_status => None,
        None => return Err(ApiError::new(ErrorKind::NoCredentials, "the 'key' parameter is required")),
    };
    let not_found = || ApiError::not_found(format!("no job with id '{job_id}' exists"));
    let id: JobId = job_id.parse().map_err(|_| not_found())?;
    let job = state.store_call(move |store| store.job(&id)).await?.ok_or_else(not_found)?;
    let matches_route = match job.params {
        JobParams::Rollback { .. } => rollback,
        JobParams::Publish(_) | JobParams::Access { .. } | JobParams::Delete { .. } => !rollback,
        JobParams::Load(_) | JobParams::Download(_) => false,
    };
    if !matches_route {
        return Err(not_found());
    }
    if key.is_some_and(|key| key.account_id != job.account_id) {
        return Err(ApiError::not_authorized("the job belongs to another account"));
    }
    Ok(context.status_response(&job, None))
}
