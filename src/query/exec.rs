//! Executes a plan as a chain of pull-based row iterators over the store: rows stream,
//! only ORDER BY, DISTINCT and aggregation hold them; the deadline is checked as work is done.

use std::cell::RefCell;
use std::collections::BTreeSet;

use rustc_hash::{FxHashMap, FxHashSet};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use super::ast::{PatternDirection, SubqueryKind};
use super::error::{QueryError, Result};
use super::eval::{eval, props_match, Ctx, Scope};
use super::factorise::ProductCount;
use super::plan::{AggFunc, Aggregation, CallArgs, NodeSource, Op, OpKind, PathPiece, Plan, Walk};
use super::procedures::{CallContext, CallError, CallRows, Resolved};
use super::semantic::row_count;
use super::value::{total_cmp, GroupKey, NodeValue, PathValue, QValue, RelValue};
use super::{Params, QueryOptions};
use crate::model::{EdgeId, NodeId};
use crate::store::{AdjacentEntry, Direction, EdgeTypes, Store};

type Row = Vec<QValue>;

/// A stream of result rows.
pub type RowStream<'a> = Box<dyn Iterator<Item = Result<Row>> + 'a>;

/// Starts executing `plan`; nothing is read until the stream is pulled.
pub fn execute<'a>(
    plan: &'a Plan,
    store: &'a Store,
    params: &'a Params,
    options: &QueryOptions,
) -> Result<RowStream<'a>> {
    let deadline = options.timeout.map(|t| Instant::now() + t);
    let ctx = Rc::new(Ctx::new(Some(store), params, deadline, options.max_rows).with_cancel(options.cancel.clone()));
    let rows = build(&plan.root, &ctx, Vec::new());
    Ok(Box::new(Output { rows, ctx, count: 0, finished: false }))
}

/// The outermost stream: counts result rows against the cap and stops after an error.
struct Output<'a> {
    rows: RowStream<'a>,
    ctx: Rc<Ctx<'a>>,
    count: u64,
    finished: bool,
}

impl Iterator for Output<'_> {
    type Item = Result<Row>;

    fn next(&mut self) -> Option<Result<Row>> {
        if self.finished {
            return None;
        }
        let item = match self.ctx.check_deadline() {
            Err(e) => Some(Err(e)),
            Ok(()) => self.rows.next(),
        };
        let item = match item {
            Some(Ok(mut row)) => {
                self.count += 1;
                // Nodes and relationships bound unread are read now, as they leave.
                match self.ctx.check_rows(self.count, "the result").and_then(|()| {
                    row.iter_mut().try_for_each(|v| self.ctx.complete(v))?;
                    Ok(row)
                }) {
                    Ok(row) => Some(Ok(row)),
                    Err(e) => Some(Err(e)),
                }
            }
            other => other,
        };
        if !matches!(item, Some(Ok(_))) {
            self.finished = true;
        }
        item
    }
}

/// A copy of `row` with room for `extra` more columns (a plain clone would reallocate on
/// the first push).
fn widened(row: &Row, extra: usize) -> Row {
    let mut out = Vec::with_capacity(row.len() + extra);
    out.extend(row.iter().cloned());
    out
}

fn once<'a>(item: Result<Row>) -> RowStream<'a> {
    Box::new(std::iter::once(item))
}

fn empty<'a>() -> RowStream<'a> {
    Box::new(std::iter::empty())
}

/// For each input row, the rows `f` makes of it; errors pass through.
fn flat_map_rows<'a>(input: RowStream<'a>, mut f: impl FnMut(Row) -> RowStream<'a> + 'a) -> RowStream<'a> {
    Box::new(input.flat_map(move |item| match item {
        Ok(row) => f(row),
        Err(e) => once(Err(e)),
    }))
}

/// Rows computed all at once on the first pull (sorting, grouping).
fn deferred<'a>(compute: impl FnOnce() -> Result<Vec<Row>> + 'a) -> RowStream<'a> {
    let mut compute = Some(compute);
    let mut rows: Option<std::vec::IntoIter<Row>> = None;
    let mut failed = false;
    Box::new(std::iter::from_fn(move || {
        if failed {
            return None;
        }
        if rows.is_none() {
            let make = compute.take()?;
            match make() {
                Ok(all) => rows = Some(all.into_iter()),
                Err(e) => {
                    failed = true;
                    return Some(Err(e));
                }
            }
        }
        rows.as_mut().and_then(Iterator::next).map(Ok)
    }))
}

/// Evaluates a call's arguments against its signature (defaults for those left out,
/// types checked, integers made floats where declared) and runs the procedure. Errors
/// about an argument point at it.
fn call_procedure(ctx: &Ctx<'_>, resolved: &Resolved, args: &CallArgs, scope: &Scope<'_>) -> Result<CallRows> {
    let signature = resolved.procedure.signature();
    let name = &signature.name;
    let spans: Vec<Option<usize>> = match args {
        CallArgs::Explicit(exprs) => exprs.iter().map(|e| Some(e.span.start)).collect(),
        CallArgs::FromParameters => Vec::new(),
    };
    let mut values = Vec::with_capacity(signature.args.len());
    for (i, declared) in signature.args.iter().enumerate() {
        let given = match args {
            CallArgs::Explicit(exprs) => exprs.get(i).map(|e| eval(ctx, e, scope)).transpose()?,
            CallArgs::FromParameters => ctx.params.get(&declared.name).map(QValue::from),
        };
        let value = match (given, &declared.default) {
            (Some(value), _) => value,
            (None, Some(default)) => QValue::from(default),
            (None, None) => {
                return Err(QueryError::semantic(
                    0,
                    format!(
                        "{name} was called without parentheses, so its argument `{0}` comes from the parameter ${0}, which was not given a value",
                        declared.name
                    ),
                ))
            }
        };
        if !declared.ty.admits(&value) {
            let error = QueryError::type_error(format!(
                "argument `{}` of {name} must be {}, not {}",
                declared.name,
                declared.ty,
                value.type_name()
            ));
            return Err(match spans.get(i).copied().flatten() {
                Some(at) => error.or_at(at),
                None => error,
            });
        }
        values.push(declared.ty.coerce(value));
    }
    let store = ctx.store()?;
    let cx = CallContext::new(store, &resolved.registry, ctx.deadline);
    resolved.procedure.call(&cx, &values).map_err(|e| match e {
        CallError::Query(e) => e,
        CallError::Argument { index, message } => {
            let argument = signature.args.get(index).map_or("?", |a| a.name.as_str());
            let error = QueryError::runtime(format!("{name}: argument `{argument}`: {message}"));
            match spans.get(index).copied().flatten() {
                Some(at) => error.or_at(at),
                None => error,
            }
        }
    })
}

