//! The syntax tree of a query, every node with its byte span in the query text.
//! `Display` prints a tree back as a query that parses to the same tree.

use std::fmt;

use super::value::quote_string;

/// Byte range `[start, end)` in the query text.
///
/// Spans never take part in equality: two trees parsed from differently laid-out text
/// (or from a printed tree) compare equal when their structure is the same.
#[derive(Clone, Copy, Debug, Default, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl PartialEq for Span {
    fn eq(&self, _other: &Span) -> bool {
        true
    }
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

/// A name as written: variable, label, relationship type or property key.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// `Query = SingleQuery { Union }`
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    pub first: SingleQuery,
    pub unions: Vec<UnionPart>,
}

/// `Union = UNION [ALL] SingleQuery`
#[derive(Clone, Debug, PartialEq)]
pub struct UnionPart {
    pub all: bool,
    pub query: SingleQuery,
    pub span: Span,
}

/// `SingleQuery = Clause { Clause }`
#[derive(Clone, Debug, PartialEq)]
pub struct SingleQuery {
    pub clauses: Vec<Clause>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Clause {
    Match(MatchClause),
    Unwind(UnwindClause),
    With(WithClause),
    Return(ReturnClause),
    Create(CreateClause),
    Merge(MergeClause),
    Set(SetClause),
    Delete(DeleteClause),
    Remove(RemoveClause),
    Call(CallClause),
}

impl Clause {
    pub fn span(&self) -> Span {
        match self {
            Clause::Match(c) => c.span,
            Clause::Unwind(c) => c.span,
            Clause::With(c) => c.span,
            Clause::Return(c) => c.span,
            Clause::Create(c) => c.span,
            Clause::Merge(c) => c.span,
            Clause::Set(c) => c.span,
            Clause::Delete(c) => c.span,
            Clause::Remove(c) => c.span,
            Clause::Call(c) => c.span,
        }
    }

    /// The clause keyword, for messages.
    pub fn keyword(&self) -> &'static str {
        match self {
            Clause::Match(c) if c.optional => "OPTIONAL MATCH",
            Clause::Match(_) => "MATCH",
            Clause::Unwind(_) => "UNWIND",
            Clause::With(_) => "WITH",
            Clause::Return(_) => "RETURN",
            Clause::Create(_) => "CREATE",
            Clause::Merge(_) => "MERGE",
            Clause::Set(_) => "SET",
            Clause::Delete(c) if c.detach => "DETACH DELETE",
            Clause::Delete(_) => "DELETE",
            Clause::Remove(_) => "REMOVE",
            Clause::Call(_) => "CALL",
        }
    }
}

/// `Match = [OPTIONAL] MATCH Pattern [Where]`
#[derive(Clone, Debug, PartialEq)]
pub struct MatchClause {
    pub optional: bool,
    pub pattern: Pattern,
    pub where_: Option<Expr>,
    pub span: Span,
}

/// `Unwind = UNWIND Expression AS Variable`
#[derive(Clone, Debug, PartialEq)]
pub struct UnwindClause {
    pub expr: Expr,
    pub variable: Ident,
    pub span: Span,
}

/// `With = WITH ProjectionBody [Where]`
#[derive(Clone, Debug, PartialEq)]
pub struct WithClause {
    pub projection: Projection,
    pub where_: Option<Expr>,
    pub span: Span,
}

/// `Return = RETURN ProjectionBody`
#[derive(Clone, Debug, PartialEq)]
pub struct ReturnClause {
    pub projection: Projection,
    pub span: Span,
}

/// `ProjectionBody = [DISTINCT] ProjectionItems [Order] [Skip] [Limit]`
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    pub distinct: bool,
    /// `*`: every variable in scope, before the listed items.
    pub star: bool,
    pub items: Vec<ProjectionItem>,
    pub order_by: Vec<SortItem>,
    pub skip: Option<Expr>,
    pub limit: Option<Expr>,
}

/// `ProjectionItem = Expression [AS Variable]`
#[derive(Clone, Debug, PartialEq)]
pub struct ProjectionItem {
    pub expr: Expr,
    pub alias: Option<Ident>,
}

/// `SortItem = Expression [ASC | DESC]`
#[derive(Clone, Debug, PartialEq)]
pub struct SortItem {
    pub expr: Expr,
    pub descending: bool,
}

/// `Create = CREATE Pattern`
#[derive(Clone, Debug, PartialEq)]
pub struct CreateClause {
    pub pattern: Pattern,
    pub span: Span,
}

/// `Merge = MERGE PatternPart { MergeAction }`
#[derive(Clone, Debug, PartialEq)]
pub struct MergeClause {
    pub part: PatternPart,
    pub actions: Vec<MergeAction>,
    pub span: Span,
}

