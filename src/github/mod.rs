//! GitHub: the one client every request goes through, its payload types and the throttle.
//!
//! Layers, each using only those below it: `client` (the typed requests) over the
//! interpreters `rest`, `paging` and `graphql`, over `pipeline` (the one request loop), over
//! `ledger` (the identity pool's quota bookkeeping) and `identity` (one token's HTTP client).

pub mod activity;
pub mod client;
pub mod error;
pub mod graphql;
pub mod headers;
mod identity;
pub mod ledger;
pub mod paging;
mod pipeline;
pub mod rest;
pub mod throttle;
pub mod types;
pub mod webhook;

pub use client::{ClientOptions, GithubClient, RequestStats};
pub use error::GithubError;
pub use ledger::Resource;
pub use paging::{BeyondFullPage, Conditional, ListPage, PageItems};
