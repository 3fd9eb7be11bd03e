//! The SDS wire format: every spelling, namespace and field order lives
//! here and nowhere else.

pub mod atom;
pub mod codes;
pub mod envelope;
pub mod job;
pub mod metadata;
pub mod odata;
pub mod service_doc;
pub mod uri;
pub(crate) mod xml;

pub use envelope::{Envelope, OutputFormat};
pub use job::{JobType, JobView, LinkView};
