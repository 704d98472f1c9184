//! [`ResourceStore`] for SQLite and PostgreSQL: one body, instantiated for both. The dialects
//! differ only in full-text search (FTS5 vs. tsvector) and in string aggregation.

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::{Postgres, QueryBuilder, Sqlite};
use uuid::Uuid;

use super::page_marks::{Mark, PageMarks, Remembered, RememberedPages, SortValue};
use super::search::SearchQuery;
use super::search_cache::{Hits, SearchKey, REMEMBERED_HITS};
use super::{map_unique, SqlStore};
use crate::error::{Error, Result};
use crate::page::PageRequest;
use crate::resources::{
    FileColumns, ListedRows, OrderField, ResourceChanges, ResourceFields, ResourceFilter,
    ResourceKind, ResourceRecord, ResourceStore, Tag,
};
use crate::time::Timestamp;

// PostgreSQL names the index; SQLite names the columns of a plain (non-expression) unique index.
const TAG_UNIQUE: &[(&str, &str, &str)] = &[
    (
        "tags_owner_name_key",
        "name",
        "A tag with that name already exists.",
    ),
    (
        "tags.owner_id, tags.name",
        "name",
        "A tag with that name already exists.",
    ),
];

/// The columns of a [`ResourceRecord`], in the order its `FromRow` decodes them by position
/// (see [`resource_from_row`]); every statement that reads records selects exactly these first.
const COLUMNS: &str = "r.id, r.kind, r.title, r.body, r.url, r.favorite, r.tag_names, r.file_key, \
     r.file_name, r.file_size, r.file_type, r.file_sha256, r.created_at, r.updated_at";

const INSERT_RESOURCE: &str = "INSERT INTO resources \
     (id, owner_id, kind, title, body, url, favorite, tag_names, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)";
const REPLACE_RESOURCE: &str = "UPDATE resources SET kind = $3, title = $4, body = $5, url = $6, \
     favorite = $7, tag_names = $8, updated_at = $9 WHERE id = $1 AND owner_id = $2";
const PATCH_RESOURCE: &str = "UPDATE resources SET kind = COALESCE($3, kind), \
     title = COALESCE($4, title), body = COALESCE($5, body), \
     url = CASE WHEN $6 THEN $7 ELSE url END, favorite = COALESCE($8, favorite), \
     tag_names = COALESCE($9, tag_names), updated_at = $10 WHERE id = $1 AND owner_id = $2";
const GET_RESOURCE: &str = "SELECT r.id, r.kind, r.title, r.body, r.url, r.favorite, r.tag_names, \
     r.file_key, r.file_name, r.file_size, r.file_type, r.file_sha256, r.created_at, r.updated_at \
     FROM resources r WHERE r.id = $1 AND r.owner_id = $2";
const DELETE_RESOURCE: &str = "DELETE FROM resources WHERE id = $1 AND owner_id = $2";
const UNLINK_TAGS: &str = "DELETE FROM resource_tags WHERE resource_id = $1";

const SET_FILE: &str = "UPDATE resources SET file_key = $3, file_name = $4, file_size = $5, \
     file_type = $6, file_sha256 = $7, updated_at = $8 WHERE id = $1 AND owner_id = $2";
const CLEAR_FILE: &str = "UPDATE resources SET file_key = NULL, file_name = NULL, file_size = NULL, \
     file_type = NULL, file_sha256 = NULL, updated_at = $3 WHERE id = $1 AND owner_id = $2 AND file_key IS NOT NULL";
const RESOURCE_EXISTS: &str = "SELECT id FROM resources WHERE id = $1 AND owner_id = $2";
const GARBAGE: &str = "SELECT key FROM blob_garbage ORDER BY queued_at LIMIT $1";
const OWNER_COUNT: &str = "SELECT total FROM resource_counts WHERE owner_id = $1";
const OWNER_VERSION: &str = "SELECT version FROM resource_counts WHERE owner_id = $1";
const OWNER_TOTAL_VERSION: &str = "SELECT total, version FROM resource_counts WHERE owner_id = $1";
/// The first statement of a transaction that changes tags without going through a resource
/// row first: it takes the owner's `resource_counts` row (which the triggers on `resources`
/// update) before any tag row, in the order resource writes take them (resource, counts, then
/// tags), so the two can never wait for each other in a cycle on PostgreSQL.
const BUMP_VERSION: &str = "UPDATE resource_counts SET version = version + 1 WHERE owner_id = $1";
const BLOB_IN_USE: &str = "SELECT id FROM resources WHERE file_key = $1";

const TAG_COLUMNS: &str = "SELECT t.id, t.name, \
     (SELECT count(*) FROM resource_tags rt WHERE rt.tag_id = t.id) AS resource_count, t.created_at \
     FROM tags t";
const INSERT_TAG: &str =
    "INSERT INTO tags (id, owner_id, name, created_at) VALUES ($1, $2, $3, $4) \
     RETURNING id, name, CAST(0 AS BIGINT) AS resource_count, created_at";
const RENAME_TAG: &str = "UPDATE tags SET name = $3 WHERE id = $1 AND owner_id = $2";
/// Locks the tag row (PostgreSQL) so a concurrent tagging either lands before the deletion
/// (and is detached with it) or after it (and creates the tag afresh). SQLite needs no row
/// lock: its write transactions run one at a time.
macro_rules! lock_tag_sql {
    () => {
        "SELECT id FROM tags WHERE id = $1 AND owner_id = $2"
    };
}
const DELETE_TAG: &str = "DELETE FROM tags WHERE id = $1 AND owner_id = $2";

