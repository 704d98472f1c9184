//! The read-only overviews: the study queue and stats. Each is a fixed number of statements
//! over indexes and counters, whatever the number of cards and reviews: due cards come from
//! the partial `(…, due) WHERE state <> 'new'` indexes, new cards from their creation-order
//! index, card counts from the decks' counters, review figures from the `review_days` rollup.

use chrono::{Duration, NaiveDate};
use sqlx::QueryBuilder;
use uuid::Uuid;

use super::{count, small, CARD_COLUMNS};
use crate::db::{on_pool, Database};
use crate::error::Result;
use crate::flashcards::{
    streak, CardRecord, DayRow, StateCounts, StatsRows, StudyRows, STATS_DAYS,
};
use crate::time::Timestamp;

/// Days of the streak read per statement: a year, so a streak is nearly always one read.
const STREAK_CHUNK: i64 = 366;

/// Appends ` AND <column> = <deck>` when a deck is given.
fn push_deck<'a, DB>(qb: &mut QueryBuilder<'a, DB>, column: &str, deck: Option<Uuid>)
where
    DB: sqlx::Database,
    Uuid: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    if let Some(deck) = deck {
        qb.push(" AND ").push(column).push(" = ").push_bind(deck);
    }
}

/// The decks' counters in scope: cards per state, reviews, and how many decks matched
/// (0 for a deck that is not `owner`'s).
const COUNTERS: &str = "SELECT CAST(COALESCE(SUM(new_count), 0) AS BIGINT), \
     CAST(COALESCE(SUM(learning_count), 0) AS BIGINT), \
     CAST(COALESCE(SUM(review_count), 0) AS BIGINT), \
     CAST(COALESCE(SUM(relearning_count), 0) AS BIGINT), \
     CAST(COALESCE(SUM(total_reviews), 0) AS BIGINT), count(*) FROM decks WHERE owner_id = ";

type Counters = (i64, i64, i64, i64, i64, i64);

/// A day of the rollup summed over decks: day, reviews, again, hard, good, easy, recall total,
/// recall kept.
type DaySums = (NaiveDate, i64, i64, i64, i64, i64, i64, i64);

fn state_counts(c: &Counters) -> StateCounts {
    StateCounts {
        new: count(c.0),
        learning: count(c.1),
        review: count(c.2),
        relearning: count(c.3),
    }
}

/// The study queue (see [`crate::flashcards::FlashcardStore::study`]): the decks' counters,
/// the day's new cards, the due cards and their count, then the new cards — five statements.
pub(super) async fn study(
    db: &Database,
    owner: Uuid,
    deck: Option<Uuid>,
    now: Timestamp,
    today: NaiveDate,
    limit: u32,
    new_per_day: u32,
) -> Result<Option<StudyRows>> {
    let rows = on_pool!(db, pool => {
        let mut counters = QueryBuilder::new(COUNTERS);
        counters.push_bind(owner);
        push_deck(&mut counters, "id", deck);
        let counters: Counters = counters.build_query_as().fetch_one(pool).await?;
        if deck.is_some() && counters.5 == 0 {
            return Ok(None);
        }
        let started: (i64,) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(new_cards), 0) AS BIGINT) FROM review_days \
             WHERE owner_id = $1 AND day = $2",
        )
        .bind(owner)
        .bind(today)
        .fetch_one(pool)
        .await?;
        let mut due_count = QueryBuilder::new("SELECT count(*) FROM cards c WHERE c.owner_id = ");
        due_count.push_bind(owner);
        push_deck(&mut due_count, "c.deck_id", deck);
        due_count.push(" AND c.state <> 'new' AND c.due <= ").push_bind(now);
        let (due_count,): (i64,) = due_count.build_query_as().fetch_one(pool).await?;
        let mut due = QueryBuilder::new("SELECT ");
        due.push(CARD_COLUMNS).push(" FROM cards c WHERE c.owner_id = ").push_bind(owner);
        push_deck(&mut due, "c.deck_id", deck);
        due.push(" AND c.state <> 'new' AND c.due <= ")
            .push_bind(now)
            .push(" ORDER BY c.due, c.id LIMIT ")
            .push_bind(i64::from(limit));
        let due: Vec<CardRecord> = due.build_query_as().fetch_all(pool).await?;
        let allowance = u64::from(new_per_day).saturating_sub(count(started.0));
        let new_count = state_counts(&counters).new.min(allowance);
        let room = u64::from(limit).saturating_sub(due.len() as u64).min(new_count);
        let new: Vec<CardRecord> = if room == 0 {
            Vec::new()
        } else {
            let mut new = QueryBuilder::new("SELECT ");
            new.push(CARD_COLUMNS).push(" FROM cards c WHERE c.owner_id = ").push_bind(owner);
            push_deck(&mut new, "c.deck_id", deck);
            new.push(" AND c.state = 'new' ORDER BY c.created_at, c.id LIMIT ")
                .push_bind(i64::try_from(room).unwrap_or(i64::MAX));
            new.build_query_as().fetch_all(pool).await?
        };
        Some(StudyRows {
            due,
            new,
            due_count: count(due_count),
            new_count,
        })
    });
    Ok(rows)
}

