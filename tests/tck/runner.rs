//! Runs one scenario: builds its graph, runs its query through the real engine with the
//! index plan and with the naive plan (they must agree), and checks the `Then` steps.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt::Write as _;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::sync::Once;
use std::time::Duration;

use std::sync::Arc;

use diplograph::query::procedures::{FieldType, Registry, Signature, TableProcedure};
use diplograph::query::value::QValue;
use diplograph::query::{self, ErrorKind, Params, QueryError, QueryOptions, QueryResult};
use diplograph::store::Store;

use crate::expected::{self, Expected, ListOrder};
use crate::gherkin::{Scenario, Step};
use crate::loader::{self, LoadError};
use crate::scope;

/// How long one query may run before the engine must give up.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(5);
/// Rows the engine may hold for one query: generous, but no scenario can eat the memory.
const MAX_ROWS: u64 = 10_000_000;

#[derive(Clone, Debug)]
pub enum Verdict {
    Passed,
    Failed(Failure),
    Skipped(String),
}

#[derive(Clone, Debug)]
pub struct Failure {
    /// A short, normalised cause, for grouping failures.
    pub cause: String,
    /// Everything the engine engineer needs: query, expected, got.
    pub detail: String,
    /// The engine panicked (never acceptable).
    pub panicked: bool,
}

// ---------------------------------------------------------------------------------------
// Panic capture: the engine must never panic, so each panic is recorded per scenario.

thread_local! {
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs (once) a panic hook that records panics on harness worker threads instead of
/// printing them; panics elsewhere go to the previous hook.
pub fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CAPTURING.with(Cell::get) {
                let location = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
                let message = payload_text(info.payload());
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{message}{location}")));
            } else {
                previous(info);
            }
        }));
    });
}

fn payload_text(payload: &dyn Any) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

/// Runs `f`, turning a panic into `Err(message with location)`.
fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    // Nested calls (a query inside a scenario) restore the outer state afterwards.
    let outer = CAPTURING.with(|c| c.replace(true));
    LAST_PANIC.with(|p| p.borrow_mut().take());
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    CAPTURING.with(|c| c.set(outer));
    result.map_err(|payload| LAST_PANIC.with(|p| p.borrow_mut().take()).unwrap_or_else(|| payload_text(&*payload)))
}

// ---------------------------------------------------------------------------------------
// Steps

/// What a step asks for.
enum StepKind<'a> {
    NewGraph,
    NamedGraph(String),
    Setup(&'a str),
    Parameters,
    Query(String),
    ResultTable { ordered: bool, lists: ListOrder },
    ResultEmpty,
    Error { class: String, phase: String, detail: String },
    NoSideEffects,
    SideEffects,
    Procedure,
    Unknown,
}

fn classify(step: &Step) -> StepKind<'_> {
    let text = step.text.as_str();
    let doc = step.doc_string.as_deref();
    match text {
        "an empty graph" | "any graph" => return StepKind::NewGraph,
        "having executed:" | "after having executed:" => {
            return doc.map_or(StepKind::Unknown, StepKind::Setup);
        }
        "parameters are:" | "parameter values are:" => return StepKind::Parameters,
        "the result should be, in any order:" => {
            return StepKind::ResultTable { ordered: false, lists: ListOrder::Exact }
        }
        "the result should be, in order:" => return StepKind::ResultTable { ordered: true, lists: ListOrder::Exact },
        "the result should be (ignoring element order for lists):" => {
            return StepKind::ResultTable { ordered: false, lists: ListOrder::Ignored }
        }
        "the result should be, in order (ignoring element order for lists):" => {
            return StepKind::ResultTable { ordered: true, lists: ListOrder::Ignored }
        }
        "the result should be empty" => return StepKind::ResultEmpty,
        "no side effects" => return StepKind::NoSideEffects,
        "the side effects should be:" => return StepKind::SideEffects,
        _ => {}
    }
    for prefix in ["executing query:", "executing control query:"] {
        if let Some(rest) = text.strip_prefix(prefix) {
            let query = doc.map_or_else(|| rest.trim().to_string(), str::to_string);
            return StepKind::Query(query);
        }
    }
    if let Some(name) = text.strip_prefix("the ").and_then(|t| t.strip_suffix(" graph")) {
        return StepKind::NamedGraph(name.to_string());
    }
    if text.starts_with("there exists a procedure") {
        return StepKind::Procedure;
    }
    if let Some(rest) = text.strip_prefix("a ").or_else(|| text.strip_prefix("an ")) {
        if let Some((class, rest)) = rest.split_once(" should be raised at ") {
            let (phase, detail) = rest.split_once(':').unwrap_or((rest, ""));
            return StepKind::Error {
                class: class.to_string(),
                phase: phase.trim().to_string(),
                detail: detail.trim().to_string(),
            };
        }
    }
    StepKind::Unknown
}

