//! `GET /metrics`: Prometheus text format (exposition format 0.0.4), from
//! the `metrics` facade and `metrics-exporter-prometheus`.
//!
//! Recording goes through the facade's global recorder: a counter bump is
//! an atomic add on a handle found in a sharded map, with no lock held
//! across requests, so the HTTP shards never wait on each other.
//! Histograms are cumulative buckets (`_bucket`, `_sum`, `_count`).
//! Gauges of state that lives elsewhere (jobs, the query cache) are read
//! when scraped. README, "Health and metrics", tables every metric; a test
//! keeps that table and [`METRICS`] in step.

use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

pub const HTTP_REQUESTS: &str = "sds_http_requests_total";
pub const HTTP_DURATION: &str = "sds_http_request_duration_seconds";
pub const JOBS_SUBMITTED: &str = "sds_jobs_submitted_total";
pub const JOBS_FINISHED: &str = "sds_jobs_finished_total";
pub const JOBS: &str = "sds_jobs";
pub const JOB_DURATION: &str = "sds_job_duration_seconds";
pub const ENTITIES_LOADED: &str = "sds_entities_loaded_total";
pub const ENTITIES_DOWNLOADED: &str = "sds_entities_downloaded_total";
pub const QUERY_TABLE_HITS: &str = "sds_query_table_cache_hits_total";
pub const QUERY_TABLE_MISSES: &str = "sds_query_table_cache_misses_total";
pub const QUERY_CACHE_BYTES: &str = "sds_query_table_cache_bytes";
pub const QUERY_CACHE_BUDGET: &str = "sds_query_table_cache_budget_bytes";
pub const QUERY_CACHE_TABLES: &str = "sds_query_table_cache_tables";
pub const STORE_DURATION: &str = "sds_store_call_duration_seconds";

/// Every metric: name, labels, and what it counts (README's table).
pub const METRICS: &[(&str, &str, &str)] = &[
    (HTTP_REQUESTS, "method, route, status", "HTTP requests answered, by route template and status code"),
    (HTTP_DURATION, "method, route", "time from request to response headers, in seconds"),
    (JOBS_SUBMITTED, "kind", "jobs accepted (stored Pending)"),
    (JOBS_FINISHED, "kind, state", "jobs ended, `state` `Completed` or `Aborted`"),
    (JOBS, "kind, state", "jobs not ended, at scrape time: `state` `waiting` or `running`"),
    (JOB_DURATION, "kind, state", "time a job ran, from start to end, in seconds"),
    (ENTITIES_LOADED, "", "entities written by completed loads"),
    (ENTITIES_DOWNLOADED, "", "entities written by completed downloads"),
    (QUERY_TABLE_HITS, "", "queries that found their version's table in memory (or being built)"),
    (QUERY_TABLE_MISSES, "", "queries that had to build their version's table from the store"),
    (QUERY_CACHE_BYTES, "", "heap bytes the cached query tables hold"),
    (QUERY_CACHE_BUDGET, "", "the `--query-cache-mb` budget, in bytes"),
    (QUERY_CACHE_TABLES, "", "query tables cached"),
    (STORE_DURATION, "call", "store calls of HTTP handlers, by handler, in seconds"),
];

/// Request and store-call buckets: a cached query takes tens of
/// microseconds, a large download minutes.
const FAST_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// Job buckets: seconds to an hour.
const JOB_BUCKETS: &[f64] = &[0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process's recorder (once; later calls return the same
/// handle) and describes every metric.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(JOB_DURATION.to_owned()), JOB_BUCKETS)
                .and_then(|builder| {
                    builder.set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), FAST_BUCKETS)
                })
                .expect("the bucket lists are not empty")
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).expect("no other metrics recorder is installed");
            for (name, _, help) in METRICS {
                if name.ends_with("_total") {
                    metrics::describe_counter!(*name, *help);
                } else if name.ends_with("_seconds") {
                    metrics::describe_histogram!(*name, metrics::Unit::Seconds, *help);
                } else {
                    metrics::describe_gauge!(*name, *help);
                }
            }
            handle
        })
        .clone()
}

/// Drains histogram samples into their buckets now and then, so memory
/// stays flat when nobody scrapes. Runs for the life of the process.
pub async fn upkeep(handle: PrometheusHandle) {
    loop {
        tokio::time::sleep(Duration::from_secs(5)).await;
        handle.run_upkeep();
    }
}

/// `GET /metrics`. With `--metrics-key`, only for a request that sends that
/// key as `Authorization: Bearer KEY`; 401 otherwise.
pub async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(expected) = &state.config.metrics_key {
        let sent = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        let matches =
            sent.is_some_and(|sent| bool::from(subtle::ConstantTimeEq::ct_eq(sent.as_bytes(), expected.as_bytes())));
        if !matches {
            return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], "a metrics key is required\n")
                .into_response();
        }
    }
    record_job_gauges(&state).await;
    let cache = &state.query_cache;
    metrics::gauge!(QUERY_CACHE_BYTES).set(cache.held_bytes() as f64);
    metrics::gauge!(QUERY_CACHE_BUDGET).set(cache.budget_bytes() as f64);
    metrics::gauge!(QUERY_CACHE_TABLES).set(cache.table_count() as f64);
    let text = install().render();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

/// Sets `sds_jobs` from the store's pending jobs and the engine's running
/// ones; every kind and state seen before is set again (to 0 when none is
/// left), so a series drops to zero rather than keeping its last value.
async fn record_job_gauges(state: &AppState) {
    use sds_core::JobKind;
    let Ok(pending) = state.store_call(|store| store.pending_jobs()).await else {
        return;
    };
    let mut counts: std::collections::BTreeMap<(&'static str, &'static str), u64> = Default::default();
    for kind in JobKind::ALL {
        for job_state in ["waiting", "running"] {
            counts.insert((kind.as_str(), job_state), 0);
        }
    }
    for job in &pending {
        let job_state = if state.engine.progress(&job.id).is_some() { "running" } else { "waiting" };
        *counts.entry((job.kind.as_str(), job_state)).or_default() += 1;
    }
    for ((kind, job_state), count) in counts {
        metrics::gauge!(JOBS, "kind" => kind, "state" => job_state).set(count as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::METRICS;

    /// README's table names every metric, with its labels.
    #[test]
    fn readme_tables_every_metric() {
        let readme = include_str!("../../../../README.md");
        for (name, labels, _) in METRICS {
            let row = readme
                .lines()
                .find(|line| line.starts_with(&format!("| `{name}` |")))
                .unwrap_or_else(|| panic!("README's metrics table lacks {name}"));
            for label in labels.split(", ").filter(|label| !label.is_empty()) {
                assert!(row.contains(&format!("`{label}`")), "{name}'s row lacks the label {label}: {row}");
            }
        }
    }
}
