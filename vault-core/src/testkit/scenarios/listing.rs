//! API.md §2 and §4: listing resources — filters, ordering, pagination and its links, ranked
//! search, and remembered pages that must answer what a fresh read would.

use serde_json::{json, Value};

use super::resources::{create, titles};
use crate::testkit::{Ctx, TestUser};

pub async fn list_filters_and_ordering(ctx: Ctx) {
    let h = ctx.start().await;
    let ada = h.register("ada").await;
    create(
        &h,
        &ada,
        json!({"kind": "note", "title": "banana", "tags": ["a", "b"], "favorite": true}),
    )
    .await;
    create(
        &h,
        &ada,
        json!({"kind": "link", "title": "apple", "url": "https://apple.example", "tags": ["a"]}),
    )
    .await;
    create(
        &h,
        &ada,
        json!({"kind": "reference", "title": "cherry", "tags": ["b"]}),
    )
    .await;
    let get = |q: &'static str| {
        let h = &h;
        let token = ada.access.clone();
        async move {
            h.get(&format!("/api/resources{q}"))
                .bearer(&token)
                .send()
                .await
                .expect_status(200)
                .json()
        }
    };
    assert_eq!(
        titles(&get("").await),
        ["cherry", "apple", "banana"],
        "newest first by default"
    );
    assert_eq!(
        titles(&get("?ordering=title").await),
        ["apple", "banana", "cherry"]
    );
    assert_eq!(
        titles(&get("?ordering=-title").await),
        ["cherry", "banana", "apple"]
    );
    assert_eq!(
        titles(&get("?ordering=created_at").await),
        ["banana", "apple", "cherry"]
    );
    assert_eq!(titles(&get("?kind=link").await), ["apple"]);
    assert_eq!(titles(&get("?favorite=true").await), ["banana"]);
    assert_eq!(
        titles(&get("?favorite=false&ordering=title").await),
        ["apple", "cherry"]
    );
    assert_eq!(
        titles(&get("?tag=a&ordering=title").await),
        ["apple", "banana"]
    );
    assert_eq!(
        titles(&get("?tag=a&tag=B").await),
        ["banana"],
        "every tag must match"
    );
    assert_eq!(get("?tag=nope").await["count"], 0);
    for (query, field) in [
        ("?kind=video", "kind"),
        ("?ordering=bogus", "ordering"),
        ("?favorite=maybe", "favorite"),
        ("?page=abc", "page"),
        ("?page=0", "page"),
        ("?page_size=-5", "page_size"),
    ] {
        h.get(&format!("/api/resources{query}"))
            .bearer(&ada.access)
            .send()
            .await
            .expect_field_error(400, field);
    }
}

pub async fn pagination_links_and_invalid_page(ctx: Ctx) {
    let h = ctx.start().await;
    let ada = h.register("ada").await;
    let empty = h
        .get("/api/resources")
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(
        empty,
        json!({"count": 0, "next": null, "previous": null, "results": []})
    );
    h.get("/api/resources?page=2")
        .bearer(&ada.access)
        .send()
        .await
        .expect_problem(404, "not_found");
    for i in 0..25 {
        create(
            &h,
            &ada,
            json!({"kind": "note", "title": format!("n{i:02}")}),
        )
        .await;
    }
    let first = h
        .get("/api/resources?kind=note&page_size=10&ordering=title")
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(first["count"], 25);
    assert_eq!(first["results"].as_array().map(Vec::len), Some(10));
    assert_eq!(first["previous"], Value::Null);
    assert_eq!(
        first["next"],
        "/api/resources?page=2&page_size=10&kind=note&ordering=title"
    );
    let third = h
        .get("/api/resources?kind=note&page_size=10&ordering=title&page=3")
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(titles(&third), ["n20", "n21", "n22", "n23", "n24"]);
    assert_eq!(third["next"], Value::Null);
    assert_eq!(
        third["previous"],
        "/api/resources?page=2&page_size=10&kind=note&ordering=title"
    );
    let body = h
        .get("/api/resources?page=4&page_size=10")
        .bearer(&ada.access)
        .send()
        .await
        .expect_problem(404, "not_found");
    assert_eq!(body["detail"], "Invalid page.");
    let clamped = h
        .get("/api/resources?page_size=1000")
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(clamped["results"].as_array().map(Vec::len), Some(25));
    assert!(clamped["next"].is_null());
    let default = h
        .get("/api/resources")
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(default["results"].as_array().map(Vec::len), Some(20));
    assert_eq!(default["next"], "/api/resources?page=2&page_size=20");
}

