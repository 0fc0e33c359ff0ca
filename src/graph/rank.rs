//! Follow rank (SPEC-3 C): PageRank over the stored follow graph, in memory.
//!
//! The nodes are numbered `0..n` by the caller (the `developer_rank` job numbers the
//! developers in id order) and the edges given as `(follower, followee)` pairs. The graph
//! is kept as compressed sparse rows of the *incoming* edges (offsets and sources, `u32`
//! each: 4 bytes an edge), so an iteration pulls every node's new score from its
//! followers' shares in one pass, summing in a fixed order (each node's followers sorted
//! by number): the same graph gives the same scores, bit for bit, whatever order the
//! edges came in.

/// The damping factor: the probability of following an edge rather than jumping.
pub const DAMPING: f64 = 0.85;
/// The iteration stops once the scores moved less than this in total (L1).
pub const TOLERANCE: f64 = 1e-9;
/// ... or after this many iterations.
pub const MAX_ITERATIONS: u32 = 100;

/// The follow graph as compressed sparse rows of incoming edges.
#[derive(Clone, Debug)]
pub struct FollowGraph {
    /// `sources[offsets[v]..offsets[v + 1]]` are the followers of `v`, ascending.
    offsets: Vec<u32>,
    sources: Vec<u32>,
    /// How many developers each node follows.
    out_degree: Vec<u32>,
}

/// Why edges do not make a graph.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// An edge names a node outside `0..n`.
    #[error("edge ({0}, {1}) names a node beyond the {2} developers")]
    UnknownNode(u32, u32, usize),
    /// More nodes or edges than `u32` numbers.
    #[error("the graph is too large for 32-bit node and edge numbers")]
    TooLarge,
}

impl FollowGraph {
    /// The graph of `nodes` developers and these `(follower, followee)` edges.
    pub fn new(nodes: usize, edges: &[(u32, u32)]) -> Result<Self, GraphError> {
        if u32::try_from(nodes).is_err() || u32::try_from(edges.len()).is_err() {
            return Err(GraphError::TooLarge);
        }
        let mut out_degree = vec![0u32; nodes];
        let mut offsets = vec![0u32; nodes + 1];
        for &(from, to) in edges {
            if from as usize >= nodes || to as usize >= nodes {
                return Err(GraphError::UnknownNode(from, to, nodes));
            }
            out_degree[from as usize] += 1;
            offsets[to as usize + 1] += 1;
        }
        for v in 0..nodes {
            offsets[v + 1] += offsets[v];
        }
        let mut next: Vec<u32> = offsets[..nodes].to_vec();
        let mut sources = vec![0u32; edges.len()];
        for &(from, to) in edges {
            let slot = &mut next[to as usize];
            sources[*slot as usize] = from;
            *slot += 1;
        }
        for v in 0..nodes {
            sources[offsets[v] as usize..offsets[v + 1] as usize].sort_unstable();
        }
        Ok(Self {
            offsets,
            sources,
            out_degree,
        })
    }

    /// The number of developers.
    pub fn nodes(&self) -> usize {
        self.out_degree.len()
    }

    /// The number of follow edges.
    pub fn edges(&self) -> usize {
        self.sources.len()
    }

    /// Developers following no one stored (their mass is spread over every node).
    pub fn dangling(&self) -> usize {
        self.out_degree.iter().filter(|&&d| d == 0).count()
    }

    /// Bytes the graph holds (the arrays' capacity).
    pub fn heap_bytes(&self) -> usize {
        4 * (self.offsets.capacity() + self.sources.capacity() + self.out_degree.capacity())
    }
}

/// The scores of a PageRank run and how it ended.
#[derive(Clone, Debug, PartialEq)]
pub struct PageRank {
    /// One score per node, summing to 1.
    pub scores: Vec<f64>,
    /// Iterations made (at most [`MAX_ITERATIONS`]).
    pub iterations: u32,
    /// The L1 change of the last iteration (below [`TOLERANCE`] unless the cap stopped it).
    pub l1_change: f64,
}

/// PageRank with damping [`DAMPING`]: start uniform; each iteration gives every node
/// `(1 - d) / n`, plus `d` times the shares of its followers (a follower's score divided
/// by how many it follows), plus `d / n` of the total score of the dangling nodes (those
/// following no one); until the L1 change is below [`TOLERANCE`] or after
/// [`MAX_ITERATIONS`]. The scores are divided by their sum at the end, so they sum to 1
/// whatever the rounding.
pub fn pagerank(graph: &FollowGraph) -> PageRank {
    let n = graph.nodes();
    if n == 0 {
        return PageRank {
            scores: Vec::new(),
            iterations: 0,
            l1_change: 0.0,
        };
    }
    let count = n as f64;
    let mut scores = vec![1.0 / count; n];
    let mut next = vec![0.0f64; n];
    let mut share = vec![0.0f64; n];
    let mut iterations = 0;
    let mut l1_change = f64::INFINITY;
    while iterations < MAX_ITERATIONS && l1_change >= TOLERANCE {
        let mut dangling = 0.0;
        for ((share, &score), &degree) in share.iter_mut().zip(&scores).zip(&graph.out_degree) {
            if degree == 0 {
                dangling += score;
                *share = 0.0;
            } else {
                *share = score / f64::from(degree);
            }
        }
        let base = (1.0 - DAMPING) / count + DAMPING * dangling / count;
        l1_change = 0.0;
        for (v, value) in next.iter_mut().enumerate() {
            let followers =
                &graph.sources[graph.offsets[v] as usize..graph.offsets[v + 1] as usize];
            let pulled: f64 = followers.iter().map(|&u| share[u as usize]).sum();
            *value = base + DAMPING * pulled;
            l1_change += (*value - scores[v]).abs();
        }
        std::mem::swap(&mut scores, &mut next);
        iterations += 1;
    }
    let total: f64 = scores.iter().sum();
    for score in &mut scores {
        *score /= total;
    }
    PageRank {
        scores,
        iterations,
        l1_change,
    }
}

