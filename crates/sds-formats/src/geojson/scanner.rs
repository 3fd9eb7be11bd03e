//! The byte-level walk over a FeatureCollection that lets both passes
//! stream features without parsing the whole document.
//!
//! A document that is a single Feature, or a bare geometry, is read as a
//! collection of that one feature: its top-level members are kept (they
//! are bounded like any feature) until the closing brace says which it
//! was, since `type` may come after `geometry` and `properties`.

use std::io::BufRead;

use serde_json::Value as Json;

use crate::{FormatError, MAX_RECORD_BYTES};

/// Walks the top level of a FeatureCollection byte by byte, handing out
/// each feature's bytes.
pub(super) struct Scanner {
    pub(super) input: Box<dyn BufRead + Send>,
    pub(super) line: u64,
    state: ScanState,
    pub(super) crs: Option<Json>,
    saw_features: bool,
    /// The top-level `type`, when it is not `FeatureCollection`.
    single_kind: Option<SingleKind>,
    /// Top-level members other than `type`, `crs` and `features`, raw,
    /// while they fit in one record; `None` once they do not.
    kept_members: Option<Vec<(String, Vec<u8>)>>,
    kept_bytes: usize,
}

/// What a document that is not a FeatureCollection holds.
enum SingleKind {
    Feature,
    /// A bare geometry of this type.
    Geometry(String),
}

const GEOMETRY_TYPES: [&str; 7] =
    ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"];

#[derive(Clone, Copy, PartialEq, Eq)]
enum ScanState {
    Start,
    /// Between top-level members.
    Members,
    /// Inside `features`; whether an element was read.
    Features(bool),
    Done,
}

impl Scanner {
    pub(super) fn new(input: Box<dyn BufRead + Send>) -> Scanner {
        Scanner {
            input,
            line: 1,
            state: ScanState::Start,
            crs: None,
            saw_features: false,
            single_kind: None,
            kept_members: Some(Vec::new()),
            kept_bytes: 0,
        }
    }

    pub(super) fn error(&self, message: impl Into<String>) -> FormatError {
        FormatError::AtLine { line: self.line, message: message.into() }
    }

    pub(super) fn peek(&mut self) -> Result<Option<u8>, FormatError> {
        Ok(self.input.fill_buf()?.first().copied())
    }

    pub(super) fn bump(&mut self) -> Result<Option<u8>, FormatError> {
        let byte = self.peek()?;
        if let Some(byte) = byte {
            self.input.consume(1);
            if byte == b'\n' {
                self.line += 1;
            }
        }
        Ok(byte)
    }

    pub(super) fn skip_blanks(&mut self) -> Result<Option<u8>, FormatError> {
        loop {
            match self.peek()? {
                Some(b' ' | b'\t' | b'\r' | b'\n') => {
                    self.bump()?;
                }
                other => return Ok(other),
            }
        }
    }

    pub(super) fn expect(&mut self, wanted: u8, what: &str) -> Result<(), FormatError> {
        match self.skip_blanks()? {
            Some(byte) if byte == wanted => {
                self.bump()?;
                Ok(())
            }
            Some(byte) => Err(self.error(format!("expected {what}, found '{}'", char::from(byte).escape_default()))),
            None => Err(self.error(format!("the document ends where {what} was expected"))),
        }
    }

    /// Reads one JSON value's bytes (not validated here), into `out` when
    /// given. Works on whole buffers: this is the hot loop of a large file.
    pub(super) fn value(&mut self, mut out: Option<&mut Vec<u8>>) -> Result<(), FormatError> {
        let first = self.skip_blanks()?.ok_or_else(|| self.error("the document ends where a value was expected"))?;
        let scalar = !matches!(first, b'{' | b'[' | b'"');
        let (mut depth, mut in_string, mut escaped, mut length) = (0usize, false, false, 0usize);
        loop {
            let buffer = self.input.fill_buf()?;
            if buffer.is_empty() {
                if scalar && length > 0 {
                    return Ok(());
                }
                return Err(self.error("the document ends inside a value"));
            }
            let mut end = None;
            let mut unbalanced = false;
            for (at, &byte) in buffer.iter().enumerate() {
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if byte == b'\\' {
                        escaped = true;
                    } else if byte == b'"' {
                        in_string = false;
                        if depth == 0 {
                            end = Some(at + 1);
                            break;
                        }
                    }
                    continue;
                }
                if scalar && matches!(byte, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n') {
                    end = Some(at);
                    break;
                }
                match byte {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' if depth == 0 => {
                        unbalanced = true;
                        end = Some(at);
                        break;
                    }
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            end = Some(at + 1);
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let take = end.unwrap_or(buffer.len());
            length += take;
            if let Some(out) = out.as_deref_mut() {
                out.extend_from_slice(&buffer[..take]);
            }
            let newlines = buffer[..take].iter().filter(|&&byte| byte == b'\n').count() as u64;
            self.input.consume(take);
            self.line += newlines;
            if unbalanced {
                return Err(self.error("unbalanced brackets"));
            }
            if length > MAX_RECORD_BYTES {
                return Err(self.error(format!("a feature or member is longer than {MAX_RECORD_BYTES} bytes")));
            }
            if end.is_some() {
                return Ok(());
            }
        }
    }