/// Builds the stream of `op`, the plan's `Argument` leaves yielding `argument`.
fn build<'a>(op: &'a Op, ctx: &Rc<Ctx<'a>>, argument: Row) -> RowStream<'a> {
    let ctx = ctx.clone();
    match &op.kind {
        OpKind::Argument => once(Ok(argument)),
        OpKind::NodeScan { input, source, labels, .. } => {
            let rows = build(input, &ctx, argument);
            flat_map_rows(rows, move |row| node_scan(&ctx, &input.layout, source, labels, row))
        }
        OpKind::Expand { input, walk, rel_bound, distinct_on } => {
            let rows = build(input, &ctx, argument);
            let memo = Rc::new(RefCell::new(IntoMemo::default()));
            let seen = distinct_on.as_deref().map(|slots| Rc::new(RefCell::new(SeenRows::new(slots))));
            flat_map_rows(rows, move |row| expand(&ctx, walk, *rel_bound, &memo, seen.clone(), row))
        }
        OpKind::VarExpand { input, walk, min, max, reversed, props, with_path, bound_list } => {
            let rows = build(input, &ctx, argument);
            flat_map_rows(rows, move |row| {
                let spec = VarSpec { walk, min: *min, max: *max, reversed: *reversed, with_path: *with_path };
                match bound_list {
                    Some(slot) => follow_list(&ctx, &input.layout, spec, props.as_ref(), *slot, row),
                    None => var_expand(&ctx, &input.layout, spec, props.as_ref(), row),
                }
            })
        }
        OpKind::ShortestPath { input, walk, min, max, all, props, bind_rels } => {
            let rows = build(input, &ctx, argument);
            flat_map_rows(rows, move |row| {
                let spec = ShortestSpec { walk, min: *min, max: *max, all: *all, bind_rels: *bind_rels };
                match shortest(&ctx, &input.layout, &spec, props.as_ref(), row) {
                    Ok(rows) => Box::new(rows.into_iter().map(Ok)),
                    Err(e) => once(Err(e)),
                }
            })
        }
        OpKind::BuildPath { input, start, pieces, .. } => {
            let rows = build(input, &ctx, argument);
            Box::new(rows.map(move |row| {
                let mut row = row?;
                let path = build_path(&row, *start, pieces)?;
                row.push(path);
                Ok(row)
            }))
        }
        OpKind::Filter { input, predicate } => {
            let rows = build(input, &ctx, argument);
            let names = &input.layout;
            Box::new(rows.filter_map(move |item| {
                let keep = item.and_then(|row| {
                    ctx.tick()?;
                    match eval(&ctx, predicate, &Scope::Row { names, row: &row })? {
                        QValue::Bool(true) => Ok(Some(row)),
                        QValue::Bool(false) | QValue::Null => Ok(None),
                        other => {
                            Err(QueryError::type_error(format!("WHERE needs a boolean, got a {}", other.type_name()))
                                .or_at(predicate.span.start))
                        }
                    }
                });
                keep.transpose()
            }))
        }
        OpKind::CountProduct { parts, outputs } => deferred(move || count_product(&ctx, parts, outputs, argument)),
        OpKind::Subquery { input, inner, kind, column } => {
            let rows = build(input, &ctx, argument);
            Box::new(rows.map(move |item| {
                let mut row = item?;
                let value = subquery_value(&ctx, inner, *kind, *column, &row)?;
                row.push(value);
                Ok(row)
            }))
        }
        OpKind::Optional { input, inner } => {
            let rows = build(input, &ctx, argument);
            let width = inner.layout.len();
            flat_map_rows(rows, move |row| {
                let mut matches = build(inner, &ctx, row.clone()).peekable();
                if matches.peek().is_some() {
                    Box::new(matches)
                } else {
                    let mut row = row;
                    row.resize(width, QValue::Null);
                    once(Ok(row))
                }
            })
        }
        OpKind::Unwind { input, expr, .. } => {
            let rows = build(input, &ctx, argument);
            let names = &input.layout;
            flat_map_rows(rows, move |row| match eval(&ctx, expr, &Scope::Row { names, row: &row }) {
                Err(e) => once(Err(e)),
                Ok(QValue::Null) => empty(),
                Ok(QValue::List(items)) => Box::new(items.into_iter().map(move |item| {
                    let mut out = row.clone();
                    out.push(item);
                    Ok(out)
                })),
                Ok(other) => {
                    let mut out = row;
                    out.push(other);
                    once(Ok(out))
                }
            })
        }
        OpKind::ProcedureCall { input, procedure, args, yields, passes_row } => {
            let rows = build(input, &ctx, argument);
            let names = &input.layout;
            flat_map_rows(rows, move |row| {
                let called = {
                    let scope = Scope::Row { names, row: &row };
                    call_procedure(&ctx, procedure, args, &scope)
                };
                match called {
                    Err(e) => once(Err(e)),
                    Ok(_) if *passes_row => once(Ok(row)),
                    Ok(results) => Box::new(results.into_iter().map(move |mut fields| {
                        let mut out = widened(&row, yields.len());
                        out.extend(yields.iter().map(|&i| std::mem::replace(&mut fields[i], QValue::Null)));
                        Ok(out)
                    })),
                }
            })
        }
        OpKind::Project { input, items, keep_input } => {
            let rows = build(input, &ctx, argument);
            let names = &input.layout;
            Box::new(rows.map(move |row| {
                let row = row?;
                ctx.tick()?;
                let values = {
                    let scope = Scope::Row { names, row: &row };
                    items.iter().map(|(_, e)| eval(&ctx, e, &scope)).collect::<Result<Vec<_>>>()?
                };
                if *keep_input {
                    let mut out = row;
                    out.extend(values);
                    Ok(out)
                } else {
                    Ok(values)
                }
            }))
        }
        OpKind::Aggregate { input, keys, aggregates } => {
            let rows = build(input, &ctx, argument);
            deferred(move || aggregate(&ctx, &input.layout, rows, keys, aggregates))
        }
        OpKind::PreferCounts { counted, expanded } => {
            // Decided on the first pull, by a probe of the label's first nodes.
            let mut choose = Some(move || -> RowStream<'a> {
                let counts_pay = match &counted.kind {
                    OpKind::Aggregate { input, .. } => match &input.kind {
                        OpKind::NeighbourCounts { label, walk, .. } => neighbours_are_shared(&ctx, label, walk),
                        _ => Ok(false),
                    },
                    _ => Ok(false),
                };
                match counts_pay {
                    Ok(true) => build(counted, &ctx, argument),
                    Ok(false) => build(expanded, &ctx, argument),
                    Err(err) => once(Err(err)),
                }
            });
            let mut chosen: Option<RowStream<'a>> = None;
            Box::new(std::iter::from_fn(move || {
                if chosen.is_none() {
                    chosen = Some(choose.take()?());
                }
                chosen.as_mut()?.next()
            }))
        }
        OpKind::NeighbourCounts { label, walk, .. } => {
            // Counted on the first pull; then one row per node reached, made as it is pulled
            // (the aggregation above holds only its groups).
            let mut count = Some({
                let ctx = ctx.clone();
                move || count_neighbours(&ctx, label, walk)
            });
            let mut counted: Option<std::vec::IntoIter<(NodeId, i64)>> = None;
            Box::new(std::iter::from_fn(move || loop {
                if counted.is_none() {
                    match count.take()?() {
                        Ok(found) => counted = Some(found.into_iter()),
                        Err(err) => return Some(Err(err)),
                    }
                }
                let (node, n) = counted.as_mut()?.next()?;
                match ctx.node_has_labels(node, &walk.to_labels) {
                    Ok(true) => return Some(Ok(vec![QValue::Node(NodeValue::unread(node)), QValue::Int(n)])),
                    Ok(false) => {}
                    Err(err) => return Some(Err(err)),
                }
            }))
        }
        OpKind::CountsFromStatistics { label, property, aggregates, fallback } => {
            let stats = ctx.store().and_then(|store| Ok(store.stats()?));
            let groups = match (&stats, property) {
                (Ok(stats), Some(property)) => stats.value_counts(label, property),
                (Ok(stats), None) => Some(vec![(None, stats.labels.get(label).copied().unwrap_or(0))]),
                (Err(_), _) => None,
            };
            match (stats, groups) {
                (Err(err), _) => Box::new(std::iter::once(Err(err))),
                (Ok(_), None) => build(fallback, &ctx, argument),
                (Ok(_), Some(groups)) => {
                    let rows = groups.into_iter().map(move |(value, count)| {
                        let mut row: Row = Vec::with_capacity(aggregates + 1);
                        if property.is_some() {
                            row.push(value.map_or(QValue::Null, QValue::str));
                        }
                        row.extend(std::iter::repeat(QValue::Int(count as i64)).take(*aggregates));
                        Ok(row)
                    });
                    Box::new(rows)
                }
            }
        }
        OpKind::Distinct { input, on } => {
            let rows = build(input, &ctx, argument);
            let mut seen: BTreeSet<GroupKey> = BTreeSet::new();
            Box::new(rows.filter_map(move |item| {
                let keep = item.and_then(|row| {
                    let key = match on {
                        Some(columns) => {
                            GroupKey(columns.iter().map(|&i| row.get(i).cloned().unwrap_or(QValue::Null)).collect())
                        }
                        None => GroupKey(row.clone()),
                    };
                    if seen.contains(&key) {
                        return Ok(None);
                    }
                    seen.insert(key);
                    ctx.check_rows(seen.len() as u64, "DISTINCT")?;
                    Ok(Some(row))
                });
                keep.transpose()
            }))
        }
        OpKind::Sort { input, keys } => {
            let rows = build(input, &ctx, argument);
            deferred(move || sort(&ctx, &input.layout, rows, keys))
        }
        OpKind::Skip { input, count } => {
            let n = match row_count_of(&ctx, "SKIP", count) {
                Ok(n) => n,
                Err(e) => return once(Err(e)),
            };
            let rows = build(input, &ctx, argument);
            Box::new(rows.skip(usize::try_from(n).unwrap_or(usize::MAX)))
        }
        OpKind::Limit { input, count } => {
            let n = match row_count_of(&ctx, "LIMIT", count) {
                Ok(n) => n,
                Err(e) => return once(Err(e)),
            };
            if n == 0 {
                return empty();
            }
            let rows = build(input, &ctx, argument);
            Box::new(rows.take(usize::try_from(n).unwrap_or(usize::MAX)))
        }
        OpKind::Select { input, columns } => {
            let rows = build(input, &ctx, argument);
            Box::new(rows.map(move |row| {
                let row = row?;
                Ok(columns.iter().map(|&i| row.get(i).cloned().unwrap_or(QValue::Null)).collect())
            }))
        }
        OpKind::Union { inputs } => {
            let streams: Vec<RowStream<'a>> = inputs.iter().map(|input| build(input, &ctx, argument.clone())).collect();
            Box::new(streams.into_iter().flatten())
        }
    }
}

