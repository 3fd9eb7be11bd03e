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

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::PathBuf;

use chrono::{Datelike, NaiveDate, NaiveTime, Weekday};
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use serde_json::Value;

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

struct Cx<'v> {
    vars: &'v [(&'v str, &'v str)],
    binds: HashMap<String, String>,
    errs: Vec<String>,
}

impl<'v> Cx<'v> {
    fn new(vars: &'v [(&'v str, &'v str)]) -> Self {
        Cx { vars, binds: HashMap::new(), errs: Vec::new() }
    }

    fn err(&mut self, msg: String) {
        self.errs.push(msg);
    }

    fn finish(self) -> Result<(), String> {
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
    fn match_str(&mut self, path: &str, golden: &str, actual: &str) {
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
enum Kind {
    Hex32,
    NonEmpty,
    Rfc1123,
    XsDateTime,
    IsoDate,
    Int,
    Any,
}

#[derive(Debug)]
enum Seg {
    Lit(String),
    /// Pattern with an optional binding label.
    Pat(Kind, Option<String>),
}

fn kind_of(name: &str) -> Option<Kind> {
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
fn compile(golden: &str, vars: &[(&str, &str)]) -> Result<Vec<Seg>, String> {
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
fn match_segs(segs: &[Seg], s: &str, binds: &mut HashMap<String, String>) -> bool {
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
fn candidate_ends(kind: Kind, s: &str) -> Vec<usize> {
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

fn kind_accepts(kind: Kind, v: &str) -> bool {
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

fn digits(s: &str) -> Option<u32> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

fn valid_time(h: &str, m: &str, s: &str) -> bool {
    match (digits(h), digits(m), digits(s)) {
        (Some(h), Some(m), Some(s)) => NaiveTime::from_hms_opt(h, m, s).is_some(),
        _ => false,
    }
}

/// `Fri, 12 Nov 2010 20:03:56 GMT`
fn is_rfc1123(v: &str) -> bool {
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
fn is_xs_datetime(v: &str) -> bool {
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
fn is_iso_date(v: &str) -> bool {
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

fn substitute_vars_for_display(golden: &str, vars: &[(&str, &str)]) -> String {
    let mut s = golden.to_string();
    for (k, v) in vars {
        s = s.replace(&format!("{{{{{k}}}}}"), v);
    }
    s
}

// ---------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn cmp_json(cx: &mut Cx, path: &str, g: &Value, a: &Value) {
    let p = if path.is_empty() { "/" } else { path };
    match (g, a) {
        (Value::String(gs), _) if gs.trim() == "{{any}}" => {}
        (Value::String(gs), _) if gs.trim() == "{{int}}" => match a {
            Value::Number(n) if n.is_i64() || n.is_u64() => {}
            _ => cx.err(format!("{p}: expected a JSON integer number but got {} {}", json_kind(a), short(a))),
        },
        (Value::String(gs), Value::String(as_)) => cx.match_str(p, gs, as_),
        (Value::Object(go), Value::Object(ao)) => {
            for k in go.keys() {
                if !ao.contains_key(k) {
                    cx.err(format!("{path}/{k}: missing key (expected {})", short(&go[k])));
                }
            }
            for k in ao.keys() {
                if !go.contains_key(k) {
                    cx.err(format!("{path}/{k}: unexpected extra key (value {})", short(&ao[k])));
                }
            }
            for (k, gv) in go {
                if let Some(av) = ao.get(k) {
                    cmp_json(cx, &format!("{path}/{k}"), gv, av);
                }
            }
        }
        (Value::Array(ga), Value::Array(aa)) => {
            if ga.len() != aa.len() {
                cx.err(format!("{p}: expected an array of {} element(s) but got {}", ga.len(), aa.len()));
            }
            for (i, (gv, av)) in ga.iter().zip(aa.iter()).enumerate() {
                cmp_json(cx, &format!("{path}/{i}"), gv, av);
            }
        }
        (Value::Number(gn), Value::Number(an)) => {
            if gn != an {
                cx.err(format!("{p}: expected {gn} but got {an}"));
            }
        }
        (Value::Bool(gb), Value::Bool(ab)) => {
            if gb != ab {
                cx.err(format!("{p}: expected {gb} but got {ab}"));
            }
        }
        (Value::Null, Value::Null) => {}
        _ => cx.err(format!("{p}: expected {} {} but got {} {}", json_kind(g), short(g), json_kind(a), short(a))),
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        let t: String = s.chars().take(77).collect();
        format!("{t}...")
    } else {
        s
    }
}

fn pretty_json(s: &str) -> String {
    match serde_json::from_str::<Value>(s) {
        Ok(v) => serde_json::to_string_pretty(&v).unwrap_or_else(|_| s.to_string()),
        Err(_) => s.to_string(),
    }
}

/// Scans the raw JSON text: every object containing `"__type"` must have it as its
/// first member, and no object may repeat a key.
fn check_json_key_order(text: &str) -> Result<(), Vec<String>> {
    let mut sc = Scanner { s: text.as_bytes(), i: 0, errs: Vec::new() };
    sc.ws();
    if let Err(e) = sc.value("") {
        return Err(vec![format!("raw JSON scan failed: {e}")]);
    }
    if sc.errs.is_empty() {
        Ok(())
    } else {
        Err(sc.errs)
    }
}

struct Scanner<'a> {
    s: &'a [u8],
    i: usize,
    errs: Vec<String>,
}

impl Scanner<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected '{}' at byte {}", c as char, self.i))
        }
    }

    fn value(&mut self, path: &str) -> Result<(), String> {
        match self.peek() {
            Some(b'{') => self.object(path),
            Some(b'[') => {
                self.i += 1;
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(());
                }
                let mut idx = 0;
                loop {
                    self.ws();
                    self.value(&format!("{path}/{idx}"))?;
                    self.ws();
                    match self.peek() {
                        Some(b',') => {
                            self.i += 1;
                            idx += 1;
                        }
                        Some(b']') => {
                            self.i += 1;
                            return Ok(());
                        }
                        _ => return Err(format!("bad array at byte {}", self.i)),
                    }
                }
            }
            Some(b'"') => self.string().map(|_| ()),
            Some(_) => {
                while let Some(c) = self.peek() {
                    if matches!(c, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.i += 1;
                }
                Ok(())
            }
            None => Err("unexpected end of JSON".to_string()),
        }
    }

    fn object(&mut self, path: &str) -> Result<(), String> {
        self.expect(b'{')?;
        let mut keys: Vec<String> = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            self.ws();
            let k = self.string()?;
            self.ws();
            self.expect(b':')?;
            self.ws();
            self.value(&format!("{path}/{k}"))?;
            if keys.contains(&k) {
                self.errs.push(format!("{path}/{k}: duplicate key in actual JSON object"));
            }
            keys.push(k);
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    break;
                }
                _ => return Err(format!("bad object at byte {}", self.i)),
            }
        }
        if keys.iter().any(|k| k == "__type") && keys[0] != "__type" {
            let p = if path.is_empty() { "/" } else { path };
            self.errs.push(format!(
                "{p}: \"__type\" must be the first member of the object, but the members are in the order {keys:?}"
            ));
        }
        Ok(())
    }

    fn string(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let mut out: Vec<u16> = Vec::new();
        let mut bytes: Vec<u8> = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return Err("unterminated string".to_string());
            };
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let e = self.peek().ok_or("bad escape")?;
                    self.i += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hex = self.s.get(self.i..self.i + 4).ok_or("bad \\u escape")?;
                            let hex = std::str::from_utf8(hex).map_err(|e| e.to_string())?;
                            let unit = u16::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
                            self.i += 4;
                            flush_utf8(&mut bytes, &mut out);
                            out.push(unit);
                            continue;
                        }
                        _ => return Err(format!("bad escape at byte {}", self.i)),
                    };
                    let mut buf = [0u8; 4];
                    bytes.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                _ => bytes.push(c),
            }
        }
        flush_utf8(&mut bytes, &mut out);
        Ok(String::from_utf16_lossy(&out))
    }
}