    /// The next feature: its first line and bytes.
    pub(super) fn next_feature(&mut self) -> Result<Option<(u64, Vec<u8>)>, FormatError> {
        loop {
            match self.state {
                ScanState::Done => return Ok(None),
                ScanState::Start => {
                    if self.input.fill_buf()?.starts_with(b"\xEF\xBB\xBF") {
                        self.input.consume(3);
                    }
                    self.expect(b'{', "a FeatureCollection object ('{')")?;
                    if self.skip_blanks()? == Some(b'}') {
                        self.bump()?;
                        return self.finish();
                    }
                    self.member()?;
                }
                ScanState::Members => match self.skip_blanks()? {
                    Some(b',') => {
                        self.bump()?;
                        self.member()?;
                    }
                    Some(b'}') => {
                        self.bump()?;
                        return self.finish();
                    }
                    _ => return Err(self.error("expected ',' or '}' between the FeatureCollection's members")),
                },
                ScanState::Features(read_one) => {
                    match self.skip_blanks()? {
                        Some(b']') => {
                            self.bump()?;
                            self.state = ScanState::Members;
                            continue;
                        }
                        Some(b',') if read_one => {
                            self.bump()?;
                        }
                        _ if read_one => return Err(self.error("expected ',' or ']' between features")),
                        _ => {}
                    }
                    if self.skip_blanks()? != Some(b'{') {
                        return Err(self.error("expected a Feature object ('{') in \"features\""));
                    }
                    let line = self.line;
                    let mut bytes = Vec::new();
                    self.value(Some(&mut bytes))?;
                    self.state = ScanState::Features(true);
                    return Ok(Some((line, bytes)));
                }
            }
        }
    }

    /// Reads a member name and, except for `features`, its value.
    pub(super) fn member(&mut self) -> Result<(), FormatError> {
        if self.skip_blanks()? != Some(b'"') {
            return Err(self.error("expected a member name"));
        }
        let mut raw = Vec::new();
        self.value(Some(&mut raw))?;
        let name: String = serde_json::from_slice(&raw).map_err(|_| self.error("malformed member name"))?;
        self.expect(b':', "':' after a member name")?;
        match name.as_str() {
            "features" => {
                if self.saw_features {
                    return Err(self.error("\"features\" appears twice"));
                }
                if self.single_kind.is_some() {
                    return Err(self.error("a GeoJSON Feature or geometry cannot have \"features\""));
                }
                self.saw_features = true;
                self.expect(b'[', "an array of features ('[')")?;
                self.state = ScanState::Features(false);
            }
            "type" | "crs" => {
                let mut raw = Vec::new();
                self.value(Some(&mut raw))?;
                let value: Json = serde_json::from_slice(&raw)
                    .map_err(|error| self.error(format!("malformed \"{name}\": {error}")))?;
                if name == "type" {
                    self.single_kind = match value.as_str() {
                        Some("FeatureCollection") => None,
                        Some(_) if self.saw_features => {
                            return Err(self.error("a document with \"features\" must be a FeatureCollection"))
                        }
                        Some("Feature") => Some(SingleKind::Feature),
                        Some(kind) if GEOMETRY_TYPES.contains(&kind) => Some(SingleKind::Geometry(kind.to_owned())),
                        _ => {
                            return Err(self.error(format!(
                                "the document is a GeoJSON {}, not a FeatureCollection, Feature or geometry",
                                sds_core::value::excerpt(&value.to_string())
                            )))
                        }
                    };
                }
                if name == "crs" {
                    self.crs = Some(value);
                }
                self.state = ScanState::Members;
            }
            _ => {
                if self.kept_members.is_some() {
                    let mut raw = Vec::new();
                    self.value(Some(&mut raw))?;
                    self.kept_bytes += name.len() + raw.len();
                    if self.kept_bytes > MAX_RECORD_BYTES {
                        self.kept_members = None;
                    } else if let Some(kept) = &mut self.kept_members {
                        kept.push((name, raw));
                    }
                } else {
                    self.value(None)?;
                }
                self.state = ScanState::Members;
            }
        }
        Ok(())
    }

    /// The one feature of a single-Feature or bare-geometry document, as
    /// Feature JSON.
    fn single_feature(&mut self, kind: SingleKind) -> Result<Vec<u8>, FormatError> {
        let members = self
            .kept_members
            .take()
            .ok_or_else(|| self.error(format!("the Feature is longer than {MAX_RECORD_BYTES} bytes")))?;
        let mut feature = b"{\"type\":\"Feature\"".to_vec();
        fn push_member(object: &mut Vec<u8>, name: &str, raw: &[u8]) {
            object.push(b',');
            object.extend_from_slice(&serde_json::to_vec(name).expect("a string serializes"));
            object.push(b':');
            object.extend_from_slice(raw);
        }
        match kind {
            SingleKind::Feature => {
                for (name, raw) in &members {
                    push_member(&mut feature, name, raw);
                }
            }
            // The geometry is the whole document: its type and members.
            SingleKind::Geometry(geometry_type) => {
                let mut geometry = b"{\"type\":".to_vec();
                geometry.extend_from_slice(&serde_json::to_vec(&geometry_type).expect("a string serializes"));
                for (name, raw) in &members {
                    push_member(&mut geometry, name, raw);
                }
                geometry.push(b'}');
                push_member(&mut feature, "geometry", &geometry);
            }
        }
        feature.push(b'}');
        Ok(feature)
    }

    pub(super) fn finish(&mut self) -> Result<Option<(u64, Vec<u8>)>, FormatError> {
        if self.skip_blanks()?.is_some() {
            return Err(self.error("unexpected data after the FeatureCollection"));
        }
        if let Some(kind) = self.single_kind.take() {
            self.state = ScanState::Done;
            return Ok(Some((1, self.single_feature(kind)?)));
        }
        if !self.saw_features {
            return Err(self.error("the document is not a FeatureCollection: it has no \"features\" member"));
        }
        self.state = ScanState::Done;
        Ok(None)
    }
}
