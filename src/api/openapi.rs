//! The OpenAPI 3 document (utoipa) and the docs pages: Swagger UI at `/github/swagger/`,
//! the document at `/github/swagger.json`, Redoc at `/github/redoc/`, all served offline.

use actix_web::{App, HttpResponse, route, web};
use utoipa::openapi::path::{Operation, Parameter};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, RefOr};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

use crate::api::Resources;
use crate::api::fallback;
use crate::api::root::Collections;
use crate::jobs::Registry;

/// The vendored Redoc bundle (see vendor/redoc/).
const REDOC_JS: &[u8] = include_bytes!("../../vendor/redoc/redoc.standalone.js");

/// Redoc's page, loading the bundle from this server instead of a CDN.
const REDOC_HTML: &str = r#"<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>gitomatic API – Redoc</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{margin:0;padding:0}</style></head>
<body><div id="redoc-container"></div>
<script src="/github/redoc/redoc.standalone.js"></script>
<script>Redoc.init($spec, $config, document.getElementById("redoc-container"));</script>
</body></html>"#;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "gitomatic",
        description = "GitHub developer and repository discovery: a crawl of the follower network, served as a hyperlinked, paginated API. Lists accept `page`, `page_size`, `ordering` and Django-style filters (`field`, `field__lte`, `field__gte`, `field__isnull`, `field__contains`; on a list field such as `labels`, `field__contains` is an element)."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "developers", description = "GitHub developers and their relations"),
        (name = "repositories", description = "GitHub repositories and their stargazers"),
        (name = "rate_limit", description = "The GitHub quota as last seen"),
        (name = "tasks", description = "Crawl task runs and triggers"),
        (name = "activity", description = "Repository activity: tracked repositories and organizations, issues, pull requests, timelines, transfers, members, commits, releases"),
        (name = "events", description = "Event metrics: GitHub's public events as polled, the gaps polls detected, metrics over them and their charts"),
        (name = "webhooks", description = "GitHub webhook deliveries: received, stored, applied"),
        (name = "meta", description = "API root and health"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A token from `gitomatic token create NAME`"))
                    .build(),
            ),
        );
    }
}

/// The complete document: the paths and schemas of every route [`crate::api::routes`]
/// registers (a resource's filter parameters come with it, see [`crate::api::resource`]).
pub fn document(registry: &Registry) -> Document {
    document_with(registry, crate::api::resources)
}

/// The document of an API serving these read-only resources (see [`crate::api::serve_with`]).
pub fn document_with(registry: &Registry, resources: Resources) -> Document {
    // The same registration `serve` mounts, on an app that is never run.
    let (_, mut doc) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(|cfg| crate::api::routes(cfg, resources))
        .split_for_parts();
    document_task_names(&mut doc, registry);
    document_root_links(&mut doc, &Collections::of(resources));
    document_browsable_pages(&mut doc);
    doc
}

/// Every `GET` whose `format` offers the browsable page (`api`) answers its 200 as that
/// HTML page too (with `format=api`, or to a browser's `Accept`): the document says so. The
/// export's `format` (`jsonl`, `csv`, `graphml`) is its own and offers no page.
fn document_browsable_pages(doc: &mut Document) {
    let takes_format = |operation: &Operation| {
        operation
            .parameters
            .iter()
            .flatten()
            .any(|parameter| matches!(parameter, RefOr::T(parameter) if offers_page(parameter)))
    };
    for item in doc.paths.paths.values_mut() {
        let Some(operation) = item
            .get
            .as_mut()
            .filter(|operation| takes_format(operation))
        else {
            continue;
        };
        if let Some(RefOr::T(ok)) = operation.responses.responses.get_mut("200") {
            ok.content.entry("text/html".to_owned()).or_insert_with(|| {
                RefOr::T(
                    ContentBuilder::new()
                        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                        .build(),
                )
            });
        }
    }
}

/// Whether `parameter` is the rendering's `format`: one whose values include `api`.
fn offers_page(parameter: &Parameter) -> bool {
    parameter.name == "format"
        && matches!(
            &parameter.schema,
            Some(RefOr::T(Schema::Object(schema)))
                if schema.enum_values.iter().flatten().any(|value| value == "api")
        )
}

/// The root's link to every collection, a required string property each, from the same
/// declarations that mount them.
fn document_root_links(doc: &mut Document, collections: &Collections) {
    let Some(RefOr::T(Schema::Object(root))) = doc
        .components
        .as_mut()
        .and_then(|components| components.schemas.get_mut("RootView"))
    else {
        return;
    };
    for (name, path) in &collections.0 {
        let link = ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(format!("`/github{path}`")));
        root.properties.insert((*name).to_owned(), link.into());
        root.required.push((*name).to_owned());
    }
}

