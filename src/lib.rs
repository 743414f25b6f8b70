//! diplograph: facts extracted from news articles in, a durable typed property graph
//! of diplomatic events out, and a read-only openCypher subset to ask it questions.

pub mod analytics;
pub mod check;
pub mod cli;
pub mod dump;
pub mod export;
pub mod import;
pub mod ingest;
pub mod model;
pub mod ontology;
pub mod query;
pub mod serve;
pub mod store;
pub mod temporal;
