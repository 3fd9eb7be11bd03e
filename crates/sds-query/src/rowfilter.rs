//! A compiled `$filter` bound to one table for execution. Conjuncts that a
//! string index answers (`eq`, `in`, `startswith … eq true`) become value
//! code tests (one integer load and compare per row instead of a folded
//! string comparison); conjuncts on one Int64, Double, Boolean or DateTime
//! property become runs of that property's sorted index (`column_index`).
//! The most selective of them supplies the candidate rows, so a query like
//! `CountryCode eq 'US' and startswith(Name,'San')` reads the few `San…`
//! rows and tests each one's country code, and `Rank gt 10 and Rank le 20`
//! reads the rows ranked 11 to 20, never scanning the table.

use crate::column_index::Span;
use crate::eval::{Constant, Predicate};
use crate::filter::CompareOp;
use crate::table::{CodeRange, Table, TextIndex};

pub struct RowFilter<'a> {
    table: &'a Table,
    tests: Vec<CodeTest<'a>>,
    rest: Vec<&'a Predicate>,
    /// The candidate rows from the most selective indexed conjunct (which
    /// is then not tested again).
    pub source: Option<Source<'a>>,
    /// The test the source stands for, for scans that do not start from it.
    source_test: SourceTest<'a>,
    /// Whether the source answers the whole filter: its candidates are the
    /// matches, and their number is the count.
    pub complete: bool,
}

enum SourceTest<'a> {
    None,
    Code(CodeTest<'a>),
    Parts(Vec<&'a Predicate>),
}

/// Candidate rows from an index.
pub enum Source<'a> {
    /// In row order (one value's rows).
    Sorted(&'a [u32]),
    /// Rows in no particular order, in one or more slices (a prefix's
    /// values, an `in` list's values).
    Slices(Vec<&'a [u32]>),
}

#[derive(Clone)]
struct CodeTest<'a> {
    index: &'a TextIndex,
    ranges: Vec<CodeRange>,
}

impl CodeTest<'_> {
    fn holds(&self, row: u32) -> bool {
        let code = self.index.code(row);
        self.ranges.iter().any(|&(start, end)| start <= code && code < end)
    }
}

