//! API.md §3: refresh rotation with reuse detection, logout and logout-all.

use serde_json::json;

use super::{expect_401, CHALLENGE, CHALLENGE_INVALID_TOKEN};
use crate::testkit::Ctx;

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
    // A refresh token comes in a body, not in `Authorization`: the plain challenge.
    expect_401(
        &replay,
        "token_not_valid",
        CHALLENGE,
        "replayed refresh token",
    );
    let family = h
        .post("/api/auth/token/refresh")
        .json(json!({"refresh": rotated}))
        .send()
        .await;
    expect_401(&family, "token_not_valid", CHALLENGE, "revoked family");
    // Another session of the same user is untouched.
    h.post("/api/auth/token/refresh")
        .json(json!({"refresh": other_session["refresh"]}))
        .send()
        .await
        .expect_status(200);
    let made_up = h
        .post("/api/auth/token/refresh")
        .json(json!({"refresh": "vrt_made-up"}))
        .send()
        .await;
    expect_401(
        &made_up,
        "token_not_valid",
        CHALLENGE,
        "made-up refresh token",
    );
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
    let logged_out = h
        .post("/api/auth/token/refresh")
        .json(json!({"refresh": user.refresh}))
        .send()
        .await;
    expect_401(
        &logged_out,
        "token_not_valid",
        CHALLENGE,
        "logged-out refresh",
    );
    let forged = h
        .post("/api/auth/logout")
        .json(json!({"refresh": "vrt_forged-token-value"}))
        .send()
        .await;
    expect_401(
        &forged,
        "token_not_valid",
        CHALLENGE,
        "forged token to logout",
    );
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
    let anonymous = h.post("/api/auth/logout-all").send().await;
    expect_401(
        &anonymous,
        "not_authenticated",
        CHALLENGE,
        "logout-all without a token",
    );
    h.post("/api/auth/logout-all")
        .bearer(&user.access)
        .send()
        .await
        .expect_status(204);
    for access in [
        user.access.as_str(),
        laptop["access"].as_str().unwrap_or_default(),
    ] {
        let revoked = h.get("/api/auth/me").bearer(access).send().await;
        expect_401(
            &revoked,
            "token_not_valid",
            CHALLENGE_INVALID_TOKEN,
            "access token revoked by logout-all",
        );
    }
    for refresh in [
        user.refresh.as_str(),
        laptop["refresh"].as_str().unwrap_or_default(),
    ] {
        let revoked = h
            .post("/api/auth/token/refresh")
            .json(json!({"refresh": refresh}))
            .send()
            .await;
        expect_401(
            &revoked,
            "token_not_valid",
            CHALLENGE,
            "refresh token revoked by logout-all",
        );
        let logout = h
            .post("/api/auth/logout")
            .json(json!({"refresh": refresh}))
            .send()
            .await;
        // Logout of a revoked but genuine token is idempotent.
        logout.expect_status(204);
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
