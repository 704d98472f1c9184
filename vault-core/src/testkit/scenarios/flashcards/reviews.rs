//! Reviews, history and preview, the study queue and stats.

use serde_json::{json, Value};

use super::*;
use crate::testkit::{Ctx, Harness, TestUser};
use crate::time::ManualClock;

pub async fn flashcard_reviews_history_and_preview(ctx: Ctx) {
    let (h, clock) = with_clock(&ctx, |_| {}).await;
    let ada = h.register("ada").await;
    let d = deck(&h, &ada, "capitals").await;
    let c = card(&h, &ada, &d, "France").await;
    let preview_path = format!("/api/cards/{}/preview", id(&c));

    // Preview: four answers, intervals never decreasing, and nothing written.
    let preview = get(&h, &ada, &preview_path).await;
    check_preview(&preview);
    assert_eq!(
        get(&h, &ada, &preview_path).await,
        preview,
        "a preview changes nothing"
    );
    assert_eq!(get(&h, &ada, &format!("/api/cards/{}", id(&c))).await, c);

    // A new card answered "good" goes to the next learning step (10 minutes by default).
    let resp = h
        .post(&format!("/api/cards/{}/reviews", id(&c)))
        .bearer(&ada.access)
        .json(json!({"rating": "good", "duration_ms": 2300}))
        .send()
        .await
        .expect_status(201);
    assert_eq!(
        resp.header("location"),
        None,
        "a review has no URL of its own"
    );
    let created = resp.json();
    let mut keys: Vec<_> = created
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    assert_eq!(keys, ["card", "review"]);
    let (rv, card_after) = (&created["review"], &created["card"]);
    let mut review_keys: Vec<_> = rv
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    review_keys.sort();
    assert_eq!(
        review_keys,
        [
            "card_id",
            "duration_ms",
            "elapsed_days",
            "id",
            "rating",
            "reviewed_at",
            "scheduled_days",
            "state_before"
        ]
    );
    assert_eq!(
        (rv["rating"].as_str(), rv["state_before"].as_str()),
        (Some("good"), Some("new"))
    );
    assert_eq!(
        (rv["card_id"].as_str(), rv["duration_ms"].as_u64()),
        (Some(id(&c)), Some(2300))
    );
    assert_eq!(card_after["state"], "learning");
    assert_eq!(card_after["reps"], 1);
    assert_eq!(card_after["last_review"], rv["reviewed_at"]);
    assert!(card_after["stability"].as_f64().is_some_and(|s| s > 0.0));
    let due = chrono::DateTime::parse_from_rfc3339(card_after["due"].as_str().unwrap_or_default())
        .expect("due");
    let at = chrono::DateTime::parse_from_rfc3339(rv["reviewed_at"].as_str().unwrap_or_default())
        .expect("reviewed_at");
    assert_eq!(
        (due - at).num_minutes(),
        10,
        "good on a new card: the second learning step"
    );
    assert_eq!(
        preview["good"]["due"], card_after["due"],
        "the preview said so"
    );
    assert_eq!(
        get(&h, &ada, &format!("/api/cards/{}", id(&c))).await,
        *card_after
    );

    // More answers, later; history is newest first and paginated.
    clock.advance(chrono::Duration::minutes(11));
    check_preview(&get(&h, &ada, &preview_path).await);
    let graduated = review(&h, &ada, &c, "good").await;
    assert_eq!(graduated["card"]["state"], "review");
    clock.advance(chrono::Duration::days(3));
    check_preview(&get(&h, &ada, &preview_path).await);
    let lapsed = review(&h, &ada, &c, "again").await;
    assert_eq!(lapsed["card"]["state"], "relearning");
    assert_eq!(lapsed["card"]["lapses"], 1);
    assert_eq!(lapsed["review"]["state_before"], "review");
    let history_path = format!("/api/cards/{}/reviews", id(&c));
    let page = get(&h, &ada, &format!("{history_path}?page_size=2")).await;
    assert_eq!(page["count"], 3);
    assert_eq!(names(&page, "rating"), ["again", "good"]);
    assert_eq!(page["results"][0], lapsed["review"]);
    assert_eq!(page["next"], format!("{history_path}?page=2&page_size=2"));
    let last = get(&h, &ada, &format!("{history_path}?page=2&page_size=2")).await;
    assert_eq!(last["results"], json!([rv]));
    h.get(&format!("{history_path}?page=3&page_size=2"))
        .bearer(&ada.access)
        .send()
        .await
        .expect_problem(404, "not_found");
    // duration_ms is optional.
    let bare = h
        .post(&history_path)
        .bearer(&ada.access)
        .json(json!({"rating": "easy"}))
        .send()
        .await
        .expect_status(201)
        .json();
    assert_eq!(bare["review"]["duration_ms"], Value::Null);
}

