//! Resolution: maps a validated record's entities and role values to graph entities —
//! existing ones by normalised name or alias, or new ones — and computes event identity.
//! Reads the store (through the open transaction) but never writes.

use rustc_hash::FxHashMap;

use super::validate::{ArticleRecord, FieldError};
use crate::model::{normalize_name, slug, NodeId, Value};
use crate::ontology::{Ontology, Role};
use crate::store::{StoreError, WriteTxn};

/// Where a resolved entity lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Existing(NodeId),
    New,
}

/// One entity this record refers to, after resolution.
#[derive(Clone, Debug)]
pub struct ResolvedEntity {
    pub kind: String,
    /// Canonical name: the stored one for an existing entity, else as declared.
    pub name: String,
    /// Names this record adds (declared aliases and other spellings of the name).
    pub aliases: Vec<String>,
    pub title: Option<String>,
    pub target: Target,
    /// The stable `id` property.
    pub key: String,
    /// Index (in `ResolvedArticle::entities`) of the Country this entity represents or lies in.
    pub country: Option<usize>,
}

#[derive(Clone, Debug)]
pub struct ResolvedFact {
    pub event_type: String,
    /// Per role: its edge type and the distinct fillers (indexes into `entities`).
    pub roles: Vec<(String, Vec<usize>)>,
    pub date: Option<String>,
    pub status: String,
    pub evidence: Option<String>,
    pub according_to: Option<String>,
    pub confidence: Option<f64>,
    /// Ids of the event in the datasets it was imported from (`gdelt:1256322925`).
    pub source_ids: Vec<String>,
    /// The event's stable `id`: same type, fillers, date and status give the same id.
    pub event_key: String,
}

#[derive(Clone, Debug)]
pub struct ResolvedArticle {
    pub record: ArticleRecord,
    pub entities: Vec<ResolvedEntity>,
    pub facts: Vec<ResolvedFact>,
    pub warnings: Vec<FieldError>,
}

pub enum ResolveError {
    Rejected(Vec<FieldError>),
    Store(StoreError),
}

impl From<StoreError> for ResolveError {
    fn from(err: StoreError) -> Self {
        ResolveError::Store(err)
    }
}

