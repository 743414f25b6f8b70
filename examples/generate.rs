//! Generator of synthetic, realistic article batches (contract §1), deterministic by seed.
//!
//! ```text
//! cargo run --release --example generate -- --articles 100000 --seed 7 > batch.jsonl
//! ```
//!
//! The world is fixed (independent of the seed, so files generated with different seeds
//! describe the same people): ~190 real countries with their capitals, a head of state and
//! a foreign minister each (synthetic names built from syllables), ~60 gift items.
//! Activity follows a Zipf(1.1) law over the leaders. Articles are roughly chronological
//! over 2015–2025; each carries 1–8 facts (meetings, gifts, visits, invitations). About
//! 15 % of the facts re-report a recent event (same type, role fillers, date string and
//! status, different evidence); planned visits (`YYYY-MM`) are later reported as occurred
//! (full date) or cancelled. Role fillers are `ref`s or plain names, the latter often
//! spelled differently (case, hyphens, whitespace, Unicode NFD, declared aliases); a plain
//! name is only used once its entity has been declared (in an earlier record or the same
//! one), so every name resolves, and no name or alias is shared by two entities.
//!
//! The output streams: memory stays bounded whatever `--articles` is.

use rand::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

// ---------------------------------------------------------------------------------------
// Static world data
// ---------------------------------------------------------------------------------------

/// (country, capital, led by a prime minister)
const COUNTRIES: &[(&str, &str, bool)] = &[
    ("Afghanistan", "Kabul", false),
    ("Albania", "Tirana", false),
    ("Algeria", "Algiers", false),
    ("Andorra", "Andorra la Vella", true),
    ("Angola", "Luanda", false),
    ("Antigua and Barbuda", "Saint John's", true),
    ("Argentina", "Buenos Aires", false),
    ("Armenia", "Yerevan", true),
    ("Australia", "Canberra", true),
    ("Austria", "Vienna", false),
    ("Azerbaijan", "Baku", false),
    ("Bahamas", "Nassau", true),
    ("Bahrain", "Manama", true),
    ("Bangladesh", "Dhaka", true),
    ("Barbados", "Bridgetown", true),
    ("Belarus", "Minsk", false),
    ("Belgium", "Brussels", true),
    ("Belize", "Belmopan", true),
    ("Benin", "Porto-Novo", false),
    ("Bhutan", "Thimphu", true),
    ("Bolivia", "La Paz", false),
    ("Bosnia and Herzegovina", "Sarajevo", false),
    ("Botswana", "Gaborone", false),
    ("Brazil", "Brasília", false),
    ("Brunei", "Bandar Seri Begawan", false),
    ("Bulgaria", "Sofia", false),
    ("Burkina Faso", "Ouagadougou", false),
    ("Burundi", "Gitega", false),
    ("Cabo Verde", "Praia", false),
    ("Cambodia", "Phnom Penh", true),
    ("Cameroon", "Yaoundé", false),
    ("Canada", "Ottawa", true),
    ("Central African Republic", "Bangui", false),
    ("Chad", "N'Djamena", false),
    ("Chile", "Santiago", false),
    ("China", "Beijing", false),
    ("Colombia", "Bogotá", false),
    ("Comoros", "Moroni", false),
    ("Democratic Republic of the Congo", "Kinshasa", false),
    ("Republic of the Congo", "Brazzaville", false),
    ("Costa Rica", "San José", false),
    ("Côte d'Ivoire", "Yamoussoukro", false),
    ("Croatia", "Zagreb", true),
    ("Cuba", "Havana", false),
    ("Cyprus", "Nicosia", false),
    ("Czechia", "Prague", true),
    ("Denmark", "Copenhagen", true),
    ("Djibouti", "Djibouti City", false),
    ("Dominica", "Roseau", true),
    ("Dominican Republic", "Santo Domingo", false),
    ("Ecuador", "Quito", false),
    ("Egypt", "Cairo", false),
    ("El Salvador", "San Salvador", false),
    ("Equatorial Guinea", "Malabo", false),
    ("Eritrea", "Asmara", false),
    ("Estonia", "Tallinn", true),
    ("Eswatini", "Mbabane", true),
    ("Ethiopia", "Addis Ababa", true),
    ("Fiji", "Suva", true),
    ("Finland", "Helsinki", false),
    ("France", "Paris", false),
    ("Gabon", "Libreville", false),
    ("Gambia", "Banjul", false),
    ("Georgia", "Tbilisi", true),
    ("Germany", "Berlin", false),
    ("Ghana", "Accra", false),
    ("Greece", "Athens", true),
    ("Grenada", "St. George's", true),
    ("Guatemala", "Guatemala City", false),
    ("Guinea", "Conakry", false),
    ("Guinea-Bissau", "Bissau", false),
    ("Guyana", "Georgetown", false),
    ("Haiti", "Port-au-Prince", true),
    ("Honduras", "Tegucigalpa", false),
    ("Hungary", "Budapest", true),
    ("Iceland", "Reykjavík", true),
    ("India", "New Delhi", true),
    ("Indonesia", "Jakarta", false),
    ("Iran", "Tehran", false),
    ("Iraq", "Baghdad", true),
    ("Ireland", "Dublin", true),
    ("Israel", "Jerusalem", true),
    ("Italy", "Rome", true),
    ("Jamaica", "Kingston", true),
    ("Japan", "Tokyo", true),
    ("Jordan", "Amman", true),
    ("Kazakhstan", "Astana", false),
    ("Kenya", "Nairobi", false),
    ("Kiribati", "South Tarawa", false),
    ("Kuwait", "Kuwait City", true),
    ("Kyrgyzstan", "Bishkek", false),
    ("Laos", "Vientiane", false),
    ("Latvia", "Riga", true),
    ("Lebanon", "Beirut", true),
    ("Lesotho", "Maseru", true),
    ("Liberia", "Monrovia", false),
    ("Libya", "Tripoli", true),
    ("Liechtenstein", "Vaduz", true),
    ("Lithuania", "Vilnius", false),
    ("Luxembourg", "Luxembourg City", true),
    ("Madagascar", "Antananarivo", false),
    ("Malawi", "Lilongwe", false),
    ("Malaysia", "Kuala Lumpur", true),
    ("Maldives", "Malé", false),
    ("Mali", "Bamako", false),
    ("Malta", "Valletta", true),
    ("Marshall Islands", "Majuro", false),
    ("Mauritania", "Nouakchott", false),
    ("Mauritius", "Port Louis", true),
    ("Mexico", "Mexico City", false),
    ("Micronesia", "Palikir", false),
    ("Moldova", "Chisinau", false),
    ("Monaco", "Monaco-Ville", true),
    ("Mongolia", "Ulaanbaatar", false),
    ("Montenegro", "Podgorica", true),
    ("Morocco", "Rabat", true),
    ("Mozambique", "Maputo", false),
    ("Myanmar", "Naypyidaw", false),
    ("Namibia", "Windhoek", false),
    ("Nauru", "Yaren", false),
    ("Nepal", "Kathmandu", true),
    ("Netherlands", "Amsterdam", true),
    ("New Zealand", "Wellington", true),
    ("Nicaragua", "Managua", false),
    ("Niger", "Niamey", false),
    ("Nigeria", "Abuja", false),
    ("North Korea", "Pyongyang", false),
    ("North Macedonia", "Skopje", true),
    ("Norway", "Oslo", true),
    ("Oman", "Muscat", false),
    ("Pakistan", "Islamabad", true),
    ("Palau", "Ngerulmud", false),
    ("Panama", "Panama City", false),
    ("Papua New Guinea", "Port Moresby", true),
    ("Paraguay", "Asunción", false),
    ("Peru", "Lima", false),
    ("Philippines", "Manila", false),
    ("Poland", "Warsaw", true),
    ("Portugal", "Lisbon", true),
    ("Qatar", "Doha", false),
    ("Romania", "Bucharest", false),
    ("Russia", "Moscow", false),
    ("Rwanda", "Kigali", false),
    ("Saint Kitts and Nevis", "Basseterre", true),
    ("Saint Lucia", "Castries", true),
    ("Saint Vincent and the Grenadines", "Kingstown", true),
    ("Samoa", "Apia", true),
    ("San Marino", "City of San Marino", false),
    ("São Tomé and Príncipe", "São Tomé", false),
    ("Saudi Arabia", "Riyadh", false),
    ("Senegal", "Dakar", false),
    ("Serbia", "Belgrade", false),
    ("Seychelles", "Victoria", false),
    ("Sierra Leone", "Freetown", false),
    ("Singapore", "Singapore City", true),
    ("Slovakia", "Bratislava", true),
    ("Slovenia", "Ljubljana", true),
    ("Solomon Islands", "Honiara", true),
    ("Somalia", "Mogadishu", false),
    ("South Africa", "Pretoria", false),
    ("South Korea", "Seoul", false),
    ("South Sudan", "Juba", false),
    ("Spain", "Madrid", true),
    ("Sri Lanka", "Colombo", false),
    ("Sudan", "Khartoum", false),
    ("Suriname", "Paramaribo", false),
    ("Sweden", "Stockholm", true),
    ("Switzerland", "Bern", false),
    ("Syria", "Damascus", false),
    ("Tajikistan", "Dushanbe", false),
    ("Tanzania", "Dodoma", false),
    ("Thailand", "Bangkok", true),
    ("Timor-Leste", "Dili", false),
    ("Togo", "Lomé", false),
    ("Tonga", "Nuku'alofa", true),
    ("Trinidad and Tobago", "Port of Spain", true),
    ("Tunisia", "Tunis", false),
    ("Türkiye", "Ankara", false),
    ("Turkmenistan", "Ashgabat", false),
    ("Tuvalu", "Funafuti", true),
    ("Uganda", "Kampala", false),
    ("Ukraine", "Kyiv", false),
    ("United Arab Emirates", "Abu Dhabi", false),
    ("United Kingdom", "London", true),
    ("United States", "Washington, D.C.", false),
    ("Uruguay", "Montevideo", false),
    ("Uzbekistan", "Tashkent", false),
    ("Vanuatu", "Port Vila", true),
    ("Venezuela", "Caracas", false),
    ("Vietnam", "Hanoi", false),
    ("Yemen", "Sanaa", false),
    ("Zambia", "Lusaka", false),
    ("Zimbabwe", "Harare", false),
];

