//! GEXF (Gephi): a dynamic graph whose events are dated, so Gephi's timeline plays the
//! network. An event node and every relationship out of it live for the event's spell
//! (`Spell::of_date`: a partial date covers its month or year); an article appears on its
//! publication date; entities are always there. Properties are typed attributes; lists and
//! maps are JSON strings.

use std::collections::BTreeMap;
use std::path::PathBuf;

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use super::graphml::xml_text;
use super::schema::{text_of, ColumnType, Schema};
use super::{ExportEdge, ExportError, ExportNode, GraphWriter, Spell, Stream};
use crate::model::{NodeRecord, Properties, Value};

/// GEXF 1.3 is what Gephi 0.9+ writes; 1.2draft is what NetworkX's reader knows. The
/// documents differ only in namespace and version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    V1_3,
    V1_2Draft,
}

impl Version {
    fn namespace(self) -> &'static str {
        match self {
            Version::V1_3 => "http://gexf.net/1.3",
            Version::V1_2Draft => "http://www.gexf.net/1.2draft",
        }
    }

    fn number(self) -> &'static str {
        match self {
            Version::V1_3 => "1.3",
            Version::V1_2Draft => "1.2",
        }
    }
}

pub struct GexfWriter {
    xml: Writer<Stream>,
    node_keys: BTreeMap<String, (String, ColumnType)>,
    edge_keys: BTreeMap<String, (String, ColumnType)>,
    in_edges: bool,
}

fn attr_type(column: ColumnType) -> &'static str {
    match column {
        ColumnType::Bool => "boolean",
        ColumnType::Int => "long",
        ColumnType::Float => "double",
        ColumnType::Str | ColumnType::StrList | ColumnType::Json => "string",
    }
}

/// What Gephi shows on a node: an entity's name, an article's title, an event's type and
/// date, else its id.
pub(super) fn display_label(record: &NodeRecord, key: &str) -> String {
    let text = |name: &str| record.props.get(name).and_then(Value::as_str);
    if let Some(name) = text("name").or_else(|| text("title")) {
        return name.to_string();
    }
    match (text("type"), text("date")) {
        (Some(kind), Some(date)) => format!("{kind} {date}"),
        (Some(kind), None) => kind.to_string(),
        _ => key.to_string(),
    }
}

impl GexfWriter {
    pub fn new(stream: Stream, schema: &Schema, version: Version) -> Result<GexfWriter, ExportError> {
        let keys = |prefix: &str, columns: &BTreeMap<String, ColumnType>| {
            columns.iter().enumerate().map(|(i, (name, ty))| (name.clone(), (format!("{prefix}{i}"), *ty))).collect()
        };
        let mut writer = GexfWriter {
            xml: Writer::new_with_indent(stream, b' ', 2),
            node_keys: keys("n", &schema.node_columns),
            edge_keys: keys("e", &schema.edge_columns),
            in_edges: false,
        };
        writer.header(version).map_err(|e| writer.xml.get_ref().error(e))?;
        Ok(writer)
    }

    fn header(&mut self, version: Version) -> std::io::Result<()> {
        let namespace = version.namespace();
        let location = format!("{namespace} {namespace}/gexf.xsd");
        self.xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        self.xml.write_event(Event::Start(BytesStart::new("gexf").with_attributes([
            ("xmlns", namespace),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            ("xsi:schemaLocation", location.as_str()),
            ("version", version.number()),
        ])))?;
        self.xml.create_element("meta").write_inner_content(|xml| {
            xml.create_element("creator").write_text_content(BytesText::new("diplograph"))?;
            xml.create_element("description").write_text_content(BytesText::new(
                "diplomatic events from news articles; events dated by their spell",
            ))?;
            Ok(())
        })?;
        self.xml.write_event(Event::Start(BytesStart::new("graph").with_attributes([
            ("mode", "dynamic"),
            ("defaultedgetype", "directed"),
            ("timeformat", "date"),
        ])))?;
        for (class, id, keys) in [("node", "labels", &self.node_keys), ("edge", "type", &self.edge_keys)] {
            let mut element = BytesStart::new("attributes");
            element.push_attribute(("class", class));
            element.push_attribute(("mode", "static"));
            self.xml.write_event(Event::Start(element))?;
            self.xml
                .create_element("attribute")
                .with_attributes([("id", id), ("title", id), ("type", "string")])
                .write_empty()?;
            for (name, (id, ty)) in keys {
                self.xml
                    .create_element("attribute")
                    .with_attributes([("id", id.as_str()), ("title", &xml_text(name)), ("type", attr_type(*ty))])
                    .write_empty()?;
            }
            self.xml.write_event(Event::End(BytesEnd::new("attributes")))?;
        }
        self.xml.write_event(Event::Start(BytesStart::new("nodes")))
    }

