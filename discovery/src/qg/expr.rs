//! The grammar of QG library terms: fields of the two-layer state, spectral operators on them,
//! Jacobians and products. An expression prints in the same form it is parsed from, so a term's
//! name is its definition: `lap(psi2)`, `grad(psi1)`, `J(psi1, q1)`, `psi1*lap2(q2)`, `psi_R`.
//!
//! ```text
//! expr    := factor ('*' factor)*             product of physical fields (pointwise)
//! factor  := field | op '(' expr ')' | 'J(' expr ',' expr ')'
//! field   := psi1 | psi2 | q1 | q2 | psi_R | s | y
//! op      := lap | lap2 | lap3 | lap4 | dx | dy | grad
//! ```
//! `q1`, `q2` are the PV anomalies without `beta y` (MEDIDA's q-tilde, pyqg's `q`); `psi_R` is the
//! jet model's relaxation profile; `s` its sponge profile `s(y)`; `y` the distance from the domain's
//! centre line. `grad(f)` is the released library's scalar `dx(f) + dy(f)`, not a vector;
//! `J(a, b) = dx(a) dy(b) - dy(a) dx(b)`.

use crate::error::DiscoveryError;
use std::fmt;

/// A field of the state or of the model's geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// Streamfunction of a layer (0 = upper).
    Psi(usize),
    /// PV anomaly of a layer (without `beta y`).
    Q(usize),
    /// The jet's relaxation streamfunction `psi_R(y)`.
    PsiR,
    /// The jet's sponge profile `s(y)`.
    Sponge,
    /// Distance from the domain's centre line, `y - Ly/2`.
    Y,
}

/// A linear, wavenumber-diagonal operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// The Laplacian to a power 1..=4: multiplier `(-(k^2 + l^2))^n`.
    Lap(u8),
    /// `d/dx`: `i k`.
    Dx,
    /// `d/dy`: `i l`.
    Dy,
    /// `d/dx + d/dy`: `i (k + l)` (the released library's "grad").
    Grad,
}

/// A library term.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Expr {
    /// A field.
    Field(Field),
    /// An operator applied to an expression (spectrally).
    Apply(Op, Box<Expr>),
    /// The Jacobian `J(a, b)`, computed as the solver computes advection (same de-aliasing).
    Jacobian(Box<Expr>, Box<Expr>),
    /// The pointwise product of two expressions.
    Product(Box<Expr>, Box<Expr>),
}

impl Expr {
    /// Parses a term, e.g. `"J(psi1, q1)"`.
    pub fn parse(text: &str) -> Result<Self, DiscoveryError> {
        let tokens = tokenize(text)?;
        let mut p = Parser {
            tokens: &tokens,
            pos: 0,
            text,
        };
        let e = p.expr()?;
        if p.pos != tokens.len() {
            return Err(p.error("unexpected text after the term"));
        }
        Ok(e)
    }

    /// The fields the expression reads.
    pub fn fields(&self) -> Vec<Field> {
        let mut out = Vec::new();
        self.visit_fields(&mut out);
        out
    }

    fn visit_fields(&self, out: &mut Vec<Field>) {
        match self {
            Self::Field(f) => out.push(*f),
            Self::Apply(_, a) => a.visit_fields(out),
            Self::Jacobian(a, b) | Self::Product(a, b) => {
                a.visit_fields(out);
                b.visit_fields(out);
            }
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Psi(i) => write!(f, "psi{}", i + 1),
            Self::Q(i) => write!(f, "q{}", i + 1),
            Self::PsiR => f.write_str("psi_R"),
            Self::Sponge => f.write_str("s"),
            Self::Y => f.write_str("y"),
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Lap(1) => f.write_str("lap"),
            Self::Lap(n) => write!(f, "lap{n}"),
            Self::Dx => f.write_str("dx"),
            Self::Dy => f.write_str("dy"),
            Self::Grad => f.write_str("grad"),
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Field(x) => x.fmt(f),
            Self::Apply(op, a) => write!(f, "{op}({a})"),
            Self::Jacobian(a, b) => write!(f, "J({a}, {b})"),
            Self::Product(a, b) => write!(f, "{a}*{b}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Name(String),
    Open,
    Close,
    Comma,
    Star,
}

fn tokenize(text: &str) -> Result<Vec<Token>, DiscoveryError> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            ' ' | '\t' => {}
            '(' => out.push(Token::Open),
            ')' => out.push(Token::Close),
            ',' => out.push(Token::Comma),
            '*' => out.push(Token::Star),
            c if c.is_ascii_alphanumeric() || c == '_' => {
                let mut end = i + c.len_utf8();
                while let Some(&(j, d)) = chars.peek() {
                    if d.is_ascii_alphanumeric() || d == '_' {
                        end = j + d.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(Token::Name(text[i..end].to_string()));
            }
            other => {
                return Err(DiscoveryError::Library(format!(
                    "`{text}`: unexpected character `{other}` at position {i}"
                )));
            }
        }
    }
    Ok(out)
}

struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
    text: &'a str,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> DiscoveryError {
        DiscoveryError::Library(format!(
            "`{}`: {what} (terms look like psi1, lap(psi2), grad(psi1), J(psi1, q1), psi1*q2; fields psi1 psi2 q1 q2 psi_R s y; operators lap lap2 lap3 lap4 dx dy grad)",
            self.text
        ))
    }

