//! The GeoJSON download writer.

use std::io::{self, Write};

use sds_core::{Entity, Geography, NumberText, Schema, Value};

/// Streams entities into a GeoJSON FeatureCollection. Give it a buffered
/// writer.
pub struct GeoJsonWriter<W: Write> {
    out: W,
    schema: Schema,
    first: bool,
    /// `"Name":` for each property, in schema order.
    keys: Vec<Vec<u8>>,
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
        Ok(GeoJsonWriter { out, schema: schema.clone(), first: true, keys })
    }

    /// Writes one feature (on its own line).
    pub fn write_entity(&mut self, entity: &Entity) -> io::Result<()> {
        crate::check_value_count(entity, self.schema.properties.len())?;
        let out = &mut self.out;
        out.write_all(if self.first { b"\n" } else { b",\n" })?;
        self.first = false;
        out.write_all(b"{\"type\":\"Feature\",\"id\":")?;
        write_str(out, &entity.id)?;
        out.write_all(b",\"geometry\":")?;
        let geography_index = self.schema.geography_index();
        let geometry = geography_index
            .and_then(|index| entity.values[index].as_str())
            .and_then(|text| Geography::parse(text).ok());
        match geometry {
            Some(geography) => write_geometry(out, &geography.geometry)?,
            None => {
                out.write_all(b"{\"type\":\"Point\",\"coordinates\":")?;
                write_position(out, geo::Coord { x: entity.longitude, y: entity.latitude })?;
                out.write_all(b"}")?;
            }
        }
        out.write_all(b",\"properties\":{")?;
        let mut first = true;
        for (index, ((property, value), key)) in
            self.schema.properties.iter().zip(&entity.values).zip(&self.keys).enumerate()
        {
            if Some(index) == geography_index {
                continue;
            }
            if !first {
                out.write_all(b",")?;
            }
            first = false;
            out.write_all(key)?;
            // Edm.String is never null; a version loaded before that rule
            // may hold nulls, which are the empty string.
            match value {
                Value::Null if property.edm_type == sds_core::EdmType::String => out.write_all(b"\"\"")?,
                _ => write_value(out, value)?,
            }
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

/// A JSON string, as `serde_json` writes it (only `"`, `\\` and control
/// characters escaped); most texts need no escape and are copied.
fn write_str(out: &mut impl Write, text: &str) -> io::Result<()> {
    if text.bytes().all(|byte| byte >= 0x20 && byte != b'"' && byte != b'\\') {
        out.write_all(b"\"")?;
        out.write_all(text.as_bytes())?;
        out.write_all(b"\"")
    } else {
        Ok(serde_json::to_writer(out, text)?)
    }
}

fn write_value(out: &mut impl Write, value: &Value) -> io::Result<()> {
    match value {
        Value::Null => out.write_all(b"null"),
        Value::String(text) | Value::Geography(text) => write_str(out, text),
        Value::Int64(number) => out.write_all(NumberText::default().int(*number).as_bytes()),
        Value::Boolean(flag) => write!(out, "{flag}"),
        // The same text as `f64`'s `Display` for finite numbers.
        Value::Double(number) if number.is_finite() => out.write_all(NumberText::default().double(*number).as_bytes()),
        Value::Double(_) => Ok(serde_json::to_writer(out, &value.to_string())?),
        Value::DateTime(timestamp) => Ok(serde_json::to_writer(out, &timestamp.to_iso8601())?),
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
