//! Counting over a cartesian product without building it: when a query part's first
//! projection only counts (`RETURN count(*)`, `WITH count(x) AS n`) and the clauses before
//! it fall into parts that share no variable (an OPTIONAL MATCH, an unrelated MATCH, an
//! UNWIND of a constant list), the count is the product of the parts' counts. This module
//! only reads the syntax tree and splits it into those parts, each a query of its own
//! ending in its counts; the planner plans them. It knows nothing of the store.

use std::collections::BTreeSet;

use super::ast::*;

/// A query part's prefix split into independent parts, and what the projection wants.
#[derive(Debug)]
pub struct Factorised {
    /// Each part as a query returning `count(*)` first, then the `count(expr)` of the
    /// outputs it holds.
    pub parts: Vec<SingleQuery>,
    /// One per projected column, in order.
    pub outputs: Vec<ProductCount>,
    /// The projected column names.
    pub columns: Vec<String>,
    /// The projecting clause (WITH or RETURN); the clauses after it are planned as usual.
    pub projection_at: usize,
}

/// How one projected count is made from the parts' counts.
#[derive(Debug, Clone, Copy)]
pub enum ProductCount {
    /// `count(*)`: the product of every part's row count.
    Rows,
    /// `count(expr)` with `expr` inside part `part`: that part's count of `expr` (column
    /// `column` of its row) times the other parts' row counts.
    Within { part: usize, column: usize },
}

/// One clause, or one group of a MATCH's comma-separated parts, with the variables it
/// binds and the variables it reads.
struct Unit {
    clause: usize,
    /// The MATCH parts this unit holds (all of them for OPTIONAL MATCH and UNWIND).
    parts: Vec<usize>,
    binds: BTreeSet<String>,
    reads: BTreeSet<String>,
}

/// Splits `query` when its first projection only counts and its clauses before that form
/// two or more parts sharing no variable; `None` otherwise.
pub fn factorise(query: &SingleQuery, text: &str) -> Option<Factorised> {
    let projection_at = query.clauses.iter().position(|c| matches!(c, Clause::With(_) | Clause::Return(_)))?;
    let (projection, where_) = match &query.clauses[projection_at] {
        Clause::With(w) => (&w.projection, w.where_.as_ref()),
        Clause::Return(r) => (&r.projection, None),
        _ => return None,
    };
    if where_.is_some()
        || projection.star
        || !projection.order_by.is_empty()
        || projection.skip.is_some()
        || projection.limit.is_some()
        || projection.items.is_empty()
    {
        return None;
    }
    let prefix = &query.clauses[..projection_at];
    if prefix.iter().any(|c| !matches!(c, Clause::Match(_) | Clause::Unwind(_))) || has_subquery_or_rand(prefix) {
        return None;
    }
    let units = units_of(prefix)?;
    let groups = connected(&units);
    if groups.len() < 2 {
        return None;
    }
    // Each projected item must be count(*) or a plain count(expr) of one part's variables.
    let bound_by_group: Vec<BTreeSet<String>> =
        groups.iter().map(|g| g.iter().flat_map(|&u| units[u].binds.iter().cloned()).collect()).collect();
    let mut part_counts: Vec<Vec<Expr>> = vec![Vec::new(); groups.len()];
    let mut outputs = Vec::new();
    let mut columns = Vec::new();
    for item in &projection.items {
        let output = match &item.expr.kind {
            ExprKind::CountStar => ProductCount::Rows,
            ExprKind::Function { name, distinct: false, args }
                if name.eq_ignore_ascii_case("count") && args.len() == 1 =>
            {
                let reads = expr_variables(&args[0]);
                let part = bound_by_group.iter().position(|bound| reads.iter().all(|v| bound.contains(v)))?;
                if reads.is_empty() {
                    return None;
                }
                part_counts[part].push(args[0].clone());
                ProductCount::Within { part, column: part_counts[part].len() }
            }
            _ => return None,
        };
        outputs.push(output);
        columns.push(match (&item.alias, &item.expr.kind) {
            (Some(alias), _) => alias.name.clone(),
            (None, _) => super::semantic::source_text(text, item.expr.span),
        });
    }
    let parts =
        groups.iter().zip(part_counts).map(|(group, counts)| part_query(prefix, &units, group, counts)).collect();
    Some(Factorised { parts, outputs, columns, projection_at })
}

/// Whether a clause holds a subquery, or `rand()` (a part counted once would draw once,
/// where the rows drew once each).
fn has_subquery_or_rand(clauses: &[Clause]) -> bool {
    let mut found = false;
    let mut note = |e: &Expr| {
        e.walk(&mut |x| {
            found |= match &x.kind {
                ExprKind::Subquery { .. } => true,
                ExprKind::Function { name, .. } => name.eq_ignore_ascii_case("rand"),
                _ => false,
            }
        })
    };
    for clause in clauses {
        match clause {
            Clause::Match(m) => {
                m.where_.iter().for_each(&mut note);
                m.pattern.parts.iter().flat_map(|p| p.element.property_maps()).for_each(&mut note);
            }
            Clause::Unwind(u) => note(&u.expr),
            _ => {}
        }
    }
    found
}

