//! An owner's decks: listed by name with a name search, created, read, changed and deleted
//! (the cascade takes their cards, the cards' reviews, and the deck's rollups).

use sqlx::QueryBuilder;
use uuid::Uuid;

use super::{count, DECK_FROM, DECK_SELECT};
use crate::db::{map_foreign_key, on_pool, on_tx, Database};
use crate::error::Result;
use crate::flashcards::{DeckChanges, DeckFields, DeckRecord, StateCounts};
use crate::page::PageRequest;
use crate::time::Timestamp;

const INSERT_DECK: &str =
    "INSERT INTO decks (id, owner_id, name, description, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $5)";
const PATCH_DECK: &str = "UPDATE decks SET name = COALESCE($3, name), \
     description = COALESCE($4, description), updated_at = $5 WHERE id = $1 AND owner_id = $2";
const DELETE_DECK: &str = "DELETE FROM decks WHERE id = $1 AND owner_id = $2";
const DELETE_CARDS: &str = "DELETE FROM cards WHERE deck_id = $1 AND owner_id = $2";

/// A `LIKE` pattern matching names that contain `search` literally (`%`, `_` and `\`
/// escaped), lowercased as the statement lowercases names.
fn contains_pattern(search: &str) -> String {
    let escaped = search
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// A page of `owner`'s decks by name, optionally those whose name contains `search`.
pub(super) async fn list(
    db: &Database,
    owner: Uuid,
    search: Option<String>,
    page: PageRequest,
    now: Timestamp,
) -> Result<(u64, Vec<DeckRecord>)> {
    let pattern = search.as_deref().map(contains_pattern);
    let limit = i64::try_from(page.limit()).unwrap_or(i64::MAX);
    let offset = i64::try_from(page.offset()).unwrap_or(i64::MAX);
    let (total, decks): (i64, Vec<DeckRecord>) = on_pool!(db, pool => {
        let mut total = QueryBuilder::new("SELECT count(*) FROM decks d WHERE d.owner_id = ");
        total.push_bind(owner);
        if let Some(pattern) = &pattern {
            total
                .push(" AND lower(d.name) LIKE ")
                .push_bind(pattern.as_str())
                .push(" ESCAPE '\\'");
        }
        let (total,): (i64,) = total.build_query_as().fetch_one(pool).await?;
        let mut rows = QueryBuilder::new(DECK_SELECT);
        rows.push_bind(now);
        rows.push(DECK_FROM).push(" WHERE d.owner_id = ");
        rows.push_bind(owner);
        if let Some(pattern) = &pattern {
            rows.push(" AND lower(d.name) LIKE ")
                .push_bind(pattern.as_str())
                .push(" ESCAPE '\\'");
        }
        rows.push(" ORDER BY d.name, d.id LIMIT ")
            .push_bind(limit)
            .push(" OFFSET ")
            .push_bind(offset);
        (total, rows.build_query_as().fetch_all(pool).await?)
    });
    Ok((count(total), decks))
}

/// Creates an empty deck (a missing owner, see [`map_foreign_key`]).
pub(super) async fn create(
    db: &Database,
    owner: Uuid,
    id: Uuid,
    fields: &DeckFields,
    now: Timestamp,
) -> Result<DeckRecord> {
    on_pool!(db, pool => {
        sqlx::query(INSERT_DECK)
            .bind(id)
            .bind(owner)
            .bind(&fields.name)
            .bind(&fields.description)
            .bind(now)
            .execute(pool)
            .await
            .map(drop)
    })
    .map_err(map_foreign_key)?;
    Ok(DeckRecord {
        id,
        name: fields.name.clone(),
        description: fields.description.clone(),
        cards: StateCounts::default(),
        total_reviews: 0,
        due_count: 0,
        created_at: now,
        updated_at: now,
    })
}

/// One deck of `owner`.
pub(super) async fn get(
    db: &Database,
    owner: Uuid,
    id: Uuid,
    now: Timestamp,
) -> Result<Option<DeckRecord>> {
    let sql = format!("{DECK_SELECT}$1{DECK_FROM} WHERE d.id = $2 AND d.owner_id = $3");
    Ok(on_pool!(db, pool => {
        sqlx::query_as(&sql)
            .bind(now)
            .bind(id)
            .bind(owner)
            .fetch_optional(pool)
            .await
    })?)
}

/// Changes the given fields; the deck as it then stands.
pub(super) async fn patch(
    db: &Database,
    owner: Uuid,
    id: Uuid,
    changes: &DeckChanges,
    now: Timestamp,
) -> Result<Option<DeckRecord>> {
    let changed = on_pool!(db, pool => {
        sqlx::query(PATCH_DECK)
            .bind(id)
            .bind(owner)
            .bind(changes.name.as_deref())
            .bind(changes.description.as_deref())
            .bind(now)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
    })?;
    if changed == 0 {
        return Ok(None);
    }
    get(db, owner, id, now).await
}

/// Deletes a deck: its cards first (their reviews cascade), then the deck (its rollups
/// cascade), in one transaction. Cards before the deck is the order every other write takes
/// their rows in (a review updates its card, then its deck), so on PostgreSQL a deletion and a
/// review never wait for each other in a cycle; the deck's own cascade would lock them the
/// other way round.
pub(super) async fn delete(db: &Database, owner: Uuid, id: Uuid) -> Result<bool> {
    let mut tx = db.begin_write().await?;
    let deleted = on_tx!(&mut tx, conn => {
        sqlx::query(DELETE_CARDS)
            .bind(id)
            .bind(owner)
            .execute(&mut **conn)
            .await?;
        sqlx::query(DELETE_DECK)
            .bind(id)
            .bind(owner)
            .execute(&mut **conn)
            .await
            .map(|done| done.rows_affected())
    })?;
    if deleted == 0 {
        // Nothing of the owner's by that id: no card was deleted either.
        return Ok(false);
    }
    tx.commit().await?;
    Ok(true)
}
