//! `SDS/data-source-management-api/load-data-source-dataflow/load-data-source-dataflow-sample-code-vb.md`:
//! the VB sample makes the same exchange as the C# one (same URL,
//! `Content-Type`, status checks, `Location + "?key="` polling and
//! `dataSource` link), so it runs the same steps.

use super::load_data_source_dataflow_sample_code_csharp::run_the_sample;
use super::support::*;

#[test]
fn docs_load_data_source_dataflow_sample_code_vb_uploads_and_finds_the_data_source() {
    let server = TestServer::start();
    let data_source_url = run_the_sample(&server);
    let info = get(&server, &format!("{data_source_url}?$format=json&key={}", server.query_key));
    assert_eq!(info.status, 200, "{}", info.body);
    assert_eq!(info.json()["d"]["Name"], "MyShopsSample");
}
