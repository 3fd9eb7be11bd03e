//! How domain values become SQLite values and back.
//!
//! - Instants are `INTEGER` nanoseconds since the Unix epoch, so a
//!   `DateTime<Utc>` round-trips exactly (jobs are compared for equality).
//!   That covers 1677–2262; anything outside is refused rather than clamped.
//! - Counts are `u64` in the domain and `INTEGER` (i64) in SQLite.
//! - Job parameters and schemas are JSON, so they stay readable with the
//!   `sqlite3` shell and survive field additions with `#[serde(default)]`.
//! - An entity's `data` column is the postcard encoding of the whole
//!   [`Entity`] (id, location, bounds, values). The location and bounds are
//!   also kept in their own columns for queries; the blob is what a read
//!   returns, so decoding needs no other column. Postcard is not
//!   self-describing: changing `Entity` or `Value` in an incompatible way
//!   needs a migration that re-encodes the blobs.

use chrono::{DateTime, Utc};
use rusqlite::types::{FromSqlError, Type};
use sds_core::Entity;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{StoreError, StoreResult};

pub(crate) fn nanos(instant: DateTime<Utc>) -> rusqlite::Result<i64> {
    instant
        .timestamp_nanos_opt()
        .ok_or_else(|| rusqlite::Error::ToSqlConversionFailure(format!("{instant} is outside 1677–2262").into()))
}

pub(crate) fn instant(nanos: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_nanos(nanos)
}

/// Reads a nanosecond column as an instant.
pub(crate) fn instant_at(row: &rusqlite::Row<'_>, column: &str) -> rusqlite::Result<DateTime<Utc>> {
    row.get(column).map(instant)
}

pub(crate) fn optional_instant_at(row: &rusqlite::Row<'_>, column: &str) -> rusqlite::Result<Option<DateTime<Utc>>> {
    row.get::<_, Option<i64>>(column).map(|nanos| nanos.map(instant))
}

pub(crate) fn count(value: u64) -> rusqlite::Result<i64> {
    i64::try_from(value).map_err(|error| rusqlite::Error::ToSqlConversionFailure(error.into()))
}

/// Reads a non-negative integer column as a count.
pub(crate) fn count_at(row: &rusqlite::Row<'_>, column: &str) -> rusqlite::Result<u64> {
    let value: i64 = row.get(column)?;
    u64::try_from(value).map_err(|error| conversion_error(row, column, Type::Integer, error))
}

pub(crate) fn json<T: Serialize>(value: &T) -> rusqlite::Result<String> {
    serde_json::to_string(value).map_err(|error| rusqlite::Error::ToSqlConversionFailure(error.into()))
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

/// Encodes an entity into `buffer` (cleared first), so a batch reuses one allocation.
pub(crate) fn encode_entity(entity: &Entity, buffer: &mut Vec<u8>) -> StoreResult<()> {
    buffer.clear();
    let taken = std::mem::take(buffer);
    *buffer = postcard::to_extend(entity, taken)
        .map_err(|error| StoreError::Corrupt(format!("entity '{}' cannot be encoded: {error}", entity.id)))?;
    Ok(())
}

pub(crate) fn decode_entity(data: &[u8]) -> StoreResult<Entity> {
    postcard::from_bytes(data).map_err(|error| StoreError::Corrupt(format!("an entity blob does not decode: {error}")))
}

/// Turns a blob column's raw value into bytes, for decoding in place.
pub(crate) fn blob(value: rusqlite::types::ValueRef<'_>) -> StoreResult<&[u8]> {
    value.as_blob().map_err(|error: FromSqlError| StoreError::Corrupt(format!("entity data is not a blob: {error}")))
}

#[cfg(test)]
mod tests {
    use sds_core::{Bounds, Timestamp, Value};

    use super::*;

    #[test]
    fn instants_round_trip_to_the_nanosecond() {
        let now = Utc::now();
        assert_eq!(instant(nanos(now).unwrap()), now);
        let far = DateTime::parse_from_rfc3339("3000-01-01T00:00:00Z").unwrap().with_timezone(&Utc);
        assert!(nanos(far).is_err());
    }

    #[test]
    fn entities_round_trip_through_postcard() {
        let entity = Entity {
            id: "Ab-1".into(),
            latitude: 47.5,
            longitude: -122.25,
            bounds: Some(Bounds { min_longitude: -1.0, min_latitude: -2.0, max_longitude: 3.0, max_latitude: 4.0 }),
            values: vec![
                Value::String("Ab-1".into()),
                Value::Null,
                Value::Int64(-7),
                Value::Boolean(true),
                Value::Double(0.1),
                Value::DateTime(Timestamp { seconds: 1_700_000_000, nanos: 100 }),
                Value::Geography("POINT(1 2)".into()),
            ],
        };
        let mut buffer = vec![9, 9, 9];
        encode_entity(&entity, &mut buffer).unwrap();
        assert_eq!(decode_entity(&buffer).unwrap(), entity);
        assert!(decode_entity(&buffer[..buffer.len() - 3]).is_err());
    }
}
