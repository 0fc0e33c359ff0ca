//! The graph questions of SPEC-2 D: the shortest follow path between two developers, a
//! developer's suggestions (friends of friends), the graph's statistics and its export.
//! (Mutual follows are a developer sub-collection, in `developers.rs`.)

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, route, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::collection::page_of;
use crate::api::developers::DeveloperView;
use crate::api::developers::Developers;
use crate::api::error::ApiError;
use crate::api::links::Links;
use crate::api::params::{self, PageNumber, PageSize, Rendering};
use crate::api::render::Rendered;
use crate::api::resource::existing;
use crate::api::values::{QueryValue, integer_schema, query_value};
use crate::api::views::{ErrorView, Page};
use crate::context::AppContext;
use crate::db::paginate;
use crate::db::queries::developer_ranks;
use crate::db::queries::developers;
use crate::db::queries::graph::{self as queries, Relation};
use crate::db::queries::graph_snapshot::{self, Bucket};
use crate::graph::export::{Export, Format};
use crate::graph::path::{self, MAX_DEPTH, MAX_VISITED, Search};
use crate::jobs::{BackgroundJob, GraphSnapshot, enqueue};

// ---------------------------------------------------------------------------
// Path
// ---------------------------------------------------------------------------

/// A shortest chain of follows.
#[derive(Debug, Serialize, ToSchema)]
pub struct PathView {
    /// Follows on the path (0 when both ends are the same developer).
    pub length: usize,
    /// The developers of the path, first to last: each follows the next.
    pub path: Vec<String>,
    /// Their logins, in the same order.
    pub logins: Vec<String>,
}

/// Parameters of a path query.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PathParams {
    /// The longest path searched (default 6).
    #[serde(default)]
    #[param(inline)]
    max_depth: Depth,
}

/// The longest path searched: 1 to [`MAX_DEPTH`] follows, [`MAX_DEPTH`] by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Depth(u32);

impl Default for Depth {
    fn default() -> Self {
        Self(MAX_DEPTH)
    }
}

impl QueryValue for Depth {
    fn expected() -> String {
        format!("an integer from 1 to {MAX_DEPTH}")
    }

    fn parse(raw: &str) -> Option<Self> {
        raw.parse()
            .ok()
            .filter(|depth| (1..=MAX_DEPTH).contains(depth))
            .map(Self)
    }

    fn schema() -> ObjectBuilder {
        integer_schema(1, Some(i64::from(MAX_DEPTH)), KnownFormat::Int32)
    }
}

query_value!(Depth);

/// The shortest chain of follows from one developer to another.
#[utoipa::path(get, tag = "graph",
    params(("id" = uuid::Uuid, Path, description = "The first developer's id"),
           ("other_id" = uuid::Uuid, Path, description = "The last developer's id"),
           PathParams, Rendering),
    responses((status = 200, body = PathView), (status = 400, body = ErrorView),
              (status = 404, body = ErrorView, description = "an unknown developer, or no follow path within max_depth steps"),
              (status = 422, body = ErrorView, description = "the search grew too large before it ended")))]
#[route("/developers/{id}/path/{other_id}/", method = "GET", method = "HEAD")]
pub async fn developer_path(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    ids: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let PathParams {
        max_depth: Depth(max_depth),
    } = params::typed(&request)?;
    let source = existing::<Developers>(&ctx, &ids.0).await?;
    let target = existing::<Developers>(&ctx, &ids.1).await?;
    let mut conn = ctx.conn().await?;
    let chain = match path::shortest(&mut conn, source, target, max_depth).await? {
        Search::Found(chain) => chain,
        Search::NoPath => {
            return Err(ApiError::NotFound(format!(
                "no follow path within {max_depth} steps"
            )));
        }
        Search::TooLarge => {
            return Err(ApiError::Unprocessable(format!(
                "the path search reached {MAX_VISITED} developers without an answer; ask with a smaller max_depth"
            )));
        }
    };
    let logins = developers::logins(&mut conn, &chain).await?;
    let links = Links::new(&request, &ctx.config);
    Ok(Rendered::ok(PathView {
        length: chain.len() - 1,
        path: chain.iter().map(|id| links.developer(*id, "")).collect(),
        logins,
    })
    .respond(&request))
}

// ---------------------------------------------------------------------------
// Suggestions
// ---------------------------------------------------------------------------