/// The first reason to skip the scenario without running anything, if any.
fn scope_check(scenario: &Scenario) -> Option<String> {
    if scenario.tags.iter().any(|t| t == "@ignore") {
        return Some("tagged @ignore in the TCK".into());
    }
    for step in &scenario.steps {
        match classify(step) {
            StepKind::Query(query) => {
                if let Some(reason) = scope::query_out_of_scope(&query) {
                    return Some(reason.to_string());
                }
            }
            StepKind::Setup(_) => {}
            StepKind::SideEffects => {
                if let Some(table) = &step.table {
                    if table.iter().any(|row| row.get(1).is_some_and(|v| v != "0")) {
                        return Some("expects side effects (a write scenario)".into());
                    }
                }
            }
            StepKind::Unknown => return Some(format!("harness: unknown step `{} {}`", step.keyword, step.text)),
            _ => {}
        }
    }
    None
}

// ---------------------------------------------------------------------------------------
// Running

/// The outcome of one run of the query under test.
type Outcome = Result<Result<QueryResult, QueryError>, String>;

struct Context<'a> {
    graphs_dir: &'a Path,
    store: Option<Store>,
    /// The built-in procedures plus those the scenario declares.
    procedures: Registry,
    params: Params,
    setups: Vec<String>,
    query: Option<String>,
    outcome: Option<Outcome>,
    counts_before: Option<(u64, u64)>,
}

/// Runs one scenario to its verdict. Never panics: engine panics become failures.
pub fn run_scenario(scenario: &Scenario, graphs_dir: &Path) -> Verdict {
    if let Some(reason) = scope_check(scenario) {
        return Verdict::Skipped(reason);
    }
    let mut cx = Context {
        graphs_dir,
        store: None,
        procedures: Registry::with_builtins(),
        params: Params::new(),
        setups: Vec::new(),
        query: None,
        outcome: None,
        counts_before: None,
    };
    match catch(|| run_steps(&mut cx, scenario)) {
        Ok(verdict) => verdict,
        Err(panic) => Verdict::Failed(Failure {
            cause: format!("PANIC: {}", first_line(&panic)),
            detail: format!("{}PANIC: {panic}\n", describe(&cx)),
            panicked: true,
        }),
    }
}

fn run_steps(cx: &mut Context<'_>, scenario: &Scenario) -> Verdict {
    for step in &scenario.steps {
        let result = match classify(step) {
            StepKind::NewGraph => new_graph(cx),
            StepKind::NamedGraph(name) => named_graph(cx, &name),
            StepKind::Setup(text) => setup(cx, text),
            StepKind::Parameters => parameters(cx, step),
            StepKind::Query(text) => run_query(cx, text),
            StepKind::ResultTable { ordered, lists } => check_table(cx, step, ordered, lists),
            StepKind::ResultEmpty => check_empty(cx),
            StepKind::Error { class, phase, detail } => check_error(cx, &class, &phase, &detail),
            StepKind::NoSideEffects | StepKind::SideEffects => check_no_side_effects(cx),
            StepKind::Procedure => declare_procedure(cx, step),
            StepKind::Unknown => Ok(()),
        };
        if let Err(verdict) = result {
            return verdict;
        }
    }
    if cx.query.is_none() {
        return Verdict::Skipped("harness: the scenario runs no query".into());
    }
    Verdict::Passed
}

type StepResult = Result<(), Verdict>;

