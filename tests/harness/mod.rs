//! Shared by the reliability tests: a small deterministic batch generator, the real binary,
//! and a canonical listing of a store's graph that does not depend on internal node ids.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use diplograph::model::NodeRecord;
use diplograph::store::{Direction, OpenMode, Store};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde_json::{json, Value as Json};
use unicode_normalization::UnicodeNormalization;

pub const BIN: &str = env!("CARGO_BIN_EXE_diplograph");
pub const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/kim-putin-2023.jsonl");

/// `diplograph --db DB ARGS…`, run to completion.
pub fn run(db: &Path, args: &[&str]) -> Output {
    Command::new(BIN).arg("--db").arg(db).args(args).env_remove("DIPLOGRAPH_DB").output().expect("run diplograph")
}

pub fn text(output: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `stats --format json` through the binary.
pub fn stats_json(db: &Path) -> Json {
    let output = run(db, &["stats", "--format", "json"]);
    assert!(output.status.success(), "stats: {}", text(&output));
    serde_json::from_slice(&output.stdout).expect("stats prints JSON")
}

/// Runs `check` and insists on exit 0 and the `ok:` line.
pub fn assert_check_ok(db: &Path) {
    let output = run(db, &["check"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.code() == Some(0) && stdout.starts_with("ok: "), "check failed: {}", text(&output));
}

/// Every node and edge of a store, written with stable ids instead of internal numbers,
/// sorted: two stores hold the same graph exactly when their listings are equal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Canonical {
    /// `labels props` per node.
    pub nodes: Vec<String>,
    /// `TYPE src-id -> dst-id props` per edge (a sorted multiset).
    pub edges: Vec<String>,
}

pub fn canonical(store: &Store) -> Canonical {
    let mut nodes = Vec::new();
    let mut keys = std::collections::HashMap::new();
    for id in store.all_nodes() {
        let id = id.expect("node id");
        let record = store.node(id).expect("read node").expect("listed node exists");
        nodes.push(node_line(&record));
        keys.insert(id, record.key().unwrap_or_default().to_string());
    }
    let mut edges = Vec::new();
    for item in store.all_edges() {
        let (_, edge) = item.expect("edge");
        let key = |id| keys.get(&id).cloned().unwrap_or_else(|| format!("<missing node {id}>"));
        edges.push(format!("{} {} -> {} {:?}", edge.edge_type, key(edge.src), key(edge.dst), edge.props));
    }
    nodes.sort();
    edges.sort();
    Canonical { nodes, edges }
}

pub fn node_line(record: &NodeRecord) -> String {
    format!("{} {:?}", record.labels.join(":"), record.props)
}

/// Opens the store at `db` (no process may hold it) and lists it.
pub fn canonical_at(db: &Path) -> Canonical {
    let store = Store::open(db, OpenMode::MustExist).expect("open store");
    canonical(&store)
}

/// Per stored article id: its reports as (event id, REPORTED_IN properties), sorted.
pub fn reports_by_article(store: &Store) -> BTreeMap<String, Vec<String>> {
    let mut reports = BTreeMap::new();
    for id in store.nodes_with_label("Article") {
        let id = id.expect("article id");
        let article = store.node(id).expect("read").expect("article exists");
        let mut lines = Vec::new();
        for adjacent in store.adjacent(id, Direction::In, Some("REPORTED_IN")) {
            let adjacent = adjacent.expect("adjacency");
            let event = store.node(adjacent.other).expect("read").expect("event exists");
            let edge = store.edge(adjacent.edge).expect("read").expect("edge exists");
            lines.push(format!("{} {:?}", event.key().unwrap_or("?"), edge.props));
        }
        lines.sort();
        reports.insert(article.key().expect("article id").to_string(), lines);
    }
    reports
}

// ---------------------------------------------------------------------------------------
// A deterministic batch generator
// ---------------------------------------------------------------------------------------

/// What the generated batch exercises, beyond plain facts.
#[derive(Clone, Copy, Debug)]
pub struct GenOptions {
    pub articles: usize,
    pub seed: u64,
    /// Re-emit an earlier article id now and then (re-ingest replaces it).
    pub replacements: bool,
}

const COUNTRIES: &[(&str, &[&str], &str)] = &[
    ("Russia", &["Russian Federation", "Rusia"], "Moscow"),
    ("North Korea", &["DPRK", "Korea Utara"], "Pyongyang"),
    ("South Korea", &["Republic of Korea"], "Seoul"),
    ("China", &["People's Republic of China", "PRC"], "Beijing"),
    ("Japan", &["Nippon"], "Tokyo"),
    ("Indonesia", &["Republik Indonesia"], "Jakarta"),
    ("India", &["Bharat"], "New Delhi"),
    ("Brazil", &["Brasil"], "Brasília"),
    ("France", &["République française"], "Paris"),
    ("Germany", &["Deutschland"], "Berlin"),
    ("Türkiye", &["Turkey"], "Ankara"),
    ("Côte d'Ivoire", &["Ivory Coast"], "Yamoussoukro"),
    ("Vietnam", &["Viet Nam"], "Hanoi"),
    ("Kenya", &[], "Nairobi"),
    ("Mexico", &["México"], "Mexico City"),
    ("Egypt", &["Misr"], "Cairo"),
];

const ORGANIZATIONS: &[(&str, &[&str])] = &[
    ("United Nations", &["UN", "U.N."]),
    ("African Union", &["AU"]),
    ("ASEAN", &["Association of Southeast Asian Nations"]),
    ("European Union", &["EU"]),
];

const ITEMS: &[&str] = &[
    "rifle",
    "tea set",
    "porcelain vase",
    "silk carpet",
    "Pungsan dog",
    "limousine",
    "painting",
    "book of poems",
    "ceremonial sword",
    "football shirt",
    "bottle of wine",
    "honey",
    "globe",
    "spacesuit glove",
    "drum",
    "bracelet",
];

const SYLLABLES: &[&str] =
    &["ka", "lo", "mi", "ra", "to", "ne", "sa", "vu", "de", "zo", "ri", "an", "el", "jo", "ma", "ul"];

const TITLES: &[&str] = &["President", "Prime Minister", "Minister of Foreign Affairs", "Ambassador", "Envoy"];

struct Person {
    name: String,
    country: usize,
    second_country: Option<usize>,
    title: &'static str,
    aliases: Vec<String>,
}

enum Who {
    Person(usize),
    Country(usize),
    Organization(usize),
}

enum Where {
    Capital(usize),
    Venue(usize),
    Country(usize),
}

/// A fact before it is written: kept so it can be re-reported later.
#[derive(Clone)]
struct FactPlan {
    kind: &'static str,
    /// (role field, fillers as (class, index)), in ontology order.
    roles: Vec<(&'static str, Vec<Filler>)>,
    date: Option<String>,
    status: Option<&'static str>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Filler {
    Person(usize),
    Country(usize),
    Organization(usize),
    Capital(usize),
    Venue(usize),
    Item(usize),
}

/// A batch of `articles` records (JSON Lines), the same for the same options.
pub fn generate(options: GenOptions) -> String {
    let mut rng = Pcg64Mcg::seed_from_u64(options.seed);
    let persons = make_persons(&mut rng, 80);
    let mut known: std::collections::HashSet<(u8, usize)> = std::collections::HashSet::new();
    let mut recent: Vec<FactPlan> = Vec::new();
    let mut out = String::new();
    let mut emitted_ids: Vec<String> = Vec::new();
    for i in 0..options.articles {
        let id = if options.replacements && i > 10 && rng.gen_bool(0.04) {
            emitted_ids.choose(&mut rng).cloned().unwrap_or_else(|| format!("gen-{}-{i:05}", options.seed))
        } else {
            format!("gen-{}-{i:05}", options.seed)
        };
        emitted_ids.push(id.clone());
        let record = make_record(&mut rng, &persons, &mut known, &mut recent, &id, i);
        out.push_str(&record);
        out.push('\n');
    }
    out
}

fn make_persons(rng: &mut Pcg64Mcg, count: usize) -> Vec<Person> {
    let mut seen = std::collections::HashSet::new();
    let mut persons = Vec::new();
    while persons.len() < count {
        let word = |rng: &mut Pcg64Mcg, n: usize| {
            let mut w: String = (0..n).map(|_| *SYLLABLES.choose(rng).expect("syllables")).collect();
            w[..1].make_ascii_uppercase();
            w
        };
        let first = word(rng, 2);
        let last = if rng.gen_bool(0.3) { format!("{}-{}", word(rng, 2), word(rng, 1)) } else { word(rng, 3) };
        let name = format!("{first} {last}");
        if !seen.insert(diplograph::model::normalize_name(&name)) {
            continue;
        }
        let title = *TITLES.choose(rng).expect("titles");
        let mut aliases = vec![format!("{title} {name}")];
        if rng.gen_bool(0.3) {
            aliases.push(format!("{}. {last}", &first[..1]));
        }
        let country = rng.gen_range(0..COUNTRIES.len());
        let second_country = rng.gen_bool(0.1).then(|| (country + 1) % COUNTRIES.len());
        persons.push(Person { name, country, second_country, title, aliases });
    }
    persons
}

fn make_record(
    rng: &mut Pcg64Mcg,
    persons: &[Person],
    known: &mut std::collections::HashSet<(u8, usize)>,
    recent: &mut Vec<FactPlan>,
    id: &str,
    index: usize,
) -> String {
    let year = 2015 + index / 400;
    let published = format!("{year}-{:02}-{:02}", 1 + index % 12, 1 + index % 28);
    let mut article = json!({"id": id, "published": published});
    if rng.gen_bool(0.8) {
        article["url"] = json!(format!("https://news.example/{id}"));
    }
    article["outlet"] = json!(["Indopos", "The Moscow Times", "Le Monde", "TASS"].choose(rng).copied());
    if rng.gen_bool(0.7) {
        article["language"] = json!(["en", "id", "fr", "ru"].choose(rng).copied());
        article["title"] =
            json!(format!("Report «{index}» on \"diplomacy\" — {}", persons[index % persons.len()].name));
    }
    let mut plans = Vec::new();
    for _ in 0..rng.gen_range(0..=5) {
        let plan = match recent.choose(rng) {
            Some(earlier) if rng.gen_bool(0.2) => earlier.clone(),
            _ => make_fact(rng, persons),
        };
        if recent.len() < 64 {
            recent.push(plan.clone());
        } else {
            let slot = rng.gen_range(0..recent.len());
            recent[slot] = plan.clone();
        }
        plans.push(plan);
    }
    let mut entities: Vec<Json> = Vec::new();
    let mut declared: Vec<Filler> = Vec::new();
    let mut confidences = Vec::new();
    let mut facts = Vec::new();
    for plan in &plans {
        let mut fact = json!({"type": plan.kind});
        for (field, fillers) in plan.roles.iter().filter(|(_, fillers)| !fillers.is_empty()) {
            let values: Vec<String> = fillers
                .iter()
                .map(|filler| reference(rng, persons, known, &mut entities, &mut declared, *filler))
                .collect();
            let single = matches!(
                *field,
                "giver" | "recipient" | "visitor" | "destination" | "host" | "place" | "inviter" | "invitee"
            );
            fact[*field] = if single { json!(values[0]) } else { json!(values) };
        }
        if let Some(date) = &plan.date {
            fact["date"] = json!(date);
        }
        if let Some(status) = plan.status {
            fact["status"] = json!(status);
        }
        if rng.gen_bool(0.8) {
            fact["evidence"] = json!(format!(
                "«{}» said: \"they met\"\t…{}",
                persons[rng.gen_range(0..persons.len())].name,
                rng.gen::<u16>()
            ));
        }
        if rng.gen_bool(0.3) {
            fact["according_to"] = json!(["Kremlin", "KCNA", "Dmitry Peskov", "Reuters"].choose(rng).copied());
        }
        if rng.gen_bool(0.3) {
            // Long decimals: what a JSON reader may get one ulp wrong.
            let text = if rng.gen_bool(0.5) {
                format!("{:.2}", rng.gen::<f64>())
            } else {
                format!("{:.19}", rng.gen::<f64>())
            };
            fact["confidence"] = json!(format!("@@confidence{}@@", confidences.len()));
            confidences.push(text);
        }
        facts.push(fact);
    }
    // Now and then a declared entity no fact uses.
    if rng.gen_bool(0.1) {
        let filler = Filler::Venue(rng.gen_range(0..COUNTRIES.len()));
        if !declared.contains(&filler) {
            entities.push(declaration(rng, persons, filler, None));
            declared.push(filler);
        }
    }
    let mut line = json!({"article": article, "entities": entities, "facts": facts}).to_string();
    for (i, text) in confidences.iter().enumerate() {
        line = line.replace(&format!("\"@@confidence{i}@@\""), text);
    }
    line
}

fn make_fact(rng: &mut Pcg64Mcg, persons: &[Person]) -> FactPlan {
    let actor = |rng: &mut Pcg64Mcg| match rng.gen_range(0..10) {
        0 => Filler::Country(rng.gen_range(0..COUNTRIES.len())),
        1 => Filler::Organization(rng.gen_range(0..ORGANIZATIONS.len())),
        // Zipf-ish: low indexes are the busy leaders.
        _ => Filler::Person((rng.gen::<f64>().powi(2) * persons.len() as f64) as usize),
    };
    let place = |rng: &mut Pcg64Mcg| match rng.gen_range(0..3) {
        0 => Filler::Capital(rng.gen_range(0..COUNTRIES.len())),
        1 => Filler::Venue(rng.gen_range(0..COUNTRIES.len())),
        _ => Filler::Country(rng.gen_range(0..COUNTRIES.len())),
    };
    let two_actors = |rng: &mut Pcg64Mcg| loop {
        let (a, b) = (actor(rng), actor(rng));
        if a != b {
            return (a, b);
        }
    };
    let date = match rng.gen_range(0..6) {
        0 => None,
        1 => Some(format!("{}", rng.gen_range(2015..2026))),
        2 => Some(format!("{}-{:02}", rng.gen_range(2015..2026), rng.gen_range(1..13))),
        _ => Some(format!("{}-{:02}-{:02}", rng.gen_range(2015..2026), rng.gen_range(1..13), rng.gen_range(1..29))),
    };
    let maybe = |rng: &mut Pcg64Mcg, statuses: &[&'static str]| {
        if rng.gen_bool(0.4) {
            None
        } else {
            statuses.choose(rng).copied()
        }
    };
    let optional = |rng: &mut Pcg64Mcg, filler: Filler| {
        if rng.gen_bool(0.5) {
            vec![filler]
        } else {
            Vec::new()
        }
    };
    match rng.gen_range(0..4) {
        0 => {
            let (a, b) = two_actors(rng);
            let mut participants = vec![a, b];
            if rng.gen_bool(0.2) {
                let c = actor(rng);
                if !participants.contains(&c) {
                    participants.push(c);
                }
            }
            let place = place(rng);
            FactPlan {
                kind: "meeting",
                roles: vec![("participants", participants), ("place", optional(rng, place))],
                date,
                status: maybe(rng, &["occurred", "planned", "cancelled"]),
            }
        }
        1 => {
            let (giver, recipient) = two_actors(rng);
            let mut items = vec![Filler::Item(rng.gen_range(0..ITEMS.len()))];
            let second = Filler::Item(rng.gen_range(0..ITEMS.len()));
            if rng.gen_bool(0.3) && !items.contains(&second) {
                items.push(second);
            }
            let place = place(rng);
            FactPlan {
                kind: "gift",
                roles: vec![
                    ("giver", vec![giver]),
                    ("recipient", vec![recipient]),
                    ("items", items),
                    ("place", optional(rng, place)),
                ],
                date,
                status: maybe(rng, &["occurred", "planned"]),
            }
        }
        2 => {
            let visitor = actor(rng);
            let destination = place(rng);
            let host = actor(rng);
            let host = if host != visitor { optional(rng, host) } else { Vec::new() };
            FactPlan {
                kind: "visit",
                roles: vec![("visitor", vec![visitor]), ("destination", vec![destination]), ("host", host)],
                date,
                status: maybe(rng, &["occurred", "planned", "cancelled"]),
            }
        }
        _ => {
            let (inviter, invitee) = two_actors(rng);
            let destination = place(rng);
            FactPlan {
                kind: "invitation",
                roles: vec![
                    ("inviter", vec![inviter]),
                    ("invitee", vec![invitee]),
                    ("destination", optional(rng, destination)),
                ],
                date,
                status: maybe(rng, &["extended", "accepted", "declined"]),
            }
        }
    }
}

fn filler_tag(filler: Filler) -> (u8, usize) {
    match filler {
        Filler::Person(i) => (0, i),
        Filler::Country(i) => (1, i),
        Filler::Organization(i) => (2, i),
        Filler::Capital(i) => (3, i),
        Filler::Venue(i) => (4, i),
        Filler::Item(i) => (5, i),
    }
}

fn canonical_name(persons: &[Person], filler: Filler) -> String {
    match filler {
        Filler::Person(i) => persons[i].name.clone(),
        Filler::Country(i) => COUNTRIES[i].0.to_string(),
        Filler::Organization(i) => ORGANIZATIONS[i].0.to_string(),
        Filler::Capital(i) => COUNTRIES[i].2.to_string(),
        Filler::Venue(i) => format!("{} Convention Centre", COUNTRIES[i].2),
        Filler::Item(i) => ITEMS[i].to_string(),
    }
}

/// How a fact names a filler: a ref declared in this record, or (once the entity is known
/// from an earlier record) a plain name, often spelled differently.
fn reference(
    rng: &mut Pcg64Mcg,
    persons: &[Person],
    known: &mut std::collections::HashSet<(u8, usize)>,
    entities: &mut Vec<Json>,
    declared: &mut Vec<Filler>,
    filler: Filler,
) -> String {
    let tag = filler_tag(filler);
    let name = canonical_name(persons, filler);
    let plain = known.contains(&tag) && !declared.contains(&filler) && rng.gen_bool(0.5);
    if plain || matches!(filler, Filler::Item(_)) && rng.gen_bool(0.7) {
        known.insert(tag);
        return spelling(rng, &name);
    }
    let local_ref = format!("r{}_{}", tag.0, tag.1);
    if !declared.contains(&filler) {
        entities.push(declaration(rng, persons, filler, Some(&local_ref)));
        declared.push(filler);
        known.insert(tag);
    }
    local_ref
}

fn declaration(rng: &mut Pcg64Mcg, persons: &[Person], filler: Filler, local_ref: Option<&str>) -> Json {
    let name = canonical_name(persons, filler);
    let (kind, aliases, country, title): (&str, Vec<String>, Option<String>, Option<String>) = match filler {
        Filler::Person(i) => {
            let person = &persons[i];
            let country = match person.second_country {
                Some(second) if rng.gen_bool(0.3) => second,
                _ => person.country,
            };
            let title = match rng.gen_range(0..5) {
                0 => None,
                1 => Some(format!("Acting {}", person.title)),
                _ => Some(person.title.to_string()),
            };
            let aliases = person.aliases.iter().filter(|_| rng.gen_bool(0.6)).cloned().collect();
            ("Person", aliases, Some(COUNTRIES[country].0.to_string()), title)
        }
        Filler::Country(i) => ("Country", COUNTRIES[i].1.iter().map(|a| a.to_string()).collect(), None, None),
        Filler::Organization(i) => {
            let country = rng.gen_bool(0.1).then(|| COUNTRIES[i].0.to_string());
            ("Organization", ORGANIZATIONS[i].1.iter().map(|a| a.to_string()).collect(), country, None)
        }
        Filler::Capital(i) => ("Place", Vec::new(), Some(COUNTRIES[i].0.to_string()), None),
        Filler::Venue(i) => ("Place", vec![format!("{} CC", COUNTRIES[i].2)], Some(COUNTRIES[i].0.to_string()), None),
        Filler::Item(_) => ("Item", Vec::new(), None, None),
    };
    let mut entity = json!({"kind": kind, "name": name});
    if let Some(local_ref) = local_ref {
        entity["ref"] = json!(local_ref);
    }
    if !aliases.is_empty() {
        entity["aliases"] = json!(aliases);
    }
    if let Some(country) = country {
        entity["country"] = json!(country);
    }
    if let Some(title) = title {
        entity["title"] = json!(title);
    }
    entity
}

/// A spelling of `name` that normalises like it: case, hyphens, spaces, Unicode form.
fn spelling(rng: &mut Pcg64Mcg, name: &str) -> String {
    match rng.gen_range(0..6) {
        0 => name.to_lowercase(),
        1 => name.replace('-', " "),
        2 => name.replacen(' ', "  ", 1),
        3 => name.nfd().collect(),
        4 => name.to_uppercase(),
        _ => name.to_string(),
    }
}
