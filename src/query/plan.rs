//! Logical plan: a tree of operators built from the checked syntax tree, anchored on the
//! cheapest index (id key, entity name, smallest label), filters pushed to where their variables are bound.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;

use super::ast::*;
use super::error::{QueryError, Result};
use super::factorise::{factorise, ProductCount};
use super::functions;
use super::procedures::{Registry, Resolved};
use super::semantic::{
    contains_aggregate, is_standalone_call, map_children, query_variables, reads_shadowed, source_text,
};
use super::QueryOptions;
use crate::model::ENTITY_KINDS;
use crate::store::{Stats, Store};

/// Prefix of names the planner invents (anonymous pattern elements, hidden columns);
/// no query can spell them, and `RETURN *` skips them.
pub const HIDDEN: char = '\u{1}';

pub fn is_hidden(name: &str) -> bool {
    name.starts_with(HIDDEN)
}

/// A planned query: the operator tree and its result columns.
#[derive(Clone, Debug)]
pub struct Plan {
    pub root: Op,
    pub columns: Vec<String>,
}

/// A call's arguments: the expressions written, or (a standalone call without
/// parentheses) the parameters named like the arguments.
#[derive(Clone, Debug)]
pub enum CallArgs {
    Explicit(Vec<Expr>),
    FromParameters,
}

/// One operator and the names of the columns of the rows it produces.
#[derive(Clone, Debug)]
pub struct Op {
    pub kind: OpKind,
    pub layout: Vec<String>,
}

/// Where a node scan finds its candidates.
#[derive(Clone, Debug)]
pub enum NodeSource {
    /// Every node (the naive plan, or no label known).
    All,
    /// The label index.
    Label(String),
    /// A label most nodes carry: one sequential pass over every node record, keeping those
    /// with the label, beats a lookup per label-index entry.
    LabelRecords(String),
    /// The `id` property index; a non-string value falls back to a full scan.
    Key(Expr),
    /// The entity name/alias index, narrowed to entities of `label`; candidates are
    /// re-checked by an exact `name` filter.
    Name { label: String, value: Expr },
}

/// One piece of a named path, in pattern order.
#[derive(Clone, Debug)]
pub enum PathPiece {
    /// A single relationship then the node it reaches (column indexes).
    Step { rel: usize, node: usize },
    /// A variable-length segment: a hidden column holding the walked sub-path.
    Segment { path: usize },
}

/// How an expansion walks from one bound node.
#[derive(Clone, Debug)]
pub struct Walk {
    pub from: usize,
    pub types: Vec<String>,
    /// Direction relative to `from`.
    pub direction: PatternDirection,
    /// When the far node is already bound, its column: the expansion only checks it.
    pub into: Option<usize>,
    /// Labels the far node must carry.
    pub to_labels: Vec<String>,
    /// Columns holding relationships (or lists of them) this one must differ from.
    pub unique_with: Vec<usize>,
    /// Names, for `explain`.
    pub text: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggFunc {
    CountStar,
    Count,
    Collect,
    Sum,
    Avg,
    Min,
    Max,
    StDev,
    StDevP,
    PercentileDisc,
    PercentileCont,
}

#[derive(Clone, Debug)]
pub struct Aggregation {
    pub func: AggFunc,
    pub distinct: bool,
    pub arg: Option<Expr>,
    /// The percentile of percentileDisc/percentileCont.
    pub extra: Option<Expr>,
    pub text: String,
}

#[derive(Clone, Debug)]
pub enum OpKind {
    /// Yields the row it is given once: the start of a query, the inner side of OPTIONAL MATCH.
    Argument,
    /// Extends each row with every candidate node that carries `labels`.
    NodeScan {
        input: Box<Op>,
        var: String,
        source: NodeSource,
        labels: Vec<String>,
    },
    /// Follows one relationship from a bound node. With `distinct_on`, a row whose values in
    /// those columns (nodes and relationships) an earlier row already had is not produced:
    /// set when everything above reads only those columns and ignores duplicates.
    Expand {
        input: Box<Op>,
        walk: Walk,
        rel_bound: Option<usize>,
        distinct_on: Option<Vec<usize>>,
    },
    /// Follows `min..max` relationships (no relationship twice), binding the list of them.
    VarExpand {
        input: Box<Op>,
        walk: Walk,
        min: u64,
        max: Option<u64>,
        /// The walk goes right-to-left in the pattern: lists are reversed before binding.
        reversed: bool,
        /// Property map every relationship must match.
        props: Option<Expr>,
        /// Also bind the walked sub-path (for named paths).
        with_path: bool,
        /// The relationship list is already bound: the walk must follow exactly it.
        bound_list: Option<usize>,
    },
    /// Breadth-first search for the shortest path(s) between two bound nodes.
    ShortestPath {
        input: Box<Op>,
        walk: Walk,
        min: u64,
        max: Option<u64>,
        all: bool,
        props: Option<Expr>,
        bind_rels: bool,
    },
    /// Assembles a named path from bound columns.
    BuildPath {
        input: Box<Op>,
        var: String,
        start: usize,
        pieces: Vec<PathPiece>,
    },
    Filter {
        input: Box<Op>,
        predicate: Expr,
    },
    /// Runs `inner` per row; a row with no match continues with nulls for the new columns.
    Optional {
        input: Box<Op>,
        inner: Box<Op>,
    },
    Unwind {
        input: Box<Op>,
        expr: Expr,
        var: String,
    },
    /// Calls a procedure once per input row, extending the row with the `yields` fields
    /// (output indexes) of each row it returns. A void procedure inside a query passes
    /// each row on once (`passes_row`); standalone, it returns nothing.
    ProcedureCall {
        input: Box<Op>,
        procedure: Resolved,
        args: CallArgs,
        yields: Vec<usize>,
        passes_row: bool,
    },
    /// Evaluates items; `keep_input` keeps the input columns in front (for ORDER BY).
    Project {
        input: Box<Op>,
        items: Vec<(String, Expr)>,
        keep_input: bool,
    },
    /// Groups by `keys`, computing `aggregates` per group.
    Aggregate {
        input: Box<Op>,
        keys: Vec<(String, Expr)>,
        aggregates: Vec<(String, Aggregation)>,
    },
    /// Drops rows equal to an earlier one (on the `on` columns, else all of them).
    Distinct {
        input: Box<Op>,
        on: Option<Vec<usize>>,
    },
    Sort {
        input: Box<Op>,
        keys: Vec<(Expr, bool)>,
    },
    Skip {
        input: Box<Op>,
        count: Expr,
    },
    Limit {
        input: Box<Op>,
        count: Expr,
    },
    /// Keeps only the named columns, in order.
    Select {
        input: Box<Op>,
        columns: Vec<usize>,
    },
    /// Runs the query `inner` once per input row (its `Argument` yields the row) and
    /// appends what `kind` makes of its rows: a semi-join for EXISTS, which stops at the
    /// first inner row; the count of rows for COUNT; the list of `column` for COLLECT.
    Subquery {
        input: Box<Op>,
        inner: Box<Op>,
        kind: SubqueryKind,
        column: usize,
    },
    /// Counts over a product of parts that share no variable, without building it:
    /// each part yields one row (its `count(*)`, then its `count(expr)`s) and each output
    /// is a product of those counts.
    CountProduct {
        parts: Vec<Op>,
        outputs: Vec<ProductCount>,
    },
    /// Concatenates its inputs (UNION ALL); UNION adds a Distinct on top.
    Union {
        inputs: Vec<Op>,
    },
    /// For each node reached from the nodes with `label` by one `walk` step, how many
    /// steps reach it: binds `var` (the far node) and `count`. Stands in for a label scan
    /// and an expansion under an aggregation that groups by the far node alone and only
    /// counts rows, so the steps are counted from adjacency without building a row each.
    NeighbourCounts {
        label: String,
        walk: Walk,
        var: String,
        count: String,
    },
    /// The same aggregation two ways: `counted` over a `NeighbourCounts`, `expanded` over
    /// the rows. A probe of the first nodes with the label chooses when the query runs:
    /// counting pays when their steps share far nodes; when nearly every step reaches a
    /// node of its own, the rows are cheaper.
    PreferCounts {
        counted: Box<Op>,
        expanded: Box<Op>,
    },
    /// `count(*)` of the nodes with `label`, grouped by a counted property or not at all,
    /// answered from the maintained statistics; `fallback` (the plain aggregation) runs
    /// if the statistics cannot answer when the query executes.
    CountsFromStatistics {
        label: String,
        property: Option<String>,
        aggregates: usize,
        fallback: Box<Op>,
    },
}

impl Op {
    fn new(kind: OpKind, layout: Vec<String>) -> Op {
        Op { kind, layout }
    }

    fn slot(&self, name: &str) -> Result<usize> {
        self.layout
            .iter()
            .rposition(|n| n == name)
            .ok_or_else(|| QueryError::runtime(format!("internal planner error: no column '{name}'")))
    }

