-- The whole data model of gitomatic: crawled GitHub data, the GitHub quota ledger,
-- task runs and API tokens.

CREATE TABLE developers (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    github_id       BIGINT NOT NULL UNIQUE,
    login           TEXT NOT NULL,
    name            TEXT,
    location        TEXT,
    bio             TEXT,
    company         TEXT,
    email           TEXT,
    avatar_url      TEXT,
    html_url        TEXT,
    -- created_at / updated_at are GitHub's profile timestamps (null until the profile is fetched).
    created_at      TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ,
    followers_count INTEGER,
    following_count INTEGER,
    public_gists    INTEGER,
    public_repos    INTEGER,
    etag            TEXT,
    last_synced_at  TIMESTAMPTZ,
    gone_at         TIMESTAMPTZ,
    inserted_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    row_updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX developers_login_idx ON developers (lower(login));
CREATE INDEX developers_created_at_idx ON developers (created_at DESC NULLS LAST, id);
CREATE INDEX developers_updated_at_idx ON developers (updated_at);
CREATE INDEX developers_last_synced_at_idx ON developers (last_synced_at NULLS FIRST, id);
CREATE INDEX developers_followers_count_idx ON developers (followers_count);
CREATE INDEX developers_following_count_idx ON developers (following_count);
CREATE INDEX developers_public_repos_idx ON developers (public_repos);
CREATE INDEX developers_public_gists_idx ON developers (public_gists);

CREATE TABLE repositories (
    id                UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    github_id         BIGINT NOT NULL UNIQUE,
    owner_id          UUID NOT NULL REFERENCES developers (id),
    owner_github_id   BIGINT NOT NULL,
    name              TEXT NOT NULL,
    full_name         TEXT NOT NULL,
    description       TEXT,
    homepage          TEXT,
    language          TEXT,
    created_at        TIMESTAMPTZ,
    updated_at        TIMESTAMPTZ,
    pushed_at         TIMESTAMPTZ,
    has_downloads     BOOLEAN NOT NULL DEFAULT false,
    has_issues        BOOLEAN NOT NULL DEFAULT false,
    has_pages         BOOLEAN NOT NULL DEFAULT false,
    has_projects      BOOLEAN NOT NULL DEFAULT false,
    has_wiki          BOOLEAN NOT NULL DEFAULT false,
    private           BOOLEAN NOT NULL DEFAULT false,
    archived          BOOLEAN NOT NULL DEFAULT false,
    disabled          BOOLEAN NOT NULL DEFAULT false,
    fork              BOOLEAN NOT NULL DEFAULT false,
    stargazers_count  INTEGER NOT NULL DEFAULT 0,
    subscribers_count INTEGER,
    watchers_count    INTEGER NOT NULL DEFAULT 0,
    forks_count       INTEGER NOT NULL DEFAULT 0,
    open_issues_count INTEGER NOT NULL DEFAULT 0,
    etag              TEXT,
    last_synced_at    TIMESTAMPTZ,
    gone_at           TIMESTAMPTZ,
    inserted_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    row_updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX repositories_owner_id_idx ON repositories (owner_id);
CREATE INDEX repositories_owner_github_id_idx ON repositories (owner_github_id);
CREATE INDEX repositories_full_name_idx ON repositories (lower(full_name));
CREATE INDEX repositories_name_idx ON repositories (lower(name));
CREATE INDEX repositories_language_idx ON repositories (language);
CREATE INDEX repositories_created_at_idx ON repositories (created_at DESC NULLS LAST, id);
CREATE INDEX repositories_updated_at_idx ON repositories (updated_at);
CREATE INDEX repositories_pushed_at_idx ON repositories (pushed_at);
CREATE INDEX repositories_last_synced_at_idx ON repositories (last_synced_at NULLS FIRST, id);
CREATE INDEX repositories_stargazers_count_idx ON repositories (stargazers_count);
CREATE INDEX repositories_forks_count_idx ON repositories (forks_count);

-- One row per follow edge: follower follows followee.
CREATE TABLE follows (
    follower_id UUID NOT NULL REFERENCES developers (id) ON DELETE CASCADE,
    followee_id UUID NOT NULL REFERENCES developers (id) ON DELETE CASCADE,
    inserted_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (follower_id, followee_id)
);
CREATE INDEX follows_followee_idx ON follows (followee_id, follower_id);

-- One row per star: developer starred repository.
CREATE TABLE stars (
    developer_id  UUID NOT NULL REFERENCES developers (id) ON DELETE CASCADE,
    repository_id UUID NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    inserted_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (developer_id, repository_id)
);
CREATE INDEX stars_repository_idx ON stars (repository_id, developer_id);

-- The GitHub quota as last seen, per identity (never the token itself) and resource.
CREATE TABLE rate_limits (
    id             BIGSERIAL PRIMARY KEY,
    identity       TEXT NOT NULL,
    resource       TEXT NOT NULL,
    rate_limit     INTEGER NOT NULL,
    rate_remaining INTEGER NOT NULL,
    rate_used      INTEGER NOT NULL,
    rate_reset     TIMESTAMPTZ NOT NULL,
    -- Requests sent by gitomatic whose response has not been read yet (reserved quota).
    rate_reserved  INTEGER NOT NULL DEFAULT 0,
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (identity, resource)
);

-- Conditional-request cache of GitHub list pages: the page's ETag, its next link
-- (a 304 carries no Link header) and the GitHub ids it listed.
CREATE TABLE github_pages (
    url         TEXT PRIMARY KEY,
    etag        TEXT NOT NULL,
    next_url    TEXT,
    item_ids    BIGINT[] NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Task runs: the record of every triggered job and what became of it.
CREATE TABLE tasks (
    id              UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name            TEXT NOT NULL
                    CHECK (name IN ('full_profile_sync', 'full_repository_sync', 'discovery_scraper')),
    username        TEXT,
    repo_name       TEXT,
    status          TEXT NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'running', 'deferred', 'succeeded', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    not_before      TIMESTAMPTZ,
    error           TEXT,
    github_requests INTEGER NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at      TIMESTAMPTZ,
    finished_at     TIMESTAMPTZ,
    heartbeat_at    TIMESTAMPTZ
);
-- At most one identical task is queued, running or deferred at a time.
CREATE UNIQUE INDEX tasks_one_active_idx
    ON tasks (name, lower(coalesce(username, '')), lower(coalesce(repo_name, '')))
    WHERE status IN ('queued', 'running', 'deferred');
CREATE INDEX tasks_created_at_idx ON tasks (created_at DESC, id);
CREATE INDEX tasks_status_idx ON tasks (status);

-- API tokens for writes: only the SHA-256 of the token is stored.
CREATE TABLE api_tokens (
    id           UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at TIMESTAMPTZ
);