/// How a backend does full-text search and string aggregation.
#[derive(Clone, Copy)]
enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// A parsed `?search=` as this backend's full-text query text.
    fn search(self, query: &SearchQuery) -> String {
        match self {
            Self::Sqlite => query.to_fts5(),
            Self::Postgres => query.to_websearch(),
        }
    }

    /// Whether a listing's statement should be prepared once and reused. PostgreSQL plans a
    /// reused statement generically after five runs, blind to the owner and the search words:
    /// for a search that plan walks the owner's whole `owner_id` index range next to the
    /// full-text hits (cost growing with everything the owner holds) and re-parses the query
    /// text for every hit. Searches are therefore planned per execution there, with the real
    /// owner and words (about 0.2 ms of planning, against milliseconds saved at 100 000 rows).
    fn reuse_plan(self, search: bool) -> bool {
        match self {
            Self::Sqlite => true,
            Self::Postgres => !search,
        }
    }

    /// Joins the rows of a page found by a subquery aliased `page` (see `list_resources`).
    /// SQLite's `CROSS JOIN` keeps the page (at most a page of ids) as the outer loop, and
    /// each row is found by its rowid (`seq`, which every index carries), not by a second
    /// search of the `id` index.
    fn page_join(self) -> &'static str {
        match self {
            Self::Sqlite => "CROSS JOIN resources r ON r.seq = page.seq",
            Self::Postgres => "JOIN resources r ON r.id = page.id",
        }
    }

    /// Finds tag `$1` of owner `$2` and locks it until commit, see [`lock_tag_sql`].
    fn lock_tag(self) -> &'static str {
        match self {
            Self::Sqlite => lock_tag_sql!(),
            Self::Postgres => concat!(lock_tag_sql!(), " FOR UPDATE"),
        }
    }

    /// Recomputes `tag_names` of the resources carrying tag `$1`, leaving out tag `$2` (pass
    /// the nil UUID to leave out nothing).
    fn refresh_tag_names(self) -> &'static str {
        match self {
            Self::Sqlite => "UPDATE resources SET tag_names = COALESCE((SELECT group_concat(t.name, char(10) ORDER BY t.name) \
                 FROM resource_tags rt JOIN tags t ON t.id = rt.tag_id \
                 WHERE rt.resource_id = resources.id AND t.id <> $2), '') \
                 WHERE id IN (SELECT resource_id FROM resource_tags WHERE tag_id = $1)",
            Self::Postgres => "UPDATE resources SET tag_names = COALESCE((SELECT string_agg(t.name, E'\\n' ORDER BY t.name) \
                 FROM resource_tags rt JOIN tags t ON t.id = rt.tag_id \
                 WHERE rt.resource_id = resources.id AND t.id <> $2), '') \
                 WHERE id IN (SELECT resource_id FROM resource_tags WHERE tag_id = $1)",
        }
    }
}

/// Appends FROM, the search join and every filter of `filter` for `owner` to `qb`; `search`
/// is the filter's search rendered for `dialect` (see [`Dialect::search`]).
fn push_from_where<'a, DB>(
    qb: &mut QueryBuilder<'a, DB>,
    dialect: Dialect,
    owner: Uuid,
    filter: &'a ResourceFilter,
    search: Option<&'a str>,
) where
    DB: sqlx::Database,
    Uuid: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    bool: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    if let (Some(search), Dialect::Sqlite) = (search, dialect) {
        // CROSS JOIN pins the join order: the full-text hits drive, each looked up by rowid.
        // Left to itself (no ANALYZE statistics, the usual case) SQLite may instead walk the
        // owner's rows and run the MATCH once per row — seconds instead of a millisecond.
        qb.push(
            " FROM (SELECT rowid AS hit, bm25(resources_fts, 10.0, 5.0, 2.0, 1.0) AS rank \
                  FROM resources_fts WHERE resources_fts MATCH ",
        );
        qb.push_bind(search);
        qb.push(") s CROSS JOIN resources r ON r.seq = s.hit");
    } else {
        qb.push(" FROM resources r");
    }
    qb.push(" WHERE r.owner_id = ").push_bind(owner);
    if let (Some(search), Dialect::Postgres) = (search, dialect) {
        qb.push(" AND r.search @@ websearch_to_tsquery('simple', ")
            .push_bind(search)
            .push(")");
    }
    if let Some(kind) = filter.kind {
        qb.push(" AND r.kind = ").push_bind(kind.as_str());
    }
    if let Some(favorite) = filter.favorite {
        qb.push(" AND r.favorite = ").push_bind(favorite);
    }
    if !filter.tags.is_empty() {
        qb.push(" AND r.id IN (SELECT rt.resource_id FROM resource_tags rt JOIN tags t ON t.id = rt.tag_id WHERE t.owner_id = ")
            .push_bind(owner)
            .push(" AND t.name IN (");
        let mut names = qb.separated(", ");
        for tag in &filter.tags {
            names.push_bind(tag.as_str());
        }
        qb.push(") GROUP BY rt.resource_id HAVING count(*) = ")
            .push_bind(i64::try_from(filter.tags.len()).unwrap_or(i64::MAX))
            .push(")");
    }
}

