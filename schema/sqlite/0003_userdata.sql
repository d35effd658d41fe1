-- 0003_userdata: what seed 000 keeps about a user besides the account: the
-- product catalogue, activations and their consent log, tracking events,
-- push devices, blocks and pending data backups. Times are unix
-- microseconds; booleans INTEGER 0/1 held by CHECK. Everything a user owns
-- goes with the user (ON DELETE CASCADE).

CREATE TABLE products (
    id                  TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
    title               TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    policy              TEXT NOT NULL DEFAULT '',
    icon                TEXT NOT NULL DEFAULT '',
    info                TEXT NOT NULL DEFAULT '',
    subscription_cancel TEXT NOT NULL DEFAULT '',
    disabled            INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    position            INTEGER NOT NULL DEFAULT 0,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);

-- The two products seed 000 describes. The seed gives webstat's texts;
-- dating's are placeholders an operator replaces with PutProduct.
INSERT INTO products (id, title, description, policy, icon, info, position, created_at, updated_at) VALUES
    ('webstat', 'Advanced web analytics', 'Find out what I think and how visitors of your resources look.',
     'It''s a Privacy Policy', 'globe', '', 10, 1767225600000000, 1767225600000000),
    ('dating', 'Dating', 'Meet people and find a match.',
     'It''s a Privacy Policy', 'heart', '', 20, 1767225600000000, 1767225600000000);

-- A row means active. Products are never deleted while activated (RESTRICT):
-- disable them instead.
CREATE TABLE user_products (
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    product_id   TEXT NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    activated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, product_id)
);

-- Append-only: the legal record of each activation and deactivation.
CREATE TABLE product_consents (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    product_id TEXT NOT NULL REFERENCES products (id) ON DELETE RESTRICT,
    action     TEXT NOT NULL CHECK (action IN ('activate', 'deactivate')),
    created_at BIGINT NOT NULL,
    ip         TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT ''
);

CREATE INDEX product_consents_user_idx ON product_consents (user_id, id);

CREATE TABLE tracking_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    ip         TEXT NOT NULL DEFAULT '',
    user_agent TEXT NOT NULL DEFAULT '',
    data       TEXT NOT NULL
);

CREATE INDEX tracking_events_user_idx ON tracking_events (user_id, id);

-- A push device belongs to one user at a time: whoever registered it last.
CREATE TABLE push_devices (
    device_id  TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX push_devices_user_idx ON push_devices (user_id, updated_at);

CREATE TABLE user_blocks (
    blocker_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reason     INTEGER NOT NULL CHECK (reason BETWEEN 1 AND 5),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id),
    CHECK (blocker_id <> blocked_id)
);

-- The primary key serves "whom did X block"; this serves "who blocked X".
CREATE INDEX user_blocks_blocked_idx ON user_blocks (blocked_id, blocker_id);

-- Encrypted archives waiting for their single download, found by the
-- SHA-256 of the download token.
CREATE TABLE user_backups (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    archive    BLOB NOT NULL
);

CREATE INDEX user_backups_user_idx ON user_backups (user_id);
CREATE INDEX user_backups_expires_idx ON user_backups (expires_at);
