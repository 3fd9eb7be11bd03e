//! A compiled `$filter` bound to one table for execution. Conjuncts that a
//! string index answers (`eq`, `in`, `startswith … eq true`) become value
//! code tests (one integer load and compare per row instead of a folded
//! string comparison); the most selective of them also supplies the
//! candidate rows, so a query like `CountryCode eq 'US' and
//! startswith(Name,'San')` reads the few `San…` rows and tests each one's
//! country code, never scanning the table.

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
}

/// Candidate rows from an index.
pub enum Source<'a> {
    /// In row order (one value's rows).
    Sorted(&'a [u32]),
    /// Rows in no particular order, in one or more slices (a prefix's
    /// values, an `in` list's values).
    Slices(Vec<&'a [u32]>),
}

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
        // The smallest posting list supplies the candidates.
        let best = (0..tests.len()).filter(|_| want_source).min_by_key(|&index| {
            tests[index].ranges.iter().map(|&range| tests[index].index.rows_of(range).len()).sum::<usize>()
        });
        let source = best.map(|index| tests.swap_remove(index).into_source());
        RowFilter { table, tests, rest, source }
    }

    /// Whether a row passes the filter (apart from the source conjunct when
    /// the row came from [`RowFilter::source`]).
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
