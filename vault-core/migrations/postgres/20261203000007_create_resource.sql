-- POST /api/resources in one round trip. Run as separate statements from the server, a create
-- with tags took seven (BEGIN, insert, tag upsert, links, read back, COMMIT, ...), and each held
-- the owner's `resource_counts` row (locked by the insert's trigger) until the last one came
-- back: pgbench committed 1 600 such creates/s against 2 600 plain two-insert transactions on
-- this machine. As one call it commits ~3 100/s.
--
-- Each statement of a (volatile) PL/pgSQL function reads a fresh snapshot, as separate
-- statements would: the links below see a tag that a concurrent `POST /tags` committed while
-- the tag insert waited on it. A tag rename or deletion takes the owner's counts row first,
-- which the resource insert's trigger holds from here to commit, so neither can slip between
-- the tag insert and the links.
CREATE FUNCTION vault_create_resource(
    p_id UUID, p_owner UUID, p_kind TEXT, p_title TEXT, p_body TEXT, p_url TEXT,
    p_favorite BOOLEAN, p_tag_names TEXT, p_now TIMESTAMPTZ, p_tag_ids UUID[], p_tags TEXT[])
RETURNS TABLE (
    id UUID, kind TEXT, title TEXT, body TEXT, url TEXT, favorite BOOLEAN, tag_names TEXT,
    file_key TEXT, file_name TEXT, file_size BIGINT, file_type TEXT, file_sha256 TEXT,
    created_at TIMESTAMPTZ, updated_at TIMESTAMPTZ)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    INSERT INTO resources AS r
        (id, owner_id, kind, title, body, url, favorite, tag_names, created_at, updated_at)
    VALUES (p_id, p_owner, p_kind, p_title, p_body, p_url, p_favorite, p_tag_names, p_now, p_now)
    RETURNING r.id, r.kind, r.title, r.body, r.url, r.favorite, r.tag_names, r.file_key,
        r.file_name, r.file_size, r.file_type, r.file_sha256, r.created_at, r.updated_at;
    IF cardinality(p_tags) > 0 THEN
        INSERT INTO tags (id, owner_id, name, created_at)
        SELECT new.id, p_owner, new.name, p_now FROM unnest(p_tag_ids, p_tags) AS new (id, name)
        ON CONFLICT (owner_id, name) DO NOTHING;
        INSERT INTO resource_tags (resource_id, tag_id)
        SELECT p_id, t.id FROM tags t WHERE t.owner_id = p_owner AND t.name = ANY (p_tags);
    END IF;
END;
$$;
