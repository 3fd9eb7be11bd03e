//! The OData `$filter` subset that SDS accepts.
//!
//! Keywords, function names and property names are case-insensitive.
//!
//! ```text
//! filter     := or
//! or         := and ( "or" and )*
//! and        := unary ( "and" unary )*
//! unary      := "not" unary | "(" or ")" | wildcard | comparison | membership
//! wildcard   := ("startswith" | "endswith") "(" name "," (string | string2) ")" [ ("eq" | "ne") boolean ]
//! comparison := name ("eq" | "ne" | "gt" | "ge" | "lt" | "le") literal
//! membership := name "in" "(" literal ( "," literal )* ")"
//! literal    := string | number | boolean | "null" | datetime
//! string     := "'" ( any character but "'" | "''" )* "'"
//! string2    := "''" ( any character but "'" | "''" )* "''"   (the toolkit's form; only where string fails)
//! number     := [ "-" | "+" ] digits [ "." digits ] [ ("e" | "E") [ "-" | "+" ] digits ] [ "L" | "d" | "m" | "f" ]
//! boolean    := "true" | "false"          (1 and 0 too, against Boolean properties)
//! datetime   := "datetime'" iso-8601 "'" | iso-8601    (the toolkit writes the bare form)
//! ```
//!
//! `and` binds tighter than `or`; `not` binds tightest. The docs forbid
//! combining wildcards with `and`/`or` and `in` outside query-by-ID, but
//! the toolkit and the V8 web control send both, so both are accepted.
//! Errors carry the byte span of the offending token; their text gives a
//! 1-based character position.

pub mod ast;
mod lexer;
mod parser;

use std::fmt;

pub use ast::{CompareOp, Expr, Literal, Located, Span, TextFunction};
pub use parser::MAX_DEPTH;

/// Longest `$filter` accepted, in bytes.
pub const MAX_FILTER_BYTES: usize = 16 * 1024;

/// A syntax error with the span of the problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError {
    pub message: String,
    pub span: Span,
    /// 1-based character position of `span.start`, set by [`parse`].
    pub position: usize,
}

impl FilterError {
    pub fn new(message: impl Into<String>, span: Span) -> Self {
        FilterError { message: message.into(), position: span.start + 1, span }
    }

    /// Converts the byte offset into a character position in `text`.
    pub fn locate(mut self, text: &str) -> Self {
        let start = self.span.start.min(text.len());
        self.position = text.get(..start).map_or(start, |prefix| prefix.chars().count()) + 1;
        self
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "$filter: {} (at position {})", self.message, self.position)
    }
}

impl std::error::Error for FilterError {}

