//! Contributor leaderboards: per tracked repository and global, and their weights.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, HttpResponse, put, route, web};
use chrono::{Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use crate::api::auth::require_token;
use crate::api::collection::{page_of, uuid_id};
use crate::api::error::ApiError;
use crate::api::links::Links;
use crate::api::params::{self, PageNumber, PageSize, Rendering};
use crate::api::render::Rendered;
use crate::api::values::{Day, Flag};
use crate::api::views::{ErrorView, Page};
use crate::context::AppContext;
use crate::db::queries::leaderboards::{self, BoardQuery, BoardRow, KINDS, LINE_BONUS_CAP};
use crate::db::queries::tracked;

/// Days a board covers when `since` is not given.
const DEFAULT_WINDOW_DAYS: i64 = 730;

/// The parameters of a board.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct BoardParams {
    /// First day counted, `YYYY-MM-DD` (default: the 730 days that end with `until`).
    #[param(inline)]
    since: Option<Day>,
    /// Last day counted, `YYYY-MM-DD` (default: today).
    #[param(inline)]
    until: Option<Day>,
    /// Rank bots too (logins ending in `[bot]`, GitHub type Bot); default false.
    #[serde(default)]
    #[param(inline)]
    include_bots: Flag,
    /// 1-based page number (default 1); a page past the last answers 404.
    #[serde(default)]
    #[param(inline)]
    page: PageNumber,
    /// Contributors per page (1-100, default 10).
    #[serde(default)]
    #[param(inline)]
    page_size: PageSize,
}

/// A parsed board request.
pub(crate) struct Board {
    since: NaiveDate,
    until: NaiveDate,
    include_bots: bool,
    page: u32,
    page_size: u32,
}

/// The first day of the default window that ends with `until`: 730 days, `until` included.
fn default_since(until: NaiveDate) -> NaiveDate {
    until - Duration::days(DEFAULT_WINDOW_DAYS - 1)
}

impl Board {
    /// The board a request without parameters gets: the last 730 days, people only.
    pub(crate) fn defaults(page_size: u32) -> Board {
        let until = Utc::now().date_naive();
        Board {
            since: default_since(until),
            until,
            include_bots: false,
            page: 1,
            page_size,
        }
    }

    /// The board a request's parameters ask for; `since` after `until` is a 400.
    fn parse(request: &HttpRequest) -> Result<Board, ApiError> {
        let query: BoardParams = params::typed(request)?;
        let until = query
            .until
            .map_or_else(|| Utc::now().date_naive(), |Day(day)| day);
        let since = query
            .since
            .map_or_else(|| default_since(until), |Day(day)| day);
        if since > until {
            return Err(ApiError::BadRequest(format!(
                "Invalid since: {since} is after until ({until})"
            )));
        }
        Ok(Board {
            since,
            until,
            include_bots: query.include_bots.0,
            page: query.page.0,
            page_size: query.page_size.0,
        })
    }

    pub(crate) fn query(&self, repository_id: Option<uuid::Uuid>) -> BoardQuery {
        let midnight = |day: NaiveDate| day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        BoardQuery {
            repository_id,
            since: midnight(self.since),
            // The whole of `until` counts.
            until: midnight(self.until) + Duration::days(1),
            include_bots: self.include_bots,
            offset: i64::from(self.page - 1) * i64::from(self.page_size),
            limit: i64::from(self.page_size),
        }
    }
}

/// A contributor's place on a board.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeaderboardEntryView {
    /// 1-based place: by score descending, then login.
    pub rank: i64,
    pub login: String,
    /// The developer with this login, when gitomatic has seen one.
    pub developer: Option<String>,
    /// Every kind's points except the lines, plus the line bonus; 3 decimals.
    pub score: f64,
    /// `{kind: {"count", "points"}}` for every kind, and `line_bonus`: lines_added plus
    /// lines_deleted points, capped per repository at `line_bonus_cap`.
    #[schema(value_type = Object)]
    pub breakdown: Value,
    /// Repositories contributed to (global board only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repositories: Option<i64>,
}

impl LeaderboardEntryView {
    fn new(row: BoardRow, links: &Links, global: bool) -> Self {
        let stored: Map<String, Value> = serde_json::from_str(&row.breakdown).unwrap_or_default();
        let mut breakdown = Map::new();
        for kind in KINDS {
            let entry = stored
                .get(kind)
                .cloned()
                .unwrap_or_else(|| serde_json::json!({"count": 0, "points": 0}));
            breakdown.insert(kind.to_owned(), entry);
        }
        breakdown.insert("line_bonus".into(), serde_json::json!(row.line_bonus));
        Self {
            rank: row.rank,
            developer: row.developer_id.map(|id| links.developer(id, "")),
            login: row.login,
            score: row.score,
            breakdown: Value::Object(breakdown),
            repositories: global.then_some(row.repositories),
        }
    }
}

/// The contributors of one tracked repository, ranked.
#[utoipa::path(get, tag = "leaderboards",
    params(("id" = uuid::Uuid, Path, description = "The repository's id (it must be tracked)"), BoardParams, Rendering),
    responses((status = 200, body = Page<LeaderboardEntryView>), (status = 400, body = ErrorView), (status = 404, body = ErrorView)))]
#[route("/repositories/{id}/leaderboard/", method = "GET", method = "HEAD")]
pub async fn repository_leaderboard(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = uuid_id(&id, "repository")?;
    let board = Board::parse(&request)?;
    if tracked::find_by_repository(&mut *ctx.conn().await?, id)
        .await?
        .is_none()
    {
        return Err(ApiError::NotFound(format!(
            "Repository {id} is not tracked: only tracked repositories have a leaderboard."
        )));
    }
    respond(&request, &ctx, &board, Some(id)).await
}

