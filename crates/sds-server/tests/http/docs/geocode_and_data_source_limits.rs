//! `SDS/geocode-and-data-source-limits.md`: the Enterprise account limits,
//! imposed with `--sds-quotas` (a self-hosted server has no data-source
//! limit by default) — a 26th data source is refused (403, as the load
//! page says of an account that already has 25), and a job is "in
//! process" until it is Completed or Aborted.

use super::support::*;

const SHOPS: &str = "Bing Spatial Data Services, 1.0, Shops\nEntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\na,1,2\n";

#[test]
fn docs_geocode_and_data_source_limits_25_data_sources() {
    let server = TestServer::start_with(&["--sds-quotas"]);
    for n in 1..=25 {
        let job = server.load_and_wait(&format!("Source{n}"), "complete", "csv", SHOPS);
        assert_eq!(job["status"], "Completed", "data source {n}: {job}");
    }
    let refused = server.load("Source26", "complete", "csv", SHOPS, "");
    assert_eq!(refused.status(), 403);
    let body: serde_json::Value = serde_json::from_str(&refused.text().unwrap()).unwrap();
    assert_eq!(body["authenticationResultCode"], "ValidCredentials");
    assert!(body["errorDetails"][0].as_str().unwrap().contains("25"), "{body}");
    // Overwriting one of the 25 is no new data source.
    let job = server.load_and_wait("Source7", "complete", "csv", SHOPS);
    assert_eq!(job["status"], "Completed", "{job}");
}
