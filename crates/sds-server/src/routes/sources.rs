//! What job-creating and data source routes share: finding the data source
//! a URL names and checking the key's rights on it, the account's job
//! quotas, and storing a new job.

use chrono::{Duration, Utc};
use sds_core::{AccessId, DataSource, Job, JobKind, JobParams};
use sds_store::{JobQuota, KeyRecord, QuotaRefusal};

use super::RequestContext;
use crate::auth::authenticate;
use crate::error::{ApiError, ErrorKind};
use crate::state::AppState;

/// Who may use a data source for an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Right {
    /// Its master key only (loads, downloads, lifecycle jobs).
    Master,
    /// Any key of its account (information, `$metadata`).
    Account,
}

/// The data source at `data/{accessId}/{name}`: 404 when there is none
/// (checked before rights, as SDS does), 401 when the key may not use it.
pub async fn addressed_source(
    state: &AppState,
    context: &RequestContext,
    access_id: &str,
    name: &str,
    right: Right,
) -> Result<(KeyRecord, DataSource), ApiError> {
    let key = authenticate(state, &context.params).await?;
    let not_found = || ApiError::not_found(format!("no data source '{name}' with accessId '{access_id}' exists"));
    let access_id: AccessId = access_id.parse().map_err(|_| not_found())?;
    let source = state
        .store_call(move |store| store.data_source_by_access_id(&access_id))
        .await?
        .filter(|source| source.name.eq_ignore_ascii_case(name))
        .ok_or_else(not_found)?;
    let allowed = match right {
        Right::Master => source.master_key == key.id,
        Right::Account => source.account_id == key.account_id,
    };
    if !allowed {
        let message = match right {
            Right::Master => format!("the key is not the master key of data source '{}'", source.name),
            Right::Account => format!("the key does not belong to the account of data source '{}'", source.name),
        };
        return Err(ApiError::not_authorized(message));
    }
    Ok((key, source))
}

/// The account quotas a new job is checked against (downloads are
/// exempt; the store checks them again in the insert's transaction): jobs
/// in process at once, jobs in a rolling 24 hours and, for a load that
/// would create a data source, data sources; 0 lifts any.
pub fn job_quota(state: &AppState, kind: JobKind) -> JobQuota {
    if kind == JobKind::Download {
        return JobQuota::NONE;
    }
    let limits = state.config.limits();
    JobQuota {
        max_in_process: limits.max_jobs_in_process,
        max_per_day: limits.max_jobs_per_day,
        since: Utc::now() - Duration::hours(24),
        max_data_sources: limits.max_data_sources,
    }
}

/// A quick look at the account's job quotas before anything is received
/// (an upload is refused before its body): SDS answers 503. Authoritative
/// is the check in the insert ([`submit`]), which holds across servers.
pub async fn check_job_quota(state: &AppState, key: &KeyRecord) -> Result<(), ApiError> {
    let quota = job_quota(state, JobKind::Delete);
    let account = key.account_id;
    let counts = state.store_call(move |store| store.job_counts(account, quota.since)).await?;
    if quota.max_in_process > 0 && counts.pending >= u64::from(quota.max_in_process) {
        let refusal = QuotaRefusal::InProcess { count: counts.pending, limit: quota.max_in_process };
        return Err(refusal_error(key, refusal));
    }
    if quota.max_per_day > 0 && counts.created_since >= u64::from(quota.max_per_day) {
        let refusal = QuotaRefusal::PerDay { count: counts.created_since, limit: quota.max_per_day };
        return Err(refusal_error(key, refusal));
    }
    Ok(())
}

/// The SDS answer to a quota refusal: 503 for job quotas, 403 for data sources.
pub fn refusal_error(key: &KeyRecord, refusal: QuotaRefusal) -> ApiError {
    match refusal {
        QuotaRefusal::InProcess { count, limit } => quota_refusal(
            ErrorKind::TooManyJobs,
            key,
            format!(
                "the account has {count} jobs in process; the limit of jobs in process at once is {limit} (the server's --max-jobs-in-process; 0 lifts it)"
            ),
        ),
        QuotaRefusal::PerDay { count, limit } => quota_refusal(
            ErrorKind::TooManyJobs,
            key,
            format!(
                "the account created {count} jobs in the last 24 hours; the limit of jobs per 24 hours is {limit} (the server's --max-jobs-per-day; 0 lifts it)"
            ),
        ),
        QuotaRefusal::DataSources { count, limit } => quota_refusal(
            ErrorKind::QuotaExceeded,
            key,
            format!(
                "the account has {count} data sources (counting loads in process that create one); the limit of data sources per account is {limit} (the server's --max-data-sources; 0 lifts it)"
            ),
        ),
    }
}

/// Stores `job` through the engine's one entry point, within the account's
/// quotas ([`job_quota`]); a refusal is the SDS answer.
pub async fn submit(state: &AppState, key: &KeyRecord, job: &Job) -> Result<(), ApiError> {
    match state.engine.submit(job, job_quota(state, job.kind)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(refusal)) => Err(refusal_error(key, refusal)),
        Err(crate::jobs::EngineError::Store(error)) => Err(error.into()),
        Err(error) => Err(ApiError::internal(&error)),
    }
}

/// A quota refusal: an expected answer, not a server fault, so it is logged
/// at info with the account and the reason (the trace layer skips these
/// statuses, see `server::app`).
pub fn quota_refusal(kind: ErrorKind, key: &KeyRecord, reason: String) -> ApiError {
    tracing::info!(account = %key.account_name, %reason, "quota refusal");
    ApiError::new(kind, reason)
}

/// Stores a new `Pending` job and wakes the engine.
pub async fn submit_job(
    state: &AppState,
    key: &KeyRecord,
    kind: JobKind,
    data_source_name: &str,
    params: JobParams,
    total_entity_count: u64,
) -> Result<Job, ApiError> {
    let job = Job { total_entity_count, ..Job::pending(key.account_id, key.id, kind, data_source_name, params) };
    submit(state, key, &job).await?;
    Ok(job)
}
