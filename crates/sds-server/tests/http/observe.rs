//! Health, readiness, metrics and the request log (issue 12, "Health and
//! metrics" and "Logs"), on a real server.

use std::collections::HashMap;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::server::{access_id_of, JsonBody, TestServer};

const SHOPS: &str = "Bing Spatial Data Services, 1.0, Shops\nEntityID(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\n1,Alpha,47.6,-122.3\n2,Beta,47.61,-122.31\n3,Gamma,47.62,-122.32\n";

/// The Prometheus text as series (name with labels, as printed) to value.
fn scrape(server: &TestServer) -> (String, HashMap<String, f64>) {
    let response = server.get("/metrics");
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain; version=0.0.4"), "{content_type}");
    let text = response.text().unwrap();
    let series = text
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("a series and its value");
            (series.to_owned(), value.parse::<f64>().expect("a number"))
        })
        .collect();
    (text, series)
}

fn value(series: &HashMap<String, f64>, name: &str) -> f64 {
    series.get(name).copied().unwrap_or(0.0)
}

#[test]
fn probes_answer_while_the_server_runs() {
    let server = TestServer::start();
    let health = server.get("/healthz");
    assert_eq!(health.status(), 200);
    assert_eq!(health.json_value()["status"], "ok");
    let ready = server.get("/readyz");
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.json_value()["status"], "ready");
}

