//! What bounds one client's or one account's hold on the server (issue 10,
//! findings 2, 4 and 5): slow `dataLocation` fetches, fairness between
//! accounts' jobs, stalled request bodies, and the addresses `dataLocation`
//! may reach.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::server::{location, JsonBody, TestServer};

const ONE_ROW: &str = "Bing Spatial Data Services, 1.0, Shops\n\
    EntityID(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\n\
    1,Quick,47.6,-122.1\n";

/// A loopback HTTP file server that announces a large file, sends its first
/// line, then one byte every `pause`; it counts the connections it served.
struct Dribbler {
    url: String,
    connections: Arc<AtomicUsize>,
}

impl Dribbler {
    fn start(pause: Duration) -> Dribbler {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/slow.csv", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&connections);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                counter.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || dribble(stream, pause));
            }
        });
        Dribbler { url, connections }
    }
}

fn dribble(mut stream: TcpStream, pause: Duration) {
    let mut request = Vec::new();
    let mut byte = [0u8; 1];
    while !request.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|read| read == 1) {
        request.push(byte[0]);
    }
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: 100000000\r\n\r\n\
        Bing Spatial Data Services, 1.0, Slow\n";
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    // Until the fetching side gives up and closes.
    while stream.write_all(b"x").is_ok() {
        std::thread::sleep(pause);
    }
}

fn load_from(server: &TestServer, key: &str, name: &str, data_location: &str) -> String {
    let url = format!(
        "{}/Dataflows/LoadDataSource?dataSourceName={name}&loadOperation=complete&input=csv&output=json&key={key}&dataLocation={data_location}",
        server.root
    );
    let response = server.client.post(url).send().unwrap();
    assert_eq!(response.status(), 201, "load of {name}");
    location(&response)
}

fn job_now(server: &TestServer, status_url: &str, key: &str) -> Value {
    server.get(&format!("{status_url}?output=json&key={key}")).json_value()["resourceSets"][0]["resources"][0].clone()
}

/// Two loads of account A whose `dataLocation` dribbles one byte a second
/// must not hold back account B: B's one-row load completes within a few
/// seconds while A's fetches still run. A's fetch is then cut off by the
/// minimum transfer rate (default 4096 bytes/s over 10 s).
#[test]
fn finding_2_slow_fetches_of_one_account_never_hold_back_another() {
    let server = TestServer::start_with(&["--data-location-allow-private", "true", "--job-workers", "2"]);
    let dribbler = Dribbler::start(Duration::from_secs(1));
    let slow: Vec<String> =
        ["SlowOne", "SlowTwo"].iter().map(|name| load_from(&server, &server.master_key, name, &dribbler.url)).collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    while dribbler.connections.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the first slow fetch never started");
        std::thread::sleep(Duration::from_millis(20));
    }

    let other = server.create_key("other");
    let started = Instant::now();
    let url = format!(
        "{}/Dataflows/LoadDataSource?dataSourceName=Quick&loadOperation=complete&input=csv&output=json&key={other}",
        server.root
    );
    let created = server.client.post(url).body(ONE_ROW).send().unwrap();
    assert_eq!(created.status(), 201);
    let quick = server.wait_job(&location(&created), &other);
    let waited = started.elapsed();
    assert_eq!(quick["status"], "Completed", "{quick}");
    assert!(waited < Duration::from_secs(5), "B's one-row job waited {waited:?}");
    eprintln!("B's one-row job, request to Completed: {waited:?}");
    for status_url in &slow {
        assert_eq!(job_now(&server, status_url, &server.master_key)["status"], "Pending", "A's fetches still run");
    }
    assert_eq!(dribbler.connections.load(Ordering::SeqCst), 1, "A runs one job at a time while B may need a worker");

    let first = server.wait_job(&slow[0], &server.master_key);
    assert_eq!(first["status"], "Aborted", "{first}");
    let message = first["errorMessage"].as_str().unwrap();
    assert!(message.contains("below the minimum of 4096 bytes per second"), "{message}");
}

/// The whole fetch has a deadline, whatever the rate.
#[test]
fn finding_2_a_fetch_past_its_deadline_is_aborted() {
    let server = TestServer::start_with(&[
        "--data-location-allow-private",
        "true",
        "--data-location-timeout-seconds",
        "2",
        "--data-location-min-bytes-per-second",
        "0",
    ]);
    let dribbler = Dribbler::start(Duration::from_millis(50));
    let started = Instant::now();
    let status_url = load_from(&server, &server.master_key, "Slow", &dribbler.url);
    let job = server.wait_job(&status_url, &server.master_key);
    assert_eq!(job["status"], "Aborted", "{job}");
    let message = job["errorMessage"].as_str().unwrap();
    assert!(message.contains("took longer than the limit of 2 seconds"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
}

/// An upload that announces 50 MB, sends 1 MB and stops gets a 408 once the
/// idle timeout passes; its partial spool file is removed and it is logged.
#[test]
fn finding_4_a_stalled_upload_is_timed_out_and_its_spool_file_removed() {
    let server = TestServer::start_with(&["--body-idle-timeout-seconds", "1"]);
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let head = format!(
        "POST /REST/v1/Dataflows/LoadDataSource?dataSourceName=Stalled&loadOperation=complete&input=csv&output=json&key={} HTTP/1.1\r\n\
         Host: {address}\r\nContent-Type: text/csv\r\nContent-Length: 50000000\r\n\r\n",
        server.master_key
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(ONE_ROW.as_bytes()).unwrap();
    stream.write_all(&vec![b' '; 1 << 20]).unwrap();
    let started = Instant::now();
    let spool = server.data_dir().join("spool");
    let partial_seen = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(10));
        std::fs::read_dir(&spool).is_ok_and(|mut entries| entries.any(|entry| entry.is_ok()))
    });
    assert!(partial_seen, "the upload was being spooled");

    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("the request body stalled"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    let left: Vec<_> = std::fs::read_dir(&spool).unwrap().flatten().map(|entry| entry.file_name()).collect();
    assert!(left.is_empty(), "partial files left: {left:?}");
    let log = server.log();
    assert!(log.contains("upload stalled; partial spool file removed"), "{log}");
    let jobs = server.get(&format!("/REST/v1/Dataflows/ListJobs?key={}", server.master_key)).json_value();
    assert_eq!(jobs["resourceSets"][0]["resources"], serde_json::json!([]), "no job was made");
}

/// The IPv6 forms of 127.0.0.1 and the rest of the family are
/// refused like 127.0.0.1 itself, naming the range.
#[test]
fn finding_5_ipv6_forms_of_private_ipv4_addresses_are_not_fetched() {
    let server = TestServer::start();
    for (address, range) in [
        ("[64:ff9b::7f00:1]", "NAT64 well-known prefix"),
        ("[2002:7f00:1::]", "6to4"),
        ("[::127.0.0.1]", "IPv4-compatible"),
        ("[::ffff:10.0.0.1]", "IPv4-mapped"),
        ("[64:ff9b:1::a00:1]", "local-use NAT64"),
        ("[2001:0:a00:1::f7f7:f7f7]", "Teredo"),
    ] {
        let status_url = load_from(&server, &server.master_key, "Inside", &format!("http://{address}:9/x.csv"));
        let job = server.wait_job(&status_url, &server.master_key);
        assert_eq!(job["status"], "Aborted", "{address}: {job}");
        let message = job["errorMessage"].as_str().unwrap();
        assert!(message.contains(range) && message.contains("does not fetch from"), "{address}: {message}");
    }
}
