-- 0006_signing_keys: the JWT signing keys of core/tokens. The private half
-- is sealed by the key ring (never in clear); the public half is the JWK
-- that /.well-known/jwks.json serves. One key signs at a time: the newest
-- with retired_at NULL. A retired key keeps verifying until the tokens it
-- signed have expired.
CREATE TABLE signing_keys (
    kid            TEXT PRIMARY KEY,
    alg            TEXT NOT NULL CHECK (alg IN ('EdDSA', 'ES256')),
    private_sealed TEXT NOT NULL CHECK (private_sealed <> ''),
    public_jwk     TEXT NOT NULL CHECK (public_jwk <> ''),
    created_at     BIGINT NOT NULL,
    retired_at     BIGINT NULL
);

CREATE INDEX signing_keys_retired_idx ON signing_keys (retired_at);