fn new_graph(cx: &mut Context<'_>) -> StepResult {
    let store = Store::temporary().map_err(|e| harness_failure(cx, &format!("cannot open a temporary store: {e}")))?;
    cx.store = Some(store);
    Ok(())
}

fn store<'c>(cx: &'c mut Context<'_>) -> Result<&'c Store, Verdict> {
    if cx.store.is_none() {
        new_graph(cx)?;
    }
    Ok(cx.store.as_ref().expect("store present"))
}

fn named_graph(cx: &mut Context<'_>, name: &str) -> StepResult {
    let path = cx.graphs_dir.join(name).join(format!("{name}.cypher"));
    let text =
        std::fs::read_to_string(&path).map_err(|e| Verdict::Skipped(format!("named graph {name} unavailable: {e}")))?;
    new_graph(cx)?;
    setup(cx, &text)
}

fn setup(cx: &mut Context<'_>, text: &str) -> StepResult {
    cx.setups.push(text.to_string());
    let store = store(cx)?;
    match loader::execute_setup(store, text) {
        Ok(()) => Ok(()),
        Err(LoadError::Unsupported(why)) => Err(Verdict::Skipped(format!("loader: {why}"))),
        Err(e @ LoadError::Failed(_)) => Err(Verdict::Failed(Failure {
            cause: normalise(&e.to_string()),
            detail: format!("{}{e}\n", describe(cx)),
            panicked: false,
        })),
    }
}

fn parameters(cx: &mut Context<'_>, step: &Step) -> StepResult {
    for row in step.table.iter().flatten() {
        let [name, value] = row.as_slice() else {
            return Err(harness_failure(cx, "a parameter row without exactly two cells"));
        };
        let value = expected::parse_value(value)
            .and_then(|v| v.to_value())
            .map_err(|e| harness_failure(cx, &format!("cannot read parameter `{name}`: {e}")))?;
        cx.params.insert(name.clone(), value);
    }
    Ok(())
}

/// `there exists a procedure NAME(ARG :: TYPE, …) :: (FIELD :: TYPE, …):` with a table
/// whose columns are the arguments and the fields: registers a procedure returning, for
/// each call, the fields of the rows whose argument columns equal the arguments.
fn declare_procedure(cx: &mut Context<'_>, step: &Step) -> StepResult {
    let declaration = step.text.trim_start_matches("there exists a procedure").trim().trim_end_matches(':').trim();
    let signature = parse_signature(declaration)
        .map_err(|e| harness_failure(cx, &format!("cannot read the procedure declaration `{declaration}`: {e}")))?;
    let table = step.table.as_deref().unwrap_or(&[]);
    let header: Vec<&str> =
        table.first().map(|h| h.iter().map(|c| c.trim()).filter(|c| !c.is_empty()).collect()).unwrap_or_default();
    let columns: Vec<&str> = signature
        .args
        .iter()
        .map(|a| a.name.as_str())
        .chain(signature.outputs.iter().map(|o| o.name.as_str()))
        .collect();
    let mut rows = Vec::new();
    for row in table.iter().skip(1) {
        let mut values = Vec::with_capacity(columns.len());
        for column in &columns {
            let cell = header
                .iter()
                .position(|h| h == column)
                .and_then(|i| row.get(i))
                .ok_or_else(|| harness_failure(cx, &format!("the procedure table has no column `{column}`")))?;
            let value = expected::parse_value(cell)
                .and_then(|v| v.to_value())
                .map_err(|e| harness_failure(cx, &format!("cannot read procedure table cell `{cell}`: {e}")))?;
            values.push(QValue::from(&value));
        }
        rows.push(values);
    }
    cx.procedures.register(Arc::new(TableProcedure::new(signature, rows)));
    Ok(())
}

