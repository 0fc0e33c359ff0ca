// @generated automatically by Diesel CLI.

pub mod sql_types {
    #[derive(diesel::query_builder::QueryId, Clone, diesel::sql_types::SqlType)]
    #[diesel(postgres_type(name = "tsvector", schema = "pg_catalog"))]
    pub struct Tsvector;
}

diesel::table! {
    api_tokens (id) {
        id -> Uuid,
        name -> Text,
        token_hash -> Text,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    commits (id) {
        id -> Uuid,
        repository_id -> Uuid,
        full_name -> Text,
        sha -> Text,
        author_id -> Nullable<Uuid>,
        author_login -> Nullable<Text>,
        author_type -> Nullable<Text>,
        author_name -> Nullable<Text>,
        authored_at -> Nullable<Timestamptz>,
        committed_at -> Nullable<Timestamptz>,
        message -> Text,
        inserted_at -> Timestamptz,
    }
}

diesel::table! {
    contribution_totals (repository_id, login, bot) {
        repository_id -> Uuid,
        login -> Text,
        bot -> Bool,
        commit -> Int8,
        pr_opened -> Int8,
        pr_merged -> Int8,
        pr_reviewed -> Int8,
        issue_opened -> Int8,
        issue_closed -> Int8,
        comment -> Int8,
        release -> Int8,
        lines_added -> Int8,
        lines_deleted -> Int8,
    }
}

diesel::table! {
    contributions (id) {
        id -> Int8,
        repository_id -> Uuid,
        login -> Text,
        bot -> Bool,
        kind -> Text,
        occurred_at -> Timestamptz,
        amount -> Int8,
    }
}

diesel::table! {
    contributor_weeks (repository_id, author_github_id, week) {
        repository_id -> Uuid,
        author_github_id -> Int8,
        developer_id -> Nullable<Uuid>,
        login -> Text,
        author_type -> Nullable<Text>,
        week -> Timestamptz,
        commits -> Int4,
        additions -> Int4,
        deletions -> Int4,
    }
}

diesel::table! {
    developer_rank_run (id) {
        id -> Bool,
        computed_at -> Timestamptz,
        developers -> Int8,
        synced -> Int8,
        follow_edges -> Int8,
        dangling -> Int8,
        iterations -> Int4,
        l1_change -> Float8,
        duration_ms -> Int8,
    }
}

diesel::table! {
    developer_ranks (developer_id) {
        developer_id -> Uuid,
        rank -> Int4,
        rank_score -> Float8,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Tsvector;

    developers (id) {
        id -> Uuid,
        github_id -> Int8,
        login -> Text,
        name -> Nullable<Text>,
        location -> Nullable<Text>,
        bio -> Nullable<Text>,
        company -> Nullable<Text>,
        email -> Nullable<Text>,
        avatar_url -> Nullable<Text>,
        html_url -> Nullable<Text>,
        created_at -> Nullable<Timestamptz>,
        updated_at -> Nullable<Timestamptz>,
        followers_count -> Nullable<Int4>,
        following_count -> Nullable<Int4>,
        public_gists -> Nullable<Int4>,
        public_repos -> Nullable<Int4>,
        etag -> Nullable<Text>,
        last_synced_at -> Nullable<Timestamptz>,
        gone_at -> Nullable<Timestamptz>,
        inserted_at -> Timestamptz,
        row_updated_at -> Timestamptz,
        stored_followers -> Int4,
        stored_following -> Int4,
        search -> Tsvector,
    }
}

diesel::table! {
    event_feeds (feed) {
        feed -> Text,
        etag -> Nullable<Text>,
        next_poll_at -> Timestamptz,
        last_polled_at -> Nullable<Timestamptz>,
        newest_github_id -> Nullable<Int8>,
        newest_created_at -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    event_gaps (id) {
        id -> Uuid,
        feed -> Text,
        detected_at -> Timestamptz,
        newest_stored_before -> Timestamptz,
        oldest_fetched -> Timestamptz,
        events_fetched -> Int4,
    }
}

diesel::table! {
    events (id) {
        id -> Uuid,
        github_id -> Int8,
        #[sql_name = "type"]
        type_ -> Text,
        action -> Nullable<Text>,
        actor_login -> Text,
        repository_name -> Text,
        org_login -> Nullable<Text>,
        created_at -> Timestamptz,
        fetched_at -> Timestamptz,
        payload -> Jsonb,
    }
}

diesel::table! {
    follows (follower_id, followee_id) {
        follower_id -> Uuid,
        followee_id -> Uuid,
        inserted_at -> Timestamptz,
        follower_created_at -> Nullable<Timestamptz>,
        followee_created_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    github_pages (url) {
        url -> Text,
        etag -> Text,
        next_url -> Nullable<Text>,
        item_ids -> Array<Int8>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    graph_snapshot (id) {
        id -> Bool,
        computed_at -> Timestamptz,
        developers -> Int8,
        synced -> Int8,
        follow_edges -> Int8,
        stars -> Int8,
        repositories -> Int8,
        followers_histogram -> Jsonb,
        following_histogram -> Jsonb,
        most_followed -> Jsonb,
        duration_ms -> Int8,
    }
}

diesel::table! {
    issues (id) {
        id -> Uuid,
        github_id -> Int8,
        repository_id -> Uuid,
        full_name -> Text,
        number -> Int4,
        is_pull_request -> Bool,
        title -> Text,
        state -> Text,
        state_reason -> Nullable<Text>,
        author_id -> Nullable<Uuid>,
        author_login -> Nullable<Text>,
        author_type -> Nullable<Text>,
        labels -> Array<Text>,
        assignees -> Array<Text>,
        comments -> Int4,
        locked -> Bool,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        closed_at -> Nullable<Timestamptz>,
        closed_by_login -> Nullable<Text>,
        html_url -> Nullable<Text>,
        draft -> Nullable<Bool>,
        merged -> Nullable<Bool>,
        merged_at -> Nullable<Timestamptz>,
        merged_by_login -> Nullable<Text>,
        transferred_to_id -> Nullable<Uuid>,
        vanished_at -> Nullable<Timestamptz>,
        timeline_read_at -> Nullable<Timestamptz>,
        inserted_at -> Timestamptz,
        row_updated_at -> Timestamptz,
        deleted_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    leaderboard_rebuilds (repository_id) {
        repository_id -> Uuid,
        started_at -> Timestamptz,
    }
}

diesel::table! {
    leaderboard_weights (kind) {
        kind -> Text,
        points -> Float8,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    members (id) {
        id -> Uuid,
        organization_login -> Text,
        developer_id -> Uuid,
        login -> Text,
        active -> Bool,
        inserted_at -> Timestamptz,
        inactive_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    metric_counters (family, labels) {
        family -> Text,
        labels -> Jsonb,
        value -> Float8,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    rate_limit_pauses (identity) {
        identity -> Text,
        paused_until -> Timestamptz,
        pause_seconds -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    rate_limits (id) {
        id -> Int8,
        identity -> Text,
        resource -> Text,
        rate_limit -> Int4,
        rate_remaining -> Int4,
        rate_used -> Int4,
        rate_reset -> Timestamptz,
        rate_reserved -> Int4,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    releases (id) {
        id -> Uuid,
        github_id -> Int8,
        repository_id -> Uuid,
        full_name -> Text,
        tag_name -> Text,
        name -> Nullable<Text>,
        author_id -> Nullable<Uuid>,
        author_login -> Nullable<Text>,
        author_type -> Nullable<Text>,
        draft -> Bool,
        prerelease -> Bool,
        created_at -> Nullable<Timestamptz>,
        published_at -> Nullable<Timestamptz>,
        html_url -> Nullable<Text>,
        inserted_at -> Timestamptz,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::Tsvector;

    repositories (id) {
        id -> Uuid,
        github_id -> Int8,
        owner_id -> Uuid,
        owner_github_id -> Int8,
        name -> Text,
        full_name -> Text,
        description -> Nullable<Text>,
        homepage -> Nullable<Text>,
        language -> Nullable<Text>,
        created_at -> Nullable<Timestamptz>,
        updated_at -> Nullable<Timestamptz>,
        pushed_at -> Nullable<Timestamptz>,
        has_downloads -> Nullable<Bool>,
        has_issues -> Bool,
        has_pages -> Nullable<Bool>,
        has_projects -> Bool,
        has_wiki -> Bool,
        private -> Bool,
        archived -> Bool,
        disabled -> Bool,
        fork -> Bool,
        stargazers_count -> Int4,
        subscribers_count -> Nullable<Int4>,
        watchers_count -> Int4,
        forks_count -> Int4,
        open_issues_count -> Nullable<Int4>,
        etag -> Nullable<Text>,
        last_synced_at -> Nullable<Timestamptz>,
        gone_at -> Nullable<Timestamptz>,
        inserted_at -> Timestamptz,
        row_updated_at -> Timestamptz,
        search -> Tsvector,
    }
}

diesel::table! {
    samples (taken_at) {
        taken_at -> Timestamptz,
        developers -> Int8,
        synced -> Int8,
        frontier -> Int8,
        quota -> Jsonb,
    }
}

diesel::table! {
    stars (developer_id, repository_id) {
        developer_id -> Uuid,
        repository_id -> Uuid,
        inserted_at -> Timestamptz,
    }
}

diesel::table! {
    tasks (id) {
        id -> Uuid,
        name -> Text,
        username -> Nullable<Text>,
        repo_name -> Nullable<Text>,
        status -> Text,
        attempts -> Int4,
        not_before -> Nullable<Timestamptz>,
        error -> Nullable<Text>,
        github_requests -> Int4,
        created_at -> Timestamptz,
        started_at -> Nullable<Timestamptz>,
        finished_at -> Nullable<Timestamptz>,
        heartbeat_at -> Nullable<Timestamptz>,
        args -> Jsonb,
        dedupe_key -> Text,
    }
}

diesel::table! {
    timeline_items (id) {
        id -> Uuid,
        issue_id -> Uuid,
        position -> Int4,
        event -> Text,
        item_key -> Text,
        actor_login -> Nullable<Text>,
        actor_type -> Nullable<Text>,
        created_at -> Nullable<Timestamptz>,
        details -> Jsonb,
        inserted_at -> Timestamptz,
        updated_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    tracked_organizations (id) {
        id -> Uuid,
        login -> Text,
        created_at -> Timestamptz,
        members_synced_at -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    tracked_repositories (id) {
        id -> Uuid,
        full_name -> Text,
        repository_id -> Nullable<Uuid>,
        organization_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
        activity_synced_at -> Nullable<Timestamptz>,
        timeline_synced_at -> Nullable<Timestamptz>,
        last_error -> Nullable<Text>,
        issues_watermark -> Nullable<Timestamptz>,
        commits_watermark -> Nullable<Timestamptz>,
        blocked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    transfers (id) {
        id -> Uuid,
        from_issue_id -> Uuid,
        to_issue_id -> Uuid,
        from_full_name -> Text,
        from_number -> Int4,
        to_full_name -> Text,
        to_number -> Int4,
        detected_at -> Timestamptz,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Uuid,
        delivery_id -> Text,
        event -> Text,
        action -> Nullable<Text>,
        repository_name -> Nullable<Text>,
        payload -> Jsonb,
        received_at -> Timestamptz,
        applied_at -> Nullable<Timestamptz>,
        status -> Text,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    weekly_contributions (repository_id, week, login, bot) {
        repository_id -> Uuid,
        week -> Date,
        login -> Text,
        bot -> Bool,
        commit -> Int8,
        pr_opened -> Int8,
        pr_merged -> Int8,
        pr_reviewed -> Int8,
        issue_opened -> Int8,
        issue_closed -> Int8,
        comment -> Int8,
        release -> Int8,
        lines_added -> Int8,
        lines_deleted -> Int8,
    }
}

diesel::joinable!(commits -> developers (author_id));
diesel::joinable!(commits -> repositories (repository_id));
diesel::joinable!(contributions -> repositories (repository_id));
diesel::joinable!(contributor_weeks -> developers (developer_id));
diesel::joinable!(contributor_weeks -> repositories (repository_id));
diesel::joinable!(issues -> developers (author_id));
diesel::joinable!(issues -> repositories (repository_id));
diesel::joinable!(leaderboard_rebuilds -> repositories (repository_id));
diesel::joinable!(members -> developers (developer_id));
diesel::joinable!(releases -> developers (author_id));
diesel::joinable!(releases -> repositories (repository_id));
diesel::joinable!(repositories -> developers (owner_id));
diesel::joinable!(stars -> developers (developer_id));
diesel::joinable!(stars -> repositories (repository_id));
diesel::joinable!(timeline_items -> issues (issue_id));
diesel::joinable!(tracked_repositories -> repositories (repository_id));
diesel::joinable!(tracked_repositories -> tracked_organizations (organization_id));

diesel::allow_tables_to_appear_in_same_query!(
    api_tokens,
    commits,
    contribution_totals,
    contributions,
    contributor_weeks,
    developer_rank_run,
    developer_ranks,
    developers,
    event_feeds,
    event_gaps,
    events,
    follows,
    github_pages,
    graph_snapshot,
    issues,
    leaderboard_rebuilds,
    leaderboard_weights,
    members,
    metric_counters,
    rate_limit_pauses,
    rate_limits,
    releases,
    repositories,
    samples,
    stars,
    tasks,
    timeline_items,
    tracked_organizations,
    tracked_repositories,
    transfers,
    webhook_deliveries,
    weekly_contributions,
);
