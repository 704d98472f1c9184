//! The scenarios of the conformance suite: API.md §1 (conventions), §3 (auth), §9 (auth
//! throttling) and §10 (docs, health), tried the way an attacker would.

#![allow(missing_docs)]

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use super::{Ctx, TEST_PASSWORD, TEST_SECRET};
use crate::config::Rate;

// --- §1 conventions -----------------------------------------------------------------------

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
    let limit = usize::try_from(h.vault.config().max_body_bytes).unwrap_or(usize::MAX);
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

// --- §3 auth ------------------------------------------------------------------------------

fn is_rfc3339_millis_utc(text: &str) -> bool {
    // 2026-11-22T10:15:30.123Z
    text.len() == 24
        && text.ends_with('Z')
        && text.as_bytes().get(19) == Some(&b'.')
        && chrono::DateTime::parse_from_rfc3339(text).is_ok()
}

pub async fn register_returns_user_and_tokens(ctx: Ctx) {
    let h = ctx.start().await;
    let resp = h
        .post("/api/auth/register")
        .json(json!({"username": "Ada", "email": "ada@example.com", "password": TEST_PASSWORD, "display_name": "Ada L."}))
        .send()
        .await
        .expect_status(201);
    assert!(
        resp.header("location").is_none(),
        "register has no Location"
    );
    let body = resp.json();
    let user = &body["user"];
    assert_eq!(user["username"], "Ada");
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["display_name"], "Ada L.");
    assert_eq!(user["role"], "user");
    assert_eq!(user["is_active"], true);
    let id = user["id"].as_str().unwrap_or_default();
    let uuid = uuid::Uuid::parse_str(id).expect("id is a UUID");
    assert_eq!(uuid.get_version_num(), 7, "ids are UUID v7");
    assert!(
        is_rfc3339_millis_utc(user["created_at"].as_str().unwrap_or_default()),
        "{user}"
    );
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 1800);
    assert!(user.get("password_hash").is_none() && user.get("password").is_none());
    let keys: Vec<&String> = user
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    assert_eq!(
        keys.len(),
        7,
        "user has exactly the contract's fields: {keys:?}"
    );
    let me = h
        .get("/api/auth/me")
        .bearer(body["access"].as_str().unwrap_or_default())
        .send()
        .await
        .expect_status(200);
    assert_eq!(me.json(), *user);
    // The refresh token works.
    h.post("/api/auth/token/refresh")
        .json(json!({"refresh": body["refresh"]}))
        .send()
        .await
        .expect_status(200);
}

pub async fn register_validates_every_field(ctx: Ctx) {
    let h = ctx.start().await;
    let body = h
        .post("/api/auth/register")
        .json(json!({"username": "ab", "email": "not-an-email", "password": "short"}))
        .send()
        .await
        .expect_field_error(400, "username");
    assert!(
        body["errors"]["email"].is_array() && body["errors"]["password"].is_array(),
        "{body}"
    );
    let cases = [
        json!({"username": "with space", "email": "a@example.com", "password": TEST_PASSWORD}),
        json!({"username": "x".repeat(33), "email": "a@example.com", "password": TEST_PASSWORD}),
        json!({"username": "ünïcode", "email": "a@example.com", "password": TEST_PASSWORD}),
    ];
    for case in cases {
        h.post("/api/auth/register")
            .json(case)
            .send()
            .await
            .expect_field_error(400, "username");
    }
    for password in [
        "password123",
        "12345678",
        "qwertyuiop",
        &"p".repeat(129),
        "pwcheck-user",
    ] {
        h.post("/api/auth/register")
            .json(json!({"username": "pwcheck-user", "email": "pw@example.com", "password": password}))
            .send()
            .await
            .expect_field_error(400, "password");
    }
    h.post("/api/auth/register")
        .json(json!({"username": "emailpw", "email": "emailpw@example.com", "password": "emailpw@example.com"}))
        .send()
        .await
        .expect_field_error(400, "password");
    h.post("/api/auth/register")
        .json(json!({"username": "longname", "email": "ln@example.com", "password": TEST_PASSWORD, "display_name": "n".repeat(151)}))
        .send()
        .await
        .expect_field_error(400, "display_name");
    // 128 characters is allowed (NIST: long passphrases are welcome).
    let long = "correct horse battery staple ".repeat(5);
    h.post("/api/auth/register")
        .json(
            json!({"username": "longpw", "email": "longpw@example.com", "password": &long[..128]}),
        )
        .send()
        .await
        .expect_status(201);
}

