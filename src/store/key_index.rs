//! The `id` index: each node's string `id` → node, kept as a short log of sorted runs of
//! postings `(hash of id, node, added or removed)`. Each commit that adds or removes ids
//! writes one new run; runs of similar size are merged (a binary counter), so there are
//! about log2(commits) runs and every posting is rewritten about that many times, while a
//! batch writes a handful of keys instead of one key per node. A run is stored in blocks of
//! `BLOCK_POSTINGS` under `K run first-hash`, so a lookup is one seek per run.
//!
//! A hash names candidates only: readers confirm a node by its stored `id` property.

use serde::{Deserialize, Serialize};

use crate::model::NodeId;

/// Postings per stored block (16 bytes each).
pub const BLOCK_POSTINGS: usize = 1024;

pub fn hash_id(id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(id.as_bytes())
}

/// One posting: the id's hash and `node << 1 | removed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Posting {
    pub hash: u64,
    tagged: u64,
}

impl Posting {
    pub fn added(hash: u64, node: NodeId) -> Posting {
        Posting { hash, tagged: node << 1 }
    }

    pub fn removed(hash: u64, node: NodeId) -> Posting {
        Posting { hash, tagged: node << 1 | 1 }
    }

    pub fn node(self) -> NodeId {
        self.tagged >> 1
    }

    pub fn is_removal(self) -> bool {
        self.tagged & 1 == 1
    }
}

/// A stored run: its number (in its keys) and posting count. Meta keeps them oldest first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInfo {
    pub id: u32,
    pub postings: u64,
}

/// Applies one run's postings for a hash to the nodes found so far (older runs first).
pub fn apply(found: &mut Vec<NodeId>, postings: impl Iterator<Item = Posting>) {
    for posting in postings {
        if posting.is_removal() {
            found.retain(|&n| n != posting.node());
        } else if !found.contains(&posting.node()) {
            found.push(posting.node());
        }
    }
}

/// The postings of `hash` in a sorted run held in memory.
pub fn postings_in(run: &[Posting], hash: u64) -> impl Iterator<Item = Posting> + '_ {
    let start = first_at_or_after(run, hash);
    run[start..].iter().copied().take_while(move |p| p.hash == hash)
}

/// The first position in a sorted run whose hash is not below `hash`. The hashes are
/// uniform (xxh3), so `hash / 2^64 × len` lands within a few places of it: the search
/// gallops from that guess, then bisects, touching a few cache lines where a bisection of the
/// whole run touches about log2(len).
fn first_at_or_after(run: &[Posting], hash: u64) -> usize {
    let n = run.len();
    if n < 64 {
        return run.partition_point(|p| p.hash < hash);
    }
    let guess = ((u128::from(hash) * n as u128) >> 64) as usize;
    let (low, high) = if run[guess].hash < hash {
        // The answer lies after the guess: double the step until a hash is not below.
        let (mut low, mut step) = (guess + 1, 1);
        loop {
            let probe = low + step - 1;
            if probe >= n {
                break (low, n);
            }
            if run[probe].hash >= hash {
                break (low, probe);
            }
            low = probe + 1;
            step *= 2;
        }
    } else {
        // The answer is the guess or before it: double the step back until a hash is below.
        let (mut high, mut step) = (guess, 1);
        loop {
            if high == 0 {
                break (0, 0);
            }
            let probe = high.saturating_sub(step);
            if run[probe].hash < hash {
                break (probe + 1, high);
            }
            high = probe;
            step *= 2;
        }
    };
    low + run[low..high].partition_point(|p| p.hash < hash)
}

/// Posting `i` of an encoded block (16 bytes each: hash, then `node << 1 | removed`, big-endian).
fn posting_at(block: &[u8], i: usize) -> Posting {
    let word = |at: usize| u64::from_be_bytes(block[at..at + 8].try_into().unwrap_or_default());
    Posting { hash: word(i * 16), tagged: word(i * 16 + 8) }
}

/// The postings of `hash` in one encoded block, found by binary search.
pub fn postings_in_block(block: &[u8], hash: u64) -> Option<Vec<Posting>> {
    if block.len() % 16 != 0 {
        return None;
    }
    let count = block.len() / 16;
    let (mut low, mut high) = (0, count);
    while low < high {
        let mid = (low + high) / 2;
        if posting_at(block, mid).hash < hash {
            low = mid + 1;
        } else {
            high = mid;
        }
    }
    Some((low..count).map(|i| posting_at(block, i)).take_while(|p| p.hash == hash).collect())
}

pub fn decode_block(block: &[u8]) -> Option<Vec<Posting>> {
    (block.len() % 16 == 0).then(|| (0..block.len() / 16).map(|i| posting_at(block, i)).collect())
}

/// Splits a sorted run into blocks `(first hash, bytes)`; postings of one hash never straddle
/// two blocks, so a lookup reads exactly one block per run.
pub fn blocks(run: &[Posting]) -> Vec<(u64, Vec<u8>)> {
    let mut blocks = Vec::with_capacity(run.len() / BLOCK_POSTINGS + 1);
    let mut start = 0;
    while start < run.len() {
        let mut end = (start + BLOCK_POSTINGS).min(run.len());
        while end < run.len() && run[end].hash == run[end - 1].hash {
            end += 1;
        }
        let mut bytes = Vec::with_capacity((end - start) * 16);
        for posting in &run[start..end] {
            bytes.extend_from_slice(&posting.hash.to_be_bytes());
            bytes.extend_from_slice(&posting.tagged.to_be_bytes());
        }
        blocks.push((run[start].hash, bytes));
        start = end;
    }
    blocks
}

