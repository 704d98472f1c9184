//! Reviews: recording one (a fixed number of statements in one transaction, guarded by a
//! compare-and-swap on the card's `reps`) and a card's history.

use uuid::Uuid;

use super::cards::{adjust, Adjust};
use super::{count, CARD_RETURNING, REVIEW_COLUMNS};
use crate::db::{map_foreign_key, on_pool, on_tx, Database};
use crate::error::Result;
use crate::flashcards::{CardRecord, CardState, Rating, ReviewApplied, ReviewRecord, ReviewWrite};
use crate::page::PageRequest;

/// Replaces a card's schedule if its `reps` is still `$11`, answering the card as it becomes.
fn swap_schedule() -> String {
    format!(
        "UPDATE cards SET state = $3, step = $4, due = $5, stability = $6, difficulty = $7, \
         reps = $8, lapses = $9, last_review = $10, updated_at = $10 \
         WHERE id = $1 AND owner_id = $2 AND reps = $11 RETURNING {CARD_RETURNING}"
    )
}

const INSERT_REVIEW: &str = "INSERT INTO reviews (id, owner_id, card_id, deck_id, rating, \
     state_before, reviewed_at, review_day, elapsed_days, scheduled_days, duration_ms, \
     stability_before, stability_after, difficulty_before, difficulty_after) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";

/// Adds one answer to the (owner, deck, day) rollup.
const UPSERT_DAY: &str = "INSERT INTO review_days (owner_id, deck_id, day, reviews, again, hard, \
     good, easy, recall_total, recall_kept, new_cards) \
     VALUES ($1, $2, $3, 1, $4, $5, $6, $7, $8, $9, $10) \
     ON CONFLICT (owner_id, deck_id, day) DO UPDATE SET reviews = review_days.reviews + 1, \
     again = review_days.again + excluded.again, hard = review_days.hard + excluded.hard, \
     good = review_days.good + excluded.good, easy = review_days.easy + excluded.easy, \
     recall_total = review_days.recall_total + excluded.recall_total, \
     recall_kept = review_days.recall_kept + excluded.recall_kept, \
     new_cards = review_days.new_cards + excluded.new_cards";

fn history() -> String {
    format!(
        "SELECT {REVIEW_COLUMNS} FROM reviews WHERE card_id = $1 AND owner_id = $2 \
         ORDER BY reviewed_at DESC, id DESC LIMIT $3 OFFSET $4"
    )
}

const HISTORY_COUNT: &str = "SELECT count(*) FROM reviews WHERE card_id = $1 AND owner_id = $2";

fn one(flag: bool) -> i64 {
    i64::from(flag)
}

/// Records `write` for `owner`: swap the schedule, append the review, count it in the deck
/// (the deck the card is in when the swap lands) and in the day's rollup. Nothing is written
/// when the swap changes no row ([`ReviewApplied::Stale`]).
pub(super) async fn record(
    db: &Database,
    owner: Uuid,
    write: &ReviewWrite,
) -> Result<ReviewApplied> {
    let after = &write.after;
    let before = &write.before;
    let review = &write.review;
    let swap = swap_schedule();
    let mut tx = db.begin_write().await?;
    let card: Option<CardRecord> = on_tx!(&mut tx, conn => {
        sqlx::query_as(&swap)
            .bind(write.card_id)
            .bind(owner)
            .bind(after.state.as_str())
            .bind(i64::from(after.step))
            .bind(after.due)
            .bind(after.stability)
            .bind(after.difficulty)
            .bind(i64::from(after.reps))
            .bind(i64::from(after.lapses))
            .bind(after.last_review)
            .bind(i64::from(before.reps))
            .fetch_optional(&mut **conn)
            .await
    })?;
    let Some(card) = card else {
        // Dropping the transaction rolls it back (it wrote nothing).
        return Ok(ReviewApplied::Stale);
    };
    let stored = ReviewRecord {
        deck_id: card.deck_id,
        ..review.clone()
    };
    let duration = stored
        .duration_ms
        .map(|ms| i64::try_from(ms).unwrap_or(i64::MAX));
    on_tx!(&mut tx, conn => {
        sqlx::query(INSERT_REVIEW)
            .bind(stored.id)
            .bind(owner)
            .bind(stored.card_id)
            .bind(stored.deck_id)
            .bind(i64::from(stored.rating.number()))
            .bind(stored.state_before.as_str())
            .bind(stored.reviewed_at)
            .bind(stored.review_day)
            .bind(i64::from(stored.elapsed_days))
            .bind(i64::from(stored.scheduled_days))
            .bind(duration)
            .bind(stored.stability_before)
            .bind(stored.stability_after)
            .bind(stored.difficulty_before)
            .bind(stored.difficulty_after)
            .execute(&mut **conn)
            .await
            .map(drop)
    })
    .map_err(map_foreign_key)?;
    adjust(
        &mut tx,
        Adjust {
            deck: card.deck_id,
            removed: Some(before.state),
            added: Some(after.state),
            reviews: 1,
        },
    )
    .await?;
    let in_review = stored.state_before == CardState::Review;
    let rating = stored.rating;
    on_tx!(&mut tx, conn => {
        sqlx::query(UPSERT_DAY)
            .bind(owner)
            .bind(card.deck_id)
            .bind(stored.review_day)
            .bind(one(rating == Rating::Again))
            .bind(one(rating == Rating::Hard))
            .bind(one(rating == Rating::Good))
            .bind(one(rating == Rating::Easy))
            .bind(one(in_review))
            .bind(one(in_review && rating != Rating::Again))
            .bind(one(stored.state_before == CardState::New))
            .execute(&mut **conn)
            .await
            .map(drop)
    })
    .map_err(map_foreign_key)?;
    tx.commit().await?;
    Ok(ReviewApplied::Applied {
        card,
        review: stored,
    })
}

/// A page of card `card`'s reviews, newest first.
pub(super) async fn list(
    db: &Database,
    owner: Uuid,
    card: Uuid,
    page: PageRequest,
) -> Result<(u64, Vec<ReviewRecord>)> {
    let limit = i64::try_from(page.limit()).unwrap_or(i64::MAX);
    let offset = i64::try_from(page.offset()).unwrap_or(i64::MAX);
    let sql = history();
    let (total, rows): ((i64,), Vec<ReviewRecord>) = on_pool!(db, pool => {
        let total = sqlx::query_as(HISTORY_COUNT)
            .bind(card)
            .bind(owner)
            .fetch_one(pool)
            .await?;
        let rows = sqlx::query_as(&sql)
            .bind(card)
            .bind(owner)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
        (total, rows)
    });
    Ok((count(total.0), rows))
}
