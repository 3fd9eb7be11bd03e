//! What every handler shares.

use std::sync::Arc;

use sds_store::{Store, StoreResult};

use crate::config::ServeConfig;
use crate::error::ApiError;
use crate::jobs::JobEngine;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub engine: JobEngine,
    pub config: Arc<ServeConfig>,
    /// Query API tables by version, and resolved keys.
    pub query_cache: Arc<crate::query_cache::QueryCache>,
}

impl AppState {
    /// Runs a store call on the blocking pool: SQLite calls block. Its
    /// time, queueing for a blocking thread included, goes to
    /// `sds_store_call_duration_seconds` under the calling handler's name.
    pub async fn store_call<T, F>(&self, call: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> StoreResult<T> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        let started = std::time::Instant::now();
        let result = tokio::task::spawn_blocking(move || call(store.as_ref())).await;
        metrics::histogram!(crate::observe::metrics::STORE_DURATION, "call" => caller::<F>())
            .record(started.elapsed().as_secs_f64());
        Ok(result??)
    }
}

/// The handler a store call closure is defined in, e.g. `routes::info::account`:
/// a label from the closure's type name, which is static and bounded.
fn caller<F>() -> &'static str {
    let name = std::any::type_name::<F>();
    let name = name.strip_prefix("sds_server::").unwrap_or(name);
    name.split("::{{closure}}").next().unwrap_or(name)
}
