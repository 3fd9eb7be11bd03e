//! Shapefiles (`input=shp`): a zip holding `.shp`, `.shx` and `.dbf`
//! (and optionally `.prj` and `.cpg`), possibly in a folder.
//!
//! - The zip must hold exactly one `.shp` and its `.dbf` (same name, any
//!   case); the `.shx` index is not needed (the `.shp` is read in order)
//!   and is not required. Other entries are ignored.
//! - Columns: `EntityID` (key), one per DBF field (types: see `dbf`),
//!   `Geom` (Edm.Geography); Latitude/Longitude come from the centroid.
//! - Entity ID: the 1-based record number (the `.shp` record order, which
//!   is also the `.dbf` row order): `"1"`, `"2"`, ... Deleted `.dbf` rows
//!   are skipped, so their numbers are missing.
//! - Shapes: Point, MultiPoint, PolyLine (LINESTRING, or MULTILINESTRING
//!   for several parts), Polygon, and their Z and M forms (Z and M are
//!   dropped). Polygon rings: clockwise rings are outer rings and
//!   counter-clockwise ones holes, each hole going to the smallest outer
//!   ring that contains it (a hole inside none becomes a polygon of its
//!   own; a file whose rings all turn the other way has its rings read
//!   the other way round); one outer ring is a POLYGON, more a
//!   MULTIPOLYGON. Null shapes and MultiPatch fail as rows.
//! - The `.prj` is handled as `prj` describes (reprojected to WGS 84
//!   when possible, refused otherwise).
//! - A `.shp` shorter than its header says, a record cut short, or a
//!   `.dbf` whose row count differs from the number of shapes ends the
//!   document with an error; so do the per-file limits (polygons, points
//!   per polygon), checked as the records are read.

mod dbf;
mod prj;

#[cfg(test)]
pub(crate) mod tests;

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use sds_core::geography::MAX_GEOGRAPHY_POINTS;
use sds_core::{EdmType, Property, Schema};

use crate::archive::{self, Magic};
use crate::geometry::{close_ring, Coord, Geom, Ring};
use crate::names::{self, NameSet};
use crate::{FileLimits, FormatError, PathReaderOptions, Record, RecordReader, MAX_RECORD_BYTES};
use dbf::{Dbf, Row};
use prj::Reprojection;

const FILE_CODE: i32 = 9994;
/// Most outer-ring × hole containment tests for one record.
const MAX_RING_PAIRS: usize = 10_000_000;

/// A streaming reader of one shapefile.
pub struct ShapefileReader {
    _dir: Option<tempfile::TempDir>,
    shp: Box<dyn Read + Send>,
    /// Bytes of the `.shp` according to its header, and read so far.
    shp_length: u64,
    shp_read: u64,
    dbf: Dbf,
    reprojection: Option<Reprojection>,
    schema: Schema,
    limits: FileLimits,
    polygons: u64,
    shapes: u64,
    finished: bool,
}

fn shp_error(message: impl Into<String>) -> FormatError {
    FormatError::Document(format!("the .shp file is invalid: {}", message.into()))
}

