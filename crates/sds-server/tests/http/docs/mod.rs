//! Docs-example tests: one module per page of the SDS documentation that
//! shows an example (`BingMaps/spatial-data-services/` in
//! MicrosoftDocs/bingmaps-docs), named after the page. Each test sends the
//! page's example request with our own data in the page's shape and checks
//! the response field by field against the page's example response
//! (structure, names, types, and order where the page fixes it; ids,
//! dates, hosts and trace ids by shape). README "Docs coverage" lists the
//! pages and the modules that cover them.

mod outside;
mod sample;
mod support;

mod create_a_download_job;
mod create_a_load_data_source_job_and_input_entity_data;
mod delete_data_source;
mod download_data_source_dataflow_response_description;
mod download_data_source_walkthrough;
mod fourthcoffeesample;
mod geocode_and_data_source_limits;
mod geography_types;
mod get_all_public_data_sources;
mod get_data_source_information;
mod get_download_data_source_job_status;
mod get_downloaded_data;
mod get_job_list;
mod get_load_data_source_status;
mod helpful_tips_for_entity_data;
mod load_data_source_data_schema_and_sample_input;
mod load_data_source_dataflow_response_description;
mod load_data_source_dataflow_sample_code_csharp;
mod load_data_source_dataflow_sample_code_vb;
mod make_public_data_source;
mod publish_staged_data_source;
mod query_api_sample_code_csharp;
mod query_api_sample_code_vb;
mod query_by_area;
mod query_by_id;
mod query_by_property;
mod query_near_route;
mod query_options;
mod query_response_description;
mod rollback_data_source_dataflow;
mod status_codes_and_error_handling;
mod traffic_incident_data_source;
