//! What a job's claim asks of the server holding it, besides running the
//! job: renewing the claim's lease, and (with several servers on one
//! store) telling the others how far its jobs are.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use sds_core::{JobId, JobStatus};

use super::EngineInner;

/// How often a running job's counts are written to a shared store.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(1);

/// Renews this server's claims every third of the lease, so that they
/// never run out while it runs their jobs. A running job missing from the
/// renewed claims was taken over (this server stalled past its lease): it
/// is logged; its commit will be refused, and nothing it wrote stays.
pub(super) async fn renew_leases(inner: Arc<EngineInner>) {
    let every = inner.settings.lease / 3;
    loop {
        tokio::time::sleep(every).await;
        let renewer = Arc::clone(&inner);
        let renewed =
            tokio::task::spawn_blocking(move || renewer.store.renew_claims(&renewer.worker, renewer.settings.lease))
                .await;
        match renewed {
            Ok(Ok(held)) => {
                // Only jobs this server claimed; one that just ended (its
                // claim gone with its Pending status) is not taken over.
                let missing: Vec<JobId> = {
                    let running = inner.running.lock().expect("the engine lock is never poisoned");
                    running
                        .jobs
                        .iter()
                        .filter(|(job, progress)| progress.claimed.load(Ordering::SeqCst) && !held.contains(job))
                        .map(|(job, _)| job.clone())
                        .collect()
                };
                for job in missing {
                    let (store, id) = (Arc::clone(&inner.store), job.clone());
                    let now = tokio::task::spawn_blocking(move || store.job(&id)).await;
                    if let Ok(Ok(Some(now))) = now {
                        if now.status == JobStatus::Pending {
                            tracing::warn!(job = %job, "this server's claim on a running job was taken over; its result will be dropped");
                        }
                    }
                }
            }
            Ok(Err(error)) => tracing::error!(%error, "could not renew this server's job claims"),
            Err(error) => tracing::error!(%error, "renewing job claims failed"),
        }
    }
}

/// With several servers on one store: every [`PROGRESS_INTERVAL`], writes
/// the counts of this server's running jobs that changed since the last
/// time ([`sds_store::Store::record_progress`]), so that a status request
/// answered by another server shows them too (this server answers from
/// memory).
pub(super) async fn publish_progress(inner: Arc<EngineInner>) {
    let mut published: HashMap<JobId, (u64, u64)> = HashMap::new();
    loop {
        tokio::time::sleep(PROGRESS_INTERVAL).await;
        let changed: Vec<(JobId, (u64, u64))> = {
            let running = inner.running.lock().expect("the engine lock is never poisoned");
            published.retain(|job, _| running.jobs.contains_key(job));
            running
                .jobs
                .iter()
                .filter(|(_, progress)| progress.claimed.load(Ordering::SeqCst))
                .map(|(job, progress)| {
                    (job.clone(), (progress.processed.load(Ordering::Relaxed), progress.failed.load(Ordering::Relaxed)))
                })
                .filter(|(job, counts)| published.get(job) != Some(counts))
                .collect()
        };
        if changed.is_empty() {
            continue;
        }
        let writer = Arc::clone(&inner);
        let batch = changed.clone();
        let written = tokio::task::spawn_blocking(move || {
            for (job, (processed, failed)) in &batch {
                writer.store.record_progress(job, &writer.worker, *processed, *failed)?;
            }
            Ok::<_, sds_store::StoreError>(())
        })
        .await;
        match written {
            Ok(Ok(())) => published.extend(changed),
            Ok(Err(error)) => tracing::debug!(%error, "could not record job progress"),
            Err(error) => tracing::debug!(%error, "recording job progress failed"),
        }
    }
}
