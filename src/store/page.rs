//! Packed values. sled 0.34 pays per key (about 8 µs to insert one, in a batch), not per
//! byte, so the store keeps few, larger values: pages of 64 consecutive node or edge ids,
//! adjacency lists inline in a page until they grow long, then in chunks per edge type,
//! sorted id lists per label.

use crate::model::{EdgeId, NodeId};

/// Ids per page: node records, edge records and adjacency are paged by `id / PAGE_SLOTS`.
pub const PAGE_SLOTS: usize = 64;
const HEADER: usize = (PAGE_SLOTS + 1) * 4;

/// A direction's inline adjacency list moves to chunks when it grows past this.
pub const INLINE_LIMIT: usize = 48;
/// Entries per adjacency chunk before a new chunk starts.
pub const CHUNK_LIMIT: usize = 128;
/// Ids per label chunk (the chunk number is `id / LABEL_SPAN`).
pub const LABEL_SPAN: u64 = 4096;

pub fn page_number(id: u64) -> u64 {
    id / PAGE_SLOTS as u64
}

pub fn slot_number(id: u64) -> usize {
    (id % PAGE_SLOTS as u64) as usize
}

/// A page: `PAGE_SLOTS + 1` little-endian `u32` offsets, then the slots' bytes. An empty
/// slot is an absent record.
pub fn encode_page(slots: &[Vec<u8>]) -> Vec<u8> {
    debug_assert_eq!(slots.len(), PAGE_SLOTS);
    let total: usize = slots.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(HEADER + total);
    let mut offset = HEADER;
    out.extend_from_slice(&(offset as u32).to_le_bytes());
    for slot in slots {
        offset += slot.len();
        out.extend_from_slice(&(offset as u32).to_le_bytes());
    }
    for slot in slots {
        out.extend_from_slice(slot);
    }
    out
}

/// The byte range of `slot` in an encoded page (empty when the slot is empty); `None` if
/// the page is malformed.
pub fn slot_range(page: &[u8], slot: usize) -> Option<std::ops::Range<usize>> {
    let offset = |i: usize| -> Option<usize> {
        let bytes: [u8; 4] = page.get(i * 4..i * 4 + 4)?.try_into().ok()?;
        usize::try_from(u32::from_le_bytes(bytes)).ok()
    };
    if slot >= PAGE_SLOTS {
        return None;
    }
    let (start, end) = (offset(slot)?, offset(slot + 1)?);
    (HEADER <= start && start <= end && end <= page.len()).then_some(start..end)
}

/// Every slot of an encoded page, copied; `None` if the page is malformed.
pub fn decode_page(page: &[u8]) -> Option<Vec<Vec<u8>>> {
    (0..PAGE_SLOTS).map(|slot| slot_range(page, slot).map(|range| page[range].to_vec())).collect()
}

pub fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

pub fn get_varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    let mut shift = 0u32;
    loop {
        let (&byte, rest) = bytes.split_first()?;
        *bytes = rest;
        if shift == 63 && byte > 1 || shift > 63 {
            return None;
        }
        value |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some(value);
        }
        shift += 7;
    }
}

/// One adjacency entry: the edge type (a symbol number), the edge and the node at the
/// other end. Lists keep entries ordered by (type, edge).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct AdjEntry {
    pub sym: u32,
    pub edge: EdgeId,
    pub other: NodeId,
}

/// A node's edges in one direction: inline, or moved to chunks (then `entries` is empty).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdjList {
    pub spilled: bool,
    pub entries: Vec<AdjEntry>,
}

/// A node's adjacency slot: its outgoing and incoming lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeAdjacency {
    pub out: AdjList,
    pub incoming: AdjList,
}

impl NodeAdjacency {
    pub fn is_empty(&self) -> bool {
        [&self.out, &self.incoming].iter().all(|l| !l.spilled && l.entries.is_empty())
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.is_empty() {
            return out;
        }
        for list in [&self.out, &self.incoming] {
            if list.spilled {
                out.push(1);
                continue;
            }
            out.push(0);
            put_varint(&mut out, list.entries.len() as u64);
            for entry in &list.entries {
                put_varint(&mut out, u64::from(entry.sym));
                put_varint(&mut out, entry.edge);
                put_varint(&mut out, entry.other);
            }
        }
        out
    }

    /// Decodes a slot (empty bytes: no edges); `None` if malformed.
    pub fn decode(bytes: &[u8]) -> Option<NodeAdjacency> {
        if bytes.is_empty() {
            return Some(NodeAdjacency::default());
        }
        let mut rest = bytes;
        let out = read_list(&mut rest, true)?;
        let incoming = read_list(&mut rest, true)?;
        rest.is_empty().then_some(NodeAdjacency { out, incoming })
    }
}

/// Where one direction's list sits in an encoded adjacency slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListAt {
    /// `count` entries start at byte `offset` of the slot (read them with `read_entry`).
    Inline { offset: usize, count: usize },
    /// The list lives in adjacency chunks.
    Spilled,
}

/// Finds one direction's list in an encoded slot without decoding its entries (the
/// outgoing list's entries are stepped over to reach the incoming one); `None` if
/// malformed. An empty slot holds two empty inline lists.
pub fn locate_list(bytes: &[u8], incoming: bool) -> Option<ListAt> {
    if bytes.is_empty() {
        return Some(ListAt::Inline { offset: 0, count: 0 });
    }
    let mut rest = bytes;
    if incoming {
        read_list(&mut rest, false)?;
    }
    let (&tag, tail) = rest.split_first()?;
    rest = tail;
    match tag {
        0 => {
            let count = usize::try_from(get_varint(&mut rest)?).ok()?;
            Some(ListAt::Inline { offset: bytes.len() - rest.len(), count })
        }
        1 => Some(ListAt::Spilled),
        _ => None,
    }
}

