-- 0014_activity: the activity trail (core/activity). One row per thing a
-- user did or had done to their account (category 'user') or an admin did
-- (category 'admin', target_id the user acted on). A user's own rows go
-- with the user (ON DELETE CASCADE); an admin's row about a user that is
-- later deleted keeps target_id as a bare id, so the audit is not rewritten.
-- data is a JSON object with secrets already removed by core/activity.
CREATE TABLE activities (
    id          BIGSERIAL PRIMARY KEY,
    user_id     TEXT NULL REFERENCES users (id) ON DELETE CASCADE,
    target_id   TEXT NOT NULL DEFAULT '',
    actor       TEXT NOT NULL,
    category    TEXT NOT NULL CHECK (category IN ('user', 'admin')),
    topic       TEXT NOT NULL CHECK (topic <> ''),
    action      TEXT NOT NULL CHECK (action <> ''),
    result      TEXT NOT NULL CHECK (result IN ('succeed', 'failed', 'denied')),
    ip          TEXT NOT NULL DEFAULT '',
    country     TEXT NOT NULL DEFAULT '',
    user_agent  TEXT NOT NULL DEFAULT '',
    data        TEXT NOT NULL DEFAULT '{}',
    created_at  BIGINT NOT NULL
);

CREATE INDEX activities_user_idx ON activities (user_id, id);
CREATE INDEX activities_category_idx ON activities (category, id);
CREATE INDEX activities_target_idx ON activities (target_id, id);
