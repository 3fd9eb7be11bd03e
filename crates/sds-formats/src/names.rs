//! Property and entity type names for formats whose column names are not
//! SDS names (DBF fields, KML ExtendedData, GeoJSON properties).
//!
//! A name keeps its `[A-Za-z0-9_]` characters; any other character becomes
//! `_`; a name starting with a digit or with `__` (reserved) gets `F_` or
//! `F` in front; at most 50 characters are kept. Names are unique
//! case-insensitively: a name already taken (including the columns the
//! reader adds itself: `EntityID`, `Name`, `Description`, `Geom`, and the
//! reserved `Latitude`/`Longitude`, which a reader never declares so that
//! the location always comes from the geometry) gets `_2`, `_3`, ... .
//!
//! `__deleteEntity` (any casing) is the one reserved name kept as is: it is
//! the incremental load's delete marker in every input format (the load
//! page names no format it is limited to), so a KML or GeoJSON incremental
//! load can delete entities as XML and CSV loads do.

use std::collections::HashSet;

use sds_core::schema::{DELETE_MARKER, MAX_NAME_CHARS};
use sds_core::Schema;

pub(crate) const KEY: &str = "EntityID";
pub(crate) const GEOMETRY: &str = "Geom";

/// Names handed out so far, lower-cased.
pub(crate) struct NameSet {
    taken: HashSet<String>,
}

impl NameSet {
    /// A set with `Latitude` and `Longitude` reserved.
    pub(crate) fn new() -> NameSet {
        let mut set = NameSet { taken: HashSet::new() };
        set.taken.insert("latitude".into());
        set.taken.insert("longitude".into());
        set
    }

    /// Takes a fixed name the reader itself declares.
    pub(crate) fn reserve(&mut self, name: &str) {
        self.taken.insert(name.to_ascii_lowercase());
    }

    /// The sanitized, unique form of `raw`.
    pub(crate) fn unique(&mut self, raw: &str) -> String {
        let base = sanitize(raw);
        let mut candidate = base.clone();
        let mut counter = 2u64;
        while self.taken.contains(&candidate.to_ascii_lowercase()) {
            let suffix = format!("_{counter}");
            let keep = MAX_NAME_CHARS.saturating_sub(suffix.len()).min(base.len());
            candidate = format!("{}{suffix}", &base[..keep]);
            counter += 1;
        }
        self.taken.insert(candidate.to_ascii_lowercase());
        candidate
    }
}

/// Whether a row of `schema` is a deletion: its `__deleteEntity` cell reads
/// as true. Such a row needs no geometry; the entity builder checks the
/// marker's value itself (and reports an unreadable one).
pub(crate) fn is_deletion(schema: &Schema, cells: &[Option<String>]) -> bool {
    schema
        .delete_marker_index()
        .and_then(|index| cells.get(index).cloned().flatten())
        .and_then(|text| sds_core::value::parse_boolean(text.trim()))
        .unwrap_or(false)
}

fn sanitize(raw: &str) -> String {
    if raw.trim().eq_ignore_ascii_case(DELETE_MARKER) {
        return DELETE_MARKER.to_owned();
    }
    let mut name: String =
        raw.trim().chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if name.is_empty() {
        name = "Field".into();
    } else if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "F_");
    } else if name.starts_with("__") {
        name.insert(0, 'F');
    }
    name.truncate(MAX_NAME_CHARS);
    name
}

pub(crate) fn entity_type_name(hint: &str) -> String {
    let mut name: String =
        hint.trim().chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if name.is_empty() {
        return "Entity".into();
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    name.truncate(MAX_NAME_CHARS);
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sanitized_and_unique() {
        let mut names = NameSet::new();
        names.reserve(KEY);
        assert_eq!(names.unique("pop est"), "pop_est");
        assert_eq!(names.unique("POP_EST"), "POP_EST_2");
        assert_eq!(names.unique("entityid"), "entityid_2");
        assert_eq!(names.unique("Latitude"), "Latitude_2");
        assert_eq!(names.unique("2020"), "F_2020");
        assert_eq!(names.unique("__x"), "F__x");
        assert_eq!(names.unique("__deleteentity"), "__deleteEntity");
        assert_eq!(names.unique("Zürich"), "Z_rich");
        assert_eq!(names.unique(""), "Field");
        assert_eq!(names.unique(&"a".repeat(60)).len(), 50);
        assert_eq!(names.unique(&"a".repeat(60)), format!("{}_2", "a".repeat(48)));
    }

    #[test]
    fn entity_type_names_follow_the_name_rule() {
        assert_eq!(entity_type_name("My~Data{1}"), "My_Data_1_");
        assert_eq!(entity_type_name("1abc"), "_1abc");
        assert_eq!(entity_type_name(""), "Entity");
        let schema = sds_core::Schema::new(
            entity_type_name("$weird=name!"),
            vec![
                sds_core::Property::new("Id", sds_core::EdmType::String),
                sds_core::Property::new("G", sds_core::EdmType::Geography),
            ],
            "Id",
        );
        assert!(schema.is_ok());
    }
}
