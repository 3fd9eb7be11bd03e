//! The GeoJSON download writer.

use std::io::{self, Write};

use sds_core::{Entity, Geography, NumberText, Schema, ValueRef};

use crate::{EntityRow, RowFormat};

/// Streams entities into a GeoJSON FeatureCollection. Give it a buffered
/// writer.
pub struct GeoJsonWriter<W: Write> {
    out: W,
    first: bool,
    rows: GeoJsonRows,
    /// One feature's text, before it goes to `out`.
    scratch: Vec<u8>,
}

/// The features of a GeoJSON download (see [`crate::RowFormat`]).
#[derive(Clone)]
pub struct GeoJsonRows {
    schema: Schema,
    /// `"Name":` for each property, in schema order.
    keys: Vec<Vec<u8>>,
    /// The schema's geography property, found once (finding it compares
    /// every property's name with the delete marker's).
    geography_index: Option<usize>,
}

impl<W: Write> GeoJsonWriter<W> {
    /// Writes the collection's opening, with the data source's name as
    /// `name` (a common foreign member GIS tools show as the layer name).
    pub fn new(mut out: W, data_source_name: &str, schema: &Schema) -> io::Result<Self> {
        out.write_all(b"{\"type\":\"FeatureCollection\",\"name\":")?;
        serde_json::to_writer(&mut out, data_source_name)?;
        out.write_all(b",\"features\":[")?;
        let keys = schema
            .properties
            .iter()
            .map(|property| {
                let mut key = serde_json::to_vec(&property.name)?;
                key.push(b':');
                Ok(key)
            })
            .collect::<io::Result<_>>()?;
        let rows = GeoJsonRows { schema: schema.clone(), keys, geography_index: schema.geography_index() };
        Ok(GeoJsonWriter { out, first: true, rows, scratch: Vec::new() })
    }

    /// How this document's features are formatted, for formatting them
    /// apart (then written with [`GeoJsonWriter::write_formatted`]).
    pub fn rows(&self) -> GeoJsonRows {
        self.rows.clone()
    }

    /// Writes features formatted by [`GeoJsonWriter::rows`], as they are
    /// (the first of them formatted as the document's first when no
    /// feature was written yet).
    pub fn write_formatted(&mut self, text: &[u8]) -> io::Result<()> {
        self.first &= text.is_empty();
        self.out.write_all(text)
    }

    /// Writes one feature (on its own line).
    pub fn write_entity(&mut self, entity: &Entity) -> io::Result<()> {
        crate::check_value_count(entity, self.rows.schema.properties.len())?;
        self.scratch.clear();
        self.rows.format_row(&mut self.scratch, entity, self.first);
        self.first = false;
        self.out.write_all(&self.scratch)
    }

