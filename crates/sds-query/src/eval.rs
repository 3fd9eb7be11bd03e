//! `$filter` compiled against a schema: names resolved to columns and
//! literals typed once, so evaluating a row is a walk over a small tree
//! with no parsing, lookups or allocation.

use std::cmp::Ordering;
use std::sync::Arc;

use sds_core::value::parse_double;
use sds_core::{EdmType, Schema, Timestamp};

use crate::fields::{self, Field};
use crate::filter::{CompareOp, Expr, FilterError, Literal, Located, TextFunction};
use crate::fold::{cmp_folded, ends_with_folded, eq_folded, fold, starts_with_folded};
use crate::like::LikePattern;
use crate::spatial::Shape;
use crate::table::{Cell, Table};

/// A typed constant of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub enum Constant {
    /// Folded (lowercase) text: string comparisons ignore case.
    Text(Box<str>),
    Int64(i64),
    Double(f64),
    Boolean(bool),
    DateTime(Timestamp),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Predicate {
    And(Vec<Predicate>),
    Or(Vec<Predicate>),
    Not(Box<Predicate>),
    /// `P eq null` (`is_null`) or `P ne null`.
    Null {
        column: usize,
        is_null: bool,
    },
    Compare {
        column: usize,
        op: CompareOp,
        constant: Constant,
    },
    /// `P in (…)` over strings: folded, sorted values.
    InText {
        column: usize,
        values: Vec<Box<str>>,
    },
    StartsWith {
        column: usize,
        prefix: Box<str>,
        expected: bool,
    },
    EndsWith {
        column: usize,
        suffix: Box<str>,
        expected: bool,
    },
    /// `P LIKE 'pattern'` over strings, ignoring case.
    Like {
        column: usize,
        pattern: LikePattern,
    },
    /// The row's geography, else its point, meets the shape.
    Intersects(SharedShape),
}

/// A prepared shape shared by the predicates that test it; two are equal
/// when they are the same shape.
#[derive(Clone, Debug)]
pub struct SharedShape(pub Arc<Shape>);

impl PartialEq for SharedShape {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// Resolves and types a parsed filter. `text` is the filter as sent, for
/// error positions; `max_ids` bounds an `in` list on the primary key.
pub fn compile(expr: &Expr, schema: &Schema, text: &str, max_ids: usize) -> Result<Predicate, FilterError> {
    compile_with_shapes(expr, schema, text, max_ids, crate::QueryLimits::default().max_shape_points)
}

/// [`compile`] with a bound on the points of an `S_INTERSECTS` geometry.
pub fn compile_with_shapes(
    expr: &Expr,
    schema: &Schema,
    text: &str,
    max_ids: usize,
    max_shape_points: usize,
) -> Result<Predicate, FilterError> {
    let compiler = Compiler { schema, text, max_ids, max_shape_points };
    compiler.compile(expr)
}

struct Compiler<'a> {
    schema: &'a Schema,
    text: &'a str,
    max_ids: usize,
    max_shape_points: usize,
}

