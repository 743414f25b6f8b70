//! Which blocs exist: weakly connected components (petgraph's union–find), Louvain
//! communities (resolution, seed) with their modularity, and label propagation. Ties are
//! taken undirected here; a directed projection's two directions add up.

use std::time::Instant;

use petgraph::unionfind::UnionFind;
use rustc_hash::FxHashMap;

use super::centrality::SplitMix64;
use super::projection::Projection;
use super::AnalyticsError;

/// Component numbers (0, 1, … in order of each component's first actor) and sizes.
pub fn weakly_connected_components(projection: &Projection) -> (Vec<usize>, Vec<usize>) {
    let n = projection.node_count();
    let mut sets = UnionFind::<usize>::new(n);
    for (a, b, _) in projection.ties() {
        sets.union(a, b);
    }
    renumber(&sets.into_labeling())
}

/// Labels renumbered 0, 1, … in order of first appearance, with the size of each.
fn renumber(labels: &[usize]) -> (Vec<usize>, Vec<usize>) {
    let mut numbers: FxHashMap<usize, usize> = FxHashMap::default();
    let mut sizes = Vec::new();
    let out = labels
        .iter()
        .map(|&label| {
            let next = numbers.len();
            let number = *numbers.entry(label).or_insert(next);
            if number == sizes.len() {
                sizes.push(0);
            }
            sizes[number] += 1;
            number
        })
        .collect();
    (out, sizes)
}

/// A weighted undirected graph as neighbour lists; self-loops carry their weight once in
/// the list and count twice in a node's degree, as in the modularity formula.
#[derive(Clone, Debug)]
struct Weighted {
    adj: Vec<Vec<(usize, f64)>>,
    degree: Vec<f64>,
    /// Twice the total tie weight.
    two_m: f64,
}

impl Weighted {
    fn of(projection: &Projection) -> Weighted {
        let n = projection.node_count();
        let mut pairs: FxHashMap<(usize, usize), f64> = FxHashMap::default();
        for (a, b, w) in projection.ties() {
            *pairs.entry((a.min(b), a.max(b))).or_default() += w;
        }
        let mut ties: Vec<((usize, usize), f64)> = pairs.into_iter().collect();
        ties.sort_unstable_by_key(|x| x.0);
        Weighted::from_pairs(n, &ties)
    }

    fn from_pairs(n: usize, ties: &[((usize, usize), f64)]) -> Weighted {
        let mut adj = vec![Vec::new(); n];
        let mut degree = vec![0.0; n];
        let mut two_m = 0.0;
        for &((a, b), w) in ties {
            if a == b {
                adj[a].push((a, w));
                degree[a] += 2.0 * w;
            } else {
                adj[a].push((b, w));
                adj[b].push((a, w));
                degree[a] += w;
                degree[b] += w;
            }
            two_m += 2.0 * w;
        }
        Weighted { adj, degree, two_m }
    }
}

/// Newman's modularity of a partition (community number per actor) with `resolution`.
pub fn modularity(projection: &Projection, communities: &[usize], resolution: f64) -> f64 {
    modularity_of(&Weighted::of(projection), communities, resolution)
}

fn modularity_of(graph: &Weighted, communities: &[usize], resolution: f64) -> f64 {
    if graph.two_m == 0.0 {
        return 0.0;
    }
    let k = communities.iter().max().map_or(0, |m| m + 1);
    let mut inside = vec![0.0; k];
    let mut total = vec![0.0; k];
    for (a, neighbours) in graph.adj.iter().enumerate() {
        total[communities[a]] += graph.degree[a];
        for &(b, w) in neighbours {
            if communities[a] == communities[b] {
                // A self-loop is listed once but sits on the diagonal of A twice over.
                inside[communities[a]] += if a == b { 2.0 * w } else { w };
            }
        }
    }
    (0..k).map(|c| inside[c] / graph.two_m - resolution * (total[c] / graph.two_m).powi(2)).sum()
}

/// Louvain's knobs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LouvainOptions {
    /// Above 1 favours smaller communities, below 1 larger ones.
    pub resolution: f64,
    pub seed: u64,
}

impl Default for LouvainOptions {
    fn default() -> Self {
        LouvainOptions { resolution: 1.0, seed: 42 }
    }
}