/// The sort keys of a listing, most significant first: `(key, alias, descending)`. Relevance
/// is best first: ascending `bm25()` on SQLite (lower is better), descending `ts_rank` on
/// PostgreSQL.
fn order_keys(
    dialect: Dialect,
    filter: &ResourceFilter,
    search: Option<&str>,
) -> Vec<(OrderKey, &'static str, bool)> {
    match (filter.ordering, search) {
        (None, Some(_)) => vec![
            (
                OrderKey::Relevance,
                "rank",
                matches!(dialect, Dialect::Postgres),
            ),
            (OrderKey::Column("r.created_at"), "created_at", true),
            (OrderKey::Column("r.id"), "id", true),
        ],
        (ordering, _) => {
            let (field, descending) = ordering.unwrap_or((OrderField::CreatedAt, true));
            let column = match field {
                OrderField::CreatedAt => "r.created_at",
                OrderField::UpdatedAt => "r.updated_at",
                OrderField::Title => "r.title",
            };
            vec![
                (OrderKey::Column(column), "k", descending),
                (OrderKey::Column("r.id"), "id", descending),
            ]
        }
    }
}

/// One sort key of [`order_keys`].
#[derive(Clone, Copy)]
enum OrderKey {
    /// A column of `resources r`.
    Column(&'static str),
    /// Full-text relevance of the search (which its expression binds, see [`push_key`]).
    Relevance,
}

/// Pushes the expression of `key` over `resources r` (and, on SQLite, the hits `s`).
fn push_key<'a, DB>(
    qb: &mut QueryBuilder<'a, DB>,
    dialect: Dialect,
    key: OrderKey,
    search: Option<&'a str>,
) where
    DB: sqlx::Database,
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    match (key, dialect, search) {
        (OrderKey::Column(column), _, _) => {
            qb.push(column);
        }
        (OrderKey::Relevance, Dialect::Sqlite, _) => {
            qb.push("s.rank");
        }
        (OrderKey::Relevance, Dialect::Postgres, Some(search)) => {
            qb.push("ts_rank(r.search, websearch_to_tsquery('simple', ")
                .push_bind(search)
                .push("))");
        }
        // `order_keys` only ranks when there is a search.
        (OrderKey::Relevance, Dialect::Postgres, None) => {
            qb.push("NULL");
        }
    }
}

/// ` ORDER BY` the keys of [`order_keys`]: as expressions over `resources r`, or (`page`) as
/// the columns the page subquery (aliased `page`) selected them under.
fn push_order<'a, DB>(
    qb: &mut QueryBuilder<'a, DB>,
    dialect: Dialect,
    filter: &ResourceFilter,
    search: Option<&'a str>,
    page: bool,
) where
    DB: sqlx::Database,
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    qb.push(" ORDER BY ");
    for (n, (key, alias, descending)) in order_keys(dialect, filter, search).into_iter().enumerate()
    {
        if n > 0 {
            qb.push(", ");
        }
        if page {
            qb.push("page.").push(alias);
        } else {
            push_key(qb, dialect, key, search);
        }
        qb.push(if descending { " DESC" } else { " ASC" });
    }
}

/// `SELECT` list of the page subquery: every sort key under its alias (the id is always one),
/// and on SQLite the rowid [`Dialect::page_join`] finds the row by.
fn push_page_keys<'a, DB>(
    qb: &mut QueryBuilder<'a, DB>,
    dialect: Dialect,
    filter: &ResourceFilter,
    search: Option<&'a str>,
) where
    DB: sqlx::Database,
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    qb.push("SELECT ");
    for (n, (key, alias, _)) in order_keys(dialect, filter, search).into_iter().enumerate() {
        if n > 0 {
            qb.push(", ");
        }
        push_key(qb, dialect, key, search);
        qb.push(" AS ").push(alias);
    }
    if let Dialect::Sqlite = dialect {
        qb.push(", r.seq AS seq");
    }
}

/// Decodes a [`ResourceRecord`] from the first 14 columns of a row, in [`COLUMNS`] order: by
/// position, because looking each column up by name was ~15 % of the CPU of a listed page,
/// and without sqlx's per-value type compatibility check (another ~6 %: every statement
/// selects these columns of the one table, and each value's decoding still refuses malformed
/// or NULL input for a non-optional field).
macro_rules! resource_from_row {
    ($row:ty) => {
        impl<'r> sqlx::FromRow<'r, $row> for ResourceRecord {
            fn from_row(row: &'r $row) -> Result<Self, sqlx::Error> {
                use sqlx::Row as _;
                let kind: String = row.try_get_unchecked(1)?;
                Ok(Self {
                    id: row.try_get_unchecked(0)?,
                    kind: ResourceKind::try_from(kind).map_err(|e| sqlx::Error::ColumnDecode {
                        index: "kind".into(),
                        source: Box::new(e),
                    })?,
                    title: row.try_get_unchecked(2)?,
                    body: row.try_get_unchecked(3)?,
                    url: row.try_get_unchecked(4)?,
                    favorite: row.try_get_unchecked(5)?,
                    tag_names: row.try_get_unchecked(6)?,
                    file_key: row.try_get_unchecked(7)?,
                    file_name: row.try_get_unchecked(8)?,
                    file_size: row.try_get_unchecked(9)?,
                    file_type: row.try_get_unchecked(10)?,
                    file_sha256: row.try_get_unchecked(11)?,
                    created_at: row.try_get_unchecked(12)?,
                    updated_at: row.try_get_unchecked(13)?,
                })
            }
        }

        impl<'r> sqlx::FromRow<'r, $row> for ListedRecord {
            fn from_row(row: &'r $row) -> Result<Self, sqlx::Error> {
                use sqlx::Row as _;
                Ok(Self {
                    record: ResourceRecord::from_row(row)?,
                    total: row.try_get_unchecked(14)?,
                    version: row.try_get_unchecked(15)?,
                })
            }
        }

        impl<'r> sqlx::FromRow<'r, $row> for RecordWith {
            fn from_row(row: &'r $row) -> Result<Self, sqlx::Error> {
                use sqlx::Row as _;
                Ok(Self {
                    record: ResourceRecord::from_row(row)?,
                    value: row.try_get_unchecked(14)?,
                })
            }
        }
    };
}
resource_from_row!(sqlx::sqlite::SqliteRow);
resource_from_row!(sqlx::postgres::PgRow);

