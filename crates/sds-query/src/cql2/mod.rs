//! CQL2 text (OGC 21-065, the Common Query Language of OGC API – Features
//! Part 3), lowered onto the `$filter` syntax tree ([`crate::filter::Expr`])
//! so both filter languages run on one evaluator and its indexes.
//!
//! The subset (keywords case-insensitive; names as in the schema, or
//! double-quoted; `geometry` names the location):
//!
//! ```text
//! cql        := or
//! or         := and ( "OR" and )*
//! and        := not ( "AND" not )*
//! not        := "NOT" not | "(" or ")" | spatial | predicate
//! spatial    := "S_INTERSECTS" "(" name "," geometry ")"
//! geometry   := wkt | "BBOX" "(" number "," number "," number "," number ")"
//! predicate  := name ["NOT"] ("LIKE" | "ILIKE") string
//!             | name ["NOT"] "BETWEEN" scalar "AND" scalar
//!             | name ["NOT"] "IN" "(" scalar ( "," scalar )* ")"
//!             | name "IS" ["NOT"] "NULL"
//!             | name op scalar | scalar op name
//! op         := "=" | "<>" | "<" | "<=" | ">" | ">="
//! scalar     := string | number | "TRUE" | "FALSE" | "DATE" "(" string ")" | "TIMESTAMP" "(" string ")"
//! string     := "'" ( any character but "'" | "''" )* "'"
//! wkt        := POINT | LINESTRING | POLYGON | MULTIPOINT | MULTILINESTRING | MULTIPOLYGON | GEOMETRYCOLLECTION text, in CRS84 (lon lat)
//! ```
//!
//! These cover the conformance classes Basic CQL2, Advanced Comparison
//! Operators (LIKE, BETWEEN, IN) and Basic Spatial Functions
//! (S_INTERSECTS). String comparisons ignore case, as every SDS comparison
//! does (so CQL2's `CASEI` is implied and not spelled). Errors carry the
//! 1-based character position of the offending token.

mod parser;
#[cfg(test)]
mod tests;

use sds_core::Schema;

use crate::eval::{compile_with_shapes, Predicate};
use crate::filter::{Expr, FilterError};
use crate::QueryLimits;

/// Longest filter accepted, in bytes (as for `$filter`).
pub const MAX_CQL2_BYTES: usize = crate::filter::MAX_FILTER_BYTES;

/// A refused CQL2 filter: what is wrong, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at position {position})")]
pub struct Cql2Error {
    pub message: String,
    /// 1-based character position in the filter text.
    pub position: usize,
}

impl From<FilterError> for Cql2Error {
    fn from(error: FilterError) -> Self {
        Cql2Error { message: error.message, position: error.position }
    }
}

/// Parses CQL2 text into the filter syntax tree.
pub fn parse(text: &str) -> Result<Expr, Cql2Error> {
    if text.len() > MAX_CQL2_BYTES {
        return Err(Cql2Error { message: format!("the filter is longer than {MAX_CQL2_BYTES} bytes"), position: 1 });
    }
    let tokens = parser::tokenize(text).map_err(|error| error.locate(text))?;
    let expr = parser::Parser::new(text, &tokens).parse().map_err(|error| error.locate(text))?;
    Ok(expr)
}

/// Parses CQL2 text and types it against a schema: unknown properties,
/// values that do not fit their property and invalid geometries are
/// errors with their position.
pub fn compile(text: &str, schema: &Schema, limits: &QueryLimits) -> Result<Predicate, Cql2Error> {
    let expr = parse(text)?;
    Ok(compile_with_shapes(&expr, schema, text, limits.max_ids, limits.max_shape_points)?)
}
