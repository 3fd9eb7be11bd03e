//! Nullable fixed-size cells as a plain value array plus a null bitmap:
//! `Option<i64>` and `Option<f64>` take 16 bytes and `Option<Timestamp>`
//! 24 (the tag pads to the value's alignment), where a value and a bit take
//! 8 and 16. At a million rows that is 8 MB a column.

use sds_core::Timestamp;

/// One bit per row, set for null rows; no words at all while no row is null.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NullBits {
    pub(crate) words: Vec<u64>,
}

impl NullBits {
    pub fn set(&mut self, row: usize) {
        let word = row / 64;
        if self.words.len() <= word {
            self.words.resize(word + 1, 0);
        }
        self.words[word] |= 1 << (row % 64);
    }

    pub fn is_null(&self, row: usize) -> bool {
        self.words.get(row / 64).is_some_and(|word| word & (1 << (row % 64)) != 0)
    }

    pub fn shrink_to_fit(&mut self) {
        self.words.shrink_to_fit();
    }

    pub fn heap_bytes(&self) -> usize {
        self.words.capacity() * 8
    }
}

/// The value a null row holds in the value array (never read as a value).
pub trait Placeholder: Copy {
    const PLACEHOLDER: Self;
}

impl Placeholder for i64 {
    const PLACEHOLDER: i64 = 0;
}

impl Placeholder for f64 {
    const PLACEHOLDER: f64 = 0.0;
}

impl Placeholder for bool {
    const PLACEHOLDER: bool = false;
}

impl Placeholder for Timestamp {
    const PLACEHOLDER: Timestamp = Timestamp { seconds: 0, nanos: 0 };
}

/// A column of optional fixed-size values; see the module docs.
#[derive(Clone, Debug, PartialEq)]
pub struct Nullable<T> {
    pub(crate) values: Vec<T>,
    pub(crate) nulls: NullBits,
}

impl<T: Placeholder> Nullable<T> {
    pub fn with_capacity(rows: usize) -> Nullable<T> {
        Nullable { values: Vec::with_capacity(rows), nulls: NullBits::default() }
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    pub fn push(&mut self, cell: Option<T>) {
        match cell {
            Some(value) => self.values.push(value),
            None => {
                self.nulls.set(self.values.len());
                self.values.push(T::PLACEHOLDER);
            }
        }
    }

    /// A row's value, `None` when null. Panics when `row` is out of range.
    pub fn get(&self, row: usize) -> Option<T> {
        let value = self.values[row];
        (!self.nulls.is_null(row)).then_some(value)
    }

    pub fn iter(&self) -> impl Iterator<Item = Option<T>> + '_ {
        (0..self.values.len()).map(|row| self.get(row))
    }

    pub fn shrink_to_fit(&mut self) {
        self.values.shrink_to_fit();
        self.nulls.shrink_to_fit();
    }

    pub fn heap_bytes(&self) -> usize {
        self.values.capacity() * std::mem::size_of::<T>() + self.nulls.heap_bytes()
    }
}

impl<T: Placeholder> FromIterator<Option<T>> for Nullable<T> {
    fn from_iter<I: IntoIterator<Item = Option<T>>>(cells: I) -> Self {
        let cells = cells.into_iter();
        let mut column = Nullable::with_capacity(cells.size_hint().0);
        cells.for_each(|cell| column.push(cell));
        column
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nulls_read_back_as_nulls_and_values_as_values() {
        let cells = [Some(3i64), None, Some(0), None, Some(-7)];
        let column: Nullable<i64> = cells.into_iter().collect();
        assert_eq!(column.iter().collect::<Vec<_>>(), cells);
        let full: Nullable<f64> = (0..100).map(|value| Some(f64::from(value))).collect();
        assert_eq!(full.nulls.heap_bytes(), 0, "no bitmap without a null");
        assert_eq!(full.get(99), Some(99.0));
    }
}
