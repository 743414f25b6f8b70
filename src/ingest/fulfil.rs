//! Derived `FULFILLED_BY` links: `(planned)-[:FULFILLED_BY]->(occurred)` from a planned visit
//! to the occurred visit with the same visitors and destinations, from a planned meeting to
//! the occurred meeting with the same participants, and from an accepted invitation to the
//! occurred visit of its invitee (to its destination, when the invitation names one).
//!
//! Dates: the occurred event must be dated, and the first day its date can mean must be on
//! or after the first day of the plan's date: a plan for `2023-10` is fulfilled by
//! `2023-10-05` or `2023-10` or `2024`, not by `2023-09-30`; a plan for `2023-10-20` is not
//! fulfilled by a visit dated only `2023-10`, which may have come before it. An undated plan
//! counts from the earliest `published` date of the articles reporting it: a plan is made no
//! later than it is reported. Of several candidates the earliest occurred date wins, then the
//! smallest event `id`, so each plan has at most one link and re-ingesting changes nothing.
//!
//! `write` notes what an article changes in a `Pending` and calls `refresh` inside its
//! write transaction, with a `PlanIndex` the ingest run keeps (plans and occurred events by
//! filler, so a busy leader's events are read once per run, not once per event); `check`
//! recomputes `expected_target` over the store and compares. Reads go through `GraphRead`,
//! so both see the same rule. It writes only FULFILLED_BY edges, only through the `WriteTxn`
//! it is given; it knows nothing of the query language.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};

use crate::model::{NodeId, NodeRecord, Value};
use crate::store::{Direction, Store, StoreError, WriteTxn};

/// The derived relationship type.
pub const FULFILLED_BY: &str = "FULFILLED_BY";

/// The reads the rule needs, from the open write transaction or from the store.
pub trait GraphRead {
    /// Runs `read` on a node's record (without copying it where the source allows).
    fn with_record<R>(&self, node: NodeId, read: impl FnOnce(Option<&NodeRecord>) -> R) -> Result<R, StoreError>;
    /// `(edge, other end)` of `node`'s `edge_type` edges in `direction`.
    fn neighbours(&self, node: NodeId, direction: Direction, edge_type: &str)
        -> Result<Vec<(u64, NodeId)>, StoreError>;
}

impl GraphRead for WriteTxn<'_> {
    fn with_record<R>(&self, node: NodeId, read: impl FnOnce(Option<&NodeRecord>) -> R) -> Result<R, StoreError> {
        self.with_node(node, read)
    }

    fn neighbours(
        &self,
        node: NodeId,
        direction: Direction,
        edge_type: &str,
    ) -> Result<Vec<(u64, NodeId)>, StoreError> {
        Ok(self.adjacent(node, direction, Some(edge_type))?.into_iter().map(|a| (a.edge, a.other)).collect())
    }
}

impl GraphRead for Store {
    fn with_record<R>(&self, node: NodeId, read: impl FnOnce(Option<&NodeRecord>) -> R) -> Result<R, StoreError> {
        Ok(read(self.node(node)?.as_ref()))
    }

    fn neighbours(
        &self,
        node: NodeId,
        direction: Direction,
        edge_type: &str,
    ) -> Result<Vec<(u64, NodeId)>, StoreError> {
        self.adjacent(node, direction, Some(edge_type)).map(|a| a.map(|a| (a.edge, a.other))).collect()
    }
}

/// How a role of the plan constrains the occurred event.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Constraint {
    /// The same fillers.
    Same,
    /// The same fillers when the plan names any.
    SameWhenGiven,
}

struct Rule {
    planned: (&'static str, &'static str),
    occurred: (&'static str, &'static str),
    /// (the plan's role, the occurred event's role, how it constrains).
    roles: &'static [(&'static str, &'static str, Constraint)],
}

