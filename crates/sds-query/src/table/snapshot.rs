//! A table's compact on-disk form, so a version's table is read back after
//! a restart instead of rebuilt from the store (issue 16, "fast cold
//! tables"). Versions are immutable, so a snapshot never goes stale.
//!
//! Layout (all integers little-endian):
//!
//! | bytes | what |
//! |---|---|
//! | 8 | magic `SDSTABLE` |
//! | 4 | format ([`FORMAT`]) |
//! | 8, 8 | data source id, version id |
//! | 8 | rows |
//! | 8 | payload length |
//! | 4 | CRC-32 (IEEE) of the payload |
//! | 4 + … | the schema: entity type name, key index, each property's name and type |
//! | payload | ids, latitudes, longitudes, each column, then the point grid, as whole arrays |
//!
//! A reader checks every header field against what the caller expects (the
//! store's data source, version, row count and schema), the payload's
//! length and checksum, and every offset against the text it points into,
//! so a torn, truncated or corrupted file, or one of another version or
//! data source, is refused ([`SnapshotError`]) and never answers: the
//! payload is decoded as it is read, but the table is returned only once
//! the whole payload's checksum matched. The point grid is stored as built,
//! so reading needs no counting sort; the parsed geographies and their
//! R-tree are rebuilt from the WKT column.

use std::io::{self, Read, Seek, SeekFrom, Write};

use sds_core::{DataSourceId, EdmType, Schema, Timestamp, VersionId};

use super::text::{Ends, TextColumn};
use super::{Column, NullBits, Nullable, Table, TableBuilder};
use crate::grid::PointGrid;

const MAGIC: &[u8; 8] = b"SDSTABLE";
/// Bumped whenever the layout changes: older snapshots are then refused and rebuilt.
pub const FORMAT: u32 = 1;
/// Magic, format, ids, rows, payload length, checksum.
const FIXED_HEADER: usize = 8 + 4 + 8 + 8 + 8 + 8 + 4;

/// Why a snapshot was refused.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("not a table snapshot (bad magic)")]
    Magic,
    #[error("snapshot format {found}, expected {FORMAT}")]
    Format { found: u32 },
    #[error("the snapshot is of data source {found_source} version {found_version}, not {expected_source} version {expected_version}")]
    OtherVersion { found_source: i64, found_version: i64, expected_source: i64, expected_version: i64 },
    #[error("the snapshot holds {found} rows, the version {expected}")]
    Rows { found: u64, expected: u64 },
    #[error("the snapshot's schema is not the version's")]
    Schema,
    #[error("the snapshot is truncated: {found} payload bytes of {expected}")]
    Truncated { found: u64, expected: u64 },
    #[error("the snapshot's checksum does not match its payload")]
    Checksum,
    #[error("the snapshot's payload is malformed: {0}")]
    Malformed(&'static str),
    #[error("cannot read the snapshot: {0}")]
    Io(#[from] io::Error),
}

/// Writes a table's snapshot: the header with its checksum is written
/// last (seeking back), so `out` must be a fresh file or buffer.
pub fn write(
    table: &Table,
    data_source: DataSourceId,
    version: VersionId,
    out: &mut (impl Write + Seek),
) -> io::Result<()> {
    let mut schema = Vec::new();
    put_str(&mut schema, &table.schema.entity_type_name);
    put_u64(&mut schema, table.schema.key_index as u64);
    put_u64(&mut schema, table.schema.properties.len() as u64);
    for property in &table.schema.properties {
        put_str(&mut schema, &property.name);
        schema.push(type_tag(property.edm_type));
    }
    let start = out.stream_position()?;
    out.write_all(&[0; FIXED_HEADER])?;
    out.write_all(&(schema.len() as u32).to_le_bytes())?;
    out.write_all(&schema)?;
    let mut payload = Hashing { out: &mut *out, hasher: crc32fast::Hasher::new(), written: 0 };
    write_text(&mut payload, &table.ids)?;
    write_f64s(&mut payload, &table.latitudes)?;
    write_f64s(&mut payload, &table.longitudes)?;
    for column in &table.columns {
        write_column(&mut payload, column)?;
    }
    write_grid(&mut payload, &table.points)?;
    let (written, checksum) = (payload.written, payload.hasher.finalize());
    let mut header = Vec::with_capacity(FIXED_HEADER);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&FORMAT.to_le_bytes());
    header.extend_from_slice(&data_source.0.to_le_bytes());
    header.extend_from_slice(&version.0.to_le_bytes());
    header.extend_from_slice(&(table.len() as u64).to_le_bytes());
    header.extend_from_slice(&written.to_le_bytes());
    header.extend_from_slice(&checksum.to_le_bytes());
    let end = out.stream_position()?;
    out.seek(SeekFrom::Start(start))?;
    out.write_all(&header)?;
    out.seek(SeekFrom::Start(end))?;
    out.flush()
}

