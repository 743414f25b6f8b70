//! Tokens → syntax tree: a hand-written recursive-descent parser for the whole openCypher
//! query grammar (write clauses included, refused later), with precedence climbing for expressions.

use super::ast::*;
use super::error::{QueryError, Result};
use super::lexer::{tokenize, Token, TokenKind};

/// Deepest nesting of expressions and patterns the parser accepts: deeper input is
/// refused with a syntax error rather than risking the stack.
pub const MAX_DEPTH: usize = 120;

/// Parses a whole query: `Query = SingleQuery { UNION [ALL] SingleQuery } [;]`.
pub fn parse(text: &str) -> Result<Query> {
    let tokens = tokenize(text)?;
    let mut parser = Parser { text, tokens, pos: 0, depth: 0 };
    parser.query()
}

/// Parses one expression (with nothing after it), e.g. for `--param` values or tests.
pub fn parse_expression(text: &str) -> Result<Expr> {
    let tokens = tokenize(text)?;
    let mut parser = Parser { text, tokens, pos: 0, depth: 0 };
    let expr = parser.expr()?;
    parser.expect_eof()?;
    Ok(expr)
}

/// An operator that follows an operand.
#[derive(Clone, Copy)]
enum Infix {
    Binary(BinaryOp),
    Comparison(BinaryOp),
    IsNull { negated: bool },
}

/// True when `expr` is a comparison or an AND of comparisons built from one chain.
fn is_comparison_chain(expr: &Expr) -> bool {
    matches!(
        &expr.kind,
        ExprKind::Binary(
            BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge | BinaryOp::And,
            _,
            _
        )
    )
}

struct Parser<'t> {
    text: &'t str,
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
}

/// The clause keywords, for "expected a clause" messages.
const CLAUSE_START: &str = "MATCH, OPTIONAL MATCH, UNWIND, WITH, RETURN, CREATE, MERGE, SET, DELETE, REMOVE or CALL";

