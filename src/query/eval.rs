//! Expression evaluation with openCypher semantics: three-valued logic, null propagation,
//! integer/float arithmetic with overflow errors, comprehensions and pattern predicates.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use regex::Regex;

use super::ast::{BinaryOp, Expr, ExprKind, Literal, MapProjectionItem, Quantifier, UnaryOp};
use super::error::{ErrorKind, QueryError, Result};
use super::functions;
use super::value::{compare, equals, Comparison, NodeValue, QValue, RelEnds, RelValue};
use super::{CancelFlag, Params};
use crate::model::{EdgeId, EdgeRecord, NodeId, NodeRecord};
use crate::store::{EdgeTypes, LabelBits, PropertyView, Store};
use rustc_hash::FxHashMap;

/// How often (in units of work) the deadline is checked.
const DEADLINE_CHECK_EVERY: u64 = 256;

/// What evaluation and execution share: the store, the parameters, the deadline and caches.
pub(crate) struct Ctx<'a> {
    pub store: Option<&'a Store>,
    pub params: &'a Params,
    pub deadline: Option<Instant>,
    pub max_rows: Option<u64>,
    /// The query's clock: `date()`, `datetime()` … read it, so it is fixed per query.
    pub now: jiff::Timestamp,
    cancel: Option<CancelFlag>,
    ticks: Cell<u64>,
    regexes: RefCell<HashMap<String, Arc<Regex>>>,
    nodes: RefCell<FxHashMap<NodeId, Arc<NodeRecord>>>,
    edges: RefCell<FxHashMap<EdgeId, Arc<EdgeRecord>>>,
    /// Stored node records not decoded: single properties and labels are read from them.
    node_bytes: RefCell<FxHashMap<NodeId, sled::IVec>>,
    /// Single properties read from stored records, by node (few keys each): a query reads
    /// the same properties of the same entities row after row.
    properties: RefCell<PropertyCache>,
    /// Walks' edge types as store symbols (`edge_types`).
    edge_types: RefCell<HashMap<usize, Arc<EdgeTypes>>>,
    /// Label chunks read as bitmaps, by label and chunk number (`node_has_labels`).
    label_bits: RefCell<FxHashMap<String, FxHashMap<u64, LabelBits>>>,
}

/// A direct-mapped cache of single node properties: a fixed number of slots, each
/// overwritten by the next property that hashes to it, so filling it costs no allocation
/// beyond the values and it never grows.
struct PropertyCache {
    slots: Vec<Option<(NodeId, String, QValue)>>,
}

impl PropertyCache {
    const SLOTS: usize = 1 << 12;

    fn new() -> PropertyCache {
        PropertyCache { slots: vec![None; Self::SLOTS] }
    }

    fn index(node: NodeId, key: &str) -> usize {
        let mut hash = node.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        for byte in key.bytes() {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        (hash >> 52) as usize % Self::SLOTS
    }

    fn get(&self, node: NodeId, key: &str) -> Option<&QValue> {
        match &self.slots[Self::index(node, key)] {
            Some((n, k, value)) if *n == node && k == key => Some(value),
            _ => None,
        }
    }

    fn put(&mut self, node: NodeId, key: &str, value: &QValue) {
        match &mut self.slots[Self::index(node, key)] {
            Some((n, k, v)) => {
                *n = node;
                k.clear();
                k.push_str(key);
                *v = value.clone();
            }
            empty => *empty = Some((node, key.to_string(), value.clone())),
        }
    }
}

/// Records cached per query; the cache starts over when it holds this many.
const CACHE_CAPACITY: usize = 100_000;

fn remember<T>(cache: &RefCell<FxHashMap<u64, Arc<T>>>, id: u64, record: Arc<T>) {
    let mut cache = cache.borrow_mut();
    if cache.len() >= CACHE_CAPACITY {
        cache.clear();
    }
    cache.insert(id, record);
}

impl<'a> Ctx<'a> {
    pub fn new(
        store: Option<&'a Store>,
        params: &'a Params,
        deadline: Option<Instant>,
        max_rows: Option<u64>,
    ) -> Ctx<'a> {
        Ctx {
            store,
            params,
            deadline,
            max_rows,
            now: jiff::Timestamp::now(),
            cancel: None,
            ticks: Cell::new(0),
            regexes: RefCell::new(HashMap::new()),
            nodes: RefCell::new(FxHashMap::default()),
            edges: RefCell::new(FxHashMap::default()),
            node_bytes: RefCell::new(FxHashMap::default()),
            properties: RefCell::new(PropertyCache::new()),
            edge_types: RefCell::new(HashMap::new()),
            label_bits: RefCell::new(FxHashMap::default()),
        }
    }

