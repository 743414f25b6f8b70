//! The scalar function library and the names and arities of every function, aggregates
//! included, so semantic checks can refuse unknown functions and wrong argument counts.

use std::collections::BTreeMap;

use super::error::{QueryError, Result};
use super::eval::Ctx;
use super::value::{NodeValue, QValue};
use crate::model::format_float;

/// Largest list `range()` may build.
const MAX_RANGE: u64 = 10_000_000;

/// Aggregating functions: computed over groups of rows, never per row.
const AGGREGATES: &[(&str, usize, usize)] = &[
    ("count", 1, 1),
    ("collect", 1, 1),
    ("sum", 1, 1),
    ("avg", 1, 1),
    ("min", 1, 1),
    ("max", 1, 1),
    ("stDev", 1, 1),
    ("stDevP", 1, 1),
    ("percentileDisc", 2, 2),
    ("percentileCont", 2, 2),
];

/// Scalar functions: (name, fewest arguments, most arguments).
const SCALARS: &[(&str, usize, usize)] = &[
    ("coalesce", 1, usize::MAX),
    ("toLower", 1, 1),
    ("toUpper", 1, 1),
    ("lower", 1, 1),
    ("upper", 1, 1),
    ("trim", 1, 1),
    ("ltrim", 1, 1),
    ("rtrim", 1, 1),
    ("size", 1, 1),
    ("length", 1, 1),
    ("nodes", 1, 1),
    ("relationships", 1, 1),
    ("labels", 1, 1),
    ("type", 1, 1),
    ("id", 1, 1),
    ("startNode", 1, 1),
    ("endNode", 1, 1),
    ("keys", 1, 1),
    ("properties", 1, 1),
    ("head", 1, 1),
    ("last", 1, 1),
    ("tail", 1, 1),
    ("reverse", 1, 1),
    ("toString", 1, 1),
    ("toStringOrNull", 1, 1),
    ("toInteger", 1, 1),
    ("toIntegerOrNull", 1, 1),
    ("toFloat", 1, 1),
    ("toFloatOrNull", 1, 1),
    ("toBoolean", 1, 1),
    ("toBooleanOrNull", 1, 1),
    ("exists", 1, 1),
    ("range", 2, 3),
    ("abs", 1, 1),
    ("sign", 1, 1),
    ("ceil", 1, 1),
    ("floor", 1, 1),
    ("round", 1, 1),
    ("sqrt", 1, 1),
    ("exp", 1, 1),
    ("log", 1, 1),
    ("log10", 1, 1),
    ("sin", 1, 1),
    ("cos", 1, 1),
    ("tan", 1, 1),
    ("asin", 1, 1),
    ("acos", 1, 1),
    ("atan", 1, 1),
    ("atan2", 2, 2),
    ("degrees", 1, 1),
    ("radians", 1, 1),
    ("pi", 0, 0),
    ("rand", 0, 0),
    ("e", 0, 0),
    ("split", 2, 2),
    ("substring", 2, 3),
    ("replace", 3, 3),
    ("left", 2, 2),
    ("right", 2, 2),
];

fn lookup(table: &'static [(&'static str, usize, usize)], name: &str) -> Option<&'static (&'static str, usize, usize)> {
    table.iter().find(|(n, _, _)| n.eq_ignore_ascii_case(name))
}

pub fn is_aggregate(name: &str) -> bool {
    lookup(AGGREGATES, name).is_some()
}

/// The accepted argument counts of a known function, `None` when unknown.
pub fn arity(name: &str) -> Option<(usize, usize)> {
    known(name).map(|(_, min, max)| (*min, *max))
}

fn known(name: &str) -> Option<&'static (&'static str, usize, usize)> {
    lookup(AGGREGATES, name).or_else(|| lookup(SCALARS, name)).or_else(|| lookup(super::temporal::FUNCTIONS, name))
}

/// The canonical (documented) spelling of a known function's name.
pub fn canonical_name(name: &str) -> Option<&'static str> {
    known(name).map(|(n, _, _)| *n)
}

