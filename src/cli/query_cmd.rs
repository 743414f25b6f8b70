//! `query` and `shell`: read a query, bind parameters, run it through the engine and
//! print rows as a table, JSON or CSV. Bad queries get the engine's caret diagnostics.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};

use super::{output, Console, Failure};
use crate::model::Value;
use crate::query::{self, format, CancelFlag, Params, QueryError, QueryOptions};
use crate::store::Store;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RowFormat {
    Table,
    Json,
    Csv,
}

#[derive(Args)]
pub struct QueryArgs {
    /// The query text; omit it to read -f FILE or stdin.
    query: Option<String>,
    /// Read the query from this file.
    #[arg(short = 'f', long = "file", value_name = "FILE", conflicts_with = "query")]
    file: Option<PathBuf>,
    /// A parameter, `name=value`; the value is read as JSON when it parses, else as a string.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
    #[arg(long, value_enum, default_value_t = RowFormat::Table)]
    format: RowFormat,
    /// Stop the query after this many seconds (0 = no limit).
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    timeout: f64,
    /// Refuse to hold more than this many rows in memory (ORDER BY, DISTINCT, aggregation) or return
    /// more [default: a quarter of the available memory at ~1 KiB a row, at least 100,000].
    #[arg(long, value_name = "N")]
    max_rows: Option<u64>,
    /// Print the plan instead of running the query.
    #[arg(long)]
    explain: bool,
    /// Print parse+plan and execution times to stderr.
    #[arg(long)]
    timing: bool,
    /// Plan without indexes (full scans): for checking the planner.
    #[arg(long, hide = true)]
    no_index: bool,
}

#[derive(Args)]
pub struct ShellArgs {
    #[arg(long, value_enum, default_value_t = RowFormat::Table)]
    format: RowFormat,
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    timeout: f64,
}

pub fn query(console: &mut Console, store: &Store, args: QueryArgs) -> Result<u8, Failure> {
    query_within(console, store, args, None)
}

/// The server's limits on a query it runs for a forwarding CLI: the longest it may take,
/// and the flag that stops it when that client goes away.
pub struct Limits {
    pub timeout: Duration,
    pub cancel: CancelFlag,
}

/// `query`, within a server's limits when `limits` is given.
pub fn query_within(
    console: &mut Console,
    store: &Store,
    args: QueryArgs,
    limits: Option<Limits>,
) -> Result<u8, Failure> {
    let text = args.text()?;
    let params = parse_params(&args.params)?;
    let mut options = QueryOptions {
        use_indexes: !args.no_index,
        timeout: timeout(args.timeout)?,
        max_rows: Some(args.max_rows.unwrap_or_else(default_max_rows)),
        cancel: None,
    };
    if let Some(limits) = limits {
        options.timeout = Some(options.timeout.map_or(limits.timeout, |t| t.min(limits.timeout)));
        options.cancel = Some(limits.cancel);
    }
    run_query(console, store, &text, &params, &options, args.format, args.explain, args.timing)
}

impl QueryArgs {
    /// The query text: the argument, the file's contents, or stdin.
    pub fn text(&self) -> Result<String, Failure> {
        Ok(match (&self.query, &self.file) {
            (Some(text), _) => text.clone(),
            (None, Some(path)) => std::fs::read_to_string(path)
                .map_err(|e| Failure::Message(format!("cannot read query file {}: {e}", path.display())))?,
            (None, None) => {
                if std::io::stdin().is_terminal() {
                    return Err(Failure::Message(
                        "no query given: pass it as an argument, with -f FILE, or on stdin".into(),
                    ));
                }
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .map_err(|e| Failure::Message(format!("cannot read the query from stdin: {e}")))?;
                text
            }
        })
    }

    /// The same arguments with `text` as the query (a forwarding CLI read the file or stdin).
    pub fn with_text(mut self, text: String) -> QueryArgs {
        self.query = Some(text);
        self.file = None;
        self
    }
}

