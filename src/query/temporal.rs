//! The temporal functions of the query language: `date(…)`, `localtime(…)`, `time(…)`,
//! `localdatetime(…)`, `datetime(…)` from strings, maps and other temporal values, their
//! `.transaction/.statement/.realtime` clocks and `.truncate`, `duration(…)` and
//! `duration.between/inMonths/inDays/inSeconds`, the accessors (`d.year`, `d.offset`, …)
//! and arithmetic with durations. Values and calendar rules are `crate::temporal`'s; this
//! module only reads query values. It never touches the store.

use std::collections::BTreeMap;

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::Offset;
use jiff::{Timestamp, Unit};

use super::error::{QueryError, Result};
use super::eval::Ctx;
use super::value::QValue;
use crate::temporal::{
    self, add_days, at_instant, calendar_date, date_from_fields, day_of_quarter, duration_from_amounts, nanos_of_day,
    offset_text, ordinal_date, parse_date_fields, parse_duration, parse_time_fields, quarter_date, small_year,
    split_datetime, time_of_nanos, week_date, zoned, Amount, DateFields, Duration, Temporal, TemporalError, Zone,
    NANOS_PER_SECOND,
};

/// The five constructible kinds of instant-like values.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Date,
    LocalTime,
    Time,
    LocalDateTime,
    DateTime,
}

impl Kind {
    fn of(name: &str) -> Option<Kind> {
        Some(match name {
            "date" => Kind::Date,
            "localtime" => Kind::LocalTime,
            "time" => Kind::Time,
            "localdatetime" => Kind::LocalDateTime,
            "datetime" => Kind::DateTime,
            _ => return None,
        })
    }

    fn has_date(self) -> bool {
        matches!(self, Kind::Date | Kind::LocalDateTime | Kind::DateTime)
    }

    fn has_time(self) -> bool {
        !matches!(self, Kind::Date)
    }

    fn has_zone(self) -> bool {
        matches!(self, Kind::Time | Kind::DateTime)
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Date => "Date",
            Kind::LocalTime => "LocalTime",
            Kind::Time => "Time",
            Kind::LocalDateTime => "LocalDateTime",
            Kind::DateTime => "DateTime",
        }
    }
}

/// The temporal functions: (name, fewest arguments, most arguments).
pub const FUNCTIONS: &[(&str, usize, usize)] = &[
    ("date", 0, 1),
    ("date.transaction", 0, 1),
    ("date.statement", 0, 1),
    ("date.realtime", 0, 1),
    ("date.truncate", 2, 3),
    ("localtime", 0, 1),
    ("localtime.transaction", 0, 1),
    ("localtime.statement", 0, 1),
    ("localtime.realtime", 0, 1),
    ("localtime.truncate", 2, 3),
    ("time", 0, 1),
    ("time.transaction", 0, 1),
    ("time.statement", 0, 1),
    ("time.realtime", 0, 1),
    ("time.truncate", 2, 3),
    ("localdatetime", 0, 1),
    ("localdatetime.transaction", 0, 1),
    ("localdatetime.statement", 0, 1),
    ("localdatetime.realtime", 0, 1),
    ("localdatetime.truncate", 2, 3),
    ("datetime", 0, 1),
    ("datetime.transaction", 0, 1),
    ("datetime.statement", 0, 1),
    ("datetime.realtime", 0, 1),
    ("datetime.truncate", 2, 3),
    ("datetime.fromepoch", 2, 2),
    ("datetime.fromepochmillis", 1, 1),
    ("duration", 1, 1),
    ("duration.between", 2, 2),
    ("duration.inMonths", 2, 2),
    ("duration.inDays", 2, 2),
    ("duration.inSeconds", 2, 2),
];

fn invalid(e: TemporalError) -> QueryError {
    QueryError::runtime(e.0)
}

fn type_error(function: &str, wanted: &str, got: &QValue) -> QueryError {
    QueryError::type_error(format!("{function}() expects {wanted}, got a {}", got.type_name()))
}

/// Calls temporal function `name` (its canonical spelling, arity checked).
pub(crate) fn call(ctx: &Ctx<'_>, name: &str, args: &[QValue]) -> Result<QValue> {
    let arg = |i: usize| args.get(i).unwrap_or(&QValue::Null);
    let (base, member) = name.split_once('.').map_or((name, None), |(b, m)| (b, Some(m)));
    if base == "duration" {
        return match member {
            None => duration_of(arg(0)),
            Some(unit) => between(name, unit, arg(0), arg(1)),
        };
    }
    let Some(kind) = Kind::of(base) else {
        return Err(QueryError::runtime(format!("unknown function '{name}'")));
    };
    let clock = matches!(member, Some("transaction" | "statement" | "realtime"));
    if clock && args.first().is_some_and(QValue::is_null) {
        return Ok(QValue::Null);
    }
    match member {
        None if args.is_empty() => now(kind, ctx.now, None),
        None => construct(name, kind, arg(0), today(ctx.now)),
        Some("transaction" | "statement") => now(kind, ctx.now, zone_arg(name, arg(0))?),
        Some("realtime") => now(kind, Timestamp::now(), zone_arg(name, arg(0))?),
        Some("truncate") => truncate(name, kind, [arg(0), arg(1), arg(2)], today(ctx.now)),
        Some("fromepoch") => from_epoch(name, arg(0), arg(1)),
        Some("fromepochmillis") => from_epoch_millis(name, arg(0)),
        Some(_) => Err(QueryError::runtime(format!("unknown function '{name}'"))),
    }
}