pub async fn register_clash_is_409_case_insensitive(ctx: Ctx) {
    let h = ctx.start().await;
    h.register("Grace").await;
    h.post("/api/auth/register")
        .json(json!({"username": "gRACE", "email": "other@example.com", "password": TEST_PASSWORD}))
        .send()
        .await
        .expect_field_error(409, "username");
    h.post("/api/auth/register")
        .json(
            json!({"username": "grace2", "email": "GRACE@EXAMPLE.COM", "password": TEST_PASSWORD}),
        )
        .send()
        .await
        .expect_field_error(409, "email");
}

pub async fn concurrent_registrations_of_one_name_one_wins(ctx: Ctx) {
    let h = ctx.start().await;
    let one = h
        .post("/api/auth/register")
        .json(json!({"username": "race", "email": "race1@example.com", "password": TEST_PASSWORD}))
        .send();
    let two = h
        .post("/api/auth/register")
        .json(json!({"username": "RACE", "email": "race2@example.com", "password": TEST_PASSWORD}))
        .send();
    let (a, b) = tokio::join!(one, two);
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409]);
    let loser = if a.status == 409 { a } else { b };
    loser.expect_field_error(409, "username");
}

pub async fn login_with_username_or_email(ctx: Ctx) {
    let h = ctx.start().await;
    let user = h.register("linus").await;
    for login in ["linus", "LINUS", "linus@example.com", "Linus@Example.com"] {
        let body = h
            .login(login, &user.password)
            .await
            .expect_status(200)
            .json();
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 1800);
        let access = body["access"].as_str().unwrap_or_default();
        assert!(body["refresh"].as_str().is_some_and(|r| r.len() >= 43));
        let me = h
            .get("/api/auth/me")
            .bearer(access)
            .send()
            .await
            .expect_status(200)
            .json();
        assert_eq!(me["id"], user.id.as_str());
    }
    h.post("/api/auth/token")
        .json(json!({"username": "", "password": ""}))
        .send()
        .await
        .expect_field_error(400, "username");
}

pub async fn login_with_oauth2_password_form(ctx: Ctx) {
    let h = ctx.start().await;
    let user = h.register("swagger").await;
    let body = h
        .post("/api/auth/token")
        .form(&format!(
            "grant_type=password&username=swagger&password={}&scope=&client_id=docs",
            user.password
        ))
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body.get("access").is_none(), "OAuth2 names: {body}");
    let access = body["access_token"].as_str().unwrap_or_default();
    assert!(body["refresh_token"].is_string());
    h.get("/api/auth/me")
        .bearer(access)
        .send()
        .await
        .expect_status(200);
    h.post("/api/auth/token")
        .form(&format!(
            "grant_type=client_credentials&username=swagger&password={}",
            user.password
        ))
        .send()
        .await
        .expect_field_error(400, "grant_type");
    h.post("/api/auth/token")
        .form("grant_type=password&username=swagger")
        .send()
        .await
        .expect_field_error(400, "password");
    h.post("/api/auth/token")
        .form(&format!(
            "grant_type=password&username=swagger&password={}&admin=1",
            user.password
        ))
        .send()
        .await
        .expect_field_error(400, "admin");
    h.post("/api/auth/token")
        .form("grant_type=password&username=swagger&password=wrong-password-1")
        .send()
        .await
        .expect_problem(401, "authentication_failed");
}

pub async fn login_failures_look_the_same(ctx: Ctx) {
    let h = ctx.start().await;
    let user = h.register("victim").await;
    let inactive = h.register("dormant").await;
    let inactive_id = uuid::Uuid::parse_str(&inactive.id).expect("uuid");
    h.vault
        .auth()
        .set_active(inactive_id, false)
        .await
        .expect("deactivate");
    let wrong_password = h.login(&user.username, "not-the-password-1").await;
    let unknown_user = h.login("nobody-here", "not-the-password-1").await;
    let unknown_email = h.login("nobody@example.com", "not-the-password-1").await;
    let deactivated = h.login(&inactive.username, &inactive.password).await;
    let reference = wrong_password.expect_problem(401, "authentication_failed");
    assert_eq!(
        reference["detail"],
        "No active account found with the given credentials."
    );
    for other in [unknown_user, unknown_email, deactivated] {
        assert_eq!(
            other.expect_problem(401, "authentication_failed"),
            reference
        );
        assert!(
            other.header("www-authenticate").is_none(),
            "credentials are not the Authorization header"
        );
    }
}

