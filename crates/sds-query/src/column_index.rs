//! Sorted indexes of Int64, Double, Boolean and DateTime columns, built on
//! first use (like the string indexes in `table`), which answer comparisons
//! on one property without a scan: `eq`, `ne`, `lt`, `le`, `gt`, `ge`,
//! `eq null`, `ne null`, `in (…)`, and any `and`/`or`/`not` of those on the
//! same property (`Rank gt 10 and Rank le 20`).
//!
//! An index is one `u32` per row (4 bytes per row): the row numbers ordered
//! as [null rows][NaN rows][the other rows by value, then row]. Values are
//! read from the column itself. A comparison's matching rows are then one
//! or two runs of positions ("spans"), found by binary search with the
//! evaluator's own comparison (`eval::compare`), so the index agrees with a
//! scan by construction: the comparison is monotone over the value order.
//! Doubles order `-0.0` and `+0.0` as one value, as the evaluator compares
//! them (IEEE 754 equality), and so an equal run stays in row order.

use std::cmp::Ordering;

use crate::eval::{compare, Constant, Predicate};
use crate::filter::CompareOp;
use crate::table::{Column, Nullable, Placeholder};

/// A half-open run of positions in a [`ColumnIndex`].
pub type Span = (u32, u32);

/// Rows of a non-string column in value order; see the module docs.
pub struct ColumnIndex {
    rows: Vec<u32>,
    /// Positions `0..nulls` hold the null rows (in row order).
    nulls: u32,
    /// Positions `nulls..values` hold NaN doubles, which match no comparison.
    values: u32,
}

impl ColumnIndex {
    /// The index of a column; `None` for string and geography columns.
    pub fn build(column: &Column) -> Option<ColumnIndex> {
        Some(match column {
            Column::Int64(cells) => sorted(cells, |value| Some(*value), Ord::cmp),
            Column::Boolean(cells) => sorted(cells, |value| Some(*value), Ord::cmp),
            Column::DateTime(cells) => sorted(cells, |value| Some(*value), Ord::cmp),
            // `+ 0.0` turns -0.0 into +0.0, so the two zeros are one value.
            Column::Double(cells) => sorted(cells, |value| (!value.is_nan()).then_some(*value + 0.0), f64::total_cmp),
            Column::String(_) | Column::Geography(_) => return None,
        })
    }

    /// The rows at a span of positions (in row order when they share one value).
    pub fn rows_of(&self, (start, end): Span) -> &[u32] {
        &self.rows[start as usize..end as usize]
    }

    /// Heap bytes held by the index.
    pub fn heap_bytes(&self) -> usize {
        self.rows.capacity() * std::mem::size_of::<u32>()
    }

    /// Whether a span holds only null rows or only rows of one value (and
    /// so lists its rows in row order).
    pub fn single_valued(&self, column: &Column, (start, end): Span) -> bool {
        if end <= start + 1 || end <= self.nulls {
            return true;
        }
        if start < self.values {
            return false;
        }
        let (first, last) = (self.rows[start as usize] as usize, self.rows[end as usize - 1] as usize);
        // `Cell` equality is the evaluator's: -0.0 equals +0.0.
        column.cell(first) == column.cell(last)
    }

    /// The spans (ascending, disjoint, non-empty) of the rows that satisfy
    /// `predicate`, when it only compares column `which` (of this index)
    /// with constants the index can order; `None` otherwise (the evaluator
    /// then tests it row by row).
    pub fn spans(&self, column: &Column, which: usize, predicate: &Predicate) -> Option<Vec<Span>> {
        let all = self.rows.len() as u32;
        let spans = match predicate {
            Predicate::Null { column: named, is_null } if *named == which => {
                if *is_null {
                    vec![(0, self.nulls)]
                } else {
                    vec![(self.nulls, all)]
                }
            }
            Predicate::Compare { column: named, op, constant } if *named == which => {
                if !orderable(column, constant) {
                    return None;
                }
                // Values below, and not above, the constant: two partition points.
                let values = &self.rows[self.values as usize..];
                let ordering = |row: &u32| compare(column.cell(*row as usize), constant).unwrap_or(Ordering::Greater);
                let below = self.values + values.partition_point(|row| ordering(row).is_lt()) as u32;
                let not_above = self.values + values.partition_point(|row| ordering(row).is_le()) as u32;
                match op {
                    CompareOp::Eq => vec![(below, not_above)],
                    CompareOp::Ne => vec![(self.values, below), (not_above, all)],
                    CompareOp::Lt => vec![(self.values, below)],
                    CompareOp::Le => vec![(self.values, not_above)],
                    CompareOp::Gt => vec![(not_above, all)],
                    CompareOp::Ge => vec![(below, all)],
                }
            }
            Predicate::And(parts) => {
                let mut spans = vec![(0, all)];
                for part in parts {
                    spans = intersect(&spans, &self.spans(column, which, part)?);
                }
                spans
            }
            Predicate::Or(parts) => {
                let mut spans = Vec::new();
                for part in parts {
                    spans.extend(self.spans(column, which, part)?);
                }
                union(spans)
            }
            Predicate::Not(inner) => complement(&self.spans(column, which, inner)?, all),
            _ => return None,
        };
        Some(spans.into_iter().filter(|(start, end)| start < end).collect())
    }
}