impl Compiler<'_> {
    fn error(&self, message: String, span: &crate::filter::Span) -> FilterError {
        FilterError::new(message, span.clone()).locate(self.text)
    }

    fn compile(&self, expr: &Expr) -> Result<Predicate, FilterError> {
        Ok(match expr {
            Expr::And(left, right) => {
                let mut parts = Vec::new();
                for side in [left, right] {
                    match self.compile(side)? {
                        Predicate::And(inner) => parts.extend(inner),
                        other => parts.push(other),
                    }
                }
                Predicate::And(parts)
            }
            Expr::Or(left, right) => {
                let mut parts = Vec::new();
                for side in [left, right] {
                    match self.compile(side)? {
                        Predicate::Or(inner) => parts.extend(inner),
                        other => parts.push(other),
                    }
                }
                Predicate::Or(parts)
            }
            Expr::Not(inner) => Predicate::Not(Box::new(self.compile(inner)?)),
            Expr::Compare { property, op, literal } => {
                let (column, edm_type) = self.column(property)?;
                if literal.value == Literal::Null {
                    return match op {
                        CompareOp::Eq => Ok(Predicate::Null { column, is_null: true }),
                        CompareOp::Ne => Ok(Predicate::Null { column, is_null: false }),
                        _ => Err(self.error("null can only be compared with eq or ne".into(), &literal.span)),
                    };
                }
                Predicate::Compare { column, op: *op, constant: self.constant(literal, edm_type, &property.value)? }
            }
            Expr::In { property, literals } => {
                let (column, edm_type) = self.column(property)?;
                if column == self.schema.key_index && literals.len() > self.max_ids {
                    return Err(self.error(
                        format!("the ID list has {} values; the limit is {}", literals.len(), self.max_ids),
                        &property.span,
                    ));
                }
                if edm_type == EdmType::String
                    && literals.iter().all(|literal| matches!(literal.value, Literal::String(_)))
                {
                    let mut values: Vec<Box<str>> = literals
                        .iter()
                        .filter_map(|literal| match &literal.value {
                            Literal::String(text) => Some(fold(text).into_owned().into_boxed_str()),
                            _ => None,
                        })
                        .collect();
                    values.sort_unstable();
                    values.dedup();
                    Predicate::InText { column, values }
                } else {
                    let mut alternatives = Vec::new();
                    for literal in literals {
                        alternatives.push(if literal.value == Literal::Null {
                            Predicate::Null { column, is_null: true }
                        } else {
                            Predicate::Compare {
                                column,
                                op: CompareOp::Eq,
                                constant: self.constant(literal, edm_type, &property.value)?,
                            }
                        });
                    }
                    Predicate::Or(alternatives)
                }
            }
            Expr::Text { function, property, argument, expected } => {
                let (column, edm_type) = self.column(property)?;
                if edm_type != EdmType::String {
                    return Err(self.error(
                        format!("{function:?} needs a string property; '{}' is {edm_type}", property.value),
                        &property.span,
                    ));
                }
                let Literal::String(text) = &argument.value else {
                    return Err(self.error("the search text must be a quoted string".into(), &argument.span));
                };
                let folded = fold(text).into_owned().into_boxed_str();
                match function {
                    TextFunction::StartsWith => Predicate::StartsWith { column, prefix: folded, expected: *expected },
                    TextFunction::EndsWith => Predicate::EndsWith { column, suffix: folded, expected: *expected },
                }
            }
            Expr::Like { property, pattern } => {
                let (column, edm_type) = self.column(property)?;
                if edm_type != EdmType::String {
                    return Err(self.error(
                        format!("LIKE needs a string property; '{}' is {edm_type}", property.value),
                        &property.span,
                    ));
                }
                Predicate::Like { column, pattern: LikePattern::new(&fold(&pattern.value)) }
            }
            Expr::Intersects { property, wkt } => {
                if !fields::is_spatial_name(self.schema, &property.value) {
                    return Err(self.error(
                        format!("'{}' is not the geometry: name it 'geometry'", property.value),
                        &property.span,
                    ));
                }
                let shape = Shape::parse(&wkt.value, self.max_shape_points, "S_INTERSECTS")
                    .map_err(|error| self.error(error.to_string(), &wkt.span))?;
                Predicate::Intersects(SharedShape(Arc::new(shape)))
            }
        })
    }

    fn column(&self, property: &Located<String>) -> Result<(usize, EdmType), FilterError> {
        let field = fields::resolve(self.schema, &property.value).ok_or_else(|| {
            self.error(format!("the data source has no property '{}'", property.value), &property.span)
        })?;
        if fields::is_coordinate(self.schema, field) {
            return Err(self.error(
                format!("'{}' cannot be filtered on: use a spatial filter for locations", property.value),
                &property.span,
            ));
        }
        let Field::Property(column) = field else {
            return Err(self.error(format!("'{}' cannot be filtered on", property.value), &property.span));
        };
        let edm_type = self.schema.properties[column].edm_type;
        if edm_type == EdmType::Geography {
            return Err(self.error(
                format!("'{}' is a geography and cannot be filtered on: use spatialFilter=intersects", property.value),
                &property.span,
            ));
        }
        Ok((column, edm_type))
    }

    fn constant(&self, literal: &Located<Literal>, edm_type: EdmType, property: &str) -> Result<Constant, FilterError> {
        let mismatch =
            || self.error(format!("the value does not fit property '{property}', which is {edm_type}"), &literal.span);
        let constant = match (&literal.value, edm_type) {
            (Literal::String(text), EdmType::String) => Constant::Text(fold(text).into_owned().into_boxed_str()),
            (Literal::Number(text), EdmType::Int64) => match text.parse::<i64>() {
                Ok(number) => Constant::Int64(number),
                Err(_) => Constant::Double(parse_double(text).ok_or_else(mismatch)?),
            },
            (Literal::Number(text), EdmType::Double) => Constant::Double(parse_double(text).ok_or_else(mismatch)?),
            (Literal::Boolean(flag), EdmType::Boolean) => Constant::Boolean(*flag),
            // The docs write `IsWifiHotSpot eq 1`.
            (Literal::Number(text), EdmType::Boolean) if text == "1" || text == "0" => Constant::Boolean(text == "1"),
            (Literal::DateTime(text) | Literal::String(text), EdmType::DateTime) => Constant::DateTime(
                Timestamp::parse(text)
                    .ok_or_else(|| self.error(format!("'{text}' is not a valid date and time"), &literal.span))?,
            ),
            _ => return Err(mismatch()),
        };
        Ok(constant)
    }
}

