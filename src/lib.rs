//! diplograph: facts extracted from news articles in, a durable typed property graph
//! of diplomatic events out, and a read-only openCypher subset to ask it questions.

pub mod model;
pub mod store;
pub mod query;
pub mod cli;
pub mod ingest;
pub mod ontology;
pub mod check;
pub mod dump;