/// Four answers whose intervals never decrease from again to easy.
#[track_caller]
fn check_preview(preview: &Value) {
    let keys: Vec<_> = preview
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    assert_eq!(keys.len(), 4, "{preview}");
    let mut previous = f64::MIN;
    for rating in ["again", "hard", "good", "easy"] {
        let entry = &preview[rating];
        assert!(entry["due"].is_string(), "{rating}: {preview}");
        let days = entry["interval_days"].as_f64().unwrap_or(-1.0);
        assert!(
            days >= previous && days >= 0.0,
            "{rating} after {previous}: {preview}"
        );
        previous = days;
    }
}

pub async fn flashcard_study_queue_and_stats(ctx: Ctx) {
    let (h, clock) = with_clock(&ctx, |c| c.flashcards.new_cards_per_day = 3).await;
    let ada = h.register("ada").await;
    let first = deck(&h, &ada, "first").await;
    let second = deck(&h, &ada, "second").await;
    let mut cards = Vec::new();
    for front in ["a", "b", "c", "d", "e"] {
        cards.push(card(&h, &ada, &first, front).await);
    }
    let other = card(&h, &ada, &second, "z").await;

    let queue = get(&h, &ada, "/api/study").await;
    assert_eq!(
        (queue["due_count"].as_u64(), queue["new_count"].as_u64()),
        (Some(0), Some(3))
    );
    assert_eq!(
        queue["cards"].as_array().map(Vec::len),
        Some(3),
        "the daily new-card limit"
    );
    assert!(queue["cards"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|c| c["state"] == "new"));

    // Two new cards started today: A first (again, +1 min), then B a minute later.
    review(&h, &ada, &cards[0], "again").await;
    clock.advance(chrono::Duration::minutes(1));
    review(&h, &ada, &cards[1], "again").await;
    clock.advance(chrono::Duration::minutes(10));
    let queue = get(&h, &ada, "/api/study").await;
    assert_eq!(
        (queue["due_count"].as_u64(), queue["new_count"].as_u64()),
        (Some(2), Some(1))
    );
    let fronts = names(&queue, "front");
    assert_eq!(fronts.len(), 3, "{queue}");
    assert_eq!(
        fronts[..2],
        ["a", "b"],
        "due cards first, most overdue first"
    );
    assert_eq!(queue["cards"][2]["state"], "new");
    let limited = get(&h, &ada, "/api/study?limit=1").await;
    assert_eq!(names(&limited, "front"), ["a"]);
    assert_eq!(limited["due_count"], 2, "counts are not limited");
    let clamped = get(&h, &ada, "/api/study?limit=100000").await;
    assert_eq!(clamped["cards"].as_array().map(Vec::len), Some(3));
    let scoped = get(&h, &ada, &format!("/api/study?deck={}", id(&second))).await;
    assert_eq!(names(&scoped, "front"), ["z"]);
    assert_eq!(
        (scoped["due_count"].as_u64(), scoped["new_count"].as_u64()),
        (Some(0), Some(1))
    );
    for bad in ["limit=0", "limit=-1", "limit=ten", "deck=nope"] {
        let field = bad.split('=').next().unwrap_or_default();
        h.get(&format!("/api/study?{bad}"))
            .bearer(&ada.access)
            .send()
            .await
            .expect_field_error(400, field);
    }
    h.get(&format!("/api/study?deck={}", uuid::Uuid::now_v7()))
        .bearer(&ada.access)
        .send()
        .await
        .expect_problem(404, "not_found");

    // Stats: per user and per deck, 30 zero-filled days, oldest first.
    review(&h, &ada, &other, "easy").await;
    let stats = get(&h, &ada, "/api/stats").await;
    let mut keys: Vec<_> = stats
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    assert_eq!(
        keys,
        [
            "by_day",
            "cards_by_state",
            "due_today",
            "retention_30d",
            "reviews_today",
            "streak_days",
            "total_cards",
            "total_reviews"
        ]
    );
    assert_eq!(
        (
            stats["total_cards"].as_u64(),
            stats["total_reviews"].as_u64()
        ),
        (Some(6), Some(3))
    );
    assert_eq!(stats["reviews_today"], 3);
    assert_eq!(stats["streak_days"], 1);
    assert_eq!(
        stats["cards_by_state"],
        json!({"new": 3, "learning": 2, "review": 1, "relearning": 0})
    );
    assert_eq!(
        stats["retention_30d"],
        Value::Null,
        "no review-state answers yet"
    );
    let days = stats["by_day"].as_array().cloned().unwrap_or_default();
    assert_eq!(days.len(), 30);
    let today = clock_today(&clock);
    assert_eq!(
        days[29]["date"],
        today.to_string(),
        "oldest first, today last"
    );
    assert_eq!(
        days[0]["date"],
        (today - chrono::Duration::days(29)).to_string()
    );
    assert_eq!(
        days[29],
        json!({"date": today.to_string(), "reviews": 3, "again": 2, "hard": 0, "good": 0, "easy": 1})
    );
    assert!(days[..29].iter().all(|d| d["reviews"] == 0), "zero-filled");
    let per_deck = get(&h, &ada, &format!("/api/decks/{}/stats", id(&first))).await;
    assert_eq!(
        (
            per_deck["total_cards"].as_u64(),
            per_deck["total_reviews"].as_u64()
        ),
        (Some(5), Some(2))
    );
    assert_eq!(per_deck["by_day"][29]["again"], 2);
    assert_eq!(per_deck["by_day"].as_array().map(Vec::len), Some(30));
    h.get(&format!("/api/decks/{}/stats", uuid::Uuid::now_v7()))
        .bearer(&ada.access)
        .send()
        .await
        .expect_problem(404, "not_found");
    // A fresh user's stats are all zeros, still 30 days.
    let bob = h.register("bob").await;
    let empty = get(&h, &bob, "/api/stats").await;
    assert_eq!(
        (empty["total_cards"].as_u64(), empty["streak_days"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(empty["by_day"].as_array().map(Vec::len), Some(30));
    assert_eq!(
        get(&h, &bob, "/api/study").await,
        json!({"cards": [], "due_count": 0, "new_count": 0})
    );
}

/// What the owner sees of a deck, a card, its history and the deck's figures.
pub(super) async fn snapshot(
    h: &Harness,
    owner: &TestUser,
    deck_path: &str,
    card_path: &str,
) -> Vec<Value> {
    let mut seen = Vec::new();
    for path in [
        deck_path.to_string(),
        card_path.to_string(),
        format!("{card_path}/reviews"),
        format!("{deck_path}/stats"),
    ] {
        seen.push(get(h, owner, &path).await);
    }
    seen
}

fn clock_today(clock: &ManualClock) -> chrono::NaiveDate {
    crate::time::Clock::now(clock).date_naive()
}
