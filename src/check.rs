//! `check`: the store's integrity, like SQLite's `integrity_check` — every record decodes,
//! every index entry points at data that carries it, every record is in every index it
//! belongs to, the maintained counts and id counters agree, and the graph model holds.
//!
//! The check streams each keyspace once; it keeps one small class per node in memory
//! (not the records) plus the set of events that have a report.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use crate::ingest::fulfil;
use crate::ingest::resolve::entity_key;
use crate::model::{normalize_name, EdgeId, EdgeRecord, NodeId, NodeRecord, Value, ENTITY_KINDS};
use crate::store::page::{self, NodeAdjacency};
use crate::store::{codec, key_index, keys, source_ids_of, Direction, Stats, Store, StoreError, FORMAT_VERSION};

/// Problems past this many are counted, not listed: a badly damaged store would
/// otherwise print one line per key.
pub const MAX_LISTED_PROBLEMS: usize = 1000;

/// What a `check` found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckReport {
    pub format_version: Option<u32>,
    /// Node and edge records found (decodable or not).
    pub nodes: u64,
    pub edges: u64,
    /// The first `MAX_LISTED_PROBLEMS` problems, in keyspace order.
    pub problems: Vec<Problem>,
    /// Problems found beyond those listed.
    pub unlisted_problems: u64,
}

impl CheckReport {
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    pub fn problem_count(&self) -> u64 {
        u64::try_from(self.problems.len()).unwrap_or(u64::MAX).saturating_add(self.unlisted_problems)
    }
}

/// One integrity problem: where it is and what is wrong, precise enough to find the key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub area: Area,
    pub message: String,
}

/// The part of the store a problem is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Area {
    Format,
    Node,
    Edge,
    LabelIndex,
    KeyIndex,
    NameIndex,
    SourceIdIndex,
    Adjacency,
    Stats,
    Counters,
    Model,
    Keyspace,
}

impl Area {
    pub fn name(self) -> &'static str {
        match self {
            Area::Format => "format",
            Area::Node => "node",
            Area::Edge => "edge",
            Area::LabelIndex => "label index",
            Area::KeyIndex => "id index",
            Area::NameIndex => "name index",
            Area::SourceIdIndex => "source-id index",
            Area::Adjacency => "adjacency",
            Area::Stats => "stats",
            Area::Counters => "counters",
            Area::Model => "graph model",
            Area::Keyspace => "keyspace",
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.area.name(), self.message)
    }
}

/// Checks the whole store. `Err` only when sled itself fails to read; everything wrong
/// with the data is a `Problem` in the report.
pub fn check_store(store: &Store) -> Result<CheckReport, StoreError> {
    let mut checker = Checker::new(store);
    checker.check_format()?;
    checker.load_label_index()?;
    checker.load_key_index()?;
    checker.check_nodes()?;
    checker.scan_adjacency(false)?;
    checker.check_edges()?;
    checker.diagnose_adjacency()?;
    checker.check_label_index()?;
    checker.check_key_index()?;
    checker.check_name_index()?;
    checker.check_source_id_index()?;
    checker.check_other_keyspaces()?;
    checker.check_provenance();
    checker.check_fulfilment();
    checker.check_stats()?;
    checker.check_counters()?;
    Ok(checker.report)
}

/// What the checker remembers about a node between passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NodeClass {
    Event,
    Article,
    /// Index into `ENTITY_KINDS`.
    Entity(usize),
    Other,
    /// The record does not decode; already reported.
    Undecodable,
}

impl NodeClass {
    fn of(record: &NodeRecord) -> NodeClass {
        if record.has_label("Event") {
            NodeClass::Event
        } else if record.has_label("Article") {
            NodeClass::Article
        } else if let Some(kind) = ENTITY_KINDS.iter().position(|k| record.has_label(k)) {
            NodeClass::Entity(kind)
        } else {
            NodeClass::Other
        }
    }

    fn describe(self) -> &'static str {
        match self {
            NodeClass::Event => "an Event",
            NodeClass::Article => "an Article",
            NodeClass::Entity(kind) => ENTITY_KINDS[kind],
            NodeClass::Other => "a node that is no event, article or entity",
            NodeClass::Undecodable => "an undecodable node",
        }
    }
}

struct Checker<'s> {
    store: &'s Store,
    report: CheckReport,
    nodes: HashMap<NodeId, NodeClass>,
    /// Events with at least one REPORTED_IN edge to an Article.
    reported: HashSet<NodeId>,
    counted: Stats,
    max_node: Option<NodeId>,
    max_edge: Option<EdgeId>,
    /// Edge types by symbol number.
    symbols: Vec<String>,
    /// The label index as stored: sorted node ids per label.
    label_index: HashMap<String, Vec<NodeId>>,
    /// The `id` index as stored: live (hash, node) pairs, sorted.
    key_index: Vec<(u64, NodeId)>,
    /// Every adjacency entry as stored and every entry the edge records call for, summed as
    /// hashes: equal sums (and counts) mean the two agree, without holding either in memory.
    adjacency_sum: EntrySum,
    edges_sum: EntrySum,
    /// Edges whose record does not decode (their adjacency entries are not reported again).
    undecodable_edges: HashSet<EdgeId>,
    /// Only when the sums differ: adjacency entries by (edge, direction): (node, edge type,
    /// other node); each edge removes its two, what remains names no edge.
    adjacency: HashMap<(EdgeId, u8), (NodeId, String, NodeId)>,
}

/// An order-independent sum of adjacency entries (128-bit hashes, added with wrap-around),
/// and their number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct EntrySum {
    sum: u128,
    count: u64,
}