/// A developer suggested to another.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionView {
    /// How many of the developers the asking one follows follow this one.
    pub score: i64,
    /// How the asking developer reaches this one: a follow path of length 2.
    pub path: String,
    #[serde(flatten)]
    pub developer: DeveloperView,
}

/// A page of suggestions, and what their scores were read from.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionPage {
    #[serde(flatten)]
    pub page: Page<SuggestionView>,
    /// `true` when the scores were read from only some of the developers this one follows:
    /// together they follow more than 10,000 others, and those following the most were left
    /// out (`following_scored` of `following`). Those left out are still not suggested.
    pub partial: bool,
    /// How many developers this one follows.
    pub following: i64,
    /// How many of them the scores were read from (fewest follows first).
    pub following_scored: i64,
}

/// Parameters of the suggestions list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SuggestionParams {
    /// 1-based page number (default 1); a page past the last answers 404.
    #[serde(default)]
    #[param(inline)]
    page: PageNumber,
    /// Items per page, 1-100 (default 10).
    #[serde(default)]
    #[param(inline)]
    page_size: PageSize,
}

/// Developers followed by those this one follows, that it does not follow yet, by score
/// (how many of those it follows follow them), then login.
#[utoipa::path(get, tag = "graph",
    params(("id" = uuid::Uuid, Path, description = "The developer's id"), SuggestionParams, Rendering),
    responses((status = 200, body = SuggestionPage), (status = 400, body = ErrorView), (status = 404, body = ErrorView)))]
#[route("/developers/{id}/suggestions/", method = "GET", method = "HEAD")]
pub async fn developer_suggestions(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let SuggestionParams {
        page: PageNumber(page),
        page_size: PageSize(page_size),
    } = params::typed(&request)?;
    let developer = existing::<Developers>(&ctx, &id).await?;
    let mut conn = ctx.conn().await?;
    let offset = i64::from(page - 1) * i64::from(page_size);
    // One extra row says whether a next page exists.
    let suggestions =
        queries::suggestions(&mut conn, developer, i64::from(page_size) + 1, offset).await?;
    let (following, following_scored) = (suggestions.following, suggestions.scored);
    let total = suggestions.rows.first().map_or(0, |row| row.total);
    let loaded = paginate::Page::from_rows(suggestions.rows, page_size, total);
    let links = Links::new(&request, &ctx.config);
    let results = loaded
        .rows
        .into_iter()
        .map(|row| SuggestionView {
            score: row.score,
            path: links.developer(developer, &format!("path/{}/", row.developer.id)),
            developer: DeveloperView::new(row.developer, &links),
        })
        .collect();
    let page = page_of(&request, &links, page, total, loaded.has_next, results)?;
    Ok(Rendered::list_as(page, |page| SuggestionPage {
        page,
        partial: following_scored < following,
        following,
        following_scored,
    })
    .respond(&request))
}

// ---------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------

/// The stored graph in numbers, as the latest `graph_snapshot` task counted it.
#[derive(Debug, Serialize, ToSchema)]
pub struct GraphView {
    pub url: String,
    /// When the snapshot counted the graph (RFC 3339); null until the first snapshot.
    #[schema(required = true)]
    pub computed_at: Option<DateTime<Utc>>,
    /// Developers stored (null until the first snapshot).
    #[schema(required = true)]
    pub developers: Option<i64>,
    /// Developers whose full profile sync completed at least once (null until the first
    /// snapshot).
    #[schema(required = true)]
    pub synced: Option<i64>,
    /// Developers discovered but never synced (`developers - synced`; null until the first
    /// snapshot).
    #[schema(required = true)]
    pub frontier: Option<i64>,
    /// Stored follow edges (null until the first snapshot).
    #[schema(required = true)]
    pub follow_edges: Option<i64>,
    /// Stored stars (null until the first snapshot).
    #[schema(required = true)]
    pub stars: Option<i64>,
    /// Repositories stored (null until the first snapshot).
    #[schema(required = true)]
    pub repositories: Option<i64>,
    /// Developers by number of stored followers (empty until the first snapshot).
    pub followers_histogram: Vec<BucketView>,
    /// Developers by number of developers followed (stored; empty until the first
    /// snapshot).
    pub following_histogram: Vec<BucketView>,
    /// The 10 developers with the most stored followers (empty until the first snapshot).
    pub most_followed: Vec<RankedDeveloperView>,
    /// The whole follow relation, streamed (`format=jsonl|csv|graphml`, `relation=follows|stars`).
    pub export: String,
    /// When the last `developer_rank` run committed the developers' `rank` and
    /// `rank_score` (read as of this request, not from the snapshot); null until the first
    /// run.
    #[schema(required = true)]
    pub rank_computed_at: Option<DateTime<Utc>>,
    /// What that run ranked: the crawled part of GitHub only (null until the first run).
    #[schema(required = true)]
    pub rank_coverage: Option<RankCoverageView>,
}

