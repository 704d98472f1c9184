-- Split every searchable field into words at punctuation, not only the URL: the default
-- parser keeps 'example.com' or 'a_b' whole, while SQLite's FTS5 tokenizer and the query
-- parser of both backends split them, so the same search found different rows.
-- [:punct:] rather than [^[:alnum:]]: in a plain "C" locale PostgreSQL classifies only ASCII
-- as alphanumeric, which would cut accented words apart.
DROP INDEX resources_search;
ALTER TABLE resources DROP COLUMN search;
ALTER TABLE resources ADD COLUMN search TSVECTOR GENERATED ALWAYS AS (
    setweight(to_tsvector('simple', regexp_replace(title, '[[:punct:][:space:]]+', ' ', 'g')), 'A')
    || setweight(to_tsvector('simple', regexp_replace(tag_names, '[[:punct:][:space:]]+', ' ', 'g')), 'B')
    || setweight(to_tsvector('simple', regexp_replace(coalesce(url, ''), '[[:punct:][:space:]]+', ' ', 'g')), 'C')
    || setweight(to_tsvector('simple', regexp_replace(body, '[[:punct:][:space:]]+', ' ', 'g')), 'D')
) STORED;
CREATE INDEX resources_search ON resources USING GIN (search);
