//! `SDS/data-source-management-api/download-data-source-dataflow/download-data-source-dataflow-response-description.md`:
//! the DataflowJob fields of a download — `totalEntityCount` the number of
//! entities, `processedEntityCount`/`failedEntityCount` "not used" (0),
//! links `self` and, once Completed, `output`/`succeeded`, and no
//! `errorMessage`.

use std::fmt::Write as _;

use super::support::*;

#[test]
fn docs_download_data_source_dataflow_response_description_fields() {
    let server = TestServer::start();
    let mut csv = String::from("Bing Spatial Data Services, 1.0, Shops\nEntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\n");
    for n in 0..300 {
        let _ = writeln!(csv, "{n},47,-122");
    }
    let access_id = load_ok(&server, "MyDataSourceName", "csv", &csv);
    let created = get(
        &server,
        &format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/MyDataSourceName?key={}", server.master_key),
    );
    let job = wait(&server, &location_of(&created));
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!(job["totalEntityCount"], 300, "{job}");
    assert_eq!(job["processedEntityCount"], 0, "{job}");
    assert_eq!(job["failedEntityCount"], 0, "{job}");
    let roles: Vec<(&str, Option<&str>)> =
        job["links"].as_array().unwrap().iter().map(|l| (l["role"].as_str().unwrap(), l["name"].as_str())).collect();
    assert_eq!(roles, [("self", None), ("output", Some("succeeded"))]);
    assert!(job.get("errorMessage").is_none(), "{job}");
    assert!(
        is_rfc1123(job["createdDate"].as_str().unwrap()) && is_rfc1123(job["completedDate"].as_str().unwrap()),
        "{job}"
    );
}
