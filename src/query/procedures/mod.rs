//! The procedures `CALL` resolves against: one registry of names with argument and result
//! signatures that the semantic checks read, so schema procedures (`db.*`, `dbms.*`) and
//! graph algorithms (`algo.*`) share one mechanism. Procedures only read: they reach the
//! store through `Store`'s read methods (and `analytics`), never a write transaction.

mod algo;
mod schema;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use super::error::{ErrorKind, QueryError};
use super::value::QValue;
use crate::model::Value;
use crate::store::Store;

/// The declared type of an argument or a result field; every one admits `null`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldType {
    Any,
    Boolean,
    String,
    Integer,
    Float,
    /// An integer or a float.
    Number,
    Map,
    List(Box<FieldType>),
    Node,
    Relationship,
}

impl FieldType {
    /// Whether a value passed for an argument of this type is acceptable as it is or after
    /// `coerce` (an integer where a float is declared).
    pub fn admits(&self, value: &QValue) -> bool {
        match (self, value) {
            (_, QValue::Null) | (FieldType::Any, _) => true,
            (FieldType::Boolean, QValue::Bool(_)) | (FieldType::String, QValue::Str(_)) => true,
            (FieldType::Integer, QValue::Int(_)) => true,
            (FieldType::Float | FieldType::Number, QValue::Int(_) | QValue::Float(_)) => true,
            (FieldType::Map, QValue::Map(_)) => true,
            (FieldType::List(item), QValue::List(items)) => items.iter().all(|v| item.admits(v)),
            (FieldType::Node, QValue::Node(_)) | (FieldType::Relationship, QValue::Relationship(_)) => true,
            _ => false,
        }
    }

    /// The value as the procedure receives it: an integer passed for a FLOAT becomes a float.
    pub fn coerce(&self, value: QValue) -> QValue {
        match (self, value) {
            (FieldType::Float, QValue::Int(i)) => QValue::Float(i as f64),
            (_, other) => other,
        }
    }

    /// Parses the TCK's and Neo4j's type notation (`STRING?`, `LIST? OF INTEGER?`, `NUMBER`).
    pub fn parse(text: &str) -> Option<FieldType> {
        let text = text.trim().trim_end_matches('?').trim();
        if let Some(rest) = text.strip_prefix("LIST") {
            let rest = rest.trim_start().trim_start_matches('?').trim_start();
            let item = rest.strip_prefix("OF").map(str::trim).unwrap_or("ANY");
            return Some(FieldType::List(Box::new(FieldType::parse(item)?)));
        }
        Some(match text {
            "ANY" => FieldType::Any,
            "BOOLEAN" => FieldType::Boolean,
            "STRING" => FieldType::String,
            "INTEGER" => FieldType::Integer,
            "FLOAT" => FieldType::Float,
            "NUMBER" => FieldType::Number,
            "MAP" => FieldType::Map,
            "NODE" => FieldType::Node,
            "RELATIONSHIP" => FieldType::Relationship,
            _ => return None,
        })
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldType::Any => write!(f, "ANY?"),
            FieldType::Boolean => write!(f, "BOOLEAN?"),
            FieldType::String => write!(f, "STRING?"),
            FieldType::Integer => write!(f, "INTEGER?"),
            FieldType::Float => write!(f, "FLOAT?"),
            FieldType::Number => write!(f, "NUMBER?"),
            FieldType::Map => write!(f, "MAP?"),
            FieldType::List(item) => write!(f, "LIST? OF {item}"),
            FieldType::Node => write!(f, "NODE?"),
            FieldType::Relationship => write!(f, "RELATIONSHIP?"),
        }
    }
}

/// One argument: its name and type, and the value used when a call leaves it out (only
/// trailing arguments may have one).
#[derive(Clone, Debug, PartialEq)]
pub struct Argument {
    pub name: String,
    pub ty: FieldType,
    pub default: Option<Value>,
}

/// One result field.
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    pub name: String,
    pub ty: FieldType,
}

/// What a procedure takes and yields.
#[derive(Clone, Debug, PartialEq)]
pub struct Signature {
    pub name: String,
    pub args: Vec<Argument>,
    pub outputs: Vec<Output>,
    pub description: String,
}

impl Signature {
    pub fn new(name: &str, description: &str) -> Signature {
        Signature {
            name: name.to_string(),
            args: Vec::new(),
            outputs: Vec::new(),
            description: description.to_string(),
        }
    }

    /// Adds a required argument.
    pub fn arg(mut self, name: &str, ty: FieldType) -> Signature {
        self.args.push(Argument { name: name.to_string(), ty, default: None });
        self
    }

    /// Adds an argument that may be left out.
    pub fn optional(mut self, name: &str, ty: FieldType, default: Value) -> Signature {
        self.args.push(Argument { name: name.to_string(), ty, default: Some(default) });
        self
    }

    pub fn output(mut self, name: &str, ty: FieldType) -> Signature {
        self.outputs.push(Output { name: name.to_string(), ty });
        self
    }

    /// How many arguments a call must pass.
    pub fn required_args(&self) -> usize {
        self.args.iter().take_while(|a| a.default.is_none()).count()
    }

    /// A void procedure yields no fields: an in-query call passes each row on unchanged.
    pub fn is_void(&self) -> bool {
        self.outputs.is_empty()
    }

    pub fn output_index(&self, name: &str) -> Option<usize> {
        self.outputs.iter().position(|o| o.name == name)
    }
}