static RULES: &[Rule] = &[
    Rule {
        planned: ("Visit", "planned"),
        occurred: ("Visit", "occurred"),
        roles: &[("VISITOR", "VISITOR", Constraint::Same), ("DESTINATION", "DESTINATION", Constraint::Same)],
    },
    Rule {
        planned: ("Meeting", "planned"),
        occurred: ("Meeting", "occurred"),
        roles: &[("PARTICIPANT", "PARTICIPANT", Constraint::Same)],
    },
    Rule {
        planned: ("Invitation", "accepted"),
        occurred: ("Visit", "occurred"),
        roles: &[("INVITEE", "VISITOR", Constraint::Same), ("DESTINATION", "DESTINATION", Constraint::SameWhenGiven)],
    },
];

fn text<'r>(record: &'r NodeRecord, key: &str) -> Option<&'r str> {
    record.props.get(key).and_then(Value::as_str)
}

fn is(record: &NodeRecord, (label, status): (&str, &str)) -> bool {
    record.has_label(label) && text(record, "status") == Some(status)
}

/// Whether an event is a plan (the source end of a link).
pub fn is_plan(record: &NodeRecord) -> bool {
    RULES.iter().any(|rule| is(record, rule.planned))
}

/// Whether the first day `occurred` can mean is on or after the first day of `planned`.
fn on_or_after(occurred: &str, planned: &str) -> bool {
    first_day(occurred) >= first_day(planned)
}

/// `YYYY` → `YYYY-01-01`, `YYYY-MM` → `YYYY-MM-01`; a full date as it is.
fn first_day(date: &str) -> String {
    match date.len() {
        4 => format!("{date}-01-01"),
        7 => format!("{date}-01"),
        _ => date.to_string(),
    }
}

fn fillers<G: GraphRead + ?Sized>(graph: &G, event: NodeId, role: &str) -> Result<BTreeSet<NodeId>, StoreError> {
    Ok(graph.neighbours(event, Direction::Out, role)?.into_iter().map(|(_, other)| other).collect())
}

/// What a plan asks of the event that fulfils it: the rule, the fillers per occurred role,
/// and the first date it may have.
struct Wanted {
    rule: &'static Rule,
    roles: Vec<(&'static str, BTreeSet<NodeId>)>,
    floor: Option<String>,
}

impl Wanted {
    /// `None` when `plan` is no plan.
    fn of<G: GraphRead + ?Sized>(graph: &G, plan: NodeId) -> Result<Option<Wanted>, StoreError> {
        let found = graph.with_record(plan, |record| {
            let record = record?;
            let rule = RULES.iter().find(|rule| is(record, rule.planned))?;
            Some((rule, text(record, "date").map(str::to_string)))
        })?;
        let Some((rule, date)) = found else { return Ok(None) };
        let mut roles = Vec::new();
        for &(planned_role, occurred_role, constraint) in rule.roles {
            let set = fillers(graph, plan, planned_role)?;
            if set.is_empty() && constraint == Constraint::SameWhenGiven {
                continue;
            }
            roles.push((occurred_role, set));
        }
        let floor = match date {
            Some(date) => Some(date),
            None => first_report(graph, plan)?,
        };
        Ok(Some(Wanted { rule, roles, floor }))
    }

