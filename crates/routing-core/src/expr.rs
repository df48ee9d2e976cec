//! Queue-step expressions over agent routing attributes.
//!
//! Grammar: `term ((AND | OR) term)*`, evaluated strictly left to right with no
//! precedence (`a OR b AND c` is `(a OR b) AND c`), as the queue editor documents.
//! A term is `attr OP value` with OP one of `== != < <= > >=` and value `true`,
//! `false` or an integer, or a bare `attr` meaning `attr == true`. `&&`/`||` and
//! lower-case connectives are accepted. An empty expression matches every agent.
//! A term over an attribute the agent does not have is false.

use std::collections::BTreeMap;

use super::model::AttrValue;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExprError {
    #[error("unexpected character {found:?} at offset {offset}")]
    UnexpectedChar { offset: usize, found: char },
    #[error("expected an attribute name at offset {offset}")]
    ExpectedAttribute { offset: usize },
    #[error("expected a value (true, false or a number) after the operator at offset {offset}")]
    ExpectedValue { offset: usize },
    #[error("expected AND or OR at offset {offset}")]
    ExpectedConnective { offset: usize },
    #[error("number {text:?} at offset {offset} is out of range 0-255")]
    NumberOutOfRange { offset: usize, text: String },
    #[error("operator {op} cannot compare with a boolean (attribute {attribute:?})")]
    OrderingOnBoolean { attribute: String, op: &'static str },
    #[error("expression ends after a connective")]
    DanglingConnective,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    fn symbol(self) -> &'static str {
        match self {
            Self::Eq => "==",
            Self::Ne => "!=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }

    fn compare(self, left: u8, right: u8) -> bool {
        match self {
            Self::Eq => left == right,
            Self::Ne => left != right,
            Self::Lt => left < right,
            Self::Le => left <= right,
            Self::Gt => left > right,
            Self::Ge => left >= right,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Literal {
    Bool(bool),
    Number(u8),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Term {
    pub attribute: String,
    pub op: CmpOp,
    pub value: Literal,
}

impl Term {
    fn eval(&self, attributes: &BTreeMap<String, AttrValue>) -> bool {
        match (attributes.get(&self.attribute), self.value) {
            (None, _) => false,
            (Some(AttrValue::Bool(have)), Literal::Bool(want)) => match self.op {
                CmpOp::Eq => *have == want,
                CmpOp::Ne => *have != want,
                _ => false,
            },
            (Some(AttrValue::Bool(_)), Literal::Number(_)) => false,
            (Some(AttrValue::Proficiency(level)), Literal::Number(want)) => {
                self.op.compare(*level, want)
            }
            // `skill == true` asks whether the agent has the skill at all.
            (Some(AttrValue::Proficiency(_)), Literal::Bool(want)) => match self.op {
                CmpOp::Eq => want,
                CmpOp::Ne => !want,
                _ => false,
            },
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connective {
    And,
    Or,
}

/// A parsed step expression.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Expr {
    terms: Vec<(Connective, Term)>,
}

impl Expr {
    /// An expression that matches every agent.
    pub fn any() -> Self {
        Self::default()
    }

    pub fn parse(text: &str) -> Result<Self, ExprError> {
        Parser::new(text).parse()
    }

    pub fn terms(&self) -> impl Iterator<Item = &Term> {
        self.terms.iter().map(|(_, term)| term)
    }

    pub fn matches(&self, attributes: &BTreeMap<String, AttrValue>) -> bool {
        let mut iter = self.terms.iter();
        let Some((_, first)) = iter.next() else {
            return true;
        };
        iter.fold(
            first.eval(attributes),
            |acc, (connective, term)| match connective {
                Connective::And => acc && term.eval(attributes),
                Connective::Or => acc || term.eval(attributes),
            },
        )
    }

    /// Sum of the agent's proficiencies over the distinct attributes this expression
    /// compares numerically (the MOST_SKILLED score).
    pub fn skill_sum(&self, attributes: &BTreeMap<String, AttrValue>) -> u16 {
        let mut seen: Vec<&str> = Vec::new();
        let mut sum = 0u16;
        for term in self.terms() {
            if !matches!(term.value, Literal::Number(_)) || seen.contains(&term.attribute.as_str())
            {
                continue;
            }
            seen.push(&term.attribute);
            if let Some(AttrValue::Proficiency(level)) = attributes.get(&term.attribute) {
                sum += u16::from(*level);
            }
        }
        sum
    }
}

#[derive(Debug, PartialEq)]
enum Token<'a> {
    Ident(&'a str),
    Number(&'a str),
    Op(CmpOp),
    And,
    Or,
}

struct Parser<'a> {
    text: &'a str,
    offset: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Self { text, offset: 0 }
    }

    fn skip_space(&mut self) {
        let rest = &self.text[self.offset..];
        self.offset += rest.len() - rest.trim_start().len();
    }

    /// The next token and the offset it starts at, or None at the end.
    fn next_token(&mut self) -> Result<Option<(usize, Token<'a>)>, ExprError> {
        self.skip_space();
        let start = self.offset;
        let rest = &self.text[start..];
        let Some(first) = rest.chars().next() else {
            return Ok(None);
        };
        let two = rest.get(..2);
        let (token, len) = match (first, two) {
            (_, Some("==")) => (Token::Op(CmpOp::Eq), 2),
            (_, Some("!=")) => (Token::Op(CmpOp::Ne), 2),
            (_, Some("<=")) => (Token::Op(CmpOp::Le), 2),
            (_, Some(">=")) => (Token::Op(CmpOp::Ge), 2),
            (_, Some("&&")) => (Token::And, 2),
            (_, Some("||")) => (Token::Or, 2),
            ('=', _) => (Token::Op(CmpOp::Eq), 1),
            ('<', _) => (Token::Op(CmpOp::Lt), 1),
            ('>', _) => (Token::Op(CmpOp::Gt), 1),
            (c, _) if c.is_ascii_digit() => {
                let len = rest
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(rest.len());
                (Token::Number(&rest[..len]), len)
            }
            (c, _) if c.is_alphabetic() || c == '_' => {
                let len = rest
                    .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '.' | '-')))
                    .unwrap_or(rest.len());
                let word = &rest[..len];
                let token = if word.eq_ignore_ascii_case("and") {
                    Token::And
                } else if word.eq_ignore_ascii_case("or") {
                    Token::Or
                } else {
                    Token::Ident(word)
                };
                (token, len)
            }
            (found, _) => {
                return Err(ExprError::UnexpectedChar {
                    offset: start,
                    found,
                })
            }
        };
        self.offset += len;
        Ok(Some((start, token)))
    }

    fn parse(mut self) -> Result<Expr, ExprError> {
        let mut terms = Vec::new();
        let mut connective = Connective::And;
        let mut pending = self.next_token()?;
        if pending.is_none() {
            return Ok(Expr::any());
        }
        loop {
            let (term, after) = self.parse_term(pending)?;
            terms.push((connective, term));
            match after {
                None => break,
                Some((_, Token::And)) => connective = Connective::And,
                Some((_, Token::Or)) => connective = Connective::Or,
                Some((offset, _)) => return Err(ExprError::ExpectedConnective { offset }),
            }
            pending = self.next_token()?;
            if pending.is_none() {
                return Err(ExprError::DanglingConnective);
            }
        }
        Ok(Expr { terms })
    }

    /// Parses one term starting at `first`; returns it and the token after it.
    #[allow(clippy::type_complexity)]
    fn parse_term(
        &mut self,
        first: Option<(usize, Token<'a>)>,
    ) -> Result<(Term, Option<(usize, Token<'a>)>), ExprError> {
        let attribute = match first {
            Some((_, Token::Ident(name))) => name.to_string(),
            Some((offset, _)) => return Err(ExprError::ExpectedAttribute { offset }),
            None => {
                return Err(ExprError::ExpectedAttribute {
                    offset: self.offset,
                })
            }
        };
        let op = match self.next_token()? {
            Some((_, Token::Op(op))) => op,
            other => {
                let term = Term {
                    attribute,
                    op: CmpOp::Eq,
                    value: Literal::Bool(true),
                };
                return Ok((term, other));
            }
        };
        let value = match self.next_token()? {
            Some((_, Token::Ident(word))) if word.eq_ignore_ascii_case("true") => {
                Literal::Bool(true)
            }
            Some((_, Token::Ident(word))) if word.eq_ignore_ascii_case("false") => {
                Literal::Bool(false)
            }
            Some((offset, Token::Number(text))) => {
                Literal::Number(text.parse().map_err(|_| ExprError::NumberOutOfRange {
                    offset,
                    text: text.to_string(),
                })?)
            }
            Some((offset, _)) => return Err(ExprError::ExpectedValue { offset }),
            None => {
                return Err(ExprError::ExpectedValue {
                    offset: self.offset,
                })
            }
        };
        if matches!(value, Literal::Bool(_)) && !matches!(op, CmpOp::Eq | CmpOp::Ne) {
            return Err(ExprError::OrderingOnBoolean {
                attribute,
                op: op.symbol(),
            });
        }
        Ok((
            Term {
                attribute,
                op,
                value,
            },
            self.next_token()?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(list: &[(&str, AttrValue)]) -> BTreeMap<String, AttrValue> {
        list.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn empty_expression_matches_everyone() {
        let expr = Expr::parse("   ").unwrap();
        assert!(expr.matches(&attrs(&[])));
    }

    #[test]
    fn boolean_and_proficiency_terms() {
        let agent = attrs(&[
            ("english", AttrValue::Bool(true)),
            ("sales", AttrValue::Proficiency(6)),
        ]);
        let cases = [
            ("english == true", true),
            ("english == false", false),
            ("english != true", false),
            ("english", true),
            ("sales >= 5", true),
            ("sales > 6", false),
            ("sales <= 6", true),
            ("sales < 6", false),
            ("sales == 6", true),
            ("sales != 6", false),
            ("sales = 6", true),
            ("sales == true", true),
            ("french == true", false),
            ("french != true", false),
            ("english >= 1", false),
        ];
        for (text, want) in cases {
            assert_eq!(Expr::parse(text).unwrap().matches(&agent), want, "{text}");
        }
    }

    #[test]
    fn connectives_evaluate_left_to_right_without_precedence() {
        let agent = attrs(&[("a", AttrValue::Bool(true)), ("c", AttrValue::Bool(false))]);
        // With AND binding tighter this would be a OR (b AND c) = true.
        assert!(!Expr::parse("a OR b AND c == true").unwrap().matches(&agent));
        assert!(Expr::parse("b and c == false or a")
            .unwrap()
            .matches(&agent));
        assert!(Expr::parse("b || a && c == false").unwrap().matches(&agent));
    }

    #[test]
    fn skill_sum_counts_distinct_numeric_attributes() {
        let agent = attrs(&[
            ("sales", AttrValue::Proficiency(6)),
            ("billing", AttrValue::Proficiency(3)),
            ("vip", AttrValue::Bool(true)),
        ]);
        let expr = Expr::parse("sales >= 2 AND sales <= 9 OR billing > 1 AND vip").unwrap();
        assert_eq!(expr.skill_sum(&agent), 9);
    }

    #[test]
    fn malformed_expressions_are_refused() {
        assert!(matches!(
            Expr::parse("sales >="),
            Err(ExprError::ExpectedValue { .. })
        ));
        assert!(matches!(
            Expr::parse("sales >= 5 AND"),
            Err(ExprError::DanglingConnective)
        ));
        assert!(matches!(
            Expr::parse("sales >= 5 vip"),
            Err(ExprError::ExpectedConnective { .. })
        ));
        assert!(matches!(
            Expr::parse("(sales >= 5)"),
            Err(ExprError::UnexpectedChar { found: '(', .. })
        ));
        assert!(matches!(
            Expr::parse("vip > true"),
            Err(ExprError::OrderingOnBoolean { .. })
        ));
        assert!(matches!(
            Expr::parse("sales >= 300"),
            Err(ExprError::NumberOutOfRange { .. })
        ));
        assert!(matches!(
            Expr::parse("AND vip"),
            Err(ExprError::ExpectedAttribute { .. })
        ));
        assert!(matches!(
            Expr::parse("sales == vip"),
            Err(ExprError::ExpectedValue { .. })
        ));
    }
}
