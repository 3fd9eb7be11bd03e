//! Links that `sds` writes, built so that each fetches what it names: the
//! router splits a path on `/` and then percent-decodes each segment once
//! (`routes::decode_segment`), so every character that would split,
//! end or be decoded differently is percent-encoded here (RFC 3986 §2.1,
//! §3.3), and non-ASCII as UTF-8 bytes. An entity ID `a/b` is written
//! `('a%2Fb')`, and `a%2Fb` is written `('a%252Fb')`.

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

/// What a path segment cannot hold as is: the RFC 3986 delimiters and
/// unsafe characters that `pchar` excludes, and `%` itself.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Appends `text` as (part of) one path segment.
pub fn push_segment(out: &mut String, text: &str) {
    for chunk in utf8_percent_encode(text, SEGMENT) {
        out.push_str(chunk);
    }
}

/// Appends an entity ID as the inside of an OData key predicate `('…')`:
/// quotes doubled (OData's escape, which the router undoes), the rest as
/// [`push_segment`] writes it.
pub fn push_key(out: &mut String, id: &str) {
    let mut parts = id.split('\'');
    if let Some(first) = parts.next() {
        push_segment(out, first);
    }
    for part in parts {
        out.push_str("''");
        push_segment(out, part);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str) -> String {
        let mut out = String::new();
        push_key(&mut out, id);
        out
    }

    #[test]
    fn finding_10_keys_are_percent_encoded_and_quotes_doubled() {
        assert_eq!(key("a/b"), "a%2Fb");
        assert_eq!(key("a%2Fb"), "a%252Fb");
        assert_eq!(key("O'Hara's"), "O''Hara''s");
        assert_eq!(key("a b?c#d"), "a%20b%3Fc%23d");
        assert_eq!(key("Café"), "Caf%C3%A9");
        assert_eq!(key("plain-id_1.2(3),+&=;:@$!*~"), "plain-id_1.2(3),+&=;:@$!*~");
        // Decoding once, as the router does, gives the ID back.
        for id in ["a/b", "a%2Fb", "%", "100%25", "x\"y\\z<>{}|^`[]", "tab\there", "Café ünï"] {
            let decoded = percent_encoding::percent_decode_str(&key(id)).decode_utf8().unwrap().into_owned();
            assert_eq!(decoded, id);
        }
    }
}