/// The task `name` of triggers and task resources: an enum of the registry's kinds, each
/// described with its arguments.
fn document_task_names(doc: &mut Document, registry: &Registry) {
    let names: Vec<serde_json::Value> = registry.names().into_iter().map(Into::into).collect();
    let described: Vec<String> = registry
        .kinds()
        .map(|kind| {
            let args: Vec<String> = kind
                .args()
                .iter()
                .map(|arg| {
                    let optional = if arg.required { "" } else { ", optional" };
                    format!("`{}` ({}{optional})", arg.name, arg.description)
                })
                .collect();
            let args = if args.is_empty() {
                "no arguments".to_owned()
            } else {
                args.join(", ")
            };
            format!(
                "`{}`: {} Arguments: {args}.",
                kind.name(),
                kind.description()
            )
        })
        .collect();
    // The task list's exact `name` filter accepts the same kinds (anything else is a 400).
    if let Some(parameters) = doc
        .paths
        .paths
        .get_mut("/github/tasks/")
        .and_then(|item| item.get.as_mut())
        .and_then(|operation| operation.parameters.as_mut())
        && let Some(RefOr::T(filter)) = parameters
            .iter_mut()
            .find(|p| matches!(p, RefOr::T(p) if p.name == "name"))
        && let Some(RefOr::T(Schema::Object(schema))) = filter.schema.as_mut()
    {
        schema.enum_values = Some(names.clone());
    }
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    for schema in ["TaskRequest", "TaskView"] {
        if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(schema)
            && let Some(RefOr::T(Schema::Object(name))) = object.properties.get_mut("name")
        {
            name.enum_values = Some(names.clone());
            name.description = Some(format!("The job kind. {}", described.join(" ")));
        }
    }
}

/// Mounts the documentation, which is not itself documented: Swagger UI, the document,
/// Redoc and its script, and the redirects of their paths without a trailing slash.
///
/// Mount it before the `/github` scope so that these stay public.
pub fn docs(cfg: &mut web::ServiceConfig, document: Document) {
    cfg.service(swagger_ui(document))
        .service(get_redoc)
        .service(get_redoc_script)
        .service(web::resource(["/github/swagger", "/github/redoc"]).to(fallback::add_slash));
}

/// Swagger UI (vendored, no download) serving the document at `/github/swagger.json`.
fn swagger_ui(document: Document) -> utoipa_swagger_ui::SwaggerUi {
    // The `{_:.*}` tail serves the UI's own files from below the page.
    utoipa_swagger_ui::SwaggerUi::new("/github/swagger/{_:.*}")
        .url("/github/swagger.json", document)
}

/// Redoc's page.
#[route("/github/redoc/", method = "GET", method = "HEAD")]
pub async fn get_redoc(html: web::Data<RedocPage>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(html.0.clone())
}

/// The vendored Redoc script.
#[route("/github/redoc/redoc.standalone.js", method = "GET", method = "HEAD")]
pub async fn get_redoc_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .body(REDOC_JS)
}

/// Redoc's HTML, rendered once.
pub struct RedocPage(String);

impl RedocPage {
    /// Renders the page with the document inlined.
    pub fn new(document: Document) -> Self {
        Self(
            utoipa_redoc::Redoc::new(document)
                .custom_html(REDOC_HTML)
                .to_html(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_list_and_only_a_list_gets_filter_parameters() {
        let doc = serde_json::to_value(document(&Registry::builtin())).expect("json");
        let mut lists = 0;
        for (path, item) in doc["paths"].as_object().expect("paths") {
            let Some(parameters) = item["get"]["parameters"].as_array() else {
                continue;
            };
            let names: Vec<&str> = parameters
                .iter()
                .filter_map(|p| p["name"].as_str())
                .collect();
            let filters = names.iter().filter(|name| name.contains("__")).count();
            if names.contains(&"ordering") {
                lists += 1;
                assert!(filters > 0, "{path} orders but documents no filter lookup");
            } else {
                assert_eq!(filters, 0, "{path} is no list but documents filter lookups");
            }
        }
        assert!(lists >= 27, "only {lists} lists documented");
    }

    #[test]
    fn a_choice_is_documented_as_an_enum() {
        let doc = serde_json::to_value(document(&Registry::builtin())).expect("json");
        let status = doc["paths"]["/github/tasks/"]["get"]["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .find(|parameter| parameter["name"] == "status")
            .expect("a status filter")
            .clone();
        assert_eq!(
            status["schema"]["enum"],
            serde_json::json!(["queued", "running", "deferred", "succeeded", "failed"])
        );
    }
}