impl ShapefileReader {
    /// Opens a zip holding a shapefile.
    pub fn open(path: &Path, options: &PathReaderOptions) -> Result<ShapefileReader, FormatError> {
        if archive::sniff(path)? != Magic::Zip {
            return Err(FormatError::Document(
                "a shapefile upload must be a zip archive holding the .shp, .shx and .dbf files".into(),
            ));
        }
        let wanted = |name: &str| {
            let lower = name.to_ascii_lowercase();
            [".shp", ".dbf", ".prj", ".cpg"].iter().any(|extension| lower.ends_with(extension))
                && !lower.starts_with("__macosx/")
        };
        let extracted = archive::extract_zip(path, options.max_uncompressed_bytes, &wanted)?;
        let stem = |name: &str| name[..name.len() - 4].to_ascii_lowercase();
        let entries = &extracted.entries;
        fn with<'a>(
            entries: &'a [(String, std::path::PathBuf)],
            extension: &'a str,
        ) -> impl Iterator<Item = &'a (String, std::path::PathBuf)> + 'a {
            entries.iter().filter(move |(name, _)| name.to_ascii_lowercase().ends_with(extension))
        }
        let shps: Vec<_> = with(entries, ".shp").collect();
        let (shp_name, shp_path) = match shps.as_slice() {
            [] => return Err(FormatError::Document("the zip archive holds no .shp file".into())),
            [one] => *one,
            several => {
                let names: Vec<&str> = several.iter().map(|(name, _)| name.as_str()).collect();
                return Err(FormatError::Document(format!(
                    "the zip archive holds more than one shapefile ({}): upload one per data source",
                    names.join(", ")
                )));
            }
        };
        let base = stem(shp_name);
        let sibling = |extension: &str| {
            with(entries, extension).find(|(name, _)| stem(name) == base).map(|(_, path)| path.clone())
        };
        let dbf_path = sibling(".dbf")
            .ok_or_else(|| FormatError::Document(format!("the zip archive holds no .dbf file for {shp_name}")))?;
        let read_text = |path: Option<std::path::PathBuf>| -> Result<Option<String>, FormatError> {
            match path {
                None => Ok(None),
                Some(path) => {
                    let bytes = std::fs::read(path)?;
                    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
                }
            }
        };
        let prj = read_text(sibling(".prj"))?;
        let cpg = read_text(sibling(".cpg"))?;
        let shp: Box<dyn Read + Send> = Box::new(BufReader::with_capacity(64 * 1024, File::open(shp_path)?));
        let dbf: Box<dyn Read + Send> = Box::new(BufReader::with_capacity(64 * 1024, File::open(dbf_path)?));
        let mut reader = ShapefileReader::from_readers(shp, dbf, prj.as_deref(), cpg.as_deref(), options)?;
        reader._dir = Some(extracted.dir);
        Ok(reader)
    }

    /// Reads a shapefile from its parts (for tests and fuzzing).
    pub fn from_readers(
        mut shp: Box<dyn Read + Send>,
        dbf: Box<dyn Read + Send>,
        prj: Option<&str>,
        cpg: Option<&str>,
        options: &PathReaderOptions,
    ) -> Result<ShapefileReader, FormatError> {
        let mut header = [0u8; 100];
        let mut filled = 0;
        while filled < header.len() {
            match shp.read(&mut header[filled..])? {
                0 => return Err(shp_error("it is shorter than its 100-byte header")),
                read => filled += read,
            }
        }
        let file_code = i32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        if file_code != FILE_CODE {
            return Err(shp_error(format!("its file code is {file_code}, not {FILE_CODE}")));
        }
        let words = i32::from_be_bytes([header[24], header[25], header[26], header[27]]);
        let shp_length = u64::try_from(words).map_err(|_| shp_error("its header gives a negative file length"))? * 2;
        let reprojection = prj::reprojection(prj.unwrap_or_default())?;
        let dbf = Dbf::new(dbf, cpg)?;

        let mut names = NameSet::new();
        names.reserve(names::KEY);
        names.reserve(names::GEOMETRY);
        let mut properties = vec![Property::new(names::KEY, EdmType::String)];
        for field in dbf.fields.iter() {
            if let Some(edm_type) = field.edm_type {
                properties.push(Property::new(names.unique(&field.name), edm_type));
            }
        }
        properties.push(Property::new(names::GEOMETRY, EdmType::Geography));
        let schema = Schema::new(names::entity_type_name(&options.entity_type_hint), properties, names::KEY)?;
        Ok(ShapefileReader {
            _dir: None,
            shp,
            shp_length,
            shp_read: 100,
            dbf,
            reprojection,
            schema,
            limits: options.limits,
            polygons: 0,
            shapes: 0,
            finished: false,
        })
    }

    fn read_record(&mut self) -> Result<Option<Record>, FormatError> {
        loop {
            let mut header = [0u8; 8];
            let filled = read_up_to(&mut self.shp, &mut header)?;
            if filled == 0 {
                if self.shp_read < self.shp_length {
                    return Err(shp_error(format!(
                        "it is truncated: its header says {} bytes, the file has {}",
                        self.shp_length, self.shp_read
                    )));
                }
                if self.dbf.remaining() > 0 {
                    return Err(FormatError::Document(format!(
                        "the .dbf holds {} rows but the .shp only {} shapes: the files do not belong together",
                        self.dbf.row_count, self.shapes
                    )));
                }
                return Ok(None);
            }
            let number = self.shapes + 1;
            if filled < header.len() {
                return Err(shp_error(format!("it is truncated in the header of record {number}")));
            }
            let words = i32::from_be_bytes([header[4], header[5], header[6], header[7]]);
            let length = usize::try_from(words)
                .ok()
                .map(|words| words * 2)
                .filter(|&length| (4..=MAX_RECORD_BYTES).contains(&length))
                .ok_or_else(|| shp_error(format!("record {number} has an invalid length ({words} words)")))?;
            let mut content = vec![0u8; length];
            if read_up_to(&mut self.shp, &mut content)? < length {
                return Err(shp_error(format!("it is truncated in record {number}")));
            }
            self.shp_read += 8 + length as u64;
            self.shapes += 1;
            let row = match self.dbf.next_row()? {
                Some(row) => row,
                None => {
                    return Err(FormatError::Document(format!(
                        "the .shp holds more shapes than the .dbf has rows ({}): the files do not belong together",
                        self.dbf.row_count
                    )))
                }
            };
            let (values, mut problem) = match row {
                Row::Deleted => continue,
                Row::Cells(values, problem) => (values, problem),
            };
            let mut cells = Vec::with_capacity(self.schema.properties.len());
            cells.push(Some(number.to_string()));
            cells.extend(values);
            let geometry = match parse_shape(&content) {
                Ok(Some(geometry)) => match self.reproject(geometry) {
                    Some(geometry) => Some(geometry),
                    None => {
                        problem.get_or_insert_with(|| "a coordinate cannot be converted to WGS 84".into());
                        None
                    }
                },
                Ok(None) => {
                    problem.get_or_insert_with(|| "the record has a null shape (no geometry)".into());
                    None
                }
                Err(message) => {
                    problem.get_or_insert(message);
                    None
                }
            };
            if let Some(geometry) = &geometry {
                geometry.check_limits(&self.limits, &mut self.polygons, &|| format!("record {number}"))?;
            }
            cells.push(geometry.map(|geometry| geometry.to_wkt()));
            return Ok(Some(Record { line: number, cells, problem }));
        }
    }

    fn reproject(&self, geometry: Geom) -> Option<Geom> {
        let Some(reprojection) = &self.reprojection else { return Some(geometry) };
        let convert_all = |coords: Vec<Coord>| -> Option<Vec<Coord>> {
            coords.into_iter().map(|coord| reprojection.convert(coord)).collect()
        };
        let rings = |rings: Vec<Ring>| -> Option<Vec<Ring>> { rings.into_iter().map(convert_all).collect() };
        Some(match geometry {
            Geom::Point(coord) => Geom::Point(reprojection.convert(coord)?),
            Geom::MultiPoint(points) => Geom::MultiPoint(convert_all(points)?),
            Geom::Line(line) => Geom::Line(convert_all(line)?),
            Geom::MultiLine(lines) => Geom::MultiLine(lines.into_iter().map(convert_all).collect::<Option<_>>()?),
            Geom::Polygon(polygon) => Geom::Polygon(rings(polygon)?),
            Geom::MultiPolygon(polygons) => Geom::MultiPolygon(polygons.into_iter().map(rings).collect::<Option<_>>()?),
            Geom::Collection(members) => {
                Geom::Collection(members.into_iter().map(|member| self.reproject(member)).collect::<Option<_>>()?)
            }
        })
    }
}