    /// Puts an operator that keeps the columns on top of this one.
    fn then(self, make: impl FnOnce(Box<Op>) -> OpKind) -> Op {
        let layout = self.layout.clone();
        Op::new(make(Box::new(self)), layout)
    }

    /// The layout plus new columns.
    fn extended(&self, names: &[&str]) -> Vec<String> {
        let mut layout = self.layout.clone();
        layout.extend(names.iter().map(|n| n.to_string()));
        layout
    }
}

/// Plans a checked query.
pub fn plan_query(
    store: &Store,
    query: &Query,
    text: &str,
    options: &QueryOptions,
    procedures: &Arc<Registry>,
) -> Result<Plan> {
    let stats = if options.use_indexes { store.stats()? } else { Stats::default() };
    // Only entities written with their kind are in the name index (ingest does that; a
    // store without any is not relied on).
    let name_index = options.use_indexes && store.has_name_index()?;
    let planner = Planner {
        stats,
        use_indexes: options.use_indexes,
        name_index,
        text,
        next_hidden: std::cell::Cell::new(0),
        procedures,
    };
    let (first, columns) = planner.single(&query.first)?;
    if query.unions.is_empty() {
        return Ok(Plan { root: first, columns });
    }
    let mut inputs = vec![first];
    for union in &query.unions {
        inputs.push(planner.single(&union.query)?.0);
    }
    let distinct = query.unions.iter().any(|u| !u.all);
    let mut root = Op::new(OpKind::Union { inputs }, columns.clone());
    if distinct {
        root = root.then(|input| OpKind::Distinct { input, on: None });
    }
    Ok(Plan { root, columns })
}

struct Planner<'t> {
    stats: Stats,
    use_indexes: bool,
    name_index: bool,
    text: &'t str,
    next_hidden: std::cell::Cell<usize>,
    procedures: &'t Arc<Registry>,
}

/// A conjunct of a WHERE clause (or of an inline property map) waiting to be placed.
struct Conjunct {
    expr: Expr,
    /// Variables it needs bound (only those the query scope knows).
    needs: BTreeSet<String>,
}

/// A relationship of a MATCH pattern, with its endpoint names.
struct PatternRel<'q> {
    rel: &'q RelPattern,
    name: String,
    left: String,
    right: String,
    part: usize,
}

/// The shape of a MATCH pattern: its relationships (outside shortest paths), its node
/// names in written order, and the labels each node name carries anywhere in the pattern.
struct PatternGraph<'q> {
    rels: Vec<PatternRel<'q>>,
    nodes: Vec<String>,
    labels: BTreeMap<String, Vec<String>>,
}

impl<'q> PatternGraph<'q> {
    fn of(parts: &'q [PatternPart]) -> PatternGraph<'q> {
        let mut graph = PatternGraph { rels: Vec::new(), nodes: Vec::new(), labels: BTreeMap::new() };
        for (index, part) in parts.iter().enumerate() {
            let element = &part.element;
            for node in std::iter::once(&element.start).chain(element.chain.iter().map(|s| &s.node)) {
                let name = node_name(node);
                let entry = graph.labels.entry(name.clone()).or_default();
                for label in &node.labels {
                    if !entry.contains(&label.name) {
                        entry.push(label.name.clone());
                    }
                }
                if part.shortest.is_none() && !graph.nodes.contains(&name) {
                    graph.nodes.push(name);
                }
            }
            if part.shortest.is_some() {
                continue;
            }
            let mut left = node_name(&element.start);
            for step in &element.chain {
                let right = node_name(&step.node);
                let name = rel_name(&step.rel);
                graph.rels.push(PatternRel { rel: &step.rel, name, left, right: right.clone(), part: index });
                left = right;
            }
        }
        graph
    }
}

/// The predicates of a MATCH: its WHERE split on AND, the inline property maps as
/// equalities, and for each node bound by an earlier clause a check that it is a node
/// with the pattern's labels.
fn match_conjuncts(m: &MatchClause, parts: &[PatternPart], bound_before: &BTreeSet<String>) -> Vec<Conjunct> {
    let mut scope: BTreeSet<String> = bound_before.clone();
    for part in parts {
        scope.extend(part.element.variables().into_iter().map(|v| v.name.clone()));
        scope.extend(part.variable.iter().map(|v| v.name.clone()));
    }
    let mut exprs: Vec<Expr> = m.where_.as_ref().map(split_and).unwrap_or_default();
    for part in parts {
        let element = &part.element;
        for node in std::iter::once(&element.start).chain(element.chain.iter().map(|s| &s.node)) {
            let name = node_name(node);
            if let Some(props) = &node.properties {
                exprs.extend(property_conjuncts(&name, props));
            }
            if bound_before.contains(&name) {
                let kind = if node.labels.is_empty() {
                    ExprKind::IsNull { expr: Box::new(var_expr(&name)), negated: true }
                } else {
                    ExprKind::HasLabels(Box::new(var_expr(&name)), node.labels.iter().map(|l| l.name.clone()).collect())
                };
                exprs.push(Expr::new(kind, node.span));
            }
        }
        // Variable-length relationships check their property maps while walking.
        for step in element.chain.iter().filter(|s| s.rel.length.is_none()) {
            if let Some(props) = &step.rel.properties {
                exprs.extend(property_conjuncts(&rel_name(&step.rel), props));
            }
        }
    }
    exprs.into_iter().map(|expr| Conjunct { needs: free_variables(&expr, &scope), expr }).collect()
}

impl Planner<'_> {
    fn hidden(&self, what: &str) -> String {
        let n = self.next_hidden.get();
        self.next_hidden.set(n + 1);
        format!("{HIDDEN}{what}{n}")
    }

    /// Plans one query part, returning its operator tree and column names.
    fn single(&self, query: &SingleQuery) -> Result<(Op, Vec<String>)> {
        self.single_from(Op::new(OpKind::Argument, Vec::new()), query)
    }

    /// Plans one query part on top of `start` (a subquery starts from its outer row).
    fn single_from(&self, start: Op, query: &SingleQuery) -> Result<(Op, Vec<String>)> {
        let mut op = start;
        let mut columns = Vec::new();
        let mut skip = 0;
        // Counting over parts that share no variable multiplies their counts (only from
        // the query's start: a subquery's parts may read the outer row).
        if let Some(product) =
            self.use_indexes.then(|| factorise(query, self.text)).flatten().filter(|_| is_empty_argument(&op))
        {
            let parts = product.parts.iter().map(|part| Ok(self.single(part)?.0)).collect::<Result<Vec<_>>>()?;
            op = Op::new(OpKind::CountProduct { parts, outputs: product.outputs }, product.columns.clone());
            if matches!(query.clauses[product.projection_at], Clause::Return(_)) {
                columns = product.columns;
            }
            skip = product.projection_at + 1;
        }
        for clause in &query.clauses[skip..] {
            op = match clause {
                Clause::Match(m) if m.optional => {
                    let argument = Op::new(OpKind::Argument, op.layout.clone());
                    let inner = self.plan_match_with_subqueries(argument, m)?;
                    let layout = inner.layout.clone();
                    Op::new(OpKind::Optional { input: Box::new(op), inner: Box::new(inner) }, layout)
                }
                Clause::Match(m) => self.plan_match_with_subqueries(op, m)?,
                Clause::Unwind(u) => {
                    let (op, expr) = self.lift_subqueries(op, &u.expr)?;
                    let layout = op.extended(&[&u.variable.name]);
                    Op::new(OpKind::Unwind { input: Box::new(op), expr, var: u.variable.name.clone() }, layout)
                }
                Clause::With(w) => {
                    let (op, projection) = self.lift_projection_subqueries(op, &w.projection)?;
                    match &w.where_ {
                        Some(cond) if contains_subquery(cond) => {
                            // The filter runs on the projected rows, so it may read only
                            // what the WITH projects.
                            let before: BTreeSet<String> = op.layout.iter().cloned().collect();
                            let mut read: Vec<String> = free_variables(cond, &before).into_iter().collect();
                            cond.walk(&mut |e| {
                                if let ExprKind::Subquery { query, .. } = &e.kind {
                                    query_variables(query, &mut read);
                                }
                            });
                            let (projected, names) = self.plan_projection(op, &projection, None)?;
                            if let Some(v) = read.iter().find(|v| before.contains(*v) && !names.contains(v)) {
                                return Err(QueryError::unsupported(
                                    cond.span.start,
                                    format!("a WHERE with a subquery after WITH reads only what the WITH projects; add {v} to it"),
                                ));
                            }
                            let (projected, cond) = self.lift_subqueries(projected, cond)?;
                            filter(projected, cond)
                        }
                        where_ => self.plan_projection(op, &projection, where_.as_ref())?.0,
                    }
                }
                Clause::Call(call) => {
                    let (planned, names) = self.plan_call(op, call, is_standalone_call(query))?;
                    if is_standalone_call(query) {
                        columns = names;
                    }
                    planned
                }
                Clause::Return(r) => {
                    let (op, projection) = self.lift_projection_subqueries(op, &r.projection)?;
                    let (projected, names) = self.plan_projection(op, &projection, None)?;
                    columns = names;
                    projected
                }
                other => {
                    return Err(QueryError::unsupported(
                        other.span().start,
                        super::semantic::read_only_message(other.keyword()),
                    ))
                }
            };
        }
        Ok((op, columns))
    }