fn row_count_of(ctx: &Ctx<'_>, what: &str, expr: &super::ast::Expr) -> Result<u64> {
    let value = eval(ctx, expr, &Scope::Empty)?;
    row_count(what, &value).map_err(|e| e.or_at(expr.span.start))
}

fn store_err(e: crate::store::StoreError) -> QueryError {
    QueryError::from(e)
}

// ---------------------------------------------------------------------------------------
// Scans and expansions

/// Candidate node ids for a scan, per input row.
fn node_scan<'a>(
    ctx: &Rc<Ctx<'a>>,
    names: &'a [String],
    source: &'a NodeSource,
    labels: &'a [String],
    row: Row,
) -> RowStream<'a> {
    let store = match ctx.store() {
        Ok(s) => s,
        Err(e) => return once(Err(e)),
    };
    type Ids<'a> = Box<dyn Iterator<Item = Result<NodeId>> + 'a>;
    let all = || -> Ids<'a> { Box::new(store.all_nodes().map(|r| r.map_err(store_err))) };
    let by_label =
        |label: &'a str| -> Ids<'a> { Box::new(store.nodes_with_label(label).map(|r| r.map_err(store_err))) };
    // Labels the candidates are not already known to carry.
    let mut check: &'a [String] = labels;
    let ids: Ids<'a> = match source {
        NodeSource::All | NodeSource::LabelRecords(_) => all(),
        NodeSource::Label(label) => {
            if labels.iter().all(|l| l == label) {
                check = &[];
            }
            by_label(label)
        }
        NodeSource::Key(value) => match eval(ctx, value, &Scope::Row { names, row: &row }) {
            Err(e) => return once(Err(e)),
            Ok(QValue::Null) => return empty(),
            Ok(QValue::Str(key)) => match store.nodes_with_key(&key) {
                Ok(ids) => Box::new(ids.into_iter().map(Ok)),
                Err(e) => return once(Err(store_err(e))),
            },
            // Not a string: the index cannot answer; the exact filter after the scan will.
            Ok(_) => all(),
        },
        NodeSource::Name { label, value } => match eval(ctx, value, &Scope::Row { names, row: &row }) {
            Err(e) => return once(Err(e)),
            Ok(QValue::Null) => return empty(),
            Ok(QValue::Str(name)) => match store.entities_named(&name) {
                Ok(found) => {
                    let mut ids: Vec<NodeId> =
                        found.into_iter().filter(|(_, kind)| kind == label).map(|(id, _)| id).collect();
                    ids.sort_unstable();
                    ids.dedup();
                    Box::new(ids.into_iter().map(Ok))
                }
                Err(e) => return once(Err(store_err(e))),
            },
            Ok(_) => by_label(label),
        },
    };
    if let NodeSource::LabelRecords(label) = source {
        let wanted: Vec<String> = labels.iter().chain([label]).cloned().collect();
        let ctx = ctx.clone();
        return Box::new(store.all_node_bytes().filter_map(move |item| {
            let step = || -> Result<Option<Row>> {
                ctx.tick()?;
                let (id, bytes) = item.map_err(store_err)?;
                if !ctx.bytes_have_labels(id, bytes, &wanted)? {
                    return Ok(None);
                }
                let mut out = widened(&row, 2);
                out.push(QValue::Node(NodeValue::unread(id)));
                Ok(Some(out))
            };
            step().transpose()
        }));
    }
    let ctx = ctx.clone();
    Box::new(ids.filter_map(move |id| {
        let step = || -> Result<Option<Row>> {
            ctx.tick()?;
            let id = id?;
            if !ctx.node_has_labels(id, check)? {
                return Ok(None);
            }
            let mut out = widened(&row, 2);
            out.push(QValue::Node(NodeValue::unread(id)));
            Ok(Some(out))
        };
        step().transpose()
    }))
}

type AdjacentStream<'a> = Box<dyn Iterator<Item = Result<(Direction, AdjacentEntry)>> + 'a>;

/// The relationships at `node` a walk may follow, in each direction, narrowed to `types`
/// (resolved once per walk by `Ctx::edge_types`). Several types are read in one pass over
/// the node's adjacency: a long list is scanned once, skipping chunks of other types.
fn adjacency<'a>(
    store: &'a Store,
    node: NodeId,
    direction: PatternDirection,
    types: &Arc<EdgeTypes>,
) -> AdjacentStream<'a> {
    let read = |d: Direction| store.adjacent_entries(node, d, types).map(move |a| a.map(|a| (d, a)).map_err(store_err));
    match direction {
        PatternDirection::Outgoing => Box::new(read(Direction::Out)),
        PatternDirection::Incoming => Box::new(read(Direction::In)),
        // Going both ways, a self-loop shows up once out and once in: keep the first.
        PatternDirection::Either => Box::new(
            read(Direction::Out)
                .chain(read(Direction::In).filter(move |item| !matches!(item, Ok((_, a)) if a.other == node))),
        ),
    }
}

/// Nodes with the label a probe reads (`neighbours_are_shared`).
const PROBE_NODES: usize = 512;

/// Whether the `walk` steps from the first `PROBE_NODES` nodes with `label` reach at most half
/// as many distinct nodes as there are steps: then counting per far node holds far fewer
/// entries than there are rows. (Gifts and their givers: a few hundred givers for a thousand
/// gifts. Articles and the events they report: nearly one event per report.)
fn neighbours_are_shared(ctx: &Ctx<'_>, label: &str, walk: &Walk) -> Result<bool> {
    let store = ctx.store()?;
    let types = ctx.edge_types(&walk.types)?;
    let first = store
        .nodes_with_label(label)
        .take(PROBE_NODES)
        .collect::<std::result::Result<Vec<NodeId>, _>>()
        .map_err(store_err)?;
    let mut steps = 0usize;
    let mut reached: FxHashSet<NodeId> = FxHashSet::default();
    for direction in walk_directions(walk.direction) {
        store
            .for_each_adjacent_of(&first, *direction, &types, |_, adjacent| {
                steps += 1;
                reached.insert(adjacent.other);
            })
            .map_err(store_err)?;
    }
    Ok(reached.len() * 2 <= steps)
}

/// The stored directions a pattern direction reads.
fn walk_directions(direction: PatternDirection) -> &'static [Direction] {
    match direction {
        PatternDirection::Outgoing => &[Direction::Out],
        PatternDirection::Incoming => &[Direction::In],
        PatternDirection::Either => &[Direction::Out, Direction::In],
    }
}