/// Louvain community detection (Blondel et al. 2008): move actors between neighbouring
/// communities while modularity rises, fold communities into single nodes, repeat.
/// Returns each actor's community (numbered by first actor) and the partition's modularity.
pub fn louvain(
    projection: &Projection,
    options: &LouvainOptions,
    deadline: Option<Instant>,
) -> Result<(Vec<usize>, f64), AnalyticsError> {
    let original = Weighted::of(projection);
    let n = projection.node_count();
    let mut rng = SplitMix64::new(options.seed);
    // membership[actor] = node of the current level graph holding it.
    let mut membership: Vec<usize> = (0..n).collect();
    let mut graph = original.clone();
    loop {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(AnalyticsError::Timeout);
        }
        let (moved, level) = louvain_level(&graph, options.resolution, &mut rng);
        if !moved {
            break;
        }
        let (level, count) = renumber(&level);
        for m in membership.iter_mut() {
            *m = level[*m];
        }
        graph = aggregate(&graph, &level, count.len());
    }
    let (communities, _) = renumber(&membership);
    let q = modularity_of(&original, &communities, options.resolution);
    Ok((communities, q))
}

/// One round of local moves; returns whether any node moved and each node's community.
fn louvain_level(graph: &Weighted, resolution: f64, rng: &mut SplitMix64) -> (bool, Vec<usize>) {
    let n = graph.adj.len();
    let mut community: Vec<usize> = (0..n).collect();
    let mut total: Vec<f64> = graph.degree.clone();
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    let mut moved_any = false;
    let mut links: FxHashMap<usize, f64> = FxHashMap::default();
    if graph.two_m == 0.0 {
        return (false, community);
    }
    loop {
        let mut moved = false;
        for &v in &order {
            let own = community[v];
            links.clear();
            for &(u, w) in &graph.adj[v] {
                if u != v {
                    *links.entry(community[u]).or_default() += w;
                }
            }
            total[own] -= graph.degree[v];
            let k = graph.degree[v];
            let gain = |c: usize, links_to: f64| links_to - resolution * total[c] * k / graph.two_m;
            let mut best = own;
            let mut best_gain = gain(own, links.get(&own).copied().unwrap_or(0.0));
            let mut candidates: Vec<(usize, f64)> = links.iter().map(|(&c, &w)| (c, w)).collect();
            candidates.sort_unstable_by_key(|&(c, _)| c);
            for (c, w) in candidates {
                let g = gain(c, w);
                if g > best_gain + 1e-12 {
                    best = c;
                    best_gain = g;
                }
            }
            total[best] += graph.degree[v];
            if best != own {
                community[v] = best;
                moved = true;
                moved_any = true;
            }
        }
        if !moved {
            break;
        }
    }
    (moved_any, community)
}

/// The graph whose nodes are `level`'s communities.
fn aggregate(graph: &Weighted, level: &[usize], count: usize) -> Weighted {
    let mut pairs: FxHashMap<(usize, usize), f64> = FxHashMap::default();
    for (a, neighbours) in graph.adj.iter().enumerate() {
        for &(b, w) in neighbours {
            let (ca, cb) = (level[a], level[b]);
            // Each tie between two distinct nodes is listed at both ends: take it once.
            if a <= b {
                *pairs.entry((ca.min(cb), ca.max(cb))).or_default() += w;
            }
        }
    }
    let mut ties: Vec<((usize, usize), f64)> = pairs.into_iter().collect();
    ties.sort_unstable_by_key(|x| x.0);
    Weighted::from_pairs(count, &ties)
}

