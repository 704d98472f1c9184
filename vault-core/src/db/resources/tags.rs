//! An owner's tags: listed with their resource counts, created, renamed (the resources carrying
//! them follow) and deleted (detached from every resource).

use sqlx::QueryBuilder;
use uuid::Uuid;

use super::BUMP_VERSION;
use crate::db::{map_foreign_key, map_unique, on_pool, on_tx, Database, Tx};
use crate::error::Result;
use crate::page::PageRequest;
use crate::resources::Tag;
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

const TAG_COLUMNS: &str = "SELECT t.id, t.name, \
     (SELECT count(*) FROM resource_tags rt WHERE rt.tag_id = t.id) AS resource_count, t.created_at \
     FROM tags t";
const TAG_BY_ID: &str = "SELECT t.id, t.name, \
     (SELECT count(*) FROM resource_tags rt WHERE rt.tag_id = t.id) AS resource_count, t.created_at \
     FROM tags t WHERE t.id = $1 AND t.owner_id = $2";
const INSERT_TAG: &str =
    "INSERT INTO tags (id, owner_id, name, created_at) VALUES ($1, $2, $3, $4) \
     RETURNING id, name, CAST(0 AS BIGINT) AS resource_count, created_at";
const RENAME_TAG: &str = "UPDATE tags SET name = $3 WHERE id = $1 AND owner_id = $2";
/// Finds tag `$1` of owner `$2`. PostgreSQL also locks it (`FOR UPDATE`, see [`delete`]).
const FIND_TAG: &str = "SELECT id FROM tags WHERE id = $1 AND owner_id = $2";
const LOCK_TAG: &str = "SELECT id FROM tags WHERE id = $1 AND owner_id = $2 FOR UPDATE";
const DELETE_TAG: &str = "DELETE FROM tags WHERE id = $1 AND owner_id = $2";

/// A page of `owner`'s tags by name, optionally those whose name contains `search` (taken
/// literally: `%`, `_` and `\` are escaped).
pub(super) async fn list(
    db: &Database,
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
    let (total, tags): (i64, Vec<Tag>) = on_pool!(db, pool => {
        let mut count = QueryBuilder::new("SELECT count(*) FROM tags t WHERE t.owner_id = ");
        count.push_bind(owner);
        if let Some(pattern) = &pattern {
            count
                .push(" AND t.name LIKE ")
                .push_bind(pattern.as_str())
                .push(" ESCAPE '\\'");
        }
        let (total,): (i64,) = count.build_query_as().fetch_one(pool).await?;
        let mut rows = QueryBuilder::new(TAG_COLUMNS);
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
        (total, rows.build_query_as().fetch_all(pool).await?)
    });
    Ok((total.unsigned_abs(), tags))
}

/// Creates a tag; a clash of names is a conflict on `name` (a missing owner, see
/// [`map_foreign_key`]).
pub(super) async fn create(
    db: &Database,
    owner: Uuid,
    id: Uuid,
    name: &str,
    now: Timestamp,
) -> Result<Tag> {
    on_pool!(db, pool => {
        sqlx::query_as(INSERT_TAG)
            .bind(id)
            .bind(owner)
            .bind(name)
            .bind(now)
            .fetch_one(pool)
            .await
    })
    .map_err(|e| {
        if e.as_database_error()
            .is_some_and(|db| db.is_foreign_key_violation())
        {
            map_foreign_key(e)
        } else {
            map_unique(e, TAG_UNIQUE)
        }
    })
}

/// One tag of `owner`.
pub(super) async fn get(db: &Database, owner: Uuid, id: Uuid) -> Result<Option<Tag>> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as(TAG_BY_ID)
            .bind(id)
            .bind(owner)
            .fetch_optional(pool)
            .await
    })?)
}

/// Raises `owner`'s data version first thing in a tag transaction (see [`BUMP_VERSION`]).
async fn bump_version(tx: &mut Tx, owner: Uuid) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(BUMP_VERSION)
            .bind(owner)
            .execute(&mut **conn)
            .await
            .map(drop)
    })?;
    Ok(())
}

/// Rewrites `tag_names` of the resources carrying tag `id`, leaving out tag `left_out`.
async fn refresh_tag_names(tx: &mut Tx, db: &Database, id: Uuid, left_out: Uuid) -> Result<()> {
    let sql = db.dialect().refresh_tag_names();
    on_tx!(tx, conn => {
        sqlx::query(sql)
            .bind(id)
            .bind(left_out)
            .execute(&mut **conn)
            .await
            .map(drop)
    })?;
    Ok(())
}

/// Renames a tag; the resources carrying it follow. `None` when it does not exist.
pub(super) async fn rename(
    db: &Database,
    owner: Uuid,
    id: Uuid,
    name: &str,
) -> Result<Option<Tag>> {
    let mut tx = db.begin_write().await?;
    bump_version(&mut tx, owner).await?;
    let changed = on_tx!(&mut tx, conn => {
        sqlx::query(RENAME_TAG)
            .bind(id)
            .bind(owner)
            .bind(name)
            .execute(&mut **conn)
            .await
            .map(|done| done.rows_affected())
    })
    .map_err(|e| map_unique(e, TAG_UNIQUE))?;
    if changed == 0 {
        return Ok(None);
    }
    refresh_tag_names(&mut tx, db, id, Uuid::nil()).await?;
    let tag = on_tx!(&mut tx, conn => {
        sqlx::query_as(TAG_BY_ID)
            .bind(id)
            .bind(owner)
            .fetch_one(&mut **conn)
            .await
    })?;
    tx.commit().await?;
    Ok(Some(tag))
}

/// Deletes a tag, detaching it from every resource; `false` when it does not exist.
///
/// The tag row is locked first on PostgreSQL so that a concurrent tagging either lands before
/// the deletion (and is detached with it) or after it (and creates the tag afresh). SQLite
/// needs no row lock: its write transactions run one at a time.
pub(super) async fn delete(db: &Database, owner: Uuid, id: Uuid) -> Result<bool> {
    let mut tx = db.begin_write().await?;
    bump_version(&mut tx, owner).await?;
    let found: Option<(Uuid,)> = match &mut tx {
        Tx::Sqlite(conn) => {
            sqlx::query_as(FIND_TAG)
                .bind(id)
                .bind(owner)
                .fetch_optional(&mut **conn)
                .await?
        }
        Tx::Postgres(conn) => {
            sqlx::query_as(LOCK_TAG)
                .bind(id)
                .bind(owner)
                .fetch_optional(&mut **conn)
                .await?
        }
    };
    if found.is_none() {
        return Ok(false);
    }
    refresh_tag_names(&mut tx, db, id, id).await?;
    on_tx!(&mut tx, conn => {
        sqlx::query(DELETE_TAG)
            .bind(id)
            .bind(owner)
            .execute(&mut **conn)
            .await
            .map(drop)
    })?;
    tx.commit().await?;
    Ok(true)
}
