-- The descending twins and the previous tie-break order.
CREATE INDEX developers_github_id_desc_idx ON developers (github_id DESC NULLS LAST, id);
CREATE INDEX developers_login_desc_idx ON developers (login DESC NULLS LAST, id);
CREATE INDEX developers_name_desc_idx ON developers (name DESC NULLS LAST, id);
CREATE INDEX developers_bio_desc_idx ON developers (bio DESC NULLS LAST, id);
CREATE INDEX developers_location_desc_idx ON developers (location DESC NULLS LAST, id);
CREATE INDEX developers_company_desc_idx ON developers (company DESC NULLS LAST, id);
CREATE INDEX developers_email_desc_idx ON developers (email DESC NULLS LAST, id);
CREATE INDEX developers_created_at_desc_idx ON developers (created_at DESC NULLS LAST, id);
CREATE INDEX developers_updated_at_desc_idx ON developers (updated_at DESC NULLS LAST, id);
CREATE INDEX developers_last_synced_at_desc_idx ON developers (last_synced_at DESC NULLS LAST, id);
CREATE INDEX developers_followers_count_desc_idx ON developers (followers_count DESC NULLS LAST, id);
CREATE INDEX developers_following_count_desc_idx ON developers (following_count DESC NULLS LAST, id);
CREATE INDEX developers_public_gists_desc_idx ON developers (public_gists DESC NULLS LAST, id);
CREATE INDEX developers_public_repos_desc_idx ON developers (public_repos DESC NULLS LAST, id);
CREATE INDEX repositories_github_id_desc_idx ON repositories (github_id DESC NULLS LAST, id);
CREATE INDEX repositories_owner_github_id_desc_idx ON repositories (owner_github_id DESC NULLS LAST, id);
CREATE INDEX repositories_name_desc_idx ON repositories (name DESC NULLS LAST, id);
CREATE INDEX repositories_full_name_desc_idx ON repositories (full_name DESC NULLS LAST, id);
CREATE INDEX repositories_description_desc_idx ON repositories (description DESC NULLS LAST, id);
CREATE INDEX repositories_homepage_desc_idx ON repositories (homepage DESC NULLS LAST, id);
CREATE INDEX repositories_language_desc_idx ON repositories (language DESC NULLS LAST, id);
CREATE INDEX repositories_created_at_desc_idx ON repositories (created_at DESC NULLS LAST, id);
CREATE INDEX repositories_updated_at_desc_idx ON repositories (updated_at DESC NULLS LAST, id);
CREATE INDEX repositories_pushed_at_desc_idx ON repositories (pushed_at DESC NULLS LAST, id);
CREATE INDEX repositories_last_synced_at_desc_idx ON repositories (last_synced_at DESC NULLS LAST, id);
CREATE INDEX repositories_has_downloads_desc_idx ON repositories (has_downloads DESC NULLS LAST, id);
CREATE INDEX repositories_has_issues_desc_idx ON repositories (has_issues DESC NULLS LAST, id);
CREATE INDEX repositories_has_pages_desc_idx ON repositories (has_pages DESC NULLS LAST, id);
CREATE INDEX repositories_has_projects_desc_idx ON repositories (has_projects DESC NULLS LAST, id);
CREATE INDEX repositories_has_wiki_desc_idx ON repositories (has_wiki DESC NULLS LAST, id);
CREATE INDEX repositories_private_desc_idx ON repositories (private DESC NULLS LAST, id);
CREATE INDEX repositories_archived_desc_idx ON repositories (archived DESC NULLS LAST, id);
CREATE INDEX repositories_disabled_desc_idx ON repositories (disabled DESC NULLS LAST, id);
CREATE INDEX repositories_fork_desc_idx ON repositories (fork DESC NULLS LAST, id);
CREATE INDEX repositories_stargazers_count_desc_idx ON repositories (stargazers_count DESC NULLS LAST, id);
CREATE INDEX repositories_subscribers_count_desc_idx ON repositories (subscribers_count DESC NULLS LAST, id);
CREATE INDEX repositories_watchers_count_desc_idx ON repositories (watchers_count DESC NULLS LAST, id);
CREATE INDEX repositories_forks_count_desc_idx ON repositories (forks_count DESC NULLS LAST, id);
CREATE INDEX repositories_open_issues_count_desc_idx ON repositories (open_issues_count DESC NULLS LAST, id);

DROP INDEX tasks_created_at_idx;
CREATE INDEX tasks_created_at_idx ON tasks (created_at DESC, id);

DROP INDEX follows_followers_page_idx, follows_following_page_idx;
CREATE INDEX follows_followers_page_idx
    ON follows (followee_id, follower_created_at DESC NULLS LAST, follower_id);
CREATE INDEX follows_following_page_idx
    ON follows (follower_id, followee_created_at DESC NULLS LAST, followee_id);