impl Parser<'_> {
    // --- token helpers ------------------------------------------------------------------

    fn peek(&self) -> &TokenKind {
        &self.token_at(self.pos).kind
    }

    fn peek_n(&self, n: usize) -> &TokenKind {
        &self.token_at(self.pos + n).kind
    }

    fn token_at(&self, index: usize) -> &Token {
        // The token list always ends with Eof; reading past it keeps returning Eof.
        let last = self.tokens.len().saturating_sub(1);
        &self.tokens[index.min(last)]
    }

    fn span_here(&self) -> Span {
        self.token_at(self.pos).span
    }

    fn start(&self) -> usize {
        self.span_here().start
    }

    /// The end of the last consumed token.
    fn end(&self) -> usize {
        if self.pos == 0 {
            0
        } else {
            self.token_at(self.pos - 1).span.end
        }
    }

    fn span_from(&self, start: usize) -> Span {
        Span::new(start, self.end().max(start))
    }

    fn advance(&mut self) -> Token {
        let token = self.token_at(self.pos).clone();
        if self.pos < self.tokens.len() {
            self.pos += 1;
        }
        token
    }

    fn at(&self, kind: &TokenKind) -> bool {
        self.peek() == kind
    }

    fn eat(&mut self, kind: &TokenKind) -> bool {
        if self.at(kind) {
            self.advance();
            true
        } else {
            false
        }
    }

    /// True when the next token is the bare word `keyword` (any case).
    fn at_keyword(&self, keyword: &str) -> bool {
        self.keyword_at(0, keyword)
    }

    fn keyword_at(&self, n: usize, keyword: &str) -> bool {
        matches!(self.peek_n(n), TokenKind::Ident(word) if word.eq_ignore_ascii_case(keyword))
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        if self.at_keyword(keyword) {
            self.advance();
            true
        } else {
            false
        }
    }

    fn error_here(&self, expected: &str) -> QueryError {
        let found = self.peek().describe();
        QueryError::syntax(self.text, self.start(), format!("expected {expected}, found {found}"))
    }

    fn expect(&mut self, kind: &TokenKind) -> Result<Span> {
        if self.at(kind) {
            Ok(self.advance().span)
        } else {
            Err(self.error_here(&format!("'{}'", kind.symbol())))
        }
    }

    fn expect_keyword(&mut self, keyword: &str) -> Result<()> {
        if self.eat_keyword(keyword) {
            Ok(())
        } else {
            Err(self.error_here(keyword))
        }
    }

    fn expect_eof(&mut self) -> Result<()> {
        if self.at(&TokenKind::Eof) {
            Ok(())
        } else {
            Err(self.error_here("end of input"))
        }
    }

    /// Enters one level of nesting; `leave` must follow.
    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(QueryError::syntax(
                self.text,
                self.start(),
                format!("query nested too deeply (more than {MAX_DEPTH} levels)"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// Runs `parse` one nesting level deeper.
    fn nested<T>(&mut self, parse: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        self.enter()?;
        let result = parse(self);
        self.leave();
        result
    }

    /// Runs `parse` two levels deeper: for bracketed forms, whose evaluation nests deeper.
    fn nested_bracket<T>(&mut self, parse: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        self.enter()?;
        let result = self.nested(parse);
        self.leave();
        result
    }

    /// Tries `parse`; on failure rewinds and returns `None` (used to tell patterns from
    /// parenthesised expressions). A too-deep error is not retried.
    fn attempt<T>(&mut self, parse: impl FnOnce(&mut Self) -> Result<Option<T>>) -> Result<Option<T>> {
        let (pos, depth) = (self.pos, self.depth);
        match parse(self) {
            Ok(Some(value)) => Ok(Some(value)),
            Ok(None) => {
                self.pos = pos;
                self.depth = depth;
                Ok(None)
            }
            Err(err) if err.message.contains("nested too deeply") => Err(err),
            Err(_) => {
                self.pos = pos;
                self.depth = depth;
                Ok(None)
            }
        }
    }

    // --- names --------------------------------------------------------------------------

    /// `SymbolicName`: a variable; bare reserved words are refused.
    fn variable(&mut self) -> Result<Ident> {
        match self.peek().clone() {
            TokenKind::Ident(name) if !is_reserved(&name) => {
                let span = self.advance().span;
                Ok(Ident { name, span })
            }
            TokenKind::QuotedIdent(name) => {
                let span = self.advance().span;
                Ok(Ident { name, span })
            }
            _ => Err(self.error_here("a variable name")),
        }
    }

    fn at_variable(&self) -> bool {
        match self.peek() {
            TokenKind::Ident(name) => !is_reserved(name),
            TokenKind::QuotedIdent(_) => true,
            _ => false,
        }
    }

    /// `SchemaName`: a label, type or property key; reserved words are allowed.
    fn schema_name(&mut self, what: &str) -> Result<Ident> {
        match self.peek().clone() {
            TokenKind::Ident(name) | TokenKind::QuotedIdent(name) => {
                let span = self.advance().span;
                Ok(Ident { name, span })
            }
            _ => Err(self.error_here(what)),
        }
    }

    // --- queries and clauses ------------------------------------------------------------

    /// `Query = SingleQuery { Union } [;]`
    fn query(&mut self) -> Result<Query> {
        let first = self.single_query()?;
        let mut unions = Vec::new();
        loop {
            let start = self.start();
            if !self.eat_keyword("UNION") {
                break;
            }
            let all = self.eat_keyword("ALL");
            let query = self.single_query()?;
            unions.push(UnionPart { all, query, span: self.span_from(start) });
        }
        self.eat(&TokenKind::Semicolon);
        if !self.at(&TokenKind::Eof) {
            return Err(self.error_here(&format!("a clause ({CLAUSE_START}), UNION or end of input")));
        }
        Ok(Query { first, unions })
    }

    /// `SingleQuery = Clause { Clause }`
    fn single_query(&mut self) -> Result<SingleQuery> {
        let start = self.start();
        let mut clauses = vec![self.clause()?];
        while !self.at(&TokenKind::Eof) && !self.at(&TokenKind::Semicolon) && !self.at_keyword("UNION") {
            clauses.push(self.clause()?);
        }
        Ok(SingleQuery { clauses, span: self.span_from(start) })
    }

    /// `Clause = Match | Unwind | With | Return | Create | Merge | Set | Delete | Remove | Call`
    fn clause(&mut self) -> Result<Clause> {
        let start = self.start();
        if self.at_keyword("MATCH") || self.at_keyword("OPTIONAL") {
            return self.match_clause(start).map(Clause::Match);
        }
        if self.eat_keyword("UNWIND") {
            let expr = self.expr()?;
            self.expect_keyword("AS")?;
            let variable = self.variable()?;
            return Ok(Clause::Unwind(UnwindClause { expr, variable, span: self.span_from(start) }));
        }
        if self.eat_keyword("WITH") {
            let projection = self.projection_body()?;
            let where_ = self.where_clause()?;
            return Ok(Clause::With(WithClause { projection, where_, span: self.span_from(start) }));
        }
        if self.eat_keyword("RETURN") {
            let projection = self.projection_body()?;
            return Ok(Clause::Return(ReturnClause { projection, span: self.span_from(start) }));
        }
        if self.eat_keyword("CREATE") {
            let pattern = self.pattern()?;
            return Ok(Clause::Create(CreateClause { pattern, span: self.span_from(start) }));
        }
        if self.eat_keyword("MERGE") {
            return self.merge_clause(start).map(Clause::Merge);
        }
        if self.eat_keyword("SET") {
            let items = self.set_items()?;
            return Ok(Clause::Set(SetClause { items, span: self.span_from(start) }));
        }
        if self.at_keyword("DELETE") || self.at_keyword("DETACH") {
            let detach = self.eat_keyword("DETACH");
            self.expect_keyword("DELETE")?;
            let mut exprs = vec![self.expr()?];
            while self.eat(&TokenKind::Comma) {
                exprs.push(self.expr()?);
            }
            return Ok(Clause::Delete(DeleteClause { detach, exprs, span: self.span_from(start) }));
        }
        if self.eat_keyword("REMOVE") {
            return self.remove_clause(start).map(Clause::Remove);
        }
        if self.eat_keyword("CALL") {
            return self.call_clause(start).map(Clause::Call);
        }
        for (word, what) in [("FOREACH", "FOREACH"), ("LOAD", "LOAD CSV"), ("USE", "USE")] {
            if self.at_keyword(word) {
                return Err(QueryError::at(
                    super::error::ErrorKind::Unsupported,
                    self.text,
                    start,
                    format!("{what} is not supported: diplograph runs read-only queries over its own store"),
                ));
            }
        }
        Err(self.error_here(&format!("a clause ({CLAUSE_START})")))
    }

    /// `Match = [OPTIONAL] MATCH Pattern [Where]`
    fn match_clause(&mut self, start: usize) -> Result<MatchClause> {
        let optional = self.eat_keyword("OPTIONAL");
        self.expect_keyword("MATCH")?;
        let pattern = self.pattern()?;
        let where_ = self.where_clause()?;
        Ok(MatchClause { optional, pattern, where_, span: self.span_from(start) })
    }

    /// `Where = WHERE Expression`
    fn where_clause(&mut self) -> Result<Option<Expr>> {
        if self.eat_keyword("WHERE") {
            Ok(Some(self.expr()?))
        } else {
            Ok(None)
        }
    }

    /// `ProjectionBody = [DISTINCT] ProjectionItems [Order] [Skip] [Limit]`,
    /// `ProjectionItems = * {, ProjectionItem} | ProjectionItem {, ProjectionItem}`
    fn projection_body(&mut self) -> Result<Projection> {
        let distinct = self.eat_keyword("DISTINCT");
        let mut star = false;
        let mut items = Vec::new();
        if self.eat(&TokenKind::Star) {
            star = true;
            while self.eat(&TokenKind::Comma) {
                items.push(self.projection_item()?);
            }
        } else {
            items.push(self.projection_item()?);
            while self.eat(&TokenKind::Comma) {
                items.push(self.projection_item()?);
            }
        }
        let mut order_by = Vec::new();
        if self.at_keyword("ORDER") {
            self.advance();
            self.expect_keyword("BY")?;
            loop {
                let expr = self.expr()?;
                let descending = if self.eat_keyword("DESC") || self.eat_keyword("DESCENDING") {
                    true
                } else {
                    let _ = self.eat_keyword("ASC") || self.eat_keyword("ASCENDING");
                    false
                };
                order_by.push(SortItem { expr, descending });
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
        }
        let skip = if self.eat_keyword("SKIP") { Some(self.expr()?) } else { None };
        let limit = if self.eat_keyword("LIMIT") { Some(self.expr()?) } else { None };
        Ok(Projection { distinct, star, items, order_by, skip, limit })
    }

    /// `ProjectionItem = Expression [AS Variable]`
    fn projection_item(&mut self) -> Result<ProjectionItem> {
        let expr = self.expr()?;
        let alias = if self.eat_keyword("AS") { Some(self.variable()?) } else { None };
        Ok(ProjectionItem { expr, alias })
    }

    /// `Merge = MERGE PatternPart { ON (MATCH | CREATE) SET SetItem {, SetItem} }`
    fn merge_clause(&mut self, start: usize) -> Result<MergeClause> {
        let part = self.pattern_part()?;
        let mut actions = Vec::new();
        while self.eat_keyword("ON") {
            let on_create = if self.eat_keyword("CREATE") {
                true
            } else {
                self.expect_keyword("MATCH")?;
                false
            };
            self.expect_keyword("SET")?;
            actions.push(MergeAction { on_create, items: self.set_items()? });
        }
        Ok(MergeClause { part, actions, span: self.span_from(start) })
    }

    /// `SetItem {, SetItem}`, each `PropertyExpression = Expression | Variable = Expression
    /// | Variable += Expression | Variable NodeLabels`
    fn set_items(&mut self) -> Result<Vec<SetItem>> {
        let mut items = Vec::new();
        loop {
            let item = if self.at_variable()
                && matches!(self.peek_n(1), TokenKind::Eq | TokenKind::PlusEq | TokenKind::Colon)
            {
                let variable = self.variable()?;
                if self.eat(&TokenKind::Eq) {
                    SetItem::Replace { variable, value: self.expr()? }
                } else if self.eat(&TokenKind::PlusEq) {
                    SetItem::Merge { variable, value: self.expr()? }
                } else {
                    SetItem::Labels { variable, labels: self.node_labels()? }
                }
            } else {
                let target = self.postfix()?;
                if !matches!(target.kind, ExprKind::Property(..)) {
                    return Err(QueryError::syntax(
                        self.text,
                        target.span.start,
                        "expected a property to set, like n.name",
                    ));
                }
                self.expect(&TokenKind::Eq)?;
                SetItem::Property { target, value: self.expr()? }
            };
            items.push(item);
            if !self.eat(&TokenKind::Comma) {
                return Ok(items);
            }
        }
    }

    /// `Remove = REMOVE RemoveItem {, RemoveItem}`, `RemoveItem = Variable NodeLabels | PropertyExpression`
    fn remove_clause(&mut self, start: usize) -> Result<RemoveClause> {
        let mut items = Vec::new();
        loop {
            if self.at_variable() && matches!(self.peek_n(1), TokenKind::Colon) {
                let variable = self.variable()?;
                items.push(RemoveItem::Labels { variable, labels: self.node_labels()? });
            } else {
                items.push(RemoveItem::Property(self.postfix()?));
            }
            if !self.eat(&TokenKind::Comma) {
                break;
            }
        }
        Ok(RemoveClause { items, span: self.span_from(start) })
    }

    /// `Call = CALL Namespace.Name [( Expression, … )] [YIELD (* | Item {, Item}) [Where]]`
    fn call_clause(&mut self, start: usize) -> Result<CallClause> {
        let mut procedure = self.schema_name("a procedure name")?.name;
        while self.eat(&TokenKind::Dot) {
            procedure.push('.');
            procedure.push_str(&self.schema_name("a procedure name")?.name);
        }
        let mut args = None;
        if self.eat(&TokenKind::LParen) {
            let mut list = Vec::new();
            if !self.at(&TokenKind::RParen) {
                list.push(self.expr()?);
                while self.eat(&TokenKind::Comma) {
                    list.push(self.expr()?);
                }
            }
            self.expect(&TokenKind::RParen)?;
            args = Some(list);
        }
        let mut yields = Vec::new();
        if self.eat_keyword("YIELD") {
            if !self.eat(&TokenKind::Star) {
                loop {
                    let mut name = self.schema_name("a yielded field")?;
                    if self.eat_keyword("AS") {
                        name = self.variable()?;
                    }
                    yields.push(name);
                    if !self.eat(&TokenKind::Comma) {
                        break;
                    }
                }
            }
            let _ = self.where_clause()?;
        }
        Ok(CallClause { procedure, args, yields, span: self.span_from(start) })
    }

    // --- patterns -----------------------------------------------------------------------

    /// `Pattern = PatternPart {, PatternPart}`
    fn pattern(&mut self) -> Result<Pattern> {
        let mut parts = vec![self.pattern_part()?];
        while self.eat(&TokenKind::Comma) {
            parts.push(self.pattern_part()?);
        }
        Ok(Pattern { parts })
    }

    /// `PatternPart = [Variable =] AnonymousPatternPart`, where the anonymous part is
    /// `shortestPath( PatternElement )`, `allShortestPaths( … )` or a `PatternElement`.
    fn pattern_part(&mut self) -> Result<PatternPart> {
        let start = self.start();
        let variable = if self.at_variable() && matches!(self.peek_n(1), TokenKind::Eq) {
            let v = self.variable()?;
            self.advance();
            Some(v)
        } else {
            None
        };
        let shortest = if self.keyword_at(0, "shortestPath") && matches!(self.peek_n(1), TokenKind::LParen) {
            Some(ShortestKind::One)
        } else if self.keyword_at(0, "allShortestPaths") && matches!(self.peek_n(1), TokenKind::LParen) {
            Some(ShortestKind::All)
        } else {
            None
        };
        let element = if shortest.is_some() {
            self.advance();
            self.expect(&TokenKind::LParen)?;
            let element = self.pattern_element()?;
            self.expect(&TokenKind::RParen)?;
            element
        } else {
            self.pattern_element()?
        };
        Ok(PatternPart { variable, shortest, element, span: self.span_from(start) })
    }

    /// `PatternElement = NodePattern { RelationshipPattern NodePattern }`
    fn pattern_element(&mut self) -> Result<PatternElement> {
        self.nested(|p| {
            let start = p.node_pattern()?;
            let mut chain = Vec::new();
            while p.at_relationship() {
                let rel = p.relationship_pattern()?;
                let node = p.node_pattern()?;
                chain.push(PatternStep { rel, node });
            }
            Ok(PatternElement { start, chain })
        })
    }

    fn at_relationship(&self) -> bool {
        matches!(
            (self.peek(), self.peek_n(1)),
            (TokenKind::Minus, TokenKind::Minus | TokenKind::LBracket | TokenKind::Gt)
                | (TokenKind::Lt, TokenKind::Minus)
        )
    }

    /// `NodePattern = ( [Variable] [NodeLabels] [Properties] )`
    fn node_pattern(&mut self) -> Result<NodePattern> {
        let start = self.start();
        self.expect(&TokenKind::LParen)?;
        let variable = if self.at_variable() { Some(self.variable()?) } else { None };
        let labels = if self.at(&TokenKind::Colon) { self.node_labels()? } else { Vec::new() };
        let properties = self.pattern_properties()?;
        if !self.at(&TokenKind::RParen) {
            let expected = match (variable.is_some(), labels.is_empty(), properties.is_some()) {
                (_, _, true) => "')'",
                (_, false, false) => "':', a property map or ')'",
                (true, true, false) => "a label, a property map or ')'",
                (false, true, false) => "a variable, a label, a property map or ')'",
            };
            return Err(self.error_here(expected));
        }
        self.advance();
        Ok(NodePattern { variable, labels, properties, span: self.span_from(start) })
    }

    /// `NodeLabels = : LabelName { : LabelName }`
    fn node_labels(&mut self) -> Result<Vec<Ident>> {
        let mut labels = Vec::new();
        while self.eat(&TokenKind::Colon) {
            labels.push(self.schema_name("a label name")?);
        }
        Ok(labels)
    }

    /// `Properties = MapLiteral | Parameter`
    fn pattern_properties(&mut self) -> Result<Option<Expr>> {
        match self.peek() {
            TokenKind::LBrace => Ok(Some(self.map_literal()?)),
            TokenKind::Param(_) => Ok(Some(self.atom()?)),
            _ => Ok(None),
        }
    }

    /// `RelationshipPattern = [<] - [RelationshipDetail] - [>]`,
    /// `RelationshipDetail = [ [Variable] [: Type {| [:] Type}] [RangeLiteral] [Properties] ]`
    fn relationship_pattern(&mut self) -> Result<RelPattern> {
        let start = self.start();
        let left = self.eat(&TokenKind::Lt);
        self.expect(&TokenKind::Minus)?;
        let mut variable = None;
        let mut types = Vec::new();
        let mut length = None;
        let mut properties = None;
        if self.eat(&TokenKind::LBracket) {
            if self.at_variable() {
                variable = Some(self.variable()?);
            }
            if self.eat(&TokenKind::Colon) {
                types.push(self.schema_name("a relationship type")?);
                while self.eat(&TokenKind::Pipe) {
                    self.eat(&TokenKind::Colon);
                    types.push(self.schema_name("a relationship type")?);
                }
            }
            if self.at(&TokenKind::Star) {
                length = Some(self.range_literal()?);
            }
            properties = self.pattern_properties()?;
            if !self.at(&TokenKind::RBracket) {
                return Err(self.error_here("']'"));
            }
            self.advance();
        }
        self.expect(&TokenKind::Minus)?;
        let right = self.eat(&TokenKind::Gt);
        let direction = match (left, right) {
            (true, false) => PatternDirection::Incoming,
            (false, true) => PatternDirection::Outgoing,
            _ => PatternDirection::Either,
        };
        Ok(RelPattern { variable, direction, types, length, properties, span: self.span_from(start) })
    }

    /// `RangeLiteral = * [IntegerLiteral] [.. [IntegerLiteral]]`
    fn range_literal(&mut self) -> Result<VarLength> {
        self.expect(&TokenKind::Star)?;
        let min = self.optional_hops()?;
        if self.eat(&TokenKind::DotDot) {
            let max = self.optional_hops()?;
            Ok(VarLength { min, max })
        } else if min.is_some() {
            Ok(VarLength { min, max: min })
        } else {
            Ok(VarLength { min: None, max: None })
        }
    }

    fn optional_hops(&mut self) -> Result<Option<u64>> {
        if let TokenKind::Integer(text) = self.peek().clone() {
            let start = self.start();
            self.advance();
            let value = parse_integer(&text, false)
                .and_then(|v| u64::try_from(v).ok())
                .ok_or_else(|| QueryError::syntax(self.text, start, format!("invalid path length {text}")))?;
            Ok(Some(value))
        } else {
            Ok(None)
        }
    }

    // --- expressions --------------------------------------------------------------------

    /// `Expression = OrExpression`
    pub fn expr(&mut self) -> Result<Expr> {
        self.nested(|p| p.expr_bp(0))
    }

    /// The infix or postfix operator at the cursor: what it is, its binding power (higher
    /// binds tighter) and how many tokens it spans.
    ///
    /// Levels, loosest first: `OR` 1, `XOR` 2, `AND` 3, (`NOT` 4, prefix), comparisons 5,
    /// `IN` / `STARTS WITH` / `ENDS WITH` / `CONTAINS` / `=~` / `IS [NOT] NULL` 6,
    /// `+ -` 7, `* / %` 8, `^` 9, (unary `+ -` 10, prefix).
    fn infix_operator(&self) -> Option<(Infix, u8, usize)> {
        let binary = |op: BinaryOp, bp: u8, width: usize| Some((Infix::Binary(op), bp, width));
        match self.peek() {
            TokenKind::Ident(word) => match word.to_ascii_uppercase().as_str() {
                "OR" => binary(BinaryOp::Or, 1, 1),
                "XOR" => binary(BinaryOp::Xor, 2, 1),
                "AND" => binary(BinaryOp::And, 3, 1),
                "IN" => binary(BinaryOp::In, 6, 1),
                "CONTAINS" => binary(BinaryOp::Contains, 6, 1),
                "STARTS" if self.keyword_at(1, "WITH") => binary(BinaryOp::StartsWith, 6, 2),
                "ENDS" if self.keyword_at(1, "WITH") => binary(BinaryOp::EndsWith, 6, 2),
                "IS" if self.keyword_at(1, "NULL") => Some((Infix::IsNull { negated: false }, 6, 2)),
                "IS" if self.keyword_at(1, "NOT") && self.keyword_at(2, "NULL") => {
                    Some((Infix::IsNull { negated: true }, 6, 3))
                }
                _ => None,
            },
            TokenKind::Eq => Some((Infix::Comparison(BinaryOp::Eq), 5, 1)),
            TokenKind::Ne => Some((Infix::Comparison(BinaryOp::Ne), 5, 1)),
            TokenKind::Lt => Some((Infix::Comparison(BinaryOp::Lt), 5, 1)),
            TokenKind::Le => Some((Infix::Comparison(BinaryOp::Le), 5, 1)),
            TokenKind::Gt => Some((Infix::Comparison(BinaryOp::Gt), 5, 1)),
            TokenKind::Ge => Some((Infix::Comparison(BinaryOp::Ge), 5, 1)),
            TokenKind::RegexMatch => binary(BinaryOp::RegexMatch, 6, 1),
            TokenKind::Plus => binary(BinaryOp::Add, 7, 1),
            TokenKind::Minus => binary(BinaryOp::Sub, 7, 1),
            TokenKind::Star => binary(BinaryOp::Mul, 8, 1),
            TokenKind::Slash => binary(BinaryOp::Div, 8, 1),
            TokenKind::Percent => binary(BinaryOp::Mod, 8, 1),
            TokenKind::Caret => binary(BinaryOp::Pow, 9, 1),
            _ => None,
        }
    }

    /// Precedence climbing over `OrExpression` down to `PowerOfExpression`: operands bind
    /// at least `min`; binary operators associate to the left; a comparison chain
    /// `a < b < c` reads as `a < b AND b < c`. Each operator applied counts as one level
    /// of nesting, so long chains are bounded like deep parentheses.
    fn expr_bp(&mut self, min: u8) -> Result<Expr> {
        let mut left = self.prefix()?;
        // The right operand of the last comparison, while a chain is being read.
        let mut chain_right: Option<Expr> = None;
        let mut links = 0;
        let result = loop {
            let Some((op, bp, width)) = self.infix_operator() else { break Ok(left) };
            if bp < min {
                break Ok(left);
            }
            if let Err(e) = self.enter() {
                break Err(e);
            }
            links += 1;
            for _ in 0..width {
                self.advance();
            }
            match op {
                Infix::IsNull { negated } => {
                    let span = self.span_from(left.span.start);
                    left = Expr::new(ExprKind::IsNull { expr: Box::new(left), negated }, span);
                    chain_right = None;
                }
                Infix::Comparison(op) => {
                    let right = match self.expr_bp(bp + 1) {
                        Ok(r) => r,
                        Err(e) => break Err(e),
                    };
                    let link_left = chain_right.take().unwrap_or_else(|| left.clone());
                    let span = link_left.span.to(right.span);
                    let comparison =
                        Expr::new(ExprKind::Binary(op, Box::new(link_left), Box::new(right.clone())), span);
                    left = if links > 1 && is_comparison_chain(&left) {
                        let span = left.span.to(comparison.span);
                        Expr::new(ExprKind::Binary(BinaryOp::And, Box::new(left), Box::new(comparison)), span)
                    } else {
                        comparison
                    };
                    chain_right = Some(right);
                }
                Infix::Binary(op) => {
                    // `^` takes a unary operand on its right: `2 ^ -1`.
                    let right = match self.expr_bp(bp + 1) {
                        Ok(r) => r,
                        Err(e) => break Err(e),
                    };
                    let span = left.span.to(right.span);
                    left = Expr::new(ExprKind::Binary(op, Box::new(left), Box::new(right)), span);
                    chain_right = None;
                }
            }
        };
        for _ in 0..links {
            self.leave();
        }
        result
    }

    /// `NotExpression = NOT NotExpression | …`, `UnaryAddOrSubtractExpression = (+ | -)
    /// UnaryAddOrSubtractExpression | NonArithmeticOperatorExpression`; a minus directly
    /// before a number literal folds into it (so `-9223372036854775808` fits).
    fn prefix(&mut self) -> Result<Expr> {
        let start = self.start();
        if self.at_keyword("NOT") {
            self.advance();
            let operand = self.nested(|p| p.expr_bp(4))?;
            return Ok(Expr::new(ExprKind::Unary(UnaryOp::Not, Box::new(operand)), self.span_from(start)));
        }
        let op = match self.peek() {
            TokenKind::Minus => UnaryOp::Neg,
            TokenKind::Plus => UnaryOp::Plus,
            _ => return self.postfix(),
        };
        self.advance();
        if op == UnaryOp::Neg {
            match self.peek().clone() {
                TokenKind::Integer(text) if !self.postfix_follows(1) => {
                    let at = self.start();
                    self.advance();
                    let value = parse_integer(&text, true).ok_or_else(|| {
                        QueryError::syntax(
                            self.text,
                            at,
                            format!("integer literal -{text} is too small (integer overflow)"),
                        )
                    })?;
                    return Ok(Expr::new(ExprKind::Literal(Literal::Int(value)), self.span_from(start)));
                }
                TokenKind::Float(x) if !self.postfix_follows(1) => {
                    self.advance();
                    return Ok(Expr::new(ExprKind::Literal(Literal::Float(-x)), self.span_from(start)));
                }
                _ => {}
            }
        }
        let operand = self.nested(|p| p.expr_bp(10))?;
        Ok(Expr::new(ExprKind::Unary(op, Box::new(operand)), self.span_from(start)))
    }

    /// Whether the token `n` ahead starts a postfix operator (`.`, `[`, `:`), which would
    /// bind tighter than a folded minus.
    fn postfix_follows(&self, n: usize) -> bool {
        matches!(self.peek_n(n), TokenKind::Dot | TokenKind::LBracket | TokenKind::Colon)
    }

    /// `NonArithmeticOperatorExpression = Atom { ListOperatorExpression | PropertyLookup } [NodeLabels]`
    fn postfix(&mut self) -> Result<Expr> {
        let start = self.start();
        let mut expr = self.atom()?;
        let mut links = 0;
        let result = loop {
            let is_postfix = matches!(self.peek(), TokenKind::Dot | TokenKind::LBracket)
                || (self.at(&TokenKind::Colon)
                    && matches!(self.peek_n(1), TokenKind::Ident(_) | TokenKind::QuotedIdent(_)));
            if !is_postfix {
                break Ok(expr);
            }
            if let Err(e) = self.enter() {
                break Err(e);
            }
            links += 1;
            let step = match self.peek() {
                TokenKind::Dot => self.property_lookup(expr, start),
                TokenKind::LBracket => self.list_operator(expr, start),
                _ => self.node_labels().map(|labels| {
                    let labels = labels.into_iter().map(|l| l.name).collect();
                    Expr::new(ExprKind::HasLabels(Box::new(expr), labels), self.span_from(start))
                }),
            };
            match step {
                Ok(e) => expr = e,
                Err(e) => break Err(e),
            }
        };
        for _ in 0..links {
            self.leave();
        }
        result
    }

    /// `PropertyLookup = . PropertyKeyName`
    fn property_lookup(&mut self, base: Expr, start: usize) -> Result<Expr> {
        self.expect(&TokenKind::Dot)?;
        let key = self.schema_name("a property name")?;
        Ok(Expr::new(ExprKind::Property(Box::new(base), key.name), self.span_from(start)))
    }

    /// `ListOperatorExpression = [ Expression ] | [ [Expression] .. [Expression] ]`
    fn list_operator(&mut self, base: Expr, start: usize) -> Result<Expr> {
        self.expect(&TokenKind::LBracket)?;
        let from = if self.at(&TokenKind::DotDot) { None } else { Some(Box::new(self.expr()?)) };
        if self.eat(&TokenKind::DotDot) {
            let to = if self.at(&TokenKind::RBracket) { None } else { Some(Box::new(self.expr()?)) };
            self.expect(&TokenKind::RBracket)?;
            return Ok(Expr::new(ExprKind::Slice { list: Box::new(base), from, to }, self.span_from(start)));
        }
        self.expect(&TokenKind::RBracket)?;
        let index = from.ok_or_else(|| self.error_here("an index expression"))?;
        Ok(Expr::new(ExprKind::Index(Box::new(base), index), self.span_from(start)))
    }

    /// `Atom = Literal | Parameter | CaseExpression | count(*) | ListComprehension
    /// | PatternComprehension | Quantifier | PatternPredicate | ParenthesizedExpression
    /// | FunctionInvocation | Variable`
    fn atom(&mut self) -> Result<Expr> {
        let start = self.start();
        let literal = |p: &mut Self, lit: Literal| {
            p.advance();
            Ok(Expr::new(ExprKind::Literal(lit), p.span_from(start)))
        };
        match self.peek().clone() {
            TokenKind::Integer(text) => {
                let value = parse_integer(&text, false).ok_or_else(|| {
                    QueryError::syntax(
                        self.text,
                        start,
                        format!("integer literal {text} is too large (integer overflow)"),
                    )
                })?;
                literal(self, Literal::Int(value))
            }
            TokenKind::Float(x) => literal(self, Literal::Float(x)),
            TokenKind::Str(s) => literal(self, Literal::Str(s)),
            TokenKind::Param(name) => {
                self.advance();
                Ok(Expr::new(ExprKind::Parameter(name), self.span_from(start)))
            }
            TokenKind::LBracket => self.nested_bracket(|p| p.bracket_atom(start)),
            TokenKind::LBrace => self.nested_bracket(|p| p.map_literal()),
            TokenKind::LParen => self.nested_bracket(|p| p.paren_atom(start)),
            TokenKind::QuotedIdent(_) => self.variable_or_call(start),
            TokenKind::Ident(word) => {
                let upper = word.to_ascii_uppercase();
                match upper.as_str() {
                    "TRUE" => literal(self, Literal::Bool(true)),
                    "FALSE" => literal(self, Literal::Bool(false)),
                    "NULL" => literal(self, Literal::Null),
                    "CASE" => self.nested_bracket(|p| p.case_expr(start)),
                    "COUNT" if self.peek_n(1) == &TokenKind::LParen && self.peek_n(2) == &TokenKind::Star => {
                        self.advance();
                        self.advance();
                        self.advance();
                        self.expect(&TokenKind::RParen)?;
                        Ok(Expr::new(ExprKind::CountStar, self.span_from(start)))
                    }
                    "ALL" | "ANY" | "NONE" | "SINGLE"
                        if self.peek_n(1) == &TokenKind::LParen && self.keyword_at(3, "IN") =>
                    {
                        self.nested_bracket(|p| p.quantifier(start, &upper))
                    }
                    "REDUCE" if self.peek_n(1) == &TokenKind::LParen => self.nested_bracket(|p| p.reduce(start)),
                    "EXISTS" if self.peek_n(1) == &TokenKind::LBrace => Err(QueryError::at(
                        super::error::ErrorKind::Unsupported,
                        self.text,
                        start,
                        "EXISTS { … } subqueries are not supported; use a pattern predicate such as WHERE (a)-->(b)",
                    )),
                    _ => self.variable_or_call(start),
                }
            }
            _ => Err(self.error_here("an expression")),
        }
    }

    /// `FunctionInvocation = FunctionName ( [DISTINCT] [Expression {, Expression}] )` or a `Variable`.
    fn variable_or_call(&mut self, start: usize) -> Result<Expr> {
        // A function name may be dotted (`a.b.c(…)`): look ahead for `( ` after name parts.
        let mut n = 1;
        while self.peek_n(n) == &TokenKind::Dot
            && matches!(self.peek_n(n + 1), TokenKind::Ident(_) | TokenKind::QuotedIdent(_))
        {
            n += 2;
        }
        if self.peek_n(n) == &TokenKind::LParen {
            let mut name = self.schema_name("a function name")?.name;
            while self.eat(&TokenKind::Dot) {
                name.push('.');
                name.push_str(&self.schema_name("a function name")?.name);
            }
            return self.nested_bracket(|p| p.call_args(start, name));
        }
        let variable = self.variable()?;
        if self.at(&TokenKind::LBrace) {
            return self.nested(|p| p.map_projection(start, variable.name));
        }
        Ok(Expr::new(ExprKind::Variable(variable.name), variable.span))
    }

    fn call_args(&mut self, start: usize, name: String) -> Result<Expr> {
        self.expect(&TokenKind::LParen)?;
        let distinct = self.eat_keyword("DISTINCT");
        let mut args = Vec::new();
        if !self.at(&TokenKind::RParen) {
            args.push(self.expr()?);
            while self.eat(&TokenKind::Comma) {
                args.push(self.expr()?);
            }
        }
        if !self.at(&TokenKind::RParen) {
            return Err(self.error_here("',' or ')'"));
        }
        self.advance();
        Ok(Expr::new(ExprKind::Function { name, distinct, args }, self.span_from(start)))
    }

    /// `MapProjection = Variable { MapProjectionItem {, MapProjectionItem} }`
    fn map_projection(&mut self, start: usize, variable: String) -> Result<Expr> {
        self.expect(&TokenKind::LBrace)?;
        let mut items = Vec::new();
        if !self.at(&TokenKind::RBrace) {
            loop {
                if self.eat(&TokenKind::Dot) {
                    if self.eat(&TokenKind::Star) {
                        items.push(MapProjectionItem::AllProperties);
                    } else {
                        items.push(MapProjectionItem::Property(self.schema_name("a property name")?.name));
                    }
                } else if matches!(self.peek_n(1), TokenKind::Colon) {
                    let key = self.schema_name("a property name")?.name;
                    self.advance();
                    items.push(MapProjectionItem::Literal(key, self.expr()?));
                } else {
                    items.push(MapProjectionItem::Variable(self.variable()?.name));
                }
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
        }
        if !self.at(&TokenKind::RBrace) {
            return Err(self.error_here("',' or '}'"));
        }
        self.advance();
        Ok(Expr::new(ExprKind::MapProjection { variable, items }, self.span_from(start)))
    }

    /// `MapLiteral = { [PropertyKeyName : Expression {, PropertyKeyName : Expression}] }`
    fn map_literal(&mut self) -> Result<Expr> {
        let start = self.start();
        self.expect(&TokenKind::LBrace)?;
        let mut entries = Vec::new();
        if !self.at(&TokenKind::RBrace) {
            loop {
                let key = self.schema_name("a property name")?;
                self.expect(&TokenKind::Colon)?;
                entries.push((key.name, self.expr()?));
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
        }
        if !self.at(&TokenKind::RBrace) {
            return Err(self.error_here("',' or '}'"));
        }
        self.advance();
        Ok(Expr::new(ExprKind::Map(entries), self.span_from(start)))
    }

    /// `[` starts a list literal, a list comprehension or a pattern comprehension.
    fn bracket_atom(&mut self, start: usize) -> Result<Expr> {
        // ListComprehension = [ Variable IN Expression [WHERE Expression] [| Expression] ]
        let variable_next = match self.peek_n(1) {
            TokenKind::Ident(word) => !is_reserved(word),
            TokenKind::QuotedIdent(_) => true,
            _ => false,
        };
        if variable_next && self.keyword_at(2, "IN") {
            let (pos, depth) = (self.pos, self.depth);
            self.advance();
            let variable = self.variable()?.name;
            self.expect_keyword("IN")?;
            let list = self.expr()?;
            if self.at(&TokenKind::Comma) {
                // `[x IN l, 0]` is a list literal whose first item is `x IN l`.
                self.pos = pos;
                self.depth = depth;
                return self.list_literal(start);
            }
            let predicate = if self.eat_keyword("WHERE") { Some(Box::new(self.expr()?)) } else { None };
            let projection = if self.eat(&TokenKind::Pipe) { Some(Box::new(self.expr()?)) } else { None };
            self.expect(&TokenKind::RBracket)?;
            return Ok(Expr::new(
                ExprKind::ListComprehension { variable, list: Box::new(list), predicate, projection },
                self.span_from(start),
            ));
        }
        // PatternComprehension = [ [Variable =] RelationshipsPattern [WHERE Expression] | Expression ]
        let starts_pattern = self.peek_n(1) == &TokenKind::LParen
            || (matches!(self.peek_n(1), TokenKind::Ident(_) | TokenKind::QuotedIdent(_))
                && self.peek_n(2) == &TokenKind::Eq);
        if starts_pattern {
            let comprehension = self.attempt(|p| {
                p.advance();
                let variable = if p.at_variable() && p.peek_n(1) == &TokenKind::Eq {
                    let v = p.variable()?.name;
                    p.advance();
                    Some(v)
                } else {
                    None
                };
                let element = p.pattern_element()?;
                if element.chain.is_empty() {
                    return Ok(None);
                }
                let predicate = if p.eat_keyword("WHERE") { Some(Box::new(p.expr()?)) } else { None };
                if !p.eat(&TokenKind::Pipe) {
                    return Ok(None);
                }
                let projection = Box::new(p.expr()?);
                p.expect(&TokenKind::RBracket)?;
                Ok(Some(ExprKind::PatternComprehension { variable, element: Box::new(element), predicate, projection }))
            })?;
            if let Some(kind) = comprehension {
                return Ok(Expr::new(kind, self.span_from(start)));
            }
        }
        self.list_literal(start)
    }

    /// ListLiteral = [ [Expression {, Expression}] ]
    fn list_literal(&mut self, start: usize) -> Result<Expr> {
        self.expect(&TokenKind::LBracket)?;
        let mut items = Vec::new();
        if !self.at(&TokenKind::RBracket) {
            loop {
                items.push(self.expr()?);
                if !self.eat(&TokenKind::Comma) {
                    break;
                }
            }
        }
        if !self.at(&TokenKind::RBracket) {
            return Err(self.error_here("',' or ']'"));
        }
        self.advance();
        Ok(Expr::new(ExprKind::List(items), self.span_from(start)))
    }

    /// `(` starts a relationship pattern used as a predicate, or a parenthesised expression.
    fn paren_atom(&mut self, start: usize) -> Result<Expr> {
        let pattern = self.attempt(|p| {
            let element = p.pattern_element()?;
            Ok((!element.chain.is_empty()).then_some(element))
        })?;
        if let Some(element) = pattern {
            return Ok(Expr::new(ExprKind::PatternPredicate(Box::new(element)), self.span_from(start)));
        }
        // ParenthesizedExpression = ( Expression )
        self.expect(&TokenKind::LParen)?;
        let mut inner = self.expr()?;
        self.expect(&TokenKind::RParen)?;
        // Keep the inner expression (parentheses are not a node of the tree), but widen
        // its span so column names and errors cover what was written.
        inner.span = self.span_from(start);
        Ok(inner)
    }

    /// `CaseExpression = CASE [Expression] { WHEN Expression THEN Expression } [ELSE Expression] END`
    fn case_expr(&mut self, start: usize) -> Result<Expr> {
        self.expect_keyword("CASE")?;
        let operand = if self.at_keyword("WHEN") { None } else { Some(Box::new(self.expr()?)) };
        let mut whens = Vec::new();
        while self.eat_keyword("WHEN") {
            let condition = self.expr()?;
            self.expect_keyword("THEN")?;
            whens.push((condition, self.expr()?));
        }
        if whens.is_empty() {
            return Err(self.error_here("WHEN"));
        }
        let otherwise = if self.eat_keyword("ELSE") { Some(Box::new(self.expr()?)) } else { None };
        if !self.eat_keyword("END") {
            return Err(self.error_here("WHEN, ELSE or END"));
        }
        Ok(Expr::new(ExprKind::Case { operand, whens, otherwise }, self.span_from(start)))
    }

    /// `Quantifier = (ALL | ANY | NONE | SINGLE) ( Variable IN Expression [WHERE Expression] )`
    fn quantifier(&mut self, start: usize, word: &str) -> Result<Expr> {
        let quantifier = match word {
            "ALL" => Quantifier::All,
            "ANY" => Quantifier::Any,
            "NONE" => Quantifier::None,
            _ => Quantifier::Single,
        };
        self.advance();
        self.expect(&TokenKind::LParen)?;
        let variable = self.variable()?.name;
        self.expect_keyword("IN")?;
        let list = Box::new(self.expr()?);
        let predicate = if self.eat_keyword("WHERE") { Some(Box::new(self.expr()?)) } else { None };
        self.expect(&TokenKind::RParen)?;
        Ok(Expr::new(ExprKind::Quantified { quantifier, variable, list, predicate }, self.span_from(start)))
    }

    /// `Reduce = reduce ( Variable = Expression , Variable IN Expression | Expression )`
    fn reduce(&mut self, start: usize) -> Result<Expr> {
        self.advance();
        self.expect(&TokenKind::LParen)?;
        let accumulator = self.variable()?.name;
        self.expect(&TokenKind::Eq)?;
        let init = Box::new(self.expr()?);
        self.expect(&TokenKind::Comma)?;
        let variable = self.variable()?.name;
        self.expect_keyword("IN")?;
        let list = Box::new(self.expr()?);
        self.expect(&TokenKind::Pipe)?;
        let body = Box::new(self.expr()?);
        self.expect(&TokenKind::RParen)?;
        Ok(Expr::new(ExprKind::Reduce { accumulator, init, variable, list, body }, self.span_from(start)))
    }
}

/// The value of an integer literal's text (decimal, `0x` hex or `0o` octal), negated when
/// `negative`; `None` when it does not fit an i64.
pub fn parse_integer(text: &str, negative: bool) -> Option<i64> {
    let (digits, radix) = if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        (hex, 16)
    } else if let Some(oct) = text.strip_prefix("0o").or_else(|| text.strip_prefix("0O")) {
        (oct, 8)
    } else {
        (text, 10)
    };
    let magnitude = u64::from_str_radix(digits, radix).ok()?;
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Queries covering the grammar; each must survive parse → print → parse unchanged.
    const ROUND_TRIP: &[&str] = &[
        "MATCH (n) RETURN n",
        "MATCH (g:Gift)-[:GIVER]->(a), (g)-[:RECIPIENT]->(b), (g)-[:ITEM]->(i) RETURN a.name AS giver, i.name AS item, b.name AS recipient ORDER BY giver, item, recipient",
        "MATCH (a:A:B {name: 'x', n: 1})<-[r:T|U*1..3 {w: 2}]-(b) WHERE a.x > 1 AND NOT b.y IS NULL RETURN DISTINCT a, r SKIP 1 LIMIT $n",
        "MATCH p = (a)-[*]-(b), q = shortestPath((a)-[:KNOWS*..4]->(c)) RETURN p, q, nodes(p), length(q)",
        "MATCH p = allShortestPaths((a)-[*0..]-(b)) RETURN p",
        "OPTIONAL MATCH (a)-->(b)<--(c)--(d) WITH a, count(*) AS n WHERE n > 2 RETURN a ORDER BY n DESC",
        "UNWIND [1, 2.5, 'x', null, true, [1, [2]], {a: 1, b: {c: []}}] AS x RETURN x",
        "RETURN 1 + 2 * 3 - 4 / 5 % 6 ^ 7 AS v, -1, - -1, -(1 + 2), +3, 2 ^ -1, (1 - 2) - 3, 1 - (2 - 3)",
        "RETURN 1 < 2 < 3, 1 = 2 <> 3, (1 < 2) = true, a IN [1] IN [true], x IS NOT NULL IS NULL",
        "RETURN 'a' STARTS WITH 'b' OR 'c' ENDS WITH 'd' XOR 'e' CONTAINS 'f' AND 'g' =~ 'h.*'",
        "RETURN CASE WHEN x = 1 THEN 'one' WHEN x = 2 THEN 'two' ELSE 'many' END, CASE x WHEN 1 THEN true END",
        "RETURN [x IN range(1, 10) WHERE x % 2 = 0 | x * x], [x IN l | x], [x IN l WHERE x], all(x IN l WHERE x > 0), none(y IN l WHERE y), single(z IN l WHERE z), any(w IN l WHERE w)",
        "RETURN reduce(acc = 0, x IN [1, 2, 3] | acc + x) AS total",
        "MATCH (a) WHERE (a)-[:T]->(:B) AND NOT (a)<--() RETURN [(a)-->(b:B) WHERE b.x > 1 | b.name] AS names, [p = (a)-->() | p]",
        "MATCH (n) RETURN n {.name, .*, k: 1 + 2, n}, n:Person:Actor, n['name'], l[1..2], l[..2], l[1..], l[-1]",
        "MATCH (n) RETURN count(*), count(DISTINCT n.x), collect(n), toUpper(n.name), `weird name`.`prop key`",
        "MATCH (`my var`) RETURN `my var` AS `a``b`, $param, $`odd param`",
        "MATCH (n) RETURN n.x ORDER BY n.y ASC, n.z DESC UNION MATCH (m) RETURN m.x UNION ALL RETURN 1 AS x",
        "CREATE (a:A {x: 1})-[:T {y: [1, 2]}]->(b) MERGE (c:C) ON CREATE SET c.x = 1 ON MATCH SET c += {y: 2}, c:D",
        "MATCH (n) SET n.x = 1, n = {y: 2}, n:L DELETE n DETACH DELETE n REMOVE n.x, n:L RETURN n",
        "CALL db.labels() YIELD label RETURN label",
        "WITH * RETURN *",
        "RETURN 0x1F, 0o17, 1.5e10, .5, 1e-3, 'it\\'s', \"dq\"",
        "RETURN -9223372036854775808, 9223372036854775807, -0.0, 1.0E300",
        "MATCH (a)-[r]->(b) WHERE r.since >= date AND exists(a.name) RETURN type(r), id(a), labels(b), keys(a), properties(r)",
    ];

    #[test]
    fn printed_queries_parse_to_the_same_tree() {
        for text in ROUND_TRIP {
            let tree = parse(text).unwrap_or_else(|e| panic!("{}", e.render(text)));
            let printed = tree.to_string();
            let again = parse(&printed).unwrap_or_else(|e| panic!("reparsing {printed}: {}", e.render(&printed)));
            assert_eq!(tree, again, "\noriginal: {text}\nprinted:  {printed}");
            assert_eq!(printed, again.to_string(), "printing is not stable for {text}");
        }
    }

    #[test]
    fn precedence_follows_opencypher() {
        let show = |text: &str| parse_expression(text).expect("parses").to_string();
        assert_eq!(show("1 + 2 * 3"), "1 + 2 * 3");
        assert_eq!(show("(1 + 2) * 3"), "(1 + 2) * 3");
        assert_eq!(show("NOT a = b"), "NOT a = b");
        assert_eq!(show("-2 ^ 2"), "-2 ^ 2");
        assert_eq!(show("a OR b AND c"), "a OR b AND c");
        assert_eq!(show("(a OR b) AND c"), "(a OR b) AND c");
        assert_eq!(show("1 < 2 < 3"), "1 < 2 AND 2 < 3");
        let minus = parse_expression("-9223372036854775808").expect("parses");
        assert_eq!(minus.kind, ExprKind::Literal(Literal::Int(i64::MIN)));
    }

    #[test]
    fn syntax_errors_say_what_was_expected_and_found() {
        let text = "MATCH (a:Person\nRETURN a";
        let err = parse(text).expect_err("missing paren");
        assert_eq!(
            err.to_string(),
            "syntax error at line 2, column 1: expected ':', a property map or ')', found 'RETURN'"
        );
        assert_eq!(err.render(text), "error: syntax error at line 2, column 1: expected ':', a property map or ')', found 'RETURN'\n  RETURN a\n  ^");
        let err = parse("RETURN 9223372036854775808").expect_err("overflow");
        assert!(err.message.contains("too large"), "{}", err.message);
        let err = parse("MATCH (n) RETURN n.").expect_err("dangling dot");
        assert_eq!(err.message, "expected a property name, found end of input");
        assert!(parse("RETURN 1 2").is_err());
        assert!(parse("MATCH (a)-[r:]->(b) RETURN a").is_err());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("RETURN {}1{}", "(".repeat(5000), ")".repeat(5000));
        assert!(parse(&deep).expect_err("too deep").message.contains("nested too deeply"));
        let list = format!("RETURN {}1{}", "[".repeat(5000), "]".repeat(5000));
        assert!(parse(&list).is_err());
        let chain = format!("RETURN 1{}", " + 1".repeat(5000));
        assert!(parse(&chain).is_err());
        let nots = format!("RETURN {}true", "NOT ".repeat(5000));
        assert!(parse(&nots).is_err());
        let minus = format!("RETURN {}1", "- ".repeat(5000));
        assert!(parse(&minus).is_err());
        // Just under the limit still parses.
        let fine = format!("RETURN {}1{}", "(".repeat(MAX_DEPTH / 3 - 2), ")".repeat(MAX_DEPTH / 3 - 2));
        parse(&fine).expect("moderate nesting parses");
    }
}
