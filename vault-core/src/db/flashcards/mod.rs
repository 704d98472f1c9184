//! [`SqlFlashcardStore`]: the [`FlashcardStore`] over SQLite or PostgreSQL, by topic: decks
//! ([`decks`]), cards ([`cards`]), reviews ([`reviews`]) and the read-only overviews (study
//! queue and stats, [`overview`]). Every statement is written once for both dialects.
//!
//! Every call naming one object or creating one is settled against the owner's account (see
//! [`super::owner_settled`]): for an owner deleted through another instance, it is 401
//! `token_not_valid`, never a 404 for the missing row or a 500 for the broken foreign key.

mod cards;
mod decks;
mod overview;
mod reviews;

use async_trait::async_trait;
use chrono::NaiveDate;
use uuid::Uuid;

use super::{owner_settled, Database, Miss};
use crate::error::Result;
use crate::flashcards::{
    CardChanges, CardFilter, CardRecord, CardState, DeckChanges, DeckFields, DeckRecord,
    FlashcardStore, Rating, ReviewApplied, ReviewRecord, ReviewWrite, Schedule, StateCounts,
    StatsRows, StudyRows,
};
use crate::page::PageRequest;
use crate::time::Timestamp;

/// The flashcards store over a [`Database`] (clones share the pool).
#[derive(Debug, Clone)]
pub struct SqlFlashcardStore {
    db: Database,
}

impl SqlFlashcardStore {
    /// The store over `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

impl Miss for DeckRecord {
    fn is_miss(&self) -> bool {
        false
    }
}

impl Miss for ReviewApplied {
    fn is_miss(&self) -> bool {
        matches!(self, Self::Stale)
    }
}

/// A stored count (never negative) as a count.
pub(super) fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// A stored small number (step, reps, lapses, days) as `u32`.
pub(super) fn small(value: i64) -> u32 {
    u32::try_from(value.max(0)).unwrap_or(u32::MAX)
}

fn decode_error(
    column: &str,
    source: impl std::error::Error + Send + Sync + 'static,
) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: column.into(),
        source: Box::new(source),
    }
}

/// The start of a select of [`DeckRecord`]s (table alias `d`), in the order its `FromRow`
/// decodes them by position, up to the time `due_count` counts at: bind that time next, then
/// append [`DECK_FROM`].
pub(super) const DECK_SELECT: &str = "SELECT d.id, d.name, d.description, d.new_count, \
     d.learning_count, d.review_count, d.relearning_count, d.total_reviews, d.created_at, \
     d.updated_at, (SELECT count(*) FROM cards c WHERE c.deck_id = d.id AND c.state <> 'new' \
     AND c.due <= ";

/// The rest of [`DECK_SELECT`] after the time.
pub(super) const DECK_FROM: &str = ") AS due_count FROM decks d";

impl<'r, R> sqlx::FromRow<'r, R> for DeckRecord
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    Uuid: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Timestamp: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn from_row(row: &'r R) -> std::result::Result<Self, sqlx::Error> {
        let n = |i: usize| row.try_get::<i64, _>(i).map(count);
        Ok(Self {
            id: row.try_get(0)?,
            name: row.try_get(1)?,
            description: row.try_get(2)?,
            cards: StateCounts {
                new: n(3)?,
                learning: n(4)?,
                review: n(5)?,
                relearning: n(6)?,
            },
            total_reviews: n(7)?,
            created_at: row.try_get(8)?,
            updated_at: row.try_get(9)?,
            due_count: n(10)?,
        })
    }
}

/// The columns of a [`CardRecord`] (of table alias `c`), in the order its `FromRow` decodes
/// them by position.
pub(super) const CARD_COLUMNS: &str = "c.id, c.deck_id, c.front, c.back, c.state, c.step, c.due, \
     c.stability, c.difficulty, c.reps, c.lapses, c.last_review, c.created_at, c.updated_at";

/// [`CARD_COLUMNS`] without the alias, for `RETURNING`.
pub(super) const CARD_RETURNING: &str = "id, deck_id, front, back, state, step, due, stability, \
     difficulty, reps, lapses, last_review, created_at, updated_at";

impl<'r, R> sqlx::FromRow<'r, R> for CardRecord
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    Uuid: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    f64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Timestamp: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn from_row(row: &'r R) -> std::result::Result<Self, sqlx::Error> {
        let state: String = row.try_get(4)?;
        Ok(Self {
            id: row.try_get(0)?,
            deck_id: row.try_get(1)?,
            front: row.try_get(2)?,
            back: row.try_get(3)?,
            schedule: Schedule {
                state: CardState::try_from(state).map_err(|e| decode_error("state", e))?,
                step: small(row.try_get(5)?),
                due: row.try_get(6)?,
                stability: row.try_get(7)?,
                difficulty: row.try_get(8)?,
                reps: small(row.try_get(9)?),
                lapses: small(row.try_get(10)?),
                last_review: row.try_get(11)?,
            },
            created_at: row.try_get(12)?,
            updated_at: row.try_get(13)?,
        })
    }
}

/// The columns of a [`ReviewRecord`], in the order its `FromRow` decodes them by position.
pub(super) const REVIEW_COLUMNS: &str = "id, card_id, deck_id, rating, state_before, reviewed_at, \
     review_day, elapsed_days, scheduled_days, duration_ms, stability_before, stability_after, \
     difficulty_before, difficulty_after";