impl fmt::Display for Signature {
    /// Neo4j's notation: `db.labels() :: (label :: STRING?)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let args: Vec<String> = self
            .args
            .iter()
            .map(|a| match &a.default {
                Some(default) => format!("{} = {default} :: {}", a.name, a.ty),
                None => format!("{} :: {}", a.name, a.ty),
            })
            .collect();
        let outputs: Vec<String> = self.outputs.iter().map(|o| format!("{} :: {}", o.name, o.ty)).collect();
        let outputs = if outputs.is_empty() { "VOID".to_string() } else { format!("({})", outputs.join(", ")) };
        write!(f, "{}({}) :: {outputs}", self.name, args.join(", "))
    }
}

/// What a procedure may read while it runs.
pub struct CallContext<'a> {
    pub store: &'a Store,
    /// The registry the call was resolved in (`dbms.procedures()` lists it).
    pub registry: &'a Registry,
    deadline: Option<Instant>,
}

impl<'a> CallContext<'a> {
    pub fn new(store: &'a Store, registry: &'a Registry, deadline: Option<Instant>) -> CallContext<'a> {
        CallContext { store, registry, deadline }
    }

    /// When the query must stop; long algorithms check it between rounds.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Fails once the query's deadline has passed; long algorithms call it between rounds.
    pub fn check_deadline(&self) -> Result<(), CallError> {
        match self.deadline {
            Some(deadline) if Instant::now() >= deadline => Err(CallError::Query(QueryError::new(
                ErrorKind::Timeout,
                "the query ran longer than its timeout and was stopped",
            ))),
            _ => Ok(()),
        }
    }
}

/// Why a call failed: an argument's value (the executor points the caret at it), or
/// anything else.
#[derive(Debug)]
pub enum CallError {
    /// Argument number `index` is unacceptable; `message` names the option when it is one.
    Argument {
        index: usize,
        message: String,
    },
    Query(QueryError),
}

impl From<QueryError> for CallError {
    fn from(e: QueryError) -> CallError {
        CallError::Query(e)
    }
}

impl From<crate::store::StoreError> for CallError {
    fn from(e: crate::store::StoreError) -> CallError {
        CallError::Query(e.into())
    }
}

/// The rows a call produces: one value per output field, in signature order.
pub type CallRows = Vec<Vec<QValue>>;

/// A read-only procedure.
pub trait Procedure: Send + Sync {
    fn signature(&self) -> &Signature;

    /// Runs the procedure on arguments already checked against the signature (defaults
    /// filled in, integers coerced to floats where declared).
    fn call(&self, cx: &CallContext<'_>, args: &[QValue]) -> Result<CallRows, CallError>;

    /// Checks the arguments whose values are known before the query runs (`None`: not a
    /// constant), so that a bad literal option is refused with the other semantic errors.
    fn check_constant_args(&self, _args: &[Option<Value>]) -> Result<(), CallError> {
        Ok(())
    }
}

/// The procedures a query can call, by name (names are case-sensitive, as in Neo4j).
#[derive(Clone, Default)]
pub struct Registry {
    procedures: BTreeMap<String, Arc<dyn Procedure>>,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.procedures.keys()).finish()
    }
}

impl Registry {
    /// No procedures at all.
    pub fn empty() -> Registry {
        Registry::default()
    }

    /// Schema procedures and graph algorithms.
    pub fn with_builtins() -> Registry {
        let mut registry = Registry::empty();
        schema::register(&mut registry);
        algo::register(&mut registry);
        registry
    }

    /// Adds a procedure, replacing any of the same name.
    pub fn register(&mut self, procedure: Arc<dyn Procedure>) {
        self.procedures.insert(procedure.signature().name.clone(), procedure);
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Procedure>> {
        self.procedures.get(name)
    }

    /// Every procedure, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Procedure>> {
        self.procedures.values()
    }
}

/// The registry `query::prepare` uses: the built-in procedures.
pub fn builtin() -> &'static Arc<Registry> {
    static BUILTIN: OnceLock<Arc<Registry>> = OnceLock::new();
    BUILTIN.get_or_init(|| Arc::new(Registry::with_builtins()))
}

/// A procedure as a plan holds it.
#[derive(Clone)]
pub struct Resolved {
    pub procedure: Arc<dyn Procedure>,
    pub registry: Arc<Registry>,
}

impl fmt::Debug for Resolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.procedure.signature().name)
    }
}

/// A procedure whose rows are a fixed table, selected by its arguments: the TCK declares
/// its test procedures this way (`there exists a procedure test.my.proc(in :: INTEGER?)
/// :: (out :: STRING?)` with a table of `in` and `out` columns).
pub struct TableProcedure {
    signature: Signature,
    /// Each row: the argument values, then the output values.
    rows: Vec<Vec<QValue>>,
}

impl TableProcedure {
    pub fn new(signature: Signature, rows: Vec<Vec<QValue>>) -> TableProcedure {
        TableProcedure { signature, rows }
    }
}

impl Procedure for TableProcedure {
    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn call(&self, _cx: &CallContext<'_>, args: &[QValue]) -> Result<CallRows, CallError> {
        let arity = self.signature.args.len();
        Ok(self
            .rows
            .iter()
            .filter(|row| {
                row.len() == arity + self.signature.outputs.len()
                    && row[..arity].iter().zip(args).all(|(want, given)| same_argument(want, given))
            })
            .map(|row| row[arity..].to_vec())
            .collect())
    }
}

/// Equality of a table's argument cell and a passed value, `null` matching `null`.
fn same_argument(want: &QValue, given: &QValue) -> bool {
    match (want, given) {
        (QValue::Null, QValue::Null) => true,
        _ => super::value::equals(want, given) == Some(true),
    }
}
