//! In-process benchmark of the fixed query set of BENCHMARKS.md over an existing store:
//! opens the store, picks busy leaders for the parameters, and runs each query
//! `--repeats` times, printing the median and spread (warm latency).
//!
//! cargo run --release --example bench -- --db bench-100k.db [--repeats 20] [--only c]
//! `--query TEXT` times one other query instead (with the same parameters), for profiling.

use std::time::{Duration, Instant};

/// The allocator of the `diplograph` binary, so in-process figures match the CLI's.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use diplograph::model::Value;
use diplograph::query::{self, Params, QueryOptions};
use diplograph::store::{OpenMode, Store};

const QUERIES: [(&str, &str); 7] = [
    ("a", "MATCH (g:Gift)-[:GIVER]->(p:Person {name: $giver}), (g)-[:RECIPIENT]->(r), (g)-[:ITEM]->(i) RETURN p.name AS giver, i.name AS item, r.name AS recipient ORDER BY item, recipient"),
    ("b", "MATCH (a:Person {name: $a})<-[:PARTICIPANT]-(m:Meeting)-[:PARTICIPANT]->(b:Person {name: $b}) RETURN m.id AS meeting, m.date AS date, m.status AS status ORDER BY date, meeting"),
    ("c", "MATCH (p:Person {name: $a})<-[:PARTICIPANT|GIVER|RECIPIENT|VISITOR|HOST|INVITER|INVITEE]-(e)-[:PARTICIPANT|GIVER|RECIPIENT|ITEM|VISITOR|DESTINATION|HOST|INVITER|INVITEE|PLACE]->(x) WHERE x.id <> p.id RETURN count(DISTINCT x) AS neighbours"),
    ("d", "MATCH (a:Person {name: $src}), (b:Person {name: $far}) MATCH p = shortestPath((a)-[:PARTICIPANT|GIVER|RECIPIENT|VISITOR|HOST|INVITER|INVITEE*..12]-(b)) RETURN length(p) AS hops"),
    ("e", "MATCH (g:Gift)-[:GIVER]->(p) RETURN p.name AS giver, count(g) AS gifts ORDER BY gifts DESC, giver LIMIT 10"),
    ("f", "MATCH (e:Event) RETURN e.type AS type, count(*) AS n ORDER BY type"),
    ("g", "MATCH (e:Event) RETURN e.id LIMIT 10"),
];

/// Prints a line; a closed stdout (`bench … | head`) ends the run quietly.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

fn main() {
    if let Err(message) = run() {
        eprintln!("error: {message}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let db = flag("--db").ok_or("usage: bench --db PATH [--repeats N] [--only QUERY-LETTER | --query TEXT]")?;
    let repeats: usize =
        flag("--repeats").map(|r| r.parse().map_err(|_| "--repeats takes a number")).transpose()?.unwrap_or(20);
    let opened = Instant::now();
    let store = Store::open(db.as_ref(), OpenMode::MustExist).map_err(|e| e.to_string())?;
    say!("store open: {:.2} ms", ms(opened.elapsed()));
    let stats_started = Instant::now();
    let stats = store.stats().map_err(|e| e.to_string())?;
    say!("stats: {:.3} ms ({} nodes, {} edges)", ms(stats_started.elapsed()), stats.nodes, stats.edges);
    let params = pick_params(&store)?;
    say!("params: {}", params.iter().map(|(k, v)| format!("${k} = {v}")).collect::<Vec<_>>().join(", "));
    say!("| query | median ms | min ms | max ms | rows |");
    say!("|---|---|---|---|---|");
    let only = flag("--only");
    let custom = flag("--query");
    let queries: Vec<(&str, &str)> = match &custom {
        Some(text) => vec![("query", text.as_str())],
        None => QUERIES.iter().copied().filter(|(name, _)| only.as_deref().map_or(true, |o| o == *name)).collect(),
    };
    for (name, text) in queries {
        let mut times = Vec::with_capacity(repeats);
        let mut rows = 0;
        for _ in 0..repeats.max(1) {
            let started = Instant::now();
            let result = query::run(&store, text, &params, &QueryOptions::default()).map_err(|e| e.render(text))?;
            times.push(started.elapsed());
            rows = result.rows.len();
        }
        times.sort();
        let median = times[times.len() / 2];
        say!("| ({name}) | {:.3} | {:.3} | {:.3} | {rows} |", ms(median), ms(times[0]), ms(times[times.len() - 1]));
    }
    Ok(())
}

/// The busiest giver, their most frequent fellow participant, and a rarely seen person.
fn pick_params(store: &Store) -> Result<Params, String> {
    let scalar = |text: &str| -> Result<Value, String> {
        let result = query::run(store, text, &Params::new(), &QueryOptions::default()).map_err(|e| e.render(text))?;
        result
            .rows
            .first()
            .and_then(|r| r.first())
            .map(|v| Value::Str(v.to_string().trim_matches('\'').to_string()))
            .ok_or(format!("no row for {text}"))
    };
    let giver =
        scalar("MATCH (g:Gift)-[:GIVER]->(p:Person) RETURN p.name AS n, count(*) AS c ORDER BY c DESC, n LIMIT 1")?;
    let mut params = Params::new();
    params.insert("giver".into(), giver.clone());
    params.insert("a".into(), giver.clone());
    params.insert("src".into(), giver.clone());
    let partner = format!(
        "MATCH (a:Person {{name: {giver}}})<-[:PARTICIPANT]-(m:Meeting)-[:PARTICIPANT]->(b:Person) RETURN b.name AS n, count(*) AS c ORDER BY c DESC, n LIMIT 1"
    );
    params.insert("b".into(), scalar(&partner)?);
    let far = "MATCH (p:Person)<-[:PARTICIPANT]-(m:Meeting) RETURN p.name AS n, count(*) AS c ORDER BY c, n LIMIT 1";
    params.insert("far".into(), scalar(far)?);
    Ok(params)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
