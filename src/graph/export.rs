//! The whole of a relation as JSON Lines, CSV or GraphML, produced batch by batch.
//!
//! An [`Export`] walks the edge table (and, for GraphML, the node tables first) by primary
//! key, [`BATCH`] rows per query, each query on a connection taken from the pool for that
//! batch only. Memory holds one batch whatever the size of the graph, no connection stays
//! checked out while the client reads slowly, and every query stays well inside the web
//! role's statement timeout.

use quick_xml::escape::escape;
use serde::Serialize;
use uuid::Uuid;

use crate::context::AppContext;
use crate::db::DbError;
use crate::db::queries::graph::{self, EdgeRow, NodeKind, NodeRow, Relation};

/// Rows read per query.
pub const BATCH: i64 = 5_000;

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per line: `{"source": ..., "target": ...}`.
    JsonLines,
    /// `source,target` with a header line.
    Csv,
    /// GraphML: every node (with its `login` or `full_name`), then every edge.
    GraphMl,
}

impl Format {
    /// The `format` parameter's value.
    pub fn name(self) -> &'static str {
        match self {
            Format::JsonLines => "jsonl",
            Format::Csv => "csv",
            Format::GraphMl => "graphml",
        }
    }

    /// The response's content type.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::JsonLines => "application/x-ndjson",
            Format::Csv => "text/csv; charset=utf-8",
            Format::GraphMl => "application/graphml+xml",
        }
    }
}

impl Relation {
    /// The `relation` parameter's value.
    pub fn name(self) -> &'static str {
        match self {
            Relation::Follows => "follows",
            Relation::Stars => "stars",
        }
    }
}

/// Where the export is.
#[derive(Clone, Copy, Debug)]
enum Stage {
    /// The format's header comes next.
    Start,
    /// GraphML nodes of a kind after this key.
    Nodes(NodeKind, Uuid),
    /// Edges after this key.
    Edges(Uuid, Uuid),
    /// The format's footer comes next.
    Finish,
    /// Nothing more.
    Done,
}

/// A running export: each [`Export::next_chunk`] is one batch, already encoded.
pub struct Export {
    ctx: AppContext,
    relation: Relation,
    format: Format,
    stage: Stage,
}

impl Export {
    /// An export of `relation` in `format`, from the start.
    pub fn new(ctx: AppContext, relation: Relation, format: Format) -> Self {
        Export {
            ctx,
            relation,
            format,
            stage: Stage::Start,
        }
    }

    /// The next chunk of the output, or `None` at the end.
    pub async fn next_chunk(&mut self) -> Result<Option<String>, DbError> {
        let chunk = match self.stage {
            Stage::Start => {
                self.stage = match self.format {
                    Format::GraphMl => Stage::Nodes(NodeKind::Developer, Uuid::nil()),
                    _ => Stage::Edges(Uuid::nil(), Uuid::nil()),
                };
                self.header()
            }
            Stage::Nodes(kind, after) => {
                let nodes =
                    graph::nodes_after(&mut *self.ctx.conn().await?, kind, after, BATCH).await?;
                self.stage = match nodes.last() {
                    Some(last) if nodes.len() as i64 == BATCH => Stage::Nodes(kind, last.key),
                    _ if kind == NodeKind::Developer && self.relation == Relation::Stars => {
                        Stage::Nodes(NodeKind::Repository, Uuid::nil())
                    }
                    _ => Stage::Edges(Uuid::nil(), Uuid::nil()),
                };
                graphml_nodes(kind, &nodes)
            }
            Stage::Edges(source, target) => {
                let edges = graph::edges_after(
                    &mut *self.ctx.conn().await?,
                    self.relation,
                    (source, target),
                    BATCH,
                )
                .await?;
                self.stage = match edges.last() {
                    Some(last) if edges.len() as i64 == BATCH => {
                        Stage::Edges(last.source_key, last.target_key)
                    }
                    _ => Stage::Finish,
                };
                self.edges(&edges)
            }
            Stage::Finish => {
                self.stage = Stage::Done;
                match self.format {
                    Format::GraphMl => "  </graph>\n</graphml>\n".to_owned(),
                    _ => String::new(),
                }
            }
            Stage::Done => return Ok(None),
        };
        Ok(Some(chunk))
    }

    fn header(&self) -> String {
        match self.format {
            Format::JsonLines => String::new(),
            Format::Csv => "source,target\n".to_owned(),
            Format::GraphMl => format!(
                concat!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
                    "<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\"",
                    " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"",
                    " xsi:schemaLocation=\"http://graphml.graphdrawing.org/xmlns",
                    " http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd\">\n",
                    "  <key id=\"kind\" for=\"node\" attr.name=\"kind\" attr.type=\"string\"/>\n",
                    "  <key id=\"name\" for=\"node\" attr.name=\"name\" attr.type=\"string\"/>\n",
                    "  <key id=\"github_id\" for=\"node\" attr.name=\"github_id\" attr.type=\"long\"/>\n",
                    "  <graph id=\"{}\" edgedefault=\"directed\">\n"
                ),
                self.relation.name()
            ),
        }
    }

    fn edges(&self, edges: &[EdgeRow]) -> String {
        match self.format {
            Format::JsonLines => edges.iter().fold(String::new(), |mut out, edge| {
                let line = EdgeLine {
                    source: &edge.source,
                    target: &edge.target,
                };
                // Serialising two strings cannot fail.
                out.push_str(&serde_json::to_string(&line).unwrap_or_default());
                out.push('\n');
                out
            }),
            Format::Csv => {
                let mut writer = csv::WriterBuilder::new()
                    .has_headers(false)
                    .from_writer(Vec::new());
                for edge in edges {
                    // Writing into memory cannot fail.
                    let _ = writer.write_record([&edge.source, &edge.target]);
                }
                String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
            }
            Format::GraphMl => {
                let target_kind = match self.relation {
                    Relation::Follows => NodeKind::Developer,
                    Relation::Stars => NodeKind::Repository,
                };
                edges.iter().fold(String::new(), |mut out, edge| {
                    out.push_str(&format!(
                        "    <edge source=\"{}\" target=\"{}\"/>\n",
                        node_id(NodeKind::Developer, edge.source_github_id),
                        node_id(target_kind, edge.target_github_id)
                    ));
                    out
                })
            }
        }
    }
}

#[derive(Serialize)]
struct EdgeLine<'a> {
    source: &'a str,
    target: &'a str,
}

/// A GraphML node id: `d<github id>` for a developer, `r<github id>` for a repository.
fn node_id(kind: NodeKind, github_id: i64) -> String {
    match kind {
        NodeKind::Developer => format!("d{github_id}"),
        NodeKind::Repository => format!("r{github_id}"),
    }
}

fn graphml_nodes(kind: NodeKind, nodes: &[NodeRow]) -> String {
    let kind_name = match kind {
        NodeKind::Developer => "developer",
        NodeKind::Repository => "repository",
    };
    nodes.iter().fold(String::new(), |mut out, node| {
        out.push_str(&format!(
            concat!(
                "    <node id=\"{}\"><data key=\"kind\">{}</data>",
                "<data key=\"name\">{}</data><data key=\"github_id\">{}</data></node>\n"
            ),
            node_id(kind, node.github_id),
            kind_name,
            escape(node.name.as_str()),
            node.github_id
        ));
        out
    })
}