/// `name(a :: T?, …) :: (f :: T?, …)`
fn parse_signature(text: &str) -> Result<Signature, String> {
    let open = text.find('(').ok_or("no `(` after the name")?;
    let name = text[..open].trim();
    let close = text[open..].find(')').map(|i| open + i).ok_or("no `)` after the arguments")?;
    let args = &text[open + 1..close];
    let rest = text[close + 1..].trim().strip_prefix("::").ok_or("no `::` before the fields")?.trim();
    let outputs =
        rest.strip_prefix('(').and_then(|r| r.trim_end().strip_suffix(')')).ok_or("fields not in parentheses")?;
    let fields = |list: &str| -> Result<Vec<(String, FieldType)>, String> {
        list.split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(|f| {
                let (name, ty) = f.split_once("::").ok_or_else(|| format!("`{f}` has no type"))?;
                let ty = FieldType::parse(ty).ok_or_else(|| format!("unknown type in `{f}`"))?;
                Ok((name.trim().to_string(), ty))
            })
            .collect()
    };
    let mut signature = Signature::new(name, "declared by a TCK scenario");
    for (arg, ty) in fields(args)? {
        signature = signature.arg(&arg, ty);
    }
    for (field, ty) in fields(outputs)? {
        signature = signature.output(&field, ty);
    }
    Ok(signature)
}

fn options(use_indexes: bool) -> QueryOptions {
    QueryOptions { use_indexes, timeout: Some(QUERY_TIMEOUT), max_rows: Some(MAX_ROWS), cancel: None }
}

fn run_query(cx: &mut Context<'_>, text: String) -> StepResult {
    let params = cx.params.clone();
    let procedures = Arc::new(cx.procedures.clone());
    let store = store(cx)?;
    let counts = counts(store);
    let indexed = catch(|| query::run_with(store, &text, &params, &options(true), &procedures));
    let naive = catch(|| query::run_with(store, &text, &params, &options(false), &procedures));
    cx.counts_before = Some(counts);
    cx.query = Some(text);
    for (plan, outcome) in [("index plan", &indexed), ("naive plan", &naive)] {
        if let Err(panic) = outcome {
            let detail = format!("{}PANIC in the {plan}: {panic}\n", describe(cx));
            return Err(Verdict::Failed(Failure {
                cause: format!("PANIC: {}", first_line(panic)),
                detail,
                panicked: true,
            }));
        }
    }
    if let Some(difference) = plans_differ(indexed.as_ref().expect("no panic"), naive.as_ref().expect("no panic")) {
        cx.outcome = Some(indexed);
        let detail = format!("{}index plan and naive plan disagree: {difference}\n", describe(cx));
        return Err(Verdict::Failed(Failure {
            cause: "index plan and naive plan disagree".into(),
            detail,
            panicked: false,
        }));
    }
    cx.outcome = Some(indexed);
    Ok(())
}

fn counts(store: &Store) -> (u64, u64) {
    store.stats().map(|s| (s.nodes, s.edges)).unwrap_or((0, 0))
}

/// Same columns and rows as multisets, or the same error kind.
fn plans_differ(a: &Result<QueryResult, QueryError>, b: &Result<QueryResult, QueryError>) -> Option<String> {
    match (a, b) {
        (Ok(x), Ok(y)) => {
            if x.columns != y.columns {
                return Some(format!("columns {:?} vs {:?}", x.columns, y.columns));
            }
            let mut xs: Vec<String> = x.rows.iter().map(|r| canonical_row(r)).collect();
            let mut ys: Vec<String> = y.rows.iter().map(|r| canonical_row(r)).collect();
            xs.sort();
            ys.sort();
            (xs != ys).then(|| {
                format!(
                    "index plan gave {} rows, naive plan {} rows\n  index: {}\n  naive: {}",
                    xs.len(),
                    ys.len(),
                    preview(&xs),
                    preview(&ys)
                )
            })
        }
        (Err(x), Err(y)) => (x.kind != y.kind).then(|| format!("index plan: {x}; naive plan: {y}")),
        (Ok(x), Err(y)) => Some(format!("index plan gave {} rows; naive plan failed: {y}", x.rows.len())),
        (Err(x), Ok(y)) => Some(format!("index plan failed: {x}; naive plan gave {} rows", y.rows.len())),
    }
}

fn preview(rows: &[String]) -> String {
    let shown: Vec<&str> = rows.iter().take(8).map(String::as_str).collect();
    let more = if rows.len() > 8 { format!(" … ({} more)", rows.len() - 8) } else { String::new() };
    format!("{}{more}", shown.join(" | "))
}

