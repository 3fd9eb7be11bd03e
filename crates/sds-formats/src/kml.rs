//! KML and KMZ (`input=kml`). SDS documents no mapping (SPEC §4 marks it \[REC\]); this one:
//!
//! - One entity per `Placemark`, wherever it sits (Document, Folder, ...).
//! - Columns: `EntityID` (key), `Name`, `Description`, one column per
//!   ExtendedData field, and `Geom` (Edm.Geography). No Latitude/Longitude
//!   is declared: the builder computes them from the geometry's centroid.
//! - Entity ID: the Placemark's `id` attribute; without one (or an empty
//!   one), its 1-based position among the document's Placemarks (`"1"`,
//!   `"2"`, ...). A generated ID that equals another Placemark's `id` makes
//!   the later row fail as a duplicate.
//! - ExtendedData: `Data name=".."><value>` and `SchemaData/SimpleData
//!   name=".."`. A field declared by a `Schema/SimpleField` takes its type
//!   (`string` → Edm.String; `int`, `uint`, `short`, `ushort` → Edm.Int64;
//!   `float`, `double` → Edm.Double; `bool` → Edm.Boolean; anything else,
//!   or two declarations that disagree → Edm.String); an undeclared field
//!   is Edm.String. Field names become SDS names as `names` describes.
//! - Geometry (WKT, `lon lat`, altitude dropped): Point, LineString,
//!   LinearRing (as a LINESTRING), Polygon with inner boundaries (rings
//!   left open are closed), MultiGeometry (→ MULTIPOINT, MULTILINESTRING,
//!   MULTIPOLYGON when its members are of one kind, else
//!   GEOMETRYCOLLECTION). A Placemark without a supported geometry
//!   (none, Model, gx:Track) fails as a row with the reason.
//! - Two passes over the document: the first declares the columns and
//!   checks the per-file limits (polygons, points per polygon) before any
//!   row is produced; the second yields the rows.
//! - The input may be plain KML, gzip-compressed KML, or a KMZ (a zip; its
//!   first `.kml` entry is read). The root element must be `kml` (any
//!   namespace); malformed XML, an unclosed element at the end of the
//!   document, a DTD or bytes that are not UTF-8 end the document.

use std::collections::HashMap;
use std::path::Path;

use quick_xml::events::{BytesStart, Event};
use quick_xml::NsReader;
use sds_core::{EdmType, Property, Schema};

use crate::archive::Source;
use crate::geometry::{close_ring, Coord, Geom, Ring};
use crate::names::{self, NameSet};
use crate::xml_dataset::input::Tracked;
use crate::xml_dataset::{at_line, is_blank, not_utf8, read_event, resolve_reference};
use crate::{FormatError, PathReaderOptions, Record, RecordReader, MAX_RECORD_BYTES};

const MAX_DEPTH: usize = 1_000;
const MAX_MULTI_DEPTH: usize = 32;
const GEOMETRIES: [&str; 8] =
    ["Point", "LineString", "LinearRing", "Polygon", "MultiGeometry", "Model", "Track", "MultiTrack"];

/// A streaming reader of one KML document (two passes, see the module doc).
pub struct KmlReader {
    _source: Option<Source>,
    parser: Parser,
    schema: Schema,
    /// Raw ExtendedData field name → cell index.
    columns: HashMap<String, usize>,
    ordinal: u64,
    finished: bool,
}

impl KmlReader {
    /// Opens a KML, gzip-compressed KML or KMZ file.
    pub fn open(path: &Path, options: &PathReaderOptions) -> Result<KmlReader, FormatError> {
        let source = Source::open(path, options.max_uncompressed_bytes, &[".kml"])?;
        let open = || -> Result<Box<dyn std::io::BufRead + Send>, FormatError> { source.reader() };
        let first = Parser::new(open()?)?;
        let (schema, columns) = scan(first, options)?;
        let parser = Parser::new(open()?)?;
        Ok(KmlReader { _source: Some(source), parser, schema, columns, ordinal: 0, finished: false })
    }