/// `MergeAction = ON (MATCH | CREATE) Set`
#[derive(Clone, Debug, PartialEq)]
pub struct MergeAction {
    pub on_create: bool,
    pub items: Vec<SetItem>,
}

/// `SetItem = PropertyExpression = Expression | Variable (= | +=) Expression | Variable NodeLabels`
#[derive(Clone, Debug, PartialEq)]
pub enum SetItem {
    Property { target: Expr, value: Expr },
    Replace { variable: Ident, value: Expr },
    Merge { variable: Ident, value: Expr },
    Labels { variable: Ident, labels: Vec<Ident> },
}

/// `Set = SET SetItem { , SetItem }`
#[derive(Clone, Debug, PartialEq)]
pub struct SetClause {
    pub items: Vec<SetItem>,
    pub span: Span,
}

/// `Delete = [DETACH] DELETE Expression { , Expression }`
#[derive(Clone, Debug, PartialEq)]
pub struct DeleteClause {
    pub detach: bool,
    pub exprs: Vec<Expr>,
    pub span: Span,
}

/// `Remove = REMOVE RemoveItem { , RemoveItem }`
#[derive(Clone, Debug, PartialEq)]
pub struct RemoveClause {
    pub items: Vec<RemoveItem>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum RemoveItem {
    Property(Expr),
    Labels { variable: Ident, labels: Vec<Ident> },
}

/// `Call = CALL ProcedureName [ ( Expression, … ) ] [YIELD (* | YieldItem, …) [Where]]`
#[derive(Clone, Debug, PartialEq)]
pub struct CallClause {
    /// The dotted name as written (`db.labels`), its span covering every part.
    pub procedure: Ident,
    /// `None` when called without parentheses: a standalone call then takes its
    /// arguments from the parameters of the same names.
    pub args: Option<Vec<Expr>>,
    pub yields: Yields,
    /// `WHERE` after `YIELD`, over the yielded names.
    pub where_: Option<Expr>,
    pub span: Span,
}

/// What a `CALL` binds.
#[derive(Clone, Debug, PartialEq)]
pub enum Yields {
    /// No `YIELD`: a standalone call returns every field; an in-query call binds nothing.
    Unspecified,
    /// `YIELD *` (standalone calls only).
    Star,
    Items(Vec<YieldItem>),
}

/// `YieldItem = ProcedureResultField [AS Variable]`
#[derive(Clone, Debug, PartialEq)]
pub struct YieldItem {
    pub field: Ident,
    pub alias: Option<Ident>,
}

impl YieldItem {
    /// The variable the field is bound to.
    pub fn variable(&self) -> &Ident {
        self.alias.as_ref().unwrap_or(&self.field)
    }
}

/// `Pattern = PatternPart { , PatternPart }`
#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    pub parts: Vec<PatternPart>,
}

/// `PatternPart = [Variable =] (shortestPath(…) | allShortestPaths(…) | PatternElement)`
#[derive(Clone, Debug, PartialEq)]
pub struct PatternPart {
    pub variable: Option<Ident>,
    pub shortest: Option<ShortestKind>,
    pub element: PatternElement,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShortestKind {
    /// `shortestPath(…)`: one shortest path per pair of endpoints.
    One,
    /// `allShortestPaths(…)`: every path of the shortest length.
    All,
}

/// `PatternElement = NodePattern { RelationshipPattern NodePattern }`
#[derive(Clone, Debug, PartialEq)]
pub struct PatternElement {
    pub start: NodePattern,
    pub chain: Vec<PatternStep>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PatternStep {
    pub rel: RelPattern,
    pub node: NodePattern,
}

/// `NodePattern = ( [Variable] [NodeLabels] [Properties] )`
#[derive(Clone, Debug, PartialEq)]
pub struct NodePattern {
    pub variable: Option<Ident>,
    pub labels: Vec<Ident>,
    /// A map literal or a parameter.
    pub properties: Option<Expr>,
    pub span: Span,
}

/// `RelationshipPattern = [<] - [ [Variable] [:TYPE {| TYPE}] [RangeLiteral] [Properties] ] - [>]`
#[derive(Clone, Debug, PartialEq)]
pub struct RelPattern {
    pub variable: Option<Ident>,
    pub direction: PatternDirection,
    pub types: Vec<Ident>,
    pub length: Option<VarLength>,
    pub properties: Option<Expr>,
    pub span: Span,
}

/// Direction as written, left to right.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatternDirection {
    /// `-->`
    Outgoing,
    /// `<--`
    Incoming,
    /// `--` (or `<-->`)
    Either,
}

/// `RangeLiteral = * [min] [.. [max]]`: `*` is 1..∞, `*2` is 2..2, `*..4` is 1..4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VarLength {
    pub min: Option<u64>,
    pub max: Option<u64>,
}

