//! What a newcomer deploying `sds` meets: `--listen` forms, a reverse proxy's
//! headers (only with `--trust-proxy-headers`), a `--public-url` with a path
//! prefix, and a query naming the wrong entity type.

use crate::common::server::{access_id_of, link, location, JsonBody, TestServer};
use crate::fixtures::*;

#[test]
fn listen_takes_a_bare_port_as_loopback_and_a_host_name() {
    let bare = TestServer::start_with(&["--listen", "0"]);
    assert!(bare.base.starts_with("http://127.0.0.1:"), "{}", bare.base);
    assert_eq!(bare.get(&format!("/REST/v1/data?$format=json&key={}", bare.master_key)).status(), 200);

    let named = TestServer::start_with(&["--listen", "localhost:0"]);
    assert!(
        named.base.starts_with("http://127.0.0.1:") || named.base.starts_with("http://[::1]:"),
        "localhost is loopback: {}",
        named.base
    );
    assert_eq!(named.get(&format!("/REST/v1/data?$format=json&key={}", named.master_key)).status(), 200);
}

#[test]
fn a_listen_value_that_is_no_address_is_refused_at_start() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_sds"))
        .args(["serve", "--listen", "localhost", "--data-dir", "/nonexistent/never-created"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("'localhost' is not PORT, HOST:PORT or [IPv6]:PORT"), "{stderr}");
}

/// Loads through `base` with extra request headers; returns the Location.
fn load_location(server: &TestServer, base: &str, headers: &[(&str, &str)]) -> String {
    let url = format!(
        "{base}/REST/v1/Dataflows/LoadDataSource?dataSourceName=Shops&loadOperation=complete&input=csv&output=json&key={}",
        server.master_key
    );
    let mut request = server.client.post(url).body(SHOPS_CSV);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().unwrap());
    location(&response)
}

#[test]
fn proxy_headers_shape_links_only_when_trusted() {
    let proxied = [("x-forwarded-proto", "https"), ("x-forwarded-host", "sds.example.com")];
    let untrusting = TestServer::start();
    let own = load_location(&untrusting, &untrusting.base, &proxied);
    assert!(own.starts_with(&format!("{}/REST/v1/", untrusting.base)), "headers anyone can send are ignored: {own}");

    let trusting = TestServer::start_with(&["--trust-proxy-headers"]);
    let forwarded = load_location(&trusting, &trusting.base, &proxied);
    assert!(forwarded.starts_with("https://sds.example.com/REST/v1/dataflows/LoadDataSource/"), "{forwarded}");
    let rfc7239 = [("forwarded", "for=192.0.2.60;proto=https;host=maps.example.org, for=10.0.0.1;host=inner")];
    let forwarded = load_location(&trusting, &trusting.base, &rfc7239);
    assert!(forwarded.starts_with("https://maps.example.org/REST/v1/dataflows/LoadDataSource/"), "{forwarded}");
}

#[test]
fn a_public_url_path_is_served_as_a_prefix_and_at_the_root() {
    let server = TestServer::start_with(&["--public-url", "https://example.com/sds"]);
    let prefixed = format!("{}/sds", server.base);
    let status_url = load_location(&server, &prefixed, &[]);
    assert!(status_url.starts_with("https://example.com/sds/REST/v1/dataflows/LoadDataSource/"), "{status_url}");
    let local = status_url.replace("https://example.com/sds", &prefixed);
    let job = server.wait_job(&local, &server.master_key);
    assert_eq!(job["status"], "Completed", "{job}");
    let service = link(&job, "dataSource", Some("service"));
    assert!(service.starts_with("https://example.com/sds/REST/v1/data/"), "{service}");

    let access_id = access_id_of(&job);
    let query =
        format!("/REST/v1/data/{access_id}/Shops/Shops?$format=json&$orderby=EntityID&key={}", server.query_key);
    let under_prefix = server.get(&format!("/sds{query}"));
    assert_eq!(under_prefix.status(), 200);
    let under_prefix = under_prefix.json_value();
    assert_eq!(under_prefix["d"]["results"].as_array().unwrap().len(), 3, "{under_prefix}");
    let at_root = server.get(&query).json_value();
    assert_eq!(at_root["d"]["results"], under_prefix["d"]["results"]);
    assert_eq!(server.get("/other/REST/v1/data").status(), 404, "only the configured prefix");
}

#[test]
fn a_wrong_entity_type_is_404_naming_the_right_one() {
    let server = TestServer::start();
    let job = server.load_and_wait("Coffee", "complete", "csv", SHOPS_CSV);
    let access_id = access_id_of(&job);
    let response = server.get(&format!("/REST/v1/data/{access_id}/Coffee/Cafes?$format=json&key={}", server.query_key));
    assert_eq!(response.status(), 404);
    let body = response.text().unwrap();
    assert!(body.contains("data source 'Coffee' has no entity type 'Cafes'; its entity type is 'Shops'"), "{body}");
}
