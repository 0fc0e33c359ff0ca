//! A read-only resource, declared once: its path, fields, default ordering, record, view
//! and queries. From the one [`Resource`] impl come its list and detail routes, their
//! OpenAPI operations and parameters (every filter lookup of every field), the API root's
//! link, the browsable page with its filter form, and the 400s for unknown or malformed
//! parameters — the way DRF's `ReadOnlyModelViewSet` + `FilterSet` + `Router` do it.
//!
//! A resource is mounted with one line, `Collection::of::<R>()`, in [`crate::api::resources`];
//! its sub-collections (a list of its own records under another resource's item, such as a
//! repository's commits) are declared in [`Resource::nested`] with [`Collection::nested`].

use std::fmt::Display;
use std::future::Future;
use std::str::FromStr;

use actix_web::dev::{AppService, HttpServiceFactory};
use actix_web::{HttpRequest, HttpResponse, guard, web};
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use utoipa::openapi::path::{
    HttpMethod, OperationBuilder, Parameter, ParameterBuilder, ParameterIn, Paths, PathsBuilder,
};
use utoipa::openapi::response::{ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required};
use utoipa::{PartialSchema, ToSchema};
use utoipa_actix_web::OpenApiFactory;
use uuid::Uuid;

use crate::api::collection;
use crate::api::error::ApiError;
use crate::api::links::Links;
use crate::api::params::MAX_PAGE_SIZE;
use crate::api::post_form::PostForm;
use crate::api::render::{READ_ONLY, Rendered};
use crate::api::views::{ErrorView, Page};
use crate::context::AppContext;
use crate::db::DbError;
use crate::db::filter::{Field, Kind, ListQuery};
use crate::db::paginate;

/// What a resource says about itself; everything the API derives from it.
#[derive(Clone, Copy, Debug)]
pub struct Declaration {
    /// Its key among the API root's links (`event_gaps`).
    pub name: &'static str,
    /// The collection's path below `/github`, with both slashes (`/events/gaps/`); an item
    /// is at `{path}{id}/`.
    pub path: &'static str,
    /// One item, in words, for messages and docs (`gap`: "No gap with id …").
    pub singular: &'static str,
    /// The OpenAPI tag it is documented under.
    pub tag: &'static str,
    /// The fields lists filter and order by.
    pub fields: &'static [Field],
    /// The ordering of a list that names none (`-created_at`).
    pub ordering: &'static str,
    /// The list operation.
    pub list: Operation,
    /// The detail operation.
    pub detail: Operation,
}

/// An operation's OpenAPI name and summary.
#[derive(Clone, Copy, Debug)]
pub struct Operation {
    /// `operationId`, which clients generate method names from (`list_transfers`).
    pub id: &'static str,
    /// One sentence.
    pub summary: &'static str,
}

/// An item's id as its path segment gives it: a UUID, or a number.
pub trait ItemId: Copy + Display + FromStr + Send + 'static {
    /// Its OpenAPI schema.
    fn schema() -> Schema;
}

impl ItemId for Uuid {
    fn schema() -> Schema {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
            .into()
    }
}

impl ItemId for i64 {
    fn schema() -> Schema {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .into()
    }
}

/// A read-only resource: a list with filters, ordering and pages, and a detail.
pub trait Resource: 'static {
    /// What its queries load.
    type Record: Send + 'static;
    /// How a record is shown.
    type View: Serialize + ToSchema + 'static;
    /// Which records a list covers: [`Resource::ALL`], or a part under another resource's
    /// item (a repository's commits).
    type Scope: Copy + Send + 'static;
    /// An item's id.
    type Id: ItemId;

    /// Path, fields, ordering and docs.
    const DECLARATION: Declaration;
    /// The scope of the top-level list.
    const ALL: Self::Scope;

    /// The view of one record.
    fn view(record: Self::Record, links: &Links) -> Self::View;

    /// One page of a list.
    fn list(
        conn: &mut AsyncPgConnection,
        scope: Self::Scope,
        query: &ListQuery,
    ) -> impl Future<Output = Result<paginate::Page<Self::Record>, DbError>> + Send;

    /// One record by id.
    fn get(
        conn: &mut AsyncPgConnection,
        id: Self::Id,
    ) -> impl Future<Output = Result<Option<Self::Record>, DbError>> + Send;

    /// The methods its list path answers (`Allow`): a list that also creates says so.
    const LIST_ALLOW: &'static str = READ_ONLY;
    /// The methods an item's path answers (`Allow`).
    const DETAIL_ALLOW: &'static str = READ_ONLY;

    /// A check of a parsed list request beyond what the declared fields can say (none by
    /// default; tasks refuse a `name` no registered job kind has).
    fn check(_query: &ListQuery, _request: &HttpRequest) -> Result<(), ApiError> {
        Ok(())
    }

    /// The form of the body a `POST` to its list takes, shown on the browsable list (none
    /// by default: the list only reads). A writable resource declares it from the request
    /// type documenting its `POST` ([`PostForm::of`]); tasks from the job registry.
    fn post_form(_request: &HttpRequest) -> Option<PostForm> {
        None
    }

    /// Additions to a rendered list (none by default).
    fn decorate(rendered: Rendered, _request: &HttpRequest) -> Rendered {
        rendered
    }

    /// The sub-collections declared with this resource ([`Collection::nested`]).
    fn nested() -> Vec<Collection> {
        Vec::new()
    }
}

