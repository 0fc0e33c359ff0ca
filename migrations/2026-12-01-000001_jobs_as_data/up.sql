-- Jobs as data: a task carries its arguments as a JSON object and a dedupe key derived
-- from them, so a new job kind needs no schema change. The job registry, not a CHECK
-- constraint, decides which names exist (a row of an unknown kind fails when run).

ALTER TABLE tasks DROP CONSTRAINT tasks_name_check;
ALTER TABLE tasks ADD CONSTRAINT tasks_name_check CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$');

ALTER TABLE tasks
    ADD COLUMN args JSONB NOT NULL DEFAULT '{}'::jsonb
        CONSTRAINT tasks_args_is_object CHECK (jsonb_typeof(args) = 'object'),
    ADD COLUMN dedupe_key TEXT NOT NULL DEFAULT '';

-- The three original jobs: the same arguments and keys the code derives for them.
UPDATE tasks SET
    args = jsonb_strip_nulls(jsonb_build_object('username', username, 'repo_name', repo_name)),
    dedupe_key = CASE
        WHEN username IS NULL AND repo_name IS NULL THEN '{}'
        ELSE lower(concat_ws('/', username, repo_name))
    END;
ALTER TABLE tasks ALTER COLUMN dedupe_key DROP DEFAULT;

-- At most one task with the same name and dedupe key is queued, running or deferred.
DROP INDEX tasks_one_active_idx;
CREATE UNIQUE INDEX tasks_one_active_idx ON tasks (name, dedupe_key)
    WHERE status IN ('queued', 'running', 'deferred');
