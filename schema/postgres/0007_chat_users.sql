-- 0007_chat_users: seed 003's (users.*) records beside the shared account.
--
-- chat_profiles is the chat profile: the display name and the about text.
-- name_fold is the name NFKC-normalised and case-folded by the store, the
-- form users.search matches on (a username's fold is identifiers.norm).
CREATE TABLE chat_profiles (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL DEFAULT '',
    name_fold  TEXT NOT NULL DEFAULT '',
    about      TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL
);

-- account_keys holds the argon2id hash of a user's account key (the
-- recovery secret of users.resetPassword), never the key.
CREATE TABLE account_keys (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    key_hash   TEXT NOT NULL CHECK (key_hash <> ''),
    updated_at BIGINT NOT NULL
);

-- users.search: substring matches (LIKE '%q%') of a name or a username go
-- through trigram GIN indexes. pg_trgm is a trusted extension (PostgreSQL
-- 13+), so a database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX chat_profiles_name_trgm ON chat_profiles USING gin (name_fold gin_trgm_ops);
CREATE INDEX identifiers_username_trgm ON identifiers USING gin (norm gin_trgm_ops) WHERE kind = 'username';

-- user_photos: which of a user's uploads (files, migration 0011) are
-- profile photos, in the order added. file_id names a files row; there is
-- no foreign key because files comes later in the migration order: the
-- store adds a photo only for a file the user owns (one INSERT … SELECT),
-- and users.me.photos.delete removes the photo before its file. Both go
-- with the user (ON DELETE CASCADE).
CREATE TABLE user_photos (
    file_id  TEXT PRIMARY KEY,
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at BIGINT NOT NULL
);
CREATE INDEX user_photos_user_idx ON user_photos (user_id, added_at);
