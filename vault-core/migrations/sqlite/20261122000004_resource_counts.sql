-- Each owner's number of resources, kept by triggers, so an unfiltered list page reads its
-- count from one row instead of counting the owner's index entries (O(rows) per request).
CREATE TABLE resource_counts (
    owner_id BLOB PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    total    INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO resource_counts (owner_id, total)
    SELECT owner_id, count(*) FROM resources GROUP BY owner_id;
CREATE TRIGGER resource_counts_insert AFTER INSERT ON resources BEGIN
    INSERT INTO resource_counts (owner_id, total) VALUES (new.owner_id, 1)
        ON CONFLICT (owner_id) DO UPDATE SET total = total + 1;
END;
CREATE TRIGGER resource_counts_delete AFTER DELETE ON resources BEGIN
    UPDATE resource_counts SET total = total - 1 WHERE owner_id = old.owner_id;
END;
