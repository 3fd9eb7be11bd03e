//! The SDS Query API engine: `$filter` parsing and evaluation, spatial
//! filters, and a per-version in-memory table with spatial and text indexes.
//!
//! Flow: the server builds a [`Table`] once per published version (from
//! the store's entity stream, in entity-ID order) and keeps it cached; per
//! request it calls [`Query::compile`] with the request's options (the
//! filter is parsed and typed against the schema once, shapes are prepared
//! once), resolves an address or route if the spatial filter needs one,
//! and calls [`Query::execute`], which returns the rows of one page in
//! order. Rendering (Atom, JSON) is the server's business.
//!
//! Nothing here does I/O.

mod collect;
pub mod column_index;
pub mod cql2;
pub mod eval;
pub mod fields;
pub mod filter;
mod fold;
pub mod grid;
pub mod like;
mod options;
pub mod plan;
mod rowfilter;
pub mod spatial;
pub mod table;

#[cfg(test)]
mod column_crosscheck;
#[cfg(test)]
mod crosscheck;
#[cfg(test)]
mod geography_tests;
#[cfg(test)]
mod tests;

pub use fields::Field;
pub use plan::{Hit, Query, QueryLimits, QueryOptions, QueryResult};
pub use spatial::{RouteEnd, SpatialFilter};
pub use table::{Cell, Table, TableBuilder};

/// Why a query is refused: the message names the problem for the client.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    #[error("{0}")]
    Invalid(String),
}