/// Parses a `$filter` expression.
pub fn parse(text: &str) -> Result<Expr, FilterError> {
    if text.len() > MAX_FILTER_BYTES {
        return Err(FilterError::new(format!("the filter is longer than {MAX_FILTER_BYTES} bytes"), 0..0));
    }
    let tokens = lexer::tokenize(text).map_err(|error| error.locate(text))?;
    parser::Parser::new(&tokens, text.len()).parse().map_err(|error| error.locate(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(expr: &Expr) -> String {
        match expr {
            Expr::And(left, right) => format!("({} AND {})", show(left), show(right)),
            Expr::Or(left, right) => format!("({} OR {})", show(left), show(right)),
            Expr::Not(inner) => format!("NOT {}", show(inner)),
            Expr::Compare { property, op, literal } => format!("{}{op:?}{:?}", property.value, literal.value),
            Expr::Text { function, property, argument, expected } => {
                format!("{function:?}({},{:?})={expected}", property.value, argument.value)
            }
            Expr::In { property, literals } => {
                let values: Vec<String> = literals.iter().map(|literal| format!("{:?}", literal.value)).collect();
                format!("{} IN [{}]", property.value, values.join(","))
            }
            Expr::Like { property, pattern } => format!("{} LIKE {:?}", property.value, pattern.value),
            Expr::Intersects { property, wkt } => format!("S_INTERSECTS({},{})", property.value, wkt.value),
        }
    }

    fn parsed(text: &str) -> String {
        show(&parse(text).unwrap_or_else(|error| panic!("{text}: {error}")))
    }

    #[test]
    fn every_comparison_operator_in_any_case() {
        for (word, op) in [("eq", "Eq"), ("NE", "Ne"), ("Gt", "Gt"), ("ge", "Ge"), ("lT", "Lt"), ("Le", "Le")] {
            assert_eq!(parsed(&format!("Seats {word} 4")), format!("Seats{op}Number(\"4\")"));
        }
    }

    #[test]
    fn and_binds_tighter_than_or_and_not_tightest() {
        assert_eq!(
            parsed("a eq 1 or b eq 2 and c eq 3"),
            "(aEqNumber(\"1\") OR (bEqNumber(\"2\") AND cEqNumber(\"3\")))"
        );
        assert_eq!(
            parsed("(a eq 1 Or b eq 2) AND c eq 3"),
            "((aEqNumber(\"1\") OR bEqNumber(\"2\")) AND cEqNumber(\"3\"))"
        );
        assert_eq!(parsed("not a eq 1 and b eq 2"), "(NOT aEqNumber(\"1\") AND bEqNumber(\"2\"))");
        assert_eq!(parsed("not (a eq 1 or b eq 2)"), "NOT (aEqNumber(\"1\") OR bEqNumber(\"2\"))");
        assert_eq!(
            parsed("a eq 1 and b eq 2 and c eq 3"),
            "((aEqNumber(\"1\") AND bEqNumber(\"2\")) AND cEqNumber(\"3\"))"
        );
    }

    #[test]
    fn literals_as_odata_writes_them() {
        assert_eq!(parsed("N eq 'O''Hara'"), "NEqString(\"O'Hara\")");
        assert_eq!(parsed("B eq TRUE"), "BEqBoolean(true)");
        assert_eq!(parsed("X eq null"), "XEqNull");
        assert_eq!(parsed("D ge datetime'2010-11-03T23:31:37Z'"), "DGeDateTime(\"2010-11-03T23:31:37Z\")");
        assert_eq!(parsed("D ge 2010-11-03T23:31:37.0000000Z"), "DGeDateTime(\"2010-11-03T23:31:37.0000000Z\")");
        assert_eq!(parsed("P lt 12.5e2d"), "PLtNumber(\"12.5e2\")");
        assert_eq!(parsed("P lt -3L"), "PLtNumber(\"-3\")");
    }

    #[test]
    fn wildcards_with_and_without_boolean_comparison() {
        assert_eq!(parsed("StartsWith(Name,'San') eq true"), "StartsWith(Name,String(\"San\"))=true");
        assert_eq!(parsed("endswith(Name,'York')"), "EndsWith(Name,String(\"York\"))=true");
        assert_eq!(parsed("startswith(Name,'a') eq false"), "StartsWith(Name,String(\"a\"))=false");
        assert_eq!(parsed("startswith(Name,'a') ne false"), "StartsWith(Name,String(\"a\"))=true");
        assert_eq!(
            parsed("cc eq 'US' and startsWith(Name,'San') eq true"),
            "(ccEqString(\"US\") AND StartsWith(Name,String(\"San\"))=true)"
        );
    }

    /// microsoft/BingMapsSDSToolkit's `FilterExpression` quotes the search
    /// text of `startsWith`/`endsWith` twice (after doubling its quotes).
    #[test]
    fn finding_9_toolkit_doubly_quoted_wildcard_text() {
        assert_eq!(parsed("startsWith(Name,''Café'') eq true"), "StartsWith(Name,String(\"Café\"))=true");
        assert_eq!(parsed("endsWith(Name,''York'') eq true"), "EndsWith(Name,String(\"York\"))=true");
        assert_eq!(parsed("startsWith(Name,''O''Brien'') eq true"), "StartsWith(Name,String(\"O'Brien\"))=true");
        assert_eq!(parsed("startsWith(Name,''Rock'''') eq true"), "StartsWith(Name,String(\"Rock'\"))=true");
        assert_eq!(parsed("startsWith(Name,''''quoted'') eq true"), "StartsWith(Name,String(\"'quoted\"))=true");
        assert_eq!(parsed("startsWith(Name,''a b'' ) eq true"), "StartsWith(Name,String(\"a b\"))=true");
        assert_eq!(
            parsed("(startsWith(Name,''San'') eq true And cc eq 'US')"),
            "(StartsWith(Name,String(\"San\"))=true AND ccEqString(\"US\"))"
        );
        // The standard forms keep their meaning.
        assert_eq!(parsed("startswith(Name,'')"), "StartsWith(Name,String(\"\"))=true");
        assert_eq!(parsed("startswith(Name,'''')"), "StartsWith(Name,String(\"'\"))=true");
        assert_eq!(parsed("startswith(Name,'O''Brien')"), "StartsWith(Name,String(\"O'Brien\"))=true");
        // Only the search text may be doubly quoted, and it must be closed.
        assert!(parse("Name eq ''abc''").is_err());
        let error = parse("startsWith(Name,''abc").unwrap_err();
        assert!(error.to_string().contains("not closed"), "{error}");
        let error = parse("startsWith(Name,''a'b'')").unwrap_err();
        assert!(error.to_string().contains("twice"), "{error}");
    }

    #[test]
    fn in_lists_with_or_without_a_space() {
        assert_eq!(parsed("entityId in ('a','b')"), "entityId IN [String(\"a\"),String(\"b\")]");
        assert_eq!(parsed("entityId in('a')"), "entityId IN [String(\"a\")]");
    }

    #[test]
    fn errors_point_at_the_problem() {
        let cases = [
            ("", 1, "empty"),
            ("Name eq", 8, "expected a value"),
            ("Name xx 'a'", 6, "expected an operator"),
            ("Name eq 'a' and", 16, "expected a condition"),
            ("(Name eq 'a'", 13, "expected ')'"),
            ("Name eq 'a' Seats", 13, "unexpected 'Seats'"),
            ("Name eq 'a", 9, "not closed"),
            ("startswith(Name,3)", 17, "quoted string"),
            ("x in ('a' 'b')", 11, "expected ',' or ')'"),
            ("Name eq 'é' or @", 16, "unexpected character"),
            ("eq eq", 6, "expected a value"),
        ];
        for (text, position, message) in cases {
            let error = parse(text).unwrap_err();
            assert_eq!(error.position, position, "{text}: {error}");
            assert!(error.to_string().contains(message), "{text}: {error}");
        }
    }

    #[test]
    fn nesting_is_capped() {
        let deep = format!("{}a eq 1{}", "(".repeat(MAX_DEPTH + 5), ")".repeat(MAX_DEPTH + 5));
        assert!(parse(&deep).unwrap_err().message.contains("nests deeper"));
        let nots = format!("{}a eq 1", "not ".repeat(MAX_DEPTH + 1));
        assert!(parse(&nots).is_err());
        let fine = format!("{}a eq 1{}", "(".repeat(10), ")".repeat(10));
        assert!(parse(&fine).is_ok());
    }
}