/// Every variable an expression reads, patterns inside it included.
fn expr_variables(expr: &Expr) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    expr.walk(&mut |e| match &e.kind {
        ExprKind::Variable(name) | ExprKind::MapProjection { variable: name, .. } => {
            out.insert(name.clone());
        }
        ExprKind::PatternPredicate(element) | ExprKind::PatternComprehension { element, .. } => {
            out.extend(element.variables().into_iter().map(|v| v.name.clone()));
        }
        // Locals of comprehensions are read as if free: that only merges parts.
        ExprKind::ListComprehension { variable, .. }
        | ExprKind::Quantified { variable, .. }
        | ExprKind::Reduce { variable, .. } => {
            out.insert(variable.clone());
        }
        _ => {}
    });
    out
}

fn part_variables(part: &PatternPart) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = part.element.variables().into_iter().map(|v| v.name.clone()).collect();
    if let Some(path) = &part.variable {
        out.insert(path.name.clone());
    }
    out
}

/// The units of the prefix. A MATCH splits into groups of its parts that share
/// variables, except that all parts with relationships stay together (relationships are
/// unique across one MATCH, which ties them); its WHERE conjuncts read their variables.
fn units_of(prefix: &[Clause]) -> Option<Vec<Unit>> {
    let mut units = Vec::new();
    for (clause, c) in prefix.iter().enumerate() {
        match c {
            Clause::Unwind(u) => units.push(Unit {
                clause,
                parts: Vec::new(),
                binds: BTreeSet::from([u.variable.name.clone()]),
                reads: expr_variables(&u.expr),
            }),
            Clause::Match(m) => {
                let reads_of = |p: &PatternPart| -> BTreeSet<String> {
                    p.element.property_maps().into_iter().flat_map(expr_variables).collect()
                };
                if m.optional {
                    let mut reads: BTreeSet<String> = m.pattern.parts.iter().flat_map(reads_of).collect();
                    reads.extend(m.where_.iter().flat_map(expr_variables));
                    units.push(Unit {
                        clause,
                        parts: (0..m.pattern.parts.len()).collect(),
                        binds: m.pattern.parts.iter().flat_map(part_variables).collect(),
                        reads,
                    });
                    continue;
                }
                let first = units.len();
                let mut with_rels: Option<usize> = None;
                for (i, part) in m.pattern.parts.iter().enumerate() {
                    let has_rels = !part.element.chain.is_empty();
                    let unit = Unit { clause, parts: vec![i], binds: part_variables(part), reads: reads_of(part) };
                    match with_rels {
                        Some(at) if has_rels => merge_into(&mut units[at], unit),
                        _ => {
                            if has_rels {
                                with_rels = Some(units.len());
                            }
                            units.push(unit);
                        }
                    }
                }
                // The WHERE's conjuncts attach to the groups they read; a conjunct
                // reading none (a constant) goes with the first.
                for conjunct in m.where_.iter().flat_map(split_conjuncts) {
                    let reads = expr_variables(conjunct);
                    let at = (first..units.len()).find(|&u| reads.iter().any(|v| units[u].binds.contains(v)));
                    units[at.unwrap_or(first)].reads.extend(reads);
                }
            }
            _ => return None,
        }
    }
    Some(units)
}

fn merge_into(target: &mut Unit, other: Unit) {
    target.parts.extend(other.parts);
    target.binds.extend(other.binds);
    target.reads.extend(other.reads);
}

fn split_conjuncts(expr: &Expr) -> Vec<&Expr> {
    match &expr.kind {
        ExprKind::Binary(BinaryOp::And, a, b) => {
            let mut out = split_conjuncts(a);
            out.extend(split_conjuncts(b));
            out
        }
        _ => vec![expr],
    }
}

