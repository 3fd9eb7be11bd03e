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

use self::decode::{decode, Reader};
use super::text::{Ends, TextColumn};
use super::{Column, NullBits, Nullable, Table};
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

mod decode;
#[cfg(test)]
mod tests;