fn flush_utf8(bytes: &mut Vec<u8>, out: &mut Vec<u16>) {
    if !bytes.is_empty() {
        out.extend(String::from_utf8_lossy(bytes).encode_utf16());
        bytes.clear();
    }
}

// ---------------------------------------------------------------------------
// XML
// ---------------------------------------------------------------------------

#[derive(Debug, Default)]
struct XNode {
    ns: Option<String>,
    local: String,
    /// (namespace URI, local name) -> value; namespace declarations excluded.
    attrs: BTreeMap<(Option<String>, String), String>,
    /// Namespace declarations written on this element: prefix ("" = default) -> URI.
    decls: BTreeMap<String, String>,
    children: Vec<XNode>,
    text: String,
}

impl XNode {
    fn display_name(&self) -> String {
        match &self.ns {
            Some(ns) => format!("{{{ns}}}{}", self.local),
            None => self.local.clone(),
        }
    }
}

fn attr_display(k: &(Option<String>, String)) -> String {
    match &k.0 {
        Some(ns) => format!("{{{ns}}}{}", k.1),
        None => k.1.clone(),
    }
}

fn resolved_ns(r: ResolveResult<'_>) -> Result<Option<String>, String> {
    match r {
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Bound(ns) => Ok(Some(String::from_utf8_lossy(ns.as_ref()).into_owned())),
        ResolveResult::Unknown(p) => Err(format!("unknown namespace prefix {:?}", String::from_utf8_lossy(&p))),
    }
}

