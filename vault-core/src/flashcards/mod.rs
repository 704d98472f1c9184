//! Flashcards with FSRS-6 spaced repetition (API.md §5): decks, cards, reviews, previews, the
//! study queue and stats, private to their owner.
//!
//! # Service API ([`FlashcardService`], from [`crate::Vault::flashcards`])
//!
//! Every method takes the caller (`&Principal`) and decides ownership in the core: another
//! user's deck or card is [`crate::Error::NotFound`] (404), never revealed. Path ids are
//! `&str` (a malformed one is 404); bodies are the `Deserialize` types of [`model`], decoded by
//! [`crate::wire::decode_json`] (unknown fields are 400); query strings are
//! [`crate::page::Query`]. Adapters encode the answers with [`crate::wire`]: `json(200, ..)`,
//! `created(location, ..)` for 201 with `Location`, `json(201, ..)` for a review (no
//! `Location`), `no_content()` for 204.
//!
//! | route | method | answer |
//! |---|---|---|
//! | `GET /decks` (`?search=`, pagination) | [`FlashcardService::list_decks`] | 200 [`crate::page::Page`]`<`[`Deck`]`>` |
//! | `POST /decks` [`DeckInput`] | [`FlashcardService::create_deck`] | 201 [`Deck`], `Location` [`FlashcardService::deck_location`] |
//! | `GET /decks/{id}` | [`FlashcardService::get_deck`] | 200 [`Deck`] |
//! | `PATCH /decks/{id}` [`DeckPatch`] | [`FlashcardService::patch_deck`] | 200 [`Deck`] |
//! | `DELETE /decks/{id}` | [`FlashcardService::delete_deck`] | 204 (its cards, reviews and rollups go too) |
//! | `GET /decks/{id}/stats` | [`FlashcardService::deck_stats`] | 200 [`Stats`] |
//! | `GET /decks/{id}/cards` (`?state=`, `?due=true`, pagination) | [`FlashcardService::list_cards`] | 200 `Page<`[`Card`]`>` |
//! | `POST /decks/{id}/cards` [`CardInput`] | [`FlashcardService::create_card`] | 201 [`Card`], `Location` [`FlashcardService::card_location`] |
//! | `GET /cards/{id}` | [`FlashcardService::get_card`] | 200 [`Card`] |
//! | `PATCH /cards/{id}` [`CardPatch`] | [`FlashcardService::patch_card`] | 200 [`Card`] (`deck_id` moves it; another user's deck is 404) |
//! | `DELETE /cards/{id}` | [`FlashcardService::delete_card`] | 204 |
//! | `POST /cards/{id}/reviews` [`ReviewInput`] | [`FlashcardService::review`] | 201 [`ReviewCreated`], no `Location` |
//! | `GET /cards/{id}/reviews` (pagination) | [`FlashcardService::history`] | 200 `Page<`[`Review`]`>`, newest first |
//! | `GET /cards/{id}/preview` | [`FlashcardService::preview`] | 200 [`Preview`] (writes nothing) |
//! | `GET /study` (`?deck=`, `?limit=`) | [`FlashcardService::study`] | 200 [`StudyQueue`] |
//! | `GET /stats` | [`FlashcardService::stats`] | 200 [`Stats`] |
//!
//! Errors: 401 for anonymous callers (adapters refuse before calling); 400
//! `validation_error` naming the field (`name`, `description`, `front`, `back`, `deck_id`,
//! `duration_ms`, `state`, `due`, `search`, `deck`, `limit`, `page`, `page_size`; NUL and
//! control characters, length limits); 404 for what is not the caller's or a page past the
//! last; 409 `conflict` when a review kept losing races with other reviews of the same card
//! ([`REVIEW_ATTEMPTS`]).
//!
//! Time comes from a [`crate::time::Clock`]: the system clock, or one a test moves
//! ([`crate::time::ManualClock`] through [`crate::VaultBuilder::clock`] or
//! [`FlashcardService::with_clock`]). Days (today's reviews, `by_day`, streaks, the daily
//! new-card limit) are calendar days of [`crate::FlashcardsConfig::time_zone`].
//!
//! # Scheduling
//!
//! [`schedule`]: FSRS-6 from the `fsrs` crate with its 21 published default parameters, and
//! our own state machine for learning and relearning steps ([`crate::FlashcardsConfig`]).
//!
//! # Storage
//!
//! [`FlashcardStore`] ([`crate::db::SqlFlashcardStore`] on SQLite and PostgreSQL): decks hold
//! their counters (cards per state, reviews), maintained in the transactions that change their
//! cards; reviews are append-only (removed only with their card); `review_days` rolls up each
//! (owner, deck, local day)'s answers in the review's transaction, so stats, the deck list and
//! the daily new-card limit never count rows. A review is one transaction of a fixed number of
//! statements, guarded by a compare-and-swap on the card's `reps`.

pub mod model;
mod reviews;
pub mod schedule;
mod service;
pub mod store;

pub use model::*;
pub use reviews::streak;
pub use schedule::{Outcome, Schedule, Scheduler};
pub use service::{FlashcardService, REVIEW_ATTEMPTS};
#[cfg(any(test, feature = "mock"))]
pub use store::MockFlashcardStore;
pub use store::{
    CardFilter, CardRecord, DayRow, DeckRecord, FlashcardStore, ReviewApplied, ReviewRecord,
    ReviewWrite, StateCounts, StatsRows, StudyRows,
};
