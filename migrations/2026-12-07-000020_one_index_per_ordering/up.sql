-- One b-tree per ordering, not two (issue 22). Lists now break ties on `id` in the
-- ordering's direction (`ORDER BY x DESC, id DESC`), and read the rows with a value and the
-- rows without one (listed last either way) as two ranges of one index, so the ascending
-- `(x ASC NULLS LAST, id)` index serves both directions: a backward scan is the descending
-- order. The descending twins only cost every crawler upsert a write.
DROP INDEX developers_github_id_desc_idx;
DROP INDEX developers_login_desc_idx;
DROP INDEX developers_name_desc_idx;
DROP INDEX developers_bio_desc_idx;
DROP INDEX developers_location_desc_idx;
DROP INDEX developers_company_desc_idx;
DROP INDEX developers_email_desc_idx;
DROP INDEX developers_created_at_desc_idx;
DROP INDEX developers_updated_at_desc_idx;
DROP INDEX developers_last_synced_at_desc_idx;
DROP INDEX developers_followers_count_desc_idx;
DROP INDEX developers_following_count_desc_idx;
DROP INDEX developers_public_gists_desc_idx;
DROP INDEX developers_public_repos_desc_idx;
DROP INDEX repositories_github_id_desc_idx;
DROP INDEX repositories_owner_github_id_desc_idx;
DROP INDEX repositories_name_desc_idx;
DROP INDEX repositories_full_name_desc_idx;
DROP INDEX repositories_description_desc_idx;
DROP INDEX repositories_homepage_desc_idx;
DROP INDEX repositories_language_desc_idx;
DROP INDEX repositories_created_at_desc_idx;
DROP INDEX repositories_updated_at_desc_idx;
DROP INDEX repositories_pushed_at_desc_idx;
DROP INDEX repositories_last_synced_at_desc_idx;
DROP INDEX repositories_has_downloads_desc_idx;
DROP INDEX repositories_has_issues_desc_idx;
DROP INDEX repositories_has_pages_desc_idx;
DROP INDEX repositories_has_projects_desc_idx;
DROP INDEX repositories_has_wiki_desc_idx;
DROP INDEX repositories_private_desc_idx;
DROP INDEX repositories_archived_desc_idx;
DROP INDEX repositories_disabled_desc_idx;
DROP INDEX repositories_fork_desc_idx;
DROP INDEX repositories_stargazers_count_desc_idx;
DROP INDEX repositories_subscribers_count_desc_idx;
DROP INDEX repositories_watchers_count_desc_idx;
DROP INDEX repositories_forks_count_desc_idx;
DROP INDEX repositories_open_issues_count_desc_idx;

-- The default task list (-created_at, then -id) walks this backward.
DROP INDEX tasks_created_at_idx;
CREATE INDEX tasks_created_at_idx ON tasks (created_at, id);

-- A followers or following page in created_at order, either way, walks one of these.
DROP INDEX follows_followers_page_idx, follows_following_page_idx;
CREATE INDEX follows_followers_page_idx
    ON follows (followee_id, follower_created_at, follower_id);
CREATE INDEX follows_following_page_idx
    ON follows (follower_id, followee_created_at, followee_id);