fn type_error(function: &str, wanted: &str, got: &QValue) -> QueryError {
    QueryError::type_error(format!("{function}() expects {wanted}, got a {}", got.type_name()))
}

#[allow(clippy::cast_precision_loss)]
fn float(i: i64) -> f64 {
    i as f64
}

fn as_number(function: &str, value: &QValue) -> Result<Option<f64>> {
    match value {
        QValue::Null => Ok(None),
        QValue::Int(i) => Ok(Some(float(*i))),
        QValue::Float(x) => Ok(Some(*x)),
        other => Err(type_error(function, "a number", other)),
    }
}

fn as_int(function: &str, value: &QValue) -> Result<Option<i64>> {
    match value {
        QValue::Null => Ok(None),
        QValue::Int(i) => Ok(Some(*i)),
        other => Err(type_error(function, "an integer", other)),
    }
}

fn as_str<'v>(function: &str, value: &'v QValue) -> Result<Option<&'v str>> {
    match value {
        QValue::Null => Ok(None),
        QValue::Str(s) => Ok(Some(s)),
        other => Err(type_error(function, "a string", other)),
    }
}

/// Converts a float to an integer toward zero; `None` when out of range.
#[allow(clippy::cast_possible_truncation)]
fn float_to_int(x: f64) -> Option<i64> {
    let t = x.trunc();
    // i64 covers [-2^63, 2^63); both bounds are exact powers of two in an f64.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if (-LIMIT..LIMIT).contains(&t) {
        Some(t as i64)
    } else {
        None
    }
}

fn node_list_to_values(nodes: &[NodeValue]) -> QValue {
    QValue::List(nodes.iter().cloned().map(QValue::Node).collect())
}

fn props_map(props: &crate::model::Properties) -> BTreeMap<String, QValue> {
    props.iter().map(|(k, v)| (k.clone(), QValue::from(v))).collect()
}