const COUNTRY_ALIASES: &[(&str, &[&str])] = &[
    ("United States", &["United States of America", "USA"]),
    ("United Kingdom", &["UK", "Great Britain"]),
    ("Russia", &["Russian Federation"]),
    ("China", &["People's Republic of China"]),
    ("North Korea", &["DPRK", "Democratic People's Republic of Korea"]),
    ("South Korea", &["Republic of Korea"]),
    ("Iran", &["Islamic Republic of Iran"]),
    ("United Arab Emirates", &["UAE"]),
    ("Czechia", &["Czech Republic"]),
    ("Myanmar", &["Burma"]),
    ("Eswatini", &["Swaziland"]),
    ("Côte d'Ivoire", &["Ivory Coast"]),
    ("Türkiye", &["Turkey"]),
    ("Cabo Verde", &["Cape Verde"]),
    ("Timor-Leste", &["East Timor"]),
    ("Netherlands", &["The Netherlands"]),
    ("Vietnam", &["Viet Nam"]),
    ("Republic of the Congo", &["Congo-Brazzaville"]),
    ("Democratic Republic of the Congo", &["DR Congo", "Congo-Kinshasa"]),
];

const CAPITAL_ALIASES: &[(&str, &[&str])] = &[
    ("Kyiv", &["Kiev"]),
    ("Beijing", &["Peking"]),
    ("Hanoi", &["Ha Noi"]),
    ("Washington, D.C.", &["Washington"]),
    ("Sanaa", &["Sana'a"]),
    ("Astana", &["Nur-Sultan"]),
    ("Naypyidaw", &["Nay Pyi Taw"]),
    ("Chisinau", &["Kishinev"]),
];

const ITEMS: &[&str] = &[
    "hand-woven carpet",
    "porcelain vase",
    "hunting rifle",
    "silver tea set",
    "oil painting",
    "bronze sculpture",
    "ceremonial sword",
    "hand-carved chess set",
    "cashmere scarf",
    "gold-plated fountain pen",
    "leather-bound book",
    "crystal bowl",
    "antique map",
    "traditional drum",
    "silk robe",
    "lacquered box",
    "ceramic plate",
    "stamp collection",
    "case of vintage wine",
    "bottle of single malt whisky",
    "thoroughbred horse",
    "hunting falcon",
    "embroidered tapestry",
    "carved wooden mask",
    "jade carving",
    "pearl necklace",
    "bottle of cognac",
    "signed football jersey",
    "model sailing ship",
    "replica astrolabe",
    "handmade guitar",
    "silver dagger",
    "woollen blanket",
    "basket of tropical fruit",
    "box of cigars",
    "jar of mountain honey",
    "sack of coffee beans",
    "tin of saffron",
    "hand-painted icon",
    "marble bust",
    "mosaic panel",
    "glass chandelier",
    "brass telescope",
    "luxury wristwatch",
    "commemorative gold medal",
    "manuscript facsimile",
    "calligraphy scroll",
    "ceramic teapot",
    "amber necklace",
    "wooden canoe model",
    "racing bicycle",
    "photo album",
    "porcelain figurine",
    "hand-knotted rug",
    "pair of silver cufflinks",
    "traditional costume",
    "music box",
    "bronze bell",
    "engraved plaque",
    "olive tree sapling",
    "perfume set",
    "pair of binoculars",
];

/// (outlet, domain, language)
const OUTLETS: &[(&str, &str, &str)] = &[
    ("The Global Courier", "globalcourier.example", "en"),
    ("The Meridian Post", "meridianpost.example", "en"),
    ("World Affairs Daily", "worldaffairsdaily.example", "en"),
    ("The Capital Observer", "capitalobserver.example", "en"),
    ("Diplomatic Wire", "diplomaticwire.example", "en"),
    ("Atlantic Ledger", "atlanticledger.example", "en"),
    ("Pacific Herald", "pacificherald.example", "en"),
    ("The Envoy Review", "envoyreview.example", "en"),
    ("Continental Times", "continentaltimes.example", "en"),
    ("Le Messager diplomatique", "messager-diplo.example", "fr"),
    ("La Gazette des Nations", "gazettedesnations.example", "fr"),
    ("L'Écho du Monde", "echodumonde.example", "fr"),
    ("El Heraldo Global", "heraldoglobal.example", "es"),
    ("Diario de las Naciones", "diariodelasnaciones.example", "es"),
    ("La Crónica Internacional", "cronicainternacional.example", "es"),
    ("Warta Diplomasi", "wartadiplomasi.example", "id"),
    ("Harian Nusantara Global", "nusantaraglobal.example", "id"),
    ("Kabar Dunia", "kabardunia.example", "id"),
    ("Der Weltbote", "weltbote.example", "de"),
    ("Diplomatische Rundschau", "diplo-rundschau.example", "de"),
    ("Berliner Depesche", "berliner-depesche.example", "de"),
    ("Мировой вестник", "mirvestnik.example", "ru"),
    ("Дипломатический курьер", "diplokurier.example", "ru"),
    ("Голос столиц", "golosstolits.example", "ru"),
    ("الرسالة الدبلوماسية", "risala-diplo.example", "ar"),
    ("صدى العواصم", "sada-awasim.example", "ar"),
    ("أخبار الأمم", "akhbar-umam.example", "ar"),
    ("环球外交报", "huanqiuwaijiao.example", "zh"),
    ("国际观察日报", "guojiguancha.example", "zh"),
    ("天下时报", "tianxiashibao.example", "zh"),
];

