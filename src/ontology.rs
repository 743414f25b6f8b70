//! The ontology: event types, their roles, statuses and CAMEO codes, read from
//! `schema/ontology.json` (embedded at build time). Validation and ingest are driven by it.

use std::sync::OnceLock;

use serde::Deserialize;

/// The ontology shipped with this build.
pub const EMBEDDED: &str = include_str!("../schema/ontology.json");

#[derive(Clone, Debug, Deserialize)]
pub struct Ontology {
    pub version: u32,
    pub actor_kinds: Vec<String>,
    pub event_types: Vec<EventType>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct EventType {
    /// The fact `type` as written in input, and the event's `type` property.
    #[serde(rename = "type")]
    pub name: String,
    /// The node label added beside `Event`.
    pub label: String,
    pub roles: Vec<Role>,
    /// Allowed statuses; the first is the default.
    pub statuses: Vec<String>,
    #[serde(default)]
    pub cameo: Vec<CameoCode>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Role {
    /// The input fact's field.
    pub field: String,
    /// The edge type from the event to each filler.
    pub edge: String,
    pub min: usize,
    /// `None`: unbounded.
    pub max: Option<usize>,
    pub kinds: Vec<String>,
    pub default_kind: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct CameoCode {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub status: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid ontology: {0}")]
pub struct OntologyError(pub String);

impl Ontology {
    /// Parses and checks an ontology document.
    pub fn from_json(text: &str) -> Result<Ontology, OntologyError> {
        let ontology: Ontology = serde_json::from_str(text).map_err(|e| OntologyError(e.to_string()))?;
        ontology.check()?;
        Ok(ontology)
    }

    /// The ontology embedded in this build.
    pub fn embedded() -> &'static Ontology {
        static ONTOLOGY: OnceLock<Ontology> = OnceLock::new();
        ONTOLOGY.get_or_init(|| match Ontology::from_json(EMBEDDED) {
            Ok(ontology) => ontology,
            // The embedded file is checked by a unit test; reaching this is a build defect.
            Err(err) => panic!("schema/ontology.json shipped with this build is broken: {err}"),
        })
    }

    pub fn event_type(&self, name: &str) -> Option<&EventType> {
        self.event_types.iter().find(|t| t.name == name)
    }

    pub fn type_names(&self) -> Vec<&str> {
        self.event_types.iter().map(|t| t.name.as_str()).collect()
    }

    fn check(&self) -> Result<(), OntologyError> {
        for event_type in &self.event_types {
            let what = &event_type.name;
            if event_type.statuses.is_empty() {
                return Err(OntologyError(format!("event type '{what}' has no statuses")));
            }
            if event_type.label.is_empty() || event_type.label == "Event" {
                return Err(OntologyError(format!("event type '{what}' needs a label other than 'Event'")));
            }
            for role in &event_type.roles {
                if role.max.is_some_and(|max| max < role.min.max(1)) {
                    return Err(OntologyError(format!("role '{what}.{}' has max below min", role.field)));
                }
                if !role.kinds.contains(&role.default_kind) {
                    return Err(OntologyError(format!(
                        "role '{what}.{}': default_kind '{}' is not among its kinds",
                        role.field, role.default_kind
                    )));
                }
                for kind in &role.kinds {
                    if !crate::model::ENTITY_KINDS.contains(&kind.as_str()) {
                        return Err(OntologyError(format!("role '{what}.{}': unknown kind '{kind}'", role.field)));
                    }
                }
                if ["type", "date", "status", "evidence", "according_to", "confidence"].contains(&role.field.as_str()) {
                    return Err(OntologyError(format!("role '{what}.{}' shadows a common fact field", role.field)));
                }
            }
        }
        Ok(())
    }
}

impl EventType {
    pub fn default_status(&self) -> &str {
        &self.statuses[0]
    }

    pub fn role(&self, field: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.field == field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_ontology_declares_the_v1_types() {
        let ontology = Ontology::from_json(EMBEDDED).expect("embedded ontology parses");
        assert_eq!(ontology.type_names(), ["meeting", "gift", "visit", "invitation"]);
        assert_eq!(ontology.event_type("invitation").map(|t| t.default_status()), Some("extended"));
    }

    #[test]
    fn a_default_kind_outside_the_role_kinds_is_refused() {
        let text = EMBEDDED.replacen("\"default_kind\": \"Item\"", "\"default_kind\": \"Person\"", 1);
        assert!(Ontology::from_json(&text).is_err());
    }
}