/// A row as text in which graph elements show their internal ids (identity, not content).
fn canonical_row(row: &[QValue]) -> String {
    row.iter().map(canonical).collect::<Vec<_>>().join(", ")
}

fn canonical(value: &QValue) -> String {
    match value {
        QValue::Node(n) => format!("node#{}", n.id),
        QValue::Relationship(r) => format!("rel#{}", r.id),
        QValue::Path(p) => {
            let nodes: Vec<String> = p.nodes.iter().map(|n| n.id.to_string()).collect();
            let rels: Vec<String> = p.rels.iter().map(|r| r.id.to_string()).collect();
            format!("path#[{}][{}]", nodes.join(","), rels.join(","))
        }
        QValue::List(items) => format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(", ")),
        QValue::Map(map) => {
            format!("{{{}}}", map.iter().map(|(k, v)| format!("{k}: {}", canonical(v))).collect::<Vec<_>>().join(", "))
        }
        QValue::Float(x) if x.is_nan() => "NaN".into(),
        QValue::Float(x) => format!("{x:e}f"),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Then steps

fn outcome<'c>(cx: &'c Context<'_>) -> Result<&'c Result<QueryResult, QueryError>, Verdict> {
    match &cx.outcome {
        Some(Ok(result)) => Ok(result),
        Some(Err(_)) | None => Err(harness_failure(cx, "a Then step before any query ran")),
    }
}

fn check_table(cx: &Context<'_>, step: &Step, ordered: bool, lists: ListOrder) -> StepResult {
    let table = step.table.as_deref().unwrap_or(&[]);
    let Some((header, rows)) = table.split_first() else {
        return Err(harness_failure(cx, "a result step without a table"));
    };
    let mut expected_rows: Vec<Vec<Expected>> = Vec::with_capacity(rows.len());
    for row in rows {
        let parsed = row
            .iter()
            .map(|cell| expected::parse_value(cell).map_err(|e| format!("cell `{cell}`: {e}")))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| harness_failure(cx, &format!("cannot read the expected table: {e}")))?;
        expected_rows.push(parsed);
    }
    let order_note = if ordered { "in order" } else { "in any order" };
    let got = match outcome(cx)? {
        Ok(result) => result,
        Err(error) => {
            let wanted = format!("{} rows ({order_note}):\n{}", rows.len(), indent(&render_table(header, rows)));
            return Err(unexpected_error(cx, error, wanted.trim_end()));
        }
    };
    let mismatch = |cause: &str, why: String| {
        Verdict::Failed(Failure {
            cause: cause.to_string(),
            detail: format!(
                "{}expected ({order_note}):\n{}got:\n{}{why}\n",
                describe(cx),
                indent(&render_table(header, rows)),
                indent(&render_result(got)),
            ),
            panicked: false,
        })
    };
    if got.columns.as_slice() != header {
        return Err(mismatch("wrong columns", format!("columns differ: expected {:?}, got {:?}", header, got.columns)));
    }
    let row_matches = |want: &Vec<Expected>, have: &Vec<QValue>| {
        want.len() == have.len() && want.iter().zip(have).all(|(w, h)| expected::matches(w, h, lists))
    };
    if ordered {
        let same = expected_rows.len() == got.rows.len()
            && expected_rows.iter().zip(&got.rows).all(|(w, h)| row_matches(w, h));
        if !same {
            let as_set = expected::multiset_match(&expected_rows, &got.rows, row_matches);
            let cause = if as_set { "wrong row order" } else { "wrong rows" };
            return Err(mismatch(cause, row_difference(&expected_rows, &got.rows, row_matches)));
        }
    } else if !expected::multiset_match(&expected_rows, &got.rows, row_matches) {
        return Err(mismatch("wrong rows", row_difference(&expected_rows, &got.rows, row_matches)));
    }
    Ok(())
}