fn zone_arg(function: &str, value: &QValue) -> Result<Option<Zone>> {
    match value {
        QValue::Null => Ok(None),
        QValue::Str(s) => Zone::parse(s).map(Some).map_err(invalid),
        other => Err(type_error(function, "a time zone", other)),
    }
}

/// The current date or time (fixed for the whole query), in UTC unless a zone is given.
fn now(kind: Kind, instant: Timestamp, zone: Option<Zone>) -> Result<QValue> {
    let zone = zone.unwrap_or(Zone::Fixed(Offset::UTC));
    let current = at_instant(instant, &zone).map_err(invalid)?;
    let (Some(date), Some(time), Some(zone)) = (current.date(), current.time(), current.zone()) else {
        return Err(QueryError::runtime("the current time is out of range"));
    };
    build(kind, date, time, zone)
}

fn build(kind: Kind, date: Date, time: Time, zone: Zone) -> Result<QValue> {
    let local = date.to_datetime(time);
    let offset = zone.offset_at(local).map_err(invalid)?;
    Ok(QValue::Temporal(match kind {
        Kind::Date => Temporal::Date(date),
        Kind::LocalTime => Temporal::LocalTime(time),
        Kind::Time => Temporal::Time { time, offset },
        Kind::LocalDateTime => Temporal::LocalDateTime(local),
        Kind::DateTime => zoned(local, &zone).map_err(invalid)?,
    }))
}

/// `date(x)` and the others: from a string, a map, or another temporal value.
/// The query's current date in UTC: a Time in a named zone takes that zone's offset on it.
fn today(now: Timestamp) -> Date {
    Offset::UTC.to_datetime(now).date()
}

fn construct(function: &str, kind: Kind, arg: &QValue, today: Date) -> Result<QValue> {
    match arg {
        QValue::Null => Ok(QValue::Null),
        QValue::Str(text) => parse(kind, text, today).map(QValue::Temporal).map_err(invalid),
        QValue::Map(map) => from_map(function, kind, map, None, today),
        QValue::Temporal(t) if !matches!(t, Temporal::Duration(_)) => {
            let mut map = BTreeMap::new();
            if kind.has_date() && t.date().is_some() {
                map.insert("date".to_string(), arg.clone());
            }
            if kind.has_time() && t.time().is_some() {
                map.insert("time".to_string(), arg.clone());
            }
            if map.is_empty() {
                return Err(QueryError::type_error(format!("{function}() cannot be made from a {}", t.type_name())));
            }
            from_map(function, kind, &map, None, today)
        }
        other => Err(type_error(function, "a string, a map or a temporal value", other)),
    }
}

/// Reads the ISO 8601 text of `kind`.
fn parse(kind: Kind, text: &str, today: Date) -> temporal::Result<Temporal> {
    let date_of = |text: &str| date_from_fields(&parse_date_fields(text)?);
    match kind {
        Kind::Date => Ok(Temporal::Date(date_of(text)?)),
        Kind::LocalTime => Ok(Temporal::LocalTime(parse_time_fields(text)?.time)),
        Kind::Time => {
            let fields = parse_time_fields(text)?;
            let offset = match (fields.offset, fields.zone) {
                (Some(offset), _) => offset,
                (None, Some(name)) => Zone::Named(name).offset_at(today.to_datetime(fields.time))?,
                (None, None) => Offset::UTC,
            };
            Ok(Temporal::Time { time: fields.time, offset })
        }
        Kind::LocalDateTime => {
            let (date, time) = split_datetime(text)?;
            let time = time.map(parse_time_fields).transpose()?.map_or(Time::midnight(), |f| f.time);
            Ok(Temporal::LocalDateTime(date_of(date)?.to_datetime(time)))
        }
        Kind::DateTime => {
            let (date, time) = split_datetime(text)?;
            let date = date_of(date)?;
            let Some(fields) = time.map(parse_time_fields).transpose()? else {
                return Ok(Temporal::DateTime {
                    local: date.to_datetime(Time::midnight()),
                    offset: Offset::UTC,
                    zone: None,
                });
            };
            let local = date.to_datetime(fields.time);
            match (fields.zone, fields.offset) {
                (Some(name), offset) => {
                    let value = zoned(local, &Zone::Named(name.clone()))?;
                    if let Some(offset) = offset {
                        if value.offset() != Some(offset) {
                            // The text's offset decides the instant; the zone shows it.
                            let instant = offset.to_timestamp(local).map_err(|e| TemporalError(e.to_string()))?;
                            return at_instant(instant, &Zone::Named(name));
                        }
                    }
                    Ok(value)
                }
                (None, offset) => Ok(Temporal::DateTime { local, offset: offset.unwrap_or(Offset::UTC), zone: None }),
            }
        }
    }
}

