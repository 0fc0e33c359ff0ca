-- The stored edge counts of both ends of the inserted or deleted edges, updated under row
-- locks taken first, all at once and in id order. Updating followees and then followers
-- in two statements locked them in two orders: two profile syncs storing each other's
-- edges at once (A's followers include B, B's include A) locked A then B and B then A,
-- and PostgreSQL killed one as a deadlock's victim.
CREATE OR REPLACE FUNCTION follows_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM developers
        WHERE id IN (SELECT followee_id FROM inserted UNION SELECT follower_id FROM inserted)
        ORDER BY id FOR NO KEY UPDATE;
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
        ORDER BY id FOR NO KEY UPDATE;
    UPDATE developers d SET stored_followers = d.stored_followers - c.n
        FROM (SELECT followee_id AS id, count(*) AS n FROM deleted GROUP BY 1) c
        WHERE d.id = c.id;
    UPDATE developers d SET stored_following = d.stored_following - c.n
        FROM (SELECT follower_id AS id, count(*) AS n FROM deleted GROUP BY 1) c
        WHERE d.id = c.id;
    RETURN NULL;
END $$;