pub async fn refresh_rotates_and_reuse_revokes_the_family(ctx: Ctx) {
    let h = ctx.start().await;
    let user = h.register("rotor").await;
    let other_session = h
        .login("rotor", &user.password)
        .await
        .expect_status(200)
        .json();
    let first = h
        .post("/api/auth/token/refresh")
        .json(json!({"refresh": user.refresh}))
        .send()
        .await
        .expect_status(200)
        .json();
    let rotated = first["refresh"].as_str().unwrap_or_default().to_string();
    assert_ne!(rotated, user.refresh, "rotation issues a new refresh token");
    h.get("/api/auth/me")
        .bearer(first["access"].as_str().unwrap_or_default())
        .send()
        .await
        .expect_status(200);
    // The thief replays the old token: refused, and the whole session dies with it.
    let replay = h
        .post("/api/auth/token/refresh")
        .json(json!({"refresh": user.refresh}))
        .send()
        .await;
    replay.expect_problem(401, "token_not_valid");
    assert!(
        replay.header("www-authenticate").is_none(),
        "body tokens do not get WWW-Authenticate"
    );
    h.post("/api/auth/token/refresh")
        .json(json!({"refresh": rotated}))
        .send()
        .await
        .expect_problem(401, "token_not_valid");
    // Another session of the same user is untouched.
    h.post("/api/auth/token/refresh")
        .json(json!({"refresh": other_session["refresh"]}))
        .send()
        .await
        .expect_status(200);
    h.post("/api/auth/token/refresh")
        .json(json!({"refresh": "vrt_made-up"}))
        .send()
        .await
        .expect_problem(401, "token_not_valid");
    h.post("/api/auth/token/refresh")
        .json(json!({}))
        .send()
        .await
        .expect_field_error(400, "refresh");
}

pub async fn concurrent_refresh_exactly_one_wins(ctx: Ctx) {
    let h = ctx.start().await;
    for round in 0..3 {
        let user = h.register(&format!("twin{round}")).await;
        let a = h
            .post("/api/auth/token/refresh")
            .json(json!({"refresh": user.refresh}))
            .send();
        let b = h
            .post("/api/auth/token/refresh")
            .json(json!({"refresh": user.refresh}))
            .send();
        let (a, b) = tokio::join!(a, b);
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 401], "exactly one concurrent refresh wins");
    }
}

pub async fn token_types_are_not_interchangeable(ctx: Ctx) {
    let h = ctx.start().await;
    let user = h.register("typist").await;
    h.post("/api/auth/token/refresh")
        .json(json!({"refresh": user.access}))
        .send()
        .await
        .expect_problem(401, "token_not_valid");
    h.post("/api/auth/logout")
        .json(json!({"refresh": user.access}))
        .send()
        .await
        .expect_problem(401, "token_not_valid");
    let resp = h.get("/api/auth/me").bearer(&user.refresh).send().await;
    resp.expect_problem(401, "token_not_valid");
    assert!(resp
        .header("www-authenticate")
        .is_some_and(|v| v.contains("invalid_token")));
    // A JWT signed with our key but typed as a refresh token is no access token.
    let forged = sign(
        &claims(&user.id, |c| c["typ"] = json!("refresh")),
        Algorithm::HS256,
        TEST_SECRET,
    );
    h.get("/api/auth/me")
        .bearer(&forged)
        .send()
        .await
        .expect_problem(401, "token_not_valid");
}

