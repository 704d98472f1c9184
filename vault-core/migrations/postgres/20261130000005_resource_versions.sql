-- Each owner's data version, raised by every change to the owner's resources, so a remembered
-- search result (db::search_cache) can be checked against it in the statement that reads its
-- page. Tag links and tag names count as changes of the resources: every change to them
-- rewrites `resources.tag_names` in the same transaction.
ALTER TABLE resource_counts ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
CREATE OR REPLACE FUNCTION resource_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO resource_counts (owner_id, total, version) VALUES (NEW.owner_id, 1, 1)
            ON CONFLICT (owner_id) DO UPDATE
            SET total = resource_counts.total + 1, version = resource_counts.version + 1;
    ELSE
        UPDATE resource_counts SET total = total - 1, version = version + 1
            WHERE owner_id = OLD.owner_id;
    END IF;
    RETURN NULL;
END;
$$;
-- Updates bump once per statement and owner (renaming a tag rewrites many rows at once).
CREATE FUNCTION resource_versions_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE resource_counts SET version = version + 1
        WHERE owner_id IN (SELECT DISTINCT owner_id FROM changed);
    RETURN NULL;
END;
$$;
CREATE TRIGGER resource_versions_bump AFTER UPDATE ON resources
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION resource_versions_bump();
