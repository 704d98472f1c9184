-- Every write to an owner's resources updates the owner's `resource_counts` row, and every
-- unfiltered list page reads it. The updates are HOT (in-page) updates: each leaves the old
-- version behind in a chain that readers walk until the page is pruned, and PostgreSQL prunes
-- a page on access only once its free space falls below the fillfactor's reserve (10 % at the
-- default 100). A vault after 120 writes walked 119 dead versions on every page read (over
-- a tenth of the backend's CPU per list page). With 80 % of each page kept free, the next
-- reader prunes such chains at once; the table holds one small row per owner, so the space
-- is of no account.
ALTER TABLE resource_counts SET (fillfactor = 20);
