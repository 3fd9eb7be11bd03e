//! Server settings, from flags, `SDS_*` environment variables or a
//! `--config` file (`config_file.rs`), in that order of precedence.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use clap::Args;
use sds_core::limits::Limits;

use crate::database_url::{DatabaseUrl, DatabaseUrlParser};

#[derive(Args, Clone, Debug)]
pub struct ServeConfig {
    /// A TOML file of settings, keyed by these flags' long names (README,
    /// "Configuration file"); flags and `SDS_*` variables override it.
    #[arg(long, env = "SDS_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log lines as `text` or `json` (one object per line); `RUST_LOG`
    /// picks the levels (default `info`).
    #[arg(long, env = "SDS_LOG_FORMAT", value_enum, default_value_t = crate::logging::LogFormat::Text)]
    pub log_format: crate::logging::LogFormat,
    /// Where the store, spooled uploads and downloads live. With
    /// `--database-url`, only what is local to this server: the query
    /// tables' snapshots and temporary files.
    #[arg(long, env = "SDS_DATA_DIR", default_value = "./sds-data")]
    pub data_dir: PathBuf,
    /// The PostgreSQL (with PostGIS) store every server of a deployment
    /// shares: `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` (README,
    /// "Running on PostgreSQL"). Default: the SQLite store in the data dir.
    /// Shown and logged only with its password hidden.
    #[arg(long, env = "SDS_DATABASE_URL", hide_env_values = true, value_parser = DatabaseUrlParser)]
    pub database_url: Option<DatabaseUrl>,
    /// Address to listen on: `HOST:PORT` (`localhost:8082`, `0.0.0.0:80`,
    /// `[::1]:8080`) or a bare `PORT`, which means `127.0.0.1:PORT`. Port 0
    /// picks a free port.
    #[arg(long, env = "SDS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: ListenAddress,
    /// Base URL that links in responses use, e.g. `https://sds.example.com`
    /// behind a TLS-terminating proxy. Default: the request's scheme and host.
    /// A path (`https://example.com/sds`) is a prefix the server answers
    /// under too, besides the root.
    #[arg(long, env = "SDS_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Links follow a reverse proxy's `Forwarded` (RFC 7239) or
    /// `X-Forwarded-Host`/`X-Forwarded-Proto` headers. Set it only when a
    /// proxy that sets them is the only way in: clients can send them too.
    #[arg(long, env = "SDS_TRUST_PROXY_HEADERS", default_value_t = false)]
    pub trust_proxy_headers: bool,
    /// PEM certificate chain to serve HTTPS with (HTTP/1.1 and HTTP/2);
    /// needs `--tls-key`. Both files are read again on SIGHUP.
    #[arg(long, env = "SDS_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of `--tls-cert`.
    #[arg(long, env = "SDS_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Seconds that requests in flight and running jobs get to finish after
    /// SIGTERM or SIGINT; loads and downloads stop sooner, at their next
    /// batch, and run again from their input at the next start.
    #[arg(long, env = "SDS_SHUTDOWN_TIMEOUT", default_value_t = 30)]
    pub shutdown_timeout: u64,
    /// Threads serving HTTP (shards); 0 means one per core.
    #[arg(long, env = "SDS_WORKER_THREADS", default_value_t = 0)]
    pub worker_threads: usize,
    /// Seconds the Query API trusts a key or data source it read from the
    /// store at most; a change (`sds keys revoke`, another server's
    /// publish) normally reaches it within a second through the store's
    /// change counter.
    #[arg(long, env = "SDS_AUTH_CACHE_SECONDS", default_value_t = 10)]
    pub auth_cache_seconds: u64,
    /// Connections open at once; further ones wait in the listen backlog
    /// until one closes.
    #[arg(long, env = "SDS_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,
    /// Jobs that run at once across all accounts.
    #[arg(long, env = "SDS_JOB_WORKERS", default_value_t = 2)]
    pub job_workers: usize,
    /// Jobs of one account that run at once. Default: every job worker but
    /// one (at least one), so that another account's job always finds a
    /// free worker however slow one account's jobs are.
    #[arg(long, env = "SDS_JOB_WORKERS_PER_ACCOUNT")]
    pub job_workers_per_account: Option<usize>,
    /// Seconds a server's claim on a running job lasts without renewal (it
    /// renews every third of it). When servers share a store and one dies,
    /// another runs its jobs again once their claims run out.
    #[arg(long, env = "SDS_JOB_LEASE_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub job_lease_seconds: u64,
    /// Seconds a request body may send nothing before the request is given
    /// up (408) and its partial upload removed.
    #[arg(long, env = "SDS_BODY_IDLE_TIMEOUT_SECONDS", default_value_t = 30)]
    pub body_idle_timeout_seconds: u64,
    /// Largest uncompressed upload, in bytes.
    #[arg(long, env = "SDS_MAX_UPLOAD_BYTES", default_value_t = Limits::default().max_upload_bytes)]
    pub max_upload_bytes: u64,
    /// Most entities in one data source.
    #[arg(long, env = "SDS_MAX_ENTITIES", default_value_t = Limits::default().max_entities_per_data_source)]
    pub max_entities: u64,
    /// Copyright text of every response envelope.
    #[arg(long, env = "SDS_COPYRIGHT", default_value = "Copyright © 2026 sds. All rights reserved.")]
    pub copyright: String,
    /// Brand logo URL of every response envelope.
    #[arg(
        long,
        env = "SDS_BRAND_LOGO_URI",
        default_value = "http://dev.virtualearth.net/Branding/logo_powered_by.png"
    )]
    pub brand_logo_uri: String,
    /// Most data sources of one account; 0 (the default) lifts the limit.
    /// SDS Enterprise: 25.
    #[arg(long, env = "SDS_MAX_DATA_SOURCES")]
    pub max_data_sources: Option<u32>,
    /// Most jobs of one account pending at once (downloads excepted); 0
    /// lifts the limit. Default 10, as SDS.
    #[arg(long, env = "SDS_MAX_JOBS_IN_PROCESS")]
    pub max_jobs_in_process: Option<u32>,
    /// Most jobs of one account in a rolling 24 hours (downloads excepted);
    /// 0 (the default) lifts the limit. SDS Enterprise: 50.
    #[arg(long, env = "SDS_MAX_JOBS_PER_DAY")]
    pub max_jobs_per_day: Option<u32>,
    /// Impose all of SDS Enterprise's account quotas (25 data sources, 50
    /// jobs a day, 10 jobs in process); the three flags above override it.
    #[arg(long, env = "SDS_SDS_QUOTAS", default_value_t = false)]
    pub sds_quotas: bool,
    /// Days a staged version is kept unpublished before it is dropped.
    #[arg(long, env = "SDS_STAGED_RETENTION_DAYS", default_value_t = 30)]
    pub staged_retention_days: u32,
    /// Days a download job's output stays available; 0 keeps outputs.
    #[arg(long, env = "SDS_DOWNLOAD_RETENTION_DAYS", default_value_t = 15)]
    pub download_retention_days: u32,
    /// Whether publish and rollback status URLs answer without a key (the
    /// toolkit polls them verbatim; the random job id is the capability).
    #[arg(long, env = "SDS_KEYLESS_JOB_STATUS", default_value_t = true, action = clap::ArgAction::Set)]
    pub keyless_job_status: bool,
    /// The JSON `__type` of `$getstatus` answers: `dataflow` (what the
    /// toolkit requires) or `dataservice` (what the docs show).
    #[arg(long, env = "SDS_GETSTATUS_TYPE", default_value = "dataflow", value_parser = ["dataflow", "dataservice"])]
    pub getstatus_type: String,
    /// Hosts that `dataLocation` may fetch from (comma-separated; a leading
    /// `.` matches subdomains). Empty: any host with a public address.
    #[arg(long, env = "SDS_DATA_LOCATION_HOSTS", value_delimiter = ',')]
    pub data_location_hosts: Vec<String>,
    /// Lets `dataLocation` reach loopback, private and link-local addresses
    /// (refused by default: fetching arbitrary URLs from a server is a
    /// request-forgery risk).
    #[arg(long, env = "SDS_DATA_LOCATION_ALLOW_PRIVATE", default_value_t = false, action = clap::ArgAction::Set)]
    pub data_location_allow_private: bool,
    /// Seconds a whole `dataLocation` fetch may take, redirects included.
    #[arg(long, env = "SDS_DATA_LOCATION_TIMEOUT_SECONDS", default_value_t = crate::jobs::fetch::DEFAULT_DEADLINE.as_secs())]
    pub data_location_timeout_seconds: u64,
    /// Bytes per second a `dataLocation` fetch must bring, averaged over
    /// each 10 seconds (the response headers must come within the first 10).
    #[arg(
        long,
        env = "SDS_DATA_LOCATION_MIN_BYTES_PER_SECOND",
        default_value_t = crate::jobs::fetch::DEFAULT_MIN_BYTES_PER_SECOND
    )]
    pub data_location_min_bytes_per_second: u64,
    /// Most polygons in one KML or Shapefile upload (SDS Enterprise: 200,000).
    #[arg(long, env = "SDS_MAX_POLYGONS_PER_FILE", default_value_t = 200_000)]
    pub max_polygons_per_file: u64,
    /// Most points in one polygon of a KML or Shapefile upload (SDS Enterprise: 100,000).
    #[arg(long, env = "SDS_MAX_POINTS_PER_POLYGON", default_value_t = 100_000)]
    pub max_points_per_polygon: u64,
    /// Most points of an `intersects`/`intersection` geography (SDS: 250).
    #[arg(long, env = "SDS_QUERY_MAX_SHAPE_POINTS", default_value_t = 250)]
    pub query_max_shape_points: usize,
    /// MiB the Query API's in-memory tables may hold together, least
    /// recently used evicted first (default: a quarter of the machine's
    /// memory, from `/proc/meminfo`; 1024 when it cannot be read).
    #[arg(long, env = "SDS_QUERY_CACHE_MB")]
    pub query_cache_mb: Option<u64>,
    /// Deprecated and ignored (the cache is bounded by `--query-cache-mb`);
    /// still accepted so that existing command lines start.
    #[arg(long, env = "SDS_QUERY_CACHED_VERSIONS", hide = true)]
    pub query_cached_versions: Option<usize>,
    /// Nominatim-style geocoder for `nearby('address',km)`, e.g. `http://localhost:8088/search`.
    #[arg(long, env = "SDS_GEOCODER_URL")]
    pub geocoder_url: Option<String>,
    /// OSRM-style route service for `nearRoute`, e.g. `http://localhost:5000/route/v1/driving`.
    #[arg(long, env = "SDS_ROUTER_URL")]
    pub router_url: Option<String>,
    /// A secret that `GET /metrics` then requires as `Authorization: Bearer
    /// KEY`. Default: none, as Prometheus scrapers expect; metrics name
    /// routes and counts, never keys, names or ids.
    #[arg(long, env = "SDS_METRICS_KEY", hide_env_values = true)]
    pub metrics_key: Option<String>,
}