/// Logins by node, packed: one buffer of bytes and where each login ends.
#[derive(Clone, Debug, Default)]
pub struct Logins {
    bytes: Vec<u8>,
    ends: Vec<u32>,
}

impl Logins {
    /// Appends the next node's login.
    pub fn push(&mut self, login: &str) {
        self.bytes.extend_from_slice(login.as_bytes());
        self.ends
            .push(u32::try_from(self.bytes.len()).unwrap_or(u32::MAX));
    }

    /// The login of node `v`, as bytes.
    pub fn get(&self, v: usize) -> &[u8] {
        let start = if v == 0 { 0 } else { self.ends[v - 1] as usize };
        &self.bytes[start..self.ends[v] as usize]
    }

    /// How many logins.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + 4 * self.ends.capacity()
    }
}

/// Each node's rank, 1-based and distinct: its position by score, highest first, ties by
/// login ascending in byte order (`Zed` before `adam`), then by node number.
pub fn ranks(scores: &[f64], logins: &Logins) -> Vec<u32> {
    let mut order: Vec<u32> = (0..u32::try_from(scores.len()).unwrap_or(u32::MAX)).collect();
    order.sort_unstable_by(|&a, &b| {
        let (a, b) = (a as usize, b as usize);
        scores[b]
            .total_cmp(&scores[a])
            .then_with(|| logins.get(a).cmp(logins.get(b)))
            .then(a.cmp(&b))
    });
    let mut ranks = vec![0u32; scores.len()];
    for (position, &v) in order.iter().enumerate() {
        ranks[v as usize] = u32::try_from(position + 1).unwrap_or(u32::MAX);
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logins(names: &[&str]) -> Logins {
        let mut logins = Logins::default();
        for name in names {
            logins.push(name);
        }
        logins
    }

    #[test]
    fn scores_sum_to_one_and_a_cycle_is_uniform() {
        let graph = FollowGraph::new(3, &[(0, 1), (1, 2), (2, 0)]).expect("a graph");
        let rank = pagerank(&graph);
        for score in &rank.scores {
            assert!((score - 1.0 / 3.0).abs() < 1e-12, "{score}");
        }
        assert!(rank.l1_change < TOLERANCE);
    }

    #[test]
    fn dangling_mass_is_spread_over_every_node() {
        // 0 -> 1, 1 follows no one: the closed form with dangling redistribution.
        let graph = FollowGraph::new(2, &[(0, 1)]).expect("a graph");
        assert_eq!(graph.dangling(), 1);
        let rank = pagerank(&graph);
        // x0 = (1-d)/2 + d*x1/2 ; x1 = (1-d)/2 + d*x1/2 + d*x0 ; x0 + x1 = 1
        let d = DAMPING;
        let x0 = 1.0 / (2.0 + d);
        assert!((rank.scores[0] - x0).abs() < 1e-9, "{:?}", rank.scores);
        assert!((rank.scores.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn edge_order_does_not_change_a_bit() {
        let edges = [(0, 1), (2, 1), (3, 1), (1, 0), (3, 2), (4, 0)];
        let mut reversed = edges;
        reversed.reverse();
        let a = pagerank(&FollowGraph::new(5, &edges).expect("a graph"));
        let b = pagerank(&FollowGraph::new(5, &reversed).expect("a graph"));
        assert_eq!(a, b);
    }

    #[test]
    fn ranks_are_distinct_and_break_ties_by_login_bytes() {
        let scores = [0.1, 0.4, 0.1, 0.4];
        let ranks = ranks(&scores, &logins(&["adam", "bob", "Zed", "Al"]));
        // 0.4: "Al" < "bob"; 0.1: "Zed" < "adam" (byte order: uppercase first).
        assert_eq!(ranks, vec![4, 2, 3, 1]);
    }

    #[test]
    fn an_edge_beyond_the_nodes_is_refused() {
        assert_eq!(
            FollowGraph::new(2, &[(0, 2)]).expect_err("unknown"),
            GraphError::UnknownNode(0, 2, 2)
        );
        assert!(
            pagerank(&FollowGraph::new(0, &[]).expect("empty"))
                .scores
                .is_empty()
        );
    }
}