/// Label propagation (Raghavan et al. 2007): in a seeded random order, each actor takes the
/// label its ties weigh most for (ties broken at random), until no label changes or
/// `max_iterations` passes. Returns community numbers in order of first actor.
pub fn label_propagation(
    projection: &Projection,
    seed: u64,
    max_iterations: usize,
    deadline: Option<Instant>,
) -> Result<Vec<usize>, AnalyticsError> {
    let graph = Weighted::of(projection);
    let n = graph.adj.len();
    let mut labels: Vec<usize> = (0..n).collect();
    let mut rng = SplitMix64::new(seed);
    let mut order: Vec<usize> = (0..n).collect();
    let mut weights: FxHashMap<usize, f64> = FxHashMap::default();
    for _ in 0..max_iterations {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(AnalyticsError::Timeout);
        }
        rng.shuffle(&mut order);
        let mut changed = false;
        for &v in &order {
            weights.clear();
            for &(u, w) in &graph.adj[v] {
                if u != v {
                    *weights.entry(labels[u]).or_default() += w;
                }
            }
            let Some(best) = weights.values().copied().reduce(f64::max) else { continue };
            let mut leaders: Vec<usize> =
                weights.iter().filter(|(_, &w)| (w - best).abs() <= 1e-12).map(|(&l, _)| l).collect();
            if leaders.contains(&labels[v]) {
                continue;
            }
            leaders.sort_unstable();
            labels[v] = leaders[rng.below(leaders.len())];
            changed = true;
        }
        if !changed {
            break;
        }
    }
    Ok(renumber(&labels).0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::ProjectionOptions;

    /// Zachary's karate club (as NetworkX numbers it).
    const KARATE: &[(u32, &[u32])] = &[
        (0, &[1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 17, 19, 21, 31]),
        (1, &[2, 3, 7, 13, 17, 19, 21, 30]),
        (2, &[3, 7, 8, 9, 13, 27, 28, 32]),
        (3, &[7, 12, 13]),
        (4, &[6, 10]),
        (5, &[6, 10, 16]),
        (6, &[16]),
        (8, &[30, 32, 33]),
        (9, &[33]),
        (13, &[33]),
        (14, &[32, 33]),
        (15, &[32, 33]),
        (18, &[32, 33]),
        (19, &[33]),
        (20, &[32, 33]),
        (22, &[32, 33]),
        (23, &[25, 27, 29, 32, 33]),
        (24, &[25, 27, 31]),
        (25, &[31]),
        (26, &[29, 33]),
        (27, &[33]),
        (28, &[31, 33]),
        (29, &[32, 33]),
        (30, &[32, 33]),
        (31, &[32, 33]),
        (32, &[33]),
    ];

    fn karate() -> Projection {
        let ties: Vec<(u32, u32, f64)> =
            KARATE.iter().flat_map(|(a, bs)| bs.iter().map(move |&b| (*a, b, 1.0))).collect();
        assert_eq!(ties.len(), 78);
        let ids: Vec<u64> = (0..34).collect();
        Projection::from_ties(ProjectionOptions::default(), &ids, &ties)
    }

    #[test]
    fn louvain_finds_the_karate_clubs_communities() {
        let club = karate();
        let (communities, q) = louvain(&club, &LouvainOptions::default(), None).expect("runs");
        // The best partition known has modularity 0.4198; Louvain finds 0.4188 or better.
        assert!(q > 0.41 && q < 0.42, "modularity {q}");
        assert!((modularity(&club, &communities, 1.0) - q).abs() < 1e-12);
        let count = communities.iter().max().unwrap() + 1;
        assert!((3..=5).contains(&count), "{count} communities: {communities:?}");
        // The instructor (0) and the administrator (33) end up apart.
        assert_ne!(communities[0], communities[33]);
        // Everyone in one community scores zero; the club's two factions 0.3582 (NetworkX).
        assert!(modularity(&club, &[0; 34], 1.0).abs() < 1e-12);
        let mr_hi = [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 16, 17, 19, 21];
        let factions: Vec<usize> = (0..34).map(|i| usize::from(!mr_hi.contains(&i))).collect();
        assert!((modularity(&club, &factions, 1.0) - 0.358_234_714_003_944_8).abs() < 1e-12);
        // A higher resolution splits more.
        let (finer, _) = louvain(&club, &LouvainOptions { resolution: 2.0, seed: 42 }, None).unwrap();
        assert!(finer.iter().max().unwrap() + 1 > count);
    }

    #[test]
    fn label_propagation_and_components_keep_disconnected_parts_apart() {
        let ids: Vec<u64> = (0..7).collect();
        let ties = [(0, 1, 1.0), (1, 2, 1.0), (0, 2, 1.0), (3, 4, 1.0), (4, 5, 1.0), (3, 5, 1.0)];
        let p = Projection::from_ties(ProjectionOptions::default(), &ids, &ties);
        let (components, sizes) = weakly_connected_components(&p);
        assert_eq!(components, [0, 0, 0, 1, 1, 1, 2]);
        assert_eq!(sizes, [3, 3, 1]);
        let labels = label_propagation(&p, 1, 100, None).expect("runs");
        assert_eq!(labels, [0, 0, 0, 1, 1, 1, 2]);
    }
}
