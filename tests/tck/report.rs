//! Tallies verdicts per feature folder and renders the summary table, the failure listing
//! (grouped by cause, so the most common engine gaps come first) and the baseline.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use crate::runner::Verdict;

#[derive(Clone, Debug)]
pub struct Outcome {
    pub folder: String,
    pub file: String,
    pub scenario: String,
    pub line: usize,
    pub verdict: Verdict,
    pub elapsed: Duration,
}

impl Outcome {
    fn place(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

#[derive(Clone, Debug, Default)]
pub struct Report {
    outcomes: Vec<Outcome>,
    harness_problems: Vec<String>,
}

#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    total: usize,
    passed: usize,
    failed: usize,
    skipped: usize,
    panics: usize,
}

impl Tally {
    fn add(&mut self, verdict: &Verdict) {
        self.total += 1;
        match verdict {
            Verdict::Passed => self.passed += 1,
            Verdict::Failed(failure) => {
                self.failed += 1;
                if failure.panicked {
                    self.panics += 1;
                }
            }
            Verdict::Skipped(_) => self.skipped += 1,
        }
    }

    fn ran(&self) -> usize {
        self.passed + self.failed
    }
}

impl Report {
    pub fn record(&mut self, outcome: Outcome) {
        self.outcomes.push(outcome);
    }

    pub fn harness_problem(&mut self, problem: String) {
        self.harness_problems.push(problem);
    }

    fn tallies(&self) -> BTreeMap<&str, Tally> {
        let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
        for outcome in &self.outcomes {
            tallies.entry(outcome.folder.as_str()).or_default().add(&outcome.verdict);
        }
        tallies
    }

    pub fn panics(&self) -> Vec<&Outcome> {
        self.outcomes.iter().filter(|o| matches!(&o.verdict, Verdict::Failed(f) if f.panicked)).collect()
    }

    /// The per-folder table, totals, panics, the most common failure causes and skip reasons.
    pub fn summary(&self, elapsed: Duration) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "\nopenCypher TCK — diplograph ({:.1}s)\n", elapsed.as_secs_f64());
        let _ = writeln!(
            out,
            "{:<36} {:>6} {:>6} {:>6} {:>6} {:>7} {:>6}",
            "folder", "total", "ran", "passed", "failed", "skipped", "panics"
        );
        let _ = writeln!(out, "{}", "-".repeat(79));
        let mut totals = Tally::default();
        for (folder, t) in self.tallies() {
            let _ = writeln!(
                out,
                "{:<36} {:>6} {:>6} {:>6} {:>6} {:>7} {:>6}",
                folder,
                t.total,
                t.ran(),
                t.passed,
                t.failed,
                t.skipped,
                t.panics
            );
            totals.total += t.total;
            totals.passed += t.passed;
            totals.failed += t.failed;
            totals.skipped += t.skipped;
            totals.panics += t.panics;
        }
        let _ = writeln!(out, "{}", "-".repeat(79));
        let _ = writeln!(
            out,
            "{:<36} {:>6} {:>6} {:>6} {:>6} {:>7} {:>6}",
            "TOTAL",
            totals.total,
            totals.ran(),
            totals.passed,
            totals.failed,
            totals.skipped,
            totals.panics
        );

