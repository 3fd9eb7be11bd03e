//! Reading SQLite rows into domain values; the conversions themselves are
//! the backend-neutral ones of `crate::codec` (instants as nanoseconds,
//! JSON text, the entity blob).

use chrono::{DateTime, Utc};
use rusqlite::types::{FromSqlError, Type};
use serde::de::DeserializeOwned;

pub(crate) use crate::codec::{count, instant, json, nanos};
use crate::{StoreError, StoreResult};

/// Reads a nanosecond column as an instant.
pub(crate) fn instant_at(row: &rusqlite::Row<'_>, column: &str) -> rusqlite::Result<DateTime<Utc>> {
    row.get(column).map(instant)
}

pub(crate) fn optional_instant_at(row: &rusqlite::Row<'_>, column: &str) -> rusqlite::Result<Option<DateTime<Utc>>> {
    row.get::<_, Option<i64>>(column).map(|nanos| nanos.map(instant))
}

/// Reads a non-negative integer column as a count.
pub(crate) fn count_at(row: &rusqlite::Row<'_>, column: &str) -> rusqlite::Result<u64> {
    let value: i64 = row.get(column)?;
    u64::try_from(value).map_err(|error| conversion_error(row, column, Type::Integer, error))
}

/// Reads a JSON text column.
pub(crate) fn json_at<T: DeserializeOwned>(row: &rusqlite::Row<'_>, column: &str) -> rusqlite::Result<T> {
    let text: String = row.get(column)?;
    serde_json::from_str(&text).map_err(|error| conversion_error(row, column, Type::Text, error))
}

/// Reads a text column through `FromStr` (ids, enum names).
pub(crate) fn parsed_at<T>(row: &rusqlite::Row<'_>, column: &str) -> rusqlite::Result<T>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let text: String = row.get(column)?;
    text.parse().map_err(|error: T::Err| conversion_error(row, column, Type::Text, format!("'{text}': {error}")))
}

fn conversion_error(
    row: &rusqlite::Row<'_>,
    column: &str,
    kind: Type,
    error: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> rusqlite::Error {
    let index = row.as_ref().column_index(column).unwrap_or(usize::MAX);
    rusqlite::Error::FromSqlConversionFailure(index, kind, error.into())
}

/// Turns a blob column's raw value into bytes, for decoding in place.
pub(crate) fn blob(value: rusqlite::types::ValueRef<'_>) -> StoreResult<&[u8]> {
    value.as_blob().map_err(|error: FromSqlError| StoreError::Corrupt(format!("entity data is not a blob: {error}")))
}
