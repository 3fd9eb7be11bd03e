//! The `$filter` syntax tree, before names are resolved against a schema.

use std::ops::Range;

/// A byte range of the filter text, for error messages.
pub type Span = Range<usize>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    pub fn from_keyword(word: &str) -> Option<CompareOp> {
        let op = match word.to_ascii_lowercase().as_str() {
            "eq" => CompareOp::Eq,
            "ne" => CompareOp::Ne,
            "gt" => CompareOp::Gt,
            "ge" => CompareOp::Ge,
            "lt" => CompareOp::Lt,
            "le" => CompareOp::Le,
            _ => return None,
        };
        Some(op)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextFunction {
    StartsWith,
    EndsWith,
}

/// A literal as written; typing against the property happens at compile time.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    String(String),
    /// The number's text without any type suffix (`L`, `d`, `m`, `f`).
    Number(String),
    Boolean(bool),
    /// `datetime'…'` or a bare ISO date: the text inside.
    DateTime(String),
    Null,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Located<T> {
    pub value: T,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare {
        property: Located<String>,
        op: CompareOp,
        literal: Located<Literal>,
    },
    /// `startswith(P,'s')`, optionally compared with a boolean: `expected`
    /// is false for `… eq false` or `… ne true`.
    Text {
        function: TextFunction,
        property: Located<String>,
        argument: Located<Literal>,
        expected: bool,
    },
    In {
        property: Located<String>,
        literals: Vec<Located<Literal>>,
    },
    /// CQL2 `P LIKE 'pattern'`: `%` any run of characters, `_` one
    /// character, `\` escapes the next (OGC 21-065 §7.4, advanced
    /// comparison operators). Compared ignoring case, as every SDS string
    /// comparison is.
    Like {
        property: Located<String>,
        pattern: Located<String>,
    },
    /// CQL2 `S_INTERSECTS(geometry, WKT)`: entities whose geography (or,
    /// without one, whose point) meets the WKT geometry.
    Intersects {
        property: Located<String>,
        wkt: Located<String>,
    },
}
