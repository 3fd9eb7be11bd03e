//! GeoJSON, an extension beyond SDS: uploads with `input=geojson` and the
//! `format=geojson` download.
//!
//! Reading (a `FeatureCollection`, or a single Feature or bare geometry
//! read as a collection of one; RFC 7946, coordinates `[lon, lat]`):
//! - The document is scanned, not loaded: each feature of `features` is
//!   parsed on its own (at most [`MAX_RECORD_BYTES`] each), in two passes.
//! - Pass 1 infers each property's type over all features (nulls do not
//!   count): only integers (no fraction, no exponent, within i64) →
//!   Edm.Int64; only numbers → Edm.Double; only booleans → Edm.Boolean;
//!   only strings of the ISO 8601 form `YYYY-MM-DD[THH:MM[:SS[.f]][zone]]`
//!   → Edm.DateTime; anything else (strings, mixtures, objects, arrays,
//!   all null) → Edm.String, objects and arrays as their JSON text. The
//!   schema the reader reports *is* the inference report.
//! - Columns: `EntityID` (key), the properties in order of first
//!   appearance (names made SDS names as `names` describes), `Geom`. A
//!   `properties` that is not an object counts as empty.
//! - Entity ID ([`IdSource`]): by default the feature's `id` member
//!   (string or number), or the 1-based feature position when it has none;
//!   or a chosen property, which every feature must then have (the
//!   property stays a column too).
//! - Geometry: Point, MultiPoint, LineString, MultiLineString, Polygon,
//!   MultiPolygon, GeometryCollection → WKT (extra ordinates dropped, open
//!   rings closed). A `null` geometry fails its row with the reason, as do
//!   malformed coordinates. A `crs` member naming anything but WGS 84
//!   (`CRS84`, `EPSG:4326`) is refused: RFC 7946 GeoJSON is WGS 84.
//! - No per-file polygon limit applies (SDS documents those for KML and
//!   shapefiles only); each geography's 100,000-point budget does.
//!
//! Writing: [`GeoJsonWriter`] streams a FeatureCollection: `id` = the
//! entity ID, `geometry` = the entity's geography (or a Point at its
//! Latitude/Longitude when the schema has none), `properties` = every
//! other property, typed (numbers, booleans, ISO 8601 UTC strings for
//! dates, `null` for nulls; a non-finite double, which JSON cannot hold,
//! as the string `NaN`, `INF` or `-INF`).

use std::collections::HashMap;
use std::io::{self, BufRead};
use std::path::Path;

use sds_core::{EdmType, Property, Schema, Timestamp};
use serde_json::Value as Json;

use crate::archive::Source;
use crate::geometry::{close_ring, Coord, Geom};
use crate::names::{self, NameSet};
use crate::{FormatError, PathReaderOptions, Record, RecordReader};

mod scanner;
mod writer;

use scanner::Scanner;
pub use writer::{write_geometry, GeoJsonRows, GeoJsonWriter};

/// Where a GeoJSON feature's entity ID comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum IdSource {
    /// The feature's `id` member; the 1-based feature position without one.
    #[default]
    FeatureId,
    /// This member of `properties` (required in every feature).
    Property(String),
}

/// Raw property name → (cell index, type).
type Columns = HashMap<String, (usize, EdmType)>;

/// A streaming reader of one GeoJSON FeatureCollection (two passes).
pub struct GeoJsonReader {
    _source: Option<Source>,
    scanner: Scanner,
    schema: Schema,
    columns: Columns,
    id_source: IdSource,
    ordinal: u64,
    finished: bool,
}

impl GeoJsonReader {
    /// Opens a GeoJSON file (plain, gzip, or the first `.geojson`/`.json`
    /// entry of a zip).
    pub fn open(path: &Path, options: &PathReaderOptions) -> Result<GeoJsonReader, FormatError> {
        let source = Source::open(path, options.max_uncompressed_bytes, &[".geojson", ".json"])?;
        let schema_and_columns = infer(Scanner::new(source.reader()?), options)?;
        let scanner = Scanner::new(source.reader()?);
        Ok(GeoJsonReader::assemble(Some(source), scanner, schema_and_columns, options))
    }

