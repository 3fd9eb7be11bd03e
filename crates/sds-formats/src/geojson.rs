//! GeoJSON, an extension beyond SDS: uploads with `input=geojson` and the
//! `format=geojson` download.
//!
//! Reading (a `FeatureCollection`; RFC 7946, coordinates `[lon, lat]`):
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
use std::io::{self, BufRead, Write};
use std::path::Path;

use sds_core::{EdmType, Entity, Geography, Property, Schema, Timestamp, Value};
use serde_json::Value as Json;

use crate::archive::Source;
use crate::geometry::{close_ring, Coord, Geom};
use crate::names::{self, NameSet};
use crate::{FormatError, PathReaderOptions, Record, RecordReader, MAX_RECORD_BYTES};

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
        if self.finished {
            return None;
        }
        let result = self.read_record().transpose();
        if !matches!(result, Some(Ok(_))) {
            self.finished = true;
        }
        result
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

/// Walks the top level of a FeatureCollection byte by byte, handing out
/// each feature's bytes.
struct Scanner {
    input: Box<dyn BufRead + Send>,
    line: u64,
    state: ScanState,
    crs: Option<Json>,
    saw_features: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ScanState {
    Start,
    /// Between top-level members.
    Members,
    /// Inside `features`; whether an element was read.
    Features(bool),
    Done,
}

impl Scanner {
    fn new(input: Box<dyn BufRead + Send>) -> Scanner {
        Scanner { input, line: 1, state: ScanState::Start, crs: None, saw_features: false }
    }

    fn error(&self, message: impl Into<String>) -> FormatError {
        FormatError::AtLine { line: self.line, message: message.into() }
    }

    fn peek(&mut self) -> Result<Option<u8>, FormatError> {
        Ok(self.input.fill_buf()?.first().copied())
    }

    fn bump(&mut self) -> Result<Option<u8>, FormatError> {
        let byte = self.peek()?;
        if let Some(byte) = byte {
            self.input.consume(1);
            if byte == b'\n' {
                self.line += 1;
            }
        }
        Ok(byte)
    }

    fn skip_blanks(&mut self) -> Result<Option<u8>, FormatError> {
        loop {
            match self.peek()? {
                Some(b' ' | b'\t' | b'\r' | b'\n') => {
                    self.bump()?;
                }
                other => return Ok(other),
            }
        }
    }

    fn expect(&mut self, wanted: u8, what: &str) -> Result<(), FormatError> {
        match self.skip_blanks()? {
            Some(byte) if byte == wanted => {
                self.bump()?;
                Ok(())
            }
            Some(byte) => Err(self.error(format!("expected {what}, found '{}'", char::from(byte).escape_default()))),
            None => Err(self.error(format!("the document ends where {what} was expected"))),
        }
    }

    /// Reads one JSON value's bytes (not validated here), into `out` when
    /// given. Works on whole buffers: this is the hot loop of a large file.
    fn value(&mut self, mut out: Option<&mut Vec<u8>>) -> Result<(), FormatError> {
        let first = self.skip_blanks()?.ok_or_else(|| self.error("the document ends where a value was expected"))?;
        let scalar = !matches!(first, b'{' | b'[' | b'"');
        let (mut depth, mut in_string, mut escaped, mut length) = (0usize, false, false, 0usize);
        loop {
            let buffer = self.input.fill_buf()?;
            if buffer.is_empty() {
                if scalar && length > 0 {
                    return Ok(());
                }
                return Err(self.error("the document ends inside a value"));
            }
            let mut end = None;
            let mut unbalanced = false;
            for (at, &byte) in buffer.iter().enumerate() {
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if byte == b'\\' {
                        escaped = true;
                    } else if byte == b'"' {
                        in_string = false;
                        if depth == 0 {
                            end = Some(at + 1);
                            break;
                        }
                    }
                    continue;
                }
                if scalar && matches!(byte, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n') {
                    end = Some(at);
                    break;
                }
                match byte {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' if depth == 0 => {
                        unbalanced = true;
                        end = Some(at);
                        break;
                    }
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(at + 1);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let take = end.unwrap_or(buffer.len());
            length += take;
            if let Some(out) = out.as_deref_mut() {
                out.extend_from_slice(&buffer[..take]);
            }
            let newlines = buffer[..take].iter().filter(|&&byte| byte == b'\n').count() as u64;
            self.input.consume(take);
            self.line += newlines;
            if unbalanced {
                return Err(self.error("unbalanced brackets"));
            }
            if length > MAX_RECORD_BYTES {
                return Err(self.error(format!("a feature or member is longer than {MAX_RECORD_BYTES} bytes")));
            }
            if end.is_some() {
                return Ok(());
            }
        }
    }

