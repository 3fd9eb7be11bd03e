//! Serving connections. Each connection lives on one shard (a thread with
//! its own runtime) for its life; these check that many connections at once
//! all get their own answers, that a stalled client does not hold up the
//! other connections of its shard, and that SIGTERM ends the server cleanly.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::common::server::{access_id_of, JsonBody, TestServer};
use crate::query::CAFES_CSV;

fn address(server: &TestServer) -> String {
    server.base.trim_start_matches("http://").to_owned()
}

/// One HTTP/1.1 response read off a raw connection: head and a body of
/// `Content-Length` bytes.
fn read_response(stream: &mut TcpStream) -> String {
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&received).into_owned();
        if let Some(head_end) = text.find("\r\n\r\n") {
            let length = text[..head_end]
                .lines()
                .find_map(|line| line.to_ascii_lowercase().strip_prefix("content-length:").map(str::to_owned))
                .map_or(0, |value| value.trim().parse::<usize>().unwrap());
            if received.len() >= head_end + 4 + length {
                return text;
            }
        }
        let read = stream.read(&mut buffer).expect("the server answers");
        assert!(read > 0, "the connection closed mid-response: {}", String::from_utf8_lossy(&received));
        received.extend_from_slice(&buffer[..read]);
    }
}

#[test]
fn many_connections_at_once_all_get_their_own_answers() {
    let server = TestServer::start_with(&["--worker-threads", "2"]);
    let job = server.load_and_wait("Coffee", "complete", "csv", CAFES_CSV);
    let access_id = access_id_of(&job);
    std::thread::scope(|scope| {
        for client_index in 0..16 {
            let (server, access_id) = (&server, &access_id);
            scope.spawn(move || {
                // Its own client: its own keep-alive connection.
                let client = reqwest::blocking::Client::new();
                let id = format!("c{}", client_index % 6 + 1);
                let url = format!(
                    "{}/data/{access_id}/Coffee/Cafes('{id}')?$format=json&key={}",
                    server.root, server.query_key
                );
                for _ in 0..25 {
                    let response = client.get(&url).send().expect("GET");
                    assert_eq!(response.status(), 200);
                    assert_eq!(response.json_value()["d"]["EntityID"], id.as_str());
                }
            });
        }
    });
}

#[test]
fn a_stalled_client_does_not_hold_up_its_shard() {
    let server = TestServer::start_with(&["--worker-threads", "1"]);
    let mut stalled = TcpStream::connect(address(&server)).unwrap();
    stalled.write_all(b"GET /REST/v1/data?$format=json&key=").unwrap();
    // The one shard keeps answering other connections meanwhile.
    for _ in 0..20 {
        let response = server.get(&format!("/REST/v1/data?$format=json&key={}", server.master_key));
        assert_eq!(response.status(), 200);
    }
    // The stalled request, once finished, is answered too.
    let rest = format!("{} HTTP/1.1\r\nHost: sds\r\n\r\n", server.master_key);
    stalled.write_all(rest.as_bytes()).unwrap();
    let response = read_response(&mut stalled);
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"DataSources\""), "{response}");
}

#[test]
fn sigterm_closes_idle_connections_and_exits_cleanly() {
    let mut server = TestServer::start();
    let address = address(&server);
    let mut idle = TcpStream::connect(&address).unwrap();
    idle.write_all(b"GET /nowhere HTTP/1.1\r\nHost: sds\r\n\r\n").unwrap();
    let response = read_response(&mut idle);
    assert!(response.starts_with("HTTP/1.1 404"), "{response}");

    let (succeeded, elapsed) = server.terminate();
    assert!(succeeded, "the server exits with status 0");
    assert!(elapsed < Duration::from_secs(5), "an idle keep-alive connection held the exit for {elapsed:?}");
    let mut buffer = [0u8; 64];
    idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    match idle.read(&mut buffer) {
        Ok(read) => assert_eq!(read, 0, "the server closed the idle connection"),
        Err(error) => assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset, "{error}"),
    }
    assert!(TcpStream::connect(&address).is_err(), "nothing listens after the exit");
}

#[test]
fn connections_past_the_limit_wait_until_one_closes() {
    let server = TestServer::start_with(&["--max-connections", "2"]);
    let address = address(&server);
    let request = b"GET /nowhere HTTP/1.1\r\nHost: sds\r\n\r\n";
    let mut first = TcpStream::connect(&address).unwrap();
    first.write_all(request).unwrap();
    assert!(read_response(&mut first).starts_with("HTTP/1.1 404"));
    let mut second = TcpStream::connect(&address).unwrap();
    second.write_all(request).unwrap();
    assert!(read_response(&mut second).starts_with("HTTP/1.1 404"));

    // The third connection is queued by the kernel, not served...
    let mut third = TcpStream::connect(&address).unwrap();
    third.write_all(request).unwrap();
    third.set_read_timeout(Some(Duration::from_millis(700))).unwrap();
    let mut buffer = [0u8; 64];
    let waiting = third.read(&mut buffer);
    assert!(waiting.is_err(), "the third connection was served at once: {waiting:?}");
    // ...until one of the first two closes.
    drop(first);
    let response = read_response(&mut third);
    assert!(response.starts_with("HTTP/1.1 404"), "{response}");
}