/// The graph the last follow-rank run covered.
#[derive(Debug, Serialize, ToSchema)]
pub struct RankCoverageView {
    /// Developers ranked: every developer stored when the run read the graph.
    pub developers: i64,
    /// Of those, developers whose full profile sync completed at least once.
    pub synced: i64,
    /// Of those, developers discovered but never synced (`developers - synced`): their own
    /// follows are not stored, so they follow no one in the ranked graph.
    pub frontier: i64,
    /// Follow edges ranked over.
    pub follow_edges: i64,
    /// Developers following no one stored (their score is spread over everyone).
    pub dangling: i64,
    /// PageRank iterations made (at most 100; fewer once the L1 change fell below 1e-9).
    pub iterations: i32,
}

/// One bucket of a degree histogram.
#[derive(Debug, Serialize, ToSchema)]
pub struct BucketView {
    /// The degrees it holds: `0`, `1`, `2-4`, `5-9`, `10-99`, `100-999` or `1000+`.
    pub bucket: String,
    /// Developers in it.
    pub developers: i64,
}

/// A developer and its stored followers.
#[derive(Debug, Serialize, ToSchema)]
pub struct RankedDeveloperView {
    pub url: String,
    pub id: Uuid,
    /// Its login when the snapshot was taken.
    pub login: String,
    /// Followers stored in the crawl.
    pub followers: i64,
}

/// Counts, degree histograms and the most followed developers of the stored graph.
///
/// Read from the latest snapshot, which a `graph_snapshot` task took at `computed_at`:
/// counting passes over every developer, so this page never does. The task runs on
/// `GRAPH_CRON` (every 15 minutes by default) or when posted to `/github/tasks/`. Before
/// the first snapshot the counts and `computed_at` are null and the lists empty, and a
/// `graph_snapshot` task is enqueued (one at a time).
#[utoipa::path(get, tag = "graph",
    responses((status = 200, body = GraphView), (status = 400, body = ErrorView)))]
#[route("/graph/", method = "GET", method = "HEAD")]
pub async fn get_graph(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
) -> Result<HttpResponse, ApiError> {
    params::detail_query(&request)?;
    let mut conn = ctx.conn().await?;
    let snapshot = graph_snapshot::latest(&mut conn).await?;
    let rank_run = developer_ranks::latest_run(&mut conn).await?;
    drop(conn);
    let rank_computed_at = rank_run.as_ref().map(|run| run.computed_at);
    let rank_coverage = rank_run.map(|run| RankCoverageView {
        developers: run.developers,
        synced: run.synced,
        frontier: run.developers - run.synced,
        follow_edges: run.follow_edges,
        dangling: run.dangling,
        iterations: run.iterations,
    });
    let links = Links::new(&request, &ctx.config);
    let url = links.url("/github/graph/");
    let export = links.url("/github/graph/export/?format=jsonl&relation=follows");
    let Some(snapshot) = snapshot else {
        ask_for_a_snapshot(&ctx).await;
        return Ok(Rendered::ok(GraphView {
            url,
            computed_at: None,
            developers: None,
            synced: None,
            frontier: None,
            follow_edges: None,
            stars: None,
            repositories: None,
            followers_histogram: Vec::new(),
            following_histogram: Vec::new(),
            most_followed: Vec::new(),
            export,
            rank_computed_at,
            rank_coverage,
        })
        .respond(&request));
    };
    let histogram = |buckets: Vec<Bucket>| {
        buckets
            .into_iter()
            .map(|Bucket { bucket, developers }| BucketView { bucket, developers })
            .collect()
    };
    Ok(Rendered::ok(GraphView {
        url,
        computed_at: Some(snapshot.computed_at),
        developers: Some(snapshot.developers),
        synced: Some(snapshot.synced),
        frontier: Some(snapshot.developers - snapshot.synced),
        follow_edges: Some(snapshot.follow_edges),
        stars: Some(snapshot.stars),
        repositories: Some(snapshot.repositories),
        followers_histogram: histogram(snapshot.followers_histogram),
        following_histogram: histogram(snapshot.following_histogram),
        most_followed: snapshot
            .most_followed
            .into_iter()
            .map(|developer| RankedDeveloperView {
                url: links.developer(developer.id, ""),
                id: developer.id,
                login: developer.login,
                followers: developer.followers,
            })
            .collect(),
        export,
        rank_computed_at,
        rank_coverage,
    })
    .respond(&request))
}