impl RecordReader for ShapefileReader {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn next_record(&mut self) -> Option<Result<Record, FormatError>> {
        crate::next_until_done(self)
    }
}

impl crate::RecordSource for ShapefileReader {
    fn read_record(&mut self) -> Result<Option<Record>, FormatError> {
        self.read_record()
    }

    fn finished(&mut self) -> &mut bool {
        &mut self.finished
    }
}

/// Reads until `buffer` is full or the input ends; returns how much was read.
fn read_up_to(input: &mut dyn Read, buffer: &mut [u8]) -> Result<usize, FormatError> {
    let mut filled = 0;
    while filled < buffer.len() {
        match input.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error.into()),
        }
    }
    Ok(filled)
}

fn le_i32(bytes: &[u8], at: usize) -> Option<i32> {
    bytes.get(at..at + 4).map(|slice| i32::from_le_bytes([slice[0], slice[1], slice[2], slice[3]]))
}

fn le_f64(bytes: &[u8], at: usize) -> Option<f64> {
    let slice = bytes.get(at..at + 8)?;
    let mut array = [0u8; 8];
    array.copy_from_slice(slice);
    Some(f64::from_le_bytes(array))
}

fn point_at(bytes: &[u8], at: usize) -> Option<Coord> {
    Some([le_f64(bytes, at)?, le_f64(bytes, at + 8)?])
}

