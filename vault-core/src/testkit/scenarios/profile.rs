//! API.md §3: the profile, password change, account deletion, deactivation, and revocation
//! across instances.

use std::time::Duration;

use serde_json::json;

use super::{expect_401, CHALLENGE, CHALLENGE_INVALID_TOKEN};
use crate::testkit::Ctx;

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
    let access = h.get("/api/auth/me").bearer(&user.access).send().await;
    expect_401(
        &access,
        "token_not_valid",
        CHALLENGE_INVALID_TOKEN,
        "deactivated user's access token",
    );
    let refresh = h
        .post("/api/auth/token/refresh")
        .json(json!({"refresh": user.refresh}))
        .send()
        .await;
    expect_401(
        &refresh,
        "token_not_valid",
        CHALLENGE,
        "deactivated user's refresh token",
    );
    let login = h.login("paused", &user.password).await;
    expect_401(
        &login,
        "authentication_failed",
        CHALLENGE,
        "deactivated user's login",
    );
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
