//! Load Data Source: every text format and XML, complete and incremental,
//! row-level failures, and restart persistence.

use crate::common::dataset;
use crate::common::server::{access_id_of, link, location, JsonBody, TestServer};
use crate::fixtures::*;

#[test]
fn csv_load_completes_and_downloads_every_value_unchanged() {
    let server = TestServer::start();
    let job = server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV);
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!(job["totalEntityCount"], 3);
    assert_eq!(job["processedEntityCount"], 3);
    assert_eq!(job["failedEntityCount"], 0);
    let access_id = access_id_of(&job);
    assert_eq!(access_id.len(), 32);
    assert_eq!(link(&job, "dataSource", Some("service")), format!("{}/data/{access_id}/Shops", server.root));

    let downloaded = dataset::parse(&server.download(&access_id, "Shops"));
    assert_eq!(downloaded.entity_type, "Shops");
    assert_eq!(downloaded.key, "EntityID");
    let types: Vec<&str> = downloaded.columns.iter().map(|(_, xsd)| xsd.as_str()).collect();
    assert_eq!(
        types,
        ["xs:string", "xs:string", "xs:double", "xs:double", "xs:long", "xs:boolean", "xs:dateTime", "xs:double"]
    );
    let rows = downloaded.by_id();
    assert_eq!(rows["1"]["Name"], "Café Zürich");
    assert_eq!(rows["1"]["Since"], "2010-11-03T23:31:37Z");
    assert_eq!(rows["1"]["IsOpen"], "true");
    assert_eq!(rows["2"]["Name"], "Pipe | and \"quotes\" <&>");
    assert!(!rows["2"].contains_key("Seats"), "nulls are omitted");
    assert_eq!(rows["3"]["Name"], "two\nlines ");
    assert_eq!(rows["3"]["Seats"], "-9223372036854775808");
    assert_eq!(rows["3"]["Since"], "2020-01-01T00:00:00.1234567Z");
    assert_eq!(rows["3"]["Rating"], "-0.1");
}

#[test]
fn pipe_and_tab_loads_complete() {
    let server = TestServer::start();
    for (name, input, body) in [("PipeShops", "pipe", SHOPS_PIPE), ("TabShops", "tab", SHOPS_TAB)] {
        let job = server.load_and_wait(name, "complete", input, body);
        assert_eq!(job["status"], "Completed", "{job}");
        let rows = dataset::parse(&server.download(&access_id_of(&job), name)).by_id();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows["2"]["Name"], if input == "pipe" { "Other, with comma" } else { "Other | pipe" });
    }
}

#[test]
fn geography_only_schema_gets_centroids() {
    let server = TestServer::start();
    let job = server.load_and_wait("Areas", "complete", "csv", AREAS_CSV);
    assert_eq!(job["status"], "Completed", "{job}");
    let rows = dataset::parse(&server.download(&access_id_of(&job), "Areas")).by_id();
    assert_eq!(rows["a"]["Shape"], "POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))");
    assert!(!rows["a"].contains_key("Latitude"), "the schema had no Latitude column");
}

#[test]
fn download_reupload_reproduces_the_data_source() {
    let server = TestServer::start();
    let first = server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV);
    let downloaded = server.download(&access_id_of(&first), "Shops");
    let second = server.load_and_wait("Copy", "complete", "xml", downloaded.clone());
    assert_eq!(second["status"], "Completed", "{second}");
    assert_eq!(second["failedEntityCount"], 0);
    let again = server.download(&access_id_of(&second), "Copy");
    let (original, copy) = (dataset::parse(&downloaded), dataset::parse(&again));
    assert_eq!(original.columns, copy.columns);
    assert_eq!(original.rows, copy.rows);
}

#[test]
fn complete_overwrite_keeps_the_access_id() {
    let server = TestServer::start();
    let first = server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV);
    let second = server.load_and_wait("shops", "Complete", "pipe", SHOPS_PIPE);
    assert_eq!(access_id_of(&first), access_id_of(&second));
    let rows = dataset::parse(&server.download(&access_id_of(&second), "Shops")).by_id();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows["1"]["Name"], "Pipe shop");
}

#[test]
fn incremental_adds_replaces_and_deletes() {
    let server = TestServer::start();
    let first = server.load_and_wait("Shops", "complete", "pipe", SHOPS_PIPE);
    let access_id = access_id_of(&first);
    let changes = "Bing Spatial Data Services, 1.0, Shops\n\
        EntityID(Edm.String,primaryKey)|Name(Edm.String)|Latitude(Edm.Double)|Longitude(Edm.Double)|__deleteEntity(Edm.Boolean)\n\
        1|Renamed|1|2|\n\
        2||||1\n\
        3|New|3|4|0\n";
    let response = server.load("Shops", "incremental", "pipe", changes, &format!("&accessId={access_id}"));
    assert_eq!(response.status(), 201);
    let job = server.wait_job(&location(&response), &server.master_key);
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!(job["description"], "DataSourceIncremental");
    assert_eq!(access_id_of(&job), access_id);
    let rows = dataset::parse(&server.download(&access_id, "Shops")).by_id();
    assert_eq!(rows.keys().collect::<Vec<_>>(), ["1", "3"]);
    assert_eq!(rows["1"]["Name"], "Renamed");
    assert_eq!(rows["3"]["Latitude"], "3");
}

