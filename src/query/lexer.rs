//! Query text → tokens with byte spans. Keywords stay identifiers (the parser matches them
//! case-insensitively); strings are unescaped and numbers validated here.

use super::ast::Span;
use super::error::{QueryError, Result};

#[derive(Clone, Debug, PartialEq)]
pub enum TokenKind {
    /// A bare word: identifier or keyword.
    Ident(String),
    /// A `backtick quoted` name: never a keyword.
    QuotedIdent(String),
    Str(String),
    /// A validated integer literal's digits, without sign: decimal, `0x…` or `0o…`.
    Integer(String),
    Float(f64),
    /// `$name`
    Param(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    Dot,
    DotDot,
    Colon,
    Semicolon,
    Pipe,
    Plus,
    PlusEq,
    Minus,
    Star,
    Slash,
    Percent,
    Caret,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    RegexMatch,
    Eof,
}

impl TokenKind {
    /// How the token reads in an error message ("found …").
    pub fn describe(&self) -> String {
        match self {
            TokenKind::Ident(s) => format!("'{s}'"),
            TokenKind::QuotedIdent(s) => format!("`{s}`"),
            TokenKind::Str(s) => format!("string {}", super::value::quote_string(s)),
            TokenKind::Integer(s) => format!("number {s}"),
            TokenKind::Float(x) => format!("number {x}"),
            TokenKind::Param(p) => format!("parameter ${p}"),
            TokenKind::Eof => "end of input".to_string(),
            other => format!("'{}'", other.symbol()),
        }
    }

    pub fn symbol(&self) -> &'static str {
        match self {
            TokenKind::LParen => "(",
            TokenKind::RParen => ")",
            TokenKind::LBracket => "[",
            TokenKind::RBracket => "]",
            TokenKind::LBrace => "{",
            TokenKind::RBrace => "}",
            TokenKind::Comma => ",",
            TokenKind::Dot => ".",
            TokenKind::DotDot => "..",
            TokenKind::Colon => ":",
            TokenKind::Semicolon => ";",
            TokenKind::Pipe => "|",
            TokenKind::Plus => "+",
            TokenKind::PlusEq => "+=",
            TokenKind::Minus => "-",
            TokenKind::Star => "*",
            TokenKind::Slash => "/",
            TokenKind::Percent => "%",
            TokenKind::Caret => "^",
            TokenKind::Eq => "=",
            TokenKind::Ne => "<>",
            TokenKind::Lt => "<",
            TokenKind::Le => "<=",
            TokenKind::Gt => ">",
            TokenKind::Ge => ">=",
            TokenKind::RegexMatch => "=~",
            _ => "",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

/// Splits `text` into tokens, ending with `Eof`.
pub fn tokenize(text: &str) -> Result<Vec<Token>> {
    Lexer { text, pos: 0 }.run()
}

struct Lexer<'t> {
    text: &'t str,
    pos: usize,
}

impl Lexer<'_> {
    fn run(mut self) -> Result<Vec<Token>> {
        let mut tokens = Vec::new();
        loop {
            self.skip_blank()?;
            let start = self.pos;
            let Some(ch) = self.peek() else {
                tokens.push(Token { kind: TokenKind::Eof, span: Span::new(start, start) });
                return Ok(tokens);
            };
            let kind = self.token(ch)?;
            tokens.push(Token { kind, span: Span::new(start, self.pos) });
        }
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.text[self.pos..].chars().nth(n)
    }

    fn bump(&mut self) -> Option<char> {
        let ch = self.peek()?;
        self.pos += ch.len_utf8();
        Some(ch)
    }

    fn error(&self, offset: usize, message: impl Into<String>) -> QueryError {
        QueryError::syntax(self.text, offset, message)
    }

