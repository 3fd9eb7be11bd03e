//! HTTPS without a proxy: the real binary with a certificate the test makes
//! (`rcgen`), clients that trust only that certificate, HTTP/2 and HTTP/1.1
//! by ALPN, the certificate reloaded on SIGHUP, and a bad pair refused at
//! start-up.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::server::{access_id_of, link, JsonBody, TestServer};
use crate::fixtures::*;

/// A self-signed certificate for 127.0.0.1 and localhost: its PEM, and the
/// key's PEM.
fn self_signed() -> (String, String) {
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    (made.cert.pem(), made.signing_key.serialize_pem())
}

fn write_pair(dir: &Path, (cert, key): &(String, String)) -> (PathBuf, PathBuf) {
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert).unwrap();
    std::fs::write(&key_path, key).unwrap();
    (cert_path, key_path)
}

/// A client that trusts only `cert_pem` (and no built-in root), on fresh
/// connections of its own.
fn trusting(cert_pem: &str, http1_only: bool) -> reqwest::blocking::Client {
    let builder = reqwest::blocking::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap()])
        .timeout(Duration::from_secs(120))
        .no_gzip();
    let builder = if http1_only { builder.http1_only() } else { builder };
    builder.build().unwrap()
}

fn start_tls(cert: &Path, key: &Path) -> TestServer {
    TestServer::start_with(&["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()])
}

#[test]
fn https_serves_a_load_and_a_query_over_http2_and_http1() {
    let temp = tempfile::tempdir().unwrap();
    let pair = self_signed();
    let (cert, key) = write_pair(temp.path(), &pair);
    let mut server = start_tls(&cert, &key);
    assert!(server.base.starts_with("https://127.0.0.1:"), "{}", server.base);
    server.client = trusting(&pair.0, false);

    let job = server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV);
    assert_eq!(job["status"], "Completed", "{job}");
    assert!(link(&job, "self", None).starts_with(&server.root), "links say https: {job}");
    let query = format!(
        "{}/data/{}/Shops/Shops?$format=json&$orderby=EntityID&key={}",
        server.root,
        access_id_of(&job),
        server.query_key
    );
    let response = server.client.get(&query).send().unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2, "ALPN chose HTTP/2");
    assert_eq!(response.status(), 200);
    let over_http2 = response.json_value();
    assert_eq!(over_http2["d"]["results"].as_array().unwrap().len(), 3, "{over_http2}");

    let response = trusting(&pair.0, true).get(&query).send().unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_11);
    assert_eq!(response.json_value()["d"]["results"], over_http2["d"]["results"]);

    let untrusting = reqwest::blocking::Client::builder().http1_only().build().unwrap();
    assert!(untrusting.get(&query).send().is_err(), "a client that does not trust the certificate is refused");
}

#[test]
fn sighup_reloads_the_certificate_for_new_connections() {
    let temp = tempfile::tempdir().unwrap();
    let old = self_signed();
    let (cert, key) = write_pair(temp.path(), &old);
    let server = start_tls(&cert, &key);
    let url = format!("{}/data?$format=json&key={}", server.root, server.master_key);
    assert_eq!(trusting(&old.0, false).get(&url).send().unwrap().status(), 200);

    let new = self_signed();
    write_pair(temp.path(), &new);
    let hangup = Command::new("kill").args(["-HUP", &server.pid().to_string()]).status().unwrap();
    assert!(hangup.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while trusting(&new.0, false).get(&url).send().is_err() {
        assert!(Instant::now() < deadline, "the new certificate was never served");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(trusting(&old.0, false).get(&url).send().is_err(), "new connections no longer get the old certificate");

    // A bad pair at the next SIGHUP keeps the current one serving.
    std::fs::write(&key, "not a key").unwrap();
    assert!(Command::new("kill").args(["-HUP", &server.pid().to_string()]).status().unwrap().success());
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(trusting(&new.0, false).get(&url).send().unwrap().status(), 200);
}

/// `sds serve` with this pair: its exit status and stderr.
fn serve_refused(cert: &Path, key: &Path) -> (Option<i32>, String) {
    let temp = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_sds"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(temp.path())
        .arg("--tls-cert")
        .arg(cert)
        .arg("--tls-key")
        .arg(key)
        .output()
        .unwrap();
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn a_bad_certificate_or_key_stops_the_start_with_one_clear_error() {
    let temp = tempfile::tempdir().unwrap();
    let (cert, key) = write_pair(temp.path(), &self_signed());
    let missing = temp.path().join("missing.pem");
    let (status, stderr) = serve_refused(&missing, &key);
    assert_eq!(status, Some(1), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains(&format!("cannot read the TLS certificate {}", missing.display())), "{stderr}");

    let (status, stderr) = serve_refused(&key, &key);
    assert_eq!(status, Some(1), "{stderr}");
    assert!(stderr.contains("holds no PEM certificate"), "{stderr}");

    let (status, stderr) = serve_refused(&cert, &cert);
    assert_eq!(status, Some(1), "{stderr}");
    assert!(stderr.contains(&format!("cannot read the TLS private key {}", cert.display())), "{stderr}");

    let other = tempfile::tempdir().unwrap();
    let (_, other_key) = write_pair(other.path(), &self_signed());
    let (status, stderr) = serve_refused(&cert, &other_key);
    assert_eq!(status, Some(1), "{stderr}");
    assert!(stderr.contains("does not belong to the certificate"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}
