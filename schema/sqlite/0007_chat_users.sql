-- 0007_chat_users: seed 003's (users.*) records beside the shared account.
-- See the PostgreSQL file for the tables' meaning.
CREATE TABLE chat_profiles (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL DEFAULT '',
    name_fold  TEXT NOT NULL DEFAULT '',
    about      TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL
);

CREATE TABLE account_keys (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    key_hash   TEXT NOT NULL CHECK (key_hash <> ''),
    updated_at BIGINT NOT NULL
);

-- users.search on SQLite: an FTS5 table with the trigram tokenizer holds
-- every searchable term (a chat name's fold, a username's norm), kept by
-- the triggers below; its index serves LIKE '%q%' for q of 3 characters
-- or more (shorter ones scan it). A term's rowid is its source row's:
-- chat_profiles' rowid for a name, minus identifiers' rowid for a
-- username, so a trigger finds it without a scan. It only proposes
-- candidates: the search query checks each against its source row, so a
-- term left behind (a VACUUM renumbering rowids) can never be a result.
CREATE VIRTUAL TABLE user_search USING fts5 (user_id UNINDEXED, term, tokenize = 'trigram');

CREATE TRIGGER chat_profiles_search_ins AFTER INSERT ON chat_profiles BEGIN
    INSERT INTO user_search (rowid, user_id, term) VALUES (NEW.rowid, NEW.user_id, NEW.name_fold);
END;
CREATE TRIGGER chat_profiles_search_upd AFTER UPDATE OF name_fold ON chat_profiles BEGIN
    DELETE FROM user_search WHERE rowid = OLD.rowid;
    INSERT INTO user_search (rowid, user_id, term) VALUES (NEW.rowid, NEW.user_id, NEW.name_fold);
END;
CREATE TRIGGER chat_profiles_search_del AFTER DELETE ON chat_profiles BEGIN
    DELETE FROM user_search WHERE rowid = OLD.rowid;
END;
CREATE TRIGGER identifiers_search_ins AFTER INSERT ON identifiers WHEN NEW.kind = 'username' BEGIN
    INSERT INTO user_search (rowid, user_id, term) VALUES (-NEW.rowid, NEW.user_id, NEW.norm);
END;
CREATE TRIGGER identifiers_search_upd AFTER UPDATE OF norm, user_id ON identifiers WHEN OLD.kind = 'username' BEGIN
    DELETE FROM user_search WHERE rowid = -OLD.rowid;
    INSERT INTO user_search (rowid, user_id, term) VALUES (-NEW.rowid, NEW.user_id, NEW.norm);
END;
CREATE TRIGGER identifiers_search_del AFTER DELETE ON identifiers WHEN OLD.kind = 'username' BEGIN
    DELETE FROM user_search WHERE rowid = -OLD.rowid;
END;
-- Usernames taken before this migration.
INSERT INTO user_search (rowid, user_id, term) SELECT -rowid, user_id, norm FROM identifiers WHERE kind = 'username';

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
