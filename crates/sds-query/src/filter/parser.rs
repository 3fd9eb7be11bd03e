//! Recursive descent over the tokens, one function per grammar rule (see
//! the grammar in [`super`]). Nesting is capped so a hostile filter cannot
//! overflow the stack.

use super::ast::{CompareOp, Expr, Literal, Located, Span, TextFunction};
use super::lexer::{Spanned, Token};
use super::FilterError;

/// Deepest nesting of `not` and parentheses accepted.
pub const MAX_DEPTH: usize = 64;

pub struct Parser<'a> {
    tokens: &'a [Spanned],
    position: usize,
    text_length: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    pub fn new(tokens: &'a [Spanned], text_length: usize) -> Self {
        Parser { tokens, position: 0, text_length, depth: 0 }
    }

    pub fn parse(mut self) -> Result<Expr, FilterError> {
        if self.tokens.is_empty() {
            return Err(FilterError::new("the filter is empty", 0..0));
        }
        let expr = self.or()?;
        if let Some(extra) = self.peek() {
            return Err(FilterError::new(
                format!("unexpected {} after a complete expression", describe(&extra.token)),
                extra.span.clone(),
            ));
        }
        Ok(expr)
    }

    fn peek(&self) -> Option<&'a Spanned> {
        self.tokens.get(self.position)
    }

    fn next(&mut self) -> Option<&'a Spanned> {
        let token = self.tokens.get(self.position);
        self.position += 1;
        token
    }

    fn end_span(&self) -> Span {
        self.text_length..self.text_length
    }

    fn peek_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Spanned { token: Token::Word(word), .. }) if word.eq_ignore_ascii_case(keyword))
    }

    fn expect(&mut self, expected: &Token, what: &str) -> Result<&'a Spanned, FilterError> {
        match self.next() {
            Some(spanned) if &spanned.token == expected => Ok(spanned),
            Some(spanned) => Err(FilterError::new(
                format!("expected {what}, found {}", describe(&spanned.token)),
                spanned.span.clone(),
            )),
            None => Err(FilterError::new(format!("expected {what} at the end of the filter"), self.end_span())),
        }
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and()?;
        while self.peek_keyword("or") {
            self.position += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.unary()?;
        while self.peek_keyword("and") {
            self.position += 1;
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let span = self.peek().map_or_else(|| self.end_span(), |token| token.span.clone());
            return Err(FilterError::new(format!("the filter nests deeper than {MAX_DEPTH} levels"), span));
        }
        let result = self.unary_inner();
        self.depth -= 1;
        result
    }

    fn unary_inner(&mut self) -> Result<Expr, FilterError> {
        let Some(first) = self.peek() else {
            return Err(FilterError::new("expected a condition at the end of the filter", self.end_span()));
        };
        match &first.token {
            Token::Word(word) if word.eq_ignore_ascii_case("not") => {
                self.position += 1;
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Token::LeftParen => {
                self.position += 1;
                let inner = self.or()?;
                self.expect(&Token::RightParen, "')'")?;
                Ok(inner)
            }
            Token::Word(word) => {
                let is_call =
                    matches!(self.tokens.get(self.position + 1), Some(Spanned { token: Token::LeftParen, .. }));
                let function = match word.to_ascii_lowercase().as_str() {
                    "startswith" => Some(TextFunction::StartsWith),
                    "endswith" => Some(TextFunction::EndsWith),
                    _ => None,
                };
                match function {
                    Some(function) if is_call => self.text_function(function),
                    _ => self.comparison(),
                }
            }
            other => Err(FilterError::new(
                format!("expected a property name, 'not' or '(', found {}", describe(other)),
                first.span.clone(),
            )),
        }
    }

    fn property(&mut self) -> Result<Located<String>, FilterError> {
        match self.next() {
            Some(Spanned { token: Token::Word(word), span }) => Ok(Located { value: word.clone(), span: span.clone() }),
            Some(other) => Err(FilterError::new(
                format!("expected a property name, found {}", describe(&other.token)),
                other.span.clone(),
            )),
            None => Err(FilterError::new("expected a property name at the end of the filter", self.end_span())),
        }
    }

    fn literal(&mut self) -> Result<Located<Literal>, FilterError> {
        let Some(spanned) = self.next() else {
            return Err(FilterError::new("expected a value at the end of the filter", self.end_span()));
        };
        let literal = match &spanned.token {
            Token::String(text) => Literal::String(text.clone()),
            Token::Number(text) => Literal::Number(text.clone()),
            Token::DateTime(text) => Literal::DateTime(text.clone()),
            Token::Word(word) if word.eq_ignore_ascii_case("true") => Literal::Boolean(true),
            Token::Word(word) if word.eq_ignore_ascii_case("false") => Literal::Boolean(false),
            Token::Word(word) if word.eq_ignore_ascii_case("null") => Literal::Null,
            other => {
                return Err(FilterError::new(
                    format!(
                        "expected a value ('text', a number, true, false, null or datetime'…'), found {}",
                        describe(other)
                    ),
                    spanned.span.clone(),
                ))
            }
        };
        Ok(Located { value: literal, span: spanned.span.clone() })
    }

    /// `Prop op literal` or `Prop in (literal, …)`.
    fn comparison(&mut self) -> Result<Expr, FilterError> {
        let property = self.property()?;
        let Some(operator) = self.next() else {
            return Err(FilterError::new(
                format!("expected an operator (eq, ne, gt, ge, lt, le, in) after '{}'", property.value),
                self.end_span(),
            ));
        };
        let word = match &operator.token {
            Token::Word(word) => word.as_str(),
            _ => "",
        };
        if word.eq_ignore_ascii_case("in") {
            return self.in_list(property);
        }
        let Some(op) = CompareOp::from_keyword(word) else {
            return Err(FilterError::new(
                format!(
                    "expected an operator (eq, ne, gt, ge, lt, le, in) after '{}', found {}",
                    property.value,
                    describe(&operator.token)
                ),
                operator.span.clone(),
            ));
        };
        let literal = self.literal()?;
        Ok(Expr::Compare { property, op, literal })
    }

    fn in_list(&mut self, property: Located<String>) -> Result<Expr, FilterError> {
        self.expect(&Token::LeftParen, "'(' after 'in'")?;
        let mut literals = vec![self.literal()?];
        loop {
            match self.next() {
                Some(Spanned { token: Token::Comma, .. }) => literals.push(self.literal()?),
                Some(Spanned { token: Token::RightParen, .. }) => break,
                Some(other) => {
                    return Err(FilterError::new(
                        format!("expected ',' or ')' in the 'in' list, found {}", describe(&other.token)),
                        other.span.clone(),
                    ))
                }
                None => return Err(FilterError::new("the 'in' list is not closed: ')' is missing", self.end_span())),
            }
        }
        Ok(Expr::In { property, literals })
    }

    /// `startswith(Prop,'s')` with an optional `eq|ne true|false|1|0`.
    fn text_function(&mut self, function: TextFunction) -> Result<Expr, FilterError> {
        self.position += 2; // the name and '('
        let property = self.property()?;
        self.expect(&Token::Comma, "',' between the property and the search text")?;
        let argument = self.literal()?;
        if !matches!(argument.value, Literal::String(_)) {
            return Err(FilterError::new("the search text must be a quoted string", argument.span));
        }
        self.expect(&Token::RightParen, "')'")?;
        let mut expected = true;
        let negate = if self.peek_keyword("eq") {
            Some(false)
        } else if self.peek_keyword("ne") {
            Some(true)
        } else {
            None
        };
        if let Some(negate) = negate {
            self.position += 1;
            let value = self.literal()?;
            let flag = match &value.value {
                Literal::Boolean(flag) => *flag,
                Literal::Number(text) if text == "1" => true,
                Literal::Number(text) if text == "0" => false,
                _ => {
                    return Err(FilterError::new(
                        "a wildcard function can only be compared with true or false",
                        value.span,
                    ))
                }
            };
            expected = flag != negate;
        }
        Ok(Expr::Text { function, property, argument, expected })
    }
}

fn describe(token: &Token) -> String {
    match token {
        Token::Word(word) => format!("'{word}'"),
        Token::String(text) => format!("the string '{text}'"),
        Token::Number(text) => format!("the number {text}"),
        Token::DateTime(text) => format!("the date {text}"),
        Token::LeftParen => "'('".into(),
        Token::RightParen => "')'".into(),
        Token::Comma => "','".into(),
    }
}