/// For each node one `walk` step away from a node with `label`, how many steps reach it, by
/// node id (the walk's far labels are checked by the caller). Reads the label's id list and
/// each node's adjacency, and builds no row per step.
fn count_neighbours(ctx: &Ctx<'_>, label: &str, walk: &Walk) -> Result<Vec<(NodeId, i64)>> {
    let store = ctx.store()?;
    let types = ctx.edge_types(&walk.types)?;
    let mut counts: FxHashMap<NodeId, i64> = FxHashMap::default();
    let directions = walk_directions(walk.direction);
    let ids = store.nodes_with_label(label).collect::<std::result::Result<Vec<NodeId>, _>>().map_err(store_err)?;
    for some in ids.chunks(1024) {
        ctx.check_deadline()?;
        for &direction in directions {
            store
                .for_each_adjacent_of(some, direction, &types, |id, adjacent| {
                    // Going both ways, a self-loop shows up once out and once in: count it once.
                    if !(direction == Direction::In && directions.len() == 2 && adjacent.other == id) {
                        *counts.entry(adjacent.other).or_default() += 1;
                    }
                })
                .map_err(store_err)?;
        }
    }
    let mut counted: Vec<(NodeId, i64)> = counts.into_iter().collect();
    counted.sort_unstable();
    Ok(counted)
}

/// Relationship ids held in the given columns (single relationships or lists of them).
fn used_relationships(row: &Row, columns: &[usize]) -> Vec<EdgeId> {
    let mut used = Vec::new();
    for &c in columns {
        match row.get(c) {
            Some(QValue::Relationship(r)) => used.push(r.id),
            Some(QValue::List(items)) => used.extend(items.iter().filter_map(|i| match i {
                QValue::Relationship(r) => Some(r.id),
                _ => None,
            })),
            _ => {}
        }
    }
    used
}

/// The node a walk starts from: `None` when it is null (an unmatched OPTIONAL MATCH).
fn start_node(row: &Row, slot: usize) -> Result<Option<NodeValue>> {
    match row.get(slot) {
        Some(QValue::Node(n)) => Ok(Some(n.clone())),
        Some(QValue::Null) | None => Ok(None),
        Some(other) => {
            Err(QueryError::type_error(format!("expected a node to match a pattern from, got a {}", other.type_name())))
        }
    }
}

/// The far node of a step: checked against a bound column, else loaded and label-checked.
fn far_node(ctx: &Ctx<'_>, walk: &Walk, row: &Row, id: NodeId) -> Result<Option<NodeValue>> {
    if let Some(into) = walk.into {
        return Ok(match row.get(into) {
            Some(QValue::Node(n)) if n.id == id => Some(n.clone()),
            _ => None,
        });
    }
    Ok(ctx.node_has_labels(id, &walk.to_labels)?.then(|| NodeValue::unread(id)))
}

/// Relationships of one node as (node at the other end, relationship id), sorted by the
/// other node and, for each, in the order a scan from that node would list them.
type EdgesByNode = Rc<Vec<(NodeId, EdgeId)>>;

/// What an ExpandInto learns of the node it expands into: once a row asks for the same
/// target twice, the target's adjacency is read once (in the reverse direction) and
/// every later row is answered by a lookup instead of a scan of its own adjacency.
#[derive(Default)]
struct IntoMemo {
    /// The target asked for last and how many rows in a row asked for it.
    last: Option<(NodeId, u32)>,
    /// The memoised target and its relationships.
    edges: Option<(NodeId, EdgesByNode)>,
    /// Where in `edges` the last search ended: rows usually ask in ascending node order,
    /// so the next search gallops forward from there.
    cursor: usize,
}

impl IntoMemo {
    /// The memoised adjacency of `target` when it pays off, reading it if needed.
    fn lookup(&mut self, ctx: &Ctx<'_>, walk: &Walk, target: NodeId) -> Result<Option<EdgesByNode>> {
        if let Some((id, edges)) = &self.edges {
            if *id == target {
                return Ok(Some(edges.clone()));
            }
        }
        let seen = match self.last {
            Some((id, n)) if id == target => n + 1,
            _ => 1,
        };
        self.last = Some((target, seen));
        if seen < 2 {
            return Ok(None);
        }
        // Reverse walk from the target: (from)-[:T]->(target) is (target)<-[:T]-(from).
        // Both ways, the rows from `from` list its outgoing relationships first: those
        // are the target's incoming ones, so they sort first.
        let reverse = reverse_direction(walk.direction);
        let mut edges: Vec<(NodeId, bool, usize, EdgeId)> = Vec::new();
        let store = ctx.store()?;
        for (seq, item) in adjacency(store, target, reverse, &ctx.edge_types(&walk.types)?).enumerate() {
            let (d, a) = item?;
            let later = walk.direction == PatternDirection::Either && d == Direction::Out;
            edges.push((a.other, later, seq, a.edge));
        }
        edges.sort_unstable();
        let edges: EdgesByNode = Rc::new(edges.into_iter().map(|(other, _, _, edge)| (other, edge)).collect());
        self.edges = Some((target, edges.clone()));
        Ok(Some(edges))
    }
}

/// The relationships in a memoised adjacency whose other end is `node`, searched from
/// `cursor` onwards (by doubling steps, then bisection) when `node` lies ahead of it;
/// `cursor` is left where the run of `node` starts.
fn edges_to<'e>(edges: &'e [(NodeId, EdgeId)], node: NodeId, cursor: &mut usize) -> &'e [(NodeId, EdgeId)] {
    let from = (*cursor).min(edges.len());
    let start = if from > 0 && edges[from - 1].0 >= node {
        edges.partition_point(|(other, _)| *other < node)
    } else {
        let mut step = 1;
        let mut high = from;
        while high < edges.len() && edges[high].0 < node {
            high = from + step;
            step *= 2;
        }
        let high = high.min(edges.len());
        let low = from + (high - from) / 2;
        let low = if low < high && edges[low].0 < node { low } else { from };
        low + edges[low..high].partition_point(|(other, _)| *other < node)
    };
    let end = start + edges[start..].partition_point(|(other, _)| *other == node);
    *cursor = start;
    &edges[start..end]
}

/// The rows an expansion with `distinct_on` has produced, by the ids of the nodes and
/// relationships in those columns.
struct SeenRows {
    slots: Vec<usize>,
    seen: FxHashSet<Box<[u64]>>,
    key: Vec<u64>,
}

impl SeenRows {
    fn new(slots: &[usize]) -> SeenRows {
        SeenRows { slots: slots.to_vec(), seen: FxHashSet::default(), key: Vec::with_capacity(slots.len()) }
    }

    /// Whether a row whose column `slot` holds `value(slot)` is new, remembering it. A row
    /// with a value other than a node or relationship in those columns always counts as
    /// new (producing a duplicate is allowed, only wasteful).
    fn first_time(&mut self, value: impl Fn(usize) -> Option<u64>) -> bool {
        self.key.clear();
        for &slot in &self.slots {
            match value(slot) {
                Some(id) => self.key.push(id),
                None => return true,
            }
        }
        if self.seen.contains(&self.key[..]) {
            return false;
        }
        self.seen.insert(self.key.clone().into_boxed_slice());
        true
    }
}

/// A node or relationship value as one number (relationships odd), for `SeenRows`.
fn element_key(value: &QValue) -> Option<u64> {
    match value {
        QValue::Node(n) => Some(n.id << 1),
        QValue::Relationship(r) => Some(r.id << 1 | 1),
        _ => None,
    }
}