    /// Reads KML held in memory (no KMZ); for tests and fuzzing.
    pub fn from_bytes(bytes: &[u8], options: &PathReaderOptions) -> Result<KmlReader, FormatError> {
        let open = || -> Box<dyn std::io::BufRead + Send> { Box::new(std::io::Cursor::new(bytes.to_vec())) };
        let (schema, columns) = scan(Parser::new(open())?, options)?;
        let parser = Parser::new(open())?;
        Ok(KmlReader { _source: None, parser, schema, columns, ordinal: 0, finished: false })
    }

    fn read_record(&mut self) -> Result<Option<Record>, FormatError> {
        loop {
            let Some(item) = self.parser.next_item()? else { return Ok(None) };
            let Item::Placemark(placemark) = item else { continue };
            self.ordinal += 1;
            let mut cells: Vec<Option<String>> = vec![None; self.schema.properties.len()];
            let id = placemark.id.filter(|id| !id.is_empty()).unwrap_or_else(|| self.ordinal.to_string());
            cells[0] = Some(id);
            cells[1] = placemark.name;
            cells[2] = placemark.description;
            for (name, value) in placemark.data {
                if let Some(&index) = self.columns.get(&name) {
                    cells[index] = Some(value);
                }
            }
            let geometry_index = cells.len() - 1;
            let mut problem = placemark.problem;
            match placemark.geometry {
                Some(geometry) => cells[geometry_index] = Some(geometry.to_wkt()),
                None if problem.is_none() && !names::is_deletion(&self.schema, &cells) => {
                    problem =
                        Some("the Placemark has no geometry (Point, LineString, Polygon or MultiGeometry)".to_owned())
                }
                None => {}
            }
            return Ok(Some(Record { line: placemark.line, cells, problem }));
        }
    }
}

impl RecordReader for KmlReader {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn next_record(&mut self) -> Option<Result<Record, FormatError>> {
        crate::next_until_done(self)
    }
}

impl crate::RecordSource for KmlReader {
    fn read_record(&mut self) -> Result<Option<Record>, FormatError> {
        self.read_record()
    }

    fn finished(&mut self) -> &mut bool {
        &mut self.finished
    }
}

/// The first pass: columns, their types, and the file limits.
fn scan(mut parser: Parser, options: &PathReaderOptions) -> Result<(Schema, HashMap<String, usize>), FormatError> {
    // Raw field name → declared type (None: undeclared or conflicting).
    let mut fields: Vec<(String, Option<EdmType>, bool)> = Vec::new();
    let mut index_of: HashMap<String, usize> = HashMap::new();
    let mut polygons = 0u64;
    let mut ordinal = 0u64;
    while let Some(item) = parser.next_item()? {
        match item {
            Item::Schema(declared) => {
                for (name, type_name) in declared {
                    let edm_type = simple_field_type(&type_name);
                    match index_of.get(&name) {
                        Some(&index) => {
                            let field = &mut fields[index];
                            if field.2 && field.1 != Some(edm_type) {
                                field.1 = Some(EdmType::String);
                            } else if !field.2 {
                                *field = (name, Some(edm_type), true);
                            }
                        }
                        None => {
                            index_of.insert(name.clone(), fields.len());
                            fields.push((name, Some(edm_type), true));
                        }
                    }
                }
            }
            Item::Placemark(placemark) => {
                ordinal += 1;
                for (name, _) in placemark.data {
                    if !index_of.contains_key(&name) {
                        index_of.insert(name.clone(), fields.len());
                        fields.push((name, None, false));
                    }
                }
                if let Some(geometry) = &placemark.geometry {
                    let line = placemark.line;
                    geometry.check_limits(&options.limits, &mut polygons, &|| {
                        format!("Placemark {ordinal} (line {line})")
                    })?;
                }
            }
        }
    }
    let mut names = NameSet::new();
    for fixed in [names::KEY, "Name", "Description", names::GEOMETRY] {
        names.reserve(fixed);
    }
    let mut properties = vec![
        Property::new(names::KEY, EdmType::String),
        Property::new("Name", EdmType::String),
        Property::new("Description", EdmType::String),
    ];
    let mut columns = HashMap::new();
    for (raw, edm_type, _) in fields {
        columns.insert(raw.clone(), properties.len());
        properties.push(Property::new(names.unique(&raw), edm_type.unwrap_or(EdmType::String)));
    }
    properties.push(Property::new(names::GEOMETRY, EdmType::Geography));
    let schema = Schema::new(names::entity_type_name(&options.entity_type_hint), properties, names::KEY)?;
    Ok((schema, columns))
}