#[test]
fn incremental_with_another_schema_aborts_and_changes_nothing() {
    let server = TestServer::start();
    let first = server.load_and_wait("Shops", "complete", "pipe", SHOPS_PIPE);
    let before = server.download(&access_id_of(&first), "Shops");
    let job = server.load_and_wait("Shops", "incremental", "csv", SHOPS_CSV);
    assert_eq!(job["status"], "Aborted", "{job}");
    assert!(job["errorMessage"].as_str().unwrap().contains("differs from the data source's schema"), "{job}");
    assert_eq!(server.download(&access_id_of(&first), "Shops"), before);
}

#[test]
fn bad_rows_are_counted_and_listed_without_aborting() {
    let server = TestServer::start();
    let body = "Bing Spatial Data Services, 1.0, Shops\n\
        EntityID(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\n\
        1,Good,47.6,-122.1\n\
        2,Bad latitude,north,-122.1\n\
        1,Duplicate,47.6,-122.1\n\
        3,Good too,47.7,-122.2\n";
    let job = server.load_and_wait("Shops", "complete", "csv", body);
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!(job["totalEntityCount"], 4);
    assert_eq!(job["processedEntityCount"], 4);
    assert_eq!(job["failedEntityCount"], 2);
    let failed = server.get(&format!("{}?key={}", link(&job, "output", Some("failed")), server.master_key));
    assert_eq!(failed.status(), 200);
    let text = failed.text().unwrap();
    assert!(text.contains("line 4, entity '2': property 'Latitude'"), "{text}");
    assert!(text.contains("line 5, entity '1': entity ID '1' appears more than once"), "{text}");
    let rows = dataset::parse(&server.download(&access_id_of(&job), "Shops")).by_id();
    assert_eq!(rows.keys().collect::<Vec<_>>(), ["1", "3"]);
    assert_eq!(rows["1"]["Name"], "Good");
}

#[test]
fn status_shows_description_parameter_and_data_survives_restart() {
    let mut server = TestServer::start();
    let response = server.load("Shops", "complete", "csv", SHOPS_CSV, "&description=My%20shops&setPublic=0");
    assert_eq!(response.status(), 201);
    let status_url = location(&response);
    let job = server.wait_job(&status_url, &server.master_key);
    assert_eq!(job["description"], "My shops");
    let access_id = access_id_of(&job);
    let before = server.download(&access_id, "Shops");

    server.restart();
    let moved = server.on_current_port(&status_url);
    let job = server.wait_job(&moved, &server.master_key);
    assert_eq!(job["status"], "Completed");
    assert_eq!(server.download(&access_id, "Shops"), before);
}

#[test]
fn paths_and_parameter_names_are_case_insensitive() {
    let server = TestServer::start();
    let url = format!(
        "{}/rest/V1/dataflows/loaddatasource?DATASOURCENAME=Shops&LoadOperation=COMPLETE&Input=CSV&O=json&Key={}&clientApi=SDSToolkit",
        server.base, server.master_key
    );
    let response = server.client.post(url).body(SHOPS_CSV).send().unwrap();
    assert_eq!(response.status(), 201);
    let job = server.wait_job(&location(&response), &server.master_key);
    assert_eq!(job["status"], "Completed");
    let status = server.get(&format!(
        "/REST/v1/DATAFLOWS/LoadDataSource/{}?key={}",
        job["id"].as_str().unwrap(),
        server.master_key
    ));
    assert_eq!(status.status(), 200);
    assert_eq!(status.json_value()["resourceSets"][0]["resources"][0]["id"], job["id"]);
}

#[test]
fn public_url_setting_drives_every_link() {
    let server = TestServer::start_with(&["--public-url", "https://sds.example.com/"]);
    let response = server.load("Shops", "complete", "csv", SHOPS_CSV, "");
    assert_eq!(response.status(), 201);
    let location = location(&response);
    assert!(location.starts_with("https://sds.example.com/REST/v1/dataflows/LoadDataSource/"), "{location}");
    let local = location.replace("https://sds.example.com", &server.base);
    let job = server.wait_job(&local, &server.master_key);
    assert!(link(&job, "dataSource", Some("service")).starts_with("https://sds.example.com/REST/v1/data/"));
}

#[test]
fn keys_cli_creates_and_lists_keys() {
    let server = TestServer::start();
    let key = server.create_key("other");
    assert!(key.len() >= 40 && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{key}");
    let output = server.sds().args(["keys", "list", "--data-dir"]).arg(server.data_dir()).output().unwrap();
    let listing = String::from_utf8(output.stdout).unwrap();
    assert!(listing.contains("account default") && listing.contains("account other"), "{listing}");
    assert!(listing.contains(&key[..6]) && !listing.contains(&key), "lists hints, never keys: {listing}");
    // The new key works at once against the running server.
    let response = server.get(&format!("/REST/v1/Dataflows/LoadDataSource/{}?key={key}", "0".repeat(32)));
    assert_eq!(response.status(), 404);
}