impl<'r, R> sqlx::FromRow<'r, R> for ReviewRecord
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    Uuid: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    f64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Timestamp: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    NaiveDate: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn from_row(row: &'r R) -> std::result::Result<Self, sqlx::Error> {
        let rating: i64 = row.try_get(3)?;
        let state: String = row.try_get(4)?;
        let duration: Option<i64> = row.try_get(9)?;
        Ok(Self {
            id: row.try_get(0)?,
            card_id: row.try_get(1)?,
            deck_id: row.try_get(2)?,
            rating: Rating::from_number(rating).ok_or_else(|| {
                decode_error("rating", crate::flashcards::UnknownName(rating.to_string()))
            })?,
            state_before: CardState::try_from(state)
                .map_err(|e| decode_error("state_before", e))?,
            reviewed_at: row.try_get(5)?,
            review_day: row.try_get(6)?,
            elapsed_days: small(row.try_get(7)?),
            scheduled_days: small(row.try_get(8)?),
            duration_ms: duration.map(count),
            stability_before: row.try_get(10)?,
            stability_after: row.try_get(11)?,
            difficulty_before: row.try_get(12)?,
            difficulty_after: row.try_get(13)?,
        })
    }
}

#[async_trait]
impl FlashcardStore for SqlFlashcardStore {
    async fn list_decks(
        &self,
        owner: Uuid,
        search: Option<String>,
        page: PageRequest,
        now: Timestamp,
    ) -> Result<(u64, Vec<DeckRecord>)> {
        decks::list(&self.db, owner, search, page, now).await
    }

    async fn create_deck(
        &self,
        owner: Uuid,
        id: Uuid,
        fields: &DeckFields,
        now: Timestamp,
    ) -> Result<DeckRecord> {
        let created = decks::create(&self.db, owner, id, fields, now).await;
        owner_settled(&self.db, owner, created).await
    }

    async fn get_deck(&self, owner: Uuid, id: Uuid, now: Timestamp) -> Result<Option<DeckRecord>> {
        let found = decks::get(&self.db, owner, id, now).await;
        owner_settled(&self.db, owner, found).await
    }

    async fn patch_deck(
        &self,
        owner: Uuid,
        id: Uuid,
        changes: &DeckChanges,
        now: Timestamp,
    ) -> Result<Option<DeckRecord>> {
        let patched = decks::patch(&self.db, owner, id, changes, now).await;
        owner_settled(&self.db, owner, patched).await
    }

    async fn delete_deck(&self, owner: Uuid, id: Uuid) -> Result<bool> {
        let deleted = decks::delete(&self.db, owner, id).await;
        owner_settled(&self.db, owner, deleted).await
    }

    async fn list_cards(
        &self,
        owner: Uuid,
        deck: Uuid,
        filter: CardFilter,
        page: PageRequest,
    ) -> Result<(u64, Vec<CardRecord>)> {
        cards::list(&self.db, owner, deck, filter, page).await
    }

    async fn create_card(
        &self,
        owner: Uuid,
        deck: Uuid,
        id: Uuid,
        front: &str,
        back: &str,
        now: Timestamp,
    ) -> Result<Option<CardRecord>> {
        let created = cards::create(&self.db, owner, deck, id, front, back, now).await;
        owner_settled(&self.db, owner, created).await
    }

    async fn get_card(&self, owner: Uuid, id: Uuid) -> Result<Option<CardRecord>> {
        let found = cards::get(&self.db, owner, id).await;
        owner_settled(&self.db, owner, found).await
    }

    async fn patch_card(
        &self,
        owner: Uuid,
        id: Uuid,
        changes: &CardChanges,
        now: Timestamp,
    ) -> Result<Option<CardRecord>> {
        let patched = cards::patch(&self.db, owner, id, changes, now).await;
        owner_settled(&self.db, owner, patched).await
    }

    async fn delete_card(&self, owner: Uuid, id: Uuid) -> Result<bool> {
        let deleted = cards::delete(&self.db, owner, id).await;
        owner_settled(&self.db, owner, deleted).await
    }

    async fn record_review(&self, owner: Uuid, write: &ReviewWrite) -> Result<ReviewApplied> {
        let recorded = reviews::record(&self.db, owner, write).await;
        owner_settled(&self.db, owner, recorded).await
    }

    async fn list_reviews(
        &self,
        owner: Uuid,
        card: Uuid,
        page: PageRequest,
    ) -> Result<(u64, Vec<ReviewRecord>)> {
        reviews::list(&self.db, owner, card, page).await
    }

    async fn study(
        &self,
        owner: Uuid,
        deck: Option<Uuid>,
        now: Timestamp,
        today: NaiveDate,
        limit: u32,
        new_per_day: u32,
    ) -> Result<Option<StudyRows>> {
        overview::study(&self.db, owner, deck, now, today, limit, new_per_day).await
    }

    async fn stats(
        &self,
        owner: Uuid,
        deck: Option<Uuid>,
        today: NaiveDate,
        end_of_today: Timestamp,
    ) -> Result<Option<StatsRows>> {
        overview::stats(&self.db, owner, deck, today, end_of_today).await
    }
}
