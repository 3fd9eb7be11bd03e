//! `LIKE` patterns (CQL2, OGC 21-065 §7.4): `%` matches any run of
//! characters, `_` exactly one, and `\` makes the next character literal.

/// One element of a compiled pattern.
#[derive(Clone, Debug, PartialEq)]
enum Part {
    AnyRun,
    AnyOne,
    Char(char),
}

/// A compiled pattern; text and pattern are compared as given (the
/// evaluator folds both for case-insensitive matching).
#[derive(Clone, Debug, PartialEq)]
pub struct LikePattern {
    parts: Vec<Part>,
}

impl LikePattern {
    pub fn new(pattern: &str) -> LikePattern {
        let mut parts = Vec::new();
        let mut chars = pattern.chars();
        while let Some(char) = chars.next() {
            let part = match char {
                '%' => Part::AnyRun,
                '_' => Part::AnyOne,
                '\\' => Part::Char(chars.next().unwrap_or('\\')),
                other => Part::Char(other),
            };
            // Runs of `%` mean one `%`: fewer backtracking points.
            if !(part == Part::AnyRun && parts.last() == Some(&Part::AnyRun)) {
                parts.push(part);
            }
        }
        LikePattern { parts }
    }

    /// Whether the whole of `text` matches. Greedy with one backtrack point
    /// (the last `%`), so it takes at most text × pattern steps.
    pub fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        let (mut at_text, mut at_part) = (0, 0);
        let mut backtrack: Option<(usize, usize)> = None;
        while at_text < text.len() {
            match self.parts.get(at_part) {
                Some(Part::AnyRun) => {
                    backtrack = Some((at_part, at_text));
                    at_part += 1;
                }
                Some(Part::AnyOne) => {
                    at_part += 1;
                    at_text += 1;
                }
                Some(Part::Char(expected)) if *expected == text[at_text] => {
                    at_part += 1;
                    at_text += 1;
                }
                _ => match backtrack {
                    // Let the last `%` take one more character.
                    Some((run_part, run_text)) => {
                        backtrack = Some((run_part, run_text + 1));
                        at_part = run_part + 1;
                        at_text = run_text + 1;
                    }
                    None => return false,
                },
            }
        }
        self.parts[at_part..].iter().all(|part| *part == Part::AnyRun)
    }
}

#[cfg(test)]
mod tests {
    use super::LikePattern;

    #[test]
    fn wildcards_escapes_and_whole_text() {
        let cases = [
            ("san%", "san jose", true),
            ("san%", "pasadena", false),
            ("%ville", "louisville", true),
            ("%on%", "london", true),
            ("%on%", "paris", false),
            ("_aris", "paris", true),
            ("_aris", "aris", false),
            ("p%s", "paris", true),
            ("p%s", "parisx", false),
            ("%a%b%c", "xaxbxc", true),
            ("%a%b%c", "xaxcxb", false),
            ("100\\%", "100%", true),
            ("100\\%", "1000", false),
            ("a\\_b", "a_b", true),
            ("a\\_b", "axb", false),
            ("", "", true),
            ("%", "", true),
            ("exact", "exact", true),
            ("exact", "exactly", false),
            ("é_", "éa", true),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(LikePattern::new(pattern).matches(text), expected, "{pattern} ~ {text}");
        }
    }
}
