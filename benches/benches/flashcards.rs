//! Criterion benchmarks of the flashcards module.
//!
//! - group `flashcards_schedule`: `review` answers one card in review state (FSRS-6 and the
//!   step machine, no I/O); `preview` computes all four answers of it.
//! - groups `flashcards_stats_<backend>`: [`FlashcardService::stats`] of one user whose 1 000
//!   cards in 10 decks have 1 000 (`stats_1k`) or 100 000 (`stats_100k`) reviews spread over
//!   the last 400 days (API.md §5 targets: the second within 2 × the first). The review log
//!   and its daily rollups are seeded in bulk with SQL, as the review transaction would have
//!   left them.
//!
//! Backends: SQLite on a temporary file always; PostgreSQL when `VAULT_BENCH_POSTGRES_URL`
//! names a server, on a fresh database created (and dropped afterwards) like the test suites
//! do. Run with `cargo bench -p vault-benches --bench flashcards`.

use std::hint::black_box;
use std::sync::Arc;

use chrono::Duration;
use criterion::{criterion_main, Criterion};
use sqlx::QueryBuilder;
use tokio::runtime::Runtime;
use uuid::Uuid;
use vault_core::flashcards::{FlashcardService, Rating, Schedule, Scheduler};
use vault_core::testkit::{insert_user, Backend, TestDatabase};
use vault_core::time::{now, ManualClock, Timestamp};
use vault_core::{Database, FlashcardsConfig, Principal, Role};

/// Decks of the one user.
const DECKS: usize = 10;
/// Cards per deck.
const CARDS_PER_DECK: usize = 100;
/// Days the reviews are spread over, ending today.
const DAYS: i64 = 400;
/// Review rows per insert statement (15 parameters each, within SQLite's limit).
const BATCH: usize = 1_000;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("bench setup: tokio runtime")
}

/// A card in review state, last reviewed 20 days ago.
fn review_card(at: Timestamp) -> Schedule {
    Schedule {
        state: vault_core::flashcards::CardState::Review,
        step: 0,
        due: at - Duration::days(2),
        stability: Some(18.5),
        difficulty: Some(5.2),
        reps: 6,
        lapses: 1,
        last_review: Some(at - Duration::days(20)),
    }
}

fn schedule(c: &mut Criterion) {
    let scheduler = Scheduler::new(&FlashcardsConfig::default()).expect("default settings");
    let at = now();
    let card = review_card(at);
    let mut group = c.benchmark_group("flashcards_schedule");
    group.bench_function("review", |b| {
        b.iter(|| scheduler.answer(black_box(&card), black_box(Rating::Good), at, 7))
    });
    group.bench_function("preview", |b| {
        b.iter(|| scheduler.outcomes(black_box(&card), at, 7))
    });
    group.finish();
}

/// Runs `sql` on `database`, with `$1` bound to `owner` when given.
async fn exec(database: &Database, sql: &str, owner: Option<Uuid>) {
    let done = match database {
        Database::Sqlite(pool) => match owner {
            Some(owner) => sqlx::query(sql).bind(owner).execute(pool).await.map(drop),
            None => sqlx::query(sql).execute(pool).await.map(drop),
        },
        Database::Postgres(pool) => match owner {
            Some(owner) => sqlx::query(sql).bind(owner).execute(pool).await.map(drop),
            None => sqlx::query(sql).execute(pool).await.map(drop),
        },
    };
    done.unwrap_or_else(|e| panic!("bench setup: {sql}: {e}"));
}

