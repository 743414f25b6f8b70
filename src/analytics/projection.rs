//! The projection: actors (persons, countries, organizations or nodes of given labels)
//! linked when they share events, weighted by events, reporting articles or Newman's
//! 1/(n−1), held in a petgraph graph. Built from the event labels' chunks and the events'
//! adjacency (never a scan of the whole graph), and cached per store generation so the
//! calls of one query, and the queries between two commits, build it once.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use petgraph::graph::{Graph, NodeIndex};
use petgraph::Directed;
use rustc_hash::{FxHashMap, FxHashSet};

use super::options::{Level, ProjectionOptions, Weight};
use super::AnalyticsError;
use crate::model::{NodeId, Value};
use crate::store::{Direction, EdgeTypes, LabelBits, Store};

/// How an event's role edge takes part in a directed projection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RoleSide {
    /// The one who acts: visitor, giver, inviter.
    Source,
    /// The one acted towards: host, destination, recipient, invitee.
    Target,
    /// Peers: meeting participants (and roles of event types added to the ontology later).
    Peer,
    /// The article reporting the event (counted for `weight: 'articles'`).
    Report,
}

fn role_side(edge_type: &str) -> Option<RoleSide> {
    match edge_type {
        "VISITOR" | "GIVER" | "INVITER" => Some(RoleSide::Source),
        "HOST" | "DESTINATION" | "RECIPIENT" | "INVITEE" => Some(RoleSide::Target),
        "REPORTED_IN" => Some(RoleSide::Report),
        // Where it happened and what changed hands are not actors.
        "PLACE" | "ITEM" | "FULFILLED_BY" => None,
        _ => Some(RoleSide::Peer),
    }
}

/// One event as the scan hands it on: its actors (indexes into `Actors`) by side.
#[derive(Debug, Default)]
pub struct ScannedEvent {
    pub event: NodeId,
    pub date: Option<String>,
    pub sources: Vec<u32>,
    pub targets: Vec<u32>,
    pub peers: Vec<u32>,
    pub articles: Vec<NodeId>,
}

