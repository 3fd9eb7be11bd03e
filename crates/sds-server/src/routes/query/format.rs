//! How a query answers: Atom or JSON, optionally wrapped as JSONP.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::ApiError;
use crate::routes::params::Params;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryFormat {
    Atom,
    Json,
}

pub struct Rendering {
    pub format: QueryFormat,
    /// `jsonp` callback and the optional `jsonso` state passed back.
    pub jsonp: Option<(String, Option<String>)>,
}

impl Rendering {
    /// `$format` (`atom`|`json`); without it `format`, then `output`/`o`
    /// (`xml` = Atom), as doc examples use them; `jsonp` implies JSON.
    pub fn from_params(params: &Params) -> Result<Rendering, ApiError> {
        let jsonp = match params.get("jsonp").filter(|callback| !callback.is_empty()) {
            Some(callback) if is_valid_callback(callback) => {
                Some((callback.to_owned(), params.get("jsonso").map(str::to_owned)))
            }
            Some(_) => {
                return Err(ApiError::bad_request(
                    "the 'jsonp' callback is invalid: use a JavaScript name of letters, digits, '_', '$' and '.'",
                ))
            }
            None => None,
        };
        let format = match params.get_any(&["$format", "format"]).map(str::to_ascii_lowercase).as_deref() {
            Some("json") => QueryFormat::Json,
            Some("atom") | Some("xml") => QueryFormat::Atom,
            Some("") | None => match params.get_any(&["output", "o"]).map(str::to_ascii_lowercase).as_deref() {
                Some("json") => QueryFormat::Json,
                _ => QueryFormat::Atom,
            },
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "the '$format' parameter '{other}' is invalid: use atom or json"
                )))
            }
        };
        let format = if jsonp.is_some() { QueryFormat::Json } else { format };
        Ok(Rendering { format, jsonp })
    }
}

fn is_valid_callback(callback: &str) -> bool {
    let mut characters = callback.chars();
    callback.len() <= 128
        && characters.next().is_some_and(|first| first.is_ascii_alphabetic() || first == '_' || first == '$')
        && characters.all(|rest| rest.is_ascii_alphanumeric() || rest == '_' || rest == '$' || rest == '.')
}

/// `uuid:{guid};id={n}`: a feed id unique per response.
pub fn feed_id(trace_id: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    let hex: String = trace_id.chars().filter(char::is_ascii_hexdigit).chain(std::iter::repeat('0')).take(32).collect();
    format!(
        "uuid:{}-{}-{}-{}-{};id={}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32],
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn updated_now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_comes_from_format_parameters_or_jsonp() {
        let format = |query| Rendering::from_params(&Params::parse(Some(query))).map(|rendering| rendering.format);
        assert_eq!(format("a=1").unwrap(), QueryFormat::Atom);
        assert_eq!(format("$format=JSON").unwrap(), QueryFormat::Json);
        assert_eq!(format("format=json").unwrap(), QueryFormat::Json);
        assert_eq!(format("output=json").unwrap(), QueryFormat::Json);
        assert_eq!(format("o=xml").unwrap(), QueryFormat::Atom);
        assert_eq!(format("jsonp=cb").unwrap(), QueryFormat::Json);
        assert!(format("$format=csv").is_err());
        assert!(format("jsonp=alert(1)").is_err());
    }

    #[test]
    fn feed_ids_look_like_uuids() {
        let id = feed_id("0123456789abcdef0123456789abcdef");
        assert!(id.starts_with("uuid:01234567-89ab-cdef-0123-456789abcdef;id="), "{id}");
    }
}
