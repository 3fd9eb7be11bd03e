//! Entities and the typing of one uploaded row.

use serde::{Deserialize, Serialize};

use crate::geography::{Bounds, Geography};
use crate::schema::{Schema, SchemaError};
use crate::value::{excerpt, parse_boolean, Value, ValueError};

/// Longest entity ID, in characters.
pub const MAX_ENTITY_ID_CHARS: usize = 50;

/// One entity of a data source version. `values` follow the stored
/// schema's property order; `latitude`/`longitude` are always set (taken
/// from the properties, or computed from the geography's centroid) so every
/// entity can be indexed and queried by location.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    pub id: String,
    pub latitude: f64,
    pub longitude: f64,
    /// The geography's extent, when the entity has one.
    pub bounds: Option<Bounds>,
    pub values: Vec<Value>,
}

impl Entity {
    /// The key under which IDs are unique: SDS treats IDs case-insensitively.
    pub fn key_of(id: &str) -> String {
        id.to_lowercase()
    }
}

/// Why one row could not become an entity. The row is skipped and reported;
/// the job goes on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EntityError {
    #[error("the entity ID ('{0}') is missing")]
    MissingId(String),
    #[error("entity ID '{id}' has {chars} characters; the limit is {MAX_ENTITY_ID_CHARS}")]
    IdTooLong { id: String, chars: usize },
    #[error("entity ID '{0}' contains a control character")]
    IdInvalid(String),
    #[error("entity ID '{0}' appears more than once")]
    DuplicateId(String),
    #[error("property '{property}': {error}")]
    InvalidValue { property: String, error: ValueError },
    #[error("Latitude and Longitude are required when the entity has no geography")]
    MissingLocation,
    #[error("property '{0}' (the entity's geography) is required")]
    MissingGeography(String),
    #[error("Latitude {0} is out of range: it must be within -90 and 90")]
    LatitudeOutOfRange(f64),
    #[error("Longitude {0} is out of range: it must be within -180 and 180")]
    LongitudeOutOfRange(f64),
    #[error("the row has {cells} cells but the schema has {columns} columns")]
    TooManyCells { cells: usize, columns: usize },
    #[error("property '{property}': '{text}' is not a valid value for __deleteEntity")]
    InvalidDeleteMarker { property: String, text: String },
}

/// A typed row: an entity to add or replace, or (incremental loads) an ID to delete.
#[derive(Clone, Debug, PartialEq)]
pub enum BuiltRecord {
    Upsert(Entity),
    Delete { id: String },
}

impl BuiltRecord {
    pub fn id(&self) -> &str {
        match self {
            BuiltRecord::Upsert(entity) => &entity.id,
            BuiltRecord::Delete { id } => id,
        }
    }
}

/// Types rows of an upload against the schema the data source will keep.
#[derive(Clone, Debug)]
pub struct EntityBuilder {
    upload: Schema,
    target: Schema,
    /// For each upload column, its position in `target` (`None`: delete marker).
    mapping: Vec<Option<usize>>,
}

impl EntityBuilder {
    /// For a complete load: the data source keeps the upload's own schema.
    pub fn for_complete(upload: Schema) -> EntityBuilder {
        let target = upload.stored();
        let mapping = upload.map_onto(&target).expect("a schema maps onto itself");
        EntityBuilder { upload, target, mapping }
    }

    /// For an incremental load onto an existing data source's schema.
    pub fn for_incremental(upload: Schema, stored: Schema) -> Result<EntityBuilder, SchemaError> {
        let mapping = upload.map_onto(&stored)?;
        Ok(EntityBuilder { upload, target: stored, mapping })
    }

    pub fn upload_schema(&self) -> &Schema {
        &self.upload
    }

    /// The schema the entities follow.
    pub fn target_schema(&self) -> &Schema {
        &self.target
    }

