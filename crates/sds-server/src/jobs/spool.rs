//! Uploads are received into a local file, then stored as the job's input
//! payload (`sds_store::PayloadStore::put_input`) before the job is
//! acknowledged, so that any server, after any restart, runs the job from
//! exactly the same input.

use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap};
use futures_util::StreamExt;
use sds_core::JobId;
use tokio::io::AsyncWriteExt;

use crate::error::{ApiError, ErrorKind};

/// Whether the request announces a body (a length above 0, or chunks).
pub fn has_body(headers: &HeaderMap) -> bool {
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    match length {
        Some(length) => length > 0,
        None => headers.contains_key(header::TRANSFER_ENCODING),
    }
}

/// Streams the body to `{spool_dir}/{job}.part` and syncs it; returns its
/// path, for the caller to store as the job's input. The raw (possibly compressed) body is bounded by the
/// upload limit too; decompressed size is checked while the job reads it.
/// A body that sends nothing for `idle` is given up (408): a client that
/// stalls must not keep its connection and spool file for ever. On any
/// failure the partial file is removed.
pub async fn receive(
    spool_dir: &Path,
    job_id: &JobId,
    body: Body,
    max_bytes: u64,
    idle: Duration,
) -> Result<PathBuf, ApiError> {
    tokio::fs::create_dir_all(spool_dir).await?;
    let partial = spool_dir.join(format!("{job_id}.part"));
    let result = write_body(&partial, body, max_bytes, idle).await;
    let written = match result {
        Ok(written) => written,
        Err(error) => {
            let _ = tokio::fs::remove_file(&partial).await;
            if error.kind == ErrorKind::RequestTimeout {
                tracing::warn!(job = %job_id, idle_seconds = idle.as_secs(), "upload stalled; partial spool file removed");
            }
            return Err(error);
        }
    };
    if written == 0 {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(ApiError::bad_request("the request body is empty: send the entity data in the body"));
    }
    Ok(partial)
}

async fn write_body(path: &Path, body: Body, max_bytes: u64, idle: Duration) -> Result<u64, ApiError> {
    let mut file = tokio::fs::File::create(path).await?;
    let mut stream = body.into_data_stream();
    let mut written: u64 = 0;
    loop {
        let Ok(next) = tokio::time::timeout(idle, stream.next()).await else {
            return Err(ApiError::new(
                ErrorKind::RequestTimeout,
                format!(
                    "the request body stalled: nothing arrived for {} seconds after {written} bytes",
                    idle.as_secs()
                ),
            ));
        };
        let Some(chunk) = next else { break };
        let chunk =
            chunk.map_err(|error| ApiError::bad_request(format!("reading the request body failed: {error}")))?;
        written += chunk.len() as u64;
        if written > max_bytes {
            return Err(ApiError::new(
                ErrorKind::PayloadTooLarge,
                format!("the upload is larger than the limit of {max_bytes} bytes (the server's --max-upload-bytes)"),
            ));
        }
        file.write_all(&chunk).await?;
    }
    file.sync_all().await?;
    Ok(written)
}

/// Reads and drops what is left of a refused upload's body (at most
/// `max_bytes`, each chunk within `idle`). HTTP/1.1 gives a server no other
/// way to refuse a body in flight (without `Expect: 100-continue`): if it
/// closed the connection instead, a client still sending would see a
/// reset and lose the refusal's envelope.
pub async fn drain(body: Body, max_bytes: u64, idle: Duration) {
    let mut stream = body.into_data_stream();
    let mut read: u64 = 0;
    while let Ok(Some(Ok(chunk))) = tokio::time::timeout(idle, stream.next()).await {
        read += chunk.len() as u64;
        if read > max_bytes {
            break;
        }
    }
}

/// Stores a received upload (`receive`'s file, consumed) as the job's
/// input payload; the file is removed if that fails.
pub async fn store_input(
    payloads: &std::sync::Arc<dyn sds_store::PayloadStore>,
    job_id: &JobId,
    received: PathBuf,
) -> std::io::Result<()> {
    let (payloads, job_id) = (std::sync::Arc::clone(payloads), job_id.clone());
    tokio::task::spawn_blocking(move || {
        let stored = payloads.put_input(&job_id, &received);
        if stored.is_err() {
            let _ = std::fs::remove_file(&received);
        }
        stored
    })
    .await
    .map_err(std::io::Error::other)?
}

/// Removes a stored input whose job was not inserted after all.
pub async fn discard_input(payloads: &std::sync::Arc<dyn sds_store::PayloadStore>, job_id: &JobId) {
    let (payloads, job_id) = (std::sync::Arc::clone(payloads), job_id.clone());
    let _ = tokio::task::spawn_blocking(move || {
        if let Err(error) = payloads.discard_input(&job_id) {
            tracing::warn!(job = %job_id, %error, "could not remove spooled input");
        }
    })
    .await;
}
