//! Listings: the statements of `GET /resources` (filters, ordering, search, pages) and the
//! version-checked page of an unfiltered listing that a caching layer builds on.

use sqlx::QueryBuilder;
use uuid::Uuid;

use super::COLUMNS;
use crate::db::search::SearchQuery;
use crate::db::{on_pool, Database, Dialect};
use crate::error::Result;
use crate::page::PageRequest;
use crate::resources::{
    ListedPage, OrderField, OwnerVersion, PageStart, ResourceFilter, ResourceRecord, SortValue,
    VersionedRows,
};
use crate::time::Timestamp;

const OWNER_TOTAL_VERSION: &str = "SELECT total, version FROM resource_counts WHERE owner_id = $1";

impl Dialect {
    /// A parsed `?search=` as this backend's full-text query text.
    pub(super) fn search(self, query: &SearchQuery) -> String {
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
    pub(super) fn reuse_plan(self, search: bool) -> bool {
        match self {
            Self::Sqlite => true,
            Self::Postgres => !search,
        }
    }

    /// Joins the rows of a page found by a subquery aliased `page` (see [`push_page`]).
    /// SQLite's `CROSS JOIN` keeps the page (at most a page of ids) as the outer loop, and
    /// each row is found by its rowid (`seq`, which every index carries), not by a second
    /// search of the `id` index.
    fn page_join(self) -> &'static str {
        match self {
            Self::Sqlite => "CROSS JOIN resources r ON r.seq = page.seq",
            Self::Postgres => "JOIN resources r ON r.id = page.id",
        }
    }
}

/// Appends FROM, the search join and every filter of `filter` for `owner` to `qb`; `search`
/// is the filter's search rendered for `dialect` (see [`Dialect::search`]).
pub(super) fn push_from_where<'a, DB>(
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

/// One sort key of [`order_keys`].
#[derive(Clone, Copy)]
enum OrderKey {
    /// A column of `resources r`.
    Column(&'static str),
    /// Full-text relevance of the search (which its expression binds, see [`push_key`]).
    Relevance,
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
            vec![
                (OrderKey::Column(column_of(field)), "k", descending),
                (OrderKey::Column("r.id"), "id", descending),
            ]
        }
    }
}

/// The column of `resources r` an ordering sorts by.
fn column_of(field: OrderField) -> &'static str {
    match field {
        OrderField::CreatedAt => "r.created_at",
        OrderField::UpdatedAt => "r.updated_at",
        OrderField::Title => "r.title",
    }
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
pub(super) fn push_order<'a, DB>(
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

/// The page query of a listing, as a deferred join: the page's ids and sort keys first — for a
/// plain listing by skipping `offset` entries of the (owner, order key, id) index (or, `from`
/// a [`PageStart`], by seeking to where the page starts), for a search by ranking the hits on
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
    from: Option<&PageStart>,
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
    if let Some(start) = from {
        push_seek(qb, filter, start);
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

/// ` AND (sort key, id)` compared with `start`: the rows from where the page starts, in the
/// listing's direction.
fn push_seek<'a, DB>(qb: &mut QueryBuilder<'a, DB>, filter: &ResourceFilter, start: &PageStart)
where
    DB: sqlx::Database,
    Uuid: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    Timestamp: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let (field, descending) = filter.ordering.unwrap_or((OrderField::CreatedAt, true));
    let operator = match (descending, start.inclusive) {
        (true, true) => " <= ",
        (true, false) => " < ",
        (false, true) => " >= ",
        (false, false) => " > ",
    };
    qb.push(" AND (")
        .push(column_of(field))
        .push(", r.id)")
        .push(operator)
        .push("(");
    match &start.value {
        SortValue::Time(at) => qb.push_bind(*at),
        SortValue::Text(text) => qb.push_bind(text.clone()),
    };
    qb.push(", ").push_bind(start.id).push(")");
}

/// A row of an unfiltered listing with its owner's `resource_counts` row: the maintained total
/// (column 14) and the data version (column 15).
struct ListedRecord {
    record: ResourceRecord,
    total: i64,
    version: i64,
}