    // --- subqueries ---------------------------------------------------------------------

    /// A MATCH whose WHERE holds subqueries: the other conjuncts are placed as usual, the
    /// ones with subqueries filter the matched rows (they may read any pattern variable).
    fn plan_match_with_subqueries(&self, input: Op, m: &MatchClause) -> Result<Op> {
        let Some(cond) = m.where_.as_ref().filter(|c| contains_subquery(c)) else {
            return self.plan_match(input, m);
        };
        let (lifted, plain): (Vec<Expr>, Vec<Expr>) = split_and(cond).into_iter().partition(contains_subquery);
        let plain_where = plain.into_iter().reduce(|a, b| {
            let span = Span { start: a.span.start, end: b.span.end };
            Expr::new(ExprKind::Binary(BinaryOp::And, Box::new(a), Box::new(b)), span)
        });
        let mut op = self.plan_match(input, &MatchClause { where_: plain_where, ..m.clone() })?;
        for conjunct in lifted {
            let (with_values, predicate) = self.lift_subqueries(op, &conjunct)?;
            op = filter(with_values, predicate);
        }
        Ok(op)
    }

    /// A projection whose items hold subqueries: each is planned below it and the item
    /// reads its column (keeping the item's written name); ORDER BY may not hold one.
    fn lift_projection_subqueries(&self, mut op: Op, projection: &Projection) -> Result<(Op, Projection)> {
        if let Some(sort) = projection.order_by.iter().find(|s| contains_subquery(&s.expr)) {
            return Err(QueryError::unsupported(
                sort.expr.span.start,
                "a subquery in ORDER BY is not supported; project it with an alias and order by that",
            ));
        }
        let mut projection = projection.clone();
        for item in &mut projection.items {
            if !contains_subquery(&item.expr) {
                continue;
            }
            if item.alias.is_none() {
                item.alias = Some(Ident { name: source_text(self.text, item.expr.span), span: item.expr.span });
            }
            let (lifted, expr) = self.lift_subqueries(op, &item.expr)?;
            op = lifted;
            item.expr = expr;
        }
        Ok((op, projection))
    }

    /// Plans every subquery in `expr` as a `Subquery` operator over `op`, each binding a
    /// hidden column, and returns `expr` reading those columns instead.
    fn lift_subqueries(&self, op: Op, expr: &Expr) -> Result<(Op, Expr)> {
        let mut found: Vec<(SubqueryKind, Query, String)> = Vec::new();
        let rewritten = self.replace_subqueries(expr, &mut found);
        let mut op = op;
        for (kind, query, name) in found {
            op = self.plan_subquery(op, kind, &query, &name)?;
        }
        Ok((op, rewritten))
    }

    fn replace_subqueries(&self, expr: &Expr, found: &mut Vec<(SubqueryKind, Query, String)>) -> Expr {
        if let ExprKind::Subquery { kind, query } = &expr.kind {
            let name = self.hidden("subquery");
            found.push((*kind, (**query).clone(), name.clone()));
            return Expr::new(ExprKind::Variable(name), expr.span);
        }
        map_children(expr, &mut |child| self.replace_subqueries(child, found))
    }

    fn plan_subquery(&self, input: Op, kind: SubqueryKind, query: &Query, name: &str) -> Result<Op> {
        let argument = Op::new(OpKind::Argument, input.layout.clone());
        let (inner, columns) = self.single_from(argument, &query.first)?;
        let column = match columns.first() {
            Some(returned) if kind == SubqueryKind::Collect => inner.slot(returned)?,
            _ => 0,
        };
        let layout = input.extended(&[name]);
        Ok(Op::new(OpKind::Subquery { input: Box::new(input), inner: Box::new(inner), kind, column }, layout))
    }

    // --- CALL ---------------------------------------------------------------------------

    /// Plans `CALL` on top of `input` (checked already: the procedure exists, the fields
    /// are its own); returns the operator and the names it binds.
    fn plan_call(&self, input: Op, call: &CallClause, standalone: bool) -> Result<(Op, Vec<String>)> {
        let procedure = self.procedures.get(&call.procedure.name).cloned().ok_or_else(|| {
            QueryError::semantic(
                call.procedure.span.start,
                format!("there is no procedure called {}", call.procedure.name),
            )
        })?;
        let signature = procedure.signature().clone();
        let (yields, names): (Vec<usize>, Vec<String>) = match &call.yields {
            Yields::Unspecified | Yields::Star => {
                signature.outputs.iter().enumerate().map(|(i, o)| (i, o.name.clone())).unzip()
            }
            Yields::Items(items) => items
                .iter()
                .filter_map(|item| Some((signature.output_index(&item.field.name)?, item.variable().name.clone())))
                .unzip(),
        };
        // An in-query call without YIELD binds nothing (its rows still multiply the input).
        let (yields, names) = if matches!(call.yields, Yields::Unspecified) && !standalone {
            (Vec::new(), Vec::new())
        } else {
            (yields, names)
        };
        let args = match &call.args {
            Some(args) => CallArgs::Explicit(args.clone()),
            None => CallArgs::FromParameters,
        };
        let layout = input.extended(&names.iter().map(String::as_str).collect::<Vec<_>>());
        let passes_row = signature.is_void() && !standalone;
        let resolved = Resolved { procedure, registry: self.procedures.clone() };
        let kind = OpKind::ProcedureCall { input: Box::new(input), procedure: resolved, args, yields, passes_row };
        let mut op = Op::new(kind, layout);
        if let Some(cond) = &call.where_ {
            op = filter(op, cond.clone());
        }
        Ok((op, names))
    }

    // --- MATCH --------------------------------------------------------------------------

