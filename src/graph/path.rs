//! The shortest chain of follows between two developers: a bidirectional breadth-first
//! search over the stored edges, one SQL query per level.
//!
//! Each level expands the side whose frontier has fewer stored edges to read (the forward
//! side follows `following`, the backward side `followers`), so a search of depth 6 reads
//! two half-depth balls instead of one full-depth ball. The search stops at the level
//! where the sides meet; it gives up once it holds [`MAX_VISITED`] developers, so its
//! memory never grows with the graph.

use std::collections::HashMap;

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::db::DbError;
use crate::db::queries::graph::{self, Direction};

/// The deepest search served.
pub const MAX_DEPTH: u32 = 6;
/// Developers a search may hold (both sides together) before it gives up.
pub const MAX_VISITED: usize = 2_000_000;

/// How a search ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Search {
    /// The developers of a shortest path, first to last (one when both ends are the same).
    Found(Vec<Uuid>),
    /// No path of at most the depth asked for.
    NoPath,
    /// The search met [`MAX_VISITED`] developers before it ended.
    TooLarge,
}

/// One side of the search: each developer reached, with the one it was reached from.
struct Side {
    direction: Direction,
    reached: HashMap<Uuid, Option<Uuid>>,
    frontier: Vec<Uuid>,
    /// The stored edges the frontier would read, once asked (until the frontier moves).
    cost: Option<i64>,
}

impl Side {
    fn new(start: Uuid, direction: Direction) -> Self {
        Side {
            direction,
            reached: HashMap::from([(start, None)]),
            frontier: vec![start],
            cost: None,
        }
    }

    /// The stored edges expanding the frontier reads, asked once per frontier: the side
    /// not expanded keeps its frontier, and its cost, for the next level.
    async fn cost(&mut self, conn: &mut AsyncPgConnection) -> Result<i64, DbError> {
        if let Some(cost) = self.cost {
            return Ok(cost);
        }
        let cost = graph::degree_sum(conn, &self.frontier, self.direction).await?;
        self.cost = Some(cost);
        Ok(cost)
    }

    /// The chain from `node` back to this side's start.
    fn chain(&self, node: Uuid) -> Vec<Uuid> {
        let mut chain = vec![node];
        let mut at = node;
        while let Some(Some(previous)) = self.reached.get(&at) {
            chain.push(*previous);
            at = *previous;
        }
        chain
    }
}

/// Finds a shortest follow path from `source` to `target` of at most `max_depth` steps.
pub async fn shortest(
    conn: &mut AsyncPgConnection,
    source: Uuid,
    target: Uuid,
    max_depth: u32,
) -> Result<Search, DbError> {
    if source == target {
        return Ok(Search::Found(vec![source]));
    }
    let mut forward = Side::new(source, Direction::Following);
    let mut backward = Side::new(target, Direction::Followers);
    for _ in 0..max_depth {
        if forward.frontier.is_empty() || backward.frontier.is_empty() {
            return Ok(Search::NoPath);
        }
        let forward_cost = forward.cost(conn).await?;
        let backward_cost = backward.cost(conn).await?;
        let (side, other) = if forward_cost <= backward_cost {
            (&mut forward, &backward)
        } else {
            (&mut backward, &forward)
        };
        let steps = graph::expand(conn, &side.frontier, side.direction).await?;
        let mut next = Vec::new();
        let mut meeting = None;
        for step in steps {
            if side.reached.contains_key(&step.to) {
                continue;
            }
            side.reached.insert(step.to, Some(step.from));
            next.push(step.to);
            if meeting.is_none() && other.reached.contains_key(&step.to) {
                meeting = Some(step.to);
            }
        }
        side.frontier = next;
        side.cost = None;
        if let Some(node) = meeting {
            let mut path = forward.chain(node);
            path.reverse();
            path.extend(backward.chain(node).into_iter().skip(1));
            return Ok(Search::Found(path));
        }
        if forward.reached.len() + backward.reached.len() > MAX_VISITED {
            return Ok(Search::TooLarge);
        }
    }
    Ok(Search::NoPath)
}
