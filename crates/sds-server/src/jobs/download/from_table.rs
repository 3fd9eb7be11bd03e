//! Writing a download from the version's query table rather than the
//! store: no entity is decoded or allocated, and the rows are formatted in
//! chunks on two threads (this one and a helper), whose texts are written
//! in row order. The table's rows are in entity-ID order, the order the
//! store streams a version in, and hold the same values, so the bytes are
//! the same as a download from the store.

use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use sds_core::ValueRef;
use sds_formats::{EntityRow, RowFormat};
use sds_query::Table;

/// Rows formatted per chunk: large enough that handing a chunk over costs
/// nothing beside formatting it (a few hundred kilobytes of text), small
/// enough that the two threads finish together and memory stays small.
const CHUNK_ROWS: usize = 2048;

/// Chunk buffers: chunks formatted or being formatted, and not yet written.
const BUFFERS: usize = 6;

/// A chunk buffer's first capacity: a chunk's text in every format for
/// rows of a few hundred bytes, so that buffers seldom grow (each growth
/// copies, and faults in fresh pages).
const CHUNK_CAPACITY: usize = 1 << 20;

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

/// Formats every row of `table` with `format` and hands the text to
/// `write`, in row order, a chunk at a time, formatting on this thread and
/// a helper. Chunks are handed out in order to whichever thread is free
/// (not every other one to each): this thread also writes, so with a fixed
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
    let rows = table.len();
    let chunks = rows.div_ceil(CHUNK_ROWS);
    let format_chunk = |chunk: usize, out: &mut Vec<u8>| {
        out.clear();
        let end = ((chunk + 1) * CHUNK_ROWS).min(rows);
        for row in chunk * CHUNK_ROWS..end {
            format.format_row(out, &TableRow { table, row: row as u32 }, row == 0);
        }
    };
    // The next chunk to format; a thread takes one only once it holds a
    // buffer, so every chunk taken is formatted and sent.
    let next = AtomicUsize::new(0);
    let take = || Some(next.fetch_add(1, Ordering::Relaxed)).filter(|chunk| *chunk < chunks);
    // Free buffers: taken to format a chunk, given back once it is written.
    // (Several receivers: crossbeam's channel, as std's has one.)
    let (free_sender, free_receiver) = crossbeam_channel::unbounded::<Vec<u8>>();
    for _ in 0..BUFFERS.min(chunks) {
        let _ = free_sender.send(Vec::with_capacity(CHUNK_CAPACITY));
    }
    let (done_sender, done_receiver) = mpsc::channel::<(usize, Vec<u8>)>();
    std::thread::scope(|scope| {
        let helper_free = free_receiver.clone();
        scope.spawn(move || loop {
            // Waits for a buffer; none comes once this thread's work is done
            // or the writing stopped (the senders are gone).
            let Ok(mut out) = helper_free.recv() else { return };
            let Some(chunk) = take() else { return };
            format_chunk(chunk, &mut out);
            if done_sender.send((chunk, out)).is_err() {
                return;
            }
        });
        // Owned here, so that an early return drops them and the helper
        // stops before the scope waits for it.
        let (free_sender, done_receiver) = (free_sender, done_receiver);
        let mut formatted: BTreeMap<usize, Vec<u8>> = BTreeMap::new();
        let (mut written, mut all_taken) = (0, false);
        while written < chunks {
            check()?;
            while let Ok((chunk, text)) = done_receiver.try_recv() {
                formatted.insert(chunk, text);
            }
            if let Some(text) = formatted.remove(&written) {
                write(&text)?;
                written += 1;
                let _ = free_sender.send(text);
                continue;
            }
            // The next chunk to write is being formatted by the helper:
            // format one here meanwhile, if a buffer is free.
            if let Some(mut out) = (!all_taken).then(|| free_receiver.try_recv().ok()).flatten() {
                match take() {
                    Some(chunk) => {
                        format_chunk(chunk, &mut out);
                        formatted.insert(chunk, out);
                    }
                    None => all_taken = true,
                }
                continue;
            }
            let (chunk, text) =
                done_receiver.recv().map_err(|_| io::Error::other("the download's formatting thread stopped"))?;
            formatted.insert(chunk, text);
        }
        Ok(())
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
    /// formatted out of order by the two threads.
    fn table(rows: usize) -> Table {
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
                "n".repeat(row % 40),
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