pub async fn logout_is_idempotent_and_refuses_forgeries(ctx: Ctx) {
    let h = ctx.start().await;
    let user = h.register("leaver").await;
    let second = h
        .login("leaver", &user.password)
        .await
        .expect_status(200)
        .json();
    h.post("/api/auth/logout")
        .json(json!({"refresh": user.refresh}))
        .send()
        .await
        .expect_status(204);
    h.post("/api/auth/logout")
        .json(json!({"refresh": user.refresh}))
        .send()
        .await
        .expect_status(204);
    h.post("/api/auth/token/refresh")
        .json(json!({"refresh": user.refresh}))
        .send()
        .await
        .expect_problem(401, "token_not_valid");
    h.post("/api/auth/logout")
        .json(json!({"refresh": "vrt_forged-token-value"}))
        .send()
        .await
        .expect_problem(401, "token_not_valid");
    // Only that session ended.
    h.post("/api/auth/token/refresh")
        .json(json!({"refresh": second["refresh"]}))
        .send()
        .await
        .expect_status(200);
}

pub async fn logout_all_revokes_sessions_and_access_tokens(ctx: Ctx) {
    let h = ctx.start().await;
    let user = h.register("everywhere").await;
    let laptop = h
        .login("everywhere", &user.password)
        .await
        .expect_status(200)
        .json();
    let bystander = h.register("bystander").await;
    h.get("/api/auth/me")
        .bearer(&user.access)
        .send()
        .await
        .expect_status(200);
    h.post("/api/auth/logout-all")
        .send()
        .await
        .expect_problem(401, "not_authenticated");
    h.post("/api/auth/logout-all")
        .bearer(&user.access)
        .send()
        .await
        .expect_status(204);
    for access in [
        user.access.as_str(),
        laptop["access"].as_str().unwrap_or_default(),
    ] {
        h.get("/api/auth/me")
            .bearer(access)
            .send()
            .await
            .expect_problem(401, "token_not_valid");
    }
    for refresh in [
        user.refresh.as_str(),
        laptop["refresh"].as_str().unwrap_or_default(),
    ] {
        h.post("/api/auth/token/refresh")
            .json(json!({"refresh": refresh}))
            .send()
            .await
            .expect_problem(401, "token_not_valid");
    }
    // A new login works, and other users were never affected.
    let fresh = h
        .login("everywhere", &user.password)
        .await
        .expect_status(200)
        .json();
    h.get("/api/auth/me")
        .bearer(fresh["access"].as_str().unwrap_or_default())
        .send()
        .await
        .expect_status(200);
    h.get("/api/auth/me")
        .bearer(&bystander.access)
        .send()
        .await
        .expect_status(200);
}

pub async fn me_get_and_patch(ctx: Ctx) {
    let h = ctx.start().await;
    let user = h.register("patcher").await;
    h.register("taken").await;
    let me = h
        .get("/api/auth/me")
        .bearer(&user.access)
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(me["username"], "patcher");
    assert_eq!(me["display_name"], "");
    let patched = h
        .patch("/api/auth/me")
        .bearer(&user.access)
        .json(json!({"display_name": "Pat Cher"}))
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(patched["display_name"], "Pat Cher");
    assert_eq!(
        patched["email"], "patcher@example.com",
        "unchanged fields stay"
    );
    let patched = h
        .patch("/api/auth/me")
        .bearer(&user.access)
        .json(json!({"email": "new@example.com"}))
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(patched["email"], "new@example.com");
    assert_eq!(patched["display_name"], "Pat Cher");
    h.login("new@example.com", &user.password)
        .await
        .expect_status(200);
    h.patch("/api/auth/me")
        .bearer(&user.access)
        .json(json!({"email": "TAKEN@example.com"}))
        .send()
        .await
        .expect_field_error(409, "email");
    h.patch("/api/auth/me")
        .bearer(&user.access)
        .json(json!({"email": "nope"}))
        .send()
        .await
        .expect_field_error(400, "email");
    h.patch("/api/auth/me")
        .bearer(&user.access)
        .json(json!({"email": null}))
        .send()
        .await
        .expect_field_error(400, "email");
    h.patch("/api/auth/me")
        .json(json!({"display_name": "x"}))
        .send()
        .await
        .expect_problem(401, "not_authenticated");
    let unchanged = h
        .get("/api/auth/me")
        .bearer(&user.access)
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(unchanged["email"], "new@example.com");
}