/// The row cap when none is given: a quarter of the memory available now, counted at about
/// 1 KiB per held row, so a runaway DISTINCT or ORDER BY stops before the machine swaps.
fn default_max_rows() -> u64 {
    const ROW_BYTES: u64 = 1024;
    let available_kib = std::fs::read_to_string("/proc/meminfo").ok().and_then(|info| {
        info.lines()
            .find(|l| l.starts_with("MemAvailable:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kib| kib.parse::<u64>().ok())
    });
    match available_kib {
        Some(kib) => (kib.saturating_mul(1024) / 4 / ROW_BYTES).max(100_000),
        None => 5_000_000,
    }
}

fn timeout(seconds: f64) -> Result<Option<Duration>, Failure> {
    if !seconds.is_finite() || seconds < 0.0 {
        return Err(Failure::Message("--timeout takes a number of seconds, 0 for none".into()));
    }
    Ok((seconds > 0.0).then(|| Duration::from_secs_f64(seconds)))
}

/// Runs one query and prints it; a query error is printed with its caret and gives exit 2.
#[allow(clippy::too_many_arguments)]
fn run_query(
    console: &mut Console,
    store: &Store,
    text: &str,
    params: &Params,
    options: &QueryOptions,
    format: RowFormat,
    explain: bool,
    timing: bool,
) -> Result<u8, Failure> {
    let started = Instant::now();
    let prepared = match query::prepare(store, text, options) {
        Ok(prepared) => prepared,
        Err(err) => return Err(query_failure(&err, text)),
    };
    let planned = started.elapsed();
    if explain {
        console.print(&format!("{}\n", prepared.explain()))?;
        return Ok(0);
    }
    let rows = prepared.execute(store, params).map_err(|e| query_failure(&e, text))?;
    let mut out = std::io::BufWriter::new(console.out());
    let written = match format {
        RowFormat::Table => format::write_table(&mut out, prepared.columns(), rows),
        RowFormat::Json => format::write_json(&mut out, prepared.columns(), rows),
        RowFormat::Csv => format::write_csv(&mut out, prepared.columns(), rows),
    };
    let flushed = out.flush();
    drop(out);
    if timing {
        console.eprint_line(&format!(
            "parse+plan: {:.3} ms, execute: {:.3} ms",
            ms(planned),
            ms(started.elapsed() - planned)
        ));
    }
    match written {
        Ok(_) => {}
        Err(err) if err.is_broken_pipe() => return Err(Failure::BrokenPipe),
        Err(format::FormatError::Query(err)) => return Err(query_failure(&err, text)),
        Err(format::FormatError::Io(err)) => return Err(Failure::from(err)),
    }
    flushed.map_err(Failure::from)?;
    Ok(0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn query_failure(err: &QueryError, text: &str) -> Failure {
    Failure::Message(err.render(text).trim_start_matches("error: ").to_string())
}

/// `name=value` pairs; a value that parses as JSON is taken as JSON, else as a string.
fn parse_params(raw: &[String]) -> Result<Params, Failure> {
    let mut params = Params::new();
    for item in raw {
        let Some((name, value)) = item.split_once('=') else {
            return Err(Failure::Message(format!(
                "--param '{item}': expected NAME=VALUE, e.g. --param giver='Vladimir Putin'"
            )));
        };
        let name = name.trim().trim_start_matches('$');
        if name.is_empty() {
            return Err(Failure::Message(format!("--param '{item}': the name is empty")));
        }
        let value = match serde_json::from_str::<serde_json::Value>(value) {
            Ok(json) => Value::from_json(&json),
            Err(_) => Value::Str(value.to_string()),
        };
        params.insert(name.to_string(), value);
    }
    Ok(params)
}

const SHELL_HELP: &str = "\
Enter openCypher queries ending with `;` (they may span lines).
  :help            this text
  :schema          labels, edge types and property keys with counts
  :format table|json|csv   how rows are printed
  :param name=value        set a parameter ($name); :params lists them
  :explain QUERY;  show the plan
  :quit            leave (or Ctrl-D)";

pub fn shell(store: &Store, args: ShellArgs) -> Result<u8, Failure> {
    let mut editor =
        rustyline::DefaultEditor::new().map_err(|e| Failure::Message(format!("cannot start the shell: {e}")))?;
    let history = std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".diplograph_history"));
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    let mut format = args.format;
    let mut params = Params::new();
    let options = QueryOptions {
        use_indexes: true,
        timeout: timeout(args.timeout)?,
        max_rows: Some(default_max_rows()),
        cancel: None,
    };
    eprintln!("diplograph shell on {} — :help for help, Ctrl-D to leave", store.path().display());
    let mut buffer = String::new();
    loop {
        let prompt = if buffer.is_empty() { "diplograph> " } else { "       ...> " };
        let line = match editor.readline(prompt) {
            Ok(line) => line,
            Err(rustyline::error::ReadlineError::Interrupted) => {
                buffer.clear();
                continue;
            }
            Err(rustyline::error::ReadlineError::Eof) => break,
            Err(e) => return Err(Failure::Message(format!("shell input failed: {e}"))),
        };
        let trimmed = line.trim();
        if buffer.is_empty() && trimmed.starts_with(':') {
            let _ = editor.add_history_entry(trimmed);
            match shell_command(store, trimmed, &mut format, &mut params, &options) {
                Ok(true) => continue,
                Ok(false) => break,
                Err(Failure::Message(m)) => eprintln!("error: {m}"),
                Err(Failure::BrokenPipe) => break,
            }
            continue;
        }
        buffer.push_str(&line);
        buffer.push('\n');
        if !trimmed.ends_with(';') {
            continue;
        }
        let statement = std::mem::take(&mut buffer);
        let _ = editor.add_history_entry(statement.trim());
        let text = statement.trim().trim_end_matches(';');
        if let Err(Failure::Message(m)) =
            run_query(&mut Console::stdio(), store, text, &params, &options, format, false, false)
        {
            eprintln!("error: {m}");
        }
    }
    if let Some(path) = &history {
        let _ = editor.save_history(path);
    }
    Ok(0)
}

/// A `:command`; returns false to leave the shell.
fn shell_command(
    store: &Store,
    line: &str,
    format: &mut RowFormat,
    params: &mut Params,
    options: &QueryOptions,
) -> Result<bool, Failure> {
    let (command, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let rest = rest.trim();
    match command {
        ":help" | ":h" => eprintln!("{SHELL_HELP}"),
        ":quit" | ":q" | ":exit" => return Ok(false),
        ":schema" => print_schema(store)?,
        ":format" => match <RowFormat as ValueEnum>::from_str(rest, true) {
            Ok(f) => *format = f,
            Err(_) => eprintln!("error: :format takes table, json or csv"),
        },
        ":param" => {
            let parsed = parse_params(&[rest.to_string()])?;
            params.extend(parsed);
        }
        ":params" => {
            for (name, value) in params.iter() {
                eprintln!("${name} = {value}");
            }
        }
        ":explain" => {
            let text = rest.trim_end_matches(';');
            run_query(&mut Console::stdio(), store, text, params, options, *format, true, false)?;
        }
        other => eprintln!("error: unknown command '{other}'; :help lists the commands"),
    }
    Ok(true)
}

/// Labels and edge types from the maintained statistics; property keys with counts from
/// up to 10,000 nodes per label and the first 100,000 edges (a sample on big stores).
fn print_schema(store: &Store) -> Result<(), Failure> {
    let stats = store.stats()?;
    let mut table = output::new_table(&["kind", "name", "count", "property keys"]);
    for (label, count) in &stats.labels {
        let mut keys = std::collections::BTreeMap::<String, u64>::new();
        for id in store.nodes_with_label(label).take(10_000) {
            if let Some(node) = store.node(id?)? {
                for key in node.props.keys() {
                    *keys.entry(key.clone()).or_default() += 1;
                }
            }
        }
        let keys: Vec<String> = keys.iter().map(|(k, n)| format!("{k} ({n})")).collect();
        table.add_row(vec!["label".to_string(), label.clone(), count.to_string(), keys.join(", ")]);
    }
    let mut edge_keys = std::collections::BTreeMap::<String, std::collections::BTreeMap<String, u64>>::new();
    for edge in store.all_edges().take(100_000) {
        let (_, record) = edge?;
        let keys = edge_keys.entry(record.edge_type).or_default();
        for key in record.props.keys() {
            *keys.entry(key.clone()).or_default() += 1;
        }
    }
    for (edge_type, count) in &stats.edge_types {
        let keys: Vec<String> =
            edge_keys.get(edge_type).into_iter().flatten().map(|(k, n)| format!("{k} ({n})")).collect();
        table.add_row(vec!["edge type".to_string(), edge_type.clone(), count.to_string(), keys.join(", ")]);
    }
    super::write_stdout(&format!("{table}\n"))
}
