//! All SQL of gitomatic, one file per table.

pub mod commits;
pub mod contributor_weeks;
pub mod developer_ranks;
pub mod developers;
pub mod events;
pub mod graph;
pub mod graph_snapshot;
pub mod health;
pub mod issues;
pub mod leaderboards;
pub mod members;
pub mod metric_counters;
pub mod pages;
pub mod rate_limit_pauses;
pub mod rate_limits;
pub mod relations;
pub mod releases;
pub mod repositories;
pub mod samples;
pub mod tasks;
pub mod timeline;
pub mod tokens;
pub mod tracked;
pub mod transfers;
pub mod webhook_deliveries;