impl VarLength {
    pub fn min_hops(&self) -> u64 {
        self.min.unwrap_or(1)
    }
}

/// An expression with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Neg,
    Plus,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    Xor,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    StartsWith,
    EndsWith,
    Contains,
    RegexMatch,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "OR",
            BinaryOp::Xor => "XOR",
            BinaryOp::And => "AND",
            BinaryOp::Eq => "=",
            BinaryOp::Ne => "<>",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::In => "IN",
            BinaryOp::StartsWith => "STARTS WITH",
            BinaryOp::EndsWith => "ENDS WITH",
            BinaryOp::Contains => "CONTAINS",
            BinaryOp::RegexMatch => "=~",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Pow => "^",
        }
    }

    /// Binding strength, higher binds tighter (see `Prec`).
    fn precedence(self) -> Prec {
        match self {
            BinaryOp::Or => Prec::Or,
            BinaryOp::Xor => Prec::Xor,
            BinaryOp::And => Prec::And,
            BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => Prec::Comparison,
            BinaryOp::In | BinaryOp::StartsWith | BinaryOp::EndsWith | BinaryOp::Contains | BinaryOp::RegexMatch => {
                Prec::Predicate
            }
            BinaryOp::Add | BinaryOp::Sub => Prec::Additive,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => Prec::Multiplicative,
            BinaryOp::Pow => Prec::Power,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantifier {
    All,
    Any,
    None,
    Single,
}

impl Quantifier {
    pub fn name(self) -> &'static str {
        match self {
            Quantifier::All => "all",
            Quantifier::Any => "any",
            Quantifier::None => "none",
            Quantifier::Single => "single",
        }
    }
}

/// One entry of a map projection `n {.name, .*, key: expr, var}`.
#[derive(Clone, Debug, PartialEq)]
pub enum MapProjectionItem {
    Property(String),
    AllProperties,
    Literal(String, Expr),
    Variable(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    /// `$name`
    Parameter(String),
    Variable(String),
    List(Vec<Expr>),
    /// Map literal, keys in written order.
    Map(Vec<(String, Expr)>),
    /// `expr.key`
    Property(Box<Expr>, String),
    /// `expr[index]`
    Index(Box<Expr>, Box<Expr>),
    /// `expr[from..to]`
    Slice {
        list: Box<Expr>,
        from: Option<Box<Expr>>,
        to: Option<Box<Expr>>,
    },
    /// `n:A:B` as a predicate.
    HasLabels(Box<Expr>, Vec<String>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `expr IS [NOT] NULL`
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    /// `name([DISTINCT] args…)`; the name as written (dotted names keep their dots).
    Function {
        name: String,
        distinct: bool,
        args: Vec<Expr>,
    },
    /// `count(*)`
    CountStar,
    /// `CASE [operand] WHEN … THEN … [ELSE …] END`
    Case {
        operand: Option<Box<Expr>>,
        whens: Vec<(Expr, Expr)>,
        otherwise: Option<Box<Expr>>,
    },
    /// `[x IN list WHERE predicate | projection]`
    ListComprehension {
        variable: String,
        list: Box<Expr>,
        predicate: Option<Box<Expr>>,
        projection: Option<Box<Expr>>,
    },
    /// `all(x IN list WHERE predicate)` and friends.
    Quantified {
        quantifier: Quantifier,
        variable: String,
        list: Box<Expr>,
        predicate: Option<Box<Expr>>,
    },
    /// `reduce(acc = init, x IN list | body)`
    Reduce {
        accumulator: String,
        init: Box<Expr>,
        variable: String,
        list: Box<Expr>,
        body: Box<Expr>,
    },
    /// A relationship pattern used as a predicate: `WHERE (a)-[:T]->()`.
    PatternPredicate(Box<PatternElement>),
    /// `[p = (a)-->(b) WHERE predicate | projection]`
    PatternComprehension {
        variable: Option<String>,
        element: Box<PatternElement>,
        predicate: Option<Box<Expr>>,
        projection: Box<Expr>,
    },
    /// `n {.name, key: expr}`
    MapProjection {
        variable: String,
        items: Vec<MapProjectionItem>,
    },
    /// `EXISTS { … }`, `COUNT { … }`, `COLLECT { … }`: a query run per row, seeing the
    /// outer variables. Its expressions are its own: `walk` and `children` do not enter it.
    Subquery {
        kind: SubqueryKind,
        query: Box<Query>,
    },
}

/// What a subquery expression makes of its rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubqueryKind {
    /// Whether there is a row (the search stops at the first).
    Exists,
    /// How many rows.
    Count,
    /// The list of the single returned column.
    Collect,
}

impl SubqueryKind {
    pub fn keyword(self) -> &'static str {
        match self {
            SubqueryKind::Exists => "EXISTS",
            SubqueryKind::Count => "COUNT",
            SubqueryKind::Collect => "COLLECT",
        }
    }
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }

    /// Calls `visit` on this expression and every sub-expression, outermost first.
    /// Patterns inside pattern predicates are visited through their property maps.
    pub fn walk<'a>(&'a self, visit: &mut dyn FnMut(&'a Expr)) {
        visit(self);
        match &self.kind {
            ExprKind::Literal(_)
            | ExprKind::Parameter(_)
            | ExprKind::Variable(_)
            | ExprKind::CountStar
            | ExprKind::Subquery { .. } => {}
            ExprKind::List(items) => items.iter().for_each(|e| e.walk(visit)),
            ExprKind::Map(entries) => entries.iter().for_each(|(_, e)| e.walk(visit)),
            ExprKind::Property(e, _) | ExprKind::HasLabels(e, _) | ExprKind::Unary(_, e) => e.walk(visit),
            ExprKind::IsNull { expr, .. } => expr.walk(visit),
            ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
                a.walk(visit);
                b.walk(visit);
            }
            ExprKind::Slice { list, from, to } => {
                list.walk(visit);
                from.iter().chain(to.iter()).for_each(|e| e.walk(visit));
            }
            ExprKind::Function { args, .. } => args.iter().for_each(|e| e.walk(visit)),
            ExprKind::Case { operand, whens, otherwise } => {
                operand.iter().for_each(|e| e.walk(visit));
                for (w, t) in whens {
                    w.walk(visit);
                    t.walk(visit);
                }
                otherwise.iter().for_each(|e| e.walk(visit));
            }
            ExprKind::ListComprehension { list, predicate, projection, .. } => {
                list.walk(visit);
                predicate.iter().chain(projection.iter()).for_each(|e| e.walk(visit));
            }
            ExprKind::Quantified { list, predicate, .. } => {
                list.walk(visit);
                predicate.iter().for_each(|e| e.walk(visit));
            }
            ExprKind::Reduce { init, list, body, .. } => {
                init.walk(visit);
                list.walk(visit);
                body.walk(visit);
            }
            ExprKind::PatternPredicate(element) => element.walk_exprs(visit),
            ExprKind::PatternComprehension { element, predicate, projection, .. } => {
                element.walk_exprs(visit);
                predicate.iter().for_each(|e| e.walk(visit));
                projection.walk(visit);
            }
            ExprKind::MapProjection { items, .. } => {
                for item in items {
                    if let MapProjectionItem::Literal(_, e) = item {
                        e.walk(visit);
                    }
                }
            }
        }
    }
}

