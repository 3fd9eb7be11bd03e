//! Account quotas on a self-hosted server: none on data sources or daily
//! jobs by default, SDS Enterprise's with `--sds-quotas`, and refusals that
//! name the flag that lifts them and are logged at info, never as errors.

use crate::common::server::{JsonBody, TestServer};

const SHOPS: &str = "Bing Spatial Data Services, 1.0, Shops\nEntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\na,1,2\n";

fn server_log(server: &TestServer) -> String {
    server.log()
}

#[test]
fn quotas_default_has_no_data_source_or_daily_job_limit() {
    let server = TestServer::start();
    // 26 data sources (one over SDS's 25), then 25 overwrites: 51 jobs in
    // 24 hours, one over SDS's 50.
    for n in 1..=26 {
        let job = server.load_and_wait(&format!("Source{n}"), "complete", "csv", SHOPS);
        assert_eq!(job["status"], "Completed", "data source {n}: {job}");
    }
    for n in 1..=25 {
        let job = server.load_and_wait(&format!("Source{n}"), "complete", "csv", SHOPS);
        assert_eq!(job["status"], "Completed", "overwrite {n}: {job}");
    }
    assert!(!server_log(&server).contains("quota refusal"));
}

#[test]
fn quotas_sds_flag_imposes_enterprise_values_and_refusals_name_their_flag() {
    let server = TestServer::start_with(&["--sds-quotas"]);
    for n in 1..=25 {
        let job = server.load_and_wait(&format!("Source{n}"), "complete", "csv", SHOPS);
        assert_eq!(job["status"], "Completed", "data source {n}: {job}");
    }
    let refused = server.load("Source26", "complete", "csv", SHOPS, "");
    assert_eq!(refused.status(), 403);
    let details = refused.json_value()["errorDetails"].to_string();
    assert!(details.contains("limit of data sources per account is 25"), "{details}");
    assert!(details.contains("--max-data-sources"), "{details}");
    for n in 1..=25 {
        let job = server.load_and_wait(&format!("Source{n}"), "complete", "csv", SHOPS);
        assert_eq!(job["status"], "Completed", "overwrite {n}: {job}");
    }
    let refused = server.load("Source1", "complete", "csv", SHOPS, "");
    assert_eq!(refused.status(), 503);
    let details = refused.json_value()["errorDetails"].to_string();
    assert!(details.contains("limit of jobs per 24 hours is 50"), "{details}");
    assert!(details.contains("--max-jobs-per-day"), "{details}");

    let log = server_log(&server);
    let refusals: Vec<&str> = log.lines().filter(|line| line.contains("quota refusal")).collect();
    assert_eq!(refusals.len(), 2, "{log}");
    for line in &refusals {
        assert!(line.contains("INFO"), "{line}");
        assert!(line.contains("account=default"), "{line}");
    }
    assert!(refusals[0].contains("--max-data-sources") && refusals[1].contains("--max-jobs-per-day"), "{log}");
    assert!(!log.contains("ERROR"), "no quota refusal is an error line: {log}");
}

#[test]
fn quotas_explicit_flag_overrides_sds_quotas() {
    let server = TestServer::start_with(&["--sds-quotas", "--max-data-sources", "1"]);
    server.load_and_wait("One", "complete", "csv", SHOPS);
    let refused = server.load("Two", "complete", "csv", SHOPS, "");
    assert_eq!(refused.status(), 403);
    assert!(refused.json_value()["errorDetails"].to_string().contains("limit of data sources per account is 1"));
}
