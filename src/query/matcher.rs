//! Pattern predicates and pattern comprehensions: every match of one pattern element
//! around the variables already bound, by depth-first search over the adjacency index.

use std::sync::Arc;

use super::ast::{NodePattern, PatternDirection, PatternElement, RelPattern};
use super::error::Result;
use super::eval::{eval, props_match, Ctx, Scope};
use super::value::{equals, NodeValue, PathValue, QValue, RelEnds, RelValue};
use crate::model::NodeId;
use crate::store::Direction;

/// One match of a pattern: the variables it bound and the path it walked.
pub(crate) struct PatternMatch {
    pub bindings: Vec<(String, QValue)>,
    pub path: PathValue,
}

/// Calls `found` for every match of `element` given the variables bound in `scope`,
/// until it returns `false`. Relationships are unique within one match.
pub(crate) fn match_pattern(
    ctx: &Ctx<'_>,
    element: &PatternElement,
    scope: &Scope<'_>,
    found: &mut dyn FnMut(&PatternMatch) -> Result<bool>,
) -> Result<()> {
    let mut matcher = Matcher {
        ctx,
        element,
        scope,
        found,
        state: PatternMatch { bindings: Vec::new(), path: PathValue { nodes: Vec::new(), rels: Vec::new() } },
    };
    for node in matcher.start_candidates()? {
        ctx.tick()?;
        if !matcher.try_start(node)? {
            break;
        }
    }
    Ok(())
}

/// The search state: what is bound so far and the path walked so far.
struct Matcher<'m, 'c, 's> {
    ctx: &'m Ctx<'c>,
    element: &'m PatternElement,
    scope: &'m Scope<'s>,
    found: &'m mut dyn FnMut(&PatternMatch) -> Result<bool>,
    state: PatternMatch,
}

/// How many relationships one step of the pattern may take.
#[derive(Clone, Copy)]
struct Hops {
    min: u64,
    max: Option<u64>,
}

