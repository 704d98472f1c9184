//! A resource's file columns, and the queue of blobs whose rows are gone (`blob_garbage`,
//! filled by triggers in the transaction that drops a file's row or replaces its key).

use sqlx::QueryBuilder;
use uuid::Uuid;

use super::write::get_in;
use crate::db::{on_pool, on_tx, Database};
use crate::error::Result;
use crate::resources::{FileColumns, ResourceRecord};
use crate::time::Timestamp;

const SET_FILE: &str = "UPDATE resources SET file_key = $3, file_name = $4, file_size = $5, \
     file_type = $6, file_sha256 = $7, updated_at = $8 WHERE id = $1 AND owner_id = $2";
const CLEAR_FILE: &str = "UPDATE resources SET file_key = NULL, file_name = NULL, file_size = NULL, \
     file_type = NULL, file_sha256 = NULL, updated_at = $3 WHERE id = $1 AND owner_id = $2 AND file_key IS NOT NULL";
const RESOURCE_EXISTS: &str = "SELECT id FROM resources WHERE id = $1 AND owner_id = $2";
const GARBAGE: &str = "SELECT key FROM blob_garbage ORDER BY queued_at LIMIT $1";
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
    let record = get_in(&mut tx, owner, id).await?;
    tx.commit().await?;
    Ok(Some(record))
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

/// Queued blob keys, oldest first, at most `limit`.
pub(super) async fn garbage(db: &Database, limit: i64) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = on_pool!(db, pool => {
        sqlx::query_as(GARBAGE).bind(limit).fetch_all(pool).await
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