const GIVEN_A: &[&str] = &[
    "A", "E", "I", "O", "Ma", "Na", "Ka", "Le", "Ri", "So", "Ta", "Vi", "Da", "Mi", "Lu", "Yo", "Ze", "Ha", "Be", "No",
    "Se", "Ra", "Jo", "Fa", "Ke", "Tu", "Sa", "Ro", "Li", "Wa",
];
const GIVEN_B: &[&str] = &[
    "dra", "len", "mir", "ros", "tan", "lia", "ven", "rik", "mon", "sha", "dan", "nel", "ko", "ra", "lo", "mi", "rin",
    "sef", "tin", "vid", "ya", "bel", "kem", "dou", "lan", "mé", "rén", "ló",
];
const FAMILY_A: &[&str] = &[
    "Ko", "Ba", "Ta", "Mu", "Sa", "Ne", "Ri", "Do", "Ha", "Va", "Le", "Zu", "Pe", "Ge", "Fo", "Ka", "Lo", "Me", "Ni",
    "Ra", "Se", "To", "Bo", "Cha", "Dra", "Kri", "Ste", "Vo", "Yu", "Ze",
];
const FAMILY_B: &[&str] =
    &["ve", "ra", "li", "mo", "na", "ta", "ro", "de", "ki", "sa", "lu", "ne", "go", "ba", "ri", ""];
const FAMILY_C: &[&str] = &[
    "nu", "vic", "son", "ra", "ko", "lli", "das", "nen", "ov", "ez", "ani", "ura", "ski", "ga", "ndo", "beri", "shi",
    "wa", "ton", "ssa", "vić", "ñez", "ça", "rö", "lé",
];

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Closing sentences appended to evidence (variant = template × coda).
const EVIDENCE_CODAS: &[&str] = &[
    "",
    " The foreign ministry confirmed the details.",
    " Photos released by the press service showed both delegations.",
    " No joint statement was issued.",
    " Several sources confirmed the information.",
    " Further details were not disclosed.",
];

const N_ACTORS_PER_COUNTRY: usize = 2;
const RING_CAPACITY: usize = 5_000;
const PENDING_CAPACITY: usize = 50_000;
const REREPORT_SHARE: f64 = 0.15;
const ZIPF_S: f64 = 1.1;

// ---------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------

const fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = (y - era * 400) as u32;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe as i32 - 719_468
}

fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = (z - era * 146_097) as u32;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe as i32 + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

const START_DAY: i32 = days_from_civil(2015, 1, 1);
const END_DAY: i32 = days_from_civil(2025, 12, 31);

fn ymd(day: i32) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Prec {
    Day,
    Month,
    Year,
}

/// A date as reported: an actual day and the precision it is given at.
#[derive(Clone, Copy, Debug)]
struct EvDate {
    day: i32,
    prec: Prec,
}

impl EvDate {
    fn text(&self) -> String {
        let (y, m, d) = civil_from_days(self.day);
        match self.prec {
            Prec::Day => format!("{y:04}-{m:02}-{d:02}"),
            Prec::Month => format!("{y:04}-{m:02}"),
            Prec::Year => format!("{y:04}"),
        }
    }
    /// Identity of the date string (same string ⇔ same key).
    fn key(&self) -> (Prec, i32, u32, u32) {
        let (y, m, d) = civil_from_days(self.day);
        match self.prec {
            Prec::Day => (Prec::Day, y, m, d),
            Prec::Month => (Prec::Month, y, m, 0),
            Prec::Year => (Prec::Year, y, 0, 0),
        }
    }
    fn period_start(&self) -> i32 {
        let (y, m, _) = civil_from_days(self.day);
        match self.prec {
            Prec::Day => self.day,
            Prec::Month => days_from_civil(y, m, 1),
            Prec::Year => days_from_civil(y, 1, 1),
        }
    }
    /// " on 13 September 2023", " in September 2023", " in 2023"
    fn spoken(&self) -> String {
        let (y, m, d) = civil_from_days(self.day);
        match self.prec {
            Prec::Day => format!(" on {d} {} {y}", MONTHS[m as usize - 1]),
            Prec::Month => format!(" in {} {y}", MONTHS[m as usize - 1]),
            Prec::Year => format!(" in {y}"),
        }
    }
}

fn spoken(date: Option<EvDate>) -> String {
    date.map(|d| d.spoken()).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Names and spelling variants
// ---------------------------------------------------------------------------------------

/// Same rules as the crate's identity normalisation (inputs here are all NFC already).
fn norm_key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending = false;
    for ch in s.chars().flat_map(char::to_lowercase) {
        if ch.is_whitespace() || matches!(ch, '-' | '\u{2010}' | '\u{2011}' | '\u{2013}') {
            pending = !out.is_empty();
            continue;
        }
        if pending {
            out.push(' ');
            pending = false;
        }
        out.push(ch);
    }
    out
}

/// Canonical decomposition of the few precomposed letters used in the world data.
fn decompose(ch: char) -> Option<(char, char)> {
    Some(match ch {
        'á' => ('a', '\u{301}'),
        'é' => ('e', '\u{301}'),
        'í' => ('i', '\u{301}'),
        'ó' => ('o', '\u{301}'),
        'ú' => ('u', '\u{301}'),
        'ć' => ('c', '\u{301}'),
        'É' => ('E', '\u{301}'),
        'è' => ('e', '\u{300}'),
        'ô' => ('o', '\u{302}'),
        'ã' => ('a', '\u{303}'),
        'õ' => ('o', '\u{303}'),
        'ñ' => ('n', '\u{303}'),
        'ö' => ('o', '\u{308}'),
        'ü' => ('u', '\u{308}'),
        'ç' => ('c', '\u{327}'),
        _ => return None,
    })
}

fn nfd(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for ch in s.chars() {
        match decompose(ch) {
            Some((b, m)) => {
                out.push(b);
                out.push(m);
            }
            None => out.push(ch),
        }
    }
    out
}

fn strip_accents(s: &str) -> String {
    s.chars().map(|ch| decompose(ch).map_or(ch, |(b, _)| b)).collect()
}

fn hyphen_variant(s: &str) -> String {
    if s.contains('-') {
        s.replace('-', " ")
    } else {
        s.replace(' ', "-")
    }
}

fn with_article(item: &str) -> String {
    let first = item.chars().next().unwrap_or('x').to_ascii_lowercase();
    if "aeiou".contains(first) {
        format!("an {item}")
    } else {
        format!("a {item}")
    }
}

fn join_list(parts: &[String]) -> String {
    match parts.len() {
        0 => String::new(),
        1 => parts[0].clone(),
        n => format!("{} and {}", parts[..n - 1].join(", "), parts[n - 1]),
    }
}

// ---------------------------------------------------------------------------------------
// The world
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Ent {
    Person(u16),
    Country(u16),
    Place(u16),
    Item(u16),
}

struct Person {
    name: String,
    country: u16,
    title: &'static str,
    aliases: Vec<String>,
}

struct Country {
    name: &'static str,
    capital: &'static str,
    aliases: &'static [&'static str],
    capital_aliases: &'static [&'static str],
}

