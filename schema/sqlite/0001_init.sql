-- 0001_init: the first schema. Migration files are append-only: change the
-- schema with a new numbered file, never by editing one already released.
--
-- Times are unix microseconds in BIGINT so both dialects store the same
-- numbers and no driver time-zone conversion is involved. SQLite has no
-- boolean type: booleans are INTEGER 0/1, held to that by CHECK.

-- Migrate bootstraps this table before running any file; it is repeated here
-- so the schema reads complete.
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    TEXT PRIMARY KEY,
    applied_at BIGINT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('active', 'disabled')),
    role          TEXT NOT NULL DEFAULT '',
    is_new        INTEGER NOT NULL DEFAULT 0 CHECK (is_new IN (0, 1)),

    first_name    TEXT NOT NULL DEFAULT '',
    last_name     TEXT NOT NULL DEFAULT '',
    company_name  TEXT NOT NULL DEFAULT '',
    company_title TEXT NOT NULL DEFAULT '',
    birthday      TEXT NOT NULL DEFAULT '',
    hometown      TEXT NOT NULL DEFAULT '',
    education     TEXT NOT NULL DEFAULT '',
    zip_code      TEXT NOT NULL DEFAULT '',
    description   TEXT NOT NULL DEFAULT '',
    link_url      TEXT NOT NULL DEFAULT '',
    privacy_mode  INTEGER NOT NULL DEFAULT 0 CHECK (privacy_mode IN (0, 1)),
    avatar        TEXT NOT NULL DEFAULT '',
    avatar3d      TEXT NOT NULL DEFAULT '',
    params        TEXT NOT NULL DEFAULT '',
    identity_type INTEGER NOT NULL DEFAULT 0 CHECK (identity_type BETWEEN 0 AND 2),
    identity_name TEXT NOT NULL DEFAULT '',
    z_address     TEXT NOT NULL DEFAULT '',

    public_room_count       INTEGER NOT NULL DEFAULT 0 CHECK (public_room_count >= 0),
    contact_count           INTEGER NOT NULL DEFAULT 0 CHECK (contact_count >= 0),
    pending_contact_count   INTEGER NOT NULL DEFAULT 0 CHECK (pending_contact_count >= 0),
    new_invitations_count   INTEGER NOT NULL DEFAULT 0 CHECK (new_invitations_count >= 0),
    pending_request_count   INTEGER NOT NULL DEFAULT 0 CHECK (pending_request_count >= 0),
    new_notifications_count INTEGER NOT NULL DEFAULT 0 CHECK (new_notifications_count >= 0),
    ideal_match_count       INTEGER NOT NULL DEFAULT 0 CHECK (ideal_match_count >= 0)
);

-- The primary key is the uniqueness rule: one owner per normalised value of
-- a kind. UNIQUE (user_id, kind) allows one identifier of each kind per user,
-- and its index (user_id first) also serves the per-user lookups and the
-- ON DELETE CASCADE, so a separate index on user_id alone would be redundant.
CREATE TABLE identifiers (
    user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind     TEXT NOT NULL CHECK (kind IN ('email', 'phone', 'username')),
    value    TEXT NOT NULL,
    norm     TEXT NOT NULL,
    verified INTEGER NOT NULL DEFAULT 0 CHECK (verified IN (0, 1)),
    PRIMARY KEY (kind, norm),
    UNIQUE (user_id, kind)
);

CREATE TABLE credentials (
    user_id       TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE partners (
    kid           TEXT PRIMARY KEY,
    name          TEXT NOT NULL DEFAULT '',
    secret_sealed TEXT NOT NULL,
    -- Space separated; scopes are short tokens without spaces.
    scopes        TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    revoked_at    BIGINT NULL
);

CREATE TABLE outbox (
    -- AUTOINCREMENT so an id is never reused after the newest row is deleted.
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    channel    TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    to_addr    TEXT NOT NULL,
    subject    TEXT NOT NULL DEFAULT '',
    body       TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    sent_at    BIGINT NULL
);

CREATE INDEX outbox_to_addr_idx ON outbox (to_addr, id);
