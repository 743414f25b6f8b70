//! The sled store: one tree, keyspaces by prefix byte (see `keys`), packed values (see
//! `page`, `key_index`). Reads serve the query engine; `WriteTxn` is the only way to change
//! the graph.

pub mod codec;
pub mod compact;
pub mod key_index;
pub mod keys;
pub mod page;
mod txn;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::model::{normalize_name, EdgeId, EdgeRecord, NodeId, NodeRecord, Value};
use key_index::RunInfo;
use page::{page_number, slot_number, ListAt, NodeAdjacency};
pub use txn::{source_ids_of, WriteTxn};

/// The on-disk format this build reads and writes. Bump on any key or value change.
/// Version 2 packs records into pages and adjacency into pages and chunks (version 1 kept
/// one key per record and index entry).
pub const FORMAT_VERSION: u32 = 2;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the store at {0} is in use by another process; wait for it to finish or use another --db")]
    InUse(PathBuf),
    #[error(
        "no store at {0}; create one with `diplograph ingest FILE`, or point --db / DIPLOGRAPH_DB at an existing store"
    )]
    Missing(PathBuf),
    #[error("the store at {path} has format version {found}, this diplograph reads version {expected}; dump it with the diplograph that wrote it and restore it here")]
    VersionMismatch { path: PathBuf, found: u32, expected: u32 },
    #[error("{0} is not a diplograph store")]
    NotAStore(PathBuf),
    #[error("store I/O error: {0}")]
    Io(String),
    #[error("store is corrupt: {0}; run `diplograph check` for details")]
    Corrupt(String),
}

impl From<sled::Error> for StoreError {
    fn from(err: sled::Error) -> Self {
        match err {
            sled::Error::Io(io) => StoreError::Io(describe_io(&io)),
            sled::Error::Corruption { .. } => StoreError::Corrupt("sled reported corruption".into()),
            other => StoreError::Io(other.to_string()),
        }
    }
}

/// An I/O error as a sentence. sled sometimes wraps an OS error in a custom error whose text
/// is the Debug rendering (`Os { code: 27, kind: FileTooLarge, … }`); recover the OS message.
fn describe_io(io: &std::io::Error) -> String {
    if let Some(code) = io.raw_os_error() {
        return std::io::Error::from_raw_os_error(code).to_string();
    }
    let text = io.to_string();
    let code = text.split("code: ").nth(1).and_then(|rest| {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse::<i32>().ok()
    });
    match code {
        Some(code) => std::io::Error::from_raw_os_error(code).to_string(),
        None => text,
    }
}

/// Counts kept up to date by every write, so `stats` and the planner never scan.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub nodes: u64,
    pub edges: u64,
    pub labels: BTreeMap<String, u64>,
    pub edge_types: BTreeMap<String, u64>,
    /// For each `COUNTED_PROPERTIES` pair (label, then property): nodes per value.
    pub property_values: BTreeMap<String, BTreeMap<String, ValueCounts>>,
}

/// Properties whose values are few and often grouped by (`MATCH (e:Event) RETURN e.type,
/// count(*)`): every write keeps a count per value, so the planner answers such a query
/// from `Stats` without reading a node.
pub const COUNTED_PROPERTIES: &[(&str, &str)] =
    &[("Event", "type"), ("Event", "status"), ("Article", "outlet"), ("Article", "language")];

/// Nodes per string value of one counted property; `other` counts values that are not
/// strings (then the planner does not answer from the counts). Nodes without the property
/// are the label's count minus these.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueCounts {
    pub values: BTreeMap<String, u64>,
    pub other: u64,
}

impl Stats {
    /// Adds (`delta` 1) or removes (-1) a node's counted property values.
    pub fn count_properties(&mut self, record: &NodeRecord, delta: i64) {
        for (label, property) in COUNTED_PROPERTIES {
            let Some(value) = record.props.get(*property).filter(|_| record.has_label(label)) else { continue };
            let counts =
                self.property_values.entry(label.to_string()).or_default().entry(property.to_string()).or_default();
            match value {
                Value::Str(text) => Self::bump(&mut counts.values, text, delta),
                _ => counts.other = counts.other.saturating_add_signed(delta),
            }
            if counts.values.is_empty() && counts.other == 0 {
                if let Some(by_property) = self.property_values.get_mut(*label) {
                    by_property.remove(*property);
                    if by_property.is_empty() {
                        self.property_values.remove(*label);
                    }
                }
            }
        }
    }

    /// How many nodes with `label` have each value of `property`, `None` at the end for the
    /// nodes without it; `None` when the property is not counted or has non-string values.
    pub fn value_counts(&self, label: &str, property: &str) -> Option<Vec<(Option<String>, u64)>> {
        if !COUNTED_PROPERTIES.contains(&(label, property)) {
            return None;
        }
        let counts = self.property_values.get(label).and_then(|p| p.get(property)).cloned().unwrap_or_default();
        if counts.other > 0 {
            return None;
        }
        let with_value: u64 = counts.values.values().sum();
        let without = self.labels.get(label).copied().unwrap_or(0).saturating_sub(with_value);
        let mut rows: Vec<(Option<String>, u64)> = counts.values.into_iter().map(|(v, n)| (Some(v), n)).collect();
        if without > 0 {
            rows.push((None, without));
        }
        Some(rows)
    }

