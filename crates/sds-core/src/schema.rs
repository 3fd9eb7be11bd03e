//! A data source's schema: one entity type, typed properties, one string
//! primary key, and a location (Latitude + Longitude and/or one geography).
//!
//! The same rules apply whichever format declared the schema; readers only
//! turn their header into `(name, type, is_key)` triples.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Most properties besides Latitude and Longitude.
pub const MAX_PROPERTIES: usize = 350;
/// Longest property, entity type or data source name.
pub const MAX_NAME_CHARS: usize = 50;
/// The reserved column that marks an incremental row as a deletion.
pub const DELETE_MARKER: &str = "__deleteEntity";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EdmType {
    String,
    Int64,
    Boolean,
    Double,
    DateTime,
    Geography,
}

impl EdmType {
    pub const ALL: [EdmType; 6] =
        [EdmType::String, EdmType::Int64, EdmType::Boolean, EdmType::Double, EdmType::DateTime, EdmType::Geography];

    /// `Edm.String` and so on, as text headers, `$metadata` and Atom write it.
    pub fn edm_name(self) -> &'static str {
        match self {
            EdmType::String => "Edm.String",
            EdmType::Int64 => "Edm.Int64",
            EdmType::Boolean => "Edm.Boolean",
            EdmType::Double => "Edm.Double",
            EdmType::DateTime => "Edm.DateTime",
            EdmType::Geography => "Edm.Geography",
        }
    }

    /// The XSD type of the XML DataSet form, literally as the toolkit matches it.
    pub fn xsd_name(self) -> &'static str {
        match self {
            EdmType::String => "xs:string",
            EdmType::Int64 => "xs:long",
            EdmType::Boolean => "xs:boolean",
            EdmType::Double => "xs:double",
            EdmType::DateTime => "xs:dateTime",
            EdmType::Geography => "xs:anyType",
        }
    }

    /// Parses an Edm name, case-insensitively (the toolkit writes `Edm.dateTime`).
    pub fn from_edm_name(name: &str) -> Option<EdmType> {
        EdmType::ALL.into_iter().find(|edm_type| edm_type.edm_name().eq_ignore_ascii_case(name.trim()))
    }

    /// Parses an XSD type name with any namespace prefix (`xs:`, `xsd:`, none).
    pub fn from_xsd_name(name: &str) -> Option<EdmType> {
        let local = name.trim().rsplit(':').next().unwrap_or_default();
        let found = match local.to_ascii_lowercase().as_str() {
            "string" => EdmType::String,
            "long" | "int" | "integer" | "short" => EdmType::Int64,
            "boolean" => EdmType::Boolean,
            "double" | "float" | "decimal" => EdmType::Double,
            "datetime" | "date" => EdmType::DateTime,
            "anytype" => EdmType::Geography,
            _ => return None,
        };
        Some(found)
    }
}

impl fmt::Display for EdmType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.edm_name())
    }
}

