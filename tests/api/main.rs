//! gitomatic's integration tests: real PostgreSQL, real RabbitMQ, a fake GitHub.

mod helpers;

mod cli;
mod crawl;
mod foundation;
mod github;