pub async fn patch_me_refuses_unwritable_fields(ctx: Ctx) {
    let h = ctx.start().await;
    let user = h.register("climber").await;
    for (field, value) in [
        ("role", json!("admin")),
        ("is_active", json!(false)),
        ("id", json!(user.id)),
        ("username", json!("root")),
    ] {
        h.patch("/api/auth/me")
            .bearer(&user.access)
            .json(json!({ field: value, "display_name": "x" }))
            .send()
            .await
            .expect_field_error(400, field);
    }
    let me = h
        .get("/api/auth/me")
        .bearer(&user.access)
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(me["role"], "user");
    assert_eq!(me["display_name"], "", "a refused PATCH changes nothing");
}

pub async fn password_change_rules_and_revocation(ctx: Ctx) {
    let h = ctx.start().await;
    let user = h.register("rekey").await;
    let other = h
        .login("rekey", &user.password)
        .await
        .expect_status(200)
        .json();
    h.post("/api/auth/password")
        .bearer(&user.access)
        .json(json!({"current_password": "wrong-password-9", "new_password": "another-fine-phrase-77"}))
        .send()
        .await
        .expect_field_error(400, "current_password");
    h.post("/api/auth/password")
        .bearer(&user.access)
        .json(json!({"current_password": user.password, "new_password": "password1"}))
        .send()
        .await
        .expect_field_error(400, "new_password");
    h.post("/api/auth/password")
        .bearer(&user.access)
        .json(json!({"current_password": user.password, "new_password": "rekey"}))
        .send()
        .await
        .expect_field_error(400, "new_password");
    h.post("/api/auth/password")
        .bearer(&user.access)
        .json(json!({"current_password": user.password}))
        .send()
        .await
        .expect_field_error(400, "new_password");
    // Nothing changed so far.
    h.get("/api/auth/me")
        .bearer(&user.access)
        .send()
        .await
        .expect_status(200);
    h.post("/api/auth/password")
        .bearer(&user.access)
        .json(json!({"current_password": user.password, "new_password": "another-fine-phrase-77"}))
        .send()
        .await
        .expect_status(204);
    h.get("/api/auth/me")
        .bearer(&user.access)
        .send()
        .await
        .expect_problem(401, "token_not_valid");
    for refresh in [
        user.refresh.as_str(),
        other["refresh"].as_str().unwrap_or_default(),
    ] {
        h.post("/api/auth/token/refresh")
            .json(json!({"refresh": refresh}))
            .send()
            .await
            .expect_problem(401, "token_not_valid");
    }
    h.login("rekey", &user.password)
        .await
        .expect_problem(401, "authentication_failed");
    h.login("rekey", "another-fine-phrase-77")
        .await
        .expect_status(200);
}

pub async fn account_deletion_removes_everything(ctx: Ctx) {
    let h = ctx.start().await;
    let user = h.register("goner").await;
    h.delete("/api/auth/me")
        .bearer(&user.access)
        .json(json!({"password": "wrong-password-3"}))
        .send()
        .await
        .expect_field_error(400, "password");
    h.get("/api/auth/me")
        .bearer(&user.access)
        .send()
        .await
        .expect_status(200);
    h.delete("/api/auth/me")
        .bearer(&user.access)
        .json(json!({}))
        .send()
        .await
        .expect_field_error(400, "password");
    h.delete("/api/auth/me")
        .bearer(&user.access)
        .json(json!({"password": user.password}))
        .send()
        .await
        .expect_status(204);
    h.get("/api/auth/me")
        .bearer(&user.access)
        .send()
        .await
        .expect_problem(401, "token_not_valid");
    h.post("/api/auth/token/refresh")
        .json(json!({"refresh": user.refresh}))
        .send()
        .await
        .expect_problem(401, "token_not_valid");
    h.login("goner", &user.password)
        .await
        .expect_problem(401, "authentication_failed");
    let id = uuid::Uuid::parse_str(&user.id).expect("uuid");
    let remaining = h
        .vault
        .auth()
        .me(&crate::Principal {
            user_id: id,
            role: crate::Role::User,
        })
        .await;
    assert!(remaining.is_err(), "the user row is gone");
    // The name is free again.
    h.register("goner").await;
}

/// Claims of a valid access token for `user_id`, adjusted by `adjust`.
fn claims(user_id: &str, adjust: impl FnOnce(&mut Value)) -> Value {
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "sub": user_id, "exp": now + 600, "iat": now, "jti": uuid::Uuid::now_v7().to_string(),
        "typ": "access", "iss": "vault", "aud": "vault", "role": "user", "ver": 0
    });
    adjust(&mut claims);
    claims
}

