//! `SDS/query-api/query-api-sample-code-vb.md`: the VB sample sends the
//! same four requests and reads the replies the same way as the C# one.

use super::query_api_sample_code_csharp::run_example_queries;
use super::support::*;

#[test]
fn docs_query_api_sample_code_vb_example_queries() {
    run_example_queries(&Sample::start());
}
