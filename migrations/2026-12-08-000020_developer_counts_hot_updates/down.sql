ALTER TABLE developers RESET (fillfactor);
CREATE INDEX developers_stored_followers_idx ON developers (stored_followers DESC, id);
