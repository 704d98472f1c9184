//! Query budget of the flashcards module: a review is one read and one transaction of a fixed,
//! small number of statements, whatever the card's state; the study queue and stats cost the
//! same number of statements whatever the number of cards and reviews.

use std::sync::Arc;

use chrono::Duration;
use vault_core::flashcards::{FlashcardService, ReviewInput};
use vault_core::page::Query;
use vault_core::testkit::{insert_user, Backend, TestDatabase};
use vault_core::time::ManualClock;
use vault_core::{Database, FlashcardsConfig, Principal, Role};

use super::counter::{install_counter, measure};

/// Statements a review runs besides the transaction's own: the card read, then in one
/// transaction the compare-and-swap update of the card, the review insert, the deck's counters
/// and the day's rollup.
const REVIEW_BUDGET: usize = 5;

/// Whether a logged statement is the transaction's own (sqlx logs `COMMIT` on PostgreSQL,
/// neither `BEGIN` nor `COMMIT` on SQLite).
fn transaction_control(statement: &str) -> bool {
    matches!(
        statement.trim(),
        "BEGIN" | "BEGIN IMMEDIATE" | "COMMIT" | "ROLLBACK"
    )
}

#[tokio::test]
async fn sqlite_a_review_is_a_fixed_small_number_of_statements() {
    a_review_is_a_fixed_small_number_of_statements(Backend::Sqlite).await;
}

#[tokio::test]
#[cfg_attr(not(vault_test_postgres), ignore = "needs VAULT_TEST_POSTGRES_URL")]
async fn postgres_a_review_is_a_fixed_small_number_of_statements() {
    a_review_is_a_fixed_small_number_of_statements(Backend::Postgres).await;
}

fn rating(name: &str) -> ReviewInput {
    serde_json::from_value(serde_json::json!({ "rating": name })).expect("valid body")
}

/// Writes that must each happen exactly once in a review.
const REVIEW_WRITES: [&str; 4] = [
    "UPDATE cards",
    "INSERT INTO reviews",
    "UPDATE decks",
    "INSERT INTO review_days",
];

async fn a_review_is_a_fixed_small_number_of_statements(backend: Backend) {
    install_counter();
    let test_db = TestDatabase::create(backend).await;
    let database = Database::connect(&test_db.url, 2)
        .await
        .expect("test database answers");
    database.migrate().await.expect("migrations apply");
    let owner = insert_user(database.auth_store().as_ref(), "reviewer").await;
    let caller = Principal {
        user_id: owner,
        role: Role::User,
    };
    let clock = Arc::new(ManualClock::new(vault_core::time::now()));
    let service = FlashcardService::new(
        database.flashcard_store(),
        &FlashcardsConfig::default(),
        "/api",
        None,
    )
    .expect("valid settings")
    .with_clock(clock.clone());
    let deck = service
        .create_deck(
            &caller,
            serde_json::from_value(serde_json::json!({"name": "D"})).expect("valid body"),
        )
        .await
        .expect("create_deck");
    let card = service
        .create_card(
            &caller,
            &deck.id.to_string(),
            serde_json::from_value(serde_json::json!({"front": "q"})).expect("valid body"),
        )
        .await
        .expect("create_card");
    let id = card.id.to_string();
    // New → learning → learning → review → relearning → review: every kind of transition.
    for (answer, wait) in [
        ("again", 1),
        ("good", 10),
        ("good", 60 * 24 * 3),
        ("again", 60 * 24 * 10),
        ("good", 10),
    ] {
        let ((), executed) = measure(async {
            service
                .review(&caller, &id, rating(answer))
                .await
                .expect("review");
        })
        .await;
        let work = executed.iter().filter(|s| !transaction_control(s)).count();
        assert_eq!(work, REVIEW_BUDGET, "{answer}: {executed:#?}");
        assert!(
            executed.len() <= REVIEW_BUDGET + 2,
            "{answer}: {executed:#?}"
        );
        for write in REVIEW_WRITES {
            let runs = executed.iter().filter(|s| s.contains(write)).count();
            assert_eq!(runs, 1, "{answer}: {write} once: {executed:#?}");
        }
        clock.advance(Duration::minutes(wait));
    }
}

#[tokio::test]
async fn sqlite_study_and_stats_cost_the_same_at_any_size() {
    study_and_stats_cost_the_same_at_any_size(Backend::Sqlite).await;
}

#[tokio::test]
#[cfg_attr(not(vault_test_postgres), ignore = "needs VAULT_TEST_POSTGRES_URL")]
async fn postgres_study_and_stats_cost_the_same_at_any_size() {
    study_and_stats_cost_the_same_at_any_size(Backend::Postgres).await;
}

async fn study_and_stats_cost_the_same_at_any_size(backend: Backend) {
    install_counter();
    let test_db = TestDatabase::create(backend).await;
    let database = Database::connect(&test_db.url, 2)
        .await
        .expect("test database answers");
    database.migrate().await.expect("migrations apply");
    let owner = insert_user(database.auth_store().as_ref(), "studier").await;
    let caller = Principal {
        user_id: owner,
        role: Role::User,
    };
    let clock = Arc::new(ManualClock::new(vault_core::time::now()));
    let service = FlashcardService::new(
        database.flashcard_store(),
        &FlashcardsConfig::default(),
        "/api",
        None,
    )
    .expect("valid settings")
    .with_clock(clock.clone());
    let deck = service
        .create_deck(
            &caller,
            serde_json::from_value(serde_json::json!({"name": "D"})).expect("valid body"),
        )
        .await
        .expect("create_deck")
        .id
        .to_string();
    // (study, stats) statements with 3 cards, then with 60.
    let mut costs: Vec<(usize, usize)> = Vec::new();
    let mut created = 0;
    for size in [3, 60] {
        while created < size {
            let card = service
                .create_card(
                    &caller,
                    &deck,
                    serde_json::from_value(serde_json::json!({"front": "q"})).expect("valid body"),
                )
                .await
                .expect("create_card");
            service
                .review(&caller, &card.id.to_string(), rating("easy"))
                .await
                .expect("review");
            created += 1;
        }
        // Every card due, so the queue reads rows of all of them.
        clock.advance(Duration::days(400));
        let (queue, study) = measure(async {
            service
                .study(&caller, &Query::parse(Some("limit=100")))
                .await
                .expect("study")
        })
        .await;
        assert_eq!(queue.due_count, size as u64);
        let (_, stats) = measure(async { service.stats(&caller).await.expect("stats") }).await;
        costs.push((study.len(), stats.len()));
    }
    assert_eq!(costs[0], costs[1], "(study, stats) at 3 and 60 cards");
    let figures = [costs[0].0, costs[0].1];
    assert!(
        figures[0] <= 5 && figures[1] <= 4,
        "(study, stats): {figures:?}"
    );
}
