//! The SDS wire format: every spelling, namespace and field order lives
//! here and nowhere else.

pub mod codes;
pub mod envelope;
pub mod job;
mod xml;

pub use envelope::{Envelope, OutputFormat};
pub use job::{JobType, JobView, LinkView};
