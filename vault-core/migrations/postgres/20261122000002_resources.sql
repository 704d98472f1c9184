-- Resources and tags (API.md §4).
CREATE TABLE resources (
    id          UUID PRIMARY KEY,
    owner_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('note', 'link', 'file', 'reference')),
    title       TEXT NOT NULL,
    body        TEXT NOT NULL DEFAULT '',
    url         TEXT,
    favorite    BOOLEAN NOT NULL DEFAULT FALSE,
    -- The resource's tag names, sorted, joined by newlines: searchable, and listed without a join.
    tag_names   TEXT NOT NULL DEFAULT '',
    file_key    TEXT,
    file_name   TEXT,
    file_size   BIGINT,
    file_type   TEXT,
    file_sha256 TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    -- Ranked full-text search over title, tags, url and body.
    search      TSVECTOR GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', title), 'A')
        || setweight(to_tsvector('simple', tag_names), 'B')
        -- URLs split into their words (the parser would keep 'host.example/path' whole).
        || setweight(to_tsvector('simple', regexp_replace(coalesce(url, ''), '[^[:alnum:]]+', ' ', 'g')), 'C')
        || setweight(to_tsvector('simple', body), 'D')
    ) STORED,
    CONSTRAINT resources_link_needs_url CHECK (kind <> 'link' OR url IS NOT NULL)
);
CREATE INDEX resources_owner_created ON resources (owner_id, created_at, id);
CREATE INDEX resources_owner_updated ON resources (owner_id, updated_at, id);
CREATE INDEX resources_owner_title ON resources (owner_id, title, id);
CREATE INDEX resources_search ON resources USING GIN (search);

CREATE TABLE tags (
    id         UUID PRIMARY KEY,
    owner_id   UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX tags_owner_name_key ON tags (owner_id, name);

CREATE TABLE resource_tags (
    resource_id UUID NOT NULL REFERENCES resources (id) ON DELETE CASCADE,
    tag_id      UUID NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (resource_id, tag_id)
);
CREATE INDEX resource_tags_tag_id ON resource_tags (tag_id);

-- Blobs whose rows are gone, queued in the same transaction as the change (including cascades
-- from account deletion) and deleted from the blob store afterwards: no orphan survives a crash.
CREATE TABLE blob_garbage (
    key       TEXT PRIMARY KEY,
    queued_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE FUNCTION queue_resource_blob() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.file_key IS NOT NULL AND (TG_OP = 'DELETE' OR NEW.file_key IS DISTINCT FROM OLD.file_key) THEN
        INSERT INTO blob_garbage (key) VALUES (OLD.file_key) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER resources_file_gone AFTER DELETE OR UPDATE OF file_key ON resources
    FOR EACH ROW EXECUTE FUNCTION queue_resource_blob();
