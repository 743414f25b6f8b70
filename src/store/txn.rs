//! A write transaction: the pages, chunks and index postings it changes are held decoded
//! in memory (its own reads see them) and written to sled as one atomic batch on `commit`.

use std::cell::RefCell;
use std::collections::hash_map::Entry;
use std::collections::BTreeMap;

use rustc_hash::FxHashMap;
use std::sync::Arc;

use super::key_index::{self, Posting, RunInfo};
use super::page::{self, page_number, slot_number, AdjEntry, AdjList, NodeAdjacency, PAGE_SLOTS};
use super::{codec, keys, Adjacent, Counters, Direction, Stats, Store, StoreError, Symbols};
use crate::model::{normalize_name, EdgeId, EdgeRecord, NodeId, NodeRecord, Properties};

pub struct WriteTxn<'s> {
    store: &'s Store,
    stats: Stats,
    counters: Counters,
    symbols: Symbols,
    symbols_changed: bool,
    /// Runs of the `id` index as stored (oldest first).
    runs: Vec<RunInfo>,
    /// Pages and chunks changed since the last commit, decoded. An empty chunk or id list
    /// is deleted on commit.
    node_pages: FxHashMap<u64, Vec<Vec<u8>>>,
    edge_pages: FxHashMap<u64, Vec<Vec<u8>>>,
    adjacency_pages: FxHashMap<u64, Vec<NodeAdjacency>>,
    label_chunks: FxHashMap<String, FxHashMap<u64, Vec<NodeId>>>,
    chunks: Chunks,
    /// The last chunk key of each spilled (node, direction, type), once known.
    tails: FxHashMap<(NodeId, u8, u32), EdgeId>,
    /// Name index writes: `Some(kind)` inserts, `None` removes.
    names: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Source-id index writes (event ids of imported datasets): `Some(event)` sets, `None` removes.
    source_ids: BTreeMap<String, Option<NodeId>>,
    /// `id` index postings since the last commit, in order.
    postings: Vec<Posting>,
    /// The whole `id` index, loaded on first use and kept for the transaction's life.
    key_index: RefCell<Option<KeyIndex>>,
    cache: RefCell<LookupCache>,
}

/// The `id` index in memory: the stored runs, plus this commit's postings by hash.
#[derive(Default)]
struct KeyIndex {
    runs: Vec<Vec<Posting>>,
    pending: FxHashMap<u64, Vec<Posting>>,
}

/// An adjacency chunk's key fields: node, direction byte, type symbol, first edge.
type ChunkKey = (NodeId, u8, u32, EdgeId);
/// Adjacency chunks by key: (edge, other node) pairs.
type Chunks = BTreeMap<ChunkKey, Vec<(EdgeId, NodeId)>>;

/// Entries above which a cache is dropped and refilled, to bound memory on huge ingests.
const CACHE_LIMIT: usize = 20_000;

/// Decoded lookups kept for the whole ingest (resolution hits the same entities over and
/// over); every mutation below keeps them true.
#[derive(Default)]
struct LookupCache {
    nodes: FxHashMap<NodeId, Option<NodeRecord>>,
    names: FxHashMap<String, Vec<(NodeId, String)>>,
}

impl LookupCache {
    fn remember_node(&mut self, id: NodeId, record: Option<NodeRecord>) {
        if self.nodes.len() >= CACHE_LIMIT {
            self.nodes.clear();
        }
        self.nodes.insert(id, record);
    }

    /// Drops the cached lookups a node's names answer, so they are re-read.
    fn forget_names(&mut self, record: &NodeRecord) {
        for name in record.entity_names() {
            self.names.remove(&normalize_name(&name));
        }
    }
}

fn list_mut(adjacency: &mut NodeAdjacency, direction: Direction) -> &mut AdjList {
    match direction {
        Direction::Out => &mut adjacency.out,
        Direction::In => &mut adjacency.incoming,
    }
}

fn list_of(adjacency: NodeAdjacency, direction: Direction) -> AdjList {
    match direction {
        Direction::Out => adjacency.out,
        Direction::In => adjacency.incoming,
    }
}

/// An event's `source_ids` property: the imported dataset ids the source-id index maps to it.
pub fn source_ids_of(record: &NodeRecord) -> Vec<String> {
    match record.props.get("source_ids") {
        Some(crate::model::Value::List(ids)) => ids.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} does not decode"))
}

