//! The `algo.*` procedures: each takes one options map — the projection's keys (`level`,
//! `eventTypes`, `from`, `to`, `directed`, `weight`, `minWeight`, `labels`) and its own —
//! builds (or reuses) the projection through `analytics`, and yields the store's nodes
//! themselves, so results compose with MATCH and RETURN.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{CallContext, CallError, CallRows, FieldType, Procedure, Registry, Signature};
use crate::analytics::centrality::{self, BetweennessOptions, PageRankOptions};
use crate::analytics::community::{self, LouvainOptions};
use crate::analytics::options::{integer, number_in};
use crate::analytics::{AnalyticsError, Projection, ProjectionOptions};
use crate::model::{NodeId, Value};
use crate::query::error::{ErrorKind, QueryError};
use crate::query::value::{NodeValue, QValue};

type Run = fn(&CallContext<'_>, &BTreeMap<String, Value>) -> Result<CallRows, CallError>;

struct Algorithm {
    signature: Signature,
    run: Run,
}

impl Procedure for Algorithm {
    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn call(&self, cx: &CallContext<'_>, args: &[QValue]) -> Result<CallRows, CallError> {
        let options = match args.first() {
            None | Some(QValue::Null) => BTreeMap::new(),
            Some(QValue::Map(map)) => map
                .iter()
                .map(|(k, v)| {
                    let value = v.to_value().ok_or_else(|| CallError::Argument {
                        index: 0,
                        message: format!("option `{k}`: a {} is not an option value", v.type_name()),
                    })?;
                    Ok((k.clone(), value))
                })
                .collect::<Result<_, CallError>>()?,
            Some(other) => {
                return Err(CallError::Argument {
                    index: 0,
                    message: format!("expected a map, got {}", other.type_name()),
                })
            }
        };
        (self.run)(cx, &options)
    }
}

/// The options argument every algorithm takes.
fn with_options(name: &str, description: &str) -> Signature {
    Signature::new(name, description).optional("options", FieldType::Map, Value::Map(BTreeMap::new()))
}

pub fn register(registry: &mut Registry) {
    let mut add = |signature: Signature, run: Run| registry.register(Arc::new(Algorithm { signature, run }));
    add(
        with_options(
            "algo.ties",
            "The projection itself: each tie with its weight (one row per pair when undirected).",
        )
        .output("source", FieldType::Node)
        .output("target", FieldType::Node)
        .output("weight", FieldType::Float),
        ties,
    );
    add(
        with_options("algo.degree", "Ties (degree) and summed tie weight (strength) of each actor of the projection.")
            .output("node", FieldType::Node)
            .output("degree", FieldType::Integer)
            .output("inDegree", FieldType::Integer)
            .output("outDegree", FieldType::Integer)
            .output("strength", FieldType::Float),
        degree,
    );
    add(
        with_options(
            "algo.pageRank",
            "Weighted PageRank of the projection's actors; options dampingFactor (0.85), maxIterations (200), tolerance (1e-10).",
        )
        .output("node", FieldType::Node)
        .output("score", FieldType::Float),
        page_rank,
    );
    add(
        with_options(
            "algo.betweenness",
            "Betweenness over shortest paths by ties; samples (estimate from that many sources), seed (42), normalized (true).",
        )
        .output("node", FieldType::Node)
        .output("score", FieldType::Float),
        betweenness,
    );
    add(
        with_options("algo.louvain", "Louvain communities of the projection; resolution (1.0), seed (42).")
            .output("node", FieldType::Node)
            .output("community", FieldType::Integer)
            .output("modularity", FieldType::Float),
        louvain,
    );
    add(
        with_options("algo.labelPropagation", "Label-propagation communities; seed (42), maxIterations (100).")
            .output("node", FieldType::Node)
            .output("community", FieldType::Integer),
        label_propagation,
    );
    add(
        with_options("algo.wcc", "Weakly connected components of the projection, with their sizes.")
            .output("node", FieldType::Node)
            .output("component", FieldType::Integer)
            .output("size", FieldType::Integer),
        wcc,
    );
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
    let projection = projection(cx, options, &[])?;
    Ok(projection
        .ties()
        .map(|(a, b, w)| vec![node(projection.actor(a)), node(projection.actor(b)), QValue::Float(w)])
        .collect())
}

fn degree(cx: &CallContext<'_>, options: &BTreeMap<String, Value>) -> Result<CallRows, CallError> {
    let projection = projection(cx, options, &[])?;
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
    let projection = projection(cx, options, &["dampingFactor", "maxIterations", "tolerance"])?;
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
    let projection = projection(cx, options, &["samples", "seed", "normalized"])?;
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
    let projection = projection(cx, options, &["resolution", "seed"])?;
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
    let projection = projection(cx, options, &["seed", "maxIterations"])?;
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
    let projection = projection(cx, options, &[])?;
    let (components, sizes) = community::weakly_connected_components(&projection);
    Ok(components.iter().enumerate().map(|(i, &c)| vec![node(projection.actor(i)), int(c), int(sizes[c])]).collect())
}