/// The fields a map may give, read and checked.
#[derive(Default)]
struct MapFields {
    date: DateFields,
    year: Option<i64>,
    hour: Option<i64>,
    minute: Option<i64>,
    second: Option<i64>,
    millisecond: Option<i64>,
    microsecond: Option<i64>,
    nanosecond: Option<i64>,
    timezone: Option<Zone>,
    date_base: Option<Temporal>,
    time_base: Option<Temporal>,
    /// The `datetime` key: both bases, and its zone is kept.
    datetime_base: bool,
    epoch_nanos: Option<i128>,
}

fn read_fields(function: &str, kind: Kind, map: &BTreeMap<String, QValue>) -> Result<MapFields> {
    let mut fields = MapFields::default();
    let mut epoch: Option<i128> = None;
    for (key, value) in map {
        if value.is_null() {
            continue;
        }
        let int = || match value {
            QValue::Int(i) => Ok(*i),
            other => Err(QueryError::type_error(format!(
                "{function}(): '{key}' must be an integer, got a {}",
                other.type_name()
            ))),
        };
        let temporal = || match value {
            QValue::Temporal(t) if !matches!(t, Temporal::Duration(_)) => Ok(t.clone()),
            other => Err(QueryError::type_error(format!(
                "{function}(): '{key}' must be a temporal value, got a {}",
                other.type_name()
            ))),
        };
        let date_key = kind.has_date();
        let time_key = kind.has_time();
        match key.as_str() {
            "year" if date_key => fields.year = Some(int()?),
            "month" if date_key => fields.date.month = Some(int()?),
            "day" if date_key => fields.date.day = Some(int()?),
            "week" if date_key => fields.date.week = Some(int()?),
            "dayOfWeek" if date_key => fields.date.day_of_week = Some(int()?),
            "ordinalDay" if date_key => fields.date.ordinal_day = Some(int()?),
            "quarter" if date_key => fields.date.quarter = Some(int()?),
            "dayOfQuarter" if date_key => fields.date.day_of_quarter = Some(int()?),
            "hour" if time_key => fields.hour = Some(int()?),
            "minute" if time_key => fields.minute = Some(int()?),
            "second" if time_key => fields.second = Some(int()?),
            "millisecond" if time_key => fields.millisecond = Some(int()?),
            "microsecond" if time_key => fields.microsecond = Some(int()?),
            "nanosecond" if time_key => fields.nanosecond = Some(int()?),
            "timezone" if kind.has_zone() => match value {
                QValue::Str(s) => fields.timezone = Some(Zone::parse(s).map_err(invalid)?),
                other => return Err(type_error(function, "a string time zone", other)),
            },
            "date" => {
                let t = temporal()?;
                if t.date().is_none() {
                    return Err(QueryError::type_error(format!(
                        "{function}(): 'date' has no date: a {}",
                        t.type_name()
                    )));
                }
                fields.date_base = Some(t);
            }
            "time" if time_key => {
                let t = temporal()?;
                if t.time().is_none() {
                    return Err(QueryError::type_error(format!(
                        "{function}(): 'time' has no time: a {}",
                        t.type_name()
                    )));
                }
                fields.time_base = Some(t);
            }
            "datetime" if date_key => {
                let t = temporal()?;
                fields.date_base = Some(t.clone());
                fields.time_base = t.time().map(|_| t);
                fields.datetime_base = true;
            }
            "epochSeconds" if kind == Kind::DateTime => {
                epoch = Some(epoch.unwrap_or(0) + i128::from(int()?) * NANOS_PER_SECOND);
            }
            "epochMillis" if kind == Kind::DateTime => {
                epoch = Some(epoch.unwrap_or(0) + i128::from(int()?) * 1_000_000);
            }
            _ => {
                return Err(QueryError::runtime(format!(
                    "{function}(): '{key}' is not a field of a {} value",
                    kind.name()
                )));
            }
        }
    }
    fields.epoch_nanos = epoch;
    Ok(fields)
}

