//! Key layout of the single sled tree: one prefix byte per keyspace, big-endian
//! fixed-width numbers and length-prefixed strings, so byte order is scan order.
//! Values are packed (see `page`): a key holds a page or a chunk, not one record.

use crate::model::{EdgeId, NodeId};

/// Meta records: format version, id counters, statistics, symbols, id-index runs.
pub const META: u8 = 0x01;
/// `N page` → page of bincode `NodeRecord`s (ids `page*64 ..`).
pub const NODE_PAGE: u8 = 0x02;
/// `E page` → page of bincode `EdgeRecord`s.
pub const EDGE_PAGE: u8 = 0x03;
/// `L label chunk` → sorted node ids in `chunk*4096 ..` carrying the label.
pub const LABEL: u8 = 0x04;
/// `A page` → page of adjacency slots (out and in lists, inline or spilled).
pub const ADJ_PAGE: u8 = 0x05;
/// `C node direction type first-edge` → a spilled adjacency chunk: (edge, other) pairs.
pub const ADJ_CHUNK: u8 = 0x06;
/// `K run first-hash` → a block of a sorted run of the `id` index (see `key_index`).
pub const KEY_RUN: u8 = 0x07;
/// `A normalised-name nid` → kind label: entities by normalised name and alias.
pub const BY_NAME: u8 = 0x08;
/// `source-id` → event node (big-endian): an imported dataset's event id (`gdelt:1256322925`)
/// to the event it became, so a later file's mention finds it. (0x09–0x0f are left for the
/// store's own keyspaces.)
pub const SOURCE_ID: u8 = 0x10;

pub const META_VERSION: &[u8] = b"\x01version";
pub const META_COUNTERS: &[u8] = b"\x01counters";
pub const META_STATS: &[u8] = b"\x01stats";
pub const META_SYMBOLS: &[u8] = b"\x01symbols";
pub const META_RUNS: &[u8] = b"\x01runs";

/// Direction bytes in adjacency chunk keys.
pub const OUT: u8 = 0;
pub const IN: u8 = 1;

pub fn node_page(page: u64) -> [u8; 9] {
    prefixed_id(NODE_PAGE, page)
}

pub fn edge_page(page: u64) -> [u8; 9] {
    prefixed_id(EDGE_PAGE, page)
}

pub fn adjacency_page(page: u64) -> [u8; 9] {
    prefixed_id(ADJ_PAGE, page)
}

fn prefixed_id(prefix: u8, id: u64) -> [u8; 9] {
    let mut key = [0u8; 9];
    key[0] = prefix;
    key[1..].copy_from_slice(&id.to_be_bytes());
    key
}

fn push_str(key: &mut Vec<u8>, s: &str) {
    key.extend_from_slice(&(s.len() as u32).to_be_bytes());
    key.extend_from_slice(s.as_bytes());
}

pub fn label_prefix(label: &str) -> Vec<u8> {
    let mut key = vec![LABEL];
    push_str(&mut key, label);
    key
}

pub fn label_chunk(label: &str, chunk: u64) -> Vec<u8> {
    let mut key = label_prefix(label);
    key.extend_from_slice(&chunk.to_be_bytes());
    key
}

/// Splits a label chunk key into (label, chunk number).
pub fn parse_label_chunk(key: &[u8]) -> Option<(String, u64)> {
    let rest = key.strip_prefix(&[LABEL])?;
    let len = usize::try_from(u32::from_be_bytes(rest.get(..4)?.try_into().ok()?)).ok()?;
    let label = std::str::from_utf8(rest.get(4..4 + len)?).ok()?.to_string();
    let tail = rest.get(4 + len..)?;
    (tail.len() == 8).then(|| read_u64(tail)).flatten().map(|chunk| (label, chunk))
}

/// Chunks of `node`'s spilled list in `direction`, narrowed to one type when given.
pub fn adjacency_chunk_prefix(node: NodeId, direction: u8, sym: Option<u32>) -> Vec<u8> {
    let mut key = Vec::with_capacity(22);
    key.push(ADJ_CHUNK);
    key.extend_from_slice(&node.to_be_bytes());
    key.push(direction);
    if let Some(sym) = sym {
        key.extend_from_slice(&sym.to_be_bytes());
    }
    key
}

pub fn adjacency_chunk(node: NodeId, direction: u8, sym: u32, first_edge: EdgeId) -> Vec<u8> {
    let mut key = adjacency_chunk_prefix(node, direction, Some(sym));
    key.extend_from_slice(&first_edge.to_be_bytes());
    key
}

/// Splits an adjacency chunk key into (node, direction, type symbol, first edge).
pub fn parse_adjacency_chunk(key: &[u8]) -> Option<(NodeId, u8, u32, EdgeId)> {
    if key.len() != 22 || key[0] != ADJ_CHUNK {
        return None;
    }
    let node = read_u64(&key[1..9])?;
    let sym = u32::from_be_bytes(key[10..14].try_into().ok()?);
    Some((node, key[9], sym, read_u64(&key[14..])?))
}

pub fn key_run_prefix(run: u32) -> [u8; 5] {
    let mut key = [0u8; 5];
    key[0] = KEY_RUN;
    key[1..].copy_from_slice(&run.to_be_bytes());
    key
}

pub fn key_run_block(run: u32, first_hash: u64) -> [u8; 13] {
    let mut key = [0u8; 13];
    key[..5].copy_from_slice(&key_run_prefix(run));
    key[5..].copy_from_slice(&first_hash.to_be_bytes());
    key
}

pub fn by_name_prefix(normalised: &str) -> Vec<u8> {
    let mut key = vec![BY_NAME];
    push_str(&mut key, normalised);
    key
}

pub fn by_name(normalised: &str, node: NodeId) -> Vec<u8> {
    let mut key = by_name_prefix(normalised);
    key.extend_from_slice(&node.to_be_bytes());
    key
}

pub fn source_id(id: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + id.len());
    key.push(SOURCE_ID);
    key.extend_from_slice(id.as_bytes());
    key
}

/// Reads the trailing big-endian id of an index key.
pub fn trailing_id(key: &[u8]) -> Option<u64> {
    key.len().checked_sub(8).and_then(|start| read_u64(&key[start..]))
}

pub fn read_u64(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn adjacency_chunk_keys_round_trip(node in any::<u64>(), sym in any::<u32>(), edge in any::<u64>(), incoming in any::<bool>()) {
            let direction = if incoming { IN } else { OUT };
            let key = adjacency_chunk(node, direction, sym, edge);
            prop_assert_eq!(parse_adjacency_chunk(&key), Some((node, direction, sym, edge)));
            prop_assert!(key.starts_with(&adjacency_chunk_prefix(node, direction, Some(sym))));
        }

        #[test]
        fn page_keys_sort_like_their_numbers(a in any::<u64>(), b in any::<u64>()) {
            prop_assert_eq!(a.cmp(&b), node_page(a).cmp(&node_page(b)));
        }

        #[test]
        fn a_string_is_never_a_key_prefix_of_a_longer_one(a in "[a-z]{0,8}", b in "[a-z]{0,8}") {
            prop_assume!(a != b);
            prop_assert!(!by_name(&b, 1).starts_with(&by_name_prefix(&a)));
            prop_assert!(!label_chunk(&b, 1).starts_with(&label_prefix(&a)));
        }

        #[test]
        fn label_chunk_keys_round_trip(label in "[A-Za-z]{1,12}", chunk in any::<u64>()) {
            prop_assert_eq!(parse_label_chunk(&label_chunk(&label, chunk)), Some((label, chunk)));
        }
    }
}
