-- The search sample (SPEC-3 C at a million developers): a fixed eighth of each searchable
-- table, chosen by a hash of the row id, with a GIN index of its own.
--
-- GIN answers a search with a bitmap of every match before the first row can be read. A
-- search matching far more rows than relevance ranks (`berlin`: 23,403 of a million
-- developers, of which 1,000 are ranked) spent 5.4 of its 7.5 ms building and sorting that
-- bitmap. Taking the ranked matches from the sample builds an eighth of it: 2.8 ms in all
-- (pgbench, one client). See `SAMPLED_SEARCH_MAX` for which searches use it.
--
-- The predicate is the one `SEARCH_SAMPLE` (src/db/filter.rs) adds to those queries, and
-- the statistics tell the planner that it holds an eighth of the rows (without them it
-- guesses 0.5 %, and plans a filter beside the search for far fewer rows than it reads).
CREATE INDEX developers_search_sample_idx ON developers USING gin (search)
    WHERE (uuid_hash(id) & 7) = 0;
CREATE INDEX repositories_search_sample_idx ON repositories USING gin (search)
    WHERE (uuid_hash(id) & 7) = 0;
CREATE STATISTICS developers_search_sample ON ((uuid_hash(id) & 7)) FROM developers;
CREATE STATISTICS repositories_search_sample ON ((uuid_hash(id) & 7)) FROM repositories;
ANALYZE developers;
ANALYZE repositories;