#[test]
fn counters_move_after_a_load_a_query_and_a_download() {
    let server = TestServer::start();
    let (_, before) = scrape(&server);
    let job = server.load_and_wait("Shops", "complete", "csv", SHOPS);
    assert_eq!(job["status"], "Completed", "{job}");
    let access_id = access_id_of(&job);
    let query = format!(
        "/REST/v1/data/{access_id}/Shops/Shops?spatialFilter=nearby(47.6,-122.3,10)&$format=json&key={}",
        server.query_key
    );
    for _ in 0..2 {
        assert_eq!(server.get(&query).status(), 200);
    }
    let downloaded = server.download(&access_id, "Shops");
    assert!(downloaded.contains("Gamma"));
    let (text, after) = scrape(&server);

    let moved = |name: &str| value(&after, name) - value(&before, name);
    assert_eq!(
        moved(r#"sds_http_requests_total{method="POST",route="/REST/v1/Dataflows/LoadDataSource",status="201"}"#),
        1.0,
        "{text}"
    );
    let query_route = "/REST/v1/data/{accessId}/{dataSourceName}/{entityTypeName}";
    assert_eq!(
        moved(&format!(r#"sds_http_requests_total{{method="GET",route="{query_route}",status="200"}}"#)),
        2.0,
        "{text}"
    );
    assert_eq!(
        moved(&format!(r#"sds_http_request_duration_seconds_count{{method="GET",route="{query_route}"}}"#)),
        2.0
    );
    assert_eq!(moved(r#"sds_jobs_submitted_total{kind="DataSourceComplete"}"#), 1.0, "{text}");
    assert_eq!(moved(r#"sds_jobs_finished_total{kind="DataSourceComplete",state="Completed"}"#), 1.0, "{text}");
    assert_eq!(moved(r#"sds_jobs_finished_total{kind="DataSourceDownload",state="Completed"}"#), 1.0, "{text}");
    assert_eq!(moved(r#"sds_job_duration_seconds_count{kind="DataSourceComplete",state="Completed"}"#), 1.0, "{text}");
    assert_eq!(moved("sds_entities_loaded_total"), 3.0, "{text}");
    assert_eq!(moved("sds_entities_downloaded_total"), 3.0, "{text}");
    // The load built the version's table and handed it to the cache: both
    // queries find it.
    assert_eq!(moved("sds_query_table_cache_misses_total"), 0.0, "{text}");
    assert_eq!(moved("sds_query_table_cache_hits_total"), 2.0, "{text}");
    assert!(value(&after, "sds_query_table_cache_bytes") > 0.0, "{text}");
    assert_eq!(value(&after, "sds_query_table_cache_tables"), 1.0, "{text}");
    assert_eq!(value(&after, r#"sds_jobs{kind="DataSourceComplete",state="waiting"}"#), 0.0, "{text}");
    let store_calls: f64 = after
        .iter()
        .filter(|(series, _)| series.starts_with("sds_store_call_duration_seconds_count{"))
        .map(|(_, count)| count)
        .sum();
    assert!(store_calls >= 3.0, "{text}");
    // Labels are templates: no key, id or name reaches the metrics.
    for secret in [&server.master_key, &server.query_key, &access_id, &"Shops".to_owned()] {
        assert!(!text.contains(secret.as_str()), "{secret} in\n{text}");
    }
}

#[test]
fn a_metrics_key_when_set_is_required() {
    let server = TestServer::start_with(&["--metrics-key", "scrape-secret-123"]);
    assert_eq!(server.get("/metrics").status(), 401);
    let wrong = server.client.get(server.url("/metrics")).bearer_auth("nope").send().unwrap();
    assert_eq!(wrong.status(), 401);
    let right = server.client.get(server.url("/metrics")).bearer_auth("scrape-secret-123").send().unwrap();
    assert_eq!(right.status(), 200);
    assert!(right.text().unwrap().contains("sds_http_requests_total"));
}

/// The server's JSON log lines so far, once `wanted` holds for one of them
/// (lines are written by a background thread).
fn log_lines(server: &TestServer, wanted: impl Fn(&Value) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(server.data_dir().join("server.log")).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
            .collect();
        if lines.iter().any(&wanted) {
            return lines;
        }
        assert!(Instant::now() < deadline, "no such line in\n{text}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn json_log_has_one_line_per_request_with_the_envelopes_trace_id_and_no_key() {
    let server = TestServer::start_with(&["--log-format", "json"]);
    let job = server.load_and_wait("Shops", "complete", "csv", SHOPS);
    let access_id = access_id_of(&job);
    // A filter that fails: the error envelope carries the trace id a user
    // would report.
    let query = format!(
        "/REST/v1/data/{access_id}/Shops/Shops?$filter=Name%20eq%20'Beta'%20and&$format=json&key={}",
        server.query_key
    );
    let answer = server.get(&query).json_value();
    let trace_id = answer["traceId"].as_str().unwrap_or_else(|| panic!("no traceId in {answer}")).to_owned();
    let lines = log_lines(&server, |line| line["trace_id"] == trace_id.as_str());

    let request: Vec<&Value> = lines.iter().filter(|line| line["trace_id"] == trace_id.as_str()).collect();
    assert_eq!(request.len(), 1, "one line per request: {request:?}");
    let line = request[0];
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["message"], "request");
    assert_eq!(line["method"], "GET");
    assert_eq!(line["route"], "/REST/v1/data/{accessId}/{dataSourceName}/{entityTypeName}");
    assert_eq!(line["status"], 400);
    assert!(line["latency_ms"].as_f64().is_some_and(|ms| ms > 0.0), "{line}");

    // Job state changes name the data source.
    let states: Vec<&str> =
        lines.iter().filter(|line| line["data_source"] == "Shops").filter_map(|line| line["state"].as_str()).collect();
    assert_eq!(states, ["Pending", "running", "Completed"], "{lines:?}");
    // Start-up names the absolute data dir, the address and the store.
    let started = lines.iter().find(|line| line["message"] == "sds started").expect("a start-up line");
    let data_dir = std::path::absolute(server.data_dir()).unwrap();
    assert_eq!(started["data_dir"], data_dir.display().to_string());
    assert_eq!(format!("http://{}", started["listen"].as_str().unwrap()), server.base);
    let store = match server.database_url() {
        Some(url) => format!("PostgreSQL {url}"),
        None => format!("SQLite {}", data_dir.join("sds.db").display()),
    };
    assert_eq!(started["store"], store);

    let text = std::fs::read_to_string(server.data_dir().join("server.log")).unwrap();
    for key in [&server.master_key, &server.query_key] {
        assert!(!text.contains(key.as_str()), "a key reached the log");
    }
    assert!(!text.contains("Beta"), "the query string reached the log");
    assert!(!text.contains('\u{1b}'), "colour codes in a log file");
}

/// Runs `sds serve` expecting it to fail at start; returns its stderr.
fn failed_start(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_sds"))
        .arg("serve")
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .env_remove("SDS_CONFIG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("sds: ") && !stderr.contains("backtrace"), "{stderr}");
    stderr
}

#[test]
fn an_address_in_use_is_one_line_and_exit_status_1() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let temp = tempfile::tempdir().unwrap();
    let data_dir = temp.path().join("data");
    let stderr = failed_start(&["--listen", &address, "--data-dir", data_dir.to_str().unwrap()]);
    assert!(stderr.contains(&address) && stderr.contains("in use"), "{stderr}");
    assert!(!data_dir.join("sds.db").exists(), "no store (and no keys) made for a server that cannot listen");
}

#[test]
fn an_unusable_data_dir_is_one_line_and_exit_status_1() {
    let temp = tempfile::tempdir().unwrap();
    let file = temp.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let data_dir = file.join("data");
    let stderr = failed_start(&["--listen", "127.0.0.1:0", "--data-dir", data_dir.to_str().unwrap()]);
    assert!(stderr.contains(&data_dir.display().to_string()), "{stderr}");
}