/// The figures of stats (see [`crate::flashcards::FlashcardStore::stats`]): the decks'
/// counters, the cards due today, the rollup of the last 30 days, and the streak's days —
/// four statements (a streak longer than a year reads a year more per statement).
pub(super) async fn stats(
    db: &Database,
    owner: Uuid,
    deck: Option<Uuid>,
    today: NaiveDate,
    end_of_today: Timestamp,
) -> Result<Option<StatsRows>> {
    let first = today - Duration::days(STATS_DAYS as i64 - 1);
    let rows = on_pool!(db, pool => {
        let mut counters = QueryBuilder::new(COUNTERS);
        counters.push_bind(owner);
        push_deck(&mut counters, "id", deck);
        let counters: Counters = counters.build_query_as().fetch_one(pool).await?;
        if deck.is_some() && counters.5 == 0 {
            return Ok(None);
        }
        let mut due = QueryBuilder::new("SELECT count(*) FROM cards c WHERE c.owner_id = ");
        due.push_bind(owner);
        push_deck(&mut due, "c.deck_id", deck);
        due.push(" AND c.state <> 'new' AND c.due < ").push_bind(end_of_today);
        let (due_today,): (i64,) = due.build_query_as().fetch_one(pool).await?;
        let mut days = QueryBuilder::new(
            "SELECT day, CAST(SUM(reviews) AS BIGINT), CAST(SUM(again) AS BIGINT), \
             CAST(SUM(hard) AS BIGINT), CAST(SUM(good) AS BIGINT), CAST(SUM(easy) AS BIGINT), \
             CAST(SUM(recall_total) AS BIGINT), CAST(SUM(recall_kept) AS BIGINT) \
             FROM review_days WHERE owner_id = ",
        );
        days.push_bind(owner);
        push_deck(&mut days, "deck_id", deck);
        days.push(" AND day >= ")
            .push_bind(first)
            .push(" AND day <= ")
            .push_bind(today)
            .push(" GROUP BY day");
        let days: Vec<DaySums> =
            days.build_query_as().fetch_all(pool).await?;
        // The streak: days with reviews, newest first, a year at a time until it breaks.
        let mut seen: Vec<NaiveDate> = Vec::new();
        let streak_days = loop {
            let mut chunk = QueryBuilder::new("SELECT DISTINCT day FROM review_days WHERE owner_id = ");
            chunk.push_bind(owner);
            push_deck(&mut chunk, "deck_id", deck);
            let before = seen.last().copied().unwrap_or(today + Duration::days(1));
            chunk.push(" AND day < ")
                .push_bind(before)
                .push(" ORDER BY day DESC LIMIT ")
                .push_bind(STREAK_CHUNK);
            let read: Vec<(NaiveDate,)> = chunk.build_query_as().fetch_all(pool).await?;
            let complete = (read.len() as i64) < STREAK_CHUNK;
            seen.extend(read.into_iter().map(|(day,)| day));
            match streak(today, &seen) {
                Some(days) => break days,
                None if complete => break small(seen.len() as i64),
                None => {}
            }
        };
        Some(StatsRows {
            cards: state_counts(&counters),
            total_reviews: count(counters.4),
            due_today: count(due_today),
            days: days
                .into_iter()
                .map(|d| DayRow {
                    day: d.0,
                    reviews: count(d.1),
                    again: count(d.2),
                    hard: count(d.3),
                    good: count(d.4),
                    easy: count(d.5),
                    recall_total: count(d.6),
                    recall_kept: count(d.7),
                })
                .collect(),
            streak_days,
        })
    });
    Ok(rows)
}
