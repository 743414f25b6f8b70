//! The strongest chain of ties between two actors: a shortest path where a tie costs the
//! inverse of its weight (a tie twice as strong is half as long), found by petgraph's A*
//! search with no estimate (Dijkstra). Direction is followed when the projection has it.

use petgraph::graph::NodeIndex;

use super::brokers::undirected;
use super::projection::Projection;

/// A path as actor indexes, its total cost and the weight of each tie on it.
#[derive(Clone, Debug, PartialEq)]
pub struct WeightedPath {
    pub actors: Vec<usize>,
    pub cost: f64,
    pub weights: Vec<f64>,
}

/// The cheapest path from `source` to `target`, or `None` when no chain of ties joins them.
pub fn strongest_path(projection: &Projection, source: usize, target: usize) -> Option<WeightedPath> {
    let goal = NodeIndex::new(target);
    let start = NodeIndex::new(source);
    let found = if projection.is_directed() {
        let graph = &projection.graph;
        petgraph::algo::astar(graph, start, |n| n == goal, |e| 1.0 / *e.weight(), |_| 0.0)
    } else {
        let graph = undirected(projection);
        petgraph::algo::astar(&graph, start, |n| n == goal, |e| 1.0 / *e.weight(), |_| 0.0)
    };
    let (cost, nodes) = found?;
    let actors: Vec<usize> = nodes.iter().map(|n| n.index()).collect();
    let weights = actors
        .windows(2)
        .map(|pair| {
            let forward = projection.out(pair[0]).iter().find(|(j, _)| *j as usize == pair[1]).map(|(_, w)| *w);
            forward.unwrap_or(0.0)
        })
        .collect();
    Some(WeightedPath { actors, cost, weights })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::ProjectionOptions;

    #[test]
    fn two_strong_ties_beat_one_weak_tie() {
        // 0 - 2 directly with weight 1 (cost 1), or 0 - 1 - 2 with weight 4 each (cost 0.5).
        let ids = [5, 6, 7, 8];
        let p = Projection::from_ties(ProjectionOptions::default(), &ids, &[(0, 2, 1.0), (0, 1, 4.0), (1, 2, 4.0)]);
        let path = strongest_path(&p, 2, 0).expect("joined");
        assert_eq!(path.actors, [2, 1, 0]);
        assert!((path.cost - 0.5).abs() < 1e-12);
        assert_eq!(path.weights, [4.0, 4.0]);
        assert!(strongest_path(&p, 0, 3).is_none(), "3 has no tie");
        let directed = ProjectionOptions { directed: true, ..ProjectionOptions::default() };
        let p = Projection::from_ties(directed, &ids, &[(0, 1, 1.0), (1, 2, 1.0)]);
        assert_eq!(strongest_path(&p, 0, 2).map(|p| p.actors), Some(vec![0, 1, 2]));
        assert!(strongest_path(&p, 2, 0).is_none(), "ties are followed in their direction");
    }
}