impl FromStr for EdmType {
    type Err = SchemaError;
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        EdmType::from_edm_name(name).ok_or_else(|| SchemaError::UnknownType(name.to_owned()))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Property {
    pub name: String,
    pub edm_type: EdmType,
}

impl Property {
    pub fn new(name: impl Into<String>, edm_type: EdmType) -> Self {
        Property { name: name.into(), edm_type }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    #[error("property name '{name}' is invalid: {reason}")]
    InvalidPropertyName { name: String, reason: &'static str },
    #[error("entity type name '{name}' is invalid: {reason}")]
    InvalidEntityTypeName { name: String, reason: &'static str },
    #[error("property '{0}' is declared twice (names are case-insensitive)")]
    DuplicateProperty(String),
    #[error(
        "unknown type '{0}': expected Edm.String, Edm.Int64, Edm.Boolean, Edm.Double, Edm.DateTime or Edm.Geography"
    )]
    UnknownType(String),
    #[error("the schema declares no primary key")]
    NoPrimaryKey,
    #[error("the schema declares more than one primary key ('{0}' and '{1}')")]
    MultiplePrimaryKeys(String, String),
    #[error("primary key '{name}' must be Edm.String, not {edm_type}")]
    KeyNotString { name: String, edm_type: EdmType },
    #[error("primary key '{0}' is not one of the declared properties")]
    UnknownKey(String),
    #[error("the schema has {0} properties besides Latitude and Longitude; the limit is {MAX_PROPERTIES}")]
    TooManyProperties(usize),
    #[error("the schema has no location: declare Latitude and Longitude (Edm.Double) or one Edm.Geography property")]
    NoLocation,
    #[error("Latitude and Longitude must be declared together")]
    IncompleteLatLon,
    #[error("property '{name}' must be Edm.Double, not {edm_type}")]
    LocationNotDouble { name: String, edm_type: EdmType },
    #[error("the schema declares more than one Edm.Geography property ('{0}' and '{1}')")]
    MultipleGeography(String, String),
    #[error("the schema differs from the data source's schema: {0}")]
    Mismatch(String),
}

/// A validated schema. `properties` holds every column, in declaration
/// order, including the key, Latitude/Longitude and, in an upload, the
/// `__deleteEntity` marker (which [`Schema::stored`] drops).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    pub entity_type_name: String,
    pub properties: Vec<Property>,
    pub key_index: usize,
}

impl Schema {
    /// Validates a declared schema.
    pub fn new(
        entity_type_name: impl Into<String>,
        properties: Vec<Property>,
        key_name: &str,
    ) -> Result<Schema, SchemaError> {
        let entity_type_name = entity_type_name.into();
        if let Err(reason) = check_entity_type_name(&entity_type_name) {
            return Err(SchemaError::InvalidEntityTypeName { name: entity_type_name, reason });
        }
        for (index, property) in properties.iter().enumerate() {
            if !property.name.eq_ignore_ascii_case(DELETE_MARKER) {
                check_property_name(&property.name)?;
            }
            if let Some(earlier) =
                properties[..index].iter().find(|earlier| earlier.name.eq_ignore_ascii_case(&property.name))
            {
                return Err(SchemaError::DuplicateProperty(earlier.name.clone()));
            }
        }
        let key_index = properties
            .iter()
            .position(|property| property.name.eq_ignore_ascii_case(key_name))
            .ok_or_else(|| SchemaError::UnknownKey(key_name.to_owned()))?;
        let key = &properties[key_index];
        if key.edm_type != EdmType::String {
            return Err(SchemaError::KeyNotString { name: key.name.clone(), edm_type: key.edm_type });
        }
        let schema = Schema { entity_type_name, properties, key_index };
        schema.check_layout()?;
        Ok(schema)
    }

    fn check_layout(&self) -> Result<(), SchemaError> {
        let counted = self
            .properties
            .iter()
            .filter(|property| {
                !["latitude", "longitude", &DELETE_MARKER.to_ascii_lowercase()]
                    .contains(&property.name.to_ascii_lowercase().as_str())
            })
            .count();
        if counted > MAX_PROPERTIES {
            return Err(SchemaError::TooManyProperties(counted));
        }
        for index in [self.latitude_index(), self.longitude_index()].into_iter().flatten() {
            let property = &self.properties[index];
            if property.edm_type != EdmType::Double {
                return Err(SchemaError::LocationNotDouble {
                    name: property.name.clone(),
                    edm_type: property.edm_type,
                });
            }
        }
        if self.latitude_index().is_some() != self.longitude_index().is_some() {
            return Err(SchemaError::IncompleteLatLon);
        }
        let marker = self.delete_marker_index();
        let mut geographies = self
            .properties
            .iter()
            .enumerate()
            .filter(|&(index, property)| property.edm_type == EdmType::Geography && Some(index) != marker)
            .map(|(_, property)| property);
        if let (Some(first), Some(second)) = (geographies.next(), geographies.next()) {
            return Err(SchemaError::MultipleGeography(first.name.clone(), second.name.clone()));
        }
        if self.latitude_index().is_none() && self.geography_index().is_none() {
            return Err(SchemaError::NoLocation);
        }
        Ok(())
    }

    pub fn key(&self) -> &Property {
        &self.properties[self.key_index]
    }

    /// Finds a property by name, case-insensitively.
    pub fn property_index(&self, name: &str) -> Option<usize> {
        self.properties.iter().position(|property| property.name.eq_ignore_ascii_case(name))
    }

    pub fn latitude_index(&self) -> Option<usize> {
        self.property_index("Latitude")
    }

    pub fn longitude_index(&self) -> Option<usize> {
        self.property_index("Longitude")
    }

    /// The entity's geography: the one Edm.Geography property (never the
    /// `__deleteEntity` marker, whatever type an upload declares it with).
    pub fn geography_index(&self) -> Option<usize> {
        let marker = self.delete_marker_index();
        (0..self.properties.len())
            .find(|&index| self.properties[index].edm_type == EdmType::Geography && Some(index) != marker)
    }

    pub fn delete_marker_index(&self) -> Option<usize> {
        self.property_index(DELETE_MARKER)
    }

    /// The schema a data source keeps: the upload's, without `__deleteEntity`.
    pub fn stored(&self) -> Schema {
        let Some(marker) = self.delete_marker_index() else {
            return self.clone();
        };
        let mut properties = self.properties.clone();
        properties.remove(marker);
        let key_index = if marker < self.key_index { self.key_index - 1 } else { self.key_index };
        Schema { entity_type_name: self.entity_type_name.clone(), properties, key_index }
    }

