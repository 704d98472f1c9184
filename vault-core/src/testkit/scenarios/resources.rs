//! API.md §4: resources and tags — create, read, PUT vs PATCH, validation, tags on the fly.

use serde_json::{json, Value};

use crate::testkit::{Ctx, Harness, TestUser};

pub(super) async fn create(h: &Harness, user: &TestUser, body: Value) -> Value {
    h.post("/api/resources")
        .bearer(&user.access)
        .json(body)
        .send()
        .await
        .expect_status(201)
        .json()
}

pub(super) fn titles(page: &Value) -> Vec<String> {
    page["results"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|x| x["title"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

pub async fn resources_crud_with_put_and_patch_semantics(ctx: Ctx) {
    let h = ctx.start().await;
    let ada = h.register("ada").await;
    let resp = h
        .post("/api/resources")
        .bearer(&ada.access)
        .json(json!({"kind": "link", "title": " Rust book ", "body": "# Read", "url": "https://doc.rust-lang.org/book/",
                     "tags": ["Rust", "books"], "favorite": true}))
        .send()
        .await
        .expect_status(201);
    let created = resp.json();
    let id = created["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(
        resp.header("location"),
        Some(format!("/api/resources/{id}").as_str())
    );
    assert_eq!(created["title"], "Rust book");
    assert_eq!(created["tags"], json!(["books", "rust"]));
    assert_eq!(created["favorite"], true);
    assert_eq!(created["file"], Value::Null);
    assert_eq!(created["created_at"], created["updated_at"]);
    let path = format!("/api/resources/{id}");
    assert_eq!(
        h.get(&path)
            .bearer(&ada.access)
            .send()
            .await
            .expect_status(200)
            .json(),
        created
    );
    // PATCH changes only what is given.
    let patched = h
        .patch(&path)
        .bearer(&ada.access)
        .json(json!({"title": "The Book"}))
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(patched["title"], "The Book");
    assert_eq!(patched["url"], created["url"]);
    assert_eq!(patched["tags"], created["tags"]);
    assert_eq!(patched["favorite"], true);
    assert_ne!(patched["updated_at"], created["updated_at"]);
    // A link cannot lose its URL.
    h.patch(&path)
        .bearer(&ada.access)
        .json(json!({"url": null}))
        .send()
        .await
        .expect_field_error(400, "url");
    // PUT replaces every writable field: omitted optional ones return to their defaults.
    let replaced = h
        .put(&path)
        .bearer(&ada.access)
        .json(json!({"kind": "note", "title": "Plain"}))
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(replaced["kind"], "note");
    assert_eq!(replaced["body"], "");
    assert_eq!(replaced["url"], Value::Null);
    assert_eq!(replaced["tags"], json!([]));
    assert_eq!(replaced["favorite"], false);
    h.put(&path)
        .bearer(&ada.access)
        .json(json!({"title": "No kind"}))
        .send()
        .await
        .expect_field_error(400, "kind");
    h.delete(&path)
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(204);
    h.get(&path)
        .bearer(&ada.access)
        .send()
        .await
        .expect_problem(404, "not_found");
    h.delete(&path)
        .bearer(&ada.access)
        .send()
        .await
        .expect_problem(404, "not_found");
}

pub async fn resource_validation(ctx: Ctx) {
    let h = ctx.start().await;
    let ada = h.register("ada").await;
    let cases = [
        (json!({"kind": "note", "title": ""}), "title"),
        (json!({"kind": "note", "title": "t".repeat(201)}), "title"),
        (
            json!({"kind": "note", "title": "t", "body": "b".repeat(100_001)}),
            "body",
        ),
        (json!({"kind": "link", "title": "t"}), "url"),
        (
            json!({"kind": "note", "title": "t", "url": "ftp://x.example"}),
            "url",
        ),
        (
            json!({"kind": "note", "title": "t", "url": "not a url"}),
            "url",
        ),
        (json!({"kind": "video", "title": "t"}), "kind"),
        (
            json!({"kind": "note", "title": "t", "tags": ["x".repeat(51)]}),
            "tags",
        ),
        (
            json!({"kind": "note", "title": "t", "tags": (0..21).map(|i| format!("t{i}")).collect::<Vec<_>>()}),
            "tags",
        ),
        (json!({"kind": "note", "title": "t", "tags": [" "]}), "tags"),
        (
            json!({"kind": "note", "title": "t", "owner_id": ada.id}),
            "owner_id",
        ),
        (
            json!({"kind": "note", "title": "t", "favorite": "yes"}),
            "favorite",
        ),
    ];
    for (body, field) in cases {
        h.post("/api/resources")
            .bearer(&ada.access)
            .json(body)
            .send()
            .await
            .expect_field_error(400, field);
    }
    h.post("/api/resources")
        .bearer(&ada.access)
        .raw("text/plain", "x")
        .send()
        .await
        .expect_problem(415, "unsupported_media_type");
    // Nothing was written by the refused requests, not even tags.
    let list = h
        .get("/api/resources")
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(list["count"], 0);
    assert_eq!(
        h.get("/api/tags")
            .bearer(&ada.access)
            .send()
            .await
            .expect_status(200)
            .json()["count"],
        0
    );
    // 100 000 characters and 20 tags are fine.
    create(
        &h,
        &ada,
        json!({"kind": "note", "title": "t", "body": "é".repeat(100_000),
        "tags": (0..20).map(|i| format!("t{i}")).collect::<Vec<_>>()}),
    )
    .await;
}

pub async fn tags_are_created_on_the_fly_and_counted(ctx: Ctx) {
    let h = ctx.start().await;
    let ada = h.register("ada").await;
    let bob = h.register("bob").await;
    let one = create(
        &h,
        &ada,
        json!({"kind": "note", "title": "one", "tags": [" Rust ", "rust", "DB"]}),
    )
    .await;
    assert_eq!(one["tags"], json!(["db", "rust"]));
    create(
        &h,
        &ada,
        json!({"kind": "note", "title": "two", "tags": ["rust"]}),
    )
    .await;
    create(
        &h,
        &bob,
        json!({"kind": "note", "title": "bob's", "tags": ["rust"]}),
    )
    .await;
    let tags = h
        .get("/api/tags")
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(tags["count"], 2, "tags are per user: {tags}");
    let counts: Vec<(String, i64)> = tags["results"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|t| {
                    (
                        t["name"].as_str().unwrap_or_default().to_string(),
                        t["resource_count"].as_i64().unwrap_or(-1),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(counts, vec![("db".to_string(), 1), ("rust".to_string(), 2)]);
    let found = h
        .get("/api/tags?search=RU")
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(found["count"], 1);
    let none = h
        .get("/api/tags?search=%25")
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(none["count"], 0, "LIKE wildcards in the search are literal");
}

pub async fn tag_crud_rename_clash_and_detach(ctx: Ctx) {
    let h = ctx.start().await;
    let ada = h.register("ada").await;
    let resp = h
        .post("/api/tags")
        .bearer(&ada.access)
        .json(json!({"name": " Papers "}))
        .send()
        .await
        .expect_status(201);
    let tag = resp.json();
    let tag_path = format!("/api/tags/{}", tag["id"].as_str().unwrap_or_default());
    assert_eq!(resp.header("location"), Some(tag_path.as_str()));
    assert_eq!(tag["name"], "papers");
    assert_eq!(tag["resource_count"], 0);
    h.post("/api/tags")
        .bearer(&ada.access)
        .json(json!({"name": "PAPERS"}))
        .send()
        .await
        .expect_field_error(409, "name");
    h.post("/api/tags")
        .bearer(&ada.access)
        .json(json!({"name": ""}))
        .send()
        .await
        .expect_field_error(400, "name");
    let note = create(
        &h,
        &ada,
        json!({"kind": "note", "title": "n", "tags": ["papers", "ml"]}),
    )
    .await;
    let note_path = format!("/api/resources/{}", note["id"].as_str().unwrap_or_default());
    h.patch(&tag_path)
        .bearer(&ada.access)
        .json(json!({"name": "ml"}))
        .send()
        .await
        .expect_field_error(409, "name");
    let renamed = h
        .patch(&tag_path)
        .bearer(&ada.access)
        .json(json!({"name": "research"}))
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(renamed["name"], "research");
    assert_eq!(renamed["resource_count"], 1);
    let after = h
        .get(&note_path)
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(after["tags"], json!(["ml", "research"]));
    let found = h
        .get("/api/resources?search=research")
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(found["count"], 1, "renamed tags are searchable");
    h.delete(&tag_path)
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(204);
    let after = h
        .get(&note_path)
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(after["tags"], json!(["ml"]), "delete detaches");
    h.get(&tag_path)
        .bearer(&ada.access)
        .send()
        .await
        .expect_problem(404, "not_found");
}