impl Matcher<'_, '_, '_> {
    /// The first node's candidates: its bound value, else its first label's nodes, else all.
    fn start_candidates(&self) -> Result<Vec<NodeValue>> {
        let start = &self.element.start;
        match start.variable.as_ref().and_then(|v| self.scope.lookup(&v.name)) {
            Some(QValue::Node(n)) => return Ok(vec![self.ctx.load_node(n.id)?]),
            Some(_) => return Ok(Vec::new()),
            None => {}
        }
        let store = self.ctx.store()?;
        let ids: Vec<NodeId> = match start.labels.first() {
            Some(label) => store.nodes_with_label(&label.name).collect::<std::result::Result<_, _>>()?,
            None => store.all_nodes().collect::<std::result::Result<_, _>>()?,
        };
        ids.into_iter().map(|id| self.ctx.load_node(id)).collect()
    }

    /// Matches the rest of the pattern from a candidate first node; `false` stops the search.
    fn try_start(&mut self, node: NodeValue) -> Result<bool> {
        let mark = self.state.bindings.len();
        let mut go_on = true;
        if self.node_fits(&node, &self.element.start)? {
            self.state.path.nodes.push(node);
            go_on = self.match_step(0)?;
            self.state.path.nodes.pop();
        }
        self.state.bindings.truncate(mark);
        Ok(go_on)
    }

    /// Checks labels, properties and an already-bound variable; binds a new variable.
    fn node_fits(&mut self, node: &NodeValue, pattern: &NodePattern) -> Result<bool> {
        let record = self.ctx.node_record(node)?;
        if !pattern.labels.iter().all(|l| record.has_label(&l.name)) {
            return Ok(false);
        }
        if let Some(var) = &pattern.variable {
            let bound = self.state.bindings.iter().rev().find(|(n, _)| n == &var.name).map(|(_, v)| v.clone());
            match bound.as_ref().or_else(|| self.scope.lookup(&var.name)) {
                Some(QValue::Node(n)) if n.id == node.id => {}
                Some(_) => return Ok(false),
                None => self.state.bindings.push((var.name.clone(), QValue::Node(node.clone()))),
            }
        }
        if let Some(props) = &pattern.properties {
            let inner = Scope::Bindings { bindings: &self.state.bindings, parent: self.scope };
            let wanted = eval(self.ctx, props, &inner)?;
            if !props_match(&wanted, |k| record.props.get(k))? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Matches step `index` of the chain onwards from the end of the path so far.
    fn match_step(&mut self, index: usize) -> Result<bool> {
        let Some(step) = self.element.chain.get(index) else {
            return (self.found)(&self.state);
        };
        let Some(from) = self.state.path.nodes.last().cloned() else { return Ok(true) };
        let hops = match &step.rel.length {
            None => Hops { min: 1, max: Some(1) },
            Some(length) => Hops { min: length.min_hops(), max: length.max },
        };
        self.walk(index, &from, hops, &mut Vec::new())
    }

    /// Depth-first over relationships from `at`, `taken` so far in step `index`.
    fn walk(&mut self, index: usize, at: &NodeValue, hops: Hops, taken: &mut Vec<RelValue>) -> Result<bool> {
        let taken_count = taken.len() as u64;
        if taken_count >= hops.min && !self.end_step(index, at, taken)? {
            return Ok(false);
        }
        if hops.max.is_some_and(|max| taken_count >= max) {
            return Ok(true);
        }
        let rel = &self.element.chain[index].rel;
        for (other, next) in self.neighbours(at, rel, taken)? {
            taken.push(next);
            let go_on = self.walk(index, &other, hops, taken)?;
            taken.pop();
            if !go_on {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Ends step `index` at `at` having walked `taken`: binds the relationship variable,
    /// checks the step's node, extends the path and goes on with the next step.
    fn end_step(&mut self, index: usize, at: &NodeValue, taken: &[RelValue]) -> Result<bool> {
        let step = &self.element.chain[index];
        let mark = self.state.bindings.len();
        let mut go_on = true;
        if self.bind_relationships(&step.rel, taken) && self.node_fits(at, &step.node)? {
            let (nodes_before, rels_before) = (self.state.path.nodes.len(), self.state.path.rels.len());
            self.extend_path(at, taken)?;
            go_on = self.match_step(index + 1)?;
            self.state.path.nodes.truncate(nodes_before);
            self.state.path.rels.truncate(rels_before);
        }
        self.state.bindings.truncate(mark);
        Ok(go_on)
    }

    /// Binds (or checks a bound) relationship variable: one relationship, or the list of
    /// a variable-length step.
    fn bind_relationships(&mut self, rel: &RelPattern, taken: &[RelValue]) -> bool {
        let Some(var) = &rel.variable else { return true };
        let value = if rel.length.is_some() {
            QValue::List(taken.iter().cloned().map(QValue::Relationship).collect())
        } else {
            taken.first().cloned().map_or(QValue::Null, QValue::Relationship)
        };
        match self.scope.lookup(&var.name) {
            Some(bound) => equals(bound, &value) == Some(true),
            None => {
                self.state.bindings.push((var.name.clone(), value));
                true
            }
        }
    }

    /// Appends the relationships of a step, and the nodes they reach, to the path.
    fn extend_path(&mut self, at: &NodeValue, taken: &[RelValue]) -> Result<()> {
        let Some(mut cursor) = self.state.path.nodes.last().map(|n| n.id) else { return Ok(()) };
        for rel in taken {
            let record = self.ctx.edge_record(rel)?;
            let next = if record.src == cursor { record.dst } else { record.src };
            self.state.path.rels.push(rel.clone());
            let node = if next == at.id { at.clone() } else { self.ctx.load_node(next)? };
            self.state.path.nodes.push(node);
            cursor = next;
        }
        Ok(())
    }

    /// The relationships a step may follow from `at`, with the nodes they reach, skipping
    /// those already used in this match.
    fn neighbours(&self, at: &NodeValue, rel: &RelPattern, taken: &[RelValue]) -> Result<Vec<(NodeValue, RelValue)>> {
        let store = self.ctx.store()?;
        let directions: &[Direction] = match rel.direction {
            PatternDirection::Outgoing => &[Direction::Out],
            PatternDirection::Incoming => &[Direction::In],
            PatternDirection::Either => &[Direction::Out, Direction::In],
        };
        let types: Vec<Option<&str>> =
            if rel.types.is_empty() { vec![None] } else { rel.types.iter().map(|t| Some(t.name.as_str())).collect() };
        let wanted = match &rel.properties {
            Some(props) => {
                Some(eval(self.ctx, props, &Scope::Bindings { bindings: &self.state.bindings, parent: self.scope })?)
            }
            None => None,
        };
        let mut out = Vec::new();
        for &direction in directions {
            for edge_type in &types {
                for adjacent in store.adjacent(at.id, direction, *edge_type) {
                    self.ctx.tick()?;
                    let adjacent = adjacent?;
                    // Going both ways, a self-loop shows up once out and once in.
                    let repeated_loop = direction == Direction::In
                        && rel.direction == PatternDirection::Either
                        && adjacent.other == at.id;
                    let used = taken.iter().chain(&self.state.path.rels).any(|r| r.id == adjacent.edge);
                    if repeated_loop || used {
                        continue;
                    }
                    let other = self.ctx.load_node(adjacent.other)?;
                    let record = self.ctx.load_edge(adjacent.edge)?;
                    if let Some(wanted) = &wanted {
                        if !props_match(wanted, |k| record.props.get(k))? {
                            continue;
                        }
                    }
                    let at_record = self.ctx.node_record(at)?;
                    let (start, end) =
                        if record.src == at.id { (&at_record, &other.record) } else { (&other.record, &at_record) };
                    let next = RelValue {
                        id: adjacent.edge,
                        ends: Some(Arc::new(RelEnds {
                            start: start.key().map(str::to_string),
                            end: end.key().map(str::to_string),
                        })),
                        record,
                    };
                    out.push((other, next));
                }
            }
        }
        Ok(out)
    }
}