impl Expr {
    /// The direct sub-expressions, in written order (pattern property maps included).
    pub fn children(&self) -> Vec<&Expr> {
        let mut out: Vec<&Expr> = Vec::new();
        match &self.kind {
            ExprKind::Literal(_)
            | ExprKind::Parameter(_)
            | ExprKind::Variable(_)
            | ExprKind::CountStar
            | ExprKind::Subquery { .. } => {}
            ExprKind::List(items) => out.extend(items),
            ExprKind::Map(entries) => out.extend(entries.iter().map(|(_, e)| e)),
            ExprKind::Property(e, _) | ExprKind::HasLabels(e, _) | ExprKind::Unary(_, e) => out.push(e),
            ExprKind::IsNull { expr, .. } => out.push(expr),
            ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
                out.push(a);
                out.push(b);
            }
            ExprKind::Slice { list, from, to } => {
                out.push(list);
                out.extend(from.as_deref());
                out.extend(to.as_deref());
            }
            ExprKind::Function { args, .. } => out.extend(args),
            ExprKind::Case { operand, whens, otherwise } => {
                out.extend(operand.as_deref());
                for (w, t) in whens {
                    out.push(w);
                    out.push(t);
                }
                out.extend(otherwise.as_deref());
            }
            ExprKind::ListComprehension { list, predicate, projection, .. } => {
                out.push(list);
                out.extend(predicate.as_deref());
                out.extend(projection.as_deref());
            }
            ExprKind::Quantified { list, predicate, .. } => {
                out.push(list);
                out.extend(predicate.as_deref());
            }
            ExprKind::Reduce { init, list, body, .. } => {
                out.push(init);
                out.push(list);
                out.push(body);
            }
            ExprKind::PatternPredicate(element) => out.extend(element.property_maps()),
            ExprKind::PatternComprehension { element, predicate, projection, .. } => {
                out.extend(element.property_maps());
                out.extend(predicate.as_deref());
                out.push(projection);
            }
            ExprKind::MapProjection { items, .. } => {
                for item in items {
                    if let MapProjectionItem::Literal(_, e) = item {
                        out.push(e);
                    }
                }
            }
        }
        out
    }
}