    /// Reads GeoJSON held in memory; for tests and fuzzing.
    pub fn from_bytes(bytes: &[u8], options: &PathReaderOptions) -> Result<GeoJsonReader, FormatError> {
        let open = || -> Box<dyn BufRead + Send> { Box::new(io::Cursor::new(bytes.to_vec())) };
        let schema_and_columns = infer(Scanner::new(open()), options)?;
        Ok(GeoJsonReader::assemble(None, Scanner::new(open()), schema_and_columns, options))
    }

    fn assemble(
        source: Option<Source>,
        scanner: Scanner,
        (schema, columns): (Schema, Columns),
        options: &PathReaderOptions,
    ) -> GeoJsonReader {
        GeoJsonReader {
            _source: source,
            scanner,
            schema,
            columns,
            id_source: options.geojson_id.clone(),
            ordinal: 0,
            finished: false,
        }
    }

    fn read_record(&mut self) -> Result<Option<Record>, FormatError> {
        let Some((line, bytes)) = self.scanner.next_feature()? else { return Ok(None) };
        self.ordinal += 1;
        let feature = parse_feature(&bytes, line)?;
        let mut cells: Vec<Option<String>> = vec![None; self.schema.properties.len()];
        let mut problem = None;
        let properties = &feature.properties;
        if feature.kind.as_ref().and_then(Json::as_str) != Some("Feature") {
            problem = Some(format!("feature {} is not an object with \"type\": \"Feature\"", self.ordinal));
        }
        cells[0] = match &self.id_source {
            IdSource::FeatureId => Some(id_text(feature.id.as_ref()).unwrap_or_else(|| self.ordinal.to_string())),
            IdSource::Property(name) => {
                let id = id_text(properties.iter().find(|(key, _)| key == name).map(|(_, value)| value));
                if id.is_none() {
                    problem.get_or_insert_with(|| {
                        format!("feature {} has no '{name}' property for its entity ID", self.ordinal)
                    });
                }
                id
            }
        };
        for (name, value) in properties {
            if let Some(&(index, edm_type)) = self.columns.get(name) {
                cells[index] = cell_text(value, edm_type);
            }
        }
        let geometry_index = cells.len() - 1;
        match &feature.geometry {
            None | Some(Json::Null) if names::is_deletion(&self.schema, &cells) => {}
            None | Some(Json::Null) => {
                problem.get_or_insert_with(|| {
                    format!("feature {} has a null geometry: every entity needs a location", self.ordinal)
                });
            }
            Some(geometry) => match to_geom(geometry, 0) {
                Ok(geom) => cells[geometry_index] = Some(geom.to_wkt()),
                Err(message) => {
                    problem.get_or_insert_with(|| format!("feature {}: {message}", self.ordinal));
                }
            },
        }
        Ok(Some(Record { line, cells, problem }))
    }
}

impl RecordReader for GeoJsonReader {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn next_record(&mut self) -> Option<Result<Record, FormatError>> {
        crate::next_until_done(self)
    }
}

impl crate::RecordSource for GeoJsonReader {
    fn read_record(&mut self) -> Result<Option<Record>, FormatError> {
        self.read_record()
    }

    fn finished(&mut self) -> &mut bool {
        &mut self.finished
    }
}

/// One feature, with its properties in document order.
#[derive(Default)]
struct Feature {
    kind: Option<Json>,
    id: Option<Json>,
    geometry: Option<Json>,
    properties: Vec<(String, Json)>,
}

impl<'de> serde::Deserialize<'de> for Feature {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FeatureVisitor;
        impl<'de> serde::de::Visitor<'de> for FeatureVisitor {
            type Value = Feature;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a Feature object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Feature, A::Error> {
                let mut feature = Feature::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "type" => feature.kind = Some(map.next_value()?),
                        "id" => feature.id = Some(map.next_value()?),
                        "geometry" => feature.geometry = Some(map.next_value()?),
                        "properties" => feature.properties = map.next_value::<Properties>()?.0,
                        _ => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(feature)
            }
        }
        deserializer.deserialize_map(FeatureVisitor)
    }
}

/// A `properties` member: an object's members in order (a repeated name
/// keeps its first place and its last value); anything else is empty.
struct Properties(Vec<(String, Json)>);

