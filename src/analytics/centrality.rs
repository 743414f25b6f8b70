//! Who is central: degree and strength, weighted PageRank, and betweenness (exact, or
//! estimated from a seeded sample of sources). Written against the projection's
//! neighbour lists: petgraph's own `page_rank` ignores weights and is quadratic.

use std::collections::VecDeque;
use std::time::Instant;

use super::projection::Projection;
use super::AnalyticsError;

/// Ties and their summed weight per actor.
#[derive(Clone, Debug, PartialEq)]
pub struct Degree {
    /// Distinct neighbours (in + out when directed).
    pub degree: usize,
    pub in_degree: usize,
    pub out_degree: usize,
    /// Summed tie weights (in + out when directed).
    pub strength: f64,
}

pub fn degree(projection: &Projection) -> Vec<Degree> {
    (0..projection.node_count())
        .map(|i| {
            let out = projection.out(i);
            let inc = projection.inc(i);
            let out_strength: f64 = out.iter().fold(0.0, |sum, (_, w)| sum + w);
            if projection.is_directed() {
                let in_strength: f64 = inc.iter().fold(0.0, |sum, (_, w)| sum + w);
                Degree {
                    degree: out.len() + inc.len(),
                    in_degree: inc.len(),
                    out_degree: out.len(),
                    strength: out_strength + in_strength,
                }
            } else {
                Degree { degree: out.len(), in_degree: out.len(), out_degree: out.len(), strength: out_strength }
            }
        })
        .collect()
}

/// PageRank's knobs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PageRankOptions {
    pub damping: f64,
    pub max_iterations: usize,
    /// Stops when the scores move by less than this in total (L1) per node.
    pub tolerance: f64,
}

impl Default for PageRankOptions {
    fn default() -> Self {
        PageRankOptions { damping: 0.85, max_iterations: 200, tolerance: 1e-10 }
    }
}

/// Weighted PageRank by power iteration: each actor passes its score on in proportion to
/// its ties' weights; an actor with no outgoing tie spreads its score over everyone (as
/// NetworkX does). Scores sum to 1. An undirected tie counts both ways.
pub fn page_rank(
    projection: &Projection,
    options: &PageRankOptions,
    deadline: Option<Instant>,
) -> Result<Vec<f64>, AnalyticsError> {
    let n = projection.node_count();
    if n == 0 {
        return Ok(Vec::new());
    }
    let nf = n as f64;
    let out_strength: Vec<f64> = (0..n).map(|i| projection.out(i).iter().fold(0.0, |sum, (_, w)| sum + w)).collect();
    let mut scores = vec![1.0 / nf; n];
    let mut next = vec![0.0; n];
    for _ in 0..options.max_iterations {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(AnalyticsError::Timeout);
        }
        let dangling: f64 = (0..n).filter(|&i| out_strength[i] == 0.0).map(|i| scores[i]).sum();
        let base = (1.0 - options.damping) / nf + options.damping * dangling / nf;
        next.iter_mut().for_each(|x| *x = base);
        for (i, &score) in scores.iter().enumerate() {
            if out_strength[i] == 0.0 {
                continue;
            }
            let share = options.damping * score / out_strength[i];
            for &(j, w) in projection.out(i) {
                next[j as usize] += share * w;
            }
        }
        let change: f64 = scores.iter().zip(&next).map(|(a, b)| (a - b).abs()).sum();
        std::mem::swap(&mut scores, &mut next);
        if change < options.tolerance * nf {
            break;
        }
    }
    Ok(scores)
}

/// Betweenness's knobs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BetweennessOptions {
    /// Estimate from this many sources chosen with `seed` instead of all of them.
    pub samples: Option<usize>,
    pub seed: u64,
    /// Divide by the number of pairs that could pass through an actor, as NetworkX's
    /// `normalized=True` does.
    pub normalized: bool,
}

impl Default for BetweennessOptions {
    fn default() -> Self {
        BetweennessOptions { samples: None, seed: 42, normalized: true }
    }
}

/// Betweenness centrality over shortest paths by number of ties (Brandes' algorithm),
/// following tie direction when the projection is directed.
pub fn betweenness(
    projection: &Projection,
    options: &BetweennessOptions,
    deadline: Option<Instant>,
) -> Result<Vec<f64>, AnalyticsError> {
    let n = projection.node_count();
    let mut scores = vec![0.0; n];
    let sources: Vec<usize> = match options.samples {
        Some(k) if k < n => SplitMix64::new(options.seed).sample(n, k),
        _ => (0..n).collect(),
    };
    let mut sigma = vec![0.0f64; n];
    let mut dist = vec![-1i64; n];
    let mut delta = vec![0.0f64; n];
    let mut preds: Vec<Vec<u32>> = vec![Vec::new(); n];
    let mut stack = Vec::with_capacity(n);
    let mut queue = VecDeque::with_capacity(n);
    for (round, &s) in sources.iter().enumerate() {
        if round % 64 == 0 && deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(AnalyticsError::Timeout);
        }
        for v in &stack {
            let v: usize = *v;
            sigma[v] = 0.0;
            dist[v] = -1;
            delta[v] = 0.0;
            preds[v].clear();
        }
        stack.clear();
        sigma[s] = 1.0;
        dist[s] = 0;
        queue.push_back(s);
        while let Some(v) = queue.pop_front() {
            stack.push(v);
            for &(w, _) in projection.out(v) {
                let w = w as usize;
                if dist[w] < 0 {
                    dist[w] = dist[v] + 1;
                    queue.push_back(w);
                }
                if dist[w] == dist[v] + 1 {
                    sigma[w] += sigma[v];
                    preds[w].push(u32::try_from(v).unwrap_or(u32::MAX));
                }
            }
        }
        for &w in stack.iter().rev() {
            for &v in &preds[w] {
                let v = v as usize;
                delta[v] += sigma[v] / sigma[w] * (1.0 + delta[w]);
            }
            if w != s {
                scores[w] += delta[w];
            }
        }
    }
    // Each unordered pair was counted from both ends when undirected.
    let mut scale = if projection.is_directed() { 1.0 } else { 0.5 };
    if sources.len() < n && !sources.is_empty() {
        scale *= n as f64 / sources.len() as f64;
    }
    if options.normalized && n > 2 {
        let pairs = ((n - 1) * (n - 2)) as f64;
        scale *= if projection.is_directed() { 1.0 / pairs } else { 2.0 / pairs };
    }
    scores.iter_mut().for_each(|x| *x *= scale);
    Ok(scores)
}

