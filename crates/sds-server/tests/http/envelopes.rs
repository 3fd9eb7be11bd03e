//! Golden tests: each response compared, parsed, with the hand-written
//! contract files under `tests/golden/`.

use crate::common::golden::{assert_json_golden, assert_xml_golden};
use crate::common::server::{access_id_of, location, TestServer};

const THREE_ROWS: &str = "Bing Spatial Data Services, 1.0, GoldenShop\n\
    EntityID(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\n\
    1,One,47.6,-122.1\n2,Two,47.7,-122.2\n3,Three,47.8,-122.3\n";

const ONE_BAD_ROW: &str = "Bing Spatial Data Services, 1.0, GoldenShop\n\
    EntityID(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\n\
    1,One,47.6,-122.1\n2,Two,north,-122.2\n3,Three,47.8,-122.3\n";

fn both_formats(server: &TestServer, url: &str, golden: &str) {
    let vars = [("root", server.root.as_str())];
    let separator = if url.contains('?') { '&' } else { '?' };
    let json = server.get(&format!("{url}{separator}output=json&key={}", server.master_key)).text().unwrap();
    assert_json_golden(&format!("{golden}.json"), &json, &vars);
    let xml = server.get(&format!("{url}{separator}output=xml&key={}", server.master_key)).text().unwrap();
    assert_xml_golden(&format!("{golden}.xml"), &xml, &vars);
}

#[test]
fn load_create_and_status_envelopes() {
    let server = TestServer::start();
    let vars = [("root", server.root.as_str())];
    let created = server.load("GoldenShops", "complete", "csv", THREE_ROWS, "");
    assert_eq!(created.status(), 201);
    let status_url = location(&created);
    assert_json_golden("load/create.json", &created.text().unwrap(), &vars);
    let created_xml = server.load("GoldenShops", "complete", "csv", THREE_ROWS, "&output=xml");
    assert_eq!(created_xml.status(), 201);
    let xml_status_url = location(&created_xml);
    assert_xml_golden("load/create.xml", &created_xml.text().unwrap(), &vars);

    server.wait_job(&status_url, &server.master_key);
    server.wait_job(&xml_status_url, &server.master_key);
    both_formats(&server, &xml_status_url, "load/status-completed");

    let with_failure = server.load("GoldenShops", "complete", "csv", ONE_BAD_ROW, "");
    let failure_url = location(&with_failure);
    server.wait_job(&failure_url, &server.master_key);
    both_formats(&server, &failure_url, "load/status-completed-with-failures");

    let aborted = server.load("GoldenShops", "complete", "xml", "<not-a-dataset/>", "");
    let aborted_url = location(&aborted);
    server.wait_job(&aborted_url, &server.master_key);
    both_formats(&server, &aborted_url, "load/status-aborted");
}

#[test]
fn download_create_and_status_envelopes() {
    let server = TestServer::start();
    let job = server.load_and_wait("GoldenShops", "complete", "csv", THREE_ROWS);
    let access_id = access_id_of(&job);
    let vars = [("root", server.root.as_str())];
    let create_url = format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/GoldenShops?key={}", server.master_key);
    let created = server.get(&format!("{create_url}&output=json"));
    assert_eq!(created.status(), 201);
    let status_url = location(&created);
    assert_json_golden("download/create.json", &created.text().unwrap(), &vars);
    let created_xml = server.get(&format!("{create_url}&output=xml"));
    assert_xml_golden("download/create.xml", &created_xml.text().unwrap(), &vars);
    server.wait_job(&status_url, &server.master_key);
    both_formats(&server, &status_url, "download/status-completed");
}

#[test]
fn error_envelopes() {
    let server = TestServer::start();
    let job = server.load_and_wait("GoldenShops", "complete", "csv", THREE_ROWS);
    let access_id = access_id_of(&job);
    let vars = [("root", server.root.as_str())];
    let stranger = server.create_key("stranger");
    let download = format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/GoldenShops");
    let cases = [
        (format!("{download}?"), "errors/unauthorized-no-key"),
        (format!("{download}?key=wrong&"), "errors/unauthorized-invalid-key"),
        (format!("{download}?key={stranger}&"), "errors/not-authorized"),
        (
            format!("/REST/v1/Dataflows/LoadDataSource/{}?key={}&", "d".repeat(32), server.master_key),
            "errors/not-found",
        ),
        (format!("{download}?key={}&jobId=xyz&", server.master_key), "errors/not-found"),
        (format!("{download}?key={}&output=csv&", server.master_key), "errors/bad-request"),
    ];
    for (url, golden) in cases {
        let json = server.get(&format!("{url}output=json")).text().unwrap();
        if golden == "errors/bad-request" {
            // `output=csv` itself is the bad parameter; JSON is the fallback.
            assert_json_golden(&format!("{golden}.json"), &server.get(&url[..url.len() - 1]).text().unwrap(), &vars);
            continue;
        }
        assert_json_golden(&format!("{golden}.json"), &json, &vars);
        let xml_path = crate::common::golden::golden_dir().join(format!("{golden}.xml"));
        if xml_path.exists() {
            let xml = server.get(&format!("{url}output=xml")).text().unwrap();
            assert_xml_golden(&format!("{golden}.xml"), &xml, &vars);
        }
    }
}
