//! Writing a download from the version's query table rather than the
//! store: no entity is decoded or allocated, and the rows are formatted in
//! chunks on two threads (this one and a helper), whose texts are written
//! in row order. The table's rows are in entity-ID order, the order the
//! store streams a version in, and hold the same values, so the bytes are
//! the same as a download from the store.

use std::io;
use std::sync::mpsc;

use sds_core::ValueRef;
use sds_formats::{EntityRow, RowFormat};
use sds_query::Table;

/// Rows formatted per chunk: large enough that handing a chunk over costs
/// nothing beside formatting it (a few hundred kilobytes of text), small
/// enough that the two threads finish together and memory stays small.
const CHUNK_ROWS: usize = 2048;

/// Formatted chunks that may wait to be written.
const CHUNKS_AHEAD: usize = 4;

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
/// `write`, in row order, a chunk at a time. A helper thread formats every
/// other chunk. `check` runs before each chunk is written; its error (a
/// shutdown) or one from `write` stops both threads and is returned.
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
    let (sender, receiver) = mpsc::sync_channel::<Vec<u8>>(CHUNKS_AHEAD);
    // Written chunks go back to the helper, so buffers are reused.
    let (spare_sender, spare_receiver) = mpsc::channel::<Vec<u8>>();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            for chunk in (1..chunks).step_by(2) {
                let mut out = spare_receiver.try_recv().unwrap_or_else(|_| Vec::with_capacity(CHUNK_CAPACITY));
                format_chunk(chunk, &mut out);
                if sender.send(out).is_err() {
                    // This thread stopped early.
                    return;
                }
            }
        });
        // Owned here, so that an early return drops it and a helper
        // waiting to send stops before the scope waits for it.
        let receiver = receiver;
        let mut own = Vec::with_capacity(CHUNK_CAPACITY);
        for chunk in 0..chunks {
            check()?;
            if chunk % 2 == 0 {
                format_chunk(chunk, &mut own);
                write(&own)?;
            } else {
                let text = receiver.recv().map_err(|_| io::Error::other("the download's formatting thread stopped"))?;
                write(&text)?;
                let _ = spare_sender.send(text);
            }
        }
        Ok(())
    })
}
