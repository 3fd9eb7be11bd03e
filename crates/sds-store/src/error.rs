use std::io;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("database pool error: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// A job's result was refused because the committing worker no longer
    /// holds the job's claim (another server took it over): see
    /// [`crate::Store::finish_job`].
    #[error("job {job} is no longer claimed by this server; another server runs it")]
    ClaimLost { job: String },
    /// The visitor of [`crate::Store::for_each_entity`] failed.
    #[error(transparent)]
    Visitor(#[from] io::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;
