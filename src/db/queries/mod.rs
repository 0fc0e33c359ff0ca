//! All SQL of gitomatic, one file per table.

pub mod developers;
pub mod health;
pub mod metric_counters;
pub mod pages;
pub mod rate_limits;
pub mod relations;
pub mod repositories;
pub mod tasks;
pub mod tokens;