/// A small seeded generator (SplitMix64): the same seed gives the same sample on every
/// machine, which a reproducible analysis needs.
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        let n = n as u64;
        usize::try_from(self.next_u64() % n).unwrap_or(0)
    }

    /// `k` distinct numbers of `0..n`, by a partial Fisher–Yates shuffle.
    pub fn sample(&mut self, n: usize, k: usize) -> Vec<usize> {
        let mut all: Vec<usize> = (0..n).collect();
        for i in 0..k.min(n) {
            let j = i + self.below(n - i);
            all.swap(i, j);
        }
        all.truncate(k.min(n));
        all
    }

    /// Shuffles `items` in place.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::ProjectionOptions;

    fn graph(n: u32, ties: &[(u32, u32)], directed: bool) -> Projection {
        let ids: Vec<u64> = (0..u64::from(n)).collect();
        let ties: Vec<(u32, u32, f64)> = ties.iter().map(|&(a, b)| (a, b, 1.0)).collect();
        Projection::from_ties(ProjectionOptions { directed, ..ProjectionOptions::default() }, &ids, &ties)
    }

    #[test]
    fn a_path_graphs_betweenness_is_known() {
        // 0 - 1 - 2 - 3 - 4: the middle lies on 4 of the 6 pairs that exclude it, its
        // neighbours on 3, the ends on none (NetworkX: 0, 0.5, 0.667, 0.5, 0).
        let path = graph(5, &[(0, 1), (1, 2), (2, 3), (3, 4)], false);
        let scores = betweenness(&path, &BetweennessOptions::default(), None).expect("runs");
        let expected = [0.0, 0.5, 2.0 / 3.0, 0.5, 0.0];
        for (got, want) in scores.iter().zip(expected) {
            assert!((got - want).abs() < 1e-12, "{scores:?}");
        }
        let raw = betweenness(&path, &BetweennessOptions { normalized: false, ..Default::default() }, None).unwrap();
        assert_eq!(raw, [0.0, 3.0, 4.0, 3.0, 0.0]);
        // Sampling every source is the exact answer.
        let all = BetweennessOptions { samples: Some(5), ..Default::default() };
        assert_eq!(betweenness(&path, &all, None).unwrap(), scores);
    }

    #[test]
    fn a_stars_centre_has_the_most_pagerank() {
        // A star of 1 + 4 undirected ties: by symmetry the leaves share what the centre
        // lacks; the centre's score solves x = 0.15/5 + 0.85 * 4 * (1-x)/4.
        let star = graph(5, &[(0, 1), (0, 2), (0, 3), (0, 4)], false);
        let scores = page_rank(&star, &PageRankOptions::default(), None).expect("runs");
        let centre = (0.15 / 5.0 + 0.85) / 1.85;
        assert!((scores[0] - centre).abs() < 1e-9, "{scores:?}");
        // NetworkX (tolerance 1e-6) gives 0.47567668878363595.
        assert!((scores[0] - 0.475_676_688_783_635_95).abs() < 1e-5);
        assert!((scores.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        for leaf in &scores[1..] {
            assert!((leaf - (1.0 - centre) / 4.0).abs() < 1e-9);
        }
    }

    #[test]
    fn weights_steer_pagerank_and_dangling_actors_spread_their_score() {
        // 0 → 1 (weight 9), 0 → 2 (weight 1); 1 and 2 have no outgoing tie.
        let ids = [10, 11, 12];
        let options = ProjectionOptions { directed: true, ..ProjectionOptions::default() };
        let p = Projection::from_ties(options, &ids, &[(0, 1, 9.0), (0, 2, 1.0)]);
        let scores = page_rank(&p, &PageRankOptions::default(), None).expect("runs");
        assert!(scores[1] > scores[2] && scores[2] > scores[0], "{scores:?}");
        assert!((scores.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        let d = degree(&p);
        assert_eq!((d[0].out_degree, d[0].in_degree, d[0].strength), (2, 0, 10.0));
        assert_eq!((d[1].degree, d[1].strength), (1, 9.0));
    }

    #[test]
    fn the_same_seed_draws_the_same_sample() {
        let a = SplitMix64::new(7).sample(100, 10);
        assert_eq!(a, SplitMix64::new(7).sample(100, 10));
        assert_ne!(a, SplitMix64::new(8).sample(100, 10));
        let mut distinct = a.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), 10);
    }
}