fn parse_xml(text: &str) -> Result<XNode, String> {
    let mut reader = NsReader::from_str(text);
    let mut stack: Vec<XNode> = Vec::new();
    let mut root: Option<XNode> = None;
    loop {
        let (ns, ev) = match reader.read_resolved_event() {
            Ok((ns, ev)) => (resolved_ns(ns), ev),
            Err(e) => return Err(e.to_string()),
        };
        let ns = ns?;
        match ev {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let mut node = XNode {
                    ns,
                    local: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                    ..XNode::default()
                };
                for attr in e.attributes().with_checks(true) {
                    let attr = attr.map_err(|e| e.to_string())?;
                    let value = attr.unescape_value().map_err(|e| e.to_string())?.into_owned();
                    if let Some(decl) = attr.key.as_namespace_binding() {
                        let prefix = match decl {
                            quick_xml::name::PrefixDeclaration::Default => String::new(),
                            quick_xml::name::PrefixDeclaration::Named(p) => String::from_utf8_lossy(p).into_owned(),
                        };
                        node.decls.insert(prefix, value);
                        continue;
                    }
                    let (ans, local) = reader.resolve_attribute(attr.key);
                    let ans = resolved_ns(ans)?;
                    let local = String::from_utf8_lossy(local.as_ref()).into_owned();
                    node.attrs.insert((ans, local), value);
                }
                if matches!(ev, Event::Start(_)) {
                    stack.push(node);
                } else {
                    attach(&mut stack, &mut root, node)?;
                }
            }
            Event::End(_) => {
                let mut node = stack.pop().ok_or("unbalanced end tag")?;
                node.text = node.text.trim().to_string();
                attach(&mut stack, &mut root, node)?;
            }
            Event::Text(ref t) => {
                let s = t.decode().map_err(|e| e.to_string())?;
                push_text(&mut stack, &s)?;
            }
            Event::CData(ref t) => {
                let s = t.decode().map_err(|e| e.to_string())?;
                push_text(&mut stack, &s)?;
            }
            Event::GeneralRef(ref r) => {
                let s = if r.is_char_ref() {
                    r.resolve_char_ref().map_err(|e| e.to_string())?.ok_or("bad character reference")?.to_string()
                } else {
                    let name = r.decode().map_err(|e| e.to_string())?;
                    match name.as_ref() {
                        "amp" => "&".to_string(),
                        "lt" => "<".to_string(),
                        "gt" => ">".to_string(),
                        "quot" => "\"".to_string(),
                        "apos" => "'".to_string(),
                        other => return Err(format!("unknown entity &{other};")),
                    }
                };
                push_text(&mut stack, &s)?;
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err("unclosed element at end of document".to_string());
    }
    root.ok_or_else(|| "no root element".to_string())
}

fn push_text(stack: &mut [XNode], s: &str) -> Result<(), String> {
    match stack.last_mut() {
        Some(n) => {
            n.text.push_str(s);
            Ok(())
        }
        None if s.trim().is_empty() => Ok(()),
        None => Err(format!("text outside the root element: {s:?}")),
    }
}

fn attach(stack: &mut [XNode], root: &mut Option<XNode>, node: XNode) -> Result<(), String> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(node),
        None => {
            if root.is_some() {
                return Err("more than one root element".to_string());
            }
            *root = Some(node);
        }
    }
    Ok(())
}

