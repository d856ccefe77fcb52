-- Login limits count failed attempts only, per source (account and address), per address
-- and per account (server/auth/ratelimit.py). The old fixed-window counters counted every
-- attempt, correct ones included; they are short-lived counters, so they are dropped.
DROP TABLE rate_limit;
CREATE TABLE rate_limit (
    key             text PRIMARY KEY,
    failures        integer NOT NULL DEFAULT 0,
    -- first failure of the current window (fixed buckets)
    window_start    timestamptz NOT NULL DEFAULT now(),
    last_failed_at  timestamptz,
    blocked_until   timestamptz,
    -- attempts whose password is being checked right now, and when one last began
    in_flight       integer NOT NULL DEFAULT 0,
    in_flight_at    timestamptz NOT NULL DEFAULT now()
);