/// Reads one inline entry (type symbol, edge, other node) and steps past it.
pub fn read_entry(rest: &mut &[u8]) -> Option<AdjEntry> {
    let sym = u32::try_from(get_varint(rest)?).ok()?;
    let edge = get_varint(rest)?;
    let other = get_varint(rest)?;
    Some(AdjEntry { sym, edge, other })
}

/// Reads one encoded list (a tag, then a count and entries when inline), keeping the
/// entries only when `keep`.
fn read_list(rest: &mut &[u8], keep: bool) -> Option<AdjList> {
    let (&tag, tail) = rest.split_first()?;
    *rest = tail;
    match tag {
        0 => {
            let count = usize::try_from(get_varint(rest)?).ok()?;
            let mut entries = Vec::with_capacity(if keep { count.min(rest.len()) } else { 0 });
            for _ in 0..count {
                let entry = read_entry(rest)?;
                if keep {
                    entries.push(entry);
                }
            }
            Some(AdjList { spilled: false, entries })
        }
        1 => Some(AdjList { spilled: true, entries: Vec::new() }),
        _ => None,
    }
}

/// An adjacency chunk: (edge, other) pairs of one node, direction and type, by edge.
pub fn encode_chunk(entries: &[(EdgeId, NodeId)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.len() * 6 + 2);
    put_varint(&mut out, entries.len() as u64);
    let mut previous = 0;
    for &(edge, other) in entries {
        put_varint(&mut out, edge - previous);
        put_varint(&mut out, other);
        previous = edge;
    }
    out
}

pub fn decode_chunk(bytes: &[u8]) -> Option<Vec<(EdgeId, NodeId)>> {
    let mut rest = bytes;
    let count = usize::try_from(get_varint(&mut rest)?).ok()?;
    let mut entries = Vec::with_capacity(count.min(rest.len()));
    let mut edge = 0u64;
    for _ in 0..count {
        edge = edge.checked_add(get_varint(&mut rest)?)?;
        entries.push((edge, get_varint(&mut rest)?));
    }
    rest.is_empty().then_some(entries)
}

/// A sorted id list (label chunks): a count, then deltas.
pub fn encode_ids(ids: &[u64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ids.len() * 2 + 2);
    put_varint(&mut out, ids.len() as u64);
    let mut previous = 0;
    for &id in ids {
        put_varint(&mut out, id - previous);
        previous = id;
    }
    out
}

pub fn decode_ids(bytes: &[u8]) -> Option<Vec<u64>> {
    let mut rest = bytes;
    let count = usize::try_from(get_varint(&mut rest)?).ok()?;
    let mut ids = Vec::with_capacity(count.min(rest.len()));
    let mut id = 0u64;
    for _ in 0..count {
        id = id.checked_add(get_varint(&mut rest)?)?;
        ids.push(id);
    }
    rest.is_empty().then_some(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// One direction's list as `locate_list` and `read_entry` read it.
    fn located(encoded: &[u8], incoming: bool) -> Option<AdjList> {
        match locate_list(encoded, incoming)? {
            ListAt::Spilled => Some(AdjList { spilled: true, entries: vec![] }),
            ListAt::Inline { offset, count } => {
                let mut rest = encoded.get(offset..)?;
                let entries = (0..count).map(|_| read_entry(&mut rest)).collect::<Option<Vec<_>>>()?;
                Some(AdjList { spilled: false, entries })
            }
        }
    }

    proptest! {
        #[test]
        fn pages_round_trip(slots in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..20), PAGE_SLOTS)) {
            let page = encode_page(&slots);
            prop_assert_eq!(decode_page(&page), Some(slots));
        }

        #[test]
        fn varints_round_trip(value in any::<u64>()) {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            let mut slice = &out[..];
            prop_assert_eq!(get_varint(&mut slice), Some(value));
            prop_assert!(slice.is_empty());
        }

        #[test]
        fn adjacency_round_trips(
            out in proptest::collection::vec((0u32..9, any::<u64>(), any::<u64>()), 0..9),
            spilled in any::<bool>(),
        ) {
            let mut entries: Vec<AdjEntry> = out.into_iter().map(|(sym, edge, other)| AdjEntry { sym, edge, other }).collect();
            entries.sort();
            let adjacency = NodeAdjacency { out: AdjList { spilled: false, entries }, incoming: AdjList { spilled, entries: vec![] } };
            let encoded = adjacency.encode();
            prop_assert_eq!(located(&encoded, false), Some(adjacency.out.clone()));
            prop_assert_eq!(located(&encoded, true), Some(adjacency.incoming.clone()));
            prop_assert_eq!(NodeAdjacency::decode(&encoded), Some(adjacency));
        }

        #[test]
        fn id_lists_and_chunks_round_trip(mut ids in proptest::collection::vec(any::<u64>(), 0..50)) {
            ids.sort_unstable();
            ids.dedup();
            prop_assert_eq!(decode_ids(&encode_ids(&ids)), Some(ids.clone()));
            let pairs: Vec<(u64, u64)> = ids.iter().map(|&id| (id, id / 3)).collect();
            prop_assert_eq!(decode_chunk(&encode_chunk(&pairs)), Some(pairs));
        }
    }

    #[test]
    fn garbage_does_not_decode_as_a_page() {
        assert_eq!(slot_range(&[1, 2, 3], 0), None);
        assert_eq!(NodeAdjacency::decode(&[7]), None);
    }
}
