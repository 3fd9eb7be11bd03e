//! `SDS/status-codes-and-error-handling.md`: the status code table — each
//! code `sds` can be made to answer, with the table's description as the
//! envelope's `statusDescription` and the code as its `statusCode`: 200,
//! 201, 202, 400, 401, 403 (a quota that "authorization will not help"),
//! 404 and 503 (jobs over the daily quota). 500 cannot be provoked.

use super::support::*;

const SHOPS: &str = "Bing Spatial Data Services, 1.0, Shops\nEntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\na,1,2\n";

fn check(reply: &Reply, code: u16, description: &str) {
    assert_eq!(reply.status, code, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["statusCode"], code, "{}", reply.body);
    assert_eq!(body["statusDescription"], description, "{}", reply.body);
}

#[test]
fn docs_status_codes_and_error_handling_table() {
    let server = TestServer::start_with(&["--max-data-sources", "1", "--max-jobs-per-day", "4"]);
    let key = &server.master_key;
    let created = post(
        &server,
        &format!("/REST/v1/Dataflows/LoadDataSource?dataSourceName=One&loadOperation=complete&input=csv&key={key}"),
        "text/plain",
        SHOPS,
    );
    check(&created, 201, "Created");
    let job = wait(&server, &location_of(&created));
    let access_id = access_id_of(&job);
    check(&get(&server, &format!("{}?key={key}", location_of(&created))), 200, "OK");
    check(&get(&server, &format!("/REST/v1/data/{access_id}/Nothing/$commit?key={key}")), 404, "Not Found");
    let staged = post(
        &server,
        &format!(
            "/REST/v1/Dataflows/LoadDataSource?dataSourceName=One&loadOperation=completeStaging&input=csv&key={key}"
        ),
        "text/plain",
        SHOPS,
    );
    wait(&server, &location_of(&staged));
    check(&get(&server, &format!("/REST/v1/data/{access_id}/One/$commit?key={key}")), 202, "Accepted");
    check(
        &post(
            &server,
            &format!("/REST/v1/Dataflows/LoadDataSource?loadOperation=complete&input=csv&key={key}"),
            "text/plain",
            SHOPS,
        ),
        400,
        "Bad Request",
    );
    check(&get(&server, "/REST/v1/Dataflows/ListJobs?key=NotAKey"), 401, "Unauthorized");
    let second = post(
        &server,
        &format!("/REST/v1/Dataflows/LoadDataSource?dataSourceName=Two&loadOperation=complete&input=csv&key={key}"),
        "text/plain",
        SHOPS,
    );
    check(&second, 403, "Forbidden");
    // Three jobs so far (two loads, one publish); the fourth fits, the fifth does not.
    let fourth = post(
        &server,
        &format!("/REST/v1/Dataflows/LoadDataSource?dataSourceName=One&loadOperation=complete&input=csv&key={key}"),
        "text/plain",
        SHOPS,
    );
    check(&fourth, 201, "Created");
    wait(&server, &location_of(&fourth));
    let fifth = post(
        &server,
        &format!("/REST/v1/Dataflows/LoadDataSource?dataSourceName=One&loadOperation=complete&input=csv&key={key}"),
        "text/plain",
        SHOPS,
    );
    check(&fifth, 503, "Service Unavailable");
}
