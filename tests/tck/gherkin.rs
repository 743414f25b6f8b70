//! A small reader for the Gherkin the TCK is written in: Feature, Background, Scenario,
//! Scenario Outline with Examples tables, steps with doc strings and data tables.

use std::fmt;

/// One `.feature` file: its scenarios, background steps already prepended and outlines
/// already expanded into one scenario per example row.
#[derive(Clone, Debug)]
pub struct Feature {
    pub name: String,
    pub scenarios: Vec<Scenario>,
}

#[derive(Clone, Debug)]
pub struct Scenario {
    /// The name as written; an expanded outline adds its example row.
    pub name: String,
    /// Line of the `Scenario:` keyword (1-based).
    pub line: usize,
    pub tags: Vec<String>,
    pub steps: Vec<Step>,
}

#[derive(Clone, Debug)]
pub struct Step {
    /// `Given`, `When`, `Then`, `And`, `But` or `*`.
    pub keyword: String,
    /// The text after the keyword, trimmed.
    pub text: String,
    pub doc_string: Option<String>,
    pub table: Option<Vec<Vec<String>>>,
    pub line: usize,
}

#[derive(Debug)]
pub struct GherkinError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for GherkinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

const STEP_KEYWORDS: [&str; 6] = ["Given", "When", "Then", "And", "But", "*"];

/// What the reader is filling while it walks the lines.
enum Section {
    None,
    Background,
    Scenario(ScenarioDraft),
}

struct ScenarioDraft {
    name: String,
    line: usize,
    tags: Vec<String>,
    steps: Vec<Step>,
    outline: bool,
    /// Each Examples block: header row then value rows.
    examples: Vec<Vec<Vec<String>>>,
    in_examples: bool,
}

/// Reads a feature file's text.
pub fn parse_feature(text: &str) -> Result<Feature, GherkinError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut feature_name = String::new();
    let mut background: Vec<Step> = Vec::new();
    let mut scenarios: Vec<Scenario> = Vec::new();
    let mut section = Section::None;
    let mut pending_tags: Vec<String> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line_no = i + 1;
        let trimmed = lines[i].trim();
        i += 1;
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if trimmed.starts_with('@') {
            pending_tags.extend(trimmed.split_whitespace().map(str::to_string));
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix("Feature:") {
            feature_name = rest.trim().to_string();
            pending_tags.clear();
            continue;
        }
        if trimmed.starts_with("Background:") {
            finish(&mut section, &background, &mut scenarios)?;
            section = Section::Background;
            continue;
        }
        if let Some((outline, rest)) = scenario_header(trimmed) {
            finish(&mut section, &background, &mut scenarios)?;
            section = Section::Scenario(ScenarioDraft {
                name: rest.trim().to_string(),
                line: line_no,
                tags: std::mem::take(&mut pending_tags),
                steps: Vec::new(),
                outline,
                examples: Vec::new(),
                in_examples: false,
            });
            continue;
        }
        if trimmed.starts_with("Examples:") || trimmed.starts_with("Scenarios:") {
            pending_tags.clear();
            match &mut section {
                Section::Scenario(draft) if draft.outline => {
                    draft.examples.push(Vec::new());
                    draft.in_examples = true;
                }
                _ => return Err(error(line_no, "Examples outside a Scenario Outline")),
            }
            continue;
        }
        if trimmed.starts_with('|') {
            let row = split_row(trimmed);
            match &mut section {
                Section::Scenario(draft) if draft.in_examples => {
                    draft.examples.last_mut().expect("examples block").push(row);
                }
                Section::Scenario(draft) => {
                    let step = draft.steps.last_mut().ok_or_else(|| error(line_no, "a table row before any step"))?;
                    step.table.get_or_insert_with(Vec::new).push(row);
                }
                Section::Background => {
                    let step = background.last_mut().ok_or_else(|| error(line_no, "a table row before any step"))?;
                    step.table.get_or_insert_with(Vec::new).push(row);
                }
                Section::None => return Err(error(line_no, "a table row outside a scenario")),
            }
            continue;
        }
        if trimmed.starts_with("\"\"\"") || trimmed.starts_with("```") {
            let (doc, next) = read_doc_string(&lines, i - 1)?;
            i = next;
            let target = match &mut section {
                Section::Scenario(draft) => draft.steps.last_mut(),
                Section::Background => background.last_mut(),
                Section::None => None,
            };
            let step = target.ok_or_else(|| error(line_no, "a doc string before any step"))?;
            step.doc_string = Some(doc);
            continue;
        }
        if let Some((keyword, rest)) = step_header(trimmed) {
            let step = Step {
                keyword: keyword.to_string(),
                text: rest.trim().to_string(),
                doc_string: None,
                table: None,
                line: line_no,
            };
            match &mut section {
                Section::Scenario(draft) if !draft.in_examples => draft.steps.push(step),
                Section::Background => background.push(step),
                _ => return Err(error(line_no, "a step outside a scenario")),
            }
            continue;
        }
        // Free-form description text under Feature/Scenario: ignored, as Gherkin does.
        if matches!(section, Section::None) {
            continue;
        }
        if let Section::Scenario(draft) = &section {
            if draft.steps.is_empty() {
                continue;
            }
        }
        return Err(error(line_no, &format!("cannot read line: {trimmed}")));
    }
    finish(&mut section, &background, &mut scenarios)?;
    Ok(Feature { name: feature_name, scenarios })
}

fn error(line: usize, message: &str) -> GherkinError {
    GherkinError { line, message: message.to_string() }
}