    /// Types one row. `cells` follow the upload schema's columns; a missing
    /// trailing cell, like an empty one, is null.
    pub fn build<S: AsRef<str>>(&self, cells: &[Option<S>]) -> Result<BuiltRecord, EntityError> {
        if cells.len() > self.upload.properties.len() {
            return Err(EntityError::TooManyCells { cells: cells.len(), columns: self.upload.properties.len() });
        }
        let cell = |index: usize| cells.get(index).and_then(|cell| cell.as_ref()).map(AsRef::as_ref);

        let raw_id = cell(self.upload.key_index).unwrap_or_default();
        let id = check_id(raw_id)?;

        if let Some(marker) = self.upload.delete_marker_index() {
            if let Some(text) = cell(marker).filter(|text| !text.trim().is_empty()) {
                let delete = parse_boolean(text.trim()).ok_or_else(|| EntityError::InvalidDeleteMarker {
                    property: self.upload.properties[marker].name.clone(),
                    text: excerpt(text),
                })?;
                if delete {
                    return Ok(BuiltRecord::Delete { id });
                }
            }
        }

        let mut values = vec![Value::Null; self.target.properties.len()];
        for (column, target) in self.mapping.iter().enumerate() {
            let Some(target) = *target else { continue };
            let Some(text) = cell(column) else { continue };
            let property = &self.target.properties[target];
            values[target] = Value::parse(property.edm_type, text)
                .map_err(|error| EntityError::InvalidValue { property: property.name.clone(), error })?;
        }
        values[self.target.key_index] = Value::String(id.clone());
        let (latitude, longitude, bounds) = self.locate(&mut values)?;
        Ok(BuiltRecord::Upsert(Entity { id, latitude, longitude, bounds, values }))
    }

    /// Applies the location rules: geography wins and fills in missing
    /// Latitude/Longitude from its centroid; without one, both are required.
    fn locate(&self, values: &mut [Value]) -> Result<(f64, f64, Option<Bounds>), EntityError> {
        let latitude_index = self.target.latitude_index();
        let longitude_index = self.target.longitude_index();
        let given = |index: Option<usize>| index.and_then(|index| values[index].as_f64());
        let (mut latitude, mut longitude) = (given(latitude_index), given(longitude_index));
        let mut bounds = None;

        if let Some(geography_index) = self.target.geography_index() {
            let Value::Geography(text) = &values[geography_index] else {
                return Err(EntityError::MissingGeography(self.target.properties[geography_index].name.clone()));
            };
            let geography = Geography::parse(text).map_err(|error| EntityError::InvalidValue {
                property: self.target.properties[geography_index].name.clone(),
                error: ValueError::Geography(error.to_string()),
            })?;
            bounds = Some(geography.bounds());
            if latitude.is_none() || longitude.is_none() {
                let (centroid_latitude, centroid_longitude) = geography.centroid();
                latitude = Some(centroid_latitude);
                longitude = Some(centroid_longitude);
                if let (Some(lat_index), Some(lon_index)) = (latitude_index, longitude_index) {
                    values[lat_index] = Value::Double(centroid_latitude);
                    values[lon_index] = Value::Double(centroid_longitude);
                }
            }
        }
        let (Some(latitude), Some(longitude)) = (latitude, longitude) else {
            return Err(EntityError::MissingLocation);
        };
        if !(-90.0..=90.0).contains(&latitude) {
            return Err(EntityError::LatitudeOutOfRange(latitude));
        }
        if !(-180.0..=180.0).contains(&longitude) {
            return Err(EntityError::LongitudeOutOfRange(longitude));
        }
        Ok((latitude, longitude, bounds))
    }
}

