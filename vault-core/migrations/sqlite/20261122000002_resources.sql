-- Resources and tags (API.md §4).
CREATE TABLE resources (
    -- Integer alias of the rowid: stable across VACUUM, so the FTS index can point at it.
    seq         INTEGER PRIMARY KEY,
    id          BLOB NOT NULL UNIQUE,
    owner_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('note', 'link', 'file', 'reference')),
    title       TEXT NOT NULL,
    body        TEXT NOT NULL DEFAULT '',
    url         TEXT,
    favorite    BOOLEAN NOT NULL DEFAULT FALSE,
    -- The resource's tag names, sorted, joined by newlines: searchable, and listed without a join.
    tag_names   TEXT NOT NULL DEFAULT '',
    file_key    TEXT,
    file_name   TEXT,
    file_size   INTEGER,
    file_type   TEXT,
    file_sha256 TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    CONSTRAINT resources_link_needs_url CHECK (kind <> 'link' OR url IS NOT NULL)
);
CREATE INDEX resources_owner_created ON resources (owner_id, created_at, id);
CREATE INDEX resources_owner_updated ON resources (owner_id, updated_at, id);
CREATE INDEX resources_owner_title ON resources (owner_id, title, id);

CREATE TABLE tags (
    id         BLOB PRIMARY KEY NOT NULL,
    owner_id   BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX tags_owner_name_key ON tags (owner_id, name);

CREATE TABLE resource_tags (
    resource_id BLOB NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    tag_id      BLOB NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (resource_id, tag_id)
);
CREATE INDEX resource_tags_tag_id ON resource_tags (tag_id);

-- Full-text index over title, tags, url and body, kept in sync by triggers.
CREATE VIRTUAL TABLE resources_fts USING fts5(
    title, tag_names, url, body,
    content = 'resources', content_rowid = 'seq', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER resources_fts_insert AFTER INSERT ON resources BEGIN
    INSERT INTO resources_fts (rowid, title, tag_names, url, body)
    VALUES (new.seq, new.title, new.tag_names, new.url, new.body);
END;
CREATE TRIGGER resources_fts_delete AFTER DELETE ON resources BEGIN
    INSERT INTO resources_fts (resources_fts, rowid, title, tag_names, url, body)
    VALUES ('delete', old.seq, old.title, old.tag_names, old.url, old.body);
END;
CREATE TRIGGER resources_fts_update AFTER UPDATE OF title, tag_names, url, body ON resources BEGIN
    INSERT INTO resources_fts (resources_fts, rowid, title, tag_names, url, body)
    VALUES ('delete', old.seq, old.title, old.tag_names, old.url, old.body);
    INSERT INTO resources_fts (rowid, title, tag_names, url, body)
    VALUES (new.seq, new.title, new.tag_names, new.url, new.body);
END;

-- Blobs whose rows are gone, queued in the same transaction as the change (including cascades
-- from account deletion) and deleted from the blob store afterwards: no orphan survives a crash.
CREATE TABLE blob_garbage (
    key       TEXT PRIMARY KEY NOT NULL,
    queued_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TRIGGER resources_file_deleted AFTER DELETE ON resources WHEN old.file_key IS NOT NULL BEGIN
    INSERT OR IGNORE INTO blob_garbage (key) VALUES (old.file_key);
END;
CREATE TRIGGER resources_file_replaced AFTER UPDATE OF file_key ON resources
WHEN old.file_key IS NOT NULL AND (new.file_key IS NULL OR new.file_key <> old.file_key) BEGIN
    INSERT OR IGNORE INTO blob_garbage (key) VALUES (old.file_key);
END;