/// Which expected rows found no partner, and which rows came back unasked.
fn row_difference(
    want: &[Vec<Expected>],
    have: &[Vec<QValue>],
    pair: impl Fn(&Vec<Expected>, &Vec<QValue>) -> bool,
) -> String {
    let mut used = vec![false; have.len()];
    let mut missing = Vec::new();
    for w in want {
        match (0..have.len()).find(|&j| !used[j] && pair(w, &have[j])) {
            Some(j) => used[j] = true,
            None => missing.push(w.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")),
        }
    }
    let extra: Vec<String> = have
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(r, _)| r.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
        .collect();
    let mut out = format!("expected {} rows, got {}", want.len(), have.len());
    if !missing.is_empty() {
        let _ = write!(out, "\n  missing:    {}", missing.join("\n              "));
    }
    if !extra.is_empty() {
        let _ = write!(out, "\n  unexpected: {}", extra.join("\n              "));
    }
    if missing.is_empty() && extra.is_empty() {
        out.push_str(" (same rows, different order)");
    }
    out
}

fn check_empty(cx: &Context<'_>) -> StepResult {
    match outcome(cx)? {
        Ok(result) if result.rows.is_empty() => Ok(()),
        Ok(result) => Err(Verdict::Failed(Failure {
            cause: "wrong rows".into(),
            detail: format!(
                "{}expected no rows, got {}:\n{}",
                describe(cx),
                result.rows.len(),
                indent(&render_result(result))
            ),
            panicked: false,
        })),
        Err(error) => Err(unexpected_error(cx, error, "no rows")),
    }
}

/// The engine's error kinds a TCK error class may show up as (loosely, as issue 3 allows).
fn acceptable_kinds(class: &str, phase: &str) -> &'static [ErrorKind] {
    use ErrorKind::*;
    let compile = phase != "runtime";
    match class {
        "SyntaxError" | "SemanticError" if compile => &[Syntax, Semantic],
        "SyntaxError" | "SemanticError" => &[Syntax, Semantic, Type, Runtime],
        "TypeError" if compile => &[Type, Runtime, Semantic],
        "TypeError" => &[Type, Runtime],
        "ArgumentError" => &[Runtime, Type, Semantic],
        "ArithmeticError" => &[Runtime, Type],
        "ParameterMissing" => &[Semantic, Runtime],
        _ => &[Runtime, Type, Semantic],
    }
}

fn check_error(cx: &Context<'_>, class: &str, phase: &str, detail: &str) -> StepResult {
    let wanted = format!("{class} at {phase}: {detail}");
    let outcome = match &cx.outcome {
        Some(Ok(outcome)) => outcome,
        _ => return Err(harness_failure(cx, "an error step before any query ran")),
    };
    match outcome {
        Err(error) if acceptable_kinds(class, phase).contains(&error.kind) => Ok(()),
        // A statically detectable type error may surface as a type error when evaluated.
        Err(error) if detail == "InvalidArgumentType" && error.kind == ErrorKind::Type => Ok(()),
        Err(error) => Err(Verdict::Failed(Failure {
            cause: format!("expected {class} ({detail}), got {}", kind_name(error.kind)),
            detail: format!(
                "{}expected: {wanted}\ngot:      {}\n",
                describe(cx),
                error.render(cx.query.as_deref().unwrap_or("")).replace('\n', "\n          ")
            ),
            panicked: false,
        })),
        Ok(result) => Err(Verdict::Failed(Failure {
            cause: format!("expected {class} ({detail}), query succeeded"),
            detail: format!(
                "{}expected: {wanted}\ngot {} rows:\n{}",
                describe(cx),
                result.rows.len(),
                indent(&render_result(result))
            ),
            panicked: false,
        })),
    }
}

fn check_no_side_effects(cx: &Context<'_>) -> StepResult {
    let (Some(store), Some(before)) = (&cx.store, cx.counts_before) else {
        return Ok(());
    };
    let after = counts(store);
    if after == before {
        Ok(())
    } else {
        Err(Verdict::Failed(Failure {
            cause: "the query changed the store".into(),
            detail: format!("{}nodes/edges before {before:?}, after {after:?}\n", describe(cx)),
            panicked: false,
        }))
    }
}

fn unexpected_error(cx: &Context<'_>, error: &QueryError, wanted: &str) -> Verdict {
    Verdict::Failed(Failure {
        cause: format!("{}: {}", kind_name(error.kind), normalise(&error.message)),
        detail: format!(
            "{}expected: {wanted}\ngot:      {}\n",
            describe(cx),
            error.render(cx.query.as_deref().unwrap_or("")).replace('\n', "\n          ")
        ),
        panicked: false,
    })
}

