//! The SQL-readable columns of an entity row: its `geography` as WKB
//! (OGC Simple Features, the binary form `geography_recv` takes; SRID
//! 4326 is the geography default) and its typed `properties` as `jsonb`.
//! Both are for GIS tools and SQL; the store itself reads only the exact
//! blob (`crate::codec`).

use std::error::Error;

use bytes::{BufMut, BytesMut};
use chrono::SecondsFormat;
use postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use sds_core::{Entity, Geography, Schema, Value};
use wkb::writer::{write_geometry, WriteOptions};
use wkb::Endianness;

use crate::{StoreError, StoreResult};

/// Writes the entity's geography (its first non-null `Edm.Geography`
/// value), else its point, as little-endian WKB into `out` (cleared first).
pub(super) fn geography_wkb(entity: &Entity, out: &mut Vec<u8>) -> StoreResult<()> {
    out.clear();
    let wkt = entity.values.iter().find_map(|value| match value {
        Value::Geography(wkt) => Some(wkt),
        _ => None,
    });
    match wkt {
        Some(wkt) => {
            let geography = Geography::parse(wkt).map_err(|error| {
                StoreError::Invalid(format!("entity '{}' has a geography the store cannot read: {error}", entity.id))
            })?;
            write_geometry(out, &geography.geometry, &WriteOptions { endianness: Endianness::LittleEndian })
                .map_err(|error| StoreError::Invalid(format!("entity '{}': {error}", entity.id)))?;
        }
        None => {
            // WKB point: byte order 1 (little endian), type 1, x, y.
            out.push(1);
            out.extend_from_slice(&1u32.to_le_bytes());
            out.extend_from_slice(&entity.longitude.to_le_bytes());
            out.extend_from_slice(&entity.latitude.to_le_bytes());
        }
    }
    Ok(())
}

/// Writes the entity's values as one JSON object into `out` (cleared
/// first), keyed by the schema's property names: strings, numbers,
/// booleans and null as themselves, `Edm.DateTime` as RFC 3339 text in
/// UTC, `Edm.Geography` as its WKT.
pub(super) fn properties_json(schema: &Schema, entity: &Entity, out: &mut Vec<u8>) -> StoreResult<()> {
    out.clear();
    out.push(b'{');
    for (index, (property, value)) in schema.properties.iter().zip(&entity.values).enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_json(out, &property.name)?;
        out.push(b':');
        match value {
            Value::Null => out.extend_from_slice(b"null"),
            Value::String(text) | Value::Geography(text) => write_json(out, text)?,
            Value::Int64(number) => write_json(out, number)?,
            Value::Boolean(flag) => write_json(out, flag)?,
            Value::Double(number) => write_json(out, number)?,
            Value::DateTime(timestamp) => {
                write_json(out, &timestamp.to_datetime().to_rfc3339_opts(SecondsFormat::AutoSi, true))?
            }
        }
    }
    out.push(b'}');
    Ok(())
}

fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> StoreResult<()> {
    serde_json::to_writer(out, value)
        .map_err(|error| StoreError::Invalid(format!("a property cannot be stored: {error}")))
}

/// WKB bytes bound to a `geography` column in binary `COPY`.
#[derive(Debug)]
pub(super) struct Wkb<'a>(pub &'a [u8]);

impl ToSql for Wkb<'_> {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        out.extend_from_slice(self.0);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        ty.name() == "geography"
    }

    to_sql_checked!();
}

/// JSON text bound to a `jsonb` column in binary form (a version byte, then the text).
#[derive(Debug)]
pub(super) struct Jsonb<'a>(pub &'a [u8]);

impl ToSql for Jsonb<'_> {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        out.put_u8(1);
        out.extend_from_slice(self.0);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSONB
    }

    to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use sds_core::{EdmType, Property, Timestamp};

    use super::*;

    #[test]
    fn properties_are_a_json_object_by_property_name() {
        let schema = Schema::new(
            "T",
            vec![
                Property::new("Id", EdmType::String),
                Property::new("N", EdmType::Int64),
                Property::new("When", EdmType::DateTime),
                Property::new("Gone", EdmType::Double),
                Property::new("Latitude", EdmType::Double),
                Property::new("Longitude", EdmType::Double),
            ],
            "Id",
        )
        .unwrap();
        let entity = Entity {
            id: "a\"b".into(),
            latitude: 1.0,
            longitude: 2.0,
            bounds: None,
            values: vec![
                Value::String("a\"b".into()),
                Value::Int64(i64::MAX),
                Value::DateTime(Timestamp { seconds: 0, nanos: 100 }),
                Value::Null,
                Value::Double(1.0),
                Value::Double(2.0),
            ],
        };
        let mut out = Vec::new();
        properties_json(&schema, &entity, &mut out).unwrap();
        let parsed: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            parsed,
            serde_json::json!({
                "Id": "a\"b", "N": i64::MAX, "When": "1970-01-01T00:00:00.000000100Z", "Gone": null,
                "Latitude": 1.0, "Longitude": 2.0
            })
        );
    }

    #[test]
    fn a_point_is_21_bytes_of_wkb() {
        let entity = Entity { id: "p".into(), latitude: 47.5, longitude: -122.25, bounds: None, values: vec![] };
        let mut out = vec![7];
        geography_wkb(&entity, &mut out).unwrap();
        assert_eq!(out.len(), 21);
        assert_eq!(out[..5], [1, 1, 0, 0, 0]);
        assert_eq!(f64::from_le_bytes(out[5..13].try_into().unwrap()), -122.25);
    }
}