    fn bump(map: &mut BTreeMap<String, u64>, key: &str, delta: i64) {
        let count = map.entry(key.to_string()).or_insert(0);
        *count = count.saturating_add_signed(delta);
        if *count == 0 {
            map.remove(key);
        }
    }
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
struct Counters {
    next_node: NodeId,
    next_edge: EdgeId,
    next_run: u32,
}

/// Edge types by number: adjacency stores a type as a small symbol number.
#[derive(Clone, Debug, Default)]
pub struct Symbols {
    names: Vec<Arc<str>>,
    ids: HashMap<Arc<str>, u32>,
}

impl Symbols {
    fn from_names(names: Vec<String>) -> Symbols {
        let mut symbols = Symbols::default();
        for name in names {
            symbols.intern(&name);
        }
        symbols
    }

    pub fn id(&self, name: &str) -> Option<u32> {
        self.ids.get(name).copied()
    }

    pub fn name(&self, sym: u32) -> Result<&Arc<str>, StoreError> {
        self.names
            .get(sym as usize)
            .ok_or_else(|| StoreError::Corrupt(format!("adjacency names edge type number {sym}, which is not defined")))
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        let name: Arc<str> = Arc::from(name);
        self.names.push(name.clone());
        self.ids.insert(name, id);
        id
    }

    fn names(&self) -> Vec<String> {
        self.names.iter().map(|n| n.to_string()).collect()
    }
}

/// One adjacency entry: the edge, its type and the node at the other end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Adjacent {
    pub edge: EdgeId,
    pub edge_type: String,
    pub other: NodeId,
}

/// One adjacency entry as the query engine reads it: the edge type as its symbol number.
#[derive(Clone, Copy, Debug)]
pub struct AdjacentEntry {
    pub edge: EdgeId,
    pub other: NodeId,
    pub sym: u32,
}

/// The edge types a read follows, as this store numbers them (`Store::edge_types`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EdgeTypes {
    Any,
    /// Only these symbols (none: the types are not in the store, so nothing matches).
    Only(Vec<u32>),
}

impl EdgeTypes {
    fn admits(&self, sym: u32) -> bool {
        match self {
            EdgeTypes::Any => true,
            EdgeTypes::Only(syms) => syms.contains(&sym),
        }
    }
}

/// One label chunk as a bitmap (`Store::label_bits`).
#[derive(Clone, Debug)]
pub struct LabelBits {
    words: Vec<u64>,
}

impl LabelBits {
    /// Whether node `id` carries the label (`id` must fall in the chunk).
    pub fn contains(&self, id: NodeId) -> bool {
        let offset = (id % page::LABEL_SPAN) as usize;
        self.words.get(offset / 64).is_some_and(|w| w & (1 << (offset % 64)) != 0)
    }
}

/// Appends the `count` inline entries at `offset` of an adjacency slot that `types` admits;
/// `None` if the slot is malformed.
fn read_inline(
    slot: &[u8],
    offset: usize,
    count: usize,
    types: &EdgeTypes,
    out: &mut Vec<AdjacentEntry>,
) -> Option<()> {
    let mut rest = slot.get(offset..)?;
    for _ in 0..count {
        let entry = page::read_entry(&mut rest)?;
        if types.admits(entry.sym) {
            out.push(AdjacentEntry { edge: entry.edge, other: entry.other, sym: entry.sym });
        }
    }
    Some(())
}

/// Edge direction as seen from a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Out,
    In,
}

impl Direction {
    /// The direction byte in adjacency chunk keys.
    fn key_byte(self) -> u8 {
        match self {
            Direction::Out => keys::OUT,
            Direction::In => keys::IN,
        }
    }
}

type Entries<'a> = Box<dyn Iterator<Item = Result<AdjacentEntry, StoreError>> + 'a>;

pub struct Store {
    db: sled::Db,
    path: PathBuf,
    /// Queries hold it shared for their whole run and a commit holds it exclusively while it
    /// applies its batch, so a query in this process sees each article wholly or not at all.
    gate: std::sync::RwLock<()>,
    /// The edge-type table, replaced by each commit that adds a type.
    symbols: std::sync::RwLock<Arc<Symbols>>,
    /// Recently read pages (shared with sled, not copied): a hash lookup instead of a
    /// tree descent when a query reads the same pages over and over. Emptied by every commit.
    pages: std::sync::Mutex<PageCache>,
    /// What the store holds, as a number no other state of any store in this process has
    /// (`Store::generation`): drawn at open and again by every commit.
    generation: std::sync::atomic::AtomicU64,
}