struct World {
    countries: Vec<Country>,
    persons: Vec<Person>,
    zipf_cdf: Vec<f64>,
    rank_to_person: Vec<u16>,
}

impl World {
    fn build() -> World {
        let mut taken: HashSet<String> = HashSet::new();
        let claim = |name: &str, taken: &mut HashSet<String>| {
            assert!(taken.insert(norm_key(name)), "world data: name or alias {name:?} is not unique");
        };
        let mut countries = Vec::with_capacity(COUNTRIES.len());
        for &(name, capital, _) in COUNTRIES {
            let aliases = COUNTRY_ALIASES.iter().find(|(n, _)| *n == name).map_or(&[][..], |(_, a)| *a);
            let capital_aliases = CAPITAL_ALIASES.iter().find(|(n, _)| *n == capital).map_or(&[][..], |(_, a)| *a);
            claim(name, &mut taken);
            claim(capital, &mut taken);
            aliases.iter().chain(capital_aliases).for_each(|a| claim(a, &mut taken));
            countries.push(Country { name, capital, aliases, capital_aliases });
        }
        ITEMS.iter().for_each(|i| claim(i, &mut taken));

        // Persons: fixed world, independent of the run's seed.
        let mut rng = Pcg64Mcg::seed_from_u64(0x0064_6970_6c6f_6772);
        let mut persons = Vec::with_capacity(COUNTRIES.len() * N_ACTORS_PER_COUNTRY);
        for (ci, &(_, _, pm)) in COUNTRIES.iter().enumerate() {
            for role in 0..N_ACTORS_PER_COUNTRY {
                let (title, alias_title) = match (role, pm) {
                    (0, true) => ("Prime Minister", "Prime Minister"),
                    (0, false) => ("President", "President"),
                    _ => ("Minister of Foreign Affairs", "Foreign Minister"),
                };
                loop {
                    let name = person_name(&mut rng);
                    let titled = format!("{alias_title} {name}");
                    let (k_name, k_titled) = (norm_key(&name), norm_key(&titled));
                    if taken.contains(&k_name) || taken.contains(&k_titled) {
                        continue;
                    }
                    taken.insert(k_name);
                    taken.insert(k_titled);
                    let mut aliases = vec![titled];
                    // "A. Family" when it is unambiguous.
                    let first = name.chars().next().unwrap_or('X');
                    let family = name.rsplit(' ').next().unwrap_or(&name);
                    let short = format!("{first}. {family}");
                    if rng.gen_bool(0.5) && taken.insert(norm_key(&short)) {
                        aliases.push(short);
                    }
                    // ASCII transliteration of accented names.
                    let ascii = strip_accents(&name);
                    if ascii != name && taken.insert(norm_key(&ascii)) {
                        aliases.push(ascii);
                    }
                    persons.push(Person { name, country: ci as u16, title, aliases });
                    break;
                }
            }
        }

        let mut zipf_cdf = Vec::with_capacity(persons.len());
        let mut acc = 0.0;
        for k in 1..=persons.len() {
            acc += (k as f64).powf(-ZIPF_S);
            zipf_cdf.push(acc);
        }
        let mut rank_to_person: Vec<u16> = (0..persons.len() as u16).collect();
        for i in (1..rank_to_person.len()).rev() {
            let j = rng.gen_range(0..=i);
            rank_to_person.swap(i, j);
        }
        World { countries, persons, zipf_cdf, rank_to_person }
    }

    fn name(&self, e: Ent) -> &str {
        match e {
            Ent::Person(i) => &self.persons[i as usize].name,
            Ent::Country(i) => self.countries[i as usize].name,
            Ent::Place(i) => self.countries[i as usize].capital,
            Ent::Item(i) => ITEMS[i as usize],
        }
    }

    fn alias(&self, e: Ent, pick: usize) -> Option<&str> {
        match e {
            Ent::Person(i) => {
                let a = &self.persons[i as usize].aliases;
                a.get(pick % a.len()).map(String::as_str)
            }
            Ent::Country(i) => {
                let a = self.countries[i as usize].aliases;
                (!a.is_empty()).then(|| a[pick % a.len()])
            }
            Ent::Place(i) => {
                let a = self.countries[i as usize].capital_aliases;
                (!a.is_empty()).then(|| a[pick % a.len()])
            }
            Ent::Item(_) => None,
        }
    }

    fn country_of(&self, person: u16) -> u16 {
        self.persons[person as usize].country
    }

    fn leader_of(&self, country: u16) -> u16 {
        (country as usize * N_ACTORS_PER_COUNTRY) as u16
    }

    fn foreign_minister_of(&self, country: u16) -> u16 {
        (country as usize * N_ACTORS_PER_COUNTRY + 1) as u16
    }

    fn slot(&self, e: Ent) -> usize {
        let (np, nc) = (self.persons.len(), self.countries.len());
        match e {
            Ent::Person(i) => i as usize,
            Ent::Country(i) => np + i as usize,
            Ent::Place(i) => np + nc + i as usize,
            Ent::Item(i) => np + 2 * nc + i as usize,
        }
    }

    fn n_slots(&self) -> usize {
        self.persons.len() + 2 * self.countries.len() + ITEMS.len()
    }
}

fn person_name(rng: &mut Pcg64Mcg) -> String {
    let given = |rng: &mut Pcg64Mcg| {
        format!("{}{}", GIVEN_A[rng.gen_range(0..GIVEN_A.len())], GIVEN_B[rng.gen_range(0..GIVEN_B.len())])
    };
    let g1 = given(rng);
    let given_part = match rng.gen_range(0..100) {
        0..=9 => format!("{g1}-{}", given(rng)),
        10..=21 => format!("{g1} {}", given(rng)),
        _ => g1,
    };
    let family = format!(
        "{}{}{}",
        FAMILY_A[rng.gen_range(0..FAMILY_A.len())],
        FAMILY_B[rng.gen_range(0..FAMILY_B.len())],
        FAMILY_C[rng.gen_range(0..FAMILY_C.len())]
    );
    format!("{given_part} {family}")
}

// ---------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Meeting,
    Gift,
    Visit,
    Invitation,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Meeting => "meeting",
            Kind::Gift => "gift",
            Kind::Visit => "visit",
            Kind::Invitation => "invitation",
        }
    }
    fn default_status(self) -> &'static str {
        match self {
            Kind::Invitation => "extended",
            _ => "occurred",
        }
    }
}

/// One event, independent of how a report spells it.
#[derive(Clone, Debug)]
struct Event {
    kind: Kind,
    /// meeting: participants (sorted); gift: [giver, recipient]; visit: [visitor];
    /// invitation: [inviter, invitee]
    actors: Vec<u16>,
    /// gift items (sorted)
    items: Vec<u16>,
    /// visit / invitation destination (a Country or a Place)
    dest: Option<Ent>,
    host: Option<u16>,
    /// a capital, by country index
    place: Option<u16>,
    date: Option<EvDate>,
    status: &'static str,
    /// the date lies in the future of the reporting article (planned, cancelled ahead)
    future: bool,
    /// evidence variants already used by reports of this event (bit set; re-reports
    /// pick an unused one, so every report of an event has its own evidence text)
    used: u64,
}

impl Event {
    fn same(&self, o: &Event) -> bool {
        self.kind == o.kind
            && self.actors == o.actors
            && self.items == o.items
            && self.dest == o.dest
            && self.host == o.host
            && self.place == o.place
            && self.status == o.status
            && self.date.map(|d| d.key()) == o.date.map(|d| d.key())
    }

    /// Can an article published on day `p` report this event?
    fn fits(&self, p: i32) -> bool {
        match self.date {
            None => true,
            Some(d) if self.future => p < d.period_start(),
            Some(d) => d.day <= p,
        }
    }
}