/// The date a map describes, with `base` supplying what it leaves out.
fn resolve_date(fields: &MapFields, base: Option<Date>) -> temporal::Result<Date> {
    let f = &fields.date;
    let Some(base) = base else {
        let Some(year) = fields.year else {
            return temporal::err("a date needs at least a year");
        };
        if f.day.is_some() && f.month.is_none() {
            return temporal::err("a date with a day needs a month");
        }
        if f.day_of_week.is_some() && f.week.is_none() {
            return temporal::err("a date with a dayOfWeek needs a week");
        }
        if f.day_of_quarter.is_some() && f.quarter.is_none() {
            return temporal::err("a date with a dayOfQuarter needs a quarter");
        }
        return date_from_fields(&DateFields { year, ..*f });
    };
    if f.week.is_some() || f.day_of_week.is_some() {
        let iso = base.iso_week_date();
        let year = fields.year.unwrap_or(i64::from(iso.year()));
        let week = f.week.unwrap_or(i64::from(iso.week()));
        let weekday = f.day_of_week.unwrap_or(i64::from(iso.weekday().to_monday_one_offset()));
        return week_date(small_year(year)?, week, weekday);
    }
    let year = small_year(fields.year.unwrap_or(i64::from(base.year())))?;
    if let Some(ordinal) = f.ordinal_day {
        return ordinal_date(year, ordinal);
    }
    if f.quarter.is_some() || f.day_of_quarter.is_some() {
        let quarter = f.quarter.unwrap_or(i64::from((base.month() - 1) / 3 + 1));
        return quarter_date(year, quarter, f.day_of_quarter.unwrap_or(day_of_quarter(base)));
    }
    calendar_date(year, f.month.unwrap_or(i64::from(base.month())), f.day.unwrap_or(i64::from(base.day())))
}

/// The time of day a map describes, with `base` supplying what it leaves out.
fn resolve_time(fields: &MapFields, base: Option<Time>) -> temporal::Result<Time> {
    if base.is_none() {
        if fields.minute.is_some() && fields.hour.is_none() {
            return temporal::err("a time with a minute needs an hour");
        }
        if fields.second.is_some() && fields.minute.is_none() {
            return temporal::err("a time with a second needs a minute");
        }
    }
    let base = base.unwrap_or(Time::midnight());
    let part = |given: Option<i64>, had: i8, limit: i64, what: &str| -> temporal::Result<i8> {
        let value = given.unwrap_or(i64::from(had));
        if (0..limit).contains(&value) {
            Ok(i8::try_from(value).unwrap_or(0))
        } else {
            temporal::err(format!("{what} {value} is out of range (0 to {})", limit - 1))
        }
    };
    let (ms, us, ns) = (fields.millisecond, fields.microsecond, fields.nanosecond);
    let had = i64::from(base.subsec_nanosecond());
    let subsecond = if ms.is_none() && us.is_none() && ns.is_some_and(|n| n >= 1_000 || had == 0) {
        // A nanosecond alone is the whole fraction of the second.
        let ns = ns.unwrap_or(0);
        if !(0..1_000_000_000).contains(&ns) {
            return temporal::err(format!("nanosecond {ns} is out of range (0 to 999999999)"));
        }
        ns
    } else if ms.is_none() && us.is_none() && ns.is_none() {
        had
    } else {
        // Each given unit replaces its own digits; a larger unit given clears the smaller.
        let ms_part = ms.unwrap_or(had / 1_000_000);
        let us_part = us.unwrap_or(if ms.is_some() { 0 } else { had / 1_000 % 1_000 });
        let ns_part = ns.unwrap_or(if ms.is_some() || us.is_some() { 0 } else { had % 1_000 });
        let us_limit = if ms.is_some() || had >= 1_000_000 { 1_000 } else { 1_000_000 };
        let ns_limit = if ms.is_some() || us.is_some() || had >= 1_000 { 1_000 } else { 1_000_000_000 };
        if !(0..1_000).contains(&ms_part) || !(0..us_limit).contains(&us_part) || !(0..ns_limit).contains(&ns_part) {
            return temporal::err("a fraction of a second is out of range");
        }
        ms_part * 1_000_000 + us_part * 1_000 + ns_part
    };
    let subsecond = i32::try_from(subsecond).unwrap_or(0);
    Time::new(
        part(fields.hour, base.hour(), 24, "hour")?,
        part(fields.minute, base.minute(), 60, "minute")?,
        part(fields.second, base.second(), 60, "second")?,
        subsecond,
    )
    .map_err(|e| TemporalError(e.to_string()))
}