impl Predicate {
    pub fn matches(&self, table: &Table, row: u32) -> bool {
        match self {
            Predicate::And(parts) => parts.iter().all(|part| part.matches(table, row)),
            Predicate::Or(parts) => parts.iter().any(|part| part.matches(table, row)),
            Predicate::Not(inner) => !inner.matches(table, row),
            Predicate::Null { column, is_null } => (table.cell(*column, row) == Cell::Null) == *is_null,
            Predicate::Compare { column, op, constant } => match (table.cell(*column, row), constant, op) {
                // Equality needs no ordering: skip the second folded pass.
                (Cell::String(text), Constant::Text(folded), CompareOp::Eq) => eq_folded(text, folded),
                (Cell::String(text), Constant::Text(folded), CompareOp::Ne) => !eq_folded(text, folded),
                (cell, constant, op) => compare(cell, constant).is_some_and(|ordering| holds(*op, ordering)),
            },
            Predicate::InText { column, values } => match table.cell(*column, row) {
                Cell::String(text) => values.binary_search_by(|value| cmp_folded(text, value).reverse()).is_ok(),
                _ => false,
            },
            Predicate::StartsWith { column, prefix, expected } => match table.cell(*column, row) {
                Cell::String(text) => starts_with_folded(text, prefix) == *expected,
                _ => false,
            },
            Predicate::EndsWith { column, suffix, expected } => match table.cell(*column, row) {
                Cell::String(text) => ends_with_folded(text, suffix) == *expected,
                _ => false,
            },
            Predicate::Like { column, pattern } => match table.cell(*column, row) {
                Cell::String(text) => pattern.matches(&fold(text)),
                _ => false,
            },
            Predicate::Intersects(SharedShape(shape)) => match table.geometry(row) {
                Some(geometry) => shape.intersects_geometry(geometry),
                None => shape.intersects_point(table.longitude(row), table.latitude(row)),
            },
        }
    }
}

fn holds(op: CompareOp, ordering: Ordering) -> bool {
    match op {
        CompareOp::Eq => ordering.is_eq(),
        CompareOp::Ne => ordering.is_ne(),
        CompareOp::Gt => ordering.is_gt(),
        CompareOp::Ge => ordering.is_ge(),
        CompareOp::Lt => ordering.is_lt(),
        CompareOp::Le => ordering.is_le(),
    }
}

/// The cell compared with the constant; `None` for null (which matches
/// nothing but `eq null`/`ne null`) and NaN.
pub(crate) fn compare(cell: Cell<'_>, constant: &Constant) -> Option<Ordering> {
    match (cell, constant) {
        (Cell::String(text), Constant::Text(folded)) => {
            if eq_folded(text, folded) {
                Some(Ordering::Equal)
            } else {
                Some(cmp_folded(text, folded))
            }
        }
        (Cell::Int64(value), Constant::Int64(constant)) => Some(value.cmp(constant)),
        (Cell::Int64(value), Constant::Double(constant)) => (value as f64).partial_cmp(constant),
        (Cell::Double(value), Constant::Double(constant)) => value.partial_cmp(constant),
        (Cell::Boolean(value), Constant::Boolean(constant)) => Some(value.cmp(constant)),
        (Cell::DateTime(value), Constant::DateTime(constant)) => Some(value.cmp(constant)),
        _ => None,
    }
}
