//! Semantic checks on the syntax tree: write clauses refused, variables in scope with
//! consistent kinds, functions known with the right arity, aggregates only where allowed.

use std::collections::BTreeMap;

use super::ast::*;
use super::error::{ErrorKind, QueryError, Result};
use super::functions;
use super::procedures::{CallError, FieldType, Procedure, Registry, Signature};

/// What a variable is known to hold, as far as the text tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Node,
    Relationship,
    /// A variable-length relationship variable: a list of relationships.
    RelationshipList,
    Path,
    /// Certainly not a graph element (a literal, arithmetic, a comparison…).
    Value,
    /// Could be anything (a parameter, a function result, a list element…).
    Unknown,
}

impl Kind {
    fn describe(self) -> &'static str {
        match self {
            Kind::Node => "a node",
            Kind::Relationship => "a relationship",
            Kind::RelationshipList => "a list of relationships",
            Kind::Path => "a path",
            Kind::Value => "a value",
            Kind::Unknown => "a value",
        }
    }
}

type Vars = BTreeMap<String, Kind>;

thread_local! {
    /// The text of the query being checked: a subquery met deep inside an expression
    /// names its unaliased columns from it, and threading it through every expression
    /// check would widen all their signatures for that one case.
    static QUERY_TEXT: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Checks a parsed query; the first problem found is returned with its position.
pub fn check(query: &Query, text: &str, procedures: &Registry) -> Result<()> {
    QUERY_TEXT.with(|t| text.clone_into(&mut t.borrow_mut()));
    refuse_writes(query)?;
    let columns = check_single(&query.first, text, &Vars::new(), procedures)?;
    for union in &query.unions {
        let other = check_single(&union.query, text, &Vars::new(), procedures)?;
        if other != columns {
            return Err(QueryError::semantic(
                union.span.start,
                format!(
                    "all parts of a UNION must return the same columns: [{}] versus [{}]",
                    columns.join(", "),
                    other.join(", ")
                ),
            ));
        }
    }
    if query.unions.iter().any(|u| u.all) && query.unions.iter().any(|u| !u.all) {
        let at = query.unions.first().map_or(0, |u| u.span.start);
        return Err(QueryError::semantic(at, "UNION and UNION ALL cannot be mixed in one query"));
    }
    Ok(())
}

/// The message for refused write clauses; the CLI shows it as is.
pub fn read_only_message(keyword: &str) -> String {
    format!(
        "diplograph is read-only: {keyword} is not supported; the store changes only through `diplograph ingest` and `diplograph remove`"
    )
}

fn refuse_writes(query: &Query) -> Result<()> {
    let parts = std::iter::once(&query.first).chain(query.unions.iter().map(|u| &u.query));
    for part in parts {
        for clause in &part.clauses {
            match clause {
                Clause::Create(_) | Clause::Merge(_) | Clause::Set(_) | Clause::Delete(_) | Clause::Remove(_) => {
                    return Err(QueryError::unsupported(clause.span().start, read_only_message(clause.keyword())));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Checks one query part, `outer` the variables a subquery sees from around it, and
/// returns its column names.
fn check_single(query: &SingleQuery, text: &str, outer: &Vars, procedures: &Registry) -> Result<Vec<String>> {
    let last = query.clauses.len().saturating_sub(1);
    let mut vars = outer.clone();
    let mut columns = Vec::new();
    for (i, clause) in query.clauses.iter().enumerate() {
        match clause {
            Clause::Match(m) => check_match(m, &mut vars)?,
            Clause::Unwind(u) => {
                check_expr(&u.expr, &vars, Aggregates::Refused("UNWIND"))?;
                if vars.contains_key(&u.variable.name) {
                    return Err(already_bound(&u.variable));
                }
                vars.insert(u.variable.name.clone(), Kind::Unknown);
            }
            Clause::With(w) => {
                let projection = check_projection(&w.projection, &vars, text, true)?;
                if let Some(cond) = &w.where_ {
                    // WHERE after WITH sees the projected names and, unless the
                    // projection aggregates, the variables from before it too.
                    let mut scope = projection.scope.clone();
                    if !projection.aggregating {
                        for (name, kind) in &vars {
                            scope.entry(name.clone()).or_insert(*kind);
                        }
                    }
                    check_predicate(cond, &scope)?;
                }
                vars = projection.scope;
            }
            Clause::Return(r) => {
                if i != last {
                    return Err(QueryError::semantic(
                        query.clauses[i + 1].span().start,
                        "RETURN must be the last clause; use WITH to pass values on",
                    ));
                }
                columns = check_projection(&r.projection, &vars, text, false)?.columns;
            }
            Clause::Call(call) => {
                let standalone = is_standalone_call(query);
                let yielded = check_call(call, &mut vars, procedures, standalone)?;
                if standalone {
                    columns = yielded;
                }
            }
            // Refused before this point.
            _ => return Err(QueryError::unsupported(clause.span().start, read_only_message(clause.keyword()))),
        }
    }
    match query.clauses.last() {
        Some(Clause::Return(_)) => Ok(columns),
        // EXISTS { MATCH … } and COUNT { MATCH … } need no RETURN.
        Some(Clause::Match(_) | Clause::Unwind(_) | Clause::With(_)) if in_subquery() => Ok(columns),
        Some(Clause::Call(_)) if is_standalone_call(query) => Ok(columns),
        Some(other) => Err(QueryError::semantic(
            other.span().end,
            format!("a query cannot end with {}: add a RETURN clause", other.keyword()),
        )),
        None => Err(QueryError::semantic(0, "empty query")),
    }
}

/// Whether a subquery is being checked (`check_subquery` counts its depth).
fn in_subquery() -> bool {
    SUBQUERY_DEPTH.with(|d| d.get() > 0)
}

thread_local! {
    static SUBQUERY_DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// `EXISTS { … }`, `COUNT { … }`, `COLLECT { … }`: the inner query is checked with the
/// outer variables in scope; it may not write, and COLLECT returns one column.
fn check_subquery(expr: &Expr, kind: SubqueryKind, query: &Query, vars: &Vars, locals: &[String]) -> Result<()> {
    for part in std::iter::once(&query.first).chain(query.unions.iter().map(|u| &u.query)) {
        for clause in &part.clauses {
            if matches!(
                clause,
                Clause::Create(_) | Clause::Merge(_) | Clause::Set(_) | Clause::Delete(_) | Clause::Remove(_)
            ) {
                return Err(QueryError::semantic(
                    clause.span().start,
                    format!("a {} {{ … }} subquery cannot write ({})", kind.keyword(), clause.keyword()),
                ));
            }
            if let Clause::Call(call) = clause {
                return Err(QueryError::unsupported(call.span.start, "CALL inside a subquery is not supported"));
            }
        }
    }
    if let Some(union) = query.unions.first() {
        return Err(QueryError::unsupported(union.span.start, "UNION inside a subquery is not supported"));
    }
    let mut mentioned = Vec::new();
    query_variables(query, &mut mentioned);
    if let Some(local) = locals.iter().find(|l| mentioned.contains(l)) {
        return Err(QueryError::unsupported(
            expr.span.start,
            format!("a subquery cannot read '{local}', a variable of a comprehension, quantifier or reduce(); bind it with WITH or UNWIND first"),
        ));
    }
    let text = QUERY_TEXT.with(|t| t.borrow().clone());
    SUBQUERY_DEPTH.with(|d| d.set(d.get() + 1));
    let checked = check_single(&query.first, &text, vars, &Registry::empty());
    SUBQUERY_DEPTH.with(|d| d.set(d.get() - 1));
    let columns = checked?;
    let returns = matches!(query.first.clauses.last(), Some(Clause::Return(_)));
    if kind == SubqueryKind::Collect && (!returns || columns.len() != 1) {
        return Err(QueryError::semantic(
            expr.span.start,
            "COLLECT { … } must end with a RETURN of exactly one column",
        ));
    }
    Ok(())
}

/// Every variable name a query mentions: in patterns and in expressions.
pub(crate) fn query_variables(query: &Query, out: &mut Vec<String>) {
    let note_expr = |e: &Expr, out: &mut Vec<String>| {
        e.walk(&mut |x| match &x.kind {
            ExprKind::Variable(name) | ExprKind::MapProjection { variable: name, .. } => out.push(name.clone()),
            ExprKind::PatternPredicate(element) | ExprKind::PatternComprehension { element, .. } => {
                out.extend(element.variables().iter().map(|v| v.name.clone()));
            }
            ExprKind::Subquery { query, .. } => query_variables(query, out),
            _ => {}
        });
    };
    for part in std::iter::once(&query.first).chain(query.unions.iter().map(|u| &u.query)) {
        for clause in &part.clauses {
            match clause {
                Clause::Match(m) => {
                    for p in &m.pattern.parts {
                        out.extend(p.element.variables().iter().map(|v| v.name.clone()));
                        for props in p.element.property_maps() {
                            note_expr(props, out);
                        }
                    }
                    if let Some(w) = &m.where_ {
                        note_expr(w, out);
                    }
                }
                Clause::Unwind(u) => note_expr(&u.expr, out),
                Clause::With(w) => {
                    w.projection.items.iter().for_each(|i| note_expr(&i.expr, out));
                    w.projection.order_by.iter().for_each(|o| note_expr(&o.expr, out));
                    if let Some(c) = &w.where_ {
                        note_expr(c, out);
                    }
                }
                Clause::Return(r) => {
                    r.projection.items.iter().for_each(|i| note_expr(&i.expr, out));
                    r.projection.order_by.iter().for_each(|o| note_expr(&o.expr, out));
                }
                _ => {}
            }
        }
    }
}

/// A query made of one `CALL` and nothing else: it returns the procedure's fields.
pub fn is_standalone_call(query: &SingleQuery) -> bool {
    matches!(query.clauses.as_slice(), [Clause::Call(_)])
}

/// `CALL`: the procedure is known, the arguments fit its signature, the yielded fields
/// exist and bind fresh variables, and WHERE after YIELD reads them. Returns the names a
/// standalone call returns.
fn check_call(call: &CallClause, vars: &mut Vars, procedures: &Registry, standalone: bool) -> Result<Vec<String>> {
    let name = &call.procedure.name;
    let procedure = procedures.get(name).ok_or_else(|| {
        QueryError::semantic(
            call.procedure.span.start,
            format!("there is no procedure called {name}; `CALL dbms.procedures()` lists the procedures"),
        )
    })?;
    let signature = procedure.signature();
    match &call.args {
        Some(args) => check_call_arguments(call, args, procedure.as_ref(), vars)?,
        None if !standalone && !signature.args.is_empty() => {
            return Err(QueryError::semantic(
                call.procedure.span.end,
                format!(
                    "{name} takes arguments: inside a query they must be passed in parentheses ({}); only a standalone CALL reads them from parameters of the same names",
                    argument_list(signature)
                ),
            ));
        }
        None => {}
    }
    let mut bound: Vec<(Ident, Kind)> = Vec::new();
    match &call.yields {
        Yields::Unspecified if standalone => {
            return Ok(signature.outputs.iter().map(|o| o.name.clone()).collect());
        }
        Yields::Unspecified => {}
        Yields::Star if standalone => {
            return Ok(signature.outputs.iter().map(|o| o.name.clone()).collect());
        }
        Yields::Star => {
            return Err(QueryError::semantic(
                call.span.start,
                format!("YIELD * is only allowed in a standalone CALL; name the fields of {name} to yield"),
            ));
        }
        Yields::Items(items) => {
            for item in items {
                let Some(index) = signature.output_index(&item.field.name) else {
                    let fields: Vec<&str> = signature.outputs.iter().map(|o| o.name.as_str()).collect();
                    return Err(QueryError::semantic(
                        item.field.span.start,
                        format!(
                            "{name} yields no field '{}'; its fields are: {}",
                            item.field.name,
                            if fields.is_empty() { "none".to_string() } else { fields.join(", ") }
                        ),
                    ));
                };
                let var = item.variable();
                if vars.contains_key(&var.name) || bound.iter().any(|(b, _)| b.name == var.name) {
                    return Err(already_bound(var));
                }
                let kind = match signature.outputs[index].ty {
                    FieldType::Node => Kind::Node,
                    FieldType::Relationship => Kind::Relationship,
                    _ => Kind::Unknown,
                };
                bound.push((var.clone(), kind));
            }
        }
    }
    let names: Vec<String> = bound.iter().map(|(v, _)| v.name.clone()).collect();
    for (var, kind) in bound {
        vars.insert(var.name, kind);
    }
    if let Some(cond) = &call.where_ {
        check_predicate(cond, vars)?;
    }
    Ok(names)
}

fn argument_list(signature: &Signature) -> String {
    let args: Vec<String> = signature.args.iter().map(|a| format!("{} :: {}", a.name, a.ty)).collect();
    args.join(", ")
}

/// Explicit arguments: as many as the signature takes (trailing ones with defaults may be
/// left out), no aggregates, and no literal of the wrong type.
fn check_call_arguments(call: &CallClause, args: &[Expr], procedure: &dyn Procedure, vars: &Vars) -> Result<()> {
    let signature = procedure.signature();
    let (required, total) = (signature.required_args(), signature.args.len());
    if args.len() < required || args.len() > total {
        let wanted = match (required, total) {
            (0, 0) => "no".to_string(),
            _ if required == total => format!("{total}"),
            _ => format!("{required} to {total}"),
        };
        let at = args.get(total).map_or(call.procedure.span.end, |a| a.span.start);
        return Err(QueryError::semantic(
            at,
            format!(
                "{} takes {wanted} argument{} ({}) but was given {}",
                signature.name,
                if total == 1 { "" } else { "s" },
                argument_list(signature),
                args.len()
            ),
        ));
    }
    for (arg, declared) in args.iter().zip(&signature.args) {
        check_expr(arg, vars, Aggregates::Refused("procedure arguments"))?;
        if let Some(found) = literal_type(arg) {
            if !declared.ty.admits(&found) {
                return Err(QueryError::semantic(
                    arg.span.start,
                    format!(
                        "argument `{}` of {} must be {}, not {}",
                        declared.name,
                        signature.name,
                        declared.ty,
                        found.type_name()
                    ),
                ));
            }
        }
    }
    // Arguments without variables or parameters are known now: let the procedure look.
    let constants: Vec<Option<crate::model::Value>> = args
        .iter()
        .map(|arg| {
            let mut variable_free = true;
            arg.walk(&mut |e| variable_free &= !matches!(e.kind, ExprKind::Parameter(_) | ExprKind::Variable(_)));
            variable_free.then(|| super::eval::eval_constant(arg, &super::Params::new()).ok()).flatten()
        })
        .map(|value| value.and_then(|v| v.to_value()))
        .collect();
    procedure.check_constant_args(&constants).map_err(|e| match e {
        CallError::Argument { index, message } => {
            let name = signature.args.get(index).map_or("?", |a| a.name.as_str());
            let at = args.get(index).map_or(call.span.start, |a| a.span.start);
            QueryError::semantic(at, format!("{}: argument `{name}`: {message}", signature.name))
        }
        CallError::Query(e) => e.or_at(call.span.start),
    })
}

/// A stand-in value of a literal's type, to test it against a declared argument type.
fn literal_type(expr: &Expr) -> Option<super::value::QValue> {
    use super::value::QValue;
    Some(match &expr.kind {
        ExprKind::Literal(Literal::Null) => QValue::Null,
        ExprKind::Literal(Literal::Bool(b)) => QValue::Bool(*b),
        ExprKind::Literal(Literal::Int(i)) => QValue::Int(*i),
        ExprKind::Literal(Literal::Float(x)) => QValue::Float(*x),
        ExprKind::Literal(Literal::Str(_)) => QValue::str(""),
        ExprKind::Map(_) => QValue::Map(Default::default()),
        ExprKind::List(items) => QValue::List(items.iter().map(literal_type).collect::<Option<Vec<_>>>()?),
        _ => return None,
    })
}

fn already_bound(var: &Ident) -> QueryError {
    QueryError::semantic(var.span.start, format!("variable '{}' is already defined", var.name))
}

fn conflict(var: &Ident, had: Kind, wanted: Kind) -> QueryError {
    QueryError::semantic(
        var.span.start,
        format!("variable '{}' is {}, it cannot be used as {}", var.name, had.describe(), wanted.describe()),
    )
}

/// `MATCH`: binds the pattern's variables, then checks WHERE.
fn check_match(m: &MatchClause, vars: &mut Vars) -> Result<()> {
    let before = vars.clone();
    bind_pattern(&m.pattern, vars, &before)?;
    for part in &m.pattern.parts {
        for props in part.element.property_maps() {
            if let ExprKind::Parameter(name) = &props.kind {
                return Err(QueryError::semantic(
                    props.span.start,
                    format!("a parameter cannot stand for a whole property map in MATCH; write {{key: ${name}.key}}"),
                ));
            }
        }
        check_pattern_exprs(&part.element, vars)?;
        if part.shortest.is_some() {
            if part.element.chain.len() != 1 {
                return Err(QueryError::semantic(
                    part.span.start,
                    "shortestPath and allShortestPaths need a pattern with exactly one relationship",
                ));
            }
            if let Some(length) = part.element.chain[0].rel.length {
                if length.min.is_some_and(|m| m > 1) {
                    return Err(QueryError::semantic(
                        part.span.start,
                        "shortestPath and allShortestPaths need a minimal length of 0 or 1",
                    ));
                }
            }
        }
    }
    if let Some(cond) = &m.where_ {
        check_predicate(cond, vars)?;
    }
    Ok(())
}

/// A WHERE predicate: no aggregates, pattern predicates allowed, and not something that
/// can never be a boolean (a node, a relationship, a path).
fn check_predicate(cond: &Expr, vars: &Vars) -> Result<()> {
    check_expr_in(cond, vars, Cx { aggregates: Aggregates::Refused("WHERE"), in_aggregate: false, patterns: true })?;
    match kind_of(cond, vars) {
        Kind::Node | Kind::Relationship | Kind::RelationshipList | Kind::Path => Err(QueryError::semantic(
            cond.span.start,
            format!("WHERE needs a boolean, not {}", kind_of(cond, vars).describe()),
        )),
        _ => Ok(()),
    }
}

/// Declares every variable of a pattern, checking kinds against what is already bound.
/// Relationship variables may not repeat within one pattern.
fn bind_pattern(pattern: &Pattern, vars: &mut Vars, before: &Vars) -> Result<()> {
    let mut rels_here: Vec<&str> = Vec::new();
    for part in &pattern.parts {
        for node in std::iter::once(&part.element.start).chain(part.element.chain.iter().map(|s| &s.node)) {
            if let Some(var) = &node.variable {
                declare(vars, var, Kind::Node)?;
            }
        }
        for step in &part.element.chain {
            if let Some(var) = &step.rel.variable {
                let kind = if step.rel.length.is_some() { Kind::RelationshipList } else { Kind::Relationship };
                if rels_here.contains(&var.name.as_str()) {
                    return Err(QueryError::semantic(
                        var.span.start,
                        format!("relationship variable '{}' is used twice in one pattern", var.name),
                    ));
                }
                rels_here.push(&var.name);
                if kind == Kind::RelationshipList {
                    // A list bound by an earlier clause (`WITH [r1, r2] AS rs MATCH ()-[rs*]->()`)
                    // fixes the walk; anything else of that name is a conflict.
                    match (vars.get(&var.name), before.get(&var.name)) {
                        (None, _) => {
                            vars.insert(var.name.clone(), kind);
                        }
                        (Some(now), Some(earlier))
                            if now == earlier
                                && matches!(earlier, Kind::RelationshipList | Kind::Value | Kind::Unknown) => {}
                        (Some(&had), _) => return Err(conflict(var, had, kind)),
                    }
                } else {
                    declare(vars, var, kind)?;
                }
            }
        }
        if let Some(var) = &part.variable {
            if vars.contains_key(&var.name) {
                return Err(already_bound(var));
            }
            vars.insert(var.name.clone(), Kind::Path);
        }
    }
    Ok(())
}

fn declare(vars: &mut Vars, var: &Ident, kind: Kind) -> Result<()> {
    match vars.get(&var.name) {
        None => {
            vars.insert(var.name.clone(), kind);
            Ok(())
        }
        Some(Kind::Unknown) => Ok(()),
        Some(&had) if had == kind => Ok(()),
        Some(&had) => Err(conflict(var, had, kind)),
    }
}

fn check_pattern_exprs(element: &PatternElement, vars: &Vars) -> Result<()> {
    for props in element.property_maps() {
        check_expr(props, vars, Aggregates::Refused("a pattern"))?;
    }
    Ok(())
}

/// A pattern used as a predicate may not introduce variables: every name in it must
/// already be bound.
fn check_pattern_predicate(element: &PatternElement, vars: &Vars, locals: &[String]) -> Result<()> {
    for var in element.variables() {
        if !vars.contains_key(&var.name) && !locals.contains(&var.name) {
            return Err(QueryError::semantic(
                var.span.start,
                format!("variable '{}' not defined (a pattern predicate cannot introduce new variables)", var.name),
            ));
        }
    }
    check_pattern_exprs(element, vars)
}

/// What an expression's position allows.
#[derive(Clone, Copy)]
struct Cx {
    aggregates: Aggregates,
    /// Inside an aggregate's argument (aggregates may not nest).
    in_aggregate: bool,
    /// Pattern predicates `(a)-->(b)` are allowed (WHERE, and inside exists()).
    patterns: bool,
}

/// Where aggregate functions may appear.
#[derive(Clone, Copy)]
enum Aggregates {
    Allowed,
    /// Refused, naming the place for the message.
    Refused(&'static str),
}

/// What a projection leaves behind.
struct Projected {
    /// The names visible after it.
    scope: Vars,
    columns: Vec<String>,
    aggregating: bool,
}

/// Checks a WITH or RETURN projection.
fn check_projection(projection: &Projection, vars: &Vars, text: &str, is_with: bool) -> Result<Projected> {
    let mut columns: Vec<String> = Vec::new();
    let mut projected = Vars::new();
    if projection.star {
        if vars.is_empty() {
            let at = projection.items.first().map_or(0, |i| i.expr.span.start);
            return Err(QueryError::semantic(at, "RETURN * and WITH * need at least one variable in scope"));
        }
        for (name, kind) in vars {
            columns.push(name.clone());
            projected.insert(name.clone(), *kind);
        }
    }
    let aggregating = projection.items.iter().any(|item| contains_aggregate(&item.expr));
    let keys: Vec<&Expr> = projection.items.iter().filter(|i| !contains_aggregate(&i.expr)).map(|i| &i.expr).collect();
    let allowed = Cx { aggregates: Aggregates::Allowed, in_aggregate: false, patterns: false };
    for item in &projection.items {
        check_expr_in(&item.expr, vars, allowed)?;
        if aggregating && contains_aggregate(&item.expr) {
            check_aggregating_expr(&item.expr, &keys, &Vars::new())?;
        }
        let name = match &item.alias {
            Some(alias) => alias.name.clone(),
            None => match &item.expr.kind {
                ExprKind::Variable(v) => v.clone(),
                _ if is_with => {
                    return Err(QueryError::semantic(
                        item.expr.span.start,
                        format!("expression '{}' in WITH must be aliased (use AS)", source_text(text, item.expr.span)),
                    ))
                }
                _ => source_text(text, item.expr.span),
            },
        };
        if columns.contains(&name) {
            return Err(QueryError::semantic(
                item.alias.as_ref().map_or(item.expr.span.start, |a| a.span.start),
                format!("column name '{name}' is used more than once"),
            ));
        }
        columns.push(name.clone());
        projected.insert(name, kind_of(&item.expr, vars));
    }
    // ORDER BY sees the projected names, and, when rows are neither grouped nor made
    // distinct, the variables from before the projection as well.
    let mut sort_scope = projected.clone();
    if !aggregating && !projection.distinct {
        for (name, kind) in vars {
            sort_scope.entry(name.clone()).or_insert(*kind);
        }
    }
    let star_columns = columns.len() - projection.items.len();
    let item_exprs: Vec<(&Expr, &str)> =
        projection.items.iter().map(|i| &i.expr).zip(columns[star_columns..].iter().map(String::as_str)).collect();
    for sort in &projection.order_by {
        let rewritten = replace_projected(&sort.expr, &item_exprs);
        if contains_aggregate(&sort.expr) {
            if !aggregating {
                return Err(QueryError::semantic(
                    sort.expr.span.start,
                    "ORDER BY cannot aggregate when the projection does not (aggregate in the projection instead)",
                ));
            }
            // What is outside the aggregates must be fixed per group, as in the items.
            check_aggregating_expr(&sort.expr, &keys, &projected)?;
        }
        check_expr_in(&rewritten, &sort_scope, allowed)?;
        if contains_aggregate(&rewritten) {
            return Err(QueryError::semantic(
                sort.expr.span.start,
                "an aggregate in ORDER BY must also be projected by the same WITH or RETURN",
            ));
        }
    }
    for (what, expr) in [("SKIP", &projection.skip), ("LIMIT", &projection.limit)] {
        if let Some(expr) = expr {
            check_row_count(what, expr)?;
        }
    }
    Ok(Projected { scope: projected, columns, aggregating })
}

/// The text of a span, as written (column names of unaliased items).
pub fn source_text(text: &str, span: Span) -> String {
    text.get(span.start..span.end).unwrap_or("").to_string()
}

/// SKIP and LIMIT take a constant non-negative integer (literal or parameter).
fn check_row_count(what: &'static str, expr: &Expr) -> Result<()> {
    let mut has_variable = false;
    expr.walk(&mut |e| {
        if matches!(
            e.kind,
            ExprKind::Variable(_) | ExprKind::PatternPredicate(_) | ExprKind::PatternComprehension { .. }
        ) {
            has_variable = true;
        }
    });
    if has_variable {
        return Err(QueryError::semantic(
            expr.span.start,
            format!("{what} must be a constant, not depend on variables"),
        ));
    }
    check_expr(expr, &Vars::new(), Aggregates::Refused(what))?;
    let mut has_param = false;
    expr.walk(&mut |e| has_param |= matches!(e.kind, ExprKind::Parameter(_)));
    if !has_param {
        let value = super::eval::eval_constant(expr, &super::Params::new()).map_err(|e| e.or_at(expr.span.start))?;
        row_count(what, &value).map_err(|e| QueryError { kind: ErrorKind::Semantic, ..e }.or_at(expr.span.start))?;
    }
    Ok(())
}

/// Validates a SKIP/LIMIT value.
pub(crate) fn row_count(what: &str, value: &super::value::QValue) -> Result<u64> {
    use super::value::QValue;
    match value {
        QValue::Int(i) => u64::try_from(*i).map_err(|_| {
            QueryError::new(ErrorKind::Semantic, format!("{what} must be a non-negative integer, got {i}"))
        }),
        other => Err(QueryError::new(ErrorKind::Type, format!("{what} must be a non-negative integer, got {}", other))),
    }
}

/// Replaces every sub-expression equal to a projected item's expression with a marker
/// variable, so what remains shows what ORDER BY needs beyond the projection.
fn replace_projected(expr: &Expr, items: &[(&Expr, &str)]) -> Expr {
    if items.iter().any(|(e, _)| *e == expr) && !reads_shadowed(expr, items) {
        return Expr::new(ExprKind::Variable(PROJECTED_MARKER.to_string()), expr.span);
    }
    map_children(expr, &mut |child| replace_projected(child, items))
}

/// Whether `expr` reads a variable that the projection's aliases shadow: after
/// `WITH a.x AS a`, the `a` in `ORDER BY a.x` is the new `a`, so `a.x` is not the item.
pub(crate) fn reads_shadowed(expr: &Expr, items: &[(&Expr, &str)]) -> bool {
    let mut shadowed = false;
    expr.walk(&mut |e| {
        if let ExprKind::Variable(name) = &e.kind {
            shadowed |= items
                .iter()
                .any(|(item, alias)| *alias == name && !matches!(&item.kind, ExprKind::Variable(v) if v == name));
        }
    });
    shadowed
}

/// Stands for "a projected value" after `replace_projected`.
const PROJECTED_MARKER: &str = "\u{1}projected";

/// Rebuilds `expr` with `f` applied to each direct child expression.
pub(crate) fn map_children(expr: &Expr, f: &mut dyn FnMut(&Expr) -> Expr) -> Expr {
    let mut bx = |e: &Expr| Box::new(f(e));
    let kind = match &expr.kind {
        ExprKind::List(items) => ExprKind::List(items.iter().map(|e| *bx(e)).collect()),
        ExprKind::Map(entries) => ExprKind::Map(entries.iter().map(|(k, e)| (k.clone(), *bx(e))).collect()),
        ExprKind::Property(e, k) => ExprKind::Property(bx(e), k.clone()),
        ExprKind::Index(a, b) => ExprKind::Index(bx(a), bx(b)),
        ExprKind::Slice { list, from, to } => {
            ExprKind::Slice { list: bx(list), from: from.as_ref().map(|e| bx(e)), to: to.as_ref().map(|e| bx(e)) }
        }
        ExprKind::HasLabels(e, labels) => ExprKind::HasLabels(bx(e), labels.clone()),
        ExprKind::Unary(op, e) => ExprKind::Unary(*op, bx(e)),
        ExprKind::Binary(op, a, b) => ExprKind::Binary(*op, bx(a), bx(b)),
        ExprKind::IsNull { expr: e, negated } => ExprKind::IsNull { expr: bx(e), negated: *negated },
        ExprKind::Function { name, distinct, args } => {
            ExprKind::Function { name: name.clone(), distinct: *distinct, args: args.iter().map(|e| *bx(e)).collect() }
        }
        ExprKind::Case { operand, whens, otherwise } => ExprKind::Case {
            operand: operand.as_ref().map(|e| bx(e)),
            whens: whens.iter().map(|(w, t)| (*bx(w), *bx(t))).collect(),
            otherwise: otherwise.as_ref().map(|e| bx(e)),
        },
        ExprKind::ListComprehension { variable, list, predicate, projection } => ExprKind::ListComprehension {
            variable: variable.clone(),
            list: bx(list),
            predicate: predicate.as_ref().map(|e| bx(e)),
            projection: projection.as_ref().map(|e| bx(e)),
        },
        ExprKind::Quantified { quantifier, variable, list, predicate } => ExprKind::Quantified {
            quantifier: *quantifier,
            variable: variable.clone(),
            list: bx(list),
            predicate: predicate.as_ref().map(|e| bx(e)),
        },
        ExprKind::Reduce { accumulator, init, variable, list, body } => ExprKind::Reduce {
            accumulator: accumulator.clone(),
            init: bx(init),
            variable: variable.clone(),
            list: bx(list),
            body: bx(body),
        },
        other => other.clone(),
    };
    Expr::new(kind, expr.span)
}

/// True when `expr` calls an aggregate function (outside nested scopes it cannot see).
pub(crate) fn contains_aggregate(expr: &Expr) -> bool {
    let mut found = false;
    expr.walk(&mut |e| {
        found |= match &e.kind {
            ExprKind::CountStar => true,
            ExprKind::Function { name, .. } => functions::is_aggregate(name),
            _ => false,
        }
    });
    found
}

/// In an expression that aggregates, what is outside the aggregates must be fixed per
/// group: literals, parameters, grouping keys that are variables or property reads, or
/// names from `projected` (ORDER BY after the projection).
fn check_aggregating_expr(expr: &Expr, keys: &[&Expr], projected: &Vars) -> Result<()> {
    if keys.iter().any(|k| *k == expr && matches!(k.kind, ExprKind::Variable(_) | ExprKind::Property(..))) {
        return Ok(());
    }
    match &expr.kind {
        ExprKind::CountStar => Ok(()),
        ExprKind::Function { name, .. } if functions::is_aggregate(name) => Ok(()),
        ExprKind::Variable(name) => {
            if name == PROJECTED_MARKER || projected.contains_key(name) {
                Ok(())
            } else {
                Err(QueryError::semantic(
                    expr.span.start,
                    format!(
                        "'{name}' is neither a grouping key nor inside an aggregate; project it on its own (e.g. WITH {name}, …) to use it here"
                    ),
                ))
            }
        }
        ExprKind::ListComprehension { .. } | ExprKind::Quantified { .. } | ExprKind::Reduce { .. } => Ok(()),
        _ => expr.children().into_iter().try_for_each(|child| check_aggregating_expr(child, keys, projected)),
    }
}

/// What an expression evaluates to, as far as the text tells.
fn kind_of(expr: &Expr, vars: &Vars) -> Kind {
    match &expr.kind {
        ExprKind::Variable(name) => vars.get(name).copied().unwrap_or(Kind::Unknown),
        ExprKind::Literal(Literal::Null) => Kind::Unknown,
        ExprKind::Literal(_)
        | ExprKind::List(_)
        | ExprKind::Map(_)
        | ExprKind::Binary(..)
        | ExprKind::Unary(..)
        | ExprKind::IsNull { .. }
        | ExprKind::HasLabels(..)
        | ExprKind::ListComprehension { .. }
        | ExprKind::Quantified { .. }
        | ExprKind::PatternPredicate(_)
        | ExprKind::PatternComprehension { .. }
        | ExprKind::MapProjection { .. }
        | ExprKind::CountStar => Kind::Value,
        ExprKind::Function { name, .. } => match functions::canonical_name(name) {
            Some("startNode" | "endNode") => Kind::Node,
            Some(
                "count" | "collect" | "sum" | "avg" | "size" | "length" | "labels" | "type" | "id" | "keys"
                | "toString" | "toInteger" | "toFloat" | "toBoolean" | "nodes" | "relationships" | "range",
            ) => Kind::Value,
            _ => Kind::Unknown,
        },
        _ => Kind::Unknown,
    }
}

/// Checks variables, functions and aggregate placement in `expr`.
fn check_expr(expr: &Expr, vars: &Vars, aggregates: Aggregates) -> Result<()> {
    check_expr_in(expr, vars, Cx { aggregates, in_aggregate: false, patterns: false })
}

fn check_expr_in(expr: &Expr, vars: &Vars, cx: Cx) -> Result<()> {
    let mut locals: Vec<String> = Vec::new();
    check_inner(expr, vars, &mut locals, cx)?;
    fold_constant(expr)
}

/// A variable-free expression with a type error (`RETURN 123 AND true`) is refused
/// before running, as openCypher asks.
fn fold_constant(expr: &Expr) -> Result<()> {
    let mut constant = true;
    expr.walk(&mut |e| {
        constant &= match &e.kind {
            ExprKind::Variable(_)
            | ExprKind::Parameter(_)
            | ExprKind::CountStar
            | ExprKind::PatternPredicate(_)
            | ExprKind::PatternComprehension { .. }
            | ExprKind::Subquery { .. }
            | ExprKind::MapProjection { .. }
            | ExprKind::ListComprehension { .. }
            | ExprKind::Quantified { .. }
            | ExprKind::Reduce { .. } => false,
            ExprKind::Function { name, .. } => {
                !functions::is_aggregate(name)
                    && !matches!(functions::canonical_name(name), Some("range" | "startNode" | "endNode"))
            }
            _ => true,
        };
    });
    if !constant {
        return Ok(());
    }
    match super::eval::eval_constant(expr, &super::Params::new()) {
        // Found before running, a type error is a semantic error of the query.
        Err(err) if err.kind == ErrorKind::Type => {
            Err(QueryError { kind: ErrorKind::Semantic, ..err }.or_at(expr.span.start))
        }
        _ => Ok(()),
    }
}

fn check_inner(expr: &Expr, vars: &Vars, locals: &mut Vec<String>, cx: Cx) -> Result<()> {
    match &expr.kind {
        ExprKind::Variable(name) => {
            if name == PROJECTED_MARKER || locals.contains(name) || vars.contains_key(name) {
                Ok(())
            } else {
                Err(QueryError::semantic(expr.span.start, format!("variable '{name}' not defined")))
            }
        }
        ExprKind::CountStar
        | ExprKind::Function { .. }
        | ExprKind::ListComprehension { .. }
        | ExprKind::Quantified { .. }
        | ExprKind::Reduce { .. }
        | ExprKind::PatternPredicate(_)
        | ExprKind::PatternComprehension { .. }
        | ExprKind::MapProjection { .. } => check_compound(expr, vars, locals, cx),
        ExprKind::Property(base, key) => {
            let kind = kind_of(base, vars);
            if matches!(kind, Kind::Path | Kind::RelationshipList) {
                return Err(QueryError::semantic(
                    expr.span.start,
                    format!("cannot read property '{key}' of {}", kind.describe()),
                ));
            }
            check_inner(base, vars, locals, Cx { patterns: false, ..cx })
        }
        // A pattern is a predicate wherever a predicate is expected: the operands of the
        // boolean operators and the conditions of a CASE, in any clause.
        ExprKind::Binary(BinaryOp::And | BinaryOp::Or | BinaryOp::Xor, left, right) => {
            let predicate = Cx { patterns: true, ..cx };
            check_inner(left, vars, locals, predicate)?;
            check_inner(right, vars, locals, predicate)
        }
        ExprKind::Unary(UnaryOp::Not, operand) => check_inner(operand, vars, locals, Cx { patterns: true, ..cx }),
        ExprKind::Subquery { kind, query } => {
            let mut visible = vars.clone();
            for local in locals.iter() {
                visible.insert(local.clone(), Kind::Unknown);
            }
            check_subquery(expr, *kind, query, &visible, locals)
        }
        ExprKind::Case { operand: None, whens, otherwise } => {
            for (when, then) in whens {
                check_inner(when, vars, locals, Cx { patterns: true, ..cx })?;
                check_inner(then, vars, locals, cx)?;
            }
            otherwise.iter().try_for_each(|e| check_inner(e, vars, locals, cx))
        }
        _ => expr.children().into_iter().try_for_each(|child| check_inner(child, vars, locals, cx)),
    }
}

/// The forms with functions, scopes or patterns, kept out of `check_inner` so that its
/// stack frame — paid at every level of nesting — stays small.
#[inline(never)]
fn check_compound(expr: &Expr, vars: &Vars, locals: &mut Vec<String>, cx: Cx) -> Result<()> {
    let Cx { aggregates, in_aggregate, .. } = cx;
    match &expr.kind {
        ExprKind::CountStar => aggregate_allowed(expr, "count", aggregates, in_aggregate),
        ExprKind::Function { name, distinct, args } => {
            let Some((min, max)) = functions::arity(name) else {
                return Err(QueryError::semantic(expr.span.start, format!("unknown function '{name}'")));
            };
            if args.len() < min || args.len() > max {
                let wanted = if min == max {
                    format!("{min} argument{}", if min == 1 { "" } else { "s" })
                } else if max == usize::MAX {
                    format!("at least {min} argument{}", if min == 1 { "" } else { "s" })
                } else {
                    format!("{min} to {max} arguments")
                };
                return Err(QueryError::semantic(
                    expr.span.start,
                    format!("function {name}() takes {wanted}, got {}", args.len()),
                ));
            }
            let is_aggregate = functions::is_aggregate(name);
            if *distinct && !is_aggregate {
                return Err(QueryError::semantic(
                    expr.span.start,
                    format!("DISTINCT is only allowed in aggregate functions, not in {name}()"),
                ));
            }
            if is_aggregate {
                aggregate_allowed(expr, name, aggregates, in_aggregate)?;
            }
            let canonical = functions::canonical_name(name);
            if canonical == Some("rand") && in_aggregate {
                return Err(QueryError::semantic(expr.span.start, "rand() is not constant and cannot be aggregated"));
            }
            // Patterns are predicates: only exists() takes one as an argument.
            let arg_cx = Cx { in_aggregate: in_aggregate || is_aggregate, patterns: canonical == Some("exists"), ..cx };
            for arg in args {
                check_inner(arg, vars, locals, arg_cx)?;
            }
            if canonical == Some("exists") {
                let ok = args.first().is_some_and(|a| {
                    matches!(a.kind, ExprKind::Property(..) | ExprKind::PatternPredicate(_) | ExprKind::Index(..))
                });
                if !ok {
                    return Err(QueryError::semantic(
                        expr.span.start,
                        "exists() expects a property (n.prop) or a pattern",
                    ));
                }
            }
            if let (Some(function), Some(arg)) = (canonical, args.first()) {
                check_argument_kind(function, arg, vars)?;
            }
            Ok(())
        }
        ExprKind::ListComprehension { variable, list, predicate, projection } => {
            check_inner(list, vars, locals, cx)?;
            locals.push(variable.clone());
            let inner = Cx { aggregates: Aggregates::Refused("a list comprehension"), ..cx };
            let filter = Cx { patterns: true, ..inner };
            let result = predicate
                .iter()
                .try_for_each(|e| check_inner(e, vars, locals, filter))
                .and_then(|()| projection.iter().try_for_each(|e| check_inner(e, vars, locals, inner)));
            locals.pop();
            result
        }
        ExprKind::Quantified { variable, list, predicate, .. } => {
            check_inner(list, vars, locals, cx)?;
            locals.push(variable.clone());
            let inner = Cx { aggregates: Aggregates::Refused("a quantifier"), patterns: true, ..cx };
            let result = predicate.iter().try_for_each(|e| check_inner(e, vars, locals, inner));
            locals.pop();
            result
        }
        ExprKind::Reduce { accumulator, init, variable, list, body } => {
            check_inner(init, vars, locals, cx)?;
            check_inner(list, vars, locals, cx)?;
            locals.push(accumulator.clone());
            locals.push(variable.clone());
            let result = check_inner(body, vars, locals, Cx { aggregates: Aggregates::Refused("reduce()"), ..cx });
            locals.truncate(locals.len() - 2);
            result
        }
        ExprKind::PatternPredicate(element) => {
            if !cx.patterns {
                return Err(QueryError::semantic(
                    expr.span.start,
                    "a pattern is a predicate: use it in WHERE, in a boolean expression or CASE condition, or as exists((a)-->(b)) to return its truth (openCypher refuses a bare pattern as a value); a pattern comprehension [(a)-->(b) | b] gives a list",
                ));
            }
            check_pattern_predicate(element, vars, locals)
        }
        ExprKind::PatternComprehension { variable, element, predicate, projection } => {
            let mut inner = vars.clone();
            for local in locals.iter() {
                inner.insert(local.clone(), Kind::Unknown);
            }
            for var in element.variables() {
                inner.entry(var.name.clone()).or_insert(Kind::Unknown);
            }
            if let Some(v) = variable {
                inner.insert(v.clone(), Kind::Path);
            }
            check_pattern_exprs(element, &inner)?;
            let mut no_locals = Vec::new();
            let inner_cx = Cx { aggregates: Aggregates::Refused("a pattern comprehension"), patterns: true, ..cx };
            for e in predicate.iter().map(|p| &**p).chain(std::iter::once(&**projection)) {
                check_inner(e, &inner, &mut no_locals, inner_cx)?;
            }
            Ok(())
        }
        ExprKind::MapProjection { variable, items } => {
            if !(locals.contains(variable) || vars.contains_key(variable)) {
                return Err(QueryError::semantic(expr.span.start, format!("variable '{variable}' not defined")));
            }
            for item in items {
                match item {
                    MapProjectionItem::Literal(_, e) => check_inner(e, vars, locals, cx)?,
                    MapProjectionItem::Variable(v) if !(locals.contains(v) || vars.contains_key(v)) => {
                        return Err(QueryError::semantic(expr.span.start, format!("variable '{v}' not defined")));
                    }
                    _ => {}
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Refuses arguments that can never suit a function, as far as the text tells
/// (`type(n)` on a node, `length(r)` on a relationship, `size(p)` on a path).
fn check_argument_kind(function: &str, arg: &Expr, vars: &Vars) -> Result<()> {
    let kind = kind_of(arg, vars);
    let refused: &[Kind] = match function {
        "type" | "startNode" | "endNode" => &[Kind::Node, Kind::Path, Kind::RelationshipList],
        "length" | "nodes" | "relationships" => &[Kind::Node, Kind::Relationship],
        "size" => &[Kind::Node, Kind::Relationship, Kind::Path],
        "labels" => &[Kind::Relationship, Kind::Path, Kind::RelationshipList],
        "keys" | "properties" => &[Kind::Path, Kind::RelationshipList],
        _ => &[],
    };
    if refused.contains(&kind) {
        return Err(QueryError::semantic(arg.span.start, format!("{function}() cannot take {}", kind.describe())));
    }
    Ok(())
}

fn aggregate_allowed(expr: &Expr, name: &str, aggregates: Aggregates, in_aggregate: bool) -> Result<()> {
    if in_aggregate {
        return Err(QueryError::semantic(
            expr.span.start,
            format!("aggregate function {name}() cannot be nested in another aggregate"),
        ));
    }
    match aggregates {
        Aggregates::Allowed => Ok(()),
        Aggregates::Refused(place) => Err(QueryError::semantic(
            expr.span.start,
            format!("aggregate function {name}() is not allowed in {place}; aggregate in WITH or RETURN"),
        )),
    }
}