fn simple_field_type(name: &str) -> EdmType {
    match name.trim().to_ascii_lowercase().as_str() {
        "int" | "uint" | "short" | "ushort" => EdmType::Int64,
        "float" | "double" => EdmType::Double,
        "bool" | "boolean" => EdmType::Boolean,
        _ => EdmType::String,
    }
}

#[derive(Debug, Default)]
struct Placemark {
    line: u64,
    id: Option<String>,
    name: Option<String>,
    description: Option<String>,
    data: Vec<(String, String)>,
    geometry: Option<Geom>,
    problem: Option<String>,
}

enum Item {
    Placemark(Placemark),
    /// `(name, type)` of each SimpleField.
    Schema(Vec<(String, String)>),
}

/// An owned, simplified parser event.
enum Ev {
    Start { name: String, attributes: Vec<(String, String)>, empty: bool },
    End,
    Text(String),
    Eof,
}

struct Parser {
    xml: NsReader<Tracked>,
    buf: Vec<u8>,
    /// Names of the open elements.
    open: Vec<String>,
    root_seen: bool,
}

impl Parser {
    fn new(input: Box<dyn std::io::BufRead + Send>) -> Result<Parser, FormatError> {
        let mut xml = NsReader::from_reader(Tracked::new(input));
        xml.config_mut().trim_text(false);
        Ok(Parser { xml, buf: Vec::new(), open: Vec::new(), root_seen: false })
    }

    fn line(&self) -> u64 {
        self.xml.get_ref().line()
    }

    fn event(&mut self) -> Result<Ev, FormatError> {
        loop {
            let line = self.line();
            let event = read_event(&mut self.xml, &mut self.buf)?;
            let ev = match event {
                Event::Start(element) => start(&element, line, false)?,
                Event::Empty(element) => start(&element, line, true)?,
                Event::End(_) => {
                    self.open.pop();
                    return Ok(Ev::End);
                }
                Event::Text(text) => {
                    if self.open.is_empty() {
                        if !is_blank(&text) {
                            return Err(at_line(line, "text outside the root element"));
                        }
                        continue;
                    }
                    Ev::Text(text.xml10_content().map_err(|_| not_utf8(line))?.into_owned())
                }
                Event::CData(data) => Ev::Text(data.xml10_content().map_err(|_| not_utf8(line))?.into_owned()),
                Event::GeneralRef(reference) => {
                    let reference = reference.decode().map_err(|_| not_utf8(line))?;
                    match resolve_reference(&reference) {
                        Some(character) => Ev::Text(character.to_string()),
                        None => Ev::Text(format!("&{reference};")),
                    }
                }
                Event::Eof => {
                    if let Some(name) = self.open.last() {
                        return Err(at_line(
                            line,
                            format!("the document ends before element <{name}> is closed (unclosed tag)"),
                        ));
                    }
                    if !self.root_seen {
                        return Err(at_line(line, "the document has no root element: expected <kml>"));
                    }
                    return Ok(Ev::Eof);
                }
                _ => continue,
            };
            if let Ev::Start { name, empty, .. } = &ev {
                if self.open.is_empty() {
                    if self.root_seen {
                        return Err(at_line(line, format!("a second root element <{name}> after the <kml> element")));
                    }
                    self.root_seen = true;
                    if name != "kml" {
                        return Err(at_line(
                            line,
                            format!("this is not a KML document: the root element is <{name}>, expected <kml>"),
                        ));
                    }
                }
                if !empty {
                    if self.open.len() >= MAX_DEPTH {
                        return Err(at_line(line, format!("elements are nested more than {MAX_DEPTH} deep")));
                    }
                    self.open.push(name.clone());
                }
            }
            return Ok(ev);
        }
    }

