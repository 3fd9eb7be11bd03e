//! `SDS/data-source-management-api/load-data-source-dataflow/get-load-data-source-status.md`:
//! the status URL as the page writes it (`Dataflows/LoadDatasource/{id}`,
//! `o=xml`, or no `output` for JSON), the completed job with its
//! `dataSource`/`service` link (SPEC.md §9 #9: the page's `datasource`
//! casing differs from its rollback and C# sample pages), 200 OK.

use serde_json::json;

use super::load_data_source_data_schema_and_sample_input::sample_text;
use super::support::*;

#[test]
fn docs_get_load_data_source_status_xml_and_json() {
    let server = TestServer::start();
    let job = server.load_and_wait("FourthCoffeeSample", "complete", "csv", sample_text(','));
    assert_eq!(job["status"], "Completed", "{job}");
    let job_id = job["id"].as_str().unwrap().to_owned();
    let access_id = access_id_of(&job);
    let total = job["totalEntityCount"].as_i64().unwrap();
    let processed = job["processedEntityCount"].as_i64().unwrap();
    let failed = job["failedEntityCount"].as_i64().unwrap();
    let vars = [("root", server.root.as_str()), ("accessId", access_id.as_str()), ("jobId", job_id.as_str())];

    let xml = get(&server, &format!("/REST/v1/Dataflows/LoadDatasource/{job_id}?o=xml&key={}", server.master_key));
    assert_eq!(xml.status, 200, "{}", xml.body);
    let golden = rest_xml(
        200,
        "OK",
        &format!(
            "<DataflowJob><Name>FourthCoffeeSample</Name><Id>{{{{jobId}}}}</Id><Link role=\"self\">{{{{root}}}}/dataflows/LoadDataSource/{{{{jobId}}}}</Link>\
<Link role=\"dataSource\" name=\"service\">{{{{root}}}}/data/{{{{accessId}}}}/FourthCoffeeSample</Link><Description>DataSourceComplete</Description>\
<Status>Completed</Status><CreatedDate>{{{{xsdatetime}}}}</CreatedDate><CompletedDate>{{{{xsdatetime}}}}</CompletedDate>\
<TotalEntityCount>{total}</TotalEntityCount><ProcessedEntityCount>{processed}</ProcessedEntityCount><FailedEntityCount>{failed}</FailedEntityCount></DataflowJob>"
        ),
    );
    assert_xml_matches("load status XML", &golden, &xml.body, &vars);

    let json_reply = get(&server, &format!("/REST/v1/Dataflows/LoadDatasource/{job_id}?key={}", server.master_key));
    assert_eq!(json_reply.status, 200, "{}", json_reply.body);
    let golden = rest_json(
        200,
        "OK",
        json!({
            "__type": DATAFLOW_JOB,
            "name": "FourthCoffeeSample",
            "id": "{{jobId}}",
            "links": [
                {"role": "self", "url": "{{root}}/dataflows/LoadDataSource/{{jobId}}"},
                {"name": "service", "role": "dataSource", "url": "{{root}}/data/{{accessId}}/FourthCoffeeSample"}
            ],
            "completedDate": "{{rfc1123}}",
            "createdDate": "{{rfc1123}}",
            "description": "DataSourceComplete",
            "failedEntityCount": failed,
            "processedEntityCount": processed,
            "status": "Completed",
            "totalEntityCount": total
        }),
    );
    assert_json_matches("load status JSON", &golden, &json_reply.body, &vars);
    assert_eq!((total, processed, failed), (2, 2, 0), "both sample rows (finding 1)");
}

/// The status URL answers only the master key: no key is 401 NoCredentials.
#[test]
fn docs_get_load_data_source_status_needs_the_master_key() {
    let server = TestServer::start();
    let job = server.load_and_wait("FourthCoffeeSample", "complete", "csv", sample_text(','));
    let job_id = job["id"].as_str().unwrap();
    let missing = get(&server, &format!("/REST/v1/Dataflows/LoadDatasource/{job_id}?o=xml"));
    assert_eq!(missing.status, 401, "{}", missing.body);
    assert!(
        missing.body.contains("<AuthenticationResultCode>NoCredentials</AuthenticationResultCode>"),
        "{}",
        missing.body
    );
}