fn sign(claims: &Value, algorithm: Algorithm, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &Header::new(algorithm),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("sign")
}

fn unsigned(header: &Value, claims: &Value) -> String {
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap_or_default());
    format!("{}.{}.", part(header), part(claims))
}

pub async fn bearer_token_attacks_are_refused(ctx: Ctx) {
    let h = ctx.start().await;
    let user = h.register("target").await;
    let admin_id = uuid::Uuid::parse_str(&h.register("boss").await.id).expect("uuid");
    h.vault
        .auth()
        .set_role(admin_id, crate::Role::Admin)
        .await
        .expect("promote");
    // Sanity: a token we forge with the right key and claims is accepted, so the refusals
    // below are about the one thing each case changes.
    let good = sign(&claims(&user.id, |_| {}), Algorithm::HS256, TEST_SECRET);
    h.get("/api/auth/me")
        .bearer(&good)
        .send()
        .await
        .expect_status(200);

    let missing = h.get("/api/auth/me").send().await;
    missing.expect_problem(401, "not_authenticated");
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));
    h.get("/api/auth/me")
        .header(
            "authorization",
            &format!("Basic {}", URL_SAFE_NO_PAD.encode("target:x")),
        )
        .send()
        .await
        .expect_problem(401, "not_authenticated");

    let mut tampered = user.access.clone();
    let last = tampered
        .pop()
        .map_or('A', |c| if c == 'A' { 'B' } else { 'A' });
    tampered.push(last);
    let payload_swapped = {
        let parts: Vec<&str> = user.access.split('.').collect();
        let forged_payload = URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&claims(&admin_id.to_string(), |_| {})).unwrap_or_default());
        format!(
            "{}.{}.{}",
            parts[0],
            forged_payload,
            parts.get(2).unwrap_or(&"")
        )
    };
    let cases: Vec<(&str, String)> = vec![
        ("tampered signature", tampered),
        ("payload swapped to another user", payload_swapped),
        (
            "alg none",
            unsigned(
                &json!({"alg": "none", "typ": "JWT"}),
                &claims(&user.id, |_| {}),
            ),
        ),
        (
            "alg None",
            unsigned(&json!({"alg": "None"}), &claims(&user.id, |_| {})),
        ),
        (
            "HS512 with our key (algorithm switching)",
            sign(&claims(&user.id, |_| {}), Algorithm::HS512, TEST_SECRET),
        ),
        (
            "another deployment's key",
            sign(
                &claims(&user.id, |_| {}),
                Algorithm::HS256,
                b"some-other-deployment-secret-0123456789",
            ),
        ),
        (
            "expired",
            sign(
                &claims(&user.id, |c| {
                    c["exp"] = json!(chrono::Utc::now().timestamp() - 5);
                }),
                Algorithm::HS256,
                TEST_SECRET,
            ),
        ),
        (
            "exp as a string",
            sign(
                &claims(&user.id, |c| {
                    c["exp"] = json!("9999999999");
                }),
                Algorithm::HS256,
                TEST_SECRET,
            ),
        ),
        (
            "no exp",
            sign(
                &claims(&user.id, |c| {
                    c.as_object_mut().map(|o| o.remove("exp"));
                }),
                Algorithm::HS256,
                TEST_SECRET,
            ),
        ),
        (
            "wrong typ",
            sign(
                &claims(&user.id, |c| c["typ"] = json!("refresh")),
                Algorithm::HS256,
                TEST_SECRET,
            ),
        ),
        (
            "no typ",
            sign(
                &claims(&user.id, |c| {
                    c.as_object_mut().map(|o| o.remove("typ"));
                }),
                Algorithm::HS256,
                TEST_SECRET,
            ),
        ),
        (
            "wrong audience",
            sign(
                &claims(&user.id, |c| c["aud"] = json!("someone-else")),
                Algorithm::HS256,
                TEST_SECRET,
            ),
        ),
        (
            "wrong issuer",
            sign(
                &claims(&user.id, |c| c["iss"] = json!("evil")),
                Algorithm::HS256,
                TEST_SECRET,
            ),
        ),
        (
            "stale token version",
            sign(
                &claims(&user.id, |c| c["ver"] = json!(-1)),
                Algorithm::HS256,
                TEST_SECRET,
            ),
        ),
        (
            "unknown user",
            sign(
                &claims(&uuid::Uuid::now_v7().to_string(), |_| {}),
                Algorithm::HS256,
                TEST_SECRET,
            ),
        ),
        ("garbage", "not.a.jwt".to_string()),
        ("empty segments", "..".to_string()),
    ];
    for (case, token) in cases {
        let resp = h.get("/api/auth/me").bearer(&token).send().await;
        assert_eq!(
            resp.status.as_u16(),
            401,
            "{case}: {}",
            String::from_utf8_lossy(&resp.body)
        );
        resp.expect_problem(401, "token_not_valid");
        assert!(
            resp.header("www-authenticate")
                .is_some_and(|v| v.starts_with("Bearer") && v.contains("invalid_token")),
            "{case}: WWW-Authenticate"
        );
    }
    // A token claiming admin for a plain user does not make them admin: the role is re-read.
    let claimed_admin = sign(
        &claims(&user.id, |c| c["role"] = json!("admin")),
        Algorithm::HS256,
        TEST_SECRET,
    );
    let me = h
        .get("/api/auth/me")
        .bearer(&claimed_admin)
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(me["role"], "user");
    h.get("/api/auth/me")
        .header("authorization", "Bearer")
        .send()
        .await
        .expect_problem(401, "token_not_valid");
    h.get("/api/auth/me")
        .header("authorization", "Bearer a b")
        .send()
        .await
        .expect_problem(401, "token_not_valid");
}

