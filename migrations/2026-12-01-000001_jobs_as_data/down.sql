DROP INDEX tasks_one_active_idx;
CREATE UNIQUE INDEX tasks_one_active_idx
    ON tasks (name, lower(coalesce(username, '')), lower(coalesce(repo_name, '')))
    WHERE status IN ('queued', 'running', 'deferred');
ALTER TABLE tasks DROP COLUMN dedupe_key, DROP COLUMN args;
DELETE FROM tasks WHERE name NOT IN ('full_profile_sync', 'full_repository_sync', 'discovery_scraper');
ALTER TABLE tasks DROP CONSTRAINT tasks_name_check;
ALTER TABLE tasks ADD CONSTRAINT tasks_name_check
    CHECK (name IN ('full_profile_sync', 'full_repository_sync', 'discovery_scraper'));
