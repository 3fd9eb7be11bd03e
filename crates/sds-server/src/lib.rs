//! The `sds` server: the HTTP layer that speaks the Bing Maps Spatial Data
//! Services wire protocol, authentication, and the dataflow job engine.
//!
//! A request flows through [`routes::dispatch`] (case-insensitive SDS
//! routing, parameters, output format), a handler in `routes/` (checks,
//! store calls, job submission), and a renderer in `wire/` (the JSON and
//! XML envelopes). Errors of every layer become an [`error::ApiError`],
//! which `wire::codes` maps to an HTTP status and `authenticationResultCode`
//! in one table. Jobs run in [`jobs::JobEngine`], which knows nothing of HTTP.

pub mod admin;
pub mod auth;
pub mod backup;
pub mod base_url;
pub mod client;
pub mod config;
pub mod config_file;
pub mod console;
pub mod data_dir;
pub mod database_url;
pub mod error;
pub mod jobs;
pub mod keys;
pub mod logging;
pub mod migrate;
pub mod observe;
pub mod ogc;
pub mod openapi;
pub mod query_cache;
pub mod routes;
pub mod server;
mod shards;
pub mod snapshots;
pub mod state;
pub mod tls;
pub mod wire;

pub use config::ServeConfig;
pub use server::{bootstrap, open_store, open_stores, serve, OpenedStore};