pub async fn deactivated_users_are_locked_out(ctx: Ctx) {
    let h = ctx.start().await;
    let user = h.register("paused").await;
    let id = uuid::Uuid::parse_str(&user.id).expect("uuid");
    h.vault
        .auth()
        .set_active(id, false)
        .await
        .expect("deactivate");
    h.get("/api/auth/me")
        .bearer(&user.access)
        .send()
        .await
        .expect_problem(401, "token_not_valid");
    h.post("/api/auth/token/refresh")
        .json(json!({"refresh": user.refresh}))
        .send()
        .await
        .expect_problem(401, "token_not_valid");
    h.login("paused", &user.password)
        .await
        .expect_problem(401, "authentication_failed");
    h.vault
        .auth()
        .set_active(id, true)
        .await
        .expect("reactivate");
    // Reactivation does not resurrect old sessions; a new login works.
    h.post("/api/auth/token/refresh")
        .json(json!({"refresh": user.refresh}))
        .send()
        .await
        .expect_problem(401, "token_not_valid");
    let fresh = h
        .login("paused", &user.password)
        .await
        .expect_status(200)
        .json();
    h.get("/api/auth/me")
        .bearer(fresh["access"].as_str().unwrap_or_default())
        .send()
        .await
        .expect_status(200);
}

pub async fn revocation_reaches_other_instances_within_ttl(ctx: Ctx) {
    let ttl = Duration::from_millis(800);
    let a = ctx.start_with(|c| c.token_state_ttl = ttl).await;
    // A second instance over the same database, as behind a load balancer.
    let mut config = super::test_config(&a.database.url);
    config.token_state_ttl = ttl;
    let vault_b = crate::Vault::open(config).await.expect("second instance");
    let b = (ctx.factory)(vault_b);
    let user = a.register("roamer").await;
    async fn me(app: &dyn super::TestApp, token: String) -> http::Response<bytes::Bytes> {
        let mut request = http::Request::new(bytes::Bytes::new());
        *request.uri_mut() = http::Uri::from_static("/api/auth/me");
        request.headers_mut().insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_str(&format!("Bearer {token}")).expect("header"),
        );
        app.call(request).await
    }
    assert_eq!(
        me(b.as_ref(), user.access.clone()).await.status(),
        200,
        "B caches the user's state"
    );
    a.post("/api/auth/logout-all")
        .bearer(&user.access)
        .send()
        .await
        .expect_status(204);
    a.get("/api/auth/me")
        .bearer(&user.access)
        .send()
        .await
        .expect_problem(401, "token_not_valid");
    tokio::time::sleep(ttl + Duration::from_millis(300)).await;
    assert_eq!(
        me(b.as_ref(), user.access.clone()).await.status(),
        401,
        "B refuses after the TTL"
    );
}

