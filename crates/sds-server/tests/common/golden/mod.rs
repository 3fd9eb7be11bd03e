//! Golden-file comparison for SDS response bodies (JSON and XML envelopes).
//!
//! Golden files live under `crates/sds-server/tests/golden/` and describe the
//! wire contract (SPEC.md), not whatever the server happens to emit.
//!
//! # Placeholders
//!
//! Inside any golden string value (JSON string, XML text, XML attribute value)
//! `{{name}}` is a placeholder:
//!
//! * a name present in `vars` is replaced by that literal value;
//! * otherwise it must be one of the pattern kinds below, matched against the
//!   corresponding part of the actual value:
//!   - `{{hex32}}`      32 lowercase hex digits
//!   - `{{jobId}}`      hex32, *bound*: every `{{jobId}}` in one document must be the same value
//!   - `{{accessId}}`   hex32, bound like `{{jobId}}` (or pass `accessId` in `vars` to pin it)
//!   - `{{traceId}}`    any non-empty string
//!   - `{{nonempty}}`   any non-empty string
//!   - `{{rfc1123}}`    e.g. `Fri, 12 Nov 2010 20:03:56 GMT` (weekday checked against the date)
//!   - `{{xsdatetime}}` e.g. `2026-11-28T19:20:08.1234567Z` (UTC, exactly 7 fraction digits)
//!   - `{{isodate}}`    e.g. `2026-11-28T19:20:08Z` (xs:dateTime in UTC without fraction digits)
//!   - `{{int}}`        optional `-` and digits
//!   - `{{any}}`        anything, including the empty string
//! * `{{kind:label}}` is a kind from the list above whose value is bound to
//!   `label`: all occurrences of the same label in one document must be equal
//!   (e.g. `{{nonempty:msg}}` in both `errorMessage` and `errorDetails`).
//!
//! Placeholders may be embedded, e.g. `{{root}}/dataflows/LoadDataSource/{{jobId}}`.
//! In JSON a golden value that is exactly `"{{any}}"` matches any JSON value, and
//! one that is exactly `"{{int}}"` matches only a JSON integer *number* (use a
//! labelled `"{{int:n}}"` or an embedded form to match a string of digits).
//!
//! # Rules
//!
//! JSON: same key sets (missing/extra keys reported by path), arrays with the same
//! length and order, numbers/booleans/null exact. Key order is ignored except that
//! every object of the *actual* text that has a `"__type"` member must have it first;
//! duplicate keys in the actual text are an error.
//!
//! XML: elements compared by namespace URI + local name, children strictly in
//! order, attributes by namespace-resolved name (namespace declarations are not
//! attributes), text trimmed. Every namespace declaration (`xmlns`/`xmlns:p`) written
//! on a golden element must also be present, with the same prefix and URI, on the
//! corresponding actual element (extra declarations are allowed). Comments,
//! processing instructions and the XML declaration are ignored.
#![allow(dead_code)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};
use serde_json::Value;

mod json;
#[cfg(test)]
mod selftest;
mod xml;

use json::*;
use xml::*;

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

/// Directory holding the golden files.
pub fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("golden")
}

