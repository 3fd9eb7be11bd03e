//! What the server sends for the console, read over plain HTTP.

use std::collections::{BTreeSet, VecDeque};

use serde_json::Value;

use crate::server::TestServer;

fn header(response: &reqwest::blocking::Response, name: &str) -> String {
    response.headers().get(name).unwrap_or_else(|| panic!("no {name} header")).to_str().unwrap().to_owned()
}

/// The relative URLs a file refers to: `src=`/`href=` in HTML, `from './x.js'` in JS.
fn references(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for marker in ["src=\"", "href=\"", "from './", "import('./"] {
        let mut rest = text;
        while let Some(start) = rest.find(marker) {
            rest = &rest[start + marker.len()..];
            let end = rest.find(['"', '\'']).unwrap();
            let target = &rest[..end];
            if !target.starts_with('#') && !target.starts_with("data:") {
                found.push(if marker.contains("./") { format!("./{target}") } else { target.to_owned() });
            }
        }
    }
    found
}

#[test]
fn every_console_file_is_served_with_its_type_and_the_security_policy() {
    let server = TestServer::start();
    let page = server.get("/");
    assert_eq!(page.status(), 200);
    assert_eq!(header(&page, "content-type"), "text/html; charset=utf-8");
    let policy = header(&page, "content-security-policy");
    for directive in ["default-src 'none'", "script-src 'self'", "connect-src 'self'", "form-action 'none'"] {
        assert!(policy.contains(directive), "{directive} missing from {policy}");
    }
    assert!(!policy.contains("unsafe"), "{policy}");
    assert_eq!(header(&page, "x-content-type-options"), "nosniff");
    assert_eq!(header(&page, "referrer-policy"), "no-referrer");
    let html = page.text().unwrap();
    // No inline script: every <script> has a src (the policy would block it anyway).
    assert_eq!(
        html.matches("<script").count(),
        html.matches("<script src=").count() + html.matches("<script type=\"module\" src=").count()
    );

    // Walk the page and every module it imports: each must answer 200 with the right type.
    let mut queue: VecDeque<String> = references(&html).into_iter().map(|path| format!("/{path}")).collect();
    let mut seen = BTreeSet::new();
    while let Some(path) = queue.pop_front() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let response = server.get(&path);
        assert_eq!(response.status(), 200, "{path}");
        let content_type = header(&response, "content-type");
        let expected = match path.rsplit('.').next().unwrap() {
            "js" => "text/javascript; charset=utf-8",
            "css" => "text/css; charset=utf-8",
            other => panic!("unexpected reference {path} ({other})"),
        };
        assert_eq!(content_type, expected, "{path}");
        assert!(header(&response, "content-security-policy").contains("connect-src 'self'"));
        let text = response.text().unwrap();
        let directory = &path[..path.rfind('/').unwrap()];
        for reference in references(&text) {
            queue.push_back(format!("{directory}/{}", reference.trim_start_matches("./")));
        }
    }
    assert!(seen.len() >= 14, "the page and its modules: {seen:?}");
    assert!(seen.contains("/console/js/map.js") && seen.contains("/console/js/upload.js"), "{seen:?}");
}

#[test]
fn console_files_revalidate_with_etags_and_unknown_ones_are_404() {
    let server = TestServer::start();
    let first = server.get("/console/js/app.js");
    assert_eq!(first.status(), 200);
    assert_eq!(header(&first, "cache-control"), "no-cache");
    let etag = header(&first, "etag");
    assert!(etag.starts_with("W/\""), "{etag}");
    let again = server.client.get(server.url("/console/js/app.js")).header("if-none-match", &etag).send().unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().unwrap().is_empty());
    let other = server.get("/console/js/api.js");
    assert_ne!(header(&other, "etag"), etag, "each file has its own ETag");
    let stale =
        server.client.get(server.url("/console/js/app.js")).header("if-none-match", "W/\"old\"").send().unwrap();
    assert_eq!(stale.status(), 200);

    let missing = server.get("/console/js/nothing.js");
    assert_eq!(missing.status(), 404);
    assert!(missing.text().unwrap().contains("nothing.js"));
    let head = server.client.head(server.url("/")).send().unwrap();
    assert_eq!(head.status(), 200);
    let redirect = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(server.url("/console/"))
        .send()
        .unwrap();
    assert_eq!(redirect.status(), 308);
    assert_eq!(header(&redirect, "location"), "/");
    // The SDS paths are untouched by the console's routes.
    let api = server.get(&format!("/REST/v1/data?key={}&$format=json", server.master_key));
    assert_eq!(api.status(), 200);
}

#[test]
fn console_files_load_nothing_from_other_hosts() {
    let server = TestServer::start();
    for asset in sds_server::console::ASSETS.iter() {
        let text = String::from_utf8_lossy(asset.bytes);
        for scheme in ["http://", "https://", "//cdn"] {
            for (at, _) in text.match_indices(scheme) {
                let url: String = text[at..].chars().take(60).collect();
                // XML namespace names are identifiers, never fetched.
                let namespace =
                    ["http://www.w3.org/", "http://schemas.microsoft.com/"].iter().any(|name| url.starts_with(name));
                assert!(namespace, "{} refers to another host: {url}", asset.path);
            }
        }
        let served = server.get(&format!("/console/{}", asset.path));
        let expected = if asset.path == "index.html" { 404 } else { 200 };
        assert_eq!(served.status(), expected, "{}", asset.path);
    }
}

#[test]
fn the_base_layer_is_natural_earth_110m_countries() {
    let server = TestServer::start();
    let response = server.get("/console/countries-110m.geojson");
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), "application/geo+json");
    let bytes = response.bytes().unwrap();
    assert!(bytes.len() < 200_000, "the base layer stays small: {} bytes", bytes.len());
    let countries: Value = serde_json::from_slice(&bytes).unwrap();
    let features = countries["features"].as_array().unwrap();
    assert_eq!(features.len(), 177, "Natural Earth 1:110m has 177 countries");
    assert!(features
        .iter()
        .all(|feature| matches!(feature["geometry"]["type"].as_str(), Some("Polygon" | "MultiPolygon"))));
    let names: Vec<&str> = features.iter().filter_map(|feature| feature["properties"]["name"].as_str()).collect();
    assert!(names.contains(&"France") && names.contains(&"Japan"), "{names:?}");
}
