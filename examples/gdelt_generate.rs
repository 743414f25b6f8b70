//! Generator of GDELT 2.0-shaped files (events exports and mentions files, 61 and 16
//! tab-separated columns) for the import benchmark, deterministic by seed.
//!
//! ```text
//! cargo run --release --example gdelt_generate -- --days 365 --events-per-day 1100 --out target/gdelt-year --seed 7
//! ```
//!
//! The distributions are the real sample's by construction: the generator resamples whole
//! source documents of the matched 2025-08-07 22:00 slice (`../shared/samples`), i.e. every
//! event row of one SOURCEURL together with its mention rows, so the mix of CAMEO codes
//! (about 75 % of rows no rule keeps), actors, places, reciprocal 042/043 pairs, duplicate
//! rows, backdated SQLDATEs and mentions per event is the sample's. Each copy gets new
//! event ids, the generated day's dates (a backdated row keeps its offset), URLs made
//! unique (the host, hence the outlet, is kept) and its country actors drawn anew from the
//! sample's countries (persons, organisations and places stay as they were). Mentions of events of earlier slices come
//! in the sample's proportion (72 % of mention rows), pointing at events generated on
//! earlier days. One export and one mentions file per day (`YYYYMMDD000000.*.CSV`).

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;

struct Document {
    events: Vec<Vec<String>>,
    /// Mention rows of those events, in the sample's order.
    mentions: Vec<Vec<String>>,
}

struct Options {
    days: u32,
    events_per_day: usize,
    out: PathBuf,
    seed: u64,
    samples: PathBuf,
}

fn main() -> ExitCode {
    match parse_args().and_then(|options| generate(&options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn parse_args() -> Result<Options, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let default_samples = [root.join("../shared/samples"), root.join("../../shared/samples")]
        .into_iter()
        .find(|dir| dir.join("SOURCES.md").exists())
        .unwrap_or_else(|| root.join("../shared/samples"));
    let mut options =
        Options { days: 7, events_per_day: 1100, out: root.join("target/gdelt"), seed: 7, samples: default_samples };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--days" => options.days = value()?.parse().map_err(|e| format!("--days: {e}"))?,
            "--events-per-day" => {
                options.events_per_day = value()?.parse().map_err(|e| format!("--events-per-day: {e}"))?
            }
            "--out" => options.out = PathBuf::from(value()?),
            "--seed" => options.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--samples" => options.samples = PathBuf::from(value()?),
            _ => {
                return Err(format!(
                    "unknown argument {flag}; use --days N --events-per-day N --out DIR --seed N [--samples DIR]"
                ))
            }
        }
    }
    Ok(options)
}

fn read_rows(path: &Path, columns: usize) -> Result<Vec<Vec<String>>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let rows: Vec<Vec<String>> =
        text.lines().map(|line| line.split('\t').map(str::to_string).collect::<Vec<_>>()).collect();
    if let Some(bad) = rows.iter().position(|row| row.len() != columns) {
        return Err(format!("{}:{}: expected {columns} columns", path.display(), bad + 1));
    }
    Ok(rows)
}

/// The sample's documents, and its mention rows of events not in the slice.
fn documents(samples: &Path) -> Result<(Vec<Document>, Vec<Vec<String>>), String> {
    let events = read_rows(&samples.join("20250807220000.export.CSV"), 61)?;
    let mentions = read_rows(&samples.join("20250807220000.mentions.CSV"), 16)?;
    let mut by_url: Vec<(String, Document)> = Vec::new();
    let mut url_index: HashMap<String, usize> = HashMap::new();
    let mut doc_of_event: HashMap<String, usize> = HashMap::new();
    for row in events {
        let url = row[60].clone();
        let at = *url_index.entry(url.clone()).or_insert_with(|| {
            by_url.push((url, Document { events: Vec::new(), mentions: Vec::new() }));
            by_url.len() - 1
        });
        doc_of_event.insert(row[0].clone(), at);
        by_url[at].1.events.push(row);
    }
    let mut old = Vec::new();
    for row in mentions {
        match doc_of_event.get(&row[0]) {
            Some(&at) => by_url[at].1.mentions.push(row),
            None => old.push(row),
        }
    }
    Ok((by_url.into_iter().map(|(_, doc)| doc).collect(), old))
}

