//! Ties over time and alike: events per pair per month, quarter or year (dyads), pairs
//! whose tie strengthened or weakened between two windows (drift), and pairs whose
//! partners overlap (Jaccard similarity).

use std::time::Instant;

use rustc_hash::{FxHashMap, FxHashSet};

use super::options::{date_start, ProjectionOptions, Weight};
use super::projection::{scan_events, Projection};
use super::AnalyticsError;
use crate::model::NodeId;
use crate::store::Store;

/// The bucket a dyad count falls in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    Month,
    Quarter,
    Year,
}

impl Period {
    /// `2024-03`, `2024-Q1` or `2024`; `None` when the date is coarser than the period.
    pub fn of(self, date: &str) -> Option<String> {
        let year = date.get(..4)?;
        match self {
            Period::Year => Some(year.to_string()),
            Period::Month => date.get(..7).filter(|m| m.len() == 7).map(str::to_string),
            Period::Quarter => {
                let month: u32 = date.get(5..7)?.parse().ok()?;
                Some(format!("{year}-Q{}", month.div_ceil(3)))
            }
        }
    }
}

/// Events between one pair in one period.
#[derive(Clone, Debug, PartialEq)]
pub struct Dyad {
    pub a: NodeId,
    pub b: NodeId,
    pub period: String,
    pub events: u64,
    /// The tie's weight within the period, as the projection weighs it.
    pub weight: f64,
}

/// Events, summed weight and reporting articles of one pair in one period.
type PeriodTally = (u64, f64, FxHashSet<NodeId>);

/// Per pair and period: how many events, and their weight. Events dated more coarsely
/// than the period (or undated) are left out. Sorted by pair, then period.
pub fn dyads(
    store: &Store,
    options: &ProjectionOptions,
    period: Period,
    deadline: Option<Instant>,
) -> Result<Vec<Dyad>, AnalyticsError> {
    let mut counts: FxHashMap<(u32, u32, String), PeriodTally> = FxHashMap::default();
    let actors = scan_events(store, options, true, deadline, |event| {
        let Some(bucket) = event.date.as_deref().and_then(|d| period.of(d)) else { return };
        let n = event.actors().len();
        for pair in event.pairs(options.directed) {
            let entry = counts.entry((pair.0, pair.1, bucket.clone())).or_default();
            entry.0 += 1;
            match options.weight {
                Weight::Events => entry.1 += 1.0,
                Weight::Newman if n >= 2 => entry.1 += 1.0 / (n - 1) as f64,
                Weight::Newman => {}
                Weight::Articles => entry.2.extend(event.articles.iter().copied()),
            }
        }
    })?;
    let mut out: Vec<Dyad> = counts
        .into_iter()
        .map(|((a, b, period), (events, weight, articles))| {
            let weight = if options.weight == Weight::Articles { articles.len() as f64 } else { weight };
            let (a, b) = (actors.ids[a as usize], actors.ids[b as usize]);
            let (a, b) = if options.directed || a < b { (a, b) } else { (b, a) };
            Dyad { a, b, period, events, weight }
        })
        .filter(|d| d.weight >= options.min_weight)
        .collect();
    out.sort_unstable_by(|x, y| (x.a, x.b, &x.period).cmp(&(y.a, y.b, &y.period)));
    Ok(out)
}

/// A tie's weight in two windows.
#[derive(Clone, Debug, PartialEq)]
pub struct Drift {
    pub a: NodeId,
    pub b: NodeId,
    pub before: f64,
    pub after: f64,
}

impl Drift {
    pub fn change(&self) -> f64 {
        self.after - self.before
    }
}

/// Pairs whose tie differs between the projections of two windows, largest change
/// first (ties broken by the pair).
pub fn drift(before: &Projection, after: &Projection) -> Vec<Drift> {
    let weights = |p: &Projection| -> FxHashMap<(NodeId, NodeId), f64> {
        p.ties()
            .map(|(a, b, w)| {
                let (a, b) = (p.actor(a), p.actor(b));
                let key = if p.is_directed() || a < b { (a, b) } else { (b, a) };
                (key, w)
            })
            .collect()
    };
    let (old, new) = (weights(before), weights(after));
    let mut pairs: Vec<(NodeId, NodeId)> = old.keys().chain(new.keys()).copied().collect();
    pairs.sort_unstable();
    pairs.dedup();
    let mut out: Vec<Drift> = pairs
        .into_iter()
        .map(|(a, b)| Drift {
            a,
            b,
            before: old.get(&(a, b)).copied().unwrap_or(0.0),
            after: new.get(&(a, b)).copied().unwrap_or(0.0),
        })
        .filter(|d| d.change() != 0.0)
        .collect();
    out.sort_by(|x, y| y.change().abs().total_cmp(&x.change().abs()).then((x.a, x.b).cmp(&(y.a, y.b))));
    out
}