/// A row of a remembered search's page with its owner's data version in column 14.
struct RecordWith {
    record: ResourceRecord,
    value: i64,
}

/// A row of an unfiltered listing with its owner's `resource_counts` row: the maintained total
/// (column 14) and the data version (column 15).
struct ListedRecord {
    record: ResourceRecord,
    total: i64,
    version: i64,
}

/// The answer of an unfiltered page (not empty), marking where it and the next page start
/// when they are deep and remembering it (see `db::page_marks`).
fn listed(
    marks: &PageMarks,
    pages: &RememberedPages,
    owner: Uuid,
    filter: &ResourceFilter,
    page: PageRequest,
    rows: Vec<ListedRecord>,
) -> (u64, Arc<ListedRows>) {
    let (total, version) = rows
        .first()
        .map_or((0, 0), |row| (row.total.unsigned_abs(), row.version));
    let records: Vec<ResourceRecord> = rows.into_iter().map(|row| row.record).collect();
    marks.record(
        owner,
        filter.ordering,
        version,
        page.offset(),
        page.limit(),
        &records,
    );
    let rows = ListedRows::shared(records);
    pages.insert(
        owner,
        filter.ordering,
        page.offset(),
        page.limit(),
        Remembered {
            version,
            total,
            rows: Arc::clone(&rows),
        },
    );
    (total, rows)
}

/// The ranking statement of a search: the ids of its first [`REMEMBERED_HITS`] hits in order,
/// each row with the exact number of hits and the owner's data version (one snapshot, so the
/// three agree).
fn push_ranked_ids<'a, DB>(
    qb: &mut QueryBuilder<'a, DB>,
    dialect: Dialect,
    owner: Uuid,
    filter: &'a ResourceFilter,
    search: Option<&'a str>,
) where
    DB: sqlx::Database,
    Uuid: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    bool: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    qb.push("SELECT r.id, count(*) OVER () AS total, ")
        .push("(SELECT version FROM resource_counts WHERE owner_id = ")
        .push_bind(owner)
        .push(") AS version");
    push_from_where(qb, dialect, owner, filter, search);
    push_order(qb, dialect, filter, search, false);
    qb.push(" LIMIT ").push(REMEMBERED_HITS);
}

/// The rows of `ids` (a page of remembered hits) of `owner`, each with the owner's current
/// data version, in no particular order. Each row is found by its id; on SQLite the owner
/// test is kept off the indexes (`+`) and the join order pinned, because without `ANALYZE`
/// statistics SQLite otherwise walks all of the owner's index entries testing each id against
/// the list — a search page at 100 000 rows then cost 8× one at 10 000.
fn push_rows_by_id<'a, DB>(
    qb: &mut QueryBuilder<'a, DB>,
    dialect: Dialect,
    owner: Uuid,
    ids: &[Uuid],
) where
    DB: sqlx::Database,
    Uuid: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let (join, owner_column) = match dialect {
        Dialect::Sqlite => (" CROSS JOIN ", "+r.owner_id"),
        Dialect::Postgres => (" JOIN ", "r.owner_id"),
    };
    qb.push("SELECT ")
        .push(COLUMNS)
        .push(", c.version FROM resources r")
        .push(join)
        .push("resource_counts c ON c.owner_id = r.owner_id WHERE ")
        .push(owner_column)
        .push(" = ")
        .push_bind(owner)
        .push(" AND r.id IN (");
    let mut list = qb.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    qb.push(")");
}

