//! Writes and reads by an account that another server instance has just deleted (API.md §1,
//! §4): inside the second instance's token-state window they are 401, never a 500 from a
//! foreign key, and nothing is stored.

use std::time::Duration;

use bytes::Bytes;
use http::Method;
use serde_json::{json, Value};

use super::hostile_input::create;
use super::{expect_401, CHALLENGE_INVALID_TOKEN};
use crate::testkit::{Ctx, Harness, Resp, TestApp};

/// Another server instance over the database and blob directory of `h`, as behind a load
/// balancer, with `ttl` as its token-state cache lifetime.
async fn second_instance(ctx: &Ctx, h: &Harness, ttl: Duration) -> Box<dyn TestApp> {
    let mut config = crate::testkit::test_config(&h.database.url);
    config.auth.token_state_ttl = ttl;
    config.resources.blob_dir = Some(h.database.files_dir());
    if !ctx.resource_cache {
        config.resources.cache = crate::config::CacheConfig::off();
    }
    let vault = crate::Vault::open(config).await.expect("second instance");
    (ctx.factory)(vault)
}

/// Sends a request with a bearer token (and a body of the given type) to `app`.
async fn call(app: &dyn TestApp, method: Method, path: &str, token: &str, body: Body<'_>) -> Resp {
    let mut request = http::Request::new(Bytes::new());
    *request.method_mut() = method;
    *request.uri_mut() = path.parse().expect("request path");
    let headers = request.headers_mut();
    headers.insert(
        http::header::AUTHORIZATION,
        http::HeaderValue::from_str(&format!("Bearer {token}")).expect("header"),
    );
    if let Some((content_type, bytes)) = body {
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_str(content_type).expect("content type"),
        );
        *request.body_mut() = Bytes::from(bytes);
    }
    let (parts, body) = app.call(request).await.into_parts();
    Resp {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// A request body and its media type.
type Body<'a> = Option<(&'a str, Vec<u8>)>;

fn json_body(value: Value) -> Body<'static> {
    Some(("application/json", value.to_string().into_bytes()))
}

pub async fn requests_of_an_account_deleted_elsewhere_are_401(ctx: Ctx) {
    // Long enough that the second instance trusts the token for the whole scenario.
    let ttl = Duration::from_secs(120);
    let a = ctx.start_with(|c| c.auth.token_state_ttl = ttl).await;
    let b = second_instance(&ctx, &a, ttl).await;
    let ada = a.register("ada").await;
    let bob = a.register("bob").await;
    let kept = create(
        &a,
        &ada,
        json!({"kind": "file", "title": "kept", "tags": ["rust"]}),
    )
    .await;
    let kept_path = format!("/api/resources/{}", kept["id"].as_str().unwrap_or_default());
    let tag = a
        .get("/api/tags")
        .bearer(&ada.access)
        .send()
        .await
        .expect_status(200)
        .json();
    let tag_path = format!(
        "/api/tags/{}",
        tag["results"][0]["id"].as_str().unwrap_or_default()
    );
    assert_eq!(
        call(b.as_ref(), Method::GET, "/api/auth/me", &ada.access, None)
            .await
            .status,
        200,
        "B caches Ada's state"
    );
    a.delete("/api/auth/me")
        .bearer(&ada.access)
        .json(json!({"password": ada.password}))
        .send()
        .await
        .expect_status(204);

    let boundary = "vault-hostile-boundary";
    let multipart = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\
         Content-Type: text/plain\r\n\r\nhello\r\n--{boundary}--\r\n"
    )
    .into_bytes();
    let multipart_type = format!("multipart/form-data; boundary={boundary}");
    // Listings find nothing: simply empty.
    for list in ["/api/resources", "/api/tags"] {
        let resp = call(b.as_ref(), Method::GET, list, &ada.access, None).await;
        assert_eq!(resp.status.as_u16(), 200, "{list}");
        assert_eq!(resp.json()["count"], 0, "{list}");
    }
    let attempts: Vec<(Method, String, Body<'_>)> = vec![
        (
            Method::POST,
            "/api/resources".into(),
            json_body(json!({"kind": "note", "title": "late"})),
        ),
        (
            Method::POST,
            "/api/resources".into(),
            json_body(json!({"kind": "note", "title": "late", "tags": ["rust", "new"]})),
        ),
        (
            Method::POST,
            "/api/tags".into(),
            json_body(json!({"name": "late"})),
        ),
        (Method::GET, kept_path.clone(), None),
        (
            Method::PUT,
            kept_path.clone(),
            json_body(json!({"kind": "note", "title": "x", "tags": ["y"]})),
        ),
        (
            Method::PATCH,
            kept_path.clone(),
            json_body(json!({"title": "x", "tags": ["y"]})),
        ),
        (
            Method::PUT,
            format!("{kept_path}/file"),
            Some((multipart_type.as_str(), multipart.clone())),
        ),
        (Method::GET, format!("{kept_path}/file"), None),
        (Method::DELETE, format!("{kept_path}/file"), None),
        (Method::DELETE, kept_path.clone(), None),
        (Method::GET, tag_path.clone(), None),
        (
            Method::PATCH,
            tag_path.clone(),
            json_body(json!({"name": "z"})),
        ),
        (Method::DELETE, tag_path.clone(), None),
        (
            Method::POST,
            "/api/auth/password".into(),
            json_body(json!({"current_password": ada.password,
                             "new_password": "another-sturdy-quokka-77"})),
        ),
        (
            Method::DELETE,
            "/api/auth/me".into(),
            json_body(json!({"password": ada.password})),
        ),
        // Last: a profile change makes B forget the cached state (and then refuse the token).
        (
            Method::PATCH,
            "/api/auth/me".into(),
            json_body(json!({"display_name": "Ghost"})),
        ),
    ];
    for (method, path, body) in attempts {
        let case = format!("{method} {path} on B");
        let resp = call(b.as_ref(), method, &path, &ada.access, body).await;
        assert_eq!(
            resp.header("content-type"),
            Some("application/problem+json"),
            "{case}"
        );
        let problem = expect_401(&resp, "token_not_valid", CHALLENGE_INVALID_TOKEN, &case);
        assert_eq!(problem["detail"], "User not found.", "{case}");
    }
    // Nothing was written for Ada, no blob was kept, and Bob's writes on B go through.
    assert_eq!(a.database.blob_count(), 0);
    let created = call(
        b.as_ref(),
        Method::POST,
        "/api/resources",
        &bob.access,
        json_body(json!({"kind": "note", "title": "bob's", "tags": ["rust"]})),
    )
    .await;
    assert_eq!(created.status.as_u16(), 201, "{:?}", created.body);
    let missing = format!("/api/resources/{}", uuid::Uuid::now_v7());
    let resp = call(b.as_ref(), Method::GET, &missing, &bob.access, None).await;
    assert_eq!(resp.status.as_u16(), 404, "a live account's miss stays 404");
    let tags = a
        .get("/api/tags")
        .bearer(&bob.access)
        .send()
        .await
        .expect_status(200)
        .json();
    assert_eq!(tags["count"], 1, "{tags}");
}