    /// Closes the collection and hands back the (flushed) writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(b"\n]}\n")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

impl RowFormat for GeoJsonRows {
    fn format_row(&self, out: &mut Vec<u8>, row: &impl EntityRow, first: bool) {
        out.extend_from_slice(if first { b"\n" } else { b",\n" });
        out.extend_from_slice(b"{\"type\":\"Feature\",\"id\":");
        write_str(out, row.id());
        out.extend_from_slice(b",\"geometry\":");
        let geography_index = self.geography_index;
        let geometry = geography_index
            .and_then(|index| match row.value(index) {
                ValueRef::String(text) | ValueRef::Geography(text) => Some(text),
                _ => None,
            })
            .and_then(|text| Geography::parse(text).ok());
        let mut numbers = NumberText::default();
        // The point's coordinates as written (their bits and where their
        // text is in `out`): the Latitude and Longitude properties hold the
        // same numbers, whose text is then copied rather than made again
        // (doubles are the costliest values to write).
        let mut coordinates: [Option<(u64, std::ops::Range<usize>)>; 2] = [None, None];
        match geometry {
            Some(geography) => {
                // Writing to a `Vec` cannot fail.
                let _ = write_geometry(out, &geography.geometry);
            }
            None => {
                out.extend_from_slice(b"{\"type\":\"Point\",\"coordinates\":[");
                for (slot, number) in coordinates.iter_mut().zip([row.longitude(), row.latitude()]) {
                    if out.last() != Some(&b'[') {
                        out.push(b',');
                    }
                    let start = out.len();
                    // Never stored (coordinates are checked at load); spelled as before.
                    if !number.is_finite() {
                        out.extend_from_slice(number.to_string().as_bytes());
                        continue;
                    }
                    out.extend_from_slice(numbers.double(number).as_bytes());
                    *slot = Some((number.to_bits(), start..out.len()));
                }
                out.extend_from_slice(b"]}");
            }
        }
        out.extend_from_slice(b",\"properties\":{");
        let mut first = true;
        for (index, (property, key)) in self.schema.properties.iter().zip(&self.keys).enumerate() {
            if Some(index) == geography_index {
                continue;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(key);
            // Edm.String is never null; a version loaded before that rule
            // may hold nulls, which are the empty string.
            match row.value(index) {
                ValueRef::Null if property.edm_type == sds_core::EdmType::String => out.extend_from_slice(b"\"\""),
                ValueRef::Double(number) if number.is_finite() => {
                    match coordinates.iter().flatten().find(|(bits, _)| *bits == number.to_bits()) {
                        Some((_, text)) => out.extend_from_within(text.clone()),
                        None => write_value(out, &mut numbers, ValueRef::Double(number)),
                    }
                }
                value => write_value(out, &mut numbers, value),
            }
        }
        out.extend_from_slice(b"}}");
    }
}

/// A JSON string, as `serde_json` writes it (only `"`, `\\` and control
/// characters escaped); most texts need no escape and are copied.
fn write_str(out: &mut Vec<u8>, text: &str) {
    // One pass without early exits, which the compiler runs on whole vectors.
    let special = |byte: u8| byte < 0x20 || byte == b'"' || byte == b'\\';
    if !text.bytes().fold(false, |found, byte| found | special(byte)) {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    } else {
        // Writing to a `Vec` cannot fail.
        let _ = serde_json::to_writer(out, text);
    }
}

fn write_value(out: &mut Vec<u8>, numbers: &mut NumberText, value: ValueRef<'_>) {
    match value {
        ValueRef::Null => out.extend_from_slice(b"null"),
        ValueRef::String(text) | ValueRef::Geography(text) => write_str(out, text),
        ValueRef::Int64(number) => out.extend_from_slice(numbers.int(number).as_bytes()),
        ValueRef::Boolean(flag) => out.extend_from_slice(if flag { b"true" } else { b"false" }),
        // The same text as `f64`'s `Display` for finite numbers.
        ValueRef::Double(number) if number.is_finite() => out.extend_from_slice(numbers.double(number).as_bytes()),
        // `NaN`, `INF` or `-INF` as a string (none needs an escape).
        ValueRef::Double(number) => {
            out.push(b'"');
            out.extend_from_slice(numbers.double(number).as_bytes());
            out.push(b'"');
        }
        // The ISO 8601 text as a string (it needs no escape).
        ValueRef::DateTime(timestamp) => {
            out.push(b'"');
            crate::xml_dataset::write_timestamp(out, timestamp);
            out.push(b'"');
        }
    }
}

/// `[x,y]`, each as `f64`'s `Display` spells it (see [`NumberText`]).
fn write_position(out: &mut dyn Write, coord: geo::Coord<f64>) -> io::Result<()> {
    let mut numbers = NumberText::default();
    out.write_all(b"[")?;
    write_coordinate(out, &mut numbers, coord.x)?;
    out.write_all(b",")?;
    write_coordinate(out, &mut numbers, coord.y)?;
    out.write_all(b"]")
}

fn write_coordinate(out: &mut dyn Write, numbers: &mut NumberText, number: f64) -> io::Result<()> {
    if number.is_finite() {
        out.write_all(numbers.double(number).as_bytes())
    } else {
        // Never stored (coordinates are checked at load); spelled as before.
        write!(out, "{number}")
    }
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

/// Writes a geometry as a GeoJSON geometry object (RFC 7946 §3.1), with
/// positions as `[longitude, latitude]`. Used by the download writer and by
/// `sds query --format geojson`.
pub fn write_geometry(out: &mut dyn Write, geometry: &geo::Geometry<f64>) -> io::Result<()> {
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