    /// The ranking key of `event` if it fulfils the plan (earlier date, then smaller id, wins).
    fn rank<G: GraphRead + ?Sized>(&self, graph: &G, event: NodeId) -> Result<Option<(String, String)>, StoreError> {
        let key = graph.with_record(event, |record| {
            let record = record.filter(|r| is(r, self.rule.occurred))?;
            let date = text(record, "date")?;
            if self.floor.as_deref().is_some_and(|floor| !on_or_after(date, floor)) {
                return None;
            }
            Some((date.to_string(), record.key().unwrap_or_default().to_string()))
        })?;
        if key.is_none() {
            return Ok(None);
        }
        for (occurred_role, set) in &self.roles {
            if fillers(graph, event, occurred_role)? != *set {
                return Ok(None);
            }
        }
        Ok(key)
    }
}

/// The earliest `published` of the articles reporting `event`.
fn first_report<G: GraphRead + ?Sized>(graph: &G, event: NodeId) -> Result<Option<String>, StoreError> {
    let mut earliest: Option<String> = None;
    for (_, article) in graph.neighbours(event, Direction::Out, "REPORTED_IN")? {
        let published = graph.with_record(article, |a| a.and_then(|a| text(a, "published").map(str::to_string)))?;
        if let Some(published) = published {
            if earliest.as_ref().map_or(true, |e| published < *e) {
                earliest = Some(published);
            }
        }
    }
    Ok(earliest)
}

/// The occurred event `plan` should link to under the rule, if any.
pub fn expected_target<G: GraphRead + ?Sized>(graph: &G, plan: NodeId) -> Result<Option<NodeId>, StoreError> {
    let Some(wanted) = Wanted::of(graph, plan)? else { return Ok(None) };
    // Candidates are the events that have every wanted filler in its role: the intersection
    // of the fillers' lists, read once each, so only the few in it are read themselves.
    let mut candidates: Option<BTreeSet<NodeId>> = None;
    for (occurred_role, set) in &wanted.roles {
        for &entity in set {
            let events: BTreeSet<NodeId> =
                graph.neighbours(entity, Direction::In, occurred_role)?.into_iter().map(|(_, e)| e).collect();
            candidates = Some(match candidates {
                None => events,
                Some(so_far) => so_far.intersection(&events).copied().collect(),
            });
        }
    }
    let Some(candidates) = candidates else { return Ok(None) };
    let mut best: Option<((String, String), NodeId)> = None;
    for candidate in candidates {
        if let Some(key) = wanted.rank(graph, candidate)? {
            if best.as_ref().map_or(true, |(b, _)| key < *b) {
                best = Some((key, candidate));
            }
        }
    }
    Ok(best.map(|(_, node)| node))
}

/// What a write changed that may change links, gathered while the article is written and
/// applied by `refresh` at its end.
#[derive(Default)]
pub struct Pending {
    /// Plans whose link is derived afresh: new plans, undated plans whose reports changed,
    /// plans whose fulfilling event went.
    recompute: BTreeSet<NodeId>,
    /// New occurred events, offered to the plans they may fulfil.
    offered: Vec<NodeId>,
}

impl Pending {
    /// A new event: a plan to link, or an occurred event to offer.
    pub fn new_event(&mut self, txn: &WriteTxn<'_>, event: NodeId) -> Result<(), StoreError> {
        let (plan, occurred) = txn
            .with_node(event, |record| {
                let record = record?;
                Some((is_plan(record), RULES.iter().any(|rule| is(record, rule.occurred))))
            })?
            .unwrap_or((false, false));
        if plan {
            self.recompute.insert(event);
        }
        if occurred {
            self.offered.push(event);
        }
        Ok(())
    }

    /// An event gained or lost a report: an undated plan counts from its first one.
    pub fn reports_changed(&mut self, txn: &WriteTxn<'_>, event: NodeId) -> Result<(), StoreError> {
        if txn.with_node(event, |r| r.is_some_and(|r| is_plan(r) && !r.props.contains_key("date")))? {
            self.recompute.insert(event);
        }
        Ok(())
    }

