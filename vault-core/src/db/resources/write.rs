//! Creating, reading, changing and deleting one resource, with its tag links.

use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::db::{map_foreign_key, on_pool, on_tx, Database, Tx};
use crate::error::{Error, Result};
use crate::resources::{ResourceChanges, ResourceFields, ResourceRecord};
use crate::time::Timestamp;

const INSERT_RESOURCE: &str = "INSERT INTO resources \
     (id, owner_id, kind, title, body, url, favorite, tag_names, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)";
const REPLACE_RESOURCE: &str = "UPDATE resources SET kind = $3, title = $4, body = $5, url = $6, \
     favorite = $7, tag_names = $8, updated_at = $9 WHERE id = $1 AND owner_id = $2";
const PATCH_RESOURCE: &str = "UPDATE resources SET kind = COALESCE($3, kind), \
     title = COALESCE($4, title), body = COALESCE($5, body), \
     url = CASE WHEN $6 THEN $7 ELSE url END, favorite = COALESCE($8, favorite), \
     tag_names = COALESCE($9, tag_names), updated_at = $10 WHERE id = $1 AND owner_id = $2";
/// One resource of an owner, in `COLUMNS` order.
pub(super) const GET_RESOURCE: &str = "SELECT r.id, r.kind, r.title, r.body, r.url, r.favorite, \
     r.tag_names, r.file_key, r.file_name, r.file_size, r.file_type, r.file_sha256, \
     r.created_at, r.updated_at FROM resources r WHERE r.id = $1 AND r.owner_id = $2";
const DELETE_RESOURCE: &str = "DELETE FROM resources WHERE id = $1 AND owner_id = $2";
const UNLINK_TAGS: &str = "DELETE FROM resource_tags WHERE resource_id = $1";

/// A refused `resources_link_needs_url` check as the validation error on `url`; a
/// foreign-key violation as [`map_foreign_key`] does.
fn link_needs_url(error: sqlx::Error) -> Error {
    let is_check = error.as_database_error().is_some_and(|db| {
        db.is_check_violation() || db.message().contains("resources_link_needs_url")
    });
    if is_check {
        Error::field("url", "This field is required for links.")
    } else {
        map_foreign_key(error)
    }
}

/// Resource `id` of `owner` as it stands inside `tx`.
pub(super) async fn get_in(tx: &mut Tx, owner: Uuid, id: Uuid) -> Result<ResourceRecord> {
    Ok(on_tx!(tx, conn => {
        sqlx::query_as(GET_RESOURCE)
            .bind(id)
            .bind(owner)
            .fetch_one(&mut **conn)
            .await
    })?)
}

/// Links `tags` (creating the missing ones) to a resource, replacing its previous set.
async fn set_tags(
    tx: &mut Tx,
    owner: Uuid,
    resource: Uuid,
    tags: &[String],
    now: Timestamp,
) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(UNLINK_TAGS)
            .bind(resource)
            .execute(&mut **conn)
            .await?;
        if tags.is_empty() {
            return Ok(());
        }
        let mut insert = QueryBuilder::new("INSERT INTO tags (id, owner_id, name, created_at) ");
        insert.push_values(tags, |mut row, name| {
            row.push_bind(Uuid::now_v7())
                .push_bind(owner)
                .push_bind(name.as_str())
                .push_bind(now);
        });
        // `DO UPDATE` rather than `DO NOTHING`: it locks an existing tag row until commit, so
        // a concurrent deletion or rename of that tag waits for this link instead of slipping
        // between the insert and the link below.
        insert.push(" ON CONFLICT (owner_id, name) DO UPDATE SET name = excluded.name");
        insert
            .build()
            .execute(&mut **conn)
            .await
            .map_err(map_foreign_key)?;
        let mut link = QueryBuilder::new("INSERT INTO resource_tags (resource_id, tag_id) SELECT ");
        link.push_bind(resource)
            .push(", id FROM tags WHERE owner_id = ")
            .push_bind(owner)
            .push(" AND name IN (");
        let mut names = link.separated(", ");
        for name in tags {
            names.push_bind(name.as_str());
        }
        link.push(")");
        link.build().execute(&mut **conn).await?;
    });
    Ok(())
}