impl ScannedEvent {
    /// Every distinct actor of the event.
    pub fn actors(&self) -> Vec<u32> {
        let mut all: Vec<u32> = self.sources.iter().chain(&self.targets).chain(&self.peers).copied().collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// The ordered pairs the event links: sources to targets and peers both ways when
    /// `directed`, else each unordered pair once (smaller index first).
    pub fn pairs(&self, directed: bool) -> Vec<(u32, u32)> {
        let mut pairs = Vec::new();
        if directed {
            for &s in &self.sources {
                pairs.extend(self.targets.iter().filter(|&&t| t != s).map(|&t| (s, t)));
            }
            for &a in &self.peers {
                pairs.extend(self.peers.iter().filter(|&&b| b != a).map(|&b| (a, b)));
            }
        } else {
            let all = self.actors();
            for (i, &a) in all.iter().enumerate() {
                pairs.extend(all[i + 1..].iter().map(|&b| (a, b)));
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        pairs
    }
}

/// The actors met so far, numbered in order of appearance.
#[derive(Debug, Default)]
pub struct Actors {
    pub ids: Vec<NodeId>,
    index: FxHashMap<NodeId, u32>,
}

impl Actors {
    fn intern(&mut self, id: NodeId) -> u32 {
        let next = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
        *self.index.entry(id).or_insert_with(|| {
            self.ids.push(id);
            next
        })
    }
}

/// Reads the events the options select and hands each with its actors to `visit` (with
/// its date when the window needs it or `read_dates`); returns the actors. Shared by the
/// projection and the per-period tie counts.
pub fn scan_events(
    store: &Store,
    options: &ProjectionOptions,
    read_dates: bool,
    deadline: Option<Instant>,
    mut visit: impl FnMut(&ScannedEvent),
) -> Result<Actors, AnalyticsError> {
    let mut reader = FillerReader::new(store, &options.level);
    let symbols = store.symbols();
    let mut sides: FxHashMap<u32, RoleSide> = FxHashMap::default();
    for sym in 0..u32::try_from(symbols.len()).unwrap_or(u32::MAX) {
        if let Some(side) = role_side(symbols.name(sym)?) {
            if side != RoleSide::Report || options.weight == Weight::Articles {
                sides.insert(sym, side);
            }
        }
    }
    let types = Arc::new(EdgeTypes::Only({
        let mut syms: Vec<u32> = sides.keys().copied().collect();
        syms.sort_unstable();
        syms
    }));
    let labels = if options.event_types.is_empty() { vec!["Event".to_string()] } else { options.event_types.clone() };
    let mut actors = Actors::default();
    let mut entries: Vec<(NodeId, u32, NodeId)> = Vec::new();
    for label in &labels {
        let mut ids = store.nodes_with_label(label).peekable();
        while ids.peek().is_some() {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(AnalyticsError::Timeout);
            }
            let batch: Vec<NodeId> = ids.by_ref().take(4096).collect::<Result<_, _>>()?;
            entries.clear();
            store.for_each_adjacent_of(&batch, Direction::Out, &types, |event, entry| {
                entries.push((event, entry.sym, entry.other));
            })?;
            // One node's entries come together; the order of nodes does not matter here.
            for group in entries.chunk_by(|a, b| a.0 == b.0) {
                let event = group[0].0;
                let date = if read_dates || options.needs_dates() { event_date(store, event)? } else { None };
                if !options.admits_date(date.as_deref()) {
                    continue;
                }
                let mut scanned = ScannedEvent { event, date, ..ScannedEvent::default() };
                for &(_, sym, other) in group {
                    let Some(&side) = sides.get(&sym) else { continue };
                    if side == RoleSide::Report {
                        scanned.articles.push(other);
                        continue;
                    }
                    for actor in reader.actors_of(other)? {
                        let index = actors.intern(actor);
                        match side {
                            RoleSide::Source => scanned.sources.push(index),
                            RoleSide::Target => scanned.targets.push(index),
                            _ => scanned.peers.push(index),
                        }
                    }
                }
                for list in [&mut scanned.sources, &mut scanned.targets, &mut scanned.peers] {
                    list.sort_unstable();
                    list.dedup();
                }
                scanned.articles.sort_unstable();
                scanned.articles.dedup();
                visit(&scanned);
            }
        }
    }
    Ok(actors)
}

fn event_date(store: &Store, event: NodeId) -> Result<Option<String>, AnalyticsError> {
    let Some(bytes) = store.node_bytes(event)? else { return Ok(None) };
    let date = match crate::store::record_property(&bytes, "date") {
        Some(value) => value,
        None => {
            let record: crate::model::NodeRecord = crate::store::codec::decode(&bytes, "a node")?;
            record.props.get("date").cloned()
        }
    };
    Ok(match date {
        Some(Value::Str(date)) => Some(date),
        _ => None,
    })
}

/// Turns a role filler into the actors it stands for at the projection's level.
struct FillerReader<'s> {
    store: &'s Store,
    level: Level,
    /// The labels asked about: the level's, then `Country` and `Place`.
    labels: Vec<String>,
    /// Label chunks read so far, by (label number, chunk).
    bits: FxHashMap<(usize, u64), LabelBits>,
    /// Country level: a filler's countries, read once.
    countries: FxHashMap<NodeId, Vec<NodeId>>,
    represents: Arc<EdgeTypes>,
    located_in: Arc<EdgeTypes>,
}

impl<'s> FillerReader<'s> {
    fn new(store: &'s Store, level: &Level) -> FillerReader<'s> {
        let mut labels: Vec<String> = match level {
            Level::Person => vec!["Person".into()],
            Level::Organization => vec!["Organization".into()],
            Level::Labels(labels) => labels.clone(),
            Level::Country => Vec::new(),
        };
        labels.extend(["Country".to_string(), "Place".to_string()]);
        FillerReader {
            store,
            level: level.clone(),
            labels,
            bits: FxHashMap::default(),
            countries: FxHashMap::default(),
            represents: Arc::new(store.edge_types(&["REPRESENTS"])),
            located_in: Arc::new(store.edge_types(&["LOCATED_IN"])),
        }
    }

    /// Whether node `id` carries label number `label` of `self.labels`.
    fn has_label(&mut self, id: NodeId, label: usize) -> Result<bool, AnalyticsError> {
        let chunk = id / crate::store::page::LABEL_SPAN;
        if let Some(bits) = self.bits.get(&(label, chunk)) {
            return Ok(bits.contains(id));
        }
        let bits = self.store.label_bits(&self.labels[label], chunk)?;
        let found = bits.contains(id);
        self.bits.insert((label, chunk), bits);
        Ok(found)
    }

    fn actors_of(&mut self, filler: NodeId) -> Result<Vec<NodeId>, AnalyticsError> {
        if self.level == Level::Country {
            return self.countries_of(filler);
        }
        // The level's own labels come before `Country` and `Place`.
        for label in 0..self.labels.len() - 2 {
            if self.has_label(filler, label)? {
                return Ok(vec![filler]);
            }
        }
        Ok(Vec::new())
    }

    /// A country stands for itself; a place for the country it lies in; anyone else for
    /// the countries they represent.
    fn countries_of(&mut self, filler: NodeId) -> Result<Vec<NodeId>, AnalyticsError> {
        if let Some(found) = self.countries.get(&filler) {
            return Ok(found.clone());
        }
        let (country, place) = (self.labels.len() - 2, self.labels.len() - 1);
        let found = if self.has_label(filler, country)? {
            vec![filler]
        } else {
            let types = if self.has_label(filler, place)? { &self.located_in } else { &self.represents };
            let mut out = Vec::new();
            for entry in self.store.adjacent_entries(filler, Direction::Out, types) {
                out.push(entry?.other);
            }
            out.sort_unstable();
            out.dedup();
            out
        };
        self.countries.insert(filler, found.clone());
        Ok(found)
    }
}

/// The projected graph: one petgraph node per actor (weight: the store's node id), one
/// edge per tie (weight: the tie's weight); undirected projections keep one edge per pair.
#[derive(Debug)]
pub struct Projection {
    pub options: ProjectionOptions,
    pub graph: Graph<NodeId, f64, Directed, u32>,
    /// Neighbours by node index: successors (both ends when undirected) and predecessors.
    out: Vec<Vec<(u32, f64)>>,
    inc: Vec<Vec<(u32, f64)>>,
}

impl Projection {
    /// Builds the projection the options describe.
    pub fn build(
        store: &Store,
        options: &ProjectionOptions,
        deadline: Option<Instant>,
    ) -> Result<Projection, AnalyticsError> {
        let mut weights: FxHashMap<(u32, u32), f64> = FxHashMap::default();
        let mut reports: FxHashMap<(u32, u32), FxHashSet<NodeId>> = FxHashMap::default();
        let actors = scan_events(store, options, false, deadline, |event| {
            let pairs = event.pairs(options.directed);
            if pairs.is_empty() {
                return;
            }
            let share = match options.weight {
                Weight::Newman => {
                    let n = event.actors().len();
                    if n < 2 {
                        return;
                    }
                    1.0 / (n - 1) as f64
                }
                _ => 1.0,
            };
            for pair in pairs {
                if options.weight == Weight::Articles {
                    reports.entry(pair).or_default().extend(event.articles.iter().copied());
                } else {
                    *weights.entry(pair).or_default() += share;
                }
            }
        })?;
        if options.weight == Weight::Articles {
            weights = reports.into_iter().map(|(pair, articles)| (pair, articles.len() as f64)).collect();
        }
        // Number the actors by store id, so results do not depend on the scan's order.
        let mut order: Vec<u32> = (0..u32::try_from(actors.ids.len()).unwrap_or(u32::MAX)).collect();
        order.sort_unstable_by_key(|&i| actors.ids[i as usize]);
        let mut renumber = vec![0u32; order.len()];
        for (new, &old) in order.iter().enumerate() {
            renumber[old as usize] = u32::try_from(new).unwrap_or(u32::MAX);
        }
        let mut ties: Vec<(u32, u32, f64)> = weights
            .into_iter()
            .filter(|&(_, w)| w > 0.0 && w >= options.min_weight)
            .map(|((a, b), w)| {
                let (a, b) = (renumber[a as usize], renumber[b as usize]);
                if options.directed || a < b {
                    (a, b, w)
                } else {
                    (b, a, w)
                }
            })
            .collect();
        ties.sort_unstable_by_key(|x| (x.0, x.1));
        let ids: Vec<NodeId> = order.iter().map(|&i| actors.ids[i as usize]).collect();
        Ok(Projection::from_ties(options.clone(), &ids, &ties))
    }

