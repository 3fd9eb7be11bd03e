//! Entities and the typing of one uploaded row.

use serde::{Deserialize, Serialize};

use crate::geography::{Bounds, Geography};
use crate::schema::{EdmType, Schema, SchemaError};
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
    #[error("Latitude and Longitude are required")]
    MissingLatLon,
    #[error("property '{0}' (the entity's geography) is required")]
    MissingGeography(String),
    #[error("the entity has no location: give Latitude and Longitude, or a geography in '{0}'")]
    MissingLocation(String),
    #[error("Latitude and Longitude must be given together")]
    IncompleteLatLon,
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
    /// cell, like an empty one, is the empty string for Edm.String and null
    /// for other types.
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

        let mut values: Vec<Value> =
            self.target.properties.iter().map(|property| empty_value(property.edm_type)).collect();
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

    /// Applies the location rules of the schema page ("Location
    /// properties"): an entity is located by its geography, or by
    /// Latitude and Longitude, or both.
    ///
    /// - Lat/lon only schema: both values are required.
    /// - Geography only schema: the geography is required; lat/lon are its
    ///   centroid.
    /// - Both: a geography or both lat and lon. The page says the geography
    ///   is required, but its own sample inputs (XML, CSV, TAB, PIPE) have a
    ///   row with lat/lon and an empty geography; such a row loads without a
    ///   geography. A row with a geography and no lat/lon gets the centroid;
    ///   one with both keeps the given lat/lon.
    ///
    /// A lone Latitude or Longitude is an error in every schema rather than
    /// being overwritten by the centroid: the uploader meant a point.
    fn locate(&self, values: &mut [Value]) -> Result<(f64, f64, Option<Bounds>), EntityError> {
        let latitude_index = self.target.latitude_index();
        let longitude_index = self.target.longitude_index();
        let given = |index: Option<usize>| index.and_then(|index| values[index].as_f64());
        let (latitude, longitude) = (given(latitude_index), given(longitude_index));
        let geography_index = self.target.geography_index();
        let mut geography = None;
        if let Some(index) = geography_index {
            if let Value::Geography(text) = &values[index] {
                let parsed = Geography::parse(text).map_err(|error| EntityError::InvalidValue {
                    property: self.target.properties[index].name.clone(),
                    error: ValueError::Geography(error.to_string()),
                })?;
                geography = Some(parsed);
            }
        }
        let (latitude, longitude, bounds) = match (latitude, longitude, geography) {
            (Some(latitude), Some(longitude), geography) => {
                (latitude, longitude, geography.map(|shape| shape.bounds()))
            }
            (Some(_), None, _) | (None, Some(_), _) => return Err(EntityError::IncompleteLatLon),
            (None, None, Some(geography)) => {
                let (centroid_latitude, centroid_longitude) = geography.centroid();
                if let (Some(lat_index), Some(lon_index)) = (latitude_index, longitude_index) {
                    values[lat_index] = Value::Double(centroid_latitude);
                    values[lon_index] = Value::Double(centroid_longitude);
                }
                (centroid_latitude, centroid_longitude, Some(geography.bounds()))
            }
            (None, None, None) => {
                return Err(match (geography_index, latitude_index) {
                    (Some(index), None) => EntityError::MissingGeography(self.target.properties[index].name.clone()),
                    (Some(index), Some(_)) => EntityError::MissingLocation(self.target.properties[index].name.clone()),
                    (None, _) => EntityError::MissingLatLon,
                })
            }
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

/// A property's value when its cell is absent or empty: Edm.String
/// values are never null (the query-by-ID example returns an empty one as
/// `""` and `<d:SecondaryCity />`, and clients compare with `""`); other
/// types are null. The toolkit omits empty strings from its XML uploads,
/// so an absent string element must mean the empty string too.
fn empty_value(edm_type: EdmType) -> Value {
    match edm_type {
        EdmType::String => Value::String(String::new()),
        _ => Value::Null,
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
        assert_eq!(builder.build(&cells(&["1", "x", "", ""])), Err(EntityError::MissingLatLon));
        assert_eq!(builder.build(&cells(&["1", "x", "", "0"])), Err(EntityError::IncompleteLatLon));
        assert!(matches!(builder.build(&cells(&[&"i".repeat(51), "x", "1", "1"])), Err(EntityError::IdTooLong { .. })));
        assert!(matches!(builder.build(&cells(&["", "x", "1", "1"])), Err(EntityError::MissingId(_))));
        assert!(matches!(
            builder.build(&cells(&["1", "x", "1", "1", "extra"])),
            Err(EntityError::TooManyCells { cells: 5, columns: 4 })
        ));
    }

    #[test]
    fn finding_4_missing_and_empty_string_cells_are_empty_strings() {
        let builder = EntityBuilder::for_complete(shops_schema(&[
            Property::new("Note", EdmType::String),
            Property::new("Seats", EdmType::Int64),
        ]));
        let BuiltRecord::Upsert(short) = builder.build(&cells(&["1", "x", "1", "2"])).unwrap() else { panic!() };
        assert_eq!(short.values[4], Value::String(String::new()));
        assert_eq!(short.values[5], Value::Null);
        let BuiltRecord::Upsert(empty) = builder.build(&cells(&["2", "", "1", "2", "", ""])).unwrap() else { panic!() };
        assert_eq!(empty.values[1], Value::String(String::new()));
        assert_eq!(empty.values[4], Value::String(String::new()));
        assert_eq!(empty.values[5], Value::Null);
        let absent: Vec<Option<String>> = vec![Some("3".into()), None, Some("1".into()), Some("2".into()), None, None];
        let BuiltRecord::Upsert(absent) = builder.build(&absent).unwrap() else { panic!() };
        assert_eq!(absent.values[1], Value::String(String::new()));
        assert_eq!(absent.values[5], Value::Null);
    }

    #[test]
    fn geography_fills_in_missing_lat_lon_from_its_centroid() {
        let builder = EntityBuilder::for_complete(shops_schema(&[Property::new("Shape", EdmType::Geography)]));
        let record = builder.build(&cells(&["1", "x", "", "", "POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))"])).unwrap();
        let BuiltRecord::Upsert(entity) = record else { panic!() };
        assert_eq!((entity.latitude, entity.longitude), (1.0, 1.0));
        assert_eq!(entity.values[2], Value::Double(1.0));
        assert_eq!(entity.bounds.unwrap().max_longitude, 2.0);
        let bad = builder.build(&cells(&["3", "x", "1", "1", "POLYGON((0 0, 1 1))"])).unwrap_err();
        assert!(bad.to_string().contains("Shape"), "{bad}");
    }

    const SQUARE: &str = "POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))";

    fn located(record: Result<BuiltRecord, EntityError>) -> Result<(f64, f64, bool), EntityError> {
        match record? {
            BuiltRecord::Upsert(entity) => Ok((entity.latitude, entity.longitude, entity.bounds.is_some())),
            BuiltRecord::Delete { .. } => panic!("expected an upsert"),
        }
    }

    #[test]
    fn finding_1_lat_lon_row_with_empty_geography_loads() {
        // The schema page's samples: Latitude, Longitude and StoreLayout,
        // the second row without a StoreLayout.
        let builder = EntityBuilder::for_complete(shops_schema(&[Property::new("StoreLayout", EdmType::Geography)]));
        let row = builder.build(&cells(&["-22066", "x", "56.16946722222", "9.54552166667", ""]));
        assert_eq!(located(row), Ok((56.16946722222, 9.54552166667, false)));
        // A missing trailing cell is the same as an empty one.
        let short: Vec<Option<String>> = cells(&["-22065", "x", "56.1", "9.5"]);
        assert_eq!(located(builder.build(&short)), Ok((56.1, 9.5, false)));
    }

    #[test]
    fn finding_1_every_combination_of_the_location_rules() {
        let both = EntityBuilder::for_complete(shops_schema(&[Property::new("Shape", EdmType::Geography)]));
        let lat_lon_only = EntityBuilder::for_complete(shops_schema(&[]));
        let geography_only = EntityBuilder::for_complete(
            Schema::new(
                "Areas",
                vec![Property::new("EntityID", EdmType::String), Property::new("Shape", EdmType::Geography)],
                "EntityID",
            )
            .unwrap(),
        );
        // Schema with lat/lon and a geography: lat/lon + shape, lat/lon
        // alone, shape alone (centroid) load; nothing fails; a half point fails.
        assert_eq!(located(both.build(&cells(&["1", "x", "5", "6", SQUARE]))), Ok((5.0, 6.0, true)));
        assert_eq!(located(both.build(&cells(&["2", "x", "5", "6", ""]))), Ok((5.0, 6.0, false)));
        assert_eq!(located(both.build(&cells(&["3", "x", "", "", SQUARE]))), Ok((1.0, 1.0, true)));
        assert_eq!(
            located(both.build(&cells(&["4", "x", "", "", ""]))),
            Err(EntityError::MissingLocation("Shape".into()))
        );
        assert_eq!(located(both.build(&cells(&["5", "x", "5", "", SQUARE]))), Err(EntityError::IncompleteLatLon));
        assert_eq!(located(both.build(&cells(&["6", "x", "", "6", ""]))), Err(EntityError::IncompleteLatLon));
        // An invalid geography fails even with a valid point.
        assert!(matches!(
            both.build(&cells(&["7", "x", "5", "6", "POLYGON((0 0, 1 1))"])),
            Err(EntityError::InvalidValue { .. })
        ));
        // Lat/lon only.
        assert_eq!(located(lat_lon_only.build(&cells(&["1", "x", "5", "6"]))), Ok((5.0, 6.0, false)));
        assert_eq!(located(lat_lon_only.build(&cells(&["2", "x", "", ""]))), Err(EntityError::MissingLatLon));
        assert_eq!(located(lat_lon_only.build(&cells(&["3", "x", "5", ""]))), Err(EntityError::IncompleteLatLon));
        // Geography only.
        assert_eq!(located(geography_only.build(&cells(&["1", SQUARE]))), Ok((1.0, 1.0, true)));
        assert_eq!(
            located(geography_only.build(&cells(&["2", ""]))),
            Err(EntityError::MissingGeography("Shape".into()))
        );
        // The messages name what is missing.
        assert!(EntityError::MissingLocation("Shape".into()).to_string().contains("Latitude and Longitude"));
        assert!(EntityError::MissingLocation("Shape".into()).to_string().contains("'Shape'"));
    }

    #[test]
    fn finding_1_incremental_rows_follow_the_same_rules() {
        let stored = shops_schema(&[Property::new("Shape", EdmType::Geography)]);
        let mut properties = stored.properties.clone();
        properties.push(Property::new("__deleteEntity", EdmType::Boolean));
        let builder =
            EntityBuilder::for_incremental(Schema::new("Shops", properties, "EntityID").unwrap(), stored).unwrap();
        assert_eq!(located(builder.build(&cells(&["1", "x", "5", "6", "", "0"]))), Ok((5.0, 6.0, false)));
        assert_eq!(located(builder.build(&cells(&["2", "x", "", "", SQUARE, ""]))), Ok((1.0, 1.0, true)));
        assert!(matches!(builder.build(&cells(&["3", "x", "", "", "", ""])), Err(EntityError::MissingLocation(_))));
        // A deletion needs no location.
        assert_eq!(builder.build(&cells(&["4", "", "", "", "", "1"])), Ok(BuiltRecord::Delete { id: "4".into() }));
    }

    #[test]
    fn finding_2_delete_marker_of_any_declared_type_reads_as_a_boolean() {
        for edm_type in [EdmType::String, EdmType::Int64, EdmType::Boolean, EdmType::Double, EdmType::DateTime] {
            let mut properties = shops_schema(&[]).properties;
            properties.push(Property::new("__deleteEntity", edm_type));
            let upload = Schema::new("Shops", properties, "EntityID").unwrap();
            let builder = EntityBuilder::for_incremental(upload, shops_schema(&[])).unwrap();
            for text in ["1", "true", "True", "TRUE"] {
                let record = builder.build(&cells(&["7", "", "", "", text])).unwrap();
                assert_eq!(record, BuiltRecord::Delete { id: "7".into() }, "{edm_type} {text}");
            }
            for text in ["0", "false", "False", ""] {
                let record = builder.build(&cells(&["7", "x", "1", "2", text])).unwrap();
                assert!(matches!(record, BuiltRecord::Upsert(_)), "{edm_type} {text:?}");
            }
            assert!(
                matches!(
                    builder.build(&cells(&["7", "x", "1", "2", "2"])),
                    Err(EntityError::InvalidDeleteMarker { .. })
                ),
                "{edm_type}"
            );
        }
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
