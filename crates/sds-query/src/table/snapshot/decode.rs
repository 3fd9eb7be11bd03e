//! Reading a snapshot: a reader of exact byte counts that checksums the
//! payload as it passes, and the decoders of each part, which check every
//! length and offset so that no lookup in the table can fail.

use std::io::{self, Read};

use sds_core::{EdmType, Schema, Timestamp};

use super::super::text::{Ends, TextColumn};
use super::super::{Column, NullBits, Nullable, Table, TableBuilder};
use super::SnapshotError;
use crate::grid::PointGrid;

pub(super) fn decode<R: Read>(reader: &mut Reader<R>, schema: Schema, rows: usize) -> Result<Table, SnapshotError> {
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
        Some(Column::Geography(cells)) => {
            cells.iter().map(|cell| cell.and_then(super::super::parse_geometry)).collect()
        }
        _ => Vec::new(),
    };
    Ok(TableBuilder { schema, ids, latitudes, longitudes, columns, geometries, geography_index }
        .finish_with(Some(grid)))
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
pub(super) struct Reader<R: Read> {
    source: R,
    pub(super) hasher: crc32fast::Hasher,
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
    pub(super) fn new(source: R) -> Reader<R> {
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
    pub(super) fn payload(mut self, length: u64) -> Reader<R> {
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

    pub(super) fn take(&mut self, count: usize) -> Result<Vec<u8>, SnapshotError> {
        if count as u64 > self.remaining {
            return Err(SHORT);
        }
        let mut bytes = vec![0; count];
        self.fill(&mut bytes)?;
        Ok(bytes)
    }

    /// Reads what is left of the payload into the checksum, then makes sure
    /// the file ends there.
    pub(super) fn drain(&mut self) -> Result<(), SnapshotError> {
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

    pub(super) fn u32(&mut self) -> Result<u32, SnapshotError> {
        self.fixed().map(u32::from_le_bytes)
    }

    pub(super) fn u64(&mut self) -> Result<u64, SnapshotError> {
        self.fixed().map(u64::from_le_bytes)
    }

    pub(super) fn i64(&mut self) -> Result<i64, SnapshotError> {
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