    /// Plans a MATCH clause on top of `input`: anchors, expansions, filters, paths.
    fn plan_match(&self, input: Op, m: &MatchClause) -> Result<Op> {
        let bound_before: BTreeSet<String> = input.layout.iter().cloned().collect();
        // Name every anonymous element so operators can refer to it.
        let mut parts: Vec<PatternPart> = m.pattern.parts.clone();
        for part in &mut parts {
            self.name_anonymous(&mut part.element);
        }
        let mut conjuncts = match_conjuncts(m, &parts, &bound_before);
        let graph = PatternGraph::of(&parts);

        let mut op = self.place_filters(input, &mut conjuncts, &bound_before);
        let mut bound = bound_before;
        let mut planned_rels: Vec<bool> = vec![false; graph.rels.len()];
        let mut rel_columns: Vec<String> = Vec::new();
        let mut built_paths: BTreeSet<usize> = BTreeSet::new();
        loop {
            // Expand along any relationship with a bound end (both ends bound first: cheapest).
            let rels = &graph.rels;
            let next_rel = (0..rels.len())
                .filter(|&i| !planned_rels[i])
                .filter(|&i| bound.contains(&rels[i].left) || bound.contains(&rels[i].right))
                .min_by_key(|&i| (!(bound.contains(&rels[i].left) && bound.contains(&rels[i].right)), i));
            if let Some(i) = next_rel {
                planned_rels[i] = true;
                let r = &rels[i];
                // When the far node is about to be checked against a bound node (the next
                // step is an ExpandInto), its labels are tested after that step: the
                // relationship check is a lookup and usually the more selective.
                let far = if bound.contains(&r.left) { &r.right } else { &r.left };
                let closing = (0..rels.len()).find(|&j| {
                    !planned_rels[j]
                        && ((&rels[j].left == far && bound.contains(&rels[j].right))
                            || (&rels[j].right == far && bound.contains(&rels[j].left)))
                });
                let far_labels = graph.labels.get(far).cloned().unwrap_or_default();
                let defer = self.use_indexes && !bound.contains(far) && !far_labels.is_empty() && closing.is_some();
                let mut labels = graph.labels.clone();
                if defer {
                    labels.remove(far);
                    if let Some(j) = closing {
                        let check = Expr::new(
                            ExprKind::HasLabels(Box::new(var_expr(far)), far_labels.clone()),
                            Span::default(),
                        );
                        conjuncts.insert(
                            0,
                            Conjunct { expr: check, needs: BTreeSet::from([far.clone(), rels[j].name.clone()]) },
                        );
                    }
                }
                op = self.plan_expand(op, r, &bound, &labels, &rel_columns, &parts)?;
                bound.extend([r.left.clone(), r.right.clone(), r.name.clone()]);
                rel_columns.push(r.name.clone());
                if r.rel.length.is_some() && self.part_is_named(&parts, r.part) {
                    bound.insert(segment_name(&r.name));
                }
            } else {
                // Otherwise start a new component at its cheapest unbound node.
                let unbound: Vec<&String> = graph.nodes.iter().filter(|n| !bound.contains(*n)).collect();
                if unbound.is_empty() {
                    break;
                }
                let (name, source) =
                    self.choose_anchor(&unbound, rels, &planned_rels, &graph.labels, &conjuncts, &bound);
                let labels = graph.labels.get(&name).cloned().unwrap_or_default();
                let layout = op.extended(&[&name]);
                let component = component_of(&name, rels, &planned_rels);
                op = Op::new(OpKind::NodeScan { input: Box::new(op), var: name.clone(), source, labels }, layout);
                bound.insert(name);
                // Other nodes of the component an id or name index finds (a handful of
                // rows) are looked up now too, so expansions meet them with a check
                // instead of reading every candidate and filtering it afterwards.
                if self.use_indexes {
                    op = self.place_filters(op, &mut conjuncts, &bound);
                    let others: Vec<&String> =
                        graph.nodes.iter().filter(|n| !bound.contains(*n) && component.contains(*n)).collect();
                    for other in others {
                        let labels = graph.labels.get(other).cloned().unwrap_or_default();
                        let (cost, source) = self.anchor_cost(other, &labels, &conjuncts, &bound);
                        if cost > 2 {
                            continue;
                        }
                        let layout = op.extended(&[other]);
                        op = Op::new(
                            OpKind::NodeScan { input: Box::new(op), var: other.clone(), source, labels },
                            layout,
                        );
                        bound.insert(other.clone());
                        op = self.place_filters(op, &mut conjuncts, &bound);
                    }
                }
            }
            op = self.place_paths(op, &parts, rels, &planned_rels, &mut built_paths, &mut bound)?;
            op = self.place_filters(op, &mut conjuncts, &bound);
        }
        // Shortest paths last: their endpoints are bound by now.
        for part in parts.iter().filter(|p| p.shortest.is_some()) {
            op = self.plan_shortest(op, part, &mut bound, &graph.labels, &rel_columns)?;
            op = self.place_filters(op, &mut conjuncts, &bound);
        }
        // Whatever is left (cannot happen for checked queries) is applied at the end.
        for c in conjuncts.drain(..) {
            op = filter(op, c.expr);
        }
        Ok(op)
    }

    fn part_is_named(&self, parts: &[PatternPart], index: usize) -> bool {
        parts.get(index).is_some_and(|p| p.variable.is_some())
    }

    /// Gives anonymous nodes and relationships hidden names.
    fn name_anonymous(&self, element: &mut PatternElement) {
        let name_node = |node: &mut NodePattern| {
            if node.variable.is_none() {
                node.variable = Some(Ident { name: self.hidden("anon_"), span: node.span });
            }
        };
        name_node(&mut element.start);
        for step in &mut element.chain {
            name_node(&mut step.node);
            if step.rel.variable.is_none() {
                step.rel.variable = Some(Ident { name: self.hidden("anon_"), span: step.rel.span });
            }
        }
    }

    /// Adds every conjunct whose variables are all bound, in written order.
    fn place_filters(&self, mut op: Op, conjuncts: &mut Vec<Conjunct>, bound: &BTreeSet<String>) -> Op {
        let mut i = 0;
        while i < conjuncts.len() {
            if conjuncts[i].needs.iter().all(|v| bound.contains(v)) {
                let c = conjuncts.remove(i);
                op = filter(op, c.expr);
            } else {
                i += 1;
            }
        }
        op
    }