impl PatternElement {
    /// The property maps (or parameters) of every node and relationship, in order.
    pub fn property_maps(&self) -> Vec<&Expr> {
        let mut out: Vec<&Expr> = Vec::new();
        out.extend(self.start.properties.as_ref());
        for step in &self.chain {
            out.extend(step.rel.properties.as_ref());
            out.extend(step.node.properties.as_ref());
        }
        out
    }
}

impl PatternElement {
    /// Visits the property-map expressions of every node and relationship.
    pub fn walk_exprs<'a>(&'a self, visit: &mut dyn FnMut(&'a Expr)) {
        if let Some(p) = &self.start.properties {
            p.walk(visit);
        }
        for step in &self.chain {
            if let Some(p) = &step.rel.properties {
                p.walk(visit);
            }
            if let Some(p) = &step.node.properties {
                p.walk(visit);
            }
        }
    }

    /// Every variable the element names, in order of appearance.
    pub fn variables(&self) -> Vec<&Ident> {
        let mut out = Vec::new();
        out.extend(self.start.variable.iter());
        for step in &self.chain {
            out.extend(step.rel.variable.iter());
            out.extend(step.node.variable.iter());
        }
        out
    }
}

// ---------------------------------------------------------------------------------------
// Printing

/// Binding strength of expression forms, loosest first; the printer parenthesises a
/// sub-expression whose form binds looser than its position requires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    Or,
    Xor,
    And,
    Not,
    Comparison,
    Predicate,
    Additive,
    Multiplicative,
    Power,
    Unary,
    Postfix,
    Atom,
}

/// Words that cannot be used as bare variable names (they start or continue clauses).
pub const RESERVED_WORDS: &[&str] = &[
    "ALL",
    "AND",
    "AS",
    "ASC",
    "ASCENDING",
    "BY",
    "CALL",
    "CASE",
    "CONTAINS",
    "CREATE",
    "DELETE",
    "DESC",
    "DESCENDING",
    "DETACH",
    "DISTINCT",
    "ELSE",
    "END",
    "ENDS",
    "EXISTS",
    "FALSE",
    "IN",
    "IS",
    "LIMIT",
    "MATCH",
    "MERGE",
    "NOT",
    "NULL",
    "ON",
    "OPTIONAL",
    "OR",
    "ORDER",
    "REMOVE",
    "RETURN",
    "SET",
    "SKIP",
    "STARTS",
    "THEN",
    "TRUE",
    "UNION",
    "UNWIND",
    "WHEN",
    "WHERE",
    "WITH",
    "XOR",
    "YIELD",
];

pub fn is_reserved(word: &str) -> bool {
    RESERVED_WORDS.iter().any(|r| r.eq_ignore_ascii_case(word))
}

/// Writes a name bare when the lexer would read it back as the same identifier, else in
/// backticks (doubling any backtick inside).
pub struct Name<'a>(pub &'a str);

impl fmt::Display for Name<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.0;
        // Names the planner invents (U+0001 prefix) appear only in plans: print them bare.
        if let Some(internal) = name.strip_prefix('\u{1}') {
            return write!(f, "{internal}");
        }
        let plain = name.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_alphanumeric() || c == '_')
            && !is_reserved(name);
        if plain {
            write!(f, "{name}")
        } else {
            write!(f, "`{}`", name.replace('`', "``"))
        }
    }
}

/// Writes a property key, label or type: reserved words are fine there, so only
/// non-identifier text needs backticks.
struct Key<'a>(&'a str);

impl fmt::Display for Key<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.0;
        let plain = name.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_alphanumeric() || c == '_');
        if plain {
            write!(f, "{name}")
        } else {
            write!(f, "`{}`", name.replace('`', "``"))
        }
    }
}

fn write_list<T>(
    f: &mut fmt::Formatter<'_>,
    items: &[T],
    sep: &str,
    each: impl Fn(&mut fmt::Formatter<'_>, &T) -> fmt::Result,
) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        each(f, item)?;
    }
    Ok(())
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.first)?;
        for union in &self.unions {
            write!(f, " UNION{} {}", if union.all { " ALL" } else { "" }, union.query)?;
        }
        Ok(())
    }
}

impl fmt::Display for SingleQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_list(f, &self.clauses, " ", |f, c| write!(f, "{c}"))
    }
}

impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Clause::Match(m) => {
                write!(f, "{} {}", if m.optional { "OPTIONAL MATCH" } else { "MATCH" }, m.pattern)?;
                if let Some(w) = &m.where_ {
                    write!(f, " WHERE {w}")?;
                }
                Ok(())
            }
            Clause::Unwind(u) => write!(f, "UNWIND {} AS {}", u.expr, Name(&u.variable.name)),
            Clause::With(w) => {
                write!(f, "WITH {}", w.projection)?;
                if let Some(cond) = &w.where_ {
                    write!(f, " WHERE {cond}")?;
                }
                Ok(())
            }
            Clause::Return(r) => write!(f, "RETURN {}", r.projection),
            Clause::Create(c) => write!(f, "CREATE {}", c.pattern),
            Clause::Merge(m) => {
                write!(f, "MERGE {}", m.part)?;
                for action in &m.actions {
                    write!(f, " ON {} SET ", if action.on_create { "CREATE" } else { "MATCH" })?;
                    write_list(f, &action.items, ", ", |f, i| write!(f, "{i}"))?;
                }
                Ok(())
            }
            Clause::Set(s) => {
                write!(f, "SET ")?;
                write_list(f, &s.items, ", ", |f, i| write!(f, "{i}"))
            }
            Clause::Delete(d) => {
                write!(f, "{} ", if d.detach { "DETACH DELETE" } else { "DELETE" })?;
                write_list(f, &d.exprs, ", ", |f, e| write!(f, "{e}"))
            }
            Clause::Remove(r) => {
                write!(f, "REMOVE ")?;
                write_list(f, &r.items, ", ", |f, item| match item {
                    RemoveItem::Property(e) => write!(f, "{e}"),
                    RemoveItem::Labels { variable, labels } => {
                        write!(f, "{}", Name(&variable.name))?;
                        labels.iter().try_for_each(|l| write!(f, ":{}", Key(&l.name)))
                    }
                })
            }
            Clause::Call(c) => {
                write!(f, "CALL ")?;
                write_list(f, &c.procedure.name.split('.').collect::<Vec<_>>(), ".", |f, part| {
                    write!(f, "{}", Key(part))
                })?;
                if let Some(args) = &c.args {
                    write!(f, "(")?;
                    write_list(f, args, ", ", |f, e| write!(f, "{e}"))?;
                    write!(f, ")")?;
                }
                match &c.yields {
                    Yields::Unspecified => {}
                    Yields::Star => write!(f, " YIELD *")?,
                    Yields::Items(items) => {
                        write!(f, " YIELD ")?;
                        write_list(f, items, ", ", |f, item| {
                            write!(f, "{}", Key(&item.field.name))?;
                            match &item.alias {
                                Some(alias) => write!(f, " AS {}", Name(&alias.name)),
                                None => Ok(()),
                            }
                        })?;
                    }
                }
                if let Some(cond) = &c.where_ {
                    write!(f, " WHERE {cond}")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for SetItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetItem::Property { target, value } => write!(f, "{target} = {value}"),
            SetItem::Replace { variable, value } => write!(f, "{} = {value}", Name(&variable.name)),
            SetItem::Merge { variable, value } => write!(f, "{} += {value}", Name(&variable.name)),
            SetItem::Labels { variable, labels } => {
                write!(f, "{}", Name(&variable.name))?;
                labels.iter().try_for_each(|l| write!(f, ":{}", Key(&l.name)))
            }
        }
    }
}

impl fmt::Display for Projection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.distinct {
            write!(f, "DISTINCT ")?;
        }
        if self.star {
            write!(f, "*")?;
            if !self.items.is_empty() {
                write!(f, ", ")?;
            }
        }
        write_list(f, &self.items, ", ", |f, item| {
            write!(f, "{}", item.expr)?;
            if let Some(alias) = &item.alias {
                write!(f, " AS {}", Name(&alias.name))?;
            }
            Ok(())
        })?;
        if !self.order_by.is_empty() {
            write!(f, " ORDER BY ")?;
            write_list(f, &self.order_by, ", ", |f, s| {
                write!(f, "{}{}", s.expr, if s.descending { " DESC" } else { "" })
            })?;
        }
        if let Some(skip) = &self.skip {
            write!(f, " SKIP {skip}")?;
        }
        if let Some(limit) = &self.limit {
            write!(f, " LIMIT {limit}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_list(f, &self.parts, ", ", |f, p| write!(f, "{p}"))
    }
}

impl fmt::Display for PatternPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(v) = &self.variable {
            write!(f, "{} = ", Name(&v.name))?;
        }
        match self.shortest {
            Some(ShortestKind::One) => write!(f, "shortestPath({})", self.element),
            Some(ShortestKind::All) => write!(f, "allShortestPaths({})", self.element),
            None => write!(f, "{}", self.element),
        }
    }
}

impl fmt::Display for PatternElement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.start)?;
        for step in &self.chain {
            write!(f, "{}{}", step.rel, step.node)?;
        }
        Ok(())
    }
}

impl fmt::Display for NodePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(")?;
        if let Some(v) = &self.variable {
            write!(f, "{}", Name(&v.name))?;
        }
        for label in &self.labels {
            write!(f, ":{}", Key(&label.name))?;
        }
        if let Some(props) = &self.properties {
            if self.variable.is_some() || !self.labels.is_empty() {
                write!(f, " ")?;
            }
            write!(f, "{props}")?;
        }
        write!(f, ")")
    }
}