        for problem in &self.harness_problems {
            let _ = writeln!(out, "HARNESS PROBLEM: {problem}");
        }
        let panics = self.panics();
        if !panics.is_empty() {
            let _ = writeln!(out, "\n!!! {} scenarios PANICKED in the engine (must never happen):", panics.len());
            for outcome in panics {
                if let Verdict::Failed(f) = &outcome.verdict {
                    let _ = writeln!(out, "  {}  {}\n      {}", outcome.place(), outcome.scenario, f.cause);
                }
            }
        }
        let causes = self.failure_causes();
        if !causes.is_empty() {
            let _ = writeln!(out, "\nmost common failure causes (of {} failures):", totals.failed);
            for (cause, examples) in causes.iter().take(15) {
                let _ = writeln!(out, "  {:>4}  {}\n        e.g. {}", examples.len(), cause, examples[0].place());
            }
            if causes.len() > 15 {
                let _ = writeln!(out, "  … {} more causes (TCK_VERBOSE=1 lists every failure)", causes.len() - 15);
            }
        }
        let skips = self.skip_reasons();
        if !skips.is_empty() {
            let _ = writeln!(out, "\nskip reasons (TCK_SKIPS=1 lists every skip):");
            for (reason, count) in skips.iter().take(12) {
                let _ = writeln!(out, "  {count:>4}  {reason}");
            }
            if skips.len() > 12 {
                let _ = writeln!(out, "  … {} more reasons", skips.len() - 12);
            }
        }
        let mut slow: Vec<&Outcome> = self.outcomes.iter().filter(|o| o.elapsed > Duration::from_secs(2)).collect();
        slow.sort_by_key(|o| std::cmp::Reverse(o.elapsed));
        if !slow.is_empty() {
            let _ = writeln!(out, "\nslow scenarios (over 2s):");
            for outcome in slow.iter().take(10) {
                let _ = writeln!(
                    out,
                    "  {:>5.1}s  {}  {}",
                    outcome.elapsed.as_secs_f64(),
                    outcome.place(),
                    outcome.scenario
                );
            }
        }
        out
    }

    /// Failure causes, most common first, each with its failing scenarios.
    fn failure_causes(&self) -> Vec<(String, Vec<&Outcome>)> {
        let mut by_cause: BTreeMap<&str, Vec<&Outcome>> = BTreeMap::new();
        for outcome in &self.outcomes {
            if let Verdict::Failed(f) = &outcome.verdict {
                by_cause.entry(f.cause.as_str()).or_default().push(outcome);
            }
        }
        let mut causes: Vec<(String, Vec<&Outcome>)> =
            by_cause.into_iter().map(|(cause, outcomes)| (cause.to_string(), outcomes)).collect();
        causes.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
        causes
    }

    fn skip_reasons(&self) -> Vec<(String, usize)> {
        let mut by_reason: BTreeMap<&str, usize> = BTreeMap::new();
        for outcome in &self.outcomes {
            if let Verdict::Skipped(reason) = &outcome.verdict {
                *by_reason.entry(reason.as_str()).or_default() += 1;
            }
        }
        let mut reasons: Vec<(String, usize)> = by_reason.into_iter().map(|(r, n)| (r.to_string(), n)).collect();
        reasons.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        reasons
    }

    /// Every failure in full, grouped by cause (most common cause first).
    pub fn failure_listing(&self) -> String {
        let mut out = String::new();
        let causes = self.failure_causes();
        let total: usize = causes.iter().map(|(_, o)| o.len()).sum();
        let _ = writeln!(out, "==== TCK failures: {total} scenarios, {} causes ====", causes.len());
        for (cause, outcomes) in &causes {
            let _ = writeln!(out, "  {:>4}  {cause}", outcomes.len());
        }
        for (cause, outcomes) in &causes {
            let _ = writeln!(out, "\n################ {cause}  ({} scenarios)", outcomes.len());
            for outcome in outcomes {
                let Verdict::Failed(failure) = &outcome.verdict else {
                    continue;
                };
                let _ = writeln!(out, "\n--- FAIL {}  {}", outcome.place(), outcome.scenario);
                for line in failure.detail.lines() {
                    let _ = writeln!(out, "  {line}");
                }
            }
        }
        out
    }

    pub fn skip_listing(&self) -> String {
        let mut out = String::from("==== TCK skips ====\n");
        for outcome in &self.outcomes {
            if let Verdict::Skipped(reason) = &outcome.verdict {
                let _ = writeln!(out, "SKIP {}  {}  — {reason}", outcome.place(), outcome.scenario);
            }
        }
        out
    }

    /// `folder passed_minimum` for every folder that ran something.
    pub fn baseline_text(&self) -> String {
        let mut out = String::from(
            "# Minimum passed scenarios per TCK feature folder; `cargo test --test tck` fails below these.\n\
             # Raise them as the engine improves (TCK_WRITE_BASELINE=1 writes the measured figures).\n",
        );
        for (folder, t) in self.tallies() {
            if t.ran() > 0 {
                let _ = writeln!(out, "{folder} {}", t.passed);
            }
        }
        out
    }

    /// Folders whose passed count is below the baseline's minimum.
    pub fn regressions(&self, baseline: &str) -> Vec<String> {
        let tallies = self.tallies();
        let mut out = Vec::new();
        for line in baseline.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let mut words = line.split_whitespace();
            let (Some(folder), Some(minimum)) = (words.next(), words.next()) else {
                out.push(format!("unreadable baseline line `{line}`"));
                continue;
            };
            let Ok(minimum) = minimum.parse::<usize>() else {
                out.push(format!("unreadable baseline line `{line}`"));
                continue;
            };
            let passed = tallies.get(folder).map_or(0, |t| t.passed);
            if passed < minimum {
                out.push(format!("{folder}: {passed} passed, baseline {minimum}"));
            }
        }
        out
    }
}
