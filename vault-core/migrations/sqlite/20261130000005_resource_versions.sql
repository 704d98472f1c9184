-- Each owner's data version, raised by every change to the owner's resources, so a remembered
-- search result (db::search_cache) can be checked against it in the statement that reads its
-- page. Tag links and tag names count as changes of the resources: every change to them
-- rewrites `resources.tag_names` in the same transaction.
ALTER TABLE resource_counts ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
DROP TRIGGER resource_counts_insert;
CREATE TRIGGER resource_counts_insert AFTER INSERT ON resources BEGIN
    INSERT INTO resource_counts (owner_id, total, version) VALUES (new.owner_id, 1, 1)
        ON CONFLICT (owner_id) DO UPDATE SET total = total + 1, version = version + 1;
END;
DROP TRIGGER resource_counts_delete;
CREATE TRIGGER resource_counts_delete AFTER DELETE ON resources BEGIN
    UPDATE resource_counts SET total = total - 1, version = version + 1
        WHERE owner_id = old.owner_id;
END;
CREATE TRIGGER resource_versions_update AFTER UPDATE ON resources BEGIN
    UPDATE resource_counts SET version = version + 1 WHERE owner_id = new.owner_id;
END;
