//! Rendering of CLI results (stats) and the error type the CLI reports.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use serde_json::json;

use super::Format;
use crate::ingest::IngestError;
use crate::store::{Stats, StoreError};

/// Why a command failed: a message for the user, or a closed stdout pipe (not an error).
#[derive(Debug)]
pub enum Failure {
    Message(String),
    BrokenPipe,
}

impl From<std::io::Error> for Failure {
    fn from(err: std::io::Error) -> Self {
        if err.kind() == std::io::ErrorKind::BrokenPipe {
            Failure::BrokenPipe
        } else {
            Failure::Message(format!("cannot write output: {err}"))
        }
    }
}

impl From<StoreError> for Failure {
    fn from(err: StoreError) -> Self {
        Failure::Message(err.to_string())
    }
}

impl From<IngestError> for Failure {
    fn from(err: IngestError) -> Self {
        Failure::Message(err.to_string())
    }
}

pub fn new_table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED);
    table.set_header(header.to_vec());
    table
}

pub fn stats_json(stats: &Stats) -> serde_json::Value {
    json!({
        "nodes": stats.labels,
        "edges": stats.edge_types,
        "total_nodes": stats.nodes,
        "total_edges": stats.edges,
    })
}

pub fn print_stats(console: &mut super::Console, stats: &Stats, format: Format) -> Result<(), Failure> {
    let text = match format {
        Format::Json => format!("{}\n", stats_json(stats)),
        Format::Table => {
            let mut nodes = new_table(&["label", "nodes"]);
            for (label, count) in &stats.labels {
                nodes.add_row(vec![label.clone(), count.to_string()]);
            }
            nodes.add_row(vec!["(total)".to_string(), stats.nodes.to_string()]);
            let mut edges = new_table(&["edge type", "edges"]);
            for (edge_type, count) in &stats.edge_types {
                edges.add_row(vec![edge_type.clone(), count.to_string()]);
            }
            edges.add_row(vec!["(total)".to_string(), stats.edges.to_string()]);
            format!("{nodes}\n{edges}\n")
        }
    };
    console.print(&text)
}
