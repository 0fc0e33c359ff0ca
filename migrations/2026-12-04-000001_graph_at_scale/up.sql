-- The graph at scale (SPEC-2 D): what a million developers and ten million follow edges
-- need to stay fast.

-- 1. `__contains` is `ILIKE '%text%'`: trigram GIN indexes answer it without a scan.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX developers_login_trgm_idx ON developers USING gin (login gin_trgm_ops);
CREATE INDEX developers_name_trgm_idx ON developers USING gin (name gin_trgm_ops);
CREATE INDEX developers_bio_trgm_idx ON developers USING gin (bio gin_trgm_ops);
CREATE INDEX developers_location_trgm_idx ON developers USING gin (location gin_trgm_ops);
CREATE INDEX developers_company_trgm_idx ON developers USING gin (company gin_trgm_ops);
CREATE INDEX developers_email_trgm_idx ON developers USING gin (email gin_trgm_ops);
CREATE INDEX repositories_name_trgm_idx ON repositories USING gin (name gin_trgm_ops);
CREATE INDEX repositories_full_name_trgm_idx ON repositories USING gin (full_name gin_trgm_ops);
CREATE INDEX repositories_description_trgm_idx ON repositories USING gin (description gin_trgm_ops);
CREATE INDEX repositories_homepage_trgm_idx ON repositories USING gin (homepage gin_trgm_ops);
CREATE INDEX repositories_language_trgm_idx ON repositories USING gin (language gin_trgm_ops);

-- 2. Every documented ordering walks an index: lists order by `field ASC NULLS LAST, id`
-- or `field DESC NULLS LAST, id`, and a backward scan flips NULLS, so each orderable
-- field has one index per direction. They replace the single-column indexes of the core.
DROP INDEX developers_created_at_idx, developers_updated_at_idx, developers_followers_count_idx,
    developers_following_count_idx, developers_public_repos_idx, developers_public_gists_idx;
DROP INDEX repositories_created_at_idx, repositories_updated_at_idx, repositories_pushed_at_idx,
    repositories_language_idx, repositories_stargazers_count_idx, repositories_forks_count_idx;