/// PostgreSQL's `vault_create_resource` (migration 7): the resource, its missing tags and its
/// links in one round trip, answering the new row in `COLUMNS` order.
const CREATE_RESOURCE_PG: &str =
    "SELECT * FROM vault_create_resource($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

/// Inserts a resource and its tags (created on the fly) atomically.
///
/// On PostgreSQL one call of a database function does it: each statement sent on its own cost
/// a round trip while the owner's counts row stayed locked, and a create with three tags took
/// seven (see the migration for the figures). SQLite runs them in one local transaction.
pub(super) async fn create(
    db: &Database,
    owner: Uuid,
    id: Uuid,
    fields: &ResourceFields,
    tags: &[String],
    now: Timestamp,
) -> Result<ResourceRecord> {
    if let Database::Postgres(pool) = db {
        let tag_ids: Vec<Uuid> = tags.iter().map(|_| Uuid::now_v7()).collect();
        return sqlx::query_as(CREATE_RESOURCE_PG)
            .bind(id)
            .bind(owner)
            .bind(fields.kind.as_str())
            .bind(&fields.title)
            .bind(&fields.body)
            .bind(fields.url.as_deref())
            .bind(fields.favorite)
            .bind(tags.join("\n"))
            .bind(now)
            .bind(tag_ids)
            .bind(tags)
            .fetch_one(pool)
            .await
            .map_err(link_needs_url);
    }
    let mut tx = db.begin_write().await?;
    on_tx!(&mut tx, conn => {
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
            .execute(&mut **conn)
            .await
            .map(drop)
    })
    .map_err(link_needs_url)?;
    set_tags(&mut tx, owner, id, tags, now).await?;
    let record = get_in(&mut tx, owner, id).await?;
    tx.commit().await?;
    Ok(record)
}

/// One resource of `owner`.
pub(super) async fn get(db: &Database, owner: Uuid, id: Uuid) -> Result<Option<ResourceRecord>> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as(GET_RESOURCE)
            .bind(id)
            .bind(owner)
            .fetch_optional(pool)
            .await
    })?)
}

/// Replaces every writable field and the tag set (PUT).
pub(super) async fn replace(
    db: &Database,
    owner: Uuid,
    id: Uuid,
    fields: &ResourceFields,
    tags: &[String],
    now: Timestamp,
) -> Result<Option<ResourceRecord>> {
    let mut tx = db.begin_write().await?;
    let changed = on_tx!(&mut tx, conn => {
        sqlx::query(REPLACE_RESOURCE)
            .bind(id)
            .bind(owner)
            .bind(fields.kind.as_str())
            .bind(&fields.title)
            .bind(&fields.body)
            .bind(fields.url.as_deref())
            .bind(fields.favorite)
            .bind(tags.join("\n"))
            .bind(now)
            .execute(&mut **conn)
            .await
            .map(|done| done.rows_affected())
    })
    .map_err(link_needs_url)?;
    if changed == 0 {
        return Ok(None);
    }
    set_tags(&mut tx, owner, id, tags, now).await?;
    let record = get_in(&mut tx, owner, id).await?;
    tx.commit().await?;
    Ok(Some(record))
}

/// Changes only the given fields (PATCH), column by column.
pub(super) async fn patch(
    db: &Database,
    owner: Uuid,
    id: Uuid,
    changes: &ResourceChanges,
    now: Timestamp,
) -> Result<Option<ResourceRecord>> {
    let mut tx = db.begin_write().await?;
    let changed = on_tx!(&mut tx, conn => {
        sqlx::query(PATCH_RESOURCE)
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
            .execute(&mut **conn)
            .await
            .map(|done| done.rows_affected())
    })
    .map_err(link_needs_url)?;
    if changed == 0 {
        return Ok(None);
    }
    if let Some(tags) = &changes.tags {
        set_tags(&mut tx, owner, id, tags, now).await?;
    }
    let record = get_in(&mut tx, owner, id).await?;
    tx.commit().await?;
    Ok(Some(record))
}

/// Deletes a resource (a trigger queues its file's blob for deletion).
pub(super) async fn delete(db: &Database, owner: Uuid, id: Uuid) -> Result<bool> {
    let deleted = on_pool!(db, pool => {
        sqlx::query(DELETE_RESOURCE)
            .bind(id)
            .bind(owner)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
    })?;
    Ok(deleted > 0)
}
