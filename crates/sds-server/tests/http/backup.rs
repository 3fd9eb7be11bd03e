//! `sds backup` while the server loads, and the restore: a fresh data dir
//! holding only the backup file serves every published data source with the
//! same answers.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::database::skip_on_postgres;
use crate::common::server::{access_id_of, location, JsonBody, TestServer};
use crate::fixtures::*;

fn backup(data_dir: &std::path::Path, to: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sds"))
        .args(["backup", "--to"])
        .arg(to)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("SDS_DATABASE_URL")
        .output()
        .unwrap()
}

/// A query's results, with the server's own address taken out of the
/// entities' `__metadata` URIs (the restored server has another port).
fn results(server: &TestServer, access_id: &str, name: &str, entity_type: &str) -> Value {
    let response = server.get(&format!(
        "/REST/v1/data/{access_id}/{name}/{entity_type}?$format=json&$orderby={}&$top=250&key={}",
        if entity_type == "Areas" { "AreaId" } else { "EntityID" },
        server.query_key
    ));
    assert_eq!(response.status(), 200, "{name}");
    let text = response.text().unwrap().replace(&server.base, "http://SERVER");
    serde_json::from_str::<Value>(&text).unwrap()["d"]["results"].clone()
}

fn job_of(server: &TestServer, status_url: &str) -> Value {
    let url = format!("{}?output=json&key={}", server.on_current_port(status_url), server.master_key);
    server.get(&url).json_value()["resourceSets"][0]["resources"][0].clone()
}

#[test]
fn a_backup_made_during_a_load_restores_into_a_fresh_data_dir_serving_every_published_source() {
    if skip_on_postgres("sds backup copies the SQLite store (a PostgreSQL store is backed up with pg_dump)") {
        return;
    }
    let server = TestServer::start_with(&["--job-workers", "1"]);
    let shops = access_id_of(&server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV));
    server.load_and_wait("Shops", "incremental", "pipe", SHOPS_PIPE);
    let areas = access_id_of(&server.load_and_wait("Areas", "complete", "csv", AREAS_CSV));
    let published = [(shops, "Shops", "Shops"), (areas, "Areas", "Areas")];

    // A big load running, another upload waiting behind it.
    let big = server.load("Big", "complete", "csv", gzip(many_shops_csv(150_000).as_bytes()), "");
    assert_eq!(big.status(), 201);
    let big_url = location(&big);
    let deadline = Instant::now() + Duration::from_secs(60);
    while job_of(&server, &big_url)["processedEntityCount"].as_u64().unwrap_or(0) == 0 {
        assert!(Instant::now() < deadline, "the big load never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let waiting = server.load("Waiting", "complete", "tab", SHOPS_TAB, "");
    assert_eq!(waiting.status(), 201);
    let waiting_url = location(&waiting);

    let temp = tempfile::tempdir().unwrap();
    let file = temp.path().join("sds-backup.db");
    let made = backup(server.data_dir(), &file);
    let stdout = String::from_utf8_lossy(&made.stdout);
    assert!(made.status.success(), "{stdout}{}", String::from_utf8_lossy(&made.stderr));
    assert_eq!(job_of(&server, &big_url)["status"], "Pending", "the backup ran while the load did");
    assert!(stdout.contains("backed up the store to"), "{stdout}");
    assert!(
        stdout.contains("2 load(s) not finished yet (their uploaded input is outside the store) are not in it"),
        "{stdout}"
    );
    assert!(!temp.path().join("sds-backup.db.part").exists());
    // One self-contained file: nothing of it is left in a write-ahead log.
    for leftover in ["sds-backup.db-wal", "sds-backup.db.part-wal"] {
        let wal = temp.path().join(leftover);
        assert!(std::fs::metadata(&wal).map_or(true, |meta| meta.len() == 0), "{leftover} holds part of the backup");
    }

    // Restore: a fresh data dir with the file as sds.db.
    let restored_dir = temp.path().join("restored");
    std::fs::create_dir(&restored_dir).unwrap();
    std::fs::copy(&file, restored_dir.join("sds.db")).unwrap();
    let mut restored = TestServer::start_on(&restored_dir, &[]);
    restored.master_key = server.master_key.clone();
    restored.query_key = server.query_key.clone();
    for (access_id, name, entity_type) in &published {
        let answer = results(&restored, access_id, name, entity_type);
        assert!(!answer.as_array().unwrap().is_empty(), "{name}: {answer}");
        assert_eq!(answer, results(&server, access_id, name, entity_type), "{name} answers the same");
    }
    // The loads whose upload the backup does not hold end Aborted there,
    // saying so; on the original server they complete.
    for url in [&big_url, &waiting_url] {
        let job = restored.wait_job(&restored.on_current_port(url), &restored.master_key);
        assert_eq!(job["status"], "Aborted", "{job}");
        assert!(job["errorMessage"].as_str().unwrap().contains("upload it again"), "{job}");
        assert_eq!(server.wait_job(url, &server.master_key)["status"], "Completed");
    }
}

#[test]
fn a_backup_of_a_dir_without_a_store_names_it_and_writes_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let file = temp.path().join("backup.db");
    let made = backup(&temp.path().join("empty"), &file);
    assert!(!made.status.success());
    let stderr = String::from_utf8_lossy(&made.stderr);
    assert!(stderr.contains("holds no store"), "{stderr}");
    assert!(!file.exists());
}

/// `sds backup` copies SQLite files; asked to back up a PostgreSQL store,
/// it refuses before connecting, points at `pg_dump`, never shows the
/// password and writes nothing.
#[test]
fn a_backup_of_a_postgresql_store_points_at_pg_dump() {
    let temp = tempfile::tempdir().unwrap();
    let file = temp.path().join("backup.db");
    let made = Command::new(env!("CARGO_BIN_EXE_sds"))
        .args(["backup", "--to"])
        .arg(&file)
        .arg("--data-dir")
        .arg(temp.path())
        .env("SDS_DATABASE_URL", "postgres://sds:hunter22@db.invalid:5432/sds")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&made.stderr);
    assert_eq!(made.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("pg_dump") && stderr.contains("postgres://sds:***@db.invalid:5432/sds"), "{stderr}");
    assert!(!stderr.contains("hunter22"), "{stderr}");
    assert!(!file.exists());
}