/// The routes and documentation of one resource (or sub-collection), ready to mount.
pub struct Collection {
    routes: Vec<actix_web::Resource>,
    paths: Paths,
    schemas: Vec<(String, RefOr<Schema>)>,
    links: Vec<(&'static str, &'static str)>,
}

impl Collection {
    /// The list and detail of `R`, then its sub-collections.
    pub fn of<R: Resource>() -> Self {
        let declaration = R::DECLARATION;
        let list_path = declaration.path;
        let detail_path = format!("{list_path}{{id}}/");
        let mut collection = Self {
            routes: vec![
                get_route(list_path).to(list::<R>),
                get_route(&detail_path).to(detail::<R>),
            ],
            paths: PathsBuilder::new()
                .path(
                    list_path,
                    list_operation::<R>(declaration.list, None).into_item(),
                )
                .path(detail_path, detail_operation::<R>().into_item())
                .build(),
            schemas: schemas::<R::View>(),
            links: vec![(declaration.name, list_path)],
        };
        for nested in R::nested() {
            collection.add(nested);
        }
        collection
    }

    /// A list of `C`'s records under an item of `P` (`/{P}/{id}/{segment}/`): 404 when no
    /// such item exists, else `C`'s list in the scope `scope(id)` gives.
    pub fn nested<P, C>(
        segment: &'static str,
        operation: Operation,
        scope: fn(Uuid) -> C::Scope,
    ) -> Self
    where
        P: Resource<Id = Uuid>,
        C: Resource,
    {
        let path = format!("{}{{id}}/{segment}/", P::DECLARATION.path);
        let handler = move |request: HttpRequest,
                            ctx: web::Data<AppContext>,
                            id: web::Path<String>| async move {
            let id = existing::<P>(&ctx, &id).await?;
            respond_list::<C>(&request, &ctx, scope(id), READ_ONLY, None).await
        };
        Self {
            routes: vec![get_route(&path).to(handler)],
            paths: PathsBuilder::new()
                .path(
                    path,
                    list_operation::<C>(operation, Some(P::DECLARATION)).into_item(),
                )
                .build(),
            schemas: schemas::<C::View>(),
            links: Vec::new(),
        }
    }

    /// The root links this collection contributes: (name, path below `/github`).
    pub fn links(&self) -> &[(&'static str, &'static str)] {
        &self.links
    }

    fn add(&mut self, other: Collection) {
        self.routes.extend(other.routes);
        self.paths.merge(other.paths);
        self.schemas.extend(other.schemas);
        self.links.extend(other.links);
    }
}

impl HttpServiceFactory for Collection {
    fn register(self, config: &mut AppService) {
        for route in self.routes {
            route.register(config);
        }
    }
}

impl OpenApiFactory for Collection {
    fn paths(&self) -> Paths {
        self.paths.clone()
    }

    fn schemas(&self, schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.extend(self.schemas.iter().cloned());
    }
}

/// A resource answering `GET` and `HEAD`, as `#[route(.., method = "GET", method = "HEAD")]`
/// mounts one: other methods fall through to the next resource with the same path.
fn get_route(path: &str) -> actix_web::Resource {
    web::resource(path).guard(guard::Any(guard::Get()).or(guard::Head()))
}

async fn list<R: Resource>(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
) -> Result<HttpResponse, ApiError> {
    let post = R::post_form(&request);
    respond_list::<R>(&request, &ctx, R::ALL, R::LIST_ALLOW, post).await
}

/// A list of `R` in `scope`, answering `allow` in `Allow` (a sub-collection only reads),
/// its browsable page with the `post` form if any.
async fn respond_list<R: Resource>(
    request: &HttpRequest,
    ctx: &AppContext,
    scope: R::Scope,
    allow: &'static str,
    post: Option<PostForm>,
) -> Result<HttpResponse, ApiError> {
    let declaration = R::DECLARATION;
    let rendered = collection::list(
        request,
        ctx,
        declaration.fields,
        declaration.ordering,
        |query| R::check(query, request),
        |mut conn, query| async move { R::list(&mut conn, scope, &query).await },
        R::view,
    )
    .await?
    .with_allow(allow)
    .with_post_form(post);
    Ok(R::decorate(rendered, request).respond(request))
}

