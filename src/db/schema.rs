// @generated automatically by Diesel CLI.

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
    }
}

diesel::table! {
    follows (follower_id, followee_id) {
        follower_id -> Uuid,
        followee_id -> Uuid,
        inserted_at -> Timestamptz,
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
    metric_counters (family, labels) {
        family -> Text,
        labels -> Jsonb,
        value -> Float8,
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
        has_downloads -> Bool,
        has_issues -> Bool,
        has_pages -> Bool,
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
        open_issues_count -> Int4,
        etag -> Nullable<Text>,
        last_synced_at -> Nullable<Timestamptz>,
        gone_at -> Nullable<Timestamptz>,
        inserted_at -> Timestamptz,
        row_updated_at -> Timestamptz,
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

diesel::joinable!(repositories -> developers (owner_id));
diesel::joinable!(stars -> developers (developer_id));
diesel::joinable!(stars -> repositories (repository_id));

diesel::allow_tables_to_appear_in_same_query!(
    api_tokens,
    developers,
    follows,
    github_pages,
    metric_counters,
    rate_limits,
    repositories,
    stars,
    tasks,
);
