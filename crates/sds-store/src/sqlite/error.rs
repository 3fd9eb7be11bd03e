//! How SQLite's errors become [`StoreError`]s.

use crate::StoreError;

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        match &error {
            rusqlite::Error::SqliteFailure(failure, _) if failure.code == rusqlite::ErrorCode::CannotOpen => {
                StoreError::Unavailable(error.to_string())
            }
            rusqlite::Error::FromSqlConversionFailure(..) | rusqlite::Error::InvalidColumnType(..) => {
                StoreError::Corrupt(error.to_string())
            }
            rusqlite::Error::ToSqlConversionFailure(cause) => StoreError::Invalid(cause.to_string()),
            _ => StoreError::Backend(Box::new(error)),
        }
    }
}
