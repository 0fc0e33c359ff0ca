//! gitomatic discovers GitHub developers and repositories by crawling the follower
//! network, and serves what it found over a hyperlinked REST API.
//!
//! The data path:
//! 1. `POST /github/tasks/`, the cron scheduler or a job inserts a task row (the truth);
//! 2. the row's id is published to RabbitMQ (`queue`);
//! 3. a worker loads the row and asks the throttle whether the GitHub quota allows it;
//! 4. the job fetches GitHub through `github` (ETags, paging, quota ledger);
//! 5. it upserts what it saw through `db::queries` by `github_id` and replaces relation sets;
//! 6. the message is acked after the commit; `api` serves the tables.

pub mod api;
pub mod cli;
pub mod config;
pub mod context;
pub mod db;
pub mod domain;
pub mod github;
pub mod graph;
pub mod jobs;
pub mod live;
pub mod metrics;
pub mod queue;
pub mod scheduler;
pub mod telemetry;
pub mod tokens;
pub mod worker;
