//! `SDS/data-source-management-api/download-data-source-dataflow/get-download-data-source-job-status.md`:
//! `Dataflows/DataSourceDownload/{name}?o=xml` and the JSON form for a
//! completed job, with the `output`/`succeeded` download link. The page's
//! slips (JSON `"output":"succeeded"` and `/ouput/`, XML `Status` between
//! links, nil `CompletedDate`, empty `ProcessedEntityCount`, 201) are
//! resolved by SPEC.md §9 #1, #3 and #5; the `/ouput/` URL still works.

use serde_json::json;

use super::support::*;

pub const THREE_SHOPS: &str = "Bing Spatial Data Services, 1.0, MyDataSourceEntityType\n\
EntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double),Phone(Edm.String)\n\
1,47.67,-122.11,555-0101\n2,34.02,-118.28,555-0102\n3,40.71,-74.0,555-0103\n";

#[test]
fn docs_get_download_data_source_job_status_xml_and_json() {
    let server = TestServer::start();
    let access_id = load_ok(&server, "MyDataSourceName", "csv", THREE_SHOPS);
    let created = get(
        &server,
        &format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/MyDataSourceName?key={}", server.master_key),
    );
    let job = wait(&server, &location_of(&created));
    let job_id = job["id"].as_str().unwrap().to_owned();
    let vars = [("root", server.root.as_str()), ("jobId", job_id.as_str())];

    let xml = get(
        &server,
        &format!("/REST/v1/Dataflows/DataSourceDownload/MyDataSourceName?o=xml&key={}", server.master_key),
    );
    assert_eq!(xml.status, 200, "{}", xml.body);
    let golden = rest_xml(
        200,
        "OK",
        "<DataflowJob><Name>MyDataSourceName</Name><Id>{{jobId}}</Id><Link role=\"self\">{{root}}/dataflows/DataSourceDownload/MyDataSourceName</Link>\
<Link role=\"output\" name=\"succeeded\">{{root}}/dataflows/DataSourceDownload/MyDataSourceName/output/succeeded</Link>\
<Status>Completed</Status><CreatedDate>{{xsdatetime}}</CreatedDate><CompletedDate>{{xsdatetime}}</CompletedDate>\
<TotalEntityCount>3</TotalEntityCount><ProcessedEntityCount>0</ProcessedEntityCount><FailedEntityCount>0</FailedEntityCount></DataflowJob>",
    );
    assert_xml_matches("download status XML", &golden, &xml.body, &vars);

    let reply =
        get(&server, &format!("/REST/v1/Dataflows/DataSourceDownload/MyDataSourceName?key={}", server.master_key));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let golden = rest_json(
        200,
        "OK",
        json!({
            "__type": DATAFLOW_JOB,
            "name": "MyDataSourceName",
            "id": "{{jobId}}",
            "links": [
                {"role": "self", "url": "{{root}}/dataflows/DataSourceDownload/MyDataSourceName"},
                {"role": "output", "name": "succeeded", "url": "{{root}}/dataflows/DataSourceDownload/MyDataSourceName/output/succeeded"}
            ],
            "createdDate": "{{rfc1123}}",
            "completedDate": "{{rfc1123}}",
            "failedEntityCount": 0,
            "processedEntityCount": 0,
            "status": "Completed",
            "totalEntityCount": 3
        }),
    );
    assert_json_matches("download status JSON", &golden, &reply.body, &vars);

    // The page's JSON link spells `ouput`: that URL fetches the data too.
    let misspelt = get(
        &server,
        &format!("/REST/v1/dataflows/DataSourceDownload/MyDataSourceName/ouput/succeeded?key={}", server.master_key),
    );
    assert_eq!(misspelt.status, 200, "{}", misspelt.body);
    assert!(misspelt.body.contains("<MyDataSourceEntityType>"), "{}", misspelt.body);
}
