//! `/github/tasks/`: task runs, and `POST` to trigger one.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::Deserialize;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::api::auth::require_token;
use crate::api::error::ApiError;
use crate::api::links::Links;
use crate::api::post_form::PostForm;
use crate::api::render::{READ_AND_POST, Rendered};
use crate::api::resource::{Declaration, Operation, Resource};
use crate::api::views::ErrorView;
use crate::context::AppContext;
use crate::db::DbError;
use crate::db::filter::ListQuery;
use crate::db::paginate::Page;
use crate::db::queries::tasks::{self, NewTask, TaskRow, TaskStatus};
use crate::db::queries::tracked;
use crate::jobs::activity::FULL_NAME;
use crate::jobs::{Args, Registry, enqueue};

/// Largest accepted trigger body.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// A task trigger (JSON or form body): the task's name and its arguments, in `args` or as
/// top-level fields (a form's fields are top-level).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TaskRequest {
    /// The job kind (the document's enum lists every kind this server runs).
    #[schema(example = "full_profile_sync")]
    name: Option<String>,
    /// GitHub login (`[A-Za-z0-9-]{1,39}`), for full_profile_sync and full_repository_sync.
    #[schema(value_type = Option<String>, example = "octocat")]
    username: Option<Value>,
    /// Repository name (`[A-Za-z0-9._-]{1,100}`), for full_repository_sync.
    #[schema(value_type = Option<String>, example = "hello-world")]
    repo_name: Option<Value>,
    /// The job's arguments as an object; each must be one the job takes.
    #[schema(value_type = Option<Object>, example = json!({"username": "octocat"}))]
    args: Option<Map<String, Value>>,
    /// Any other top-level field: an argument of the job, as a form sends it.
    #[serde(flatten)]
    #[schema(ignore)]
    top_level: Map<String, Value>,
}

impl TaskRequest {
    /// The trigger in a body's fields: the task's name and its arguments; a 400 names
    /// the field that is not what it should be.
    fn parse(fields: Map<String, Value>) -> Result<(Option<String>, Args), ApiError> {
        let request: TaskRequest = serde_path_to_error::deserialize(Value::Object(fields))
            .map_err(|error| {
                ApiError::BadRequest(match error.path().to_string().as_str() {
                    "name" => "name must be a string".into(),
                    "args" => "args must be a JSON object".into(),
                    path => format!("Invalid {path}: {}", error.inner()),
                })
            })?;
        let mut top_level = request.top_level;
        if let Some(username) = request.username {
            top_level.insert("username".into(), username);
        }
        if let Some(repo_name) = request.repo_name {
            top_level.insert("repo_name".into(), repo_name);
        }
        let args = Args::new(request.args.unwrap_or_default(), top_level)
            .map_err(|error| ApiError::BadRequest(error.to_string()))?;
        Ok((request.name, args))
    }
}

/// Task runs; `POST` triggers one.
pub struct Tasks;

impl Resource for Tasks {
    type Record = TaskRow;
    type View = TaskView;
    type Scope = ();
    type Id = Uuid;

    const DECLARATION: Declaration = Declaration {
        name: "tasks",
        path: "/tasks/",
        singular: "task",
        tag: "tasks",
        fields: tasks::FIELDS,
        ordering: "-created_at",
        list: Operation {
            id: "list_tasks",
            summary: "Lists task runs, newest first.",
        },
        detail: Operation {
            id: "get_task",
            summary: "One task run.",
        },
    };
    const ALL: () = ();

    fn view(record: TaskRow, links: &Links) -> TaskView {
        TaskView::new(record, links)
    }

    async fn list(
        conn: &mut AsyncPgConnection,
        (): (),
        query: &ListQuery,
    ) -> Result<Page<TaskRow>, DbError> {
        tasks::list(conn, query).await
    }

    async fn get(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Option<TaskRow>, DbError> {
        tasks::find(conn, id).await
    }

    const LIST_ALLOW: &'static str = READ_AND_POST;

    /// `name` is an enumerated field whose values the registry knows (not a fixed list):
    /// an exact `name=` filter on a kind nobody registered is a 400, like `status=bogus`.
    fn check(query: &ListQuery, request: &HttpRequest) -> Result<(), ApiError> {
        let Some(registry) = request.app_data::<web::Data<Registry>>() else {
            return Ok(());
        };
        let names = registry.names();
        match query
            .exact_values("name")
            .find(|name| !names.contains(name))
        {
            Some(unknown) => Err(ApiError::BadRequest(format!(
                "Invalid value for name: expected one of {}, got {:?}",
                names.join(", "),
                unknown.chars().take(100).collect::<String>()
            ))),
            None => Ok(()),
        }
    }

    /// The browsable list carries the form that triggers a task ([`create_task`]): one
    /// option per registered kind and its arguments.
    fn post_form(request: &HttpRequest) -> Option<PostForm> {
        let registry = request.app_data::<web::Data<Registry>>()?;
        Some(PostForm::trigger(registry))
    }
}

/// Triggers a task; an identical queued, running or deferred task is returned instead of
/// a second one.
#[utoipa::path(post, tag = "tasks",
    request_body(content(
        (TaskRequest = "application/json"),
        (TaskRequest = "application/x-www-form-urlencoded"),
    )),
    security(("bearer" = [])),
    responses(
        (status = 202, body = TaskView, description = "Queued (or the identical active task); Location names it",
         headers(("Location" = String, description = "The task's URL"))),
        (status = 400, body = ErrorView, description = "Missing or invalid field, malformed body"),
        (status = 401, body = ErrorView, description = "No token"),
        (status = 403, body = ErrorView, description = "Unknown token"),
        (status = 413, body = ErrorView, description = "Body over 16 KiB"),
        (status = 415, body = ErrorView, description = "Neither JSON nor a form"),
    ))]
