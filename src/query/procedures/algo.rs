//! The `algo.*` procedures: each takes one options map — the projection's keys (`level`,
//! `eventTypes`, `from`, `to`, `directed`, `weight`, `minWeight`, `labels`) and its own —
//! builds (or reuses) the projection through `analytics`, and yields the store's nodes
//! themselves, so results compose with MATCH and RETURN.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{CallContext, CallError, CallRows, FieldType, Procedure, Registry, Signature};
use crate::analytics::centrality::{self, BetweennessOptions, PageRankOptions};
use crate::analytics::community::{self, LouvainOptions};
use crate::analytics::options::{integer, is_date, number_in, optional_str, optional_str_list};
use crate::analytics::ties::{self, Period};
use crate::analytics::{brokers, path, AnalyticsError, OptionError, Projection, ProjectionOptions};
use crate::model::{NodeId, Value};
use crate::query::error::{ErrorKind, QueryError};
use crate::query::value::{NodeValue, QValue};

type Run = fn(&CallContext<'_>, &BTreeMap<String, Value>) -> Result<CallRows, CallError>;

struct Algorithm {
    signature: Signature,
    run: Run,
    /// The options map's keys the algorithm reads beside the projection's.
    keys: &'static [&'static str],
}

impl Procedure for Algorithm {
    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn check_constant_args(&self, args: &[Option<Value>]) -> Result<(), CallError> {
        match args.first() {
            Some(Some(Value::Map(options))) => {
                ProjectionOptions::from_map(options, self.keys).map(drop).map_err(option_error)
            }
            _ => Ok(()),
        }
    }

    fn call(&self, cx: &CallContext<'_>, args: &[QValue]) -> Result<CallRows, CallError> {
        (self.run)(cx, &options_map(args.first(), 0)?)
    }
}

/// The options argument (number `index`) as property values.
fn options_map(arg: Option<&QValue>, index: usize) -> Result<BTreeMap<String, Value>, CallError> {
    match arg {
        None | Some(QValue::Null) => Ok(BTreeMap::new()),
        Some(QValue::Map(map)) => map
            .iter()
            .map(|(k, v)| {
                let value = v.to_value().ok_or_else(|| CallError::Argument {
                    index,
                    message: format!("option `{k}`: a {} is not an option value", v.type_name()),
                })?;
                Ok((k.clone(), value))
            })
            .collect(),
        Some(other) => {
            Err(CallError::Argument { index, message: format!("expected a map, got {}", other.type_name()) })
        }
    }
}

/// The options argument every algorithm takes.
fn with_options(name: &str, description: &str) -> Signature {
    Signature::new(name, description).optional("options", FieldType::Map, Value::Map(BTreeMap::new()))
}

// The keys each algorithm reads beside the projection's (checked before the query runs).
const TIES_KEYS: &[&str] = &[];
const DEGREE_KEYS: &[&str] = &[];
const PAGE_RANK_KEYS: &[&str] = &["dampingFactor", "maxIterations", "tolerance"];
const BETWEENNESS_KEYS: &[&str] = &["samples", "seed", "normalized"];
const LOUVAIN_KEYS: &[&str] = &["resolution", "seed"];
const LABEL_PROPAGATION_KEYS: &[&str] = &["seed", "maxIterations"];
const BROKERS_KEYS: &[&str] = &[];
const DYADS_KEYS: &[&str] = &["period"];
const DRIFT_KEYS: &[&str] = &["before", "after"];
const SIMILARITY_KEYS: &[&str] = &["minSimilarity"];
const WCC_KEYS: &[&str] = &[];

