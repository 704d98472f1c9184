//! API.md §3: registration, login, refresh rotation, logout, profile, password, deletion, deactivation, revocation across instances.

use std::time::Duration;

use serde_json::json;

use crate::testkit::{Ctx, TEST_PASSWORD};

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
    let a = ctx.start_with(|c| c.auth.token_state_ttl = ttl).await;
    // A second instance over the same database, as behind a load balancer.
    let mut config = crate::testkit::test_config(&a.database.url);
    config.auth.token_state_ttl = ttl;
    let vault_b = crate::Vault::open(config).await.expect("second instance");
    let b = (ctx.factory)(vault_b);
    let user = a.register("roamer").await;
    async fn me(app: &dyn crate::testkit::TestApp, token: String) -> http::Response<bytes::Bytes> {
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
