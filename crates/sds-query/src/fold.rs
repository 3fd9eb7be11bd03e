//! Case-insensitive text: SDS compares strings without regard to case
//! (IDs, `eq`, `in`, wildcards), so filters and indexes compare folded
//! (lowercased) text. ASCII, the common case, folds without allocating.

use std::borrow::Cow;
use std::cmp::Ordering;

pub fn fold(text: &str) -> Cow<'_, str> {
    if text.bytes().all(|byte| byte.is_ascii() && !byte.is_ascii_uppercase()) {
        Cow::Borrowed(text)
    } else if text.is_ascii() {
        Cow::Owned(text.to_ascii_lowercase())
    } else {
        Cow::Owned(text.to_lowercase())
    }
}

/// Compares `text` folded with an already folded `folded`.
pub fn cmp_folded(text: &str, folded: &str) -> Ordering {
    if text.is_ascii() {
        let left = text.bytes().map(|byte| byte.to_ascii_lowercase());
        left.cmp(folded.bytes())
    } else {
        fold(text).as_ref().cmp(folded)
    }
}

pub fn eq_folded(text: &str, folded: &str) -> bool {
    if text.is_ascii() {
        text.len() == folded.len() && text.bytes().zip(folded.bytes()).all(|(a, b)| a.to_ascii_lowercase() == b)
    } else {
        fold(text) == folded
    }
}

pub fn starts_with_folded(text: &str, folded_prefix: &str) -> bool {
    if text.is_ascii() {
        text.len() >= folded_prefix.len()
            && text.bytes().zip(folded_prefix.bytes()).all(|(a, b)| a.to_ascii_lowercase() == b)
    } else {
        fold(text).starts_with(folded_prefix)
    }
}

pub fn ends_with_folded(text: &str, folded_suffix: &str) -> bool {
    if text.is_ascii() {
        text.len() >= folded_suffix.len()
            && text.bytes().rev().zip(folded_suffix.bytes().rev()).all(|(a, b)| a.to_ascii_lowercase() == b)
    } else {
        fold(text).ends_with(folded_suffix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_in_ascii_and_unicode() {
        assert!(eq_folded("San José", "san josé"));
        assert!(eq_folded("SAN JOSÉ", "san josé"));
        assert!(!eq_folded("San", "sa"));
        assert!(starts_with_folded("Santa Cruz", "san"));
        assert!(ends_with_folded("New YORK", "york"));
        assert_eq!(cmp_folded("Bob", "alice"), Ordering::Greater);
        assert_eq!(cmp_folded("ALICE", "alice"), Ordering::Equal);
    }
}
