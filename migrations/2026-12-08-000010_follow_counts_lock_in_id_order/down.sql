CREATE OR REPLACE FUNCTION follows_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE developers d SET stored_followers = d.stored_followers + c.n
        FROM (SELECT followee_id AS id, count(*) AS n FROM inserted GROUP BY 1 ORDER BY 1) c
        WHERE d.id = c.id;
    UPDATE developers d SET stored_following = d.stored_following + c.n
        FROM (SELECT follower_id AS id, count(*) AS n FROM inserted GROUP BY 1 ORDER BY 1) c
        WHERE d.id = c.id;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION follows_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE developers d SET stored_followers = d.stored_followers - c.n
        FROM (SELECT followee_id AS id, count(*) AS n FROM deleted GROUP BY 1 ORDER BY 1) c
        WHERE d.id = c.id;
    UPDATE developers d SET stored_following = d.stored_following - c.n
        FROM (SELECT follower_id AS id, count(*) AS n FROM deleted GROUP BY 1 ORDER BY 1) c
        WHERE d.id = c.id;
    RETURN NULL;
END $$;
