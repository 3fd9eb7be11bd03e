//! Writing a download from the version's query table rather than the
//! store: no entity is decoded or allocated, and the rows are formatted in
//! chunks on two threads (this one and a helper), whose texts are written
//! in row order. The table's rows are in entity-ID order, the order the
//! store streams a version in, and hold the same values, so the bytes are
//! the same as a download from the store.

use std::collections::BTreeMap;
use std::io;
use std::ops::Range;
use std::sync::{mpsc, Mutex, PoisonError};

use sds_core::ValueRef;
use sds_formats::{EntityRow, RowFormat};
use sds_query::Table;

/// Rows per chunk at most: large enough that handing a chunk over costs
/// nothing beside formatting it, small enough that the two threads finish
/// together.
const CHUNK_ROWS: usize = 2048;

/// A chunk is cut once its rows' estimated text reaches this (rows of
/// long texts make chunks of fewer rows, so that the buffers stay small
/// whatever a table holds: at 2048 rows a chunk of rows of 20 kB of
/// text each was 40 MB, and six such buffers stayed allocated).
const CHUNK_BYTES: usize = 512 << 10;

/// A row's estimated text beside its strings, per column: a tag or key,
/// a number.
const COLUMN_BYTES: usize = 24;

/// Chunk buffers: chunks formatted or being formatted, and not yet written.
const BUFFERS: usize = 6;

/// A chunk buffer's first capacity, twice a chunk's estimated text, so
/// that buffers seldom grow (each growth copies, and faults in fresh
/// pages). One that grew past twice this (texts that expand when escaped)
/// is let go once written.
const CHUNK_CAPACITY: usize = 2 * CHUNK_BYTES;

/// One row of a table, as the writers read an entity.
struct TableRow<'a> {
    table: &'a Table,
    row: u32,
}

impl EntityRow for TableRow<'_> {
    fn id(&self) -> &str {
        self.table.id(self.row)
    }

    fn latitude(&self) -> f64 {
        self.table.latitude(self.row)
    }

    fn longitude(&self) -> f64 {
        self.table.longitude(self.row)
    }

    fn value(&self, index: usize) -> ValueRef<'_> {
        self.table.cell(index, self.row)
    }
}

/// Hands out a table's rows in chunks, in order: each of at most
/// [`CHUNK_ROWS`] rows and about [`CHUNK_BYTES`] of text, as the table's
/// text lengths say. The cuts are made as chunks are taken (by either
/// thread, under a lock held a few microseconds), so no pass over the
/// table comes before the first chunk.
struct Chunks<'a> {
    table: &'a Table,
    row_bytes: usize,
    /// The next chunk's first row, and its index.
    next: Mutex<(usize, usize)>,
}

