//! Every kind of bad input ends in a clear error (400 or an Aborted job
//! whose message names the problem) and leaves the published data as it was.

use crate::common::server::{access_id_of, JsonBody, TestServer};
use crate::fixtures::*;

/// A server with a published `Shops` data source, and its download.
fn published() -> (TestServer, String, String) {
    let server = TestServer::start();
    let job = server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV);
    let access_id = access_id_of(&job);
    let before = server.download(&access_id, "Shops");
    (server, access_id, before)
}

fn assert_aborted(server: &TestServer, input: &str, body: Vec<u8>, message: &str) {
    let job = server.load_and_wait("Shops", "complete", input, body);
    assert_eq!(job["status"], "Aborted", "{job}");
    let error = job["errorMessage"].as_str().unwrap();
    assert!(error.contains(message), "expected '{message}' in '{error}'");
}

#[test]
fn broken_documents_abort_the_job_and_change_nothing() {
    let (server, access_id, before) = published();
    let csv_header = "Bing Spatial Data Services, 1.0, Shops\nEntityID(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\n";
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("xml", b"<Root><xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"><unclosed></Root>".to_vec(), "line"),
        ("xml", toolkit_xml("Shops").replace("msdata:PrimaryKey=\"true\"", "").into_bytes(), "primary key"),
        ("csv", b"Name(Edm.String)\n1\n".to_vec(), "line 1"),
        ("csv", b"Bing Spatial Data Services, 1.0, Shops\nName(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\nx,1,2\n".to_vec(), "primary key"),
        ("csv", [csv_header.as_bytes(), b"1,caf\xe9,1,2\n"].concat(), "UTF-8"),
        ("csv", gzip(SHOPS_CSV.as_bytes())[..40].to_vec(), "corrupt or truncated"),
        ("csv", [csv_header.as_bytes(), b"1,x,north,2\n"].concat(), "none of the 1 entities"),
    ];
    for (input, body, message) in cases {
        assert_aborted(&server, input, body, message);
    }
    assert_eq!(server.download(&access_id, "Shops"), before);
}

#[test]
fn bad_rows_fail_alone_with_the_reason() {
    let (server, _, _) = published();
    let body = format!(
        "Bing Spatial Data Services, 1.0, Shops\nEntityID(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double),Shape(Edm.Geography)\n\
        {},too long,1,2,POINT(2 1)\nok,fine,1,2,POINT(2 1)\nbad,wkt,1,2,\"POLYGON((0 0, 1 1))\"\n",
        "x".repeat(51)
    );
    let job = server.load_and_wait("Other", "complete", "csv", body);
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!(job["failedEntityCount"], 2);
    let failed = crate::common::server::link(&job, "output", Some("failed"));
    let text = server.get(&format!("{failed}?key={}", server.master_key)).text().unwrap();
    assert!(text.contains("51 characters; the limit is 50"), "{text}");
    assert!(text.contains("property 'Shape': invalid WKT"), "{text}");
}

#[test]
fn compression_bombs_stop_at_the_limit() {
    let server = TestServer::start_with(&["--max-upload-bytes", "1000000"]);
    let job = server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV);
    let before = server.download(&access_id_of(&job), "Shops");
    let huge = many_shops_csv(40_000);
    assert!(huge.len() > 1_000_000);
    assert_aborted(&server, "csv", gzip(huge.as_bytes()), "larger than the limit of 1000000 bytes");
    assert_aborted(&server, "csv", zip("shops.csv", huge.as_bytes()), "larger than the limit of 1000000 bytes");
    // The server answers 413 from the Content-Length and closes the
    // connection without reading the body, so a client still writing may
    // see a reset instead of the answer: send on connections of their
    // own (never the shared pool's) until the answer is read.
    let url = format!(
        "{}/Dataflows/LoadDataSource?dataSourceName=Shops&loadOperation=complete&input=csv&output=json&key={}",
        server.root, server.master_key
    );
    let status = (0..5)
        .find_map(|_| {
            let client = reqwest::blocking::Client::builder().pool_max_idle_per_host(0).build().unwrap();
            client.post(&url).body(huge.clone()).send().ok().map(|response| response.status())
        })
        .expect("one of five attempts reads the answer");
    assert_eq!(status, 413);
    assert_eq!(server.download(&access_id_of(&job), "Shops"), before);
}

#[test]
fn bad_parameters_are_400_naming_the_parameter() {
    let (server, _, _) = published();
    let cases = [
        ("Shops", "complete", "json", "", "'input'"),
        ("Shops", "replace", "csv", "", "'loadOperation'"),
        ("bad name!", "complete", "csv", "", "data source name"),
        ("Shops", "complete", "csv", "&dataLocation=http://example.com/x.csv", "not both"),
        ("Shops", "complete", "csv", "&setPublic=maybe", "'setPublic'"),
        ("Shops", "complete", "csv", "&queryKey=nope", "'queryKey'"),
        ("Shops", "complete", "csv", "&accessId=xyz", "'accessId'"),
    ];
    for (name, operation, input, extra, detail) in cases {
        let response = server.load(name, operation, input, SHOPS_CSV, extra);
        assert_eq!(response.status(), 400, "{name} {operation} {input} {extra}");
        let body = response.json_value();
        assert!(body["errorDetails"].to_string().contains(detail), "{detail}: {body}");
    }
    let missing_name = server
        .client
        .post(format!(
            "{}/Dataflows/LoadDataSource?loadOperation=complete&input=csv&key={}",
            server.root, server.master_key
        ))
        .body(SHOPS_CSV)
        .send()
        .unwrap();
    assert_eq!(missing_name.status(), 400);
    assert!(missing_name.json_value()["errorDetails"].to_string().contains("'dataSourceName'"));
    let empty = server.load("Shops", "complete", "csv", Vec::new(), "");
    assert_eq!(empty.status(), 400);
    assert!(empty.json_value()["errorDetails"].to_string().contains("empty"));
}