impl<'de> serde::Deserialize<'de> for Properties {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PropertiesVisitor;
        impl<'de> serde::de::Visitor<'de> for PropertiesVisitor {
            type Value = Properties;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object or null")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Properties, A::Error> {
                let mut members: Vec<(String, Json)> = Vec::new();
                let mut index: HashMap<String, usize> = HashMap::new();
                while let Some((name, value)) = map.next_entry::<String, Json>()? {
                    match index.get(&name) {
                        Some(&at) => members[at].1 = value,
                        None => {
                            index.insert(name.clone(), members.len());
                            members.push((name, value));
                        }
                    }
                }
                Ok(Properties(members))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Properties, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Properties(Vec::new()))
            }
            fn visit_unit<E>(self) -> Result<Properties, E> {
                Ok(Properties(Vec::new()))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Properties, E> {
                Ok(Properties(Vec::new()))
            }
            fn visit_i64<E>(self, _: i64) -> Result<Properties, E> {
                Ok(Properties(Vec::new()))
            }
            fn visit_u64<E>(self, _: u64) -> Result<Properties, E> {
                Ok(Properties(Vec::new()))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Properties, E> {
                Ok(Properties(Vec::new()))
            }
            fn visit_str<E>(self, _: &str) -> Result<Properties, E> {
                Ok(Properties(Vec::new()))
            }
        }
        deserializer.deserialize_any(PropertiesVisitor)
    }
}

fn parse_feature(bytes: &[u8], line: u64) -> Result<Feature, FormatError> {
    serde_json::from_slice::<Feature>(bytes)
        .map_err(|error| FormatError::AtLine { line, message: format!("malformed JSON in a feature: {error}") })
}