    /// Skips whitespace, `// line` and `/* block */` comments.
    fn skip_blank(&mut self) -> Result<()> {
        loop {
            match (self.peek(), self.peek_at(1)) {
                (Some(c), _) if c.is_whitespace() => {
                    self.bump();
                }
                (Some('/'), Some('/')) => {
                    while let Some(c) = self.bump() {
                        if c == '\n' {
                            break;
                        }
                    }
                }
                (Some('/'), Some('*')) => {
                    let start = self.pos;
                    self.pos += 2;
                    match self.text[self.pos..].find("*/") {
                        Some(end) => self.pos += end + 2,
                        None => return Err(self.error(start, "unterminated comment: expected '*/'")),
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn token(&mut self, ch: char) -> Result<TokenKind> {
        let start = self.pos;
        if ch.is_alphabetic() || ch == '_' {
            return Ok(TokenKind::Ident(self.word()));
        }
        if ch.is_ascii_digit() || (ch == '.' && self.peek_at(1).is_some_and(|c| c.is_ascii_digit())) {
            return self.number();
        }
        self.bump();
        let next = self.peek();
        let two = |lexer: &mut Self, kind: TokenKind| {
            lexer.bump();
            Ok(kind)
        };
        match ch {
            '`' => self.quoted_ident(start).map(TokenKind::QuotedIdent),
            '\'' | '"' => self.string(ch, start).map(TokenKind::Str),
            '$' => self.parameter(start),
            '(' => Ok(TokenKind::LParen),
            ')' => Ok(TokenKind::RParen),
            '[' => Ok(TokenKind::LBracket),
            ']' => Ok(TokenKind::RBracket),
            '{' => Ok(TokenKind::LBrace),
            '}' => Ok(TokenKind::RBrace),
            ',' => Ok(TokenKind::Comma),
            '.' if next == Some('.') => two(self, TokenKind::DotDot),
            '.' => Ok(TokenKind::Dot),
            ':' => Ok(TokenKind::Colon),
            ';' => Ok(TokenKind::Semicolon),
            '|' => Ok(TokenKind::Pipe),
            '+' if next == Some('=') => two(self, TokenKind::PlusEq),
            '+' => Ok(TokenKind::Plus),
            '-' => Ok(TokenKind::Minus),
            '*' => Ok(TokenKind::Star),
            '/' => Ok(TokenKind::Slash),
            '%' => Ok(TokenKind::Percent),
            '^' => Ok(TokenKind::Caret),
            '=' if next == Some('~') => two(self, TokenKind::RegexMatch),
            '=' => Ok(TokenKind::Eq),
            '<' if next == Some('>') => two(self, TokenKind::Ne),
            '<' if next == Some('=') => two(self, TokenKind::Le),
            '<' => Ok(TokenKind::Lt),
            '>' if next == Some('=') => two(self, TokenKind::Ge),
            '>' => Ok(TokenKind::Gt),
            '!' if next == Some('=') => Err(self.error(start, "unexpected '!=': use '<>' for inequality")),
            other => Err(self.error(start, format!("unexpected character {other:?}"))),
        }
    }

    /// An identifier or keyword: a letter or `_`, then letters, digits, `_`.
    fn word(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.bump();
        }
        self.text[start..self.pos].to_string()
    }

    /// `` `name` `` with ``` `` ``` standing for one backtick.
    fn quoted_ident(&mut self, start: usize) -> Result<String> {
        let mut name = String::new();
        loop {
            match self.bump() {
                Some('`') if self.peek() == Some('`') => {
                    self.bump();
                    name.push('`');
                }
                Some('`') => return Ok(name),
                Some(c) => name.push(c),
                None => return Err(self.error(start, "unterminated quoted name: expected '`'")),
            }
        }
    }

    /// `$name`, `$0` or `` $`quoted` ``.
    fn parameter(&mut self, start: usize) -> Result<TokenKind> {
        match self.peek() {
            Some('`') => {
                let quote = self.pos;
                self.bump();
                self.quoted_ident(quote).map(TokenKind::Param)
            }
            Some(c) if c.is_alphanumeric() || c == '_' => Ok(TokenKind::Param(self.word())),
            _ => Err(self.error(start, "expected a parameter name after '$'")),
        }
    }

    /// A string in single or double quotes with backslash escapes.
    fn string(&mut self, quote: char, start: usize) -> Result<String> {
        let mut out = String::new();
        loop {
            let escape_at = self.pos;
            match self.bump() {
                None => return Err(self.error(start, format!("unterminated string: expected {quote}"))),
                Some(c) if c == quote => return Ok(out),
                Some('\\') => {
                    let c = self
                        .bump()
                        .ok_or_else(|| self.error(start, format!("unterminated string: expected {quote}")))?;
                    match c {
                        '\\' => out.push('\\'),
                        '\'' => out.push('\''),
                        '"' => out.push('"'),
                        'b' | 'B' => out.push('\u{8}'),
                        'f' | 'F' => out.push('\u{c}'),
                        'n' | 'N' => out.push('\n'),
                        'r' | 'R' => out.push('\r'),
                        't' | 'T' => out.push('\t'),
                        'u' | 'U' => {
                            let digits = if c == 'u' { 4 } else { 8 };
                            out.push(self.unicode_escape(digits, escape_at)?);
                        }
                        other => {
                            return Err(self.error(escape_at, format!("invalid escape sequence '\\{other}' in string")))
                        }
                    }
                }
                Some(c) => out.push(c),
            }
        }
    }

    fn unicode_escape(&mut self, digits: usize, escape_at: usize) -> Result<char> {
        let start = self.pos;
        for _ in 0..digits {
            match self.peek() {
                Some(c) if c.is_ascii_hexdigit() => {
                    self.bump();
                }
                _ => {
                    return Err(
                        self.error(escape_at, format!("invalid unicode escape: expected {digits} hexadecimal digits"))
                    )
                }
            }
        }
        u32::from_str_radix(&self.text[start..self.pos], 16)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| self.error(escape_at, "invalid unicode escape: not a character"))
    }

    /// Integer (decimal, `0x` hex, `0o` octal) or float (`1.5`, `.5`, `1e3`, `1.5E-3`).
    fn number(&mut self) -> Result<TokenKind> {
        let start = self.pos;
        let radix_prefix = self.peek() == Some('0') && matches!(self.peek_at(1), Some('x' | 'X' | 'o' | 'O'));
        if radix_prefix {
            self.pos += 2;
            let digits_start = self.pos;
            self.alnum_run();
            let digits = &self.text[digits_start..self.pos];
            let hex = matches!(&self.text[start + 1..start + 2], "x" | "X");
            let valid =
                !digits.is_empty() && digits.chars().all(|c| if hex { c.is_ascii_hexdigit() } else { c.is_digit(8) });
            if !valid {
                return Err(self.error(start, format!("invalid number literal '{}'", &self.text[start..self.pos])));
            }
            return Ok(TokenKind::Integer(self.text[start..self.pos].to_string()));
        }
        self.digits();
        let mut is_float = false;
        if self.peek() == Some('.') && self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
            is_float = true;
            self.bump();
            self.digits();
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            let sign = usize::from(matches!(self.peek_at(1), Some('+' | '-')));
            if self.peek_at(1 + sign).is_some_and(|c| c.is_ascii_digit()) {
                is_float = true;
                self.pos += 1 + sign;
                self.digits();
            }
        }
        if self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.alnum_run();
            return Err(self.error(start, format!("invalid number literal '{}'", &self.text[start..self.pos])));
        }
        let text = &self.text[start..self.pos];
        if !is_float {
            return Ok(TokenKind::Integer(text.to_string()));
        }
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(TokenKind::Float(x)),
            _ => Err(self.error(start, format!("floating point number {text} is too large"))),
        }
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
        }
    }

