//! Temporal values through the real binary: the three output formats, `date(e.date)` over
//! the contract's date precisions, the query's fixed clock, and errors that point.

mod common;

use common::{Workspace, EXAMPLE};
use predicates::prelude::*;

fn example() -> Workspace {
    let ws = Workspace::new();
    assert_eq!(ws.ingest(EXAMPLE.as_ref()).status.code(), Some(0));
    ws
}

const VALUES: &str = "RETURN date('2023-09-13') AS d, localtime('10:30') AS lt, time('10:30:15.5+03:00') AS t, \
     localdatetime('2023-09-13T10:30') AS ldt, datetime({year: 2023, month: 9, day: 13, hour: 10, timezone: 'Europe/Moscow'}) AS dt, \
     duration.between(date('2023-09-13'), date('2024-06-19')) AS gap";

#[test]
fn temporal_values_print_as_iso_text_in_csv_json_and_table() {
    let ws = example();
    ws.cmd(&["query", VALUES, "--format", "csv"]).assert().code(0).stdout(
        "d,lt,t,ldt,dt,gap\n2023-09-13,10:30,10:30:15.5+03:00,2023-09-13T10:30,2023-09-13T10:00+03:00[Europe/Moscow],P9M6D\n",
    );
    let output = ws.cmd(&["query", VALUES, "--format", "json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let rows: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(rows[0]["dt"], "2023-09-13T10:00+03:00[Europe/Moscow]");
    assert_eq!(rows[0]["gap"], "P9M6D");
    ws.cmd(&["query", VALUES]).assert().code(0).stdout(
        predicate::str::contains("│ 2023-09-13 ")
            .and(predicate::str::contains("2023-09-13T10:00+03:00[Europe/Moscow]")),
    );
}

#[test]
fn event_dates_read_at_the_precision_the_article_gave() {
    let ws = example();
    // 'YYYY' reads as 1 January, 'YYYY-MM' as the first of the month, a full date as itself.
    ws.cmd(&[
        "query",
        "MATCH (e:Event) WHERE e.date IN ['2019', '2023-09', '2023-09-15'] \
         RETURN DISTINCT e.date AS given, date(e.date) AS read, date(e.date).month AS month ORDER BY given",
        "--format",
        "csv",
    ])
    .assert()
    .code(0)
    .stdout("given,read,month\n2019,2019-01-01,1\n2023-09,2023-09-01,9\n2023-09-15,2023-09-15,9\n");
}

#[test]
fn the_current_time_is_fixed_for_the_whole_query() {
    let ws = example();
    ws.cmd(&[
        "query",
        "UNWIND range(1, 5000) AS i WITH datetime() AS now, date() AS today \
         RETURN count(DISTINCT now) AS instants, count(DISTINCT today) AS days",
        "--format",
        "csv",
    ])
    .assert()
    .code(0)
    .stdout("instants,days\n1,1\n");
}

#[test]
fn a_bad_date_string_is_an_error_that_points_and_says_what_is_expected() {
    let ws = example();
    ws.cmd(&["query", "RETURN date('2023-13-45') AS d"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid date 2023-13-45").and(predicate::str::contains("^")))
        .stderr(predicate::str::contains("panicked").not());
    ws.cmd(&["query", "RETURN date('13 Sept 2023') AS d"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("expected YYYY-MM-DD"));
    ws.cmd(&["query", "RETURN datetime({year: 2023, timezone: 'Mars/Olympus'}) AS d"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown time zone 'Mars/Olympus'"));
}

#[test]
fn durations_sum_and_average_over_rows() {
    let ws = example();
    ws.cmd(&[
        "query",
        "UNWIND [duration('P1D'), duration('PT12H'), null] AS d RETURN sum(d) AS total, avg(d) AS mean",
        "--format",
        "csv",
    ])
    .assert()
    .code(0)
    .stdout("total,mean\nP1DT12H,PT18H\n");
    ws.cmd(&["query", "UNWIND [duration('P1D'), 1] AS d RETURN sum(d) AS total"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot add numbers and durations together"));
}

#[test]
fn a_time_in_a_named_zone_takes_the_zones_offset_of_today() {
    let ws = example();
    ws.cmd(&[
        "query",
        "WITH date() AS today RETURN time({hour: 12, timezone: 'Europe/Stockholm'}).offset = \
         datetime({year: today.year, month: today.month, day: today.day, hour: 12, timezone: 'Europe/Stockholm'}).offset AS same, \
         time('12:00+02:00[Europe/Stockholm]').offset AS written",
        "--format",
        "csv",
    ])
    .assert()
    .code(0)
    .stdout("same,written\ntrue,+02:00\n");
}