#[post("/tasks/")]
pub async fn create_task(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    registry: web::Data<Registry>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    require_token(&request, &ctx).await?;
    let body = read_body(payload).await?;
    let (name, args) = TaskRequest::parse(body_fields(&request, &body)?)?;
    let task = registry
        .parse(name.as_deref(), args)
        .map_err(|error| ApiError::BadRequest(error.to_string()))?;
    lift_block(&ctx, &task).await?;
    let (task, created) = enqueue(&ctx, &task).await?;
    tracing::info!(task.id = %task.id, task.name = %task.name, created, "task triggered");
    let links = Links::new(&request, &ctx.config);
    let location = links.task(task.id);
    Ok(Rendered::accepted(TaskView::new(task, &links), location).respond(&request))
}

/// A task posted by hand for a tracked repository (its `full_name` argument) lifts the pause
/// a GitHub block put on it: the task runs, and the scheduled jobs take it up again.
async fn lift_block(ctx: &AppContext, task: &NewTask) -> Result<(), ApiError> {
    let Some(full_name) = task.args.get(FULL_NAME.name).and_then(Value::as_str) else {
        return Ok(());
    };
    if tracked::lift_block(&mut *ctx.conn().await?, full_name).await? {
        tracing::info!(repository = %full_name, task.name = %task.name, "a task posted by hand lifts the block");
    }
    Ok(())
}

/// Reads a request body of at most [`MAX_BODY_BYTES`].
pub(crate) async fn read_body(mut payload: web::Payload) -> Result<web::BytesMut, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|error| ApiError::BadRequest(format!("Unreadable body: {error}")))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge(MAX_BODY_BYTES));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The fields of a JSON object or form body (an empty body has none).
pub(crate) fn body_fields(
    request: &HttpRequest,
    body: &[u8],
) -> Result<Map<String, Value>, ApiError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let fields: Map<String, Value> = match content_type.as_str() {
        "application/x-www-form-urlencoded" => {
            serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
                .map_err(|error| ApiError::BadRequest(format!("Malformed form body: {error}")))?
                .into_iter()
                .map(|(key, value)| (key, Value::String(value)))
                .collect()
        }
        "application/json" | "" => {
            if body.iter().all(u8::is_ascii_whitespace) {
                Map::new()
            } else {
                match serde_json::from_slice(body) {
                    Ok(Value::Object(map)) => map,
                    Ok(_) => {
                        return Err(ApiError::BadRequest(
                            "Malformed JSON body: expected an object".into(),
                        ));
                    }
                    Err(error) => {
                        return Err(ApiError::BadRequest(format!(
                            "Malformed JSON body: {error}"
                        )));
                    }
                }
            }
        }
        other => {
            return Err(ApiError::UnsupportedMediaType(format!(
                "Unsupported content type {other:?}: send application/json or application/x-www-form-urlencoded"
            )));
        }
    };
    Ok(fields)
}

/// One task run.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskView {
    pub url: String,
    pub id: Uuid,
    /// The job kind.
    pub name: String,
    /// The job's arguments.
    #[schema(value_type = Object)]
    pub args: serde_json::Value,
    /// The login argument, for full_profile_sync and full_repository_sync.
    pub username: Option<String>,
    /// The repository argument, for full_repository_sync.
    pub repo_name: Option<String>,
    pub status: TaskStatus,
    /// Runs started so far.
    pub attempts: i32,
    /// When a deferred task runs again.
    pub not_before: Option<DateTime<Utc>>,
    /// Why the task failed, or why it was last deferred; for a succeeded task, a note on
    /// how it did its work when the operator should know (a GraphQL batch that handed
    /// developers to REST).
    pub error: Option<String>,
    /// Quota-costing GitHub requests spent (304s are free and not counted).
    pub github_requests: i32,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl TaskView {
    /// The view of a row.
    pub fn new(row: TaskRow, links: &Links) -> Self {
        Self {
            url: links.task(row.id),
            id: row.id,
            name: row.name,
            args: row.args,
            username: row.username,
            repo_name: row.repo_name,
            status: row.status,
            attempts: row.attempts,
            not_before: row.not_before,
            error: row.error,
            github_requests: row.github_requests,
            created_at: row.created_at,
            started_at: row.started_at,
            finished_at: row.finished_at,
        }
    }
}