// --- §9 throttling of auth endpoints --------------------------------------------------------

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
    // An attacker rotating IPs: every failure counts against the account.
    for i in 0..3 {
        h.post("/api/auth/token")
            .from_ip(&format!("192.0.2.{i}"))
            .json(json!({"username": "hammered", "password": format!("guess-number-{i}")}))
            .send()
            .await
            .expect_problem(401, "authentication_failed");
    }
    for login in ["hammered", "hammered@example.com"] {
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

// --- §10 docs and health ----------------------------------------------------------------------

pub async fn openapi_document_describes_the_api(ctx: Ctx) {
    let h = ctx.start().await;
    let resp = h.get("/api/openapi.json").send().await.expect_status(200);
    assert!(resp
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json")));
    let doc = resp.json();
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().expect("paths");
    for (path, method) in [
        ("/api/auth/register", "post"),
        ("/api/auth/token", "post"),
        ("/api/auth/token/refresh", "post"),
        ("/api/auth/logout", "post"),
        ("/api/auth/logout-all", "post"),
        ("/api/auth/me", "get"),
        ("/api/auth/me", "patch"),
        ("/api/auth/me", "delete"),
        ("/api/auth/password", "post"),
        ("/health/live", "get"),
        ("/health/ready", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} documented"
        );
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(
        schemes["oauth2"]["flows"]["password"]["tokenUrl"],
        "/api/auth/token"
    );
    let problem = &paths["/api/auth/register"]["post"]["responses"]["400"]["content"]
        ["application/problem+json"];
    assert!(problem.is_object(), "errors are documented as problem+json");
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}

pub async fn every_documented_route_is_served(ctx: Ctx) {
    let h = ctx.start().await;
    let doc = h
        .get("/api/openapi.json")
        .send()
        .await
        .expect_status(200)
        .json();
    let paths = doc["paths"].as_object().expect("paths").clone();
    for (path, item) in paths {
        let concrete = path.replace("{id}", &uuid::Uuid::now_v7().to_string());
        for method in item
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            let Ok(method) = method.to_uppercase().parse::<http::Method>() else {
                continue;
            };
            let resp = h
                .req(method.clone(), &concrete)
                .json(json!({}))
                .send()
                .await;
            assert!(
                resp.status != 404 && resp.status != 405,
                "{method} {concrete} is documented but answers {}",
                resp.status
            );
        }
    }
}

pub async fn docs_page_works_offline(ctx: Ctx) {
    let h = ctx.start().await;
    for path in ["/api/docs", "/api/docs/"] {
        let page = h.get(path).send().await.expect_status(200);
        assert!(page
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/html")));
        let html = String::from_utf8_lossy(&page.body).to_string();
        assert!(html.to_lowercase().contains("swagger"), "{html}");
        assert!(
            !html.contains("https://"),
            "no asset comes from the internet"
        );
        // Every asset the page references is served by us.
        for asset in html.split('"').filter(|s| s.starts_with("/api/docs/")) {
            h.get(asset).send().await.expect_status(200);
        }
    }
    let init = h
        .get("/api/docs/swagger-initializer.js")
        .send()
        .await
        .expect_status(200);
    assert!(String::from_utf8_lossy(&init.body).contains("/api/openapi.json"));
    h.get("/api/docs/no-such-file.js")
        .send()
        .await
        .expect_problem(404, "not_found");
}

pub async fn health_endpoints(ctx: Ctx) {
    let h = ctx.start().await;
    assert_eq!(
        h.get("/health/live").send().await.expect_status(200).json()["status"],
        "ok"
    );
    assert_eq!(
        h.get("/health/ready")
            .send()
            .await
            .expect_status(200)
            .json()["status"],
        "ok"
    );
    // The database goes away: ready says 503, live stays 200, the API answers 503, not 500.
    h.vault.database().close().await;
    h.get("/health/ready")
        .send()
        .await
        .expect_problem(503, "service_unavailable");
    h.get("/health/live").send().await.expect_status(200);
    h.login("anyone", "whatever-password")
        .await
        .expect_problem(503, "service_unavailable");
}
