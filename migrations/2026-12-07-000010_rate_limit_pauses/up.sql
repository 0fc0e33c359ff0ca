-- GitHub's secondary rate limit (abuse protection) pauses one identity: nothing may be sent
-- with it, from any worker process, until `paused_until`. The pause lives here, beside the
-- quota rows of `rate_limits`, so every process sees it. `pause_seconds` is the length of
-- the last pause: a limit that repeats soon after a pause without GitHub naming the wait
-- doubles it.
CREATE TABLE rate_limit_pauses (
    identity TEXT PRIMARY KEY,
    paused_until TIMESTAMPTZ NOT NULL,
    pause_seconds INTEGER NOT NULL CHECK (pause_seconds > 0),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
