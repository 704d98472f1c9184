//! A resource's file columns, and the queue of blobs to delete (`blob_garbage`): filled by
//! triggers in the transaction that drops a file's row or replaces its key, and by uploads,
//! which reserve their key there a day ahead before storing the blob (`queued_at` is when a
//! key falls due) and take it off in the transaction that attaches the blob.

use sqlx::QueryBuilder;
use uuid::Uuid;

use super::write::get_in;
use crate::db::{on_pool, on_tx, Database, Dialect};
use crate::error::Result;
use crate::resources::{FileColumns, ResourceRecord};
use crate::time::Timestamp;

const SET_FILE: &str = "UPDATE resources SET file_key = $3, file_name = $4, file_size = $5, \
     file_type = $6, file_sha256 = $7, updated_at = $8 WHERE id = $1 AND owner_id = $2";
const CLEAR_FILE: &str = "UPDATE resources SET file_key = NULL, file_name = NULL, file_size = NULL, \
     file_type = NULL, file_sha256 = NULL, updated_at = $3 WHERE id = $1 AND owner_id = $2 AND file_key IS NOT NULL";
const RESOURCE_EXISTS: &str = "SELECT id FROM resources WHERE id = $1 AND owner_id = $2";
const GARBAGE_SQLITE: &str = "SELECT key FROM blob_garbage \
     WHERE queued_at <= strftime('%Y-%m-%dT%H:%M:%fZ', 'now') ORDER BY queued_at LIMIT $1";
const GARBAGE_POSTGRES: &str =
    "SELECT key FROM blob_garbage WHERE queued_at <= now() ORDER BY queued_at LIMIT $1";
// `queued_at` of SQLite is text in the format of the column's default, so that it sorts and
// compares as time.
const RESERVE_SQLITE: &str = "INSERT INTO blob_garbage (key, queued_at) \
     VALUES ($1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || $2 || ' seconds')) \
     ON CONFLICT (key) DO NOTHING";
const RESERVE_POSTGRES: &str = "INSERT INTO blob_garbage (key, queued_at) \
     VALUES ($1, now() + $2::float8 * interval '1 second') ON CONFLICT (key) DO NOTHING";
const UNRESERVE: &str = "DELETE FROM blob_garbage WHERE key = $1";

/// How long an upload's reserved key waits before it falls due: far longer than an upload can
/// take (the body-idle timeout ends a stalled one), so that a collection never deletes a blob
/// that an upload still in progress is about to attach.
const UPLOAD_GRACE_SECONDS: i64 = 24 * 60 * 60;
const BLOB_IN_USE: &str = "SELECT id FROM resources WHERE file_key = $1";

/// Attaches a file; `None` when the resource does not exist.
pub(super) async fn set(
    db: &Database,
    owner: Uuid,
    id: Uuid,
    file: &FileColumns,
    now: Timestamp,
) -> Result<Option<ResourceRecord>> {
    let mut tx = db.begin_write().await?;
    let changed = on_tx!(&mut tx, conn => {
        sqlx::query(SET_FILE)
            .bind(id)
            .bind(owner)
            .bind(&file.key)
            .bind(&file.name)
            .bind(file.size)
            .bind(&file.content_type)
            .bind(&file.sha256)
            .bind(now)
            .execute(&mut **conn)
            .await
            .map(|done| done.rows_affected())
    })?;
    if changed == 0 {
        return Ok(None);
    }
    on_tx!(&mut tx, conn => {
        sqlx::query(UNRESERVE)
            .bind(&file.key)
            .execute(&mut **conn)
            .await
            .map(drop)
    })?;
    let record = get_in(&mut tx, owner, id).await?;
    tx.commit().await?;
    Ok(Some(record))
}

/// Queues `key`, which an upload is about to store, for deletion [`UPLOAD_GRACE_SECONDS`]
/// from now.
pub(super) async fn reserve(db: &Database, key: &str) -> Result<()> {
    let sql = match db.dialect() {
        Dialect::Sqlite => RESERVE_SQLITE,
        Dialect::Postgres => RESERVE_POSTGRES,
    };
    on_pool!(db, pool => {
        sqlx::query(sql)
            .bind(key)
            .bind(UPLOAD_GRACE_SECONDS)
            .execute(pool)
            .await
            .map(drop)
    })?;
    Ok(())
}

/// Detaches the file: `None` when the resource does not exist, `Some(false)` when it had none.
pub(super) async fn clear(
    db: &Database,
    owner: Uuid,
    id: Uuid,
    now: Timestamp,
) -> Result<Option<bool>> {
    let mut tx = db.begin_write().await?;
    let cleared = on_tx!(&mut tx, conn => {
        sqlx::query(CLEAR_FILE)
            .bind(id)
            .bind(owner)
            .bind(now)
            .execute(&mut **conn)
            .await
            .map(|done| done.rows_affected())
    })?;
    let outcome = if cleared > 0 {
        Some(true)
    } else {
        let exists: Option<(Uuid,)> = on_tx!(&mut tx, conn => {
            sqlx::query_as(RESOURCE_EXISTS)
                .bind(id)
                .bind(owner)
                .fetch_optional(&mut **conn)
                .await
        })?;
        exists.map(|_| false)
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Queued blob keys that are due, oldest first, at most `limit`.
pub(super) async fn garbage(db: &Database, limit: i64) -> Result<Vec<String>> {
    let sql = match db.dialect() {
        Dialect::Sqlite => GARBAGE_SQLITE,
        Dialect::Postgres => GARBAGE_POSTGRES,
    };
    let rows: Vec<(String,)> = on_pool!(db, pool => {
        sqlx::query_as(sql).bind(limit).fetch_all(pool).await
    })?;
    Ok(rows.into_iter().map(|(key,)| key).collect())
}

/// Forgets queued keys whose blobs were deleted.
pub(super) async fn forget_garbage(db: &Database, keys: &[String]) -> Result<()> {
    if keys.is_empty() {
        return Ok(());
    }
    on_pool!(db, pool => {
        let mut delete = QueryBuilder::new("DELETE FROM blob_garbage WHERE key IN (");
        let mut list = delete.separated(", ");
        for key in keys {
            list.push_bind(key.as_str());
        }
        delete.push(")");
        delete.build().execute(pool).await.map(drop)
    })?;
    Ok(())
}

/// Whether a resource references blob `key`.
pub(super) async fn in_use(db: &Database, key: &str) -> Result<bool> {
    let row: Option<(Uuid,)> = on_pool!(db, pool => {
        sqlx::query_as(BLOB_IN_USE).bind(key).fetch_optional(pool).await
    })?;
    Ok(row.is_some())
}