/// Where the store of a command other than `serve` is (`sds keys …`,
/// `sds backup`): the same flags and variables as `serve`'s.
#[derive(Args, Clone, Debug)]
pub struct StoreArgs {
    /// The server's data dir: its SQLite store, unless `--database-url`.
    #[arg(long, env = "SDS_DATA_DIR", default_value = "./sds-data")]
    pub data_dir: PathBuf,
    /// The PostgreSQL store, as `sds serve --database-url` (README,
    /// "Running on PostgreSQL"). Default: the SQLite store in the data dir.
    #[arg(long, env = "SDS_DATABASE_URL", hide_env_values = true, value_parser = DatabaseUrlParser)]
    pub database_url: Option<DatabaseUrl>,
}

/// Parses `serve` flags alone, for [`ServeConfig::with_data_dir`].
#[derive(clap::Parser)]
struct ServeOnly {
    #[command(flatten)]
    config: ServeConfig,
}

impl ServeConfig {
    /// Settings for tests and embedding: the defaults (and `SDS_*`
    /// variables) with the given directory.
    pub fn with_data_dir(data_dir: PathBuf) -> ServeConfig {
        let mut config = <ServeOnly as clap::Parser>::parse_from(["sds"]).config;
        config.data_dir = data_dir;
        config
    }