/// Reads a snapshot back into a table, when it is the snapshot of this
/// data source's version with this many rows and this schema; see the
/// module docs for what is checked. `length` is the snapshot's size in
/// bytes (the file's). The payload is decoded as it streams
/// in (no copy of the whole file is held), and the table is returned only
/// once the checksum of the whole payload matched.
pub fn read(
    source: impl Read,
    length: u64,
    data_source: DataSourceId,
    version: VersionId,
    rows: u64,
    schema: Schema,
) -> Result<Table, SnapshotError> {
    let mut header = Reader::new(source);
    let truncated = |error| match error {
        SnapshotError::Truncated { .. } => SnapshotError::Truncated { found: 0, expected: FIXED_HEADER as u64 },
        other => other,
    };
    if header.take(8).map_err(truncated)? != MAGIC {
        return Err(SnapshotError::Magic);
    }
    let format = header.u32().map_err(truncated)?;
    if format != FORMAT {
        return Err(SnapshotError::Format { found: format });
    }
    let (found_source, found_version) = (header.i64().map_err(truncated)?, header.i64().map_err(truncated)?);
    if (found_source, found_version) != (data_source.0, version.0) {
        return Err(SnapshotError::OtherVersion {
            found_source,
            found_version,
            expected_source: data_source.0,
            expected_version: version.0,
        });
    }
    let found_rows = header.u64().map_err(truncated)?;
    if found_rows != rows {
        return Err(SnapshotError::Rows { found: found_rows, expected: rows });
    }
    let payload_length = header.u64().map_err(truncated)?;
    let checksum = header.u32().map_err(truncated)?;
    let schema_length = header.u32().map_err(truncated)? as usize;
    if schema_length > 1 << 24 {
        return Err(SnapshotError::Schema);
    }
    let stored_schema = header.take(schema_length).map_err(|_| SnapshotError::Schema)?;
    if !schema_matches(&stored_schema, &schema) {
        return Err(SnapshotError::Schema);
    }
    // The header is outside the checksum: its lengths must add up to the file's.
    let header_length = (FIXED_HEADER + 4 + schema_length) as u64;
    if header_length.checked_add(payload_length) != Some(length) {
        return Err(SnapshotError::Truncated { found: length.saturating_sub(header_length), expected: payload_length });
    }
    let mut payload = header.payload(payload_length);
    let decoded = decode(&mut payload, schema, rows as usize);
    // Whatever the decoder made of the bytes, the checksum has the last word.
    payload.drain()?;
    if payload.hasher.clone().finalize() != checksum {
        return Err(SnapshotError::Checksum);
    }
    decoded
}

