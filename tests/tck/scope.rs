//! What the harness runs: the read-only subset of issue 3. Decided by a token check on
//! the query text (string literals and backticked names blanked out first), so a broken
//! parser cannot hide a scenario from the count.

use std::sync::OnceLock;

use regex::Regex;

/// Feature folders that are wholly outside the read-only subset.
pub const OUT_OF_SCOPE_FOLDERS: &[(&str, &str)] = &[
    ("clauses/create", "write clause CREATE"),
    ("clauses/merge", "write clause MERGE"),
    ("clauses/set", "write clause SET"),
    ("clauses/delete", "write clause DELETE"),
    ("clauses/remove", "write clause REMOVE"),
];

/// The reason a whole folder is skipped, if it is.
pub fn folder_out_of_scope(folder: &str) -> Option<&'static str> {
    OUT_OF_SCOPE_FOLDERS.iter().find(|(f, _)| *f == folder).map(|(_, why)| *why)
}

struct Rule {
    pattern: Regex,
    reason: &'static str,
}

fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        let rule = |pattern: &str, reason: &'static str| Rule {
            pattern: Regex::new(&format!("(?i){pattern}")).expect("scope rule regex"),
            reason,
        };
        vec![
            rule(r"(^|[^.\w$])CREATE\b", "query uses CREATE"),
            rule(r"(^|[^.\w$])MERGE\b", "query uses MERGE"),
            rule(r"(^|[^.\w$:])SET\b", "query uses SET"),
            rule(r"(^|[^.\w$])(DETACH\s+)?DELETE\b", "query uses DELETE"),
            rule(r"(^|[^.\w$])REMOVE\b", "query uses REMOVE"),
            rule(r"(^|[^.\w$])CALL\s*\{", "query uses a CALL { } subquery"),
            rule(r"(^|[^.\w$])FOREACH\b", "query uses FOREACH"),
        ]
    })
}

/// Why the query is outside the subset, or `None` when the harness should run it.
pub fn query_out_of_scope(query: &str) -> Option<&'static str> {
    let blanked = blank_literals(query);
    rules().iter().find(|r| r.pattern.is_match(&blanked)).map(|r| r.reason)
}

/// Replaces the inside of string literals and backticked names with spaces, and drops
/// `//` comments, so keywords inside them are not mistaken for clauses.
fn blank_literals(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' | '`' => {
                out.push(c);
                while let Some(inner) = chars.next() {
                    if inner == '\\' && c != '`' {
                        chars.next();
                        out.push_str("  ");
                        continue;
                    }
                    if inner == c {
                        break;
                    }
                    out.push(' ');
                }
                out.push(c);
            }
            '/' if chars.peek() == Some(&'/') => {
                for inner in chars.by_ref() {
                    if inner == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_inside_strings_and_properties_do_not_count() {
        assert_eq!(query_out_of_scope("RETURN 'CREATE (n)' AS s"), None);
        assert_eq!(query_out_of_scope("MATCH (n) RETURN n.set, n.`delete`"), None);
        assert_eq!(query_out_of_scope("MATCH (n) SET n.x = 1"), Some("query uses SET"));
        // Comprehensions, quantifiers, reduce and UNION are implemented, so they run.
        assert_eq!(query_out_of_scope("RETURN [x IN [1, 2] | x * 2]"), None);
        assert_eq!(query_out_of_scope("MATCH (a) RETURN [(a)-->(b) | b.name]"), None);
        assert_eq!(query_out_of_scope("RETURN any(x IN [1] WHERE x = 1)"), None);
        assert_eq!(query_out_of_scope("RETURN date('2020-01-01')"), None);
        assert_eq!(query_out_of_scope("MATCH (n) WHERE n.time > 1 RETURN n"), None);
        // Procedure calls run; CALL { } subqueries do not.
        assert_eq!(query_out_of_scope("CALL db.labels() YIELD label RETURN label"), None);
        assert_eq!(query_out_of_scope("CALL { MATCH (n) RETURN n } RETURN n"), Some("query uses a CALL { } subquery"));
    }
}