    /// Before `event` is deleted: the plans it fulfils need another event.
    pub fn removing_event(&mut self, txn: &WriteTxn<'_>, event: NodeId) -> Result<(), StoreError> {
        for incoming in txn.adjacent(event, Direction::In, Some(FULFILLED_BY))? {
            self.recompute.insert(incoming.other);
        }
        self.recompute.remove(&event);
        Ok(())
    }
}

/// A plan's fillers per role of its rule (`None`: a role it leaves open); they never change.
type Signature = Vec<Option<Vec<NodeId>>>;

fn signature(txn: &WriteTxn<'_>, rule: &Rule, plan: NodeId) -> Result<Signature, StoreError> {
    let mut roles = Vec::with_capacity(rule.roles.len());
    for &(planned_role, _, constraint) in rule.roles {
        let set: Vec<NodeId> = fillers(txn, plan, planned_role)?.into_iter().collect();
        roles.push((!(set.is_empty() && constraint == Constraint::SameWhenGiven)).then_some(set));
    }
    Ok(roles)
}

/// The plans of each rule by a filler of the rule's first role, with their signatures,
/// loaded from an entity's adjacency the first time it is asked for and kept up to date with
/// the plans written after: a new occurred event then finds the few plans with its fillers
/// without reading every event of a busy leader again (a scan per event made a 20k-article
/// ingest quadratic).
#[derive(Default)]
pub struct PlanIndex {
    plans: HashMap<(usize, NodeId), Vec<(NodeId, Signature)>>,
    /// The same for occurred events: their fillers per role, date and id.
    occurred: HashMap<(usize, NodeId), Vec<Occurred>>,
    /// Per dated plan offered an event in this run: its date (the floor) and the ranking key
    /// of its current link (`None`: no link). A busy dyad's plan is offered every later event
    /// of the pair, and most are turned away by these two comparisons alone. Forgotten when
    /// `refresh` relinks the plan another way.
    linked: HashMap<NodeId, (String, Option<(String, String)>)>,
}

/// An occurred event as a candidate: fillers per role of the rule, its date and `id`.
struct Occurred {
    event: NodeId,
    /// Sorted, as `Signature`'s sets: compared as slices.
    fillers: Vec<Vec<NodeId>>,
    date: String,
    key: String,
}

fn occurred_entry(txn: &WriteTxn<'_>, rule: &Rule, event: NodeId) -> Result<Option<Occurred>, StoreError> {
    let head = txn.with_node(event, |r| {
        let r = r.filter(|r| is(r, rule.occurred))?;
        Some((text(r, "date")?.to_string(), r.key().unwrap_or_default().to_string()))
    })?;
    let Some((date, key)) = head else { return Ok(None) };
    let mut sets = Vec::with_capacity(rule.roles.len());
    for &(_, occurred_role, _) in rule.roles {
        sets.push(fillers(txn, event, occurred_role)?.into_iter().collect());
    }
    Ok(Some(Occurred { event, fillers: sets, date, key }))
}

fn fits(signature: &Signature, fillers: &[Vec<NodeId>]) -> bool {
    signature.iter().zip(fillers).all(|(want, have)| want.as_deref().map_or(true, |w| w == have.as_slice()))
}

impl PlanIndex {
    fn plans_of(
        &mut self,
        txn: &WriteTxn<'_>,
        rule: usize,
        entity: NodeId,
    ) -> Result<&[(NodeId, Signature)], StoreError> {
        if let Entry::Vacant(slot) = self.plans.entry((rule, entity)) {
            let mut found = Vec::new();
            for (_, plan) in txn.neighbours(entity, Direction::In, RULES[rule].roles[0].0)? {
                if txn.with_node(plan, |p| p.is_some_and(|p| is(p, RULES[rule].planned)))? {
                    found.push((plan, signature(txn, &RULES[rule], plan)?));
                }
            }
            slot.insert(found);
        }
        Ok(self.plans.get(&(rule, entity)).map(Vec::as_slice).unwrap_or_default())
    }

    fn occurred_of(&mut self, txn: &WriteTxn<'_>, rule: usize, entity: NodeId) -> Result<&[Occurred], StoreError> {
        if let Entry::Vacant(slot) = self.occurred.entry((rule, entity)) {
            let mut found = Vec::new();
            for (_, event) in txn.neighbours(entity, Direction::In, RULES[rule].roles[0].1)? {
                found.extend(occurred_entry(txn, &RULES[rule], event)?);
            }
            slot.insert(found);
        }
        Ok(self.occurred.get(&(rule, entity)).map(Vec::as_slice).unwrap_or_default())
    }

    /// An occurred event written after its fillers' lists were loaded. Only `refresh` loads
    /// lists, and it adds each new event at its start, so a loaded list never holds it yet: no
    /// search for it (a busy leader's list holds thousands).
    fn add_occurred(&mut self, rule: usize, entry: &Occurred) {
        for entity in &entry.fillers[0] {
            if let Some(list) = self.occurred.get_mut(&(rule, *entity)) {
                list.push(Occurred {
                    event: entry.event,
                    fillers: entry.fillers.clone(),
                    date: entry.date.clone(),
                    key: entry.key.clone(),
                });
            }
        }
    }