fn generate(options: &Options) -> Result<(), String> {
    let (docs, old_mentions) = documents(&options.samples)?;
    let ontology = diplograph::ontology::Ontology::embedded();
    let mapping = diplograph::import::Mapping::embedded(ontology).map_err(|e| e.to_string())?;
    // Country actors are drawn from the CAMEO country codes the sample's actors use.
    let mut countries: Vec<(String, String)> = docs
        .iter()
        .flat_map(|doc| doc.events.iter())
        .flat_map(|row| [row[7].clone(), row[17].clone()])
        .filter_map(|code| mapping.country_by_cameo(&code).map(|c| (code, c.name.to_uppercase())))
        .collect();
    countries.sort();
    countries.dedup();
    if countries.is_empty() {
        return Err("the sample names no country actors".to_string());
    }
    let in_slice: usize = docs.iter().map(|d| d.mentions.len()).sum();
    // Old-event mentions per in-slice mention, as in the sample (2,434 : 932).
    let count = |n: usize| f64::from(u32::try_from(n).unwrap_or(u32::MAX));
    let old_ratio = count(old_mentions.len()) / count(in_slice.max(1));
    std::fs::create_dir_all(&options.out).map_err(|e| format!("{}: {e}", options.out.display()))?;
    let mut rng = Pcg64Mcg::seed_from_u64(options.seed);
    let mut next_id: u64 = 1_300_000_000;
    let mut copy: u64 = 0;
    // Ids of recent events and their DATEADDED, for mentions of earlier slices.
    let mut recent: Vec<(u64, String)> = Vec::new();
    let (mut rows_written, mut mentions_written) = (0u64, 0u64);
    for day in 0..options.days {
        let date = day_date(day);
        let stamp = format!("{date}000000");
        let export_path = options.out.join(format!("{stamp}.export.CSV"));
        let mentions_path = options.out.join(format!("{stamp}.mentions.CSV"));
        let mut export = BufWriter::new(File::create(&export_path).map_err(|e| e.to_string())?);
        let mut mentions = BufWriter::new(File::create(&mentions_path).map_err(|e| e.to_string())?);
        let mut events_today = 0usize;
        let mut today = Vec::new();
        while events_today < options.events_per_day {
            let doc = &docs[rng.gen_range(0..docs.len())];
            copy += 1;
            let mut ids = HashMap::new();
            let url_of =
                |original: &str| format!("{original}{}g={copy}", if original.contains('?') { '&' } else { '?' });
            // Country actors are drawn anew per copy (consistently within it, so mirrored
            // rows stay mirrored); persons, organisations and places stay the sample's.
            let mut swap: HashMap<String, usize> = HashMap::new();
            for row in &doc.events {
                let mut row = row.clone();
                for base in [5, 15] {
                    let code = row[base + 2].clone();
                    if code.is_empty() || !mapping.names_a_country(&row[base + 1]) || row[base + 1].is_empty() {
                        continue;
                    }
                    let pick = *swap.entry(code.clone()).or_insert_with(|| rng.gen_range(0..countries.len()));
                    let (new_code, new_name) = &countries[pick];
                    if row[base].starts_with(&code) {
                        row[base] = format!("{new_code}{}", &row[base][code.len()..]);
                    }
                    row[base + 1] = new_name.clone();
                    row[base + 2] = new_code.clone();
                }
                let id = next_id;
                next_id += 1;
                ids.insert(row[0].clone(), id);
                // A backdated row keeps its distance from the slice's day.
                let offset = days_between(&row[1], &row[59][..8]);
                let sql_date = day_date_shifted(day, offset);
                row[0] = id.to_string();
                row[1] = sql_date.clone();
                row[2] = sql_date[..6].to_string();
                row[3] = sql_date[..4].to_string();
                row[59] = stamp.clone();
                row[60] = url_of(&row[60]);
                writeln!(export, "{}", row.join("\t")).map_err(|e| e.to_string())?;
                today.push((id, stamp.clone()));
                events_today += 1;
                rows_written += 1;
            }
            for row in &doc.mentions {
                let mut row = row.clone();
                row[0] = ids[&row[0]].to_string();
                row[1] = stamp.clone();
                row[2] = stamp.clone();
                row[5] = url_of(&row[5]);
                writeln!(mentions, "{}", row.join("\t")).map_err(|e| e.to_string())?;
                mentions_written += 1;
                // Mentions of earlier events ride along in the sample's proportion.
                let mut extra = old_ratio;
                while !recent.is_empty() && extra > 0.0 && rng.gen_bool(extra.min(1.0)) {
                    extra -= 1.0;
                    let template = &old_mentions[rng.gen_range(0..old_mentions.len())];
                    let (id, added) = &recent[rng.gen_range(0..recent.len())];
                    let mut old = template.clone();
                    old[0] = id.to_string();
                    old[1] = added.clone();
                    old[2] = stamp.clone();
                    old[5] = url_of(&old[5]);
                    writeln!(mentions, "{}", old.join("\t")).map_err(|e| e.to_string())?;
                    mentions_written += 1;
                }
            }
        }
        export.flush().map_err(|e| e.to_string())?;
        mentions.flush().map_err(|e| e.to_string())?;
        recent.extend(today);
        let keep = 200_000;
        if recent.len() > keep {
            recent.drain(..recent.len() - keep);
        }
    }
    eprintln!(
        "{} days: {rows_written} event rows, {mentions_written} mention rows in {}",
        options.days,
        options.out.display()
    );
    Ok(())
}

/// `YYYYMMDD` of day `n` after 2025-01-01.
fn day_date(n: u32) -> String {
    day_date_shifted(n, 0)
}

fn day_date_shifted(n: u32, back: i64) -> String {
    let days = days_from_civil(2025, 1, 1) + i64::from(n) - back;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}{m:02}{d:02}")
}

/// Days `earlier` (YYYYMMDD) lies before `later`.
fn days_between(earlier: &str, later: &str) -> i64 {
    let parse = |s: &str| -> Option<i64> {
        let y = s.get(..4)?.parse().ok()?;
        let m = s.get(4..6)?.parse().ok()?;
        let d = s.get(6..8)?.parse().ok()?;
        Some(days_from_civil(y, m, d))
    };
    match (parse(earlier), parse(later)) {
        (Some(a), Some(b)) => (b - a).max(0),
        _ => 0,
    }
}

// Howard Hinnant's civil-date algorithms.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}