/// Hands out generations, unique within the process.
static NEXT_GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn fresh_generation() -> u64 {
    NEXT_GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Two generations of recently read pages: when the young one fills up it becomes the old
/// one (the previous old one is dropped), and a page found in the old one moves back to the
/// young one, so pages in use survive and the cache never holds more than twice the limit.
#[derive(Default)]
struct PageCache {
    young: FxHashMap<[u8; 9], sled::IVec>,
    old: FxHashMap<[u8; 9], sled::IVec>,
}

impl PageCache {
    /// Pages per generation.
    const LIMIT: usize = 8192;

    fn get(&mut self, key: &[u8; 9]) -> Option<sled::IVec> {
        self.get_ref(key).cloned()
    }

    /// The cached page, borrowed: reading it this way leaves its reference count (a cache
    /// line of its own, usually cold) untouched.
    fn get_ref(&mut self, key: &[u8; 9]) -> Option<&sled::IVec> {
        if !self.young.contains_key(key) {
            let page = self.old.remove(key)?;
            self.put(*key, page);
        }
        self.young.get(key)
    }

    fn put(&mut self, key: [u8; 9], page: sled::IVec) {
        if self.young.len() >= Self::LIMIT {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.insert(key, page);
    }

    fn clear(&mut self) {
        self.young.clear();
        self.old.clear();
    }
}

/// zstd level for a compressed store's log (records repeat property names, ids and evidence).
const COMPRESSION_LEVEL: i32 = 3;

/// How to open a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenMode {
    /// Create the store if it does not exist (ingest, restore).
    CreateIfMissing,
    /// The same, a new store compressing sled's log with zstd (`ingest --compress`): about
    /// half the disk, a slower ingest and slower first reads of each page.
    CreateCompressedIfMissing,
    /// Fail when there is no store (query, stats, show …).
    MustExist,
    /// The same, for a command that reads the whole store once (check, dump): a small cache.
    MustExistScan,
}

impl Store {
    pub fn open(path: &Path, mode: OpenMode) -> Result<Store, StoreError> {
        compact::recover_interrupted(path)?;
        if matches!(mode, OpenMode::MustExist | OpenMode::MustExistScan) && !path.join("conf").exists() {
            return Err(if path.exists() {
                StoreError::NotAStore(path.to_path_buf())
            } else {
                StoreError::Missing(path.to_path_buf())
            });
        }
        if path.exists() && !path.is_dir() {
            return Err(StoreError::NotAStore(path.to_path_buf()));
        }
        // sled refuses to open a store with another compression setting than it was made
        // with; the setting is in its `conf` file.
        let compressed = match std::fs::read(path.join("conf")) {
            Ok(conf) => String::from_utf8_lossy(&conf).lines().any(|line| line.trim() == "use_compression: true"),
            Err(_) => mode == OpenMode::CreateCompressedIfMissing,
        };
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(cache_bytes(mode))
            .mode(sled::Mode::HighThroughput)
            .flush_every_ms(background_flush_ms())
            .use_compression(compressed)
            .compression_factor(COMPRESSION_LEVEL)
            .open()
            .map_err(|e| classify_open_error(e, path))?;
        Self::from_db(db, path.to_path_buf())
    }

    /// A store in a temporary directory that disappears on drop (tests, the TCK loader).
    pub fn temporary() -> Result<Store, StoreError> {
        let db = sled::Config::new().temporary(true).open()?;
        Self::from_db(db, PathBuf::from("<temporary>"))
    }

    fn from_db(db: sled::Db, path: PathBuf) -> Result<Store, StoreError> {
        match db.get(keys::META_VERSION)? {
            Some(bytes) => {
                let found = keys::read_u64(&bytes)
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or_else(|| StoreError::NotAStore(path.clone()))?;
                if found != FORMAT_VERSION {
                    return Err(StoreError::VersionMismatch { path, found, expected: FORMAT_VERSION });
                }
            }
            None => {
                if db.iter().next().is_some() {
                    return Err(StoreError::NotAStore(path));
                }
                db.insert(keys::META_VERSION, &u64::from(FORMAT_VERSION).to_be_bytes())?;
                db.flush()?;
            }
        }
        let names: Vec<String> = match db.get(keys::META_SYMBOLS)? {
            Some(bytes) => codec::decode(&bytes, "the edge type table")?,
            None => Vec::new(),
        };
        let symbols = std::sync::RwLock::new(Arc::new(Symbols::from_names(names)));
        let pages = std::sync::Mutex::new(PageCache::default());
        let generation = std::sync::atomic::AtomicU64::new(fresh_generation());
        Ok(Store { db, path, gate: std::sync::RwLock::new(()), symbols, pages, generation })
    }

    /// Closes the store after a large write, then opens and closes it once more: sled
    /// snapshots its page table when it opens, so the next command starts from that snapshot
    /// instead of replaying and decompressing everything this one wrote (0.8 s for a
    /// 100k-article ingest, otherwise paid by the first query after it).
    pub fn close_with_snapshot(self) -> Result<(), StoreError> {
        let path = self.path.clone();
        if path == Path::new("<temporary>") {
            return Ok(());
        }
        self.flush()?;
        drop(self);
        // sled's background threads let go of the file lock a moment after the drop. The
        // snapshot only saves the next command time: if another process took the store
        // meanwhile, it replays the log itself and nothing is lost.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
        loop {
            match Store::open(&path, OpenMode::MustExist) {
                Err(StoreError::InUse(_)) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                Err(StoreError::InUse(_)) => return Ok(()),
                reopened => return reopened.map(drop),
            }
        }
    }

    /// A consistent view for one query: no batch is applied while the guard lives. Do not
    /// commit a `WriteTxn` on the same thread while holding it.
    pub fn read_snapshot(&self) -> std::sync::RwLockReadGuard<'_, ()> {
        self.gate.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Held by a commit while it applies its batch.
    pub(crate) fn write_gate(&self) -> std::sync::RwLockWriteGuard<'_, ()> {
        self.gate.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Starts a write transaction; nothing is visible until `commit`.
    pub fn begin(&self) -> Result<WriteTxn<'_>, StoreError> {
        WriteTxn::new(self)
    }

    /// Makes every committed write durable.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    pub fn stats(&self) -> Result<Stats, StoreError> {
        match self.db.get(keys::META_STATS)? {
            Some(bytes) => codec::decode(&bytes, "statistics"),
            None => Ok(Stats::default()),
        }
    }

    fn counters(&self) -> Result<Counters, StoreError> {
        match self.db.get(keys::META_COUNTERS)? {
            Some(bytes) => codec::decode(&bytes, "id counters"),
            None => Ok(Counters::default()),
        }
    }

    /// The edge-type table as of the last commit.
    pub fn symbols(&self) -> Arc<Symbols> {
        self.symbols.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    fn set_symbols(&self, symbols: Arc<Symbols>) {
        *self.symbols.write().unwrap_or_else(std::sync::PoisonError::into_inner) = symbols;
    }

    /// The runs of the `id` index, oldest first.
    pub(crate) fn key_runs(&self) -> Result<Vec<RunInfo>, StoreError> {
        match self.db.get(keys::META_RUNS)? {
            Some(bytes) => codec::decode(&bytes, "the id index runs"),
            None => Ok(Vec::new()),
        }
    }

    /// The next node and edge ids the store will hand out (`None` before the first write),
    /// for `check`.
    pub(crate) fn next_ids(&self) -> Result<Option<(NodeId, EdgeId)>, StoreError> {
        match self.db.get(keys::META_COUNTERS)? {
            Some(bytes) => {
                let counters: Counters = codec::decode(&bytes, "id counters")?;
                Ok(Some((counters.next_node, counters.next_edge)))
            }
            None => Ok(None),
        }
    }

    pub fn format_version(&self) -> Result<Option<u32>, StoreError> {
        Ok(self.db.get(keys::META_VERSION)?.and_then(|b| keys::read_u64(&b)).and_then(|v| u32::try_from(v).ok()))
    }

    pub fn node(&self, id: NodeId) -> Result<Option<NodeRecord>, StoreError> {
        match self.node_bytes(id)? {
            Some(bytes) => codec::decode(&bytes, "a node").map(Some),
            None => Ok(None),
        }
    }

    pub fn edge(&self, id: EdgeId) -> Result<Option<EdgeRecord>, StoreError> {
        match self.slot(&keys::edge_page(page_number(id)), id, "an edge page")? {
            Some(bytes) => codec::decode(&bytes, "an edge").map(Some),
            None => Ok(None),
        }
    }

    /// The stored (encoded) record of node `id`, for reading single properties or labels
    /// without decoding the rest (`record_property`, `record_has_labels`).
    pub fn node_bytes(&self, id: NodeId) -> Result<Option<sled::IVec>, StoreError> {
        self.slot(&keys::node_page(page_number(id)), id, "a node page")
    }

    /// Slot `id` of the page under `key`, shared with the page (no copy); `None` if empty.
    fn slot(&self, key: &[u8; 9], id: u64, what: &str) -> Result<Option<sled::IVec>, StoreError> {
        let Some(page) = self.page(key)? else { return Ok(None) };
        let range = page::slot_range(&page, slot_number(id)).ok_or_else(|| corrupt(what, key))?;
        Ok((!range.is_empty()).then(|| page.subslice(range.start, range.len())))
    }

    /// Runs `read` on slot `id` of the page under `key` (an empty slice when the slot or
    /// the page is empty) while the page cache holds the page, so nothing is shared or
    /// counted. `read` must not call back into the store.
    fn read_slot<R>(&self, key: &[u8; 9], id: u64, what: &str, read: impl FnOnce(&[u8]) -> R) -> Result<R, StoreError> {
        self.with_page(key, |page| match page {
            None => Ok(read(&[])),
            Some(page) => {
                let range = page::slot_range(page, slot_number(id)).ok_or_else(|| corrupt(what, key))?;
                Ok(read(&page[range]))
            }
        })?
    }

    /// Runs `read` on the page under `key` (`None` when there is none), borrowed from the
    /// page cache while it holds the cache's lock. `read` must not call back into the store.
    fn with_page<R>(&self, key: &[u8; 9], read: impl FnOnce(Option<&[u8]>) -> R) -> Result<R, StoreError> {
        let mut pages = self.pages.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if pages.get_ref(key).is_none() {
            match self.db.get(key)? {
                Some(page) => pages.put(*key, page),
                None => return Ok(read(None)),
            }
        }
        Ok(read(pages.get_ref(key).map(|page| &page[..])))
    }

    /// The page under `key`, through the page cache.
    fn page(&self, key: &[u8; 9]) -> Result<Option<sled::IVec>, StoreError> {
        let mut pages = self.pages.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(page) = pages.get(key) {
            return Ok(Some(page));
        }
        let page = self.db.get(key)?;
        if let Some(page) = &page {
            pages.put(*key, page.clone());
        }
        Ok(page)
    }

    /// Empties the page cache and moves to a new generation; a commit calls it while it
    /// holds the write gate.
    fn forget_pages(&self) {
        self.pages.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
        self.generation.store(fresh_generation(), std::sync::atomic::Ordering::Release);
    }

    /// A number for what this store holds now: it changes with every commit and no other
    /// store opened in this process ever has it, so anything derived from the store (the
    /// analytics projections) can be cached under it.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Nodes whose string `id` property equals `id` (an index lookup: one seek per run).
    pub fn nodes_with_key(&self, id: &str) -> Result<Vec<NodeId>, StoreError> {
        let hash = key_index::hash_id(id);
        let mut found = Vec::new();
        for run in self.key_runs()? {
            let range = keys::key_run_block(run.id, 0)..=keys::key_run_block(run.id, hash);
            if let Some(item) = self.db.range(range).next_back() {
                let (key, block) = item?;
                let postings =
                    key_index::postings_in_block(&block, hash).ok_or_else(|| corrupt("an id index block", &key))?;
                key_index::apply(&mut found, postings.into_iter());
            }
        }
        found.sort_unstable();
        let mut confirmed = Vec::with_capacity(found.len());
        for node in found {
            let Some(bytes) = self.node_bytes(node)? else { continue };
            if let Some(Some(Value::Str(stored))) = record_property(&bytes, "id") {
                if stored == id {
                    confirmed.push(node);
                }
            }
        }
        Ok(confirmed)
    }

    /// Entities whose name or an alias normalises like `name`, with their kind label.
    pub fn entities_named(&self, name: &str) -> Result<Vec<(NodeId, String)>, StoreError> {
        let mut found = Vec::new();
        for item in self.db.scan_prefix(keys::by_name_prefix(&normalize_name(name))) {
            let (key, kind) = item?;
            let id = keys::trailing_id(&key).ok_or_else(|| corrupt("a name index key", &key))?;
            found.push((id, String::from_utf8_lossy(&kind).into_owned()));
        }
        Ok(found)
    }

    /// Whether any entity is in the name index (the planner anchors on names only then).
    pub fn has_name_index(&self) -> Result<bool, StoreError> {
        Ok(self.db.scan_prefix([keys::BY_NAME]).next().transpose()?.is_some())
    }

    /// Nodes carrying `label`, in id order, streamed a chunk at a time.
    pub fn nodes_with_label<'a>(&'a self, label: &str) -> impl Iterator<Item = Result<NodeId, StoreError>> + 'a {
        self.db.scan_prefix(keys::label_prefix(label)).flat_map(|item| -> Vec<Result<NodeId, StoreError>> {
            let ids = item
                .map_err(StoreError::from)
                .and_then(|(key, value)| page::decode_ids(&value).ok_or_else(|| corrupt("a label chunk", &key)));
            match ids {
                Ok(ids) => ids.into_iter().map(Ok).collect(),
                Err(err) => vec![Err(err)],
            }
        })
    }

    /// Which ids of label chunk `chunk` (ids `chunk * LABEL_SPAN ..`) carry `label`: a
    /// membership test for many nodes from one small read, not one record read each.
    pub fn label_bits(&self, label: &str, chunk: u64) -> Result<LabelBits, StoreError> {
        let key = keys::label_chunk(label, chunk);
        let mut bits = LabelBits { words: vec![0; page::LABEL_SPAN as usize / 64] };
        if let Some(value) = self.db.get(&key)? {
            let ids = page::decode_ids(&value).ok_or_else(|| corrupt("a label chunk", &key))?;
            for id in ids {
                let offset = id.checked_sub(chunk * page::LABEL_SPAN).filter(|&o| o < page::LABEL_SPAN);
                let offset = offset.ok_or_else(|| corrupt("a label chunk", &key))? as usize;
                bits.words[offset / 64] |= 1 << (offset % 64);
            }
        }
        Ok(bits)
    }

    /// Every node, in id order, streamed (the naive plan and label-less scans).
    pub fn all_nodes(&self) -> impl Iterator<Item = Result<NodeId, StoreError>> + '_ {
        self.all_node_bytes().map(|item| item.map(|(id, _)| id))
    }

    /// Every node with its stored (encoded) record, in id order, streamed: one sequential
    /// pass over the pages, cheaper than a lookup per node when most nodes are wanted.
    pub fn all_node_bytes(&self) -> impl Iterator<Item = Result<(NodeId, sled::IVec), StoreError>> + '_ {
        self.pages(keys::NODE_PAGE, "a node page")
    }

    /// Every edge, in id order, streamed.
    pub fn all_edges(&self) -> impl Iterator<Item = Result<(EdgeId, EdgeRecord), StoreError>> + '_ {
        self.pages(keys::EDGE_PAGE, "an edge page")
            .map(|item| item.and_then(|(id, bytes)| Ok((id, codec::decode(&bytes, "an edge")?))))
    }

    /// The non-empty slots of every page under `prefix`, with their ids.
    fn pages<'a>(
        &'a self,
        prefix: u8,
        what: &'static str,
    ) -> impl Iterator<Item = Result<(u64, sled::IVec), StoreError>> + 'a {
        self.db.scan_prefix([prefix]).flat_map(move |item| -> Vec<Result<(u64, sled::IVec), StoreError>> {
            let (key, page) = match item {
                Ok(pair) => pair,
                Err(err) => return vec![Err(err.into())],
            };
            let Some(number) = (key.len() == 9).then(|| keys::read_u64(&key[1..])).flatten() else {
                return vec![Err(corrupt(what, &key))];
            };
            let mut slots = Vec::new();
            for slot in 0..page::PAGE_SLOTS {
                match page::slot_range(&page, slot) {
                    Some(range) if range.is_empty() => {}
                    Some(range) => slots.push(Ok((
                        number * page::PAGE_SLOTS as u64 + slot as u64,
                        page.subslice(range.start, range.len()),
                    ))),
                    None => return vec![Err(corrupt(what, &key))],
                }
            }
            slots
        })
    }

    /// Edges at `node` in `direction`, narrowed to `edge_type` when given, streamed.
    pub fn adjacent<'a>(
        &'a self,
        node: NodeId,
        direction: Direction,
        edge_type: Option<&str>,
    ) -> impl Iterator<Item = Result<Adjacent, StoreError>> + 'a {
        let symbols = self.symbols();
        let types = Arc::new(match edge_type {
            Some(name) => self.edge_types(&[name]),
            None => EdgeTypes::Any,
        });
        self.adjacent_entries(node, direction, &types).map(move |item| {
            let entry = item?;
            Ok(Adjacent { edge: entry.edge, edge_type: symbols.name(entry.sym)?.to_string(), other: entry.other })
        })
    }

    /// The symbols of the named edge types (names the store has never seen match nothing);
    /// valid while the caller holds the read gate, as a query does.
    pub fn edge_types<S: AsRef<str>>(&self, names: &[S]) -> EdgeTypes {
        if names.is_empty() {
            return EdgeTypes::Any;
        }
        let symbols = self.symbols();
        let mut syms: Vec<u32> = names.iter().filter_map(|n| symbols.id(n.as_ref())).collect();
        syms.sort_unstable();
        syms.dedup();
        EdgeTypes::Only(syms)
    }

    /// Like `adjacent`, with the types as symbols and without naming them. An inline list
    /// is decoded entry by entry from the node's adjacency page as it is read; a long list
    /// streams chunk by chunk, skipping chunks of other types by their key.
    pub fn adjacent_entries<'a>(&'a self, node: NodeId, direction: Direction, types: &Arc<EdgeTypes>) -> Entries<'a> {
        if matches!(&**types, EdgeTypes::Only(syms) if syms.is_empty()) {
            return Box::new(std::iter::empty());
        }
        let key = keys::adjacency_page(page_number(node));
        let mut inline = Vec::new();
        let located = self.read_slot(&key, node, "an adjacency page", |slot| {
            let at = page::locate_list(slot, direction == Direction::In)?;
            if let ListAt::Inline { offset, count } = at {
                read_inline(slot, offset, count, types, &mut inline)?;
            }
            Some(at)
        });
        match located {
            Err(err) => Box::new(std::iter::once(Err(err))),
            Ok(None) => Box::new(std::iter::once(Err(corrupt("an adjacency slot", &key)))),
            Ok(Some(ListAt::Inline { .. })) => Box::new(inline.into_iter().map(Ok)),
            Ok(Some(ListAt::Spilled)) => {
                let single = match &**types {
                    EdgeTypes::Only(syms) if syms.len() == 1 => Some(syms[0]),
                    _ => None,
                };
                let prefix = keys::adjacency_chunk_prefix(node, direction.key_byte(), single);
                let types = types.clone();
                Box::new(self.db.scan_prefix(prefix).flat_map(move |item| -> Vec<Result<AdjacentEntry, StoreError>> {
                    let (key, value) = match item {
                        Ok(pair) => pair,
                        Err(err) => return vec![Err(err.into())],
                    };
                    let Some((_, _, sym, _)) = keys::parse_adjacency_chunk(&key) else {
                        return vec![Err(corrupt("an adjacency chunk", &key))];
                    };
                    if !types.admits(sym) {
                        return Vec::new();
                    }
                    match page::decode_chunk(&value) {
                        Some(pairs) => {
                            pairs.into_iter().map(|(edge, other)| Ok(AdjacentEntry { edge, other, sym })).collect()
                        }
                        None => vec![Err(corrupt("an adjacency chunk", &key))],
                    }
                }))
            }
        }
    }

    /// Calls `visit(node, entry)` for each entry `adjacent_entries` would yield for each of
    /// `nodes`: the nodes that share an adjacency page are read with one lookup of the page,
    /// so a scan in id order reads each page once. Nodes come in order, except that those
    /// whose list spilled into chunks come after the rest of their page. `visit` must not
    /// call back into the store.
    pub fn for_each_adjacent_of(
        &self,
        nodes: &[NodeId],
        direction: Direction,
        types: &Arc<EdgeTypes>,
        mut visit: impl FnMut(NodeId, &AdjacentEntry),
    ) -> Result<(), StoreError> {
        let mut entries = Vec::new();
        let mut spilled = Vec::new();
        for run in nodes.chunk_by(|a, b| page_number(*a) == page_number(*b)) {
            let key = keys::adjacency_page(page_number(run[0]));
            self.with_page(&key, |page| -> Result<(), StoreError> {
                let Some(page) = page else { return Ok(()) };
                let ranges = run
                    .iter()
                    .map(|&node| page::slot_range(page, slot_number(node)))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| corrupt("an adjacency page", &key))?;
                // Touch every slot first: the loads are independent, so the processor
                // overlaps their cache misses instead of waiting for one slot at a time.
                std::hint::black_box(ranges.iter().fold(0u8, |acc, r| acc ^ page.get(r.start).copied().unwrap_or(0)));
                for (&node, range) in run.iter().zip(ranges) {
                    let slot = &page[range];
                    match page::locate_list(slot, direction == Direction::In) {
                        None => return Err(corrupt("an adjacency slot", &key)),
                        Some(ListAt::Spilled) => spilled.push(node),
                        Some(ListAt::Inline { offset, count }) => {
                            entries.clear();
                            read_inline(slot, offset, count, types, &mut entries)
                                .ok_or_else(|| corrupt("an adjacency slot", &key))?;
                            for entry in &entries {
                                visit(node, entry);
                            }
                        }
                    }
                }
                Ok(())
            })??;
            for node in spilled.drain(..) {
                for entry in self.adjacent_entries(node, direction, types) {
                    visit(node, &entry?);
                }
            }
        }
        Ok(())
    }

    /// `node`'s whole adjacency slot (both directions) as its page holds it.
    pub(crate) fn adjacency(&self, node: NodeId) -> Result<NodeAdjacency, StoreError> {
        let key = keys::adjacency_page(page_number(node));
        match self.slot(&key, node, "an adjacency page")? {
            Some(bytes) => NodeAdjacency::decode(&bytes).ok_or_else(|| corrupt("an adjacency slot", &key)),
            None => Ok(NodeAdjacency::default()),
        }
    }

    /// Raw scan of a keyspace, for `check`.
    pub(crate) fn scan_keyspace(
        &self,
        prefix: u8,
    ) -> impl Iterator<Item = Result<(sled::IVec, sled::IVec), StoreError>> + '_ {
        self.db.scan_prefix([prefix]).map(|item| item.map_err(StoreError::from))
    }

    /// The event an imported dataset's event id (`gdelt:…`) became, if it is stored.
    pub fn source_id_node(&self, id: &str) -> Result<Option<NodeId>, StoreError> {
        match self.db.get(keys::source_id(id))? {
            None => Ok(None),
            Some(bytes) => keys::read_u64(&bytes)
                .map(Some)
                .ok_or_else(|| StoreError::Corrupt(format!("the source-id index entry of '{id}' does not decode"))),
        }
    }

    /// One raw key, for `check` and damage tests.
    pub fn raw_get(&self, key: &[u8]) -> Result<Option<sled::IVec>, StoreError> {
        Ok(self.db.get(key)?)
    }
}

