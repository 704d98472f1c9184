//! The storage trait of the flashcards module (decks, cards, reviews, daily rollups). Every
//! method is scoped to one owner: the owner is in every WHERE clause, so another user's rows do
//! not exist here.
//!
//! Counters live in the rows they describe: a deck holds its card count, its cards per state
//! and its review count, maintained in the same transaction as every change of its cards; the
//! `review_days` rollup holds each (owner, deck, local day)'s answers. Listings and stats read
//! them instead of counting rows.

use async_trait::async_trait;
use chrono::NaiveDate;
use uuid::Uuid;

use super::model::{CardChanges, CardState, DeckChanges, DeckFields, Rating};
use super::schedule::Schedule;
use crate::error::Result;
use crate::page::PageRequest;
use crate::time::Timestamp;

/// A stored deck with its maintained counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeckRecord {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Cards per state (their sum is the card count).
    pub cards: StateCounts,
    /// Reviews made while their card was in this deck (those of cards deleted since
    /// included: the daily rollups keep them too).
    pub total_reviews: u64,
    /// Learning, relearning and review cards due at the time of the read.
    pub due_count: u64,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change of name or description.
    pub updated_at: Timestamp,
}

/// Cards per state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StateCounts {
    /// New.
    pub new: u64,
    /// Learning.
    pub learning: u64,
    /// Review.
    pub review: u64,
    /// Relearning.
    pub relearning: u64,
}

impl StateCounts {
    /// All cards.
    pub fn total(&self) -> u64 {
        self.new + self.learning + self.review + self.relearning
    }
}

/// A stored card.
#[derive(Debug, Clone, PartialEq)]
pub struct CardRecord {
    /// Id.
    pub id: Uuid,
    /// Its deck.
    pub deck_id: Uuid,
    /// Front.
    pub front: String,
    /// Back.
    pub back: String,
    /// Its schedule.
    pub schedule: Schedule,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

/// A stored review: the answer and what a parameter optimizer needs (FSRS trains on rating,
/// time, elapsed days and the state before).
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewRecord {
    /// Id.
    pub id: Uuid,
    /// The card.
    pub card_id: Uuid,
    /// The deck the card was in.
    pub deck_id: Uuid,
    /// The answer.
    pub rating: Rating,
    /// The card's state before.
    pub state_before: CardState,
    /// When.
    pub reviewed_at: Timestamp,
    /// The local day of `reviewed_at` in the configured time zone.
    pub review_day: NaiveDate,
    /// Whole days since the previous review.
    pub elapsed_days: u32,
    /// Whole days scheduled (0 for a short-term step).
    pub scheduled_days: u32,
    /// Answer time in milliseconds, if the client said.
    pub duration_ms: Option<u64>,
    /// Stability before (`None` for a new card).
    pub stability_before: Option<f64>,
    /// Stability after.
    pub stability_after: f64,
    /// Difficulty before (`None` for a new card).
    pub difficulty_before: Option<f64>,
    /// Difficulty after.
    pub difficulty_after: f64,
}

/// The filters of a card listing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CardFilter {
    /// Only cards in this state.
    pub state: Option<CardState>,
    /// Only cards other than new ones due at or before this time (`?due=true`).
    pub due_at: Option<Timestamp>,
}

/// One review to record: the card's schedule as it was read and as it becomes.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewWrite {
    /// The card.
    pub card_id: Uuid,
    /// The card's schedule as read (its `reps` is the compare-and-swap guard).
    pub before: Schedule,
    /// The card's new schedule.
    pub after: Schedule,
    /// The review row (its `deck_id` is the card's deck as read; the store records the deck
    /// the card is in when the write lands).
    pub review: ReviewRecord,
}

/// What became of a [`ReviewWrite`].
// Made once per review and moved straight into the answer: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum ReviewApplied {
    /// Recorded: the card as rescheduled and the review.
    Applied {
        /// The card after the review.
        card: CardRecord,
        /// The review as stored.
        review: ReviewRecord,
    },
    /// Nothing written: the card is gone, or another review landed since it was read
    /// (its `reps` changed). Read it again.
    Stale,
}

/// The rows of a study queue.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StudyRows {
    /// Due cards other than new ones, most overdue first.
    pub due: Vec<CardRecord>,
    /// New cards, oldest first, within the day's remaining allowance.
    pub new: Vec<CardRecord>,
    /// All cards other than new ones due now, in scope.
    pub due_count: u64,
    /// New cards in scope, at most the day's remaining allowance.
    pub new_count: u64,
}

/// One (local) day of a rollup, summed over the decks in scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayRow {
    /// The day.
    pub day: NaiveDate,
    /// Answers.
    pub reviews: u64,
    /// "again" answers.
    pub again: u64,
    /// "hard" answers.
    pub hard: u64,
    /// "good" answers.
    pub good: u64,
    /// "easy" answers.
    pub easy: u64,
    /// Answers to cards in review state.
    pub recall_total: u64,
    /// Those that were not "again".
    pub recall_kept: u64,
}

/// What stats are made of, read in a fixed number of small statements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsRows {
    /// Cards per state.
    pub cards: StateCounts,
    /// Reviews ever (made in the decks in scope).
    pub total_reviews: u64,
    /// Cards other than new ones due before the end of today.
    pub due_today: u64,
    /// Days with reviews among the 30 ending today, in any order.
    pub days: Vec<DayRow>,
    /// Consecutive days with reviews ending today, or yesterday when none yet today.
    pub streak_days: u32,
}