async fn detail<R: Resource>(
    request: HttpRequest,
    ctx: web::Data<AppContext>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let singular = R::DECLARATION.singular;
    let id = item_id::<R::Id>(&id, singular)?;
    let record = R::get(&mut *ctx.conn().await?, id).await?;
    Ok(collection::detail(
        &request,
        &ctx,
        record,
        || format!("No {singular} with id {id}."),
        R::view,
    )?
    .with_allow(R::DETAIL_ALLOW)
    .respond(&request))
}

/// Parses a path id; anything that is not an id names nothing (404).
pub fn item_id<I: ItemId>(raw: &str, singular: &str) -> Result<I, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::NotFound(format!("No {singular} with id {raw:?}.")))
}

/// The id of a stored item of `R` a path segment names, or 404 naming it.
pub async fn existing<R: Resource>(ctx: &AppContext, raw: &str) -> Result<R::Id, ApiError> {
    let singular = R::DECLARATION.singular;
    let id = item_id::<R::Id>(raw, singular)?;
    match R::get(&mut *ctx.conn().await?, id).await? {
        Some(_) => Ok(id),
        None => Err(ApiError::NotFound(format!("No {singular} with id {id}."))),
    }
}

// ---------------------------------------------------------------------------
// Documentation
// ---------------------------------------------------------------------------

/// The name the document gives the schema of a page of `V` (`Page_TransferView`).
fn page_schema_name<V: ToSchema>() -> String {
    format!("Page_{}", V::name())
}

/// The schemas a resource's operations refer to: its view, a page of it, what the view
/// refers to, and the error.
fn schemas<V: ToSchema>() -> Vec<(String, RefOr<Schema>)> {
    let mut schemas = vec![
        (V::name().into_owned(), V::schema()),
        (page_schema_name::<V>(), Page::<V>::schema()),
        (ErrorView::name().into_owned(), ErrorView::schema()),
    ];
    V::schemas(&mut schemas);
    schemas
}

fn json_ref(name: impl Into<String>) -> utoipa::openapi::Content {
    ContentBuilder::new()
        .schema(Some(Ref::from_schema_name(name)))
        .build()
}

/// An answer with the JSON of this schema (the document adds the browsable page to
/// every 200 that takes `format`, see `openapi::document_browsable_pages`).
fn response(name: impl Into<String>) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .content("application/json", json_ref(name))
        .build()
}

fn error_response() -> utoipa::openapi::Response {
    response(ErrorView::name())
}

/// The `id` path parameter of an item of a `singular`.
fn id_parameter<I: ItemId>(singular: &str) -> Parameter {
    ParameterBuilder::new()
        .name("id")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(format!("The {singular}'s id")))
        .schema(Some(I::schema()))
        .build()
}

fn query_parameter(name: &str, description: String, schema: impl Into<Schema>) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Query)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(schema.into()))
        .build()
}

/// The list operation of `R`; a sub-collection's is under an item of `parent`, and
/// documented with it.
fn list_operation<R: Resource>(
    operation: Operation,
    parent: Option<Declaration>,
) -> utoipa::openapi::path::Operation {
    let declaration = R::DECLARATION;
    let tag = parent.map_or(declaration.tag, |parent| parent.tag);
    let mut parameters: Vec<Parameter> = parent
        .map(|parent| id_parameter::<Uuid>(parent.singular))
        .into_iter()
        .collect();
    parameters.extend(list_parameters(declaration.ordering));
    for field in declaration.fields {
        for lookup in field.lookups() {
            parameters.push(filter_parameter(field, lookup));
        }
    }
    OperationBuilder::new()
        .operation_id(Some(operation.id))
        .summary(Some(operation.summary))
        .tag(tag)
        .parameters(Some(parameters))
        .responses(
            ResponsesBuilder::new()
                .response("200", response(page_schema_name::<R::View>()))
                .response("400", error_response())
                .response("404", error_response())
                .build(),
        )
        .build()
}

fn detail_operation<R: Resource>() -> utoipa::openapi::path::Operation {
    let declaration = R::DECLARATION;
    OperationBuilder::new()
        .operation_id(Some(declaration.detail.id))
        .summary(Some(declaration.detail.summary))
        .tag(declaration.tag)
        .parameters(Some([
            id_parameter::<R::Id>(declaration.singular),
            format_parameter(),
        ]))
        .responses(
            ResponsesBuilder::new()
                .response("200", response(R::View::name()))
                .response("400", error_response())
                .response("404", error_response())
                .build(),
        )
        .build()
}

trait IntoItem {
    fn into_item(self) -> utoipa::openapi::path::PathItem;
}