pub fn register(registry: &mut Registry) {
    registry.register(Arc::new(StrongestPath {
        signature: Signature::new(
            "algo.path",
            "The strongest chain of ties between two actors (a node, an id or a name): a tie costs 1/weight.",
        )
        .arg("source", FieldType::Any)
        .arg("target", FieldType::Any)
        .optional("options", FieldType::Map, Value::Map(BTreeMap::new()))
        .output("nodes", FieldType::List(Box::new(FieldType::Node)))
        .output("cost", FieldType::Float)
        .output("hops", FieldType::Integer)
        .output("weights", FieldType::List(Box::new(FieldType::Float))),
    }));
    let mut add = |signature: Signature, run: Run, keys: &'static [&'static str]| {
        registry.register(Arc::new(Algorithm { signature, run, keys }))
    };
    add(
        with_options(
            "algo.ties",
            "The projection itself: each tie with its weight (one row per pair when undirected).",
        )
        .output("source", FieldType::Node)
        .output("target", FieldType::Node)
        .output("weight", FieldType::Float),
        ties,
        TIES_KEYS,
    );
    add(
        with_options("algo.degree", "Ties (degree) and summed tie weight (strength) of each actor of the projection.")
            .output("node", FieldType::Node)
            .output("degree", FieldType::Integer)
            .output("inDegree", FieldType::Integer)
            .output("outDegree", FieldType::Integer)
            .output("strength", FieldType::Float),
        degree,
        DEGREE_KEYS,
    );
    add(
        with_options(
            "algo.pageRank",
            "Weighted PageRank of the projection's actors; options dampingFactor (0.85), maxIterations (200), tolerance (1e-10).",
        )
        .output("node", FieldType::Node)
        .output("score", FieldType::Float),
        page_rank,
        PAGE_RANK_KEYS,
    );
    add(
        with_options(
            "algo.betweenness",
            "Betweenness over shortest paths by ties; samples (estimate from that many sources), seed (42), normalized (true).",
        )
        .output("node", FieldType::Node)
        .output("score", FieldType::Float),
        betweenness,
        BETWEENNESS_KEYS,
    );
    add(
        with_options("algo.louvain", "Louvain communities of the projection; resolution (1.0), seed (42).")
            .output("node", FieldType::Node)
            .output("community", FieldType::Integer)
            .output("modularity", FieldType::Float),
        louvain,
        LOUVAIN_KEYS,
    );
    add(
        with_options("algo.labelPropagation", "Label-propagation communities; seed (42), maxIterations (100).")
            .output("node", FieldType::Node)
            .output("community", FieldType::Integer),
        label_propagation,
        LABEL_PROPAGATION_KEYS,
    );
    add(
        with_options(
            "algo.brokers",
            "Articulation points of the undirected projection and Burt's constraint (low: spans structural holes).",
        )
        .output("node", FieldType::Node)
        .output("articulationPoint", FieldType::Boolean)
        .output("constraint", FieldType::Float),
        brokers_procedure,
        BROKERS_KEYS,
    );
    add(
        with_options("algo.dyads", "Events per pair per period; period 'month', 'quarter' or 'year' (default).")
            .output("a", FieldType::Node)
            .output("b", FieldType::Node)
            .output("period", FieldType::String)
            .output("events", FieldType::Integer)
            .output("weight", FieldType::Float),
        dyads,
        DYADS_KEYS,
    );
    add(
        with_options(
            "algo.drift",
            "Pairs whose tie changed between two windows: before: [from, to], after: [from, to] (required).",
        )
        .output("a", FieldType::Node)
        .output("b", FieldType::Node)
        .output("before", FieldType::Float)
        .output("after", FieldType::Float)
        .output("change", FieldType::Float),
        drift,
        DRIFT_KEYS,
    );
    add(
        with_options(
            "algo.similarity",
            "Jaccard similarity of partner sets, per pair sharing a partner; minSimilarity (0).",
        )
        .output("a", FieldType::Node)
        .output("b", FieldType::Node)
        .output("similarity", FieldType::Float)
        .output("shared", FieldType::Integer),
        similarity,
        SIMILARITY_KEYS,
    );
    add(
        with_options("algo.wcc", "Weakly connected components of the projection, with their sizes.")
            .output("node", FieldType::Node)
            .output("component", FieldType::Integer)
            .output("size", FieldType::Integer),
        wcc,
        WCC_KEYS,
    );
}

/// `algo.path(source, target, options)`: the actors are given as nodes, `id`s or names.
struct StrongestPath {
    signature: Signature,
}

impl Procedure for StrongestPath {
    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn check_constant_args(&self, args: &[Option<Value>]) -> Result<(), CallError> {
        match args.get(2) {
            Some(Some(Value::Map(options))) => ProjectionOptions::from_map(options, &[])
                .map(drop)
                .map_err(|e| CallError::Argument { index: 2, message: e.to_string() }),
            _ => Ok(()),
        }
    }

