-- Follow rank (SPEC-3 C): the `developer_rank` job's PageRank of the stored follow graph.
--
-- The ranks live beside `developers`, not on it: a run rewrites every developer's rank, and
-- an UPDATE of a million `developers` rows would write a new version of each row into
-- every one of that table's indexes (two dozen, trigram GIN ones included; a changed
-- indexed column is never a HOT update) and recompute its generated columns. Here a run
-- replaces the rows of a narrow table with three indexes, in one transaction: readers see
-- the previous run's ranks until it commits. Developers stored after the run have no row
-- (their rank shows null until the next run). Lists read developers joined to this table
-- (`db::queries::developers::RANKED`); ordering by rank or rank_score walks its own
-- indexes, in the lists' (key, id) shape, `developer_id` being the developer's id.
CREATE TABLE developer_ranks (
    developer_id UUID PRIMARY KEY,
    rank INTEGER NOT NULL,
    rank_score DOUBLE PRECISION NOT NULL
);
CREATE UNIQUE INDEX developer_ranks_rank_idx ON developer_ranks (rank, developer_id);
CREATE INDEX developer_ranks_rank_score_idx ON developer_ranks (rank_score, developer_id);

-- The last committed run (one row, written in the transaction that replaced the ranks):
-- when it committed (`rank_computed_at` on GET /github/graph/) and what it covered.
CREATE TABLE developer_rank_run (
    id BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
    computed_at TIMESTAMPTZ NOT NULL,
    developers BIGINT NOT NULL,
    synced BIGINT NOT NULL,
    follow_edges BIGINT NOT NULL,
    dangling BIGINT NOT NULL,
    iterations INTEGER NOT NULL,
    l1_change DOUBLE PRECISION NOT NULL,
    duration_ms BIGINT NOT NULL
);