/// Reads a golden file (path relative to `tests/golden/`).
pub fn read_golden(golden_relative_path: &str) -> String {
    let path = golden_dir().join(golden_relative_path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read golden file {}: {e}", path.display()))
}

/// Compares `actual` (a JSON document) with the golden file; panics with a readable diff.
pub fn assert_json_golden(golden_relative_path: &str, actual: &str, vars: &[(&str, &str)]) {
    let golden = read_golden(golden_relative_path);
    assert_json_matches(golden_relative_path, &golden, actual, vars);
}

/// Compares `actual` (an XML document) with the golden file; panics with a readable diff.
pub fn assert_xml_golden(golden_relative_path: &str, actual: &str, vars: &[(&str, &str)]) {
    let golden = read_golden(golden_relative_path);
    assert_xml_matches(golden_relative_path, &golden, actual, vars);
}

/// Like [`assert_json_golden`] with the golden text given inline; `label` names it in messages.
pub fn assert_json_matches(label: &str, golden: &str, actual: &str, vars: &[(&str, &str)]) {
    if let Err(report) = compare_json(golden, actual, vars) {
        panic!(
            "JSON golden mismatch ({label}):\n{report}\n--- expected (golden, vars substituted) ---\n{}\n--- actual ---\n{}\n",
            pretty_json(&substitute_vars_for_display(golden, vars)),
            pretty_json(actual)
        );
    }
}

/// Like [`assert_xml_golden`] with the golden text given inline; `label` names it in messages.
pub fn assert_xml_matches(label: &str, golden: &str, actual: &str, vars: &[(&str, &str)]) {
    if let Err(report) = compare_xml(golden, actual, vars) {
        panic!(
            "XML golden mismatch ({label}):\n{report}\n--- expected (golden, vars substituted) ---\n{}\n--- actual ---\n{}\n",
            pretty_xml(&substitute_vars_for_display(golden, vars)),
            pretty_xml(actual)
        );
    }
}

/// Non-panicking JSON comparison: `Err` holds one line per difference.
pub fn compare_json(golden: &str, actual: &str, vars: &[(&str, &str)]) -> Result<(), String> {
    let g: Value = serde_json::from_str(golden).map_err(|e| format!("golden is not valid JSON: {e}"))?;
    let a: Value = serde_json::from_str(actual).map_err(|e| format!("actual is not valid JSON: {e}"))?;
    let mut cx = Cx::new(vars);
    cmp_json(&mut cx, "", &g, &a);
    if let Err(e) = check_json_key_order(actual) {
        cx.errs.extend(e);
    }
    cx.finish()
}

/// Non-panicking XML comparison: `Err` holds one line per difference.
pub fn compare_xml(golden: &str, actual: &str, vars: &[(&str, &str)]) -> Result<(), String> {
    let g = parse_xml(golden).map_err(|e| format!("golden is not valid XML: {e}"))?;
    let a = parse_xml(actual).map_err(|e| format!("actual is not valid XML: {e}"))?;
    let mut cx = Cx::new(vars);
    if g.ns != a.ns || g.local != a.local {
        cx.err(format!("/: expected root element {} but got {}", g.display_name(), a.display_name()));
    } else {
        let path = format!("/{}", g.local);
        cmp_xml(&mut cx, &path, &g, &a);
    }
    cx.finish()
}

// ---------------------------------------------------------------------------
// Comparison context and placeholder patterns
// ---------------------------------------------------------------------------

pub(super) struct Cx<'v> {
    pub(super) vars: &'v [(&'v str, &'v str)],
    pub(super) binds: HashMap<String, String>,
    pub(super) errs: Vec<String>,
}

impl<'v> Cx<'v> {
    pub(super) fn new(vars: &'v [(&'v str, &'v str)]) -> Self {
        Cx { vars, binds: HashMap::new(), errs: Vec::new() }
    }

    pub(super) fn err(&mut self, msg: String) {
        self.errs.push(msg);
    }

    pub(super) fn finish(self) -> Result<(), String> {
        if self.errs.is_empty() {
            Ok(())
        } else {
            let mut s = format!("{} difference(s):\n", self.errs.len());
            for e in &self.errs {
                let _ = writeln!(s, "  {e}");
            }
            Err(s)
        }
    }