    /// The next Placemark or Schema anywhere in the document.
    fn next_item(&mut self) -> Result<Option<Item>, FormatError> {
        loop {
            match self.event()? {
                Ev::Eof => return Ok(None),
                Ev::Start { name, attributes, empty } => match name.as_str() {
                    "Placemark" => {
                        let line = self.line();
                        let mut placemark =
                            Placemark { line, id: attribute(&attributes, "id"), ..Placemark::default() };
                        if !empty {
                            self.placemark(&mut placemark)?;
                        }
                        return Ok(Some(Item::Placemark(placemark)));
                    }
                    "Schema" if !empty => return Ok(Some(Item::Schema(self.schema()?))),
                    _ => {}
                },
                Ev::End | Ev::Text(_) => {}
            }
        }
    }

    fn schema(&mut self) -> Result<Vec<(String, String)>, FormatError> {
        let mut fields = Vec::new();
        loop {
            match self.event()? {
                Ev::Start { name, attributes, empty } => {
                    if name == "SimpleField" {
                        if let Some(field) = attribute(&attributes, "name").filter(|field| !field.is_empty()) {
                            fields.push((field, attribute(&attributes, "type").unwrap_or_default()));
                        }
                    }
                    if !empty {
                        self.skip()?;
                    }
                }
                Ev::End | Ev::Eof => return Ok(fields),
                Ev::Text(_) => {}
            }
        }
    }

    fn placemark(&mut self, placemark: &mut Placemark) -> Result<(), FormatError> {
        loop {
            match self.event()? {
                Ev::Start { name, empty: true, .. } => {
                    if GEOMETRIES.contains(&name.as_str()) && placemark.problem.is_none() {
                        placemark.problem = Some(format!("the Placemark's {name} is empty"));
                    }
                }
                Ev::Start { name, .. } => match name.as_str() {
                    "name" => placemark.name = Some(self.text()?),
                    "description" => placemark.description = Some(self.text()?),
                    "ExtendedData" => self.extended_data(placemark)?,
                    geometry if GEOMETRIES.contains(&geometry) => {
                        let parsed = self.geometry(geometry, 0, &mut placemark.problem)?;
                        if placemark.geometry.is_none() {
                            placemark.geometry = parsed;
                        }
                    }
                    _ => self.skip()?,
                },
                Ev::End | Ev::Eof => return Ok(()),
                Ev::Text(_) => {}
            }
        }
    }

    fn extended_data(&mut self, placemark: &mut Placemark) -> Result<(), FormatError> {
        loop {
            match self.event()? {
                Ev::Start { name, attributes, empty } => {
                    let field = attribute(&attributes, "name").filter(|field| !field.is_empty());
                    match (name.as_str(), empty) {
                        ("Data", false) => {
                            let value = self.data_value()?;
                            if let (Some(field), Some(value)) = (field, value) {
                                placemark.data.push((field, value));
                            }
                        }
                        ("SimpleData", false) => {
                            let value = self.text()?;
                            if let Some(field) = field {
                                placemark.data.push((field, value));
                            }
                        }
                        ("SchemaData", false) => {}
                        (_, false) => self.skip()?,
                        (_, true) => {}
                    }
                }
                Ev::End => {
                    // The end of a SchemaData goes back to ExtendedData's level.
                    if self.open.last().is_some_and(|open| open == "ExtendedData") {
                        continue;
                    }
                    return Ok(());
                }
                Ev::Eof => return Ok(()),
                Ev::Text(_) => {}
            }
        }
    }

    /// Inside `<Data>`: the text of its `<value>`.
    fn data_value(&mut self) -> Result<Option<String>, FormatError> {
        let mut value = None;
        loop {
            match self.event()? {
                Ev::Start { name, empty: false, .. } if name == "value" => value = Some(self.text()?),
                Ev::Start { empty: false, .. } => self.skip()?,
                Ev::End | Ev::Eof => return Ok(value),
                _ => {}
            }
        }
    }