/// Resolves one record against the store as the transaction sees it.
pub fn resolve_article(
    record: ArticleRecord,
    ontology: &Ontology,
    txn: &WriteTxn<'_>,
) -> Result<ResolvedArticle, ResolveError> {
    let mut resolver = Resolver {
        txn,
        entities: Vec::new(),
        local_names: FxHashMap::default(),
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let mut by_ref = FxHashMap::default();
    let mut declared = Vec::new();
    for (i, decl) in record.entities.iter().enumerate() {
        let path = || format!("entities[{i}]");
        let mut names = vec![decl.name.clone()];
        names.extend(decl.aliases.iter().cloned());
        let index = resolver.declare(&path, &decl.kind, &names, decl.title.clone())?;
        if let (Some(index), Some(local_ref)) = (index, &decl.local_ref) {
            by_ref.insert(local_ref.clone(), index);
        }
        declared.push(index);
    }
    for (i, decl) in record.entities.iter().enumerate() {
        let (Some(country), Some(index)) = (&decl.country, declared[i]) else { continue };
        if !matches!(decl.kind.as_str(), "Person" | "Place" | "Organization") {
            continue;
        }
        let role = Role {
            field: "country".into(),
            edge: String::new(),
            min: 0,
            max: Some(1),
            kinds: vec!["Country".into()],
            default_kind: "Country".into(),
        };
        if let Some(country_index) = resolver.plain_name(&|| format!("entities[{i}].country"), country, &role)? {
            resolver.entities[index].country = Some(country_index);
        }
    }
    let mut facts = Vec::new();
    for fact in &record.facts {
        let Some(event_type) = ontology.event_type(&fact.event_type) else { continue };
        let mut roles = Vec::new();
        for (role, values) in event_type.roles.iter().zip(&fact.roles) {
            let mut fillers = Vec::new();
            for (j, value) in values.iter().enumerate() {
                // Formatted only for a message: most fillers resolve without one.
                let path = || {
                    if role.max == Some(1) {
                        format!("facts[{}].{}", fact.index, role.field)
                    } else {
                        format!("facts[{}].{}[{j}]", fact.index, role.field)
                    }
                };
                let filler = match by_ref.get(value) {
                    Some(&index) => resolver.check_kind(&path, value, index, role),
                    None => {
                        if looks_like_ref(value) {
                            resolver.warnings.push(FieldError::new(
                                path(),
                                format!("'{value}' is not a ref of this record; stored as the plain name '{value}'"),
                            ));
                        }
                        resolver.plain_name(&path, value, role)?
                    }
                };
                if let Some(index) = filler {
                    if !fillers.contains(&index) {
                        fillers.push(index);
                    }
                }
            }
            if fillers.len() < role.min && resolver.errors.is_empty() {
                resolver.errors.push(FieldError::new(
                    format!("facts[{}].{}", fact.index, role.field),
                    format!("names {} distinct entities after resolution, needs at least {}", fillers.len(), role.min),
                ));
            }
            roles.push((role.edge.clone(), fillers));
        }
        let event_key = event_key(&fact.event_type, &roles, &resolver.entities, fact.date.as_deref(), &fact.status);
        facts.push(ResolvedFact {
            event_type: fact.event_type.clone(),
            roles,
            date: fact.date.clone(),
            status: fact.status.clone(),
            evidence: fact.evidence.clone(),
            according_to: fact.according_to.clone(),
            confidence: fact.confidence,
            source_ids: fact.source_ids.clone(),
            event_key,
        });
    }
    if !resolver.errors.is_empty() {
        return Err(ResolveError::Rejected(resolver.errors));
    }
    let Resolver { entities, warnings, .. } = resolver;
    Ok(ResolvedArticle { record, entities, facts, warnings })
}

struct Resolver<'a, 't> {
    txn: &'a WriteTxn<'t>,
    entities: Vec<ResolvedEntity>,
    /// (kind, normalised name) → indexes in `entities`, for names seen in this record
    /// (several when two declared entities share an alias).
    local_names: FxHashMap<(String, String), Vec<usize>>,
    errors: Vec<FieldError>,
    warnings: Vec<FieldError>,
}

impl Resolver<'_, '_> {
    /// A declared entity: the same kind and a shared name or alias means the same entity.
    fn declare(
        &mut self,
        path: &dyn Fn() -> String,
        kind: &str,
        names: &[String],
        title: Option<String>,
    ) -> Result<Option<usize>, StoreError> {
        let normalised: Vec<String> = names.iter().map(|n| normalize_name(n)).collect();
        // Already declared in this record under the same canonical name?
        let local = self.local_names.get(&(kind.to_string(), normalised[0].clone())).cloned().unwrap_or_default();
        if let Some(&index) = local.iter().find(|&&i| normalize_name(&self.entities[i].name) == normalised[0]) {
            self.add_names(index, names, title);
            return Ok(Some(index));
        }
        // The canonical name decides first; aliases only when the name is unknown.
        let mut candidates = self.stored_candidates(&normalised[0], &[kind.to_string()])?;
        if candidates.is_empty() {
            for alias in &normalised[1..] {
                for candidate in self.stored_candidates(alias, &[kind.to_string()])? {
                    if !candidates.contains(&candidate) {
                        candidates.push(candidate);
                    }
                }
            }
        }
        let target = match candidates.as_slice() {
            [] => None,
            [only] => Some(only.clone()),
            many => {
                let listed = self.describe(many)?;
                self.errors.push(FieldError::new(
                    path(),
                    format!(
                        "'{}' is ambiguous: it names {listed}; give this entity one of their canonical names",
                        names[0]
                    ),
                ));
                return Ok(None);
            }
        };
        let index = self.push_entity(kind, &names[0], target)?;
        self.add_names(index, names, title);
        Ok(Some(index))
    }

    /// A plain name in a fact: a name from this record, else a stored entity of an
    /// allowed kind, else a new entity of the role's default kind.
    fn plain_name(&mut self, path: &dyn Fn() -> String, name: &str, role: &Role) -> Result<Option<usize>, StoreError> {
        let normalised = normalize_name(name);
        let mut local: Vec<usize> = role
            .kinds
            .iter()
            .filter_map(|kind| self.local_names.get(&(kind.clone(), normalised.clone())))
            .flatten()
            .copied()
            .collect();
        local.sort_unstable();
        local.dedup();
        if local.len() == 1 {
            return Ok(Some(local[0]));
        }
        let stored = self.stored_candidates(&normalised, &role.kinds)?;
        let target = match stored.as_slice() {
            [] if local.is_empty() => None,
            [only] if local.is_empty() => Some(only.clone()),
            _ => {
                let mut listed = self.describe(&stored)?;
                for &index in &local {
                    let entity = &self.entities[index];
                    if !listed.is_empty() {
                        listed.push_str(", ");
                    }
                    listed.push_str(&format!("{} '{}' ({})", entity.kind, entity.name, entity.key));
                }
                self.errors.push(FieldError::new(
                    path(),
                    format!("'{name}' is ambiguous: it names {listed}; use a ref declared in `entities` or a canonical name"),
                ));
                return Ok(None);
            }
        };
        let kind = match target {
            Some((_, ref kind)) => kind.clone(),
            None => role.default_kind.clone(),
        };
        let index = self.push_entity(&kind, name, target)?;
        self.local_names.entry((kind, normalised)).or_default().push(index);
        Ok(Some(index))
    }

    fn check_kind(&mut self, path: &dyn Fn() -> String, value: &str, index: usize, role: &Role) -> Option<usize> {
        let kind = &self.entities[index].kind;
        if role.kinds.contains(kind) {
            Some(index)
        } else {
            self.errors.push(FieldError::new(
                path(),
                format!("'{value}' is a {kind}, but {} takes {}", role.field, role.kinds.join(" or ")),
            ));
            None
        }
    }

    /// Stored entities named `normalised` (by name or alias) among `kinds`; when several,
    /// those whose canonical name matches win.
    fn stored_candidates(&self, normalised: &str, kinds: &[String]) -> Result<Vec<(NodeId, String)>, StoreError> {
        let mut found: Vec<(NodeId, String)> =
            self.txn.entities_named(normalised)?.into_iter().filter(|(_, kind)| kinds.contains(kind)).collect();
        if found.len() > 1 {
            let mut by_name = Vec::new();
            for (id, kind) in &found {
                let name = self.txn.with_node(*id, |n| {
                    n.and_then(|n| n.props.get("name").and_then(Value::as_str).map(normalize_name))
                })?;
                if name.as_deref() == Some(normalised) {
                    by_name.push((*id, kind.clone()));
                }
            }
            if by_name.len() == 1 {
                found = by_name;
            }
        }
        Ok(found)
    }

    fn describe(&self, candidates: &[(NodeId, String)]) -> Result<String, StoreError> {
        let mut parts = Vec::new();
        for (id, kind) in candidates {
            let node = self.txn.node(*id)?;
            let name =
                node.as_ref().and_then(|n| n.props.get("name").and_then(Value::as_str)).unwrap_or("?").to_string();
            let key = node.as_ref().and_then(|n| n.key()).unwrap_or("?").to_string();
            parts.push(format!("{kind} '{name}' ({key})"));
        }
        Ok(parts.join(", "))
    }

    fn push_entity(&mut self, kind: &str, name: &str, target: Option<(NodeId, String)>) -> Result<usize, StoreError> {
        if let Some((id, _)) = &target {
            if let Some(index) = self.entities.iter().position(|e| e.target == Target::Existing(*id)) {
                return Ok(index);
            }
        }
        let (target, name, key) = match target {
            Some((id, _)) => {
                let (stored_name, key) = self.txn.with_node(id, |node| {
                    let stored_name = node.and_then(|n| n.props.get("name").and_then(Value::as_str)).unwrap_or(name);
                    (stored_name.to_string(), node.and_then(|n| n.key()).map(str::to_string))
                })?;
                let key = key.unwrap_or_else(|| entity_key(kind, name));
                (Target::Existing(id), stored_name, key)
            }
            None => (Target::New, name.to_string(), entity_key(kind, name)),
        };
        self.entities.push(ResolvedEntity {
            kind: kind.to_string(),
            name,
            aliases: Vec::new(),
            title: None,
            target,
            key,
            country: None,
        });
        Ok(self.entities.len() - 1)
    }

    fn add_names(&mut self, index: usize, names: &[String], title: Option<String>) {
        let kind = self.entities[index].kind.clone();
        for name in names {
            let known = self.local_names.entry((kind.clone(), normalize_name(name))).or_default();
            if !known.contains(&index) {
                known.push(index);
            }
            let entity = &mut self.entities[index];
            if *name != entity.name && !entity.aliases.contains(name) {
                entity.aliases.push(name.clone());
            }
        }
        let entity = &mut self.entities[index];
        if entity.title.is_none() {
            entity.title = title;
        }
    }
}

/// The stable id of an entity: kind and normalised name, e.g. `person:kim-jong-un`.
pub fn entity_key(kind: &str, name: &str) -> String {
    format!("{}:{}", kind.to_lowercase(), slug(&normalize_name(name)))
}

/// The stable id of an event: its type, date and a hash of its identity (type, role
/// fillers as sets, date, status), e.g. `meeting:2023-09-13:9f86d081884c7d65`.
fn event_key(
    event_type: &str,
    roles: &[(String, Vec<usize>)],
    entities: &[ResolvedEntity],
    date: Option<&str>,
    status: &str,
) -> String {
    let mut identity = format!("{event_type}\u{1f}{}\u{1f}{status}", date.unwrap_or(""));
    for (edge, fillers) in roles {
        let mut keys: Vec<&str> = fillers.iter().map(|&i| entities[i].key.as_str()).collect();
        keys.sort_unstable();
        identity.push('\u{1e}');
        identity.push_str(edge);
        for key in keys {
            identity.push('\u{1f}');
            identity.push_str(key);
        }
    }
    let hash = xxhash_rust::xxh3::xxh3_64(identity.as_bytes());
    format!("{event_type}:{}:{hash:016x}", date.unwrap_or("undated"))
}

/// `yoon_sk`-like values: lower-case identifiers with an underscore or digit.
fn looks_like_ref(value: &str) -> bool {
    !value.contains(' ')
        && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && value.chars().any(|c| c == '_' || c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity(key: &str) -> ResolvedEntity {
        ResolvedEntity {
            kind: "Person".into(),
            name: key.into(),
            aliases: Vec::new(),
            title: None,
            target: Target::New,
            key: key.into(),
            country: None,
        }
    }

    #[test]
    fn event_identity_ignores_filler_order_but_not_date_precision_or_status() {
        let entities = vec![entity("person:a"), entity("person:b"), entity("place:c")];
        let roles = |order: Vec<usize>| vec![("PARTICIPANT".to_string(), order), ("PLACE".to_string(), vec![2])];
        let key = |order, date, status| event_key("meeting", &roles(order), &entities, date, status);
        assert_eq!(key(vec![0, 1], Some("2024-02"), "occurred"), key(vec![1, 0], Some("2024-02"), "occurred"));
        assert_ne!(key(vec![0, 1], Some("2024-02"), "occurred"), key(vec![0, 1], Some("2024-02-18"), "occurred"));
        assert_ne!(key(vec![0, 1], Some("2024-02"), "occurred"), key(vec![0, 1], Some("2024-02"), "planned"));
        assert!(key(vec![0, 1], None, "occurred").starts_with("meeting:undated:"));
    }

    #[test]
    fn a_filler_moved_to_another_role_is_another_event() {
        let entities = vec![entity("person:a"), entity("person:b")];
        let gift = |giver, recipient| {
            let roles = vec![("GIVER".to_string(), vec![giver]), ("RECIPIENT".to_string(), vec![recipient])];
            event_key("gift", &roles, &entities, Some("2023"), "occurred")
        };
        assert_ne!(gift(0, 1), gift(1, 0));
    }

    #[test]
    fn entity_ids_are_kind_and_normalised_name() {
        assert_eq!(entity_key("Person", "Kim Jong-un"), "person:kim-jong-un");
        assert_eq!(entity_key("Person", "  KIM  jong un "), "person:kim-jong-un");
        assert_eq!(entity_key("Country", "North Korea"), "country:north-korea");
    }

    #[test]
    fn only_identifier_shaped_values_look_like_refs() {
        assert!(looks_like_ref("yoon_sk"));
        assert!(looks_like_ref("p12"));
        assert!(!looks_like_ref("Yoon Suk Yeol"));
        assert!(!looks_like_ref("seoul"));
    }
}
