//! What the engine throws away on its own: staged versions past their
//! retention, and download outputs that expired or whose data source was
//! deleted.
//!
//! SDS never said how long a download's output stays available; clients
//! fetch it as soon as the job completes. Outputs are kept for
//! `--download-retention-days` (15 by default, the window in which jobs are
//! listed; 0 keeps them), then the `succeeded` link answers 404 saying the
//! output is no longer available. A deleted data source's outputs go at
//! once: nobody can fetch them any more (the job's data source is gone), so
//! they would only hold disk space. Outputs kept per version go with
//! their version.

use std::path::Path;
use std::time::SystemTime;

use chrono::Utc;
use sds_core::{JobId, JobParams};
use sds_store::Store;

use super::{EngineError, EngineInner};

/// Drops staged versions older than the retention; logs what it did.
pub(super) fn drop_expired_staged(inner: &EngineInner) {
    let cutoff = Utc::now() - inner.settings.staged_retention;
    match inner.store.drop_staged_before(cutoff) {
        Ok(0) => {}
        Ok(dropped) => tracing::info!(dropped, "dropped staged versions past their retention"),
        Err(error) => tracing::error!(%error, "could not drop expired staged versions"),
    }
}

/// Removes download outputs that expired or belong to a deleted data
/// source; logs what it did.
pub(super) fn sweep_downloads(inner: &EngineInner) {
    let settings = &inner.settings;
    let expired_before = settings.download_retention.and_then(|retention| SystemTime::now().checked_sub(retention));
    match remove_stale_downloads(inner.store.as_ref(), &settings.downloads_dir, expired_before) {
        Ok(0) => {}
        Ok(removed) => tracing::info!(removed, "removed expired or orphaned download outputs"),
        Err(error) => tracing::error!(%error, "could not sweep download outputs"),
    }
    sweep_kept_outputs(inner);
}

/// Removes the kept outputs (see [`super::output_cache`]) of versions and
/// data sources that are gone; logs what it did. Run after every job that
/// changes a data source.
pub(super) fn sweep_kept_outputs(inner: &EngineInner) {
    match super::output_cache::sweep(inner.store.as_ref(), &inner.settings.downloads_dir) {
        Ok(0) => {}
        Ok(removed) => tracing::info!(removed, "removed kept download outputs of versions that are gone"),
        Err(error) => tracing::error!(%error, "could not sweep kept download outputs"),
    }
}

/// Removes each finished output (`{jobId}.{ext}`) whose job or data source
/// no longer exists, or that was written before `expired_before`. Partial
/// files (`.part`) belong to running jobs and are left alone.
fn remove_stale_downloads(
    store: &dyn Store,
    downloads_dir: &Path,
    expired_before: Option<SystemTime>,
) -> Result<u64, EngineError> {
    let mut removed = 0;
    for entry in std::fs::read_dir(downloads_dir)?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((stem, extension)) = name.split_once('.') else { continue };
        let Ok(job_id) = stem.parse::<JobId>() else { continue };
        if extension == "part" {
            continue;
        }
        let expired = expired_before.is_some_and(|cutoff| {
            entry.metadata().and_then(|metadata| metadata.modified()).is_ok_and(|written| written < cutoff)
        });
        let stale = expired
            || match store.job(&job_id)? {
                Some(job) => match &job.params {
                    JobParams::Download(params) => store.data_source_by_access_id(&params.access_id)?.is_none(),
                    _ => true,
                },
                None => true,
            };
        if stale && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}
