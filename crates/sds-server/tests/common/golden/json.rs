//! JSON comparison, and the key-order check the toolkit needs.

use super::*;

// ---------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------

pub(super) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

pub(super) fn cmp_json(cx: &mut Cx, path: &str, g: &Value, a: &Value) {
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

pub(super) fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        let t: String = s.chars().take(77).collect();
        format!("{t}...")
    } else {
        s
    }
}

pub(super) fn pretty_json(s: &str) -> String {
    match serde_json::from_str::<Value>(s) {
        Ok(v) => serde_json::to_string_pretty(&v).unwrap_or_else(|_| s.to_string()),
        Err(_) => s.to_string(),
    }
}

/// Scans the raw JSON text: every object containing `"__type"` must have it as its
/// first member, and no object may repeat a key.
pub(super) fn check_json_key_order(text: &str) -> Result<(), Vec<String>> {
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

pub(super) struct Scanner<'a> {
    pub(super) s: &'a [u8],
    pub(super) i: usize,
    pub(super) errs: Vec<String>,
}

impl Scanner<'_> {
    pub(super) fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    pub(super) fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    pub(super) fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected '{}' at byte {}", c as char, self.i))
        }
    }

    pub(super) fn value(&mut self, path: &str) -> Result<(), String> {
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

    pub(super) fn object(&mut self, path: &str) -> Result<(), String> {
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

    pub(super) fn string(&mut self) -> Result<String, String> {
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

pub(super) fn flush_utf8(bytes: &mut Vec<u8>, out: &mut Vec<u16>) {
    if !bytes.is_empty() {
        out.extend(String::from_utf8_lossy(bytes).encode_utf16());
        bytes.clear();
    }
}
