//! A write transaction: an in-memory overlay of pending writes that reads see
//! (read-your-writes), applied to sled as one atomic batch on `commit`.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use super::{codec, decode_adjacent, keys, Adjacent, Counters, Direction, Stats, Store, StoreError};
use crate::model::{normalize_name, EdgeId, EdgeRecord, NodeId, NodeRecord, Properties};

pub struct WriteTxn<'s> {
    store: &'s Store,
    /// Pending writes: `Some(value)` inserts, `None` removes.
    pending: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    stats: Stats,
    counters: Counters,
    /// Decoded lookups kept for the whole ingest (resolution hits the same entities and
    /// event keys over and over); every mutation below keeps them true.
    cache: RefCell<LookupCache>,
}

/// A key and its value, as a prefix scan returns them.
type KeyValue = (Vec<u8>, Vec<u8>);

/// Entries above which a cache is dropped and refilled, to bound memory on huge ingests.
const CACHE_LIMIT: usize = 1_000_000;

#[derive(Default)]
struct LookupCache {
    nodes: HashMap<NodeId, Option<NodeRecord>>,
    keys: HashMap<String, Vec<NodeId>>,
    names: HashMap<String, Vec<(NodeId, String)>>,
}

impl LookupCache {
    fn remember_node(&mut self, id: NodeId, record: Option<NodeRecord>) {
        if self.nodes.len() >= CACHE_LIMIT {
            self.nodes.clear();
        }
        self.nodes.insert(id, record);
    }

    /// Drops the cached lookups a node's key and names answer, so they are re-read.
    fn forget_lookups(&mut self, record: &NodeRecord) {
        if let Some(key) = record.key() {
            self.keys.remove(key);
        }
        for name in entity_names(record) {
            self.names.remove(&normalize_name(&name));
        }
    }
}

impl<'s> WriteTxn<'s> {
    pub(super) fn new(store: &'s Store) -> Result<Self, StoreError> {
        Ok(WriteTxn {
            store,
            pending: BTreeMap::new(),
            stats: store.stats()?,
            counters: store.counters()?,
            cache: RefCell::new(LookupCache::default()),
        })
    }

    /// Number of pending key writes, to bound a batch's size.
    pub fn pending_writes(&self) -> usize {
        self.pending.len()
    }

