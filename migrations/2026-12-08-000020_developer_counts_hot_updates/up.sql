-- The stored follow counts change on every follow edge stored; with no index on them and
-- room left on each page, those updates are HOT (a new row version on the same page, no
-- index written) instead of writing every index of `developers`. The most followed
-- developers are read by the graph snapshot job only, which sorts them itself.
DROP INDEX developers_stored_followers_idx;
ALTER TABLE developers SET (fillfactor = 90);