CREATE INDEX developers_github_id_asc_idx ON developers (github_id ASC NULLS LAST, id);
CREATE INDEX developers_github_id_desc_idx ON developers (github_id DESC NULLS LAST, id);
CREATE INDEX developers_login_asc_idx ON developers (login ASC NULLS LAST, id);
CREATE INDEX developers_login_desc_idx ON developers (login DESC NULLS LAST, id);
CREATE INDEX developers_name_asc_idx ON developers (name ASC NULLS LAST, id);
CREATE INDEX developers_name_desc_idx ON developers (name DESC NULLS LAST, id);
CREATE INDEX developers_bio_asc_idx ON developers (bio ASC NULLS LAST, id);
CREATE INDEX developers_bio_desc_idx ON developers (bio DESC NULLS LAST, id);
CREATE INDEX developers_location_asc_idx ON developers (location ASC NULLS LAST, id);
CREATE INDEX developers_location_desc_idx ON developers (location DESC NULLS LAST, id);
CREATE INDEX developers_company_asc_idx ON developers (company ASC NULLS LAST, id);
CREATE INDEX developers_company_desc_idx ON developers (company DESC NULLS LAST, id);
CREATE INDEX developers_email_asc_idx ON developers (email ASC NULLS LAST, id);
CREATE INDEX developers_email_desc_idx ON developers (email DESC NULLS LAST, id);
CREATE INDEX developers_created_at_asc_idx ON developers (created_at ASC NULLS LAST, id);
CREATE INDEX developers_created_at_desc_idx ON developers (created_at DESC NULLS LAST, id);
CREATE INDEX developers_updated_at_asc_idx ON developers (updated_at ASC NULLS LAST, id);
CREATE INDEX developers_updated_at_desc_idx ON developers (updated_at DESC NULLS LAST, id);
CREATE INDEX developers_last_synced_at_asc_idx ON developers (last_synced_at ASC NULLS LAST, id);
CREATE INDEX developers_last_synced_at_desc_idx ON developers (last_synced_at DESC NULLS LAST, id);
CREATE INDEX developers_followers_count_asc_idx ON developers (followers_count ASC NULLS LAST, id);
CREATE INDEX developers_followers_count_desc_idx ON developers (followers_count DESC NULLS LAST, id);
CREATE INDEX developers_following_count_asc_idx ON developers (following_count ASC NULLS LAST, id);
CREATE INDEX developers_following_count_desc_idx ON developers (following_count DESC NULLS LAST, id);
CREATE INDEX developers_public_gists_asc_idx ON developers (public_gists ASC NULLS LAST, id);
CREATE INDEX developers_public_gists_desc_idx ON developers (public_gists DESC NULLS LAST, id);
CREATE INDEX developers_public_repos_asc_idx ON developers (public_repos ASC NULLS LAST, id);
CREATE INDEX developers_public_repos_desc_idx ON developers (public_repos DESC NULLS LAST, id);
CREATE INDEX repositories_github_id_asc_idx ON repositories (github_id ASC NULLS LAST, id);
CREATE INDEX repositories_github_id_desc_idx ON repositories (github_id DESC NULLS LAST, id);
CREATE INDEX repositories_owner_github_id_asc_idx ON repositories (owner_github_id ASC NULLS LAST, id);
CREATE INDEX repositories_owner_github_id_desc_idx ON repositories (owner_github_id DESC NULLS LAST, id);
CREATE INDEX repositories_name_asc_idx ON repositories (name ASC NULLS LAST, id);
CREATE INDEX repositories_name_desc_idx ON repositories (name DESC NULLS LAST, id);
CREATE INDEX repositories_full_name_asc_idx ON repositories (full_name ASC NULLS LAST, id);
CREATE INDEX repositories_full_name_desc_idx ON repositories (full_name DESC NULLS LAST, id);
CREATE INDEX repositories_description_asc_idx ON repositories (description ASC NULLS LAST, id);
CREATE INDEX repositories_description_desc_idx ON repositories (description DESC NULLS LAST, id);
CREATE INDEX repositories_homepage_asc_idx ON repositories (homepage ASC NULLS LAST, id);
CREATE INDEX repositories_homepage_desc_idx ON repositories (homepage DESC NULLS LAST, id);
CREATE INDEX repositories_language_asc_idx ON repositories (language ASC NULLS LAST, id);
CREATE INDEX repositories_language_desc_idx ON repositories (language DESC NULLS LAST, id);
CREATE INDEX repositories_created_at_asc_idx ON repositories (created_at ASC NULLS LAST, id);
CREATE INDEX repositories_created_at_desc_idx ON repositories (created_at DESC NULLS LAST, id);
CREATE INDEX repositories_updated_at_asc_idx ON repositories (updated_at ASC NULLS LAST, id);
CREATE INDEX repositories_updated_at_desc_idx ON repositories (updated_at DESC NULLS LAST, id);
CREATE INDEX repositories_pushed_at_asc_idx ON repositories (pushed_at ASC NULLS LAST, id);
CREATE INDEX repositories_pushed_at_desc_idx ON repositories (pushed_at DESC NULLS LAST, id);
CREATE INDEX repositories_last_synced_at_asc_idx ON repositories (last_synced_at ASC NULLS LAST, id);
CREATE INDEX repositories_last_synced_at_desc_idx ON repositories (last_synced_at DESC NULLS LAST, id);
CREATE INDEX repositories_has_downloads_asc_idx ON repositories (has_downloads ASC NULLS LAST, id);
CREATE INDEX repositories_has_downloads_desc_idx ON repositories (has_downloads DESC NULLS LAST, id);
CREATE INDEX repositories_has_issues_asc_idx ON repositories (has_issues ASC NULLS LAST, id);
CREATE INDEX repositories_has_issues_desc_idx ON repositories (has_issues DESC NULLS LAST, id);
CREATE INDEX repositories_has_pages_asc_idx ON repositories (has_pages ASC NULLS LAST, id);
CREATE INDEX repositories_has_pages_desc_idx ON repositories (has_pages DESC NULLS LAST, id);
CREATE INDEX repositories_has_projects_asc_idx ON repositories (has_projects ASC NULLS LAST, id);
CREATE INDEX repositories_has_projects_desc_idx ON repositories (has_projects DESC NULLS LAST, id);
CREATE INDEX repositories_has_wiki_asc_idx ON repositories (has_wiki ASC NULLS LAST, id);
CREATE INDEX repositories_has_wiki_desc_idx ON repositories (has_wiki DESC NULLS LAST, id);
CREATE INDEX repositories_private_asc_idx ON repositories (private ASC NULLS LAST, id);
CREATE INDEX repositories_private_desc_idx ON repositories (private DESC NULLS LAST, id);
CREATE INDEX repositories_archived_asc_idx ON repositories (archived ASC NULLS LAST, id);
CREATE INDEX repositories_archived_desc_idx ON repositories (archived DESC NULLS LAST, id);
CREATE INDEX repositories_disabled_asc_idx ON repositories (disabled ASC NULLS LAST, id);
CREATE INDEX repositories_disabled_desc_idx ON repositories (disabled DESC NULLS LAST, id);
CREATE INDEX repositories_fork_asc_idx ON repositories (fork ASC NULLS LAST, id);
CREATE INDEX repositories_fork_desc_idx ON repositories (fork DESC NULLS LAST, id);
CREATE INDEX repositories_stargazers_count_asc_idx ON repositories (stargazers_count ASC NULLS LAST, id);
CREATE INDEX repositories_stargazers_count_desc_idx ON repositories (stargazers_count DESC NULLS LAST, id);
CREATE INDEX repositories_subscribers_count_asc_idx ON repositories (subscribers_count ASC NULLS LAST, id);
CREATE INDEX repositories_subscribers_count_desc_idx ON repositories (subscribers_count DESC NULLS LAST, id);
CREATE INDEX repositories_watchers_count_asc_idx ON repositories (watchers_count ASC NULLS LAST, id);
CREATE INDEX repositories_watchers_count_desc_idx ON repositories (watchers_count DESC NULLS LAST, id);
CREATE INDEX repositories_forks_count_asc_idx ON repositories (forks_count ASC NULLS LAST, id);
CREATE INDEX repositories_forks_count_desc_idx ON repositories (forks_count DESC NULLS LAST, id);
CREATE INDEX repositories_open_issues_count_asc_idx ON repositories (open_issues_count ASC NULLS LAST, id);
CREATE INDEX repositories_open_issues_count_desc_idx ON repositories (open_issues_count DESC NULLS LAST, id);