/// Rows ordered [nulls][keyless (NaN)][by key, then row].
fn sorted<T: Placeholder, K: Copy>(
    cells: &Nullable<T>,
    key: impl Fn(&T) -> Option<K>,
    order: impl Fn(&K, &K) -> Ordering,
) -> ColumnIndex {
    let (mut nulls, mut keyless, mut keyed) = (Vec::new(), Vec::new(), Vec::with_capacity(cells.len()));
    for (row, cell) in cells.iter().enumerate() {
        match cell.as_ref().map(&key) {
            None => nulls.push(row as u32),
            Some(None) => keyless.push(row as u32),
            Some(Some(value)) => keyed.push((value, row as u32)),
        }
    }
    keyed.sort_unstable_by(|a, b| order(&a.0, &b.0).then(a.1.cmp(&b.1)));
    let (null_count, values) = (nulls.len() as u32, (nulls.len() + keyless.len()) as u32);
    let mut rows = nulls;
    rows.reserve_exact(cells.len() - rows.len());
    rows.extend(keyless);
    rows.extend(keyed.into_iter().map(|(_, row)| row));
    ColumnIndex { rows, nulls: null_count, values }
}

/// Whether the evaluator's comparison of this column with the constant is
/// defined for every value and monotone over the index's order.
fn orderable(column: &Column, constant: &Constant) -> bool {
    match (column, constant) {
        (Column::Int64(_), Constant::Int64(_))
        | (Column::Boolean(_), Constant::Boolean(_))
        | (Column::DateTime(_), Constant::DateTime(_)) => true,
        // `i64 as f64` never decreases, so the order is kept.
        (Column::Int64(_) | Column::Double(_), Constant::Double(value)) => !value.is_nan(),
        _ => false,
    }
}

/// Sorts and merges overlapping or touching spans.
fn union(mut spans: Vec<Span>) -> Vec<Span> {
    spans.retain(|(start, end)| start < end);
    spans.sort_unstable();
    let mut merged: Vec<Span> = Vec::with_capacity(spans.len());
    for (start, end) in spans {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// The positions in both span lists.
pub fn intersect(a: &[Span], b: &[Span]) -> Vec<Span> {
    let (mut result, mut i, mut j) = (Vec::new(), 0, 0);
    while i < a.len() && j < b.len() {
        let (start, end) = (a[i].0.max(b[j].0), a[i].1.min(b[j].1));
        if start < end {
            result.push((start, end));
        }
        if a[i].1 < b[j].1 {
            i += 1;
        } else {
            j += 1;
        }
    }
    result
}

fn complement(spans: &[Span], all: u32) -> Vec<Span> {
    let (mut result, mut from) = (Vec::new(), 0);
    for &(start, end) in spans {
        result.push((from, start));
        from = end;
    }
    result.push((from, all));
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doubles(values: &[Option<f64>]) -> Column {
        Column::Double(values.iter().copied().collect())
    }

    fn rows(index: &ColumnIndex, column: &Column, predicate: &Predicate) -> Vec<u32> {
        let mut rows: Vec<u32> = index
            .spans(column, 0, predicate)
            .unwrap()
            .into_iter()
            .flat_map(|span| index.rows_of(span).to_vec())
            .collect();
        rows.sort_unstable();
        rows
    }

    fn compare_with(op: CompareOp, value: f64) -> Predicate {
        Predicate::Compare { column: 0, op, constant: Constant::Double(value) }
    }

    #[test]
    fn zeros_of_both_signs_are_one_value_and_nulls_match_only_null_tests() {
        let column = doubles(&[Some(0.0), None, Some(-0.0), Some(-1.5), Some(2.0), Some(-0.0), None]);
        let index = ColumnIndex::build(&column).unwrap();
        assert_eq!(rows(&index, &column, &compare_with(CompareOp::Eq, 0.0)), [0, 2, 5]);
        assert_eq!(rows(&index, &column, &compare_with(CompareOp::Eq, -0.0)), [0, 2, 5]);
        assert_eq!(rows(&index, &column, &compare_with(CompareOp::Ne, 0.0)), [3, 4]);
        assert_eq!(rows(&index, &column, &compare_with(CompareOp::Lt, 0.0)), [3]);
        assert_eq!(rows(&index, &column, &compare_with(CompareOp::Ge, -0.0)), [0, 2, 4, 5]);
        assert_eq!(rows(&index, &column, &Predicate::Null { column: 0, is_null: true }), [1, 6]);
        assert_eq!(rows(&index, &column, &Predicate::Null { column: 0, is_null: false }), [0, 2, 3, 4, 5]);
        // `not (P lt 0)` is true for nulls too, as the evaluator's `not` is.
        let not_below = Predicate::Not(Box::new(compare_with(CompareOp::Lt, 0.0)));
        assert_eq!(rows(&index, &column, &not_below), [0, 1, 2, 4, 5, 6]);
        // The equal run is in row order, so it can stream a page.
        let zeros = index.spans(&column, 0, &compare_with(CompareOp::Eq, 0.0)).unwrap();
        assert_eq!(index.rows_of(zeros[0]), [0, 2, 5]);
        assert!(index.single_valued(&column, zeros[0]));
    }

    #[test]
    fn a_conjunction_on_one_property_is_one_range_and_other_properties_are_not_answered() {
        let column = Column::Int64((0..100).map(|value| (value % 10 != 3).then_some(value % 25)).collect());
        let index = ColumnIndex::build(&column).unwrap();
        let range = Predicate::And(vec![
            Predicate::Compare { column: 0, op: CompareOp::Gt, constant: Constant::Int64(10) },
            Predicate::Compare { column: 0, op: CompareOp::Le, constant: Constant::Double(12.5) },
        ]);
        let expected: Vec<u32> = (0..100u32).filter(|row| row % 10 != 3 && matches!(row % 25, 11 | 12)).collect();
        assert_eq!(rows(&index, &column, &range), expected);
        assert_eq!(index.spans(&column, 0, &range).unwrap().len(), 1);
        let other = Predicate::Compare { column: 1, op: CompareOp::Gt, constant: Constant::Int64(10) };
        assert!(index.spans(&column, 0, &Predicate::Or(vec![range, other])).is_none());
    }
}
