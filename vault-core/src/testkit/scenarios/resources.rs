//! API.md §2 and §4: resources and tags, pagination, filters, search, and the ownership table.

use serde_json::{json, Value};

use crate::testkit::{Ctx, Harness, TestUser};

async fn create(h: &Harness, user: &TestUser, body: Value) -> Value {
    h.post("/api/resources")
        .bearer(&user.access)
        .json(body)
        .send()
        .await
        .expect_status(201)
        .json()
}

fn titles(page: &Value) -> Vec<String> {
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

pub async fn malformed_ids_are_404(ctx: Ctx) {
    let h = ctx.start().await;
    let ada = h.register("ada").await;
    for path in [
        "/api/resources/not-a-uuid",
        "/api/resources/123",
        "/api/tags/%00",
        "/api/tags/zzz",
    ] {
        h.get(path)
            .bearer(&ada.access)
            .send()
            .await
            .expect_problem(404, "not_found");
        h.delete(path)
            .bearer(&ada.access)
            .send()
            .await
            .expect_problem(404, "not_found");
    }
    h.put("/api/resources/nope")
        .bearer(&ada.access)
        .json(json!({"kind": "note", "title": "t"}))
        .send()
        .await
        .expect_problem(404, "not_found");
    h.patch("/api/tags/nope")
        .bearer(&ada.access)
        .json(json!({"name": "x"}))
        .send()
        .await
        .expect_problem(404, "not_found");
}

/// One owned route family of the ownership table. Later modules add rows.
struct Owned {
    /// POST path that creates one.
    create: &'static str,
    /// A valid creation body.
    body: fn() -> Value,
    /// Item path prefix (the id is appended).
    item: &'static str,
    /// A valid PUT body, if the route takes PUT.
    put: Option<fn() -> Value>,
    /// A valid PATCH body.
    patch: fn() -> Value,
    /// List path.
    list: &'static str,
}

const OWNED: &[Owned] = &[
    Owned {
        create: "/api/resources",
        body: || json!({"kind": "note", "title": "secret", "tags": ["private"]}),
        item: "/api/resources/",
        put: Some(|| json!({"kind": "note", "title": "stolen"})),
        patch: || json!({"title": "stolen"}),
        list: "/api/resources",
    },
    Owned {
        create: "/api/tags",
        body: || json!({"name": "secret-tag"}),
        item: "/api/tags/",
        put: None,
        patch: || json!({"name": "stolen"}),
        list: "/api/tags",
    },
];

/// Owner / other user / admin / anonymous × each verb, for every private module: others get 404
/// for every verb (existence is never revealed, admins included), anonymous callers 401.
pub async fn ownership_table_private_modules(ctx: Ctx) {
    let h = ctx.start().await;
    let owner = h.register("owner").await;
    let other = h.register("other").await;
    let admin = h.register("admin").await;
    let admin_id = uuid::Uuid::parse_str(&admin.id).expect("uuid");
    h.vault
        .auth()
        .set_role(admin_id, crate::Role::Admin)
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
    for row in OWNED {
        let created = h
            .post(row.create)
            .bearer(&owner.access)
            .json((row.body)())
            .send()
            .await
            .expect_status(201)
            .json();
        let path = format!("{}{}", row.item, created["id"].as_str().unwrap_or_default());
        for (who, token) in [
            ("other user", Some(other.access.as_str())),
            ("admin", Some(admin_token.as_str())),
            ("anonymous", None),
        ] {
            let expect = |resp: crate::testkit::Resp, verb: &str| {
                let (status, code) = if token.is_some() {
                    (404, "not_found")
                } else {
                    (401, "not_authenticated")
                };
                assert_eq!(
                    resp.status.as_u16(),
                    status,
                    "{who} {verb} {path}: {}",
                    String::from_utf8_lossy(&resp.body)
                );
                resp.expect_problem(status, code);
            };
            fn with<'a>(
                req: crate::testkit::Req<'a>,
                token: Option<&str>,
            ) -> crate::testkit::Req<'a> {
                match token {
                    Some(t) => req.bearer(t),
                    None => req,
                }
            }
            expect(with(h.get(&path), token).send().await, "GET");
            if let Some(put) = row.put {
                expect(with(h.put(&path), token).json(put()).send().await, "PUT");
            }
            expect(
                with(h.patch(&path), token).json((row.patch)()).send().await,
                "PATCH",
            );
            expect(with(h.delete(&path), token).send().await, "DELETE");
            if let Some(t) = token {
                let list = h
                    .get(row.list)
                    .bearer(t)
                    .send()
                    .await
                    .expect_status(200)
                    .json();
                assert_eq!(
                    list["count"], 0,
                    "{who} lists none of the owner's {}",
                    row.list
                );
            } else {
                h.get(row.list)
                    .send()
                    .await
                    .expect_problem(401, "not_authenticated");
            }
        }
        // The owner still has it, unchanged.
        let mine = h
            .get(&path)
            .bearer(&owner.access)
            .send()
            .await
            .expect_status(200)
            .json();
        assert_eq!(mine, created, "nothing the others tried changed it");
        if let Some(put) = row.put {
            h.put(&path)
                .bearer(&owner.access)
                .json(put())
                .send()
                .await
                .expect_status(200);
        }
        h.patch(&path)
            .bearer(&owner.access)
            .json((row.patch)())
            .send()
            .await
            .expect_status(200);
        h.delete(&path)
            .bearer(&owner.access)
            .send()
            .await
            .expect_status(204);
    }
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