    /// `expected_target` from the index: the plan's candidates without reading the lists
    /// of its fillers again. Occurred events removed since they were loaded are skipped.
    fn expected_target(&mut self, txn: &WriteTxn<'_>, plan: NodeId) -> Result<Option<NodeId>, StoreError> {
        let Some(wanted) = Wanted::of(txn, plan)? else { return Ok(None) };
        let Some(rule) = RULES.iter().position(|r| r.planned == wanted.rule.planned) else { return Ok(None) };
        let sig = signature(txn, wanted.rule, plan)?;
        let Some(Some(first)) = sig.first() else { return Ok(None) };
        let Some(&entity) = first.first() else { return Ok(None) };
        let mut best: Option<(&str, &str, NodeId)> = None;
        let candidates = self.occurred_of(txn, rule, entity)?;
        for candidate in candidates {
            if !fits(&sig, &candidate.fillers) {
                continue;
            }
            if wanted.floor.as_deref().is_some_and(|floor| !on_or_after(&candidate.date, floor)) {
                continue;
            }
            let key = (candidate.date.as_str(), candidate.key.as_str(), candidate.event);
            if best.map_or(true, |b| (key.0, key.1) < (b.0, b.1)) {
                best = Some(key);
            }
        }
        let Some((_, _, event)) = best else { return Ok(None) };
        // Deleted since loaded: fall back to reading the lists.
        if !txn.with_node(event, |r| r.is_some())? {
            return expected_target(txn, plan);
        }
        Ok(Some(event))
    }

    /// `offer`, answered from `linked` when the plan is dated: an event dated before the plan,
    /// or ranking after its current link, changes nothing (the link fulfils the plan).
    fn offer(&mut self, txn: &mut WriteTxn<'_>, plan: NodeId, event: &Occurred) -> Result<(), StoreError> {
        let state = match self.linked.entry(plan) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(slot) => {
                let floor = txn.with_node(plan, |r| r.and_then(|r| text(r, "date").map(str::to_string)))?;
                // An undated plan counts from its first report: the whole rule decides.
                let Some(floor) = floor else { return offer(txn, plan, event.event) };
                slot.insert((floor, current_rank(txn, plan)?))
            }
        };
        if !on_or_after(&event.date, &state.0) {
            return Ok(());
        }
        if state.1.as_ref().is_some_and(|(date, key)| (date, key) <= (&event.date, &event.key)) {
            return Ok(());
        }
        offer(txn, plan, event.event)?;
        state.1 = current_rank(txn, plan)?;
        Ok(())
    }