impl fmt::Display for RelPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (left, right) = match self.direction {
            PatternDirection::Outgoing => ("-", "->"),
            PatternDirection::Incoming => ("<-", "-"),
            PatternDirection::Either => ("-", "-"),
        };
        write!(f, "{left}[")?;
        if let Some(v) = &self.variable {
            write!(f, "{}", Name(&v.name))?;
        }
        for (i, t) in self.types.iter().enumerate() {
            write!(f, "{}{}", if i == 0 { ":" } else { "|" }, Key(&t.name))?;
        }
        if let Some(length) = &self.length {
            write!(f, "*")?;
            match (length.min, length.max) {
                (Some(a), Some(b)) if a == b => write!(f, "{a}")?,
                (min, max) => {
                    if let Some(a) = min {
                        write!(f, "{a}")?;
                    }
                    if min.is_some() || max.is_some() {
                        write!(f, "..")?;
                    }
                    if let Some(b) = max {
                        write!(f, "{b}")?;
                    }
                }
            }
        }
        if let Some(props) = &self.properties {
            write!(f, " {props}")?;
        }
        write!(f, "]{right}")
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Null => write!(f, "null"),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Int(i) => write!(f, "{i}"),
            Literal::Float(x) => {
                // `{:?}` is the shortest text that reads back as the same f64.
                let text = format!("{x:?}");
                if text.contains('.') || text.contains('e') || text.contains("inf") || text.contains("NaN") {
                    write!(f, "{text}")
                } else {
                    write!(f, "{text}.0")
                }
            }
            Literal::Str(s) => write!(f, "{}", quote_string(s)),
        }
    }
}

impl Expr {
    fn precedence(&self) -> Prec {
        match &self.kind {
            ExprKind::Binary(op, _, _) => op.precedence(),
            ExprKind::Unary(UnaryOp::Not, _) => Prec::Not,
            ExprKind::Unary(_, _) => Prec::Unary,
            ExprKind::IsNull { .. } => Prec::Predicate,
            ExprKind::Property(..) | ExprKind::Index(..) | ExprKind::Slice { .. } | ExprKind::HasLabels(..) => {
                Prec::Postfix
            }
            ExprKind::Literal(Literal::Int(i)) if *i < 0 => Prec::Unary,
            ExprKind::Literal(Literal::Float(x)) if x.is_sign_negative() => Prec::Unary,
            _ => Prec::Atom,
        }
    }

    /// Writes the expression, in parentheses when it binds looser than `min`.
    fn write_at(&self, f: &mut fmt::Formatter<'_>, min: Prec) -> fmt::Result {
        if self.precedence() < min {
            write!(f, "(")?;
            self.write_bare(f)?;
            write!(f, ")")
        } else {
            self.write_bare(f)
        }
    }

