//! accessId adoption (an extension): a `complete` or `completeStaging` load
//! that creates a data source with `accessId=` keeps that id, so a data
//! source moved from another SDS keeps its query URLs; an id another data
//! source holds is refused.

use crate::common::server::{access_id_of, location, JsonBody, TestServer};
use crate::fixtures::{AREAS_CSV, SHOPS_CSV, SHOPS_PIPE};

const ADOPTED: &str = "0123456789ABCDEF0123456789abcdef";

fn job_count(server: &TestServer) -> u64 {
    let list = server.get(&format!("/REST/v1/Dataflows/ListJobs?output=json&key={}", server.master_key)).json_value();
    list["resourceSets"][0]["estimatedTotal"].as_u64().unwrap_or(0)
}

#[test]
fn access_id_a_new_data_source_adopts_an_unused_id() {
    let server = TestServer::start();
    let job = server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV);
    let generated = access_id_of(&job);
    let response = server.load(
        "Adopted",
        "complete",
        "csv",
        SHOPS_CSV.replace(", Shops\n", ", Adopted\n"),
        &format!("&accessId={ADOPTED}"),
    );
    assert_eq!(response.status(), 201);
    let job = server.wait_job(&location(&response), &server.master_key);
    assert_eq!(job["status"], "Completed", "{job}");
    let adopted = ADOPTED.to_lowercase();
    assert_eq!(access_id_of(&job), adopted, "ids are kept in lowercase");
    assert_ne!(generated, adopted);
    let query = server.get(&format!("/REST/v1/data/{adopted}/Adopted/Adopted?$format=json&key={}", server.query_key));
    assert_eq!(query.status(), 200);
    assert_eq!(query.json_value()["d"]["results"].as_array().unwrap().len(), 3);
    // Existing behaviour stays: a later load addresses it by that id.
    let again = server.load(
        "Adopted",
        "complete",
        "pipe",
        SHOPS_PIPE.replace(", Shops\n", ", Adopted\n"),
        &format!("&accessId={adopted}"),
    );
    assert_eq!(again.status(), 201);
    let job = server.wait_job(&location(&again), &server.master_key);
    assert_eq!(access_id_of(&job), adopted, "{job}");

    // A staging load creating a data source adopts the id too.
    let staged_id = "fedcba9876543210fedcba9876543210";
    let response = server.load("Areas", "completeStaging", "csv", AREAS_CSV, &format!("&accessId={staged_id}"));
    assert_eq!(response.status(), 201);
    let job = server.wait_job(&location(&response), &server.master_key);
    assert_eq!(job["status"], "Completed", "{job}");
    let info = server.get(&format!("/REST/v1/data/{staged_id}/Areas?output=json&key={}", server.master_key));
    assert_eq!(info.status(), 200, "the staged data source answers at the adopted id");
    let staged = server
        .get(&format!("/REST/v1/data/{staged_id}/Areas/Areas?$format=json&isStaging=1&key={}", server.master_key));
    assert_eq!(staged.status(), 200);
    assert_eq!(staged.json_value()["d"]["results"].as_array().unwrap().len(), 2);
}

#[test]
fn access_id_held_by_another_data_source_is_refused() {
    let server = TestServer::start();
    let shops = access_id_of(&server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV));
    let before = job_count(&server);
    for operation in ["complete", "completeStaging"] {
        let response = server.load("Other", operation, "csv", AREAS_CSV, &format!("&accessId={shops}"));
        assert_eq!(response.status(), 409, "{operation}");
        let body = response.json_value();
        assert_eq!(body["authenticationResultCode"], "ValidCredentials");
        let details = body["errorDetails"].to_string();
        assert!(details.contains(&format!("the accessId {shops} is already used by another data source")), "{details}");
    }
    // Held by a data source of another account: refused the same way.
    let stranger = server.create_key("adatum");
    let url = format!(
        "{}/Dataflows/LoadDataSource?dataSourceName=Shops&loadOperation=complete&input=csv&output=json&accessId={shops}&key={stranger}",
        server.root
    );
    let response = server.client.post(url).body(SHOPS_CSV).send().unwrap();
    assert_eq!(response.status(), 409);
    assert_eq!(job_count(&server), before, "refused loads store no job");

    // Unchanged: an incremental load needs an existing data source, an
    // existing data source is addressed only by its own id, and a
    // malformed id is a 400.
    let incremental = server.load("Other", "incremental", "csv", AREAS_CSV, &format!("&accessId={ADOPTED}"));
    assert_eq!(incremental.status(), 404);
    let mismatched = server.load("Shops", "complete", "csv", SHOPS_CSV, &format!("&accessId={ADOPTED}"));
    assert_eq!(mismatched.status(), 404);
    let malformed = server.load("Other", "complete", "csv", AREAS_CSV, "&accessId=0123");
    assert_eq!(malformed.status(), 400);
    assert!(malformed.json_value()["errorDetails"].to_string().contains("32-digit hexadecimal"));
    assert_eq!(job_count(&server), before);
}

/// Deleting a data source retires its accessId for every other account:
/// an application's old URLs, with its old key, never reach another
/// account's data (issue 10: identifiers are never reused across tenants).
/// The account that held it may adopt it again (delete, then migrate anew).
#[test]
fn access_id_of_a_deleted_data_source_never_moves_to_another_account() {
    let server = TestServer::start();
    let response = server.load("Shops", "complete", "csv", SHOPS_CSV, &format!("&accessId={ADOPTED}"));
    let job = server.wait_job(&location(&response), &server.master_key);
    let adopted = access_id_of(&job);
    let delete = server.client.delete(format!("{}/data/{adopted}/Shops?key={}", server.root, server.master_key));
    assert_eq!(delete.send().unwrap().status(), 202);
    let gone = || server.get(&format!("/REST/v1/data/{adopted}/Shops?output=json&key={}", server.master_key));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while gone().status() != 404 {
        assert!(std::time::Instant::now() < deadline, "the delete never completed");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    let stranger = server.create_key("adatum");
    let url = format!(
        "{}/Dataflows/LoadDataSource?dataSourceName=Shops&loadOperation=complete&input=csv&output=json&accessId={adopted}&key={stranger}",
        server.root
    );
    let response = server.client.post(url).body(SHOPS_CSV).send().unwrap();
    assert_eq!(response.status(), 409);
    let details = response.json_value()["errorDetails"].to_string();
    assert!(details.contains("never move between accounts"), "{details}");

    let again = server.load("Shops", "complete", "csv", SHOPS_CSV, &format!("&accessId={adopted}"));
    assert_eq!(again.status(), 201, "the account that held the id may adopt it again");
    let job = server.wait_job(&location(&again), &server.master_key);
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!(access_id_of(&job), adopted);
}
