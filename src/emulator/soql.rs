//! The SOQL the emulator understands, parsed by hand: a SELECT list of fields and
//! relationship paths (`Profile.Name`), `FROM` one object, a `WHERE` of `=` and `IN`
//! comparisons joined by `AND` (an `IN` may hold a semi-join subquery, as
//! `sf org display user` sends: `SELECT name FROM Profile WHERE Id IN (SELECT ProfileId
//! FROM User WHERE username='…')`), `ORDER BY` (accepted, ignored) and `LIMIT`. Keywords
//! are case-insensitive; names keep the case they were written in, so errors can quote
//! them as Salesforce does. Anything else is [`SoqlError::Malformed`].

/// Longest query text parsed (Salesforce's own limit is 100,000 characters).
pub const MAX_QUERY: usize = 100_000;
/// Deepest subquery nesting.
const MAX_NESTING: usize = 4;

/// A parsed query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// The SELECT list: each a path of names (`["Profile", "Name"]`).
    pub fields: Vec<Vec<String>>,
    /// The object, as written.
    pub from: String,
    /// The WHERE clause: every condition must hold.
    pub filter: Vec<Condition>,
    /// LIMIT.
    pub limit: Option<usize>,
}

/// One comparison of a WHERE clause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Condition {
    /// `field = value`.
    Eq(Vec<String>, Value),
    /// `field IN (values)`.
    In(Vec<String>, Vec<Value>),
    /// `field IN (SELECT one FROM …)`.
    InQuery(Vec<String>, Box<Query>),
}

/// A literal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// `'text'` (escapes resolved).
    Str(String),
    /// A number, as written.
    Num(String),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// Why a query is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SoqlError {
    /// Not SOQL this emulator reads (`MALFORMED_QUERY`), with what was expected.
    Malformed(String),
}

impl std::fmt::Display for SoqlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SoqlError::Malformed(m) => f.write_str(m),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Word(String),
    Str(String),
    Num(String),
    Comma,
    Dot,
    Eq,
    Open,
    Close,
}

fn lex(q: &str) -> Result<Vec<Tok>, SoqlError> {
    let mut out = Vec::new();
    let mut it = q.char_indices().peekable();
    while let Some((_, c)) = it.next() {
        match c {
            c if c.is_whitespace() => {}
            ',' => out.push(Tok::Comma),
            '.' => out.push(Tok::Dot),
            '=' => out.push(Tok::Eq),
            '(' => out.push(Tok::Open),
            ')' => out.push(Tok::Close),
            '\'' => {
                let mut s = String::new();
                loop {
                    match it.next() {
                        None => return Err(malformed("an unterminated string literal")),
                        Some((_, '\'')) => break,
                        Some((_, '\\')) => match it.next() {
                            Some((_, 'n')) => s.push('\n'),
                            Some((_, 't')) => s.push('\t'),
                            Some((_, 'r')) => s.push('\r'),
                            Some((_, e)) => s.push(e),
                            None => return Err(malformed("an unterminated string literal")),
                        },
                        Some((_, ch)) => s.push(ch),
                    }
                }
                out.push(Tok::Str(s));
            }
            c if c.is_ascii_digit() || c == '-' => {
                let mut s = String::from(c);
                while let Some((_, d)) = it.peek() {
                    if d.is_ascii_digit() || *d == '.' {
                        s.push(*d);
                        it.next();
                    } else {
                        break;
                    }
                }
                out.push(Tok::Num(s));
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut s = String::from(c);
                while let Some((_, d)) = it.peek() {
                    if d.is_alphanumeric() || *d == '_' {
                        s.push(*d);
                        it.next();
                    } else {
                        break;
                    }
                }
                out.push(Tok::Word(s));
            }
            other => return Err(malformed(&format!("an unexpected character '{other}'"))),
        }
    }
    Ok(out)
}

