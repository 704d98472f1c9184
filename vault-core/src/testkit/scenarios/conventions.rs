//! API.md §1: routes, media types, body limits, request ids, problem documents.

use serde_json::json;

use crate::testkit::{Ctx, TEST_PASSWORD};

pub async fn unknown_route_is_problem_404(ctx: Ctx) {
    let h = ctx.start().await;
    h.get("/api/no-such-thing")
        .send()
        .await
        .expect_problem(404, "not_found");
    h.get("/nowhere")
        .send()
        .await
        .expect_problem(404, "not_found");
    h.post("/api/auth/no-such")
        .json(json!({}))
        .send()
        .await
        .expect_problem(404, "not_found");
}

pub async fn wrong_method_is_problem_405(ctx: Ctx) {
    let h = ctx.start().await;
    let resp = h.put("/api/auth/register").json(json!({})).send().await;
    resp.expect_problem(405, "method_not_allowed");
    let allow = resp.header("allow").unwrap_or_default().to_uppercase();
    assert!(allow.contains("POST"), "Allow header lists POST: {allow:?}");
    h.delete("/api/auth/token")
        .send()
        .await
        .expect_problem(405, "method_not_allowed");
    h.post("/health/live")
        .send()
        .await
        .expect_problem(405, "method_not_allowed");
}