/// Reads a bincode (standard config) variable-length unsigned integer.
fn read_varint(bytes: &mut &[u8]) -> Option<u64> {
    let (&first, rest) = bytes.split_first()?;
    let (value, width) = match first {
        0..=250 => (u64::from(first), 0),
        251 => (u64::from(u16::from_le_bytes(rest.get(..2)?.try_into().ok()?)), 2),
        252 => (u64::from(u32::from_le_bytes(rest.get(..4)?.try_into().ok()?)), 4),
        253 => (u64::from_le_bytes(rest.get(..8)?.try_into().ok()?), 8),
        _ => return None,
    };
    *bytes = &rest[width..];
    Some(value)
}

/// The labels at the front of an encoded `NodeRecord` (a length-prefixed list of
/// length-prefixed strings), as byte slices; `None` if the bytes do not parse.
fn record_labels(bytes: &[u8]) -> Option<impl Iterator<Item = &[u8]> + Clone + '_> {
    let mut rest = bytes;
    let count = read_varint(&mut rest)?;
    let start = rest;
    for _ in 0..count {
        let len = usize::try_from(read_varint(&mut rest)?).ok()?;
        rest = rest.get(len..)?;
    }
    let mut cursor = start;
    Some((0..count).map(move |_| {
        let len = read_varint(&mut cursor).and_then(|l| usize::try_from(l).ok()).unwrap_or(0);
        let (label, rest) = cursor.split_at(len.min(cursor.len()));
        cursor = rest;
        label
    }))
}