impl<'r, R> sqlx::FromRow<'r, R> for ListedRecord
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    ResourceRecord: sqlx::FromRow<'r, R>,
    i64: sqlx::Decode<'r, R::Database>,
{
    fn from_row(row: &'r R) -> std::result::Result<Self, sqlx::Error> {
        Ok(Self {
            record: ResourceRecord::from_row(row)?,
            total: row.try_get_unchecked(14)?,
            version: row.try_get_unchecked(15)?,
        })
    }
}

/// `owner`'s maintained count and data version.
pub(super) async fn owner_version(db: &Database, owner: Uuid) -> Result<Option<OwnerVersion>> {
    let row: Option<(i64, i64)> = on_pool!(db, pool => {
        sqlx::query_as(OWNER_TOTAL_VERSION)
            .bind(owner)
            .fetch_optional(pool)
            .await
    })?;
    Ok(row.map(|(total, version)| OwnerVersion {
        total: total.unsigned_abs(),
        version,
    }))
}

/// A page of `owner`'s unfiltered listing with the owner's count and version, in one statement
/// (`from`: sought from a position instead of walking the offset); `None` when it has no rows.
pub(super) async fn plain_page(
    db: &Database,
    owner: Uuid,
    ordering: Option<(OrderField, bool)>,
    page: PageRequest,
    from: Option<PageStart>,
) -> Result<Option<VersionedRows>> {
    let filter = ResourceFilter {
        ordering,
        ..ResourceFilter::default()
    };
    let dialect = db.dialect();
    let rows: Vec<ListedRecord> = on_pool!(db, pool => {
        let mut query = QueryBuilder::new("");
        push_page(&mut query, dialect, owner, &filter, None, page, true, from.as_ref());
        query.build_query_as().fetch_all(pool).await
    })?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let owner = OwnerVersion {
        total: first.total.unsigned_abs(),
        version: first.version,
    };
    Ok(Some(VersionedRows {
        records: rows.into_iter().map(|row| row.record).collect(),
        owner,
    }))
}

/// A page of `owner`'s resources matching `filter`, and their number: an unfiltered listing
/// in one statement (the rows carry the maintained total), any other in two (count, rows).
pub(super) async fn page(
    db: &Database,
    owner: Uuid,
    filter: &ResourceFilter,
    page: PageRequest,
) -> Result<ListedPage> {
    let query = filter.search.as_deref().map(SearchQuery::parse);
    if query.as_ref().is_some_and(SearchQuery::is_empty) {
        // Only punctuation or exclusions: nothing can match.
        return Ok(ListedPage::default());
    }
    let dialect = db.dialect();
    let rendered = query.map(|q| dialect.search(&q));
    let search = rendered.as_deref();
    let unfiltered = filter.kind.is_none()
        && filter.tags.is_empty()
        && filter.favorite.is_none()
        && search.is_none();
    if unfiltered {
        return Ok(
            match plain_page(db, owner, filter.ordering, page, None).await? {
                Some(rows) => ListedPage {
                    total: rows.owner.total,
                    records: rows.records.into(),
                    version: Some(rows.owner.version),
                },
                // No rows: an empty vault or a page past the end; the total tells which.
                None => ListedPage {
                    total: owner_version(db, owner).await?.map_or(0, |o| o.total),
                    ..ListedPage::default()
                },
            },
        );
    }
    let reuse = dialect.reuse_plan(search.is_some());
    let total: i64 = on_pool!(db, pool => {
        let mut count = QueryBuilder::new("SELECT count(*)");
        push_from_where(&mut count, dialect, owner, filter, search);
        count.build_query_scalar().persistent(reuse).fetch_one(pool).await
    })?;
    if total == 0 {
        return Ok(ListedPage::default());
    }
    let records: Vec<ResourceRecord> = on_pool!(db, pool => {
        let mut rows = QueryBuilder::new("");
        push_page(&mut rows, dialect, owner, filter, search, page, false, None);
        rows.build_query_as().persistent(reuse).fetch_all(pool).await
    })?;
    Ok(ListedPage {
        total: total.unsigned_abs(),
        records: records.into(),
        version: None,
    })
}
