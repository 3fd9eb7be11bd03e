//! `SDS/data-source-management-api/load-data-source-dataflow/load-data-source-dataflow-response-description.md`:
//! the field tables (names and types of the envelope and the DataflowJob,
//! the XML child order) on a completed load of 12 entities as in the
//! page's example, and the Aborted case the tables describe: `errorMessage`,
//! the `output`/`failed` error-log link and `errorDetails`.

use std::fmt::Write as _;

use serde_json::Value;

use super::support::*;

fn twelve_shops() -> String {
    let mut csv = String::from("Bing Spatial Data Services, 1.0, FourthCoffeeShops\nEntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\n");
    for n in 0..12 {
        let _ = writeln!(csv, "{n},{},{}", 47.0 + f64::from(n) / 100.0, -122.0);
    }
    csv
}

#[test]
fn docs_load_data_source_dataflow_response_description_completed_job_fields() {
    let server = TestServer::start();
    let job = server.load_and_wait("FourthCoffeeSample", "complete", "csv", twelve_shops());
    let status_url = link(&job, "self", None);
    let reply = get(&server, &format!("{status_url}?key={}", server.master_key));
    let body = reply.json();
    // Top-level fields and their types.
    assert_eq!(body["authenticationResultCode"], "ValidCredentials");
    assert!(body["copyright"].is_string() && body["brandLogoUri"].is_string() && body["traceId"].is_string(), "{body}");
    assert_eq!(body["statusCode"], 200);
    assert_eq!(body["statusDescription"], "OK");
    assert!(body.get("errorDetails").is_none(), "errorDetails only on failure: {body}");
    assert_eq!(body["resourceSets"][0]["estimatedTotal"], 1);
    let resource = &body["resourceSets"][0]["resources"][0];
    assert_eq!(resource["__type"], DATAFLOW_JOB);
    assert!(resource["id"].is_string());
    assert_eq!(resource["status"], "Completed");
    assert!(is_rfc1123(resource["createdDate"].as_str().unwrap()), "{resource}");
    assert!(is_rfc1123(resource["completedDate"].as_str().unwrap()), "{resource}");
    for (field, value) in [("totalEntityCount", 12), ("processedEntityCount", 12), ("failedEntityCount", 0)] {
        assert_eq!(resource[field], Value::from(value), "{field}: {resource}");
    }
    assert!(resource["description"].is_string(), "{resource}");
    let roles: Vec<(&str, Option<&str>)> = resource["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["role"].as_str().unwrap(), l["name"].as_str()))
        .collect();
    assert_eq!(roles, [("self", None), ("dataSource", Some("service"))]);

    // The XML example's element order.
    let xml = get(&server, &format!("{status_url}?output=xml&key={}", server.master_key));
    let order = [
        "<Copyright>",
        "<BrandLogoUri>",
        "<StatusCode>",
        "<StatusDescription>",
        "<AuthenticationResultCode>",
        "<TraceId>",
        "<ResourceSets>",
        "<EstimatedTotal>",
        "<DataflowJob>",
        "<Id>",
        "<Link role=\"self\"",
        "<Link role=\"dataSource\" name=\"service\"",
        "<Description>",
        "<Status>",
        "<CreatedDate>",
        "<CompletedDate>",
        "<TotalEntityCount>12<",
        "<ProcessedEntityCount>12<",
        "<FailedEntityCount>0<",
    ];
    let mut from = 0;
    for tag in order {
        let at = xml.body[from..].find(tag).unwrap_or_else(|| panic!("{tag} after byte {from}: {}", xml.body));
        from += at + tag.len();
    }
}

#[test]
fn docs_load_data_source_dataflow_response_description_aborted_job() {
    let server = TestServer::start();
    let broken = "Bing Spatial Data Services, 1.0, FourthCoffeeShops\nEntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\na,north,east\n";
    let job = server.load_and_wait("FourthCoffeeSample", "complete", "csv", broken);
    assert_eq!(job["status"], "Aborted", "{job}");
    let message = job["errorMessage"].as_str().expect("errorMessage when Aborted");
    let log = link(&job, "output", Some("failed"));
    let text = get(&server, &format!("{log}?key={}", server.master_key));
    assert_eq!(text.status, 200, "{}", text.body);
    assert!(text.body.contains("Latitude"), "the error log names the problem: {}", text.body);
    let status = get(&server, &format!("{}?key={}", link(&job, "self", None), server.master_key)).json();
    assert_eq!(status["errorDetails"][0], message, "{status}");
    let xml = get(&server, &format!("{}?o=xml&key={}", link(&job, "self", None), server.master_key));
    assert!(xml.body.contains("<ErrorMessage>"), "{}", xml.body);
    assert!(xml.body.contains("<Link role=\"output\" name=\"failed\">"), "{}", xml.body);
}
