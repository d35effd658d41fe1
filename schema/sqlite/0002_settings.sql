-- 0002_settings: seed 000's settings live on the user row, so every
-- namespace reads one user. sex follows the seed's dictionary (-1 not set,
-- 0 undefined, 1..8); restriction_1..5 are the data-use consents.
ALTER TABLE users ADD COLUMN sex INTEGER NOT NULL DEFAULT -1 CHECK (sex BETWEEN -1 AND 8);
ALTER TABLE users ADD COLUMN news INTEGER NOT NULL DEFAULT 0 CHECK (news IN (0, 1));
ALTER TABLE users ADD COLUMN restriction_1 INTEGER NOT NULL DEFAULT 0 CHECK (restriction_1 IN (0, 1));
ALTER TABLE users ADD COLUMN restriction_2 INTEGER NOT NULL DEFAULT 0 CHECK (restriction_2 IN (0, 1));
ALTER TABLE users ADD COLUMN restriction_3 INTEGER NOT NULL DEFAULT 0 CHECK (restriction_3 IN (0, 1));
ALTER TABLE users ADD COLUMN restriction_4 INTEGER NOT NULL DEFAULT 0 CHECK (restriction_4 IN (0, 1));
ALTER TABLE users ADD COLUMN restriction_5 INTEGER NOT NULL DEFAULT 0 CHECK (restriction_5 IN (0, 1));
ALTER TABLE users ADD COLUMN lang TEXT NOT NULL DEFAULT 'en';
ALTER TABLE users ADD COLUMN dating_model TEXT NOT NULL DEFAULT '';
