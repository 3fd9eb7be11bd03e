//! `SDS/data-source-management-api/load-data-source-dataflow/publish-staged-data-source.md`:
//! a staged load (`completeStaged`, the page's spelling, and
//! `completeStaging`), `$commit?o=xml` and its JSON form (202 Accepted, a
//! DataServiceJob `DataSourcePublishFromStaged` with a `self` link to
//! `$getstatus`), then `$getstatus?key=` until `Completed` (SPEC.md §9 #6:
//! 200, JSON typed DataflowJob for the toolkit); afterwards the staged
//! data is the published data.

use serde_json::json;

use super::support::*;

const STAGED: &str = "Bing Spatial Data Services, 1.0, Shops\nEntityID(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\nnew,Staged shop,1,2\n";
const PUBLISHED: &str = "Bing Spatial Data Services, 1.0, Shops\nEntityID(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\nold,Published shop,1,2\n";

fn staged_source(server: &TestServer, operation: &str) -> String {
    let access_id = load_ok(server, "MyDataSourceName", "csv", PUBLISHED);
    let job = server.load_and_wait("MyDataSourceName", operation, "csv", STAGED);
    assert_eq!(job["status"], "Completed", "{operation}: {job}");
    access_id
}

fn names(server: &TestServer, access_id: &str, staging: &str) -> Reply {
    get(
        server,
        &format!("/REST/v1/data/{access_id}/MyDataSourceName/Shops?$format=json{staging}&key={}", server.query_key),
    )
}

#[test]
fn docs_publish_staged_data_source_xml() {
    let server = TestServer::start();
    let access_id = staged_source(&server, "completeStaged");
    assert_eq!(result_ids(&names(&server, &access_id, "&isStaged=1").json(), "EntityID"), ["new"]);
    let vars = [("root", server.root.as_str())];
    let commit =
        get(&server, &format!("/REST/v1/data/{access_id}/MyDataSourceName/$commit?o=xml&key={}", server.master_key));
    assert_eq!(commit.status, 202, "{}", commit.body);
    let golden = rest_xml(
        202,
        "Accepted",
        "<DataServiceJob><Name>MyDataSourceName</Name><Id>{{jobId}}</Id><Link role=\"self\">{{root}}/data/jobs/{{jobId}}/$getstatus</Link>\
<Description>DataSourcePublishFromStaged</Description><Status>Accepted</Status><CreatedDate>{{xsdatetime}}</CreatedDate>\
<CompletedDate xsi:nil=\"true\"/></DataServiceJob>",
    );
    assert_xml_matches("$commit XML", &golden, &commit.body, &vars);
    let status_url = location_of(&commit);
    let job = wait(&server, &status_url);
    assert_eq!(job["status"], "Completed", "{job}");
    let xml = get(&server, &format!("{status_url}?o=xml&key={}", server.master_key));
    assert_eq!(xml.status, 200, "{}", xml.body);
    let job_id = job["id"].as_str().unwrap();
    let golden = rest_xml(
        200,
        "OK",
        &format!(
            "<DataServiceJob><Name>MyDataSourceName</Name><Id>{job_id}</Id><Link role=\"self\">{{{{root}}}}/data/jobs/{job_id}/$getstatus</Link>\
<Link role=\"dataSource\" name=\"service\">{{{{root}}}}/data/{access_id}/MyDataSourceName</Link>\
<Description>DataSourcePublishFromStaged</Description><Status>Completed</Status><CreatedDate>{{{{xsdatetime}}}}</CreatedDate>\
<CompletedDate>{{{{xsdatetime}}}}</CompletedDate></DataServiceJob>"
        ),
    );
    assert_xml_matches("$getstatus XML", &golden, &xml.body, &vars);
    assert_eq!(result_ids(&names(&server, &access_id, "").json(), "EntityID"), ["new"], "the staged data is published");
    assert_eq!(names(&server, &access_id, "&isStaging=1").status, 404, "nothing is staged any more");
}

#[test]
fn docs_publish_staged_data_source_json() {
    let server = TestServer::start();
    let access_id = staged_source(&server, "completeStaging");
    let vars = [("root", server.root.as_str())];
    let commit = get(&server, &format!("/REST/v1/data/{access_id}/MyDataSourceName/$commit?key={}", server.master_key));
    assert_eq!(commit.status, 202, "{}", commit.body);
    let golden = rest_json(
        202,
        "Accepted",
        json!({
            "__type": DATASERVICE_JOB,
            "name": "MyDataSourceName",
            "id": "{{jobId}}",
            "links": [{"role": "self", "url": "{{root}}/data/jobs/{{jobId}}/$getstatus"}],
            "createdDate": "{{rfc1123}}",
            "description": "DataSourcePublishFromStaged",
            "status": "Accepted"
        }),
    );
    assert_json_matches("$commit JSON", &golden, &commit.body, &vars);
    let status_url = location_of(&commit);
    wait(&server, &status_url);
    let status = get(&server, &format!("{status_url}?key={}", server.master_key));
    assert_eq!(status.status, 200, "{}", status.body);
    let golden = rest_json(
        200,
        "OK",
        json!({
            "__type": DATAFLOW_JOB,
            "name": "MyDataSourceName",
            "id": "{{jobId}}",
            "links": [
                {"role": "self", "url": "{{root}}/data/jobs/{{jobId}}/$getstatus"},
                {"role": "dataSource", "name": "service", "url": format!("{{{{root}}}}/data/{access_id}/MyDataSourceName")}
            ],
            "createdDate": "{{rfc1123}}",
            "completedDate": "{{rfc1123}}",
            "description": "DataSourcePublishFromStaged",
            "status": "Completed",
            "totalEntityCount": 0,
            "processedEntityCount": 0,
            "failedEntityCount": 0
        }),
    );
    assert_json_matches("$getstatus JSON", &golden, &status.body, &vars);
}