    /// Maps each column of an incremental upload to the stored schema's
    /// position (`None` for the delete marker). The upload must declare the
    /// same entity type, key and properties with the same types, in any order.
    pub fn map_onto(&self, stored: &Schema) -> Result<Vec<Option<usize>>, SchemaError> {
        let mismatch = |detail: String| Err(SchemaError::Mismatch(detail));
        if !self.entity_type_name.eq_ignore_ascii_case(&stored.entity_type_name) {
            return mismatch(format!(
                "entity type '{}' instead of '{}'",
                self.entity_type_name, stored.entity_type_name
            ));
        }
        if !self.key().name.eq_ignore_ascii_case(&stored.key().name) {
            return mismatch(format!("primary key '{}' instead of '{}'", self.key().name, stored.key().name));
        }
        let mut mapping = Vec::with_capacity(self.properties.len());
        for (index, property) in self.properties.iter().enumerate() {
            if Some(index) == self.delete_marker_index() {
                mapping.push(None);
                continue;
            }
            match stored.property_index(&property.name) {
                Some(target) if stored.properties[target].edm_type == property.edm_type => mapping.push(Some(target)),
                Some(target) => {
                    return mismatch(format!(
                        "property '{}' is {} instead of {}",
                        property.name, property.edm_type, stored.properties[target].edm_type
                    ))
                }
                None => return mismatch(format!("property '{}' is not in the data source", property.name)),
            }
        }
        if let Some(missing) = stored.properties.iter().find(|property| self.property_index(&property.name).is_none()) {
            return mismatch(format!("property '{}' is missing", missing.name));
        }
        Ok(mapping)
    }
}

/// The property name rule (the schema page's "Property name
/// requirements"): at most 50 of `[A-Za-z0-9_]`, starting with a letter or `_`.
fn check_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("it is empty");
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err("it is longer than 50 characters");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err("only letters, digits and '_' are allowed");
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return Err("it must start with a letter or '_'");
    }
    Ok(())
}

/// Entity type names are XML NCNames (XML Namespaces 1.0 §3, built from
/// XML 1.0 §2.3 `NameStartChar`/`NameChar` without `:`), at most 50
/// characters: the name is an element name in the DataSet, SDS documented
/// no narrower rule, and live SDS data sources used hyphens
/// (`Filialdaten-XX`).
fn check_entity_type_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("it is empty");
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err("it is longer than 50 characters");
    }
    let mut chars = name.chars();
    if !chars.next().is_some_and(is_name_start_char) {
        return Err("it must start with a letter or '_'");
    }
    if !chars.all(is_name_char) {
        return Err("it must be an XML name: letters, digits, '_', '-' and '.' only");
    }
    Ok(())
}

/// XML 1.0 (fifth edition) §2.3 `NameStartChar`, without `:`.
fn is_name_start_char(c: char) -> bool {
    matches!(c,
        'A'..='Z' | '_' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}'
        | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}'
        | '\u{10000}'..='\u{EFFFF}')
}