    /// The next feature: its first line and bytes.
    fn next_feature(&mut self) -> Result<Option<(u64, Vec<u8>)>, FormatError> {
        loop {
            match self.state {
                ScanState::Done => return Ok(None),
                ScanState::Start => {
                    if self.input.fill_buf()?.starts_with(b"\xEF\xBB\xBF") {
                        self.input.consume(3);
                    }
                    self.expect(b'{', "a FeatureCollection object ('{')")?;
                    if self.skip_blanks()? == Some(b'}') {
                        self.bump()?;
                        return self.finish();
                    }
                    self.member()?;
                }
                ScanState::Members => match self.skip_blanks()? {
                    Some(b',') => {
                        self.bump()?;
                        self.member()?;
                    }
                    Some(b'}') => {
                        self.bump()?;
                        return self.finish();
                    }
                    _ => return Err(self.error("expected ',' or '}' between the FeatureCollection's members")),
                },
                ScanState::Features(read_one) => {
                    match self.skip_blanks()? {
                        Some(b']') => {
                            self.bump()?;
                            self.state = ScanState::Members;
                            continue;
                        }
                        Some(b',') if read_one => {
                            self.bump()?;
                        }
                        _ if read_one => return Err(self.error("expected ',' or ']' between features")),
                        _ => {}
                    }
                    if self.skip_blanks()? != Some(b'{') {
                        return Err(self.error("expected a Feature object ('{') in \"features\""));
                    }
                    let line = self.line;
                    let mut bytes = Vec::new();
                    self.value(Some(&mut bytes))?;
                    self.state = ScanState::Features(true);
                    return Ok(Some((line, bytes)));
                }
            }
        }
    }

    /// Reads a member name and, except for `features`, its value.
    fn member(&mut self) -> Result<(), FormatError> {
        if self.skip_blanks()? != Some(b'"') {
            return Err(self.error("expected a member name"));
        }
        let mut raw = Vec::new();
        self.value(Some(&mut raw))?;
        let name: String = serde_json::from_slice(&raw).map_err(|_| self.error("malformed member name"))?;
        self.expect(b':', "':' after a member name")?;
        match name.as_str() {
            "features" => {
                if self.saw_features {
                    return Err(self.error("\"features\" appears twice"));
                }
                self.saw_features = true;
                self.expect(b'[', "an array of features ('[')")?;
                self.state = ScanState::Features(false);
            }
            "type" | "crs" => {
                let mut raw = Vec::new();
                self.value(Some(&mut raw))?;
                let value: Json = serde_json::from_slice(&raw)
                    .map_err(|error| self.error(format!("malformed \"{name}\": {error}")))?;
                if name == "type" && value.as_str() != Some("FeatureCollection") {
                    return Err(self.error(format!(
                        "the document is a GeoJSON {}, not a FeatureCollection",
                        sds_core::value::excerpt(&value.to_string())
                    )));
                }
                if name == "crs" {
                    self.crs = Some(value);
                }
                self.state = ScanState::Members;
            }
            _ => {
                self.value(None)?;
                self.state = ScanState::Members;
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<Option<(u64, Vec<u8>)>, FormatError> {
        if self.skip_blanks()?.is_some() {
            return Err(self.error("unexpected data after the FeatureCollection"));
        }
        if !self.saw_features {
            return Err(self.error("the document is not a FeatureCollection: it has no \"features\" member"));
        }
        self.state = ScanState::Done;
        Ok(None)
    }
}

/// Streams entities into a GeoJSON FeatureCollection. Give it a buffered
/// writer.
pub struct GeoJsonWriter<W: Write> {
    out: W,
    schema: Schema,
    first: bool,
}

impl<W: Write> GeoJsonWriter<W> {
    /// Writes the collection's opening, with the data source's name as
    /// `name` (a common foreign member GIS tools show as the layer name).
    pub fn new(mut out: W, data_source_name: &str, schema: &Schema) -> io::Result<Self> {
        out.write_all(b"{\"type\":\"FeatureCollection\",\"name\":")?;
        serde_json::to_writer(&mut out, data_source_name)?;
        out.write_all(b",\"features\":[")?;
        Ok(GeoJsonWriter { out, schema: schema.clone(), first: true })
    }

    /// Writes one feature (on its own line).
    pub fn write_entity(&mut self, entity: &Entity) -> io::Result<()> {
        if entity.values.len() != self.schema.properties.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "entity '{}' has {} values but the schema has {} properties",
                    entity.id,
                    entity.values.len(),
                    self.schema.properties.len()
                ),
            ));
        }
        let out = &mut self.out;
        out.write_all(if self.first { b"\n" } else { b",\n" })?;
        self.first = false;
        out.write_all(b"{\"type\":\"Feature\",\"id\":")?;
        serde_json::to_writer(&mut *out, &entity.id)?;
        out.write_all(b",\"geometry\":")?;
        let geography_index = self.schema.geography_index();
        let geometry = geography_index
            .and_then(|index| entity.values[index].as_str())
            .and_then(|text| Geography::parse(text).ok());
        match geometry {
            Some(geography) => write_geometry(out, &geography.geometry)?,
            None => write!(out, "{{\"type\":\"Point\",\"coordinates\":[{},{}]}}", entity.longitude, entity.latitude)?,
        }
        out.write_all(b",\"properties\":{")?;
        let mut first = true;
        for (index, (property, value)) in self.schema.properties.iter().zip(&entity.values).enumerate() {
            if Some(index) == geography_index {
                continue;
            }
            if !first {
                out.write_all(b",")?;
            }
            first = false;
            serde_json::to_writer(&mut *out, &property.name)?;
            out.write_all(b":")?;
            write_value(out, value)?;
        }
        out.write_all(b"}}")
    }

