//! `SDS/data-source-management-api/download-data-source-dataflow/create-a-download-job.md`:
//! the example URL `data/DataSourceDownload/{accessId}/{name}?o=xml` (an
//! alias of the template's `Dataflows/DataSourceDownload/…`), its XML and
//! JSON responses (201: SPEC.md §9 #3), `jobId` for a previous version, and
//! the page's errors: 401 without a key, with an unknown key or with a key
//! that is not the master key; 404 for a data source that does not exist.

use serde_json::json;

use super::load_data_source_data_schema_and_sample_input::sample_text;
use super::support::*;

#[test]
fn docs_create_a_download_job_xml_and_json() {
    let server = TestServer::start();
    let access_id = load_ok(&server, "DataSourceName", "csv", "Bing Spatial Data Services, 1.0, Shops\nEntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\na,1,2\n");
    let vars = [("root", server.root.as_str())];
    let xml = get(
        &server,
        &format!("/REST/v1/data/DataSourceDownload/{access_id}/DataSourceName?o=xml&key={}", server.master_key),
    );
    assert_eq!(xml.status, 201, "{}", xml.body);
    let golden = rest_xml(
        201,
        "Created",
        "<DataflowJob><Name>DataSourceName</Name><Id>{{jobId}}</Id><Link role=\"self\">{{root}}/dataflows/DataSourceDownload/DataSourceName</Link>\
<Status>Pending</Status><CreatedDate>{{xsdatetime}}</CreatedDate><CompletedDate xsi:nil=\"true\"/><TotalEntityCount>1</TotalEntityCount>\
<ProcessedEntityCount>0</ProcessedEntityCount><FailedEntityCount>0</FailedEntityCount></DataflowJob>",
    );
    assert_xml_matches("download create XML", &golden, &xml.body, &vars);
    assert_eq!(
        xml.location.as_deref(),
        Some(format!("{}/dataflows/DataSourceDownload/DataSourceName", server.root).as_str())
    );

    let reply = get(
        &server,
        &format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/DataSourceName?key={}", server.master_key),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let golden = rest_json(
        201,
        "Created",
        json!({
            "__type": DATAFLOW_JOB,
            "name": "DataSourceName",
            "id": "{{jobId}}",
            "links": [{"role": "self", "url": "{{root}}/dataflows/DataSourceDownload/DataSourceName"}],
            "createdDate": "{{rfc1123}}",
            "failedEntityCount": 0,
            "processedEntityCount": 0,
            "status": "Pending",
            "totalEntityCount": 1
        }),
    );
    assert_json_matches("download create JSON", &golden, &reply.body, &vars);
}

/// `jobId` names the version to download: the published one by default,
/// or a previous one.
#[test]
fn docs_create_a_download_job_of_a_previous_version() {
    let server = TestServer::start();
    let first = server.load_and_wait("MyDataSourceName", "complete", "csv", sample_text(','));
    let first_job = first["id"].as_str().unwrap().to_owned();
    let access_id = access_id_of(&first);
    load_ok(&server, "MyDataSourceName", "csv", "Bing Spatial Data Services, 1.0, Other\nEntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\nonly,1,2\n");
    let reply = get(
        &server,
        &format!(
            "/REST/v1/Dataflows/DataSourceDownload/{access_id}/MyDataSourceName?jobId={first_job}&key={}",
            server.master_key
        ),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    let job = wait(&server, &location_of(&reply));
    assert_eq!(job["status"], "Completed", "{job}");
    let data = get(&server, &format!("{}?key={}", link(&job, "output", Some("succeeded")), server.master_key));
    assert!(data.body.contains("<FourthCoffeeShops>") && !data.body.contains("<Other>"), "{}", data.body);
}

#[test]
fn docs_create_a_download_job_errors() {
    let server = TestServer::start();
    let access_id = load_ok(&server, "MyDataSourceName", "csv", "Bing Spatial Data Services, 1.0, Shops\nEntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\na,1,2\n");
    let url =
        |key: &str| format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/MyDataSourceName?output=json{key}");
    for (key, code) in [
        (String::new(), "NoCredentials"),
        ("&key=NotAKey".to_owned(), "InvalidCredentials"),
        (format!("&key={}", server.query_key), "NotAuthorized"),
    ] {
        let reply = get(&server, &url(&key));
        assert_eq!(reply.status, 401, "{key}: {}", reply.body);
        assert_eq!(reply.json()["authenticationResultCode"], code, "{key}");
        assert!(reply.json()["errorDetails"][0].is_string(), "{}", reply.body);
    }
    let missing = get(
        &server,
        &format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/NoSuchSource?key={}", server.master_key),
    );
    assert_eq!(missing.status, 404, "{}", missing.body);
}
