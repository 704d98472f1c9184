//! Validation and malformed ids, the ownership table, and auth + flashcards mounted alone.

use serde_json::{json, Value};

use super::reviews::snapshot;
use super::*;
use crate::testkit::Ctx;

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
