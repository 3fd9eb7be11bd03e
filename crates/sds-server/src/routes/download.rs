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
use crate::state::AppState;
use crate::wire::envelope::plain_text;
use sds_store::PayloadReader;

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
    let content_type = match params.format {
        DownloadFormat::Xml => "application/xml; charset=utf-8",
        DownloadFormat::GeoJson => "application/geo+json",
        DownloadFormat::Csv => "text/csv; charset=utf-8",
    };
    let gone = || ApiError::not_found(format!("the output of download job {} is no longer available", job.id));
    // The job's own output, or the kept one it points at (jobs::output_cache).
    let (payloads, id, extension) =
        (std::sync::Arc::clone(state.engine.payloads()), job.id.clone(), params.format.extension());
    let opened = tokio::task::spawn_blocking(move || payloads.open_output(&id, extension)).await?;
    let (length, reader) = match opened {
        Ok(Some(found)) => found,
        Ok(None) => return Err(gone()),
        Err(error) => {
            tracing::warn!(job = %job.id, %error, "could not open a download output");
            return Err(gone());
        }
    };
    let body = match reader {
        // Large reads: fewer wake-ups per megabyte sent.
        PayloadReader::File(file) => {
            Body::from_stream(ReaderStream::with_capacity(tokio::fs::File::from_std(file), 1 << 20))
        }
        PayloadReader::Stream(stream) => streamed(stream),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    Ok(response)
}

/// A blocking stream as a body: a blocking thread reads 1 MiB chunks and
/// hands them over, at most two ahead of the connection.
fn streamed(mut stream: Box<dyn std::io::Read + Send>) -> Body {
    let (sender, receiver) = tokio::sync::mpsc::channel::<std::io::Result<bytes::Bytes>>(2);
    tokio::task::spawn_blocking(move || loop {
        let mut chunk = vec![0u8; 1 << 20];
        let read = match stream.read(&mut chunk) {
            Ok(0) => return,
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => {
                let _ = sender.blocking_send(Err(error));
                return;
            }
        };
        chunk.truncate(read);
        if sender.blocking_send(Ok(bytes::Bytes::from(chunk))).is_err() {
            return;
        }
    });
    // Fused: the compression layer polls once more after the end, which
    // `unfold` alone answers with a panic.
    let chunks = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    Body::from_stream(futures_util::StreamExt::fuse(chunks))
}
