//! API.md §5: flashcards — decks, cards, reviews, previews, the study queue and stats, their
//! validation, and what other users, admins and anonymous callers get.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::testkit::{Ctx, Harness, TestUser};
use crate::time::ManualClock;

use super::{expect_401, CHALLENGE};

async fn deck(h: &Harness, user: &TestUser, name: &str) -> Value {
    h.post("/api/decks")
        .bearer(&user.access)
        .json(json!({"name": name}))
        .send()
        .await
        .expect_status(201)
        .json()
}

async fn card(h: &Harness, user: &TestUser, deck: &Value, front: &str) -> Value {
    h.post(&format!("/api/decks/{}/cards", id(deck)))
        .bearer(&user.access)
        .json(json!({"front": front, "back": "answer"}))
        .send()
        .await
        .expect_status(201)
        .json()
}

async fn review(h: &Harness, user: &TestUser, card: &Value, rating: &str) -> Value {
    h.post(&format!("/api/cards/{}/reviews", id(card)))
        .bearer(&user.access)
        .json(json!({"rating": rating, "duration_ms": 1500}))
        .send()
        .await
        .expect_status(201)
        .json()
}

async fn get(h: &Harness, user: &TestUser, path: &str) -> Value {
    h.get(path)
        .bearer(&user.access)
        .send()
        .await
        .expect_status(200)
        .json()
}

fn id(value: &Value) -> &str {
    value["id"].as_str().unwrap_or_default()
}

