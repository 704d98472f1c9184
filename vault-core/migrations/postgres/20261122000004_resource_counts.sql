-- Each owner's number of resources, kept by triggers, so an unfiltered list page reads its
-- count from one row instead of counting the owner's index entries (O(rows) per request).
CREATE TABLE resource_counts (
    owner_id UUID PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    total    BIGINT NOT NULL
);
INSERT INTO resource_counts (owner_id, total)
    SELECT owner_id, count(*) FROM resources GROUP BY owner_id;
CREATE FUNCTION resource_counts_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO resource_counts (owner_id, total) VALUES (NEW.owner_id, 1)
            ON CONFLICT (owner_id) DO UPDATE SET total = resource_counts.total + 1;
    ELSE
        UPDATE resource_counts SET total = total - 1 WHERE owner_id = OLD.owner_id;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER resource_counts_track AFTER INSERT OR DELETE ON resources
    FOR EACH ROW EXECUTE FUNCTION resource_counts_track();
