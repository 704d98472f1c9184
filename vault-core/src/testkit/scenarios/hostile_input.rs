//! Hostile input (API.md §1, §2, §3, §4): page numbers no listing reaches, NUL and control
//! characters in every kind of text input, inputs over their length limits. Each must be a clear
//! 4xx, the same on both databases — never a 500, and never stored on one database but refused by
//! the other.

use serde_json::{json, Value};

use crate::testkit::{Ctx, Harness, Resp, TestUser};

const NUL: &str = "Null characters are not allowed.";

/// `u64::MAX`, one past it, `i64::MAX`, and pages whose offset only just overflows a signed
/// 64-bit integer at each page size.
const HUGE_PAGES: &[&str] = &[
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999999999999999999999",
    "9223372036854775807",
    "100000000000000000",
    "92233720368547759",
];

pub(super) async fn create(h: &Harness, user: &TestUser, body: Value) -> Value {
    h.post("/api/resources")
        .bearer(&user.access)
        .json(body)
        .send()
        .await
        .expect_status(201)
        .json()
}

/// Asserts a 400 `validation_error` whose `errors` has exactly one message for `field`,
/// `message` when given.
#[track_caller]
fn expect_one_error(resp: &Resp, field: &str, message: Option<&str>, case: &str) {
    let body = resp.expect_field_error(400, field);
    let messages = body["errors"][field]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(messages.len(), 1, "{case}: {body}");
    if let Some(message) = message {
        assert_eq!(messages[0], message, "{case}: {body}");
    }
}

pub async fn page_numbers_past_any_listing_are_invalid_pages(ctx: Ctx) {
    let h = ctx.start().await;
    let ada = h.register("ada").await;
    let empty = h.register("empty").await;
    for i in 0..3 {
        create(
            &h,
            &ada,
            json!({"kind": "note", "title": format!("rust {i}"), "tags": ["rust"], "favorite": i == 1}),
        )
        .await;
    }
    let filters = [
        "",
        "&kind=note",
        "&search=rust",
        "&search=rust&ordering=title",
        "&tag=rust",
        "&favorite=false",
        "&ordering=title",
        "&ordering=-updated_at",
        "&page_size=100",
        "&page_size=1",
        "&page_size=18446744073709551615",
    ];
    for user in [&ada, &empty] {
        for page in HUGE_PAGES {
            for filter in filters {
                let path = format!("/api/resources?page={page}{filter}");
                let body = h
                    .get(&path)
                    .bearer(&user.access)
                    .send()
                    .await
                    .expect_problem(404, "not_found");
                assert_eq!(body["detail"], "Invalid page.", "{path}");
            }
            for filter in ["", "&search=ru", "&page_size=100"] {
                let path = format!("/api/tags?page={page}{filter}");
                let body = h
                    .get(&path)
                    .bearer(&user.access)
                    .send()
                    .await
                    .expect_problem(404, "not_found");
                assert_eq!(body["detail"], "Invalid page.", "{path}");
            }
        }
    }
    // A page size too large for any type is still a size: clamped to 100.
    let page = h
        .get("/api/resources?page_size=340282366920938463463374607431768211456")
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(page["count"], 3);
    assert_eq!(page["results"].as_array().map(Vec::len), Some(3));
    let page = h
        .get("/api/resources?page_size=1&page=0002")
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(
        page["next"], "/api/resources?page=3&page_size=1",
        "leading zeros are still the number"
    );
    // Anything but ASCII digits is not a number: 400 naming the parameter, on both lists.
    for list in ["/api/resources", "/api/tags"] {
        for (query, field) in [
            ("page=-1", "page"),
            ("page=0", "page"),
            ("page=00", "page"),
            ("page=1e3", "page"),
            ("page=%201", "page"),
            ("page=1%20", "page"),
            ("page=+1", "page"),
            ("page=1.0", "page"),
            ("page=0x10", "page"),
            ("page=", "page"),
            ("page=%EF%BC%92", "page"),
            ("page_size=-1", "page_size"),
            ("page_size=1e2", "page_size"),
            ("page_size=%2010", "page_size"),
            ("page_size=0", "page_size"),
        ] {
            let path = format!("{list}?{query}");
            let resp = h.get(&path).bearer(&ada.access).send().await;
            expect_one_error(&resp, field, None, &path);
        }
    }
}

