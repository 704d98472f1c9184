//! The extractors a host uses on its own routes: `AuthUser` and `MaybeAuthUser`.

use poem::test::TestClient;
use poem::{get, handler, EndpointExt, Route};
use vault_core::testkit::{test_config, Backend, TestDatabase, TEST_PASSWORD};
use vault_core::Vault;
use vault_poem::{AuthUser, MaybeAuthUser};

#[handler]
fn optional(MaybeAuthUser(caller): MaybeAuthUser) -> String {
    caller.map_or_else(|| "anonymous".to_string(), |p| p.user_id.to_string())
}

#[handler]
fn required(AuthUser(caller): AuthUser) -> String {
    caller.user_id.to_string()
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
    let app = vault_poem::with_layers(
        Route::new()
            .at("/optional", get(optional))
            .at("/required", get(required))
            .data(vault),
    );
    let client = TestClient::new(app);
    let id = registered.user.id.to_string();
    let bearer = format!("Bearer {}", registered.access);

    let resp = client.get("/optional").send().await;
    resp.assert_status_is_ok();
    resp.assert_text("anonymous").await;
    let resp = client
        .get("/optional")
        .header("authorization", &bearer)
        .send()
        .await;
    resp.assert_text(&id).await;
    let resp = client
        .get("/required")
        .header("authorization", &bearer)
        .send()
        .await;
    resp.assert_text(&id).await;
    // A token that was sent and is bad is refused even where auth is optional.
    let resp = client
        .get("/optional")
        .header("authorization", "Bearer not-a-token")
        .send()
        .await;
    resp.assert_status(http::StatusCode::UNAUTHORIZED);
    resp.assert_json(&serde_json::json!({
        "type": "about:blank", "title": "Unauthorized", "status": 401,
        "detail": "Token is invalid or expired.", "code": "token_not_valid"
    }))
    .await;
    let resp = client.get("/required").send().await;
    resp.assert_status(http::StatusCode::UNAUTHORIZED);
    resp.assert_header("www-authenticate", "Bearer");
}