/// XML 1.0 (fifth edition) §2.3 `NameChar`, without `:`.
fn is_name_char(c: char) -> bool {
    is_name_start_char(c)
        || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

fn check_property_name(name: &str) -> Result<(), SchemaError> {
    let invalid = |reason| SchemaError::InvalidPropertyName { name: name.to_owned(), reason };
    check_name(name).map_err(invalid)?;
    if name.starts_with("__") {
        return Err(invalid("names starting with '__' are reserved"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn property(name: &str, edm_type: EdmType) -> Property {
        Property::new(name, edm_type)
    }

    fn shops() -> Vec<Property> {
        vec![
            property("EntityID", EdmType::String),
            property("Name", EdmType::String),
            property("Latitude", EdmType::Double),
            property("Longitude", EdmType::Double),
        ]
    }

    #[test]
    fn a_lat_lon_schema_is_valid() {
        let schema = Schema::new("FourthCoffeeShops", shops(), "entityid").unwrap();
        assert_eq!(schema.key().name, "EntityID");
        assert_eq!(schema.latitude_index(), Some(2));
    }

    #[test]
    fn a_geography_only_schema_is_valid() {
        let schema =
            Schema::new("Areas", vec![property("Id", EdmType::String), property("Shape", EdmType::Geography)], "Id")
                .unwrap();
        assert_eq!(schema.geography_index(), Some(1));
    }

    #[test]
    fn schema_errors_name_the_problem() {
        let mut twice = shops();
        twice.push(property("NAME", EdmType::Int64));
        assert_eq!(Schema::new("T", twice, "EntityID"), Err(SchemaError::DuplicateProperty("Name".into())));
        assert_eq!(Schema::new("T", shops(), "Nope"), Err(SchemaError::UnknownKey("Nope".into())));
        assert!(matches!(Schema::new("T", shops(), "Latitude"), Err(SchemaError::KeyNotString { .. })));
        let no_location = vec![property("Id", EdmType::String)];
        assert_eq!(Schema::new("T", no_location, "Id"), Err(SchemaError::NoLocation));
        let half = vec![property("Id", EdmType::String), property("Latitude", EdmType::Double)];
        assert_eq!(Schema::new("T", half, "Id"), Err(SchemaError::IncompleteLatLon));
        let mut bad_name = shops();
        bad_name.push(property("1abc", EdmType::String));
        assert!(matches!(Schema::new("T", bad_name, "EntityID"), Err(SchemaError::InvalidPropertyName { .. })));
        let mut reserved = shops();
        reserved.push(property("__x", EdmType::String));
        assert!(matches!(Schema::new("T", reserved, "EntityID"), Err(SchemaError::InvalidPropertyName { .. })));
        assert!(matches!(Schema::new("Bad Type", shops(), "EntityID"), Err(SchemaError::InvalidEntityTypeName { .. })));
    }

    #[test]
    fn property_count_excludes_latitude_and_longitude() {
        let mut properties = shops();
        properties.extend((0..348).map(|index| property(&format!("P{index}"), EdmType::Int64)));
        assert!(Schema::new("T", properties.clone(), "EntityID").is_ok());
        properties.push(property("OneTooMany", EdmType::Int64));
        assert_eq!(Schema::new("T", properties, "EntityID"), Err(SchemaError::TooManyProperties(351)));
    }

    #[test]
    fn delete_marker_is_dropped_from_the_stored_schema() {
        let mut properties = vec![property("__deleteEntity", EdmType::Boolean)];
        properties.extend(shops());
        let upload = Schema::new("T", properties, "EntityID").unwrap();
        let stored = upload.stored();
        assert_eq!(stored.properties, shops());
        assert_eq!(stored.key_index, 0);
        assert_eq!(upload.map_onto(&stored).unwrap(), vec![None, Some(0), Some(1), Some(2), Some(3)]);
    }

    #[test]
    fn finding_2_delete_marker_declared_with_any_type_is_accepted() {
        for edm_type in EdmType::ALL {
            let mut properties = shops();
            properties.push(property("__deleteEntity", edm_type));
            let upload = Schema::new("T", properties, "EntityID").unwrap_or_else(|error| panic!("{edm_type}: {error}"));
            assert_eq!(upload.delete_marker_index(), Some(4), "{edm_type}");
            assert_eq!(upload.geography_index(), None, "{edm_type}: the marker is never the geography");
            assert_eq!(upload.stored().properties, shops(), "{edm_type}");
        }
    }

    #[test]
    fn finding_5_entity_type_names_are_xml_ncnames() {
        for name in ["Filialdaten-XX", "Shops.v2", "_x", "Cafés", "店舗", "a-1.b_c"] {
            let schema = Schema::new(name, shops(), "EntityID").unwrap_or_else(|error| panic!("{name}: {error}"));
            assert_eq!(schema.entity_type_name, name);
        }
        for name in ["-Shops", ".Shops", "1Shops", "Bad Type", "a:b", "a/b", "a<b", "a&b", "", &"n".repeat(51)] {
            assert!(
                matches!(Schema::new(name, shops(), "EntityID"), Err(SchemaError::InvalidEntityTypeName { .. })),
                "{name} must be refused"
            );
        }
        // Property names keep the narrower rule of the schema page.
        let mut hyphenated = shops();
        hyphenated.push(property("Opening-Hours", EdmType::String));
        assert!(matches!(Schema::new("T", hyphenated, "EntityID"), Err(SchemaError::InvalidPropertyName { .. })));
    }

    #[test]
    fn incremental_schema_must_match() {
        let stored = Schema::new("T", shops(), "EntityID").unwrap();
        let mut retyped = shops();
        retyped[1].edm_type = EdmType::Int64;
        let upload = Schema::new("T", retyped, "EntityID").unwrap();
        assert!(matches!(upload.map_onto(&stored), Err(SchemaError::Mismatch(_))));
        let reordered = Schema::new("T", shops().into_iter().rev().collect(), "EntityID").unwrap();
        assert_eq!(reordered.map_onto(&stored).unwrap(), vec![Some(3), Some(2), Some(1), Some(0)]);
    }
}