    /// Closes the collection and hands back the (flushed) writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(b"\n]}\n")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

fn write_value(out: &mut impl Write, value: &Value) -> io::Result<()> {
    match value {
        Value::Null => out.write_all(b"null"),
        Value::String(text) | Value::Geography(text) => Ok(serde_json::to_writer(out, text)?),
        Value::Int64(number) => write!(out, "{number}"),
        Value::Boolean(flag) => write!(out, "{flag}"),
        Value::Double(number) if number.is_finite() => write!(out, "{number}"),
        Value::Double(_) => Ok(serde_json::to_writer(out, &value.to_string())?),
        Value::DateTime(timestamp) => Ok(serde_json::to_writer(out, &timestamp.to_iso8601())?),
    }
}

fn write_position(out: &mut dyn Write, coord: geo::Coord<f64>) -> io::Result<()> {
    write!(out, "[{},{}]", coord.x, coord.y)
}

fn write_positions(out: &mut dyn Write, coords: impl Iterator<Item = geo::Coord<f64>>) -> io::Result<()> {
    out.write_all(b"[")?;
    for (index, coord) in coords.enumerate() {
        if index > 0 {
            out.write_all(b",")?;
        }
        write_position(out, coord)?;
    }
    out.write_all(b"]")
}

fn write_rings(out: &mut dyn Write, polygon: &geo::Polygon<f64>) -> io::Result<()> {
    out.write_all(b"[")?;
    write_positions(out, polygon.exterior().coords().copied())?;
    for ring in polygon.interiors() {
        out.write_all(b",")?;
        write_positions(out, ring.coords().copied())?;
    }
    out.write_all(b"]")
}

fn write_list<T>(
    out: &mut dyn Write,
    items: &[T],
    mut each: impl FnMut(&mut dyn Write, &T) -> io::Result<()>,
) -> io::Result<()> {
    out.write_all(b"[")?;
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.write_all(b",")?;
        }
        each(out, item)?;
    }
    out.write_all(b"]")
}

fn write_geometry(out: &mut dyn Write, geometry: &geo::Geometry<f64>) -> io::Result<()> {
    use geo::Geometry as G;
    let kind = |out: &mut dyn Write, name: &str| write!(out, "{{\"type\":\"{name}\",\"coordinates\":");
    match geometry {
        G::Point(point) => {
            kind(out, "Point")?;
            write_position(out, point.0)?;
        }
        G::MultiPoint(points) => {
            kind(out, "MultiPoint")?;
            write_positions(out, points.0.iter().map(|point| point.0))?;
        }
        G::LineString(line) => {
            kind(out, "LineString")?;
            write_positions(out, line.coords().copied())?;
        }
        G::MultiLineString(lines) => {
            kind(out, "MultiLineString")?;
            write_list(out, &lines.0, |out, line| write_positions(out, line.coords().copied()))?;
        }
        G::Polygon(polygon) => {
            kind(out, "Polygon")?;
            write_rings(out, polygon)?;
        }
        G::MultiPolygon(polygons) => {
            kind(out, "MultiPolygon")?;
            write_list(out, &polygons.0, |out, polygon| write_rings(out, polygon))?;
        }
        G::GeometryCollection(collection) => {
            out.write_all(b"{\"type\":\"GeometryCollection\",\"geometries\":")?;
            return write_list(out, &collection.0, |out, member| write_geometry(out, member))
                .and_then(|()| out.write_all(b"}"));
        }
        G::Line(line) => {
            kind(out, "LineString")?;
            write_positions(out, [line.start, line.end].into_iter())?;
        }
        G::Rect(rect) => return write_geometry(out, &G::Polygon(rect.to_polygon())),
        G::Triangle(triangle) => return write_geometry(out, &G::Polygon(triangle.to_polygon())),
    }
    out.write_all(b"}")
}

#[cfg(test)]
mod tests;
