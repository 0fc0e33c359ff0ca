-- Repository activity: tracked repositories and organizations; the issues and pull
-- requests of tracked repositories with their timelines, transfers, commits, releases
-- and weekly contributor figures; organization members. Nothing here is ever deleted by
-- a sync: a transferred issue is linked to what it became, a departed member is inactive.

CREATE TABLE tracked_organizations (
    id                UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    login             TEXT NOT NULL
        CONSTRAINT tracked_organizations_login_check CHECK (login ~ '^[A-Za-z0-9-]{1,39}$'),
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    members_synced_at TIMESTAMPTZ,
    last_error        TEXT
);
CREATE UNIQUE INDEX tracked_organizations_login_idx ON tracked_organizations (lower(login));

CREATE TABLE tracked_repositories (
    id                 UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    -- As tracked; follows GitHub when the repository is renamed or transferred.
    full_name          TEXT NOT NULL
        CONSTRAINT tracked_repositories_full_name_check
        CHECK (full_name ~ '^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$'),
    repository_id      UUID REFERENCES repositories (id) ON DELETE SET NULL,
    -- The tracked organization that brought it in, if any.
    organization_id    UUID REFERENCES tracked_organizations (id) ON DELETE SET NULL,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    activity_synced_at TIMESTAMPTZ,
    timeline_synced_at TIMESTAMPTZ,
    last_error         TEXT,
    -- The largest issue `updated_at` stored by a complete walk; the next walk asks for
    -- everything updated since an hour before it.
    issues_watermark   TIMESTAMPTZ,
    -- The latest commit date stored by a complete walk of `/commits?since=`.
    commits_watermark  TIMESTAMPTZ
);
CREATE UNIQUE INDEX tracked_repositories_full_name_idx ON tracked_repositories (lower(full_name));
CREATE UNIQUE INDEX tracked_repositories_repository_idx ON tracked_repositories (repository_id);
CREATE INDEX tracked_repositories_created_at_idx ON tracked_repositories (created_at, id);

