//! Splits a `$filter` into tokens with their byte spans.

use super::ast::Span;
use super::FilterError;

#[derive(Clone, Debug, PartialEq)]
pub enum Token {
    /// A name or keyword; keywords are recognised by the parser, case-insensitively.
    Word(String),
    /// A quoted string with `''` unescaped.
    String(String),
    /// Number text without its type suffix.
    Number(String),
    /// `datetime'…'` or a bare ISO 8601 date.
    DateTime(String),
    LeftParen,
    RightParen,
    Comma,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Spanned {
    pub token: Token,
    pub span: Span,
}

pub fn tokenize(text: &str) -> Result<Vec<Spanned>, FilterError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut position = 0;
    while position < bytes.len() {
        let start = position;
        let byte = bytes[position];
        let token = match byte {
            b' ' | b'\t' | b'\r' | b'\n' => {
                position += 1;
                continue;
            }
            b'(' => {
                position += 1;
                Token::LeftParen
            }
            b')' => {
                position += 1;
                Token::RightParen
            }
            b',' => {
                position += 1;
                Token::Comma
            }
            b'\'' if wildcard_argument_expected(&tokens) && is_doubly_quoted(text, position) => {
                let (value, end) = doubly_quoted(text, position)?;
                position = end;
                Token::String(value)
            }
            b'\'' => {
                let (value, end) = quoted(text, position)?;
                position = end;
                Token::String(value)
            }
            b'0'..=b'9' if looks_like_date(&bytes[position..]) => {
                while position < bytes.len()
                    && (bytes[position].is_ascii_alphanumeric() || b":.+-".contains(&bytes[position]))
                {
                    position += 1;
                }
                Token::DateTime(text[start..position].to_owned())
            }
            b'0'..=b'9' | b'-' | b'+' | b'.' => {
                position += 1;
                while position < bytes.len() {
                    let next = bytes[position];
                    let exponent_sign = (next == b'-' || next == b'+') && matches!(bytes[position - 1], b'e' | b'E');
                    if next.is_ascii_digit() || next == b'.' || next == b'e' || next == b'E' || exponent_sign {
                        position += 1;
                    } else {
                        break;
                    }
                }
                let number = &text[start..position];
                // OData type suffixes: 12L, 1.5d, 2.5m, 3.0f.
                if position < bytes.len() && b"LlDdMmFf".contains(&bytes[position]) {
                    let after = bytes.get(position + 1);
                    if after.is_none_or(|next| !next.is_ascii_alphanumeric() && *next != b'_') {
                        position += 1;
                    }
                }
                if number == "-" || number == "+" || number == "." {
                    return Err(FilterError::new(format!("unexpected '{number}'"), start..position));
                }
                Token::Number(number.to_owned())
            }
            _ if byte.is_ascii_alphabetic() || byte == b'_' || byte == b'$' => {
                while position < bytes.len()
                    && (bytes[position].is_ascii_alphanumeric() || bytes[position] == b'_' || bytes[position] == b'$')
                {
                    position += 1;
                }
                let word = &text[start..position];
                if word.eq_ignore_ascii_case("datetime") && bytes.get(position) == Some(&b'\'') {
                    let (value, end) = quoted(text, position)?;
                    position = end;
                    Token::DateTime(value)
                } else {
                    Token::Word(word.to_owned())
                }
            }
            _ => {
                let character = text[position..].chars().next().unwrap_or('?');
                return Err(FilterError::new(
                    format!("unexpected character '{character}'"),
                    position..position + character.len_utf8(),
                ));
            }
        };
        tokens.push(Spanned { token, span: start..position });
    }
    Ok(tokens)
}

/// A `'…'` string starting at `start`; `''` is a quote. Returns the value
/// and the position after the closing quote.
fn quoted(text: &str, start: usize) -> Result<(String, usize), FilterError> {
    let bytes = text.as_bytes();
    let mut value = String::new();
    let mut position = start + 1;
    let mut chunk_start = position;
    while position < bytes.len() {
        if bytes[position] == b'\'' {
            value.push_str(&text[chunk_start..position]);
            if bytes.get(position + 1) == Some(&b'\'') {
                value.push('\'');
                position += 2;
                chunk_start = position;
                continue;
            }
            return Ok((value, position + 1));
        }
        position += 1;
    }
    Err(FilterError::new("the string is not closed: a quote (') is missing", start..text.len()))
}