/// The variant number bincode gives `Value::Str`.
const STR_VARIANT: u64 = 4;

/// Steps over one encoded `Value` (serde enum: variant index, then its payload).
fn skip_value(bytes: &mut &[u8]) -> Option<()> {
    let skip = |bytes: &mut &[u8], n: usize| -> Option<()> {
        *bytes = bytes.get(n..)?;
        Some(())
    };
    match read_varint(bytes)? {
        0 => Some(()),                       // Null
        1 => skip(bytes, 1),                 // Bool
        2 => read_varint(bytes).map(|_| ()), // Int (zigzag varint)
        3 => skip(bytes, 8),                 // Float
        STR_VARIANT => {
            // Str
            let len = usize::try_from(read_varint(bytes)?).ok()?;
            skip(bytes, len)
        }
        5 => {
            // List
            for _ in 0..read_varint(bytes)? {
                skip_value(bytes)?;
            }
            Some(())
        }
        6 => {
            // Map
            for _ in 0..read_varint(bytes)? {
                let len = usize::try_from(read_varint(bytes)?).ok()?;
                skip(bytes, len)?;
                skip_value(bytes)?;
            }
            Some(())
        }
        7 => {
            // Temporal: its stored form is decoded to learn its length (zone names vary).
            let (_, used): (crate::temporal::Temporal, usize) =
                bincode::serde::decode_from_slice(bytes, bincode::config::standard()).ok()?;
            skip(bytes, used)
        }
        _ => None,
    }
}