    /// A projection of given ties between `ids` (node indexes into `ids`); for tests and
    /// for algorithms run on small known graphs.
    pub fn from_ties(options: ProjectionOptions, ids: &[NodeId], ties: &[(u32, u32, f64)]) -> Projection {
        let mut graph = Graph::with_capacity(ids.len(), ties.len());
        for &id in ids {
            graph.add_node(id);
        }
        let mut out = vec![Vec::new(); ids.len()];
        let mut inc = vec![Vec::new(); ids.len()];
        for &(a, b, w) in ties {
            graph.add_edge(NodeIndex::new(a as usize), NodeIndex::new(b as usize), w);
            out[a as usize].push((b, w));
            inc[b as usize].push((a, w));
            if !options.directed {
                out[b as usize].push((a, w));
                inc[a as usize].push((b, w));
            }
        }
        Projection { options, graph, out, inc }
    }

    /// The projection for `options` as of the store's current generation: built on first
    /// use, then shared until a commit changes the store.
    pub fn cached(
        store: &Store,
        options: &ProjectionOptions,
        deadline: Option<Instant>,
    ) -> Result<Arc<Projection>, AnalyticsError> {
        /// Few projections are in use at once (one query, one command); each can be large.
        const KEPT: usize = 4;
        type Cache = Mutex<Vec<(u64, Arc<Projection>)>>;
        static CACHE: Cache = Mutex::new(Vec::new());
        let generation = store.generation();
        {
            let cache = CACHE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some((_, found)) = cache.iter().find(|(g, p)| *g == generation && p.options == *options) {
                return Ok(found.clone());
            }
        }
        let built = Arc::new(Projection::build(store, options, deadline)?);
        let mut cache = CACHE.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.retain(|(g, _)| *g == generation);
        if cache.len() >= KEPT {
            cache.remove(0);
        }
        cache.push((generation, built.clone()));
        Ok(built)
    }

