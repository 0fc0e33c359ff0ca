//! `ApiError`: every failure at the HTTP edge, rendered as `{"error": "..."}`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::db::DbError;

/// An error answered to an API client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed input: the message names the parameter and what is wrong.
    #[error("{0}")]
    BadRequest(String),
    /// No credentials were given.
    #[error("Authentication credentials were not provided.")]
    Unauthorized,
    /// The credentials given are not valid.
    #[error("Invalid token.")]
    Forbidden,
    /// The path names nothing.
    #[error("{0}")]
    NotFound(String),
    /// The path names a resource that does not answer this method.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The body is larger than accepted.
    #[error("Request body too large: at most {0} bytes")]
    PayloadTooLarge(usize),
    /// The body is neither JSON nor a form.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Well-formed, but more than the service answers (a search grown too large).
    #[error("{0}")]
    Unprocessable(String),
    /// A dependency (database, broker) is down.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A bug: the cause is logged where this is made, never shown to the client.
    #[error("internal error")]
    Internal,
}

impl From<DbError> for ApiError {
    /// 503 when the database is out of reach or a query ran out of time, else 500; the
    /// cause is logged here, once.
    fn from(error: DbError) -> Self {
        if error.is_statement_timeout() {
            tracing::warn!(%error, "a request's query ran past the statement timeout");
            ApiError::Unavailable(
                "the query took longer than the statement timeout (WEB_STATEMENT_TIMEOUT_MS); narrow the request".into(),
            )
        } else if error.is_unavailable() {
            tracing::error!(%error, "database unavailable answering a request");
            ApiError::Unavailable("the database is not answering".into())
        } else {
            tracing::error!(%error, "database error answering a request");
            ApiError::Internal
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::Unauthorized) {
            response.insert_header(("WWW-Authenticate", "Bearer"));
        }
        response.json(json!({ "error": self.to_string() }))
    }
}