/// A planned visit that a later article reports as occurred (or cancelled).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Pending {
    day: i32,
    seq: u64,
    visitor: u16,
    dest: Ent,
    host: Option<u16>,
    month_day: i32,
}

// ---------------------------------------------------------------------------------------
// Output records
// ---------------------------------------------------------------------------------------

#[derive(Serialize)]
struct ArticleOut<'a> {
    id: String,
    url: String,
    outlet: &'a str,
    published: String,
    language: &'a str,
    title: String,
}

#[derive(Serialize)]
struct EntityOut<'a> {
    #[serde(rename = "ref")]
    reference: &'a str,
    kind: &'static str,
    name: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    aliases: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    country: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
}

#[derive(Serialize, Default)]
struct FactOut {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    participants: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    giver: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recipient: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    items: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    visitor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    inviter: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invitee: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    destination: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    place: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    evidence: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    according_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    confidence: Option<f64>,
}

#[derive(Serialize)]
struct RecordOut<'a> {
    article: ArticleOut<'a>,
    entities: Vec<EntityOut<'a>>,
    facts: Vec<FactOut>,
}

/// The record being assembled: the entities it declares (with their local refs).
#[derive(Default)]
struct Rec {
    ents: Vec<(Ent, String)>,
    counters: [u32; 4],
}

impl Rec {
    fn declare(&mut self, e: Ent) -> String {
        if let Some((_, r)) = self.ents.iter().find(|(x, _)| *x == e) {
            return r.clone();
        }
        let (k, prefix) = match e {
            Ent::Person(_) => (0, "p"),
            Ent::Country(_) => (1, "c"),
            Ent::Place(_) => (2, "pl"),
            Ent::Item(_) => (3, "i"),
        };
        self.counters[k] += 1;
        let r = format!("{prefix}{}", self.counters[k]);
        self.ents.push((e, r.clone()));
        r
    }
}

// ---------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------

#[derive(Default)]
struct Stats {
    articles: u64,
    facts: u64,
    new_events: u64,
    rereports: u64,
    followups: u64,
    plain_names: u64,
}

struct Gen {
    world: World,
    rng: Pcg64Mcg,
    seed: u64,
    n_articles: u64,
    declared: Vec<bool>,
    ring: Vec<Event>,
    ring_pos: usize,
    pending: BinaryHeap<Reverse<Pending>>,
    pending_seq: u64,
    stats: Stats,
}

impl Gen {
    fn new(seed: u64, n_articles: u64) -> Gen {
        let world = World::build();
        let declared = vec![false; world.n_slots()];
        Gen {
            world,
            rng: Pcg64Mcg::seed_from_u64(seed ^ 0x5e_ed0f_d1b1),
            seed,
            n_articles,
            declared,
            ring: Vec::with_capacity(RING_CAPACITY),
            ring_pos: 0,
            pending: BinaryHeap::new(),
            pending_seq: 0,
            stats: Stats::default(),
        }
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.gen_bool(p)
    }

    fn zipf_person(&mut self) -> u16 {
        let total = *self.world.zipf_cdf.last().unwrap_or(&1.0);
        let u = self.rng.gen::<f64>() * total;
        let rank = self.world.zipf_cdf.partition_point(|&c| c <= u).min(self.world.zipf_cdf.len() - 1);
        self.world.rank_to_person[rank]
    }

    /// `n` distinct Zipf-chosen people, each from a different country.
    fn distinct_actors(&mut self, n: usize) -> Vec<u16> {
        let mut out: Vec<u16> = Vec::with_capacity(n);
        let mut tries = 0;
        while out.len() < n {
            tries += 1;
            let p =
                if tries < 200 { self.zipf_person() } else { self.rng.gen_range(0..self.world.persons.len() as u16) };
            let c = self.world.country_of(p);
            if out.iter().all(|&q| self.world.country_of(q) != c) {
                out.push(p);
            }
        }
        out
    }

    fn other_country(&mut self, not: u16) -> u16 {
        loop {
            let c = if self.chance(0.5) {
                let p = self.zipf_person();
                self.world.country_of(p)
            } else {
                self.rng.gen_range(0..self.world.countries.len() as u16)
            };
            if c != not {
                return c;
            }
        }
    }

    fn past_date(&mut self, p: i32) -> EvDate {
        let lag = match self.rng.gen_range(0..100) {
            0..=39 => 0,
            40..=64 => 1,
            65..=84 => self.rng.gen_range(2..=7),
            _ => self.rng.gen_range(8..=60),
        };
        let prec = match self.rng.gen_range(0..100) {
            0..=84 => Prec::Day,
            85..=96 => Prec::Month,
            _ => Prec::Year,
        };
        EvDate { day: (p - lag).max(START_DAY), prec }
    }

    /// A date 1–4 months ahead of `p` (month precision, or a full date), within 2025.
    fn future_date(&mut self, p: i32, month_prec: bool) -> Option<EvDate> {
        let (y, m, _) = civil_from_days(p);
        let ahead = self.rng.gen_range(1..=4);
        let months = y * 12 + (m as i32 - 1) + ahead;
        let (fy, fm) = (months / 12, (months % 12) as u32 + 1);
        let day = days_from_civil(fy, fm, self.rng.gen_range(1..=28));
        (day <= END_DAY).then_some(EvDate { day, prec: if month_prec { Prec::Month } else { Prec::Day } })
    }