/// The page query of a listing, as a deferred join: the page's ids and sort keys first — for a
/// plain listing by skipping `offset` entries of the (owner, order key, id) index (or, `from`
/// a [`Mark`], by seeking to where the page starts), for a search by ranking the hits on
/// their keys alone — then just those rows, so neither page 400 nor a thousand hits drag whole
/// rows through a sort. With `total`, each row also carries the owner's maintained resource
/// count and data version, as one-row subqueries (for unfiltered listings).
///
/// The deferred join also serves the first page: reading rows straight from the index would
/// be cheaper to run, but PostgreSQL's generic plan for it (blind to how many rows the owner
/// has) looked costlier than planning afresh for an owner holding most of the rows, so it was
/// re-planned on every request — planning took longer than running it.
#[allow(clippy::too_many_arguments)] // one builder, every part of a listing's page
fn push_page<'a, DB>(
    qb: &mut QueryBuilder<'a, DB>,
    dialect: Dialect,
    owner: Uuid,
    filter: &'a ResourceFilter,
    search: Option<&'a str>,
    page: PageRequest,
    total: bool,
    from: Option<&Mark>,
) where
    DB: sqlx::Database,
    Uuid: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    bool: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    Timestamp: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    qb.push("SELECT ").push(COLUMNS);
    if total {
        qb.push(", (SELECT c.total FROM resource_counts c WHERE c.owner_id = ")
            .push_bind(owner)
            .push(") AS total, (SELECT c.version FROM resource_counts c WHERE c.owner_id = ")
            .push_bind(owner)
            .push(") AS version");
    }
    qb.push(" FROM (");
    push_page_keys(qb, dialect, filter, search);
    push_from_where(qb, dialect, owner, filter, search);
    if let Some(mark) = from {
        push_seek(qb, filter, mark);
    }
    push_order(qb, dialect, filter, search, false);
    // Page size and offset are written into the statement (numbers, never the client's text).
    // Bound as parameters, PostgreSQL's generic plan has to guess them (a tenth of the owner's
    // rows each), looks several times costlier than planning with the real values, and so
    // every page was planned afresh: over half of its CPU per page. With the numbers in the
    // text, the generic plan (the same index-only scan and nested loops) costs what a custom
    // one does, and a page asked for repeatedly is planned once per connection.
    let offset = if from.is_some() { 0 } else { page.offset() };
    qb.push(" LIMIT ")
        .push(page.limit())
        .push(" OFFSET ")
        .push(offset);
    qb.push(") page ").push(dialect.page_join());
    push_order(qb, dialect, filter, search, true);
}

/// ` AND (sort key, id)` compared with `mark`: the rows from where the mark says a page starts,
/// in the listing's direction.
fn push_seek<'a, DB>(qb: &mut QueryBuilder<'a, DB>, filter: &ResourceFilter, mark: &Mark)
where
    DB: sqlx::Database,
    Uuid: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    Timestamp: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let (field, descending) = super::page_marks::effective(filter.ordering);
    let column = match field {
        OrderField::CreatedAt => "r.created_at",
        OrderField::UpdatedAt => "r.updated_at",
        OrderField::Title => "r.title",
    };
    let operator = match (descending, mark.inclusive) {
        (true, true) => " <= ",
        (true, false) => " < ",
        (false, true) => " >= ",
        (false, false) => " > ",
    };
    qb.push(" AND (")
        .push(column)
        .push(", r.id)")
        .push(operator)
        .push("(");
    match &mark.value {
        SortValue::Time(at) => qb.push_bind(*at),
        SortValue::Text(text) => qb.push_bind(text.clone()),
    };
    qb.push(", ").push_bind(mark.id).push(")");
}

/// Links `tags` (creating the missing ones) to a resource, replacing its previous set.
macro_rules! set_tags {
    ($tx:expr, $db:ty, $owner:expr, $resource:expr, $tags:expr, $now:expr) => {{
        let (owner, resource, tags, now): (Uuid, Uuid, &[String], Timestamp) =
            ($owner, $resource, $tags, $now);
        sqlx::query(UNLINK_TAGS)
            .bind(resource)
            .execute(&mut *$tx)
            .await?;
        if !tags.is_empty() {
            let mut insert =
                QueryBuilder::<$db>::new("INSERT INTO tags (id, owner_id, name, created_at) ");
            insert.push_values(tags, |mut row, name| {
                row.push_bind(Uuid::now_v7())
                    .push_bind(owner)
                    .push_bind(name.as_str())
                    .push_bind(now);
            });
            // `DO UPDATE` rather than `DO NOTHING`: it locks an existing tag row until
            // commit, so a concurrent deletion or rename of that tag waits for this link
            // instead of slipping between the insert and the link below.
            insert.push(" ON CONFLICT (owner_id, name) DO UPDATE SET name = excluded.name");
            insert.build().execute(&mut *$tx).await?;
            let mut link =
                QueryBuilder::<$db>::new("INSERT INTO resource_tags (resource_id, tag_id) SELECT ");
            link.push_bind(resource)
                .push(", id FROM tags WHERE owner_id = ")
                .push_bind(owner)
                .push(" AND name IN (");
            let mut names = link.separated(", ");
            for name in tags {
                names.push_bind(name.as_str());
            }
            link.push(")");
            link.build().execute(&mut *$tx).await?;
        }
        Ok::<(), Error>(())
    }};
}

fn link_needs_url(error: sqlx::Error) -> Error {
    let is_check = error.as_database_error().is_some_and(|db| {
        db.is_check_violation() || db.message().contains("resources_link_needs_url")
    });
    if is_check {
        Error::field("url", "This field is required for links.")
    } else {
        Error::from(error)
    }
}