/// Merges a newer run into an older one, in one linear pass. A node's id is added once and
/// removed at most once (node ids are never reused), so an addition and its removal meet
/// side by side in (hash, node) order and cancel; a removal with nothing to cancel is kept
/// (it cancels an addition in an older run) unless the result becomes the oldest run.
pub fn merge(older: &[Posting], newer: &[Posting], result_is_oldest: bool) -> Vec<Posting> {
    let mut merged = Vec::with_capacity(older.len() + newer.len());
    let (mut i, mut j) = (0, 0);
    let mut next = || -> Option<Posting> {
        let take_older = match (older.get(i), newer.get(j)) {
            (Some(a), Some(b)) => a <= b,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return None,
        };
        if take_older {
            i += 1;
            Some(older[i - 1])
        } else {
            j += 1;
            Some(newer[j - 1])
        }
    };
    let mut pending: Option<Posting> = None;
    while let Some(posting) = next() {
        match pending {
            Some(previous) if (previous.hash, previous.node()) == (posting.hash, posting.node()) => {
                // An addition then its removal cancel; a repeated posting is kept once.
                if !previous.is_removal() && posting.is_removal() {
                    pending = None;
                }
                continue;
            }
            Some(previous) if !(previous.is_removal() && result_is_oldest) => merged.push(previous),
            Some(_) | None => {}
        }
        pending = Some(posting);
    }
    if let Some(previous) = pending.filter(|p| !(p.is_removal() && result_is_oldest)) {
        merged.push(previous);
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The guided search finds the place a bisection finds, for hashes in the run and not.
        #[test]
        fn guided_search_matches_bisection(
            mut hashes in proptest::collection::vec(any::<u64>(), 0..400),
            extra in proptest::collection::vec(any::<u64>(), 1..20),
            spread in 0u32..64,
        ) {
            // Narrow ranges too, so the guesses are not always close.
            for h in hashes.iter_mut() {
                *h >>= spread;
            }
            hashes.sort_unstable();
            let run: Vec<Posting> = hashes.iter().enumerate().map(|(i, &h)| Posting::added(h, i as u64)).collect();
            for hash in hashes.iter().copied().chain(extra.iter().map(|h| h >> spread)).chain([0, u64::MAX]) {
                prop_assert_eq!(first_at_or_after(&run, hash), run.partition_point(|p| p.hash < hash));
            }
        }
    }

    fn lookup(runs: &[Vec<Posting>], hash: u64) -> Vec<NodeId> {
        let mut found = Vec::new();
        for run in runs {
            apply(&mut found, postings_in(run, hash));
        }
        found.sort_unstable();
        found
    }

    proptest! {
        /// Merging runs never changes what a lookup finds.
        #[test]
        fn merging_preserves_lookups(ops in proptest::collection::vec((0u64..6, 0u64..40, any::<bool>()), 1..120), cut in 1usize..8) {
            // Node ids are never reused: once removed, a node is not added again.
            let mut live: std::collections::HashMap<u64, u64> = Default::default();
            let mut gone = std::collections::HashSet::new();
            let mut runs: Vec<Vec<Posting>> = Vec::new();
            let mut current = Vec::new();
            for (i, (hash, node, remove)) in ops.into_iter().enumerate() {
                if remove {
                    if let Some(h) = live.remove(&node) { current.push(Posting::removed(h, node)); gone.insert(node); }
                } else if gone.contains(&node) {
                    continue;
                } else if let std::collections::hash_map::Entry::Vacant(slot) = live.entry(node) {
                    slot.insert(hash);
                    current.push(Posting::added(hash, node));
                }
                if i % cut == 0 && !current.is_empty() {
                    current.sort_unstable();
                    runs.push(std::mem::take(&mut current));
                }
            }
            current.sort_unstable();
            runs.push(current);
            let expected: Vec<Vec<NodeId>> = (0..6).map(|h| lookup(&runs, h)).collect();
            while runs.len() > 1 {
                let newer = runs.pop().unwrap();
                let older = runs.pop().unwrap();
                let oldest = runs.is_empty();
                runs.push(merge(&older, &newer, oldest));
            }
            // A lone run is the oldest: it is compacted the same way (as `write_key_index` does).
            let lone = runs.pop().unwrap();
            runs.push(merge(&[], &lone, true));
            let merged: Vec<Vec<NodeId>> = (0..6).map(|h| lookup(&runs, h)).collect();
            prop_assert_eq!(&merged, &expected);
            prop_assert!(runs[0].iter().all(|p| !p.is_removal()));
            for h in 0..6 {
                let mut want: Vec<NodeId> = live.iter().filter(|(_, &hh)| hh == h).map(|(&n, _)| n).collect();
                want.sort_unstable();
                prop_assert_eq!(&merged[h as usize], &want);
            }
        }

        #[test]
        fn blocks_find_every_posting(mut hashes in proptest::collection::vec(0u64..500, 1..3000)) {
            hashes.sort_unstable();
            let run: Vec<Posting> = hashes.iter().enumerate().map(|(n, &h)| Posting::added(h, n as u64)).collect();
            let blocks = blocks(&run);
            for &hash in &hashes {
                let index = blocks.partition_point(|(first, _)| *first <= hash) - 1;
                let found = postings_in_block(&blocks[index].1, hash).unwrap();
                prop_assert_eq!(found.len(), hashes.iter().filter(|&&h| h == hash).count());
            }
        }
    }
}
