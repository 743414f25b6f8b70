//! The read-only openCypher query engine: text → lexer → parser (AST) → semantic checks
//! → planner → streaming executor → formatted rows. Nothing in here writes to the store.

pub mod ast;
pub mod error;
pub mod exec;
pub mod format;
pub mod lexer;
pub mod parser;
pub mod plan;
pub mod procedures;
pub mod semantic;
pub mod value;

mod eval;
mod factorise;
mod functions;
mod matcher;
mod temporal;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::model::Value;
use crate::store::Store;

pub use error::{ErrorKind, Position, QueryError};
use value::QValue;

/// Query parameters by name (without the `$`).
pub type Params = BTreeMap<String, Value>;

/// How to plan and run a query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryOptions {
    /// `false` plans naively — every pattern starts from a scan of all nodes, no index
    /// anchors, no label index — so tests can demand the same rows both ways.
    pub use_indexes: bool,
    /// Running longer than this fails with `ErrorKind::Timeout`.
    pub timeout: Option<Duration>,
    /// Cap on rows held in memory (ORDER BY, DISTINCT, aggregation, collect) and on result
    /// rows; exceeding it fails with `ErrorKind::RowLimit`.
    pub max_rows: Option<u64>,
    /// Set from another thread to stop the query where it checks its deadline (the server
    /// sets it when the client that asked goes away); it then fails with `ErrorKind::Cancelled`.
    pub cancel: Option<CancelFlag>,
}

impl Default for QueryOptions {
    fn default() -> Self {
        QueryOptions { use_indexes: true, timeout: None, max_rows: None, cancel: None }
    }
}

/// A shared "stop now" switch for one running query. Two flags are equal when they are the
/// same switch.
#[derive(Clone, Debug, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    pub fn new() -> CancelFlag {
        CancelFlag::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

impl PartialEq for CancelFlag {
    fn eq(&self, other: &CancelFlag) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for CancelFlag {}

/// Parses the full openCypher syntax (write clauses too) into a tree; nothing is refused here.
pub fn parse(text: &str) -> Result<ast::Query, QueryError> {
    parser::parse(text)
}

/// A checked and planned query, ready to run any number of times.
pub struct Prepared {
    text: String,
    columns: Vec<String>,
    plan: plan::Plan,
    options: QueryOptions,
}

/// Parses, checks and plans `text` against `store`'s statistics, with the built-in
/// procedures.
pub fn prepare(store: &Store, text: &str, options: &QueryOptions) -> Result<Prepared, QueryError> {
    prepare_with(store, text, options, procedures::builtin())
}

/// Like `prepare`, resolving `CALL` against `procedures` (the TCK harness adds the test
/// procedures its scenarios declare).
pub fn prepare_with(
    store: &Store,
    text: &str,
    options: &QueryOptions,
    procedures: &Arc<procedures::Registry>,
) -> Result<Prepared, QueryError> {
    let query = parse(text)?;
    semantic::check(&query, text, procedures).map_err(|e| e.locate(text))?;
    let plan = plan::plan_query(store, &query, text, options, procedures).map_err(|e| e.locate(text))?;
    Ok(Prepared { text: text.to_string(), columns: plan.columns.clone(), plan, options: options.clone() })
}

impl Prepared {
    /// The result column names: aliases, or the expressions as written.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The operator tree, one operator per line, indented by depth.
    pub fn explain(&self) -> String {
        self.plan.explain()
    }

    /// Starts running: rows are produced as the iterator is pulled.
    pub fn execute<'a>(&'a self, store: &'a Store, params: &'a Params) -> Result<Rows<'a>, QueryError> {
        let snapshot = store.read_snapshot();
        let inner = exec::execute(&self.plan, store, params, &self.options).map_err(|e| e.locate(&self.text))?;
        Ok(Rows { inner, text: &self.text, _snapshot: snapshot })
    }
}

/// The rows of a running query, produced lazily. After an error it yields nothing more.
pub struct Rows<'a> {
    inner: exec::RowStream<'a>,
    /// The query text, to give errors their line and column.
    text: &'a str,
    /// Held until the rows are dropped: no ingest batch lands mid-query, so the query sees
    /// each article wholly or not at all.
    _snapshot: std::sync::RwLockReadGuard<'a, ()>,
}

impl Iterator for Rows<'_> {
    type Item = Result<Vec<QValue>, QueryError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|row| row.map_err(|e| e.locate(self.text)))
    }
}

/// All the rows of a query, collected.
#[derive(Clone, Debug)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<QValue>>,
}

/// Prepares and runs `text`, collecting every row.
pub fn run(store: &Store, text: &str, params: &Params, options: &QueryOptions) -> Result<QueryResult, QueryError> {
    run_with(store, text, params, options, procedures::builtin())
}

/// Like `run`, resolving `CALL` against `procedures`.
pub fn run_with(
    store: &Store,
    text: &str,
    params: &Params,
    options: &QueryOptions,
    procedures: &Arc<procedures::Registry>,
) -> Result<QueryResult, QueryError> {
    let prepared = prepare_with(store, text, options, procedures)?;
    let rows = prepared.execute(store, params)?.collect::<Result<Vec<_>, _>>()?;
    Ok(QueryResult { columns: prepared.columns, rows })
}

/// Evaluates an expression without variables (literals, lists, maps, parameters,
/// arithmetic, scalar functions such as `range` or `toUpper`) to a property value.
pub fn eval_constant(expr: &ast::Expr, params: &Params) -> Result<Value, QueryError> {
    let value = eval::eval_constant(expr, params)?;
    value.to_value().ok_or_else(|| QueryError::type_error(format!("a {} is not a property value", value.type_name())))
}