impl<'s> WriteTxn<'s> {
    pub(super) fn new(store: &'s Store) -> Result<Self, StoreError> {
        Ok(WriteTxn {
            store,
            stats: store.stats()?,
            counters: store.counters()?,
            symbols: (*store.symbols()).clone(),
            symbols_changed: false,
            runs: store.key_runs()?,
            node_pages: FxHashMap::default(),
            edge_pages: FxHashMap::default(),
            adjacency_pages: FxHashMap::default(),
            label_chunks: FxHashMap::default(),
            chunks: BTreeMap::new(),
            tails: FxHashMap::default(),
            names: BTreeMap::new(),
            source_ids: BTreeMap::new(),
            postings: Vec::new(),
            key_index: RefCell::new(None),
            cache: RefCell::new(LookupCache::default()),
        })
    }

    /// Number of pages, chunks and index entries changed since the last commit, to bound a
    /// batch's size.
    pub fn pending_writes(&self) -> usize {
        self.node_pages.len()
            + self.edge_pages.len()
            + self.adjacency_pages.len()
            + self.label_chunks.values().map(FxHashMap::len).sum::<usize>()
            + self.chunks.len()
            + self.names.len()
            + self.source_ids.len()
            + self.postings.len() / key_index::BLOCK_POSTINGS
    }

    fn has_changes(&self) -> bool {
        self.pending_writes() > 0 || !self.postings.is_empty() || self.symbols_changed
    }

