//! Who brokers between blocs: articulation points (actors whose removal splits a part of
//! the network, petgraph's algorithm) and Burt's constraint (low when an actor's partners
//! are not tied to each other, so the actor spans structural holes).

use petgraph::graph::{NodeIndex, UnGraph};
use rustc_hash::FxHashMap;

use super::projection::Projection;

/// The projection without direction: one tie per pair, weights of both directions added.
pub fn undirected(projection: &Projection) -> UnGraph<usize, f64> {
    let mut pairs: FxHashMap<(usize, usize), f64> = FxHashMap::default();
    for (a, b, w) in projection.ties() {
        *pairs.entry((a.min(b), a.max(b))).or_default() += w;
    }
    let mut ties: Vec<((usize, usize), f64)> = pairs.into_iter().collect();
    ties.sort_unstable_by_key(|t| t.0);
    let mut graph = UnGraph::with_capacity(projection.node_count(), ties.len());
    for i in 0..projection.node_count() {
        graph.add_node(i);
    }
    for ((a, b), w) in ties {
        graph.add_edge(NodeIndex::new(a), NodeIndex::new(b), w);
    }
    graph
}

/// Whether each actor is an articulation point of the undirected projection.
pub fn articulation_points(projection: &Projection) -> Vec<bool> {
    let graph = undirected(projection);
    let mut points = vec![false; projection.node_count()];
    for index in petgraph::algo::articulation_points::articulation_points(&graph) {
        points[index.index()] = true;
    }
    points
}

/// Burt's constraint of each actor, as NetworkX computes it: for each partner j,
/// (p_ij + Σ_q p_iq p_qj)², summed, where p_ij is the share of i's tie weight (both
/// directions) that goes to j. `None` for an actor without partners.
pub fn constraint(projection: &Projection) -> Vec<Option<f64>> {
    let n = projection.node_count();
    let mut mutual: Vec<FxHashMap<usize, f64>> = vec![FxHashMap::default(); n];
    for (a, b, w) in projection.ties() {
        if a != b {
            *mutual[a].entry(b).or_default() += w;
            *mutual[b].entry(a).or_default() += w;
        }
    }
    let totals: Vec<f64> = mutual.iter().map(|m| m.values().fold(0.0, |s, w| s + w)).collect();
    let share = |i: usize, j: usize| -> f64 {
        match mutual[i].get(&j) {
            Some(w) if totals[i] > 0.0 => w / totals[i],
            _ => 0.0,
        }
    };
    (0..n)
        .map(|i| {
            if mutual[i].is_empty() {
                return None;
            }
            let total = mutual[i]
                .keys()
                .map(|&j| {
                    let indirect: f64 =
                        mutual[i].keys().filter(|&&q| q != j).fold(0.0, |s, &q| s + share(i, q) * share(q, j));
                    (share(i, j) + indirect).powi(2)
                })
                .fold(0.0, |s, c| s + c);
            Some(total)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::ProjectionOptions;

    #[test]
    fn the_bridge_between_two_triangles_is_the_broker() {
        // Triangles 0-1-2 and 3-4-5, joined through 2 - 6 - 3.
        let ids: Vec<u64> = (0..7).collect();
        let ties = [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (2, 6), (6, 3)];
        let ties: Vec<(u32, u32, f64)> = ties.iter().map(|&(a, b)| (a, b, 1.0)).collect();
        let p = Projection::from_ties(ProjectionOptions::default(), &ids, &ties);
        assert_eq!(articulation_points(&p), [false, false, true, true, false, false, true]);
        let c = constraint(&p);
        // 6's two partners share no tie: 2 × (1/2)² = 0.5; a triangle corner with no
        // outside tie is tightly held.
        assert!((c[6].unwrap() - 0.5).abs() < 1e-12, "{c:?}");
        assert!(c[0].unwrap() > c[2].unwrap() && c[2].unwrap() > c[6].unwrap(), "{c:?}");
        // NetworkX's nx.constraint gives 1.0069444444444444 and 0.6111111111111112.
        assert!((c[0].unwrap() - 1.006_944_444_444_444_4).abs() < 1e-12, "{c:?}");
        assert!((c[2].unwrap() - 0.611_111_111_111_111_2).abs() < 1e-12, "{c:?}");
    }
}
