//! The `sds` domain: accounts and keys, data sources and their versions,
//! schemas and typed values, geography, and dataflow jobs.
//!
//! Nothing here does I/O or knows the wire format. Readers in `sds-formats`
//! turn a document into a [`schema::Schema`] plus raw text cells; the
//! [`entity::EntityBuilder`] types those cells by the schema rules of SDS
//! (one string primary key, Latitude/Longitude and/or one geography) and
//! produces [`entity::Entity`] values that the store persists as they are.

pub mod data_source;
pub mod entity;
pub mod geography;
pub mod ids;
pub mod job;
pub mod limits;
pub mod schema;
pub mod value;

pub use data_source::{DataSource, Version, VersionState};
pub use entity::{BuiltRecord, Entity, EntityBuilder, EntityError};
pub use geography::{Bounds, Geography, GeographyError};
pub use ids::{AccessId, AccountId, DataSourceId, JobId, KeyId, VersionId, WorkerId};
pub use job::{
    DownloadFormat, DownloadParams, FailedEntity, InputFormat, Job, JobKind, JobOutcome, JobParams, JobStatus,
    LoadOperation, LoadParams, TargetParams,
};
pub use schema::{EdmType, Property, Schema, SchemaError};
pub use value::{NumberText, Timestamp, Value, ValueRef};
