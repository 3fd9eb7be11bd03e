//! HTTP integration tests: the real `sds` binary on an ephemeral port with a
//! temporary data dir, one module per API area.

#[path = "../common/mod.rs"]
mod common;

mod access_ids;
mod backup;
mod bad_input;
mod bounds;
mod client_cli;
mod client_cli_errors;
mod config_file;
mod conformance_rows;
mod crash;
mod data_dir;
mod deployment;
mod docs;
mod download;
mod download_cache;
mod envelopes;
mod errors;
mod fixtures;
mod formats;
mod isolation;
mod keys;
mod lifecycle;
mod lifecycle_envelopes;
mod load;
mod migrate;
mod observe;
mod ogc;
mod ogc_gdal;
mod openapi;
mod postgres;
mod projected_shapefiles;
mod query;
mod query_cache;
mod query_findings;
mod query_golden;
mod quotas;
mod serving;
mod shutdown;
mod snapshots;
mod tls;
mod toolkit;
mod toolkit_query;
mod tryout;
