//! Graphviz DOT, for drawing ego networks (`--around NAME --hops N`): nodes labelled by
//! name (events by type and date), shaped by kind, relationships labelled by type.

use std::io::Write;
use std::path::PathBuf;

use super::gexf::display_label;
use super::{ExportEdge, ExportError, ExportNode, GraphWriter, Stream};

pub struct DotWriter {
    out: Stream,
}

/// A DOT double-quoted string: quotes and backslashes escaped, line breaks as `\n`, other
/// control characters as spaces (untrusted text must not end the string or the graph).
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn shape(table: &str, labels: &[String]) -> &'static str {
    if labels.iter().any(|l| l == "Event") {
        "box"
    } else if table == "Article" {
        "note"
    } else {
        "ellipse"
    }
}

impl DotWriter {
    pub fn new(mut out: Stream) -> Result<DotWriter, ExportError> {
        writeln!(
            out,
            "digraph diplograph {{\n  node [fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];"
        )
        .map_err(|e| out.error(e))?;
        Ok(DotWriter { out })
    }
}

impl GraphWriter for DotWriter {
    fn node(&mut self, node: &ExportNode<'_>) -> Result<(), ExportError> {
        let line = format!(
            "  {} [label={}, shape={}, class={}];\n",
            quoted(node.key),
            quoted(&display_label(node.record, node.key)),
            shape(node.table, node.labels()),
            quoted(node.table)
        );
        self.out.write_all(line.as_bytes()).map_err(|e| self.out.error(e))
    }

    fn edge(&mut self, edge: &ExportEdge<'_>) -> Result<(), ExportError> {
        let line = format!(
            "  {} -> {} [label={}];\n",
            quoted(edge.from.key),
            quoted(edge.to.key),
            quoted(&edge.record.edge_type)
        );
        self.out.write_all(line.as_bytes()).map_err(|e| self.out.error(e))
    }

    fn finish(mut self: Box<Self>) -> Result<Vec<PathBuf>, ExportError> {
        self.out.write_all(b"}\n").map_err(|e| self.out.error(e))?;
        self.out.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::quoted;

    #[test]
    fn untrusted_text_cannot_leave_its_string() {
        assert_eq!(quoted("say \"hi\"\\ }\n"), "\"say \\\"hi\\\"\\\\ }\\n\"");
        assert_eq!(quoted("a\u{0}b"), "\"a b\"");
    }
}
