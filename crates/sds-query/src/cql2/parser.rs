//! The CQL2 text tokenizer and recursive-descent parser (grammar in `mod.rs`).

use crate::filter::{CompareOp, Expr, FilterError, Literal, Located, Span, MAX_DEPTH};

#[derive(Clone, Debug, PartialEq)]
pub enum Token {
    /// A name or keyword (keywords are matched case-insensitively).
    Word(String),
    /// A double-quoted name: never a keyword.
    QuotedName(String),
    String(String),
    Number(String),
    Op(CompareOp),
    LeftParen,
    RightParen,
    Comma,
}

#[derive(Clone, Debug)]
pub struct Spanned {
    token: Token,
    span: Span,
}

pub fn tokenize(text: &str) -> Result<Vec<Spanned>, FilterError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let start = at;
        let token = match bytes[at] {
            b' ' | b'\t' | b'\r' | b'\n' => {
                at += 1;
                continue;
            }
            b'(' => {
                at += 1;
                Token::LeftParen
            }
            b')' => {
                at += 1;
                Token::RightParen
            }
            b',' => {
                at += 1;
                Token::Comma
            }
            b'=' => {
                at += 1;
                Token::Op(CompareOp::Eq)
            }
            b'<' | b'>' => {
                let next = bytes.get(at + 1).copied();
                let (op, width) = match (bytes[at], next) {
                    (b'<', Some(b'>')) => (CompareOp::Ne, 2),
                    (b'<', Some(b'=')) => (CompareOp::Le, 2),
                    (b'>', Some(b'=')) => (CompareOp::Ge, 2),
                    (b'<', _) => (CompareOp::Lt, 1),
                    _ => (CompareOp::Gt, 1),
                };
                at += width;
                Token::Op(op)
            }
            quote @ (b'\'' | b'"') => {
                let mut value = String::new();
                at += 1;
                loop {
                    let Some(offset) = text[at..].find(quote as char) else {
                        return Err(FilterError::new("the quoted text is not closed", start..text.len()));
                    };
                    value.push_str(&text[at..at + offset]);
                    at += offset + 1;
                    // A doubled quote is a quote.
                    if bytes.get(at) == Some(&quote) {
                        value.push(quote as char);
                        at += 1;
                    } else {
                        break;
                    }
                }
                if quote == b'\'' {
                    Token::String(value)
                } else {
                    Token::QuotedName(value)
                }
            }
            b'0'..=b'9' | b'-' | b'+' | b'.' => {
                at += 1;
                while at < bytes.len()
                    && (bytes[at].is_ascii_digit()
                        || bytes[at] == b'.'
                        || matches!(bytes[at], b'e' | b'E')
                        || (matches!(bytes[at], b'-' | b'+') && matches!(bytes[at - 1], b'e' | b'E')))
                {
                    at += 1;
                }
                let number = &text[start..at];
                if !number.bytes().any(|byte| byte.is_ascii_digit()) {
                    return Err(FilterError::new(format!("'{number}' is not a number"), start..at));
                }
                Token::Number(number.to_owned())
            }
            byte if byte.is_ascii_alphabetic() || byte == b'_' || byte >= 0x80 => {
                while at < bytes.len()
                    && (bytes[at].is_ascii_alphanumeric()
                        || matches!(bytes[at], b'_' | b':' | b'.')
                        || bytes[at] >= 0x80)
                {
                    at += 1;
                }
                Token::Word(text[start..at].to_owned())
            }
            _ => {
                let char = text[start..].chars().next().unwrap_or('?');
                return Err(FilterError::new(format!("unexpected character '{char}'"), start..start + char.len_utf8()));
            }
        };
        tokens.push(Spanned { token, span: start..at });
    }
    Ok(tokens)
}

const WKT_TYPES: [&str; 7] =
    ["POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION"];

