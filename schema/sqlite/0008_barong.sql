-- 0008_barong: what seed 002 (Barong) keeps beside the shared account.
--
-- users.uid is Barong's user id, "ID" + 10 uppercase hex digits, unique.
-- The core gives one to every user at registration, in every namespace.
-- Existing rows keep the uid seed 002's methods showed before this column
-- existed (the last ten hex digits of the UUID id); rows whose id yields
-- none, or would collide, get random ones.
ALTER TABLE users ADD COLUMN uid TEXT NULL;
ALTER TABLE users ADD COLUMN referral_uid TEXT NULL;

UPDATE users SET uid = 'ID' || upper(substr(replace(id, '-', ''), -10))
 WHERE length(replace(id, '-', '')) >= 10 AND replace(id, '-', '') NOT GLOB '*[^0-9a-fA-F]*';
UPDATE users SET uid = 'ID' || hex(randomblob(5))
 WHERE uid IS NULL
    OR uid IN (SELECT uid FROM users WHERE uid IS NOT NULL GROUP BY uid HAVING COUNT(*) > 1);

CREATE UNIQUE INDEX users_uid_idx ON users (uid);

-- Barong's profile: first_name, last_name, dob and postcode are the users
-- columns every dialect shares (first_name, last_name, birthday, zip_code);
-- this row holds the rest and exists once the user created a profile.
-- address and metadata are sealed by the key ring (PII at rest); city and
-- country stay clear, for the admin side's filters.
CREATE TABLE kyc_profiles (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    state      TEXT NOT NULL CHECK (state IN ('drafted', 'submitted', 'verified', 'rejected')),
    address    TEXT NOT NULL DEFAULT '',
    city       TEXT NOT NULL DEFAULT '',
    country    TEXT NOT NULL DEFAULT '',
    metadata   TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE INDEX kyc_profiles_country_idx ON kyc_profiles (country);

-- Barong's phones: several per user, E.164. A number may wait on several
-- accounts, but only one may have it verified.
CREATE TABLE phones (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    number       TEXT NOT NULL,
    country      TEXT NOT NULL DEFAULT '',
    validated_at BIGINT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (user_id, number)
);

CREATE UNIQUE INDEX phones_verified_number_idx ON phones (number) WHERE validated_at IS NOT NULL;

-- Barong's labels: key/value pairs per user and scope. Users manage their
-- public ones; private ones (email, phone, document, profile, ...) are the
-- system's and the admins'.
CREATE TABLE labels (
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    scope       TEXT NOT NULL CHECK (scope IN ('public', 'private')),
    description TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, key, scope)
);

CREATE INDEX labels_key_value_idx ON labels (key, value);