    fn new_event(&mut self, p: i32) -> Event {
        let kind = match self.rng.gen_range(0..100) {
            0..=34 => Kind::Meeting,
            35..=49 => Kind::Gift,
            50..=79 => Kind::Visit,
            _ => Kind::Invitation,
        };
        let mut ev = Event {
            kind,
            actors: Vec::new(),
            items: Vec::new(),
            dest: None,
            host: None,
            place: None,
            date: None,
            status: kind.default_status(),
            future: false,
            used: 0,
        };
        match kind {
            Kind::Meeting => {
                let n = match self.rng.gen_range(0..100) {
                    0..=64 => 2,
                    65..=82 => 3,
                    83..=92 => 4,
                    _ => 5,
                };
                ev.actors = self.distinct_actors(n);
                let roll = self.rng.gen_range(0..100);
                let future = if roll >= 88 {
                    let month_prec = self.chance(0.6);
                    self.future_date(p, month_prec)
                } else {
                    None
                };
                match future {
                    Some(d) => {
                        ev.status = if roll >= 97 { "cancelled" } else { "planned" };
                        ev.date = Some(d);
                        ev.future = true;
                    }
                    None => ev.date = Some(self.past_date(p)),
                }
                ev.place = match self.rng.gen_range(0..100) {
                    0..=59 => {
                        let host = ev.actors[self.rng.gen_range(0..n)];
                        Some(self.world.country_of(host))
                    }
                    60..=74 => Some(self.rng.gen_range(0..self.world.countries.len() as u16)),
                    _ => None,
                };
                ev.actors.sort_unstable();
            }
            Kind::Gift => {
                ev.actors = self.distinct_actors(2);
                let n = match self.rng.gen_range(0..100) {
                    0..=69 => 1,
                    70..=91 => 2,
                    _ => 3,
                };
                while ev.items.len() < n {
                    let i = self.rng.gen_range(0..ITEMS.len() as u16);
                    if !ev.items.contains(&i) {
                        ev.items.push(i);
                    }
                }
                ev.items.sort_unstable();
                let future = if self.chance(0.05) {
                    let month_prec = self.chance(0.5);
                    self.future_date(p, month_prec)
                } else {
                    None
                };
                match future {
                    Some(d) => {
                        ev.status = "planned";
                        ev.date = Some(d);
                        ev.future = true;
                    }
                    None if self.chance(0.96) => ev.date = Some(self.past_date(p)),
                    None => {}
                }
                if self.chance(0.4) {
                    let who = ev.actors[self.rng.gen_range(0..2)];
                    ev.place = Some(self.world.country_of(who));
                }
            }
            Kind::Visit => {
                let visitor = self.zipf_person();
                let vc = self.world.country_of(visitor);
                let dc = self.other_country(vc);
                ev.actors = vec![visitor];
                ev.dest = Some(if self.chance(0.6) { Ent::Place(dc) } else { Ent::Country(dc) });
                if self.chance(0.5) {
                    ev.host = Some(self.world.leader_of(dc));
                }
                if matches!(ev.dest, Some(Ent::Country(_))) && self.chance(0.15) {
                    ev.place = Some(dc);
                }
                let roll = self.rng.gen_range(0..100);
                let future = if roll >= 80 { self.future_date(p, !(92..96).contains(&roll)) } else { None };
                match future {
                    Some(d) => {
                        ev.status = if roll >= 96 { "cancelled" } else { "planned" };
                        ev.date = Some(d);
                        ev.future = true;
                        if ev.status == "planned"
                            && d.prec == Prec::Month
                            && self.pending.len() < PENDING_CAPACITY
                            && self.chance(0.85)
                        {
                            self.pending_seq += 1;
                            self.pending.push(Reverse(Pending {
                                day: d.day,
                                seq: self.pending_seq,
                                visitor,
                                dest: ev.dest.unwrap_or(Ent::Country(dc)),
                                host: ev.host,
                                month_day: d.day,
                            }));
                        }
                    }
                    None => ev.date = Some(self.past_date(p)),
                }
            }
            Kind::Invitation => {
                ev.actors = self.distinct_actors(2);
                let ic = self.world.country_of(ev.actors[0]);
                ev.dest = match self.rng.gen_range(0..100) {
                    0..=49 => Some(Ent::Place(ic)),
                    50..=69 => Some(Ent::Country(ic)),
                    _ => None,
                };
                ev.status = match self.rng.gen_range(0..100) {
                    0..=59 => "extended",
                    60..=84 => "accepted",
                    _ => "declined",
                };
                // Undated invitations between the busiest leaders merge across reports.
                if self.chance(0.96) {
                    ev.date = Some(self.past_date(p));
                }
            }
        }
        ev
    }

    /// The follow-up report of a planned visit: occurred on a full date, or cancelled.
    fn followup_event(&mut self, pd: Pending) -> Event {
        let occurred = self.chance(0.88);
        Event {
            kind: Kind::Visit,
            actors: vec![pd.visitor],
            items: Vec::new(),
            dest: Some(pd.dest),
            host: pd.host,
            place: None,
            date: Some(EvDate { day: pd.month_day, prec: if occurred { Prec::Day } else { Prec::Month } }),
            status: if occurred { "occurred" } else { "cancelled" },
            future: false,
            used: 0,
        }
    }

    /// A role filler: the record-local ref, or a plain name (often a spelling variant).
    fn mention(&mut self, rec: &mut Rec, e: Ent) -> String {
        let p_plain = match e {
            Ent::Person(_) => 0.25,
            Ent::Country(_) | Ent::Place(_) => 0.45,
            Ent::Item(_) => 0.3,
        };
        if !self.chance(p_plain) {
            return rec.declare(e);
        }
        self.stats.plain_names += 1;
        if !self.declared[self.world.slot(e)] {
            // Make sure the plain name resolves: declare the entity in this record.
            rec.declare(e);
        }
        let roll = self.rng.gen_range(0..100);
        let pick = self.rng.gen_range(0..8);
        let coin = self.chance(0.6);
        let name = self.world.name(e);
        let alias = self.world.alias(e, pick);
        match roll {
            0..=29 => name.to_string(),
            30..=41 => name.to_uppercase(),
            42..=55 if name.contains([' ', '-']) => hyphen_variant(name),
            56..=67 if name.contains(' ') => {
                let spaces = if coin { "  " } else { "   " };
                name.replacen(' ', spaces, 1)
            }
            68..=85 if alias.is_some() => alias.unwrap_or(name).to_string(),
            86..=92 if nfd(name) != name => nfd(name),
            93..=96 if name.contains(' ') => name.replace(' ', "\u{2010}"),
            _ if coin => name.to_lowercase(),
            _ => format!(" {name} "),
        }
    }

    fn according_to(&mut self, ev: &Event) -> Option<String> {
        if !self.chance(0.35) {
            return None;
        }
        let who = ev.actors[self.rng.gen_range(0..ev.actors.len())];
        let c = self.world.country_of(who);
        let cname = self.world.countries[c as usize].name;
        Some(match self.rng.gen_range(0..9) {
            0 | 1 => self.world.persons[self.world.foreign_minister_of(c) as usize].name.clone(),
            2 => format!("{cname} Ministry of Foreign Affairs"),
            3 => "a government spokesperson".to_string(),
            4 => "state media".to_string(),
            5 => "diplomatic sources".to_string(),
            6 => format!("the {cname} government press office"),
            7 => "a senior official who asked not to be named".to_string(),
            _ => format!("the embassy of {cname}"),
        })
    }

    fn n_templates(ev: &Event) -> u32 {
        match (ev.kind, ev.status) {
            (Kind::Meeting | Kind::Gift | Kind::Visit, "occurred") => 5,
            _ => 2,
        }
    }

    /// An evidence variant (template × closing sentence) not yet used for this event.
    fn pick_variant(&mut self, ev: &Event) -> u32 {
        let n = Self::n_templates(ev) * EVIDENCE_CODAS.len() as u32;
        let unused = |v: u32| ev.used & (1 << v) == 0;
        for _ in 0..8 {
            let v = self.rng.gen_range(0..n);
            if unused(v) {
                return v;
            }
        }
        let start = self.rng.gen_range(0..n);
        (0..n).map(|k| (start + k) % n).find(|&v| unused(v)).unwrap_or(start)
    }

    fn evidence(&self, ev: &Event, variant: u32) -> String {
        let coda = EVIDENCE_CODAS[(variant % EVIDENCE_CODAS.len() as u32) as usize];
        let mut text = self.evidence_sentence(ev, variant / EVIDENCE_CODAS.len() as u32);
        text.push_str(coda);
        text
    }

