//! GraphML (yEd, NetworkX, igraph, Cytoscape): one `<key>` per property with its
//! `attr.type`, so numbers read back as numbers; lists and maps are JSON strings.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use super::schema::{text_of, ColumnType, Schema};
use super::{ExportEdge, ExportError, ExportNode, GraphWriter, Stream};
use crate::model::Properties;

pub struct GraphMlWriter {
    xml: Writer<Stream>,
    /// Key id and column type per property name.
    node_keys: BTreeMap<String, (String, ColumnType)>,
    edge_keys: BTreeMap<String, (String, ColumnType)>,
}

/// The GraphML name of a column type (lists and JSON are strings).
fn attr_type(column: ColumnType) -> &'static str {
    match column {
        ColumnType::Bool => "boolean",
        ColumnType::Int => "long",
        ColumnType::Float => "double",
        ColumnType::Str | ColumnType::StrList | ColumnType::Json => "string",
    }
}

/// Text that XML 1.0 can carry: characters it forbids (most C0 controls, which a JSON
/// batch can smuggle in as `\u0001`) become U+FFFD instead of making the file unreadable.
pub(super) fn xml_text(text: &str) -> Cow<'_, str> {
    let allowed = |c: char| matches!(c, '\t' | '\n' | '\r') || (c >= ' ' && c != '\u{fffe}' && c != '\u{ffff}');
    if text.chars().all(allowed) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.chars().map(|c| if allowed(c) { c } else { '\u{fffd}' }).collect())
    }
}

impl GraphMlWriter {
    pub fn new(stream: Stream, schema: &Schema) -> Result<GraphMlWriter, ExportError> {
        let keys = |prefix: &str, columns: &BTreeMap<String, ColumnType>| {
            columns.iter().enumerate().map(|(i, (name, ty))| (name.clone(), (format!("{prefix}{i}"), *ty))).collect()
        };
        let mut writer = GraphMlWriter {
            xml: Writer::new_with_indent(stream, b' ', 2),
            node_keys: keys("n", &schema.node_columns),
            edge_keys: keys("e", &schema.edge_columns),
        };
        writer.header().map_err(|e| writer.xml.get_ref().error(e))?;
        Ok(writer)
    }

    fn header(&mut self) -> std::io::Result<()> {
        self.xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        self.xml.write_event(Event::Start(BytesStart::new("graphml").with_attributes([
            ("xmlns", "http://graphml.graphdrawing.org/xmlns"),
            ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
            (
                "xsi:schemaLocation",
                "http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd",
            ),
        ])))?;
        let fixed = [("labels", "node", "labels"), ("type", "edge", "type")];
        for (id, domain, name) in fixed {
            self.xml
                .create_element("key")
                .with_attributes([("id", id), ("for", domain), ("attr.name", name), ("attr.type", "string")])
                .write_empty()?;
        }
        for (domain, keys) in [("node", &self.node_keys), ("edge", &self.edge_keys)] {
            for (name, (id, ty)) in keys {
                self.xml
                    .create_element("key")
                    .with_attributes([
                        ("id", id.as_str()),
                        ("for", domain),
                        ("attr.name", &xml_text(name)),
                        ("attr.type", attr_type(*ty)),
                    ])
                    .write_empty()?;
            }
        }
        self.xml.write_event(Event::Start(
            BytesStart::new("graph").with_attributes([("id", "diplograph"), ("edgedefault", "directed")]),
        ))
    }

    fn data(xml: &mut Writer<Stream>, key: &str, text: &str) -> std::io::Result<()> {
        xml.create_element("data").with_attribute(("key", key)).write_text_content(BytesText::new(&xml_text(text)))?;
        Ok(())
    }

    fn properties(
        xml: &mut Writer<Stream>,
        keys: &BTreeMap<String, (String, ColumnType)>,
        props: &Properties,
    ) -> std::io::Result<()> {
        for (name, value) in props {
            let Some((id, ty)) = keys.get(name) else { continue };
            if let Some(text) = text_of(value, *ty) {
                Self::data(xml, id, &text)?;
            }
        }
        Ok(())
    }

    fn write_node(&mut self, node: &ExportNode<'_>) -> std::io::Result<()> {
        self.xml.write_event(Event::Start(BytesStart::new("node").with_attributes([("id", &*xml_text(node.key))])))?;
        let labels: String = node.labels().iter().map(|l| format!(":{l}")).collect();
        Self::data(&mut self.xml, "labels", &labels)?;
        Self::properties(&mut self.xml, &self.node_keys, node.props())?;
        self.xml.write_event(Event::End(BytesEnd::new("node")))
    }

    fn write_edge(&mut self, edge: &ExportEdge<'_>) -> std::io::Result<()> {
        let id = format!("e{}", edge.id);
        self.xml.write_event(Event::Start(BytesStart::new("edge").with_attributes([
            ("id", id.as_str()),
            ("source", &xml_text(edge.from.key)),
            ("target", &xml_text(edge.to.key)),
        ])))?;
        Self::data(&mut self.xml, "type", &edge.record.edge_type)?;
        Self::properties(&mut self.xml, &self.edge_keys, &edge.record.props)?;
        self.xml.write_event(Event::End(BytesEnd::new("edge")))
    }
}

impl GraphWriter for GraphMlWriter {
    fn node(&mut self, node: &ExportNode<'_>) -> Result<(), ExportError> {
        self.write_node(node).map_err(|e| self.xml.get_ref().error(e))
    }

    fn edge(&mut self, edge: &ExportEdge<'_>) -> Result<(), ExportError> {
        self.write_edge(edge).map_err(|e| self.xml.get_ref().error(e))
    }

    fn finish(mut self: Box<Self>) -> Result<Vec<PathBuf>, ExportError> {
        let closed = self
            .xml
            .write_event(Event::End(BytesEnd::new("graph")))
            .and_then(|_| self.xml.write_event(Event::End(BytesEnd::new("graphml"))))
            .and_then(|_| std::io::Write::write_all(self.xml.get_mut(), b"\n"));
        closed.map_err(|e| self.xml.get_ref().error(e))?;
        self.xml.into_inner().finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_xml_characters_are_replaced() {
        assert_eq!(xml_text("a\u{1}b\tc"), "a\u{fffd}b\tc");
        assert!(matches!(xml_text("plain <&>"), Cow::Borrowed(_)));
    }
}
