//! Opening the store, first-start bootstrap, and serving HTTP.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use sds_store::{FilePayloads, PayloadStore, PostgresStore, SqliteStore, Store, StoreError, StoreResult};
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;

use crate::config::ServeConfig;
use crate::database_url::DatabaseUrl;
use crate::jobs::{EngineError, EngineSettings, JobEngine};
use crate::keys::SecretKey;
use crate::state::AppState;
use crate::{observe, routes};

/// Why the store could not be opened. Never shows the database password.
#[derive(Debug, thiserror::Error)]
pub enum OpenStoreError {
    #[error("cannot create the data dir {}: {source}", dir.display())]
    DataDir { dir: PathBuf, source: std::io::Error },
    #[error("cannot open the SQLite store {}: {source}", path.display())]
    Sqlite { path: PathBuf, source: StoreError },
    /// Unreachable, refused, or a failed migration; both texts are redacted.
    #[error("cannot open the PostgreSQL store at {url}: {message}")]
    Postgres { url: String, message: String },
}

/// What `sds serve` runs on ([`open_stores`]).
pub struct OpenedStore {
    pub store: Arc<dyn Store>,
    /// Spooled uploads and download outputs: files in the data dir beside
    /// an SQLite store; in the database with PostgreSQL, where every server
    /// of a deployment reaches them.
    pub payloads: Arc<dyn PayloadStore>,
    /// Whether other servers may share the store (PostgreSQL).
    pub shared: bool,
}

