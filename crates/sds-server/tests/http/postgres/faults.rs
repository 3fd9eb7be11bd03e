//! The database going away under a running server (issue 13, "Database
//! faults"): requests that need it get 503 in the SDS envelope, `/readyz`
//! says why, the server keeps running, every acknowledged job still ends
//! Completed or Aborted, and everything works again once the database is
//! back, without restarting `sds`.
//!
//! The test runs its own cluster (`$SDS_TEST_PG_BIN/initdb` in a temp dir),
//! since it stops and restarts it.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::skip_unless_postgres;
use crate::common::database::TestDatabase;
use crate::common::dataset;
use crate::common::server::{access_id_of, location, JsonBody, TestServer};
use crate::fixtures::*;

/// A throwaway PostgreSQL cluster on a free loopback port, stopped (and
/// its files removed) when dropped. As root, it runs as Debian's
/// `postgres` user, as `.ci/pg-test-cluster` does.
struct OwnCluster {
    temp: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

impl OwnCluster {
    fn start() -> OwnCluster {
        let bin = PathBuf::from(std::env::var("SDS_TEST_PG_BIN").expect(
            "SDS_TEST_PG_BIN (from `eval \"$(.ci/pg-test-cluster)\"`) names the directory of initdb and pg_ctl",
        ));
        let temp = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let cluster = OwnCluster { temp, bin, port };
        if is_root() {
            assert!(Command::new("chown").arg("postgres").arg(cluster.temp.path()).status().unwrap().success());
        }
        cluster.run(
            "initdb",
            &[
                "-D",
                cluster.data().to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
            ],
        );
        let conf = format!(
            "listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\nfsync = off\n",
            cluster.temp.path().display()
        );
        let conf_path = cluster.data().join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf_path).unwrap();
        text.push_str(&conf);
        std::fs::write(&conf_path, text).unwrap();
        cluster.pg_ctl(&["start"]);
        cluster
    }

    fn data(&self) -> PathBuf {
        self.temp.path().join("data")
    }

    fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn run(&self, program: &str, args: &[&str]) {
        let path = self.bin.join(program);
        let mut command = if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&path);
            command
        } else {
            Command::new(&path)
        };
        let output = command.args(args).output().unwrap();
        assert!(output.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    }

    /// `pg_ctl ACTION` on this cluster, waiting for it to finish.
    fn pg_ctl(&self, action: &[&str]) {
        let data = self.data();
        let log = self.temp.path().join("server.log");
        let mut args = vec!["-D", data.to_str().unwrap(), "-l", log.to_str().unwrap(), "-w", "-m", "fast"];
        args.extend_from_slice(action);
        self.run("pg_ctl", &args);
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = Command::new(self.bin.join("pg_ctl")).arg("-D").arg(&data).args(["-m", "immediate", "stop"]).output();
        if is_root() {
            let _ = Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .args(["-m", "immediate", "stop"])
                .output();
        }
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|output| output.stdout.starts_with(b"0\n")).unwrap_or(false)
}

/// The answer's status and its SDS envelope (`None` when the body is not JSON).
fn answer(response: reqwest::blocking::Response) -> (u16, Option<Value>) {
    let status = response.status().as_u16();
    (status, serde_json::from_str(&response.text().unwrap()).ok())
}

/// Sends a request and asserts that it is answered with the 503 of an
/// unreachable database within `within`: the SDS envelope, its message
/// naming the database, `Retry-After`.
fn assert_unavailable(request: impl FnOnce() -> reqwest::blocking::Response, what: &str, within: Duration) {
    let started = Instant::now();
    let response = request();
    let waited = started.elapsed();
    assert!(waited < within, "{what}: answered after {waited:?}");
    assert!(response.headers().get("retry-after").is_some(), "{what}: {:?}", response.headers());
    let (status, body) = answer(response);
    assert_eq!(status, 503, "{what}: {body:?}");
    let body = body.unwrap_or_else(|| panic!("{what}: not an SDS envelope"));
    assert_eq!(body["statusCode"], 503, "{what}: {body}");
    let details = body["errorDetails"].to_string();
    assert!(details.contains("database"), "{what}: {body}");
}

