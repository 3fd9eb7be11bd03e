//! A conversation exactly as microsoft/BingMapsSDSToolkit's
//! `DataSourceManager` holds it (SPEC §8): gzip DataSet XML sent as
//! `application/octet-stream`, PascalCase `loadOperation`, `clientApi`,
//! polling `Location + "?output=json&key=…"`, strict `__type`-first JSON,
//! and the `succeeded` link + `?key=` for the download.

use crate::common::dataset;
use crate::common::server::{JsonBody, TestServer};
use crate::fixtures::{gzip, toolkit_xml};

/// What the toolkit's DataContractJsonSerializer insists on.
fn assert_toolkit_parses(text: &str) -> serde_json::Value {
    let resource_start = text.find("\"resources\":[{").expect("a resource");
    let first_member = &text[resource_start + "\"resources\":[{".len()..];
    assert!(
        first_member.starts_with("\"__type\":\"DataflowJob:http://schemas.microsoft.com/search/local/ws/rest/v1\""),
        "{text}"
    );
    let body: serde_json::Value = serde_json::from_str(text).unwrap();
    assert!(body.get("errorDetails").is_none(), "errorDetails must be absent on success: {text}");
    body
}

#[test]
fn toolkit_upload_download_round_trip() {
    let server = TestServer::start();
    let name = "CoffeeShops";
    let upload = format!(
        "{}/Dataflows/LoadDataSource?dataSourceName={name}&loadOperation=Complete&setPublic=0&input=xml&output=json&clientApi=SDSToolkit&description=&key={}",
        server.root, server.master_key
    );
    let response = server
        .client
        .post(upload)
        .header("Content-Type", "application/octet-stream")
        .body(gzip(toolkit_xml(name).as_bytes()))
        .send()
        .unwrap();
    assert_eq!(response.status(), 201);
    let status_url = response.headers()["Location"].to_str().unwrap().to_owned();
    assert!(!status_url.contains('?'), "the Location carries no query: {status_url}");
    assert_toolkit_parses(&response.text().unwrap());

    let job = loop {
        let text = server.get(&format!("{status_url}?output=json&key={}", server.master_key)).text().unwrap();
        let body = assert_toolkit_parses(&text);
        let job = body["resourceSets"][0]["resources"][0].clone();
        if job["status"] != "Pending" {
            break job;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!(job["failedEntityCount"], 0);
    let service = job["links"].as_array().unwrap().iter().find(|link| link["role"] == "dataSource").unwrap();
    let access_id =
        service["url"].as_str().unwrap().split("/data/").nth(1).unwrap().split('/').next().unwrap().to_owned();

    let download = server.get(&format!(
        "/REST/v1/Dataflows/DataSourceDownload/{access_id}/{name}?output=json&clientApi=SDSToolkit&key={}",
        server.master_key
    ));
    assert_eq!(download.status(), 201);
    let download_status = download.headers()["Location"].to_str().unwrap().to_owned();
    let done = loop {
        let body = server.get(&format!("{download_status}?output=json&key={}", server.master_key)).json_value();
        let job = body["resourceSets"][0]["resources"][0].clone();
        if job["status"] != "Pending" {
            break job;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(done["status"], "Completed");
    let succeeded = done["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|link| link["role"] == "output" && link["name"] == "succeeded")
        .expect("the succeeded link")["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let data = server.get(&format!("{succeeded}?key={}", server.master_key)).text().unwrap();
    let downloaded = dataset::parse(&data);
    assert_ne!(downloaded.root, name, "the root differs from the IsDataSet element, so it re-uploads");
    let types: Vec<_> = downloaded.columns.iter().map(|(name, xsd)| format!("{name}:{xsd}")).collect();
    assert_eq!(
        types,
        [
            "EntityID:xs:string",
            "Name:xs:string",
            "Latitude:xs:double",
            "Longitude:xs:double",
            "Seats:xs:long",
            "HasWifi:xs:boolean",
            "Opened:xs:dateTime",
            "Area:xs:anyType"
        ]
    );
    let rows = downloaded.by_id();
    let first = &rows["shop-1"];
    assert_eq!(first["Name"], "Fourth Coffee – Straße 1 | “quoted” & <tag>");
    assert_eq!(first["Latitude"].parse::<f64>().unwrap(), 47.64);
    assert_eq!(first["Longitude"].parse::<f64>().unwrap(), -122.13);
    assert_eq!(first["Seats"], "40");
    assert_eq!(first["HasWifi"], "true");
    assert_eq!(first["Opened"], "2010-11-03T23:31:37.1234567Z");
    assert_eq!(first["Area"], "POLYGON((-122.14 47.63, -122.12 47.63, -122.12 47.65, -122.14 47.65, -122.14 47.63))");
    let second = &rows["shop-2"];
    assert_eq!(second["Name"], "  spaces kept  ");
    assert_eq!(second["HasWifi"], "false");
    assert!(!second.contains_key("Seats") && !second.contains_key("Opened"));
    assert_eq!(second["Area"], "POINT(151.2153 -33.8568)");
}