/// The contributors of every tracked repository, ranked: each contributor's score is the
/// sum of their per-repository scores (each repository's line bonus capped on its own).
#[utoipa::path(get, tag = "leaderboards", params(BoardParams, Rendering),
    responses((status = 200, body = Page<LeaderboardEntryView>), (status = 400, body = ErrorView),
        (status = 404, body = ErrorView, description = "A page past the last")))]
#[route("/leaderboards/", method = "GET", method = "HEAD")]
pub async fn global_leaderboard(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
) -> Result<HttpResponse, ApiError> {
    let board = Board::parse(&request)?;
    respond(&request, &ctx, &board, None).await
}

async fn respond(
    request: &HttpRequest,
    ctx: &AppContext,
    board: &Board,
    repository_id: Option<uuid::Uuid>,
) -> Result<HttpResponse, ApiError> {
    let rows = leaderboards::board(&mut *ctx.conn().await?, &board.query(repository_id)).await?;
    let total = rows.first().map_or(0, |row| row.total);
    let links = Links::new(request, &ctx.config);
    let shown = i64::from(board.page) * i64::from(board.page_size);
    let results = rows
        .into_iter()
        .map(|row| LeaderboardEntryView::new(row, &links, repository_id.is_none()))
        .collect();
    let page = page_of(request, &links, board.page, total, total > shown, results)?;
    Ok(Rendered::list(page).respond(request))
}

/// The weights of the leaderboards: points per kind, and `line_bonus_cap`.
#[utoipa::path(get, tag = "leaderboards",
    responses((status = 200, body = Object, description = "`{kind: points, ..., \"line_bonus_cap\": n}`")))]
#[route("/leaderboards/weights/", method = "GET", method = "HEAD")]
pub async fn get_weights(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
) -> Result<HttpResponse, ApiError> {
    params::detail_query(&request)?;
    let weights = leaderboards::weights(&mut *ctx.conn().await?).await?;
    Ok(Rendered::ok(weights).respond(&request))
}

/// Sets weights: a JSON object of kind → points (any of the kinds) and `line_bonus_cap`;
/// kinds left out keep their weight. Boards use the new weights from the next request.
#[utoipa::path(put, tag = "leaderboards",
    request_body(content = Object, description = "`{\"commit\": 12, \"line_bonus_cap\": 500}`", content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Object, description = "Every weight, after the change"),
        (status = 400, body = ErrorView, description = "Not a JSON object, an unknown kind, or a value that is not a number of at least 0"),
        (status = 401, body = ErrorView, description = "No token"),
        (status = 403, body = ErrorView, description = "Unknown token"),
    ))]
#[put("/leaderboards/weights/")]
pub async fn put_weights(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    require_token(&request, &ctx).await?;
    let changes = parse_weights(&body)?;
    let mut conn = ctx.conn().await?;
    leaderboards::set_weights(&mut conn, &changes).await?;
    let weights = leaderboards::weights(&mut conn).await?;
    tracing::info!(changed = ?changes, "leaderboard weights set");
    Ok(Rendered::ok(weights).respond(&request))
}

/// Reads `{kind: number}`; every error names the key.
fn parse_weights(body: &[u8]) -> Result<BTreeMap<String, f64>, ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|error| ApiError::BadRequest(format!("Malformed JSON body: {error}")))?;
    let Value::Object(object) = value else {
        return Err(ApiError::BadRequest(
            "The body must be a JSON object of kind to points".into(),
        ));
    };
    let mut changes = BTreeMap::new();
    for (kind, points) in object {
        if !KINDS.contains(&kind.as_str()) && kind != LINE_BONUS_CAP {
            return Err(ApiError::BadRequest(format!(
                "Unknown kind: {kind} (weights exist for {} and {LINE_BONUS_CAP})",
                KINDS.join(", ")
            )));
        }
        let number = points
            .as_f64()
            .filter(|n| n.is_finite() && *n >= 0.0)
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "Invalid {kind}: expected a number of at least 0, got {points}"
                ))
            })?;
        changes.insert(kind, number);
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::{Board, parse_weights};

    #[test]
    fn the_default_window_counts_730_days_ending_today() {
        let board = Board::defaults(20);
        assert_eq!(board.until, chrono::Utc::now().date_naive());
        assert_eq!((board.until - board.since).num_days() + 1, 730);
        let query = board.query(None);
        assert_eq!((query.until - query.since).num_days(), 730);
        assert_eq!(query.limit, 20);
    }

    #[test]
    fn weights_name_what_is_wrong() {
        assert_eq!(
            parse_weights(br#"{"commit": 12, "line_bonus_cap": 0}"#)
                .expect("valid")
                .len(),
            2
        );
        let unknown = format!(
            "{:?}",
            parse_weights(br#"{"stars": 1}"#).expect_err("unknown")
        );
        assert!(unknown.contains("Unknown kind: stars"), "{unknown}");
        let negative = format!(
            "{:?}",
            parse_weights(br#"{"commit": -1}"#).expect_err("negative")
        );
        assert!(negative.contains("Invalid commit"), "{negative}");
        let text = format!(
            "{:?}",
            parse_weights(br#"{"commit": "ten"}"#).expect_err("text")
        );
        assert!(text.contains("Invalid commit"), "{text}");
        assert!(parse_weights(b"[1]").is_err());
    }
}
