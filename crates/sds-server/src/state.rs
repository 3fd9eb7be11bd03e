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
    /// Runs a store call on the blocking pool: SQLite calls block.
    pub async fn store_call<T, F>(&self, call: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> StoreResult<T> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        Ok(tokio::task::spawn_blocking(move || call(store.as_ref())).await??)
    }
}
