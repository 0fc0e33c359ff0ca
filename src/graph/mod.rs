//! The crawled follow graph as a graph (SPEC-2 D): shortest paths and exports. The
//! friends-of-friends, mutuals and statistics are single queries in
//! `db::queries::graph`; what needs more than one query lives here.

pub mod export;
pub mod path;
pub mod rank;