    fn next(&mut self) -> Option<&Token> {
        let t = self.tokens.get(self.pos);
        self.pos += 1;
        t
    }

    fn expect(&mut self, want: Token, what: &str) -> Result<(), DiscoveryError> {
        match self.next() {
            Some(t) if *t == want => Ok(()),
            _ => Err(self.error(&format!("expected {what}"))),
        }
    }

    fn expr(&mut self) -> Result<Expr, DiscoveryError> {
        let mut e = self.factor()?;
        while self.tokens.get(self.pos) == Some(&Token::Star) {
            self.pos += 1;
            e = Expr::Product(Box::new(e), Box::new(self.factor()?));
        }
        Ok(e)
    }

    fn factor(&mut self) -> Result<Expr, DiscoveryError> {
        let name = match self.next() {
            Some(Token::Name(n)) => n.clone(),
            _ => return Err(self.error("expected a field, an operator or J")),
        };
        let field = match name.as_str() {
            "psi1" => Some(Field::Psi(0)),
            "psi2" => Some(Field::Psi(1)),
            "q1" => Some(Field::Q(0)),
            "q2" => Some(Field::Q(1)),
            "psi_R" => Some(Field::PsiR),
            "s" => Some(Field::Sponge),
            "y" => Some(Field::Y),
            _ => None,
        };
        if let Some(f) = field {
            return Ok(Expr::Field(f));
        }
        let op = match name.as_str() {
            "lap" => Op::Lap(1),
            "lap2" => Op::Lap(2),
            "lap3" => Op::Lap(3),
            "lap4" => Op::Lap(4),
            "dx" => Op::Dx,
            "dy" => Op::Dy,
            "grad" => Op::Grad,
            "J" => {
                self.expect(Token::Open, "`(` after J")?;
                let a = self.expr()?;
                self.expect(Token::Comma, "`,` between the arguments of J")?;
                let b = self.expr()?;
                self.expect(Token::Close, "`)` closing J")?;
                return Ok(Expr::Jacobian(Box::new(a), Box::new(b)));
            }
            other => return Err(self.error(&format!("unknown name `{other}`"))),
        };
        self.expect(Token::Open, &format!("`(` after {name}"))?;
        let a = self.expr()?;
        self.expect(Token::Close, &format!("`)` closing {name}"))?;
        Ok(Expr::Apply(op, Box::new(a)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_print_as_they_parse() {
        for t in [
            "psi1",
            "lap(psi2)",
            "lap4(q1)",
            "grad(psi1)",
            "J(psi1, q1)",
            "J(psi2, lap(psi2))",
            "psi1*psi2",
            "s*q1",
            "dx(psi1)*dy(q2)*y",
            "psi_R",
        ] {
            assert_eq!(Expr::parse(t).unwrap().to_string(), t);
        }
        assert_eq!(
            Expr::parse("J( psi1 ,q1 )").unwrap().to_string(),
            "J(psi1, q1)"
        );
    }

    #[test]
    fn bad_terms_are_named() {
        for (t, msg) in [
            ("lap5(psi1)", "unknown name `lap5`"),
            ("psi3", "unknown name `psi3`"),
            ("J(psi1 q1)", "expected `,`"),
            ("lap(psi1", "expected `)`"),
            ("psi1 psi2", "unexpected text"),
            ("psi1 + psi2", "unexpected character `+`"),
            ("", "expected a field"),
        ] {
            let e = Expr::parse(t).unwrap_err().to_string();
            assert!(e.contains(msg), "{t}: {e}");
        }
    }
}