    fn write_bare(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Literal(l) => write!(f, "{l}"),
            ExprKind::Parameter(name) => write!(f, "${}", Key(name)),
            ExprKind::Variable(name) => write!(f, "{}", Name(name)),
            ExprKind::List(items) => {
                write!(f, "[")?;
                write_list(f, items, ", ", |f, e| write!(f, "{e}"))?;
                write!(f, "]")
            }
            ExprKind::Map(entries) => {
                write!(f, "{{")?;
                write_list(f, entries, ", ", |f, (k, v)| write!(f, "{}: {v}", Key(k)))?;
                write!(f, "}}")
            }
            ExprKind::Property(base, key) => {
                base.write_at(f, Prec::Postfix)?;
                write!(f, ".{}", Key(key))
            }
            ExprKind::Index(base, index) => {
                base.write_at(f, Prec::Postfix)?;
                write!(f, "[{index}]")
            }
            ExprKind::Slice { list, from, to } => {
                list.write_at(f, Prec::Postfix)?;
                write!(f, "[")?;
                if let Some(from) = from {
                    write!(f, "{from}")?;
                }
                write!(f, "..")?;
                if let Some(to) = to {
                    write!(f, "{to}")?;
                }
                write!(f, "]")
            }
            ExprKind::HasLabels(base, labels) => {
                base.write_at(f, Prec::Postfix)?;
                labels.iter().try_for_each(|l| write!(f, ":{}", Key(l)))
            }
            ExprKind::Unary(UnaryOp::Not, e) => {
                write!(f, "NOT ")?;
                e.write_at(f, Prec::Not)
            }
            ExprKind::Unary(UnaryOp::Neg, e)
                if matches!(e.kind, ExprKind::Literal(Literal::Int(_) | Literal::Float(_))) =>
            {
                // `-5` would read back as the literal -5: keep the operator visible.
                write!(f, "-({e})")
            }
            ExprKind::Unary(op, e) => {
                write!(f, "{}", if *op == UnaryOp::Neg { "-" } else { "+" })?;
                // A space keeps `- -1` from reading as a comment-like `--1`, harmlessly.
                if matches!(e.kind, ExprKind::Unary(..)) || e.precedence() == Prec::Unary {
                    write!(f, " ")?;
                }
                e.write_at(f, Prec::Unary)
            }
            ExprKind::Binary(op, a, b) => {
                let prec = op.precedence();
                // Comparisons chain (`a < b < c` means `a < b AND b < c`), so both sides
                // must bind tighter than a comparison.
                let (left_min, right_min) = match prec {
                    Prec::Comparison => (Prec::Predicate, Prec::Predicate),
                    Prec::Predicate => (Prec::Predicate, Prec::Additive),
                    Prec::Power => (Prec::Power, Prec::Unary),
                    other => (other, next_prec(other)),
                };
                a.write_at(f, left_min)?;
                write!(f, " {} ", op.symbol())?;
                b.write_at(f, right_min)
            }
            ExprKind::IsNull { expr, negated } => {
                expr.write_at(f, Prec::Predicate)?;
                write!(f, " IS {}NULL", if *negated { "NOT " } else { "" })
            }
            ExprKind::Function { name, distinct, args } => {
                write!(f, "{}(", function_name(name))?;
                if *distinct {
                    write!(f, "DISTINCT ")?;
                }
                write_list(f, args, ", ", |f, e| write!(f, "{e}"))?;
                write!(f, ")")
            }
            ExprKind::CountStar => write!(f, "count(*)"),
            ExprKind::Case { operand, whens, otherwise } => {
                write!(f, "CASE")?;
                if let Some(op) = operand {
                    write!(f, " {op}")?;
                }
                for (w, t) in whens {
                    write!(f, " WHEN {w} THEN {t}")?;
                }
                if let Some(e) = otherwise {
                    write!(f, " ELSE {e}")?;
                }
                write!(f, " END")
            }
            ExprKind::ListComprehension { variable, list, predicate, projection } => {
                write!(f, "[{} IN {list}", Name(variable))?;
                if let Some(p) = predicate {
                    write!(f, " WHERE {p}")?;
                }
                if let Some(p) = projection {
                    write!(f, " | {p}")?;
                }
                write!(f, "]")
            }
            ExprKind::Quantified { quantifier, variable, list, predicate } => {
                write!(f, "{}({} IN {list}", quantifier.name(), Name(variable))?;
                if let Some(p) = predicate {
                    write!(f, " WHERE {p}")?;
                }
                write!(f, ")")
            }
            ExprKind::Reduce { accumulator, init, variable, list, body } => {
                write!(f, "reduce({} = {init}, {} IN {list} | {body})", Name(accumulator), Name(variable))
            }
            ExprKind::PatternPredicate(element) => write!(f, "{element}"),
            ExprKind::Subquery { kind, query } => write!(f, "{} {{ {query} }}", kind.keyword()),
            ExprKind::PatternComprehension { variable, element, predicate, projection } => {
                write!(f, "[")?;
                if let Some(v) = variable {
                    write!(f, "{} = ", Name(v))?;
                }
                write!(f, "{element}")?;
                if let Some(p) = predicate {
                    write!(f, " WHERE {p}")?;
                }
                write!(f, " | {projection}]")
            }
            ExprKind::MapProjection { variable, items } => {
                write!(f, "{} {{", Name(variable))?;
                write_list(f, items, ", ", |f, item| match item {
                    MapProjectionItem::Property(k) => write!(f, ".{}", Key(k)),
                    MapProjectionItem::AllProperties => write!(f, ".*"),
                    MapProjectionItem::Literal(k, e) => write!(f, "{}: {e}", Key(k)),
                    MapProjectionItem::Variable(v) => write!(f, "{}", Name(v)),
                })?;
                write!(f, "}}")
            }
        }
    }
}

/// Writes a possibly dotted function name, each part as a name.
fn function_name(name: &str) -> String {
    name.split('.').map(|part| Key(part).to_string()).collect::<Vec<_>>().join(".")
}

fn next_prec(p: Prec) -> Prec {
    match p {
        Prec::Or => Prec::Xor,
        Prec::Xor => Prec::And,
        Prec::And => Prec::Not,
        Prec::Not => Prec::Comparison,
        Prec::Comparison => Prec::Predicate,
        Prec::Predicate => Prec::Additive,
        Prec::Additive => Prec::Multiplicative,
        Prec::Multiplicative => Prec::Power,
        Prec::Power => Prec::Unary,
        Prec::Unary => Prec::Postfix,
        Prec::Postfix | Prec::Atom => Prec::Atom,
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_bare(f)
    }
}