macro_rules! resource_store {
    ($db:ty, $dialect:expr) => {
        impl SqlStore<$db> {
            /// The page `page` of remembered search `hits` of `owner`, read by id together
            /// with the owner's current data version: `None` when that version is not the
            /// remembered one (something changed: rank afresh) or the page lies past the
            /// remembered ids.
            async fn page_of_hits(
                &self,
                owner: Uuid,
                hits: &Hits,
                page: PageRequest,
            ) -> Result<Option<(u64, Vec<ResourceRecord>)>> {
                let Some(ids) = hits.page(page.offset(), page.limit()) else {
                    return Ok(None);
                };
                if ids.is_empty() {
                    let version: Option<i64> = sqlx::query_scalar(OWNER_VERSION)
                        .bind(owner)
                        .fetch_optional(&self.pool)
                        .await?;
                    return Ok((version == Some(hits.version)).then(|| (hits.total, Vec::new())));
                }
                let mut query = QueryBuilder::<$db>::new("");
                push_rows_by_id(&mut query, $dialect, owner, ids);
                let rows: Vec<RecordWith> = query.build_query_as().fetch_all(&self.pool).await?;
                // Every hit still there and nothing changed since the ranking: any write to
                // the owner's resources (a deletion too) raises the version.
                if rows.len() != ids.len() || rows.iter().any(|row| row.value != hits.version) {
                    return Ok(None);
                }
                let mut rows: Vec<Option<ResourceRecord>> =
                    rows.into_iter().map(|row| Some(row.record)).collect();
                let mut records = Vec::with_capacity(ids.len());
                for id in ids {
                    let found = rows
                        .iter_mut()
                        .find(|row| row.as_ref().is_some_and(|record| record.id == *id))
                        .and_then(Option::take);
                    match found {
                        Some(record) => records.push(record),
                        None => return Ok(None),
                    }
                }
                Ok(Some((hits.total, records)))
            }
        }

        #[async_trait]
        impl ResourceStore for SqlStore<$db> {
            async fn create_resource(
                &self,
                owner: Uuid,
                id: Uuid,
                fields: &ResourceFields,
                tags: &[String],
                now: Timestamp,
            ) -> Result<ResourceRecord> {
                let mut tx = self.write_tx().await?;
                sqlx::query(INSERT_RESOURCE)
                    .bind(id)
                    .bind(owner)
                    .bind(fields.kind.as_str())
                    .bind(&fields.title)
                    .bind(&fields.body)
                    .bind(fields.url.as_deref())
                    .bind(fields.favorite)
                    .bind(tags.join("\n"))
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(link_needs_url)?;
                set_tags!(tx, $db, owner, id, tags, now)?;
                let record = sqlx::query_as(GET_RESOURCE)
                    .bind(id)
                    .bind(owner)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(record)
            }

            async fn get_resource(&self, owner: Uuid, id: Uuid) -> Result<Option<ResourceRecord>> {
                Ok(sqlx::query_as(GET_RESOURCE)
                    .bind(id)
                    .bind(owner)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn replace_resource(
                &self,
                owner: Uuid,
                id: Uuid,
                fields: &ResourceFields,
                tags: &[String],
                now: Timestamp,
            ) -> Result<Option<ResourceRecord>> {
                let mut tx = self.write_tx().await?;
                let changed = sqlx::query(REPLACE_RESOURCE)
                    .bind(id)
                    .bind(owner)
                    .bind(fields.kind.as_str())
                    .bind(&fields.title)
                    .bind(&fields.body)
                    .bind(fields.url.as_deref())
                    .bind(fields.favorite)
                    .bind(tags.join("\n"))
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(link_needs_url)?
                    .rows_affected();
                if changed == 0 {
                    return Ok(None);
                }
                set_tags!(tx, $db, owner, id, tags, now)?;
                let record = sqlx::query_as(GET_RESOURCE)
                    .bind(id)
                    .bind(owner)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(Some(record))
            }

            async fn patch_resource(
                &self,
                owner: Uuid,
                id: Uuid,
                changes: &ResourceChanges,
                now: Timestamp,
            ) -> Result<Option<ResourceRecord>> {
                let mut tx = self.write_tx().await?;
                let changed = sqlx::query(PATCH_RESOURCE)
                    .bind(id)
                    .bind(owner)
                    .bind(changes.kind.map(|k| k.as_str()))
                    .bind(changes.title.as_deref())
                    .bind(changes.body.as_deref())
                    .bind(changes.url.is_some())
                    .bind(changes.url.clone().flatten())
                    .bind(changes.favorite)
                    .bind(changes.tags.as_ref().map(|t| t.join("\n")))
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(link_needs_url)?
                    .rows_affected();
                if changed == 0 {
                    return Ok(None);
                }
                if let Some(tags) = &changes.tags {
                    set_tags!(tx, $db, owner, id, tags, now)?;
                }
                let record = sqlx::query_as(GET_RESOURCE)
                    .bind(id)
                    .bind(owner)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(Some(record))
            }

            async fn delete_resource(&self, owner: Uuid, id: Uuid) -> Result<bool> {
                let deleted = sqlx::query(DELETE_RESOURCE)
                    .bind(id)
                    .bind(owner)
                    .execute(&self.pool)
                    .await?;
                Ok(deleted.rows_affected() > 0)
            }

            async fn list_resources_shared(
                &self,
                owner: Uuid,
                filter: &ResourceFilter,
                page: PageRequest,
            ) -> Result<(u64, Arc<ListedRows>)> {
                let query = filter.search.as_deref().map(SearchQuery::parse);
                if query.as_ref().is_some_and(SearchQuery::is_empty) {
                    // Only punctuation or exclusions: nothing can match.
                    return Ok((0, ListedRows::shared(Vec::new())));
                }
                let rendered = query.map(|q| $dialect.search(&q));
                let search = rendered.as_deref();
                let unfiltered = filter.kind.is_none()
                    && filter.tags.is_empty()
                    && filter.favorite.is_none()
                    && search.is_none();
                if unfiltered {
                    // A page read before, unless the owner's data changed since: one lookup of
                    // the owner's counts row (`db::page_marks::RememberedPages`).
                    let (offset, limit) = (page.offset(), page.limit());
                    if let Some(known) = self.pages.get(owner, filter.ordering, offset, limit) {
                        let current: Option<(i64, i64)> = sqlx::query_as(OWNER_TOTAL_VERSION)
                            .bind(owner)
                            .fetch_optional(&self.pool)
                            .await?;
                        if current.is_some_and(|(_, version)| version == known.version) {
                            return Ok((known.total, Arc::clone(&known.rows)));
                        }
                        self.pages.remove(owner, filter.ordering, offset, limit);
                    }
                    // A deep page reached before (or the page after one), unless the owner's
                    // data changed since: an index seek from its mark (`db::page_marks`).
                    if let Some(mark) = self.marks.get(owner, filter.ordering, page.offset()) {
                        let mut seek = QueryBuilder::<$db>::new("");
                        push_page(
                            &mut seek,
                            $dialect,
                            owner,
                            filter,
                            None,
                            page,
                            true,
                            Some(&mark),
                        );
                        let rows: Vec<ListedRecord> =
                            seek.build_query_as().fetch_all(&self.pool).await?;
                        if rows.first().is_some_and(|row| row.version == mark.version) {
                            return Ok(listed(&self.marks, &self.pages, owner, filter, page, rows));
                        }
                        self.marks.remove(owner, filter.ordering, page.offset());
                    }
                    // One statement: the page's rows, each carrying the maintained per-owner
                    // total (one row read, whatever the owner holds).
                    let mut rows = QueryBuilder::<$db>::new("");
                    push_page(&mut rows, $dialect, owner, filter, search, page, true, None);
                    let rows: Vec<ListedRecord> =
                        rows.build_query_as().fetch_all(&self.pool).await?;
                    if !rows.is_empty() {
                        return Ok(listed(&self.marks, &self.pages, owner, filter, page, rows));
                    }
                    // No rows: an empty vault or a page past the end; the total tells which.
                    let total: i64 = sqlx::query_scalar(OWNER_COUNT)
                        .bind(owner)
                        .fetch_optional(&self.pool)
                        .await?
                        .unwrap_or(0);
                    return Ok((total.unsigned_abs(), ListedRows::shared(Vec::new())));
                }
                if let Some(rendered) = search {
                    // A search: answered from the remembered ranking when the owner's data has
                    // not changed since (see `db::search_cache`), else ranked afresh.
                    let key = SearchKey::new(owner, rendered, filter);
                    if let Some(hits) = self.searches.get(&key) {
                        if let Some((total, found)) = self.page_of_hits(owner, &hits, page).await? {
                            return Ok((total, ListedRows::shared(found)));
                        }
                        self.searches.remove(&key);
                    }
                    let mut ranked = QueryBuilder::<$db>::new("");
                    push_ranked_ids(&mut ranked, $dialect, owner, filter, search);
                    let rows: Vec<(Uuid, i64, Option<i64>)> = ranked
                        .build_query_as()
                        .persistent($dialect.reuse_plan(true))
                        .fetch_all(&self.pool)
                        .await?;
                    let Some(&(_, total, version)) = rows.first() else {
                        return Ok((0, ListedRows::shared(Vec::new())));
                    };
                    let hits = Hits {
                        version: version.unwrap_or(i64::MIN),
                        total: total.unsigned_abs(),
                        ids: rows.into_iter().map(|(id, _, _)| id).collect(),
                    };
                    if let Some((total, found)) = self.page_of_hits(owner, &hits, page).await? {
                        self.searches.insert(key, Arc::new(hits));
                        return Ok((total, ListedRows::shared(found)));
                    }
                    // A page past the remembered hits, or a write landed between the two
                    // statements: list it directly, like any filtered listing.
                }
                let mut count = QueryBuilder::<$db>::new("SELECT count(*)");
                push_from_where(&mut count, $dialect, owner, filter, search);
                let total: i64 = count
                    .build_query_scalar()
                    .persistent($dialect.reuse_plan(search.is_some()))
                    .fetch_one(&self.pool)
                    .await?;
                if total == 0 {
                    return Ok((0, ListedRows::shared(Vec::new())));
                }
                let mut rows = QueryBuilder::<$db>::new("");
                push_page(
                    &mut rows, $dialect, owner, filter, search, page, false, None,
                );
                let records = rows
                    .build_query_as()
                    .persistent($dialect.reuse_plan(search.is_some()))
                    .fetch_all(&self.pool)
                    .await?;
                Ok((total.unsigned_abs(), ListedRows::shared(records)))
            }

            async fn set_file(
                &self,
                owner: Uuid,
                id: Uuid,
                file: &FileColumns,
                now: Timestamp,
            ) -> Result<Option<ResourceRecord>> {
                let mut tx = self.write_tx().await?;
                let changed = sqlx::query(SET_FILE)
                    .bind(id)
                    .bind(owner)
                    .bind(&file.key)
                    .bind(&file.name)
                    .bind(file.size)
                    .bind(&file.content_type)
                    .bind(&file.sha256)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if changed == 0 {
                    return Ok(None);
                }
                let record = sqlx::query_as(GET_RESOURCE)
                    .bind(id)
                    .bind(owner)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(Some(record))
            }

            async fn clear_file(
                &self,
                owner: Uuid,
                id: Uuid,
                now: Timestamp,
            ) -> Result<Option<bool>> {
                let mut tx = self.write_tx().await?;
                let cleared = sqlx::query(CLEAR_FILE)
                    .bind(id)
                    .bind(owner)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                let outcome = if cleared > 0 {
                    Some(true)
                } else {
                    let exists: Option<(Uuid,)> = sqlx::query_as(RESOURCE_EXISTS)
                        .bind(id)
                        .bind(owner)
                        .fetch_optional(&mut *tx)
                        .await?;
                    exists.map(|_| false)
                };
                tx.commit().await?;
                Ok(outcome)
            }

            async fn blob_garbage(&self, limit: i64) -> Result<Vec<String>> {
                let rows: Vec<(String,)> = sqlx::query_as(GARBAGE)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows.into_iter().map(|(key,)| key).collect())
            }

            async fn forget_blob_garbage(&self, keys: &[String]) -> Result<()> {
                if keys.is_empty() {
                    return Ok(());
                }
                let mut delete =
                    QueryBuilder::<$db>::new("DELETE FROM blob_garbage WHERE key IN (");
                let mut list = delete.separated(", ");
                for key in keys {
                    list.push_bind(key.as_str());
                }
                delete.push(")");
                delete.build().execute(&self.pool).await?;
                Ok(())
            }

            async fn blob_in_use(&self, key: &str) -> Result<bool> {
                let row: Option<(Uuid,)> = sqlx::query_as(BLOB_IN_USE)
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.is_some())
            }

            async fn list_tags(
                &self,
                owner: Uuid,
                search: Option<String>,
                page: PageRequest,
            ) -> Result<(u64, Vec<Tag>)> {
                let pattern = search.map(|s| {
                    let escaped = s
                        .replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_");
                    format!("%{escaped}%")
                });
                let mut count =
                    QueryBuilder::<$db>::new("SELECT count(*) FROM tags t WHERE t.owner_id = ");
                count.push_bind(owner);
                if let Some(pattern) = &pattern {
                    count
                        .push(" AND t.name LIKE ")
                        .push_bind(pattern.as_str())
                        .push(" ESCAPE '\\'");
                }
                let (total,): (i64,) = count.build_query_as().fetch_one(&self.pool).await?;
                let mut rows = QueryBuilder::<$db>::new(TAG_COLUMNS);
                rows.push(" WHERE t.owner_id = ").push_bind(owner);
                if let Some(pattern) = &pattern {
                    rows.push(" AND t.name LIKE ")
                        .push_bind(pattern.as_str())
                        .push(" ESCAPE '\\'");
                }
                rows.push(" ORDER BY t.name LIMIT ")
                    .push_bind(i64::try_from(page.limit()).unwrap_or(i64::MAX))
                    .push(" OFFSET ")
                    .push_bind(i64::try_from(page.offset()).unwrap_or(i64::MAX));
                let tags = rows.build_query_as().fetch_all(&self.pool).await?;
                Ok((total.unsigned_abs(), tags))
            }

            async fn create_tag(
                &self,
                owner: Uuid,
                id: Uuid,
                name: &str,
                now: Timestamp,
            ) -> Result<Tag> {
                sqlx::query_as(INSERT_TAG)
                    .bind(id)
                    .bind(owner)
                    .bind(name)
                    .bind(now)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(|e| map_unique(e, TAG_UNIQUE))
            }

            async fn get_tag(&self, owner: Uuid, id: Uuid) -> Result<Option<Tag>> {
                let sql = format!("{TAG_COLUMNS} WHERE t.id = $1 AND t.owner_id = $2");
                Ok(sqlx::query_as(&sql)
                    .bind(id)
                    .bind(owner)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn rename_tag(&self, owner: Uuid, id: Uuid, name: &str) -> Result<Option<Tag>> {
                let mut tx = self.write_tx().await?;
                sqlx::query(BUMP_VERSION)
                    .bind(owner)
                    .execute(&mut *tx)
                    .await?;
                let changed = sqlx::query(RENAME_TAG)
                    .bind(id)
                    .bind(owner)
                    .bind(name)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| map_unique(e, TAG_UNIQUE))?
                    .rows_affected();
                if changed == 0 {
                    return Ok(None);
                }
                sqlx::query($dialect.refresh_tag_names())
                    .bind(id)
                    .bind(Uuid::nil())
                    .execute(&mut *tx)
                    .await?;
                let sql = format!("{TAG_COLUMNS} WHERE t.id = $1 AND t.owner_id = $2");
                let tag = sqlx::query_as(&sql)
                    .bind(id)
                    .bind(owner)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(Some(tag))
            }

            async fn delete_tag(&self, owner: Uuid, id: Uuid) -> Result<bool> {
                let mut tx = self.write_tx().await?;
                sqlx::query(BUMP_VERSION)
                    .bind(owner)
                    .execute(&mut *tx)
                    .await?;
                let found: Option<(Uuid,)> = sqlx::query_as($dialect.lock_tag())
                    .bind(id)
                    .bind(owner)
                    .fetch_optional(&mut *tx)
                    .await?;
                if found.is_none() {
                    return Ok(false);
                }
                sqlx::query($dialect.refresh_tag_names())
                    .bind(id)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(DELETE_TAG)
                    .bind(id)
                    .bind(owner)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(true)
            }
        }
    };
}

resource_store!(Sqlite, Dialect::Sqlite);
resource_store!(Postgres, Dialect::Postgres);
