//! `GET /github/`: the API root, linking every collection and the docs.

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde_json::json;

use crate::api::links::Links;
use crate::context::AppContext;

/// Links to every resource collection and to the API documentation.
#[get("/github/")]
pub async fn get_root(request: HttpRequest, ctx: web::Data<AppContext>) -> HttpResponse {
    let links = Links::new(&request, &ctx.config);
    HttpResponse::Ok().json(json!({
        "developers": links.url("/github/developers/"),
        "repositories": links.url("/github/repositories/"),
        "rate_limit": links.url("/github/rate_limit/"),
        "tasks": links.url("/github/tasks/"),
        "docs": {
            "swagger": links.url("/github/swagger/"),
            "openapi": links.url("/github/swagger.json"),
            "redoc": links.url("/github/redoc/"),
        },
    }))
}