    fn call(&self, cx: &CallContext<'_>, args: &[QValue]) -> Result<CallRows, CallError> {
        let options = options_map(args.get(2), 2)?;
        let projection_options = ProjectionOptions::from_map(&options, &[])
            .map_err(|e| CallError::Argument { index: 2, message: e.to_string() })?;
        let projection = Projection::cached(cx.store, &projection_options, cx.deadline()).map_err(|e| match e {
            AnalyticsError::Option(e) => CallError::Argument { index: 2, message: e.to_string() },
            other => analytics_error(other),
        })?;
        let source = actor_argument(cx, &projection, args.first(), 0)?;
        let target = actor_argument(cx, &projection, args.get(1), 1)?;
        let Some(found) = path::strongest_path(&projection, source, target) else { return Ok(Vec::new()) };
        Ok(vec![vec![
            QValue::List(found.actors.iter().map(|&i| node(projection.actor(i))).collect()),
            QValue::Float(found.cost),
            int(found.actors.len().saturating_sub(1)),
            QValue::List(found.weights.iter().map(|&w| QValue::Float(w)).collect()),
        ]])
    }
}

/// The projection's actor an argument names: a node, or a string matched against `id`
/// and then against names and aliases.
fn actor_argument(
    cx: &CallContext<'_>,
    projection: &Projection,
    arg: Option<&QValue>,
    index: usize,
) -> Result<usize, CallError> {
    let refused = |message: String| CallError::Argument { index, message };
    let candidates: Vec<NodeId> = match arg {
        Some(QValue::Node(n)) => vec![n.id],
        Some(QValue::Str(text)) => {
            let by_key = cx.store.nodes_with_key(text)?;
            if by_key.is_empty() {
                cx.store.entities_named(text)?.into_iter().map(|(id, _)| id).collect()
            } else {
                by_key
            }
        }
        Some(other) => return Err(refused(format!("expected a node, an id or a name, got {}", other.type_name()))),
        None => return Err(refused("expected a node, an id or a name, got nothing".into())),
    };
    let mut actors: Vec<usize> = candidates.iter().filter_map(|&id| projection.index_of(id)).collect();
    actors.sort_unstable();
    actors.dedup();
    let shown = arg.map_or(String::new(), |v| v.to_string());
    match actors.as_slice() {
        [one] => Ok(*one),
        [] if candidates.is_empty() => Err(refused(format!("no node has the id or name {shown}"))),
        [] => {
            Err(refused(format!("{shown} is not an actor of this projection (check `level`, `labels` and the window)")))
        }
        many => {
            let mut ids = Vec::new();
            for &i in many {
                let record = cx.store.node(projection.actor(i))?;
                ids.push(record.and_then(|r| r.key().map(str::to_string)).unwrap_or_default());
            }
            Err(refused(format!("{shown} names several actors ({}); pass an id", ids.join(", "))))
        }
    }
}

/// Reads the projection's options (refusing keys neither it nor the algorithm knows) and
/// returns the projection, built once per store generation.
fn projection(
    cx: &CallContext<'_>,
    options: &BTreeMap<String, Value>,
    algorithm_keys: &[&str],
) -> Result<Arc<Projection>, CallError> {
    let projection_options = ProjectionOptions::from_map(options, algorithm_keys).map_err(option_error)?;
    Projection::cached(cx.store, &projection_options, cx.deadline()).map_err(analytics_error)
}

fn option_error(e: crate::analytics::OptionError) -> CallError {
    CallError::Argument { index: 0, message: e.to_string() }
}

pub(super) fn analytics_error(e: AnalyticsError) -> CallError {
    match e {
        AnalyticsError::Option(e) => option_error(e),
        AnalyticsError::Store(e) => CallError::Query(e.into()),
        AnalyticsError::Timeout => CallError::Query(QueryError::new(
            ErrorKind::Timeout,
            "the query ran longer than its timeout and was stopped",
        )),
    }
}

fn node(id: NodeId) -> QValue {
    QValue::Node(NodeValue::unread(id))
}