fn cmp_xml(cx: &mut Cx, path: &str, g: &XNode, a: &XNode) {
    // Namespace declarations required by the golden.
    for (prefix, uri) in &g.decls {
        let shown = if prefix.is_empty() { "xmlns".to_string() } else { format!("xmlns:{prefix}") };
        match a.decls.get(prefix) {
            Some(v) if v == uri => {}
            Some(v) => cx.err(format!("{path}: expected {shown}=\"{uri}\" but got {shown}=\"{v}\"")),
            None => cx.err(format!("{path}: missing namespace declaration {shown}=\"{uri}\"")),
        }
    }
    // Attributes.
    for (k, gv) in &g.attrs {
        let ap = format!("{path}/@{}", attr_display(k));
        match a.attrs.get(k) {
            Some(av) => cx.match_str(&ap, gv, av),
            None => cx.err(format!("{ap}: missing attribute (expected {gv:?})")),
        }
    }
    for (k, av) in &a.attrs {
        if !g.attrs.contains_key(k) {
            cx.err(format!("{path}/@{}: unexpected extra attribute (value {av:?})", attr_display(k)));
        }
    }
    // Text.
    if g.children.is_empty() || !g.text.is_empty() || !a.text.is_empty() {
        let before = cx.errs.len();
        cx.match_str(path, &g.text, &a.text);
        if cx.errs.len() > before {
            if let Some(last) = cx.errs.last_mut() {
                *last = format!("{last} (element text)");
            }
        }
    }
    // Children, strictly in order.
    let gnames: Vec<String> = g.children.iter().map(XNode::display_name).collect();
    let anames: Vec<String> = a.children.iter().map(XNode::display_name).collect();
    if gnames != anames {
        cx.err(format!(
            "{path}: child elements differ\n      expected: {}\n      actual:   {}",
            short_names(&g.children),
            short_names(&a.children)
        ));
        // Align by longest common subsequence of names, report the rest, compare the pairs.
        let pairs = lcs_pairs(&gnames, &anames);
        let (mut gi, mut ai) = (0usize, 0usize);
        for &(pg, pa) in pairs.iter().chain(std::iter::once(&(gnames.len(), anames.len()))) {
            while gi < pg {
                cx.err(format!(
                    "{path}: missing child element <{}> (golden position {})",
                    g.children[gi].local,
                    gi + 1
                ));
                gi += 1;
            }
            while ai < pa {
                cx.err(format!(
                    "{path}: unexpected child element <{}> (actual position {})",
                    a.children[ai].local,
                    ai + 1
                ));
                ai += 1;
            }
            gi += 1;
            ai += 1;
        }
        let gsel: Vec<&XNode> = pairs.iter().map(|&(x, _)| &g.children[x]).collect();
        let asel: Vec<&XNode> = pairs.iter().map(|&(_, y)| &a.children[y]).collect();
        compare_children(cx, path, &gsel, &asel);
        return;
    }
    let gsel: Vec<&XNode> = g.children.iter().collect();
    let asel: Vec<&XNode> = a.children.iter().collect();
    compare_children(cx, path, &gsel, &asel);
}

