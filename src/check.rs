//! `check`: the store's integrity, like SQLite's `integrity_check` — every record decodes,
//! every index entry points at data that carries it, every record is in every index it
//! belongs to, the maintained counts and id counters agree, and the graph model holds.
//!
//! The check streams each keyspace once; it keeps one small class per node in memory
//! (not the records) plus the set of events that have a report.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use crate::ingest::resolve::entity_key;
use crate::model::{normalize_name, EdgeId, EdgeRecord, NodeId, NodeRecord, Value, ENTITY_KINDS};
use crate::store::{codec, keys, Direction, Stats, Store, StoreError, FORMAT_VERSION};

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
    checker.check_nodes()?;
    checker.check_edges()?;
    checker.check_label_index()?;
    checker.check_key_index()?;
    checker.check_name_index()?;
    checker.check_adjacency(Direction::Out)?;
    checker.check_adjacency(Direction::In)?;
    checker.check_other_keyspaces()?;
    checker.check_provenance();
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
        for item in self.store.scan_keyspace(keys::META) {
            let (key, _) = item?;
            if ![keys::META_VERSION, keys::META_COUNTERS, keys::META_STATS].contains(&&key[..]) {
                self.problem(Area::Keyspace, format!("unknown meta record {}", show_key(&key)));
            }
        }
        Ok(())
    }

    /// Every node decodes, has an `id`, and is in the label, id and (entities) name indexes.
    fn check_nodes(&mut self) -> Result<(), StoreError> {
        for item in self.store.scan_keyspace(keys::NODE) {
            let (key, value) = item?;
            self.report.nodes += 1;
            let Some(id) = exact_id(&key) else {
                self.problem(Area::Node, format!("malformed node key {}", show_key(&key)));
                continue;
            };
            self.max_node = self.max_node.max(Some(id));
            let record: NodeRecord = match codec::decode(&value, "a node") {
                Ok(record) => record,
                Err(err) => {
                    self.problem(Area::Node, format!("node {id}: {}", error_text(&err)));
                    self.nodes.insert(id, NodeClass::Undecodable);
                    continue;
                }
            };
            self.counted.nodes += 1;
            for label in &record.labels {
                *self.counted.labels.entry(label.clone()).or_insert(0) += 1;
            }
            let class = NodeClass::of(&record);
            self.nodes.insert(id, class);
            self.check_node(id, &record, class)?;
        }
        Ok(())
    }

    fn check_node(&mut self, id: NodeId, record: &NodeRecord, class: NodeClass) -> Result<(), StoreError> {
        let name = node_name(id, record);
        if record.labels.is_empty() {
            self.problem(Area::Node, format!("{name} has no label"));
        }
        for (i, label) in record.labels.iter().enumerate() {
            if record.labels[..i].contains(label) {
                self.problem(Area::Node, format!("{name} has the label {label} twice"));
            } else if self.store.raw_get(&keys::label(label, id))?.is_none() {
                self.problem(Area::LabelIndex, format!("{name} has label {label} but no label index entry"));
            }
        }
        match record.key() {
            Some(key) => {
                if self.store.raw_get(&keys::by_key(key, id))?.is_none() {
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
        for alias_or_name in entity_names(record) {
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

    /// Every edge decodes, joins existing nodes of the right classes and is in both adjacencies.
    fn check_edges(&mut self) -> Result<(), StoreError> {
        for item in self.store.scan_keyspace(keys::EDGE) {
            let (key, value) = item?;
            self.report.edges += 1;
            let Some(id) = exact_id(&key) else {
                self.problem(Area::Edge, format!("malformed edge key {}", show_key(&key)));
                continue;
            };
            self.max_edge = self.max_edge.max(Some(id));
            let record: EdgeRecord = match codec::decode(&value, "an edge") {
                Ok(record) => record,
                Err(err) => {
                    self.problem(Area::Edge, format!("edge {id}: {}", error_text(&err)));
                    continue;
                }
            };
            self.counted.edges += 1;
            *self.counted.edge_types.entry(record.edge_type.clone()).or_insert(0) += 1;
            self.check_edge(id, &record)?;
        }
        Ok(())
    }

    fn check_edge(&mut self, id: EdgeId, record: &EdgeRecord) -> Result<(), StoreError> {
        let what = format!("edge {id} ({} {} -> {})", record.edge_type, record.src, record.dst);
        for (direction, node, other) in [(keys::OUT, record.src, record.dst), (keys::IN, record.dst, record.src)] {
            let entry = self.store.raw_get(&keys::adjacency(direction, node, &record.edge_type, id))?;
            let side = if direction == keys::OUT { "out" } else { "in" };
            match entry {
                None => self.problem(Area::Adjacency, format!("{what} has no {side}-adjacency entry")),
                Some(value) if keys::read_u64(&value) != Some(other) || value.len() != 8 => self.problem(
                    Area::Adjacency,
                    format!("{what}: its {side}-adjacency entry names node {:02x?}", &value[..]),
                ),
                Some(_) => {}
            }
        }
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
        for item in self.store.scan_keyspace(keys::LABEL) {
            let (key, _) = item?;
            let Some((label, id)) = split_string_key(&key) else {
                self.problem(Area::LabelIndex, format!("malformed label index key {}", show_key(&key)));
                continue;
            };
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

    /// Every id entry names an existing node with that `id`; no two articles, events or
    /// entities of one kind share an id.
    fn check_key_index(&mut self) -> Result<(), StoreError> {
        let mut group: Option<KeyGroup> = None;
        for item in self.store.scan_keyspace(keys::BY_KEY) {
            let (key, _) = item?;
            let Some((string_id, id)) = split_string_key(&key) else {
                self.problem(Area::KeyIndex, format!("malformed id index key {}", show_key(&key)));
                continue;
            };
            if group.as_ref().is_some_and(|(current, _)| *current != string_id) {
                if let Some((current, members)) = group.take() {
                    self.check_shared_id(&current, &members);
                }
            }
            let members = &mut group.get_or_insert_with(|| (string_id.clone(), Vec::new())).1;
            match self.node_record(id)? {
                Lookup::Missing => {
                    self.problem(Area::KeyIndex, format!("id '{string_id}' points to node {id}, which does not exist"))
                }
                Lookup::Found(record) => {
                    if record.key() != Some(string_id.as_str()) {
                        self.problem(
                            Area::KeyIndex,
                            format!("id '{string_id}' points to {}, whose id differs", node_name(id, &record)),
                        );
                    }
                    members.push((id, record.labels));
                }
                Lookup::Undecodable => {}
            }
        }
        if let Some((current, members)) = group {
            self.check_shared_id(&current, &members);
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
            let names: Vec<String> = entity_names(&record).iter().map(|n| normalize_name(n)).collect();
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

    /// Every adjacency entry names an existing edge with the same endpoints and type.
    fn check_adjacency(&mut self, direction: Direction) -> Result<(), StoreError> {
        let (prefix, side) = match direction {
            Direction::Out => (keys::OUT, "out"),
            Direction::In => (keys::IN, "in"),
        };
        for item in self.store.scan_keyspace(prefix) {
            let (key, value) = item?;
            let parsed = keys::read_u64(key.get(1..).unwrap_or_default())
                .zip(keys::parse_adjacency(&key))
                .filter(|(_, (edge_type, _))| key.len() == 1 + 8 + 4 + edge_type.len() + 8);
            let (Some((node, (edge_type, edge))), Some(other)) =
                (parsed, keys::read_u64(&value).filter(|_| value.len() == 8))
            else {
                self.problem(
                    Area::Adjacency,
                    format!("malformed {side}-adjacency entry {} -> {:02x?}", show_key(&key), &value[..]),
                );
                continue;
            };
            let entry = format!("{side}-adjacency entry ({node} {edge_type} edge {edge} -> {other})");
            let record: EdgeRecord = match self.store.raw_get(&keys::edge(edge))? {
                None => {
                    self.problem(Area::Adjacency, format!("{entry} names an edge that does not exist"));
                    continue;
                }
                Some(bytes) => match codec::decode(&bytes, "an edge") {
                    Ok(record) => record,
                    Err(_) => continue, // reported by the edge pass
                },
            };
            let (here, there) = match direction {
                Direction::Out => (record.src, record.dst),
                Direction::In => (record.dst, record.src),
            };
            if record.edge_type != edge_type || here != node || there != other {
                self.problem(
                    Area::Adjacency,
                    format!("{entry} disagrees with the edge ({} {} -> {})", record.edge_type, record.src, record.dst),
                );
            }
        }
        Ok(())
    }

    /// Keys outside the known keyspaces are reported, one line per prefix byte.
    fn check_other_keyspaces(&mut self) -> Result<(), StoreError> {
        let known = [keys::META, keys::NODE, keys::EDGE, keys::LABEL, keys::OUT, keys::IN, keys::BY_KEY, keys::BY_NAME];
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

/// Id index entries that share one id string: the string, and each node with its labels.
type KeyGroup = (String, Vec<(NodeId, Vec<String>)>);
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

/// The names an entity is indexed by: its `name`, then each alias.
fn entity_names(record: &NodeRecord) -> Vec<String> {
    let mut names: Vec<String> =
        record.props.get("name").and_then(Value::as_str).map(str::to_string).into_iter().collect();
    if let Some(Value::List(aliases)) = record.props.get("aliases") {
        names.extend(aliases.iter().filter_map(Value::as_str).map(str::to_string));
    }
    names
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

    #[test]
    fn index_keys_split_only_when_exact() {
        let key = keys::by_key("person:kim", 7);
        assert_eq!(split_string_key(&key), Some(("person:kim".to_string(), 7)));
        assert_eq!(split_string_key(&key[..key.len() - 1]), None);
        let mut longer = key.clone();
        longer.push(0);
        assert_eq!(split_string_key(&longer), None);
    }
}