    /// The account limits in force. A self-hosted server has no daily job
    /// limit and no data-source limit unless `--sds-quotas` or the
    /// per-quota flags ask for SDS's (README, "Settings").
    pub fn limits(&self) -> Limits {
        let sds = Limits::default();
        Limits {
            max_upload_bytes: self.max_upload_bytes,
            max_entities_per_data_source: self.max_entities,
            max_jobs_in_process: self.max_jobs_in_process.unwrap_or(sds.max_jobs_in_process),
            max_jobs_per_day: self.max_jobs_per_day.unwrap_or(if self.sds_quotas { sds.max_jobs_per_day } else { 0 }),
            max_data_sources: self.max_data_sources.unwrap_or(if self.sds_quotas { sds.max_data_sources } else { 0 }),
            ..Limits::default()
        }
    }

    /// Jobs of one account that may run at once (see `--job-workers-per-account`).
    pub fn workers_per_account(&self) -> usize {
        let workers = self.job_workers.max(1);
        self.job_workers_per_account.unwrap_or(workers.saturating_sub(1)).clamp(1, workers)
    }

    /// Settings for a command that opens the store ([`StoreArgs`]): the
    /// defaults with its data dir and database URL.
    pub fn for_store(args: StoreArgs) -> ServeConfig {
        let mut config = ServeConfig::with_data_dir(args.data_dir);
        config.database_url = args.database_url;
        config
    }

