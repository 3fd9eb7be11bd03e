//! `SDS/data-source-management-api/delete-data-source.md`: `DELETE
//! data/{accessId}/{name}?key=masterKey` answers 202 with no content and
//! the data source goes; `isStaging=1` deletes only the staged version;
//! 401 without a key, with an unknown key or a key that is not the master
//! key; 404 for a data source that does not exist.

use std::time::{Duration, Instant};

use super::support::*;

const SHOPS: &str = "Bing Spatial Data Services, 1.0, Shops\nEntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\na,1,2\n";

fn until_status(server: &TestServer, url: &str, status: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while get(server, url).status != status {
        assert!(Instant::now() < deadline, "{url} never answered {status}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn docs_delete_data_source_example() {
    let server = TestServer::start();
    let access_id = load_ok(&server, "ADataSourceName", "csv", SHOPS);
    let url = format!("/REST/v1/data/{access_id}/ADataSourceName");
    for (key, code) in [
        (String::new(), "NoCredentials"),
        ("?key=NotAKey".to_owned(), "InvalidCredentials"),
        (format!("?key={}", server.query_key), "NotAuthorized"),
    ] {
        let refused = send(&server, "DELETE", &format!("{url}{key}"));
        assert_eq!(refused.status, 401, "{key}: {}", refused.body);
        assert!(refused.body.contains(code), "{key}: {}", refused.body);
    }
    let missing = send(&server, "DELETE", &format!("/REST/v1/data/{access_id}/NoSuchSource?key={}", server.master_key));
    assert_eq!(missing.status, 404, "{}", missing.body);

    let deleted = send(&server, "DELETE", &format!("{url}?key={}", server.master_key));
    assert_eq!(deleted.status, 202, "{}", deleted.body);
    assert!(deleted.body.is_empty(), "no content: {}", deleted.body);
    until_status(&server, &format!("{url}?key={}", server.master_key), 404);
    assert_eq!(get(&server, &format!("{url}/Shops?key={}", server.query_key)).status, 404);
}

#[test]
fn docs_delete_data_source_staged_version_only() {
    let server = TestServer::start();
    let access_id = load_ok(&server, "ADataSourceName", "csv", SHOPS);
    let staged = server.load_and_wait("ADataSourceName", "completeStaging", "csv", SHOPS.replace("a,1,2", "b,1,2"));
    assert_eq!(staged["status"], "Completed", "{staged}");
    let staged_query = format!("/REST/v1/data/{access_id}/ADataSourceName/Shops?isStaging=1&key={}", server.query_key);
    assert_eq!(get(&server, &staged_query).status, 200);
    let deleted = send(
        &server,
        "DELETE",
        &format!("/REST/v1/data/{access_id}/ADataSourceName?isStaging=1&key={}", server.master_key),
    );
    assert_eq!(deleted.status, 202, "{}", deleted.body);
    until_status(&server, &staged_query, 404);
    let published =
        get(&server, &format!("/REST/v1/data/{access_id}/ADataSourceName/Shops?$format=json&key={}", server.query_key));
    assert_eq!(result_ids(&published.json(), "EntityID"), ["a"]);
}