pub async fn trailing_slash_is_the_same_route(ctx: Ctx) {
    let h = ctx.start().await;
    let resp = h
        .post("/api/auth/register/")
        .json(json!({"username": "slash", "email": "slash@example.com", "password": TEST_PASSWORD}))
        .send()
        .await
        .expect_status(201);
    let access = resp.json()["access"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    h.get("/api/auth/me/")
        .bearer(&access)
        .send()
        .await
        .expect_status(200);
    h.get("/api/auth/me")
        .bearer(&access)
        .send()
        .await
        .expect_status(200);
    h.get("/health/live/").send().await.expect_status(200);
}

pub async fn request_id_is_echoed_or_generated(ctx: Ctx) {
    let h = ctx.start().await;
    let resp = h
        .get("/health/live")
        .header("x-request-id", "client-chosen-42")
        .send()
        .await;
    assert_eq!(resp.header("x-request-id"), Some("client-chosen-42"));
    let resp = h
        .get("/api/missing")
        .header("x-request-id", "err-7")
        .send()
        .await;
    assert_eq!(
        resp.header("x-request-id"),
        Some("err-7"),
        "errors echo the id too"
    );
    let a = h.get("/health/live").send().await;
    let b = h.get("/health/live").send().await;
    assert_ne!(
        a.header("x-request-id"),
        b.header("x-request-id"),
        "generated ids are unique"
    );
}

pub async fn non_json_body_is_415(ctx: Ctx) {
    let h = ctx.start().await;
    let body = r#"{"username":"a","email":"a@example.com","password":"x"}"#;
    h.post("/api/auth/register")
        .raw("text/plain", body)
        .send()
        .await
        .expect_problem(415, "unsupported_media_type");
    h.post("/api/auth/register")
        .untyped(body)
        .send()
        .await
        .expect_problem(415, "unsupported_media_type");
    h.post("/api/auth/register")
        .form("username=a&email=a%40example.com&password=x")
        .send()
        .await
        .expect_problem(415, "unsupported_media_type");
    h.post("/api/auth/token")
        .raw("text/xml", "<x/>")
        .send()
        .await
        .expect_problem(415, "unsupported_media_type");
}

pub async fn malformed_json_is_parse_error(ctx: Ctx) {
    let h = ctx.start().await;
    for body in [
        r#"{"username":"#,
        "not json",
        r#"{"username":"a",}"#,
        "",
        "\u{0}",
    ] {
        h.post("/api/auth/register")
            .raw("application/json", body.to_string())
            .send()
            .await
            .expect_problem(400, "parse_error");
    }
    h.post("/api/auth/token")
        .raw("application/json", "{oops")
        .send()
        .await
        .expect_problem(400, "parse_error");
}

pub async fn unknown_fields_are_rejected(ctx: Ctx) {
    let h = ctx.start().await;
    h.post("/api/auth/register")
        .json(json!({"username": "mallory", "email": "m@example.com", "password": TEST_PASSWORD, "role": "admin"}))
        .send()
        .await
        .expect_field_error(400, "role");
    // Nothing was created by the refused request.
    h.login("mallory", TEST_PASSWORD)
        .await
        .expect_problem(401, "authentication_failed");
    h.post("/api/auth/token")
        .json(json!({"username": "x", "password": "y", "remember": true}))
        .send()
        .await
        .expect_field_error(400, "remember");
}

pub async fn wrong_types_and_missing_fields_name_the_field(ctx: Ctx) {
    let h = ctx.start().await;
    let body = h
        .post("/api/auth/register")
        .json(json!({"username": 5, "email": "a@example.com", "password": TEST_PASSWORD}))
        .send()
        .await
        .expect_field_error(400, "username");
    assert_eq!(body["detail"], "Invalid input.");
    let body = h
        .post("/api/auth/register")
        .json(json!({"username": "abc", "password": TEST_PASSWORD}))
        .send()
        .await
        .expect_field_error(400, "email");
    assert_eq!(body["errors"]["email"][0], "This field is required.");
    h.post("/api/auth/register")
        .json(json!({"username": "abc", "email": null, "password": TEST_PASSWORD}))
        .send()
        .await
        .expect_field_error(400, "email");
    h.post("/api/auth/register")
        .json(json!(["abc"]))
        .send()
        .await
        .expect_field_error(400, "non_field_errors");
}

pub async fn body_over_limit_is_413(ctx: Ctx) {
    let h = ctx.start().await;
    let limit = usize::try_from(h.vault.config().http.max_body_bytes).unwrap_or(usize::MAX);
    let big = format!(r#"{{"username":"{}"}}"#, "a".repeat(limit + 10));
    // Streamed with no Content-Length: the limit is enforced while reading.
    h.post("/api/auth/register")
        .raw("application/json", big.clone())
        .send()
        .await
        .expect_problem(413, "payload_too_large");
    // Declared: refused before reading.
    h.post("/api/auth/register")
        .raw("application/json", big.clone())
        .header("content-length", &big.len().to_string())
        .send()
        .await
        .expect_problem(413, "payload_too_large");
    h.post("/api/auth/token")
        .form(&format!(
            "grant_type=password&username={}&password=x",
            "a".repeat(limit)
        ))
        .send()
        .await
        .expect_problem(413, "payload_too_large");
}

/// An id that does not even percent-decode to UTF-8 is a malformed id like any other: 404
/// problem+json (API.md §1), for every verb of every route that takes one, with or without the
/// trailing slash (never a framework's 400).
pub async fn undecodable_ids_are_404(ctx: Ctx) {
    let h = ctx.start().await;
    let ada = h.register("ada").await;
    for path in [
        "/api/resources/%ff%fe",
        "/api/resources/%ff%fe/",
        "/api/resources/%ff%fe/file",
        "/api/tags/%ff%fe",
        "/api/tags/%C3%28",
        "/api/resources/%C3%28/file",
        "/api/tags/%80/",
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
    h.put("/api/resources/%ff%fe")
        .bearer(&ada.access)
        .json(json!({"kind": "note", "title": "t"}))
        .send()
        .await
        .expect_problem(404, "not_found");
    h.patch("/api/resources/%ff%fe")
        .bearer(&ada.access)
        .json(json!({"title": "t"}))
        .send()
        .await
        .expect_problem(404, "not_found");
    h.patch("/api/tags/%ff%fe")
        .bearer(&ada.access)
        .json(json!({"name": "x"}))
        .send()
        .await
        .expect_problem(404, "not_found");
    h.get("/api/docs/%ff%fe.js")
        .send()
        .await
        .expect_problem(404, "not_found");
}
