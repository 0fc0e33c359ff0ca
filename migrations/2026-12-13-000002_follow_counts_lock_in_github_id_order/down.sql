-- The locks in row id order again.
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