    /// Applies every change as one atomic sled batch (not yet flushed) and leaves the
    /// transaction empty for more work.
    pub fn commit(&mut self) -> Result<(), StoreError> {
        if !self.has_changes() {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        for (number, slots) in self.node_pages.drain() {
            put_page(&mut batch, &keys::node_page(number), &slots);
        }
        for (number, slots) in self.edge_pages.drain() {
            put_page(&mut batch, &keys::edge_page(number), &slots);
        }
        for (number, slots) in self.adjacency_pages.drain() {
            let encoded: Vec<Vec<u8>> = slots.iter().map(NodeAdjacency::encode).collect();
            put_page(&mut batch, &keys::adjacency_page(number), &encoded);
        }
        for (label, chunks) in self.label_chunks.drain() {
            for (chunk, ids) in chunks {
                let key = keys::label_chunk(&label, chunk);
                if ids.is_empty() {
                    batch.remove(key);
                } else {
                    batch.insert(key, page::encode_ids(&ids));
                }
            }
        }
        for ((node, direction, sym, first), entries) in std::mem::take(&mut self.chunks) {
            let key = keys::adjacency_chunk(node, direction, sym, first);
            if entries.is_empty() {
                batch.remove(key);
            } else {
                batch.insert(key, page::encode_chunk(&entries));
            }
        }
        for (key, value) in std::mem::take(&mut self.names) {
            match value {
                Some(kind) => batch.insert(key, kind),
                None => batch.remove(key),
            }
        }
        for (id, event) in std::mem::take(&mut self.source_ids) {
            match event {
                Some(event) => batch.insert(keys::source_id(&id), &event.to_be_bytes()),
                None => batch.remove(keys::source_id(&id)),
            }
        }
        self.write_key_index(&mut batch)?;
        if self.symbols_changed {
            batch.insert(keys::META_SYMBOLS, codec::encode(&self.symbols.names())?);
        }
        batch.insert(keys::META_STATS, codec::encode(&self.stats)?);
        batch.insert(keys::META_COUNTERS, codec::encode(&self.counters)?);
        let _gate = self.store.write_gate();
        let applied = self.store.db.apply_batch(batch);
        self.store.forget_pages();
        applied?;
        if std::mem::take(&mut self.symbols_changed) {
            self.store.set_symbols(Arc::new(self.symbols.clone()));
        }
        Ok(())
    }

    /// Writes this commit's `id` postings as a new run, merging it with the newest stored
    /// runs while the older is at most twice its size (a binary counter: about log2(commits)
    /// runs, each posting rewritten about that often).
    fn write_key_index(&mut self, batch: &mut sled::Batch) -> Result<(), StoreError> {
        if self.postings.is_empty() {
            return Ok(());
        }
        self.load_key_index()?;
        let mut slot = self.key_index.borrow_mut();
        let index = slot.get_or_insert_with(KeyIndex::default);
        index.pending.clear();
        let mut run = std::mem::take(&mut self.postings);
        run.sort_unstable();
        while let Some(older) = self.runs.last() {
            if older.postings > (run.len() as u64).saturating_mul(2) {
                break;
            }
            let older = self.runs.pop().unwrap_or_default();
            for item in self.store.db.scan_prefix(keys::key_run_prefix(older.id)) {
                batch.remove(item?.0);
            }
            let older_postings = index.runs.pop().unwrap_or_default();
            run = key_index::merge(&older_postings, &run, self.runs.is_empty());
        }
        if self.runs.is_empty() {
            // The oldest run holds no removals, merged or not (an article added and replaced
            // within the first commit leaves an addition and its removal).
            run = key_index::merge(&[], &run, true);
        }
        if !run.is_empty() {
            let id = self.counters.next_run;
            self.counters.next_run += 1;
            for (first_hash, bytes) in key_index::blocks(&run) {
                batch.insert(&keys::key_run_block(id, first_hash), bytes);
            }
            self.runs.push(RunInfo { id, postings: run.len() as u64 });
            index.runs.push(run);
        }
        batch.insert(keys::META_RUNS, codec::encode(&self.runs)?);
        Ok(())
    }

    /// Reads every stored run of the `id` index into memory (once).
    fn load_key_index(&self) -> Result<(), StoreError> {
        if self.key_index.borrow().is_some() {
            return Ok(());
        }
        let mut index = KeyIndex::default();
        for run in &self.runs {
            let mut postings = Vec::with_capacity(run.postings as usize);
            for item in self.store.db.scan_prefix(keys::key_run_prefix(run.id)) {
                let (_, block) = item?;
                postings.extend(key_index::decode_block(&block).ok_or_else(|| corrupt("an id index block"))?);
            }
            index.runs.push(postings);
        }
        for posting in &self.postings {
            index.pending.entry(posting.hash).or_default().push(*posting);
        }
        *self.key_index.borrow_mut() = Some(index);
        Ok(())
    }

    fn add_posting(&mut self, posting: Posting) {
        self.postings.push(posting);
        if let Some(index) = self.key_index.get_mut() {
            index.pending.entry(posting.hash).or_default().push(posting);
        }
    }

    pub fn node(&self, id: NodeId) -> Result<Option<NodeRecord>, StoreError> {
        self.with_node(id, |record| record.cloned())
    }

    /// Runs `read` on node `id`'s record without copying it (resolution reads the same
    /// entities over and over).
    pub fn with_node<R>(&self, id: NodeId, read: impl FnOnce(Option<&NodeRecord>) -> R) -> Result<R, StoreError> {
        if let Some(cached) = self.cache.borrow().nodes.get(&id) {
            return Ok(read(cached.as_ref()));
        }
        let record = match self.node_pages.get(&page_number(id)) {
            Some(slots) => match &slots[slot_number(id)] {
                bytes if bytes.is_empty() => None,
                bytes => Some(codec::decode(bytes, "a node")?),
            },
            None => self.store.node(id)?,
        };
        let result = read(record.as_ref());
        self.cache.borrow_mut().remember_node(id, record);
        Ok(result)
    }

    pub fn edge(&self, id: EdgeId) -> Result<Option<EdgeRecord>, StoreError> {
        match self.edge_pages.get(&page_number(id)) {
            Some(slots) => match &slots[slot_number(id)] {
                bytes if bytes.is_empty() => Ok(None),
                bytes => codec::decode(bytes, "an edge").map(Some),
            },
            None => self.store.edge(id),
        }
    }

    /// Nodes whose string `id` property equals `id`, from the in-memory `id` index.
    pub fn nodes_with_key(&self, id: &str) -> Result<Vec<NodeId>, StoreError> {
        self.load_key_index()?;
        let hash = key_index::hash_id(id);
        let mut found = Vec::new();
        if let Some(index) = self.key_index.borrow().as_ref() {
            for run in &index.runs {
                key_index::apply(&mut found, key_index::postings_in(run, hash));
            }
            if let Some(pending) = index.pending.get(&hash) {
                key_index::apply(&mut found, pending.iter().copied());
            }
        }
        found.sort_unstable();
        let mut confirmed = Vec::with_capacity(found.len());
        for node in found {
            if self.with_node(node, |record| record.is_some_and(|record| record.key() == Some(id)))? {
                confirmed.push(node);
            }
        }
        Ok(confirmed)
    }

    /// The event an imported dataset's event id (`gdelt:…`) became, as this transaction sees it.
    pub fn source_id_node(&self, id: &str) -> Result<Option<NodeId>, StoreError> {
        match self.source_ids.get(id) {
            Some(pending) => Ok(*pending),
            None => self.store.source_id_node(id),
        }
    }

    /// Points a source id at an event (the last event to claim an id keeps it).
    pub fn set_source_id(&mut self, id: &str, event: NodeId) {
        self.source_ids.insert(id.to_string(), Some(event));
    }

    /// Replaces an event's properties (its labels, `id` and edges stay), e.g. to add the
    /// source ids of another report.
    pub fn update_event(&mut self, id: NodeId, record: NodeRecord) -> Result<(), StoreError> {
        if let Some(old) = self.node(id)? {
            self.stats.count_properties(&old, -1);
        }
        self.stats.count_properties(&record, 1);
        *self.node_slot_mut(id)? = codec::encode(&record)?;
        self.cache.borrow_mut().remember_node(id, Some(record));
        Ok(())
    }

    /// Entities whose name or alias normalises to `normalised`, with their kind.
    pub fn entities_named(&self, normalised: &str) -> Result<Vec<(NodeId, String)>, StoreError> {
        if let Some(cached) = self.cache.borrow().names.get(normalised) {
            return Ok(cached.clone());
        }
        let prefix = keys::by_name_prefix(normalised);
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        for item in self.store.db.scan_prefix(&prefix) {
            let (key, kind) = item?;
            merged.insert(key.to_vec(), kind.to_vec());
        }
        for (key, value) in self.names.range(prefix.clone()..).take_while(|(key, _)| key.starts_with(&prefix)) {
            match value {
                Some(kind) => merged.insert(key.clone(), kind.clone()),
                None => merged.remove(key),
            };
        }
        let found = merged
            .into_iter()
            .map(|(key, kind)| {
                let id = keys::trailing_id(&key).ok_or_else(|| corrupt("a name index key"))?;
                Ok((id, String::from_utf8_lossy(&kind).into_owned()))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let mut cache = self.cache.borrow_mut();
        if cache.names.len() >= CACHE_LIMIT {
            cache.names.clear();
        }
        cache.names.insert(normalised.to_string(), found.clone());
        Ok(found)
    }

    fn adjacency(&self, node: NodeId) -> Result<NodeAdjacency, StoreError> {
        match self.adjacency_pages.get(&page_number(node)) {
            Some(slots) => Ok(slots[slot_number(node)].clone()),
            None => self.store.adjacency(node),
        }
    }

    pub fn adjacent(
        &self,
        node: NodeId,
        direction: Direction,
        edge_type: Option<&str>,
    ) -> Result<Vec<Adjacent>, StoreError> {
        let sym = match edge_type.map(|t| self.symbols.id(t)) {
            Some(None) => return Ok(Vec::new()),
            Some(Some(sym)) => Some(sym),
            None => None,
        };
        let list = list_of(self.adjacency(node)?, direction);
        let entries: Vec<AdjEntry> = if list.spilled {
            self.spilled_chunks(node, direction, sym)?
                .into_iter()
                .flat_map(|((_, _, sym, _), pairs)| {
                    pairs.into_iter().map(move |(edge, other)| AdjEntry { sym, edge, other })
                })
                .collect()
        } else {
            list.entries.into_iter().filter(|e| sym.map_or(true, |s| e.sym == s)).collect()
        };
        entries
            .into_iter()
            .map(|e| Ok(Adjacent { edge: e.edge, edge_type: self.symbols.name(e.sym)?.to_string(), other: e.other }))
            .collect()
    }

    /// The chunks of a spilled list as stored, overlaid with this commit's changes.
    fn spilled_chunks(&self, node: NodeId, direction: Direction, sym: Option<u32>) -> Result<Chunks, StoreError> {
        let direction = direction.key_byte();
        let prefix = keys::adjacency_chunk_prefix(node, direction, sym);
        let mut merged = BTreeMap::new();
        for item in self.store.db.scan_prefix(&prefix) {
            let (key, value) = item?;
            let key = keys::parse_adjacency_chunk(&key).ok_or_else(|| corrupt("an adjacency chunk key"))?;
            merged.insert(key, page::decode_chunk(&value).ok_or_else(|| corrupt("an adjacency chunk"))?);
        }
        let (low, high) = match sym {
            Some(sym) => (sym, sym),
            None => (0, u32::MAX),
        };
        for (key, entries) in self.chunks.range((node, direction, low, 0)..=(node, direction, high, EdgeId::MAX)) {
            if entries.is_empty() {
                merged.remove(key);
            } else {
                merged.insert(*key, entries.clone());
            }
        }
        Ok(merged)
    }

    fn node_slot_mut(&mut self, id: NodeId) -> Result<&mut Vec<u8>, StoreError> {
        slot_mut(self.store, &mut self.node_pages, keys::node_page, "a node page", id)
    }

    fn edge_slot_mut(&mut self, id: EdgeId) -> Result<&mut Vec<u8>, StoreError> {
        slot_mut(self.store, &mut self.edge_pages, keys::edge_page, "an edge page", id)
    }

    fn adjacency_mut(&mut self, node: NodeId) -> Result<&mut NodeAdjacency, StoreError> {
        let slots = match self.adjacency_pages.entry(page_number(node)) {
            Entry::Occupied(page) => page.into_mut(),
            Entry::Vacant(page) => {
                let key = keys::adjacency_page(*page.key());
                let decoded = load_page(self.store, &key, "an adjacency page")?
                    .iter()
                    .map(|bytes| NodeAdjacency::decode(bytes).ok_or_else(|| corrupt("an adjacency slot")))
                    .collect::<Result<Vec<_>, _>>()?;
                page.insert(decoded)
            }
        };
        Ok(&mut slots[slot_number(node)])
    }

    fn label_chunk_mut(&mut self, label: &str, id: NodeId) -> Result<&mut Vec<NodeId>, StoreError> {
        let chunk = id / page::LABEL_SPAN;
        if !self.label_chunks.contains_key(label) {
            self.label_chunks.insert(label.to_string(), FxHashMap::default());
        }
        let Some(chunks) = self.label_chunks.get_mut(label) else { unreachable!("inserted above") };
        match chunks.entry(chunk) {
            Entry::Occupied(ids) => Ok(ids.into_mut()),
            Entry::Vacant(slot) => {
                let ids = match self.store.db.get(keys::label_chunk(label, chunk))? {
                    Some(bytes) => page::decode_ids(&bytes).ok_or_else(|| corrupt("a label chunk"))?,
                    None => Vec::new(),
                };
                Ok(slot.insert(ids))
            }
        }
    }

    fn chunk_mut(&mut self, key: ChunkKey) -> Result<&mut Vec<(EdgeId, NodeId)>, StoreError> {
        match self.chunks.entry(key) {
            std::collections::btree_map::Entry::Occupied(entries) => Ok(entries.into_mut()),
            std::collections::btree_map::Entry::Vacant(slot) => {
                let (node, direction, sym, first) = key;
                let entries = match self.store.db.get(keys::adjacency_chunk(node, direction, sym, first))? {
                    Some(bytes) => page::decode_chunk(&bytes).ok_or_else(|| corrupt("an adjacency chunk"))?,
                    None => Vec::new(),
                };
                Ok(slot.insert(entries))
            }
        }
    }

    fn intern(&mut self, edge_type: &str) -> u32 {
        let before = self.symbols.len();
        let sym = self.symbols.intern(edge_type);
        self.symbols_changed |= self.symbols.len() != before;
        sym
    }

    /// Creates a node, indexing its labels, its string `id` and (for entities) its
    /// normalised name and aliases under `entity_kind`.
    pub fn create_node(&mut self, record: NodeRecord, entity_kind: Option<&str>) -> Result<NodeId, StoreError> {
        let id = self.counters.next_node;
        self.counters.next_node += 1;
        self.stats.nodes += 1;
        self.stats.count_properties(&record, 1);
        for label in &record.labels {
            Stats::bump(&mut self.stats.labels, label, 1);
            let ids = self.label_chunk_mut(label, id)?;
            match ids.last() {
                Some(&last) if last > id => {
                    let at = ids.partition_point(|&n| n < id);
                    ids.insert(at, id);
                }
                _ => ids.push(id),
            }
        }
        if let Some(key) = record.key() {
            self.add_posting(Posting::added(key_index::hash_id(key), id));
        }
        if let Some(kind) = entity_kind {
            for name in record.entity_names() {
                self.names.insert(keys::by_name(&normalize_name(&name), id), Some(kind.as_bytes().to_vec()));
            }
        }
        *self.node_slot_mut(id)? = codec::encode(&record)?;
        // New nodes are not cached: most are events and articles, read again rarely; the
        // entities that resolution reads over and over enter the cache on their first read.
        self.cache.borrow_mut().forget_names(&record);
        Ok(id)
    }

    /// Replaces an entity's properties (labels and `id` stay), re-indexing its names.
    pub fn update_entity(&mut self, id: NodeId, record: NodeRecord, kind: &str) -> Result<(), StoreError> {
        if let Some(old) = self.node(id)? {
            self.stats.count_properties(&old, -1);
            for name in old.entity_names() {
                self.names.insert(keys::by_name(&normalize_name(&name), id), None);
            }
            self.cache.borrow_mut().forget_names(&old);
        }
        for name in record.entity_names() {
            self.names.insert(keys::by_name(&normalize_name(&name), id), Some(kind.as_bytes().to_vec()));
        }
        self.stats.count_properties(&record, 1);
        *self.node_slot_mut(id)? = codec::encode(&record)?;
        let mut cache = self.cache.borrow_mut();
        cache.forget_names(&record);
        cache.remember_node(id, Some(record));
        Ok(())
    }

    /// Deletes a node and every edge at it.
    pub fn delete_node(&mut self, id: NodeId) -> Result<(), StoreError> {
        let Some(record) = self.node(id)? else { return Ok(()) };
        for direction in [Direction::Out, Direction::In] {
            for adjacent in self.adjacent(id, direction, None)? {
                self.delete_edge(adjacent.edge)?;
            }
        }
        self.stats.count_properties(&record, -1);
        for label in &record.labels {
            Stats::bump(&mut self.stats.labels, label, -1);
            self.label_chunk_mut(label, id)?.retain(|&n| n != id);
        }
        if let Some(key) = record.key() {
            self.add_posting(Posting::removed(key_index::hash_id(key), id));
        }
        for name in record.entity_names() {
            self.names.insert(keys::by_name(&normalize_name(&name), id), None);
        }
        for source_id in source_ids_of(&record) {
            if self.source_id_node(&source_id)? == Some(id) {
                self.source_ids.insert(source_id, None);
            }
        }
        self.node_slot_mut(id)?.clear();
        *self.adjacency_mut(id)? = NodeAdjacency::default();
        self.stats.nodes = self.stats.nodes.saturating_sub(1);
        let mut cache = self.cache.borrow_mut();
        cache.forget_names(&record);
        cache.nodes.remove(&id);
        Ok(())
    }

    pub fn create_edge(
        &mut self,
        edge_type: &str,
        src: NodeId,
        dst: NodeId,
        props: Properties,
    ) -> Result<EdgeId, StoreError> {
        let id = self.counters.next_edge;
        self.counters.next_edge += 1;
        self.stats.edges += 1;
        Stats::bump(&mut self.stats.edge_types, edge_type, 1);
        let sym = self.intern(edge_type);
        let record = EdgeRecord { edge_type: edge_type.to_string(), src, dst, props };
        *self.edge_slot_mut(id)? = codec::encode(&record)?;
        self.link(src, Direction::Out, AdjEntry { sym, edge: id, other: dst })?;
        self.link(dst, Direction::In, AdjEntry { sym, edge: id, other: src })?;
        Ok(id)
    }

    pub fn delete_edge(&mut self, id: EdgeId) -> Result<(), StoreError> {
        let Some(record) = self.edge(id)? else { return Ok(()) };
        let sym = self.symbols.id(&record.edge_type).ok_or_else(|| corrupt("an edge's type"))?;
        self.unlink(record.src, Direction::Out, sym, id)?;
        self.unlink(record.dst, Direction::In, sym, id)?;
        self.edge_slot_mut(id)?.clear();
        self.stats.edges = self.stats.edges.saturating_sub(1);
        Stats::bump(&mut self.stats.edge_types, &record.edge_type, -1);
        Ok(())
    }

    /// Adds an entry to `node`'s list in `direction`: inline (kept in (type, edge) order)
    /// until the list outgrows `INLINE_LIMIT`, then in chunks per type.
    fn link(&mut self, node: NodeId, direction: Direction, entry: AdjEntry) -> Result<(), StoreError> {
        let list = list_mut(self.adjacency_mut(node)?, direction);
        if list.spilled {
            return self.append_spilled(node, direction, entry);
        }
        let at = list.entries.partition_point(|e| (e.sym, e.edge) < (entry.sym, entry.edge));
        list.entries.insert(at, entry);
        if list.entries.len() > page::INLINE_LIMIT {
            let entries = std::mem::take(&mut list.entries);
            list.spilled = true;
            for entry in entries {
                self.append_spilled(node, direction, entry)?;
            }
        }
        Ok(())
    }

    fn append_spilled(&mut self, node: NodeId, direction: Direction, entry: AdjEntry) -> Result<(), StoreError> {
        let tail_slot = (node, direction.key_byte(), entry.sym);
        let tail = match self.tails.get(&tail_slot) {
            Some(&first) => Some((node, direction.key_byte(), entry.sym, first)),
            None => self.spilled_chunks(node, direction, Some(entry.sym))?.into_keys().next_back(),
        };
        if let Some(key) = tail {
            let chunk = self.chunk_mut(key)?;
            if chunk.len() < page::CHUNK_LIMIT && chunk.last().map_or(true, |&(edge, _)| edge < entry.edge) {
                chunk.push((entry.edge, entry.other));
                self.tails.insert(tail_slot, key.3);
                return Ok(());
            }
        }
        self.chunks.insert((node, direction.key_byte(), entry.sym, entry.edge), vec![(entry.edge, entry.other)]);
        self.tails.insert(tail_slot, entry.edge);
        Ok(())
    }

    /// The chunk of a spilled list whose edge range holds `edge`: the one with the greatest
    /// first edge not above it, stored or changed in this commit (two seeks, no scan).
    fn chunk_holding(
        &self,
        node: NodeId,
        direction: Direction,
        sym: u32,
        edge: EdgeId,
    ) -> Result<Option<ChunkKey>, StoreError> {
        let d = direction.key_byte();
        let lowest = keys::adjacency_chunk(node, d, sym, 0);
        let target = keys::adjacency_chunk(node, d, sym, edge);
        let stored = match self.store.db.range(lowest..=target).next_back() {
            Some(item) => Some(keys::parse_adjacency_chunk(&item?.0).ok_or_else(|| corrupt("an adjacency chunk key"))?),
            None => None,
        };
        let changed = self.chunks.range((node, d, sym, 0)..=(node, d, sym, edge)).next_back().map(|(key, _)| *key);
        Ok(stored.max(changed))
    }

    /// Removes edge `edge` of type `sym` from `node`'s list in `direction`.
    fn unlink(&mut self, node: NodeId, direction: Direction, sym: u32, edge: EdgeId) -> Result<(), StoreError> {
        let list = list_mut(self.adjacency_mut(node)?, direction);
        if !list.spilled {
            list.entries.retain(|e| !(e.sym == sym && e.edge == edge));
            return Ok(());
        }
        if let Some(key) = self.chunk_holding(node, direction, sym, edge)? {
            let chunk = self.chunk_mut(key)?;
            chunk.retain(|&(e, _)| e != edge);
            if chunk.is_empty() {
                self.tails.remove(&(node, direction.key_byte(), sym));
            }
        }
        Ok(())
    }
}

/// Slot `id` of its page among `pages`, the page loaded from the store on first use.
fn slot_mut<'p>(
    store: &Store,
    pages: &'p mut FxHashMap<u64, Vec<Vec<u8>>>,
    key: fn(u64) -> [u8; 9],
    what: &str,
    id: u64,
) -> Result<&'p mut Vec<u8>, StoreError> {
    let slots = match pages.entry(page_number(id)) {
        Entry::Occupied(page) => page.into_mut(),
        Entry::Vacant(page) => {
            let key = key(*page.key());
            page.insert(load_page(store, &key, what)?)
        }
    };
    Ok(&mut slots[slot_number(id)])
}

/// A page's slots as stored, or all empty.
fn load_page(store: &Store, key: &[u8], what: &str) -> Result<Vec<Vec<u8>>, StoreError> {
    match store.db.get(key)? {
        Some(bytes) => page::decode_page(&bytes).ok_or_else(|| corrupt(what)),
        None => Ok(vec![Vec::new(); PAGE_SLOTS]),
    }
}

fn put_page(batch: &mut sled::Batch, key: &[u8], slots: &[Vec<u8>]) {
    if slots.iter().all(Vec::is_empty) {
        batch.remove(key);
    } else {
        batch.insert(key, page::encode_page(slots));
    }
}