    /// The SQLite store's file (unused with `--database-url`).
    pub fn store_path(&self) -> PathBuf {
        self.data_dir.join("sds.db")
    }

    /// The store for log lines and messages: `SQLite /abs/sds.db` or
    /// `PostgreSQL postgres://user:***@host/db` (never the password).
    pub fn store_description(&self) -> String {
        match &self.database_url {
            Some(url) => format!("PostgreSQL {url}"),
            None => {
                let path = self.store_path();
                format!("SQLite {}", std::path::absolute(&path).unwrap_or(path).display())
            }
        }
    }

    pub fn spool_dir(&self) -> PathBuf {
        self.data_dir.join("spool")
    }

    pub fn downloads_dir(&self) -> PathBuf {
        self.data_dir.join("downloads")
    }
}

/// A `--listen` value, normalised to `HOST:PORT` (a bare port means
/// loopback: a server reachable from other machines is asked for, never a
/// surprise). Host names resolve when binding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenAddress(String);

impl ListenAddress {
    /// `HOST:PORT`, for binding (host names resolve) and for links when a
    /// request names no host.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for ListenAddress {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        let value = value.trim();
        if let Ok(port) = value.parse::<u16>() {
            return Ok(ListenAddress(format!("127.0.0.1:{port}")));
        }
        let refused = || format!("'{value}' is not PORT, HOST:PORT or [IPv6]:PORT");
        let (host, port) = value.rsplit_once(':').ok_or_else(refused)?;
        let bracketed = host.starts_with('[') && host.ends_with(']');
        if host.is_empty() || port.parse::<u16>().is_err() || (host.contains(':') && !bracketed) {
            return Err(refused());
        }
        Ok(ListenAddress(value.to_owned()))
    }
}

impl fmt::Display for ListenAddress {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::ListenAddress;

    #[test]
    fn listen_takes_a_bare_port_or_host_and_port() {
        let parse = |value: &str| value.parse::<ListenAddress>().map(|address| address.to_string());
        assert_eq!(parse("8085").as_deref(), Ok("127.0.0.1:8085"));
        assert_eq!(parse("localhost:8082").as_deref(), Ok("localhost:8082"));
        assert_eq!(parse("0.0.0.0:80").as_deref(), Ok("0.0.0.0:80"));
        assert_eq!(parse("[::1]:8080").as_deref(), Ok("[::1]:8080"));
        for wrong in ["", "localhost", ":80", "host:http", "::1:80", "70000"] {
            assert!(parse(wrong).is_err(), "{wrong} was taken");
        }
    }
}
