//! A deck's cards: listed, created, read, changed (moved between the owner's decks) and
//! deleted, each change counted in its decks' counters in the same transaction.

use sqlx::QueryBuilder;
use uuid::Uuid;

use super::{count, CARD_COLUMNS};
use crate::db::{map_foreign_key, on_pool, on_tx, Database, Tx};
use crate::error::Result;
use crate::flashcards::{CardChanges, CardFilter, CardRecord, CardState, Schedule};
use crate::page::PageRequest;
use crate::time::Timestamp;

/// Inserts a new card into deck `$3` when that deck is owner `$2`'s (else nothing).
const INSERT_CARD: &str = "INSERT INTO cards \
     (id, owner_id, deck_id, front, back, state, step, due, reps, lapses, created_at, updated_at) \
     SELECT $1, $2, d.id, $4, $5, 'new', 0, $6, 0, 0, $6, $6 FROM decks d \
     WHERE d.id = $3 AND d.owner_id = $2";
const GET_CARD: &str = "SELECT c.id, c.deck_id, c.front, c.back, c.state, c.step, c.due, \
     c.stability, c.difficulty, c.reps, c.lapses, c.last_review, c.created_at, c.updated_at \
     FROM cards c WHERE c.id = $1 AND c.owner_id = $2";
/// The card's deck and state, locked on PostgreSQL until the move commits.
const CARD_PLACE_PG: &str =
    "SELECT deck_id, state FROM cards WHERE id = $1 AND owner_id = $2 FOR UPDATE";
const CARD_PLACE: &str = "SELECT deck_id, state FROM cards WHERE id = $1 AND owner_id = $2";
const OWNED_DECK: &str = "SELECT id FROM decks WHERE id = $1 AND owner_id = $2";
const PATCH_CARD: &str =
    "UPDATE cards SET front = COALESCE($3, front), back = COALESCE($4, back), \
     deck_id = COALESCE($5, deck_id), updated_at = $6 WHERE id = $1 AND owner_id = $2";
const DELETE_CARD: &str =
    "DELETE FROM cards WHERE id = $1 AND owner_id = $2 RETURNING deck_id, state";

/// Adds `$2` cards of state `$3` and `$4` cards of state `$5` to deck `$1`'s counters, and
/// `$6` to its reviews: every change of a deck's cards is one run of this statement per deck.
pub(super) const ADJUST_DECK: &str = "UPDATE decks SET \
     card_count = card_count + $2 + $4, \
     new_count = new_count + CASE WHEN $3 = 'new' THEN $2 ELSE 0 END \
         + CASE WHEN $5 = 'new' THEN $4 ELSE 0 END, \
     learning_count = learning_count + CASE WHEN $3 = 'learning' THEN $2 ELSE 0 END \
         + CASE WHEN $5 = 'learning' THEN $4 ELSE 0 END, \
     review_count = review_count + CASE WHEN $3 = 'review' THEN $2 ELSE 0 END \
         + CASE WHEN $5 = 'review' THEN $4 ELSE 0 END, \
     relearning_count = relearning_count + CASE WHEN $3 = 'relearning' THEN $2 ELSE 0 END \
         + CASE WHEN $5 = 'relearning' THEN $4 ELSE 0 END, \
     total_reviews = total_reviews + $6 \
     WHERE id = $1";

/// One change of a deck's counters (see [`ADJUST_DECK`]).
#[derive(Debug, Clone, Copy)]
pub(super) struct Adjust {
    pub(super) deck: Uuid,
    pub(super) removed: Option<CardState>,
    pub(super) added: Option<CardState>,
    pub(super) reviews: i64,
}

/// Runs [`ADJUST_DECK`] for `adjust` inside `tx`.
pub(super) async fn adjust(tx: &mut Tx, adjust: Adjust) -> Result<()> {
    let (removed, removed_state) = match adjust.removed {
        Some(state) => (-1_i64, state.as_str()),
        None => (0, "new"),
    };
    let (added, added_state) = match adjust.added {
        Some(state) => (1_i64, state.as_str()),
        None => (0, "new"),
    };
    on_tx!(tx, conn => {
        sqlx::query(ADJUST_DECK)
            .bind(adjust.deck)
            .bind(removed)
            .bind(removed_state)
            .bind(added)
            .bind(added_state)
            .bind(adjust.reviews)
            .execute(&mut **conn)
            .await?;
    });
    Ok(())
}

/// A page of deck `deck`'s cards: due ones most overdue first with `filter.due_at`, else
/// oldest first; one state with `filter.state`.
pub(super) async fn list(
    db: &Database,
    owner: Uuid,
    deck: Uuid,
    filter: CardFilter,
    page: PageRequest,
) -> Result<(u64, Vec<CardRecord>)> {
    let limit = i64::try_from(page.limit()).unwrap_or(i64::MAX);
    let offset = i64::try_from(page.offset()).unwrap_or(i64::MAX);
    let state = filter.state.map(CardState::as_str);
    let (total, cards): (i64, Vec<CardRecord>) = on_pool!(db, pool => {
        let mut total = QueryBuilder::new("SELECT count(*) FROM cards c");
        push_where(&mut total, owner, deck, state, filter.due_at);
        let (total,): (i64,) = total.build_query_as().fetch_one(pool).await?;
        let mut rows = QueryBuilder::new("SELECT ");
        rows.push(CARD_COLUMNS).push(" FROM cards c");
        push_where(&mut rows, owner, deck, state, filter.due_at);
        if filter.due_at.is_some() {
            rows.push(" ORDER BY c.due, c.id");
        } else {
            rows.push(" ORDER BY c.created_at, c.id");
        }
        rows.push(" LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
        (total, rows.build_query_as().fetch_all(pool).await?)
    });
    Ok((count(total), cards))
}

fn push_where<'a, DB>(
    qb: &mut QueryBuilder<'a, DB>,
    owner: Uuid,
    deck: Uuid,
    state: Option<&'a str>,
    due_at: Option<Timestamp>,
) where
    DB: sqlx::Database,
    Uuid: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    Timestamp: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    qb.push(" WHERE c.deck_id = ")
        .push_bind(deck)
        .push(" AND c.owner_id = ")
        .push_bind(owner);
    if let Some(state) = state {
        qb.push(" AND c.state = ").push_bind(state);
    }
    if let Some(due_at) = due_at {
        // Written as the partial indexes' predicate, so they serve it.
        qb.push(" AND c.state <> 'new' AND c.due <= ")
            .push_bind(due_at);
    }
}