    fn attvalues(
        xml: &mut Writer<Stream>,
        first: (&str, &str),
        keys: &BTreeMap<String, (String, ColumnType)>,
        props: &Properties,
    ) -> std::io::Result<()> {
        xml.write_event(Event::Start(BytesStart::new("attvalues")))?;
        xml.create_element("attvalue")
            .with_attributes([("for", first.0), ("value", &xml_text(first.1))])
            .write_empty()?;
        for (name, value) in props {
            let Some((id, ty)) = keys.get(name) else { continue };
            if let Some(text) = text_of(value, *ty) {
                xml.create_element("attvalue")
                    .with_attributes([("for", id.as_str()), ("value", &xml_text(&text))])
                    .write_empty()?;
            }
        }
        xml.write_event(Event::End(BytesEnd::new("attvalues")))
    }

    fn write_node(&mut self, node: &ExportNode<'_>) -> std::io::Result<()> {
        let mut element = BytesStart::new("node");
        element.push_attribute(("id", &*xml_text(node.key)));
        element.push_attribute(("label", &*xml_text(&display_label(node.record, node.key))));
        if let Some(spell) = Spell::of_event(node.record) {
            element.push_attribute(("start", spell.start.as_str()));
            element.push_attribute(("end", spell.end.as_str()));
        } else if let Some(published) = node
            .props()
            .get("published")
            .and_then(Value::as_str)
            .and_then(Spell::of_date)
            .filter(|_| node.table == "Article")
        {
            element.push_attribute(("start", published.start.as_str()));
        }
        self.xml.write_event(Event::Start(element))?;
        let labels: String = node.labels().iter().map(|l| format!(":{l}")).collect();
        Self::attvalues(&mut self.xml, ("labels", &labels), &self.node_keys, node.props())?;
        self.xml.write_event(Event::End(BytesEnd::new("node")))
    }

    fn write_edge(&mut self, edge: &ExportEdge<'_>) -> std::io::Result<()> {
        if !self.in_edges {
            self.in_edges = true;
            self.xml.write_event(Event::End(BytesEnd::new("nodes")))?;
            self.xml.write_event(Event::Start(BytesStart::new("edges")))?;
        }
        let id = edge.id.to_string();
        let mut element = BytesStart::new("edge");
        element.push_attribute(("id", id.as_str()));
        element.push_attribute(("source", &*xml_text(edge.from.key)));
        element.push_attribute(("target", &*xml_text(edge.to.key)));
        element.push_attribute(("label", edge.record.edge_type.as_str()));
        if let Some(spell) = &edge.from.spell {
            element.push_attribute(("start", spell.start.as_str()));
            element.push_attribute(("end", spell.end.as_str()));
        }
        self.xml.write_event(Event::Start(element))?;
        Self::attvalues(&mut self.xml, ("type", &edge.record.edge_type), &self.edge_keys, &edge.record.props)?;
        self.xml.write_event(Event::End(BytesEnd::new("edge")))
    }
}

impl GraphWriter for GexfWriter {
    fn node(&mut self, node: &ExportNode<'_>) -> Result<(), ExportError> {
        self.write_node(node).map_err(|e| self.xml.get_ref().error(e))
    }

    fn edge(&mut self, edge: &ExportEdge<'_>) -> Result<(), ExportError> {
        self.write_edge(edge).map_err(|e| self.xml.get_ref().error(e))
    }

    fn finish(mut self: Box<Self>) -> Result<Vec<PathBuf>, ExportError> {
        let section = if self.in_edges { "edges" } else { "nodes" };
        let closed = [section, "graph", "gexf"]
            .into_iter()
            .try_for_each(|name| self.xml.write_event(Event::End(BytesEnd::new(name))))
            .and_then(|_| std::io::Write::write_all(self.xml.get_mut(), b"\n"));
        closed.map_err(|e| self.xml.get_ref().error(e))?;
        self.xml.into_inner().finish()
    }
}
