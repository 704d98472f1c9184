//! The extractors a host uses on its own routes: `AuthUser` and `MaybeAuthUser`.

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http_body_util::BodyExt;
use tower::ServiceExt;
use vault_axum::{AuthUser, MaybeAuthUser};
use vault_core::testkit::{test_config, Backend, TestDatabase, TEST_PASSWORD};
use vault_core::Vault;

async fn optional(MaybeAuthUser(caller): MaybeAuthUser) -> String {
    caller.map_or_else(|| "anonymous".to_string(), |p| p.user_id.to_string())
}

async fn required(AuthUser(caller): AuthUser) -> String {
    caller.user_id.to_string()
}

async fn call(app: &Router, path: &str, token: Option<&str>) -> (u16, String) {
    let mut request = http::Request::get(path);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, String::from_utf8_lossy(&body).to_string())
}

#[tokio::test]
async fn host_routes_get_the_verified_caller() {
    let db = TestDatabase::create(Backend::Sqlite).await;
    let vault = Vault::open(test_config(&db.url)).await.unwrap();
    let request = serde_json::json!({"username": "host", "email": "host@example.com", "password": TEST_PASSWORD});
    let registered = vault
        .auth()
        .register(serde_json::from_value(request).unwrap(), None)
        .await
        .unwrap();
    let app = Router::new()
        .route("/optional", get(optional))
        .route("/required", get(required))
        .with_state(vault);
    let id = registered.user.id.to_string();

    assert_eq!(
        call(&app, "/optional", None).await,
        (200, "anonymous".into())
    );
    assert_eq!(
        call(&app, "/optional", Some(&registered.access)).await,
        (200, id.clone())
    );
    assert_eq!(
        call(&app, "/required", Some(&registered.access)).await,
        (200, id)
    );
    // A token that was sent and is bad is refused even where auth is optional.
    let (status, body) = call(&app, "/optional", Some("not-a-token")).await;
    assert_eq!(status, 401);
    assert!(body.contains("token_not_valid"), "{body}");
    let (status, body) = call(&app, "/required", None).await;
    assert_eq!(status, 401);
    assert!(body.contains("not_authenticated"), "{body}");
}