    /// Matches `actual` against the golden pattern string; records an error on failure.
    pub(super) fn match_str(&mut self, path: &str, golden: &str, actual: &str) {
        match compile(golden, self.vars) {
            Err(e) => self.err(format!("{path}: bad golden value {golden:?}: {e}")),
            Ok(segs) => {
                let mut binds = self.binds.clone();
                if match_segs(&segs, actual, &mut binds) {
                    self.binds = binds;
                } else {
                    let mut hint = String::new();
                    for s in &segs {
                        if let Seg::Pat(_, Some(label)) = s {
                            if let Some(v) = self.binds.get(label) {
                                let _ = write!(hint, " ({label} is bound to {v:?})");
                            }
                        }
                    }
                    self.err(format!("{path}: expected {golden:?} but got {actual:?}{hint}"));
                }
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Kind {
    Hex32,
    NonEmpty,
    Rfc1123,
    XsDateTime,
    IsoDate,
    Int,
    Any,
}

#[derive(Debug)]
pub(super) enum Seg {
    Lit(String),
    /// Pattern with an optional binding label.
    Pat(Kind, Option<String>),
}

pub(super) fn kind_of(name: &str) -> Option<Kind> {
    Some(match name {
        "hex32" | "jobId" | "accessId" => Kind::Hex32,
        "traceId" | "nonempty" => Kind::NonEmpty,
        "rfc1123" => Kind::Rfc1123,
        "xsdatetime" => Kind::XsDateTime,
        "isodate" => Kind::IsoDate,
        "int" => Kind::Int,
        "any" => Kind::Any,
        _ => return None,
    })
}

/// Splits a golden string into literal segments and placeholders.
pub(super) fn compile(golden: &str, vars: &[(&str, &str)]) -> Result<Vec<Seg>, String> {
    let mut segs = Vec::new();
    let mut lit = String::new();
    let mut rest = golden;
    while let Some(start) = rest.find("{{") {
        lit.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| "unterminated `{{` placeholder".to_string())?;
        let name = after[..end].trim();
        rest = &after[end + 2..];
        if let Some((_, v)) = vars.iter().find(|(k, _)| *k == name) {
            lit.push_str(v);
            continue;
        }
        let (kind_name, label) = match name.split_once(':') {
            Some((k, l)) => (k.trim(), Some(l.trim().to_string())),
            None => (name, None),
        };
        let kind = kind_of(kind_name)
            .ok_or_else(|| format!("unknown placeholder {{{{{name}}}}} (not a pattern kind and not in vars)"))?;
        let label = label.or_else(|| match kind_name {
            "jobId" | "accessId" => Some(kind_name.to_string()),
            _ => None,
        });
        if !lit.is_empty() {
            segs.push(Seg::Lit(std::mem::take(&mut lit)));
        }
        segs.push(Seg::Pat(kind, label));
    }
    lit.push_str(rest);
    if !lit.is_empty() {
        segs.push(Seg::Lit(lit));
    }
    Ok(segs)
}

/// Backtracking matcher over the segments; `binds` is updated only on success paths.
pub(super) fn match_segs(segs: &[Seg], s: &str, binds: &mut HashMap<String, String>) -> bool {
    let Some((first, rest)) = segs.split_first() else {
        return s.is_empty();
    };
    match first {
        Seg::Lit(l) => s.strip_prefix(l.as_str()).is_some_and(|r| match_segs(rest, r, binds)),
        Seg::Pat(kind, label) => {
            if let Some(bound) = label.as_ref().and_then(|l| binds.get(l)).cloned() {
                return s.strip_prefix(bound.as_str()).is_some_and(|r| match_segs(rest, r, binds));
            }
            for end in candidate_ends(*kind, s) {
                let (head, tail) = s.split_at(end);
                if !kind_accepts(*kind, head) {
                    continue;
                }
                let snapshot = binds.clone();
                if let Some(l) = label {
                    binds.insert(l.clone(), head.to_string());
                }
                if match_segs(rest, tail, binds) {
                    return true;
                }
                *binds = snapshot;
            }
            false
        }
    }
}

/// Candidate lengths (byte offsets on char boundaries) a pattern may consume, longest first.
pub(super) fn candidate_ends(kind: Kind, s: &str) -> Vec<usize> {
    let fixed = match kind {
        Kind::Hex32 => Some(32),
        Kind::Rfc1123 => Some(29),
        Kind::XsDateTime => Some(28),
        Kind::IsoDate => Some(20),
        _ => None,
    };
    match fixed {
        Some(n) => {
            if s.len() >= n && s.is_char_boundary(n) {
                vec![n]
            } else {
                vec![]
            }
        }
        None => {
            let mut ends: Vec<usize> = s.char_indices().map(|(i, _)| i).collect();
            ends.push(s.len());
            ends.reverse();
            ends
        }
    }
}

pub(super) fn kind_accepts(kind: Kind, v: &str) -> bool {
    match kind {
        Kind::Any => true,
        Kind::NonEmpty => !v.is_empty(),
        Kind::Hex32 => v.len() == 32 && v.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
        Kind::Int => {
            let d = v.strip_prefix('-').unwrap_or(v);
            !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())
        }
        Kind::Rfc1123 => is_rfc1123(v),
        Kind::XsDateTime => is_xs_datetime(v),
        Kind::IsoDate => is_iso_date(v),
    }
}

pub(super) fn digits(s: &str) -> Option<u32> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

pub(super) fn valid_time(h: &str, m: &str, s: &str) -> bool {
    match (digits(h), digits(m), digits(s)) {
        (Some(h), Some(m), Some(s)) => NaiveTime::from_hms_opt(h, m, s).is_some(),
        _ => false,
    }
}

/// `Fri, 12 Nov 2010 20:03:56 GMT`
pub(super) fn is_rfc1123(v: &str) -> bool {
    const DAYS: [(&str, Weekday); 7] = [
        ("Mon", Weekday::Mon),
        ("Tue", Weekday::Tue),
        ("Wed", Weekday::Wed),
        ("Thu", Weekday::Thu),
        ("Fri", Weekday::Fri),
        ("Sat", Weekday::Sat),
        ("Sun", Weekday::Sun),
    ];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let b = v.as_bytes();
    if v.len() != 29 || !v.is_ascii() {
        return false;
    }
    if &v[3..5] != ", "
        || b[7] != b' '
        || b[11] != b' '
        || b[16] != b' '
        || b[19] != b':'
        || b[22] != b':'
        || &v[25..] != " GMT"
    {
        return false;
    }
    let Some(&(_, wd)) = DAYS.iter().find(|(n, _)| *n == &v[0..3]) else {
        return false;
    };
    let Some(month) = MONTHS.iter().position(|m| *m == &v[8..11]) else {
        return false;
    };
    let (Some(day), Some(year)) = (digits(&v[5..7]), digits(&v[12..16])) else {
        return false;
    };
    let Some(date) = NaiveDate::from_ymd_opt(year as i32, month as u32 + 1, day) else {
        return false;
    };
    date.weekday() == wd && valid_time(&v[17..19], &v[20..22], &v[23..25])
}

/// `2026-11-28T19:20:08.1234567Z`
pub(super) fn is_xs_datetime(v: &str) -> bool {
    let b = v.as_bytes();
    if v.len() != 28 || !v.is_ascii() {
        return false;
    }
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'.' || b[27] != b'Z'
    {
        return false;
    }
    let (Some(y), Some(mo), Some(d)) = (digits(&v[0..4]), digits(&v[5..7]), digits(&v[8..10])) else {
        return false;
    };
    NaiveDate::from_ymd_opt(y as i32, mo, d).is_some()
        && valid_time(&v[11..13], &v[14..16], &v[17..19])
        && digits(&v[20..27]).is_some()
}

/// `2026-11-28T19:20:08Z`
pub(super) fn is_iso_date(v: &str) -> bool {
    let b = v.as_bytes();
    if v.len() != 20 || !v.is_ascii() {
        return false;
    }
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'Z' {
        return false;
    }
    let (Some(y), Some(mo), Some(d)) = (digits(&v[0..4]), digits(&v[5..7]), digits(&v[8..10])) else {
        return false;
    };
    NaiveDate::from_ymd_opt(y as i32, mo, d).is_some() && valid_time(&v[11..13], &v[14..16], &v[17..19])
}

pub(super) fn substitute_vars_for_display(golden: &str, vars: &[(&str, &str)]) -> String {
    let mut s = golden.to_string();
    for (k, v) in vars {
        s = s.replace(&format!("{{{{{k}}}}}"), v);
    }
    s
}
