//! Get Job List: the account's jobs of the last 15 days, downloads
//! excepted, pending ones first, then the newest first.

use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Duration, Utc};

use super::views::Shown;
use super::RequestContext;
use crate::auth::authenticate;
use crate::error::ApiError;
use crate::state::AppState;

const LISTED_DAYS: i64 = 15;

pub async fn list(state: &AppState, context: &RequestContext) -> Result<Response, ApiError> {
    let key = authenticate(state, &context.params).await?;
    let (account, since) = (key.account_id, Utc::now() - Duration::days(LISTED_DAYS));
    let jobs = state.store_call(move |store| store.account_jobs(account, since)).await?;
    let views: Vec<_> =
        jobs.iter().map(|job| context.job_view(job, state.engine.progress(&job.id), Shown::List)).collect();
    Ok(context.envelope.jobs(StatusCode::OK, &views, None))
}