/// One record's content; `Ok(None)` for a null shape, `Err` (a row
/// problem) for a malformed or unsupported one.
fn parse_shape(content: &[u8]) -> Result<Option<Geom>, String> {
    let malformed = |what: &str| format!("the shape is malformed: {what}");
    let shape_type = le_i32(content, 0).ok_or_else(|| malformed("no shape type"))?;
    match shape_type {
        0 => Ok(None),
        1 | 11 | 21 => Ok(Some(Geom::Point(point_at(content, 4).ok_or_else(|| malformed("the point is cut short"))?))),
        8 | 18 | 28 => {
            let count = le_i32(content, 36).ok_or_else(|| malformed("no point count"))?;
            let count = checked_count(count, content.len(), 40, 16).ok_or_else(|| malformed("bad point count"))?;
            let points = (0..count).filter_map(|index| point_at(content, 40 + 16 * index)).collect();
            Ok(Some(Geom::MultiPoint(points)))
        }
        3 | 13 | 23 | 5 | 15 | 25 => {
            let parts = le_i32(content, 36).ok_or_else(|| malformed("no part count"))?;
            let points = le_i32(content, 40).ok_or_else(|| malformed("no point count"))?;
            let parts = checked_count(parts, content.len(), 44, 4).ok_or_else(|| malformed("bad part count"))?;
            let points =
                checked_count(points, content.len(), 44 + 4 * parts, 16).ok_or_else(|| malformed("bad point count"))?;
            if points > MAX_GEOGRAPHY_POINTS {
                return Err(format!(
                    "the shape has {points} points; a geography may have at most {MAX_GEOGRAPHY_POINTS}"
                ));
            }
            if parts == 0 || points == 0 {
                return Err(malformed("the shape has no parts or no points"));
            }
            let mut starts = Vec::with_capacity(parts + 1);
            for index in 0..parts {
                let start = le_i32(content, 44 + 4 * index).and_then(|start| usize::try_from(start).ok());
                match start {
                    Some(start) if start < points && starts.last().is_none_or(|&last| start >= last) => {
                        starts.push(start)
                    }
                    _ => return Err(malformed("its part offsets are out of order or out of range")),
                }
            }
            starts.push(points);
            let base = 44 + 4 * parts;
            let coords: Vec<Coord> = (0..points)
                .map(|index| point_at(content, base + 16 * index))
                .collect::<Option<_>>()
                .ok_or_else(|| malformed("the points are cut short"))?;
            let mut part_list: Vec<Vec<Coord>> = starts
                .windows(2)
                .map(|pair| coords[pair[0]..pair[1]].to_vec())
                .filter(|part| !part.is_empty())
                .collect();
            if matches!(shape_type, 3 | 13 | 23) {
                if part_list.iter().any(|part| part.len() < 2) {
                    return Err(malformed("a line part has fewer than 2 points"));
                }
                return Ok(Some(if part_list.len() == 1 {
                    Geom::Line(part_list.pop().expect("one part"))
                } else {
                    Geom::MultiLine(part_list)
                }));
            }
            for ring in &mut part_list {
                close_ring(ring);
            }
            assemble_polygons(part_list).map(Some)
        }
        31 => Err("MultiPatch shapes are not supported".into()),
        other => Err(format!("shape type {other} is not supported")),
    }
}