pub async fn search_is_ranked_and_safe(ctx: Ctx) {
    let h = ctx.start().await;
    let ada = h.register("ada").await;
    let bob = h.register("bob").await;
    create(
        &h,
        &ada,
        json!({"kind": "note", "title": "About marmots", "body": "A quokka appears once."}),
    )
    .await;
    create(
        &h,
        &ada,
        json!({"kind": "note", "title": "Quokka field notes", "body": "Nothing else."}),
    )
    .await;
    create(
        &h,
        &ada,
        json!({"kind": "note", "title": "Unrelated", "tags": ["quokka"]}),
    )
    .await;
    create(
        &h,
        &ada,
        json!({"kind": "link", "title": "Site", "url": "https://wombat.example/path"}),
    )
    .await;
    create(&h, &bob, json!({"kind": "note", "title": "Quokka by bob"})).await;
    let found = h
        .get("/api/resources?search=quokka")
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(
        found["count"], 3,
        "title, body and tag matches, only the caller's: {found}"
    );
    assert_eq!(
        titles(&found)[0],
        "Quokka field notes",
        "title matches rank first"
    );
    let by_url = h
        .get("/api/resources?search=wombat")
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(titles(&by_url), ["Site"]);
    let both = h
        .get("/api/resources?search=quokka%20notes")
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(
        titles(&both),
        ["Quokka field notes"],
        "all words must match"
    );
    let ordered = h
        .get("/api/resources?search=quokka&ordering=title")
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(
        titles(&ordered),
        ["About marmots", "Quokka field notes", "Unrelated"]
    );
    for hostile in [
        "%22",
        "*",
        "OR",
        "NEAR(a%20b)",
        "a%22%20OR%20%22b",
        "-",
        "%27%3B%20DROP%20TABLE%20resources%3B",
        "%5C",
    ] {
        h.get(&format!("/api/resources?search={hostile}"))
            .bearer(&ada.access)
            .send()
            .await
            .expect_status(200);
    }
    h.get(&format!("/api/resources?search={}", "q".repeat(201)))
        .bearer(&ada.access)
        .send()
        .await
        .expect_field_error(400, "search");
}

pub async fn page_links_are_absolute_with_a_public_base_url(ctx: Ctx) {
    let h = ctx
        .start_with(|c| c.http.public_base_url = Some("https://vault.example.com".into()))
        .await;
    let ada = h.register("ada").await;
    for i in 0..3 {
        create(
            &h,
            &ada,
            json!({"kind": "note", "title": format!("n{i}"), "tags": [format!("t{i}")]}),
        )
        .await;
    }
    let page = h
        .get("/api/resources?page_size=2&favorite=false")
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(
        page["next"],
        "https://vault.example.com/api/resources?page=2&page_size=2&favorite=false"
    );
    let tags = h
        .get("/api/tags?page=2&page_size=2")
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(
        tags["previous"],
        "https://vault.example.com/api/tags?page=1&page_size=2"
    );
    assert_eq!(tags["next"], Value::Null);
}

/// `GET /resources` answers remembered pages (rows and serialized results kept): every answer,
/// asked once or again, before and after writes, is what serializing a fresh listing gives.
pub async fn remembered_pages_answer_what_a_fresh_read_would(ctx: Ctx) {
    let h = ctx.start().await;
    let ada = h.register("ada").await;
    let bob = h.register("bob").await;
    let mut newest = Value::Null;
    for i in 0..45 {
        newest = create(
            &h,
            &ada,
            json!({"kind": if i % 3 == 0 { "link" } else { "note" }, "title": format!("Ünïcode \"{i}\""),
                   "url": "https://example.com/a?b=c", "tags": [format!("t{}", i % 4)]}),
        )
        .await;
    }
    create(&h, &bob, json!({"kind": "note", "title": "bob's"})).await;
    let principal = |user: &TestUser| crate::Principal {
        user_id: user.id.parse().expect("user id"),
        role: crate::principal::Role::User,
    };
    let queries = [
        "",
        "page=2",
        "page=3",
        "page_size=7&page=2&ordering=title",
        "page_size=10&page=5&ordering=-updated_at",
    ];
    let check = |round: &'static str| {
        let h = &h;
        let ada = ada.clone();
        let bob = bob.clone();
        async move {
            for user in [&ada, &bob] {
                for query in queries {
                    if user.username == "bob" && !query.is_empty() {
                        continue;
                    }
                    let fresh = h
                        .vault
                        .resources()
                        .list(&principal(user), &crate::page::Query::parse(Some(query)))
                        .await
                        .expect("list");
                    let fresh = serde_json::to_value(&fresh).expect("json");
                    for ask in 0..2 {
                        let answered = h
                            .get(&format!("/api/resources?{query}"))
                            .bearer(&user.access)
                            .send()
                            .await
                            .expect_status(200)
                            .json();
                        assert_eq!(
                            answered,
                            fresh,
                            "{round}: {} ?{query}, asked {} times",
                            user.username,
                            ask + 1
                        );
                    }
                }
            }
        }
    };
    check("before writes").await;
    let id = newest["id"].as_str().unwrap_or_default().to_string();
    h.patch(&format!("/api/resources/{id}"))
        .bearer(&ada.access)
        .json(json!({"title": "renamed"}))
        .send()
        .await
        .expect_status(200);
    check("after a rename").await;
    let first = h
        .get("/api/resources")
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(titles(&first).first().map(String::as_str), Some("renamed"));
    create(&h, &ada, json!({"kind": "note", "title": "latest"})).await;
    check("after a create").await;
}