/// A user with the decks and cards, and `reviews` review rows spread over the last [`DAYS`]
/// days with their rollups and the decks' review counters, as the review transaction leaves
/// them.
async fn seed(database: &Database, name: &str, reviews: usize, at: Timestamp) -> Principal {
    let owner = insert_user(database.auth_store().as_ref(), name).await;
    let caller = Principal {
        user_id: owner,
        role: Role::User,
    };
    let service = FlashcardService::new(
        database.flashcard_store(),
        &FlashcardsConfig::default(),
        "/api",
        None,
    )
    .expect("bench setup: default settings");
    let mut cards = Vec::new();
    for d in 0..DECKS {
        let deck = service
            .create_deck(
                &caller,
                serde_json::from_value(serde_json::json!({ "name": format!("Deck {d}") }))
                    .expect("bench setup: deck body"),
            )
            .await
            .expect("bench setup: create_deck");
        for i in 0..CARDS_PER_DECK {
            let card = service
                .create_card(
                    &caller,
                    &deck.id.to_string(),
                    serde_json::from_value(serde_json::json!({ "front": format!("q{i}") }))
                        .expect("bench setup: card body"),
                )
                .await
                .expect("bench setup: create_card");
            cards.push((card.id, deck.id));
        }
    }
    for start in (0..reviews).step_by(BATCH) {
        let rows = (start..(start + BATCH).min(reviews)).map(|i| {
            let (card, deck) = cards[i % cards.len()];
            let days_ago = i64::try_from(i % usize::try_from(DAYS).unwrap_or(1)).unwrap_or(0);
            let when = at - Duration::days(days_ago) - Duration::minutes(1);
            let rating = 1 + i64::try_from(i % 4).unwrap_or(0);
            let state = if i % 3 == 0 { "learning" } else { "review" };
            (Uuid::now_v7(), card, deck, rating, state, when)
        });
        let rows: Vec<_> = rows.collect();
        macro_rules! insert {
            ($pool:expr) => {{
                let mut insert = QueryBuilder::new(
                    "INSERT INTO reviews (id, owner_id, card_id, deck_id, rating, state_before, \
                     reviewed_at, review_day, elapsed_days, scheduled_days, duration_ms, \
                     stability_before, stability_after, difficulty_before, difficulty_after) ",
                );
                insert.push_values(&rows, |mut row, (id, card, deck, rating, state, when)| {
                    row.push_bind(*id)
                        .push_bind(owner)
                        .push_bind(*card)
                        .push_bind(*deck)
                        .push_bind(*rating)
                        .push_bind(*state)
                        .push_bind(*when)
                        .push_bind(when.date_naive())
                        .push_bind(3_i64)
                        .push_bind(5_i64)
                        .push_bind(4_000_i64)
                        .push_bind(4.0_f64)
                        .push_bind(6.0_f64)
                        .push_bind(5.0_f64)
                        .push_bind(5.1_f64);
                });
                insert
                    .build()
                    .execute($pool)
                    .await
                    .expect("bench setup: insert reviews");
            }};
        }
        match database {
            Database::Sqlite(pool) => insert!(pool),
            Database::Postgres(pool) => insert!(pool),
        }
    }
    exec(
        database,
        "INSERT INTO review_days (owner_id, deck_id, day, reviews, again, hard, good, easy, \
             recall_total, recall_kept, new_cards) \
             SELECT owner_id, deck_id, review_day, count(*), \
             SUM(CASE WHEN rating = 1 THEN 1 ELSE 0 END), SUM(CASE WHEN rating = 2 THEN 1 ELSE 0 END), \
             SUM(CASE WHEN rating = 3 THEN 1 ELSE 0 END), SUM(CASE WHEN rating = 4 THEN 1 ELSE 0 END), \
             SUM(CASE WHEN state_before = 'review' THEN 1 ELSE 0 END), \
             SUM(CASE WHEN state_before = 'review' AND rating > 1 THEN 1 ELSE 0 END), 0 \
         FROM reviews WHERE owner_id = $1 GROUP BY owner_id, deck_id, review_day",
        Some(owner),
    )
    .await;
    exec(
        database,
        "UPDATE decks SET total_reviews = (SELECT count(*) FROM reviews r \
         WHERE r.deck_id = decks.id) WHERE owner_id = $1",
        Some(owner),
    )
    .await;
    caller
}

fn stats(c: &mut Criterion, rt: &Runtime, backend: Backend) {
    let test_db = rt.block_on(TestDatabase::create(backend));
    let database = rt
        .block_on(Database::connect(&test_db.url, 4))
        .expect("bench setup: database answers");
    rt.block_on(database.migrate())
        .expect("bench setup: migrations apply");
    let at = now();
    let small = rt.block_on(seed(&database, "small", 1_000, at));
    let large = rt.block_on(seed(&database, "large", 100_000, at));
    let analyze = match backend {
        Backend::Sqlite => "ANALYZE",
        Backend::Postgres => "VACUUM ANALYZE",
    };
    rt.block_on(exec(&database, analyze, None));
    let service = Arc::new(
        FlashcardService::new(
            database.flashcard_store(),
            &FlashcardsConfig::default(),
            "/api",
            None,
        )
        .expect("bench setup: default settings")
        .with_clock(Arc::new(ManualClock::new(at))),
    );
    let mut group = c.benchmark_group(format!("flashcards_stats_{}", database.backend_name()));
    for (name, caller) in [("stats_1k", small), ("stats_100k", large)] {
        let expected = if name == "stats_1k" { 1_000 } else { 100_000 };
        let figures = rt
            .block_on(service.stats(&caller))
            .expect("bench setup: stats");
        assert_eq!(
            figures.total_reviews, expected,
            "bench setup: seeded reviews"
        );
        group.bench_function(name, |b| {
            b.to_async(rt).iter(|| service.stats(black_box(&caller)));
        });
    }
    group.finish();
    rt.block_on(database.close());
    drop(test_db);
}

/// Every benchmark of this file (what `criterion_group!` would generate, but documented):
/// stats on SQLite always, on PostgreSQL when `VAULT_BENCH_POSTGRES_URL` is set.
fn benches() {
    // Short runs (criterion's defaults are 100 samples over 5 s after 3 s of warm-up): these
    // figures settle well within that, on shared machines too. The command line overrides.
    let mut c = Criterion::default()
        .sample_size(30)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3))
        .configure_from_args();
    schedule(&mut c);
    let rt = runtime();
    stats(&mut c, &rt, Backend::Sqlite);
    match std::env::var("VAULT_BENCH_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => {
            // `TestDatabase` creates its PostgreSQL databases on the server the test suites use.
            std::env::set_var("VAULT_TEST_POSTGRES_URL", url);
            stats(&mut c, &rt, Backend::Postgres);
        }
        _ => eprintln!("flashcards_stats_postgres skipped: VAULT_BENCH_POSTGRES_URL is not set"),
    }
}

criterion_main!(benches);