/// Opened once per process: its size does not matter.
#[allow(clippy::large_enum_variant)]
enum Backend {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

/// Opens the store `config` names: the PostgreSQL store of
/// `--database-url` (migrated to this binary's schema), else the SQLite
/// store in the data dir (made if missing). The data dir is made either
/// way: it holds the server's local files.
pub fn open_store(config: &ServeConfig) -> Result<Arc<dyn Store>, OpenStoreError> {
    Ok(match open_backend(config)? {
        Backend::Sqlite(store) => Arc::new(store),
        Backend::Postgres(store) => Arc::new(store),
    })
}

/// [`open_store`] and the payload store that goes with it, for `sds serve`.
pub fn open_stores(config: &ServeConfig) -> Result<OpenedStore, OpenStoreError> {
    Ok(match open_backend(config)? {
        Backend::Sqlite(store) => {
            let payloads = FilePayloads::open(&config.spool_dir(), &config.downloads_dir())
                .map_err(|source| OpenStoreError::DataDir { dir: config.data_dir.clone(), source })?;
            OpenedStore { store: Arc::new(store), payloads: Arc::new(payloads), shared: false }
        }
        Backend::Postgres(store) => {
            // This server's copies of the outputs it stored, served while
            // the database lists them (`PostgresPayloads::with_local_copies`).
            let payloads = Arc::new(
                store
                    .payloads()
                    .with_local_copies(config.downloads_dir().join(LOCAL_OUTPUT_COPIES))
                    .map_err(|source| OpenStoreError::DataDir { dir: config.data_dir.clone(), source })?,
            );
            OpenedStore { store: Arc::new(store), payloads, shared: true }
        }
    })
}

/// Creates the data dir only for the SQLite store, whose file lives there:
/// `sds keys …` on a PostgreSQL store leaves no empty `./sds-data` behind
/// (`sds serve` makes its data dir when it locks it, for table snapshots).
fn open_backend(config: &ServeConfig) -> Result<Backend, OpenStoreError> {
    match &config.database_url {
        Some(url) => open_postgres(url).map(Backend::Postgres),
        None => {
            std::fs::create_dir_all(&config.data_dir)
                .map_err(|source| OpenStoreError::DataDir { dir: config.data_dir.clone(), source })?;
            let path = config.store_path();
            match SqliteStore::open(&path) {
                Ok(store) => Ok(Backend::Sqlite(store)),
                Err(source) => Err(OpenStoreError::Sqlite { path, source }),
            }
        }
    }
}

/// Unreachable at start: an error (exit 1), not a retry loop, so that a
/// wrong URL is said at once and the service manager, which knows the
/// deployment's restart policy, starts the server again.
fn open_postgres(url: &DatabaseUrl) -> Result<PostgresStore, OpenStoreError> {
    match PostgresStore::connect(url.expose()) {
        Ok(store) => Ok(store),
        Err(error) => Err(OpenStoreError::Postgres { url: url.to_string(), message: url.redact(&error.to_string()) }),
    }
}

/// The folder of `downloads/` where a server on a PostgreSQL store keeps
/// local copies of the outputs it stored.
const LOCAL_OUTPUT_COPIES: &str = "local-copies";

/// Keys created on first start, shown once to the user.
pub struct BootstrapKeys {
    pub master: SecretKey,
    pub query: SecretKey,
}

/// On an empty store, creates the account `default` with two keys. Of
/// several servers started at once on one empty database, only one creates
/// (and prints) them ([`Store::create_first_account`]).
pub fn bootstrap(store: &dyn Store) -> StoreResult<Option<BootstrapKeys>> {
    if !store.accounts()?.is_empty() {
        return Ok(None);
    }
    let keys = BootstrapKeys { master: SecretKey::generate(), query: SecretKey::generate() };
    let hashes = [&keys.master, &keys.query].map(|key| (key.hash(), key.hint()));
    Ok(store.create_first_account("default", &hashes)?.map(|_| keys))
}

/// The operational endpoints beside the SDS API, with their handlers'
/// paths (README, "Health and metrics"; the OpenAPI document lists them).
pub const OPS_ROUTES: &[&str] = &["/healthz", "/readyz", "/metrics"];

/// The application: the web console (`/`, `/console/…`), the probes and
/// metrics, then one dispatcher for the SDS API, behind compression (for
/// clients that accept gzip) and the request log (`observe::requests`, inside compression so that it sees
/// each route's own response).
/// With a `--public-url` path (`/sds`), every route answers under it too.
pub fn app(state: AppState) -> Router {
    use axum::routing::get;
    let prefix = crate::base_url::path_prefix(state.config.public_url.as_deref());
    let router = Router::new()
        .merge(crate::console::router())
        .route(OPS_ROUTES[0], get(observe::health::healthz))
        .route(OPS_ROUTES[1], get(observe::health::readyz))
        .route(OPS_ROUTES[2], get(observe::metrics::scrape))
        .route(crate::openapi::PATH, get(crate::openapi::document))
        .fallback(routes::dispatch)
        .with_state(state)
        // Applied to each route after routing, so that it sees `MatchedPath`.
        .layer(axum::middleware::from_fn(observe::requests::record));
    let router = match prefix {
        Some(prefix) => Router::new().nest_service(&prefix, router.clone()).fallback_service(router),
        None => router,
    };
    router.layer(CompressionLayer::new())
}

/// Serves until Ctrl-C or SIGTERM, then shuts down gracefully (see
/// `--shutdown-timeout`).
///
/// With `tls` (see [`crate::tls::acceptor`]), serves HTTPS and reads the
/// certificate and key again on SIGHUP.
pub async fn serve(
    config: ServeConfig,
    listener: TcpListener,
    opened: OpenedStore,
    tls: Option<(tokio_rustls::TlsAcceptor, Arc<crate::tls::ReloadableCert>)>,
) -> Result<(), EngineError> {
    let OpenedStore { store, payloads, shared } = opened;
    let settings = EngineSettings {
        spool_dir: config.spool_dir(),
        downloads_dir: config.downloads_dir(),
        lease: std::time::Duration::from_secs(config.job_lease_seconds),
        // The SQLite store is the data dir's, which one server holds (its
        // lock); other servers may share a PostgreSQL store.
        sole_server: !shared,
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
    // Kept under the store's identity: a data dir pointed at another
    // database must not read that database's ids back from these files.
    let identity = {
        let store = Arc::clone(&store);
        tokio::task::spawn_blocking(move || store.identity()).await.map_err(std::io::Error::other)?
    }
    .map_err(std::io::Error::other)?;
    let mut tables_dir = config.data_dir.join(crate::snapshots::TABLES_DIR);
    if !identity.is_empty() {
        tables_dir = tables_dir.join(format!("store-{identity}"));
    }
    let snapshots = crate::snapshots::Snapshots::open(tables_dir, Arc::clone(&store))?;
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
    tokio::spawn(observe::metrics::upkeep(observe::metrics::install()));
    // Its start-up reads and sweeps the store: on the blocking pool, as
    // every store call (a PostgreSQL client blocks on a runtime of its own).
    let engine = {
        let (store, watcher) = (Arc::clone(&store), Arc::clone(&query_cache) as _);
        tokio::task::spawn_blocking(move || JobEngine::start(store, payloads, settings, watcher))
            .await
            .map_err(std::io::Error::other)??
    };
    let state = AppState { store, engine, config: Arc::new(config), query_cache };
    let grace = std::time::Duration::from_secs(state.config.shutdown_timeout);
    let limits = crate::shards::ShardLimits {
        shards: crate::shards::count(state.config.worker_threads),
        max_connections: state.config.max_connections,
        shutdown_timeout: grace,
        tls: tls.as_ref().map(|(acceptor, _)| acceptor.clone()),
    };
    if let Some((_, certificate)) = tls {
        reload_on_hangup(certificate);
    }
    // On the signal, new connections stop, requests in flight and running
    // jobs get the same `--shutdown-timeout` to finish or reach a safe
    // point (jobs stop at once, between batches, and stay Pending).
    let engine = state.engine.clone();
    let signalled = Arc::new(std::sync::OnceLock::new());
    let shutdown = {
        let (engine, signalled) = (engine.clone(), Arc::clone(&signalled));
        async move {
            shutdown_signal().await;
            let _ = signalled.set(tokio::time::Instant::now());
            tracing::info!(
                timeout_seconds = grace.as_secs(),
                "shutting down: no new connections; waiting for requests in flight and running jobs"
            );
            engine.begin_stop();
        }
    };
    crate::shards::serve(listener, app(state), limits, shutdown).await?;
    let deadline = *signalled.get_or_init(tokio::time::Instant::now) + grace;
    let running = engine.stop(deadline).await;
    if running > 0 {
        tracing::warn!(
            jobs = running,
            "shutdown timeout: exiting with jobs running; they stay Pending and run again at the next start"
        );
    }
    // A job cut short stays Pending in the store and runs again from its
    // input at the next start (ARCHITECTURE.md, "Jobs").
    tracing::info!(
        jobs_left_pending = running + engine.stopped_for_shutdown(),
        "shut down: waited for requests in flight to finish and running jobs to reach a safe point"
    );
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

/// Reads the certificate and key again at each SIGHUP; new connections
/// get the new pair, and a bad one is logged and the old pair kept.
fn reload_on_hangup(certificate: Arc<crate::tls::ReloadableCert>) {
    #[cfg(unix)]
    tokio::spawn(async move {
        let Ok(mut hangups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
            tracing::warn!("SIGHUP cannot be caught: the TLS certificate reloads only at restart");
            return;
        };
        while hangups.recv().await.is_some() {
            match certificate.reload() {
                Ok(()) => tracing::info!("SIGHUP: TLS certificate reloaded; new connections use it"),
                Err(error) => {
                    tracing::error!(%error, "SIGHUP: TLS certificate not reloaded; the previous one stays in use")
                }
            }
        }
    });
    #[cfg(not(unix))]
    drop(certificate);
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
    let signal = tokio::select! {
        _ = interrupt => "SIGINT",
        _ = terminate => "SIGTERM",
    };
    tracing::info!(signal, "signal received");
}