pub async fn nul_characters_are_refused_by_name_everywhere(ctx: Ctx) {
    let h = ctx.start().await;
    let nul = "\u{0}";

    // Registration: each field, and nothing is created.
    let good = json!({"username": "ada", "email": "ada@example.com",
                      "password": "sturdy-quokka-2931", "display_name": "Ada"});
    for field in ["username", "email", "password", "display_name"] {
        let mut body = good.clone();
        let value = format!("{}{nul}", body[field].as_str().unwrap_or_default());
        body[field] = json!(value);
        let resp = h.post("/api/auth/register").json(body).send().await;
        expect_one_error(&resp, field, Some(NUL), &format!("register {field}"));
    }
    let ada = h.register("ada").await;

    // Login, JSON and form: the identifier and the password.
    for body in [
        json!({"username": "ada\u{0}", "password": ada.password}),
        json!({"username": "ada@example.com\u{0}", "password": ada.password}),
        json!({"username": "\u{0}", "password": ada.password}),
    ] {
        let resp = h.post("/api/auth/token").json(body).send().await;
        expect_one_error(&resp, "username", Some(NUL), "JSON login");
    }
    let resp = h
        .post("/api/auth/token")
        .json(json!({"username": "ada", "password": format!("{}\u{0}", ada.password)}))
        .send()
        .await;
    expect_one_error(&resp, "password", Some(NUL), "JSON login password");
    for (form, field) in [
        ("grant_type=password&username=ada%00&password=x", "username"),
        (
            "grant_type=password&username=ada&password=x%00y",
            "password",
        ),
        (
            "grant_type=password%00&username=ada&password=x",
            "grant_type",
        ),
    ] {
        let resp = h.post("/api/auth/token").form(form).send().await;
        assert!(
            resp.expect_field_error(400, field)["errors"][field]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| m == NUL)),
            "form {form}"
        );
    }

    // Refresh tokens and password confirmations.
    for path in ["/api/auth/token/refresh", "/api/auth/logout"] {
        let resp = h
            .post(path)
            .json(json!({"refresh": format!("{}\u{0}", ada.refresh)}))
            .send()
            .await;
        expect_one_error(&resp, "refresh", Some(NUL), path);
    }
    let resp = h
        .post("/api/auth/password")
        .bearer(&ada.access)
        .json(json!({"current_password": format!("{}\u{0}", ada.password),
                     "new_password": "another-sturdy-quokka-77"}))
        .send()
        .await;
    expect_one_error(&resp, "current_password", Some(NUL), "current password");
    let resp = h
        .post("/api/auth/password")
        .bearer(&ada.access)
        .json(json!({"current_password": ada.password,
                     "new_password": "another-sturdy\u{0}-quokka-77"}))
        .send()
        .await;
    expect_one_error(&resp, "new_password", Some(NUL), "new password");
    let resp = h
        .delete("/api/auth/me")
        .bearer(&ada.access)
        .json(json!({"password": format!("{}\u{0}", ada.password)}))
        .send()
        .await;
    expect_one_error(&resp, "password", Some(NUL), "delete confirmation");

    // The profile.
    for (field, value) in [
        ("email", "ada@exam\u{0}ple.com"),
        ("display_name", "Ada\u{0}"),
    ] {
        let resp = h
            .patch("/api/auth/me")
            .bearer(&ada.access)
            .json(json!({ field: value }))
            .send()
            .await;
        expect_one_error(&resp, field, Some(NUL), "PATCH me");
    }

    // Resources, each field, through POST, PUT and PATCH; tags.
    let kept = create(&h, &ada, json!({"kind": "note", "title": "kept"})).await;
    let kept_path = format!("/api/resources/{}", kept["id"].as_str().unwrap_or_default());
    for (field, value) in [
        ("title", json!("a\u{0}b")),
        ("body", json!("# a\n\u{0}")),
        ("url", json!("https://example.com/\u{0}")),
        ("tags", json!(["fine", "ba\u{0}d"])),
    ] {
        let mut body = json!({"kind": "link", "title": "t", "url": "https://example.com/"});
        body[field] = value.clone();
        let resp = h
            .post("/api/resources")
            .bearer(&ada.access)
            .json(body.clone())
            .send()
            .await;
        expect_one_error(&resp, field, Some(NUL), &format!("POST {field}"));
        let resp = h
            .put(&kept_path)
            .bearer(&ada.access)
            .json(body)
            .send()
            .await;
        expect_one_error(&resp, field, Some(NUL), &format!("PUT {field}"));
        let resp = h
            .patch(&kept_path)
            .bearer(&ada.access)
            .json(json!({ field: value }))
            .send()
            .await;
        expect_one_error(&resp, field, Some(NUL), &format!("PATCH {field}"));
    }
    let tag = h
        .post("/api/tags")
        .bearer(&ada.access)
        .json(json!({"name": "kept"}))
        .send()
        .await
        .expect_status(201)
        .json();
    let resp = h
        .post("/api/tags")
        .bearer(&ada.access)
        .json(json!({"name": "ta\u{0}g"}))
        .send()
        .await;
    expect_one_error(&resp, "name", Some(NUL), "POST tag");
    let resp = h
        .patch(&format!(
            "/api/tags/{}",
            tag["id"].as_str().unwrap_or_default()
        ))
        .bearer(&ada.access)
        .json(json!({"name": "\u{0}"}))
        .send()
        .await;
    expect_one_error(&resp, "name", Some(NUL), "PATCH tag");

    // Query parameters, known or not, on both lists.
    for (query, field) in [
        ("search=rust%00", "search"),
        ("search=%00", "search"),
        ("kind=note%00", "kind"),
        ("tag=kept%00", "tag"),
        ("tag=kept&tag=%00", "tag"),
        ("favorite=true%00", "favorite"),
        ("ordering=title%00", "ordering"),
        ("page=1%00", "page"),
        ("page_size=%0010", "page_size"),
        ("utm_source=%00", "utm_source"),
    ] {
        let path = format!("/api/resources?{query}");
        let resp = h.get(&path).bearer(&ada.access).send().await;
        expect_one_error(&resp, field, Some(NUL), &path);
    }
    for query in ["search=ke%00", "page=%00"] {
        let path = format!("/api/tags?{query}");
        let resp = h.get(&path).bearer(&ada.access).send().await;
        assert!(
            resp.expect_problem(400, "validation_error")["errors"]
                .as_object()
                .is_some_and(|e| e
                    .values()
                    .filter_map(Value::as_array)
                    .flatten()
                    .all(|m| m == NUL)),
            "{path}"
        );
    }

    // A NUL byte in a multipart file name makes the part's headers unreadable.
    let resp = h
        .put(&format!("{kept_path}/file"))
        .bearer(&ada.access)
        .multipart(&[("file", Some("paper\u{0}.txt"), "text/plain", b"hello")])
        .send()
        .await;
    assert_eq!(resp.status.as_u16(), 400, "{:?}", resp.body);

    // Nothing of the above was stored, on either database.
    let me = h
        .get("/api/auth/me")
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(
        (&me["email"], &me["display_name"]),
        (&json!("ada@example.com"), &json!(""))
    );
    let unchanged = h
        .get(&kept_path)
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(unchanged, kept);
    for (list, count) in [("/api/resources", 1), ("/api/tags", 1)] {
        let page = h
            .get(list)
            .bearer(&ada.access)
            .send()
            .await
            .expect_status(200)
            .json();
        assert_eq!(page["count"], count, "{list}: {page}");
    }
    h.login("ada", &ada.password).await.expect_status(200);
}