/// One property of an encoded `NodeRecord`, decoding nothing else (`None` if the record
/// does not parse, `Some(None)` if it has no such property).
pub fn record_property(bytes: &[u8], key: &str) -> Option<Option<Value>> {
    Some(match record_property_view(bytes, key)? {
        None => None,
        Some(PropertyView::Str(text)) => Some(Value::Str(text.to_string())),
        Some(PropertyView::Other(value)) => Some(value),
    })
}

/// A property read from an encoded record: a string is borrowed from the record's bytes.
pub enum PropertyView<'a> {
    Str(&'a str),
    Other(Value),
}

/// Like `record_property`, without copying a string value.
pub fn record_property_view<'a>(bytes: &'a [u8], key: &str) -> Option<Option<PropertyView<'a>>> {
    let mut rest = bytes;
    for _ in 0..read_varint(&mut rest)? {
        let len = usize::try_from(read_varint(&mut rest)?).ok()?;
        rest = rest.get(len..)?;
    }
    for _ in 0..read_varint(&mut rest)? {
        let len = usize::try_from(read_varint(&mut rest)?).ok()?;
        let name = rest.get(..len)?;
        rest = &rest[len..];
        if name == key.as_bytes() {
            let mut value = rest;
            if read_varint(&mut value)? == STR_VARIANT {
                let len = usize::try_from(read_varint(&mut value)?).ok()?;
                return std::str::from_utf8(value.get(..len)?).ok().map(|text| Some(PropertyView::Str(text)));
            }
            return codec::decode::<Value>(rest, "a property").ok().map(|v| Some(PropertyView::Other(v)));
        }
        // Keys are sorted (a BTreeMap): past `key`, it is not there.
        if name > key.as_bytes() {
            return Some(None);
        }
        skip_value(&mut rest)?;
    }
    Some(None)
}