fn malformed(what: &str) -> SoqlError {
    SoqlError::Malformed(format!("unexpected token: {what}"))
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k))
    }

    fn expect_keyword(&mut self, k: &str) -> Result<(), SoqlError> {
        if self.keyword(k) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.unexpected(k))
        }
    }

    fn unexpected(&self, wanted: &str) -> SoqlError {
        let got = match self.peek() {
            None => "the end of the query".to_owned(),
            Some(Tok::Word(w)) => w.clone(),
            Some(Tok::Str(s)) => format!("'{s}'"),
            Some(Tok::Num(n)) => n.clone(),
            Some(Tok::Comma) => ",".into(),
            Some(Tok::Dot) => ".".into(),
            Some(Tok::Eq) => "=".into(),
            Some(Tok::Open) => "(".into(),
            Some(Tok::Close) => ")".into(),
        };
        SoqlError::Malformed(format!("unexpected token: '{got}' (expected {wanted})"))
    }

    fn name(&mut self) -> Result<String, SoqlError> {
        match self.peek() {
            Some(Tok::Word(w)) => {
                let w = w.clone();
                self.at += 1;
                Ok(w)
            }
            _ => Err(self.unexpected("a name")),
        }
    }

    fn path(&mut self) -> Result<Vec<String>, SoqlError> {
        let mut p = vec![self.name()?];
        while self.peek() == Some(&Tok::Dot) {
            self.at += 1;
            p.push(self.name()?);
        }
        Ok(p)
    }

    fn value(&mut self) -> Result<Value, SoqlError> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(Value::Str(s)),
            Some(Tok::Num(n)) => Ok(Value::Num(n)),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("null") => Ok(Value::Null),
            _ => {
                self.at -= 1;
                Err(self.unexpected("a value"))
            }
        }
    }

    fn query(&mut self, depth: usize) -> Result<Query, SoqlError> {
        if depth > MAX_NESTING {
            return Err(SoqlError::Malformed("subqueries nest too deeply".into()));
        }
        self.expect_keyword("SELECT")?;
        let mut fields = vec![self.path()?];
        while self.peek() == Some(&Tok::Comma) {
            self.at += 1;
            fields.push(self.path()?);
        }
        self.expect_keyword("FROM")?;
        let from = self.name()?;
        let mut filter = Vec::new();
        if self.keyword("WHERE") {
            self.at += 1;
            loop {
                let field = self.path()?;
                if self.peek() == Some(&Tok::Eq) {
                    self.at += 1;
                    filter.push(Condition::Eq(field, self.value()?));
                } else if self.keyword("IN") {
                    self.at += 1;
                    if self.next() != Some(Tok::Open) {
                        self.at -= 1;
                        return Err(self.unexpected("("));
                    }
                    if self.keyword("SELECT") {
                        let sub = self.query(depth + 1)?;
                        if sub.fields.len() != 1 {
                            return Err(SoqlError::Malformed(
                                "a semi-join subquery selects one field".into(),
                            ));
                        }
                        filter.push(Condition::InQuery(field, Box::new(sub)));
                    } else {
                        let mut values = vec![self.value()?];
                        while self.peek() == Some(&Tok::Comma) {
                            self.at += 1;
                            values.push(self.value()?);
                        }
                        filter.push(Condition::In(field, values));
                    }
                    if self.next() != Some(Tok::Close) {
                        self.at -= 1;
                        return Err(self.unexpected(")"));
                    }
                } else {
                    return Err(self.unexpected("= or IN"));
                }
                if self.keyword("AND") {
                    self.at += 1;
                } else {
                    break;
                }
            }
        }
        if self.keyword("ORDER") {
            self.at += 1;
            self.expect_keyword("BY")?;
            self.path()?;
            if self.keyword("ASC") || self.keyword("DESC") {
                self.at += 1;
            }
            while self.peek() == Some(&Tok::Comma) {
                self.at += 1;
                self.path()?;
                if self.keyword("ASC") || self.keyword("DESC") {
                    self.at += 1;
                }
            }
        }
        let mut limit = None;
        if self.keyword("LIMIT") {
            self.at += 1;
            match self.next() {
                Some(Tok::Num(n)) => {
                    limit = Some(
                        n.parse()
                            .map_err(|_| SoqlError::Malformed(format!("bad LIMIT {n}")))?,
                    )
                }
                _ => {
                    self.at -= 1;
                    return Err(self.unexpected("a number"));
                }
            }
        }
        Ok(Query {
            fields,
            from,
            filter,
            limit,
        })
    }
}

/// Parse a query.
pub fn parse(q: &str) -> Result<Query, SoqlError> {
    if q.len() > MAX_QUERY {
        return Err(SoqlError::Malformed("the query is too long".into()));
    }
    let mut p = Parser {
        toks: lex(q)?,
        at: 0,
    };
    let query = p.query(0)?;
    if p.peek().is_some() {
        return Err(p.unexpected("the end of the query"));
    }
    Ok(query)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn what_the_clients_send() {
        let q = parse("SELECT Name, InstanceName, IsSandbox, TrialExpirationDate, NamespacePrefix, OrganizationType FROM Organization").unwrap();
        assert_eq!(q.from, "Organization");
        assert_eq!(q.fields.len(), 6);
        let q = parse("SELECT Id FROM ScratchOrgInfo limit 1").unwrap();
        assert_eq!(q.limit, Some(1));
        let q = parse("SELECT name FROM Profile WHERE Id IN (SELECT ProfileId FROM User WHERE username='a@b.c')").unwrap();
        let Condition::InQuery(f, sub) = &q.filter[0] else {
            panic!("{q:?}")
        };
        assert_eq!(f, &s(&["Id"]));
        assert_eq!(sub.from, "User");
        assert_eq!(
            sub.filter,
            [Condition::Eq(s(&["username"]), Value::Str("a@b.c".into()))]
        );
        let q = parse("select Id, Profile.Name from user where IsActive = true and Username IN ('a', 'b\\'c') order by Name desc limit 5").unwrap();
        assert_eq!(q.fields[1], s(&["Profile", "Name"]));
        assert_eq!(q.filter.len(), 2);
        assert_eq!(
            q.filter[1],
            Condition::In(
                s(&["Username"]),
                vec![Value::Str("a".into()), Value::Str("b'c".into())]
            )
        );
        assert_eq!(q.limit, Some(5));
    }

    #[test]
    fn what_it_refuses() {
        for bad in [
            "",
            "SELECT",
            "SELECT Id",
            "SELECT Id FROM",
            "SELECT Id FROM User WHERE",
            "SELECT Id FROM User WHERE Name LIKE 'a%'",
            "SELECT Id FROM User WHERE Name = 'a' OR Name = 'b'",
            "SELECT Id FROM User WHERE Name = 'unterminated",
            "SELECT Id FROM User LIMIT x",
            "SELECT Id FROM User trailing",
            "SELECT Id FROM User WHERE Id IN (SELECT a, b FROM X)",
            "SELECT Id FROM User WHERE Id IN ('a'",
            "SELECT Id, FROM User",
            "SELECT Id FROM User WHERE Id = #",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let deep =
            "SELECT Id FROM A WHERE Id IN (".repeat(10) + "SELECT Id FROM B" + &")".repeat(10);
        assert!(parse(&deep).is_err());
        assert!(parse(&"x".repeat(MAX_QUERY + 1)).is_err());
    }
}