    /// A plan written after its fillers' lists were loaded.
    fn add(&mut self, txn: &WriteTxn<'_>, plan: NodeId) -> Result<(), StoreError> {
        for (index, rule) in RULES.iter().enumerate() {
            if !txn.with_node(plan, |p| p.is_some_and(|p| is(p, rule.planned)))? {
                continue;
            }
            for entity in fillers(txn, plan, rule.roles[0].0)? {
                if self.plans.get(&(index, entity)).is_some_and(|list| !list.iter().any(|(p, _)| *p == plan)) {
                    let sig = signature(txn, rule, plan)?;
                    if let Some(list) = self.plans.get_mut(&(index, entity)) {
                        list.push((plan, sig));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Brings the links up to date: each plan to recompute gets what the rule derives; each
/// offered event replaces the link of a plan it fulfils better than the current one (the
/// current one is the best of the rest, so nothing else can have changed).
pub fn refresh(txn: &mut WriteTxn<'_>, pending: &Pending, index: &mut PlanIndex) -> Result<(), StoreError> {
    let mut offered = Vec::new();
    for &event in &pending.offered {
        for (rule_index, rule) in RULES.iter().enumerate() {
            if let Some(entry) = occurred_entry(txn, rule, event)? {
                index.add_occurred(rule_index, &entry);
                offered.push((rule_index, entry));
            }
        }
    }
    for &plan in &pending.recompute {
        index.add(txn, plan)?;
        let expected = index.expected_target(txn, plan)?;
        relink(txn, plan, expected)?;
        index.linked.remove(&plan);
    }
    for (rule_index, entry) in offered {
        // Every plan it fulfils names all its fillers of the first role: one suffices.
        let Some(&entity) = entry.fillers[0].first() else { continue };
        let plans: Vec<NodeId> = index
            .plans_of(txn, rule_index, entity)?
            .iter()
            .filter(|(plan, sig)| !pending.recompute.contains(plan) && fits(sig, &entry.fillers))
            .map(|(plan, _)| *plan)
            .collect();
        for plan in plans {
            index.offer(txn, plan, &entry)?;
        }
    }
    Ok(())
}

/// Links `plan` to `event` if `event` fulfils it and ranks before its current link.
fn offer(txn: &mut WriteTxn<'_>, plan: NodeId, event: NodeId) -> Result<(), StoreError> {
    if cannot_improve(txn, plan, event)? {
        return Ok(());
    }
    let Some(wanted) = Wanted::of(txn, plan)? else { return Ok(()) };
    let Some(key) = wanted.rank(txn, event)? else { return Ok(()) };
    let current = txn.adjacent(plan, Direction::Out, Some(FULFILLED_BY))?;
    if let [link] = current.as_slice() {
        if link.other == event {
            return Ok(());
        }
        if wanted.rank(txn, link.other)?.is_some_and(|current| current <= key) {
            return Ok(());
        }
    }
    relink(txn, plan, Some(event))
}

/// The cheap answer before the whole rule (which reads both events' fillers): a dated plan's
/// floor is its own date, and its current link fulfils it, so an event dated before that
/// floor, or ranking after the current link, changes nothing. A busy dyad's plan is offered
/// every later visit of the pair; without this each offer read the fillers of the plan, the
/// event and the current link (100k generated articles: 4.6 s of ingest became 35 s).
fn cannot_improve(txn: &WriteTxn<'_>, plan: NodeId, event: NodeId) -> Result<bool, StoreError> {
    let floor = txn.with_node(plan, |r| r.and_then(|r| text(r, "date").map(str::to_string)))?;
    let (Some(floor), Some(offered)) = (floor, date_and_key(txn, event)?) else { return Ok(false) };
    if !on_or_after(&offered.0, &floor) {
        return Ok(true);
    }
    if let [link] = txn.adjacent(plan, Direction::Out, Some(FULFILLED_BY))?.as_slice() {
        if link.other == event {
            return Ok(true);
        }
        if date_and_key(txn, link.other)?.is_some_and(|current| current <= offered) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The ranking key of `plan`'s current link, if it has one.
fn current_rank(txn: &WriteTxn<'_>, plan: NodeId) -> Result<Option<(String, String)>, StoreError> {
    match txn.adjacent(plan, Direction::Out, Some(FULFILLED_BY))?.as_slice() {
        [link] => date_and_key(txn, link.other),
        _ => Ok(None),
    }
}

/// An event's ranking key: its date, then its `id`.
fn date_and_key(txn: &WriteTxn<'_>, event: NodeId) -> Result<Option<(String, String)>, StoreError> {
    txn.with_node(event, |r| {
        let r = r?;
        Some((text(r, "date")?.to_string(), r.key().unwrap_or_default().to_string()))
    })
}

/// Makes `target` the one FULFILLED_BY link of `plan` (none when `None`).
fn relink(txn: &mut WriteTxn<'_>, plan: NodeId, target: Option<NodeId>) -> Result<(), StoreError> {
    let current = txn.adjacent(plan, Direction::Out, Some(FULFILLED_BY))?;
    if current.len() == usize::from(target.is_some()) && current.iter().all(|link| Some(link.other) == target) {
        return Ok(());
    }
    for link in current {
        txn.delete_edge(link.edge)?;
    }
    if let Some(occurred) = target {
        txn.create_edge(FULFILLED_BY, plan, occurred, Default::default())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::on_or_after;

    #[test]
    fn an_occurred_date_fulfils_a_plan_from_the_first_day_of_the_plan_on() {
        assert!(on_or_after("2023-10-05", "2023-10"));
        assert!(on_or_after("2023-10-01", "2023-10"));
        assert!(on_or_after("2023-10", "2023-10"));
        assert!(!on_or_after("2023-10", "2023-10-20"), "the visit may have come before the plan");
        assert!(!on_or_after("2023-09-30", "2023-10"));
        assert!(on_or_after("2024", "2023-10"));
        assert!(!on_or_after("2019", "2019-04-25"));
        assert!(!on_or_after("2023-10-04", "2023-10-05"));
    }
}