/// Whether an encoded `NodeRecord` carries every label (`None` if it does not parse).
pub fn record_has_labels(bytes: &[u8], labels: &[String]) -> Option<bool> {
    record_labels(bytes).map(|stored| labels.iter().all(|l| stored.clone().any(|s| s == l.as_bytes())))
}

fn corrupt(what: &str, key: &[u8]) -> StoreError {
    StoreError::Corrupt(format!("{what} does not decode (key {key:02x?})"))
}

/// sled's page cache: 64 MiB while writing (ingest keeps its own maps and must stay
/// small), 256 MiB when reading, enough for the working set of a 100 k-article store so
/// warm queries do not re-read pages; `DIPLOGRAPH_CACHE_MB` overrides both.
/// sled's background flush interval: none by default (every command flushes once, at its end,
/// which measured fastest); `DIPLOGRAPH_FLUSH_MS` sets one (see BENCHMARKS.md).
fn background_flush_ms() -> Option<u64> {
    std::env::var("DIPLOGRAPH_FLUSH_MS").ok().and_then(|v| v.trim().parse::<u64>().ok()).filter(|&ms| ms > 0)
}

fn cache_bytes(mode: OpenMode) -> u64 {
    let default_mb = match mode {
        OpenMode::CreateIfMissing | OpenMode::CreateCompressedIfMissing | OpenMode::MustExistScan => 64,
        OpenMode::MustExist => 256,
    };
    let mb = std::env::var("DIPLOGRAPH_CACHE_MB").ok().and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(default_mb);
    mb.max(1) * 1024 * 1024
}

