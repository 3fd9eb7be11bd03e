//! What a query can name: the schema's properties (case-insensitively),
//! Latitude/Longitude even when the schema has no such properties (they
//! are computed from the geography), `entityId` for the primary key, and
//! the computed `__Distance` and `__IntersectedGeom`.

use sds_core::{EdmType, Schema};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Property(usize),
    /// The entity's latitude when the schema declares no Latitude property.
    Latitude,
    Longitude,
    Distance,
    IntersectedGeom,
}

pub const DISTANCE_NAME: &str = "__Distance";
pub const INTERSECTED_NAME: &str = "__IntersectedGeom";

/// Resolves a property name; `entityId` means the key when no property has that name.
pub fn resolve(schema: &Schema, name: &str) -> Option<Field> {
    if let Some(index) = schema.property_index(name) {
        return Some(Field::Property(index));
    }
    match name.to_ascii_lowercase().as_str() {
        "latitude" => Some(Field::Latitude),
        "longitude" => Some(Field::Longitude),
        "entityid" => Some(Field::Property(schema.key_index)),
        "__distance" => Some(Field::Distance),
        _ => None,
    }
}

/// Whether a field is a location coordinate (SDS forbids filtering and sorting on them).
pub fn is_coordinate(schema: &Schema, field: Field) -> bool {
    match field {
        Field::Latitude | Field::Longitude => true,
        Field::Property(index) => Some(index) == schema.latitude_index() || Some(index) == schema.longitude_index(),
        _ => false,
    }
}

/// The output name of a field (the schema's casing).
pub fn name(schema: &Schema, field: Field) -> &str {
    match field {
        Field::Property(index) => &schema.properties[index].name,
        Field::Latitude => "Latitude",
        Field::Longitude => "Longitude",
        Field::Distance => DISTANCE_NAME,
        Field::IntersectedGeom => INTERSECTED_NAME,
    }
}

pub fn edm_type(schema: &Schema, field: Field) -> EdmType {
    match field {
        Field::Property(index) => schema.properties[index].edm_type,
        Field::Latitude | Field::Longitude | Field::Distance => EdmType::Double,
        Field::IntersectedGeom => EdmType::Geography,
    }
}

/// Every property for `$select=*` (or none): the schema's, then Latitude
/// and Longitude when the schema lacks them, so a location is always returned.
pub fn all(schema: &Schema) -> Vec<Field> {
    let mut fields: Vec<Field> = (0..schema.properties.len()).map(Field::Property).collect();
    if schema.latitude_index().is_none() {
        fields.push(Field::Latitude);
    }
    if schema.longitude_index().is_none() {
        fields.push(Field::Longitude);
    }
    fields
}

/// The name a CQL2 spatial predicate gives the location: `geometry` (what
/// OGC API – Features queryables call it), or the Geography property.
pub fn is_spatial_name(schema: &Schema, name: &str) -> bool {
    name.eq_ignore_ascii_case(SPATIAL_NAME)
        || schema.geography_index().is_some_and(|index| schema.properties[index].name.eq_ignore_ascii_case(name))
}

/// The queryable that stands for an entity's location.
pub const SPATIAL_NAME: &str = "geometry";