impl IntoItem for utoipa::openapi::path::Operation {
    fn into_item(self) -> utoipa::openapi::path::PathItem {
        utoipa::openapi::path::PathItem::new(HttpMethod::Get, self)
    }
}

/// `page`, `page_size`, `ordering`, `cursor` and `format`, which every list takes.
fn list_parameters(ordering: &str) -> [Parameter; 5] {
    let page_number = |minimum: u32, maximum: Option<u32>| {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
            .minimum(Some(minimum))
            .maximum(maximum)
    };
    [
        query_parameter(
            "page",
            "1-based page number (default 1); a page past the last answers 404.".into(),
            page_number(1, None),
        ),
        query_parameter(
            "page_size",
            format!("Items per page, 1-{MAX_PAGE_SIZE} (default 10)."),
            page_number(1, Some(MAX_PAGE_SIZE)),
        ),
        query_parameter(
            "ordering",
            format!(
                "A field to order by, `-` first for descending (default `{ordering}`); rows without a value come last either way, and `id` breaks ties in the same direction."
            ),
            ObjectBuilder::new().schema_type(Type::String),
        ),
        query_parameter(
            "cursor",
            "An opaque position from a `next` or `previous` link: the page after (or before) it, at the same cost at any depth; `page` is then ignored. Left empty, the first page walked by cursor. A cursor of another list or ordering, or an altered one, answers 400.".into(),
            ObjectBuilder::new().schema_type(Type::String),
        ),
        format_parameter(),
    ]
}

/// `format`, which lists and items take: `json` or the browsable page.
fn format_parameter() -> Parameter {
    query_parameter(
        "format",
        "`json` forces JSON, `api` or `html` the browsable HTML (default: by Accept).".into(),
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(["json", "api", "html"])),
    )
}

/// The parameter of one lookup of one field (`from_number__lte`).
pub fn filter_parameter(field: &Field, lookup: &str) -> Parameter {
    let (schema_type, format, meaning) = match (lookup, field.kind) {
        ("__isnull", _) => (Type::Boolean, None, "is (true) or is not (false) null"),
        (_, Kind::TextArray) => (Type::String, None, "has this element (exact)"),
        ("__contains", _) => (Type::String, None, "contains, case-insensitive"),
        ("__lte", Kind::Integer) => (Type::Integer, None, "at most"),
        ("__gte", Kind::Integer) => (Type::Integer, None, "at least"),
        ("__lte", _) => (
            Type::String,
            Some(KnownFormat::DateTime),
            "at or before (RFC 3339 or YYYY-MM-DD)",
        ),
        ("__gte", _) => (
            Type::String,
            Some(KnownFormat::DateTime),
            "at or after (RFC 3339 or YYYY-MM-DD)",
        ),
        (_, Kind::Text) => (Type::String, None, "equals"),
        (_, Kind::Integer) => (Type::Integer, None, "equals"),
        (_, Kind::Timestamp) => (Type::String, Some(KnownFormat::DateTime), "equals"),
        (_, Kind::Boolean) => (Type::Boolean, None, "equals"),
        (_, Kind::Choice(_)) => (Type::String, None, "equals"),
        (_, Kind::Include(_)) => (Type::Boolean, None, ""),
        (_, Kind::Float) => (Type::Number, Some(KnownFormat::Double), "equals"),
        (_, Kind::Search { .. }) => (Type::String, None, ""),
    };
    let mut schema = ObjectBuilder::new().schema_type(schema_type);
    if let (Kind::Choice(values), "") = (field.kind, lookup) {
        schema = schema.enum_values(Some(values.iter().copied()));
    }
    if let Some(format) = format {
        schema = schema.format(Some(SchemaFormat::KnownFormat(format)));
    }
    let description = match field.kind {
        Kind::Include(column) => format!(
            "{}: true lists those whose {column} is set too (left out by default)",
            field.name
        ),
        Kind::Search { over, exact } => format!(
            "Words to find in {over}: each word of the search (a run of letters and digits) \
             must begin a word of one of them, case- and accent-insensitively. Combines with \
             every filter. Without an `ordering`, results come by relevance: a {exact} equal \
             to the whole search first, then by rank (PostgreSQL's ts_rank), then by {exact}; \
             that order ranks every match of a search matching up to {} rows (of one \
             matching far more, only the first {} found, taken from a fixed eighth of the \
             rows when it matches up to about {}), is paged by `page` only (`cursor` answers \
             400) and an `ordering` walks every match. Empty, or without a letter or digit, \
             it filters nothing.",
            crate::db::paginate::EXACT_COUNT_LIMIT,
            crate::db::filter::RANKED_MATCHES,
            crate::db::paginate::SAMPLED_SEARCH_MAX
        ),
        _ => format!("{}: {meaning}", field.name),
    };
    query_parameter(&format!("{}{lookup}", field.name), description, schema)
}