fn int(n: usize) -> QValue {
    QValue::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

fn seed(options: &BTreeMap<String, Value>) -> Result<u64, CallError> {
    let seed = integer(options, "seed", 0, i64::MAX).map_err(option_error)?.unwrap_or(42);
    Ok(u64::try_from(seed).unwrap_or(42))
}

/// One row per actor: `(node, score)`, highest score first.
fn ranked(projection: &Projection, scores: &[f64]) -> CallRows {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    order.into_iter().map(|i| vec![node(projection.actor(i)), QValue::Float(scores[i])]).collect()
}

fn ties(cx: &CallContext<'_>, options: &BTreeMap<String, Value>) -> Result<CallRows, CallError> {
    let projection = projection(cx, options, TIES_KEYS)?;
    Ok(projection
        .ties()
        .map(|(a, b, w)| vec![node(projection.actor(a)), node(projection.actor(b)), QValue::Float(w)])
        .collect())
}

fn degree(cx: &CallContext<'_>, options: &BTreeMap<String, Value>) -> Result<CallRows, CallError> {
    let projection = projection(cx, options, TIES_KEYS)?;
    let degrees = centrality::degree(&projection);
    let mut order: Vec<usize> = (0..degrees.len()).collect();
    order.sort_by(|&a, &b| degrees[b].strength.total_cmp(&degrees[a].strength).then(a.cmp(&b)));
    Ok(order
        .into_iter()
        .map(|i| {
            let d = &degrees[i];
            vec![
                node(projection.actor(i)),
                int(d.degree),
                int(d.in_degree),
                int(d.out_degree),
                QValue::Float(d.strength),
            ]
        })
        .collect())
}

fn page_rank(cx: &CallContext<'_>, options: &BTreeMap<String, Value>) -> Result<CallRows, CallError> {
    let projection = projection(cx, options, PAGE_RANK_KEYS)?;
    let defaults = PageRankOptions::default();
    let settings = PageRankOptions {
        damping: number_in(options, "dampingFactor", 0.0, 1.0).map_err(option_error)?.unwrap_or(defaults.damping),
        max_iterations: integer(options, "maxIterations", 1, 100_000)
            .map_err(option_error)?
            .map_or(defaults.max_iterations, |i| usize::try_from(i).unwrap_or(defaults.max_iterations)),
        tolerance: number_in(options, "tolerance", 0.0, 1.0).map_err(option_error)?.unwrap_or(defaults.tolerance),
    };
    let scores = centrality::page_rank(&projection, &settings, cx.deadline()).map_err(analytics_error)?;
    Ok(ranked(&projection, &scores))
}

fn betweenness(cx: &CallContext<'_>, options: &BTreeMap<String, Value>) -> Result<CallRows, CallError> {
    let projection = projection(cx, options, BETWEENNESS_KEYS)?;
    let normalized = match options.get("normalized") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(option_error(crate::analytics::OptionError::new(
                "normalized",
                format!("expected true or false, got {other}"),
            )))
        }
    };
    let samples = integer(options, "samples", 1, i64::MAX).map_err(option_error)?;
    let settings = BetweennessOptions {
        samples: samples.map(|k| usize::try_from(k).unwrap_or(usize::MAX)),
        seed: seed(options)?,
        normalized,
    };
    let scores = centrality::betweenness(&projection, &settings, cx.deadline()).map_err(analytics_error)?;
    Ok(ranked(&projection, &scores))
}

fn louvain(cx: &CallContext<'_>, options: &BTreeMap<String, Value>) -> Result<CallRows, CallError> {
    let projection = projection(cx, options, LOUVAIN_KEYS)?;
    let resolution = number_in(options, "resolution", 0.0, 1e6).map_err(option_error)?.unwrap_or(1.0);
    let settings = LouvainOptions { resolution, seed: seed(options)? };
    let (communities, q) = community::louvain(&projection, &settings, cx.deadline()).map_err(analytics_error)?;
    Ok(communities
        .iter()
        .enumerate()
        .map(|(i, &c)| vec![node(projection.actor(i)), int(c), QValue::Float(q)])
        .collect())
}

fn label_propagation(cx: &CallContext<'_>, options: &BTreeMap<String, Value>) -> Result<CallRows, CallError> {
    let projection = projection(cx, options, LABEL_PROPAGATION_KEYS)?;
    let iterations = integer(options, "maxIterations", 1, 100_000).map_err(option_error)?.unwrap_or(100);
    let labels = community::label_propagation(
        &projection,
        seed(options)?,
        usize::try_from(iterations).unwrap_or(100),
        cx.deadline(),
    )
    .map_err(analytics_error)?;
    Ok(labels.iter().enumerate().map(|(i, &c)| vec![node(projection.actor(i)), int(c)]).collect())
}

fn wcc(cx: &CallContext<'_>, options: &BTreeMap<String, Value>) -> Result<CallRows, CallError> {
    let projection = projection(cx, options, TIES_KEYS)?;
    let (components, sizes) = community::weakly_connected_components(&projection);
    Ok(components.iter().enumerate().map(|(i, &c)| vec![node(projection.actor(i)), int(c), int(sizes[c])]).collect())
}