/// Builds `kind` from a map. `zone_replaces` (truncation) attaches the map's timezone to
/// the wall-clock time instead of converting the base's instant to it.
/// A time without a date (LocalTime, Time) is placed on `today` to find a named zone's offset.
fn from_map(
    function: &str,
    kind: Kind,
    map: &BTreeMap<String, QValue>,
    zone_replaces: Option<Zone>,
    today: Date,
) -> Result<QValue> {
    let fields = read_fields(function, kind, map)?;
    if let Some(nanos) = fields.epoch_nanos {
        let extra = fields.millisecond.unwrap_or(0) * 1_000_000
            + fields.microsecond.unwrap_or(0) * 1_000
            + fields.nanosecond.unwrap_or(0);
        let instant = Timestamp::from_nanosecond(nanos + i128::from(extra))
            .map_err(|e| QueryError::runtime(format!("{function}(): {e}")))?;
        let zone = fields.timezone.clone().unwrap_or(Zone::Fixed(Offset::UTC));
        return at_instant(instant, &zone).map(QValue::Temporal).map_err(invalid);
    }
    let date = if kind.has_date() {
        resolve_date(&fields, fields.date_base.as_ref().and_then(Temporal::date)).map_err(invalid)?
    } else {
        today
    };
    let time = if kind.has_time() {
        resolve_time(&fields, fields.time_base.as_ref().and_then(Temporal::time)).map_err(invalid)?
    } else {
        Time::midnight()
    };
    if !kind.has_zone() {
        return build(kind, date, time, Zone::Fixed(Offset::UTC));
    }
    let source = match &fields.time_base {
        Some(t) => t.zone(),
        None if fields.datetime_base => fields.date_base.as_ref().and_then(Temporal::zone),
        None => None,
    };
    let zone = match (fields.timezone.clone(), source, zone_replaces) {
        (Some(target), _, Some(_)) => target,
        (None, _, Some(kept)) => kept,
        (Some(target), Some(source), None) => {
            // The base's wall-clock time in its own zone is an instant; show it in the
            // map's zone.
            let local = date.to_datetime(time);
            let offset = source.offset_at(local).map_err(invalid)?;
            let instant = offset.to_timestamp(local).map_err(|e| QueryError::runtime(e.to_string()))?;
            let shown = at_instant(instant, &target).map_err(invalid)?;
            let (Some(date), Some(time)) = (shown.date(), shown.time()) else {
                return Err(QueryError::runtime("a date-time is out of range"));
            };
            return build(kind, date, time, target);
        }
        (Some(target), None, None) => target,
        (None, Some(source), None) => source,
        (None, None, None) => Zone::Fixed(Offset::UTC),
    };
    build(kind, date, time, zone)
}

fn from_epoch(function: &str, seconds: &QValue, nanos: &QValue) -> Result<QValue> {
    match (seconds, nanos) {
        (QValue::Null, _) | (_, QValue::Null) => Ok(QValue::Null),
        (QValue::Int(s), QValue::Int(n)) => {
            let total = i128::from(*s) * NANOS_PER_SECOND + i128::from(*n);
            let instant =
                Timestamp::from_nanosecond(total).map_err(|e| QueryError::runtime(format!("{function}(): {e}")))?;
            at_instant(instant, &Zone::Fixed(Offset::UTC)).map(QValue::Temporal).map_err(invalid)
        }
        (other, QValue::Int(_)) | (_, other) => Err(type_error(function, "integers", other)),
    }
}

fn from_epoch_millis(function: &str, millis: &QValue) -> Result<QValue> {
    match millis {
        QValue::Null => Ok(QValue::Null),
        QValue::Int(ms) => {
            let instant =
                Timestamp::from_millisecond(*ms).map_err(|e| QueryError::runtime(format!("{function}(): {e}")))?;
            at_instant(instant, &Zone::Fixed(Offset::UTC)).map(QValue::Temporal).map_err(invalid)
        }
        other => Err(type_error(function, "an integer", other)),
    }
}

// ---------------------------------------------------------------------------------------
// Truncation

/// `kind.truncate(unit, value, map)`: `value` cut down to the start of its `unit`, then
/// the map's fields set.
fn truncate(function: &str, kind: Kind, [unit, value, map]: [&QValue; 3], today: Date) -> Result<QValue> {
    let unit = match unit {
        QValue::Str(s) => s.to_string(),
        QValue::Null => return Ok(QValue::Null),
        other => return Err(type_error(function, "a unit name", other)),
    };
    let source = match value {
        QValue::Null => return Ok(QValue::Null),
        QValue::Temporal(t) if !matches!(t, Temporal::Duration(_)) => t.clone(),
        other => return Err(type_error(function, "a temporal value", other)),
    };
    let overrides = match map {
        QValue::Null => BTreeMap::new(),
        QValue::Map(m) => m.clone(),
        other => return Err(type_error(function, "a map", other)),
    };
    let date_unit = matches!(
        unit.as_str(),
        "millennium" | "century" | "decade" | "year" | "weekYear" | "quarter" | "month" | "week" | "day"
    );
    let time_unit = matches!(unit.as_str(), "hour" | "minute" | "second" | "millisecond" | "microsecond");
    if !date_unit && !time_unit {
        return Err(QueryError::runtime(format!("{function}(): '{unit}' is not a unit to truncate to")));
    }
    if time_unit && kind == Kind::Date {
        return Err(QueryError::runtime(format!("{function}(): a date cannot be truncated to '{unit}'")));
    }
    let date = match source.date() {
        Some(date) => Some(truncate_date(&unit, date).map_err(invalid)?),
        None if kind.has_date() => {
            return Err(QueryError::runtime(format!("{function}(): a {} has no date", source.type_name())))
        }
        None => None,
    };
    let time =
        if date_unit { Time::midnight() } else { truncate_time(&unit, source.time().unwrap_or(Time::midnight())) };
    if kind.has_time() && !kind.has_date() && date_unit && unit != "day" {
        return Err(QueryError::runtime(format!("{function}(): a time cannot be truncated to '{unit}'")));
    }
    let mut base = BTreeMap::new();
    let date = date.unwrap_or(today);
    base.insert("date".to_string(), QValue::Temporal(Temporal::Date(date)));
    if kind.has_time() {
        base.insert("time".to_string(), QValue::Temporal(Temporal::LocalTime(time)));
    }
    for (key, value) in overrides {
        base.insert(key, value);
    }
    if !kind.has_date() {
        base.remove("date");
    }
    let kept = source.zone().unwrap_or(Zone::Fixed(Offset::UTC));
    from_map(function, kind, &base, Some(kept), today)
}