/// `Scenario:` / `Scenario Outline:` / `Scenario Template:` → (is outline, rest of line).
fn scenario_header(line: &str) -> Option<(bool, &str)> {
    for (prefix, outline) in
        [("Scenario Outline:", true), ("Scenario Template:", true), ("Scenario:", false), ("Example:", false)]
    {
        if let Some(rest) = line.strip_prefix(prefix) {
            return Some((outline, rest));
        }
    }
    None
}

fn step_header(line: &str) -> Option<(&'static str, &str)> {
    for keyword in STEP_KEYWORDS {
        if let Some(rest) = line.strip_prefix(keyword) {
            if rest.is_empty() || rest.starts_with(' ') {
                return Some((keyword, rest));
            }
        }
    }
    None
}

/// Reads a doc string starting at line index `start` (the opening delimiter); returns its
/// text, with the opening delimiter's indentation removed from every line, and the index
/// of the line after the closing delimiter.
fn read_doc_string(lines: &[&str], start: usize) -> Result<(String, usize), GherkinError> {
    let open = lines[start];
    let indent = open.len() - open.trim_start().len();
    let delimiter = if open.trim().starts_with("```") { "```" } else { "\"\"\"" };
    let mut body: Vec<String> = Vec::new();
    let mut i = start + 1;
    while i < lines.len() {
        let line = lines[i];
        if line.trim() == delimiter {
            return Ok((body.join("\n"), i + 1));
        }
        let cut = line.chars().take_while(|c| c.is_whitespace()).count().min(indent);
        body.push(line.chars().skip(cut).collect());
        i += 1;
    }
    Err(error(start + 1, "doc string without its closing delimiter"))
}

/// Splits `| a | b |` into trimmed, unescaped cells (`\|`, `\\` and `\n` as Gherkin says).
pub fn split_row(line: &str) -> Vec<String> {
    let inner = line.trim();
    let inner = inner.strip_prefix('|').unwrap_or(inner);
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('|') => cell.push('|'),
                Some('\\') => cell.push('\\'),
                Some('n') => cell.push('\n'),
                Some(other) => {
                    cell.push('\\');
                    cell.push(other);
                }
                None => cell.push('\\'),
            },
            '|' => {
                cells.push(cell.trim().to_string());
                cell.clear();
            }
            _ => cell.push(c),
        }
    }
    // Anything after the last `|` is not a cell.
    cells
}

/// Ends the section being read: a scenario is stored (outlines expanded), a background kept.
fn finish(section: &mut Section, background: &[Step], scenarios: &mut Vec<Scenario>) -> Result<(), GherkinError> {
    let Section::Scenario(draft) = std::mem::replace(section, Section::None) else {
        return Ok(());
    };
    let with_background = |steps: &[Step]| -> Vec<Step> { background.iter().chain(steps).cloned().collect() };
    if !draft.outline {
        scenarios.push(Scenario {
            name: draft.name,
            line: draft.line,
            tags: draft.tags,
            steps: with_background(&draft.steps),
        });
        return Ok(());
    }
    let mut number = 0;
    for block in &draft.examples {
        let Some((header, rows)) = block.split_first() else {
            continue;
        };
        for row in rows {
            number += 1;
            if row.len() != header.len() {
                return Err(error(draft.line, "an Examples row with the wrong number of cells"));
            }
            let substitute = |text: &str| -> String {
                let mut out = text.to_string();
                for (name, value) in header.iter().zip(row) {
                    out = out.replace(&format!("<{name}>"), value);
                }
                out
            };
            let steps = draft
                .steps
                .iter()
                .map(|step| Step {
                    keyword: step.keyword.clone(),
                    text: substitute(&step.text),
                    doc_string: step.doc_string.as_deref().map(substitute),
                    table: step
                        .table
                        .as_ref()
                        .map(|t| t.iter().map(|r| r.iter().map(|c| substitute(c)).collect()).collect()),
                    line: step.line,
                })
                .collect::<Vec<_>>();
            scenarios.push(Scenario {
                name: format!("{} (example {number}: {})", substitute(&draft.name), shorten(&row.join(", "))),
                line: draft.line,
                tags: draft.tags.clone(),
                steps: with_background(&steps),
            });
        }
    }
    Ok(())
}

/// Example values as shown in scenario names: long ones are cut.
fn shorten(text: &str) -> String {
    let text = text.replace('\n', " ");
    if text.chars().count() > 80 {
        format!("{}…", text.chars().take(80).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outline_rows_become_scenarios_with_placeholders_filled() {
        let text = "Feature: F\n  Background:\n    Given an empty graph\n\n  Scenario Outline: [1] Add <a>\n    When executing query:\n      \"\"\"\n      RETURN <a> + 1 AS x\n      \"\"\"\n    Then the result should be, in any order:\n      | x   |\n      | <b> |\n\n    Examples:\n      | a | b |\n      | 1 | 2 |\n      | 2 | 3 |\n";
        let feature = parse_feature(text).unwrap();
        assert_eq!(feature.scenarios.len(), 2);
        let second = &feature.scenarios[1];
        assert_eq!(second.steps.len(), 3);
        assert_eq!(second.steps[1].doc_string.as_deref(), Some("RETURN 2 + 1 AS x"));
        assert_eq!(second.steps[2].table.as_ref().unwrap()[1], vec!["3".to_string()]);
    }

    #[test]
    fn cells_unescape_bar_backslash_and_newline() {
        assert_eq!(split_row(r"| 'a\|b' | 'x\\y' | 'p\nq' | '\'' |"), vec!["'a|b'", r"'x\y'", "'p\nq'", r"'\''"]);
    }
}