fn check_id(raw: &str) -> Result<String, EntityError> {
    if raw.is_empty() {
        return Err(EntityError::MissingId(String::new()));
    }
    let chars = raw.chars().count();
    if chars > MAX_ENTITY_ID_CHARS {
        return Err(EntityError::IdTooLong { id: excerpt(raw), chars });
    }
    if raw.chars().any(char::is_control) {
        return Err(EntityError::IdInvalid(excerpt(raw)));
    }
    Ok(raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{EdmType, Property};

    fn shops_schema(extra: &[Property]) -> Schema {
        let mut properties = vec![
            Property::new("EntityID", EdmType::String),
            Property::new("Name", EdmType::String),
            Property::new("Latitude", EdmType::Double),
            Property::new("Longitude", EdmType::Double),
        ];
        properties.extend_from_slice(extra);
        Schema::new("Shops", properties, "EntityID").unwrap()
    }

    fn cells(texts: &[&str]) -> Vec<Option<String>> {
        texts.iter().map(|text| Some(text.to_string())).collect()
    }

    #[test]
    fn a_row_becomes_a_typed_entity() {
        let builder = EntityBuilder::for_complete(shops_schema(&[Property::new("Seats", EdmType::Int64)]));
        let BuiltRecord::Upsert(entity) = builder.build(&cells(&["1", "Café", "47.6", "-122.1", "12"])).unwrap()
        else {
            panic!("expected an upsert");
        };
        assert_eq!(entity.id, "1");
        assert_eq!((entity.latitude, entity.longitude), (47.6, -122.1));
        assert_eq!(entity.values[4], Value::Int64(12));
    }

    #[test]
    fn row_errors_name_the_property() {
        let builder = EntityBuilder::for_complete(shops_schema(&[]));
        let error = builder.build(&cells(&["1", "x", "north", "-122"])).unwrap_err();
        assert!(error.to_string().contains("Latitude"), "{error}");
        assert_eq!(builder.build(&cells(&["1", "x", "91", "0"])), Err(EntityError::LatitudeOutOfRange(91.0)));
        assert_eq!(builder.build(&cells(&["1", "x", "", "0"])), Err(EntityError::MissingLocation));
        assert!(matches!(builder.build(&cells(&[&"i".repeat(51), "x", "1", "1"])), Err(EntityError::IdTooLong { .. })));
        assert!(matches!(builder.build(&cells(&["", "x", "1", "1"])), Err(EntityError::MissingId(_))));
        assert!(matches!(
            builder.build(&cells(&["1", "x", "1", "1", "extra"])),
            Err(EntityError::TooManyCells { cells: 5, columns: 4 })
        ));
    }

    #[test]
    fn missing_trailing_cells_are_null() {
        let builder = EntityBuilder::for_complete(shops_schema(&[Property::new("Note", EdmType::String)]));
        let BuiltRecord::Upsert(entity) = builder.build(&cells(&["1", "x", "1", "2"])).unwrap() else { panic!() };
        assert_eq!(entity.values[4], Value::Null);
    }

    #[test]
    fn geography_fills_in_missing_lat_lon_from_its_centroid() {
        let builder = EntityBuilder::for_complete(shops_schema(&[Property::new("Shape", EdmType::Geography)]));
        let record = builder.build(&cells(&["1", "x", "", "", "POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))"])).unwrap();
        let BuiltRecord::Upsert(entity) = record else { panic!() };
        assert_eq!((entity.latitude, entity.longitude), (1.0, 1.0));
        assert_eq!(entity.values[2], Value::Double(1.0));
        assert_eq!(entity.bounds.unwrap().max_longitude, 2.0);
        let missing = builder.build(&cells(&["2", "x", "1", "1", ""]));
        assert_eq!(missing, Err(EntityError::MissingGeography("Shape".into())));
        let bad = builder.build(&cells(&["3", "x", "1", "1", "POLYGON((0 0, 1 1))"])).unwrap_err();
        assert!(bad.to_string().contains("Shape"), "{bad}");
    }

    #[test]
    fn delete_marker_makes_a_delete_record() {
        let mut properties = shops_schema(&[]).properties;
        properties.push(Property::new("__deleteEntity", EdmType::Boolean));
        let upload = Schema::new("Shops", properties, "EntityID").unwrap();
        let builder = EntityBuilder::for_incremental(upload, shops_schema(&[])).unwrap();
        assert_eq!(builder.build(&cells(&["7", "", "", "", "1"])).unwrap(), BuiltRecord::Delete { id: "7".into() });
        assert!(matches!(builder.build(&cells(&["7", "x", "1", "1", "false"])).unwrap(), BuiltRecord::Upsert(_)));
        assert!(matches!(
            builder.build(&cells(&["7", "x", "1", "1", "maybe"])),
            Err(EntityError::InvalidDeleteMarker { .. })
        ));
    }
}
