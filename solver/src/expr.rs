//! The grammar of terms: fields of the two-layer state, wavenumber-diagonal operators on them,
//! Jacobians and products. Every term of a model, every column of a regression library and every
//! closure is written in it. An expression prints in the form it is parsed from, so a term's name
//! is its definition: `lap(psi2)`, `grad(psi1)`, `J(psi1, q1)`, `psi1*lap2(q2)`, `s*eddy(q1)`.
//!
//! ```text
//! expr    := term (('+' | '-') term)*        sums and differences
//! term    := unary (('*' | '/') unary)*      pointwise products and quotients
//! unary   := '-' unary | factor
//! factor  := number | field | op '(' expr ')' | func '(' expr ')' | 'J(' expr ',' expr ')'
//!          | adv '(' expr ')' | '(' expr ')'
//! field   := psi1 | psi2 | q1 | q2 | u1 | u2 | v1 | v2 | psi_R | s | x | y | c1 | c2
//!          | q | psi | u | v | c
//! op      := lap | lap2 | lap3 | lap4 | dx | dy | grad | eddy | d8
//! func    := sqrt | abs | cos | mean
//! adv     := adv1 | adv2 | adv
//! number  := 2 | 0.5 | 1e-32 | 2.5E7 ...
//! ```
//! `q1`, `q2` are the PV anomalies (without `beta y`; MEDIDA's q-tilde, pyqg's `q`); `u1`, `v1`
//! the anomaly velocities `-dy(psi1)`, `dx(psi1)` (without the background flow); `psi_R` is the
//! jet model's relaxation profile; `s` its sponge profile `s(y)`; `x` and `y` the distances from
//! the domain's centre lines (`x - Lx/2`, `y - Ly/2`); `c1`, `c2` the layers' coefficient fields
//! (1 unless a controller sets them: [`crate::Model::set_coefficient_field`]). `grad(f)` is the released MEDIDA library's scalar `dx(f) + dy(f)`, not a
//! vector; `eddy(f) = f - <f>_x` removes the zonal mean; `d8(f) = dx^8 f + dy^8 f` (the MEDIDA
//! hyperviscosity's operator); `J(a, b) = dx(a) dy(b) - dy(a) dx(b)`, in flux form `div(u_a b)`;
//! `adv1(f) = dx(f (u1 + U1)) + dy(f v1)`, the advection of `f` by layer 1's full flow including
//! its background `U1` (Ross et al.'s `advected`), `= J(psi1, f) + U1 dx(f)`.
//!
//! `q`, `psi`, `u`, `v`, `c` and `adv` without a layer are **the layer's own**: a closure library
//! written with them is the same library in both layers, made concrete by [`Expr::in_layer`].
//!
//! Sums, quotients, numbers and the pointwise functions `sqrt`, `abs`, `cos` and `mean` (the
//! domain mean, a number) write closures that are not linear in a field: pyqg's Smagorinsky viscosity
//! `sqrt(2*dx(u)*dx(u) + ...)`, or the backscatter coefficient, a ratio of domain means. A
//! product, quotient or function is evaluated on the grid; an operator, Jacobian or advection
//! spectrally; a sum in whichever form its user needs.
//!
//! ```
//! use medida_solver::expr::{Expr, Op};
//! let e = Expr::parse("J(psi1, lap(psi1))")?;
//! assert_eq!(e, Expr::jacobian(Expr::psi(0), Expr::psi(0).apply(Op::Lap(1))));
//! assert_eq!(e.to_string(), "J(psi1, lap(psi1))");
//! # Ok::<(), medida_solver::SolverError>(())
//! ```

use crate::Complex64;
use crate::error::SolverError;
use std::fmt;