fn names(page: &Value, field: &str) -> Vec<String> {
    page["results"]
        .as_array()
        .or_else(|| page["cards"].as_array())
        .map(|r| {
            r.iter()
                .map(|x| x[field].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A harness whose flashcards clock the scenario moves, starting now.
async fn with_clock(
    ctx: &Ctx,
    adjust: impl FnOnce(&mut crate::Config),
) -> (Harness, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(crate::time::now()));
    let h = ctx.start_with_clock(adjust, Some(clock.clone())).await;
    (h, clock)
}

pub async fn flashcard_decks_crud_search_pages_and_cascade(ctx: Ctx) {
    let h = ctx.start().await;
    let ada = h.register("ada").await;
    let resp = h
        .post("/api/decks")
        .bearer(&ada.access)
        .json(json!({"name": " Spanish verbs ", "description": "irregular ones"}))
        .send()
        .await
        .expect_status(201);
    let spanish = resp.json();
    assert_eq!(
        resp.header("location"),
        Some(format!("/api/decks/{}", id(&spanish)).as_str())
    );
    assert_eq!(spanish["name"], "Spanish verbs");
    assert_eq!(spanish["description"], "irregular ones");
    assert_eq!(
        (
            spanish["card_count"].as_u64(),
            spanish["due_count"].as_u64()
        ),
        (Some(0), Some(0))
    );
    let mut keys: Vec<_> = spanish
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    assert_eq!(
        keys,
        [
            "card_count",
            "created_at",
            "description",
            "due_count",
            "id",
            "name",
            "updated_at"
        ]
    );
    let path = format!("/api/decks/{}", id(&spanish));
    assert_eq!(get(&h, &ada, &path).await, spanish);

    // PATCH changes only what is given.
    let patched = h
        .patch(&path)
        .bearer(&ada.access)
        .json(json!({"name": "Spanish"}))
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(
        (patched["name"].as_str(), patched["description"].as_str()),
        (Some("Spanish"), Some("irregular ones"))
    );
    h.patch(&path)
        .bearer(&ada.access)
        .json(json!({"name": null}))
        .send()
        .await
        .expect_field_error(400, "name");

    // Search and pagination, by name.
    for name in ["German", "French", "Spanish slang"] {
        deck(&h, &ada, name).await;
    }
    let page = get(&h, &ada, "/api/decks?page_size=2").await;
    assert_eq!(page["count"], 4);
    assert_eq!(names(&page, "name"), ["French", "German"]);
    assert_eq!(page["next"], "/api/decks?page=2&page_size=2");
    assert_eq!(page["previous"], Value::Null);
    let page = get(&h, &ada, "/api/decks?page=2&page_size=2").await;
    assert_eq!(names(&page, "name"), ["Spanish", "Spanish slang"]);
    assert_eq!(page["next"], Value::Null);
    h.get("/api/decks?page=3&page_size=2")
        .bearer(&ada.access)
        .send()
        .await
        .expect_problem(404, "not_found");
    let found = get(&h, &ada, "/api/decks?search=span").await;
    assert_eq!(names(&found, "name"), ["Spanish", "Spanish slang"]);
    let found = get(&h, &ada, "/api/decks?search=%25").await;
    assert_eq!(
        found["count"], 0,
        "a % in the search is a character, not a wildcard"
    );

    // Deleting a deck removes its cards and their reviews.
    let c = card(&h, &ada, &spanish, "hablar").await;
    review(&h, &ada, &c, "good").await;
    let counted = get(&h, &ada, &path).await;
    assert_eq!(counted["card_count"], 1);
    assert_eq!(get(&h, &ada, "/api/stats").await["total_reviews"], 1);
    h.delete(&path)
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(204);
    for gone in [
        path.clone(),
        format!("/api/cards/{}", id(&c)),
        format!("/api/cards/{}/reviews", id(&c)),
    ] {
        h.get(&gone)
            .bearer(&ada.access)
            .send()
            .await
            .expect_problem(404, "not_found");
    }
    h.delete(&path)
        .bearer(&ada.access)
        .send()
        .await
        .expect_problem(404, "not_found");
    let stats = get(&h, &ada, "/api/stats").await;
    assert_eq!(
        (
            stats["total_cards"].as_u64(),
            stats["total_reviews"].as_u64()
        ),
        (Some(0), Some(0))
    );
    assert_eq!(get(&h, &ada, "/api/decks").await["count"], 3);
}

pub async fn flashcard_cards_crud_filters_and_moves(ctx: Ctx) {
    let (h, clock) = with_clock(&ctx, |_| {}).await;
    let ada = h.register("ada").await;
    let eve = h.register("eve").await;
    let verbs = deck(&h, &ada, "verbs").await;
    let nouns = deck(&h, &ada, "nouns").await;
    let eves = deck(&h, &eve, "eve's").await;
    let resp = h
        .post(&format!("/api/decks/{}/cards", id(&verbs)))
        .bearer(&ada.access)
        .json(json!({"front": "to speak", "back": "hablar"}))
        .send()
        .await
        .expect_status(201);
    let speak = resp.json();
    assert_eq!(
        resp.header("location"),
        Some(format!("/api/cards/{}", id(&speak)).as_str())
    );
    assert_eq!(speak["deck_id"], verbs["id"]);
    assert_eq!(
        (
            speak["state"].as_str(),
            speak["reps"].as_u64(),
            speak["lapses"].as_u64()
        ),
        (Some("new"), Some(0), Some(0))
    );
    for null in ["stability", "difficulty", "last_review"] {
        assert_eq!(speak[null], Value::Null, "{null} of a new card");
    }
    let mut keys: Vec<_> = speak
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    assert_eq!(
        keys,
        [
            "back",
            "created_at",
            "deck_id",
            "difficulty",
            "due",
            "front",
            "id",
            "lapses",
            "last_review",
            "reps",
            "stability",
            "state",
            "updated_at"
        ]
    );
    let card_path = format!("/api/cards/{}", id(&speak));
    assert_eq!(get(&h, &ada, &card_path).await, speak);
    // A card without a back is allowed; without a front it is not.
    let eat = h
        .post(&format!("/api/decks/{}/cards", id(&verbs)))
        .bearer(&ada.access)
        .json(json!({"front": "to eat"}))
        .send()
        .await
        .expect_status(201)
        .json();
    assert_eq!(eat["back"], "");
    let sleep = card(&h, &ada, &verbs, "to sleep").await;

    // Filters: state, and due=true (cards other than new ones due now).
    let cards = format!("/api/decks/{}/cards", id(&verbs));
    assert_eq!(get(&h, &ada, &cards).await["count"], 3);
    review(&h, &ada, &speak, "again").await;
    review(&h, &ada, &eat, "again").await;
    assert_eq!(
        names(&get(&h, &ada, &format!("{cards}?state=new")).await, "front"),
        ["to sleep"]
    );
    assert_eq!(
        get(&h, &ada, &format!("{cards}?state=learning")).await["count"],
        2
    );
    assert_eq!(
        get(&h, &ada, &format!("{cards}?due=true")).await["count"],
        0,
        "learning steps not reached yet"
    );
    assert_eq!(
        get(&h, &ada, &format!("{cards}?due=false")).await["count"],
        3
    );
    clock.advance(chrono::Duration::minutes(2));
    let due = get(&h, &ada, &format!("{cards}?due=true&page_size=1")).await;
    assert_eq!(due["count"], 2);
    assert_eq!(names(&due, "front"), ["to speak"], "most overdue first");
    assert_eq!(due["next"], format!("{cards}?page=2&page_size=1&due=true"));
    for bad in ["state=lost", "due=maybe"] {
        let field = bad.split('=').next().unwrap_or_default();
        h.get(&format!("{cards}?{bad}"))
            .bearer(&ada.access)
            .send()
            .await
            .expect_field_error(400, field);
    }

    // PATCH: text, and a move to another of the owner's decks; another user's deck is 404.
    let patched = h
        .patch(&card_path)
        .bearer(&ada.access)
        .json(json!({"back": "hablar (regular)"}))
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(
        (patched["front"].as_str(), patched["back"].as_str()),
        (Some("to speak"), Some("hablar (regular)"))
    );
    assert_eq!(patched["reps"], 1, "editing keeps the schedule");
    h.patch(&card_path)
        .bearer(&ada.access)
        .json(json!({"deck_id": id(&eves)}))
        .send()
        .await
        .expect_problem(404, "not_found");
    assert_eq!(get(&h, &ada, &card_path).await["deck_id"], verbs["id"]);
    let moved = h
        .patch(&card_path)
        .bearer(&ada.access)
        .json(json!({"deck_id": id(&nouns)}))
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(moved["deck_id"], nouns["id"]);
    assert_eq!(moved["state"], "learning");
    assert_eq!(
        get(&h, &ada, &format!("/api/decks/{}", id(&verbs))).await["card_count"],
        2
    );
    assert_eq!(
        get(&h, &ada, &format!("/api/decks/{}", id(&nouns))).await["card_count"],
        1
    );
    assert_eq!(
        get(&h, &ada, &format!("/api/decks/{}", id(&nouns))).await["due_count"],
        1
    );
    assert_eq!(
        get(&h, &ada, &format!("/api/cards/{}/reviews", id(&speak))).await["count"],
        1,
        "history moves with it"
    );
    h.patch(&card_path)
        .bearer(&ada.access)
        .json(json!({"deck_id": "not-a-uuid"}))
        .send()
        .await
        .expect_field_error(400, "deck_id");
    // Eve sees nothing of it, and cannot add cards to Ada's deck.
    h.post(&format!("/api/decks/{}/cards", id(&nouns)))
        .bearer(&eve.access)
        .json(json!({"front": "planted"}))
        .send()
        .await
        .expect_problem(404, "not_found");

    h.delete(&card_path)
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(204);
    h.get(&card_path)
        .bearer(&ada.access)
        .send()
        .await
        .expect_problem(404, "not_found");
    assert_eq!(
        get(&h, &ada, &format!("/api/decks/{}", id(&nouns))).await["card_count"],
        0
    );
    h.get(&format!("/api/cards/{}", id(&sleep)))
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(200);
}

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
async fn snapshot(h: &Harness, owner: &TestUser, deck_path: &str, card_path: &str) -> Vec<Value> {
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

pub async fn flashcard_validation_and_malformed_ids(ctx: Ctx) {
    let h = ctx.start().await;
    let ada = h.register("ada").await;
    let d = deck(&h, &ada, "d").await;
    let c = card(&h, &ada, &d, "q").await;
    let cards = format!("/api/decks/{}/cards", id(&d));
    let reviews = format!("/api/cards/{}/reviews", id(&c));
    let long = "x".repeat(10_001);
    for (path, body, field) in [
        (
            "/api/decks",
            json!({"name": "d", "colour": "red"}),
            "colour",
        ),
        ("/api/decks", json!({}), "name"),
        ("/api/decks", json!({"name": "   "}), "name"),
        ("/api/decks", json!({"name": "x".repeat(201)}), "name"),
        ("/api/decks", json!({"name": "a\u{0}b"}), "name"),
        (
            "/api/decks",
            json!({"name": "d", "description": long.clone()}),
            "description",
        ),
        (cards.as_str(), json!({"front": long.clone()}), "front"),
        (
            cards.as_str(),
            json!({"front": "q", "back": long.clone()}),
            "back",
        ),
        (cards.as_str(), json!({"front": "q\u{0}"}), "front"),
        (cards.as_str(), json!({"front": "q", "tags": []}), "tags"),
        (reviews.as_str(), json!({"rating": "perfect"}), "rating"),
        (reviews.as_str(), json!({"rating": 3}), "rating"),
        (reviews.as_str(), json!({}), "rating"),
        (
            reviews.as_str(),
            json!({"rating": "good", "duration_ms": -5}),
            "duration_ms",
        ),
        (
            reviews.as_str(),
            json!({"rating": "good", "duration_ms": 86_400_001_u64}),
            "duration_ms",
        ),
        (
            reviews.as_str(),
            json!({"rating": "good", "at": "now"}),
            "at",
        ),
    ] {
        h.post(path)
            .bearer(&ada.access)
            .json(body)
            .send()
            .await
            .expect_field_error(400, field);
    }
    let card_path = format!("/api/cards/{}", id(&c));
    for (body, field) in [
        (json!({"front": long.clone()}), "front"),
        (json!({"front": null}), "front"),
        (json!({"state": "review"}), "state"),
        (json!({"reps": 9}), "reps"),
    ] {
        h.patch(&card_path)
            .bearer(&ada.access)
            .json(body)
            .send()
            .await
            .expect_field_error(400, field);
    }
    for query in ["search=a%00b", "page=0", "page_size=x"] {
        let field = query.split('=').next().unwrap_or_default();
        h.get(&format!("/api/decks?{query}"))
            .bearer(&ada.access)
            .send()
            .await
            .expect_field_error(400, field);
    }
    // The rejected writes left the card as it was, without reviews.
    assert_eq!(get(&h, &ada, &card_path).await, c);
    assert_eq!(get(&h, &ada, &reviews).await["count"], 0);

    // Malformed ids are 404 on every route, never 400 or 500.
    for bad in ["not-a-uuid", "123", "%00", "zzz"] {
        for path in [
            format!("/api/decks/{bad}"),
            format!("/api/decks/{bad}/cards"),
            format!("/api/decks/{bad}/stats"),
            format!("/api/cards/{bad}"),
            format!("/api/cards/{bad}/reviews"),
            format!("/api/cards/{bad}/preview"),
        ] {
            h.get(&path)
                .bearer(&ada.access)
                .send()
                .await
                .expect_problem(404, "not_found");
        }
        for path in [format!("/api/decks/{bad}"), format!("/api/cards/{bad}")] {
            h.delete(&path)
                .bearer(&ada.access)
                .send()
                .await
                .expect_problem(404, "not_found");
            h.patch(&path)
                .bearer(&ada.access)
                .json(json!({}))
                .send()
                .await
                .expect_problem(404, "not_found");
        }
        h.post(&format!("/api/decks/{bad}/cards"))
            .bearer(&ada.access)
            .json(json!({"front": "q"}))
            .send()
            .await
            .expect_problem(404, "not_found");
        h.post(&format!("/api/cards/{bad}/reviews"))
            .bearer(&ada.access)
            .json(json!({"rating": "good"}))
            .send()
            .await
            .expect_problem(404, "not_found");
    }
}

/// The flashcards rows of the ownership table: another user and an admin get 404 for every
/// verb on every deck, card and review route (existence is never revealed), anonymous callers
/// 401 with the challenge; the owner's objects are unchanged afterwards and still theirs to
/// use.
pub async fn flashcards_ownership_table(ctx: Ctx) {
    let h = ctx.start().await;
    let owner = h.register("owner").await;
    let other = h.register("other").await;
    let admin = h.register("admin").await;
    h.vault
        .auth()
        .set_role(
            uuid::Uuid::parse_str(&admin.id).expect("uuid"),
            crate::Role::Admin,
        )
        .await
        .expect("promote");
    let admin_token = h
        .login("admin", &admin.password)
        .await
        .expect_status(200)
        .json()["access"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let d = deck(&h, &owner, "private").await;
    let c = card(&h, &owner, &d, "secret").await;
    review(&h, &owner, &c, "good").await;
    let other_deck = deck(&h, &other, "theirs").await;
    let (deck_path, card_path) = (
        format!("/api/decks/{}", id(&d)),
        format!("/api/cards/{}", id(&c)),
    );
    let before = snapshot(&h, &owner, &deck_path, &card_path).await;
    let verbs: Vec<(http::Method, String, Option<Value>)> = vec![
        (http::Method::GET, deck_path.clone(), None),
        (
            http::Method::PATCH,
            deck_path.clone(),
            Some(json!({"name": "stolen"})),
        ),
        (http::Method::DELETE, deck_path.clone(), None),
        (http::Method::GET, format!("{deck_path}/stats"), None),
        (http::Method::GET, format!("{deck_path}/cards"), None),
        (
            http::Method::POST,
            format!("{deck_path}/cards"),
            Some(json!({"front": "planted"})),
        ),
        (http::Method::GET, card_path.clone(), None),
        (
            http::Method::PATCH,
            card_path.clone(),
            Some(json!({"front": "stolen"})),
        ),
        (http::Method::DELETE, card_path.clone(), None),
        (http::Method::GET, format!("{card_path}/reviews"), None),
        (
            http::Method::POST,
            format!("{card_path}/reviews"),
            Some(json!({"rating": "again"})),
        ),
        (http::Method::GET, format!("{card_path}/preview"), None),
        (
            http::Method::GET,
            format!("/api/study?deck={}", id(&d)),
            None,
        ),
    ];
    for (who, token) in [
        ("other user", Some(other.access.as_str())),
        ("admin", Some(admin_token.as_str())),
        ("anonymous", None),
    ] {
        for (method, path, body) in &verbs {
            let mut req = h.req(method.clone(), path);
            if let Some(t) = token {
                req = req.bearer(t);
            }
            if let Some(body) = body {
                req = req.json(body.clone());
            }
            let resp = req.send().await;
            let case = format!("{who} {method} {path}");
            if token.is_some() {
                assert_eq!(
                    resp.status.as_u16(),
                    404,
                    "{case}: {}",
                    String::from_utf8_lossy(&resp.body)
                );
                resp.expect_problem(404, "not_found");
            } else {
                expect_401(&resp, "not_authenticated", CHALLENGE, &case);
            }
        }
        // Their own lists and figures hold none of the owner's.
        if let Some(t) = token {
            let decks = h
                .get("/api/decks")
                .bearer(t)
                .send()
                .await
                .expect_status(200)
                .json();
            assert!(
                names(&decks, "name").iter().all(|n| n != "private"),
                "{who}: {decks}"
            );
            let study = h
                .get("/api/study")
                .bearer(t)
                .send()
                .await
                .expect_status(200)
                .json();
            assert!(
                names(&study, "front").iter().all(|f| f != "secret"),
                "{who}: {study}"
            );
            let stats = h
                .get("/api/stats")
                .bearer(t)
                .send()
                .await
                .expect_status(200)
                .json();
            assert_eq!(stats["total_reviews"], 0, "{who}");
        } else {
            for path in ["/api/decks", "/api/study", "/api/stats"] {
                expect_401(
                    &h.get(path).send().await,
                    "not_authenticated",
                    CHALLENGE,
                    path,
                );
            }
            expect_401(
                &h.post("/api/decks").json(json!({"name": "x"})).send().await,
                "not_authenticated",
                CHALLENGE,
                "anonymous POST /api/decks",
            );
        }
    }
    // Moving the owner's card into another user's deck is 404 too, and so is the reverse.
    h.patch(&card_path)
        .bearer(&other.access)
        .json(json!({"deck_id": id(&other_deck)}))
        .send()
        .await
        .expect_problem(404, "not_found");
    assert_eq!(
        snapshot(&h, &owner, &deck_path, &card_path).await,
        before,
        "nothing the others tried changed anything"
    );
    // The owner may do all of it.
    review(&h, &owner, &c, "good").await;
    h.patch(&card_path)
        .bearer(&owner.access)
        .json(json!({"front": "mine"}))
        .send()
        .await
        .expect_status(200);
    h.patch(&deck_path)
        .bearer(&owner.access)
        .json(json!({"name": "mine"}))
        .send()
        .await
        .expect_status(200);
    h.delete(&card_path)
        .bearer(&owner.access)
        .send()
        .await
        .expect_status(204);
    h.delete(&deck_path)
        .bearer(&owner.access)
        .send()
        .await
        .expect_status(204);
}

/// For an app that mounts only the auth and flashcards modules (API.md: a host may mount any
/// module on its own): a card is created and reviewed end to end, the other modules are not
/// there, and errors are still the contract's.
pub async fn auth_and_flashcards_mounted_alone(ctx: Ctx) {
    let h = ctx.start().await;
    let ada = h.register("ada").await;
    let d = deck(&h, &ada, "alone").await;
    let c = card(&h, &ada, &d, "question").await;
    let reviewed = review(&h, &ada, &c, "easy").await;
    assert_eq!(reviewed["card"]["state"], "review");
    assert_eq!(reviewed["review"]["state_before"], "new");
    let history = get(&h, &ada, &format!("/api/cards/{}/reviews/", id(&c))).await;
    assert_eq!(history["results"], json!([reviewed["review"]]));
    assert_eq!(get(&h, &ada, "/api/stats").await["total_reviews"], 1);
    h.get("/api/resources")
        .bearer(&ada.access)
        .send()
        .await
        .expect_problem(404, "not_found");
    h.put("/api/decks")
        .bearer(&ada.access)
        .json(json!({"name": "x"}))
        .send()
        .await
        .expect_problem(405, "method_not_allowed");
    expect_401(
        &h.get("/api/study").send().await,
        "not_authenticated",
        CHALLENGE,
        "anonymous study",
    );
}
