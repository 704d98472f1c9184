//! API.md §9: auth limits per IP and per account, general limits per IP and per user.

use serde_json::json;

use crate::config::Rate;
use crate::testkit::{Ctx, TEST_PASSWORD};

pub async fn auth_requests_are_throttled_per_ip(ctx: Ctx) {
    let h = ctx
        .start_with(|c| c.throttle.auth_ip = Some(Rate::per_minute(3)))
        .await;
    for i in 0..3 {
        h.post("/api/auth/register")
            .from_ip("203.0.113.7")
            .json(json!({"username": format!("ip{i}"), "email": format!("ip{i}@example.com"), "password": TEST_PASSWORD}))
            .send()
            .await
            .expect_status(201);
    }
    for path in [
        "/api/auth/register",
        "/api/auth/token",
        "/api/auth/token/refresh",
    ] {
        let resp = h
            .post(path)
            .from_ip("203.0.113.7")
            .json(json!({}))
            .send()
            .await;
        resp.expect_problem(429, "throttled");
        let retry: u64 = resp
            .header("retry-after")
            .and_then(|v| v.parse().ok())
            .expect("Retry-After in seconds");
        assert!((1..=60).contains(&retry), "Retry-After {retry}");
    }
    // Another client is unaffected; health is never throttled.
    h.login("ip0", TEST_PASSWORD).await.expect_status(200);
    h.post("/api/auth/token")
        .from_ip("198.51.100.1")
        .json(json!({"username": "ip0", "password": TEST_PASSWORD}))
        .send()
        .await
        .expect_status(200);
    for _ in 0..5 {
        h.get("/health/live")
            .from_ip("203.0.113.7")
            .send()
            .await
            .expect_status(200);
    }
}

pub async fn failed_logins_are_throttled_per_account(ctx: Ctx) {
    let h = ctx
        .start_with(|c| c.throttle.auth_user = Some(Rate::per_minute(3)))
        .await;
    let user = h.register("hammered").await;
    let bystander = h.register("bystander2").await;
    // An attacker rotating IPs: every failure counts against the name tried.
    for i in 0..3 {
        h.post("/api/auth/token")
            .from_ip(&format!("192.0.2.{i}"))
            .json(json!({"username": "hammered", "password": format!("guess-number-{i}")}))
            .send()
            .await
            .expect_problem(401, "authentication_failed");
    }
    // The name's budget, in any case (its email has a budget of its own: see
    // `failed_logins_do_not_reveal_which_names_share_an_account`).
    for login in ["hammered", "HAMMERED"] {
        let resp = h
            .post("/api/auth/token")
            .from_ip("192.0.2.99")
            .json(json!({"username": login, "password": user.password}))
            .send()
            .await;
        resp.expect_problem(429, "throttled");
        assert!(resp.header("retry-after").is_some());
    }
    // Successful logins do not count; other accounts are unaffected.
    for _ in 0..4 {
        h.login("bystander2", &bystander.password)
            .await
            .expect_status(200);
    }
}

pub async fn general_api_limits_per_ip_and_per_user(ctx: Ctx) {
    let h = ctx
        .start_with(|c| {
            c.throttle.anon = Some(Rate::per_minute(3));
            c.throttle.user = Some(Rate::per_minute(4));
        })
        .await;
    // Registration itself is an anonymous request from this IP (1 of 3).
    let user = h
        .post("/api/auth/register")
        .from_ip("203.0.113.50")
        .json(json!({"username": "busy", "email": "busy@example.com", "password": TEST_PASSWORD}))
        .send()
        .await
        .expect_status(201)
        .json();
    let access = user["access"].as_str().unwrap_or_default().to_string();
    for _ in 0..2 {
        h.get("/api/openapi.json")
            .from_ip("203.0.113.50")
            .send()
            .await
            .expect_status(200);
    }
    let resp = h
        .get("/api/openapi.json")
        .from_ip("203.0.113.50")
        .send()
        .await;
    resp.expect_problem(429, "throttled");
    assert!(resp.header("retry-after").is_some());
    // The authenticated user has their own budget, wherever they come from.
    for i in 0..4 {
        h.get("/api/auth/me")
            .from_ip(&format!("198.51.100.{i}"))
            .bearer(&access)
            .send()
            .await
            .expect_status(200);
    }
    h.get("/api/auth/me")
        .from_ip("198.51.100.9")
        .bearer(&access)
        .send()
        .await
        .expect_problem(429, "throttled");
    // A bad token is counted as anonymous, then refused as usual.
    h.get("/api/auth/me")
        .from_ip("192.0.2.10")
        .bearer("garbage")
        .send()
        .await
        .expect_problem(401, "token_not_valid");
    // Health is never throttled.
    for _ in 0..5 {
        h.get("/health/ready")
            .from_ip("203.0.113.50")
            .send()
            .await
            .expect_status(200);
    }
}