    fn evidence_sentence(&self, ev: &Event, t: u32) -> String {
        let w = &self.world;
        let pn = |i: u16| w.persons[i as usize].name.as_str();
        // The first alias of a person is "<Title> <Name>".
        let titled = |i: u16| w.persons[i as usize].aliases[0].as_str();
        let date = spoken(ev.date);
        let place = ev.place.map(|c| format!(" in {}", w.countries[c as usize].capital)).unwrap_or_default();
        let dest = ev.dest.map(|d| w.name(d).to_string()).unwrap_or_default();
        match ev.kind {
            Kind::Meeting => {
                let names: Vec<String> = ev.actors.iter().map(|&a| pn(a).to_string()).collect();
                let list = join_list(&names);
                let others = join_list(&names[1..]);
                match (ev.status, t) {
                    ("occurred", 0) => format!("{list} held talks{place}{date}."),
                    ("occurred", 1) => {
                        format!("{} met {others}{place}{date}, officials said.", names[0])
                    }
                    ("occurred", 2) => format!(
                        "\"We had a productive conversation,\" {} said after meeting {others}{place}{date}.",
                        names[0]
                    ),
                    ("occurred", 3) => {
                        format!("{list} sat down together{place}{date} to discuss trade and regional security.")
                    }
                    ("occurred", _) => {
                        format!("{list} shook hands{place}{date} before closed-door talks.")
                    }
                    ("planned", 0) => format!("{list} are expected to meet{place}{date}."),
                    ("planned", _) => {
                        format!("A meeting between {list} is being prepared{place}{date}.")
                    }
                    (_, 0) => format!("A planned meeting between {list}{place}{date} was called off."),
                    _ => format!("The talks between {list}{place}{date} have been cancelled."),
                }
            }
            Kind::Gift => {
                let (g, r) = (pn(ev.actors[0]), pn(ev.actors[1]));
                let items: Vec<String> = ev.items.iter().map(|&i| with_article(ITEMS[i as usize])).collect();
                let items = join_list(&items);
                match (ev.status, t) {
                    ("occurred", 0) => format!("{g} presented {r} with {items}{place}{date}."),
                    ("occurred", 1) => {
                        format!("Among the gifts {r} received from {g}{date} was {items}.")
                    }
                    ("occurred", 2) => {
                        format!("{g} handed over {items} to {r} as a gesture of friendship{date}.")
                    }
                    ("occurred", 3) => format!("{r} was given {items} by {g}{place}{date}, the protocol office said."),
                    ("occurred", _) => format!("The exchange of gifts{place}{date} included {items} from {g} to {r}."),
                    (_, 0) => format!("{g} is expected to present {r} with {items}{date}."),
                    _ => format!("{items} will be offered by {g} to {r}{place}{date}."),
                }
            }
            Kind::Visit => {
                let v = pn(ev.actors[0]);
                let host = ev.host.map(|h| format!(", hosted by {}", titled(h))).unwrap_or_default();
                match (ev.status, t) {
                    ("occurred", 0) => {
                        format!("{v} arrived in {dest}{date} for an official visit{host}.")
                    }
                    ("occurred", 1) => {
                        format!("{v} landed in {dest}{date}, where a guard of honour welcomed the delegation{host}.")
                    }
                    ("occurred", 2) => {
                        format!("During the visit to {dest}{date}, {v} laid a wreath at the national memorial.")
                    }
                    ("occurred", 3) => {
                        format!("{v}'s trip to {dest}{date} was the first at this level in years.")
                    }
                    ("occurred", _) => format!("{v} paid a state visit to {dest}{date}{host}."),
                    ("planned", 0) => format!("{v} will travel to {dest}{date}, the foreign ministry announced."),
                    ("planned", _) => format!("A visit by {v} to {dest} is planned{date}."),
                    (_, 0) => format!("{v} called off the trip to {dest}{date}."),
                    _ => format!("The visit of {v} to {dest}{date} was postponed indefinitely."),
                }
            }
            Kind::Invitation => {
                let (i, e) = (pn(ev.actors[0]), pn(ev.actors[1]));
                let to = if dest.is_empty() { String::new() } else { format!(" to {dest}") };
                match (ev.status, t) {
                    ("extended", 0) => format!("{i} invited {e}{to}{date}."),
                    ("extended", _) => {
                        format!("{e} has received an invitation from {i}{to}{date}.")
                    }
                    ("accepted", 0) => format!("{e} accepted an invitation from {i}{to}{date}."),
                    ("accepted", _) => format!("{e} said{date} that the invitation{to} from {i} was gladly accepted."),
                    (_, 0) => format!("{e} declined an invitation from {i}{to}{date}."),
                    _ => format!("The invitation{to} from {i} was turned down by {e}{date}."),
                }
            }
        }
    }

    /// Renders one event as a fact of `rec`.
    fn render(&mut self, rec: &mut Rec, ev: &Event, variant: u32) -> FactOut {
        let mut f = FactOut { kind: ev.kind.name(), ..FactOut::default() };
        match ev.kind {
            Kind::Meeting => {
                let mut order = ev.actors.clone();
                for i in (1..order.len()).rev() {
                    let j = self.rng.gen_range(0..=i);
                    order.swap(i, j);
                }
                let names = order.iter().map(|&a| self.mention(rec, Ent::Person(a))).collect();
                f.participants = Some(names);
            }
            Kind::Gift => {
                f.giver = Some(self.mention(rec, Ent::Person(ev.actors[0])));
                f.recipient = Some(self.mention(rec, Ent::Person(ev.actors[1])));
                let mut order = ev.items.clone();
                if order.len() > 1 && self.chance(0.5) {
                    order.reverse();
                }
                let items = order.iter().map(|&i| self.mention(rec, Ent::Item(i))).collect();
                f.items = Some(items);
            }
            Kind::Visit => {
                f.visitor = Some(self.mention(rec, Ent::Person(ev.actors[0])));
            }
            Kind::Invitation => {
                f.inviter = Some(self.mention(rec, Ent::Person(ev.actors[0])));
                f.invitee = Some(self.mention(rec, Ent::Person(ev.actors[1])));
            }
        }
        if let Some(d) = ev.dest {
            f.destination = Some(self.mention(rec, d));
        }
        if let Some(h) = ev.host {
            f.host = Some(self.mention(rec, Ent::Person(h)));
        }
        if let Some(c) = ev.place {
            f.place = Some(self.mention(rec, Ent::Place(c)));
        }
        f.date = ev.date.map(|d| d.text());
        // An omitted status means the type's default: same event either way.
        f.status = if ev.status != ev.kind.default_status() || self.chance(0.6) { Some(ev.status) } else { None };
        f.evidence = self.evidence(ev, variant);
        f.according_to = self.according_to(ev);
        if self.chance(0.3) {
            f.confidence = Some(f64::from(self.rng.gen_range(55u32..=99)) / 100.0);
        }
        f
    }

    fn title(&self, ev: &Event, lang: &str) -> String {
        let w = &self.world;
        let a = w.persons[ev.actors[0] as usize].name.as_str();
        let b = ev.actors.get(1).map(|&i| w.persons[i as usize].name.as_str()).unwrap_or("");
        let x = match ev.kind {
            Kind::Gift => ITEMS[ev.items[0] as usize],
            _ => ev.dest.map(|d| w.name(d)).unwrap_or(""),
        };
        let kind = match ev.kind {
            Kind::Invitation if x.is_empty() => 4,
            Kind::Meeting => 0,
            Kind::Gift => 1,
            Kind::Visit => 2,
            Kind::Invitation => 3,
        };
        match (lang, kind) {
            ("fr", 0) => format!("{a} rencontre {b}"),
            ("fr", 1) => format!("{a} offre « {x} » à {b}"),
            ("fr", 2) => format!("{a} en visite à {x}"),
            ("fr", _) => format!("{a} invite {b}"),
            ("es", 0) => format!("{a} se reúne con {b}"),
            ("es", 1) => format!("{a} regala «{x}» a {b}"),
            ("es", 2) => format!("{a} visita {x}"),
            ("es", _) => format!("{a} invita a {b}"),
            ("id", 0) => format!("{a} bertemu {b}"),
            ("id", 1) => format!("{a} memberi {b} hadiah {x}"),
            ("id", 2) => format!("{a} berkunjung ke {x}"),
            ("id", _) => format!("{a} mengundang {b}"),
            ("de", 0) => format!("{a} trifft {b}"),
            ("de", 1) => format!("{a} schenkt {b} „{x}“"),
            ("de", 2) => format!("{a} besucht {x}"),
            ("de", _) => format!("{a} lädt {b} ein"),
            ("ru", 0) => format!("{a} встретился с {b}"),
            ("ru", 1) => format!("{a} подарил {b} «{x}»"),
            ("ru", 2) => format!("{a} посетил {x}"),
            ("ru", _) => format!("{a} пригласил {b}"),
            ("ar", 0) => format!("{a} يلتقي {b}"),
            ("ar", 1) => format!("{a} يهدي {b} {x}"),
            ("ar", 2) => format!("{a} يزور {x}"),
            ("ar", _) => format!("{a} يدعو {b}"),
            ("zh", 0) => format!("{a}会见{b}"),
            ("zh", 1) => format!("{a}向{b}赠送{x}"),
            ("zh", 2) => format!("{a}访问{x}"),
            ("zh", _) => format!("{a}邀请{b}"),
            (_, 0) if ev.actors.len() > 2 => format!("{a} meets {b} and other leaders"),
            (_, 0) if ev.future => format!("{a} and {b} to hold talks"),
            (_, 0) => format!("{a} meets {b}"),
            (_, 1) => format!("{a} gives {b} {}", with_article(x)),
            (_, 2) if ev.future => format!("{a} to visit {x}"),
            (_, 2) => format!("{a} visits {x}"),
            (_, 3) => format!("{a} invites {b} to {x}"),
            _ => format!("{a} invites {b}"),
        }
    }

