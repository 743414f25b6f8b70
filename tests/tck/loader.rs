//! The TEST-ONLY loader: builds a scenario's graph by executing its set-up statements
//! (`CREATE …`, `UNWIND … CREATE …`, `MATCH … CREATE …`, simple `WITH` chains) directly into
//! the store through `WriteTxn`. The engine itself never writes; this is the only writer here.
//!
//! Expressions are evaluated with `query::eval_constant` after the row's variables have been
//! replaced by parameters; `MATCH` parts run read-only through the real engine.

use std::collections::BTreeMap;
use std::fmt;

use diplograph::model::{EdgeId, NodeId, NodeRecord, Value};
use diplograph::query::ast::{
    Clause, CreateClause, DeleteClause, Expr, ExprKind, MatchClause, NodePattern, PatternDirection, PatternPart,
    ProjectionItem, UnwindClause, WithClause,
};
use diplograph::query::value::QValue;
use diplograph::query::{self, Params, QueryOptions};
use diplograph::store::Store;

/// Why a set-up statement did not load.
#[derive(Debug)]
pub enum LoadError {
    /// The loader does not do this form: the scenario is skipped.
    Unsupported(String),
    /// The statement should have loaded but the parser, evaluator or store failed.
    Failed(String),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Unsupported(why) => write!(f, "loader cannot do this set-up: {why}"),
            LoadError::Failed(why) => write!(f, "set-up failed: {why}"),
        }
    }
}

fn unsupported<T>(why: impl Into<String>) -> Result<T, LoadError> {
    Err(LoadError::Unsupported(why.into()))
}

fn failed(why: impl fmt::Display) -> LoadError {
    LoadError::Failed(why.to_string())
}

/// What a variable is bound to in one row of the set-up statement.
#[derive(Clone, Debug)]
enum Bound {
    Node(NodeId),
    Rel(EdgeId),
    Value(Value),
}

type Row = BTreeMap<String, Bound>;

/// Where bound elements' properties are read: the store, or the open transaction (which
/// also sees what the statement created so far).
#[derive(Clone, Copy)]
enum Source<'a> {
    Store(&'a Store),
    Txn(&'a diplograph::store::WriteTxn<'a>),
}

/// Executes one set-up statement (possibly several `;`-separated ones) into `store`.
pub fn execute_setup(store: &Store, text: &str) -> Result<(), LoadError> {
    for statement in split_statements(text) {
        execute_statement(store, &statement)?;
    }
    Ok(())
}

/// Splits on `;` outside string literals; empty statements are dropped.
fn split_statements(text: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in text.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
                current.push(c);
            }
            None if c == ';' => statements.push(std::mem::take(&mut current)),
            None => {
                if matches!(c, '\'' | '"' | '`') {
                    quote = Some(c);
                }
                current.push(c);
            }
        }
    }
    statements.push(current);
    statements.into_iter().filter(|s| !s.trim().is_empty()).collect()
}