/// Deepest nesting of operators, Jacobians and products a parsed expression may have; deeper
/// input is an error, not a stack overflow.
pub const MAX_DEPTH: usize = 32;

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
    /// Distance from the domain's centre line in x, `x - Lx/2`.
    X,
    /// Distance from the domain's centre line, `y - Ly/2`.
    Y,
    /// Zonal anomaly velocity `-dy(psi)` of a layer.
    U(usize),
    /// Meridional velocity `dx(psi)` of a layer.
    V(usize),
    /// A layer's coefficient field `c1`, `c2` (dimensionless, on the grid): set from outside the
    /// model between steps ([`crate::Model::set_coefficient_field`]), 1 everywhere until set. A
    /// closure with a space- and time-varying coefficient writes it as a factor
    /// (`c*sqrt(...)`); a controller (a learned policy) changes it as the model runs.
    Coefficient(usize),
    /// The layer's own field, in an expression written for either layer.
    Own(Own),
}

/// A field of the layer an expression is evaluated in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Own {
    /// `q`.
    Q,
    /// `psi`.
    Psi,
    /// `u`.
    U,
    /// `v`.
    V,
    /// `c`, the coefficient field.
    C,
}

impl Field {
    /// Whether the field is part of the model state rather than of its geometry.
    pub fn is_state(self) -> bool {
        !matches!(
            self,
            Self::PsiR
                | Self::Sponge
                | Self::X
                | Self::Y
                | Self::Coefficient(_)
                | Self::Own(Own::C)
        )
    }

    /// Whether the field can change as the model runs (a state field or a coefficient field):
    /// an expression of fields that do not is a fixed forcing.
    pub fn varies(self) -> bool {
        self.is_state() || matches!(self, Self::Coefficient(_) | Self::Own(Own::C))
    }

    /// The field in layer `lev` (the own-layer fields become explicit).
    pub fn in_layer(self, lev: usize) -> Self {
        match self {
            Self::Own(Own::Q) => Self::Q(lev),
            Self::Own(Own::Psi) => Self::Psi(lev),
            Self::Own(Own::U) => Self::U(lev),
            Self::Own(Own::V) => Self::V(lev),
            Self::Own(Own::C) => Self::Coefficient(lev),
            f => f,
        }
    }
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
    /// `d/dx + d/dy`: `i (k + l)` (the released MEDIDA library's "grad").
    Grad,
    /// The eddy part `f - <f>_x`: 0 at `k = 0`, else 1.
    Eddy,
    /// `dx^8 + dy^8`: `k^8 + l^8`.
    D8,
}

impl Op {
    /// Multiplies the spectrum `h` (k-major, wavenumbers `k`, `l`) by the operator in place:
    /// the same numbers as [`Op::multiplier`] without a complex power per coefficient.
    pub fn apply_to(self, h: &mut [Complex64], k: &[f64], l: &[f64]) {
        let n = h.len();
        let (h, k, l) = (&mut h[..n], &k[..n], &l[..n]);
        match self {
            Self::Lap(p) => {
                for i in 0..n {
                    let w = -(k[i] * k[i] + l[i] * l[i]);
                    let m = match p {
                        1 => w,
                        2 => w * w,
                        3 => w * w * w,
                        _ => w.powi(p as i32),
                    };
                    h[i] *= m;
                }
            }
            Self::Dx => {
                for i in 0..n {
                    h[i] = Complex64::new(-k[i] * h[i].im, k[i] * h[i].re);
                }
            }
            Self::Dy => {
                for i in 0..n {
                    h[i] = Complex64::new(-l[i] * h[i].im, l[i] * h[i].re);
                }
            }
            _ => {
                for i in 0..n {
                    h[i] *= self.multiplier(k[i], l[i]);
                }
            }
        }
    }

    /// The spectral multiplier at wavenumber `(k, l)`.
    pub fn multiplier(self, k: f64, l: f64) -> Complex64 {
        match self {
            Self::Lap(n) => Complex64::new((-(k * k + l * l)).powi(n as i32), 0.0),
            Self::Dx => Complex64::new(0.0, k),
            Self::Dy => Complex64::new(0.0, l),
            Self::Grad => Complex64::new(0.0, k + l),
            Self::Eddy => Complex64::new(if k == 0.0 { 0.0 } else { 1.0 }, 0.0),
            Self::D8 => Complex64::new(k.powi(8) + l.powi(8), 0.0),
        }
    }
}

/// A number of an expression, compared and hashed by its bits; never negative when parsed (a
/// minus sign is [`Expr::Negate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Number(u64);