pub struct Parser<'a> {
    text: &'a str,
    tokens: &'a [Spanned],
    at: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    pub fn new(text: &'a str, tokens: &'a [Spanned]) -> Parser<'a> {
        Parser { text, tokens, at: 0, depth: 0 }
    }

    pub fn parse(mut self) -> Result<Expr, FilterError> {
        if self.tokens.is_empty() {
            return Err(FilterError::new("the filter is empty", 0..0));
        }
        let expr = self.or()?;
        match self.tokens.get(self.at) {
            None => Ok(expr),
            Some(extra) => Err(FilterError::new(
                format!("unexpected '{}' after a complete condition", &self.text[extra.span.clone()]),
                extra.span.clone(),
            )),
        }
    }

    fn peek(&self) -> Option<&'a Spanned> {
        self.tokens.get(self.at)
    }

    /// The span where the next token is (or the end of the text).
    fn here(&self) -> Span {
        self.peek().map_or(self.text.len()..self.text.len(), |token| token.span.clone())
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Spanned { token: Token::Word(word), .. }) if word.eq_ignore_ascii_case(keyword))
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        let found = self.is_keyword(keyword);
        if found {
            self.at += 1;
        }
        found
    }

    fn expect(&mut self, expected: &Token, what: &str) -> Result<Span, FilterError> {
        match self.peek() {
            Some(spanned) if &spanned.token == expected => {
                self.at += 1;
                Ok(spanned.span.clone())
            }
            _ => Err(FilterError::new(format!("expected {what}"), self.here())),
        }
    }

    fn nest(&mut self) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(FilterError::new(format!("the filter nests deeper than {MAX_DEPTH} levels"), self.here()));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and()?;
        while self.eat_keyword("OR") {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.not()?;
        while self.eat_keyword("AND") {
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, FilterError> {
        self.nest()?;
        let expr = if self.eat_keyword("NOT") {
            Expr::Not(Box::new(self.not()?))
        } else if self.peek().is_some_and(|token| token.token == Token::LeftParen) {
            self.at += 1;
            let inner = self.or()?;
            self.expect(&Token::RightParen, "')'")?;
            inner
        } else if self.eat_keyword("S_INTERSECTS") {
            self.intersects()?
        } else {
            self.predicate()?
        };
        self.depth -= 1;
        Ok(expr)
    }

    fn intersects(&mut self) -> Result<Expr, FilterError> {
        self.expect(&Token::LeftParen, "'(' after S_INTERSECTS")?;
        let property = self.name()?;
        self.expect(&Token::Comma, "',' after the property")?;
        let wkt = self.geometry()?;
        self.expect(&Token::RightParen, "')' after the geometry")?;
        Ok(Expr::Intersects { property, wkt })
    }

    /// A WKT geometry (its text as written) or `BBOX(…)` as a polygon.
    fn geometry(&mut self) -> Result<Located<String>, FilterError> {
        let start = self.here();
        let Some(Spanned { token: Token::Word(word), .. }) = self.peek() else {
            return Err(FilterError::new("expected a geometry (WKT or BBOX)", start));
        };
        if word.eq_ignore_ascii_case("BBOX") {
            self.at += 1;
            self.expect(&Token::LeftParen, "'(' after BBOX")?;
            let mut numbers = Vec::new();
            loop {
                let span = self.here();
                match self.peek() {
                    Some(Spanned { token: Token::Number(number), .. }) => {
                        numbers.push(number.parse::<f64>().map_err(|_| FilterError::new("not a number", span))?);
                        self.at += 1;
                    }
                    _ => return Err(FilterError::new("expected a number", span)),
                }
                if self.expect(&Token::Comma, "").is_err() {
                    break;
                }
            }
            let end = self.expect(&Token::RightParen, "')' after the BBOX numbers")?;
            let [west, south, east, north] = numbers[..] else {
                return Err(FilterError::new("BBOX takes 4 numbers: west, south, east, north", start));
            };
            if south > north {
                return Err(FilterError::new("BBOX's south is above its north: give west, south, east, north", start));
            }
            let ring = |west: f64, east: f64| {
                format!("(({west} {south},{east} {south},{east} {north},{west} {north},{west} {south}))")
            };
            // West beyond east crosses the antimeridian (OGC 17-069r4 §7.15.4,
            // as `bbox=` does): the parts on either side of it.
            let wkt = if west > east {
                format!("MULTIPOLYGON({},{})", ring(west, 180.0), ring(-180.0, east))
            } else {
                format!("POLYGON{}", ring(west, east))
            };
            return Ok(Located { value: wkt, span: start.start..end.end });
        }
        if !WKT_TYPES.iter().any(|kind| word.eq_ignore_ascii_case(kind)) {
            return Err(FilterError::new(format!("'{word}' is not a WKT geometry type"), start));
        }
        self.at += 1;
        // Take the text to the balancing parenthesis: the WKT parser reads it.
        let mut depth = 0usize;
        let mut end = start.end;
        if self.eat_keyword("EMPTY") {
            return Err(FilterError::new("an empty geometry intersects nothing", start));
        }
        while let Some(spanned) = self.peek() {
            match spanned.token {
                Token::LeftParen => depth += 1,
                Token::RightParen if depth == 0 => break,
                Token::RightParen => depth -= 1,
                _ => {}
            }
            end = spanned.span.end;
            self.at += 1;
            if depth == 0 {
                break;
            }
        }
        if depth != 0 {
            return Err(FilterError::new("the geometry's parentheses are not closed", start.start..end));
        }
        Ok(Located { value: self.text[start.start..end].to_owned(), span: start.start..end })
    }

    fn name(&mut self) -> Result<Located<String>, FilterError> {
        match self.peek() {
            Some(Spanned { token: Token::Word(word) | Token::QuotedName(word), span }) => {
                self.at += 1;
                Ok(Located { value: word.clone(), span: span.clone() })
            }
            _ => Err(FilterError::new("expected a property name", self.here())),
        }
    }

    /// A literal, or `None` when the next token is not one (it is a name).
    fn scalar(&mut self) -> Result<Option<Located<Literal>>, FilterError> {
        let Some(spanned) = self.peek() else { return Ok(None) };
        let span = spanned.span.clone();
        let value = match &spanned.token {
            Token::String(text) => Literal::String(text.clone()),
            Token::Number(text) => Literal::Number(text.clone()),
            Token::Word(word) if word.eq_ignore_ascii_case("TRUE") => Literal::Boolean(true),
            Token::Word(word) if word.eq_ignore_ascii_case("FALSE") => Literal::Boolean(false),
            Token::Word(word) if word.eq_ignore_ascii_case("DATE") || word.eq_ignore_ascii_case("TIMESTAMP") => {
                self.at += 1;
                self.expect(&Token::LeftParen, "'(' after DATE or TIMESTAMP")?;
                let inner = self.here();
                let Some(Spanned { token: Token::String(text), .. }) = self.peek() else {
                    return Err(FilterError::new("expected a quoted date", inner));
                };
                self.at += 1;
                let end = self.expect(&Token::RightParen, "')'")?;
                // A date alone is its first instant, UTC.
                let text = if text.len() == 10 { format!("{text}T00:00:00Z") } else { text.clone() };
                return Ok(Some(Located { value: Literal::DateTime(text), span: span.start..end.end }));
            }
            _ => return Ok(None),
        };
        self.at += 1;
        Ok(Some(Located { value, span }))
    }

    fn required_scalar(&mut self) -> Result<Located<Literal>, FilterError> {
        let here = self.here();
        self.scalar()?.ok_or_else(|| FilterError::new("expected a value", here))
    }

    fn predicate(&mut self) -> Result<Expr, FilterError> {
        // `value op name`: the comparison read the other way round.
        if let Some(literal) = self.scalar()? {
            let op = self.operator()?;
            let property = self.name()?;
            let flipped = match op {
                CompareOp::Lt => CompareOp::Gt,
                CompareOp::Le => CompareOp::Ge,
                CompareOp::Gt => CompareOp::Lt,
                CompareOp::Ge => CompareOp::Le,
                same => same,
            };
            return Ok(Expr::Compare { property, op: flipped, literal });
        }
        let property = self.name()?;
        if self.eat_keyword("IS") {
            let negated = self.eat_keyword("NOT");
            let span = self.here();
            if !self.eat_keyword("NULL") {
                return Err(FilterError::new("expected NULL after IS", span));
            }
            let op = if negated { CompareOp::Ne } else { CompareOp::Eq };
            return Ok(Expr::Compare { property, op, literal: Located { value: Literal::Null, span } });
        }
        let negated = self.eat_keyword("NOT");
        // ILIKE (GDAL writes it) is LIKE: every comparison ignores case.
        let expr = if self.eat_keyword("LIKE") || self.eat_keyword("ILIKE") {
            let span = self.here();
            match self.peek() {
                Some(Spanned { token: Token::String(pattern), .. }) => {
                    self.at += 1;
                    Expr::Like { property, pattern: Located { value: pattern.clone(), span } }
                }
                _ => return Err(FilterError::new("expected a quoted pattern after LIKE", span)),
            }
        } else if self.eat_keyword("BETWEEN") {
            let low = self.required_scalar()?;
            let span = self.here();
            if !self.eat_keyword("AND") {
                return Err(FilterError::new("expected AND between the bounds", span));
            }
            let high = self.required_scalar()?;
            Expr::And(
                Box::new(Expr::Compare { property: property.clone(), op: CompareOp::Ge, literal: low }),
                Box::new(Expr::Compare { property, op: CompareOp::Le, literal: high }),
            )
        } else if self.eat_keyword("IN") {
            self.expect(&Token::LeftParen, "'(' after IN")?;
            let mut literals = vec![self.required_scalar()?];
            while self.expect(&Token::Comma, "").is_ok() {
                literals.push(self.required_scalar()?);
            }
            self.expect(&Token::RightParen, "',' or ')'")?;
            Expr::In { property, literals }
        } else if negated {
            return Err(FilterError::new("expected LIKE, BETWEEN or IN after NOT", self.here()));
        } else {
            let op = self.operator()?;
            let literal = self.required_scalar()?;
            Expr::Compare { property, op, literal }
        };
        Ok(if negated { Expr::Not(Box::new(expr)) } else { expr })
    }

    fn operator(&mut self) -> Result<CompareOp, FilterError> {
        match self.peek() {
            Some(Spanned { token: Token::Op(op), .. }) => {
                self.at += 1;
                Ok(*op)
            }
            _ => Err(FilterError::new(
                "expected an operator (=, <>, <, <=, >, >=, LIKE, BETWEEN, IN or IS)",
                self.here(),
            )),
        }
    }
}
