//! The two statements a remembered search is built on: the ranking (the first hits' ids in
//! order, their number and the owner's data version, in one snapshot) and a page of hits read
//! by id with the owner's current version.

use sqlx::QueryBuilder;
use uuid::Uuid;

use super::list::{push_from_where, push_order};
use super::COLUMNS;
use crate::db::search::SearchQuery;
use crate::db::{on_pool, Database, Dialect};
use crate::error::Result;
use crate::resources::{RankedIds, ResourceFilter, ResourceRecord};

/// The ranking statement: the ids of the first `limit` matches in order, each row with the
/// exact number of matches and the owner's data version (one snapshot, so the three agree).
fn push_ranked_ids<'a, DB>(
    qb: &mut QueryBuilder<'a, DB>,
    dialect: Dialect,
    owner: Uuid,
    filter: &'a ResourceFilter,
    search: Option<&'a str>,
    limit: u64,
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
    // A number, written into the statement like a page's size (see `list::push_page`).
    qb.push(" LIMIT ").push(limit);
}

/// The rows of `ids` of `owner`, each with the owner's current data version, in no particular
/// order. Each row is found by its id; on SQLite the owner test is kept off the indexes (`+`)
/// and the join order pinned, because without `ANALYZE` statistics SQLite otherwise walks all
/// of the owner's index entries testing each id against the list — a search page at 100 000
/// rows then cost 8× one at 10 000.
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

/// A row read by id, with its owner's data version in column 14.
struct RecordWithVersion {
    record: ResourceRecord,
    version: i64,
}

impl<'r, R> sqlx::FromRow<'r, R> for RecordWithVersion
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    ResourceRecord: sqlx::FromRow<'r, R>,
    i64: sqlx::Decode<'r, R::Database>,
{
    fn from_row(row: &'r R) -> std::result::Result<Self, sqlx::Error> {
        Ok(Self {
            record: ResourceRecord::from_row(row)?,
            version: row.try_get_unchecked(14)?,
        })
    }
}

/// The first `limit` matches of `filter` for `owner`, ranked, with their number and the
/// owner's data version.
pub(super) async fn ranked_ids(
    db: &Database,
    owner: Uuid,
    filter: &ResourceFilter,
    limit: u64,
) -> Result<RankedIds> {
    let nothing = RankedIds {
        version: None,
        total: 0,
        ids: Vec::new(),
    };
    let query = filter.search.as_deref().map(SearchQuery::parse);
    if query.as_ref().is_some_and(SearchQuery::is_empty) {
        // Only punctuation or exclusions: nothing can match.
        return Ok(nothing);
    }
    let dialect = db.dialect();
    let rendered = query.map(|q| dialect.search(&q));
    let search = rendered.as_deref();
    let reuse = dialect.reuse_plan(search.is_some());
    let rows: Vec<(Uuid, i64, Option<i64>)> = on_pool!(db, pool => {
        let mut ranked = QueryBuilder::new("");
        push_ranked_ids(&mut ranked, dialect, owner, filter, search, limit);
        ranked.build_query_as().persistent(reuse).fetch_all(pool).await
    })?;
    let Some(&(_, total, version)) = rows.first() else {
        return Ok(nothing);
    };
    Ok(RankedIds {
        version,
        total: total.unsigned_abs(),
        ids: rows.into_iter().map(|(id, _, _)| id).collect(),
    })
}

/// The resources of `owner` among `ids` with the owner's current data version.
pub(super) async fn resources_by_id(
    db: &Database,
    owner: Uuid,
    ids: &[Uuid],
) -> Result<Vec<(i64, ResourceRecord)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let dialect = db.dialect();
    let rows: Vec<RecordWithVersion> = on_pool!(db, pool => {
        let mut query = QueryBuilder::new("");
        push_rows_by_id(&mut query, dialect, owner, ids);
        query.build_query_as().fetch_all(pool).await
    })?;
    Ok(rows
        .into_iter()
        .map(|row| (row.version, row.record))
        .collect())
}
