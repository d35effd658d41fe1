-- 0002_settings: seed 000's settings live on the user row, so every
-- namespace reads one user. sex follows the seed's dictionary (-1 not set,
-- 0 undefined, 1..8); restriction_1..5 are the data-use consents.
ALTER TABLE users
    ADD COLUMN sex INTEGER NOT NULL DEFAULT -1 CHECK (sex BETWEEN -1 AND 8),
    ADD COLUMN news BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN restriction_1 BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN restriction_2 BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN restriction_3 BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN restriction_4 BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN restriction_5 BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN lang TEXT NOT NULL DEFAULT 'en',
    ADD COLUMN dating_model TEXT NOT NULL DEFAULT '';