-- 3. Follow edges carry the follower's and the followee's GitHub creation date, so that a
-- followers or following page in the default order (-created_at, then id) is an index walk
-- of the edge table, however deep the page; and every developer carries the number of its
-- stored edges, so that a sub-collection's count, the graph's degree histograms and its
-- most followed developers read one row per developer instead of counting edges.
ALTER TABLE follows
    ADD COLUMN follower_created_at TIMESTAMPTZ,
    ADD COLUMN followee_created_at TIMESTAMPTZ;
UPDATE follows f SET follower_created_at = d.created_at FROM developers d
    WHERE d.id = f.follower_id AND d.created_at IS NOT NULL;
UPDATE follows f SET followee_created_at = d.created_at FROM developers d
    WHERE d.id = f.followee_id AND d.created_at IS NOT NULL;
DROP INDEX follows_followee_idx;
CREATE INDEX follows_followers_page_idx
    ON follows (followee_id, follower_created_at DESC NULLS LAST, follower_id);
CREATE INDEX follows_following_page_idx
    ON follows (follower_id, followee_created_at DESC NULLS LAST, followee_id);

ALTER TABLE developers
    ADD COLUMN stored_followers INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN stored_following INTEGER NOT NULL DEFAULT 0;
UPDATE developers d SET stored_followers = c.n
    FROM (SELECT followee_id AS id, count(*) AS n FROM follows GROUP BY followee_id) c
    WHERE d.id = c.id;
UPDATE developers d SET stored_following = c.n
    FROM (SELECT follower_id AS id, count(*) AS n FROM follows GROUP BY follower_id) c
    WHERE d.id = c.id;
CREATE INDEX developers_stored_followers_idx ON developers (stored_followers DESC, id);

-- A new edge takes both creation dates from developers.
CREATE FUNCTION follows_created_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT created_at INTO NEW.follower_created_at FROM developers WHERE id = NEW.follower_id;
    SELECT created_at INTO NEW.followee_created_at FROM developers WHERE id = NEW.followee_id;
    RETURN NEW;
END $$;
CREATE TRIGGER follows_created_at BEFORE INSERT ON follows
    FOR EACH ROW EXECUTE FUNCTION follows_created_at();

-- A developer's creation date, once known, reaches its edges.
CREATE FUNCTION developers_created_at_to_follows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE follows SET follower_created_at = NEW.created_at WHERE follower_id = NEW.id;
    UPDATE follows SET followee_created_at = NEW.created_at WHERE followee_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER developers_created_at_to_follows AFTER UPDATE OF created_at ON developers
    FOR EACH ROW WHEN (OLD.created_at IS DISTINCT FROM NEW.created_at)
    EXECUTE FUNCTION developers_created_at_to_follows();

-- Stored edge counts follow every insert and delete, once per statement. Rows are
-- updated in id order so that concurrent statements lock them in the same order.
CREATE FUNCTION follows_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE developers d SET stored_followers = d.stored_followers + c.n
        FROM (SELECT followee_id AS id, count(*) AS n FROM inserted GROUP BY 1 ORDER BY 1) c
        WHERE d.id = c.id;
    UPDATE developers d SET stored_following = d.stored_following + c.n
        FROM (SELECT follower_id AS id, count(*) AS n FROM inserted GROUP BY 1 ORDER BY 1) c
        WHERE d.id = c.id;
    RETURN NULL;
END $$;
CREATE TRIGGER follows_count_inserted AFTER INSERT ON follows
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION follows_count_inserted();

CREATE FUNCTION follows_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE developers d SET stored_followers = d.stored_followers - c.n
        FROM (SELECT followee_id AS id, count(*) AS n FROM deleted GROUP BY 1 ORDER BY 1) c
        WHERE d.id = c.id;
    UPDATE developers d SET stored_following = d.stored_following - c.n
        FROM (SELECT follower_id AS id, count(*) AS n FROM deleted GROUP BY 1 ORDER BY 1) c
        WHERE d.id = c.id;
    RETURN NULL;
END $$;
CREATE TRIGGER follows_count_deleted AFTER DELETE ON follows
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION follows_count_deleted();