fn expand<'a>(
    ctx: &Rc<Ctx<'a>>,
    walk: &'a Walk,
    rel_bound: Option<usize>,
    memo: &RefCell<IntoMemo>,
    seen: Option<Rc<RefCell<SeenRows>>>,
    row: Row,
) -> RowStream<'a> {
    let from = match start_node(&row, walk.from) {
        Ok(Some(n)) => n,
        Ok(None) => return empty(),
        Err(e) => return once(Err(e)),
    };
    let store = match ctx.store() {
        Ok(s) => s,
        Err(e) => return once(Err(e)),
    };
    let bound_rel = match rel_bound.map(|slot| row.get(slot)) {
        None => None,
        Some(Some(QValue::Relationship(r))) => Some(r.id),
        Some(_) => return empty(),
    };
    // Into a bound node: answered from the target's memoised adjacency when rows repeat it
    // (not for self-loops, whose two directions a lookup would not tell apart).
    let target = walk.into.and_then(|slot| match row.get(slot) {
        Some(QValue::Node(n)) => Some(n.id),
        _ => None,
    });
    if let Some(target) = target.filter(|&t| t != from.id) {
        let mut memo = memo.borrow_mut();
        let found = memo.lookup(ctx, walk, target);
        match found {
            Err(e) => return once(Err(e)),
            Ok(Some(map)) => {
                let candidates = edges_to(&map, from.id, &mut memo.cursor);
                if candidates.is_empty() {
                    return empty();
                }
                let used = used_relationships(&row, &walk.unique_with);
                let edges: Vec<EdgeId> = candidates
                    .iter()
                    .map(|&(_, edge)| edge)
                    .filter(|e| !used.contains(e) && bound_rel.map_or(true, |b| b == *e))
                    .collect();
                return Box::new(edges.into_iter().map(move |edge| {
                    let mut out = widened(&row, 2);
                    if bound_rel.is_none() {
                        out.push(QValue::Relationship(RelValue::unread(edge)));
                    }
                    Ok(out)
                }));
            }
            Ok(None) => {}
        }
    }
    let types = match ctx.edge_types(&walk.types) {
        Ok(types) => types,
        Err(e) => return once(Err(e)),
    };
    let used = used_relationships(&row, &walk.unique_with);
    let ctx = ctx.clone();
    Box::new(adjacency(store, from.id, walk.direction, &types).filter_map(move |item| {
        let step = || -> Result<Option<Row>> {
            ctx.tick()?;
            let (_, adjacent) = item?;
            if used.contains(&adjacent.edge) || bound_rel.is_some_and(|id| id != adjacent.edge) {
                return Ok(None);
            }
            let Some(other) = far_node(&ctx, walk, &row, adjacent.other)? else { return Ok(None) };
            if let Some(seen) = &seen {
                // The new columns: the relationship (unless bound), then the far node (unless bound).
                let new_rel = bound_rel.is_none().then_some(adjacent.edge << 1 | 1);
                let new_node = walk.into.is_none().then_some(other.id << 1);
                let value = |slot: usize| match slot.checked_sub(row.len()) {
                    None => row.get(slot).and_then(element_key),
                    Some(0) => new_rel.or(new_node),
                    Some(_) => new_node,
                };
                if !seen.borrow_mut().first_time(value) {
                    return Ok(None);
                }
            }
            let mut out = widened(&row, 2);
            if bound_rel.is_none() {
                out.push(QValue::Relationship(RelValue::unread(adjacent.edge)));
            }
            if walk.into.is_none() {
                out.push(QValue::Node(other));
            }
            Ok(Some(out))
        };
        step().transpose()
    }))
}

/// A variable-length step whose relationship list is already bound: the row survives
/// when the list, in pattern order, walks from the start node within the length bounds.
fn follow_list<'a>(
    ctx: &Rc<Ctx<'a>>,
    names: &'a [String],
    spec: VarSpec<'a>,
    props: Option<&'a super::ast::Expr>,
    slot: usize,
    row: Row,
) -> RowStream<'a> {
    let result = (|| -> Result<Option<Row>> {
        let Some(start) = start_node(&row, spec.walk.from)? else { return Ok(None) };
        let Some(QValue::List(items)) = row.get(slot) else { return Ok(None) };
        let mut rels: Vec<RelValue> = Vec::new();
        for item in items {
            match item {
                QValue::Relationship(r) => rels.push(r.clone()),
                _ => return Ok(None),
            }
        }
        let hops = rels.len() as u64;
        if hops < spec.min || spec.max.is_some_and(|max| hops > max) {
            return Ok(None);
        }
        // The walk goes from `start`; the list is in pattern order (reversed when walking back).
        let ordered: Vec<&RelValue> = if spec.reversed { rels.iter().rev().collect() } else { rels.iter().collect() };
        let wanted = props.map(|p| eval(ctx, p, &Scope::Row { names, row: &row })).transpose()?;
        let mut at = start.id;
        let mut nodes = vec![start.clone()];
        for rel in ordered {
            let record = ctx.edge_record(rel)?;
            if !spec.walk.types.is_empty() && !spec.walk.types.contains(&record.edge_type) {
                return Ok(None);
            }
            if let Some(wanted) = &wanted {
                if !props_match(wanted, |k| record.props.get(k))? {
                    return Ok(None);
                }
            }
            let next = match spec.walk.direction {
                PatternDirection::Outgoing if record.src == at => record.dst,
                PatternDirection::Incoming if record.dst == at => record.src,
                PatternDirection::Either if record.src == at => record.dst,
                PatternDirection::Either if record.dst == at => record.src,
                _ => return Ok(None),
            };
            nodes.push(NodeValue::unread(next));
            at = next;
        }
        let Some(end) = far_node(ctx, spec.walk, &row, at)? else { return Ok(None) };
        let mut out = row.clone();
        if spec.walk.into.is_none() {
            out.push(QValue::Node(end));
        }
        if spec.with_path {
            if spec.reversed {
                nodes.reverse();
            }
            out.push(QValue::Path(PathValue { nodes, rels }));
        }
        Ok(Some(out))
    })();
    match result {
        Ok(Some(row)) => once(Ok(row)),
        Ok(None) => empty(),
        Err(e) => once(Err(e)),
    }
}

#[derive(Clone, Copy)]
struct VarSpec<'a> {
    walk: &'a Walk,
    min: u64,
    max: Option<u64>,
    reversed: bool,
    with_path: bool,
}

fn var_expand<'a>(
    ctx: &Rc<Ctx<'a>>,
    names: &'a [String],
    spec: VarSpec<'a>,
    props: Option<&'a super::ast::Expr>,
    row: Row,
) -> RowStream<'a> {
    let start = match start_node(&row, spec.walk.from) {
        Ok(Some(n)) => n,
        Ok(None) => return empty(),
        Err(e) => return once(Err(e)),
    };
    let wanted = match props.map(|p| eval(ctx, p, &Scope::Row { names, row: &row })).transpose() {
        Ok(w) => w,
        Err(e) => return once(Err(e)),
    };
    let store = match ctx.store() {
        Ok(s) => s,
        Err(e) => return once(Err(e)),
    };
    let types = match ctx.edge_types(&spec.walk.types) {
        Ok(types) => types,
        Err(e) => return once(Err(e)),
    };
    let used = used_relationships(&row, &spec.walk.unique_with);
    let first_frame =
        if spec.max == Some(0) { None } else { Some(adjacency(store, start.id, spec.walk.direction, &types)) };
    Box::new(VarExpandIter {
        ctx: ctx.clone(),
        store,
        types,
        spec,
        wanted,
        used,
        base: row,
        frames: first_frame.into_iter().collect(),
        rels: Vec::new(),
        nodes: vec![start],
        zero_pending: spec.min == 0,
    })
}

/// Depth-first walk over relationship trails, one result per trail of acceptable length.
struct VarExpandIter<'a> {
    ctx: Rc<Ctx<'a>>,
    store: &'a Store,
    types: Arc<EdgeTypes>,
    spec: VarSpec<'a>,
    wanted: Option<QValue>,
    used: Vec<EdgeId>,
    base: Row,
    /// `frames[i]` enumerates the relationships at `nodes[i]`.
    frames: Vec<AdjacentStream<'a>>,
    rels: Vec<RelValue>,
    nodes: Vec<NodeValue>,
    zero_pending: bool,
}