impl<'a> RowFilter<'a> {
    /// With `want_source`, the most selective indexed conjunct becomes the
    /// candidate source (and is no longer tested); without, every conjunct
    /// is tested (the candidates come from elsewhere, e.g. a spatial index).
    pub fn new(table: &'a Table, predicate: Option<&'a Predicate>, want_source: bool) -> RowFilter<'a> {
        let conjuncts: &[Predicate] = match predicate {
            None => &[],
            Some(Predicate::And(parts)) => parts,
            Some(single) => std::slice::from_ref(single),
        };
        let (mut tests, mut rest) = (Vec::new(), Vec::new());
        for conjunct in conjuncts {
            match code_test(table, conjunct) {
                Some(test) => tests.push(test),
                None => rest.push(conjunct),
            }
        }
        let mut filter = RowFilter { table, tests, rest, source: None, source_test: SourceTest::None, complete: false };
        if want_source {
            filter.choose_source();
        }
        filter
    }

    /// Makes the smallest candidate set the source: a string conjunct's
    /// posting lists, or the runs of one property's column index that
    /// answer all the conjuncts on that property.
    fn choose_source(&mut self) {
        let text = (0..self.tests.len())
            .map(|index| {
                let test = &self.tests[index];
                (test.ranges.iter().map(|&range| test.index.rows_of(range).len()).sum::<usize>(), index)
            })
            .min();
        let mut columns: Vec<ColumnRuns> = Vec::new();
        for (position, conjunct) in self.rest.iter().enumerate() {
            let Some(column) = single_column(conjunct) else { continue };
            let Some(index) = self.table.column_index(column) else { continue };
            let Some(spans) = index.spans(self.table.column(column), column, conjunct) else { continue };
            match columns.iter_mut().find(|runs| runs.column == column) {
                Some(runs) => {
                    runs.spans = crate::column_index::intersect(&runs.spans, &spans);
                    runs.parts.push(position);
                }
                None => columns.push(ColumnRuns { column, spans, parts: vec![position] }),
            }
        }
        let best_column = columns
            .into_iter()
            .map(|runs| (runs.spans.iter().map(|(start, end)| (end - start) as usize).sum::<usize>(), runs))
            .min_by_key(|(size, _)| *size);
        match (text, best_column) {
            (Some((text_size, index)), best) if best.as_ref().is_none_or(|(size, _)| text_size <= *size) => {
                let test = self.tests.swap_remove(index);
                self.source = Some(test.clone().into_source());
                self.source_test = SourceTest::Code(test);
            }
            (_, Some((_, runs))) => {
                let index = self.table.column_index(runs.column).expect("indexed above");
                let column = self.table.column(runs.column);
                self.source = Some(match runs.spans.as_slice() {
                    [] => Source::Sorted(&[]),
                    [span] if index.single_valued(column, *span) => Source::Sorted(index.rows_of(*span)),
                    spans => Source::Slices(spans.iter().map(|&span| index.rows_of(span)).collect()),
                });
                let mut parts = Vec::new();
                for &position in runs.parts.iter().rev() {
                    parts.push(self.rest.remove(position));
                }
                self.source_test = SourceTest::Parts(parts);
            }
            _ => return,
        }
        self.complete = self.tests.is_empty() && self.rest.is_empty();
    }

    /// Whether a row passes the whole filter, the source's conjuncts
    /// included (for a scan in row order instead of over the source).
    pub fn matches_all(&self, row: u32) -> bool {
        let source = match &self.source_test {
            SourceTest::None => true,
            SourceTest::Code(test) => test.holds(row),
            SourceTest::Parts(parts) => parts.iter().all(|part| part.matches(self.table, row)),
        };
        source && self.matches(row)
    }

    /// Whether a row passes the filter (apart from the source conjunct when
    /// the row came from [`RowFilter::source`]).
    /// Whether there is nothing to test (every row passes).
    pub fn passes_all(&self) -> bool {
        self.tests.is_empty() && self.rest.is_empty()
    }

    pub fn matches(&self, row: u32) -> bool {
        self.tests.iter().all(|test| test.holds(row)) && self.rest.iter().all(|part| part.matches(self.table, row))
    }
}

impl<'a> CodeTest<'a> {
    fn into_source(self) -> Source<'a> {
        let index = self.index;
        match self.ranges.as_slice() {
            [range] if range.1 <= range.0 + 1 => Source::Sorted(index.rows_of(*range)),
            ranges => Source::Slices(ranges.iter().map(|&range| index.rows_of(range)).collect()),
        }
    }
}

/// The conjuncts on one property that its column index answers, and their runs.
struct ColumnRuns {
    column: usize,
    spans: Vec<Span>,
    /// Their positions in `rest`, ascending.
    parts: Vec<usize>,
}

/// The one column a predicate reads, if it reads only one.
fn single_column(predicate: &Predicate) -> Option<usize> {
    match predicate {
        Predicate::Null { column, .. }
        | Predicate::Compare { column, .. }
        | Predicate::InText { column, .. }
        | Predicate::StartsWith { column, .. }
        | Predicate::EndsWith { column, .. }
        | Predicate::Like { column, .. } => Some(*column),
        Predicate::Intersects(_) => None,
        Predicate::Not(inner) => single_column(inner),
        Predicate::And(parts) | Predicate::Or(parts) => {
            let first = single_column(parts.first()?)?;
            parts.iter().all(|part| single_column(part) == Some(first)).then_some(first)
        }
    }
}

/// The code test of a conjunct a string index answers exactly.
fn code_test<'a>(table: &'a Table, conjunct: &Predicate) -> Option<CodeTest<'a>> {
    match conjunct {
        Predicate::Compare { column, op: CompareOp::Eq, constant: Constant::Text(value) } => {
            let index = table.text_index(*column)?;
            Some(CodeTest { index, ranges: vec![index.equal_codes(value)] })
        }
        Predicate::InText { column, values } => {
            let index = table.text_index(*column)?;
            Some(CodeTest { index, ranges: values.iter().map(|value| index.equal_codes(value)).collect() })
        }
        Predicate::StartsWith { column, prefix, expected: true } => {
            let index = table.text_index(*column)?;
            Some(CodeTest { index, ranges: vec![index.prefix_codes(prefix)] })
        }
        _ => None,
    }
}