impl Number {
    /// The number `v`.
    pub fn new(v: f64) -> Self {
        Self(v.to_bits())
    }
    /// Its value.
    pub fn value(self) -> f64 {
        f64::from_bits(self.0)
    }
}

/// A pointwise function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Func {
    /// The square root.
    Sqrt,
    /// The absolute value.
    Abs,
    /// The cosine (of radians).
    Cos,
    /// The domain mean: a number.
    Mean,
}

/// An expression of the grammar.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Expr {
    /// A field.
    Field(Field),
    /// An operator applied to an expression (spectrally).
    Apply(Op, Box<Expr>),
    /// The Jacobian `J(a, b)`, in flux form `div(u b)` with `u = (-dy a, dx a)` and the model's
    /// de-aliasing; `-J(psi_i, q_i)` is the model's advection.
    Jacobian(Box<Expr>, Box<Expr>),
    /// The pointwise product of two expressions.
    Product(Box<Expr>, Box<Expr>),
    /// Advection by a layer's full flow (`None`: the layer's own), `J(psi_i, f) + U_i dx(f)`.
    Advect(Option<usize>, Box<Expr>),
    /// A number (see [`Expr::number`] for negative ones).
    Number(Number),
    /// `a + b`.
    Sum(Box<Expr>, Box<Expr>),
    /// `a - b`.
    Difference(Box<Expr>, Box<Expr>),
    /// `-a`.
    Negate(Box<Expr>),
    /// The pointwise quotient `a / b`.
    Quotient(Box<Expr>, Box<Expr>),
    /// A pointwise function.
    Function(Func, Box<Expr>),
}

impl Expr {
    /// The streamfunction of layer `lev` (0 = upper).
    pub fn psi(lev: usize) -> Self {
        Self::Field(Field::Psi(lev))
    }

    /// The PV anomaly of layer `lev` (0 = upper).
    pub fn q(lev: usize) -> Self {
        Self::Field(Field::Q(lev))
    }

    /// `op(self)`.
    pub fn apply(self, op: Op) -> Self {
        Self::Apply(op, Box::new(self))
    }

    /// `J(a, b)`.
    pub fn jacobian(a: Self, b: Self) -> Self {
        Self::Jacobian(Box::new(a), Box::new(b))
    }

    /// `a*b`.
    pub fn product(a: Self, b: Self) -> Self {
        Self::Product(Box::new(a), Box::new(b))
    }

    /// `adv(self)` by layer `lev`'s full flow (`None`: the own layer's).
    pub fn advected(self, lev: Option<usize>) -> Self {
        Self::Advect(lev, Box::new(self))
    }

    /// The number `v`, as the parser reads it: `-x` is the negation of `x`.
    pub fn number(v: f64) -> Self {
        let n = Self::Number(Number::new(v.abs()));
        if v.is_sign_negative() {
            Self::Negate(Box::new(n))
        } else {
            n
        }
    }

    /// The children of an expression, in order.
    pub fn children(&self) -> Vec<&Expr> {
        match self {
            Self::Field(_) | Self::Number(_) => vec![],
            Self::Apply(_, a) | Self::Advect(_, a) | Self::Negate(a) | Self::Function(_, a) => {
                vec![a]
            }
            Self::Jacobian(a, b)
            | Self::Product(a, b)
            | Self::Sum(a, b)
            | Self::Difference(a, b)
            | Self::Quotient(a, b) => vec![a, b],
        }
    }