impl VarExpandIter<'_> {
    /// The output row for the current trail, if its end node is acceptable.
    fn emit(&self) -> Result<Option<Row>> {
        let Some(end) = self.nodes.last() else { return Ok(None) };
        let fits = match self.spec.walk.into {
            Some(slot) => matches!(self.base.get(slot), Some(QValue::Node(n)) if n.id == end.id),
            None => self.ctx.has_labels(end, &self.spec.walk.to_labels)?,
        };
        if !fits {
            return Ok(None);
        }
        let mut out = self.base.clone();
        let in_order = |items: &[RelValue]| -> Vec<QValue> {
            let list = items.iter().cloned().map(QValue::Relationship);
            if self.spec.reversed {
                list.rev().collect()
            } else {
                list.collect()
            }
        };
        out.push(QValue::List(in_order(&self.rels)));
        if self.spec.walk.into.is_none() {
            out.push(QValue::Node(end.clone()));
        }
        if self.spec.with_path {
            let mut rels = self.rels.clone();
            let mut nodes = self.nodes.clone();
            if self.spec.reversed {
                rels.reverse();
                nodes.reverse();
            }
            out.push(QValue::Path(PathValue { nodes, rels }));
        }
        Ok(Some(out))
    }

    fn step(&mut self) -> Result<Option<Row>> {
        if self.zero_pending {
            self.zero_pending = false;
            if let Some(row) = self.emit()? {
                return Ok(Some(row));
            }
        }
        loop {
            // Keep `rels.len() == frames.len() - 1`: drop the step whose frame is gone.
            while !self.rels.is_empty() && self.rels.len() >= self.frames.len() {
                self.rels.pop();
                self.nodes.pop();
            }
            let Some(frame) = self.frames.last_mut() else { return Ok(None) };
            let Some(item) = frame.next() else {
                self.frames.pop();
                continue;
            };
            self.ctx.tick()?;
            let (_, adjacent) = item?;
            if self.used.contains(&adjacent.edge) || self.rels.iter().any(|r| r.id == adjacent.edge) {
                continue;
            }
            let other = NodeValue::unread(adjacent.other);
            let rel = RelValue::unread(adjacent.edge);
            if let Some(wanted) = &self.wanted {
                let record = self.ctx.edge_record(&rel)?;
                if !props_match(wanted, |k| record.props.get(k))? {
                    continue;
                }
            }
            self.rels.push(rel);
            self.nodes.push(other);
            let depth = self.rels.len() as u64;
            if self.spec.max.map_or(true, |max| depth < max) {
                self.frames.push(adjacency(self.store, adjacent.other, self.spec.walk.direction, &self.types));
            }
            if depth >= self.spec.min {
                if let Some(row) = self.emit()? {
                    return Ok(Some(row));
                }
            }
        }
    }
}

