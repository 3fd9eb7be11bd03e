//! Opening the store, first-start bootstrap, and serving HTTP.

use std::sync::Arc;

use axum::Router;
use sds_store::{SqliteStore, Store, StoreResult};
use tokio::net::TcpListener;
use tower_http::classify::ServerErrorsFailureClass;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

use crate::config::ServeConfig;
use crate::jobs::{EngineError, EngineSettings, JobEngine};
use crate::keys::SecretKey;
use crate::routes;
use crate::state::AppState;

pub fn open_store(config: &ServeConfig) -> StoreResult<Arc<SqliteStore>> {
    std::fs::create_dir_all(&config.data_dir)?;
    Ok(Arc::new(SqliteStore::open(&config.store_path())?))
}

/// Keys created on first start, shown once to the user.
pub struct BootstrapKeys {
    pub master: SecretKey,
    pub query: SecretKey,
}

/// On an empty store, creates the account `default` with two keys.
pub fn bootstrap(store: &dyn Store) -> StoreResult<Option<BootstrapKeys>> {
    if !store.accounts()?.is_empty() {
        return Ok(None);
    }
    let account = store.ensure_account("default")?;
    let keys = BootstrapKeys { master: SecretKey::generate(), query: SecretKey::generate() };
    for key in [&keys.master, &keys.query] {
        store.add_key(account, &key.hash(), &key.hint())?;
    }
    Ok(Some(keys))
}

/// The application: one dispatcher behind compression (for clients that
/// accept gzip) and request tracing.
pub fn app(state: AppState) -> Router {
    Router::new()
        .fallback(routes::dispatch)
        .with_state(state)
        .layer(CompressionLayer::new())
        // The span names the path only: query strings carry keys, which
        // must never reach a log.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &axum::extract::Request| {
                    tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
                })
                .on_failure(log_failure),
        )
}

/// Logs a failed response, except a 503: `sds` answers 503 only for a job
/// quota, which is a refusal logged at info where it is decided
/// (`routes::sources::quota_refusal`), not a server fault.
fn log_failure(class: ServerErrorsFailureClass, latency: std::time::Duration, _span: &tracing::Span) {
    if !matches!(class, ServerErrorsFailureClass::StatusCode(axum::http::StatusCode::SERVICE_UNAVAILABLE)) {
        tracing::error!(classification = %class, ?latency, "response failed");
    }
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn serve(config: ServeConfig, listener: TcpListener, store: Arc<dyn Store>) -> Result<(), EngineError> {
    let settings = EngineSettings {
        spool_dir: config.spool_dir(),
        downloads_dir: config.downloads_dir(),
        limits: config.limits(),
        workers: config.job_workers,
        workers_per_account: config.workers_per_account(),
        staged_retention: chrono::Duration::days(i64::from(config.staged_retention_days)),
        download_retention: (config.download_retention_days > 0)
            .then(|| std::time::Duration::from_secs(u64::from(config.download_retention_days) * 86_400)),
        fetch: crate::jobs::fetch::FetchPolicy {
            allowed_hosts: config.data_location_hosts.clone(),
            allow_private: config.data_location_allow_private,
            max_bytes: config.max_upload_bytes,
            deadline: std::time::Duration::from_secs(config.data_location_timeout_seconds.max(1)),
            min_bytes_per_second: config.data_location_min_bytes_per_second,
        },
        file_limits: sds_formats::FileLimits {
            max_polygons: config.max_polygons_per_file,
            max_points_per_polygon: config.max_points_per_polygon,
        },
    };
    let snapshots = crate::snapshots::Snapshots::open(config.data_dir.join(crate::snapshots::TABLES_DIR))?;
    let swept = Arc::clone(&store);
    // Versions deleted while the server was down (or killed before its sweep).
    let snapshots = tokio::task::spawn_blocking(move || {
        snapshots.sweep(swept.as_ref());
        snapshots
    })
    .await
    .map_err(std::io::Error::other)?;
    let query_cache = Arc::new(
        crate::query_cache::QueryCache::new(
            query_cache_budget(&config),
            std::time::Duration::from_secs(config.auth_cache_seconds),
        )
        .with_snapshots(snapshots),
    );
    let engine = JobEngine::start(Arc::clone(&store), settings, Arc::clone(&query_cache) as _)?;
    let state = AppState { store, engine, config: Arc::new(config), query_cache };
    let limits = crate::shards::ShardLimits {
        shards: crate::shards::count(state.config.worker_threads),
        max_connections: state.config.max_connections,
    };
    crate::shards::serve(listener, app(state), limits, shutdown_signal()).await?;
    Ok(())
}

/// The query cache's budget in bytes, from `--query-cache-mb` or a share of
/// the machine's memory; logged, so an operator sees what the tables may use.
fn query_cache_budget(config: &ServeConfig) -> usize {
    use crate::query_cache::{default_budget_mb, MIB};
    if let Some(versions) = config.query_cached_versions {
        tracing::warn!(versions, "--query-cached-versions is deprecated and ignored; use --query-cache-mb");
    }
    let megabytes = match config.query_cache_mb {
        Some(megabytes) => {
            tracing::info!(megabytes, "query cache budget (--query-cache-mb)");
            megabytes
        }
        None => {
            let (megabytes, total) = default_budget_mb();
            match total {
                Some(total_megabytes) => {
                    tracing::info!(megabytes, total_megabytes, "query cache budget: a quarter of the machine's memory")
                }
                None => tracing::info!(megabytes, "query cache budget: /proc/meminfo unreadable, using the fallback"),
            }
            megabytes
        }
    };
    usize::try_from(megabytes).unwrap_or(usize::MAX).saturating_mul(MIB)
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
}
