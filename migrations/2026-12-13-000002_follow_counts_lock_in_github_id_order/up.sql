-- The stored edge counts' row locks taken in GitHub id order, not row id order: the order
-- in which a page of listed developers locks them (`upsert_listed` upserts its rows sorted
-- by GitHub id, and `ON CONFLICT DO UPDATE` locks every row it meets, changed or not).
-- In two orders, a page listing P and Q (GitHub ids 1 and 2) and an edge write between Q
-- and P (row ids in the other order) could each hold one and wait for the other, and
-- PostgreSQL killed one as a deadlock's victim (two workers crawling side by side saw it
-- as a deferred profile sync). Every multi-row lock on `developers` now goes by GitHub id.
CREATE OR REPLACE FUNCTION follows_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM developers
        WHERE id IN (SELECT followee_id FROM inserted UNION SELECT follower_id FROM inserted)
        ORDER BY github_id FOR NO KEY UPDATE;
    UPDATE developers d SET stored_followers = d.stored_followers + c.n
        FROM (SELECT followee_id AS id, count(*) AS n FROM inserted GROUP BY 1) c
        WHERE d.id = c.id;
    UPDATE developers d SET stored_following = d.stored_following + c.n
        FROM (SELECT follower_id AS id, count(*) AS n FROM inserted GROUP BY 1) c
        WHERE d.id = c.id;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION follows_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM developers
        WHERE id IN (SELECT followee_id FROM deleted UNION SELECT follower_id FROM deleted)
        ORDER BY github_id FOR NO KEY UPDATE;
    UPDATE developers d SET stored_followers = d.stored_followers - c.n
        FROM (SELECT followee_id AS id, count(*) AS n FROM deleted GROUP BY 1) c
        WHERE d.id = c.id;
    UPDATE developers d SET stored_following = d.stored_following - c.n
        FROM (SELECT follower_id AS id, count(*) AS n FROM deleted GROUP BY 1) c
        WHERE d.id = c.id;
    RETURN NULL;
END $$;
