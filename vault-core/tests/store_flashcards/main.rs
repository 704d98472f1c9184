//! The store suite of the flashcards module (ARCHITECTURE.md "Tests, in three layers", layer 2).
//!
//! Every scenario is written once against `Arc<dyn FlashcardStore>` (plus the auth store for the
//! owners, the service over the same store where the scenario is about its rules, and raw SQL
//! for the truth the counters must equal) and run on a fresh SQLite file always, and on a fresh
//! PostgreSQL database when `VAULT_TEST_POSTGRES_URL` is set (ignored otherwise).
//! `cargo test -p vault-core --test store_flashcards postgres` runs only the PostgreSQL half.

use std::future::Future;
use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use uuid::Uuid;
use vault_core::auth::AuthStore;
use vault_core::flashcards::{
    CardChanges, CardFilter, CardRecord, CardState, DeckChanges, DeckFields, FlashcardService,
    FlashcardStore, Rating, ReviewApplied, ReviewInput,
};
use vault_core::page::{PageRequest, Query};
use vault_core::testkit::{insert_user, run_store, Backend};
use vault_core::time::{ManualClock, Timestamp};
use vault_core::{Database, FlashcardsConfig, Principal, Role};

mod cards;
mod decks;
mod fixtures;
mod overview;
mod reviews;

use cards::*;
use decks::*;
use fixtures::*;
use overview::*;
use reviews::*;

/// What a scenario gets: the stores over one fresh, migrated database, and the database itself
/// for raw SQL.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub(crate) db: Database,
    pub(crate) auth: Arc<dyn AuthStore>,
    pub(crate) store: Arc<dyn FlashcardStore>,
}

async fn run<F, Fut>(backend: Backend, scenario: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()>,
{
    run_store(backend, |fresh| {
        scenario(Ctx {
            auth: fresh.database.auth_store(),
            store: fresh.database.flashcard_store(),
            db: fresh.database.clone(),
        })
    })
    .await;
}

vault_core::store_suite! {
    single: [
        decks_are_listed_by_name_searched_literally_and_scoped_to_their_owner,
        deck_patch_changes_only_the_given_fields,
        every_call_is_scoped_to_the_owner,
        counters_equal_the_real_counts_after_creates_moves_deletes_and_reviews,
        a_move_to_another_owners_deck_changes_nothing,
        deleting_a_deck_removes_its_cards_reviews_and_rollups,
        deleting_the_user_removes_every_flashcard_row,
        every_call_for_a_deleted_owner_is_refused_as_its_token,
        a_review_is_recorded_with_its_rollup_and_history_newest_first,
        a_stale_review_writes_nothing,
        a_review_whose_write_fails_leaves_the_card_unchanged,
        reviews_are_append_only,
        study_lists_due_cards_most_overdue_first_then_new_within_the_daily_limit,
        stats_are_zero_filled_and_count_retention_and_streaks,
    ],
    multi: [
        two_simultaneous_reviews_of_one_card_are_both_applied_in_order,
        deleting_a_deck_while_its_cards_are_reviewed_is_clean,
    ],
}