    fn push_ring(&mut self, ev: Event) {
        if self.ring.len() < RING_CAPACITY {
            self.ring.push(ev);
        } else {
            self.ring[self.ring_pos] = ev;
            self.ring_pos = (self.ring_pos + 1) % RING_CAPACITY;
        }
    }

    fn n_facts(&mut self) -> usize {
        match self.rng.gen_range(0..100) {
            0..=14 => 1,
            15..=44 => 2,
            45..=69 => 3,
            70..=81 => 4,
            82..=89 => 5,
            90..=94 => 6,
            95..=97 => 7,
            _ => 8,
        }
    }

    fn article(&mut self, n: u64, out: &mut impl Write) -> io::Result<()> {
        let span = (END_DAY - START_DAY - 30) as f64;
        let base = START_DAY + 30 + ((n as f64 + 0.5) / self.n_articles as f64 * span) as i32;
        let p = (base + self.rng.gen_range(-2..=2)).clamp(START_DAY + 30, END_DAY);
        let (outlet, domain, lang) = OUTLETS[self.rng.gen_range(0..OUTLETS.len())];
        let want = self.n_facts();

        let mut rec = Rec::default();
        let mut events: Vec<Event> = Vec::with_capacity(want);
        let mut facts: Vec<FactOut> = Vec::with_capacity(want);
        let mut fresh: Vec<Event> = Vec::new();
        let mut attempts = 0;
        let limit = 4 * want + 8;
        while facts.len() < want && (attempts < limit || facts.is_empty()) {
            attempts += 1;
            let due = matches!(self.pending.peek(), Some(Reverse(pd)) if pd.day <= p);
            // `ring_index`: Some(i) when re-reporting ring event i.
            let (ev, ring_index) = if attempts > limit {
                // Give up on follow-ups and re-reports: a fresh event always fits.
                (self.new_event(p), None)
            } else if due && self.chance(0.8) {
                let Some(Reverse(pd)) = self.pending.pop() else {
                    continue;
                };
                self.stats.followups += 1;
                (self.followup_event(pd), None)
            } else if !self.ring.is_empty() && self.chance(REREPORT_SHARE) {
                let i = self.rng.gen_range(0..self.ring.len());
                if !self.ring[i].fits(p) {
                    continue;
                }
                (self.ring[i].clone(), Some(i))
            } else {
                (self.new_event(p), None)
            };
            if events.iter().any(|e| e.same(&ev)) {
                continue;
            }
            let variant = self.pick_variant(&ev);
            let fact = self.render(&mut rec, &ev, variant);
            facts.push(fact);
            match ring_index {
                Some(i) => {
                    self.stats.rereports += 1;
                    self.ring[i].used |= 1 << variant;
                }
                None => {
                    self.stats.new_events += 1;
                    let mut stored = ev.clone();
                    stored.used = 1 << variant;
                    fresh.push(stored);
                }
            }
            events.push(ev);
        }

        let title = self.title(&events[0], lang);
        let (y, m, d) = civil_from_days(p);
        let record = RecordOut {
            article: ArticleOut {
                id: format!("gen-{}-{n:08}", self.seed),
                url: format!("https://{domain}/{y:04}/{m:02}/{d:02}/{}-{n:08}", events[0].kind.name()),
                outlet,
                published: ymd(p),
                language: lang,
                title,
            },
            entities: rec.ents.iter().map(|(e, r)| self.entity_out(*e, r)).collect(),
            facts,
        };
        serde_json::to_writer(&mut *out, &record)?;
        out.write_all(b"\n")?;
        let n_facts = record.facts.len() as u64;
        drop(record);

        self.stats.articles += 1;
        self.stats.facts += n_facts;
        for (e, _) in &rec.ents {
            let s = self.world.slot(*e);
            self.declared[s] = true;
        }
        for ev in fresh {
            self.push_ring(ev);
        }
        Ok(())
    }

    fn entity_out<'a>(&'a self, e: Ent, r: &'a str) -> EntityOut<'a> {
        let w = &self.world;
        match e {
            Ent::Person(i) => {
                let p = &w.persons[i as usize];
                EntityOut {
                    reference: r,
                    kind: "Person",
                    name: &p.name,
                    aliases: p.aliases.iter().map(String::as_str).collect(),
                    country: Some(w.countries[p.country as usize].name),
                    title: Some(p.title),
                }
            }
            Ent::Country(i) => EntityOut {
                reference: r,
                kind: "Country",
                name: w.countries[i as usize].name,
                aliases: w.countries[i as usize].aliases.to_vec(),
                country: None,
                title: None,
            },
            Ent::Place(i) => EntityOut {
                reference: r,
                kind: "Place",
                name: w.countries[i as usize].capital,
                aliases: w.countries[i as usize].capital_aliases.to_vec(),
                country: Some(w.countries[i as usize].name),
                title: None,
            },
            Ent::Item(i) => EntityOut {
                reference: r,
                kind: "Item",
                name: ITEMS[i as usize],
                aliases: Vec::new(),
                country: None,
                title: None,
            },
        }
    }
}

// ---------------------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------------------

const USAGE: &str = "\
Generate synthetic diplograph article batches (JSON Lines) on stdout.

Usage: cargo run --release --example generate -- [--articles N] [--seed S] > batch.jsonl

Options:
  --articles N   number of articles (records) to write [default: 1000]
  --seed S       random seed; the output is a function of (N, S) [default: 42]
  -h, --help     print this help
";

fn parse_args() -> Result<Option<(u64, u64)>, String> {
    let mut articles = 1000u64;
    let mut seed = 42u64;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--articles" | "--seed" => {
                let value = inline.or_else(|| args.next()).ok_or_else(|| format!("{flag} needs a value"))?;
                let v: u64 =
                    value.trim().parse().map_err(|_| format!("{flag}: not a non-negative integer: {value:?}"))?;
                if flag == "--articles" {
                    articles = v;
                } else {
                    seed = v;
                }
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some((articles, seed)))
}

fn main() -> ExitCode {
    let (articles, seed) = match parse_args() {
        Ok(Some(v)) => v,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("generate: {msg}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut gen = Gen::new(seed, articles.max(1));
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let result = (0..articles).try_for_each(|n| gen.article(n, &mut out)).and_then(|()| out.flush());
    match result {
        Ok(()) => {
            let s = &gen.stats;
            eprintln!(
                "generate: {} articles, {} facts ({} new events incl. {} planned-visit follow-ups, {} re-reports, {} plain-name mentions), seed {seed}",
                s.articles, s.facts, s.new_events, s.followups, s.rereports, s.plain_names
            );
            ExitCode::SUCCESS
        }
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("generate: write error: {e}");
            ExitCode::FAILURE
        }
    }
}
