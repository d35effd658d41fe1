-- 0013_account_settings: seed 004's typed key-value settings
-- (account.settings.get / .set). One row per (user, name); value is the
-- value's text and type says how to read it. Gone with the user.
CREATE TABLE account_settings (
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT NOT NULL CHECK (name <> ''),
    type        TEXT NOT NULL CHECK (type IN ('string', 'number', 'bool')),
    value       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, name)
);