fn wait_ready(server: &TestServer, within: Duration) {
    let started = Instant::now();
    while server.get("/readyz").status() != 200 {
        assert!(started.elapsed() < within, "not ready again after {within:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    println!("ready again {:?} after the database", started.elapsed());
}

fn rows_of(server: &TestServer, access_id: &str) -> usize {
    dataset::parse(&server.download(access_id, "Shops")).rows.len()
}

/// Waits for an acknowledged load to end after an outage; checks that
/// the published version is the old one or the whole new one.
fn ended_whole(server: &TestServer, status_url: &str, access_id: &str, old_rows: usize, new_rows: usize) {
    let job = server.wait_job(&server.on_current_port(status_url), &server.master_key);
    println!("the job interrupted by the outage ended {}: {}", job["status"], job["errorMessage"]);
    let rows = rows_of(server, access_id);
    match job["status"].as_str() {
        Some("Completed") => assert_eq!(rows, new_rows, "{job}"),
        Some("Aborted") => {
            assert!(!job["errorMessage"].as_str().unwrap_or("").is_empty(), "an abort says why: {job}");
            assert_eq!(rows, old_rows, "{job}");
        }
        other => panic!("{other:?}: {job}"),
    }
}

#[test]
fn a_database_outage_answers_503_and_the_server_recovers_without_a_restart() {
    if skip_unless_postgres() {
        return;
    }
    let began = Instant::now();
    let cluster = OwnCluster::start();
    println!("cluster up after {:?}", began.elapsed());
    let name = format!("sds_fault_{:08x}", rand::random::<u32>());
    let database = Arc::new(TestDatabase::create_in(&cluster.admin_url(), name));
    let server = TestServer::start_on_database(Some(Arc::clone(&database)), &[]);
    let access_id = access_id_of(&server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV));

    // An acknowledged load, then the database stops under it.
    let acknowledged = server.load("Shops", "complete", "csv", gzip(many_shops_csv(20_000).as_bytes()), "");
    assert_eq!(acknowledged.status(), 201);
    let acknowledged_url = location(&acknowledged);
    cluster.pg_ctl(&["stop"]);
    println!("database stopped after {:?}", began.elapsed());

    let ready = server.get("/readyz");
    assert_eq!(ready.status(), 503);
    assert_eq!(ready.json_value()["status"], "unavailable");
    assert_eq!(server.get("/healthz").status(), 200, "the process is alive: no reason to restart it");
    // The first call to find the database gone waits the connect timeout
    // at most; the ones right after it are answered at once.
    assert_unavailable(
        || server.get(&format!("{acknowledged_url}?output=json&key={}", server.master_key)),
        "a job status",
        sds_store::POSTGRES_CONNECT_TIMEOUT + Duration::from_secs(3),
    );
    assert_unavailable(
        || server.get(&format!("/REST/v1/data?$format=json&key={}", server.master_key)),
        "a listing",
        Duration::from_millis(500),
    );
    assert_unavailable(
        || {
            let refused = server.load("Areas", "complete", "csv", AREAS_CSV, "");
            assert!(refused.headers().get("location").is_none(), "no job acknowledged without the database");
            refused
        },
        "a load",
        Duration::from_millis(500),
    );
    assert!(!server.log().contains("panicked"), "{}", server.log());

    cluster.pg_ctl(&["start"]);
    println!("database started after {:?}", began.elapsed());
    wait_ready(&server, Duration::from_secs(30));
    ended_whole(&server, &acknowledged_url, &access_id, 3, 20_000);
    let areas = server.load_and_wait("Areas", "complete", "csv", AREAS_CSV);
    assert_eq!(areas["status"], "Completed", "{areas}");

    // `pg_ctl restart` while a load runs: the same, and no request after
    // it fails.
    let before = rows_of(&server, &access_id);
    let running = server.load("Shops", "complete", "csv", gzip(many_shops_csv(30_000).as_bytes()), "");
    assert_eq!(running.status(), 201);
    let running_url = location(&running);
    std::thread::sleep(Duration::from_millis(200));
    cluster.pg_ctl(&["restart"]);
    println!("database restarted after {:?}", began.elapsed());
    wait_ready(&server, Duration::from_secs(30));
    ended_whole(&server, &running_url, &access_id, before, 30_000);
    let listing = server.get(&format!("/REST/v1/data?$format=json&key={}", server.master_key));
    assert_eq!(listing.status(), 200);
    // The server and its database go before the cluster they live in.
    drop(server);
    drop(database);
}
