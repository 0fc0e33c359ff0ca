//! All SQL of gitomatic, one file per table.

pub mod health;
pub mod tokens;
