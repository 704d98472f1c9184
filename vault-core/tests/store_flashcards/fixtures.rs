//! Fixtures of the store suite: owners, times, decks, cards, a service, raw SQL.

use super::*;

/// Creates user `name`; returns the id.
pub(crate) async fn user(ctx: &Ctx, name: &str) -> Uuid {
    insert_user(ctx.auth.as_ref(), name).await
}

/// A fixed instant (a Sunday noon, UTC), plus `seconds`.
pub(crate) fn at(seconds: i64) -> Timestamp {
    chrono::DateTime::from_timestamp(1_795_348_800, 0).expect("valid timestamp")
        + Duration::seconds(seconds)
}

pub(crate) const DAY: i64 = 86_400;

pub(crate) fn fields(name: &str) -> DeckFields {
    DeckFields {
        name: name.to_string(),
        description: String::new(),
    }
}

pub(crate) async fn deck(ctx: &Ctx, owner: Uuid, name: &str) -> Uuid {
    ctx.store
        .create_deck(owner, Uuid::now_v7(), &fields(name), at(0))
        .await
        .expect("create_deck")
        .id
}

pub(crate) async fn card(
    ctx: &Ctx,
    owner: Uuid,
    deck: Uuid,
    front: &str,
    seconds: i64,
) -> CardRecord {
    ctx.store
        .create_card(owner, deck, Uuid::now_v7(), front, "back", at(seconds))
        .await
        .expect("create_card")
        .expect("the deck is the owner's")
}

pub(crate) fn page(page: u64, page_size: u64) -> PageRequest {
    PageRequest { page, page_size }
}

pub(crate) fn principal(user_id: Uuid) -> Principal {
    Principal {
        user_id,
        role: Role::User,
    }
}

/// The service over this scenario's store, reading time from `clock`.
pub(crate) fn service(ctx: &Ctx, clock: Arc<ManualClock>) -> FlashcardService {
    FlashcardService::new(
        ctx.store.clone(),
        &FlashcardsConfig::default(),
        "/api",
        None,
    )
    .expect("default settings are valid")
    .with_clock(clock)
}

pub(crate) fn rating(rating: Rating) -> ReviewInput {
    serde_json::from_value(serde_json::json!({ "rating": rating.as_str() })).expect("valid body")
}

/// Reviews card `id` through the service.
pub(crate) async fn review(service: &FlashcardService, owner: Uuid, id: Uuid, r: Rating) {
    service
        .review(&principal(owner), &id.to_string(), rating(r))
        .await
        .expect("review");
}

/// `SELECT count(*) …` with `$1` bound to `id`.
pub(crate) async fn count_where(db: &Database, sql: &str, id: Uuid) -> i64 {
    let result = match db {
        Database::Sqlite(pool) => sqlx::query_scalar(sql).bind(id).fetch_one(pool).await,
        Database::Postgres(pool) => sqlx::query_scalar(sql).bind(id).fetch_one(pool).await,
    };
    result.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Runs `sql` with `$1` bound to `id`.
pub(crate) async fn exec(db: &Database, sql: &str, id: Uuid) -> Result<u64, sqlx::Error> {
    match db {
        Database::Sqlite(pool) => sqlx::query(sql)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
        Database::Postgres(pool) => sqlx::query(sql)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
    }
}

/// Deck `id`'s counters as stored: card_count, new, learning, review, relearning, reviews.
pub(crate) async fn stored_counters(db: &Database, id: Uuid) -> [i64; 6] {
    let mut out = [0; 6];
    for (i, column) in [
        "card_count",
        "new_count",
        "learning_count",
        "review_count",
        "relearning_count",
        "total_reviews",
    ]
    .into_iter()
    .enumerate()
    {
        out[i] = count_where(db, &format!("SELECT {column} FROM decks WHERE id = $1"), id).await;
    }
    out
}

/// The same figures counted from the rows (reviews from the daily rollups, which keep the
/// answers to cards deleted since, as the deck's counter does).
pub(crate) async fn real_counts(db: &Database, id: Uuid) -> [i64; 6] {
    let state =
        |s: &str| format!("SELECT count(*) FROM cards WHERE deck_id = $1 AND state = '{s}'");
    [
        count_where(db, "SELECT count(*) FROM cards WHERE deck_id = $1", id).await,
        count_where(db, &state("new"), id).await,
        count_where(db, &state("learning"), id).await,
        count_where(db, &state("review"), id).await,
        count_where(db, &state("relearning"), id).await,
        count_where(
            db,
            "SELECT CAST(COALESCE(SUM(reviews), 0) AS BIGINT) FROM review_days WHERE deck_id = $1",
            id,
        )
        .await,
    ]
}

pub(crate) async fn assert_counters_true(db: &Database, decks: &[Uuid]) {
    for deck in decks {
        assert_eq!(
            stored_counters(db, *deck).await,
            real_counts(db, *deck).await,
            "counters of deck {deck}"
        );
    }
}
