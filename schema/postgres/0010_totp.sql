-- 0010_totp: two-factor authentication (core/otp). One TOTP secret per
-- user, sealed by the key ring (never in clear). enabled_at is NULL while
-- the secret waits for its first code. last_step is the last RFC 6238 time
-- step accepted: a code is accepted by a conditional UPDATE ... WHERE
-- last_step < step, so two gateways can never both accept one code.
-- Recovery codes are stored as SHA-256 (hex) and used once (used_at).
CREATE TABLE totp_secrets (
    user_id       TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed TEXT NOT NULL CHECK (secret_sealed <> ''),
    enabled_at    BIGINT NULL,
    last_step     BIGINT NOT NULL DEFAULT 0 CHECK (last_step >= 0),
    created_at    BIGINT NOT NULL
);

CREATE TABLE totp_recovery_codes (
    user_id   TEXT NOT NULL REFERENCES totp_secrets (user_id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL CHECK (length(code_hash) = 64),
    used_at   BIGINT NULL,
    PRIMARY KEY (user_id, code_hash)
);
