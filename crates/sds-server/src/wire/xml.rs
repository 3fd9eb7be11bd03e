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
pub fn escape(text: &str) -> Cow<'_, str> {
    // Fast path: every excluded character is a byte below 0x20 or starts with 0xEF.
    if !text.bytes().any(|byte| byte < 0x20 || byte == 0xEF) {
        return quick_xml::escape::escape(text);
    }
    let cleaned: String = text.chars().map(|c| if is_xml_char(c) { c } else { '\u{FFFD}' }).collect();
    Cow::Owned(quick_xml::escape::escape(&cleaned).into_owned())
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
        assert_eq!(escape("tab\tlf\ncr\r é"), "tab\tlf\ncr\r é");
        assert_eq!(
            escape("nul\0 bell\u{7} esc\u{1b} \u{fffe}\u{ffff}<"),
            "nul\u{fffd} bell\u{fffd} esc\u{fffd} \u{fffd}\u{fffd}&lt;"
        );
        assert!(matches!(escape("plain"), Cow::Borrowed("plain")));
    }
}