    fn alnum_run(&mut self) {
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.bump();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        tokenize(text).expect("lexes").into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn arrows_split_into_single_character_tokens() {
        use TokenKind::*;
        assert_eq!(kinds("<-->"), vec![Lt, Minus, Minus, Gt, Eof]);
        assert_eq!(kinds("<>"), vec![Ne, Eof]);
    }

    #[test]
    fn numbers_in_every_form() {
        use TokenKind::*;
        assert_eq!(
            kinds("1 0x1F 0o17 1.5 .5 1e3 2E-2"),
            vec![
                Integer("1".into()),
                Integer("0x1F".into()),
                Integer("0o17".into()),
                Float(1.5),
                Float(0.5),
                Float(1000.0),
                Float(0.02),
                Eof
            ]
        );
        // `1..3` is a range, not a float.
        assert_eq!(kinds("1..3"), vec![Integer("1".into()), DotDot, Integer("3".into()), Eof]);
        assert!(tokenize("0x").is_err());
        assert!(tokenize("12ab").is_err());
        assert!(tokenize("1e999").is_err());
    }

    #[test]
    fn strings_comments_and_quoted_names() {
        use TokenKind::*;
        assert_eq!(
            kinds("'it\\'s' \"\\u00e9\" // line\n /* block */ `a``b`"),
            vec![Str("it's".into()), Str("é".into()), QuotedIdent("a`b".into()), Eof]
        );
        let err = tokenize("RETURN 'open").expect_err("unterminated");
        assert_eq!(err.position.map(|p| p.column), Some(8));
    }
}