fn truncate_date(unit: &str, date: Date) -> temporal::Result<Date> {
    let year = i64::from(date.year());
    let start_of_year = |y: i64| calendar_date(small_year(y)?, 1, 1);
    match unit {
        "millennium" => start_of_year(year - year.rem_euclid(1000)),
        "century" => start_of_year(year - year.rem_euclid(100)),
        "decade" => start_of_year(year - year.rem_euclid(10)),
        "year" => start_of_year(year),
        "weekYear" => week_date(date.iso_week_date().year(), 1, 1),
        "quarter" => calendar_date(date.year(), i64::from((date.month() - 1) / 3 * 3 + 1), 1),
        "month" => calendar_date(date.year(), i64::from(date.month()), 1),
        "week" => add_days(date, -i64::from(date.weekday().to_monday_zero_offset())),
        _ => Ok(date),
    }
}

fn truncate_time(unit: &str, time: Time) -> Time {
    let nanos = i128::from(nanos_of_day(time));
    let step: i128 = match unit {
        "hour" => 3600 * NANOS_PER_SECOND,
        "minute" => 60 * NANOS_PER_SECOND,
        "second" => NANOS_PER_SECOND,
        "millisecond" => 1_000_000,
        "microsecond" => 1_000,
        _ => 1,
    };
    time_of_nanos(nanos - nanos % step).unwrap_or(time)
}

// ---------------------------------------------------------------------------------------
// Durations

fn duration_of(arg: &QValue) -> Result<QValue> {
    match arg {
        QValue::Null => Ok(QValue::Null),
        QValue::Str(text) => parse_duration(text).map(|d| QValue::Temporal(Temporal::Duration(d))).map_err(invalid),
        QValue::Map(map) => {
            let mut parts = Vec::new();
            for (key, value) in map {
                let amount = match value {
                    QValue::Null => continue,
                    QValue::Int(i) => Amount::Int(*i),
                    QValue::Float(x) => Amount::Float(*x),
                    other => {
                        return Err(QueryError::type_error(format!(
                            "duration(): '{key}' must be a number, got a {}",
                            other.type_name()
                        )))
                    }
                };
                if !matches!(
                    key.as_str(),
                    "years"
                        | "quarters"
                        | "months"
                        | "weeks"
                        | "days"
                        | "hours"
                        | "minutes"
                        | "seconds"
                        | "milliseconds"
                        | "microseconds"
                        | "nanoseconds"
                ) {
                    return Err(QueryError::runtime(format!("duration(): '{key}' is not a unit of a duration")));
                }
                parts.push((key.as_str(), amount));
            }
            duration_from_amounts(&parts).map(|d| QValue::Temporal(Temporal::Duration(d))).map_err(invalid)
        }
        QValue::Temporal(Temporal::Duration(_)) => Ok(arg.clone()),
        other => Err(type_error("duration", "a string or a map", other)),
    }
}

/// `duration.between(a, b)` and its `inMonths`, `inDays`, `inSeconds` forms.
fn between(function: &str, unit: &str, a: &QValue, b: &QValue) -> Result<QValue> {
    let (a, b) = match (a, b) {
        (QValue::Null, _) | (_, QValue::Null) => return Ok(QValue::Null),
        (QValue::Temporal(a), QValue::Temporal(b))
            if !matches!(a, Temporal::Duration(_)) && !matches!(b, Temporal::Duration(_)) =>
        {
            (a, b)
        }
        (QValue::Temporal(Temporal::Duration(_)) | QValue::Temporal(_), other) | (other, _) => {
            return Err(type_error(function, "two temporal values (not durations)", other))
        }
    };
    let unit = match unit {
        "between" => None,
        "inMonths" => Some(Unit::Month),
        "inDays" => Some(Unit::Day),
        "inSeconds" => Some(Unit::Second),
        _ => return Err(QueryError::runtime(format!("unknown function '{function}'"))),
    };
    duration_between(a, b, unit).map(|d| QValue::Temporal(Temporal::Duration(d))).map_err(invalid)
}

