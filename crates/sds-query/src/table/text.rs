//! Strings stored contiguously: one buffer of text and one offset per
//! cell, instead of one heap allocation per cell. At a million rows a
//! boxed string per cell costs its 16-byte pointer, its text and the
//! allocator's own 8–16 bytes besides; here a cell costs its text and a
//! 4-byte end offset (8 bytes once a column holds 4 GiB of text), and the
//! column is three allocations however many rows it has. It also lets a
//! snapshot (`table/snapshot.rs`) write and read a column as whole arrays.

use super::nullable::NullBits;

/// End offsets of the cells in the text buffer: 32-bit until the text
/// outgrows them, then 64-bit.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Ends {
    Narrow(Vec<u32>),
    Wide(Vec<u64>),
}

/// A column of optional strings; see the module docs.
#[derive(Clone, Debug, PartialEq)]
pub struct TextColumn {
    pub(crate) text: String,
    pub(crate) ends: Ends,
    pub(crate) nulls: NullBits,
}

impl Default for TextColumn {
    fn default() -> Self {
        TextColumn::with_capacity(0)
    }
}

impl TextColumn {
    pub fn with_capacity(rows: usize) -> TextColumn {
        TextColumn { text: String::new(), ends: Ends::Narrow(Vec::with_capacity(rows)), nulls: NullBits::default() }
    }

    pub fn len(&self) -> usize {
        match &self.ends {
            Ends::Narrow(ends) => ends.len(),
            Ends::Wide(ends) => ends.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn end(&self, row: usize) -> usize {
        match &self.ends {
            Ends::Narrow(ends) => ends[row] as usize,
            Ends::Wide(ends) => ends[row] as usize,
        }
    }

    /// Appends a cell (`None`: null).
    pub fn push(&mut self, cell: Option<&str>) {
        let row = self.len();
        if let Some(text) = cell {
            self.text.push_str(text);
        } else {
            self.nulls.set(row);
        }
        let end = self.text.len();
        if let Ends::Narrow(ends) = &mut self.ends {
            match u32::try_from(end) {
                Ok(narrow) => return ends.push(narrow),
                Err(_) => self.widen(),
            }
        }
        if let Ends::Wide(ends) = &mut self.ends {
            ends.push(end as u64);
        }
    }

    /// Switches to 64-bit end offsets (once the text outgrows 32 bits).
    pub(crate) fn widen(&mut self) {
        if let Ends::Narrow(ends) = &self.ends {
            let mut wide: Vec<u64> = Vec::with_capacity(ends.capacity());
            wide.extend(ends.iter().map(|&end| u64::from(end)));
            self.ends = Ends::Wide(wide);
        }
    }

    pub fn is_null(&self, row: usize) -> bool {
        self.nulls.is_null(row)
    }

    /// A cell's text, `None` when null. Panics when `row` is out of range.
    pub fn get(&self, row: usize) -> Option<&str> {
        let end = self.end(row);
        if self.is_null(row) {
            return None;
        }
        let start = if row == 0 { 0 } else { self.end(row - 1) };
        Some(&self.text[start..end])
    }

    /// A cell's text, the empty string when null.
    /// The length in bytes of `row`'s text (0 when null), without
    /// slicing it.
    pub fn byte_len(&self, row: usize) -> usize {
        let start = if row == 0 { 0 } else { self.end(row - 1) };
        self.end(row) - start
    }

    pub fn text(&self, row: usize) -> &str {
        self.get(row).unwrap_or("")
    }

    /// The first row for which `before` is false, when it is true for a
    /// prefix of the rows and false after (like `slice::partition_point`).
    pub fn partition_point(&self, before: impl Fn(&str) -> bool) -> usize {
        let (mut low, mut high) = (0, self.len());
        while low < high {
            let middle = low + (high - low) / 2;
            if before(self.text(middle)) {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        low
    }

    /// Gives back spare capacity (a column is built once, then only read).
    pub fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        match &mut self.ends {
            Ends::Narrow(ends) => ends.shrink_to_fit(),
            Ends::Wide(ends) => ends.shrink_to_fit(),
        }
        self.nulls.shrink_to_fit();
    }

    /// Heap bytes held (capacities, not lengths).
    pub fn heap_bytes(&self) -> usize {
        let ends = match &self.ends {
            Ends::Narrow(ends) => ends.capacity() * 4,
            Ends::Wide(ends) => ends.capacity() * 8,
        };
        self.text.capacity() + ends + self.nulls.heap_bytes()
    }

    pub fn iter(&self) -> impl Iterator<Item = Option<&str>> + '_ {
        (0..self.len()).map(|row| self.get(row))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_read_back_as_pushed_nulls_included() {
        let cells = [Some("Köln"), None, Some(""), Some("Aarhus"), None];
        let mut column = TextColumn::default();
        for cell in cells {
            column.push(cell);
        }
        assert_eq!(column.iter().collect::<Vec<_>>(), cells);
        assert_eq!(column.text(1), "");
        assert!(column.is_null(4) && !column.is_null(2));
    }

    /// Past 4 GiB of text a column's offsets widen; the cells stay the same.
    #[test]
    fn wide_offsets_read_the_same_cells() {
        let mut column = TextColumn::default();
        column.push(Some("narrow"));
        column.push(None);
        column.widen();
        column.push(Some("wide"));
        assert!(matches!(column.ends, Ends::Wide(_)));
        assert_eq!(column.iter().collect::<Vec<_>>(), [Some("narrow"), None, Some("wide")]);
    }

    #[test]
    fn sorted_cells_are_searched_by_partition_point() {
        let mut column = TextColumn::default();
        for cell in ["a", "b", "b", "c"] {
            column.push(Some(cell));
        }
        assert_eq!(column.partition_point(|text| text < "b"), 1);
        assert_eq!(column.partition_point(|text| text <= "b"), 3);
        assert_eq!(column.partition_point(|_| true), 4);
    }
}
