-- A week of a plausible crawl, for the screenshots in docs/screenshots/ (psql -1 -f, on a
-- freshly migrated database; not used by any test).
INSERT INTO developers (github_id, login, name, company, public_repos, following_count, location, followers_count, created_at, last_synced_at)
SELECT g, 'dev' || g, 'Developer ' || g, (ARRAY['@acme','@initech',NULL])[1 + g % 3], g % 60, g % 35, (ARRAY['Berlin','Lisbon','Paris','Oslo',NULL])[1 + g % 5], (g * 37) % 900,
       '2015-01-01'::timestamptz + g * interval '1 hour',
       CASE WHEN g % 3 <> 0 THEN now() - (g % 40) * interval '1 hour' END
  FROM generate_series(1, 3000) g;
INSERT INTO rate_limits (identity, resource, rate_limit, rate_remaining, rate_used, rate_reset) VALUES
  ('token:3f9a1c02', 'core', 5000, 3120, 1880, now() + interval '25 minutes'),
  ('token:3f9a1c02', 'graphql', 5000, 4630, 370, now() + interval '40 minutes'),
  ('token:b71e44d9', 'core', 5000, 4410, 590, now() + interval '12 minutes'),
  ('token:b71e44d9', 'graphql', 5000, 4980, 20, now() + interval '50 minutes');
-- Samples: a minute each for 7 days, the crawl growing, the quota cycling hourly.
INSERT INTO samples (taken_at, developers, synced, frontier, quota)
SELECT t, 1000 + i / 5, least(2000, 200 + i / 6), greatest(300, 1800 - i / 8),
       jsonb_build_array(
         jsonb_build_object('identity', 'token:3f9a1c02', 'resource', 'core', 'limit', 5000,
           'remaining', 5000 - ((extract(minute FROM t)::int + 35) % 60) * 62),
         jsonb_build_object('identity', 'token:3f9a1c02', 'resource', 'graphql', 'limit', 5000,
           'remaining', 5000 - ((extract(minute FROM t)::int + 5) % 60) * 9),
         jsonb_build_object('identity', 'token:b71e44d9', 'resource', 'core', 'limit', 5000,
           'remaining', 5000 - ((extract(minute FROM t)::int + 10) % 60) * 28),
         jsonb_build_object('identity', 'token:b71e44d9', 'resource', 'graphql', 'limit', 5000,
           'remaining', 5000 - ((extract(minute FROM t)::int + 40) % 60) * 2))
  FROM (SELECT date_trunc('minute', now()) - i * interval '1 minute' AS t, 10080 - i AS i
          FROM generate_series(0, 10079) i) s
 WHERE NOT (t > now() - interval '30 hours' AND t < now() - interval '28 hours');
-- Tasks over the day.
INSERT INTO tasks (name, username, status, attempts, error, github_requests, created_at, started_at, finished_at, args, dedupe_key)
SELECT 'full_profile_sync', 'dev' || g,
       CASE WHEN g % 17 = 0 THEN 'failed' WHEN g % 23 = 0 THEN 'deferred' ELSE 'succeeded' END,
       1, CASE WHEN g % 17 = 0 THEN 'GitHub answered 502 six times' END, 5,
       now() - g * interval '40 seconds', now() - g * interval '40 seconds',
       CASE WHEN g % 23 <> 0 OR g % 17 = 0 THEN now() - g * interval '40 seconds' + interval '3 seconds' END,
       jsonb_build_object('username', 'dev' || g), 'demo-' || g
  FROM generate_series(1, 2100) g;
INSERT INTO tracked_organizations (login, created_at, members_synced_at, last_error) VALUES
  ('rust-lang', now() - interval '6 days', now() - interval '3 hours', NULL),
  ('tokio-rs', now() - interval '2 days', now() - interval '9 hours', NULL),
  ('an-organization-with-a-long-login-name', now() - interval '1 hour', NULL, 'GitHub answered 404: Not Found');
INSERT INTO tracked_repositories (full_name, created_at, activity_synced_at, timeline_synced_at) VALUES
  ('rust-lang/cargo', now() - interval '6 days', now() - interval '20 minutes', now() - interval '8 minutes'),
  ('tokio-rs/tokio', now() - interval '2 days', now() - interval '50 minutes', NULL);