/// Calls scalar function `name` on evaluated arguments (arity already checked).
pub(crate) fn call(ctx: &Ctx<'_>, name: &str, args: Vec<QValue>) -> Result<QValue> {
    let Some(canonical) = canonical_name(name) else {
        return Err(QueryError::runtime(format!("unknown function '{name}'")));
    };
    if lookup(super::temporal::FUNCTIONS, canonical).is_some() {
        return super::temporal::call(ctx, canonical, &args);
    }
    let arg = |i: usize| args.get(i).cloned().unwrap_or(QValue::Null);
    let first = arg(0);
    let string_fn = |f: fn(&str) -> String| -> Result<QValue> {
        Ok(as_str(canonical, &first)?.map_or(QValue::Null, |s| QValue::str(f(s))))
    };
    let math = |f: fn(f64) -> f64| -> Result<QValue> {
        Ok(as_number(canonical, &first)?.map_or(QValue::Null, |x| QValue::Float(f(x))))
    };
    match canonical {
        "coalesce" => Ok(args.into_iter().find(|v| !v.is_null()).unwrap_or(QValue::Null)),
        "toLower" | "lower" => string_fn(str::to_lowercase),
        "toUpper" | "upper" => string_fn(str::to_uppercase),
        "trim" => string_fn(|s| s.trim().to_string()),
        "ltrim" => string_fn(|s| s.trim_start().to_string()),
        "rtrim" => string_fn(|s| s.trim_end().to_string()),
        "size" => match &first {
            QValue::Null => Ok(QValue::Null),
            QValue::Str(s) => Ok(QValue::Int(count(s.chars().count()))),
            QValue::List(items) => Ok(QValue::Int(count(items.len()))),
            QValue::Map(map) => Ok(QValue::Int(count(map.len()))),
            other => Err(type_error(canonical, "a string or a list", other)),
        },
        "length" => match &first {
            QValue::Null => Ok(QValue::Null),
            QValue::Path(p) => Ok(QValue::Int(count(p.rels.len()))),
            QValue::Str(s) => Ok(QValue::Int(count(s.chars().count()))),
            QValue::List(items) => Ok(QValue::Int(count(items.len()))),
            other => Err(type_error(canonical, "a path", other)),
        },
        "nodes" => match &first {
            QValue::Null => Ok(QValue::Null),
            QValue::Path(p) => Ok(node_list_to_values(&p.nodes)),
            other => Err(type_error(canonical, "a path", other)),
        },
        "relationships" => match &first {
            QValue::Null => Ok(QValue::Null),
            QValue::Path(p) => Ok(QValue::List(p.rels.iter().cloned().map(QValue::Relationship).collect())),
            other => Err(type_error(canonical, "a path", other)),
        },
        "labels" => match &first {
            QValue::Null => Ok(QValue::Null),
            QValue::Node(n) => Ok(QValue::List(ctx.node_record(n)?.labels.iter().cloned().map(QValue::str).collect())),
            other => Err(type_error(canonical, "a node", other)),
        },
        "type" => match &first {
            QValue::Null => Ok(QValue::Null),
            QValue::Relationship(r) => Ok(QValue::str(ctx.edge_record(r)?.edge_type.clone())),
            other => Err(type_error(canonical, "a relationship", other)),
        },
        "id" => match &first {
            QValue::Null => Ok(QValue::Null),
            QValue::Node(n) => Ok(QValue::Int(i64::try_from(n.id).unwrap_or(i64::MAX))),
            QValue::Relationship(r) => Ok(QValue::Int(i64::try_from(r.id).unwrap_or(i64::MAX))),
            other => Err(type_error(canonical, "a node or a relationship", other)),
        },
        "startNode" | "endNode" => match &first {
            QValue::Null => Ok(QValue::Null),
            QValue::Relationship(r) => {
                let record = ctx.edge_record(r)?;
                let id = if canonical == "startNode" { record.src } else { record.dst };
                ctx.load_node(id).map(QValue::Node)
            }
            other => Err(type_error(canonical, "a relationship", other)),
        },
        "keys" => match &first {
            QValue::Null => Ok(QValue::Null),
            QValue::Node(n) => Ok(QValue::List(ctx.node_record(n)?.props.keys().cloned().map(QValue::str).collect())),
            QValue::Relationship(r) => {
                Ok(QValue::List(ctx.edge_record(r)?.props.keys().cloned().map(QValue::str).collect()))
            }
            QValue::Map(m) => Ok(QValue::List(m.keys().cloned().map(QValue::str).collect())),
            other => Err(type_error(canonical, "a node, a relationship or a map", other)),
        },
        "properties" => match &first {
            QValue::Null => Ok(QValue::Null),
            QValue::Node(n) => Ok(QValue::Map(props_map(&ctx.node_record(n)?.props))),
            QValue::Relationship(r) => Ok(QValue::Map(props_map(&ctx.edge_record(r)?.props))),
            QValue::Map(m) => Ok(QValue::Map(m.clone())),
            other => Err(type_error(canonical, "a node, a relationship or a map", other)),
        },
        "head" | "last" | "tail" => match first {
            QValue::Null => Ok(QValue::Null),
            QValue::List(mut items) => Ok(match canonical {
                "head" => items.into_iter().next().unwrap_or(QValue::Null),
                "last" => items.pop().unwrap_or(QValue::Null),
                _ => QValue::List(items.into_iter().skip(1).collect()),
            }),
            other => Err(type_error(canonical, "a list", &other)),
        },
        "reverse" => match first {
            QValue::Null => Ok(QValue::Null),
            QValue::Str(s) => Ok(QValue::str(s.chars().rev().collect::<String>())),
            QValue::List(mut items) => {
                items.reverse();
                Ok(QValue::List(items))
            }
            other => Err(type_error(canonical, "a string or a list", &other)),
        },
        "toString" | "toStringOrNull" => Ok(match &first {
            QValue::Null => QValue::Null,
            QValue::Str(s) => QValue::Str(s.clone()),
            QValue::Int(i) => QValue::str(i.to_string()),
            QValue::Float(x) => QValue::str(format_float(*x)),
            QValue::Bool(b) => QValue::str(b.to_string()),
            QValue::Temporal(t) => QValue::str(t.to_string()),
            _ if canonical == "toStringOrNull" => QValue::Null,
            other => return Err(type_error(canonical, "a string, number or boolean", other)),
        }),
        "toInteger" | "toIntegerOrNull" => Ok(match &first {
            QValue::Null => QValue::Null,
            QValue::Int(i) => QValue::Int(*i),
            QValue::Float(x) => float_to_int(*x).map_or(QValue::Null, QValue::Int),
            QValue::Bool(b) => QValue::Int(i64::from(*b)),
            QValue::Str(s) => parse_integer_text(s).map_or(QValue::Null, QValue::Int),
            _ if canonical == "toIntegerOrNull" => QValue::Null,
            other => return Err(type_error(canonical, "a string, number or boolean", other)),
        }),
        "toFloat" | "toFloatOrNull" => Ok(match &first {
            QValue::Null => QValue::Null,
            QValue::Int(i) => QValue::Float(float(*i)),
            QValue::Float(x) => QValue::Float(*x),
            QValue::Str(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|x| !x.is_nan() || s.trim().eq_ignore_ascii_case("nan"))
                .map_or(QValue::Null, QValue::Float),
            _ if canonical == "toFloatOrNull" => QValue::Null,
            other => return Err(type_error(canonical, "a string or a number", other)),
        }),
        "toBoolean" | "toBooleanOrNull" => Ok(match &first {
            QValue::Null => QValue::Null,
            QValue::Bool(b) => QValue::Bool(*b),
            QValue::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" => QValue::Bool(true),
                "false" => QValue::Bool(false),
                _ => QValue::Null,
            },
            QValue::Int(i) => QValue::Bool(*i != 0),
            _ if canonical == "toBooleanOrNull" => QValue::Null,
            other => return Err(type_error(canonical, "a string or a boolean", other)),
        }),
        "exists" => Ok(QValue::Bool(!first.is_null())),
        "range" => range(ctx, &first, &arg(1), args.get(2)),
        "abs" => match first {
            QValue::Null => Ok(QValue::Null),
            QValue::Int(i) => i.checked_abs().map(QValue::Int).ok_or_else(|| QueryError::runtime("integer overflow")),
            QValue::Float(x) => Ok(QValue::Float(x.abs())),
            other => Err(type_error(canonical, "a number", &other)),
        },
        "sign" => match first {
            QValue::Null => Ok(QValue::Null),
            QValue::Int(i) => Ok(QValue::Int(i.signum())),
            QValue::Float(x) => Ok(QValue::Int(if x > 0.0 {
                1
            } else if x < 0.0 {
                -1
            } else {
                0
            })),
            other => Err(type_error(canonical, "a number", &other)),
        },
        "ceil" => math(f64::ceil),
        "floor" => math(f64::floor),
        "round" => math(|x| (x + 0.5).floor()),
        "sqrt" => math(f64::sqrt),
        "exp" => math(f64::exp),
        "log" => math(f64::ln),
        "log10" => math(f64::log10),
        "sin" => math(f64::sin),
        "cos" => math(f64::cos),
        "tan" => math(f64::tan),
        "asin" => math(f64::asin),
        "acos" => math(f64::acos),
        "atan" => math(f64::atan),
        "degrees" => math(f64::to_degrees),
        "radians" => math(f64::to_radians),
        "atan2" => match (as_number(canonical, &first)?, as_number(canonical, &arg(1))?) {
            (Some(y), Some(x)) => Ok(QValue::Float(y.atan2(x))),
            _ => Ok(QValue::Null),
        },
        "pi" => Ok(QValue::Float(std::f64::consts::PI)),
        "rand" => Ok(QValue::Float(random_unit())),
        "e" => Ok(QValue::Float(std::f64::consts::E)),
        "split" => match (as_str(canonical, &first)?, as_str(canonical, &arg(1))?) {
            (Some(s), Some(sep)) => Ok(QValue::List(split(s, sep))),
            _ => Ok(QValue::Null),
        },
        "substring" => {
            let Some(s) = as_str(canonical, &first)? else { return Ok(QValue::Null) };
            let Some(start) = as_int(canonical, &arg(1))? else { return Ok(QValue::Null) };
            let length = match args.get(2) {
                Some(v) => match as_int(canonical, v)? {
                    Some(l) => Some(l),
                    None => return Ok(QValue::Null),
                },
                None => None,
            };
            if start < 0 || length.is_some_and(|l| l < 0) {
                return Err(QueryError::runtime("substring() expects a non-negative start and length"));
            }
            let start = usize::try_from(start).unwrap_or(usize::MAX);
            let chars = s.chars().skip(start);
            Ok(QValue::str(match length {
                Some(l) => chars.take(usize::try_from(l).unwrap_or(usize::MAX)).collect::<String>(),
                None => chars.collect(),
            }))
        }
        "replace" => match (as_str(canonical, &first)?, as_str(canonical, &arg(1))?, as_str(canonical, &arg(2))?) {
            (Some(s), Some(from), Some(to)) => Ok(QValue::str(s.replace(from, to))),
            _ => Ok(QValue::Null),
        },
        "left" | "right" => {
            let Some(s) = as_str(canonical, &first)? else { return Ok(QValue::Null) };
            let Some(n) = as_int(canonical, &arg(1))? else {
                return Err(QueryError::runtime(format!("{canonical}() expects a length, got null")));
            };
            if n < 0 {
                return Err(QueryError::runtime(format!("{canonical}() expects a non-negative length")));
            }
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            let len = s.chars().count();
            Ok(QValue::str(if canonical == "left" {
                s.chars().take(n).collect::<String>()
            } else {
                s.chars().skip(len.saturating_sub(n)).collect()
            }))
        }
        other => Err(QueryError::runtime(format!("{other}() is an aggregate function and cannot be used here"))),
    }
}

