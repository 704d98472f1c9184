//! API.md §3, as an attacker: forged, tampered and mistyped access tokens.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use super::{expect_401, CHALLENGE, CHALLENGE_INVALID_TOKEN};
use crate::testkit::{Ctx, TEST_SECRET};

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

/// A token for `user_id` signed like ours (HS256, our key), with claims adjusted by `adjust`.
fn forge(user_id: &str, adjust: impl FnOnce(&mut Value)) -> String {
    sign(&claims(user_id, adjust), Algorithm::HS256, TEST_SECRET)
}

fn remove(claims: &mut Value, name: &str) {
    if let Some(object) = claims.as_object_mut() {
        object.remove(name);
    }
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
    let good = forge(&user.id, |_| {});
    h.get("/api/auth/me")
        .bearer(&good)
        .send()
        .await
        .expect_status(200);

    // Every route that needs a caller, of every module, challenges the same way: no token (or
    // one of another scheme, which is no token of ours) gets the plain challenge; a malformed
    // `Authorization: Bearer` header is a refused token.
    let basic = format!("Basic {}", URL_SAFE_NO_PAD.encode("target:x"));
    for (method, path) in [
        (http::Method::GET, "/api/auth/me"),
        (http::Method::POST, "/api/auth/logout-all"),
        (http::Method::GET, "/api/resources"),
        (http::Method::GET, "/api/tags"),
    ] {
        let missing = h.req(method.clone(), path).send().await;
        expect_401(
            &missing,
            "not_authenticated",
            CHALLENGE,
            &format!("{method} {path} no token"),
        );
        let wrong_scheme = h
            .req(method.clone(), path)
            .header("authorization", &basic)
            .send()
            .await;
        expect_401(
            &wrong_scheme,
            "not_authenticated",
            CHALLENGE,
            &format!("{method} {path} Basic"),
        );
        for malformed in ["Bearer", "Bearer  ", "Bearer a b", "bearer x y z"] {
            let resp = h
                .req(method.clone(), path)
                .header("authorization", malformed)
                .send()
                .await;
            expect_401(
                &resp,
                "token_not_valid",
                CHALLENGE_INVALID_TOKEN,
                &format!("{method} {path} {malformed:?}"),
            );
        }
        // Not expressible through the request builder (which takes text): raw bytes.
        let mut request = http::Request::new(bytes::Bytes::new());
        *request.method_mut() = method.clone();
        *request.uri_mut() = http::Uri::from_static(path);
        request.headers_mut().insert(
            http::header::AUTHORIZATION,
            http::HeaderValue::from_bytes(b"Bearer caf\xE9").expect("opaque header bytes"),
        );
        let (parts, body) = h.call(request).await.into_parts();
        let not_ascii = crate::testkit::Resp {
            status: parts.status,
            headers: parts.headers,
            body,
        };
        expect_401(
            &not_ascii,
            "token_not_valid",
            CHALLENGE_INVALID_TOKEN,
            &format!("{method} {path} non-ASCII"),
        );
    }

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
    let now = chrono::Utc::now().timestamp();
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
        ("expired", forge(&user.id, |c| c["exp"] = json!(now - 5))),
        (
            "exp as a string",
            forge(&user.id, |c| c["exp"] = json!("9999999999")),
        ),
        ("no exp", forge(&user.id, |c| remove(c, "exp"))),
        (
            "wrong typ",
            forge(&user.id, |c| c["typ"] = json!("refresh")),
        ),
        ("no typ", forge(&user.id, |c| remove(c, "typ"))),
        (
            "wrong audience",
            forge(&user.id, |c| c["aud"] = json!("someone-else")),
        ),
        (
            "wrong issuer",
            forge(&user.id, |c| c["iss"] = json!("evil")),
        ),
        (
            "stale token version",
            forge(&user.id, |c| c["ver"] = json!(-1)),
        ),
        (
            "unknown user",
            forge(&uuid::Uuid::now_v7().to_string(), |_| {}),
        ),
        ("garbage", "not.a.jwt".to_string()),
        ("empty segments", "..".to_string()),
    ];
    for (case, token) in cases {
        let resp = h.get("/api/auth/me").bearer(&token).send().await;
        expect_401(&resp, "token_not_valid", CHALLENGE_INVALID_TOKEN, case);
        let resp = h.get("/api/resources").bearer(&token).send().await;
        expect_401(&resp, "token_not_valid", CHALLENGE_INVALID_TOKEN, case);
    }
    // A token claiming admin for a plain user does not make them admin: the role is re-read.
    let claimed_admin = forge(&user.id, |c| c["role"] = json!("admin"));
    let me = h
        .get("/api/auth/me")
        .bearer(&claimed_admin)
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(me["role"], "user");
}

pub async fn token_types_are_not_interchangeable(ctx: Ctx) {
    let h = ctx.start().await;
    let user = h.register("typist").await;
    // An access token where a refresh token is expected: refused in the body, so the plain
    // challenge (it never was an `Authorization` token).
    let refresh = h
        .post("/api/auth/token/refresh")
        .json(json!({"refresh": user.access}))
        .send()
        .await;
    expect_401(
        &refresh,
        "token_not_valid",
        CHALLENGE,
        "access token to refresh",
    );
    let logout = h
        .post("/api/auth/logout")
        .json(json!({"refresh": user.access}))
        .send()
        .await;
    expect_401(
        &logout,
        "token_not_valid",
        CHALLENGE,
        "access token to logout",
    );
    let resp = h.get("/api/auth/me").bearer(&user.refresh).send().await;
    expect_401(
        &resp,
        "token_not_valid",
        CHALLENGE_INVALID_TOKEN,
        "refresh token as bearer",
    );
    // A JWT signed with our key but typed as a refresh token is no access token, nor is a
    // well-signed access token a refresh token.
    let forged = forge(&user.id, |c| c["typ"] = json!("refresh"));
    let resp = h.get("/api/auth/me").bearer(&forged).send().await;
    expect_401(
        &resp,
        "token_not_valid",
        CHALLENGE_INVALID_TOKEN,
        "typ refresh as bearer",
    );
    let resp = h
        .post("/api/auth/token/refresh")
        .json(json!({"refresh": forge(&user.id, |_| {})}))
        .send()
        .await;
    expect_401(
        &resp,
        "token_not_valid",
        CHALLENGE,
        "forged access JWT to refresh",
    );
}