    pub fn node_count(&self) -> usize {
        self.out.len()
    }

    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    pub fn is_directed(&self) -> bool {
        self.options.directed
    }

    /// The store node of actor `i`.
    pub fn actor(&self, i: usize) -> NodeId {
        self.graph[NodeIndex::new(i)]
    }

    /// Successors of `i` with tie weights (every neighbour when undirected).
    pub fn out(&self, i: usize) -> &[(u32, f64)] {
        &self.out[i]
    }

    /// Predecessors of `i` (every neighbour when undirected).
    pub fn inc(&self, i: usize) -> &[(u32, f64)] {
        &self.inc[i]
    }

    /// Every tie once: `(from, to, weight)` by node index.
    pub fn ties(&self) -> impl Iterator<Item = (usize, usize, f64)> + '_ {
        self.graph.raw_edges().iter().map(|e| (e.source().index(), e.target().index(), e.weight))
    }

    /// The node index of a store node, if it is an actor here.
    pub fn index_of(&self, id: NodeId) -> Option<usize> {
        self.graph.node_indices().find(|&i| self.graph[i] == id).map(NodeIndex::index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_links_sources_to_targets_when_directed_and_everyone_otherwise() {
        let visit = ScannedEvent { sources: vec![0], targets: vec![1, 2], peers: vec![], ..ScannedEvent::default() };
        assert_eq!(visit.pairs(true), [(0, 1), (0, 2)]);
        assert_eq!(visit.pairs(false), [(0, 1), (0, 2), (1, 2)]);
        let meeting = ScannedEvent { peers: vec![3, 1], ..ScannedEvent::default() };
        assert_eq!(meeting.pairs(true), [(1, 3), (3, 1)]);
        assert_eq!(meeting.pairs(false), [(1, 3)]);
        // A country visiting a place of its own is no tie.
        let home = ScannedEvent { sources: vec![4], targets: vec![4], ..ScannedEvent::default() };
        assert!(home.pairs(true).is_empty() && home.pairs(false).is_empty());
    }
}