/// Whether sled could not open a directory because another handle holds its lock (sled words
/// it in several ways, some only in the text of a wrapped OS error).
fn is_lock_error(err: &sled::Error) -> bool {
    let text = err.to_string();
    text.contains("could not acquire lock")
        || text.contains("WouldBlock")
        || text.contains("Resource temporarily unavailable")
}

fn classify_open_error(err: sled::Error, path: &Path) -> StoreError {
    if is_lock_error(&err) {
        StoreError::InUse(path.to_path_buf())
    } else {
        match err {
            sled::Error::Io(io) => StoreError::Io(format!("cannot open {}: {io}", path.display())),
            other => StoreError::from(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = crate::model::Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::Int),
            any::<f64>().prop_map(Value::Float),
            ".{0,300}".prop_map(Value::Str),
            temporal(),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::List),
                proptest::collection::btree_map("[a-z]{0,4}", inner, 0..4).prop_map(Value::Map),
            ]
        })
    }

    /// Every temporal type, stored as its plain-integer form.
    fn temporal() -> impl Strategy<Value = crate::model::Value> {
        use crate::temporal::{ordinal_date, time_of_nanos, Duration, Temporal};
        let parts = (0u8..6, -9999i16..=9999, 1i64..=365, 0i128..86_400_000_000_000, -64_800i32..=64_800);
        (parts, any::<i32>(), any::<i32>(), any::<bool>()).prop_map(
            |((kind, year, day, nanos, offset), m, d, named)| {
                let date = ordinal_date(year, day).expect("day 1..=365 exists every year");
                let time = time_of_nanos(nanos).expect("within a day");
                let offset = jiff::tz::Offset::from_seconds(offset).expect("within 18 hours");
                Value::Temporal(match kind {
                    0 => Temporal::Date(date),
                    1 => Temporal::LocalTime(time),
                    2 => Temporal::Time { time, offset },
                    3 => Temporal::LocalDateTime(date.to_datetime(time)),
                    4 => Temporal::DateTime {
                        local: date.to_datetime(time),
                        offset,
                        zone: named.then(|| "Europe/Stockholm".to_string()),
                    },
                    _ => Temporal::Duration(Duration {
                        months: m.into(),
                        days: d.into(),
                        nanos: nanos - 43_200_000_000_000,
                    }),
                })
            },
        )
    }

    proptest! {
        #[test]
        fn single_properties_and_labels_read_like_the_decoded_record(
            labels in proptest::collection::vec("[A-Za-z]{0,300}", 0..4),
            props in proptest::collection::btree_map("[a-z]{0,3}", value(), 0..8),
            probe in "[a-z]{0,3}",
        ) {
            let record = NodeRecord { labels: labels.clone(), props };
            let bytes = codec::encode(&record).unwrap();
            for key in record.props.keys().map(String::as_str).chain([probe.as_str()]) {
                let got = record_property(&bytes, key).expect("parses");
                let want = record.props.get(key).cloned();
                // NaN never equals itself: compare encodings.
                prop_assert_eq!(got.map(|v| codec::encode(&v).unwrap()), want.map(|v| codec::encode(&v).unwrap()));
            }
            prop_assert_eq!(record_has_labels(&bytes, &labels), Some(true));
            let missing = vec!["NoSuchLabel-".to_string()];
            prop_assert_eq!(record_has_labels(&bytes, &missing), Some(false));
        }
    }
}
