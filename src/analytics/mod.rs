//! Graph analytics over a "who deals with whom" projection of the store: persons,
//! countries or organizations linked when they share events (`projection`), and the
//! algorithms that read it (`centrality`, `community`, `brokers`, `ties`, `path`).
//!
//! It may call `Store`'s read methods (label chunks, adjacency, node records) and
//! `petgraph`; it never writes to the store and knows nothing of the query language: the
//! `algo.*` procedures (`query::procedures`) and the `analyze` command both call it.

pub mod brokers;
pub mod centrality;
pub mod community;
pub mod options;
pub mod path;
pub mod projection;
pub mod ties;

pub use options::{Level, OptionError, ProjectionOptions, Weight};
pub use projection::Projection;

use crate::store::StoreError;

/// Why an analysis could not run.
#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    /// An option (a key of the options map, or a command-line flag) is unacceptable.
    #[error("{0}")]
    Option(#[from] OptionError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The caller's deadline passed while the analysis ran.
    #[error("the analysis ran longer than its timeout and was stopped")]
    Timeout,
}