    /// Builds each named path once all of its pieces are bound.
    fn place_paths(
        &self,
        mut op: Op,
        parts: &[PatternPart],
        rels: &[PatternRel<'_>],
        planned: &[bool],
        built: &mut BTreeSet<usize>,
        bound: &mut BTreeSet<String>,
    ) -> Result<Op> {
        for (index, part) in parts.iter().enumerate() {
            let Some(var) = &part.variable else { continue };
            if part.shortest.is_some() || built.contains(&index) {
                continue;
            }
            let start = node_name(&part.element.start);
            let part_rels: Vec<usize> = (0..rels.len()).filter(|&i| rels[i].part == index).collect();
            if !bound.contains(&start) || !part_rels.iter().all(|&i| planned[i]) {
                continue;
            }
            let mut pieces = Vec::new();
            for &i in &part_rels {
                let r = &rels[i];
                if r.rel.length.is_some() {
                    pieces.push(PathPiece::Segment { path: op.slot(&segment_name(&r.name))? });
                } else {
                    pieces.push(PathPiece::Step { rel: op.slot(&r.name)?, node: op.slot(&r.right)? });
                }
            }
            let start_slot = op.slot(&start)?;
            let layout = op.extended(&[&var.name]);
            op = Op::new(
                OpKind::BuildPath { input: Box::new(op), var: var.name.clone(), start: start_slot, pieces },
                layout,
            );
            built.insert(index);
            bound.insert(var.name.clone());
        }
        Ok(op)
    }

    /// Picks where a new pattern component starts: an indexed equality on `id` or on an
    /// entity's name, else the smallest label, else every node. Naively, the first node.
    fn choose_anchor(
        &self,
        unbound: &[&String],
        rels: &[PatternRel<'_>],
        planned: &[bool],
        labels: &BTreeMap<String, Vec<String>>,
        conjuncts: &[Conjunct],
        bound: &BTreeSet<String>,
    ) -> (String, NodeSource) {
        let first = unbound[0].clone();
        if !self.use_indexes {
            return (first, NodeSource::All);
        }
        // Only nodes of the component holding the first unbound node compete, so the
        // written order of components is kept.
        let component = component_of(&first, rels, planned);
        let mut best: Option<(u64, String, NodeSource)> = None;
        for name in unbound.iter().filter(|n| component.contains(**n)) {
            let (cost, source) =
                self.anchor_cost(name, labels.get(*name).map(Vec::as_slice).unwrap_or(&[]), conjuncts, bound);
            if best.as_ref().map_or(true, |(c, _, _)| cost < *c) {
                best = Some((cost, (*name).clone(), source));
            }
        }
        match best {
            Some((_, name, source)) => (name, source),
            None => (first, NodeSource::All),
        }
    }

    fn anchor_cost(
        &self,
        name: &str,
        labels: &[String],
        conjuncts: &[Conjunct],
        bound: &BTreeSet<String>,
    ) -> (u64, NodeSource) {
        for c in conjuncts {
            if let Some(value) = equality_on(&c.expr, name, "id", bound) {
                return (1, NodeSource::Key(value));
            }
        }
        let entity_kind = labels.iter().find(|l| ENTITY_KINDS.contains(&l.as_str())).filter(|_| self.name_index);
        if let Some(kind) = entity_kind {
            for c in conjuncts {
                if let Some(value) = equality_on(&c.expr, name, "name", bound) {
                    return (2, NodeSource::Name { label: kind.clone(), value });
                }
            }
        }
        let smallest = labels.iter().map(|l| (self.stats.labels.get(l).copied().unwrap_or(0), l)).min();
        match smallest {
            Some((count, label)) if count.saturating_mul(2) >= self.stats.nodes && count > 0 => {
                (10 + count, NodeSource::LabelRecords(label.clone()))
            }
            Some((count, label)) => (10 + count, NodeSource::Label(label.clone())),
            None => (11 + self.stats.nodes, NodeSource::All),
        }
    }

    /// Plans the expansion of one relationship from whichever end is bound.
    fn plan_expand(
        &self,
        op: Op,
        r: &PatternRel<'_>,
        bound: &BTreeSet<String>,
        labels: &BTreeMap<String, Vec<String>>,
        rel_columns: &[String],
        parts: &[PatternPart],
    ) -> Result<Op> {
        // Walk left-to-right unless only the right end is bound.
        let forward = bound.contains(&r.left);
        let (from, to) = if forward { (&r.left, &r.right) } else { (&r.right, &r.left) };
        let direction = match (r.rel.direction, forward) {
            (PatternDirection::Either, _) => PatternDirection::Either,
            (d, true) => d,
            (PatternDirection::Outgoing, false) => PatternDirection::Incoming,
            (PatternDirection::Incoming, false) => PatternDirection::Outgoing,
        };
        let into = if bound.contains(to) { Some(op.slot(to)?) } else { None };
        let unique_with = rel_columns.iter().map(|c| op.slot(c)).collect::<Result<Vec<_>>>()?;
        let types: Vec<String> = {
            let mut t: Vec<String> = r.rel.types.iter().map(|t| t.name.clone()).collect();
            t.dedup();
            t
        };
        let to_labels = if into.is_some() { Vec::new() } else { labels.get(to).cloned().unwrap_or_default() };
        let text = expand_text(from, &r.name, (to, &to_labels), &types, direction, r.rel.length);
        let walk = Walk { from: op.slot(from)?, types, direction, into, to_labels, unique_with, text };
        match r.rel.length {
            None => {
                let rel_bound = if bound.contains(&r.name) { Some(op.slot(&r.name)?) } else { None };
                let mut new: Vec<&str> = Vec::new();
                if rel_bound.is_none() {
                    new.push(&r.name);
                }
                if into.is_none() {
                    new.push(to);
                }
                let layout = op.extended(&new);
                Ok(Op::new(OpKind::Expand { input: Box::new(op), walk, rel_bound, distinct_on: None }, layout))
            }
            Some(length) => {
                // The walked sub-path is kept only for a named path to be built from.
                let with_path = self.part_is_named(parts, r.part);
                let segment = segment_name(&r.name);
                let bound_list = if bound.contains(&r.name) { Some(op.slot(&r.name)?) } else { None };
                let mut new: Vec<&str> = Vec::new();
                if bound_list.is_none() {
                    new.push(&r.name);
                }
                if into.is_none() {
                    new.push(to);
                }
                if with_path {
                    new.push(&segment);
                }
                let layout = op.extended(&new);
                Ok(Op::new(
                    OpKind::VarExpand {
                        input: Box::new(op),
                        walk,
                        min: length.min_hops(),
                        max: length.max,
                        reversed: !forward,
                        props: r.rel.properties.clone(),
                        with_path,
                        bound_list,
                    },
                    layout,
                ))
            }
        }
    }

    /// Plans `p = shortestPath((a)-[…]-(b))`: both ends are scanned first if unbound.
    fn plan_shortest(
        &self,
        mut op: Op,
        part: &PatternPart,
        bound: &mut BTreeSet<String>,
        labels: &BTreeMap<String, Vec<String>>,
        rel_columns: &[String],
    ) -> Result<Op> {
        let element = &part.element;
        let Some(step) = element.chain.first() else {
            return Err(QueryError::semantic(part.span.start, "shortestPath needs a relationship"));
        };
        let from = node_name(&element.start);
        let to = node_name(&step.node);
        for end in [&from, &to] {
            if !bound.contains(end) {
                let node_labels = labels.get(end).cloned().unwrap_or_default();
                let source = match node_labels.first() {
                    Some(l) if self.use_indexes => NodeSource::Label(l.clone()),
                    _ => NodeSource::All,
                };
                let layout = op.extended(&[end]);
                op = Op::new(
                    OpKind::NodeScan { input: Box::new(op), var: end.clone(), source, labels: node_labels },
                    layout,
                );
                bound.insert(end.clone());
            }
        }
        let rel = &step.rel;
        let rel_var = rel_name(rel);
        let (min, max) = match rel.length {
            Some(length) => (length.min_hops(), length.max),
            None => (1, Some(1)),
        };
        let path_var = part.variable.as_ref().map_or_else(|| self.hidden("path_"), |v| v.name.clone());
        let types: Vec<String> = rel.types.iter().map(|t| t.name.clone()).collect();
        let walk = Walk {
            from: op.slot(&from)?,
            text: expand_text(&from, &rel_var, (&to, &[]), &types, rel.direction, rel.length),
            types,
            direction: rel.direction,
            into: Some(op.slot(&to)?),
            to_labels: Vec::new(),
            unique_with: rel_columns.iter().map(|c| op.slot(c)).collect::<Result<Vec<_>>>()?,
        };
        let layout = op.extended(&[&rel_var, &path_var]);
        bound.insert(rel_var);
        bound.insert(path_var);
        Ok(Op::new(
            OpKind::ShortestPath {
                input: Box::new(op),
                walk,
                min,
                max,
                all: part.shortest == Some(ShortestKind::All),
                props: rel.properties.clone(),
                bind_rels: rel.length.is_some(),
            },
            layout,
        ))
    }

    // --- WITH / RETURN ------------------------------------------------------------------

    /// Plans a projection: aggregation or evaluation, DISTINCT, ORDER BY, SKIP, LIMIT, and
    /// WITH's WHERE. Returns the operator and the column names.
    fn plan_projection(&self, input: Op, projection: &Projection, where_: Option<&Expr>) -> Result<(Op, Vec<String>)> {
        let items = self.projection_items(&input, projection);
        let columns: Vec<String> = items.iter().map(|(n, _)| n.clone()).collect();
        let aggregating = items.iter().any(|(_, e)| contains_aggregate(e));
        let item_exprs: Vec<(Expr, String)> = items.iter().map(|(n, e)| (e.clone(), n.clone())).collect();
        let sort_keys: Vec<(Expr, bool)> =
            projection.order_by.iter().map(|s| (replace_items(&s.expr, &item_exprs), s.descending)).collect();

        // A WHERE reading variables from before a non-aggregating WITH runs on the rows
        // as projected, before DISTINCT, ORDER BY, SKIP and LIMIT; one reading only the
        // projected names filters what WITH passes on.
        let input_names: BTreeSet<String> = input.layout.iter().cloned().collect();
        let early_where = where_
            .filter(|cond| !aggregating && free_variables(cond, &input_names).iter().any(|v| !columns.contains(v)));
        let late_where = where_.filter(|_| early_where.is_none());
        // ORDER BY and an early WHERE may read the input's variables: keep them alongside.
        let keep_input =
            !aggregating && (early_where.is_some() || (!projection.distinct && !projection.order_by.is_empty()));
        let mut op = if aggregating {
            self.plan_aggregation(input, &items)?
        } else {
            let mut layout = if keep_input { input.layout.clone() } else { Vec::new() };
            layout.extend(columns.iter().cloned());
            Op::new(OpKind::Project { input: Box::new(input), items, keep_input }, layout)
        };
        if let Some(cond) = early_where {
            op = filter(op, cond.clone());
        }
        if projection.distinct {
            let offset = op.layout.len() - columns.len();
            let on = keep_input.then(|| (offset..op.layout.len()).collect());
            op = op.then(|input| OpKind::Distinct { input, on });
        }
        if !sort_keys.is_empty() {
            op = op.then(|input| OpKind::Sort { input, keys: sort_keys });
        }
        if let Some(count) = &projection.skip {
            op = op.then(|input| OpKind::Skip { input, count: count.clone() });
        }
        if let Some(count) = &projection.limit {
            op = op.then(|input| OpKind::Limit { input, count: count.clone() });
        }
        if keep_input {
            let offset = op.layout.len() - columns.len();
            let slots = (offset..op.layout.len()).collect();
            op = Op::new(OpKind::Select { input: Box::new(op), columns: slots }, columns.clone());
        }
        if let Some(cond) = late_where {
            op = filter(op, cond.clone());
        }
        Ok((op, columns))
    }

    /// The (column name, expression) pairs of a projection, `*` expanded to the visible
    /// variables in name order.
    fn projection_items(&self, input: &Op, projection: &Projection) -> Vec<(String, Expr)> {
        let mut items: Vec<(String, Expr)> = Vec::new();
        if projection.star {
            let mut names: Vec<&String> = input.layout.iter().filter(|n| !is_hidden(n)).collect();
            names.sort();
            names.dedup();
            items.extend(names.into_iter().map(|name| (name.clone(), var_expr(name))));
        }
        for item in &projection.items {
            let name = match (&item.alias, &item.expr.kind) {
                (Some(alias), _) => alias.name.clone(),
                (None, ExprKind::Variable(v)) => v.clone(),
                (None, _) => source_text(self.text, item.expr.span),
            };
            items.push((name, item.expr.clone()));
        }
        items
    }

    /// Groups by the items without aggregates and computes each distinct aggregate call
    /// once, then re-expresses every item over those grouped columns.
    fn plan_aggregation(&self, input: Op, items: &[(String, Expr)]) -> Result<Op> {
        let mut keys: Vec<(String, Expr)> = Vec::new();
        let mut aggs: Vec<(Expr, String)> = Vec::new();
        for (_, e) in items {
            if contains_aggregate(e) {
                collect_aggregates(e, &mut aggs, &|| self.hidden("agg_"));
            } else {
                keys.push((self.hidden("key_"), e.clone()));
            }
        }
        let aggregates =
            aggs.iter().map(|(e, name)| Ok((name.clone(), self.aggregation(e)?))).collect::<Result<Vec<_>>>()?;
        let mut layout: Vec<String> = keys.iter().map(|(n, _)| n.clone()).collect();
        layout.extend(aggregates.iter().map(|(n, _)| n.clone()));
        let key_exprs: Vec<(Expr, String)> = keys.iter().map(|(n, e)| (e.clone(), n.clone())).collect();
        let input = self.drop_duplicates_early(input, &keys, &aggregates);
        let from_statistics = self.counts_from_statistics(&input, &keys, &aggregates);
        let counted = self.neighbour_counts(&input, &keys, &aggregates);
        let mut grouped = Op::new(
            OpKind::Aggregate { input: Box::new(input), keys: keys.clone(), aggregates: aggregates.clone() },
            layout.clone(),
        );
        if let Some(counted) = counted {
            // Each count becomes the sum of the rows each reached node stands for.
            let count_var = counted.layout[1].clone();
            let sums = aggregates
                .iter()
                .map(|(name, _)| {
                    let text = format!("sum({})", count_var.trim_start_matches(HIDDEN));
                    let sum = Aggregation {
                        func: AggFunc::Sum,
                        distinct: false,
                        arg: Some(var_expr(&count_var)),
                        extra: None,
                        text,
                    };
                    (name.clone(), sum)
                })
                .collect();
            let by_counts =
                Op::new(OpKind::Aggregate { input: Box::new(counted), keys, aggregates: sums }, layout.clone());
            grouped =
                Op::new(OpKind::PreferCounts { counted: Box::new(by_counts), expanded: Box::new(grouped) }, layout);
        } else if let Some((label, property, count)) = from_statistics {
            let layout = grouped.layout.clone();
            let kind = OpKind::CountsFromStatistics { label, property, aggregates: count, fallback: Box::new(grouped) };
            grouped = Op::new(kind, layout);
        }
        let out_items: Vec<(String, Expr)> =
            items.iter().map(|(name, e)| (name.clone(), replace_aggregates(e, &aggs, &key_exprs))).collect();
        let columns = items.iter().map(|(n, _)| n.clone()).collect();
        Ok(Op::new(OpKind::Project { input: Box::new(grouped), items: out_items, keep_input: false }, columns))
    }

    /// Whether an aggregation is `count(*)` (or `count(n)`) over one label scan, grouped by
    /// nothing or by one counted property of the scanned node: then the maintained
    /// statistics answer it. Returns the label, the property and the number of counts.
    fn counts_from_statistics(
        &self,
        input: &Op,
        keys: &[(String, Expr)],
        aggregates: &[(String, Aggregation)],
    ) -> Option<(String, Option<String>, usize)> {
        let OpKind::NodeScan { input: scan_input, var, source, labels } = &input.kind else { return None };
        let label = match source {
            NodeSource::Label(label) | NodeSource::LabelRecords(label) => label,
            _ => return None,
        };
        if !self.use_indexes || !is_empty_argument(scan_input) || labels.as_slice() != [label.clone()] {
            return None;
        }
        let counts_nodes = |a: &Aggregation| match (a.func, &a.arg) {
            (AggFunc::CountStar, _) => true,
            (AggFunc::Count, Some(arg)) => !a.distinct && matches!(&arg.kind, ExprKind::Variable(v) if v == var),
            _ => false,
        };
        if aggregates.is_empty() || !aggregates.iter().all(|(_, a)| counts_nodes(a)) {
            return None;
        }
        let property = match keys {
            [] => None,
            [(_, key)] => match &key.kind {
                ExprKind::Property(target, property) if matches!(&target.kind, ExprKind::Variable(v) if v == var) => {
                    self.stats.value_counts(label, property)?;
                    Some(property.clone())
                }
                _ => return None,
            },
            _ => return None,
        };
        Some((label.clone(), property, aggregates.len()))
    }

    /// An aggregation whose every aggregate ignores duplicate rows (`count(DISTINCT x)`,
    /// `collect(DISTINCT x)`, `min`, `max`, …) reads, with its keys and the filters below
    /// it, only some of the rows' variables: rows equal on those are interchangeable, so the
    /// expansion under the filters need not produce them twice (`distinct_on`). Only that
    /// last expansion: the rows of an earlier one lead on to different rows.
    fn drop_duplicates_early(
        &self,
        mut input: Op,
        keys: &[(String, Expr)],
        aggregates: &[(String, Aggregation)],
    ) -> Op {
        let ignores_duplicates = |a: &Aggregation| match a.func {
            AggFunc::Min | AggFunc::Max => true,
            AggFunc::CountStar => false,
            _ => a.distinct,
        };
        if !self.use_indexes || aggregates.is_empty() || !aggregates.iter().all(|(_, a)| ignores_duplicates(a)) {
            return input;
        }
        let scope: BTreeSet<String> = input.layout.iter().cloned().collect();
        let mut read: BTreeSet<String> = BTreeSet::new();
        let mut random = false;
        let mut note = |e: &Expr| {
            read.extend(free_variables(e, &scope));
            e.walk(&mut |x| {
                if let ExprKind::Function { name, .. } = &x.kind {
                    random |= functions::canonical_name(name) == Some("rand");
                }
            });
        };
        keys.iter().for_each(|(_, e)| note(e));
        aggregates.iter().flat_map(|(_, a)| a.arg.iter().chain(a.extra.iter())).for_each(&mut note);
        // Walk down through the filters to the expansion, noting what they read.
        let mut op = &mut input;
        loop {
            match &mut op.kind {
                OpKind::Filter { input, predicate } => {
                    note(predicate);
                    op = input;
                }
                OpKind::Expand { distinct_on, .. } => {
                    if random {
                        return input;
                    }
                    let slots: Option<Vec<usize>> =
                        read.iter().map(|v| op.layout.iter().rposition(|n| n == v)).collect();
                    if let Some(slots) = slots {
                        *distinct_on = Some(slots);
                    }
                    return input;
                }
                _ => return input,
            }
        }
    }

    /// Whether an aggregation counts the rows of `MATCH (a:L)-[:T]-(b)` grouped by
    /// expressions of `b` alone (not `a`, not the relationship, nothing random): then the
    /// rows need not be built. The answer is a `NeighbourCounts` binding `b` and how many
    /// rows each `b` stands for; every count becomes a sum of that column.
    fn neighbour_counts(
        &self,
        input: &Op,
        keys: &[(String, Expr)],
        aggregates: &[(String, Aggregation)],
    ) -> Option<Op> {
        let OpKind::Expand { input: scan, walk, rel_bound: None, distinct_on: None } = &input.kind else { return None };
        let OpKind::NodeScan { input: scan_input, var: from, source, labels } = &scan.kind else { return None };
        let label = match source {
            NodeSource::Label(label) | NodeSource::LabelRecords(label) => label,
            _ => return None,
        };
        if !self.use_indexes
            || !is_empty_argument(scan_input)
            || labels.as_slice() != [label.clone()]
            || walk.into.is_some()
            || !walk.unique_with.is_empty()
            || input.layout.len() != 3
        {
            return None;
        }
        let (rel, far) = (&input.layout[1], &input.layout[2]);
        if far == from || far == rel || from == rel {
            return None;
        }
        let row_variables: BTreeSet<String> = input.layout.iter().cloned().collect();
        let counts_rows = |a: &Aggregation| match (a.func, &a.arg) {
            (AggFunc::CountStar, _) => true,
            // Every variable of the pattern is bound (never null) in every row.
            (AggFunc::Count, Some(arg)) => {
                !a.distinct && matches!(&arg.kind, ExprKind::Variable(v) if row_variables.contains(v))
            }
            _ => false,
        };
        if aggregates.is_empty() || !aggregates.iter().all(|(_, a)| counts_rows(a)) {
            return None;
        }
        let of_far_node_only = |e: &Expr| {
            let mut random = false;
            e.walk(&mut |x| {
                if let ExprKind::Function { name, .. } = &x.kind {
                    random |= functions::canonical_name(name) == Some("rand");
                }
            });
            !random && free_variables(e, &row_variables).iter().all(|v| v == far)
        };
        if !keys.iter().all(|(_, e)| of_far_node_only(e)) {
            return None;
        }
        let count = self.hidden("count_");
        let kind = OpKind::NeighbourCounts {
            label: label.clone(),
            walk: walk.clone(),
            var: far.clone(),
            count: count.clone(),
        };
        Some(Op::new(kind, vec![far.clone(), count]))
    }

    fn aggregation(&self, e: &Expr) -> Result<Aggregation> {
        let text = e.to_string();
        let (name, distinct, args) = match &e.kind {
            ExprKind::CountStar => {
                return Ok(Aggregation { func: AggFunc::CountStar, distinct: false, arg: None, extra: None, text })
            }
            ExprKind::Function { name, distinct, args } => (name, *distinct, args),
            _ => return Err(QueryError::runtime("internal planner error: not an aggregate")),
        };
        let func = match functions::canonical_name(name) {
            Some("count") => AggFunc::Count,
            Some("collect") => AggFunc::Collect,
            Some("sum") => AggFunc::Sum,
            Some("avg") => AggFunc::Avg,
            Some("min") => AggFunc::Min,
            Some("max") => AggFunc::Max,
            Some("stDev") => AggFunc::StDev,
            Some("stDevP") => AggFunc::StDevP,
            Some("percentileDisc") => AggFunc::PercentileDisc,
            Some("percentileCont") => AggFunc::PercentileCont,
            _ => return Err(QueryError::semantic(e.span.start, format!("unknown aggregate function '{name}'"))),
        };
        Ok(Aggregation { func, distinct, arg: args.first().cloned(), extra: args.get(1).cloned(), text })
    }
}

/// Whether `expr` holds an `EXISTS`/`COUNT`/`COLLECT` subquery (outside any other one).
fn contains_subquery(expr: &Expr) -> bool {
    let mut found = false;
    expr.walk(&mut |e| found |= matches!(e.kind, ExprKind::Subquery { .. }));
    found
}

fn filter(input: Op, predicate: Expr) -> Op {
    input.then(|input| OpKind::Filter { input, predicate })
}

fn var_expr(name: &str) -> Expr {
    Expr::new(ExprKind::Variable(name.to_string()), Span::default())
}

fn node_name(node: &NodePattern) -> String {
    node.variable.as_ref().map(|v| v.name.clone()).unwrap_or_default()
}

fn rel_name(rel: &RelPattern) -> String {
    rel.variable.as_ref().map(|v| v.name.clone()).unwrap_or_default()
}

/// The hidden column holding a variable-length relationship's walked sub-path.
fn segment_name(rel: &str) -> String {
    format!("{HIDDEN}segment {rel}")
}

/// Splits a predicate on AND into its conjuncts.
fn split_and(expr: &Expr) -> Vec<Expr> {
    match &expr.kind {
        ExprKind::Binary(BinaryOp::And, a, b) => {
            let mut out = split_and(a);
            out.extend(split_and(b));
            out
        }
        _ => vec![expr.clone()],
    }
}

/// `{k: v, …}` on element `name` as conjuncts `name.k = v`; a parameter map becomes one
/// internal predicate comparing every entry.
fn property_conjuncts(name: &str, props: &Expr) -> Vec<Expr> {
    match &props.kind {
        ExprKind::Map(entries) => entries
            .iter()
            .map(|(key, value)| {
                let lhs = Expr::new(ExprKind::Property(Box::new(var_expr(name)), key.clone()), value.span);
                Expr::new(ExprKind::Binary(BinaryOp::Eq, Box::new(lhs), Box::new(value.clone())), value.span)
            })
            .collect(),
        _ => vec![Expr::new(
            ExprKind::Function {
                name: PROPS_MATCH.to_string(),
                distinct: false,
                args: vec![var_expr(name), props.clone()],
            },
            props.span,
        )],
    }
}

/// Internal predicate: the element's properties include every entry of the map.
pub const PROPS_MATCH: &str = "\u{1}propertiesMatch";

/// The variables `expr` reads that belong to the query scope `scope` (comprehension and
/// pattern-local names are not needs).
fn free_variables(expr: &Expr, scope: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    expr.walk(&mut |e| match &e.kind {
        ExprKind::Variable(name) | ExprKind::MapProjection { variable: name, .. } if scope.contains(name) => {
            out.insert(name.clone());
        }
        ExprKind::PatternPredicate(element) | ExprKind::PatternComprehension { element, .. } => {
            for v in element.variables() {
                if scope.contains(&v.name) {
                    out.insert(v.name.clone());
                }
            }
        }
        _ => {}
    });
    if let ExprKind::MapProjection { items, .. } = &expr.kind {
        for item in items {
            if let MapProjectionItem::Variable(v) = item {
                if scope.contains(v) {
                    out.insert(v.clone());
                }
            }
        }
    }
    out
}

/// If `expr` is `name.key = value` (either way round) with `value` computable before the
/// node is bound (literals, parameters, variables in `bound`), returns `value`.
fn equality_on(expr: &Expr, name: &str, key: &str, bound: &BTreeSet<String>) -> Option<Expr> {
    let ExprKind::Binary(BinaryOp::Eq, a, b) = &expr.kind else { return None };
    let is_target = |e: &Expr| matches!(&e.kind, ExprKind::Property(base, k) if k == key && matches!(&base.kind, ExprKind::Variable(v) if v == name));
    let computable = |e: &Expr| {
        let mut ok = true;
        e.walk(&mut |x| match &x.kind {
            ExprKind::Variable(v) => ok &= bound.contains(v),
            ExprKind::PatternPredicate(_) | ExprKind::PatternComprehension { .. } | ExprKind::CountStar => ok = false,
            ExprKind::Function { name, .. } => ok &= !functions::is_aggregate(name),
            _ => {}
        });
        ok
    };
    if is_target(a) && computable(b) {
        Some((**b).clone())
    } else if is_target(b) && computable(a) {
        Some((**a).clone())
    } else {
        None
    }
}

/// The node names reachable from `start` through relationships not yet planned.
fn component_of(start: &str, rels: &[PatternRel<'_>], planned: &[bool]) -> BTreeSet<String> {
    let mut seen = BTreeSet::from([start.to_string()]);
    loop {
        let mut grew = false;
        for (i, r) in rels.iter().enumerate() {
            if planned[i] {
                continue;
            }
            let (l, rr) = (seen.contains(&r.left), seen.contains(&r.right));
            if l != rr {
                seen.insert(r.left.clone());
                seen.insert(r.right.clone());
                grew = true;
            }
        }
        if !grew {
            return seen;
        }
    }
}

/// Replaces sub-expressions equal to a projection item by that item's column.
fn replace_items(expr: &Expr, items: &[(Expr, String)]) -> Expr {
    if let Some((_, name)) = items.iter().find(|(e, _)| e == expr) {
        let pairs: Vec<(&Expr, &str)> = items.iter().map(|(e, n)| (e, n.as_str())).collect();
        if !reads_shadowed(expr, &pairs) {
            return Expr::new(ExprKind::Variable(name.clone()), expr.span);
        }
    }
    map_children(expr, &mut |child| replace_items(child, items))
}

/// Collects each distinct aggregate call in `expr`, naming it with `fresh`.
fn collect_aggregates(expr: &Expr, out: &mut Vec<(Expr, String)>, fresh: &dyn Fn() -> String) {
    let is_aggregate = match &expr.kind {
        ExprKind::CountStar => true,
        ExprKind::Function { name, .. } => functions::is_aggregate(name),
        _ => false,
    };
    if is_aggregate {
        if !out.iter().any(|(e, _)| e == expr) {
            out.push((expr.clone(), fresh()));
        }
        return;
    }
    for child in expr.children() {
        collect_aggregates(child, out, fresh);
    }
}

/// Rewrites an aggregating item over grouped columns: aggregate calls and grouping-key
/// expressions become references to their hidden columns.
fn replace_aggregates(expr: &Expr, aggs: &[(Expr, String)], keys: &[(Expr, String)]) -> Expr {
    if let Some((_, name)) = aggs.iter().chain(keys).find(|(e, _)| e == expr) {
        return Expr::new(ExprKind::Variable(name.clone()), expr.span);
    }
    map_children(expr, &mut |child| replace_aggregates(child, aggs, keys))
}

// ---------------------------------------------------------------------------------------
// explain

fn expand_text(
    from: &str,
    rel: &str,
    (to, to_labels): (&str, &[String]),
    types: &[String],
    direction: PatternDirection,
    length: Option<VarLength>,
) -> String {
    let mut detail = String::new();
    if !is_hidden(rel) {
        detail.push_str(rel);
    }
    for (i, t) in types.iter().enumerate() {
        detail.push_str(if i == 0 { ":" } else { "|" });
        detail.push_str(t);
    }
    if let Some(length) = length {
        detail.push('*');
        match (length.min, length.max) {
            (Some(a), Some(b)) if a == b => {
                let _ = write!(detail, "{a}");
            }
            (min, max) => {
                if let Some(a) = min {
                    let _ = write!(detail, "{a}");
                }
                if min.is_some() || max.is_some() {
                    detail.push_str("..");
                }
                if let Some(b) = max {
                    let _ = write!(detail, "{b}");
                }
            }
        }
    }
    let (left, right) = match direction {
        PatternDirection::Outgoing => ("-", "->"),
        PatternDirection::Incoming => ("<-", "-"),
        PatternDirection::Either => ("-", "-"),
    };
    let to = format!("{}{}", display_name(to), to_labels.iter().map(|l| format!(":{l}")).collect::<String>());
    if detail.is_empty() {
        format!("({}){left}{right}({to})", display_name(from))
    } else {
        format!("({}){left}[{detail}]{right}({to})", display_name(from))
    }
}

/// A variable as shown in plans: hidden names read `anon_3` and the like.
fn display_name(name: &str) -> String {
    name.trim_start_matches(HIDDEN).to_string()
}

/// The leaf that starts a query: nothing worth a line in a plan.
fn is_empty_argument(op: &Op) -> bool {
    matches!(op.kind, OpKind::Argument) && op.layout.is_empty()
}

impl Plan {
    /// The operator tree, root first, one operator per line, inputs indented below.
    pub fn explain(&self) -> String {
        let mut out = String::new();
        self.root.explain_into(&mut out, 0);
        out
    }
}

impl Op {
    fn explain_into(&self, out: &mut String, depth: usize) {
        let pad = "  ".repeat(depth);
        let line = self.describe();
        let _ = writeln!(out, "{pad}{line}");
        match &self.kind {
            OpKind::Argument => {}
            OpKind::Optional { input, inner } => {
                inner.explain_into(out, depth + 1);
                if !is_empty_argument(input) {
                    let _ = writeln!(out, "{pad}  for each row of");
                    input.explain_into(out, depth + 2);
                }
            }
            OpKind::Union { inputs } => {
                for input in inputs {
                    input.explain_into(out, depth + 1);
                }
            }
            OpKind::CountProduct { parts, .. } => {
                for part in parts {
                    part.explain_into(out, depth + 1);
                }
            }
            OpKind::Subquery { input, inner, .. } => {
                inner.explain_into(out, depth + 1);
                if !is_empty_argument(input) {
                    let _ = writeln!(out, "{pad}  for each row of");
                    input.explain_into(out, depth + 2);
                }
            }
            OpKind::CountsFromStatistics { .. } | OpKind::NeighbourCounts { .. } => {}
            // The expanded alternative is the naive plan's shape; the counted one is shown.
            OpKind::PreferCounts { counted, .. } => counted.explain_into(out, depth + 1),
            OpKind::NodeScan { input, .. }
            | OpKind::Expand { input, .. }
            | OpKind::VarExpand { input, .. }
            | OpKind::ShortestPath { input, .. }
            | OpKind::BuildPath { input, .. }
            | OpKind::Filter { input, .. }
            | OpKind::Unwind { input, .. }
            | OpKind::ProcedureCall { input, .. }
            | OpKind::Project { input, .. }
            | OpKind::Aggregate { input, .. }
            | OpKind::Distinct { input, .. }
            | OpKind::Sort { input, .. }
            | OpKind::Skip { input, .. }
            | OpKind::Limit { input, .. }
            | OpKind::Select { input, .. } => {
                if !is_empty_argument(input) {
                    input.explain_into(out, depth + 1);
                }
            }
        }
    }

    fn describe(&self) -> String {
        let shown = |e: &Expr| display_name(&e.to_string().replace(HIDDEN, ""));
        match &self.kind {
            OpKind::Argument => {
                let names: Vec<String> = self.layout.iter().filter(|n| !is_hidden(n)).cloned().collect();
                format!("Argument {}", names.join(", ")).trim_end().to_string()
            }
            OpKind::NodeScan { var, source, labels, input } => {
                let node =
                    format!("{}{}", display_name(var), labels.iter().map(|l| format!(":{l}")).collect::<String>());
                let product = if input.layout.is_empty() { "" } else { " (per input row)" };
                match source {
                    NodeSource::All => format!("AllNodesScan {node}{product}"),
                    NodeSource::Label(label) | NodeSource::LabelRecords(label) => {
                        format!("LabelScan {node} using :{label}{product}")
                    }
                    NodeSource::Key(value) => format!("NodeByKey {node} id = {}{product}", shown(value)),
                    NodeSource::Name { value, .. } => format!("NodeByName {node} name = {}{product}", shown(value)),
                }
            }
            OpKind::Expand { walk, distinct_on, .. } => {
                let kind = if walk.into.is_some() { "ExpandInto" } else { "Expand" };
                match distinct_on {
                    Some(slots) => {
                        let names: Vec<String> = slots.iter().map(|&s| display_name(&self.layout[s])).collect();
                        format!("{kind} {} distinct on {}", walk.text, names.join(", "))
                    }
                    None => format!("{kind} {}", walk.text),
                }
            }
            OpKind::VarExpand { walk, bound_list, .. } => {
                let kind = match (walk.into.is_some(), bound_list.is_some()) {
                    (_, true) => "FollowRelationshipList",
                    (true, false) => "VarLengthExpandInto",
                    (false, false) => "VarLengthExpand",
                };
                format!("{kind} {}", walk.text)
            }
            OpKind::ShortestPath { walk, all, .. } => {
                format!("{} {}", if *all { "AllShortestPaths" } else { "ShortestPath" }, walk.text)
            }
            OpKind::BuildPath { var, .. } => format!("NamedPath {}", display_name(var)),
            OpKind::Filter { predicate, .. } => format!("Filter {}", shown(predicate)),
            OpKind::Optional { .. } => "Optional".to_string(),
            OpKind::Unwind { expr, var, .. } => format!("Unwind {} AS {}", shown(expr), display_name(var)),
            OpKind::ProcedureCall { procedure, args, yields, .. } => {
                let signature = procedure.procedure.signature();
                let args = match args {
                    CallArgs::Explicit(args) => args.iter().map(shown).collect::<Vec<_>>().join(", "),
                    CallArgs::FromParameters => {
                        signature.args.iter().map(|a| format!("${}", a.name)).collect::<Vec<_>>().join(", ")
                    }
                };
                let fields: Vec<&str> = yields.iter().map(|&i| signature.outputs[i].name.as_str()).collect();
                let names: Vec<String> =
                    self.layout[self.layout.len() - yields.len()..].iter().map(|n| display_name(n)).collect();
                let bound: Vec<String> = fields
                    .iter()
                    .zip(&names)
                    .map(|(f, n)| if f == n { n.clone() } else { format!("{f} AS {n}") })
                    .collect();
                if bound.is_empty() {
                    format!("ProcedureCall {}({args})", signature.name)
                } else {
                    format!("ProcedureCall {}({args}) YIELD {}", signature.name, bound.join(", "))
                }
            }
            OpKind::Project { items, .. } => {
                let parts: Vec<String> = items
                    .iter()
                    .map(|(name, e)| {
                        let expr = shown(e);
                        if expr == *name {
                            expr
                        } else {
                            format!("{} = {expr}", display_name(name))
                        }
                    })
                    .collect();
                format!("Projection {}", parts.join(", "))
            }
            OpKind::Aggregate { keys, aggregates, .. } => {
                let keys: Vec<String> =
                    keys.iter().map(|(n, e)| format!("{} = {}", display_name(n), shown(e))).collect();
                let aggs: Vec<String> =
                    aggregates.iter().map(|(n, a)| format!("{} = {}", display_name(n), a.text)).collect();
                format!("Aggregate keys [{}] aggregates [{}]", keys.join(", "), aggs.join(", "))
            }
            OpKind::Distinct { .. } => "Distinct".to_string(),
            OpKind::Sort { keys, .. } => {
                let keys: Vec<String> =
                    keys.iter().map(|(e, desc)| format!("{}{}", shown(e), if *desc { " DESC" } else { "" })).collect();
                format!("Sort {}", keys.join(", "))
            }
            OpKind::Skip { count, .. } => format!("Skip {}", shown(count)),
            OpKind::Limit { count, .. } => format!("Limit {}", shown(count)),
            OpKind::Select { columns, input } => {
                let names: Vec<String> =
                    columns.iter().filter_map(|&i| input.layout.get(i)).map(|n| display_name(n)).collect();
                format!("Select {}", names.join(", "))
            }
            OpKind::Union { .. } => "Union".to_string(),
            OpKind::CountProduct { parts, .. } => {
                let names: Vec<String> = self.layout.iter().map(|n| display_name(n)).collect();
                format!(
                    "CountProduct {} = product of the counts of {} parts sharing no variable (no product is built)",
                    names.join(", "),
                    parts.len()
                )
            }
            OpKind::Subquery { kind, .. } => {
                let column = self.layout.last().map(|n| display_name(&n.replace(HIDDEN, ""))).unwrap_or_default();
                match kind {
                    SubqueryKind::Exists => format!("SemiJoin EXISTS -> {column} (stops at the first inner row)"),
                    SubqueryKind::Count => format!("Subquery COUNT -> {column} (counts the inner rows)"),
                    SubqueryKind::Collect => format!("Subquery COLLECT -> {column} (lists the inner column)"),
                }
            }
            OpKind::NeighbourCounts { label, walk, .. } => format!("NeighbourCounts :{label} {}", walk.text),
            OpKind::PreferCounts { .. } => {
                "PreferCounts (else the rows, if the first nodes share few neighbours)".to_string()
            }
            OpKind::CountsFromStatistics { label, property, .. } => match property {
                Some(property) => format!("CountsFromStatistics :{label} by {property}"),
                None => format!("CountsFromStatistics :{label}"),
            },
        }
    }
}