fn brokers_procedure(cx: &CallContext<'_>, options: &BTreeMap<String, Value>) -> Result<CallRows, CallError> {
    let projection = projection(cx, options, TIES_KEYS)?;
    let points = brokers::articulation_points(&projection);
    let constraint = brokers::constraint(&projection);
    let mut order: Vec<usize> = (0..points.len()).collect();
    // Articulation points first, then the least constrained; actors without ties last.
    order.sort_by(|&a, &b| {
        points[b]
            .cmp(&points[a])
            .then(constraint[a].unwrap_or(f64::INFINITY).total_cmp(&constraint[b].unwrap_or(f64::INFINITY)))
            .then(a.cmp(&b))
    });
    Ok(order
        .into_iter()
        .map(|i| {
            vec![node(projection.actor(i)), QValue::Bool(points[i]), constraint[i].map_or(QValue::Null, QValue::Float)]
        })
        .collect())
}

fn dyads(cx: &CallContext<'_>, options: &BTreeMap<String, Value>) -> Result<CallRows, CallError> {
    let projection_options = ProjectionOptions::from_map(options, DYADS_KEYS).map_err(option_error)?;
    let period = match optional_str(options, "period").map_err(option_error)?.as_deref() {
        None | Some("year") => Period::Year,
        Some("quarter") => Period::Quarter,
        Some("month") => Period::Month,
        Some(other) => {
            return Err(option_error(OptionError::new(
                "period",
                format!("expected 'month', 'quarter' or 'year', got '{other}'"),
            )))
        }
    };
    let found = ties::dyads(cx.store, &projection_options, period, cx.deadline()).map_err(analytics_error)?;
    Ok(found
        .into_iter()
        .map(|d| {
            vec![
                node(d.a),
                node(d.b),
                QValue::str(d.period),
                QValue::Int(i64::try_from(d.events).unwrap_or(i64::MAX)),
                QValue::Float(d.weight),
            ]
        })
        .collect())
}

/// A `[from, to]` window option.
fn window_option(options: &BTreeMap<String, Value>, key: &str) -> Result<(String, String), CallError> {
    let list = optional_str_list(options, key).map_err(option_error)?;
    match list.as_deref() {
        Some([from, to]) if is_date(from) && is_date(to) && !ties::windows_in_order(to, from) => {
            Ok((from.clone(), to.clone()))
        }
        Some([from, to]) if is_date(from) && is_date(to) => {
            Err(option_error(OptionError::new(key, format!("'{to}' is before '{from}'"))))
        }
        Some(_) => {
            Err(option_error(OptionError::new(key, "expected [from, to], two dates YYYY, YYYY-MM or YYYY-MM-DD")))
        }
        None => Err(option_error(OptionError::new(key, "missing: give the window [from, to] to compare"))),
    }
}

fn drift(cx: &CallContext<'_>, options: &BTreeMap<String, Value>) -> Result<CallRows, CallError> {
    let projection_options = ProjectionOptions::from_map(options, DRIFT_KEYS).map_err(option_error)?;
    if projection_options.from.is_some() || projection_options.to.is_some() {
        let key = if projection_options.from.is_some() { "from" } else { "to" };
        return Err(option_error(OptionError::new(
            key,
            "drift compares the windows `before` and `after`; drop `from` and `to`",
        )));
    }
    let (before_from, before_to) = window_option(options, "before")?;
    let (after_from, after_to) = window_option(options, "after")?;
    let before =
        Projection::cached(cx.store, &ties::window(&projection_options, &before_from, &before_to), cx.deadline())
            .map_err(analytics_error)?;
    let after = Projection::cached(cx.store, &ties::window(&projection_options, &after_from, &after_to), cx.deadline())
        .map_err(analytics_error)?;
    Ok(ties::drift(&before, &after)
        .into_iter()
        .map(|d| {
            let change = d.change();
            vec![node(d.a), node(d.b), QValue::Float(d.before), QValue::Float(d.after), QValue::Float(change)]
        })
        .collect())
}

fn similarity(cx: &CallContext<'_>, options: &BTreeMap<String, Value>) -> Result<CallRows, CallError> {
    let projection = projection(cx, options, SIMILARITY_KEYS)?;
    let min = number_in(options, "minSimilarity", 0.0, 1.0).map_err(option_error)?.unwrap_or(0.0);
    Ok(ties::similarity(&projection, min)
        .into_iter()
        .map(|s| {
            vec![node(projection.actor(s.a)), node(projection.actor(s.b)), QValue::Float(s.jaccard), int(s.shared)]
        })
        .collect())
}