/// Creates a new card in deck `deck` and counts it there; `None` when the deck is not
/// `owner`'s.
pub(super) async fn create(
    db: &Database,
    owner: Uuid,
    deck: Uuid,
    id: Uuid,
    front: &str,
    back: &str,
    now: Timestamp,
) -> Result<Option<CardRecord>> {
    let mut tx = db.begin_write().await?;
    let inserted = on_tx!(&mut tx, conn => {
        sqlx::query(INSERT_CARD)
            .bind(id)
            .bind(owner)
            .bind(deck)
            .bind(front)
            .bind(back)
            .bind(now)
            .execute(&mut **conn)
            .await
            .map(|done| done.rows_affected())
    })
    .map_err(map_foreign_key)?;
    if inserted == 0 {
        return Ok(None);
    }
    adjust(
        &mut tx,
        Adjust {
            deck,
            removed: None,
            added: Some(CardState::New),
            reviews: 0,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Some(CardRecord {
        id,
        deck_id: deck,
        front: front.to_string(),
        back: back.to_string(),
        schedule: Schedule::new_card(now),
        created_at: now,
        updated_at: now,
    }))
}

/// One card of `owner`.
pub(super) async fn get(db: &Database, owner: Uuid, id: Uuid) -> Result<Option<CardRecord>> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as(GET_CARD)
            .bind(id)
            .bind(owner)
            .fetch_optional(pool)
            .await
    })?)
}

/// One card of `owner` as it stands inside `tx`.
async fn get_in(tx: &mut Tx, owner: Uuid, id: Uuid) -> Result<Option<CardRecord>> {
    Ok(on_tx!(tx, conn => {
        sqlx::query_as(GET_CARD)
            .bind(id)
            .bind(owner)
            .fetch_optional(&mut **conn)
            .await
    })?)
}

/// Changes the given fields; a move to another of `owner`'s decks moves the card's count
/// (decks updated in id order, so two opposite moves never wait for each other in a cycle).
/// `None` when the card or the target deck is not `owner`'s.
pub(super) async fn patch(
    db: &Database,
    owner: Uuid,
    id: Uuid,
    changes: &CardChanges,
    now: Timestamp,
) -> Result<Option<CardRecord>> {
    let mut tx = db.begin_write().await?;
    let place_sql = match db {
        Database::Sqlite(_) => CARD_PLACE,
        Database::Postgres(_) => CARD_PLACE_PG,
    };
    let place: Option<(Uuid, String)> = on_tx!(&mut tx, conn => {
        sqlx::query_as(place_sql)
            .bind(id)
            .bind(owner)
            .fetch_optional(&mut **conn)
            .await
    })?;
    let Some((from, state)) = place else {
        return Ok(None);
    };
    let state = CardState::parse(&state).map_err(crate::error::Error::Internal)?;
    let moved_to = changes.deck_id.filter(|to| *to != from);
    if let Some(to) = moved_to {
        let owned: Option<(Uuid,)> = on_tx!(&mut tx, conn => {
            sqlx::query_as(OWNED_DECK)
                .bind(to)
                .bind(owner)
                .fetch_optional(&mut **conn)
                .await
        })?;
        if owned.is_none() {
            return Ok(None);
        }
    }
    on_tx!(&mut tx, conn => {
        sqlx::query(PATCH_CARD)
            .bind(id)
            .bind(owner)
            .bind(changes.front.as_deref())
            .bind(changes.back.as_deref())
            .bind(moved_to)
            .bind(now)
            .execute(&mut **conn)
            .await
            .map(drop)
    })
    .map_err(map_foreign_key)?;
    if let Some(to) = moved_to {
        let out = Adjust {
            deck: from,
            removed: Some(state),
            added: None,
            reviews: 0,
        };
        let into = Adjust {
            deck: to,
            removed: None,
            added: Some(state),
            reviews: 0,
        };
        let (first, second) = if from < to { (out, into) } else { (into, out) };
        adjust(&mut tx, first).await?;
        adjust(&mut tx, second).await?;
    }
    let card = get_in(&mut tx, owner, id).await?;
    tx.commit().await?;
    Ok(card)
}

/// Deletes a card (its reviews cascade) and uncounts it from its deck.
pub(super) async fn delete(db: &Database, owner: Uuid, id: Uuid) -> Result<bool> {
    let mut tx = db.begin_write().await?;
    let deleted: Option<(Uuid, String)> = on_tx!(&mut tx, conn => {
        sqlx::query_as(DELETE_CARD)
            .bind(id)
            .bind(owner)
            .fetch_optional(&mut **conn)
            .await
    })?;
    let Some((deck, state)) = deleted else {
        return Ok(false);
    };
    let state = CardState::parse(&state).map_err(crate::error::Error::Internal)?;
    adjust(
        &mut tx,
        Adjust {
            deck,
            removed: Some(state),
            added: None,
            reviews: 0,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}