/// Whether the next token is the search text of `startswith(Prop,` or
/// `endswith(Prop,`: the only place the toolkit's doubled quotes occur.
fn wildcard_argument_expected(tokens: &[Spanned]) -> bool {
    let [.., function, open, property, comma] = tokens else {
        return false;
    };
    matches!(&function.token, Token::Word(word)
        if word.eq_ignore_ascii_case("startswith") || word.eq_ignore_ascii_case("endswith"))
        && open.token == Token::LeftParen
        && matches!(property.token, Token::Word(_))
        && comma.token == Token::Comma
}

/// `''text''`: two quotes where the standard reading fails, that is where
/// the standard string starting there is not followed by the call's `)`
/// (`'')` is the empty string and `'''')` the string holding one quote,
/// both standard, and both kept).
fn is_doubly_quoted(text: &str, start: usize) -> bool {
    text.as_bytes()[start..].starts_with(b"''")
        && quoted(text, start).map_or(true, |(_, end)| !closes_call(text.as_bytes(), end))
}

/// Whether only blanks come before a `)` at `position`.
fn closes_call(bytes: &[u8], position: usize) -> bool {
    bytes[position..].iter().find(|byte| !byte.is_ascii_whitespace()) == Some(&b')')
}

/// The search text as microsoft/BingMapsSDSToolkit writes it: its
/// `Source/QueryAPI/Models/FilterExpression.cs` quotes the already quoted
/// value again, so `startsWith(Name,''Caf'')` means the prefix `Caf`.
/// Inside, `''` is a quote (the toolkit doubles quotes in the value first);
/// the closing `''` is the one followed by `)`. Returns the value and the
/// position after the closing quotes.
fn doubly_quoted(text: &str, start: usize) -> Result<(String, usize), FilterError> {
    let bytes = text.as_bytes();
    let mut value = String::new();
    let mut position = start + 2;
    let mut chunk_start = position;
    while position < bytes.len() {
        if bytes[position] != b'\'' {
            position += 1;
            continue;
        }
        value.push_str(&text[chunk_start..position]);
        if bytes.get(position + 1) != Some(&b'\'') {
            return Err(FilterError::new(
                "a doubly quoted search text (''text'') must write a quote inside it twice",
                position..position + 1,
            ));
        }
        if closes_call(bytes, position + 2) {
            return Ok((value, position + 2));
        }
        value.push('\'');
        position += 2;
        chunk_start = position;
    }
    Err(FilterError::new("the search text is not closed: two quotes ('') and ')' are missing", start..text.len()))
}

/// `2010-11-03…`: four digits and a dash.
fn looks_like_date(bytes: &[u8]) -> bool {
    bytes.len() >= 10 && bytes[..4].iter().all(u8::is_ascii_digit) && bytes[4] == b'-' && bytes[5].is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<Token> {
        tokenize(text).unwrap().into_iter().map(|spanned| spanned.token).collect()
    }

    #[test]
    fn splits_words_strings_numbers_and_dates() {
        assert_eq!(
            tokens("Name eq 'O''Brien' and Seats ge -12L or D lt datetime'2010-01-01T00:00:00Z'"),
            vec![
                Token::Word("Name".into()),
                Token::Word("eq".into()),
                Token::String("O'Brien".into()),
                Token::Word("and".into()),
                Token::Word("Seats".into()),
                Token::Word("ge".into()),
                Token::Number("-12".into()),
                Token::Word("or".into()),
                Token::Word("D".into()),
                Token::Word("lt".into()),
                Token::DateTime("2010-01-01T00:00:00Z".into()),
            ]
        );
        assert_eq!(
            tokens("x gt 2010-11-03T23:31:37.0000000Z"),
            vec![
                Token::Word("x".into()),
                Token::Word("gt".into()),
                Token::DateTime("2010-11-03T23:31:37.0000000Z".into())
            ]
        );
        assert_eq!(tokens("1.5e-3d"), vec![Token::Number("1.5e-3".into())]);
        assert_eq!(tokens("in('a',b)").len(), 6);
    }

    #[test]
    fn reports_unclosed_strings_and_stray_characters_with_positions() {
        let error = tokenize("Name eq 'abc").unwrap_err();
        assert_eq!(error.span.start, 8);
        let error = tokenize("Name eq #").unwrap_err();
        assert_eq!(error.span, 8..9);
        assert!(error.to_string().contains("position 9"), "{error}");
    }
}
