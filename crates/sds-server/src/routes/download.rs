//! Download Data Source: create a download job for a version, its status
//! (by data source name, as SDS addresses it), and the downloaded data.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sds_core::{DownloadFormat, DownloadParams, Job, JobId, JobKind, JobParams, JobStatus, VersionState};
use sds_store::KeyRecord;
use tokio_util::io::ReaderStream;

use super::sources::{addressed_source, submit_job, Right};
use super::RequestContext;
use crate::auth::authenticate;
use crate::error::ApiError;
use crate::jobs::{download_path, output_cache};
use crate::state::AppState;
use crate::wire::envelope::plain_text;

pub async fn create(
    state: &AppState,
    context: &RequestContext,
    access_id: &str,
    name: &str,
) -> Result<Response, ApiError> {
    let (key, source) = addressed_source(state, context, access_id, name, Right::Master).await?;
    let staged = context.params.flag("isstaging", "isStaging")?.or(context.params.flag("isstaged", "isStaged")?);
    let version = match context.params.get("jobid").filter(|text| !text.is_empty()) {
        Some(text) => {
            let missing =
                || ApiError::not_found(format!("data source '{}' keeps no version made by job '{text}'", source.name));
            let version_job: JobId = text.parse().map_err(|_| missing())?;
            let access_id = source.access_id.clone();
            state.store_call(move |store| store.version_by_job(&access_id, &version_job)).await?.ok_or_else(missing)?
        }
        None => {
            let wanted = if staged == Some(true) { VersionState::Staged } else { VersionState::Published };
            let id = source.id;
            state
                .store_call(move |store| store.versions_of(id))
                .await?
                .into_iter()
                .find(|version| version.state == wanted)
                .ok_or_else(|| {
                    ApiError::not_found(format!("data source '{}' has no {} version", source.name, wanted.as_str()))
                })?
        }
    };
    let format = match context.params.get("format").filter(|text| !text.is_empty()) {
        Some(text) => DownloadFormat::parse(text).ok_or_else(|| {
            ApiError::bad_request(format!("the 'format' parameter '{text}' is invalid: use xml, geojson or csv"))
        })?,
        None => DownloadFormat::Xml,
    };
    let params =
        JobParams::Download(DownloadParams { access_id: source.access_id.clone(), version_id: version.id, format });
    let job = submit_job(state, &key, JobKind::Download, &source.name, params, version.entity_count).await?;
    Ok(context.created_response(StatusCode::CREATED, &job))
}

/// The download job a status or output URL means: the one named by a
/// `jobId` parameter, else the newest download of that data source name in
/// the caller's account (the SDS URL carries no job id).
async fn addressed_job(state: &AppState, context: &RequestContext, name: &str) -> Result<(KeyRecord, Job), ApiError> {
    let key = authenticate(state, &context.params).await?;
    let not_found = || ApiError::not_found(format!("no download job exists for data source '{name}'"));
    let job = match context.params.get("jobid").filter(|text| !text.is_empty()) {
        Some(text) => {
            let job_id: JobId = text.parse().map_err(|_| not_found())?;
            state
                .store_call(move |store| store.job(&job_id))
                .await?
                .filter(|job| job.kind == JobKind::Download && job.data_source_name.eq_ignore_ascii_case(name))
        }
        None => {
            let (account, lookup) = (key.account_id, name.to_owned());
            state.store_call(move |store| store.newest_job(account, JobKind::Download, &lookup)).await?
        }
    }
    .ok_or_else(not_found)?;
    if job.account_id != key.account_id {
        return Err(ApiError::not_authorized("the job belongs to another account"));
    }
    let JobParams::Download(params) = &job.params else {
        return Err(not_found());
    };
    let access_id = params.access_id.clone();
    let source = state
        .store_call(move |store| store.data_source_by_access_id(&access_id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("data source '{name}' no longer exists")))?;
    if source.master_key != key.id {
        return Err(ApiError::not_authorized("the key is not the master key of the data source"));
    }
    Ok((key, job))
}

pub async fn status(state: &AppState, context: &RequestContext, name: &str) -> Result<Response, ApiError> {
    let (_, job) = addressed_job(state, context, name).await?;
    Ok(context.status_response(&job, None))
}

/// Streams the downloaded data from its file, or from the kept output its
/// job points at (gzip is applied by the compression layer when the
/// client accepts it).
pub async fn output(
    state: &AppState,
    context: &RequestContext,
    name: &str,
    succeeded: bool,
) -> Result<Response, ApiError> {
    let (_, job) = addressed_job(state, context, name).await?;
    if !succeeded {
        return match job.status {
            JobStatus::Aborted => Ok(plain_text(format!("job aborted: {}\n", job.error_message.unwrap_or_default()))),
            _ => Err(ApiError::not_found(format!("download job {} has not failed", job.id))),
        };
    }
    if job.status != JobStatus::Completed {
        return Err(ApiError::not_found(format!("download job {} is {}, not Completed", job.id, job.status)));
    }
    let JobParams::Download(params) = &job.params else {
        return Err(ApiError::not_found(format!("job {} is not a download job", job.id)));
    };
    let (path, content_type) = (
        download_path(&state.config.downloads_dir(), &job.id, params.format),
        match params.format {
            DownloadFormat::Xml => "application/xml; charset=utf-8",
            DownloadFormat::GeoJson => "application/geo+json",
            DownloadFormat::Csv => "text/csv; charset=utf-8",
        },
    );
    let gone = || ApiError::not_found(format!("the output of download job {} is no longer available", job.id));
    let file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        // The job's output is a kept one (jobs::output_cache): follow its pointer.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let downloads_dir = state.config.downloads_dir();
            let pointer = output_cache::pointer_path(&downloads_dir, &job.id, params.format);
            let text = tokio::fs::read_to_string(pointer).await.map_err(|_| gone())?;
            let entry = output_cache::entry_named(&downloads_dir, &text).ok_or_else(gone)?;
            tokio::fs::File::open(entry).await.map_err(|_| gone())?
        }
        Err(_) => return Err(gone()),
    };
    let length = file.metadata().await?.len();
    // Large reads: fewer wake-ups per megabyte sent.
    let mut response = Body::from_stream(ReaderStream::with_capacity(file, 1 << 20)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    Ok(response)
}
