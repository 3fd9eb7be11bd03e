//! `SDS/get-job-list.md`: `Dataflows/ListJobs?key=` lists the account's
//! jobs of the last 15 days, pending first, without download jobs: each a
//! DataflowJob (load kinds, `DataSourceRollback`) with entity counts or a
//! DataServiceJob (`DataSourcePublishFromStaged`, `DataSourceDelete`,
//! `DataSourceAccess`) without them, named after its data source and
//! described by its kind; `estimatedTotal` the count; JSON by default,
//! XML with `output=xml`.

use std::collections::BTreeSet;

use serde_json::Value;

use super::support::*;

const SHOPS: &str = "Bing Spatial Data Services, 1.0, Shops\nEntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\na,1,2\nb,3,4\nc,5,6\n";

#[test]
fn docs_get_job_list_json_and_xml() {
    let server = TestServer::start();
    let key = &server.master_key;
    let access_id = load_ok(&server, "CreateOrUpdateADataSource", "csv", SHOPS);
    let incremental = server.load_and_wait("CreateOrUpdateADataSource", "incremental", "csv", SHOPS);
    assert_eq!(incremental["status"], "Completed", "{incremental}");
    let public = get(
        &server,
        &format!("/REST/v1/data/{access_id}/CreateOrUpdateADataSource/$updatedatasource?setPublic=1&key={key}"),
    );
    wait(&server, &location_of(&public));
    let download =
        get(&server, &format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/CreateOrUpdateADataSource?key={key}"));
    wait(&server, &location_of(&download));
    let doomed = load_ok(&server, "DeleteADataSource", "csv", SHOPS);
    let deleted = send(&server, "DELETE", &format!("/REST/v1/data/{doomed}/DeleteADataSource?key={key}"));
    assert_eq!(deleted.status, 202);

    let reply = get(&server, &format!("/REST/v1/Dataflows/ListJobs?key={key}"));
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["statusCode"], 200);
    let jobs = body["resourceSets"][0]["resources"].as_array().unwrap();
    assert_eq!(body["resourceSets"][0]["estimatedTotal"], Value::from(jobs.len()));
    let kinds: BTreeSet<(&str, &str, &str)> = jobs
        .iter()
        .map(|job| {
            (job["__type"].as_str().unwrap(), job["description"].as_str().unwrap(), job["name"].as_str().unwrap())
        })
        .collect();
    let expected: BTreeSet<(&str, &str, &str)> = [
        (DATAFLOW_JOB, "DataSourceComplete", "CreateOrUpdateADataSource"),
        (DATAFLOW_JOB, "DataSourceIncremental", "CreateOrUpdateADataSource"),
        (DATASERVICE_JOB, "DataSourceAccess", "CreateOrUpdateADataSource"),
        (DATAFLOW_JOB, "DataSourceComplete", "DeleteADataSource"),
        (DATASERVICE_JOB, "DataSourceDelete", "DeleteADataSource"),
    ]
    .into_iter()
    .collect();
    assert_eq!(kinds, expected, "download jobs are not listed");
    assert_eq!(jobs.len(), 5);
    let mut seen_done = false;
    for job in jobs {
        let order = key_order(
            &reply.body,
            &format!("/resourceSets/0/resources/{}", jobs.iter().position(|j| j == job).unwrap()),
        );
        assert_eq!(order[0], "__type");
        assert!(is_rfc1123(job["createdDate"].as_str().unwrap()), "{job}");
        let pending = job["status"] == "Pending";
        assert!(!(pending && seen_done), "pending jobs first: {body}");
        seen_done |= !pending;
        let counted = job["__type"] == DATAFLOW_JOB;
        for count in ["totalEntityCount", "processedEntityCount", "failedEntityCount"] {
            assert_eq!(job.get(count).is_some(), counted, "{count} only on DataflowJob: {job}");
        }
        if job["description"] == "DataSourceComplete" && job["status"] == "Completed" {
            assert_eq!(
                (job["totalEntityCount"].as_i64(), job["processedEntityCount"].as_i64()),
                (Some(3), Some(3)),
                "{job}"
            );
        }
    }

    let xml = get(&server, &format!("/REST/v1/Dataflows/ListJobs?key={key}&output=xml"));
    assert_eq!(xml.status, 200, "{}", xml.body);
    assert!(xml.body.contains(&format!("<EstimatedTotal>{}</EstimatedTotal>", jobs.len())), "{}", xml.body);
    assert_eq!(xml.body.matches("<DataServiceJob>").count(), 2, "{}", xml.body);
    assert_eq!(xml.body.matches("<DataflowJob>").count(), 3, "{}", xml.body);
    assert!(xml.body.contains("<Name>DeleteADataSource</Name>"), "{}", xml.body);
}