/// Two actors' partner overlap.
#[derive(Clone, Debug, PartialEq)]
pub struct Similar {
    pub a: usize,
    pub b: usize,
    pub shared: usize,
    pub jaccard: f64,
}

/// Jaccard similarity of partner sets (either direction), for each pair sharing at least
/// one partner and reaching `min_similarity`; highest first.
pub fn similarity(projection: &Projection, min_similarity: f64) -> Vec<Similar> {
    let n = projection.node_count();
    let partners: Vec<Vec<u32>> = (0..n)
        .map(|i| {
            let mut all: Vec<u32> = projection.out(i).iter().chain(projection.inc(i)).map(|&(j, _)| j).collect();
            all.sort_unstable();
            all.dedup();
            all.retain(|&j| j as usize != i);
            all
        })
        .collect();
    // Pairs sharing a partner are found through that partner: Σ degree² work, not n².
    let mut shared: FxHashMap<(u32, u32), usize> = FxHashMap::default();
    for list in &partners {
        for (x, &a) in list.iter().enumerate() {
            for &b in &list[x + 1..] {
                *shared.entry((a, b)).or_default() += 1;
            }
        }
    }
    let mut out: Vec<Similar> = shared
        .into_iter()
        .map(|((a, b), common)| {
            let union = partners[a as usize].len() + partners[b as usize].len() - common;
            Similar { a: a as usize, b: b as usize, shared: common, jaccard: common as f64 / union as f64 }
        })
        .filter(|s| s.jaccard >= min_similarity)
        .collect();
    out.sort_by(|x, y| y.jaccard.total_cmp(&x.jaccard).then((x.a, x.b).cmp(&(y.a, y.b))));
    out
}

/// The window a drift compares: `[from, to]`.
pub fn window(options: &ProjectionOptions, from: &str, to: &str) -> ProjectionOptions {
    ProjectionOptions { from: Some(from.to_string()), to: Some(to.to_string()), ..options.clone() }
}

/// Whether `[a_from, a_to]` ends before `[b_from, b_to]` starts.
pub fn windows_in_order(a_to: &str, b_from: &str) -> bool {
    super::options::date_end(a_to) < date_start(b_from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_bucket_dates_of_enough_precision() {
        assert_eq!(Period::Month.of("2024-03-09").as_deref(), Some("2024-03"));
        assert_eq!(Period::Month.of("2024").as_deref(), None);
        assert_eq!(Period::Quarter.of("2024-03").as_deref(), Some("2024-Q1"));
        assert_eq!(Period::Quarter.of("2024-10-01").as_deref(), Some("2024-Q4"));
        assert_eq!(Period::Quarter.of("2024").as_deref(), None);
        assert_eq!(Period::Year.of("2024-12").as_deref(), Some("2024"));
    }

    #[test]
    fn jaccard_counts_shared_partners_over_all_partners() {
        // 0 and 1 both deal with 2 and 3; 1 also with 4.
        let ids: Vec<u64> = (0..5).collect();
        let ties = [(0, 2, 1.0), (0, 3, 1.0), (1, 2, 1.0), (1, 3, 1.0), (1, 4, 1.0)];
        let p = Projection::from_ties(ProjectionOptions::default(), &ids, &ties);
        let found = similarity(&p, 0.0);
        let pair = found.iter().find(|s| (s.a, s.b) == (0, 1)).expect("0 and 1 share partners");
        assert_eq!(pair.shared, 2);
        assert!((pair.jaccard - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(found[0].jaccard, 1.0, "2 and 3 have the same partners: {found:?}");
        assert!(similarity(&p, 0.9).iter().all(|s| s.jaccard >= 0.9));
    }

    #[test]
    fn drift_reports_ties_that_changed_largest_first() {
        let ids = [10, 11, 12];
        let before = Projection::from_ties(ProjectionOptions::default(), &ids, &[(0, 1, 3.0), (1, 2, 1.0)]);
        let after = Projection::from_ties(ProjectionOptions::default(), &ids, &[(0, 1, 1.0), (0, 2, 4.0), (1, 2, 1.0)]);
        let changes = drift(&before, &after);
        assert_eq!(changes.len(), 2);
        assert_eq!((changes[0].a, changes[0].b, changes[0].before, changes[0].after), (10, 12, 0.0, 4.0));
        assert_eq!((changes[1].a, changes[1].b, changes[1].change()), (10, 11, -2.0));
    }
}