/// A pseudo-random float in [0, 1): xorshift over a seed from the clock and a counter
/// (rand() needs no cryptographic quality).
fn random_unit() -> f64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut x = STATE.load(Ordering::Relaxed);
    if x == 0 {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.subsec_nanos());
        x = u64::from(nanos) | 1;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    STATE.store(x, Ordering::Relaxed);
    // The top 53 bits as a fraction: exact in an f64.
    #[allow(clippy::cast_precision_loss)]
    let fraction = (x >> 11) as f64 / (1u64 << 53) as f64;
    fraction
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `toInteger('42')`, `toInteger('2.9')` (truncated); anything else is null.
fn parse_integer_text(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Ok(i) = text.parse::<i64>() {
        return Some(i);
    }
    text.parse::<f64>().ok().filter(|x| x.is_finite()).and_then(float_to_int)
}

fn split(s: &str, separator: &str) -> Vec<QValue> {
    if separator.is_empty() {
        return s.chars().map(|c| QValue::str(c.to_string())).collect();
    }
    s.split(separator).map(QValue::str).collect()
}

/// `range(start, end[, step])`: integers from `start` to `end` inclusive.
fn range(ctx: &Ctx<'_>, start: &QValue, end: &QValue, step: Option<&QValue>) -> Result<QValue> {
    let (Some(start), Some(end)) = (as_int("range", start)?, as_int("range", end)?) else {
        return Ok(QValue::Null);
    };
    let step = match step {
        Some(v) => match as_int("range", v)? {
            Some(s) => s,
            None => return Ok(QValue::Null),
        },
        None => 1,
    };
    if step == 0 {
        return Err(QueryError::runtime("range() step must not be zero"));
    }
    let span = i128::from(end) - i128::from(start);
    let steps = if (span >= 0) == (step > 0) || span == 0 { span / i128::from(step) + 1 } else { 0 };
    let len = u64::try_from(steps.max(0)).unwrap_or(u64::MAX);
    if len > MAX_RANGE {
        return Err(QueryError::runtime(format!(
            "range() would build a list of {len} elements (more than {MAX_RANGE})"
        )));
    }
    ctx.check_rows(len, "range()")?;
    let mut out = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    let mut value = i128::from(start);
    for _ in 0..len {
        out.push(QValue::Int(i64::try_from(value).map_err(|_| QueryError::runtime("integer overflow"))?));
        value += i128::from(step);
    }
    Ok(QValue::List(out))
}