    /// The expression in layer `lev`: the own-layer fields and `adv` made explicit.
    pub fn in_layer(&self, lev: usize) -> Self {
        let two = |a: &Self, b: &Self| (Box::new(a.in_layer(lev)), Box::new(b.in_layer(lev)));
        match self {
            Self::Field(f) => Self::Field(f.in_layer(lev)),
            Self::Apply(op, a) => a.in_layer(lev).apply(*op),
            Self::Jacobian(a, b) => Self::jacobian(a.in_layer(lev), b.in_layer(lev)),
            Self::Product(a, b) => Self::product(a.in_layer(lev), b.in_layer(lev)),
            Self::Advect(l, a) => a.in_layer(lev).advected(Some(l.unwrap_or(lev))),
            Self::Number(n) => Self::Number(*n),
            Self::Sum(a, b) => {
                let (a, b) = two(a, b);
                Self::Sum(a, b)
            }
            Self::Difference(a, b) => {
                let (a, b) = two(a, b);
                Self::Difference(a, b)
            }
            Self::Quotient(a, b) => {
                let (a, b) = two(a, b);
                Self::Quotient(a, b)
            }
            Self::Negate(a) => Self::Negate(Box::new(a.in_layer(lev))),
            Self::Function(f, a) => Self::Function(*f, Box::new(a.in_layer(lev))),
        }
    }

    /// Whether the expression has own-layer parts (it is written for either layer).
    pub fn is_generic(&self) -> bool {
        self.fields().iter().any(|f| matches!(f, Field::Own(_)))
    }

    /// Parses an expression, e.g. `"J(psi1, q1)"`.
    pub fn parse(text: &str) -> Result<Self, SolverError> {
        let tokens = tokenize(text)?;
        let mut p = Parser {
            tokens: &tokens,
            pos: 0,
            depth: 0,
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
            Self::Advect(lev, _) => out.push(lev.map_or(Field::Own(Own::Psi), Field::Psi)),
            _ => {}
        }
        self.children()
            .into_iter()
            .for_each(|c| c.visit_fields(out));
    }

    /// Whether the expression depends on the state (reads `psi_i` or `q_i`) or on a coefficient
    /// field; one that does not is a forcing, fixed in time.
    pub fn reads_state(&self) -> bool {
        self.fields().into_iter().any(Field::varies)
    }

    /// A chain of operators on one field, `op_n(...op_1(field))`: wavenumber-diagonal and, on a
    /// state field, linear. Returns the field and the operators, innermost first.
    pub fn as_linear(&self) -> Option<(Field, Vec<Op>)> {
        match self {
            Self::Field(f) => Some((*f, Vec::new())),
            Self::Apply(op, a) => {
                let (f, mut ops) = a.as_linear()?;
                ops.push(*op);
                Some((f, ops))
            }
            _ => None,
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
            Self::X => f.write_str("x"),
            Self::Y => f.write_str("y"),
            Self::U(i) => write!(f, "u{}", i + 1),
            Self::V(i) => write!(f, "v{}", i + 1),
            Self::Coefficient(i) => write!(f, "c{}", i + 1),
            Self::Own(Own::Q) => f.write_str("q"),
            Self::Own(Own::Psi) => f.write_str("psi"),
            Self::Own(Own::U) => f.write_str("u"),
            Self::Own(Own::V) => f.write_str("v"),
            Self::Own(Own::C) => f.write_str("c"),
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
            Self::Eddy => f.write_str("eddy"),
            Self::D8 => f.write_str("d8"),
        }
    }
}

impl fmt::Display for Func {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sqrt => "sqrt",
            Self::Abs => "abs",
            Self::Cos => "cos",
            Self::Mean => "mean",
        })
    }
}

impl fmt::Display for Number {
    /// The shortest digits that parse back to the same number: `0.5`, `2`, `1e-32`, `2.33e22`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.value();
        if v == 0.0 || (1e-4..1e16).contains(&v.abs()) {
            write!(f, "{v}")
        } else {
            write!(f, "{v:e}")
        }
    }
}

impl Expr {
    /// Binding strength when printed: sums 1, products 2, negation 3, everything else 4.
    fn precedence(&self) -> u8 {
        match self {
            Self::Sum(..) | Self::Difference(..) => 1,
            Self::Product(..) | Self::Quotient(..) => 2,
            Self::Negate(_) => 3,
            _ => 4,
        }
    }

