//! API.md §5: flashcards — decks, cards, reviews, previews, the study queue and stats, their
//! validation, and what other users, admins and anonymous callers get.

use std::sync::Arc;

use serde_json::{json, Value};

use crate::testkit::{Ctx, Harness, TestUser};
use crate::time::ManualClock;

pub(super) use super::{expect_401, CHALLENGE};

pub(super) async fn deck(h: &Harness, user: &TestUser, name: &str) -> Value {
    h.post("/api/decks")
        .bearer(&user.access)
        .json(json!({"name": name}))
        .send()
        .await
        .expect_status(201)
        .json()
}

pub(super) async fn card(h: &Harness, user: &TestUser, deck: &Value, front: &str) -> Value {
    h.post(&format!("/api/decks/{}/cards", id(deck)))
        .bearer(&user.access)
        .json(json!({"front": front, "back": "answer"}))
        .send()
        .await
        .expect_status(201)
        .json()
}

pub(super) async fn review(h: &Harness, user: &TestUser, card: &Value, rating: &str) -> Value {
    h.post(&format!("/api/cards/{}/reviews", id(card)))
        .bearer(&user.access)
        .json(json!({"rating": rating, "duration_ms": 1500}))
        .send()
        .await
        .expect_status(201)
        .json()
}

pub(super) async fn get(h: &Harness, user: &TestUser, path: &str) -> Value {
    h.get(path)
        .bearer(&user.access)
        .send()
        .await
        .expect_status(200)
        .json()
}

pub(super) fn id(value: &Value) -> &str {
    value["id"].as_str().unwrap_or_default()
}

pub(super) fn names(page: &Value, field: &str) -> Vec<String> {
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
pub(super) async fn with_clock(
    ctx: &Ctx,
    adjust: impl FnOnce(&mut crate::Config),
) -> (Harness, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(crate::time::now()));
    let h = ctx.start_with_clock(adjust, Some(clock.clone())).await;
    (h, clock)
}

mod access;
mod decks_cards;
mod reviews;

pub use access::*;
pub use decks_cards::*;
pub use reviews::*;