/// Groups of units joined by a variable one binds and another binds or reads.
fn connected(units: &[Unit]) -> Vec<Vec<usize>> {
    let mut group: Vec<usize> = (0..units.len()).collect();
    fn root(group: &mut [usize], mut i: usize) -> usize {
        while group[i] != i {
            group[i] = group[group[i]];
            i = group[i];
        }
        i
    }
    for a in 0..units.len() {
        for b in (a + 1)..units.len() {
            let touches = |x: &Unit, y: &Unit| x.binds.iter().any(|v| y.binds.contains(v) || y.reads.contains(v));
            if touches(&units[a], &units[b]) || touches(&units[b], &units[a]) {
                let (ra, rb) = (root(&mut group, a), root(&mut group, b));
                group[rb] = ra;
            }
        }
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut roots: Vec<usize> = Vec::new();
    for u in 0..units.len() {
        let r = root(&mut group, u);
        match roots.iter().position(|&x| x == r) {
            Some(g) => groups[g].push(u),
            None => {
                roots.push(r);
                groups.push(vec![u]);
            }
        }
    }
    groups
}

/// One part as a query: its clauses in written order (a split MATCH keeps the parts and
/// WHERE conjuncts of this group), then `RETURN count(*), count(expr)…`.
fn part_query(prefix: &[Clause], units: &[Unit], group: &[usize], counts: Vec<Expr>) -> SingleQuery {
    let bound: BTreeSet<String> = group.iter().flat_map(|&u| units[u].binds.iter().cloned()).collect();
    let mut clauses = Vec::new();
    let mut clause_ids: Vec<usize> = group.iter().map(|&u| units[u].clause).collect();
    clause_ids.sort_unstable();
    clause_ids.dedup();
    for id in clause_ids {
        match &prefix[id] {
            Clause::Match(m) => {
                let mut parts: Vec<usize> =
                    group.iter().filter(|&&u| units[u].clause == id).flat_map(|&u| units[u].parts.clone()).collect();
                parts.sort_unstable();
                let pattern = Pattern { parts: parts.iter().map(|&i| m.pattern.parts[i].clone()).collect() };
                let where_ = if m.optional {
                    m.where_.clone()
                } else {
                    // The conjuncts reading this group's variables, or none at all when
                    // the group holds the clause's first part.
                    let holds_first = parts.first() == Some(&0);
                    m.where_
                        .iter()
                        .flat_map(split_conjuncts)
                        .filter(|c| {
                            let reads = expr_variables(c);
                            if reads.is_empty() {
                                holds_first
                            } else {
                                reads.iter().any(|v| bound.contains(v))
                            }
                        })
                        .cloned()
                        .reduce(|a, b| {
                            let span = Span { start: a.span.start, end: b.span.end };
                            Expr::new(ExprKind::Binary(BinaryOp::And, Box::new(a), Box::new(b)), span)
                        })
                };
                clauses.push(Clause::Match(MatchClause { pattern, where_, ..m.clone() }));
            }
            other => clauses.push(other.clone()),
        }
    }
    let span = Span::default();
    let mut items = vec![ProjectionItem { expr: Expr::new(ExprKind::CountStar, span), alias: None }];
    for (i, expr) in counts.into_iter().enumerate() {
        let call = ExprKind::Function { name: "count".into(), distinct: false, args: vec![expr] };
        items.push(ProjectionItem {
            expr: Expr::new(call, span),
            alias: Some(Ident { name: format!("{}count{i}", super::plan::HIDDEN), span }),
        });
    }
    items[0].alias = Some(Ident { name: format!("{}rows", super::plan::HIDDEN), span });
    let projection = Projection { distinct: false, star: false, items, order_by: Vec::new(), skip: None, limit: None };
    clauses.push(Clause::Return(ReturnClause { projection, span }));
    SingleQuery { clauses, span }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(text: &str) -> Option<usize> {
        let query = super::super::parse(text).expect("parses");
        factorise(&query.first, text).map(|f| f.parts.len())
    }

    #[test]
    fn only_counts_over_parts_sharing_no_variable_are_split() {
        assert_eq!(parts("OPTIONAL MATCH (a:A) MATCH (b:B) UNWIND range(1, 9) AS i RETURN count(*)"), Some(3));
        assert_eq!(
            parts("MATCH (a:A), (b:B) WHERE a.x = 1 AND b.y = 2 RETURN count(*) AS n, count(b.z) AS z"),
            Some(2)
        );
        // Joined by a variable, a filter, or relationships unique across one MATCH: one part.
        assert_eq!(parts("MATCH (a:A) MATCH (a)-->(b) RETURN count(*)"), None);
        assert_eq!(parts("MATCH (a:A), (b:B) WHERE a.x = b.x RETURN count(*)"), None);
        assert_eq!(parts("MATCH (a)-[r]->(b), (c)-[s]->(d) RETURN count(*)"), None);
        assert_eq!(parts("MATCH (a:A) UNWIND a.list AS x RETURN count(*)"), None);
        // Grouping keys, other aggregates, a count over two parts, rand(): rows are built.
        assert_eq!(parts("MATCH (a:A), (b:B) RETURN a.x, count(*)"), None);
        assert_eq!(parts("MATCH (a:A), (b:B) RETURN sum(a.x)"), None);
        assert_eq!(parts("MATCH (a:A), (b:B) RETURN count(a.x + b.x)"), None);
        assert_eq!(parts("MATCH (a:A) UNWIND range(1, toInteger(rand() * 9)) AS i RETURN count(*)"), None);
        assert_eq!(parts("MATCH (a:A), (b:B) WITH count(*) AS n WHERE n > 1 RETURN n"), None);
    }
}