/// A count read from the file, if the content can hold it.
fn checked_count(count: i32, content_length: usize, offset: usize, item_size: usize) -> Option<usize> {
    let count = usize::try_from(count).ok()?;
    let needed = count.checked_mul(item_size)?.checked_add(offset)?;
    (needed <= content_length).then_some(count)
}

/// Twice the signed area: positive for counter-clockwise rings.
fn signed_area(ring: &[Coord]) -> f64 {
    ring.windows(2).map(|pair| pair[0][0] * pair[1][1] - pair[1][0] * pair[0][1]).sum()
}

fn bounds(ring: &[Coord]) -> [f64; 4] {
    ring.iter().fold([f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY], |b, c| {
        [b[0].min(c[0]), b[1].min(c[1]), b[2].max(c[0]), b[3].max(c[1])]
    })
}

fn contains_point(ring: &[Coord], point: Coord) -> bool {
    let mut inside = false;
    for pair in ring.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if (a[1] > point[1]) != (b[1] > point[1]) {
            let x = a[0] + (point[1] - a[1]) / (b[1] - a[1]) * (b[0] - a[0]);
            if point[0] < x {
                inside = !inside;
            }
        }
    }
    inside
}

/// Groups shapefile rings into polygons (see the module doc).
fn assemble_polygons(rings: Vec<Ring>) -> Result<Geom, String> {
    let areas: Vec<f64> = rings.iter().map(|ring| signed_area(ring)).collect();
    let clockwise = areas.iter().filter(|&&area| area <= 0.0).count();
    // Outer rings are clockwise (area <= 0); a file with no clockwise ring
    // wound its rings the other way round.
    let is_outer = |area: f64| if clockwise == 0 { true } else { area <= 0.0 };
    let (mut outers, mut holes) = (Vec::new(), Vec::new());
    for (ring, area) in rings.into_iter().zip(areas) {
        if is_outer(area) {
            outers.push((bounds(&ring), area.abs(), vec![ring]));
        } else {
            holes.push(ring);
        }
    }
    if outers.len().saturating_mul(holes.len()) > MAX_RING_PAIRS {
        return Err(format!(
            "the polygon has {} outer rings and {} holes, too many to match",
            outers.len(),
            holes.len()
        ));
    }
    for hole in holes {
        let probe = hole[0];
        let hole_bounds = bounds(&hole);
        let container = outers
            .iter()
            .enumerate()
            .filter(|(_, (b, _, rings))| {
                b[0] <= hole_bounds[0]
                    && b[1] <= hole_bounds[1]
                    && b[2] >= hole_bounds[2]
                    && b[3] >= hole_bounds[3]
                    && contains_point(&rings[0], probe)
            })
            .min_by(|a, b| a.1 .1.total_cmp(&b.1 .1))
            .map(|(index, _)| index);
        match container {
            Some(index) => outers[index].2.push(hole),
            None => outers.push((hole_bounds, 0.0, vec![hole])),
        }
    }
    let mut polygons: Vec<Vec<Ring>> = outers.into_iter().map(|(_, _, rings)| rings).collect();
    Ok(if polygons.len() == 1 {
        Geom::Polygon(polygons.pop().expect("one polygon"))
    } else {
        Geom::MultiPolygon(polygons)
    })
}
