//! Where a query puts its matches: every match (when they must be counted
//! or ordered by something else), or only the `k` with the smallest rows
//! (a page in entity-ID order) in a bounded max-heap, which also tells a
//! scan over rows in ascending order when to stop.

use std::collections::BinaryHeap;

use crate::plan::Hit;

/// A hit ordered by row alone (rows are unique within one collection).
pub struct ByRow(Hit);

impl PartialEq for ByRow {
    fn eq(&self, other: &Self) -> bool {
        self.0.row == other.0.row
    }
}

impl Eq for ByRow {}

impl PartialOrd for ByRow {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ByRow {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.row.cmp(&other.0.row)
    }
}

pub enum Collector {
    All(Vec<Hit>),
    Smallest { heap: BinaryHeap<ByRow>, capacity: usize },
}

impl Collector {
    pub fn all() -> Collector {
        Collector::All(Vec::new())
    }

    pub fn smallest(capacity: usize) -> Collector {
        Collector::Smallest { heap: BinaryHeap::with_capacity(capacity.min(1024) + 1), capacity }
    }

    /// Whether a row could still be kept; once false, so is every larger row.
    #[inline]
    pub fn admits(&self, row: u32) -> bool {
        match self {
            Collector::All(_) => true,
            Collector::Smallest { heap, capacity } => {
                heap.len() < *capacity || heap.peek().is_some_and(|largest| row < largest.0.row)
            }
        }
    }

    #[inline]
    pub fn push(&mut self, hit: Hit) {
        match self {
            Collector::All(hits) => hits.push(hit),
            Collector::Smallest { heap, capacity } => {
                if heap.len() < *capacity {
                    heap.push(ByRow(hit));
                } else if let Some(mut largest) = heap.peek_mut() {
                    // Replacing the top sifts once; pop then push sifts twice.
                    if hit.row < largest.0.row {
                        *largest = ByRow(hit);
                    }
                }
            }
        }
    }

    pub fn into_hits(self) -> Vec<Hit> {
        match self {
            Collector::All(hits) => hits,
            Collector::Smallest { heap, .. } => heap.into_iter().map(|entry| entry.0).collect(),
        }
    }
}
