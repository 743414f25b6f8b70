//! `analyze`: the graph analytics from the command line. Each subcommand runs the same
//! `algo.*` procedure a query would (`CALL algo.pageRank($options) …`), with the options
//! map built from the projection flags, and prints names and ids instead of whole nodes.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};

use super::query_cmd::RowFormat;
use super::Failure;
use crate::analytics::OptionError;
use crate::model::Value;
use crate::query::{self, format, Params, QueryOptions};
use crate::store::Store;

/// The projection, as flags (the keys of the procedures' options map).
#[derive(Args, Clone, Debug)]
pub struct ProjectionFlags {
    /// Who the nodes are: person, country (persons stand for the countries they represent) or organization.
    #[arg(long, value_name = "LEVEL")]
    level: Option<String>,
    /// Instead of --level: nodes carrying any of these labels (comma-separated).
    #[arg(long, value_name = "LABEL,…", value_delimiter = ',', conflicts_with = "level")]
    labels: Vec<String>,
    /// Only these event types (comma-separated labels or types: Visit,meeting).
    #[arg(long, value_name = "TYPE,…", value_delimiter = ',')]
    event_types: Vec<String>,
    /// Only events that can fall on or after this date (YYYY, YYYY-MM or YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    from: Option<String>,
    /// Only events that can fall on or before this date.
    #[arg(long, value_name = "DATE")]
    to: Option<String>,
    /// Ties run from visitor to host/destination, giver to recipient, inviter to invitee.
    #[arg(long)]
    directed: bool,
    /// What a tie weighs: events (default), articles (distinct reports) or newman (1/(n−1) per event).
    #[arg(long, value_name = "WEIGHT")]
    weight: Option<String>,
    /// Drop ties lighter than this.
    #[arg(long, value_name = "W")]
    min_weight: Option<f64>,
    #[arg(long, value_enum, default_value_t = RowFormat::Table)]
    format: RowFormat,
    /// Print only the first N rows.
    #[arg(long, value_name = "N")]
    limit: Option<u64>,
    /// Stop after this many seconds (0 = no limit).
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    timeout: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CommunityAlgorithm {
    Louvain,
    LabelPropagation,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PeriodFlag {
    Month,
    Quarter,
    Year,
}

#[derive(Subcommand, Clone, Debug)]
pub enum Analysis {
    /// Weighted PageRank of each actor, highest first.
    Pagerank {
        #[command(flatten)]
        projection: ProjectionFlags,
        /// Damping factor.
        #[arg(long, value_name = "D", default_value_t = 0.85)]
        damping: f64,
    },
    /// Betweenness centrality (shortest paths by ties), highest first.
    Betweenness {
        #[command(flatten)]
        projection: ProjectionFlags,
        /// Estimate from this many sampled sources (large projections).
        #[arg(long, value_name = "K")]
        samples: Option<u64>,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Communities (Louvain with its modularity, or label propagation).
    Communities {
        #[command(flatten)]
        projection: ProjectionFlags,
        #[arg(long, value_enum, default_value_t = CommunityAlgorithm::Louvain)]
        algorithm: CommunityAlgorithm,
        /// Louvain's resolution: above 1 favours smaller communities.
        #[arg(long, value_name = "R", default_value_t = 1.0)]
        resolution: f64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
    /// Brokers: articulation points first, then the least constrained (Burt).
    Brokers {
        #[command(flatten)]
        projection: ProjectionFlags,
    },
    /// Events per pair per month, quarter or year.
    Dyads {
        #[command(flatten)]
        projection: ProjectionFlags,
        #[arg(long, value_enum, default_value_t = PeriodFlag::Year)]
        period: PeriodFlag,
    },
    /// Pairs whose tie strengthened or weakened between two windows, largest change first.
    Drift {
        #[command(flatten)]
        projection: ProjectionFlags,
        /// The first window: FROM,TO.
        #[arg(long, value_name = "FROM,TO", value_delimiter = ',', num_args = 1, required = true)]
        before: Vec<String>,
        /// The second window: FROM,TO.
        #[arg(long, value_name = "FROM,TO", value_delimiter = ',', num_args = 1, required = true)]
        after: Vec<String>,
    },
    /// The projection itself: one row per tie with its weight (an edge list for other tools).
    Ties {
        #[command(flatten)]
        projection: ProjectionFlags,
    },
}

pub fn analyze(store: &Store, analysis: Analysis) -> Result<u8, Failure> {
    let (projection, mut options, text) = plan(&analysis);
    add_projection_options(projection, &mut options);
    let limit = projection.limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
    let text = format!("{text}{limit}");
    let params = Params::from([("options".to_string(), Value::Map(options))]);
    let timeout = match projection.timeout {
        t if !t.is_finite() || t < 0.0 => {
            return Err(Failure::Message("--timeout takes a number of seconds, 0 for none".into()))
        }
        0.0 => None,
        t => Some(Duration::from_secs_f64(t)),
    };
    let query_options = QueryOptions { timeout, ..QueryOptions::default() };
    let failure = |e: query::QueryError| Failure::Message(flag_message(&e.message));
    let prepared = query::prepare(store, &text, &query_options).map_err(failure)?;
    let rows = prepared.execute(store, &params).map_err(failure)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = match projection.format {
        RowFormat::Table => format::write_table(&mut out, prepared.columns(), rows),
        RowFormat::Json => format::write_json(&mut out, prepared.columns(), rows),
        RowFormat::Csv => format::write_csv(&mut out, prepared.columns(), rows),
    };
    let flushed = out.flush();
    match written {
        Ok(_) => {}
        Err(err) if err.is_broken_pipe() => return Err(Failure::BrokenPipe),
        Err(format::FormatError::Query(e)) => return Err(failure(e)),
        Err(format::FormatError::Io(e)) => return Err(Failure::from(e)),
    }
    flushed.map_err(Failure::from)?;
    Ok(0)
}

/// The subcommand's flags, its own options and its query.
fn plan(analysis: &Analysis) -> (&ProjectionFlags, BTreeMap<String, Value>, String) {
    let mut options = BTreeMap::new();
    let float = |x: f64| Value::Float(x);
    let int = |n: u64| Value::Int(i64::try_from(n).unwrap_or(i64::MAX));
    let ranked = |procedure: &str| {
        format!(
            "CALL {procedure}($options) YIELD node, score RETURN node.name AS name, node.id AS id, score ORDER BY score DESC, id"
        )
    };
    match analysis {
        Analysis::Pagerank { projection, damping } => {
            options.insert("dampingFactor".into(), float(*damping));
            (projection, options, ranked("algo.pageRank"))
        }
        Analysis::Betweenness { projection, samples, seed } => {
            if let Some(k) = samples {
                options.insert("samples".into(), int(*k));
            }
            options.insert("seed".into(), int(*seed));
            (projection, options, ranked("algo.betweenness"))
        }
        Analysis::Communities { projection, algorithm: CommunityAlgorithm::Louvain, resolution, seed } => {
            options.insert("resolution".into(), float(*resolution));
            options.insert("seed".into(), int(*seed));
            let text = "CALL algo.louvain($options) YIELD node, community, modularity \
                        RETURN community, node.name AS name, node.id AS id, modularity ORDER BY community, id";
            (projection, options, text.to_string())
        }
        Analysis::Communities { projection, algorithm: CommunityAlgorithm::LabelPropagation, seed, .. } => {
            options.insert("seed".into(), int(*seed));
            let text = "CALL algo.labelPropagation($options) YIELD node, community \
                        RETURN community, node.name AS name, node.id AS id ORDER BY community, id";
            (projection, options, text.to_string())
        }
        Analysis::Brokers { projection } => {
            let text = "CALL algo.brokers($options) YIELD node, articulationPoint, constraint \
                        RETURN node.name AS name, node.id AS id, articulationPoint AS articulation_point, constraint";
            (projection, options, text.to_string())
        }
        Analysis::Dyads { projection, period } => {
            let period = match period {
                PeriodFlag::Month => "month",
                PeriodFlag::Quarter => "quarter",
                PeriodFlag::Year => "year",
            };
            options.insert("period".into(), Value::Str(period.into()));
            let text = "CALL algo.dyads($options) YIELD a, b, period, events, weight \
                        RETURN a.name AS a, b.name AS b, period, events, weight, a.id AS a_id, b.id AS b_id \
                        ORDER BY a_id, b_id, period";
            (projection, options, text.to_string())
        }
        Analysis::Drift { projection, before, after } => {
            let window = |dates: &[String]| Value::List(dates.iter().map(|d| Value::Str(d.clone())).collect());
            options.insert("before".into(), window(before));
            options.insert("after".into(), window(after));
            let text = "CALL algo.drift($options) YIELD a, b, before, after, change \
                        RETURN a.name AS a, b.name AS b, before, after, change, a.id AS a_id, b.id AS b_id";
            (projection, options, text.to_string())
        }
        Analysis::Ties { projection } => {
            let text = "CALL algo.ties($options) YIELD source, target, weight \
                        RETURN source.id AS source, target.id AS target, weight, \
                        source.name AS source_name, target.name AS target_name";
            (projection, options, text.to_string())
        }
    }
}

fn add_projection_options(flags: &ProjectionFlags, options: &mut BTreeMap<String, Value>) {
    let text = |s: &String| Value::Str(s.clone());
    let list = |items: &[String]| Value::List(items.iter().map(|s| Value::Str(s.clone())).collect());
    if let Some(level) = &flags.level {
        options.insert("level".into(), text(level));
    }
    if !flags.labels.is_empty() {
        options.insert("labels".into(), list(&flags.labels));
    }
    if !flags.event_types.is_empty() {
        options.insert("eventTypes".into(), list(&flags.event_types));
    }
    if let Some(from) = &flags.from {
        options.insert("from".into(), text(from));
    }
    if let Some(to) = &flags.to {
        options.insert("to".into(), text(to));
    }
    if flags.directed {
        options.insert("directed".into(), Value::Bool(true));
    }
    if let Some(weight) = &flags.weight {
        options.insert("weight".into(), text(weight));
    }
    if let Some(min) = flags.min_weight {
        options.insert("minWeight".into(), Value::Float(min));
    }
}

/// A procedure's message about an option, as the flag the user typed:
/// "algo.pageRank: argument `options`: option `eventTypes`: unknown …" → "--event-types: unknown …".
fn flag_message(message: &str) -> String {
    let Some((_, rest)) = message.split_once("argument `options`: option `") else { return message.to_string() };
    let Some((option, reason)) = rest.split_once("`: ") else { return message.to_string() };
    let flag = match option {
        "dampingFactor" => "--damping".to_string(),
        "before" | "after" => format!("--{option}"),
        _ => OptionError::new(option, "").flag(),
    };
    format!("{flag}: {reason}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_messages_name_the_flag() {
        assert_eq!(
            flag_message("algo.pageRank: argument `options`: option `eventTypes`: unknown event type 'Vist'"),
            "--event-types: unknown event type 'Vist'"
        );
        assert_eq!(
            flag_message("algo.pageRank: argument `options`: option `dampingFactor`: expected a number from 0 to 1"),
            "--damping: expected a number from 0 to 1"
        );
        assert_eq!(flag_message("the query ran longer than its timeout"), "the query ran longer than its timeout");
    }
}