/// Decks, cards and reviews of one owner at a time.
///
/// Every call that creates an object or names one by id answers
/// [`crate::Error::InvalidAccessToken`] when `owner`'s account no longer exists (deleted
/// through another instance while this one still trusted its access token), rather than a
/// miss or a broken foreign key.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait FlashcardStore: Send + Sync + 'static {
    /// A page of `owner`'s decks by name (then id), optionally those whose name contains
    /// `search` (taken literally, case-insensitively for ASCII), with the total; `due_count`
    /// as of `now`.
    ///
    /// # Errors
    /// Database failures.
    async fn list_decks(
        &self,
        owner: Uuid,
        search: Option<String>,
        page: PageRequest,
        now: Timestamp,
    ) -> Result<(u64, Vec<DeckRecord>)>;

    /// Creates an empty deck.
    ///
    /// # Errors
    /// Database failures.
    async fn create_deck(
        &self,
        owner: Uuid,
        id: Uuid,
        fields: &DeckFields,
        now: Timestamp,
    ) -> Result<DeckRecord>;

    /// One deck of `owner`, `due_count` as of `now`.
    ///
    /// # Errors
    /// Database failures.
    async fn get_deck(&self, owner: Uuid, id: Uuid, now: Timestamp) -> Result<Option<DeckRecord>>;

    /// Changes the given fields of a deck.
    ///
    /// # Errors
    /// Database failures.
    async fn patch_deck(
        &self,
        owner: Uuid,
        id: Uuid,
        changes: &DeckChanges,
        now: Timestamp,
    ) -> Result<Option<DeckRecord>>;

    /// Deletes a deck with its cards, their reviews and its rollups.
    ///
    /// # Errors
    /// Database failures.
    async fn delete_deck(&self, owner: Uuid, id: Uuid) -> Result<bool>;

    /// A page of the cards of deck `deck` (which the caller checked is `owner`'s): by due
    /// time (most overdue first) when `filter.due_at` is set, else oldest first; with the
    /// total.
    ///
    /// # Errors
    /// Database failures.
    async fn list_cards(
        &self,
        owner: Uuid,
        deck: Uuid,
        filter: CardFilter,
        page: PageRequest,
    ) -> Result<(u64, Vec<CardRecord>)>;

    /// Creates a new card in deck `deck` and counts it there, in one transaction; `None`
    /// when the deck is not `owner`'s.
    ///
    /// # Errors
    /// Database failures.
    async fn create_card(
        &self,
        owner: Uuid,
        deck: Uuid,
        id: Uuid,
        front: &str,
        back: &str,
        now: Timestamp,
    ) -> Result<Option<CardRecord>>;

    /// One card of `owner`.
    ///
    /// # Errors
    /// Database failures.
    async fn get_card(&self, owner: Uuid, id: Uuid) -> Result<Option<CardRecord>>;

    /// Changes the given fields of a card; a move updates both decks' counters in the same
    /// transaction. `None` when the card, or the target deck, is not `owner`'s.
    ///
    /// # Errors
    /// Database failures.
    async fn patch_card(
        &self,
        owner: Uuid,
        id: Uuid,
        changes: &CardChanges,
        now: Timestamp,
    ) -> Result<Option<CardRecord>>;

    /// Deletes a card (and its reviews) and uncounts it from its deck, in one transaction.
    ///
    /// # Errors
    /// Database failures.
    async fn delete_card(&self, owner: Uuid, id: Uuid) -> Result<bool>;

    /// Records a review in one transaction of a fixed number of statements: the card's
    /// schedule is replaced only if its `reps` is still `write.before.reps`
    /// (compare-and-swap), then the review row is appended, the deck's counters and the
    /// day's rollup updated. [`ReviewApplied::Stale`] when the swap found nothing to change.
    ///
    /// # Errors
    /// Database failures (nothing is written then).
    async fn record_review(&self, owner: Uuid, write: &ReviewWrite) -> Result<ReviewApplied>;

    /// A page of the reviews of card `card` (which the caller checked is `owner`'s), newest
    /// first, with the total.
    ///
    /// # Errors
    /// Database failures.
    async fn list_reviews(
        &self,
        owner: Uuid,
        card: Uuid,
        page: PageRequest,
    ) -> Result<(u64, Vec<ReviewRecord>)>;

    /// The study queue of `owner` (of one deck, or all): at most `limit` due cards other
    /// than new ones (due at or before `now`, most overdue first), then new cards up to
    /// `limit` in all and to what remains of `new_per_day` after the new cards first answered
    /// on `today` (over all of `owner`'s decks). A constant number of statements whatever the
    /// deck sizes. `None` when `deck` is not `owner`'s.
    ///
    /// # Errors
    /// Database failures.
    async fn study(
        &self,
        owner: Uuid,
        deck: Option<Uuid>,
        now: Timestamp,
        today: NaiveDate,
        limit: u32,
        new_per_day: u32,
    ) -> Result<Option<StudyRows>>;

    /// The figures of stats for `owner` (of one deck, or all) on local day `today`, whose end
    /// is `end_of_today`. `None` when `deck` is not `owner`'s.
    ///
    /// # Errors
    /// Database failures.
    async fn stats(
        &self,
        owner: Uuid,
        deck: Option<Uuid>,
        today: NaiveDate,
        end_of_today: Timestamp,
    ) -> Result<Option<StatsRows>>;
}