impl<'a> Chunks<'a> {
    fn new(table: &'a Table) -> Chunks<'a> {
        let row_bytes = COLUMN_BYTES * (table.schema().properties.len() + 1);
        Chunks { table, row_bytes, next: Mutex::new((0, 0)) }
    }

    /// The next chunk's index and rows; `None` once every row is taken.
    fn take(&self) -> Option<(usize, Range<usize>)> {
        let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
        let (start, index) = *next;
        let rows = self.table.len();
        if start == rows {
            return None;
        }
        let (mut end, mut bytes) = (start, 0);
        while end < rows && end - start < CHUNK_ROWS && bytes < CHUNK_BYTES {
            bytes += self.row_bytes + self.table.text_bytes(end as u32);
            end += 1;
        }
        *next = (end, index + 1);
        Some((index, start..end))
    }

    /// How many chunks were taken so far (all of them once [`Self::take`]
    /// said `None`).
    fn taken(&self) -> usize {
        self.next.lock().unwrap_or_else(PoisonError::into_inner).1
    }
}

/// Formats every row of `table` with `format` and hands the text to
/// `write`, in row order, a chunk at a time (see [`Chunks`]), formatting
/// on this thread and a helper. Chunks go to whichever thread is free (not
/// every other one to each): this thread also writes, so with a fixed
/// split the helper sat idle while it wrote (GeoJSON of the cities: 46 ms
/// of formatting and writing for 60 ms of CPU, on two cores). At most
/// [`BUFFERS`] chunks are formatted and not yet written, whatever the
/// table's size. `check` runs before each step of this thread (a chunk
/// written, formatted or waited for); its error (a shutdown) or one from
/// `write` stops both threads and is returned.
pub(super) fn write_rows<F: RowFormat>(
    table: &Table,
    format: &F,
    check: &mut dyn FnMut() -> io::Result<()>,
    write: &mut dyn FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<()> {
    let chunks = Chunks::new(table);
    let format_chunk = |rows: Range<usize>, out: &mut Vec<u8>| {
        out.clear();
        for row in rows {
            format.format_row(out, &TableRow { table, row: row as u32 }, row == 0);
        }
    };
    // Free buffers: taken to format a chunk, given back once it is written;
    // a thread takes a chunk only once it holds a buffer, so every chunk
    // taken is formatted and sent. (Several receivers: crossbeam's
    // channel, as std's has one.)
    let (free_sender, free_receiver) = crossbeam_channel::unbounded::<Vec<u8>>();
    for _ in 0..BUFFERS {
        let _ = free_sender.send(Vec::new());
    }
    let (done_sender, done_receiver) = mpsc::channel::<(usize, Vec<u8>)>();
    std::thread::scope(|scope| {
        let (helper_free, chunks) = (free_receiver.clone(), &chunks);
        scope.spawn(move || loop {
            // Waits for a buffer; none comes once the writing stopped (the
            // senders are gone).
            let Ok(mut out) = helper_free.recv() else { return };
            let Some((index, rows)) = chunks.take() else { return };
            format_chunk(rows, &mut out);
            if done_sender.send((index, out)).is_err() {
                return;
            }
        });
        // Owned here, so that an early return drops them and the helper
        // stops before the scope waits for it.
        let (free_sender, done_receiver) = (free_sender, done_receiver);
        let mut formatted: BTreeMap<usize, Vec<u8>> = BTreeMap::new();
        let (mut written, mut all_taken, mut helper_gone) = (0, false, false);
        loop {
            check()?;
            while let Ok((index, text)) = done_receiver.try_recv() {
                formatted.insert(index, text);
            }
            if let Some(mut text) = formatted.remove(&written) {
                write(&text)?;
                written += 1;
                if text.capacity() > 2 * CHUNK_CAPACITY {
                    text = Vec::new();
                }
                let _ = free_sender.send(text);
                continue;
            }
            if all_taken && written == chunks.taken() {
                return Ok(());
            }
            // The next chunk to write is being formatted by the helper, or
            // not taken yet: format one here meanwhile, if a buffer is free.
            if let Some(mut out) = (!all_taken).then(|| free_receiver.try_recv().ok()).flatten() {
                match chunks.take() {
                    Some((index, rows)) => {
                        format_chunk(rows, &mut out);
                        formatted.insert(index, out);
                    }
                    None => {
                        all_taken = true;
                        let _ = free_sender.send(out);
                    }
                }
                continue;
            }
            if helper_gone {
                // Every chunk taken is formatted and sent before the helper
                // ends, so this is not reached; it stops a loop, should it be.
                return Err(io::Error::other("the download's formatting thread stopped"));
            }
            match done_receiver.recv() {
                Ok((index, text)) => drop(formatted.insert(index, text)),
                // The helper ended (every row taken, or it panicked): the
                // rest is formatted here.
                Err(_) => helper_gone = true,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sds_core::entity::{BuiltRecord, EntityBuilder};
    use sds_core::{EdmType, Property, Schema};
    use sds_formats::text::CsvWriter;
    use sds_query::TableBuilder;

    /// A table of many more chunks than buffers, so that chunks are
    /// formatted out of order by the two threads; names of `name_length`
    /// bytes at most.
    fn table(rows: usize) -> Table {
        table_with_names(rows, 40)
    }

    fn table_with_names(rows: usize, name_length: usize) -> Table {
        let properties = vec![
            Property::new("Id", EdmType::String),
            Property::new("Latitude", EdmType::Double),
            Property::new("Longitude", EdmType::Double),
            Property::new("Name", EdmType::String),
        ];
        let builder = EntityBuilder::for_complete(Schema::new("Place", properties, "Id").unwrap());
        let mut table = TableBuilder::new(builder.target_schema().clone(), rows);
        for row in 0..rows {
            let cells = [
                format!("p{row:07}"),
                format!("{}", (row % 170) as f64 * 0.5 - 80.0),
                format!("{}", (row % 350) as f64 * 0.25),
                "n".repeat(row % name_length),
            ];
            let cells: Vec<Option<&str>> = cells.iter().map(|cell| Some(cell.as_str())).collect();
            let BuiltRecord::Upsert(entity) = builder.build(&cells).unwrap() else { panic!("not an upsert") };
            table.push(entity);
        }
        table.finish()
    }

    #[test]
    fn chunks_formatted_on_two_threads_are_written_in_row_order() {
        let table = table(CHUNK_ROWS * (BUFFERS * 3) + 17);
        let format = CsvWriter::new(Vec::new(), "Places", table.schema()).unwrap().rows();
        let mut expected = Vec::new();
        for row in 0..table.len() {
            format.format_row(&mut expected, &TableRow { table: &table, row: row as u32 }, row == 0);
        }
        let (mut written, mut writes) = (Vec::new(), 0);
        write_rows(&table, &format, &mut || Ok(()), &mut |text| {
            writes += 1;
            written.extend_from_slice(text);
            Ok(())
        })
        .unwrap();
        assert_eq!(writes, table.len().div_ceil(CHUNK_ROWS));
        assert!(written == expected, "the rows were written out of order");
    }

    #[test]
    fn rows_of_long_texts_make_chunks_of_fewer_rows() {
        // Rows of up to 20 kB: 2048 of them would make a 20 MB chunk.
        let table = table_with_names(600, 20_000);
        let format = CsvWriter::new(Vec::new(), "Places", table.schema()).unwrap().rows();
        let mut expected = Vec::new();
        for row in 0..table.len() {
            format.format_row(&mut expected, &TableRow { table: &table, row: row as u32 }, row == 0);
        }
        let (mut written, mut largest) = (Vec::new(), 0);
        write_rows(&table, &format, &mut || Ok(()), &mut |text| {
            largest = largest.max(text.len());
            written.extend_from_slice(text);
            Ok(())
        })
        .unwrap();
        assert!(written == expected, "the rows were written out of order");
        // A chunk ends at the row that takes its text past the mark.
        assert!(largest <= CHUNK_BYTES + 20_100, "a chunk of {largest} bytes");
    }

    #[test]
    fn an_empty_table_writes_nothing() {
        let table = table(0);
        let format = CsvWriter::new(Vec::new(), "Places", table.schema()).unwrap().rows();
        let mut writes = 0;
        write_rows(&table, &format, &mut || Ok(()), &mut |_| {
            writes += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(writes, 0);
    }

    #[test]
    fn a_failed_write_or_a_stop_ends_both_threads_with_its_error() {
        let table = table(CHUNK_ROWS * (BUFFERS * 2));
        let format = CsvWriter::new(Vec::new(), "Places", table.schema()).unwrap().rows();
        let mut writes = 0;
        let failed = write_rows(&table, &format, &mut || Ok(()), &mut |_| {
            writes += 1;
            if writes == 3 {
                return Err(io::Error::other("disk full"));
            }
            Ok(())
        });
        assert_eq!(failed.unwrap_err().to_string(), "disk full");
        let mut checks = 0;
        let stopped = write_rows(
            &table,
            &format,
            &mut || {
                checks += 1;
                if checks == 2 {
                    return Err(io::Error::other("stopping"));
                }
                Ok(())
            },
            &mut |_| Ok(()),
        );
        assert_eq!(stopped.unwrap_err().to_string(), "stopping");
    }
}