fn decode<R: Read>(reader: &mut Reader<R>, schema: Schema, rows: usize) -> Result<Table, SnapshotError> {
    let ids = read_text(reader, rows)?;
    let latitudes = reader.f64s(rows)?;
    let longitudes = reader.f64s(rows)?;
    let columns = schema
        .properties
        .iter()
        .map(|property| read_column(reader, property.edm_type, rows))
        .collect::<Result<Vec<Column>, SnapshotError>>()?;
    let grid = read_grid(reader, rows)?;
    if reader.remaining != 0 {
        return Err(SnapshotError::Malformed("bytes after the grid"));
    }
    let geography_index = schema.geography_index();
    let geometries = match geography_index.map(|index| &columns[index]) {
        Some(Column::Geography(cells)) => cells.iter().map(|cell| cell.and_then(super::parse_geometry)).collect(),
        _ => Vec::new(),
    };
    Ok(TableBuilder { schema, ids, latitudes, longitudes, columns, geometries, geography_index }
        .finish_with(Some(grid)))
}

fn type_tag(edm_type: EdmType) -> u8 {
    match edm_type {
        EdmType::String => 1,
        EdmType::Int64 => 2,
        EdmType::Boolean => 3,
        EdmType::Double => 4,
        EdmType::DateTime => 5,
        EdmType::Geography => 6,
    }
}

fn schema_matches(stored: &[u8], schema: &Schema) -> bool {
    let mut expected = Vec::new();
    put_str(&mut expected, &schema.entity_type_name);
    put_u64(&mut expected, schema.key_index as u64);
    put_u64(&mut expected, schema.properties.len() as u64);
    for property in &schema.properties {
        put_str(&mut expected, &property.name);
        expected.push(type_tag(property.edm_type));
    }
    stored == expected
}

