//! API.md §3: registration and login.

use serde_json::json;

use super::{expect_401, CHALLENGE};
use crate::testkit::{Ctx, TEST_PASSWORD};

pub(super) fn is_rfc3339_millis_utc(text: &str) -> bool {
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
    // API.md §1: the new account's own URL is GET me, as its owner sees it.
    assert_eq!(resp.header("location"), Some("/api/auth/me"));
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
        .get(resp.header("location").unwrap_or_default())
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

    // Mounted elsewhere, the Location follows the prefix.
    let h = ctx
        .start_with(|c| c.http.api_prefix = "/v1/vault".into())
        .await;
    let resp = h
        .post("/v1/vault/auth/register")
        .json(json!({"username": "Grace", "email": "grace@example.com", "password": TEST_PASSWORD}))
        .send()
        .await
        .expect_status(201);
    let location = resp.header("location").unwrap_or_default().to_string();
    assert_eq!(location, "/v1/vault/auth/me");
    let body = resp.json();
    let me = h
        .get(&location)
        .bearer(body["access"].as_str().unwrap_or_default())
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(me, body["user"]);
    // A failed registration creates nothing and names no Location.
    let clash = h
        .post("/v1/vault/auth/register")
        .json(json!({"username": "grace", "email": "g2@example.com", "password": TEST_PASSWORD}))
        .send()
        .await;
    clash.expect_field_error(409, "username");
    assert!(clash.header("location").is_none());
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
    let wrong = h
        .post("/api/auth/token")
        .form("grant_type=password&username=swagger&password=wrong-password-1")
        .send()
        .await;
    expect_401(&wrong, "authentication_failed", CHALLENGE, "bad form login");
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
    let form = |username: &str, password: &str| {
        h.post("/api/auth/token")
            .form(&format!(
                "grant_type=password&username={username}&password={password}"
            ))
            .send()
    };
    let form_wrong_password = form(&user.username, "not-the-password-1").await;
    let form_unknown_user = form("nobody-here", "not-the-password-1").await;
    let form_deactivated = form(&inactive.username, &inactive.password).await;
    // Credentials are not an `Authorization` token: the plain challenge, as every 401 has.
    let reference = expect_401(
        &wrong_password,
        "authentication_failed",
        CHALLENGE,
        "wrong password",
    );
    assert_eq!(
        reference["detail"],
        "No active account found with the given credentials."
    );
    for (case, other) in [
        ("unknown user", unknown_user),
        ("unknown email", unknown_email),
        ("deactivated", deactivated),
        ("form: wrong password", form_wrong_password),
        ("form: unknown user", form_unknown_user),
        ("form: deactivated", form_deactivated),
    ] {
        assert_eq!(
            expect_401(&other, "authentication_failed", CHALLENGE, case),
            reference,
            "{case}"
        );
    }
}