fn id_text(value: Option<&Json>) -> Option<String> {
    match value? {
        Json::String(text) if !text.is_empty() => Some(text.clone()),
        Json::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn cell_text(value: &Json, edm_type: EdmType) -> Option<String> {
    match value {
        Json::Null => None,
        Json::String(text) => Some(text.clone()),
        Json::Bool(flag) => Some(flag.to_string()),
        Json::Number(number) => Some(number.to_string()),
        composite if edm_type == EdmType::String => Some(composite.to_string()),
        composite => Some(composite.to_string()),
    }
}

#[derive(Default)]
struct Seen {
    integer: bool,
    float: bool,
    boolean: bool,
    date: bool,
    other: bool,
}

impl Seen {
    fn note(&mut self, value: &Json) {
        match value {
            Json::Null => {}
            Json::Bool(_) => self.boolean = true,
            Json::Number(number) if number.is_i64() => self.integer = true,
            Json::Number(_) => self.float = true,
            Json::String(text) if looks_like_date(text) => self.date = true,
            _ => self.other = true,
        }
    }

    fn edm_type(&self) -> EdmType {
        match (self.integer, self.float, self.boolean, self.date, self.other) {
            (true, false, false, false, false) => EdmType::Int64,
            (_, true, false, false, false) => EdmType::Double,
            (false, false, true, false, false) => EdmType::Boolean,
            (false, false, false, true, false) => EdmType::DateTime,
            _ => EdmType::String,
        }
    }
}

fn looks_like_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits =
        |range: std::ops::Range<usize>| bytes.get(range).is_some_and(|part| part.iter().all(u8::is_ascii_digit));
    let shaped =
        digits(0..4) && bytes.get(4) == Some(&b'-') && digits(5..7) && bytes.get(7) == Some(&b'-') && digits(8..10);
    let rest_ok = bytes.len() == 10 || (bytes.get(10) == Some(&b'T') && bytes.len() >= 16);
    shaped && rest_ok && Timestamp::parse(text).is_some()
}

/// Pass 1: the schema.
fn infer(mut scanner: Scanner, options: &PathReaderOptions) -> Result<(Schema, Columns), FormatError> {
    let mut order: Vec<String> = Vec::new();
    let mut seen: HashMap<String, Seen> = HashMap::new();
    while let Some((line, bytes)) = scanner.next_feature()? {
        let feature = parse_feature(&bytes, line)?;
        for (name, value) in &feature.properties {
            let entry = seen.entry(name.clone()).or_insert_with(|| {
                order.push(name.clone());
                Seen::default()
            });
            entry.note(value);
        }
    }
    if let Some(crs) = &scanner.crs {
        let name = crs.pointer("/properties/name").and_then(Json::as_str).unwrap_or_default();
        let upper = name.to_ascii_uppercase();
        let wgs84 = upper.ends_with("CRS84") || upper.ends_with("EPSG::4326") || upper.ends_with("EPSG:4326");
        if !crs.is_null() && !wgs84 {
            return Err(FormatError::Document(format!(
                "the GeoJSON declares the coordinate system '{}'; only WGS 84 longitude/latitude (CRS84) is accepted",
                sds_core::value::excerpt(if name.is_empty() { "unknown" } else { name })
            )));
        }
    }
    let mut names = NameSet::new();
    names.reserve(names::KEY);
    names.reserve(names::GEOMETRY);
    let mut properties = vec![Property::new(names::KEY, EdmType::String)];
    let mut columns = HashMap::new();
    for raw in order {
        let edm_type = seen[&raw].edm_type();
        columns.insert(raw.clone(), (properties.len(), edm_type));
        properties.push(Property::new(names.unique(&raw), edm_type));
    }
    properties.push(Property::new(names::GEOMETRY, EdmType::Geography));
    let schema = Schema::new(names::entity_type_name(&options.entity_type_hint), properties, names::KEY)?;
    Ok((schema, columns))
}

const MAX_GEOMETRY_DEPTH: usize = 32;

fn to_geom(geometry: &Json, depth: usize) -> Result<Geom, String> {
    let kind = geometry.get("type").and_then(Json::as_str).ok_or("the geometry has no \"type\"")?;
    if kind == "GeometryCollection" {
        if depth >= MAX_GEOMETRY_DEPTH {
            return Err("GeometryCollections are nested too deeply".into());
        }
        let members =
            geometry.get("geometries").and_then(Json::as_array).ok_or("a GeometryCollection has no \"geometries\"")?;
        let members = members.iter().map(|member| to_geom(member, depth + 1)).collect::<Result<Vec<_>, _>>()?;
        if members.is_empty() {
            return Err("the GeometryCollection is empty".into());
        }
        return Ok(Geom::Collection(members));
    }
    let coordinates = geometry.get("coordinates").ok_or_else(|| format!("the {kind} has no \"coordinates\""))?;
    let bad = || format!("the {kind}'s coordinates are malformed");
    let position = |value: &Json| -> Option<Coord> {
        let array = value.as_array()?;
        let x = array.first()?.as_f64()?;
        let y = array.get(1)?.as_f64()?;
        Some([x, y])
    };
    let positions = |value: &Json| -> Option<Vec<Coord>> { value.as_array()?.iter().map(position).collect() };
    let rings = |value: &Json| -> Option<Vec<Vec<Coord>>> {
        let rings: Vec<Vec<Coord>> = value.as_array()?.iter().map(positions).collect::<Option<_>>()?;
        Some(
            rings
                .into_iter()
                .map(|mut ring| {
                    close_ring(&mut ring);
                    ring
                })
                .collect(),
        )
    };
    let geom = match kind {
        "Point" => Geom::Point(position(coordinates).ok_or_else(bad)?),
        "MultiPoint" => Geom::MultiPoint(positions(coordinates).ok_or_else(bad)?),
        "LineString" => Geom::Line(positions(coordinates).ok_or_else(bad)?),
        "MultiLineString" => Geom::MultiLine(
            coordinates.as_array().ok_or_else(bad)?.iter().map(positions).collect::<Option<_>>().ok_or_else(bad)?,
        ),
        "Polygon" => Geom::Polygon(rings(coordinates).ok_or_else(bad)?),
        "MultiPolygon" => Geom::MultiPolygon(
            coordinates.as_array().ok_or_else(bad)?.iter().map(rings).collect::<Option<_>>().ok_or_else(bad)?,
        ),
        other => return Err(format!("the geometry type '{}' is not supported", sds_core::value::excerpt(other))),
    };
    let empty = match &geom {
        Geom::MultiPoint(points) | Geom::Line(points) => points.is_empty(),
        Geom::MultiLine(lines) => lines.is_empty() || lines.iter().any(Vec::is_empty),
        Geom::Polygon(rings) => rings.is_empty(),
        Geom::MultiPolygon(polygons) => polygons.is_empty() || polygons.iter().any(Vec::is_empty),
        _ => false,
    };
    if empty {
        return Err(format!("the {kind} is empty"));
    }
    Ok(geom)
}

#[cfg(test)]
mod tests;