-- Issues and pull requests together, as GitHub's issues API lists them.
CREATE TABLE issues (
    id                UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    github_id         BIGINT NOT NULL UNIQUE,
    repository_id     UUID NOT NULL REFERENCES repositories (id),
    full_name         TEXT NOT NULL,
    number            INTEGER NOT NULL,
    is_pull_request   BOOLEAN NOT NULL,
    title             TEXT NOT NULL,
    state             TEXT NOT NULL CONSTRAINT issues_state_check CHECK (state IN ('open', 'closed')),
    state_reason      TEXT,
    author_id         UUID REFERENCES developers (id),
    author_login      TEXT,
    -- GitHub's account type of the author (User, Bot, Organization).
    author_type       TEXT,
    labels            TEXT[] NOT NULL DEFAULT '{}',
    assignees         TEXT[] NOT NULL DEFAULT '{}',
    comments          INTEGER NOT NULL DEFAULT 0,
    locked            BOOLEAN NOT NULL DEFAULT false,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    closed_at         TIMESTAMPTZ,
    -- Who closed it: the actor of the latest `closed` timeline item (lists do not say).
    closed_by_login   TEXT,
    html_url          TEXT,
    -- Pull requests only (null for issues).
    draft             BOOLEAN,
    -- Null while open or while unknown; true/false once closed.
    merged            BOOLEAN,
    merged_at         TIMESTAMPTZ,
    merged_by_login   TEXT,
    -- The issue this one became when it was transferred to another repository.
    transferred_to_id UUID REFERENCES issues (id),
    -- Looked up after it left its repository's list and GitHub answered 404: deleted there.
    vanished_at       TIMESTAMPTZ,
    -- The `updated_at` at which the timeline was last read completely.
    timeline_read_at  TIMESTAMPTZ,
    inserted_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    row_updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX issues_repository_number_idx ON issues (repository_id, is_pull_request, number);
CREATE INDEX issues_number_idx ON issues (is_pull_request, number, id);
CREATE INDEX issues_created_at_idx ON issues (is_pull_request, created_at, id);
CREATE INDEX issues_updated_at_idx ON issues (is_pull_request, updated_at, id);
CREATE INDEX issues_closed_at_idx ON issues (is_pull_request, closed_at, id);
CREATE INDEX issues_merged_at_idx ON issues (merged_at) WHERE is_pull_request;
CREATE INDEX issues_author_login_idx ON issues (author_login);
CREATE INDEX issues_labels_idx ON issues USING gin (labels);
CREATE INDEX issues_timeline_due_idx ON issues (repository_id, updated_at)
    WHERE transferred_to_id IS NULL AND vanished_at IS NULL;

CREATE TABLE timeline_items (
    id          UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    issue_id    UUID NOT NULL REFERENCES issues (id),
    -- 0-based place in the issue's timeline as GitHub last listed it.
    position    INTEGER NOT NULL,
    event       TEXT NOT NULL,
    -- The item's GitHub id, a commit's sha, or (for items without either) a key derived
    -- from its content; an item is stored once per (issue, event, key).
    item_key    TEXT NOT NULL,
    actor_login TEXT,
    actor_type  TEXT,
    -- A review's submitted_at, a commit's author date, otherwise GitHub's created_at.
    created_at  TIMESTAMPTZ,
    details     JSONB NOT NULL DEFAULT '{}'::jsonb,
    inserted_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT timeline_items_key UNIQUE (issue_id, event, item_key)
);
CREATE INDEX timeline_items_position_idx ON timeline_items (issue_id, position, id);
CREATE INDEX timeline_items_event_idx ON timeline_items (event, created_at);

CREATE TABLE transfers (
    id             UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    from_issue_id  UUID NOT NULL UNIQUE REFERENCES issues (id),
    to_issue_id    UUID NOT NULL REFERENCES issues (id),
    from_full_name TEXT NOT NULL,
    from_number    INTEGER NOT NULL,
    to_full_name   TEXT NOT NULL,
    to_number      INTEGER NOT NULL,
    detected_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX transfers_detected_at_idx ON transfers (detected_at, id);

CREATE TABLE commits (
    id            UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    repository_id UUID NOT NULL REFERENCES repositories (id),
    full_name     TEXT NOT NULL,
    sha           TEXT NOT NULL,
    -- The GitHub account of the author; null when GitHub links none to the commit.
    author_id     UUID REFERENCES developers (id),
    author_login  TEXT,
    author_type   TEXT,
    author_name   TEXT,
    authored_at   TIMESTAMPTZ,
    committed_at  TIMESTAMPTZ,
    message       TEXT NOT NULL,
    inserted_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT commits_repository_sha UNIQUE (repository_id, sha)
);
CREATE INDEX commits_authored_at_idx ON commits (authored_at, id);
CREATE INDEX commits_repository_authored_at_idx ON commits (repository_id, authored_at, id);

CREATE TABLE releases (
    id            UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    github_id     BIGINT NOT NULL UNIQUE,
    repository_id UUID NOT NULL REFERENCES repositories (id),
    full_name     TEXT NOT NULL,
    tag_name      TEXT NOT NULL,
    name          TEXT,
    author_id     UUID REFERENCES developers (id),
    author_login  TEXT,
    author_type   TEXT,
    draft         BOOLEAN NOT NULL DEFAULT false,
    prerelease    BOOLEAN NOT NULL DEFAULT false,
    created_at    TIMESTAMPTZ,
    published_at  TIMESTAMPTZ,
    html_url      TEXT,
    inserted_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX releases_published_at_idx ON releases (published_at, id);
CREATE INDEX releases_repository_idx ON releases (repository_id, published_at);

-- GitHub's `/stats/contributors`: commits and lines per author and week, replaced whole
-- on each read.
CREATE TABLE contributor_weeks (
    repository_id    UUID NOT NULL REFERENCES repositories (id),
    author_github_id BIGINT NOT NULL,
    developer_id     UUID REFERENCES developers (id),
    login            TEXT NOT NULL,
    author_type      TEXT,
    -- The week's start, a Sunday 00:00 UTC (GitHub's `w`).
    week             TIMESTAMPTZ NOT NULL,
    commits          INTEGER NOT NULL,
    additions        INTEGER NOT NULL,
    deletions        INTEGER NOT NULL,
    PRIMARY KEY (repository_id, author_github_id, week)
);

CREATE TABLE members (
    id                 UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_login TEXT NOT NULL,
    developer_id       UUID NOT NULL REFERENCES developers (id),
    login              TEXT NOT NULL,
    active             BOOLEAN NOT NULL DEFAULT true,
    inserted_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    inactive_at        TIMESTAMPTZ
);
CREATE UNIQUE INDEX members_organization_developer_idx
    ON members (lower(organization_login), developer_id);
CREATE INDEX members_inserted_at_idx ON members (inserted_at, id);