fn jiff_error(e: jiff::Error) -> TemporalError {
    TemporalError(format!("the duration is out of range: {e}"))
}

/// The time units of a span in nanoseconds.
fn span_nanos(span: &jiff::Span) -> i128 {
    ((i128::from(span.get_hours()) * 60 + i128::from(span.get_minutes())) * 60 + i128::from(span.get_seconds()))
        * NANOS_PER_SECOND
        + i128::from(span.get_milliseconds()) * 1_000_000
        + i128::from(span.get_microseconds()) * 1_000
        + i128::from(span.get_nanoseconds())
}

fn duration_between(a: &Temporal, b: &Temporal, unit: Option<Unit>) -> temporal::Result<Duration> {
    // A side without a date takes the other's (times alone share one day); a side
    // without a zone is read in the other's.
    let epoch = Date::constant(1970, 1, 1);
    let both_dated = a.date().is_some() && b.date().is_some();
    let date_a = a.date().or(b.date()).unwrap_or(epoch);
    let date_b = b.date().or(a.date()).unwrap_or(epoch);
    let local_a = date_a.to_datetime(a.time().unwrap_or(Time::midnight()));
    let local_b = date_b.to_datetime(b.time().unwrap_or(Time::midnight()));
    let (zone_a, zone_b) = match (a.zone(), b.zone()) {
        (Some(za), None) => (Some(za.clone()), Some(za)),
        (None, Some(zb)) => (Some(zb.clone()), Some(zb)),
        pair => pair,
    };
    let largest = unit.unwrap_or(Unit::Month);
    if !both_dated && largest != Unit::Second && unit.is_some() {
        return Ok(Duration::ZERO);
    }
    if let (Some(zone_a), Some(zone_b)) = (zone_a, zone_b) {
        // Both are instants: measure in a's zone, so days are its calendar days.
        let tz = match &zone_a {
            Zone::Named(name) => temporal::named_zone(name)?,
            Zone::Fixed(offset) => jiff::tz::TimeZone::fixed(*offset),
        };
        let instant = |zone: &Zone, local: DateTime| -> temporal::Result<Timestamp> {
            zone.offset_at(local)?.to_timestamp(local).map_err(jiff_error)
        };
        let za = instant(&zone_a, local_a)?.to_zoned(tz.clone());
        let zb = instant(&zone_b, local_b)?.to_zoned(tz);
        if largest == Unit::Second || !both_dated {
            let nanos = zb.timestamp().as_nanosecond() - za.timestamp().as_nanosecond();
            return Duration::new(0, 0, nanos);
        }
        let span = za.until((largest, &zb)).map_err(jiff_error)?;
        return span_to_duration(&span, unit);
    }
    if largest == Unit::Second || !both_dated {
        return Duration::new(0, 0, local_a.duration_until(local_b).as_nanos());
    }
    let span = local_a.until((largest, local_b)).map_err(jiff_error)?;
    span_to_duration(&span, unit)
}

fn span_to_duration(span: &jiff::Span, unit: Option<Unit>) -> temporal::Result<Duration> {
    let months = i128::from(span.get_years()) * 12 + i128::from(span.get_months());
    let days = i128::from(span.get_weeks()) * 7 + i128::from(span.get_days());
    match unit {
        Some(Unit::Month) => Duration::new(months, 0, 0),
        Some(Unit::Day) => Duration::new(0, days, 0),
        _ => Duration::new(months, days, span_nanos(span)),
    }
}

// ---------------------------------------------------------------------------------------
// Accessors

/// `value.key` on a temporal value.
pub(crate) fn accessor(t: &Temporal, key: &str) -> Result<QValue> {
    let int = |v: i64| Ok(QValue::Int(v));
    if let Temporal::Duration(d) = t {
        return duration_accessor(*d, key);
    }
    if let Some(date) = t.date() {
        let iso = date.iso_week_date();
        match key {
            "year" => return int(i64::from(date.year())),
            "quarter" => return int(i64::from((date.month() - 1) / 3 + 1)),
            "month" => return int(i64::from(date.month())),
            "week" => return int(i64::from(iso.week())),
            "weekYear" => return int(i64::from(iso.year())),
            "day" => return int(i64::from(date.day())),
            "ordinalDay" => return int(i64::from(date.day_of_year())),
            "weekDay" | "dayOfWeek" => return int(i64::from(date.weekday().to_monday_one_offset())),
            "dayOfQuarter" => return int(day_of_quarter(date)),
            _ => {}
        }
    }
    if let Some(time) = t.time() {
        let nanos = i64::from(time.subsec_nanosecond());
        match key {
            "hour" => return int(i64::from(time.hour())),
            "minute" => return int(i64::from(time.minute())),
            "second" => return int(i64::from(time.second())),
            "millisecond" => return int(nanos / 1_000_000),
            "microsecond" => return int(nanos / 1_000),
            "nanosecond" => return int(nanos),
            _ => {}
        }
    }
    if let Some(offset) = t.offset() {
        match key {
            "timezone" => {
                return Ok(QValue::str(match t {
                    Temporal::DateTime { zone: Some(name), .. } => name.clone(),
                    _ => offset_text(offset),
                }))
            }
            "offset" => {
                let text = offset_text(offset);
                return Ok(QValue::str(if text == "Z" { "+00:00".to_string() } else { text }));
            }
            "offsetMinutes" => return int(i64::from(offset.seconds() / 60)),
            "offsetSeconds" => return int(i64::from(offset.seconds())),
            _ => {}
        }
    }
    if let Some(instant) = temporal::instant_of(t) {
        match key {
            "epochSeconds" => return int(instant.as_second()),
            "epochMillis" => return int(instant.as_millisecond()),
            _ => {}
        }
    }
    Err(QueryError::runtime(format!("a {} has no field '{key}'", t.type_name())))
}

