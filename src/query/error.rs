//! Query errors: one enum of kinds, a message, and where in the query text it went wrong.
//! `render` draws the faulty line with a caret under the fault.

use std::fmt;

/// What went wrong, coarsely: the CLI maps these to exit codes, the TCK harness to
/// compile-time versus runtime expectations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The text is not a query: unexpected token, bad literal, nesting too deep.
    Syntax,
    /// The query parses but is meaningless: unknown variable or function, misplaced aggregate.
    Semantic,
    /// A value of the wrong type at run time (`1 + true`, `toUpper(1)`).
    Type,
    /// Any other failure while running: integer overflow, division by zero, store I/O.
    Runtime,
    /// The query ran past its deadline.
    Timeout,
    /// The query was stopped through its `CancelFlag` (its client went away).
    Cancelled,
    /// More rows than `QueryOptions::max_rows` would have been held or returned.
    RowLimit,
    /// A feature diplograph refuses: write clauses, subqueries, procedures.
    Unsupported,
}

impl ErrorKind {
    fn describe(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "syntax error",
            ErrorKind::Semantic => "semantic error",
            ErrorKind::Type => "type error",
            ErrorKind::Runtime => "runtime error",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::RowLimit => "row limit exceeded",
            ErrorKind::Unsupported => "unsupported",
        }
    }

    /// True for errors found before any row is produced (syntax, semantic, refusal).
    pub fn is_compile_time(self) -> bool {
        matches!(self, ErrorKind::Syntax | ErrorKind::Semantic | ErrorKind::Unsupported)
    }
}

/// A place in the query text: byte offset, and the 1-based line and column (in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub offset: usize,
    pub line: usize,
    pub column: usize,
}

impl Position {
    /// The position of byte `offset` in `text` (clamped to the text, snapped to a char boundary).
    pub fn locate(text: &str, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = text[line_start..offset].chars().count() + 1;
        Position { offset, line, column }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct QueryError {
    pub kind: ErrorKind,
    pub message: String,
    /// Where the fault is, when it can be pinned to the text.
    pub position: Option<Position>,
}

impl std::error::Error for QueryError {}

impl QueryError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> QueryError {
        QueryError { kind, message: message.into(), position: None }
    }

    /// An error at byte `offset` of `text`.
    pub fn at(kind: ErrorKind, text: &str, offset: usize, message: impl Into<String>) -> QueryError {
        QueryError { kind, message: message.into(), position: Some(Position::locate(text, offset)) }
    }

    /// An error at byte `offset` whose line and column are filled in later by `locate`.
    pub fn at_offset(kind: ErrorKind, offset: usize, message: impl Into<String>) -> QueryError {
        QueryError { kind, message: message.into(), position: Some(Position { offset, line: 0, column: 0 }) }
    }

    pub fn syntax(text: &str, offset: usize, message: impl Into<String>) -> QueryError {
        QueryError::at(ErrorKind::Syntax, text, offset, message)
    }

    pub fn semantic(offset: usize, message: impl Into<String>) -> QueryError {
        QueryError::at_offset(ErrorKind::Semantic, offset, message)
    }

    pub fn type_error(message: impl Into<String>) -> QueryError {
        QueryError::new(ErrorKind::Type, message)
    }

    pub fn runtime(message: impl Into<String>) -> QueryError {
        QueryError::new(ErrorKind::Runtime, message)
    }

    pub fn unsupported(offset: usize, message: impl Into<String>) -> QueryError {
        QueryError::at_offset(ErrorKind::Unsupported, offset, message)
    }

    /// Fills in line and column from the query text when only the offset is known.
    pub fn locate(mut self, text: &str) -> QueryError {
        if let Some(position) = self.position {
            self.position = Some(Position::locate(text, position.offset));
        }
        self
    }

    /// Gives an error raised deep in evaluation the position of the expression being
    /// evaluated, unless it already has one.
    pub fn or_at(mut self, offset: usize) -> QueryError {
        if self.position.is_none() {
            self.position = Some(Position { offset, line: 0, column: 0 });
        }
        self
    }

    /// The message, a blank-indented copy of the faulty line and a caret under the fault.
    pub fn render(&self, query_text: &str) -> String {
        let mut out = format!("error: {}", self.clone().locate(query_text));
        if let Some(position) = self.position {
            let position = Position::locate(query_text, position.offset);
            let line = query_text.lines().nth(position.line - 1).unwrap_or("");
            let line = line.strip_suffix('\r').unwrap_or(line);
            out.push_str("\n  ");
            out.push_str(line);
            out.push_str("\n  ");
            let pad: String =
                line.chars().take(position.column - 1).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
            out.push_str(&pad);
            out.push('^');
        }
        out
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(p) if p.line > 0 => {
                write!(f, "{} at line {}, column {}: {}", self.kind.describe(), p.line, p.column, self.message)
            }
            _ => write!(f, "{}: {}", self.kind.describe(), self.message),
        }
    }
}

impl From<crate::store::StoreError> for QueryError {
    fn from(err: crate::store::StoreError) -> Self {
        QueryError::runtime(err.to_string())
    }
}

/// Results inside the query engine.
pub type Result<T, E = QueryError> = std::result::Result<T, E>;