    /// Makes the query stop, at its next deadline check, once `cancel` is set.
    pub fn with_cancel(mut self, cancel: Option<CancelFlag>) -> Ctx<'a> {
        self.cancel = cancel;
        self
    }

    /// The store's symbols for a walk's edge types, resolved once per walk: the memo is
    /// keyed by the address of the plan's type list, which lives as long as the query.
    pub fn edge_types(&self, types: &[String]) -> Result<Arc<EdgeTypes>> {
        let key = types.as_ptr() as usize;
        if let Some(found) = self.edge_types.borrow().get(&key) {
            return Ok(found.clone());
        }
        let resolved = Arc::new(self.store()?.edge_types(types));
        self.edge_types.borrow_mut().insert(key, resolved.clone());
        Ok(resolved)
    }

    /// Counts one unit of work and fails once the deadline has passed.
    pub fn tick(&self) -> Result<()> {
        let ticks = self.ticks.get().wrapping_add(1);
        self.ticks.set(ticks);
        if ticks % DEADLINE_CHECK_EVERY == 0 {
            self.check_deadline()?;
        }
        Ok(())
    }

    pub fn check_deadline(&self) -> Result<()> {
        if self.cancel.as_ref().is_some_and(CancelFlag::is_cancelled) {
            return Err(QueryError::new(ErrorKind::Cancelled, "the query was cancelled"));
        }
        match self.deadline {
            Some(deadline) if Instant::now() >= deadline => {
                Err(QueryError::new(ErrorKind::Timeout, "the query ran longer than its timeout and was stopped"))
            }
            _ => Ok(()),
        }
    }

    /// Fails when holding `count` rows would pass the row cap.
    pub fn check_rows(&self, count: u64, what: &str) -> Result<()> {
        match self.max_rows {
            Some(max) if count > max => Err(QueryError::new(
                ErrorKind::RowLimit,
                format!("{what} would hold more than {max} rows (the row limit); narrow the query or raise the limit"),
            )),
            _ => Ok(()),
        }
    }

    pub fn store(&self) -> Result<&'a Store> {
        self.store.ok_or_else(|| QueryError::runtime("graph elements are not available in a constant expression"))
    }

    /// A node and its record, read once per query (walks revisit hub nodes often).
    pub fn load_node(&self, id: NodeId) -> Result<NodeValue> {
        if let Some(record) = self.nodes.borrow().get(&id) {
            return Ok(NodeValue { id, record: record.clone() });
        }
        let bytes = self.node_bytes.borrow_mut().remove(&id);
        let record = match bytes {
            Some(bytes) => crate::store::codec::decode(&bytes, "a node")?,
            None => self
                .store()?
                .node(id)?
                .ok_or_else(|| QueryError::runtime(format!("node {id} is missing from the store")))?,
        };
        let record = Arc::new(record);
        remember(&self.nodes, id, record.clone());
        Ok(NodeValue { id, record })
    }

    /// A relationship's record, read once per query.
    pub fn load_edge(&self, id: EdgeId) -> Result<Arc<EdgeRecord>> {
        if let Some(record) = self.edges.borrow().get(&id) {
            return Ok(record.clone());
        }
        let record = self
            .store()?
            .edge(id)?
            .ok_or_else(|| QueryError::runtime(format!("relationship {id} is missing from the store")))?;
        let record = Arc::new(record);
        remember(&self.edges, id, record.clone());
        Ok(record)
    }

    /// The record of a node value, read (once per query) when it was bound unread.
    pub fn node_record(&self, node: &NodeValue) -> Result<Arc<NodeRecord>> {
        if node.is_read() {
            return Ok(node.record.clone());
        }
        Ok(self.load_node(node.id)?.record)
    }

    /// The record of a relationship value, read (once per query) when it was bound unread.
    pub fn edge_record(&self, rel: &RelValue) -> Result<Arc<EdgeRecord>> {
        if rel.is_read() {
            return Ok(rel.record.clone());
        }
        self.load_edge(rel.id)
    }

    /// Whether node `id` carries every label: from its record when already read, else
    /// from the stored bytes without decoding them.
    pub fn node_has_labels(&self, id: NodeId, labels: &[String]) -> Result<bool> {
        if labels.is_empty() {
            return Ok(true);
        }
        if let Some(record) = self.nodes.borrow().get(&id) {
            return Ok(labels.iter().all(|l| record.has_label(l)));
        }
        for label in labels {
            if !self.label_holds(label, id)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Whether node `id` carries `label`, from the label's chunk of ids around `id` (read
    /// once per query as a bitmap): neighbouring candidates share it, and the node's own
    /// record page is not read.
    fn label_holds(&self, label: &str, id: NodeId) -> Result<bool> {
        let chunk = id / crate::store::page::LABEL_SPAN;
        if let Some(bits) = self.label_bits.borrow().get(label).and_then(|chunks| chunks.get(&chunk)) {
            return Ok(bits.contains(id));
        }
        let bits = self.store()?.label_bits(label, chunk)?;
        let found = bits.contains(id);
        self.label_bits.borrow_mut().entry(label.to_string()).or_default().insert(chunk, bits);
        Ok(found)
    }

    /// Whether a node's stored bytes (from a scan) carry every label; when they do, they
    /// are kept for reading its properties.
    pub fn bytes_have_labels(&self, id: NodeId, bytes: sled::IVec, labels: &[String]) -> Result<bool> {
        let found = match crate::store::record_has_labels(&bytes, labels) {
            Some(found) => found,
            None => {
                let record: NodeRecord = crate::store::codec::decode(&bytes, "a node")?;
                labels.iter().all(|l| record.has_label(l))
            }
        };
        if found {
            let mut cache = self.node_bytes.borrow_mut();
            if cache.len() >= CACHE_CAPACITY {
                cache.clear();
            }
            cache.insert(id, bytes);
        }
        Ok(found)
    }

    /// The stored bytes of node `id`, read once per query.
    fn stored_node(&self, id: NodeId) -> Result<sled::IVec> {
        if let Some(bytes) = self.node_bytes.borrow().get(&id) {
            return Ok(bytes.clone());
        }
        let bytes = self
            .store()?
            .node_bytes(id)?
            .ok_or_else(|| QueryError::runtime(format!("node {id} is missing from the store")))?;
        let mut cache = self.node_bytes.borrow_mut();
        if cache.len() >= CACHE_CAPACITY {
            cache.clear();
        }
        cache.insert(id, bytes.clone());
        Ok(bytes)
    }

    /// One property of a node value, decoding only that property when the node's record
    /// has not been read whole.
    pub fn node_property(&self, node: &NodeValue, key: &str) -> Result<QValue> {
        if node.is_read() {
            return Ok(node.record.props.get(key).map_or(QValue::Null, QValue::from));
        }
        if let Some(record) = self.nodes.borrow().get(&node.id) {
            return Ok(record.props.get(key).map_or(QValue::Null, QValue::from));
        }
        if let Some(value) = self.properties.borrow().get(node.id, key) {
            return Ok(value.clone());
        }
        let bytes = self.stored_node(node.id)?;
        let value = match crate::store::record_property_view(&bytes, key) {
            Some(None) => QValue::Null,
            Some(Some(PropertyView::Str(text))) => QValue::str(text),
            Some(Some(PropertyView::Other(value))) => QValue::from(value),
            None => self.load_node(node.id)?.record.props.get(key).map_or(QValue::Null, QValue::from),
        };
        self.properties.borrow_mut().put(node.id, key, &value);
        Ok(value)
    }

    /// Whether a node value carries every label.
    pub fn has_labels(&self, node: &NodeValue, labels: &[String]) -> Result<bool> {
        if node.is_read() {
            return Ok(labels.iter().all(|l| node.record.has_label(l)));
        }
        self.node_has_labels(node.id, labels)
    }

    /// A value with every node and relationship in it read (records and endpoint keys),
    /// as rows must be when they leave the executor.
    pub fn complete(&self, value: &mut QValue) -> Result<()> {
        match value {
            QValue::Node(node) => self.complete_node(node),
            QValue::Relationship(rel) => self.complete_rel(rel),
            QValue::List(items) => items.iter_mut().try_for_each(|v| self.complete(v)),
            QValue::Map(map) => map.values_mut().try_for_each(|v| self.complete(v)),
            QValue::Path(path) => {
                path.nodes.iter_mut().try_for_each(|n| self.complete_node(n))?;
                path.rels.iter_mut().try_for_each(|r| self.complete_rel(r))
            }
            _ => Ok(()),
        }
    }

    fn complete_node(&self, node: &mut NodeValue) -> Result<()> {
        if !node.is_read() {
            node.record = self.load_node(node.id)?.record;
        }
        Ok(())
    }

    fn complete_rel(&self, rel: &mut RelValue) -> Result<()> {
        if !rel.is_read() {
            let record = self.load_edge(rel.id)?;
            rel.ends = Some(Arc::new(RelEnds {
                start: self.load_node(record.src)?.record.key().map(str::to_string),
                end: self.load_node(record.dst)?.record.key().map(str::to_string),
            }));
            rel.record = record;
        }
        Ok(())
    }

    fn regex(&self, pattern: &str) -> Result<Arc<Regex>> {
        if let Some(re) = self.regexes.borrow().get(pattern) {
            return Ok(re.clone());
        }
        let re = Regex::new(&format!("^(?s:{pattern})$"))
            .map_err(|e| QueryError::runtime(format!("invalid regular expression {pattern:?}: {e}")))?;
        let re = Arc::new(re);
        self.regexes.borrow_mut().insert(pattern.to_string(), re.clone());
        Ok(re)
    }
}

/// Where variables are looked up: a row (names and values side by side), with
/// comprehension variables layered on top.
pub(crate) enum Scope<'s> {
    Empty,
    Row { names: &'s [String], row: &'s [QValue] },
    Local { name: &'s str, value: QValue, parent: &'s Scope<'s> },
    Bindings { bindings: &'s [(String, QValue)], parent: &'s Scope<'s> },
}

impl Scope<'_> {
    /// The value of a `Local` scope (a comprehension's current item), else null.
    fn into_local_value(self) -> QValue {
        match self {
            Scope::Local { value, .. } => value,
            _ => QValue::Null,
        }
    }

    pub fn lookup(&self, name: &str) -> Option<&QValue> {
        match self {
            Scope::Empty => None,
            Scope::Row { names, row } => names.iter().rposition(|n| n == name).and_then(|i| row.get(i)),
            Scope::Local { name: local, value, parent } => {
                if *local == name {
                    Some(value)
                } else {
                    parent.lookup(name)
                }
            }
            Scope::Bindings { bindings, parent } => match bindings.iter().rev().find(|(n, _)| n == name) {
                Some((_, value)) => Some(value),
                None => parent.lookup(name),
            },
        }
    }
}

/// Evaluates a variable-free expression (the TCK loader's property maps, `--param` values).
pub(crate) fn eval_constant(expr: &Expr, params: &Params) -> Result<QValue> {
    let ctx = Ctx::new(None, params, None, None);
    eval(&ctx, expr, &Scope::Empty)
}

/// Evaluates `expr` in `scope`. Errors carry the position of the faulty expression.
pub(crate) fn eval(ctx: &Ctx<'_>, expr: &Expr, scope: &Scope<'_>) -> Result<QValue> {
    eval_kind(ctx, expr, scope).map_err(|e| e.or_at(expr.span.start))
}

fn eval_kind(ctx: &Ctx<'_>, expr: &Expr, scope: &Scope<'_>) -> Result<QValue> {
    match &expr.kind {
        ExprKind::Literal(lit) => Ok(match lit {
            Literal::Null => QValue::Null,
            Literal::Bool(b) => QValue::Bool(*b),
            Literal::Int(i) => QValue::Int(*i),
            Literal::Float(x) => QValue::Float(*x),
            Literal::Str(s) => QValue::str(s.as_str()),
        }),
        ExprKind::Parameter(name) => {
            ctx.params.get(name).map(QValue::from).ok_or_else(|| {
                QueryError::semantic(expr.span.start, format!("parameter ${name} was not given a value"))
            })
        }
        ExprKind::Variable(name) => scope
            .lookup(name)
            .cloned()
            .ok_or_else(|| QueryError::semantic(expr.span.start, format!("variable '{name}' not defined"))),
        ExprKind::List(items) => Ok(QValue::List(items.iter().map(|e| eval(ctx, e, scope)).collect::<Result<_>>()?)),
        ExprKind::Map(entries) => {
            let mut map = BTreeMap::new();
            for (key, value) in entries {
                map.insert(key.clone(), eval(ctx, value, scope)?);
            }
            Ok(QValue::Map(map))
        }
        ExprKind::Property(base, key) => match &base.kind {
            // A variable's value is looked at in place, not copied.
            ExprKind::Variable(name) => match scope.lookup(name) {
                Some(value) => property(ctx, value, key),
                None => Err(QueryError::semantic(base.span.start, format!("variable '{name}' not defined"))),
            },
            _ => property(ctx, &eval(ctx, base, scope)?, key),
        },
        ExprKind::Index(base, index) => subscript(ctx, &eval(ctx, base, scope)?, &eval(ctx, index, scope)?),
        ExprKind::Slice { list, from, to } => {
            let list = eval(ctx, list, scope)?;
            let bound = |e: &Option<Box<Expr>>| e.as_ref().map(|e| eval(ctx, e, scope)).transpose();
            slice(&list, bound(from)?, bound(to)?)
        }
        ExprKind::HasLabels(base, labels) => match eval(ctx, base, scope)? {
            QValue::Null => Ok(QValue::Null),
            QValue::Node(node) => Ok(QValue::Bool(ctx.has_labels(&node, labels)?)),
            other => Err(QueryError::type_error(format!("cannot test labels of a {}", other.type_name()))),
        },
        ExprKind::Unary(op, operand) => unary(*op, eval(ctx, operand, scope)?),
        ExprKind::Binary(op, left, right) => {
            let left = eval(ctx, left, scope)?;
            let right = eval(ctx, right, scope)?;
            binary(ctx, *op, left, right)
        }
        ExprKind::IsNull { expr: inner, negated } => Ok(QValue::Bool(eval(ctx, inner, scope)?.is_null() != *negated)),
        ExprKind::Function { name, distinct: _, args } => {
            if functions::is_aggregate(name) {
                return Err(QueryError::semantic(
                    expr.span.start,
                    format!("aggregate function {name}() is not allowed here"),
                ));
            }
            // exists((a)-->(b)) is the pattern's truth, not whether it is null.
            if let [arg @ Expr { kind: ExprKind::PatternPredicate(_), .. }] = args.as_slice() {
                if functions::canonical_name(name) == Some("exists") {
                    return eval(ctx, arg, scope);
                }
            }
            let values = args.iter().map(|a| eval(ctx, a, scope)).collect::<Result<Vec<_>>>()?;
            if name == super::plan::PROPS_MATCH {
                return element_props_match(ctx, &values);
            }
            functions::call(ctx, name, values)
        }
        ExprKind::CountStar => Err(QueryError::semantic(expr.span.start, "count(*) is not allowed here")),
        _ => eval_compound(ctx, expr, scope),
    }
}

/// The expression forms with scopes or patterns of their own, kept out of `eval_kind` so
/// that its stack frame — paid at every level of nesting — stays small.
#[inline(never)]
fn eval_compound(ctx: &Ctx<'_>, expr: &Expr, scope: &Scope<'_>) -> Result<QValue> {
    match &expr.kind {
        ExprKind::Case { operand, whens, otherwise } => {
            let subject = operand.as_ref().map(|o| eval(ctx, o, scope)).transpose()?;
            for (when, then) in whens {
                let condition = eval(ctx, when, scope)?;
                let chosen = match &subject {
                    Some(subject) => equals(subject, &condition) == Some(true),
                    None => matches!(condition, QValue::Bool(true)),
                };
                if chosen {
                    return eval(ctx, then, scope);
                }
            }
            otherwise.as_ref().map_or(Ok(QValue::Null), |e| eval(ctx, e, scope))
        }
        ExprKind::ListComprehension { variable, list, predicate, projection } => {
            let Some(items) = list_operand(ctx, list, scope, "iterate over")? else { return Ok(QValue::Null) };
            let mut out = Vec::new();
            for item in items {
                ctx.tick()?;
                let inner = Scope::Local { name: variable, value: item, parent: scope };
                if let Some(p) = predicate {
                    if !is_true(&eval(ctx, p, &inner)?) {
                        continue;
                    }
                }
                out.push(match projection {
                    Some(p) => eval(ctx, p, &inner)?,
                    None => inner.into_local_value(),
                });
            }
            Ok(QValue::List(out))
        }
        ExprKind::Quantified { quantifier, variable, list, predicate } => {
            let Some(items) = list_operand(ctx, list, scope, "quantify over")? else { return Ok(QValue::Null) };
            quantify(ctx, *quantifier, variable, items, predicate.as_deref(), scope)
        }
        ExprKind::Reduce { accumulator, init, variable, list, body } => {
            let mut acc = eval(ctx, init, scope)?;
            let Some(items) = list_operand(ctx, list, scope, "reduce")? else { return Ok(QValue::Null) };
            for item in items {
                ctx.tick()?;
                let with_acc = Scope::Local { name: accumulator, value: acc, parent: scope };
                let inner = Scope::Local { name: variable, value: item, parent: &with_acc };
                acc = eval(ctx, body, &inner)?;
                if nests_deeper_than(&acc, MAX_VALUE_NESTING) {
                    return Err(QueryError::runtime(format!(
                        "reduce() built a value nested more than {MAX_VALUE_NESTING} levels deep"
                    )));
                }
            }
            Ok(acc)
        }
        ExprKind::PatternPredicate(element) => {
            let mut found = false;
            super::matcher::match_pattern(ctx, element, scope, &mut |_| {
                found = true;
                Ok(false)
            })?;
            Ok(QValue::Bool(found))
        }
        ExprKind::PatternComprehension { variable, element, predicate, projection } => {
            let mut out = Vec::new();
            super::matcher::match_pattern(ctx, element, scope, &mut |m| {
                let mut bindings = m.bindings.clone();
                if let Some(v) = variable {
                    bindings.push((v.clone(), QValue::Path(m.path.clone())));
                }
                let inner = Scope::Bindings { bindings: &bindings, parent: scope };
                if let Some(p) = predicate {
                    if !is_true(&eval(ctx, p, &inner)?) {
                        return Ok(true);
                    }
                }
                out.push(eval(ctx, projection, &inner)?);
                Ok(true)
            })?;
            Ok(QValue::List(out))
        }
        ExprKind::MapProjection { variable, items } => map_projection(ctx, expr, variable, items, scope),
        _ => Err(QueryError::runtime("internal error: unexpected expression form")),
    }
}

/// The list a comprehension, quantifier or reduce() walks: `None` for null.
fn list_operand(ctx: &Ctx<'_>, list: &Expr, scope: &Scope<'_>, what: &str) -> Result<Option<Vec<QValue>>> {
    match eval(ctx, list, scope)? {
        QValue::Null => Ok(None),
        QValue::List(items) => Ok(Some(items)),
        other => Err(QueryError::type_error(format!("expected a list to {what}, got a {}", other.type_name()))),
    }
}

/// `all`, `any`, `none` and `single` with null semantics: an undecided item (null) makes
/// the answer null unless the others already decide it.
fn quantify(
    ctx: &Ctx<'_>,
    quantifier: Quantifier,
    variable: &str,
    items: Vec<QValue>,
    predicate: Option<&Expr>,
    scope: &Scope<'_>,
) -> Result<QValue> {
    let (mut trues, mut nulls, mut falses) = (0usize, 0usize, 0usize);
    for item in items {
        ctx.tick()?;
        let inner = Scope::Local { name: variable, value: item, parent: scope };
        let verdict = match predicate {
            Some(p) => eval(ctx, p, &inner)?,
            None => inner.into_local_value(),
        };
        match verdict {
            QValue::Bool(true) => trues += 1,
            QValue::Bool(false) => falses += 1,
            QValue::Null => nulls += 1,
            other => {
                return Err(QueryError::type_error(format!(
                    "a quantifier predicate must be a boolean, got a {}",
                    other.type_name()
                )))
            }
        }
    }
    Ok(match quantifier {
        Quantifier::All if falses > 0 => QValue::Bool(false),
        Quantifier::Any if trues > 0 => QValue::Bool(true),
        Quantifier::None if trues > 0 => QValue::Bool(false),
        Quantifier::Single if trues > 1 => QValue::Bool(false),
        _ if nulls > 0 => QValue::Null,
        Quantifier::All | Quantifier::None => QValue::Bool(true),
        Quantifier::Any => QValue::Bool(false),
        Quantifier::Single => QValue::Bool(trues == 1),
    })
}

/// `n {.name, .*, key: expr, var}` over a node, relationship or map.
fn map_projection(
    ctx: &Ctx<'_>,
    expr: &Expr,
    variable: &str,
    items: &[MapProjectionItem],
    scope: &Scope<'_>,
) -> Result<QValue> {
    let lookup = |name: &str| {
        scope
            .lookup(name)
            .cloned()
            .ok_or_else(|| QueryError::semantic(expr.span.start, format!("variable '{name}' not defined")))
    };
    let props: BTreeMap<String, QValue> = match lookup(variable)? {
        QValue::Null => return Ok(QValue::Null),
        QValue::Node(n) => ctx.node_record(&n)?.props.iter().map(|(k, v)| (k.clone(), QValue::from(v))).collect(),
        QValue::Relationship(r) => {
            ctx.edge_record(&r)?.props.iter().map(|(k, v)| (k.clone(), QValue::from(v))).collect()
        }
        QValue::Map(m) => m,
        other => return Err(QueryError::type_error(format!("cannot project properties of a {}", other.type_name()))),
    };
    let mut out = BTreeMap::new();
    for item in items {
        match item {
            MapProjectionItem::Property(key) => {
                out.insert(key.clone(), props.get(key).cloned().unwrap_or(QValue::Null));
            }
            MapProjectionItem::AllProperties => out.extend(props.iter().map(|(k, v)| (k.clone(), v.clone()))),
            MapProjectionItem::Literal(key, e) => {
                out.insert(key.clone(), eval(ctx, e, scope)?);
            }
            MapProjectionItem::Variable(name) => {
                out.insert(name.clone(), lookup(name)?);
            }
        }
    }
    Ok(QValue::Map(out))
}

/// How deeply reduce() may nest lists and maps: deeper values would exhaust the stack
/// when printed, compared or dropped.
const MAX_VALUE_NESTING: usize = 200;

/// Whether `value` nests lists or maps deeper than `limit`, following the first and last
/// list elements and the map values (where an accumulator ends up when nested). The walk
/// visits at most a few thousand containers; a value needing more counts as too deep.
fn nests_deeper_than(value: &QValue, limit: usize) -> bool {
    fn walk(value: &QValue, limit: usize, budget: &mut usize) -> bool {
        let children: Vec<&QValue> = match value {
            QValue::List(items) if items.len() == 1 => items.iter().collect(),
            QValue::List(items) => items.first().into_iter().chain(items.last()).collect(),
            QValue::Map(map) => map.values().collect(),
            _ => return false,
        };
        if limit == 0 || *budget == 0 {
            return true;
        }
        *budget -= 1;
        children.into_iter().any(|child| walk(child, limit - 1, budget))
    }
    let mut budget = 4096;
    walk(value, limit, &mut budget)
}

/// True only for boolean true: WHERE keeps a row exactly when its predicate is true.
pub(crate) fn is_true(value: &QValue) -> bool {
    matches!(value, QValue::Bool(true))
}

/// `base.key`: properties of nodes, relationships and maps; null stays null.
pub(crate) fn property(ctx: &Ctx<'_>, base: &QValue, key: &str) -> Result<QValue> {
    match base {
        QValue::Null => Ok(QValue::Null),
        QValue::Node(n) => ctx.node_property(n, key),
        QValue::Relationship(r) => Ok(ctx.edge_record(r)?.props.get(key).map_or(QValue::Null, QValue::from)),
        QValue::Map(m) => Ok(m.get(key).cloned().unwrap_or(QValue::Null)),
        QValue::Temporal(t) => super::temporal::accessor(t, key),
        other => Err(QueryError::type_error(format!("cannot read property '{key}' of a {}", other.type_name()))),
    }
}

/// `base[index]`: list element (negative from the end, out of range null), map entry or
/// dynamic property.
fn subscript(ctx: &Ctx<'_>, base: &QValue, index: &QValue) -> Result<QValue> {
    match (base, index) {
        (QValue::Null, _) | (_, QValue::Null) => Ok(QValue::Null),
        (QValue::List(items), QValue::Int(i)) => Ok(list_index(items, *i).cloned().unwrap_or(QValue::Null)),
        (QValue::List(_), other) => {
            Err(QueryError::type_error(format!("a list index must be an integer, got a {}", other.type_name())))
        }
        (QValue::Map(_) | QValue::Node(_) | QValue::Relationship(_), QValue::Str(key)) => property(ctx, base, key),
        (QValue::Map(_) | QValue::Node(_) | QValue::Relationship(_), other) => {
            Err(QueryError::type_error(format!("a map key must be a string, got a {}", other.type_name())))
        }
        (other, _) => Err(QueryError::type_error(format!("cannot index into a {}", other.type_name()))),
    }
}

fn list_index(items: &[QValue], i: i64) -> Option<&QValue> {
    let len = i64::try_from(items.len()).ok()?;
    let i = if i < 0 { i.checked_add(len)? } else { i };
    usize::try_from(i).ok().and_then(|i| items.get(i))
}

/// `list[from..to]`: bounds clamp to the list, negatives count from the end.
fn slice(list: &QValue, from: Option<QValue>, to: Option<QValue>) -> Result<QValue> {
    let items = match list {
        QValue::Null => return Ok(QValue::Null),
        QValue::List(items) => items,
        other => return Err(QueryError::type_error(format!("cannot slice a {}", other.type_name()))),
    };
    let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
    let resolve = |bound: Option<QValue>, default: i64| -> Result<Option<i64>> {
        match bound {
            None => Ok(Some(default)),
            Some(QValue::Null) => Ok(None),
            Some(QValue::Int(i)) => Ok(Some(if i < 0 { len.saturating_add(i).max(0) } else { i.min(len) })),
            Some(other) => {
                Err(QueryError::type_error(format!("a slice bound must be an integer, got a {}", other.type_name())))
            }
        }
    };
    let (Some(start), Some(end)) = (resolve(from, 0)?, resolve(to, len)?) else {
        return Ok(QValue::Null);
    };
    if start >= end {
        return Ok(QValue::List(Vec::new()));
    }
    let (start, end) = (usize::try_from(start).unwrap_or(0), usize::try_from(end).unwrap_or(0));
    Ok(QValue::List(items[start..end.min(items.len())].to_vec()))
}

fn unary(op: UnaryOp, value: QValue) -> Result<QValue> {
    match (op, value) {
        (_, QValue::Null) => Ok(QValue::Null),
        (UnaryOp::Not, QValue::Bool(b)) => Ok(QValue::Bool(!b)),
        (UnaryOp::Not, other) => {
            Err(QueryError::type_error(format!("NOT expects a boolean, got a {}", other.type_name())))
        }
        (UnaryOp::Neg, QValue::Int(i)) => i.checked_neg().map(QValue::Int).ok_or_else(overflow),
        (UnaryOp::Neg, QValue::Float(x)) => Ok(QValue::Float(-x)),
        (UnaryOp::Plus, v @ (QValue::Int(_) | QValue::Float(_))) => Ok(v),
        (_, other) => {
            Err(QueryError::type_error(format!("unary minus or plus expects a number, got a {}", other.type_name())))
        }
    }
}

fn overflow() -> QueryError {
    QueryError::runtime("integer overflow")
}

/// A boolean operand of AND/OR/XOR: `Some(b)`, or `None` for null.
fn logical(value: &QValue, op: BinaryOp) -> Result<Option<bool>> {
    match value {
        QValue::Null => Ok(None),
        QValue::Bool(b) => Ok(Some(*b)),
        other => Err(QueryError::type_error(format!("{} expects booleans, got a {}", op.symbol(), other.type_name()))),
    }
}

fn from_option(value: Option<bool>) -> QValue {
    value.map_or(QValue::Null, QValue::Bool)
}

pub(crate) fn binary(ctx: &Ctx<'_>, op: BinaryOp, left: QValue, right: QValue) -> Result<QValue> {
    use BinaryOp::*;
    match op {
        And | Or | Xor => {
            let (a, b) = (logical(&left, op)?, logical(&right, op)?);
            Ok(from_option(match op {
                And => match (a, b) {
                    (Some(false), _) | (_, Some(false)) => Some(false),
                    (Some(true), Some(true)) => Some(true),
                    _ => None,
                },
                Or => match (a, b) {
                    (Some(true), _) | (_, Some(true)) => Some(true),
                    (Some(false), Some(false)) => Some(false),
                    _ => None,
                },
                _ => a.zip(b).map(|(a, b)| a != b),
            }))
        }
        Eq => Ok(from_option(equals(&left, &right))),
        Ne => Ok(from_option(equals(&left, &right).map(|b| !b))),
        Lt | Le | Gt | Ge => Ok(match compare(&left, &right) {
            None => QValue::Null,
            Some(Comparison::Unordered) => QValue::Bool(false),
            Some(Comparison::Ordered(o)) => QValue::Bool(match op {
                Lt => o.is_lt(),
                Le => o.is_le(),
                Gt => o.is_gt(),
                _ => o.is_ge(),
            }),
        }),
        In => match right {
            QValue::Null => Ok(QValue::Null),
            QValue::List(items) => {
                let mut unknown = false;
                for item in &items {
                    match equals(&left, item) {
                        Some(true) => return Ok(QValue::Bool(true)),
                        None => unknown = true,
                        Some(false) => {}
                    }
                }
                Ok(if unknown { QValue::Null } else { QValue::Bool(false) })
            }
            other => {
                Err(QueryError::type_error(format!("IN expects a list on its right, got a {}", other.type_name())))
            }
        },
        StartsWith | EndsWith | Contains => Ok(match (&left, &right) {
            (QValue::Str(a), QValue::Str(b)) => QValue::Bool(match op {
                StartsWith => a.starts_with(&**b),
                EndsWith => a.ends_with(&**b),
                _ => a.contains(&**b),
            }),
            _ => QValue::Null,
        }),
        RegexMatch => match (&left, &right) {
            (QValue::Str(text), QValue::Str(pattern)) => Ok(QValue::Bool(ctx.regex(pattern)?.is_match(text))),
            _ => Ok(QValue::Null),
        },
        Add => add(left, right),
        Sub | Mul | Div | Mod | Pow => arithmetic(op, &left, &right),
    }
}

/// `+`: numbers, string concatenation, list concatenation and append/prepend.
fn add(left: QValue, right: QValue) -> Result<QValue> {
    match (left, right) {
        (QValue::Null, _) | (_, QValue::Null) => Ok(QValue::Null),
        (QValue::List(mut a), QValue::List(b)) => {
            a.extend(b);
            Ok(QValue::List(a))
        }
        (QValue::List(mut a), b) => {
            a.push(b);
            Ok(QValue::List(a))
        }
        (a, QValue::List(b)) => {
            let mut out = Vec::with_capacity(b.len() + 1);
            out.push(a);
            out.extend(b);
            Ok(QValue::List(out))
        }
        (QValue::Str(a), QValue::Str(b)) => Ok(QValue::str(format!("{a}{b}"))),
        (QValue::Str(a), b @ (QValue::Int(_) | QValue::Float(_) | QValue::Bool(_))) => {
            Ok(QValue::str(format!("{a}{}", scalar_text(&b))))
        }
        (a @ (QValue::Int(_) | QValue::Float(_) | QValue::Bool(_)), QValue::Str(b)) => {
            Ok(QValue::str(scalar_text(&a) + &b))
        }
        (a, b) => arithmetic(BinaryOp::Add, &a, &b),
    }
}

fn scalar_text(value: &QValue) -> String {
    match value {
        QValue::Str(s) => s.to_string(),
        other => other.to_string(),
    }
}

#[allow(clippy::cast_precision_loss)]
fn as_float(i: i64) -> f64 {
    i as f64
}

/// Arithmetic on numbers: integers stay integers (overflow is an error), a float on
/// either side makes a float; `^` always gives a float.
fn arithmetic(op: BinaryOp, left: &QValue, right: &QValue) -> Result<QValue> {
    use BinaryOp::*;
    if matches!(left, QValue::Temporal(_)) || matches!(right, QValue::Temporal(_)) {
        if let Some(result) = super::temporal::arithmetic(op, left, right) {
            return result;
        }
    }
    match (left, right) {
        (QValue::Null, _) | (_, QValue::Null) => Ok(QValue::Null),
        (QValue::Int(a), QValue::Int(b)) => {
            let (a, b) = (*a, *b);
            let result = match op {
                Add => a.checked_add(b),
                Sub => a.checked_sub(b),
                Mul => a.checked_mul(b),
                Div | Mod if b == 0 => return Err(QueryError::runtime("division by zero")),
                Div => a.checked_div(b),
                Mod => a.checked_rem(b).or(Some(0)),
                _ => return Ok(QValue::Float(as_float(a).powf(as_float(b)))),
            };
            result.map(QValue::Int).ok_or_else(overflow)
        }
        (QValue::Int(_) | QValue::Float(_), QValue::Int(_) | QValue::Float(_)) => {
            let (a, b) = (number(left), number(right));
            Ok(QValue::Float(match op {
                Add => a + b,
                Sub => a - b,
                Mul => a * b,
                Div => a / b,
                Mod => a % b,
                _ => a.powf(b),
            }))
        }
        (a, b) => Err(QueryError::type_error(format!(
            "cannot apply '{}' to a {} and a {}",
            op.symbol(),
            a.type_name(),
            b.type_name()
        ))),
    }
}

fn number(value: &QValue) -> f64 {
    match value {
        QValue::Int(i) => as_float(*i),
        QValue::Float(x) => *x,
        _ => f64::NAN,
    }
}

// ---------------------------------------------------------------------------------------
// Property maps of patterns

/// The planner's predicate for `(n $map)`: `[element, map]` → does the element have
/// every property of the map.
fn element_props_match(ctx: &Ctx<'_>, values: &[QValue]) -> Result<QValue> {
    let wanted = values.get(1).cloned().unwrap_or(QValue::Null);
    Ok(QValue::Bool(match values.first() {
        Some(QValue::Node(n)) => {
            let record = ctx.node_record(n)?;
            props_match(&wanted, |k| record.props.get(k))?
        }
        Some(QValue::Relationship(r)) => {
            let record = ctx.edge_record(r)?;
            props_match(&wanted, |k| record.props.get(k))?
        }
        _ => false,
    }))
}

/// Whether every entry of a property map equals the element's property (null never matches).
pub(crate) fn props_match<'v>(wanted: &QValue, get: impl Fn(&str) -> Option<&'v crate::model::Value>) -> Result<bool> {
    match wanted {
        QValue::Map(map) => {
            for (key, value) in map {
                let actual = get(key).map_or(QValue::Null, QValue::from);
                if equals(&actual, value) != Some(true) {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        QValue::Null => Ok(false),
        other => {
            Err(QueryError::type_error(format!("a pattern's properties must be a map, got a {}", other.type_name())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::parser::parse_expression;

    /// Evaluates a constant expression: its value as a Cypher literal, or `error: <kind>`.
    fn show(text: &str) -> String {
        let expr = parse_expression(text).unwrap_or_else(|e| panic!("{}", e.render(text)));
        match eval_constant(&expr, &Params::new()) {
            Ok(value) => value.to_string(),
            Err(e) => format!("error: {:?}", e.kind),
        }
    }

    #[test]
    fn three_valued_logic() {
        let table = [
            ("true AND null", "null"),
            ("false AND null", "false"),
            ("null AND null", "null"),
            ("true OR null", "true"),
            ("false OR null", "null"),
            ("true XOR null", "null"),
            ("true XOR false", "true"),
            ("NOT null", "null"),
            ("NOT false", "true"),
            ("null = null", "null"),
            ("null <> 1", "null"),
            ("null IS NULL", "true"),
            ("1 IS NOT NULL", "true"),
            ("123 AND true", "error: Type"),
        ];
        for (text, expected) in table {
            assert_eq!(show(text), expected, "{text}");
        }
    }

    #[test]
    fn integer_and_float_arithmetic() {
        let table = [
            ("7 / 2", "3"),
            ("-7 / 2", "-3"),
            ("7 % 3", "1"),
            ("-7 % 3", "-1"),
            ("7.0 / 2", "3.5"),
            ("1 / 0", "error: Runtime"),
            ("1 % 0", "error: Runtime"),
            ("1.0 / 0", "Infinity"),
            ("2 ^ 3", "8.0"),
            ("9223372036854775807 + 1", "error: Runtime"),
            ("-9223372036854775808 - 1", "error: Runtime"),
            ("9223372036854775807 * 2", "error: Runtime"),
            ("-(-9223372036854775808)", "error: Runtime"),
            ("1 + 2.5", "3.5"),
            ("'a' + 1", "'a1'"),
            ("'a' + 'b'", "'ab'"),
            ("[1] + [2, 3]", "[1, 2, 3]"),
            ("[1] + 2", "[1, 2]"),
            ("0 + [1]", "[0, 1]"),
            ("1 + null", "null"),
            ("1 + true", "error: Type"),
        ];
        for (text, expected) in table {
            assert_eq!(show(text), expected, "{text}");
        }
    }

    #[test]
    fn comparisons_and_equality() {
        let table = [
            ("1 = 1.0", "true"),
            ("1 < 'a'", "null"),
            ("'a' < 'b'", "true"),
            ("[1, 2] = [1, 2]", "true"),
            ("[1, null] = [1, 2]", "null"),
            ("[1, null] = [2, 2]", "false"),
            ("[1] = [1, 2]", "false"),
            ("{a: 1} = {a: 1}", "true"),
            ("{a: null} = {a: null}", "null"),
            ("{a: 1} = {b: 1}", "false"),
            ("[1, 2] < [1, 3]", "true"),
            ("0.0 / 0.0 = 0.0 / 0.0", "false"),
            ("0.0 / 0.0 < 1", "false"),
            ("1 < 2 < 3", "true"),
            ("3 > 2 > 2", "false"),
            ("true > false", "true"),
            ("1 = 'a'", "false"),
        ];
        for (text, expected) in table {
            assert_eq!(show(text), expected, "{text}");
        }
    }

    #[test]
    fn lists_strings_and_membership() {
        let table = [
            ("2 IN [1, 2]", "true"),
            ("3 IN [1, 2]", "false"),
            ("3 IN [1, null]", "null"),
            ("1 IN [1, null]", "true"),
            ("null IN []", "false"),
            ("null IN [1]", "null"),
            ("[1, 2, 3][0]", "1"),
            ("[1, 2, 3][-1]", "3"),
            ("[1, 2, 3][5]", "null"),
            ("[1, 2, 3][1..]", "[2, 3]"),
            ("[1, 2, 3][..-1]", "[1, 2]"),
            ("[1, 2, 3][2..1]", "[]"),
            ("[1, 2, 3][null..1]", "null"),
            ("{a: {b: 2}}.a.b", "2"),
            ("{a: 1}['a']", "1"),
            ("null.x", "null"),
            ("'abc' STARTS WITH 'ab'", "true"),
            ("'abc' ENDS WITH null", "null"),
            ("1 CONTAINS 'a'", "null"),
            ("'abc' =~ 'a.c'", "true"),
            ("'abcd' =~ 'a.c'", "false"),
            ("size('héllo')", "5"),
            ("toUpper('abc')", "'ABC'"),
            ("trim('  a ')", "'a'"),
            ("split('a,b', ',')", "['a', 'b']"),
            ("substring('hello', 1, 3)", "'ell'"),
            ("reverse([1, 2])", "[2, 1]"),
            ("head([])", "null"),
            ("last([1, 2])", "2"),
            ("tail([1, 2])", "[2]"),
            ("range(1, 10, 4)", "[1, 5, 9]"),
            ("range(3, 1)", "[]"),
            ("range(3, 1, -1)", "[3, 2, 1]"),
            ("coalesce(null, null, 2)", "2"),
            ("toInteger('2.9')", "2"),
            ("toInteger('x')", "null"),
            ("toFloat('1.5')", "1.5"),
            ("toBoolean('TRUE')", "true"),
            ("toString(1.0)", "'1.0'"),
            ("abs(-3)", "3"),
            ("sign(-2.5)", "-1"),
            ("keys({b: 1, a: 2})", "['a', 'b']"),
        ];
        for (text, expected) in table {
            assert_eq!(show(text), expected, "{text}");
        }
    }

    #[test]
    fn conditionals_comprehensions_and_quantifiers() {
        let table = [
            ("CASE 2 WHEN 1 THEN 'one' WHEN 2 THEN 'two' END", "'two'"),
            ("CASE WHEN null THEN 1 ELSE 2 END", "2"),
            ("CASE 3 WHEN 1 THEN 'one' END", "null"),
            ("[x IN [1, 2, 3] WHERE x > 1 | x * 10]", "[20, 30]"),
            ("[x IN null | x]", "null"),
            ("all(x IN [1, 2] WHERE x > 0)", "true"),
            ("all(x IN [1, null] WHERE x > 0)", "null"),
            ("any(x IN [1, null] WHERE x > 0)", "true"),
            ("none(x IN [] WHERE x > 0)", "true"),
            ("single(x IN [1, 2] WHERE x > 1)", "true"),
            ("single(x IN [1, 2] WHERE x > 0)", "false"),
            ("reduce(s = 0, x IN [1, 2, 3] | s + x)", "6"),
        ];
        for (text, expected) in table {
            assert_eq!(show(text), expected, "{text}");
        }
    }
}
