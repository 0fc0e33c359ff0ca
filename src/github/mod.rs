//! GitHub: the one client every request goes through, its payload types and the throttle.

pub mod activity;
pub mod client;
pub mod error;
pub mod graphql;
pub mod headers;
pub mod paging;
pub mod pool;
pub mod throttle;
pub mod types;

pub use client::{ClientOptions, GithubClient, RequestStats};
pub use error::GithubError;
pub use paging::{BeyondFullPage, Conditional, ListPage, PageItems};
pub use pool::Resource;