pub async fn control_characters_and_lengths_have_limits(ctx: Ctx) {
    let h = ctx.start().await;
    let ada = h.register("ada").await;

    // Single-line fields refuse every control character; bodies keep tabs and line breaks.
    for (body, field) in [
        (json!({"kind": "note", "title": "two\nlines"}), "title"),
        (json!({"kind": "note", "title": "tab\there"}), "title"),
        (json!({"kind": "note", "title": "\u{1b}[31mred"}), "title"),
        (
            json!({"kind": "note", "title": "t", "tags": ["a\tb"]}),
            "tags",
        ),
        (
            json!({"kind": "note", "title": "t", "body": "\u{1b}[2J"}),
            "body",
        ),
        (
            json!({"kind": "note", "title": "t", "body": "bell\u{7}"}),
            "body",
        ),
        (
            json!({"kind": "link", "title": "t", "url": "https://example.com/\u{7f}"}),
            "url",
        ),
    ] {
        let resp = h
            .post("/api/resources")
            .bearer(&ada.access)
            .json(body.clone())
            .send()
            .await;
        expect_one_error(&resp, field, None, &body.to_string());
    }
    let created = create(
        &h,
        &ada,
        json!({"kind": "note", "title": "\t Markdown \n", "body": "# T\r\n\n\tcode\n"}),
    )
    .await;
    assert_eq!(
        created["title"], "Markdown",
        "surrounding whitespace is trimmed"
    );
    assert_eq!(created["body"], "# T\r\n\n\tcode\n");
    let resp = h
        .post("/api/tags")
        .bearer(&ada.access)
        .json(json!({"name": "esc\u{1b}"}))
        .send()
        .await;
    expect_one_error(&resp, "name", None, "tag with ESC");
    for (field, value) in [("display_name", "Ada\nL."), ("display_name", "\u{85}")] {
        let resp = h
            .patch("/api/auth/me")
            .bearer(&ada.access)
            .json(json!({ field: value }))
            .send()
            .await;
        expect_one_error(&resp, field, None, value);
    }

    // Every text input has a length limit: at it is fine, past it is 400 naming the field.
    let at_limits = json!({"kind": "link", "title": "t".repeat(200), "body": "b".repeat(100_000),
        "url": format!("https://example.com/{}", "u".repeat(2048 - 20)),
        "tags": (0..20).map(|i| format!("{i:02}{}", "g".repeat(48))).collect::<Vec<_>>()});
    create(&h, &ada, at_limits.clone()).await;
    for (field, value) in [
        ("title", json!("t".repeat(201))),
        ("body", json!("b".repeat(100_001))),
        (
            "url",
            json!(format!("https://example.com/{}", "u".repeat(2048 - 19))),
        ),
        ("tags", json!(["g".repeat(51)])),
        (
            "tags",
            json!((0..21).map(|i| format!("t{i}")).collect::<Vec<_>>()),
        ),
    ] {
        let mut body = at_limits.clone();
        body[field] = value;
        let resp = h
            .post("/api/resources")
            .bearer(&ada.access)
            .json(body)
            .send()
            .await;
        expect_one_error(&resp, field, None, field);
    }
    // Ten thousand bad tag names answer one message per distinct problem, not ten thousand.
    let many: Vec<String> = (0..10_000)
        .map(|i| {
            if i % 2 == 0 {
                String::new()
            } else {
                "x".repeat(51)
            }
        })
        .collect();
    let resp = h
        .post("/api/resources")
        .bearer(&ada.access)
        .json(json!({"kind": "note", "title": "t", "tags": many}))
        .send()
        .await;
    let body = resp.expect_field_error(400, "tags");
    assert_eq!(body["errors"]["tags"].as_array().map(Vec::len), Some(2));
    assert!(resp.body.len() < 1024, "{} bytes", resp.body.len());

    h.post("/api/tags")
        .bearer(&ada.access)
        .json(json!({"name": "n".repeat(50)}))
        .send()
        .await
        .expect_status(201);
    let resp = h
        .post("/api/tags")
        .bearer(&ada.access)
        .json(json!({"name": "n".repeat(51)}))
        .send()
        .await;
    expect_one_error(&resp, "name", None, "tag name");

    for (field, value) in [
        ("username", "u".repeat(33)),
        ("email", format!("{}@example.com", "e".repeat(243))),
        ("password", "correct-horse-".repeat(10)),
        ("display_name", "d".repeat(151)),
    ] {
        let mut body = json!({"username": "bob", "email": "bob@example.com",
                              "password": "sturdy-quokka-2931"});
        body[field] = json!(value);
        let resp = h.post("/api/auth/register").json(body).send().await;
        expect_one_error(&resp, field, None, field);
    }
    for (field, value) in [
        ("email", format!("{}@example.com", "e".repeat(243))),
        ("display_name", "d".repeat(151)),
    ] {
        let resp = h
            .patch("/api/auth/me")
            .bearer(&ada.access)
            .json(json!({ field: value }))
            .send()
            .await;
        expect_one_error(&resp, field, None, field);
    }

    // Query parameters: the search text on both lists, tag names.
    let at = "s".repeat(200);
    let over = "s".repeat(201);
    for list in ["/api/resources", "/api/tags"] {
        h.get(&format!("{list}?search={at}"))
            .bearer(&ada.access)
            .send()
            .await
            .expect_status(200);
        let resp = h
            .get(&format!("{list}?search={over}"))
            .bearer(&ada.access)
            .send()
            .await;
        expect_one_error(&resp, "search", None, list);
    }
    let resp = h
        .get(&format!("/api/resources?tag={}", "g".repeat(51)))
        .bearer(&ada.access)
        .send()
        .await;
    expect_one_error(&resp, "tag", None, "tag filter");
}
