//! Small helpers for writing XML text.

use std::borrow::Cow;
use std::fmt::Write;

use sds_core::value::is_xml_char;

/// Escapes element text and attribute values (`&`, `<`, `>`, `"`, `'`),
/// and writes each character XML 1.0 cannot carry (C0 controls other than
/// tab, LF and CR; U+FFFE, U+FFFF) as U+FFFD, so that every XML response is
/// well-formed. Loads refuse such characters in values
/// (`sds_core::value::check_xml_chars`); they can still arrive in other
/// text a response repeats (a description, an excerpt in an error message)
/// or in a version loaded before that rule.
///
/// CR, TAB and LF are written as `&#13;`, `&#9;` and `&#10;`: a parser
/// turns a literal CR (or CR LF) in text into LF, and a literal TAB, LF or
/// CR in an attribute value into a space (XML 1.0 §2.11, §3.3.3), so only
/// character references bring a value back byte-exact wherever it is
/// written. The XML DataSet download writes CR the same way
/// (`sds_formats::xml_dataset` writer).
pub fn escape(text: &str) -> Cow<'_, str> {
    // Fast path: every character treated apart is a byte below 0x20 or starts with 0xEF.
    if !text.bytes().any(|byte| byte < 0x20 || byte == 0xEF) {
        return quick_xml::escape::escape(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
    Cow::Owned(out)
}

/// Appends `<name>text</name>`.
pub fn element(out: &mut String, name: &str, text: &str) {
    let _ = write!(out, "<{name}>{}</{name}>", escape(text));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finding_11_escape_never_writes_a_character_xml_forbids() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
        assert_eq!(escape("tab\tlf\ncr\r é"), "tab&#9;lf&#10;cr&#13; é");
        assert_eq!(
            escape("nul\0 bell\u{7} esc\u{1b} \u{fffe}\u{ffff}<"),
            "nul\u{fffd} bell\u{fffd} esc\u{fffd} \u{fffd}\u{fffd}&lt;"
        );
        assert!(matches!(escape("plain"), Cow::Borrowed("plain")));
    }

    /// Tryout F4: CR, TAB and LF come back from a parser as written, in
    /// element text and in attribute values alike.
    #[test]
    fn tryout_f4_cr_tab_and_lf_survive_a_parser() {
        let value = "a\r\nb\rc\td\ne 'q' \"q\" <&>";
        let document = format!(r#"<r a="{}">{}</r>"#, escape(value), escape(value));
        // A conforming parser normalises these when literal (quick-xml does not, hence this check).
        assert!(!document.contains(['\r', '\t', '\n']), "{document:?}");
        let mut reader = quick_xml::Reader::from_str(&document);
        let quick_xml::events::Event::Start(start) = reader.read_event().unwrap() else { panic!("{document}") };
        let attribute = start.try_get_attribute("a").unwrap().unwrap();
        assert_eq!(attribute.unescape_value().unwrap(), value);
        let content = &document[document.find('>').unwrap() + 1..document.rfind("</r>").unwrap()];
        assert_eq!(quick_xml::escape::unescape(content).unwrap(), value);
    }
}