impl Iterator for VarExpandIter<'_> {
    type Item = Result<Row>;

    fn next(&mut self) -> Option<Result<Row>> {
        match self.step() {
            Ok(Some(row)) => Some(Ok(row)),
            Ok(None) => None,
            Err(e) => {
                // Stop after an error.
                self.frames.clear();
                self.rels.clear();
                self.zero_pending = false;
                Some(Err(e))
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Shortest paths

struct ShortestSpec<'a> {
    walk: &'a Walk,
    min: u64,
    max: Option<u64>,
    all: bool,
    bind_rels: bool,
}

/// One side of a bidirectional breadth-first search: for each node reached, its distance and
/// the (previous node, relationship) that reached it first; for allShortestPaths also the
/// other equally short ways in.
struct Side {
    depth: u64,
    frontier: Vec<NodeId>,
    reached: FxHashMap<NodeId, (u64, Option<(NodeId, EdgeId)>)>,
    more_ways: FxHashMap<NodeId, Vec<(NodeId, EdgeId)>>,
    keep_all: bool,
    direction: PatternDirection,
}

impl Side {
    fn new(start: NodeId, direction: PatternDirection, keep_all: bool) -> Side {
        let mut reached = FxHashMap::default();
        reached.insert(start, (0, None));
        Side { depth: 0, frontier: vec![start], reached, more_ways: FxHashMap::default(), keep_all, direction }
    }

    fn distance(&self, node: &NodeId) -> Option<u64> {
        self.reached.get(node).map(|&(d, _)| d)
    }

    /// Expands the frontier by one layer; returns the newly reached nodes.
    fn expand(&mut self, ctx: &Ctx<'_>, walk: &Walk, wanted: Option<&QValue>) -> Result<Vec<NodeId>> {
        let store = ctx.store()?;
        let types = ctx.edge_types(&walk.types)?;
        let next_depth = self.depth + 1;
        let mut next = Vec::new();
        for &node in &self.frontier {
            for item in adjacency(store, node, self.direction, &types) {
                ctx.tick()?;
                let (_, adjacent) = item?;
                if let Some(wanted) = wanted {
                    let record = ctx.load_edge(adjacent.edge)?;
                    if !props_match(wanted, |k| record.props.get(k))? {
                        continue;
                    }
                }
                match self.reached.get(&adjacent.other) {
                    None => {
                        self.reached.insert(adjacent.other, (next_depth, Some((node, adjacent.edge))));
                        next.push(adjacent.other);
                    }
                    Some(&(d, _)) if d == next_depth && self.keep_all => {
                        self.more_ways.entry(adjacent.other).or_default().push((node, adjacent.edge));
                    }
                    Some(_) => {}
                }
            }
        }
        self.depth = next_depth;
        self.frontier = next.clone();
        Ok(next)
    }

    /// Every chain of (node, relationship) steps from `node` back to this side's start
    /// (only the first when not `all`).
    fn chains(&self, node: NodeId, all: bool) -> Vec<Vec<(NodeId, EdgeId)>> {
        let Some(&(_, Some(first))) = self.reached.get(&node) else { return vec![Vec::new()] };
        let more = self.more_ways.get(&node).map_or(&[][..], Vec::as_slice);
        let mut out = Vec::new();
        for &(prev, edge) in std::iter::once(&first).chain(more) {
            for mut chain in self.chains(prev, all) {
                chain.push((node, edge));
                out.push(chain);
                if !all {
                    return out;
                }
            }
        }
        out
    }
}

fn reverse_direction(direction: PatternDirection) -> PatternDirection {
    match direction {
        PatternDirection::Outgoing => PatternDirection::Incoming,
        PatternDirection::Incoming => PatternDirection::Outgoing,
        PatternDirection::Either => PatternDirection::Either,
    }
}

/// Node and relationship ids of the shortest path(s) from `from` to `to`, searching from
/// both ends at once and always growing the smaller frontier.
fn shortest_ids(
    ctx: &Ctx<'_>,
    spec: &ShortestSpec<'_>,
    from: NodeId,
    to: NodeId,
    wanted: Option<&QValue>,
) -> Result<Vec<(Vec<NodeId>, Vec<EdgeId>)>> {
    if from == to {
        return Ok(if spec.min == 0 { vec![(vec![from], Vec::new())] } else { Vec::new() });
    }
    let mut forward = Side::new(from, spec.walk.direction, spec.all);
    let mut backward = Side::new(to, reverse_direction(spec.walk.direction), spec.all);
    loop {
        if spec.max.is_some_and(|max| forward.depth + backward.depth >= max) {
            return Ok(Vec::new());
        }
        if forward.frontier.is_empty() || backward.frontier.is_empty() {
            return Ok(Vec::new());
        }
        let grow_forward = forward.frontier.len() <= backward.frontier.len();
        let (grown, other) = if grow_forward { (&mut forward, &backward) } else { (&mut backward, &forward) };
        let reached = grown.expand(ctx, spec.walk, wanted)?;
        let best = reached.iter().filter_map(|n| other.distance(n).map(|d| d + grown.depth)).min();
        let Some(length) = best else { continue };
        let meeting: Vec<NodeId> =
            reached.into_iter().filter(|n| other.distance(n).is_some_and(|d| d + grown.depth == length)).collect();
        let mut paths = Vec::new();
        for m in meeting {
            for head in forward.chains(m, spec.all) {
                for tail in backward.chains(m, spec.all) {
                    let mut nodes = vec![from];
                    let mut rels = Vec::new();
                    for &(node, edge) in &head {
                        nodes.push(node);
                        rels.push(edge);
                    }
                    // The backward chain runs from `to` out to `m`: walk it in reverse.
                    for i in (0..tail.len()).rev() {
                        rels.push(tail[i].1);
                        nodes.push(if i == 0 { to } else { tail[i - 1].0 });
                    }
                    paths.push((nodes, rels));
                    if !spec.all {
                        return Ok(paths);
                    }
                }
            }
        }
        return Ok(paths);
    }
}

fn shortest(
    ctx: &Ctx<'_>,
    names: &[String],
    spec: &ShortestSpec<'_>,
    props: Option<&super::ast::Expr>,
    row: Row,
) -> Result<Vec<Row>> {
    let (Some(from), Some(to)) = (
        start_node(&row, spec.walk.from)?,
        spec.walk.into.and_then(|i| match row.get(i) {
            Some(QValue::Node(n)) => Some(n.clone()),
            _ => None,
        }),
    ) else {
        return Ok(Vec::new());
    };
    let wanted = props.map(|p| eval(ctx, p, &Scope::Row { names, row: &row })).transpose()?;
    let used = used_relationships(&row, &spec.walk.unique_with);
    let mut out = Vec::new();
    for (node_ids, rel_ids) in shortest_ids(ctx, spec, from.id, to.id, wanted.as_ref())? {
        if rel_ids.iter().any(|r| used.contains(r)) {
            continue;
        }
        let nodes: Vec<NodeValue> = node_ids
            .iter()
            .map(|&id| {
                if id == from.id {
                    from.clone()
                } else if id == to.id {
                    to.clone()
                } else {
                    NodeValue::unread(id)
                }
            })
            .collect();
        let rels: Vec<RelValue> = rel_ids.iter().map(|&edge| RelValue::unread(edge)).collect();
        let mut result = row.clone();
        result.push(if spec.bind_rels {
            QValue::List(rels.iter().cloned().map(QValue::Relationship).collect())
        } else {
            rels.first().cloned().map_or(QValue::Null, QValue::Relationship)
        });
        result.push(QValue::Path(PathValue { nodes, rels }));
        out.push(result);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Paths

/// The row of a `CountProduct`: each part's counts, multiplied (an overflow is an error).
fn count_product<'a>(ctx: &Rc<Ctx<'a>>, parts: &'a [Op], outputs: &[ProductCount], argument: Row) -> Result<Vec<Row>> {
    let mut counts: Vec<Vec<i64>> = Vec::with_capacity(parts.len());
    for part in parts {
        let row = build(part, ctx, argument.clone()).next().transpose()?.unwrap_or_default();
        counts.push(row.iter().map(|v| if let QValue::Int(n) = v { *n } else { 0 }).collect());
    }
    let rows_of = |i: usize| counts[i].first().copied().unwrap_or(0);
    let overflow = || QueryError::runtime("integer overflow: the count exceeds 2^63 - 1");
    let mut row = Vec::with_capacity(outputs.len());
    for output in outputs {
        let (first, skip) = match *output {
            ProductCount::Rows => (1, None),
            ProductCount::Within { part, column } => (counts[part].get(column).copied().unwrap_or(0), Some(part)),
        };
        let mut total: i64 = first;
        for i in (0..parts.len()).filter(|&i| Some(i) != skip) {
            total = total.checked_mul(rows_of(i)).ok_or_else(overflow)?;
        }
        row.push(QValue::Int(total));
    }
    Ok(vec![row])
}

/// What a subquery makes of its rows for one outer row: EXISTS pulls one row at most.
fn subquery_value<'a>(
    ctx: &Rc<Ctx<'a>>,
    inner: &'a Op,
    kind: SubqueryKind,
    column: usize,
    row: &Row,
) -> Result<QValue> {
    let mut rows = build(inner, ctx, row.clone());
    match kind {
        SubqueryKind::Exists => rows.next().transpose().map(|first| QValue::Bool(first.is_some())),
        SubqueryKind::Count => {
            let mut count: i64 = 0;
            for inner_row in rows {
                inner_row?;
                ctx.tick()?;
                count += 1;
            }
            Ok(QValue::Int(count))
        }
        SubqueryKind::Collect => {
            let mut values = Vec::new();
            for inner_row in rows {
                let mut inner_row = inner_row?;
                ctx.check_rows(u64::try_from(values.len()).unwrap_or(u64::MAX), "a COLLECT subquery")?;
                values.push(if column < inner_row.len() { inner_row.swap_remove(column) } else { QValue::Null });
            }
            Ok(QValue::List(values))
        }
    }
}

fn build_path(row: &Row, start: usize, pieces: &[PathPiece]) -> Result<QValue> {
    let Some(QValue::Node(first)) = row.get(start) else { return Ok(QValue::Null) };
    let mut path = PathValue { nodes: vec![first.clone()], rels: Vec::new() };
    for piece in pieces {
        match piece {
            PathPiece::Step { rel, node } => match (row.get(*rel), row.get(*node)) {
                (Some(QValue::Relationship(r)), Some(QValue::Node(n))) => {
                    path.rels.push(r.clone());
                    path.nodes.push(n.clone());
                }
                _ => return Ok(QValue::Null),
            },
            PathPiece::Segment { path: slot } => match row.get(*slot) {
                Some(QValue::Path(segment)) => {
                    path.rels.extend(segment.rels.iter().cloned());
                    path.nodes.extend(segment.nodes.iter().skip(1).cloned());
                }
                _ => return Ok(QValue::Null),
            },
        }
    }
    Ok(QValue::Path(path))
}

// ---------------------------------------------------------------------------------------
// Sorting and aggregation

fn sort<'a>(
    ctx: &Ctx<'a>,
    names: &[String],
    rows: RowStream<'a>,
    keys: &[(super::ast::Expr, bool)],
) -> Result<Vec<Row>> {
    let mut keyed: Vec<(Vec<QValue>, Row)> = Vec::new();
    for row in rows {
        let row = row?;
        ctx.check_rows(keyed.len() as u64 + 1, "ORDER BY")?;
        let scope = Scope::Row { names, row: &row };
        let key = keys.iter().map(|(e, _)| eval(ctx, e, &scope)).collect::<Result<Vec<_>>>()?;
        keyed.push((key, row));
    }
    keyed.sort_by(|(a, _), (b, _)| {
        for (i, (_, descending)) in keys.iter().enumerate() {
            let order = total_cmp(&a[i], &b[i]);
            let order = if *descending { order.reverse() } else { order };
            if order.is_ne() {
                return order;
            }
        }
        std::cmp::Ordering::Equal
    });
    Ok(keyed.into_iter().map(|(_, row)| row).collect())
}

/// The running state of one aggregate in one group.
struct Accumulator<'p> {
    spec: &'p Aggregation,
    seen: Option<BTreeSet<GroupKey>>,
    /// DISTINCT over graph elements: (is a relationship, id).
    seen_elements: FxHashSet<(bool, u64)>,
    count: i64,
    values: Vec<QValue>,
    int_sum: i64,
    float_sum: f64,
    floats: bool,
    /// The sum of durations, when sum() or avg() add durations instead of numbers.
    durations: Option<crate::temporal::Duration>,
    best: Option<QValue>,
    percentile: Option<f64>,
}

impl<'p> Accumulator<'p> {
    fn new(spec: &'p Aggregation) -> Self {
        Accumulator {
            spec,
            seen: spec.distinct.then(BTreeSet::new),
            seen_elements: FxHashSet::default(),
            count: 0,
            values: Vec::new(),
            int_sum: 0,
            float_sum: 0.0,
            floats: false,
            durations: None,
            best: None,
            percentile: None,
        }
    }

