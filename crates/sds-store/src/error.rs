//! The store's error, the same for every backend: each backend maps its
//! own client's errors into it (`sqlite/error.rs`, `postgres/error.rs`), so
//! callers match on what happened, never on which database said so.

use std::io;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached right now: connection refused or
    /// lost, no pooled connection within the pool's timeout, the server
    /// shutting down or starting. Worth retrying later; the server answers
    /// it with 503.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// Any other failure of the database or its client.
    #[error("database error: {0}")]
    Backend(Box<dyn std::error::Error + Send + Sync>),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// A value no store can keep as given (text holding U+0000, an instant
    /// outside 1677–2262, a count beyond `i64`); the message names it.
    #[error("{0}")]
    Invalid(String),
    /// A job's result was refused because the committing worker no longer
    /// holds the job's claim (another server took it over): see
    /// [`crate::Store::finish_job`].
    #[error("job {job} is no longer claimed by this server; another server runs it")]
    ClaimLost { job: String },
    /// The visitor of [`crate::Store::for_each_entity`] failed.
    #[error(transparent)]
    Visitor(#[from] io::Error),
}

/// A connection pool that hands out no connection in time: the database
/// is down or every connection is busy for longer than the pool waits.
impl From<r2d2::Error> for StoreError {
    fn from(error: r2d2::Error) -> Self {
        StoreError::Unavailable(error.to_string())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
