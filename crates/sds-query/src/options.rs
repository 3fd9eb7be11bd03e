//! The OData options of a query that name properties or counts
//! (`$select`, `$orderby`, `$top`, `$skip`), parsed and checked against the
//! schema for [`crate::plan::Query::compile`] (SPEC §5).

use sds_core::Schema;

use crate::fields::{self, Field};
use crate::plan::{OrderKey, QueryLimits};
use crate::spatial::Shape;
use crate::QueryError;

fn invalid(message: impl Into<String>) -> QueryError {
    QueryError::Invalid(message.into())
}

pub(crate) fn parse_count(text: &str, name: &str) -> Result<usize, QueryError> {
    text.parse::<u64>()
        .map(|value| value.min(usize::MAX as u64) as usize)
        .map_err(|_| invalid(format!("{name} '{text}' is invalid: it must be a whole number of at least 0")))
}

/// Splits on commas outside quotes and parentheses.
fn split_top_level(text: &str) -> Vec<&str> {
    let (mut parts, mut depth, mut quoted, mut start) = (Vec::new(), 0i32, false, 0);
    for (index, character) in text.char_indices() {
        match character {
            '\'' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            ',' if !quoted && depth <= 0 => {
                parts.push(&text[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

pub(crate) fn parse_select(
    schema: &Schema,
    select: Option<&str>,
    has_distance: bool,
    limits: &QueryLimits,
) -> Result<(Vec<Field>, Option<Shape>), QueryError> {
    let Some(text) = select.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok((fields::all(schema), None));
    };
    let (mut selected, mut intersection) = (Vec::new(), None);
    for item in split_top_level(text) {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        if item == "*" {
            selected.extend(fields::all(schema));
            continue;
        }
        if item.len() > 12
            && item[..12].eq_ignore_ascii_case("intersection")
            && item[12..].trim_start().starts_with('(')
        {
            let inner = item[12..].trim_start()[1..].trim_end();
            let inner = inner.strip_suffix(')').unwrap_or(inner).trim();
            let wkt = inner.strip_prefix('\'').map_or(inner, |rest| rest.strip_suffix('\'').unwrap_or(rest));
            intersection =
                Some(Shape::parse(&wkt.replace("''", "'"), limits.max_shape_points, "$select intersection")?);
            selected.push(Field::IntersectedGeom);
            continue;
        }
        let field = fields::resolve(schema, item)
            .ok_or_else(|| invalid(format!("$select: the data source has no property '{item}'")))?;
        if field == Field::Distance && !has_distance {
            return Err(invalid("$select: __Distance needs a nearby, bbox or nearRoute spatial filter"));
        }
        selected.push(field);
    }
    let mut unique = Vec::with_capacity(selected.len());
    for field in selected {
        if !unique.contains(&field) {
            unique.push(field);
        }
    }
    Ok((unique, intersection))
}

pub(crate) fn parse_orderby(
    schema: &Schema,
    orderby: Option<&str>,
    has_distance: bool,
    limits: &QueryLimits,
) -> Result<Vec<OrderKey>, QueryError> {
    let Some(text) = orderby.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(Vec::new());
    };
    let items: Vec<&str> = text.split(',').map(str::trim).filter(|item| !item.is_empty()).collect();
    if items.len() > limits.max_orderby {
        return Err(invalid(format!("$orderby has {} properties; the limit is {}", items.len(), limits.max_orderby)));
    }
    let mut keys = Vec::new();
    for item in items {
        let mut words = item.split_whitespace();
        let name = words.next().unwrap_or_default();
        let descending = match words.next().map(str::to_ascii_lowercase).as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => {
                return Err(invalid(format!("$orderby: '{other}' after '{name}' is invalid: use asc or desc")))
            }
        };
        if words.next().is_some() {
            return Err(invalid(format!("$orderby: '{item}' is invalid: use a property name and asc or desc")));
        }
        let field = fields::resolve(schema, name)
            .ok_or_else(|| invalid(format!("$orderby: the data source has no property '{name}'")))?;
        if fields::is_coordinate(schema, field) {
            return Err(invalid(format!("$orderby: results cannot be sorted by '{name}'")));
        }
        if field == Field::Distance && !has_distance {
            return Err(invalid("$orderby: __Distance needs a nearby, bbox or nearRoute spatial filter"));
        }
        if fields::edm_type(schema, field) == sds_core::EdmType::Geography {
            return Err(invalid(format!("$orderby: results cannot be sorted by the geography '{name}'")));
        }
        keys.push(OrderKey { field, descending });
    }
    Ok(keys)
}
