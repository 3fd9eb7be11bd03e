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

use std::time::SystemTime;

use chrono::Utc;
use sds_core::JobParams;
use sds_store::{PayloadStore, Store};

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
    match remove_stale_downloads(inner.store.as_ref(), inner.payloads.as_ref(), expired_before) {
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
    match super::output_cache::sweep(inner.store.as_ref(), inner.payloads.as_ref()) {
        Ok(0) => {}
        Ok(removed) => tracing::info!(removed, "removed kept download outputs of versions that are gone"),
        Err(error) => tracing::error!(%error, "could not sweep kept download outputs"),
    }
}

/// Removes each stored output (or pointer to a kept one) whose job or data
/// source no longer exists, or that was stored before `expired_before`.
fn remove_stale_downloads(
    store: &dyn Store,
    payloads: &dyn PayloadStore,
    expired_before: Option<SystemTime>,
) -> Result<u64, EngineError> {
    let mut removed = 0;
    for output in payloads.outputs()? {
        let expired = expired_before.is_some_and(|cutoff| output.written < cutoff);
        let stale = expired
            || match store.job(&output.job)? {
                Some(job) => match &job.params {
                    JobParams::Download(params) => store.data_source_by_access_id(&params.access_id)?.is_none(),
                    _ => true,
                },
                None => true,
            };
        if stale && payloads.remove_output(&output.job, &output.extension).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}