fn harness_failure(cx: &Context<'_>, message: &str) -> Verdict {
    Verdict::Failed(Failure {
        cause: format!("harness: {message}"),
        detail: format!("{}harness problem: {message}\n", describe(cx)),
        panicked: false,
    })
}

fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Syntax => "Syntax error",
        ErrorKind::Semantic => "Semantic error",
        ErrorKind::Type => "Type error",
        ErrorKind::Runtime => "Runtime error",
        ErrorKind::Timeout => "Timeout",
        ErrorKind::Cancelled => "Cancelled",
        ErrorKind::RowLimit => "Row limit",
        ErrorKind::Unsupported => "Unsupported",
    }
}

// ---------------------------------------------------------------------------------------
// Rendering

/// The scenario's set-up and query, for failure listings.
fn describe(cx: &Context<'_>) -> String {
    let mut out = String::new();
    for setup in &cx.setups {
        let lines = setup.lines().count();
        if lines > 12 {
            let head: Vec<&str> = setup.lines().take(10).collect();
            let _ = writeln!(out, "set-up:\n{}\n    … ({} more lines)", indent_text(&head.join("\n")), lines - 10);
        } else {
            let _ = writeln!(out, "set-up:\n{}", indent_text(setup));
        }
    }
    if !cx.params.is_empty() {
        let shown: Vec<String> = cx.params.iter().map(|(k, v)| format!("${k} = {v}")).collect();
        let _ = writeln!(out, "parameters: {}", shown.join(", "));
    }
    if let Some(query) = &cx.query {
        let _ = writeln!(out, "query:\n{}", indent_text(query));
    }
    out
}

fn indent_text(text: &str) -> String {
    text.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

fn render_table(header: &[String], rows: &[Vec<String>]) -> String {
    let mut all: Vec<Vec<String>> = vec![header.to_vec()];
    all.extend(rows.iter().cloned());
    aligned(&all)
}

fn render_result(result: &QueryResult) -> String {
    let mut all: Vec<Vec<String>> = vec![result.columns.clone()];
    let shown = result.rows.len().min(50);
    all.extend(result.rows[..shown].iter().map(|row| row.iter().map(|v| v.to_string().replace('\n', "\\n")).collect()));
    let mut out = aligned(&all);
    if result.rows.len() > shown {
        let _ = writeln!(out, "… {} more rows", result.rows.len() - shown);
    }
    out
}

fn aligned(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in rows {
        out.push('|');
        for (c, width) in widths.iter().enumerate() {
            let cell = row.get(c).map_or("", String::as_str);
            let pad = width - cell.chars().count();
            let _ = write!(out, " {cell}{} |", " ".repeat(pad));
        }
        out.push('\n');
    }
    if rows.len() == 1 {
        out.push_str("(no rows)\n");
    }
    out
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").to_string()
}

/// An error message with the particulars (quoted names, numbers) blanked, so that
/// failures with the same cause group together.
pub fn normalise(message: &str) -> String {
    let mut out = String::new();
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '`' | '\'' | '"' => {
                for inner in chars.by_ref() {
                    if inner == c {
                        break;
                    }
                }
                out.push('…');
            }
            '0'..='9' => {
                while chars.peek().is_some_and(char::is_ascii_digit) {
                    chars.next();
                }
                out.push('N');
            }
            '\n' => break,
            _ => out.push(c),
        }
    }
    let out = out.trim().to_string();
    if out.chars().count() > 90 {
        format!("{}…", out.chars().take(90).collect::<String>())
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_with_its_message_and_place() {
        install_panic_hook();
        let caught = catch(|| -> u32 { panic!("engine exploded on {}", 42) });
        let message = caught.expect_err("the panic is caught");
        assert!(message.starts_with("engine exploded on 42 at "), "{message}");
        assert!(message.contains("runner.rs"), "{message}");
        assert_eq!(catch(|| 7), Ok(7));
    }

    #[test]
    fn error_causes_group_by_shape_not_particulars() {
        assert_eq!(normalise("variable 'a' not defined at 3"), normalise("variable `bb` not defined at 12"));
    }
}