    /// All text inside the current element (nested elements' text too),
    /// up to its end tag.
    fn text(&mut self) -> Result<String, FormatError> {
        let mut text = String::new();
        let mut depth = 0usize;
        loop {
            match self.event()? {
                Ev::Text(part) => {
                    if text.len() + part.len() > MAX_RECORD_BYTES {
                        return Err(at_line(self.line(), format!("a text is longer than {MAX_RECORD_BYTES} bytes")));
                    }
                    text.push_str(&part);
                }
                Ev::Start { empty: false, .. } => depth += 1,
                Ev::Start { .. } => {}
                Ev::End if depth > 0 => depth -= 1,
                Ev::End | Ev::Eof => return Ok(text),
            }
        }
    }

    /// Skips to the end of the current element.
    fn skip(&mut self) -> Result<(), FormatError> {
        let target = self.open.len().saturating_sub(1);
        loop {
            match self.event()? {
                Ev::End if self.open.len() <= target => return Ok(()),
                Ev::Eof => return Ok(()),
                _ => {}
            }
        }
    }

    /// Parses the geometry element `name` (just opened); problems with it
    /// go to `problem` (the first one is kept).
    fn geometry(
        &mut self,
        name: &str,
        multi_depth: usize,
        problem: &mut Option<String>,
    ) -> Result<Option<Geom>, FormatError> {
        match name {
            "Point" | "LineString" | "LinearRing" => {
                let Some(coordinates) = self.coordinates_child()? else {
                    note(problem, format!("a {name} has no coordinates"));
                    return Ok(None);
                };
                let coords = match parse_coordinates(&coordinates) {
                    Ok(coords) => coords,
                    Err(message) => {
                        note(problem, format!("{name}: {message}"));
                        return Ok(None);
                    }
                };
                match (name, coords.len()) {
                    ("Point", 0) => {
                        note(problem, "a Point has no coordinates".into());
                        Ok(None)
                    }
                    ("Point", _) => Ok(Some(Geom::Point(coords[0]))),
                    (_, 0 | 1) => {
                        note(problem, format!("a {name} needs at least 2 points"));
                        Ok(None)
                    }
                    _ => Ok(Some(Geom::Line(coords))),
                }
            }
            "Polygon" => {
                let mut outer: Option<Ring> = None;
                let mut holes: Vec<Ring> = Vec::new();
                let mut failed = false;
                loop {
                    match self.event()? {
                        Ev::Start { name: boundary, empty: false, .. }
                            if boundary == "outerBoundaryIs" || boundary == "innerBoundaryIs" =>
                        {
                            for text in self.ring_coordinates()? {
                                match parse_coordinates(&text) {
                                    Ok(mut ring) => {
                                        close_ring(&mut ring);
                                        if boundary == "outerBoundaryIs" && outer.is_none() {
                                            outer = Some(ring);
                                        } else {
                                            holes.push(ring);
                                        }
                                    }
                                    Err(message) => {
                                        failed = true;
                                        note(problem, format!("Polygon: {message}"));
                                    }
                                }
                            }
                        }
                        Ev::Start { empty: false, .. } => self.skip()?,
                        Ev::End | Ev::Eof => break,
                        _ => {}
                    }
                }
                match outer {
                    _ if failed => Ok(None),
                    Some(outer) => {
                        let mut rings = vec![outer];
                        rings.extend(holes);
                        Ok(Some(Geom::Polygon(rings)))
                    }
                    None => {
                        note(problem, "a Polygon has no outerBoundaryIs".into());
                        Ok(None)
                    }
                }
            }
            "MultiGeometry" => {
                let mut members = Vec::new();
                let mut failed = false;
                loop {
                    match self.event()? {
                        Ev::Start { name: child, empty: false, .. } if GEOMETRIES.contains(&child.as_str()) => {
                            if child == "MultiGeometry" && multi_depth >= MAX_MULTI_DEPTH {
                                note(
                                    problem,
                                    format!("MultiGeometry elements are nested more than {MAX_MULTI_DEPTH} deep"),
                                );
                                failed = true;
                                self.skip()?;
                                continue;
                            }
                            match self.geometry(&child, multi_depth + 1, problem)? {
                                Some(member) => members.push(member),
                                None => failed = true,
                            }
                        }
                        Ev::Start { empty: false, .. } => self.skip()?,
                        Ev::End | Ev::Eof => break,
                        _ => {}
                    }
                }
                if failed {
                    return Ok(None);
                }
                if members.is_empty() {
                    if problem.is_none() {
                        *problem = Some("a MultiGeometry has no geometry".into());
                    }
                    return Ok(None);
                }
                Ok(Some(Geom::collection(members)))
            }
            other => {
                self.skip()?;
                note(problem, format!("the geometry type {other} is not supported"));
                Ok(None)
            }
        }
    }

