-- 0011_files_documents_keys: uploaded files (core/files; the bytes live in
-- the blob storage, filesystem or S3-compatible, never in SQL), seed 002's
-- KYC documents and data storage, and seed 002's user API keys (the HMAC
-- secret sealed by the key ring, never in clear). Times are unix
-- microseconds. Everything a user owns goes with the user (ON DELETE
-- CASCADE); the blobs are removed by the caller after the rows.

CREATE TABLE files (
    id           TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose      TEXT NOT NULL CHECK (purpose IN ('upload', 'document')),
    content_type TEXT NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp', 'application/pdf')),
    size         BIGINT NOT NULL CHECK (size > 0),
    sha256       TEXT NOT NULL CHECK (length(sha256) = 64),
    created_at   BIGINT NOT NULL
);

CREATE INDEX files_user_idx ON files (user_id, purpose, created_at);

-- One row per uploaded file, as Barong keeps them. A document's file cannot
-- be deleted while the document exists (NO ACTION: a user's deletion
-- removes both in the same statement).
CREATE TABLE documents (
    id          TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    file_id     TEXT NOT NULL REFERENCES files (id),
    doc_type    TEXT NOT NULL CHECK (length(doc_type) BETWEEN 1 AND 64),
    doc_number  TEXT NOT NULL CHECK (length(doc_number) BETWEEN 1 AND 128),
    doc_expire  TEXT NOT NULL DEFAULT '',
    doc_issue   TEXT NOT NULL DEFAULT '',
    metadata    TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL CHECK (state IN ('pending', 'verified', 'rejected')),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE INDEX documents_user_idx ON documents (user_id, created_at);
CREATE INDEX documents_state_idx ON documents (state, created_at);
CREATE UNIQUE INDEX documents_file_idx ON documents (file_id);

CREATE TABLE data_storages (
    id          TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title       TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 64),
    title_norm  TEXT NOT NULL CHECK (length(title_norm) BETWEEN 1 AND 64),
    data        TEXT NOT NULL CHECK (length(data) BETWEEN 1 AND 5120),
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE UNIQUE INDEX data_storages_title_idx ON data_storages (user_id, title_norm);

CREATE TABLE api_keys (
    kid           TEXT PRIMARY KEY CHECK (length(kid) BETWEEN 1 AND 64),
    user_id       TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    algorithm     TEXT NOT NULL CHECK (algorithm IN ('HS256', 'HS384', 'HS512')),
    scope         TEXT NOT NULL DEFAULT '[]',
    state         TEXT NOT NULL CHECK (state IN ('active', 'disabled')),
    secret_sealed TEXT NOT NULL CHECK (secret_sealed <> ''),
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE INDEX api_keys_user_idx ON api_keys (user_id, created_at);
