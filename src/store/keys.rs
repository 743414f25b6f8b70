//! Key layout of the single sled tree: one prefix byte per keyspace, big-endian
//! fixed-width numbers and length-prefixed strings, so byte order is scan order.

use crate::model::{EdgeId, NodeId};

/// Meta records: format version, id counters, maintained statistics.
pub const META: u8 = 0x01;
/// `N nid` → bincode `NodeRecord`.
pub const NODE: u8 = 0x02;
/// `E eid` → bincode `EdgeRecord`.
pub const EDGE: u8 = 0x03;
/// `L label nid` → empty: nodes by label.
pub const LABEL: u8 = 0x04;
/// `O src type eid` → dst: out-adjacency by (node, edge type).
pub const OUT: u8 = 0x05;
/// `I dst type eid` → src: in-adjacency by (node, edge type).
pub const IN: u8 = 0x06;
/// `K id nid` → empty: nodes by their string `id` property.
pub const BY_KEY: u8 = 0x07;
/// `A normalised-name nid` → kind label: entities by normalised name and alias.
pub const BY_NAME: u8 = 0x08;

pub const META_VERSION: &[u8] = b"\x01version";
pub const META_COUNTERS: &[u8] = b"\x01counters";
pub const META_STATS: &[u8] = b"\x01stats";

pub fn node(id: NodeId) -> [u8; 9] {
    prefixed_id(NODE, id)
}

pub fn edge(id: EdgeId) -> [u8; 9] {
    prefixed_id(EDGE, id)
}

fn prefixed_id(prefix: u8, id: u64) -> [u8; 9] {
    let mut key = [0u8; 9];
    key[0] = prefix;
    key[1..].copy_from_slice(&id.to_be_bytes());
    key
}

/// Appends a string with a big-endian u32 length in front, so a string is never a
/// prefix of a longer one's key.
fn push_str(key: &mut Vec<u8>, s: &str) {
    let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
    key.extend_from_slice(&len.to_be_bytes());
    key.extend_from_slice(s.as_bytes());
}

pub fn label_prefix(label: &str) -> Vec<u8> {
    let mut key = vec![LABEL];
    push_str(&mut key, label);
    key
}

pub fn label(label: &str, id: NodeId) -> Vec<u8> {
    let mut key = label_prefix(label);
    key.extend_from_slice(&id.to_be_bytes());
    key
}

/// Prefix of a node's adjacency in one direction, optionally narrowed to one edge type.
pub fn adjacency_prefix(direction: u8, node: NodeId, edge_type: Option<&str>) -> Vec<u8> {
    let mut key = Vec::with_capacity(32);
    key.push(direction);
    key.extend_from_slice(&node.to_be_bytes());
    if let Some(t) = edge_type {
        push_str(&mut key, t);
    }
    key
}

pub fn adjacency(direction: u8, node: NodeId, edge_type: &str, edge: EdgeId) -> Vec<u8> {
    let mut key = adjacency_prefix(direction, node, Some(edge_type));
    key.extend_from_slice(&edge.to_be_bytes());
    key
}

/// Splits an adjacency key into (edge type, edge id).
pub fn parse_adjacency(key: &[u8]) -> Option<(String, EdgeId)> {
    let rest = key.get(9..)?;
    let len = usize::try_from(u32::from_be_bytes(rest.get(..4)?.try_into().ok()?)).ok()?;
    let edge_type = std::str::from_utf8(rest.get(4..4 + len)?).ok()?.to_string();
    let edge = read_u64(rest.get(4 + len..)?)?;
    Some((edge_type, edge))
}

pub fn by_key_prefix(id: &str) -> Vec<u8> {
    let mut key = vec![BY_KEY];
    push_str(&mut key, id);
    key
}

pub fn by_key(id: &str, node: NodeId) -> Vec<u8> {
    let mut key = by_key_prefix(id);
    key.extend_from_slice(&node.to_be_bytes());
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
        fn adjacency_keys_round_trip(node in any::<u64>(), t in "[A-Z_]{1,20}", e in any::<u64>()) {
            let key = adjacency(OUT, node, &t, e);
            prop_assert_eq!(parse_adjacency(&key), Some((t.clone(), e)));
            prop_assert!(key.starts_with(&adjacency_prefix(OUT, node, Some(&t))));
        }

        #[test]
        fn node_keys_sort_like_their_ids(a in any::<u64>(), b in any::<u64>()) {
            prop_assert_eq!(a.cmp(&b), node(a).cmp(&node(b)));
        }

        #[test]
        fn a_string_is_never_a_key_prefix_of_a_longer_one(a in "[a-z]{0,8}", b in "[a-z]{0,8}") {
            prop_assume!(a != b);
            prop_assert!(!by_key(&b, 1).starts_with(&by_key_prefix(&a)));
        }
    }
}