    /// The text of a `coordinates` child of the current element.
    fn coordinates_child(&mut self) -> Result<Option<String>, FormatError> {
        let mut found = None;
        loop {
            match self.event()? {
                Ev::Start { name, empty: false, .. } if name == "coordinates" => {
                    let text = self.text()?;
                    found.get_or_insert(text);
                }
                Ev::Start { empty: false, .. } => self.skip()?,
                Ev::End | Ev::Eof => return Ok(found),
                _ => {}
            }
        }
    }

    /// Inside outer/innerBoundaryIs: the coordinates of each LinearRing.
    fn ring_coordinates(&mut self) -> Result<Vec<String>, FormatError> {
        let mut rings = Vec::new();
        loop {
            match self.event()? {
                Ev::Start { name, empty: false, .. } if name == "LinearRing" => {
                    if let Some(text) = self.coordinates_child()? {
                        rings.push(text);
                    }
                }
                Ev::Start { empty: false, .. } => self.skip()?,
                Ev::End | Ev::Eof => return Ok(rings),
                _ => {}
            }
        }
    }
}

fn start(element: &BytesStart, line: u64, empty: bool) -> Result<Ev, FormatError> {
    let name = std::str::from_utf8(element.local_name().as_ref()).map_err(|_| not_utf8(line))?.to_owned();
    let mut attributes = Vec::new();
    for attribute in element.attributes() {
        let attribute = attribute.map_err(|error| at_line(line, format!("malformed XML: {error}")))?;
        let key = attribute.key.local_name();
        let key = std::str::from_utf8(key.as_ref()).map_err(|_| not_utf8(line))?;
        if matches!(key, "id" | "name" | "type") {
            let value = attribute.unescape_value().map_err(|error| at_line(line, format!("malformed XML: {error}")))?;
            attributes.push((key.to_owned(), value.into_owned()));
        }
    }
    Ok(Ev::Start { name, attributes, empty })
}

fn note(problem: &mut Option<String>, message: String) {
    if problem.is_none() {
        *problem = Some(message);
    }
}

fn attribute(attributes: &[(String, String)], key: &str) -> Option<String> {
    attributes.iter().find(|(name, _)| name == key).map(|(_, value)| value.trim().to_owned())
}

/// `lon,lat[,alt]` tuples separated by blanks; blanks around commas are
/// tolerated (`-122.1, 47.6`).
fn parse_coordinates(text: &str) -> Result<Vec<Coord>, String> {
    let mut tuples: Vec<String> = Vec::new();
    for token in text.split_whitespace() {
        match tuples.last_mut() {
            Some(last) if last.ends_with(',') || token.starts_with(',') => last.push_str(token),
            _ => tuples.push(token.to_owned()),
        }
    }
    let mut coords = Vec::with_capacity(tuples.len());
    for tuple in &tuples {
        let mut parts = tuple.split(',');
        let mut number = || -> Option<f64> { parts.next()?.parse::<f64>().ok().filter(|value| value.is_finite()) };
        match (number(), number()) {
            (Some(longitude), Some(latitude)) => coords.push([longitude, latitude]),
            _ => {
                return Err(format!(
                    "'{}' is not a coordinate: expected longitude,latitude[,altitude]",
                    sds_core::value::excerpt(tuple)
                ))
            }
        }
    }
    Ok(coords)
}

#[cfg(test)]
mod tests;