/// Enqueues a `graph_snapshot` task (or finds the active one: the dedupe index keeps it to
/// one). The page still answers when this fails: it has nothing to show either way.
async fn ask_for_a_snapshot(ctx: &AppContext) {
    let task = match GraphSnapshot::default().to_task() {
        Ok(task) => task,
        Err(error) => {
            tracing::error!(%error, "graph: cannot build the snapshot task");
            return;
        }
    };
    match enqueue(ctx, &task).await {
        Ok((row, created)) => tracing::info!(
            task.id = %row.id, created, "graph: no snapshot yet; snapshot task enqueued"
        ),
        Err(error) => {
            tracing::warn!(%error, "graph: no snapshot yet, and the snapshot task could not be enqueued")
        }
    }
}

// ---------------------------------------------------------------------------
// Export
// ---------------------------------------------------------------------------

/// Parameters of the export.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// `jsonl` (default), `csv` or `graphml`.
    #[serde(default)]
    #[param(inline)]
    format: ExportFormat,
    /// `follows` (default: developer → developer it follows) or `stars` (developer →
    /// repository it starred).
    #[serde(default)]
    #[param(inline)]
    relation: ExportRelation,
}

/// The export's formats.
#[derive(Clone, Copy, Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    #[default]
    Jsonl,
    Csv,
    Graphml,
}

impl From<ExportFormat> for Format {
    fn from(format: ExportFormat) -> Self {
        match format {
            ExportFormat::Jsonl => Format::JsonLines,
            ExportFormat::Csv => Format::Csv,
            ExportFormat::Graphml => Format::GraphMl,
        }
    }
}

/// The exported relations.
#[derive(Clone, Copy, Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportRelation {
    #[default]
    Follows,
    Stars,
}

impl From<ExportRelation> for Relation {
    fn from(relation: ExportRelation) -> Self {
        match relation {
            ExportRelation::Follows => Relation::Follows,
            ExportRelation::Stars => Relation::Stars,
        }
    }
}

/// The whole of a relation, streamed: JSON Lines `{"source", "target"}`, CSV with the
/// header `source,target`, or GraphML. Sources and targets are logins (a repository's
/// `owner/name` for stars).
#[utoipa::path(get, tag = "graph", params(ExportParams),
    responses(
        (status = 200, description = "the relation, streamed",
         content((String = "application/x-ndjson"), (String = "text/csv"), (String = "application/graphml+xml"))),
        (status = 400, body = ErrorView)))]
#[route("/graph/export/", method = "GET", method = "HEAD")]
pub async fn export_graph(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
) -> Result<HttpResponse, ApiError> {
    // `format` is the export's own (jsonl, csv or graphml), not the rendering.
    let query: ExportParams = params::typed_unrendered(&request)?;
    let (format, relation) = (Format::from(query.format), Relation::from(query.relation));
    let export = Export::new(ctx.get_ref().clone(), relation, format);
    let body = futures_util::stream::try_unfold(export, |mut export| async move {
        match export.next_chunk().await {
            Ok(Some(chunk)) => Ok(Some((Bytes::from(chunk), export))),
            Ok(None) => Ok(None),
            Err(error) => {
                // The status line is sent: all that is left is to cut the body short.
                tracing::error!(%error, "graph export failed mid-stream");
                Err(ApiError::from(error))
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type(format.content_type())
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "attachment; filename=\"gitomatic-{}.{}\"",
                relation.name(),
                format.name()
            ),
        ))
        .streaming(body))
}
