//! `SDS/data-source-management-api/rollback-data-source-dataflow.md`: find
//! the previous version's job id with `showAllVersions`, roll back with
//! `Dataflows/DataSourceRollback/{previousVersionJobId}/{name}?o=xml` (201,
//! DataflowJob `DataSourceRollback`, a `self` link; SPEC.md §9 #10 for the
//! page's `Created`/`Pending`, hosts, `/\/` and leading blanks), poll the
//! rollback job's status URL until `Completed` with its `dataSource`
//! link, and the previous data and schema are published again; only two
//! previous versions are kept.

use serde_json::json;

use super::support::*;

fn version(n: u32) -> String {
    format!("Bing Spatial Data Services, 1.0, Shops{n}\nEntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\nv{n},1,2\n")
}

/// `bsi:isActive="false" bsi:isStagingDataSource="false"` workspaces' job ids.
fn previous_job_ids(server: &TestServer, access_id: &str) -> Vec<String> {
    let atom = get(
        server,
        &format!("/REST/v1/data/{access_id}/FourthCoffeeShop?showAllVersions=true&key={}", server.master_key),
    );
    atom.body
        .split("<app:workspace")
        .skip(1)
        .filter(|workspace| {
            workspace.contains("bsi:isActive=\"false\"") && workspace.contains("bsi:isStagingDataSource=\"false\"")
        })
        .map(|workspace| {
            let start = workspace.find("<atom:jobId>").unwrap() + "<atom:jobId>".len();
            workspace[start..start + 32].to_owned()
        })
        .collect()
}

#[test]
fn docs_rollback_data_source_dataflow_xml_json_and_effect() {
    let server = TestServer::start();
    let first = server.load_and_wait("FourthCoffeeShop", "complete", "csv", version(1));
    let first_job = first["id"].as_str().unwrap().to_owned();
    let access_id = access_id_of(&first);
    load_ok(&server, "FourthCoffeeShop", "csv", &version(2));
    assert_eq!(previous_job_ids(&server, &access_id), std::slice::from_ref(&first_job));

    let created = get(
        &server,
        &format!("/REST/v1/Dataflows/DataSourceRollback/{first_job}/FourthCoffeeShop?o=xml&key={}", server.master_key),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let golden = rest_xml(
        201,
        "Created",
        "<DataflowJob><Name>FourthCoffeeShop</Name><Id>{{jobId}}</Id><Link role=\"self\">{{root}}/dataflows/DataSourceRollback/{{jobId}}</Link>\
<Description>DataSourceRollback</Description><Status>Pending</Status><CreatedDate>{{xsdatetime}}</CreatedDate>\
<CompletedDate xsi:nil=\"true\"/><TotalEntityCount>0</TotalEntityCount><ProcessedEntityCount>0</ProcessedEntityCount>\
<FailedEntityCount>0</FailedEntityCount></DataflowJob>",
    );
    assert_xml_matches("rollback create XML", &golden, &created.body, &[("root", &server.root)]);
    let status_url = location_of(&created);
    let job = wait(&server, &status_url);
    let vars = [("root", server.root.as_str()), ("accessId", access_id.as_str())];
    let status = get(&server, &format!("{status_url}?key={}", server.master_key));
    assert_eq!(status.status, 200, "{}", status.body);
    let golden = rest_json(
        200,
        "OK",
        json!({
            "__type": DATAFLOW_JOB,
            "name": "FourthCoffeeShop",
            "id": job["id"],
            "links": [
                {"role": "self", "url": format!("{{{{root}}}}/dataflows/DataSourceRollback/{}", job["id"].as_str().unwrap())},
                {"name": "service", "role": "dataSource", "url": "{{root}}/data/{{accessId}}/FourthCoffeeShop"}
            ],
            "completedDate": "{{rfc1123}}",
            "createdDate": "{{rfc1123}}",
            "description": "DataSourceRollback",
            "failedEntityCount": 0,
            "processedEntityCount": 0,
            "status": "Completed",
            "totalEntityCount": 0
        }),
    );
    assert_json_matches("rollback status JSON", &golden, &status.body, &vars);
    let restored = get(
        &server,
        &format!("/REST/v1/data/{access_id}/FourthCoffeeShop/Shops1?$format=json&key={}", server.query_key),
    );
    assert_eq!(result_ids(&restored.json(), "EntityID"), ["v1"], "the previous data and schema: {}", restored.body);
}

/// "Up to two (3) previous versions": two are kept (SPEC.md §9 #10).
#[test]
fn docs_rollback_data_source_dataflow_keeps_two_previous_versions() {
    let server = TestServer::start();
    let first = server.load_and_wait("FourthCoffeeShop", "complete", "csv", version(1));
    let first_job = first["id"].as_str().unwrap().to_owned();
    let access_id = access_id_of(&first);
    for n in 2..=4 {
        load_ok(&server, "FourthCoffeeShop", "csv", &version(n));
    }
    let previous = previous_job_ids(&server, &access_id);
    assert_eq!(previous.len(), 2, "{previous:?}");
    assert!(!previous.contains(&first_job));
    let too_old = get(
        &server,
        &format!("/REST/v1/Dataflows/DataSourceRollback/{first_job}/FourthCoffeeShop?key={}", server.master_key),
    );
    assert!(too_old.status == 404 || too_old.status == 400, "{}: {}", too_old.status, too_old.body);
}
