//! Absolute hyperlinks: the API's base URL from PUBLIC_URL or the request's Host.

use actix_web::HttpRequest;

use crate::config::Config;

/// Builds absolute URLs for one request.
#[derive(Clone, Debug)]
pub struct Links {
    base: String,
}

impl Links {
    /// The base is PUBLIC_URL when set, else the scheme and Host the client used.
    pub fn new(request: &HttpRequest, config: &Config) -> Self {
        let base = match &config.public_url {
            Some(url) => url.as_str().trim_end_matches('/').to_owned(),
            None => {
                let info = request.connection_info();
                format!("{}://{}", info.scheme(), info.host())
            }
        };
        Self { base }
    }

    /// The absolute URL of an API path (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}