/// Index pairs of a longest common subsequence of two name lists.
fn lcs_pairs(x: &[String], y: &[String]) -> Vec<(usize, usize)> {
    let (n, m) = (x.len(), y.len());
    let mut t = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            t[i][j] = if x[i] == y[j] { t[i + 1][j + 1] + 1 } else { t[i + 1][j].max(t[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < n && j < m {
        if x[i] == y[j] {
            out.push((i, j));
            i += 1;
            j += 1;
        } else if t[i + 1][j] >= t[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

fn compare_children(cx: &mut Cx, path: &str, gs: &[&XNode], as_: &[&XNode]) {
    let mut totals: HashMap<String, usize> = HashMap::new();
    for c in gs {
        *totals.entry(c.display_name()).or_default() += 1;
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (gc, ac) in gs.iter().zip(as_.iter()) {
        let name = gc.display_name();
        let n = seen.entry(name.clone()).or_default();
        *n += 1;
        let child_path =
            if totals[&name] > 1 { format!("{path}/{}[{n}]", gc.local) } else { format!("{path}/{}", gc.local) };
        cmp_xml(cx, &child_path, gc, ac);
    }
}

fn short_names(nodes: &[XNode]) -> String {
    let v: Vec<&str> = nodes.iter().map(|n| n.local.as_str()).collect();
    let nss: Vec<&str> = nodes.iter().filter_map(|n| n.ns.as_deref()).collect();
    let mut uniq: Vec<&str> = Vec::new();
    for n in nss {
        if !uniq.contains(&n) {
            uniq.push(n);
        }
    }
    format!("[{}] (namespaces: {:?})", v.join(", "), uniq)
}

fn pretty_xml(s: &str) -> String {
    let mut reader = quick_xml::Reader::from_str(s);
    reader.config_mut().trim_text(true);
    let mut writer = quick_xml::Writer::new_with_indent(Vec::new(), b' ', 2);
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(e) => {
                if writer.write_event(e).is_err() {
                    return s.to_string();
                }
            }
            Err(_) => return s.to_string(),
        }
    }
    String::from_utf8(writer.into_inner()).unwrap_or_else(|_| s.to_string())
}

// ---------------------------------------------------------------------------
// Self-tests of the comparator (run by every test target that includes `mod common;`)
// ---------------------------------------------------------------------------

const ST_JSON: &str = r#"{
  "authenticationResultCode": "ValidCredentials",
  "resourceSets": [{"estimatedTotal": 1, "resources": [{
    "__type": "DataflowJob:http://schemas.microsoft.com/search/local/ws/rest/v1",
    "id": "{{jobId}}",
    "links": [{"role": "self", "url": "{{root}}/dataflows/LoadDataSource/{{jobId}}"}],
    "createdDate": "{{rfc1123}}",
    "totalEntityCount": "{{int}}",
    "failedEntityCount": 0
  }]}],
  "statusCode": 201,
  "traceId": "{{traceId}}"
}"#;

const ST_ROOT: &str = "http://127.0.0.1:8080/REST/v1";
const ST_ID: &str = "0123456789abcdef0123456789abcdef";

fn st_actual_json() -> String {
    format!(
        r#"{{"statusCode":201,"authenticationResultCode":"ValidCredentials","traceId":"t1","resourceSets":[{{"estimatedTotal":1,"resources":[{{"__type":"DataflowJob:http:\/\/schemas.microsoft.com\/search\/local\/ws\/rest\/v1","id":"{ST_ID}","links":[{{"role":"self","url":"{ST_ROOT}\/dataflows\/LoadDataSource\/{ST_ID}"}}],"createdDate":"Fri, 12 Nov 2010 20:03:56 GMT","totalEntityCount":3,"failedEntityCount":0}}]}}]}}"#
    )
}

const ST_XML: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Response xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://schemas.microsoft.com/search/local/ws/rest/v1">
  <StatusCode>200</StatusCode>
  <ResourceSets><ResourceSet><Resources><DataflowJob>
    <Id>{{jobId}}</Id>
    <Link role="self">{{root}}/dataflows/LoadDataSource/{{jobId}}</Link>
    <Link role="dataSource" name="service">{{root}}/data/{{accessId}}/GoldenShops</Link>
    <CreatedDate>{{xsdatetime}}</CreatedDate>
    <CompletedDate xsi:nil="true" />
  </DataflowJob></Resources></ResourceSet></ResourceSets>
</Response>"#;

fn st_actual_xml() -> String {
    format!(
        r#"<Response xmlns="http://schemas.microsoft.com/search/local/ws/rest/v1" xmlns:i="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><StatusCode> 200 </StatusCode><ResourceSets><ResourceSet><Resources><DataflowJob><Id>{ST_ID}</Id><Link role="self">{ST_ROOT}/dataflows/LoadDataSource/{ST_ID}</Link><Link name="service" role="dataSource">{ST_ROOT}/data/ffffffffffffffffffffffffffffffff/GoldenShops</Link><CreatedDate>2026-11-28T19:20:08.1234567Z</CreatedDate><CompletedDate i:nil="true"></CompletedDate></DataflowJob></Resources></ResourceSet></ResourceSets></Response>"#
    )
}

fn st_vars() -> [(&'static str, &'static str); 1] {
    [("root", ST_ROOT)]
}

#[test]
fn golden_selftest_json_identical_passes() {
    compare_json(ST_JSON, &st_actual_json(), &st_vars()).unwrap();
    assert_json_matches("inline", ST_JSON, &st_actual_json(), &st_vars());
}

#[test]
fn golden_selftest_json_changed_value_fails() {
    let actual = st_actual_json().replace("\"statusCode\":201", "\"statusCode\":200");
    let err = compare_json(ST_JSON, &actual, &st_vars()).unwrap_err();
    assert!(err.contains("/statusCode: expected 201 but got 200"), "{err}");
    let r = std::panic::catch_unwind(|| {
        assert_json_matches("inline", ST_JSON, &actual, &st_vars());
    });
    assert!(r.is_err());
}

#[test]
fn golden_selftest_json_missing_and_extra_keys_fail() {
    let missing = st_actual_json().replace("\"traceId\":\"t1\",", "");
    let err = compare_json(ST_JSON, &missing, &st_vars()).unwrap_err();
    assert!(err.contains("/traceId: missing key"), "{err}");

    let extra = st_actual_json().replace("\"traceId\":\"t1\",", "\"traceId\":\"t1\",\"errorDetails\":[],");
    let err = compare_json(ST_JSON, &extra, &st_vars()).unwrap_err();
    assert!(err.contains("/errorDetails: unexpected extra key"), "{err}");
}

#[test]
fn golden_selftest_json_type_must_be_first() {
    let moved = st_actual_json().replace(
        &format!(
            "\"__type\":\"DataflowJob:http:\\/\\/schemas.microsoft.com\\/search\\/local\\/ws\\/rest\\/v1\",\"id\":\"{ST_ID}\""
        ),
        &format!(
            "\"id\":\"{ST_ID}\",\"__type\":\"DataflowJob:http:\\/\\/schemas.microsoft.com\\/search\\/local\\/ws\\/rest\\/v1\""
        ),
    );
    assert_ne!(moved, st_actual_json());
    let err = compare_json(ST_JSON, &moved, &st_vars()).unwrap_err();
    assert!(err.contains("\"__type\" must be the first member"), "{err}");
    let r = std::panic::catch_unwind(|| assert_json_matches("inline", ST_JSON, &moved, &st_vars()));
    assert!(r.is_err());
}

#[test]
fn golden_selftest_json_duplicate_key_fails() {
    let dup = st_actual_json().replace("\"traceId\":\"t1\"", "\"traceId\":\"t1\",\"traceId\":\"t2\"");
    let err = compare_json(ST_JSON, &dup, &st_vars()).unwrap_err();
    assert!(err.contains("duplicate key"), "{err}");
}

#[test]
fn golden_selftest_json_placeholders() {
    // jobId must be the same in id and link.
    let other = "fedcba9876543210fedcba9876543210";
    let bad = st_actual_json().replacen(&format!("LoadDataSource\\/{ST_ID}"), &format!("LoadDataSource\\/{other}"), 1);
    let err = compare_json(ST_JSON, &bad, &st_vars()).unwrap_err();
    assert!(err.contains("jobId is bound"), "{err}");
    // Uppercase hex is not hex32.
    let upper = st_actual_json().replace(ST_ID, &ST_ID.to_uppercase());
    assert!(compare_json(ST_JSON, &upper, &st_vars()).is_err());
    // Wrong weekday in an RFC 1123 date.
    let wd = st_actual_json().replace("Fri, 12 Nov 2010", "Sat, 12 Nov 2010");
    assert!(compare_json(ST_JSON, &wd, &st_vars()).is_err());
    // {{int}} accepts a number but not a string or a float.
    let s = st_actual_json().replace("\"totalEntityCount\":3", "\"totalEntityCount\":\"3\"");
    assert!(compare_json(ST_JSON, &s, &st_vars()).is_err());
    let f = st_actual_json().replace("\"totalEntityCount\":3", "\"totalEntityCount\":3.5");
    assert!(compare_json(ST_JSON, &f, &st_vars()).is_err());
    // Empty traceId is rejected.
    let t = st_actual_json().replace("\"traceId\":\"t1\"", "\"traceId\":\"\"");
    assert!(compare_json(ST_JSON, &t, &st_vars()).is_err());
    // Different root var fails.
    assert!(compare_json(ST_JSON, &st_actual_json(), &[("root", "https://x/REST/v1")]).is_err());
    // Unknown placeholder is a golden error.
    assert!(compare_json(r#"{"a":"{{nope}}"}"#, r#"{"a":"x"}"#, &[]).is_err());
    // Vars shadow kinds; labelled captures bind across values; {{any}} matches any value.
    compare_json(
        r#"{"a":"{{nonempty:m}}","b":["{{nonempty:m}}"],"c":"{{any}}","d":"x{{any}}y"}"#,
        r#"{"a":"boom","b":["boom"],"c":{"z":1},"d":"xy"}"#,
        &[],
    )
    .unwrap();
    assert!(
        compare_json(r#"{"a":"{{nonempty:m}}","b":["{{nonempty:m}}"]}"#, r#"{"a":"boom","b":["bang"]}"#, &[],).is_err()
    );
    // Embedded pattern with backtracking.
    compare_json(r#"{"a":"{{any}}/x/{{int}}"}"#, r#"{"a":"p/x/q/x/-12"}"#, &[]).unwrap();
}

#[test]
fn golden_selftest_xml_identical_passes() {
    compare_xml(ST_XML, &st_actual_xml(), &st_vars()).unwrap();
    assert_xml_matches("inline", ST_XML, &st_actual_xml(), &st_vars());
}

#[test]
fn golden_selftest_xml_differences_fail() {
    // Changed value.
    let changed = st_actual_xml().replace("<StatusCode> 200 </StatusCode>", "<StatusCode>201</StatusCode>");
    let err = compare_xml(ST_XML, &changed, &st_vars()).unwrap_err();
    assert!(err.contains("/Response/StatusCode"), "{err}");
    assert!(std::panic::catch_unwind(|| assert_xml_matches("inline", ST_XML, &changed, &st_vars())).is_err());
    // Missing attribute / extra attribute.
    let no_nil = st_actual_xml().replace(" i:nil=\"true\"", "");
    let err = compare_xml(ST_XML, &no_nil, &st_vars()).unwrap_err();
    assert!(err.contains("CompletedDate/@{http://www.w3.org/2001/XMLSchema-instance}nil: missing"), "{err}");
    let extra = st_actual_xml().replace("<Link role=\"self\">", "<Link role=\"self\" name=\"x\">");
    let err = compare_xml(ST_XML, &extra, &st_vars()).unwrap_err();
    assert!(err.contains("/Link[1]/@name: unexpected extra attribute"), "{err}");
    // Child order matters.
    let swapped = st_actual_xml()
        .replace(&format!("<Id>{ST_ID}</Id>"), "")
        .replace("<CreatedDate>", &format!("<Id>{ST_ID}</Id><CreatedDate>"));
    let err = compare_xml(ST_XML, &swapped, &st_vars()).unwrap_err();
    assert!(err.contains("child elements differ"), "{err}");
    // Wrong namespace.
    let wrong_ns = st_actual_xml()
        .replace("xmlns=\"http://schemas.microsoft.com/search/local/ws/rest/v1\"", "xmlns=\"urn:other\"");
    assert!(compare_xml(ST_XML, &wrong_ns, &st_vars()).is_err());
    // Missing namespace declaration required by the golden.
    let no_xsi = st_actual_xml().replace(" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"", "");
    let err = compare_xml(ST_XML, &no_xsi, &st_vars()).unwrap_err();
    assert!(err.contains("missing namespace declaration xmlns:xsi"), "{err}");
    // Bad xs:dateTime (6 fraction digits, offset instead of Z).
    let dt = st_actual_xml().replace("2026-11-28T19:20:08.1234567Z", "2026-11-28T19:20:08.123456-08:00");
    assert!(compare_xml(ST_XML, &dt, &st_vars()).is_err());
    // Non-blank text where the golden has none.
    let txt = st_actual_xml().replace("i:nil=\"true\"></CompletedDate>", "i:nil=\"true\">x</CompletedDate>");
    assert!(compare_xml(ST_XML, &txt, &st_vars()).is_err());
}

#[test]
fn golden_selftest_xml_entities_and_vars() {
    compare_xml(
        r#"<a xmlns="urn:x"><b k="{{v}}">A &amp; B {{any}}</b></a>"#,
        r#"<p:a xmlns:p="urn:x" xmlns="urn:x"><p:b k="1&lt;2">A &amp; B &#169; tail</p:b></p:a>"#,
        &[("v", "1<2")],
    )
    .unwrap();
}

#[test]
fn golden_selftest_isodate() {
    let golden = r#"<w xmlns:b="urn:b" b:updated="{{isodate}}"><t>{{isodate:u}}|{{isodate:u}}</t></w>"#;
    compare_xml(
        golden,
        r#"<w xmlns:b="urn:b" b:updated="2026-11-28T19:20:08Z"><t>2024-02-29T00:00:00Z|2024-02-29T00:00:00Z</t></w>"#,
        &[],
    )
    .unwrap();
    for bad in [
        "2026-11-28T19:20:08.1234567Z",
        "2026-11-28T19:20:08",
        "2026-11-28T19:20:08+00:00",
        "2026-11-28 19:20:08Z",
        "2026-02-30T19:20:08Z",
        "2026-11-28T24:20:08Z",
    ] {
        let actual =
            format!(r#"<w xmlns:b="urn:b" b:updated="{bad}"><t>2024-02-29T00:00:00Z|2024-02-29T00:00:00Z</t></w>"#);
        assert!(compare_xml(golden, &actual, &[]).is_err(), "{bad} accepted as an isodate");
    }
    // Labelled: both occurrences must be equal.
    let differ =
        r#"<w xmlns:b="urn:b" b:updated="2026-11-28T19:20:08Z"><t>2024-02-29T00:00:00Z|2024-02-29T00:00:01Z</t></w>"#;
    assert!(compare_xml(golden, differ, &[]).is_err());
    compare_json(r#"{"u":"{{isodate}}"}"#, r#"{"u":"2010-11-12T20:03:56Z"}"#, &[]).unwrap();
}

#[test]
fn golden_selftest_golden_files_parse() {
    // Every golden file must be well-formed and use only known placeholders.
    let mut files = Vec::new();
    fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
        if let Ok(rd) = std::fs::read_dir(dir) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    out.push(p);
                }
            }
        }
    }
    walk(&golden_dir(), &mut files);
    let known = ["root", "dataSourceName", "description"];
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let mut rest = text.as_str();
        while let Some(i) = rest.find("{{") {
            let after = &rest[i + 2..];
            let j = after.find("}}").unwrap_or_else(|| panic!("{}: unterminated placeholder", f.display()));
            let name = after[..j].trim();
            let kind = name.split(':').next().unwrap().trim();
            assert!(
                kind_of(kind).is_some() || known.contains(&name),
                "{}: unknown placeholder {{{{{name}}}}}",
                f.display()
            );
            rest = &after[j + 2..];
        }
        match f.extension().and_then(|e| e.to_str()) {
            Some("json") => {
                serde_json::from_str::<Value>(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            }
            Some("xml") => {
                parse_xml(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            }
            _ => {}
        }
    }
}