fn execute_statement(store: &Store, text: &str) -> Result<(), LoadError> {
    let query = query::parse(text).map_err(|e| failed(format!("the parser refused the set-up: {}", e.render(text))))?;
    if !query.unions.is_empty() {
        return unsupported("UNION in set-up");
    }
    let mut rows: Vec<Row> = vec![Row::new()];
    for clause in &query.first.clauses {
        rows = match clause {
            Clause::Create(create) => create_clause(store, create, rows)?,
            Clause::Unwind(unwind) => unwind_clause(store, unwind, rows)?,
            Clause::With(with) => with_clause(store, with, rows)?,
            Clause::Match(m) => match_clause(store, m, rows)?,
            Clause::Delete(delete) => delete_clause(store, delete, rows)?,
            Clause::Return(_) => rows,
            other => return unsupported(format!("{} in set-up", other.keyword())),
        };
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Clauses

fn create_clause(store: &Store, create: &CreateClause, mut rows: Vec<Row>) -> Result<Vec<Row>, LoadError> {
    let mut txn = store.begin().map_err(failed)?;
    for row in &mut rows {
        for part in &create.pattern.parts {
            create_part(&mut txn, part, row)?;
        }
    }
    txn.commit().map_err(failed)?;
    Ok(rows)
}

fn create_part(txn: &mut diplograph::store::WriteTxn<'_>, part: &PatternPart, row: &mut Row) -> Result<(), LoadError> {
    if part.variable.is_some() {
        return unsupported("a named path in CREATE");
    }
    if part.shortest.is_some() {
        return unsupported("shortestPath in CREATE");
    }
    let mut previous = create_node(txn, &part.element.start, row)?;
    for step in &part.element.chain {
        let next = create_node(txn, &step.node, row)?;
        let rel = &step.rel;
        if rel.length.is_some() {
            return unsupported("a variable-length relationship in CREATE");
        }
        let [rel_type] = rel.types.as_slice() else {
            return unsupported("CREATE needs exactly one relationship type");
        };
        let (src, dst) = match rel.direction {
            PatternDirection::Outgoing => (previous, next),
            PatternDirection::Incoming => (next, previous),
            PatternDirection::Either => return unsupported("an undirected relationship in CREATE"),
        };
        let props = eval_props(Source::Txn(txn), rel.properties.as_ref(), row)?;
        let id = txn.create_edge(&rel_type.name, src, dst, props).map_err(failed)?;
        if let Some(var) = &rel.variable {
            if row.contains_key(&var.name) {
                return unsupported(format!("relationship variable `{}` bound twice", var.name));
            }
            row.insert(var.name.clone(), Bound::Rel(id));
        }
        previous = next;
    }
    Ok(())
}

/// The node a CREATE pattern names: an earlier binding, or a new node.
fn create_node(
    txn: &mut diplograph::store::WriteTxn<'_>,
    node: &NodePattern,
    row: &mut Row,
) -> Result<NodeId, LoadError> {
    if let Some(var) = &node.variable {
        match row.get(&var.name) {
            Some(Bound::Node(id)) => {
                if !node.labels.is_empty() || node.properties.is_some() {
                    return unsupported(format!(
                        "`{}` is already bound and cannot take labels or properties",
                        var.name
                    ));
                }
                return Ok(*id);
            }
            Some(_) => return Err(failed(format!("`{}` is not a node", var.name))),
            None => {}
        }
    }
    let props = eval_props(Source::Txn(txn), node.properties.as_ref(), row)?;
    let mut labels: Vec<String> = Vec::new();
    for label in &node.labels {
        if !labels.contains(&label.name) {
            labels.push(label.name.clone());
        }
    }
    let id = txn.create_node(NodeRecord { labels, props }, None).map_err(failed)?;
    if let Some(var) = &node.variable {
        row.insert(var.name.clone(), Bound::Node(id));
    }
    Ok(id)
}

/// A property map: null entries are left out, as CREATE does.
fn eval_props(source: Source<'_>, props: Option<&Expr>, row: &Row) -> Result<BTreeMap<String, Value>, LoadError> {
    let Some(expr) = props else {
        return Ok(BTreeMap::new());
    };
    match eval(source, expr, row)? {
        Value::Map(map) => Ok(map.into_iter().filter(|(_, v)| *v != Value::Null).collect()),
        other => Err(failed(format!("properties must be a map, got {other}"))),
    }
}

/// `DELETE r` of relationships bound earlier (set-ups that re-wire a graph).
fn delete_clause(store: &Store, delete: &DeleteClause, rows: Vec<Row>) -> Result<Vec<Row>, LoadError> {
    let mut txn = store.begin().map_err(failed)?;
    for row in &rows {
        for expr in &delete.exprs {
            let ExprKind::Variable(var) = &expr.kind else {
                return unsupported("DELETE of an expression in set-up");
            };
            match row.get(var) {
                Some(Bound::Rel(id)) => txn.delete_edge(*id).map_err(failed)?,
                Some(Bound::Node(id)) if delete.detach => txn.delete_node(*id).map_err(failed)?,
                _ => return unsupported("DELETE of anything but a relationship or DETACH DELETE of a node in set-up"),
            }
        }
    }
    txn.commit().map_err(failed)?;
    Ok(rows)
}

fn unwind_clause(store: &Store, unwind: &UnwindClause, rows: Vec<Row>) -> Result<Vec<Row>, LoadError> {
    let mut out = Vec::new();
    for row in rows {
        let items = match eval(Source::Store(store), &unwind.expr, &row)? {
            Value::List(items) => items,
            Value::Null => Vec::new(),
            other => vec![other],
        };
        for item in items {
            let mut next = row.clone();
            next.insert(unwind.variable.name.clone(), Bound::Value(item));
            out.push(next);
        }
    }
    Ok(out)
}

fn with_clause(store: &Store, with: &WithClause, rows: Vec<Row>) -> Result<Vec<Row>, LoadError> {
    let projection = &with.projection;
    if projection.distinct || !projection.order_by.is_empty() || projection.skip.is_some() || projection.limit.is_some()
    {
        return unsupported("WITH with DISTINCT, ORDER BY, SKIP or LIMIT");
    }
    if with.where_.is_some() {
        return unsupported("WITH … WHERE");
    }
    if projection.items.iter().any(|item| has_aggregate(&item.expr)) {
        return unsupported("aggregation in WITH");
    }
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut next = if projection.star { row.clone() } else { Row::new() };
        for item in &projection.items {
            let (name, bound) = project_item(store, item, &row)?;
            next.insert(name, bound);
        }
        out.push(next);
    }
    Ok(out)
}

fn project_item(store: &Store, item: &ProjectionItem, row: &Row) -> Result<(String, Bound), LoadError> {
    if let ExprKind::Variable(var) = &item.expr.kind {
        let bound = row.get(var).cloned().ok_or_else(|| failed(format!("unknown variable `{var}`")))?;
        let name = item.alias.as_ref().map_or(var.clone(), |a| a.name.clone());
        return Ok((name, bound));
    }
    let Some(alias) = &item.alias else {
        return unsupported("an unaliased expression in WITH");
    };
    Ok((alias.name.clone(), Bound::Value(eval(Source::Store(store), &item.expr, row)?)))
}

fn has_aggregate(expr: &Expr) -> bool {
    let mut found = false;
    expr.walk(&mut |e| match &e.kind {
        ExprKind::CountStar => found = true,
        ExprKind::Function { name, .. } => {
            let name = name.to_ascii_lowercase();
            if matches!(
                name.as_str(),
                "count"
                    | "collect"
                    | "sum"
                    | "avg"
                    | "min"
                    | "max"
                    | "stdev"
                    | "stdevp"
                    | "percentilecont"
                    | "percentiledisc"
            ) {
                found = true;
            }
        }
        _ => {}
    });
    found
}

/// Runs the MATCH read-only through the real engine (`MATCH … RETURN vars`) and joins
/// its rows with the rows so far. The pattern may not use variables bound earlier.
fn match_clause(store: &Store, m: &MatchClause, rows: Vec<Row>) -> Result<Vec<Row>, LoadError> {
    if m.optional {
        return unsupported("OPTIONAL MATCH in set-up");
    }
    let mut variables: Vec<String> = Vec::new();
    for part in &m.pattern.parts {
        if part.variable.is_some() || part.shortest.is_some() {
            return unsupported("named paths or shortestPath in a set-up MATCH");
        }
        for var in part.element.variables() {
            if !variables.contains(&var.name) {
                variables.push(var.name.clone());
            }
        }
    }
    if rows.iter().any(|row| variables.iter().any(|v| row.contains_key(v))) {
        return unsupported("a set-up MATCH on variables bound earlier");
    }
    let mut text = Clause::Match(m.clone()).to_string();
    if variables.is_empty() {
        text.push_str(" RETURN 1 AS one");
    } else {
        text.push_str(" RETURN ");
        text.push_str(
            &variables.iter().map(|v| diplograph::query::ast::Name(v).to_string()).collect::<Vec<_>>().join(", "),
        );
    }
    let options = QueryOptions {
        use_indexes: true,
        timeout: Some(std::time::Duration::from_secs(5)),
        max_rows: Some(1_000_000),
        cancel: None,
    };
    let result = query::run(store, &text, &Params::new(), &options)
        .map_err(|e| failed(format!("the set-up MATCH failed in the engine: {}\n{}", e.render(&text), text)))?;
    let mut matched: Vec<Row> = Vec::with_capacity(result.rows.len());
    for values in result.rows {
        let mut row = Row::new();
        if variables.is_empty() {
            matched.push(row);
            continue;
        }
        for (var, value) in variables.iter().zip(values) {
            let bound = match value {
                QValue::Node(node) => Bound::Node(node.id),
                QValue::Relationship(rel) => Bound::Rel(rel.id),
                other => return Err(failed(format!("the set-up MATCH bound `{var}` to {other}, not an element"))),
            };
            row.insert(var.clone(), bound);
        }
        matched.push(row);
    }
    let mut out = Vec::with_capacity(rows.len() * matched.len());
    for row in &rows {
        for m in &matched {
            let mut joined = row.clone();
            joined.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
            out.push(joined);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Expressions

/// Evaluates `expr` in `row`: variables holding values become parameters, `n.key` on a
/// bound node or relationship becomes the stored property, then `eval_constant` does the rest.
fn eval(source: Source<'_>, expr: &Expr, row: &Row) -> Result<Value, LoadError> {
    let mut params = Params::new();
    let mut expr = expr.clone();
    substitute(source, &mut expr, row, &mut params)?;
    query::eval_constant(&expr, &params).map_err(|e| failed(format!("cannot evaluate `{expr}`: {e}")))
}

fn parameter_for(value: Value, params: &mut Params) -> ExprKind {
    let name = format!("__loader_{}", params.len());
    params.insert(name.clone(), value);
    ExprKind::Parameter(name)
}

fn element_property(source: Source<'_>, bound: &Bound, key: &str) -> Result<Value, LoadError> {
    let props = match (bound, source) {
        (Bound::Node(id), Source::Store(store)) => store.node(*id).map_err(failed)?.map(|n| n.props),
        (Bound::Node(id), Source::Txn(txn)) => txn.node(*id).map_err(failed)?.map(|n| n.props),
        (Bound::Rel(id), Source::Store(store)) => store.edge(*id).map_err(failed)?.map(|e| e.props),
        (Bound::Rel(id), Source::Txn(txn)) => txn.edge(*id).map_err(failed)?.map(|e| e.props),
        (Bound::Value(Value::Map(map)), _) => Some(map.clone()),
        (Bound::Value(Value::Null), _) => return Ok(Value::Null),
        (Bound::Value(other), _) => return Err(failed(format!("cannot read `.{key}` of {other}"))),
    };
    Ok(props.and_then(|mut p| p.remove(key)).unwrap_or(Value::Null))
}

fn substitute(source: Source<'_>, expr: &mut Expr, row: &Row, params: &mut Params) -> Result<(), LoadError> {
    let replacement = match &mut expr.kind {
        ExprKind::Literal(_) | ExprKind::Parameter(_) | ExprKind::CountStar => None,
        ExprKind::Variable(var) => match row.get(var.as_str()) {
            Some(Bound::Value(value)) => Some(parameter_for(value.clone(), params)),
            Some(_) => return unsupported(format!("node or relationship `{var}` used as a value")),
            None => return Err(failed(format!("unknown variable `{var}`"))),
        },
        ExprKind::Property(target, key) => match &target.kind {
            ExprKind::Variable(var) => {
                let bound = row.get(var.as_str()).ok_or_else(|| failed(format!("unknown variable `{var}`")))?;
                Some(parameter_for(element_property(source, bound, key)?, params))
            }
            _ => {
                substitute(source, target, row, params)?;
                None
            }
        },
        ExprKind::List(items) => {
            for item in items {
                substitute(source, item, row, params)?;
            }
            None
        }
        ExprKind::Map(entries) => {
            for (_, value) in entries {
                substitute(source, value, row, params)?;
            }
            None
        }
        ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
            substitute(source, a, row, params)?;
            substitute(source, b, row, params)?;
            None
        }
        ExprKind::Unary(_, a) => {
            substitute(source, a, row, params)?;
            None
        }
        ExprKind::IsNull { expr: inner, .. } => {
            substitute(source, inner, row, params)?;
            None
        }
        ExprKind::Slice { list, from, to } => {
            substitute(source, list, row, params)?;
            for bound in [from, to].into_iter().flatten() {
                substitute(source, bound, row, params)?;
            }
            None
        }
        ExprKind::Function { args, .. } => {
            for arg in args {
                substitute(source, arg, row, params)?;
            }
            None
        }
        ExprKind::Case { operand, whens, otherwise } => {
            if let Some(operand) = operand {
                substitute(source, operand, row, params)?;
            }
            for (when, then) in whens {
                substitute(source, when, row, params)?;
                substitute(source, then, row, params)?;
            }
            if let Some(otherwise) = otherwise {
                substitute(source, otherwise, row, params)?;
            }
            None
        }
        _ => return unsupported(format!("the expression `{expr}` in set-up")),
    };
    if let Some(kind) = replacement {
        expr.kind = kind;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_split_on_semicolons_outside_strings() {
        assert_eq!(split_statements("CREATE ({s: 'a;b'});\nCREATE ();"), vec!["CREATE ({s: 'a;b'})", "\nCREATE ()"]);
    }
}