    /// Applies every pending write as one atomic sled batch (not yet flushed) and
    /// leaves the transaction empty for more work.
    pub fn commit(&mut self) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.put(keys::META_STATS.to_vec(), codec::encode(&self.stats)?);
        self.put(keys::META_COUNTERS.to_vec(), codec::encode(&self.counters)?);
        let mut batch = sled::Batch::default();
        for (key, value) in std::mem::take(&mut self.pending) {
            match value {
                Some(value) => batch.insert(key, value),
                None => batch.remove(key),
            }
        }
        let _gate = self.store.write_gate();
        self.store.db.apply_batch(batch)?;
        Ok(())
    }

    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.pending.insert(key, Some(value));
    }

    fn delete(&mut self, key: Vec<u8>) {
        self.pending.insert(key, None);
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match self.pending.get(key) {
            Some(value) => Ok(value.clone()),
            None => Ok(self.store.db.get(key)?.map(|v| v.to_vec())),
        }
    }

    /// Prefix scan over sled merged with the pending overlay.
    fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<KeyValue>, StoreError> {
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        for item in self.store.db.scan_prefix(prefix) {
            let (key, value) = item?;
            merged.insert(key.to_vec(), value.to_vec());
        }
        let range = self.pending.range::<[u8], _>((Bound::Included(prefix), Bound::Unbounded));
        for (key, value) in range.take_while(|(key, _)| key.starts_with(prefix)) {
            match value {
                Some(value) => merged.insert(key.clone(), value.clone()),
                None => merged.remove(key),
            };
        }
        Ok(merged.into_iter().collect())
    }

    pub fn node(&self, id: NodeId) -> Result<Option<NodeRecord>, StoreError> {
        if let Some(cached) = self.cache.borrow().nodes.get(&id) {
            return Ok(cached.clone());
        }
        let record: Option<NodeRecord> = match self.get(&keys::node(id))? {
            Some(bytes) => Some(codec::decode(&bytes, "a node")?),
            None => None,
        };
        self.cache.borrow_mut().remember_node(id, record.clone());
        Ok(record)
    }

    pub fn edge(&self, id: EdgeId) -> Result<Option<EdgeRecord>, StoreError> {
        match self.get(&keys::edge(id))? {
            Some(bytes) => codec::decode(&bytes, "an edge").map(Some),
            None => Ok(None),
        }
    }

    pub fn nodes_with_key(&self, id: &str) -> Result<Vec<NodeId>, StoreError> {
        if let Some(cached) = self.cache.borrow().keys.get(id) {
            return Ok(cached.clone());
        }
        let found = self
            .scan_prefix(&keys::by_key_prefix(id))?
            .iter()
            .map(|(key, _)| keys::trailing_id(key).ok_or_else(|| StoreError::Corrupt("malformed id index key".into())))
            .collect::<Result<Vec<_>, _>>()?;
        let mut cache = self.cache.borrow_mut();
        if cache.keys.len() >= CACHE_LIMIT {
            cache.keys.clear();
        }
        cache.keys.insert(id.to_string(), found.clone());
        Ok(found)
    }

    /// Entities whose name or alias normalises to `normalised`, with their kind.
    pub fn entities_named(&self, normalised: &str) -> Result<Vec<(NodeId, String)>, StoreError> {
        if let Some(cached) = self.cache.borrow().names.get(normalised) {
            return Ok(cached.clone());
        }
        let found = self
            .scan_prefix(&keys::by_name_prefix(normalised))?
            .into_iter()
            .map(|(key, kind)| {
                let id =
                    keys::trailing_id(&key).ok_or_else(|| StoreError::Corrupt("malformed name index key".into()))?;
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

    pub fn adjacent(
        &self,
        node: NodeId,
        direction: Direction,
        edge_type: Option<&str>,
    ) -> Result<Vec<Adjacent>, StoreError> {
        self.scan_prefix(&keys::adjacency_prefix(direction.keyspace(), node, edge_type))?
            .iter()
            .map(|(key, value)| decode_adjacent(key, value))
            .collect()
    }

    /// Creates a node, indexing its labels, its string `id` and (for entities) its
    /// normalised name and aliases under `entity_kind`.
    pub fn create_node(&mut self, record: NodeRecord, entity_kind: Option<&str>) -> Result<NodeId, StoreError> {
        let id = self.counters.next_node;
        self.counters.next_node += 1;
        self.stats.nodes += 1;
        for label in &record.labels {
            Stats::bump(&mut self.stats.labels, label, 1);
            self.put(keys::label(label, id), Vec::new());
        }
        if let Some(key) = record.key() {
            self.put(keys::by_key(key, id), Vec::new());
        }
        if let Some(kind) = entity_kind {
            for name in entity_names(&record) {
                self.put(keys::by_name(&normalize_name(&name), id), kind.as_bytes().to_vec());
            }
        }
        self.put(keys::node(id).to_vec(), codec::encode(&record)?);
        // New nodes are not cached: most are events and articles, read again rarely; the
        // entities that resolution reads over and over enter the cache on their first read.
        self.cache.borrow_mut().forget_lookups(&record);
        Ok(id)
    }

    /// Replaces an entity's properties (labels and `id` stay), re-indexing its names.
    pub fn update_entity(&mut self, id: NodeId, record: NodeRecord, kind: &str) -> Result<(), StoreError> {
        if let Some(old) = self.node(id)? {
            for name in entity_names(&old) {
                self.delete(keys::by_name(&normalize_name(&name), id));
            }
            self.cache.borrow_mut().forget_lookups(&old);
        }
        for name in entity_names(&record) {
            self.put(keys::by_name(&normalize_name(&name), id), kind.as_bytes().to_vec());
        }
        self.put(keys::node(id).to_vec(), codec::encode(&record)?);
        let mut cache = self.cache.borrow_mut();
        cache.forget_lookups(&record);
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
        for label in &record.labels {
            Stats::bump(&mut self.stats.labels, label, -1);
            self.delete(keys::label(label, id));
        }
        if let Some(key) = record.key() {
            self.delete(keys::by_key(key, id));
        }
        for name in entity_names(&record) {
            self.delete(keys::by_name(&normalize_name(&name), id));
        }
        self.delete(keys::node(id).to_vec());
        self.stats.nodes = self.stats.nodes.saturating_sub(1);
        let mut cache = self.cache.borrow_mut();
        cache.forget_lookups(&record);
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
        self.put(keys::adjacency(keys::OUT, src, edge_type, id), dst.to_be_bytes().to_vec());
        self.put(keys::adjacency(keys::IN, dst, edge_type, id), src.to_be_bytes().to_vec());
        let record = EdgeRecord { edge_type: edge_type.to_string(), src, dst, props };
        self.put(keys::edge(id).to_vec(), codec::encode(&record)?);
        Ok(id)
    }

    pub fn delete_edge(&mut self, id: EdgeId) -> Result<(), StoreError> {
        let Some(record) = self.edge(id)? else { return Ok(()) };
        self.delete(keys::adjacency(keys::OUT, record.src, &record.edge_type, id));
        self.delete(keys::adjacency(keys::IN, record.dst, &record.edge_type, id));
        self.delete(keys::edge(id).to_vec());
        self.stats.edges = self.stats.edges.saturating_sub(1);
        Stats::bump(&mut self.stats.edge_types, &record.edge_type, -1);
        Ok(())
    }
}

/// The names an entity is found by: its `name` and each of its `aliases`.
fn entity_names(record: &NodeRecord) -> Vec<String> {
    let mut names = Vec::new();
    if let Some(name) = record.props.get("name").and_then(|v| v.as_str()) {
        names.push(name.to_string());
    }
    if let Some(crate::model::Value::List(aliases)) = record.props.get("aliases") {
        names.extend(aliases.iter().filter_map(|a| a.as_str()).map(str::to_string));
    }
    names
}