impl EntrySum {
    fn add(&mut self, edge: EdgeId, direction: u8, node: NodeId, edge_type: &str, other: NodeId) {
        let mut bytes = Vec::with_capacity(25 + edge_type.len());
        bytes.extend_from_slice(&edge.to_le_bytes());
        bytes.push(direction);
        bytes.extend_from_slice(&node.to_le_bytes());
        bytes.extend_from_slice(&other.to_le_bytes());
        bytes.extend_from_slice(edge_type.as_bytes());
        self.sum = self.sum.wrapping_add(xxhash_rust::xxh3::xxh3_128(&bytes));
        self.count += 1;
    }
}

impl<'s> Checker<'s> {
    fn new(store: &'s Store) -> Checker<'s> {
        Checker {
            store,
            report: CheckReport::default(),
            nodes: HashMap::new(),
            reported: HashSet::new(),
            counted: Stats::default(),
            max_node: None,
            max_edge: None,
            symbols: Vec::new(),
            label_index: HashMap::new(),
            key_index: Vec::new(),
            adjacency_sum: EntrySum::default(),
            edges_sum: EntrySum::default(),
            undecodable_edges: HashSet::new(),
            adjacency: HashMap::new(),
        }
    }

    fn problem(&mut self, area: Area, message: String) {
        if self.report.problems.len() < MAX_LISTED_PROBLEMS {
            self.report.problems.push(Problem { area, message });
        } else {
            self.report.unlisted_problems += 1;
        }
    }

    fn check_format(&mut self) -> Result<(), StoreError> {
        match self.store.raw_get(keys::META_VERSION)? {
            None => self.problem(Area::Format, "the format version record is missing".into()),
            Some(bytes) => match keys::read_u64(&bytes).and_then(|v| u32::try_from(v).ok()) {
                Some(version) => {
                    self.report.format_version = Some(version);
                    if version != FORMAT_VERSION {
                        self.problem(
                            Area::Format,
                            format!("format version {version}, this diplograph reads version {FORMAT_VERSION}"),
                        );
                    }
                }
                None => self.problem(
                    Area::Format,
                    format!("the format version record {:02x?} is not a version number", &bytes[..]),
                ),
            },
        }
        let known = [keys::META_VERSION, keys::META_COUNTERS, keys::META_STATS, keys::META_SYMBOLS, keys::META_RUNS];
        for item in self.store.scan_keyspace(keys::META) {
            let (key, _) = item?;
            if !known.contains(&&key[..]) {
                self.problem(Area::Keyspace, format!("unknown meta record {}", show_key(&key)));
            }
        }
        if let Some(bytes) = self.store.raw_get(keys::META_SYMBOLS)? {
            match codec::decode::<Vec<String>>(&bytes, "the edge type table") {
                Ok(names) => self.symbols = names,
                Err(err) => self.problem(Area::Format, error_text(&err)),
            }
        }
        Ok(())
    }

    /// The non-empty slots of every page under `prefix`, with their ids; malformed pages
    /// are reported and skipped.
    /// Runs `visit` on each non-empty slot of every page under `prefix`, one page in memory
    /// at a time; malformed pages are reported (unless `quiet`) and skipped.
    fn for_each_slot(
        &mut self,
        prefix: u8,
        report: Option<(Area, &str)>,
        mut visit: impl FnMut(&mut Self, u64, &[u8]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let store = self.store;
        for item in store.scan_keyspace(prefix) {
            let (key, value) = item?;
            let Some(number) = exact_id(&key) else {
                if let Some((area, what)) = report {
                    self.problem(area, format!("malformed {what} page key {}", show_key(&key)));
                }
                continue;
            };
            let ranges: Option<Vec<_>> = (0..page::PAGE_SLOTS).map(|slot| page::slot_range(&value, slot)).collect();
            let Some(ranges) = ranges else {
                if let Some((area, what)) = report {
                    self.problem(area, format!("{what} page {number} does not decode"));
                }
                continue;
            };
            if ranges.iter().all(|r| r.is_empty()) {
                if let Some((area, what)) = report {
                    self.problem(area, format!("{what} page {number} is stored empty"));
                }
            }
            let first = number.saturating_mul(page::PAGE_SLOTS as u64);
            for (slot, range) in ranges.into_iter().enumerate().filter(|(_, r)| !r.is_empty()) {
                visit(self, first + slot as u64, &value[range])?;
            }
        }
        Ok(())
    }

    /// Reads the label index into memory, reporting malformed chunks and ids outside their chunk.
    fn load_label_index(&mut self) -> Result<(), StoreError> {
        for item in self.store.scan_keyspace(keys::LABEL) {
            let (key, value) = item?;
            let Some((label, chunk)) = keys::parse_label_chunk(&key) else {
                self.problem(Area::LabelIndex, format!("malformed label index key {}", show_key(&key)));
                continue;
            };
            let Some(ids) = page::decode_ids(&value) else {
                self.problem(Area::LabelIndex, format!("the {label} chunk {chunk} does not decode"));
                continue;
            };
            if ids.is_empty() {
                self.problem(Area::LabelIndex, format!("the {label} chunk {chunk} is stored empty"));
            }
            let sorted = ids.windows(2).all(|pair| pair[0] < pair[1]);
            let misplaced: Vec<NodeId> = ids.iter().copied().filter(|&id| id / page::LABEL_SPAN != chunk).collect();
            if !sorted {
                self.problem(Area::LabelIndex, format!("the {label} chunk {chunk} is not sorted"));
            }
            for id in misplaced {
                self.problem(Area::LabelIndex, format!("the {label} chunk {chunk} holds node {id} out of place"));
            }
            self.label_index.entry(label.clone()).or_default().extend(ids);
        }
        for ids in self.label_index.values_mut() {
            ids.sort_unstable();
            ids.dedup();
        }
        Ok(())
    }

    /// Every node decodes, has an `id`, and is in the label, id and (entities) name indexes.
    fn check_nodes(&mut self) -> Result<(), StoreError> {
        self.for_each_slot(keys::NODE_PAGE, Some((Area::Node, "node")), |this, id, bytes| {
            this.report.nodes += 1;
            this.max_node = this.max_node.max(Some(id));
            let record: NodeRecord = match codec::decode(bytes, "a node") {
                Ok(record) => record,
                Err(err) => {
                    this.problem(Area::Node, format!("node {id}: {}", error_text(&err)));
                    this.nodes.insert(id, NodeClass::Undecodable);
                    return Ok(());
                }
            };
            this.counted.nodes += 1;
            for label in &record.labels {
                *this.counted.labels.entry(label.clone()).or_insert(0) += 1;
            }
            this.counted.count_properties(&record, 1);
            let class = NodeClass::of(&record);
            this.nodes.insert(id, class);
            this.check_node(id, &record, class)
        })
    }

    fn check_node(&mut self, id: NodeId, record: &NodeRecord, class: NodeClass) -> Result<(), StoreError> {
        let name = node_name(id, record);
        if record.labels.is_empty() {
            self.problem(Area::Node, format!("{name} has no label"));
        }
        for (i, label) in record.labels.iter().enumerate() {
            if record.labels[..i].contains(label) {
                self.problem(Area::Node, format!("{name} has the label {label} twice"));
            } else if !self.label_index.get(label).is_some_and(|members| members.binary_search(&id).is_ok()) {
                self.problem(Area::LabelIndex, format!("{name} has label {label} but no label index entry"));
            }
        }
        match record.key() {
            Some(key) => {
                let hash = key_index::hash_id(key);
                if self.key_index.binary_search(&(hash, id)).is_err() {
                    self.problem(Area::KeyIndex, format!("{name} is missing from the id index"));
                }
            }
            None => self.problem(Area::Model, format!("node {id} has no string `id` property")),
        }
        match class {
            NodeClass::Entity(kind) => self.check_entity(id, record, ENTITY_KINDS[kind], &name)?,
            NodeClass::Event => {
                for property in ["type", "status"] {
                    if record.props.get(property).and_then(Value::as_str).is_none() {
                        self.problem(Area::Model, format!("{name} has no string `{property}`"));
                    }
                }
                self.check_single_edges(id, "REPORTED_IN", &name)?;
                for source_id in source_ids_of(record) {
                    if self.store.source_id_node(&source_id).ok().flatten().is_none() {
                        self.problem(
                            Area::SourceIdIndex,
                            format!("{name} lists source id '{source_id}' but the index has no entry"),
                        );
                    }
                }
            }
            NodeClass::Article => {
                if record.props.get("published").and_then(Value::as_str).is_none() {
                    self.problem(Area::Model, format!("{name} has no string `published`"));
                }
            }
            NodeClass::Other | NodeClass::Undecodable => {
                self.problem(
                    Area::Model,
                    format!("{name} (labels {}) is no event, article or entity", record.labels.join(":")),
                );
            }
        }
        Ok(())
    }

    /// An entity is found by its name and each alias, under its kind, and its `id` is
    /// derived from its kind and name (what makes dump/restore and re-ingest exact).
    fn check_entity(&mut self, id: NodeId, record: &NodeRecord, kind: &str, name: &str) -> Result<(), StoreError> {
        let kinds: Vec<&str> = record.labels.iter().map(String::as_str).filter(|l| ENTITY_KINDS.contains(l)).collect();
        if kinds.len() > 1 {
            self.problem(Area::Model, format!("{name} has several entity kinds: {}", kinds.join(", ")));
        }
        let Some(canonical) = record.props.get("name").and_then(Value::as_str) else {
            self.problem(Area::Model, format!("{name} is an entity without a string `name`"));
            return Ok(());
        };
        let expected = entity_key(kind, canonical);
        if record.key().is_some_and(|key| key != expected) {
            self.problem(Area::Model, format!("{name}: a {kind} named '{canonical}' should have the id '{expected}'"));
        }
        for alias_or_name in record.entity_names() {
            let normalised = normalize_name(&alias_or_name);
            match self.store.raw_get(&keys::by_name(&normalised, id))? {
                None => {
                    self.problem(Area::NameIndex, format!("{name} is not found by its name or alias '{alias_or_name}'"))
                }
                Some(value) if &value[..] != kind.as_bytes() => self.problem(
                    Area::NameIndex,
                    format!(
                        "{name} is indexed by '{normalised}' as a {}, not a {kind}",
                        String::from_utf8_lossy(&value)
                    ),
                ),
                Some(_) => {}
            }
        }
        for edge_type in ["REPRESENTS", "LOCATED_IN"] {
            self.check_single_edges(id, edge_type, name)?;
        }
        Ok(())
    }

    /// At most one edge of `edge_type` from `node` to any one other node.
    fn check_single_edges(&mut self, node: NodeId, edge_type: &str, name: &str) -> Result<(), StoreError> {
        let mut others = Vec::new();
        for adjacent in self.store.adjacent(node, Direction::Out, Some(edge_type)) {
            match adjacent {
                Ok(adjacent) => others.push(adjacent.other),
                // A malformed adjacency key is reported by the adjacency pass.
                Err(StoreError::Corrupt(_)) => {}
                Err(err) => return Err(err),
            }
        }
        others.sort_unstable();
        for pair in others.windows(2).filter(|pair| pair[0] == pair[1]) {
            self.problem(Area::Model, format!("{name} has more than one {edge_type} edge to node {}", pair[0]));
        }
        Ok(())
    }

    /// Reads the adjacency pages and chunks: every entry is under a defined type, at a node that
    /// exists; a spilled list has chunks and an inline one none. The first pass sums the
    /// entries; the `detailed` one (only when the sums disagree with the edges) keeps them.
    fn scan_adjacency(&mut self, detailed: bool) -> Result<(), StoreError> {
        let mut spilled: HashSet<(NodeId, u8)> = HashSet::new();
        let report = (!detailed).then_some((Area::Adjacency, "adjacency"));
        self.for_each_slot(keys::ADJ_PAGE, report, |this, node, bytes| {
            let Some(adjacency) = NodeAdjacency::decode(bytes) else {
                if !detailed {
                    this.problem(Area::Adjacency, format!("the adjacency of node {node} does not decode"));
                }
                return Ok(());
            };
            if !detailed && !this.nodes.contains_key(&node) {
                this.problem(Area::Adjacency, format!("adjacency stored for node {node}, which does not exist"));
            }
            for (direction, list) in [(keys::OUT, &adjacency.out), (keys::IN, &adjacency.incoming)] {
                if list.spilled {
                    spilled.insert((node, direction));
                }
                for entry in &list.entries {
                    this.note_adjacency(detailed, node, direction, entry.sym, entry.edge, entry.other);
                }
            }
            Ok(())
        })?;
        let mut chunked: HashSet<(NodeId, u8)> = HashSet::new();
        for item in self.store.scan_keyspace(keys::ADJ_CHUNK) {
            let (key, value) = item?;
            let Some((node, direction, sym, first)) = keys::parse_adjacency_chunk(&key) else {
                if !detailed {
                    self.problem(Area::Adjacency, format!("malformed adjacency chunk key {}", show_key(&key)));
                }
                continue;
            };
            let Some(pairs) = page::decode_chunk(&value) else {
                if !detailed {
                    self.problem(Area::Adjacency, format!("an adjacency chunk of node {node} does not decode"));
                }
                continue;
            };
            if !detailed && (pairs.is_empty() || pairs[0].0 < first) {
                self.problem(
                    Area::Adjacency,
                    format!("the adjacency chunk of node {node} from edge {first} is empty or out of place"),
                );
            }
            chunked.insert((node, direction));
            for (edge, other) in pairs {
                self.note_adjacency(detailed, node, direction, sym, edge, other);
            }
        }
        if detailed {
            return Ok(());
        }
        for (node, direction) in chunked.difference(&spilled) {
            self.problem(
                Area::Adjacency,
                format!("node {node} has adjacency chunks its page does not point to (direction {direction})"),
            );
        }
        Ok(())
    }

    fn note_adjacency(&mut self, detailed: bool, node: NodeId, direction: u8, sym: u32, edge: EdgeId, other: NodeId) {
        let side = if direction == keys::OUT { "out" } else { "in" };
        let Some(edge_type) = self.symbols.get(sym as usize) else {
            if !detailed {
                let message = format!("{side}-adjacency of node {node} names undefined edge type {sym}");
                self.problem(Area::Adjacency, message);
            }
            return;
        };
        if !detailed {
            self.adjacency_sum.add(edge, direction, node, edge_type, other);
        } else if self.undecodable_edges.contains(&edge) {
            // Reported with the edge record.
        } else if self.adjacency.insert((edge, direction), (node, edge_type.clone(), other)).is_some() {
            self.problem(Area::Adjacency, format!("edge {edge} is listed twice in {side}-adjacency"));
        }
    }

    /// When the adjacency entries do not sum to what the edge records call for, finds out
    /// which: every entry is read into memory (only a damaged store pays for this) and each
    /// edge record claims its two.
    fn diagnose_adjacency(&mut self) -> Result<(), StoreError> {
        if self.adjacency_sum == self.edges_sum {
            return Ok(());
        }
        self.scan_adjacency(true)?;
        self.for_each_slot(keys::EDGE_PAGE, None, |this, id, bytes| {
            let Ok(record) = codec::decode::<EdgeRecord>(bytes, "an edge") else { return Ok(()) };
            let what = format!("edge {id} ({} {} -> {})", record.edge_type, record.src, record.dst);
            for (direction, node, other) in [(keys::OUT, record.src, record.dst), (keys::IN, record.dst, record.src)] {
                let side = if direction == keys::OUT { "out" } else { "in" };
                match this.adjacency.remove(&(id, direction)) {
                    None => this.problem(Area::Adjacency, format!("{what} has no {side}-adjacency entry")),
                    Some((at, edge_type, there)) if at != node || there != other || edge_type != record.edge_type => {
                        this.problem(
                            Area::Adjacency,
                            format!("{what}: its {side}-adjacency entry says {at} {edge_type} -> {there}"),
                        )
                    }
                    Some(_) => {}
                }
            }
            Ok(())
        })?;
        // What is left names edges that do not exist.
        let mut orphans: Vec<_> = self.adjacency.drain().collect();
        orphans.sort_unstable();
        for ((edge, direction), (node, edge_type, other)) in orphans {
            let side = if direction == keys::OUT { "out" } else { "in" };
            self.problem(
                Area::Adjacency,
                format!("{side}-adjacency entry ({node} {edge_type} edge {edge} -> {other}) names an edge that does not exist"),
            );
        }
        Ok(())
    }

    /// Every edge decodes, joins existing nodes of the right classes and is in both adjacencies.
    fn check_edges(&mut self) -> Result<(), StoreError> {
        self.for_each_slot(keys::EDGE_PAGE, Some((Area::Edge, "edge")), |this, id, bytes| {
            this.report.edges += 1;
            this.max_edge = this.max_edge.max(Some(id));
            let record: EdgeRecord = match codec::decode(bytes, "an edge") {
                Ok(record) => record,
                Err(err) => {
                    this.problem(Area::Edge, format!("edge {id}: {}", error_text(&err)));
                    // Its adjacency entries have no record to match: the sums differ and the
                    // detailed pass skips them.
                    this.undecodable_edges.insert(id);
                    return Ok(());
                }
            };
            this.counted.edges += 1;
            *this.counted.edge_types.entry(record.edge_type.clone()).or_insert(0) += 1;
            this.check_edge(id, &record)
        })
    }

    fn check_edge(&mut self, id: EdgeId, record: &EdgeRecord) -> Result<(), StoreError> {
        let what = format!("edge {id} ({} {} -> {})", record.edge_type, record.src, record.dst);
        self.edges_sum.add(id, keys::OUT, record.src, &record.edge_type, record.dst);
        self.edges_sum.add(id, keys::IN, record.dst, &record.edge_type, record.src);
        let src = self.nodes.get(&record.src).copied();
        let dst = self.nodes.get(&record.dst).copied();
        for (end, class) in [("source", src), ("target", dst)] {
            if class.is_none() {
                self.problem(Area::Edge, format!("{what}: its {end} node does not exist"));
            }
        }
        let (Some(src), Some(dst)) = (src, dst) else {
            return Ok(());
        };
        if src == NodeClass::Undecodable || dst == NodeClass::Undecodable {
            return Ok(());
        }
        let country = NodeClass::Entity(entity_index("Country"));
        let allowed = match record.edge_type.as_str() {
            "REPORTED_IN" => src == NodeClass::Event && dst == NodeClass::Article,
            "REPRESENTS" => {
                [NodeClass::Entity(entity_index("Person")), NodeClass::Entity(entity_index("Organization"))]
                    .contains(&src)
                    && dst == country
            }
            "LOCATED_IN" => src == NodeClass::Entity(entity_index("Place")) && dst == country,
            fulfil::FULFILLED_BY => src == NodeClass::Event && dst == NodeClass::Event,
            _ => src == NodeClass::Event && matches!(dst, NodeClass::Entity(_)),
        };
        if !allowed {
            self.problem(Area::Model, format!("{what} goes from {} to {}", src.describe(), dst.describe()));
        } else if record.edge_type == "REPORTED_IN" {
            self.reported.insert(record.src);
        }
        Ok(())
    }

    /// Every label entry names an existing node that has the label.
    fn check_label_index(&mut self) -> Result<(), StoreError> {
        let index = std::mem::take(&mut self.label_index);
        for (label, id) in index.iter().flat_map(|(label, ids)| ids.iter().map(move |&id| (label.clone(), id))) {
            match self.node_record(id)? {
                Lookup::Missing => {
                    self.problem(Area::LabelIndex, format!("{label} entry for node {id}, which does not exist"))
                }
                Lookup::Found(record) if !record.has_label(&label) => self.problem(
                    Area::LabelIndex,
                    format!("{label} entry for {}, which lacks that label", node_name(id, &record)),
                ),
                Lookup::Found(_) | Lookup::Undecodable => {}
            }
        }
        Ok(())
    }

    /// Reads the `id` index runs into memory: the runs meta names exactly the stored runs,
    /// blocks decode, sorted, with the posting counts recorded.
    fn load_key_index(&mut self) -> Result<(), StoreError> {
        let runs = match self.store.key_runs() {
            Ok(runs) => runs,
            Err(err) => {
                self.problem(Area::KeyIndex, error_text(&err));
                Vec::new()
            }
        };
        // Every posting as (hash, node, age << 1 | removed), then (hash, node) groups replayed
        // oldest run first.
        let mut postings: Vec<(u64, NodeId, u64)> = Vec::new();
        let listed: HashSet<u32> = runs.iter().map(|r| r.id).collect();
        for item in self.store.scan_keyspace(keys::KEY_RUN) {
            let (key, _) = item?;
            let run = key.get(1..5).and_then(|b| b.try_into().ok()).map(u32::from_be_bytes);
            if key.len() != 13 || !run.is_some_and(|r| listed.contains(&r)) {
                self.problem(Area::KeyIndex, format!("id index block {} belongs to no listed run", show_key(&key)));
            }
        }
        for (age, run) in runs.into_iter().enumerate() {
            let mut run_postings = Vec::new();
            for item in self.store.scan_keyspace(keys::KEY_RUN) {
                let (key, block) = item?;
                if !key.starts_with(&keys::key_run_prefix(run.id)) {
                    continue;
                }
                match key_index::decode_block(&block) {
                    Some(block) if block.first().map(|p| p.hash) == keys::read_u64(&key[5..]) => {
                        run_postings.extend(block)
                    }
                    _ => self.problem(Area::KeyIndex, format!("id index block {} does not decode", show_key(&key))),
                }
            }
            if run_postings.windows(2).any(|w| w[0] >= w[1]) {
                self.problem(Area::KeyIndex, format!("id index run {} is not sorted", run.id));
            }
            if run_postings.len() as u64 != run.postings {
                let count = run_postings.len();
                let message = format!("id index run {} holds {count} postings, {} recorded", run.id, run.postings);
                self.problem(Area::KeyIndex, message);
            }
            let age = age as u64;
            postings.extend(run_postings.into_iter().map(|p| (p.hash, p.node(), age << 1 | u64::from(p.is_removal()))));
        }
        // Within one (hash, node), older runs first and, in a run, the addition first.
        postings.sort_unstable();
        let mut live = Vec::new();
        for group in postings.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
            if !group.last().is_some_and(|p| p.2 & 1 == 1) {
                live.push((group[0].0, group[0].1));
            }
        }
        self.key_index = live;
        Ok(())
    }

    /// Every id entry names an existing node whose `id` hashes to it; no two articles,
    /// events or entities of one kind share an id.
    fn check_key_index(&mut self) -> Result<(), StoreError> {
        let entries = std::mem::take(&mut self.key_index);
        for &(hash, id) in &entries {
            match self.node_record(id)? {
                Lookup::Missing => {
                    self.problem(Area::KeyIndex, format!("an id entry points to node {id}, which does not exist"))
                }
                Lookup::Found(record) if record.key().map(key_index::hash_id) != Some(hash) => self.problem(
                    Area::KeyIndex,
                    format!("an id entry points to {}, whose id differs", node_name(id, &record)),
                ),
                Lookup::Found(_) | Lookup::Undecodable => {}
            }
        }
        // Nodes that share an id share its hash: only those groups are read again.
        for group in entries.chunk_by(|a, b| a.0 == b.0).filter(|group| group.len() > 1) {
            let mut by_key: BTreeMap<String, Vec<(NodeId, Vec<String>)>> = BTreeMap::new();
            for &(_, id) in group {
                if let Lookup::Found(record) = self.node_record(id)? {
                    if let Some(key) = record.key() {
                        by_key.entry(key.to_string()).or_default().push((id, record.labels.clone()));
                    }
                }
            }
            for (key, members) in by_key {
                self.check_shared_id(&key, &members);
            }
        }
        Ok(())
    }

    fn check_shared_id(&mut self, string_id: &str, members: &[(NodeId, Vec<String>)]) {
        for identity in ["Article", "Event"].iter().chain(ENTITY_KINDS.iter()) {
            let sharing: Vec<String> = members
                .iter()
                .filter(|(_, labels)| labels.iter().any(|l| l == identity))
                .map(|(id, _)| id.to_string())
                .collect();
            if sharing.len() > 1 {
                self.problem(
                    Area::Model,
                    format!("{identity} nodes {} share the id '{string_id}'", sharing.join(", ")),
                );
            }
        }
    }

    /// Every name entry names an existing entity of the recorded kind that has the name or
    /// alias; no two entities of one kind share a canonical name.
    fn check_name_index(&mut self) -> Result<(), StoreError> {
        let mut group: Option<NameGroup> = None;
        for item in self.store.scan_keyspace(keys::BY_NAME) {
            let (key, kind) = item?;
            let Some((normalised, id)) = split_string_key(&key) else {
                self.problem(Area::NameIndex, format!("malformed name index key {}", show_key(&key)));
                continue;
            };
            let kind = String::from_utf8_lossy(&kind).into_owned();
            if group.as_ref().is_some_and(|(current, _)| *current != normalised) {
                if let Some((current, canonical)) = group.take() {
                    self.check_shared_name(&current, &canonical);
                }
            }
            let canonical = &mut group.get_or_insert_with(|| (normalised.clone(), Vec::new())).1;
            let record = match self.node_record(id)? {
                Lookup::Missing => {
                    self.problem(Area::NameIndex, format!("'{normalised}' points to node {id}, which does not exist"));
                    continue;
                }
                Lookup::Undecodable => continue,
                Lookup::Found(record) => record,
            };
            if !record.has_label(&kind) || !ENTITY_KINDS.contains(&kind.as_str()) {
                self.problem(
                    Area::NameIndex,
                    format!("'{normalised}' points to {} as a {kind}, but it is not one", node_name(id, &record)),
                );
            }
            let names: Vec<String> = record.entity_names().iter().map(|n| normalize_name(n)).collect();
            if !names.contains(&normalised) {
                self.problem(
                    Area::NameIndex,
                    format!("'{normalised}' points to {}, which has no such name or alias", node_name(id, &record)),
                );
            } else if names.first() == Some(&normalised) {
                canonical.push((kind, id));
            }
        }
        if let Some((current, canonical)) = group {
            self.check_shared_name(&current, &canonical);
        }
        Ok(())
    }

    fn check_shared_name(&mut self, normalised: &str, canonical: &[(String, NodeId)]) {
        for kind in ENTITY_KINDS {
            let sharing: Vec<String> =
                canonical.iter().filter(|(k, _)| k == kind).map(|(_, id)| id.to_string()).collect();
            if sharing.len() > 1 {
                self.problem(
                    Area::Model,
                    format!("{kind} nodes {} share the canonical name '{normalised}'", sharing.join(", ")),
                );
            }
        }
    }

    /// Every source-id entry points at an event that lists that id.
    fn check_source_id_index(&mut self) -> Result<(), StoreError> {
        for item in self.store.scan_keyspace(keys::SOURCE_ID) {
            let (key, value) = item?;
            let source_id = String::from_utf8_lossy(&key[1..]).into_owned();
            let Some(event) = keys::read_u64(&value).filter(|_| value.len() == 8) else {
                self.problem(Area::SourceIdIndex, format!("the entry of '{source_id}' does not decode"));
                continue;
            };
            let lists_it = match self.nodes.get(&event) {
                Some(NodeClass::Event) => {
                    self.store.node(event)?.is_some_and(|record| source_ids_of(&record).contains(&source_id))
                }
                _ => false,
            };
            if !lists_it {
                self.problem(
                    Area::SourceIdIndex,
                    format!("'{source_id}' points at node {event}, which is no event listing it"),
                );
            }
        }
        Ok(())
    }

    /// Keys outside the known keyspaces are reported, one line per prefix byte.
    fn check_other_keyspaces(&mut self) -> Result<(), StoreError> {
        let known = [
            keys::META,
            keys::NODE_PAGE,
            keys::EDGE_PAGE,
            keys::LABEL,
            keys::ADJ_PAGE,
            keys::ADJ_CHUNK,
            keys::KEY_RUN,
            keys::BY_NAME,
            keys::SOURCE_ID,
        ];
        for prefix in (0..=u8::MAX).filter(|p| !known.contains(p)) {
            let mut count = 0u64;
            for item in self.store.scan_keyspace(prefix) {
                item?;
                count += 1;
            }
            if count > 0 {
                self.problem(Area::Keyspace, format!("{count} keys under the unknown prefix 0x{prefix:02x}"));
            }
        }
        Ok(())
    }

    /// Every event has at least one report (an event without provenance is a problem).
    fn check_provenance(&mut self) {
        let mut unreported: Vec<NodeId> = self
            .nodes
            .iter()
            .filter(|(id, class)| **class == NodeClass::Event && !self.reported.contains(id))
            .map(|(id, _)| *id)
            .collect();
        unreported.sort_unstable();
        for id in unreported {
            let name = match self.store.node(id) {
                Ok(Some(record)) => node_name(id, &record),
                _ => format!("node {id}"),
            };
            self.problem(Area::Model, format!("event {name} has no REPORTED_IN edge to an article"));
        }
    }

    /// Every plan's FULFILLED_BY link is what the rule derives from the store as it is.
    fn check_fulfilment(&mut self) {
        let mut events: Vec<NodeId> =
            self.nodes.iter().filter(|(_, class)| **class == NodeClass::Event).map(|(id, _)| *id).collect();
        events.sort_unstable();
        for event in events {
            // A record or list that does not decode is reported by the passes above; the
            // rule is only compared where it can be computed.
            let stored: Result<Vec<NodeId>, StoreError> = self
                .store
                .adjacent(event, Direction::Out, Some(fulfil::FULFILLED_BY))
                .map(|a| a.map(|a| a.other))
                .collect();
            let (Ok(stored), Ok(expected)) = (stored, fulfil::expected_target(self.store, event)) else { continue };
            if stored.as_slice() == expected.as_slice() {
                continue;
            }
            let name = |id: NodeId| match self.store.node(id) {
                Ok(Some(record)) => node_name(id, &record),
                _ => format!("node {id}"),
            };
            let listed = |ids: &[NodeId]| {
                if ids.is_empty() {
                    "none".to_string()
                } else {
                    ids.iter().map(|&id| name(id)).collect::<Vec<_>>().join(", ")
                }
            };
            let message = format!(
                "event {} has FULFILLED_BY to {} but the rule derives {}; re-ingesting its articles rebuilds the link",
                name(event),
                listed(&stored),
                listed(expected.as_slice())
            );
            self.problem(Area::Model, message);
        }
    }

    /// The maintained counts equal the recount.
    fn check_stats(&mut self) -> Result<(), StoreError> {
        let maintained = match self.store.raw_get(keys::META_STATS)? {
            None if self.report.nodes == 0 && self.report.edges == 0 => Stats::default(),
            None => {
                self.problem(Area::Stats, "the maintained statistics are missing".into());
                return Ok(());
            }
            Some(bytes) => match codec::decode::<Stats>(&bytes, "statistics") {
                Ok(stats) => stats,
                Err(err) => {
                    self.problem(Area::Stats, error_text(&err));
                    return Ok(());
                }
            },
        };
        let counted = std::mem::take(&mut self.counted);
        if maintained.nodes != counted.nodes {
            self.problem(Area::Stats, format!("{} nodes recorded, {} counted", maintained.nodes, counted.nodes));
        }
        if maintained.edges != counted.edges {
            self.problem(Area::Stats, format!("{} edges recorded, {} counted", maintained.edges, counted.edges));
        }
        self.compare_counts("label", &maintained.labels, &counted.labels);
        self.compare_counts("edge type", &maintained.edge_types, &counted.edge_types);
        if maintained.property_values != counted.property_values {
            for (label, property) in crate::store::COUNTED_PROPERTIES {
                let count = |stats: &Stats| stats.property_values.get(*label).and_then(|p| p.get(*property)).cloned();
                let (m, c) = (count(&maintained).unwrap_or_default(), count(&counted).unwrap_or_default());
                let values: std::collections::BTreeSet<&String> = m.values.keys().chain(c.values.keys()).collect();
                for value in values {
                    let (m, c) = (m.values.get(value).copied().unwrap_or(0), c.values.get(value).copied().unwrap_or(0));
                    if m != c {
                        self.problem(Area::Stats, format!("{label}.{property} = '{value}': {m} recorded, {c} counted"));
                    }
                }
                if m.other != c.other {
                    let (m, c) = (m.other, c.other);
                    self.problem(
                        Area::Stats,
                        format!("{label}.{property} non-string values: {m} recorded, {c} counted"),
                    );
                }
            }
        }
        Ok(())
    }

    fn compare_counts(&mut self, what: &str, maintained: &BTreeMap<String, u64>, counted: &BTreeMap<String, u64>) {
        let names: std::collections::BTreeSet<&String> = maintained.keys().chain(counted.keys()).collect();
        for name in names {
            let (m, c) = (maintained.get(name).copied().unwrap_or(0), counted.get(name).copied().unwrap_or(0));
            if m != c {
                self.problem(Area::Stats, format!("{what} {name}: {m} recorded, {c} counted"));
            }
        }
    }

    /// The id counters are above every id in use, so no new node or edge overwrites one.
    fn check_counters(&mut self) -> Result<(), StoreError> {
        let next = match self.store.next_ids() {
            Ok(next) => next,
            Err(StoreError::Corrupt(message)) => {
                self.problem(Area::Counters, message);
                return Ok(());
            }
            Err(err) => return Err(err),
        };
        let (next_node, next_edge) = match next {
            Some(next) => next,
            None if self.max_node.is_none() && self.max_edge.is_none() => return Ok(()),
            None => {
                self.problem(Area::Counters, "the id counters are missing".into());
                return Ok(());
            }
        };
        if let Some(max) = self.max_node.filter(|&max| max >= next_node) {
            self.problem(Area::Counters, format!("next node id {next_node}, but node {max} exists"));
        }
        if let Some(max) = self.max_edge.filter(|&max| max >= next_edge) {
            self.problem(Area::Counters, format!("next edge id {next_edge}, but edge {max} exists"));
        }
        Ok(())
    }

    fn node_record(&self, id: NodeId) -> Result<Lookup, StoreError> {
        match self.nodes.get(&id) {
            None => Ok(Lookup::Missing),
            Some(NodeClass::Undecodable) => Ok(Lookup::Undecodable),
            Some(_) => match self.store.node(id) {
                Ok(Some(record)) => Ok(Lookup::Found(record)),
                Ok(None) => Ok(Lookup::Missing),
                Err(StoreError::Corrupt(_)) => Ok(Lookup::Undecodable),
                Err(err) => Err(err),
            },
        }
    }
}

/// Name index entries that share one normalised name: the name, and each entity (kind,
/// node) whose canonical name it is.
type NameGroup = (String, Vec<(String, NodeId)>);

enum Lookup {
    Missing,
    Undecodable,
    Found(NodeRecord),
}

fn entity_index(kind: &str) -> usize {
    ENTITY_KINDS.iter().position(|k| *k == kind).unwrap_or(usize::MAX)
}

/// `node 12 (person:kim-jong-un)`: the internal number and the stable id.
fn node_name(id: NodeId, record: &NodeRecord) -> String {
    match record.key() {
        Some(key) => format!("node {id} ({key})"),
        None => format!("node {id}"),
    }
}

/// The id of a `prefix id` key that is exactly 9 bytes.
fn exact_id(key: &[u8]) -> Option<u64> {
    (key.len() == 9).then(|| keys::read_u64(&key[1..])).flatten()
}

/// Splits a `prefix len string id` index key, refusing trailing or missing bytes.
fn split_string_key(key: &[u8]) -> Option<(String, u64)> {
    let len = usize::try_from(u32::from_be_bytes(key.get(1..5)?.try_into().ok()?)).ok()?;
    let text = std::str::from_utf8(key.get(5..5 + len)?).ok()?.to_string();
    let rest = key.get(5 + len..)?;
    (rest.len() == 8).then(|| keys::read_u64(rest)).flatten().map(|id| (text, id))
}

fn show_key(key: &[u8]) -> String {
    format!("{:02x?}", key)
}

fn error_text(err: &StoreError) -> String {
    match err {
        StoreError::Corrupt(message) => message.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::Ingester;
    use crate::ontology::Ontology;

    const BATCH: &str = concat!(
        r#"{"article":{"id":"a1","published":"2024-01-02"},"entities":[{"ref":"k","kind":"Person","name":"Kim Jong Un","aliases":["Kim Jong-un"],"country":"North Korea","title":"Leader"},{"ref":"v","kind":"Place","name":"Vostochny","country":"Russia"}],"facts":[{"type":"meeting","participants":["k","Vladimir Putin"],"place":"v","date":"2023-09-13","confidence":0.9}]}"#,
        "\n",
        r#"{"article":{"id":"a2","published":"2024-01-03"},"facts":[{"type":"gift","giver":"Vladimir Putin","recipient":"kim jong-un","items":["rifle"]}]}"#,
        "\n"
    );

    fn ingested() -> Store {
        let store = Store::temporary().expect("temporary store");
        let mut ingester = Ingester::new(&store, Ontology::embedded(), None).expect("ingester");
        ingester.ingest("t.jsonl", BATCH.as_bytes(), &|_| {}, &mut |d| panic!("{d}")).expect("ingest");
        ingester.finish().expect("finish");
        store
    }

    #[test]
    fn an_ingested_store_has_no_problems() {
        let store = ingested();
        let report = check_store(&store).expect("check runs");
        assert_eq!(report.problems, Vec::new());
        assert_eq!(report.format_version, Some(FORMAT_VERSION));
        let stats = store.stats().expect("stats");
        assert_eq!((report.nodes, report.edges), (stats.nodes, stats.edges));
    }

    #[test]
    fn an_empty_store_has_no_problems() {
        let store = Store::temporary().expect("temporary store");
        assert!(check_store(&store).expect("check runs").is_ok());
    }
}