    fn add(&mut self, ctx: &Ctx<'_>, scope: &Scope<'_>) -> Result<()> {
        if self.spec.func == AggFunc::CountStar {
            self.count += 1;
            return Ok(());
        }
        let Some(arg) = &self.spec.arg else { return Ok(()) };
        let value = eval(ctx, arg, scope)?;
        if value.is_null() {
            return Ok(());
        }
        if let Some(seen) = &mut self.seen {
            // Nodes and relationships are the same value exactly when their ids are.
            let fresh = match &value {
                QValue::Node(n) => self.seen_elements.insert((false, n.id)),
                QValue::Relationship(r) => self.seen_elements.insert((true, r.id)),
                other => seen.insert(GroupKey(vec![other.clone()])),
            };
            if !fresh {
                return Ok(());
            }
        }
        match self.spec.func {
            AggFunc::CountStar => {}
            AggFunc::Count => self.count += 1,
            AggFunc::Collect => {
                self.values.push(value);
                ctx.check_rows(self.values.len() as u64, "collect()")?;
            }
            AggFunc::Sum | AggFunc::Avg => {
                self.count += 1;
                let numbers_seen = self.count > 1 && self.durations.is_none();
                match value {
                    QValue::Temporal(crate::temporal::Temporal::Duration(d)) if !numbers_seen => {
                        let total = self.durations.unwrap_or(crate::temporal::Duration::ZERO).plus(d);
                        self.durations = Some(total.map_err(|e| QueryError::runtime(e.0))?);
                    }
                    QValue::Int(_) | QValue::Float(_) if self.durations.is_some() => {
                        return Err(QueryError::type_error(format!(
                            "{}() cannot add numbers and durations together",
                            self.name()
                        )))
                    }
                    QValue::Int(i) => {
                        self.float_sum += i as f64;
                        if !self.floats {
                            self.int_sum = self
                                .int_sum
                                .checked_add(i)
                                .ok_or_else(|| QueryError::runtime("integer overflow in sum()"))?;
                        }
                    }
                    QValue::Float(x) => {
                        self.floats = true;
                        self.float_sum += x;
                    }
                    other => {
                        return Err(QueryError::type_error(format!(
                            "{}() expects numbers, got a {}",
                            self.name(),
                            other.type_name()
                        )))
                    }
                }
            }
            AggFunc::Min | AggFunc::Max => {
                let better = match &self.best {
                    None => true,
                    Some(best) => {
                        let order = total_cmp(&value, best);
                        if self.spec.func == AggFunc::Min {
                            order.is_lt()
                        } else {
                            order.is_gt()
                        }
                    }
                };
                if better {
                    self.best = Some(value);
                }
            }
            AggFunc::StDev | AggFunc::StDevP | AggFunc::PercentileDisc | AggFunc::PercentileCont => {
                match value {
                    QValue::Int(_) | QValue::Float(_) => self.values.push(value),
                    other => {
                        return Err(QueryError::type_error(format!(
                            "{}() expects numbers, got a {}",
                            self.name(),
                            other.type_name()
                        )))
                    }
                }
                ctx.check_rows(self.values.len() as u64, &format!("{}()", self.name()))?;
                if self.percentile.is_none() {
                    if let Some(extra) = &self.spec.extra {
                        let p = match eval(ctx, extra, scope)? {
                            QValue::Int(i) => i as f64,
                            QValue::Float(x) => x,
                            other => {
                                return Err(QueryError::type_error(format!(
                                    "a percentile must be a number, got a {}",
                                    other.type_name()
                                )))
                            }
                        };
                        if !(0.0..=1.0).contains(&p) {
                            return Err(QueryError::runtime(format!(
                                "a percentile must be between 0.0 and 1.0, got {p}"
                            )));
                        }
                        self.percentile = Some(p);
                    }
                }
            }
        }
        Ok(())
    }

    fn name(&self) -> &str {
        self.spec.text.split('(').next().unwrap_or("aggregate")
    }

    fn finish(self) -> QValue {
        let as_float = |v: &QValue| match v {
            QValue::Int(i) => *i as f64,
            QValue::Float(x) => *x,
            _ => f64::NAN,
        };
        if let (AggFunc::Sum | AggFunc::Avg, Some(total)) = (self.spec.func, self.durations) {
            let value = if self.spec.func == AggFunc::Sum { Ok(total) } else { total.divided_by_int(self.count) };
            return value.map_or(QValue::Null, |d| QValue::Temporal(crate::temporal::Temporal::Duration(d)));
        }
        match self.spec.func {
            AggFunc::CountStar | AggFunc::Count => QValue::Int(self.count),
            AggFunc::Collect => QValue::List(self.values),
            AggFunc::Sum if self.floats => QValue::Float(self.float_sum),
            AggFunc::Sum => QValue::Int(self.int_sum),
            AggFunc::Avg if self.count == 0 => QValue::Null,
            AggFunc::Avg => QValue::Float(self.float_sum / self.count as f64),
            AggFunc::Min | AggFunc::Max => self.best.unwrap_or(QValue::Null),
            AggFunc::StDev | AggFunc::StDevP => {
                let n = self.values.len() as f64;
                let sample = self.spec.func == AggFunc::StDev;
                if self.values.len() < 2 && sample || self.values.is_empty() {
                    return QValue::Float(0.0);
                }
                let mean = self.values.iter().map(as_float).sum::<f64>() / n;
                let squares = self.values.iter().map(|v| (as_float(v) - mean).powi(2)).sum::<f64>();
                QValue::Float((squares / if sample { n - 1.0 } else { n }).sqrt())
            }
            AggFunc::PercentileDisc | AggFunc::PercentileCont => {
                let mut values = self.values;
                if values.is_empty() {
                    return QValue::Null;
                }
                values.sort_by(total_cmp);
                let p = self.percentile.unwrap_or(0.0);
                let n = values.len();
                if self.spec.func == AggFunc::PercentileDisc {
                    let index = ((p * n as f64).ceil() as usize).saturating_sub(1).min(n - 1);
                    values.swap_remove(index)
                } else {
                    let position = p * (n - 1) as f64;
                    let (lower, upper) = (position.floor() as usize, position.ceil() as usize);
                    let (a, b) = (as_float(&values[lower.min(n - 1)]), as_float(&values[upper.min(n - 1)]));
                    QValue::Float(a + (position - lower as f64) * (b - a))
                }
            }
        }
    }
}

/// Groups the input by the key expressions and computes every aggregate per group; with
/// no keys, one row even for no input.
fn aggregate<'a>(
    ctx: &Ctx<'a>,
    names: &[String],
    rows: RowStream<'a>,
    keys: &'a [(String, super::ast::Expr)],
    aggregates: &'a [(String, Aggregation)],
) -> Result<Vec<Row>> {
    let mut index: std::collections::BTreeMap<GroupKey, usize> = std::collections::BTreeMap::new();
    let mut groups: Vec<(Vec<QValue>, Vec<Accumulator<'a>>)> = Vec::new();
    for row in rows {
        let row = row?;
        ctx.tick()?;
        let scope = Scope::Row { names, row: &row };
        let key = keys.iter().map(|(_, e)| eval(ctx, e, &scope)).collect::<Result<Vec<_>>>()?;
        let group_key = GroupKey(key);
        let slot = match index.get(&group_key) {
            Some(&slot) => slot,
            None => {
                ctx.check_rows(groups.len() as u64 + 1, "aggregation")?;
                let accumulators = aggregates.iter().map(|(_, a)| Accumulator::new(a)).collect();
                groups.push((group_key.0.clone(), accumulators));
                index.insert(group_key, groups.len() - 1);
                groups.len() - 1
            }
        };
        for acc in &mut groups[slot].1 {
            acc.add(ctx, &scope)?;
        }
    }
    if groups.is_empty() && keys.is_empty() {
        groups.push((Vec::new(), aggregates.iter().map(|(_, a)| Accumulator::new(a)).collect()));
    }
    Ok(groups
        .into_iter()
        .map(|(mut key, accumulators)| {
            key.extend(accumulators.into_iter().map(Accumulator::finish));
            key
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The galloping search finds what a plain bisection finds, wherever the cursor is.
        #[test]
        fn edges_to_matches_bisection(
            mut others in proptest::collection::vec(0u64..40, 0..60),
            asks in proptest::collection::vec(0u64..45, 1..30),
        ) {
            others.sort_unstable();
            let edges: Vec<(NodeId, EdgeId)> = others.iter().enumerate().map(|(i, &o)| (o, i as u64)).collect();
            let mut cursor = 0;
            for node in asks {
                let expected: Vec<_> = edges.iter().copied().filter(|(o, _)| *o == node).collect();
                prop_assert_eq!(edges_to(&edges, node, &mut cursor).to_vec(), expected);
            }
        }
    }
}
