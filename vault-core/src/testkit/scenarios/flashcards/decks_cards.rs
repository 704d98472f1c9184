//! Decks (CRUD, search, pages, cascade) and cards (CRUD, filters, moves between decks).

use serde_json::{json, Value};

use super::*;
use crate::testkit::Ctx;

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