    /// `a op b`, with the parentheses that make it parse back to the same tree (left-associative).
    fn binary(f: &mut fmt::Formatter<'_>, a: &Self, op: &str, b: &Self, prec: u8) -> fmt::Result {
        if a.precedence() < prec {
            write!(f, "({a})")?;
        } else {
            write!(f, "{a}")?;
        }
        f.write_str(op)?;
        if b.precedence() <= prec || matches!(b, Self::Negate(_)) {
            write!(f, "({b})")
        } else {
            write!(f, "{b}")
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Field(x) => x.fmt(f),
            Self::Apply(op, a) => write!(f, "{op}({a})"),
            Self::Jacobian(a, b) => write!(f, "J({a}, {b})"),
            Self::Product(a, b) => Self::binary(f, a, "*", b, 2),
            Self::Quotient(a, b) => Self::binary(f, a, "/", b, 2),
            Self::Sum(a, b) => Self::binary(f, a, " + ", b, 1),
            Self::Difference(a, b) => Self::binary(f, a, " - ", b, 1),
            Self::Negate(a) if a.precedence() < 3 => write!(f, "-({a})"),
            Self::Negate(a) => write!(f, "-{a}"),
            Self::Number(n) => n.fmt(f),
            Self::Function(func, a) => write!(f, "{func}({a})"),
            Self::Advect(Some(lev), a) => write!(f, "adv{}({a})", lev + 1),
            Self::Advect(None, a) => write!(f, "adv({a})"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Name(String),
    Number(f64),
    Open,
    Close,
    Comma,
    Star,
    Slash,
    Plus,
    Minus,
}

fn tokenize(text: &str) -> Result<Vec<Token>, SolverError> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            ' ' | '\t' => {}
            '(' => out.push(Token::Open),
            ')' => out.push(Token::Close),
            ',' => out.push(Token::Comma),
            '*' => out.push(Token::Star),
            '/' => out.push(Token::Slash),
            '+' => out.push(Token::Plus),
            '-' => out.push(Token::Minus),
            c if c.is_ascii_digit() || c == '.' => {
                // Digits, a point, and an exponent with its sign: 2, 0.5, 1e-32, 2.5E+7.
                let mut end = i + 1;
                let bytes = text.as_bytes();
                while end < bytes.len() {
                    let d = bytes[end] as char;
                    let exp_sign = matches!(d, '+' | '-') && matches!(bytes[end - 1], b'e' | b'E');
                    if d.is_ascii_digit() || matches!(d, '.' | 'e' | 'E') || exp_sign {
                        end += 1;
                    } else {
                        break;
                    }
                }
                while chars.peek().is_some_and(|&(j, _)| j < end) {
                    chars.next();
                }
                let v: f64 = text[i..end].parse().map_err(|_| {
                    SolverError::Expression(format!(
                        "`{text}`: `{}` at position {i} is not a number",
                        &text[i..end]
                    ))
                })?;
                out.push(Token::Number(v));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
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
                return Err(SolverError::Expression(format!(
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
    depth: usize,
    text: &'a str,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> SolverError {
        let shown: String = self.text.chars().take(80).collect();
        let more = if shown.len() < self.text.len() {
            "..."
        } else {
            ""
        };
        SolverError::Expression(format!(
            "`{shown}{more}`: {what} (terms look like psi1, lap(psi2), grad(psi1), J(psi1, q1), psi1*q2, lap(adv(q)); fields psi1 psi2 q1 q2 u1 u2 v1 v2 psi_R s y, and q psi u v for the own layer; operators lap lap2 lap3 lap4 dx dy grad eddy d8, adv1 adv2 adv; + - * / numbers, sqrt abs mean)"
        ))
    }

    fn next(&mut self) -> Option<&Token> {
        let t = self.tokens.get(self.pos);
        self.pos += 1;
        t
    }

    fn expect(&mut self, want: Token, what: &str) -> Result<(), SolverError> {
        match self.next() {
            Some(t) if *t == want => Ok(()),
            _ => Err(self.error(&format!("expected {what}"))),
        }
    }

    fn expr(&mut self) -> Result<Expr, SolverError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(&format!("nested deeper than {MAX_DEPTH} levels")));
        }
        let mut e = self.term()?;
        loop {
            match self.tokens.get(self.pos) {
                Some(Token::Plus) => {
                    self.pos += 1;
                    e = Expr::Sum(Box::new(e), Box::new(self.term()?));
                }
                Some(Token::Minus) => {
                    self.pos += 1;
                    e = Expr::Difference(Box::new(e), Box::new(self.term()?));
                }
                _ => break,
            }
        }
        self.depth -= 1;
        Ok(e)
    }

    fn term(&mut self) -> Result<Expr, SolverError> {
        let mut e = self.unary()?;
        loop {
            match self.tokens.get(self.pos) {
                Some(Token::Star) => {
                    self.pos += 1;
                    e = Expr::product(e, self.unary()?);
                }
                Some(Token::Slash) => {
                    self.pos += 1;
                    e = Expr::Quotient(Box::new(e), Box::new(self.unary()?));
                }
                _ => break,
            }
        }
        Ok(e)
    }

    fn unary(&mut self) -> Result<Expr, SolverError> {
        if self.tokens.get(self.pos) == Some(&Token::Minus) {
            self.pos += 1;
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(self.error(&format!("nested deeper than {MAX_DEPTH} levels")));
            }
            let e = Expr::Negate(Box::new(self.unary()?));
            self.depth -= 1;
            return Ok(e);
        }
        self.factor()
    }

    fn factor(&mut self) -> Result<Expr, SolverError> {
        let name = match self.next() {
            Some(Token::Name(n)) => n.clone(),
            Some(Token::Number(v)) => return Ok(Expr::Number(Number::new(*v))),
            Some(Token::Open) => {
                let e = self.expr()?;
                self.expect(Token::Close, "`)` closing `(`")?;
                return Ok(e);
            }
            _ => return Err(self.error("expected a field, a number, an operator or J")),
        };
        let field = match name.as_str() {
            "psi1" => Some(Field::Psi(0)),
            "psi2" => Some(Field::Psi(1)),
            "q1" => Some(Field::Q(0)),
            "q2" => Some(Field::Q(1)),
            "psi_R" => Some(Field::PsiR),
            "s" => Some(Field::Sponge),
            "x" => Some(Field::X),
            "y" => Some(Field::Y),
            "u1" => Some(Field::U(0)),
            "u2" => Some(Field::U(1)),
            "v1" => Some(Field::V(0)),
            "v2" => Some(Field::V(1)),
            "q" => Some(Field::Own(Own::Q)),
            "psi" => Some(Field::Own(Own::Psi)),
            "u" => Some(Field::Own(Own::U)),
            "v" => Some(Field::Own(Own::V)),
            "c1" => Some(Field::Coefficient(0)),
            "c2" => Some(Field::Coefficient(1)),
            "c" => Some(Field::Own(Own::C)),
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
            "eddy" => Op::Eddy,
            "d8" => Op::D8,
            "sqrt" | "abs" | "cos" | "mean" => {
                let func = match name.as_str() {
                    "sqrt" => Func::Sqrt,
                    "abs" => Func::Abs,
                    "cos" => Func::Cos,
                    _ => Func::Mean,
                };
                self.expect(Token::Open, &format!("`(` after {name}"))?;
                let a = self.expr()?;
                self.expect(Token::Close, &format!("`)` closing {name}"))?;
                return Ok(Expr::Function(func, Box::new(a)));
            }
            "adv" | "adv1" | "adv2" => {
                let lev = match name.as_str() {
                    "adv1" => Some(0),
                    "adv2" => Some(1),
                    _ => None,
                };
                self.expect(Token::Open, &format!("`(` after {name}"))?;
                let a = self.expr()?;
                self.expect(Token::Close, &format!("`)` closing {name}"))?;
                return Ok(a.advected(lev));
            }
            "J" => {
                self.expect(Token::Open, "`(` after J")?;
                let a = self.expr()?;
                self.expect(Token::Comma, "`,` between the arguments of J")?;
                let b = self.expr()?;
                self.expect(Token::Close, "`)` closing J")?;
                return Ok(Expr::jacobian(a, b));
            }
            other => return Err(self.error(&format!("unknown name `{other}`"))),
        };
        self.expect(Token::Open, &format!("`(` after {name}"))?;
        let a = self.expr()?;
        self.expect(Token::Close, &format!("`)` closing {name}"))?;
        Ok(a.apply(op))
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
            "s*eddy(q2)",
            "d8(q1)",
            "dx(psi1)*dy(q2)*y",
            "psi_R",
            "adv1(u2)",
            "lap(adv(q))",
            "adv(adv(dx(lap(v))))",
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
        let deep = format!("{}psi1{}", "lap(".repeat(5000), ")".repeat(5000));
        for (t, msg) in [
            ("lap5(psi1)", "unknown name `lap5`"),
            ("psi3", "unknown name `psi3`"),
            ("J(psi1 q1)", "expected `,`"),
            ("lap(psi1", "expected `)`"),
            ("psi1 psi2", "unexpected text"),
            ("psi1 % psi2", "unexpected character `%`"),
            ("psi1 + ", "expected a field"),
            ("1.2.3*q1", "is not a number"),
            ("(psi1", "expected `)` closing `(`"),
            ("sqrt psi1", "expected `(` after sqrt"),
            ("", "expected a field"),
            (deep.as_str(), "nested deeper than 32"),
        ] {
            let e = Expr::parse(t).unwrap_err().to_string();
            assert!(e.contains(msg), "{}: {e}", &t[..t.len().min(40)]);
        }
    }

    #[test]
    fn sums_quotients_numbers_and_functions_print_as_they_parse() {
        for t in [
            "psi1 + psi2",
            "psi1 - psi2 + q1",
            "psi1 - (psi2 + q1)",
            "-psi1",
            "-(psi1*q1)",
            "-psi1*q1",
            "psi1*(-q1)",
            "psi1/(q1*q2)",
            "psi1/q1*q2",
            "(psi1 + psi2)*q1",
            "2*dx(u)*dx(u) + (dy(u) + dx(v))*(dy(u) + dx(v))",
            "sqrt(abs(q1))",
            "-lap2(psi1)*(500*mean(psi1*q1) + 2000*mean(psi2*q2))/(mean(psi1) + 1e-32)",
            "0.5*q1 + 2.3311494532833229e22*q2 + 0.0001*psi1",
        ] {
            let e = Expr::parse(t).unwrap();
            let printed = e.to_string();
            assert_eq!(Expr::parse(&printed).unwrap(), e, "{t} printed {printed}");
        }
        assert_eq!(
            Expr::parse("psi1 - (psi2 + q1)").unwrap().to_string(),
            "psi1 - (psi2 + q1)"
        );
        assert_eq!(Expr::parse("1E-32").unwrap().to_string(), "1e-32");
        assert_eq!(Expr::parse("2.5e+7").unwrap().to_string(), "25000000");
        assert_eq!(Expr::number(-0.25).to_string(), "-0.25");
        let e = Expr::parse("mean(psi*u)/sqrt(q)").unwrap();
        assert!(e.is_generic());
        assert_eq!(e.in_layer(1).to_string(), "mean(psi2*u2)/sqrt(q2)");
        assert!(!Expr::parse("2*mean(psi_R)").unwrap().reads_state());
        assert!(Expr::parse("2 + q1").unwrap().as_linear().is_none());
    }

    #[test]
    fn own_layer_expressions_become_explicit() {
        let e = Expr::parse("adv(adv(dy(lap(u))))*psi").unwrap();
        assert!(e.is_generic());
        assert_eq!(e.in_layer(1).to_string(), "adv2(adv2(dy(lap(u2))))*psi2");
        assert!(!e.in_layer(0).is_generic());
        assert!(Expr::parse("adv1(q)").unwrap().is_generic());
        assert!(
            Expr::parse("adv1(y)").unwrap().reads_state(),
            "the flow is state"
        );
    }

    #[test]
    fn linear_chains_are_recognised() {
        let e = Expr::parse("lap(dx(psi2))").unwrap();
        assert_eq!(
            e.as_linear(),
            Some((Field::Psi(1), vec![Op::Dx, Op::Lap(1)]))
        );
        assert!(Expr::parse("J(psi1, q1)").unwrap().as_linear().is_none());
        assert!(!Expr::parse("dy(psi_R)*s").unwrap().reads_state());
        assert!(Expr::parse("y*q2").unwrap().reads_state());
    }
}