fn put_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, text: &str) {
    put_u64(out, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

/// Counts and checksums what passes through.
struct Hashing<'a, W: Write> {
    out: &'a mut W,
    hasher: crc32fast::Hasher,
    written: u64,
}

impl<W: Write> Write for Hashing<'_, W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let count = self.out.write(bytes)?;
        self.hasher.update(&bytes[..count]);
        self.written += count as u64;
        Ok(count)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Writes fixed-size values as one little-endian array, a buffer at a time.
fn write_array<T: Copy, const N: usize>(
    out: &mut impl Write,
    values: &[T],
    bytes: impl Fn(T) -> [u8; N],
) -> io::Result<()> {
    let mut buffer = Vec::with_capacity(64 * 1024);
    for chunk in values.chunks(64 * 1024 / N) {
        buffer.clear();
        for &value in chunk {
            buffer.extend_from_slice(&bytes(value));
        }
        out.write_all(&buffer)?;
    }
    Ok(())
}

fn write_f64s(out: &mut impl Write, values: &[f64]) -> io::Result<()> {
    write_array(out, values, f64::to_le_bytes)
}

fn write_text(out: &mut impl Write, column: &TextColumn) -> io::Result<()> {
    match &column.ends {
        Ends::Narrow(ends) => {
            out.write_all(&[4])?;
            write_array(out, ends, u32::to_le_bytes)?;
        }
        Ends::Wide(ends) => {
            out.write_all(&[8])?;
            write_array(out, ends, u64::to_le_bytes)?;
        }
    }
    out.write_all(&(column.text.len() as u64).to_le_bytes())?;
    out.write_all(column.text.as_bytes())?;
    write_nulls(out, &column.nulls)
}

fn write_nulls(out: &mut impl Write, nulls: &NullBits) -> io::Result<()> {
    out.write_all(&(nulls.words.len() as u64).to_le_bytes())?;
    write_array(out, &nulls.words, u64::to_le_bytes)
}

/// Nullable fixed-size values: the values (a placeholder in null rows),
/// then the null bitmap.
fn write_nullable<T: Copy, const N: usize>(
    out: &mut impl Write,
    cells: &Nullable<T>,
    bytes: impl Fn(T) -> [u8; N],
) -> io::Result<()> {
    write_array(out, &cells.values, bytes)?;
    write_nulls(out, &cells.nulls)
}

fn write_column(out: &mut impl Write, column: &Column) -> io::Result<()> {
    match column {
        Column::String(cells) | Column::Geography(cells) => write_text(out, cells),
        Column::Int64(cells) => write_nullable(out, cells, i64::to_le_bytes),
        Column::Double(cells) => write_nullable(out, cells, f64::to_le_bytes),
        Column::Boolean(cells) => write_nullable(out, cells, |flag: bool| [u8::from(flag)]),
        Column::DateTime(cells) => write_nullable(out, cells, |time: Timestamp| {
            let mut bytes = [0; 12];
            bytes[..8].copy_from_slice(&time.seconds.to_le_bytes());
            bytes[8..].copy_from_slice(&time.nanos.to_le_bytes());
            bytes
        }),
    }
}

/// The point grid as built (so reading it back needs no counting sort).
fn write_grid(out: &mut impl Write, grid: &PointGrid) -> io::Result<()> {
    for number in [grid.min_lon, grid.min_lat, grid.cell_width, grid.cell_height] {
        out.write_all(&number.to_le_bytes())?;
    }
    for count in [grid.columns, grid.lines, grid.rows.len()] {
        out.write_all(&(count as u64).to_le_bytes())?;
    }
    write_array(out, &grid.offsets, u32::to_le_bytes)?;
    write_f64s(out, &grid.longitudes)?;
    write_f64s(out, &grid.latitudes)?;
    write_array(out, &grid.rows, u32::to_le_bytes)
}

/// A grid over a table of `rows` rows, checked so that no lookup can fail.
fn read_grid<R: Read>(reader: &mut Reader<R>, rows: usize) -> Result<PointGrid, SnapshotError> {
    let malformed = SnapshotError::Malformed("a grid that does not fit its table");
    let [min_lon, min_lat, cell_width, cell_height] =
        [reader.fixed()?, reader.fixed()?, reader.fixed()?, reader.fixed()?].map(f64::from_le_bytes);
    let mut count = || usize::try_from(reader.u64()?).map_err(|_| SHORT);
    let (columns, lines, points) = (count()?, count()?, count()?);
    let cells = columns.checked_mul(lines).filter(|&cells| (1..=1 << 32).contains(&cells)).ok_or(SHORT)?;
    if points > rows || ![cell_width, cell_height].iter().all(|side| side.is_finite() && *side > 0.0) {
        return Err(malformed);
    }
    let offsets = reader.array(cells + 1, u32::from_le_bytes)?;
    let longitudes = reader.f64s(points)?;
    let latitudes = reader.f64s(points)?;
    let grid_rows = reader.array(points, u32::from_le_bytes)?;
    let offsets_fit =
        offsets[0] == 0 && offsets.windows(2).all(|pair| pair[0] <= pair[1]) && offsets[cells] as usize == points;
    if !offsets_fit || grid_rows.iter().any(|&row| row as usize >= rows) {
        return Err(malformed);
    }
    Ok(PointGrid {
        min_lon,
        min_lat,
        cell_width,
        cell_height,
        columns,
        lines,
        offsets,
        longitudes,
        latitudes,
        rows: grid_rows,
    })
}

/// Reads exact byte counts; in the payload, counts what is left and
/// checksums what passes.
struct Reader<R: Read> {
    source: R,
    hasher: crc32fast::Hasher,
    /// Payload bytes not read yet (`u64::MAX` while in the header).
    remaining: u64,
    /// Read so far, for the error of a short file.
    consumed: u64,
    /// The payload length the header gives.
    expected: u64,
    /// Reused for arrays, so each is read without a fresh allocation.
    scratch: Vec<u8>,
}

const SHORT: SnapshotError = SnapshotError::Malformed("an array runs past the end");

impl<R: Read> Reader<R> {
    fn new(source: R) -> Reader<R> {
        Reader {
            source,
            hasher: crc32fast::Hasher::new(),
            remaining: u64::MAX,
            consumed: 0,
            expected: 0,
            scratch: Vec::new(),
        }
    }

    /// From here on the bytes are the payload: counted and checksummed.
    fn payload(mut self, length: u64) -> Reader<R> {
        self.remaining = length;
        self.consumed = 0;
        self.expected = length;
        self
    }

    fn fill(&mut self, buffer: &mut [u8]) -> Result<(), SnapshotError> {
        if buffer.len() as u64 > self.remaining {
            return Err(SHORT);
        }
        self.source.read_exact(buffer).map_err(|error| match error.kind() {
            io::ErrorKind::UnexpectedEof => SnapshotError::Truncated { found: self.consumed, expected: self.expected },
            _ => SnapshotError::Io(error),
        })?;
        if self.remaining != u64::MAX {
            self.hasher.update(buffer);
            self.remaining -= buffer.len() as u64;
            self.consumed += buffer.len() as u64;
        }
        Ok(())
    }

    fn take(&mut self, count: usize) -> Result<Vec<u8>, SnapshotError> {
        if count as u64 > self.remaining {
            return Err(SHORT);
        }
        let mut bytes = vec![0; count];
        self.fill(&mut bytes)?;
        Ok(bytes)
    }

    /// Reads what is left of the payload into the checksum, then makes sure
    /// the file ends there.
    fn drain(&mut self) -> Result<(), SnapshotError> {
        let mut buffer = vec![0; 1 << 16];
        while self.remaining > 0 {
            let count = self.remaining.min(buffer.len() as u64) as usize;
            self.fill(&mut buffer[..count])?;
        }
        match self.source.read(&mut buffer[..1]) {
            Ok(0) => Ok(()),
            Ok(_) => Err(SnapshotError::Truncated { found: self.consumed + 1, expected: self.expected }),
            Err(error) => Err(SnapshotError::Io(error)),
        }
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], SnapshotError> {
        let mut bytes = [0; N];
        self.fill(&mut bytes)?;
        Ok(bytes)
    }

    fn u32(&mut self) -> Result<u32, SnapshotError> {
        self.fixed().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Result<u64, SnapshotError> {
        self.fixed().map(u64::from_le_bytes)
    }

    fn i64(&mut self) -> Result<i64, SnapshotError> {
        self.fixed().map(i64::from_le_bytes)
    }

    fn array<T, const N: usize>(
        &mut self,
        count: usize,
        value: impl Fn([u8; N]) -> T,
    ) -> Result<Vec<T>, SnapshotError> {
        let length = count.checked_mul(N).ok_or(SHORT)?;
        if length as u64 > self.remaining {
            return Err(SHORT);
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.resize(length, 0);
        let filled = self.fill(&mut scratch);
        let values = scratch.chunks_exact(N).map(|chunk| value(chunk.try_into().expect("chunks of N bytes"))).collect();
        self.scratch = scratch;
        filled.map(|()| values)
    }

    fn f64s(&mut self, count: usize) -> Result<Vec<f64>, SnapshotError> {
        self.array(count, f64::from_le_bytes)
    }

    fn nulls(&mut self, rows: usize) -> Result<NullBits, SnapshotError> {
        let words = usize::try_from(self.u64()?).map_err(|_| SHORT)?;
        if words > rows.div_ceil(64) {
            return Err(SnapshotError::Malformed("more null bits than rows"));
        }
        Ok(NullBits { words: self.array(words, u64::from_le_bytes)? })
    }

    fn nullable<T, const N: usize>(
        &mut self,
        rows: usize,
        value: impl Fn([u8; N]) -> T,
    ) -> Result<Nullable<T>, SnapshotError> {
        let values = self.array(rows, value)?;
        Ok(Nullable { values, nulls: self.nulls(rows)? })
    }
}

fn read_text<R: Read>(reader: &mut Reader<R>, rows: usize) -> Result<TextColumn, SnapshotError> {
    let ends = match reader.take(1)?[0] {
        4 => Ends::Narrow(reader.array(rows, u32::from_le_bytes)?),
        8 => Ends::Wide(reader.array(rows, u64::from_le_bytes)?),
        _ => return Err(SnapshotError::Malformed("an unknown offset width")),
    };
    let length = usize::try_from(reader.u64()?).map_err(|_| SHORT)?;
    let text =
        String::from_utf8(reader.take(length)?).map_err(|_| SnapshotError::Malformed("text that is not UTF-8"))?;
    // Every cell must be a slice of the text on character boundaries, in order.
    let in_order = |ends: &mut dyn Iterator<Item = usize>| {
        let mut previous = 0;
        for end in ends {
            if end < previous || end > length || !text.is_char_boundary(end) {
                return false;
            }
            previous = end;
        }
        previous == length
    };
    let valid = match &ends {
        Ends::Narrow(ends) => in_order(&mut ends.iter().map(|&end| end as usize)),
        Ends::Wide(ends) => in_order(&mut ends.iter().map(|&end| usize::try_from(end).unwrap_or(usize::MAX))),
    };
    if !valid {
        return Err(SnapshotError::Malformed("a cell outside its column's text"));
    }
    let nulls = reader.nulls(rows)?;
    Ok(TextColumn { text, ends, nulls })
}

fn read_column<R: Read>(reader: &mut Reader<R>, edm_type: EdmType, rows: usize) -> Result<Column, SnapshotError> {
    Ok(match edm_type {
        EdmType::String => Column::String(read_text(reader, rows)?),
        EdmType::Geography => Column::Geography(read_text(reader, rows)?),
        EdmType::Int64 => Column::Int64(reader.nullable(rows, i64::from_le_bytes)?),
        EdmType::Double => Column::Double(reader.nullable(rows, f64::from_le_bytes)?),
        EdmType::Boolean => Column::Boolean(reader.nullable(rows, |[flag]: [u8; 1]| flag != 0)?),
        EdmType::DateTime => Column::DateTime(reader.nullable(rows, |bytes: [u8; 12]| Timestamp {
            seconds: i64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")),
            nanos: u32::from_le_bytes(bytes[8..].try_into().expect("4 bytes")),
        })?),
    })
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use sds_core::{Entity, Property, Value};

    use super::*;

    fn schema() -> Schema {
        Schema::new(
            "Places",
            vec![
                Property::new("Id", EdmType::String),
                Property::new("Name", EdmType::String),
                Property::new("Rank", EdmType::Int64),
                Property::new("Score", EdmType::Double),
                Property::new("Open", EdmType::Boolean),
                Property::new("Opened", EdmType::DateTime),
                Property::new("Geom", EdmType::Geography),
            ],
            "Id",
        )
        .unwrap()
    }

    /// Every type, a null in every nullable column now and then, non-ASCII text.
    fn table(rows: usize) -> Table {
        let mut builder = TableBuilder::new(schema(), rows);
        for row in 0..rows {
            let id = format!("{row:05}");
            let null = row % 7 == 3;
            let pick = |value: Value| if null { Value::Null } else { value };
            let (latitude, longitude) = (row as f64 / 100.0 - 40.0, row as f64 / 50.0 - 90.0);
            builder.push(Entity {
                id: id.clone(),
                latitude,
                longitude,
                bounds: None,
                values: vec![
                    Value::String(id),
                    Value::String(format!("Café {}", row % 13)),
                    pick(Value::Int64(row as i64 * 3 - 50)),
                    pick(Value::Double(row as f64 / 8.0)),
                    pick(Value::Boolean(row % 2 == 0)),
                    pick(Value::DateTime(Timestamp { seconds: 1_000_000 + row as i64, nanos: row as u32 })),
                    if row % 5 == 0 { Value::Geography(format!("POINT({longitude} {latitude})")) } else { Value::Null },
                ],
            });
        }
        builder.finish()
    }

    fn snapshot(table: &Table, data_source: i64, version: i64) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        write(table, DataSourceId(data_source), VersionId(version), &mut out).unwrap();
        out.into_inner()
    }

    fn read_as(bytes: &[u8], data_source: i64, version: i64, rows: u64) -> Result<Table, SnapshotError> {
        read(bytes, bytes.len() as u64, DataSourceId(data_source), VersionId(version), rows, schema())
    }

    #[test]
    fn a_table_reads_back_cell_for_cell() {
        let original = table(500);
        let copy = read_as(&snapshot(&original, 4, 9), 4, 9, 500).unwrap();
        assert_eq!(copy.len(), 500);
        for row in 0..500u32 {
            assert_eq!(copy.id(row), original.id(row));
            assert_eq!((copy.latitude(row), copy.longitude(row)), (original.latitude(row), original.longitude(row)));
            for column in 0..original.schema().properties.len() {
                assert_eq!(copy.cell(column, row), original.cell(column, row), "row {row} column {column}");
            }
            assert_eq!(copy.geometry(row), original.geometry(row));
        }
        // The same arrays (capacities may differ by a few spare slots).
        assert!(copy.heap_bytes().abs_diff(original.heap_bytes()) < original.heap_bytes() / 100);
        let area = crate::spatial::sphere::LonLatBox { min_lon: -90.0, min_lat: -40.0, max_lon: -85.0, max_lat: -37.0 };
        let (mut found, mut expected) = (Vec::new(), Vec::new());
        copy.points_in(&area, &mut |row| found.push(row));
        original.points_in(&area, &mut |row| expected.push(row));
        assert!(!expected.is_empty());
        assert_eq!(found, expected);
        assert_eq!(copy.shapes_meeting_any(&[area]), original.shapes_meeting_any(&[area]));
    }

    #[test]
    fn wide_offsets_read_back() {
        let mut original = table(40);
        original.ids.widen();
        if let Column::String(cells) = &mut original.columns[1] {
            cells.widen();
        }
        let copy = read_as(&snapshot(&original, 4, 9), 4, 9, 40).unwrap();
        assert!(matches!(copy.ids.ends, Ends::Wide(_)));
        for row in 0..40u32 {
            assert_eq!(copy.id(row), original.id(row));
            assert_eq!(copy.cell(1, row), original.cell(1, row));
        }
    }

    #[test]
    fn a_snapshot_answers_only_for_its_own_data_source_and_version() {
        let bytes = snapshot(&table(50), 4, 9);
        assert!(matches!(read_as(&bytes, 5, 9, 50), Err(SnapshotError::OtherVersion { .. })));
        assert!(matches!(read_as(&bytes, 4, 10, 50), Err(SnapshotError::OtherVersion { .. })));
        assert!(matches!(read_as(&bytes, 4, 9, 51), Err(SnapshotError::Rows { found: 50, expected: 51 })));
        let mut renamed = schema();
        renamed.properties[2].name = "Position".into();
        assert!(matches!(
            read(&bytes[..], bytes.len() as u64, DataSourceId(4), VersionId(9), 50, renamed),
            Err(SnapshotError::Schema)
        ));
    }

    #[test]
    fn a_torn_or_corrupted_snapshot_is_refused() {
        let bytes = snapshot(&table(300), 4, 9);
        for cut in [0, 7, FIXED_HEADER - 1, FIXED_HEADER + 10, bytes.len() / 2, bytes.len() - 1] {
            assert!(read_as(&bytes[..cut], 4, 9, 300).is_err(), "cut at {cut}");
        }
        // Every byte of the payload is under the checksum.
        for at in [bytes.len() / 3, bytes.len() / 2, bytes.len() - 1] {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x20;
            assert!(matches!(read_as(&flipped, 4, 9, 300), Err(SnapshotError::Checksum)), "flipped byte {at}");
        }
        let mut zeroed = bytes.clone();
        zeroed[FIXED_HEADER - 4..FIXED_HEADER].fill(0);
        assert!(matches!(read_as(&zeroed, 4, 9, 300), Err(SnapshotError::Checksum)));
        let mut longer = bytes;
        longer.push(0);
        assert!(matches!(read_as(&longer, 4, 9, 300), Err(SnapshotError::Truncated { .. })));
    }
}
