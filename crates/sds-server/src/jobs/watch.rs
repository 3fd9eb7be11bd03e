//! Changes made elsewhere reaching this server's caches: another server's
//! publish, rollback, visibility change or delete, or a key revoked by
//! `sds keys revoke` in another process. Every such commit grows the
//! store's change counter (`Store::change_counter`) in its own
//! transaction; this task waits on it (`Store::wait_for_change`: SQLite
//! polls it every 50 ms, PostgreSQL listens) and, when it moved, does what
//! a job ending here does: bumps the generation (cached data sources are
//! read again), drops cached keys and data sources and the tables of
//! versions no longer stored, and sweeps kept download outputs. The
//! wait's timeout re-reads the counter regardless, a safety net for a lost
//! notification; a change reaches the caches well within a second.

use std::sync::Arc;
use std::time::Duration;

use super::EngineInner;

/// How long one wait lasts before the counter is read again anyway (and
/// at most how long the waiting blocking thread delays the process's exit).
const RECHECK: Duration = Duration::from_secs(1);

/// How long to wait after the store failed to answer before asking again.
const RETRY: Duration = Duration::from_secs(1);

pub(super) async fn watch_changes(inner: Arc<EngineInner>) {
    let mut seen = loop {
        let store = Arc::clone(&inner.store);
        match tokio::task::spawn_blocking(move || store.change_counter()).await {
            Ok(Ok(counter)) => break counter,
            Ok(Err(error)) => tracing::warn!(%error, "could not read the store's change counter"),
            Err(error) => tracing::warn!(%error, "reading the store's change counter failed"),
        }
        tokio::time::sleep(RETRY).await;
    };
    loop {
        let waiter = Arc::clone(&inner);
        let waited = tokio::task::spawn_blocking(move || waiter.store.wait_for_change(seen, RECHECK)).await;
        match waited {
            Ok(Ok(counter)) if counter > seen => {
                seen = counter;
                tracing::debug!(counter, "the store changed; dropping cached data sources, keys and tables");
                let changed = Arc::clone(&inner);
                let _ = tokio::task::spawn_blocking(move || {
                    changed.stored_data_changed();
                    super::retention::sweep_kept_outputs(&changed);
                })
                .await;
            }
            Ok(Ok(_)) => {}
            Ok(Err(error)) => {
                tracing::warn!(%error, "could not wait for store changes");
                tokio::time::sleep(RETRY).await;
            }
            Err(error) => {
                tracing::warn!(%error, "waiting for store changes failed");
                tokio::time::sleep(RETRY).await;
            }
        }
    }
}
