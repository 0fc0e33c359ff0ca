//! gitomatic's integration tests: real PostgreSQL, real RabbitMQ, a fake GitHub.

mod helpers;

mod activity;
mod activity_api;
mod api_docs;
mod api_lists;
mod api_tasks;
mod browsable;
mod cli;
mod conformance_graphql;
mod conformance_rest;
mod crawl;
mod cursors;
mod dashboard;
mod events;
mod faults;
mod foundation;
mod fuzz;
mod github;
mod github_answers;
mod graph;
mod graphql_answers;
mod jobs;
mod leaderboards;
mod metrics;
mod partial_payloads;
mod quota;
mod rank;
mod resources;
mod search;
mod secondary_limit;
mod webhooks;