fn duration_accessor(d: Duration, key: &str) -> Result<QValue> {
    let (seconds, nanos_of_second) = d.seconds_and_nanos();
    let value: i128 = match key {
        "years" => i128::from(d.months / 12),
        "quarters" => i128::from(d.months / 3),
        "months" => i128::from(d.months),
        "weeks" => i128::from(d.days / 7),
        "days" => i128::from(d.days),
        "hours" => seconds / 3600,
        "minutes" => seconds / 60,
        "seconds" => seconds,
        "milliseconds" => seconds * 1_000 + nanos_of_second / 1_000_000,
        "microseconds" => seconds * 1_000_000 + nanos_of_second / 1_000,
        "nanoseconds" => seconds * NANOS_PER_SECOND + nanos_of_second,
        "quartersOfYear" => i128::from(d.months % 12 / 3),
        "monthsOfQuarter" => i128::from(d.months % 3),
        "monthsOfYear" => i128::from(d.months % 12),
        "daysOfWeek" => i128::from(d.days % 7),
        "hoursOfDay" => seconds / 3600 % 24,
        "minutesOfHour" => seconds / 60 % 60,
        "secondsOfMinute" => seconds % 60,
        "millisecondsOfSecond" => nanos_of_second / 1_000_000,
        "microsecondsOfSecond" => nanos_of_second / 1_000,
        "nanosecondsOfSecond" => nanos_of_second,
        _ => return Err(QueryError::runtime(format!("a Duration has no field '{key}'"))),
    };
    i64::try_from(value).map(QValue::Int).map_err(|_| QueryError::runtime(format!("a Duration's {key} overflows")))
}

// ---------------------------------------------------------------------------------------
// Arithmetic

/// `left op right` where one side is temporal: `None` when the operator does not apply
/// to these operands (the caller reports the type error).
pub(crate) fn arithmetic(op: super::ast::BinaryOp, left: &QValue, right: &QValue) -> Option<Result<QValue>> {
    use super::ast::BinaryOp::{Add, Div, Mul, Sub};
    let duration = |v: &QValue| match v {
        QValue::Temporal(Temporal::Duration(d)) => Some(*d),
        _ => None,
    };
    let number = |v: &QValue| match v {
        QValue::Int(i) => Some(Amount::Int(*i)),
        QValue::Float(x) => Some(Amount::Float(*x)),
        _ => None,
    };
    let done = |r: temporal::Result<Temporal>| Some(r.map(QValue::Temporal).map_err(invalid));
    match (op, left, right) {
        (Sub, QValue::Temporal(a), QValue::Temporal(b))
            if !matches!(a, Temporal::Duration(_)) && !matches!(b, Temporal::Duration(_)) =>
        {
            Some(Err(QueryError::type_error(format!(
                "cannot subtract a {} from a {}: duration.between(a, b) gives the time between them",
                b.type_name(),
                a.type_name()
            ))))
        }
        (Add, QValue::Temporal(t), r) | (Add, r, QValue::Temporal(t)) if duration(r).is_some() => {
            done(temporal::add_duration(t, duration(r)?))
        }
        (Sub, QValue::Temporal(t), r) if duration(r).is_some() => {
            done(duration(r)?.negate().and_then(|d| temporal::add_duration(t, d)))
        }
        (Mul, l, r) | (Mul, r, l) if duration(l).is_some() && number(r).is_some() => {
            done(duration(l)?.times(number(r)?).map(Temporal::Duration))
        }
        (Div, l, r) if duration(l).is_some() && number(r).is_some() => match number(r)? {
            Amount::Int(k) => done(duration(l)?.divided_by_int(k).map(Temporal::Duration)),
            Amount::Float(x) => done(duration(l)?.divided(x).map(Temporal::Duration)),
        },
        _ => None,
    }
}
