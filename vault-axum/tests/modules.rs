//! Each module's `router` on its own, and the API prefix as runtime configuration: the routes
//! and their documentation move together.

use axum::body::Body;
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;
use vault_core::testkit::{test_config, Backend, TestDatabase, TEST_PASSWORD};
use vault_core::Vault;

async fn call(app: &Router, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = http::Request::builder().method(method).uri(path);
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    let response = app
        .clone()
        .oneshot(request.body(body).expect("request"))
        .await
        .expect("infallible");
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn paths(document: &Value) -> Vec<String> {
    document["paths"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_module_router_mounts_alone_with_its_own_document() {
    let db = TestDatabase::create(Backend::Sqlite).await;
    let vault = Vault::open(test_config(&db.url)).await.expect("vault");
    let auth = vault_axum::auth::router(&vault);
    let document = serde_json::to_value(auth.get_openapi()).expect("document");
    let app: Router = Router::from(auth).with_state(vault);

    let (status, body) = call(
        &app,
        "POST",
        "/api/auth/register/",
        Some(json!({"username": "alone", "email": "alone@example.com", "password": TEST_PASSWORD})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = call(&app, "PUT", "/api/auth/register", Some(json!({}))).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (405, Some("method_not_allowed"))
    );
    // Only this module is mounted, and only this module is documented.
    let (status, _) = call(&app, "GET", "/api/resources", None).await;
    assert_eq!(status, 404);
    let documented = paths(&document);
    assert!(
        documented.contains(&"/api/auth/me".to_string()),
        "{documented:?}"
    );
    assert!(
        documented.iter().all(|p| p.starts_with("/api/auth/")),
        "{documented:?}"
    );
    assert_eq!(
        document["tags"],
        json!([{"name": "auth", "description": "Accounts and sessions"}])
    );
    assert_eq!(
        document["components"]["securitySchemes"]["oauth2"]["flows"]["password"]["tokenUrl"],
        "/api/auth/token"
    );
    assert!(document["components"]["schemas"]["Problem"].is_object());
    assert_eq!(
        document["paths"]["/api/auth/me"]["get"]["responses"]["401"]["content"]
            ["application/problem+json"]["schema"]["$ref"],
        "#/components/schemas/Problem"
    );
}

#[tokio::test]
async fn the_prefix_moves_routes_and_document_together() {
    let db = TestDatabase::create(Backend::Sqlite).await;
    let mut config = test_config(&db.url);
    config.http.api_prefix = "/v1/vault".into();
    let vault = Vault::open(config).await.expect("vault");
    let app = vault_axum::app(vault);

    let (status, document) = call(&app, "GET", "/v1/vault/openapi.json", None).await;
    assert_eq!(status, 200);
    let documented = paths(&document);
    assert!(
        documented.contains(&"/v1/vault/resources/{id}".to_string()),
        "{documented:?}"
    );
    assert!(
        documented.contains(&"/health/live".to_string()),
        "{documented:?}"
    );
    assert!(
        documented
            .iter()
            .all(|p| p.starts_with("/v1/vault/") || p.starts_with("/health/")),
        "{documented:?}"
    );
    assert_eq!(
        document["components"]["securitySchemes"]["oauth2"]["flows"]["password"]["tokenUrl"],
        "/v1/vault/auth/token"
    );
    let (status, body) = call(
        &app,
        "POST",
        "/v1/vault/auth/register",
        Some(json!({"username": "moved", "email": "moved@example.com", "password": TEST_PASSWORD})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = call(&app, "GET", "/api/openapi.json", None).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn health_is_documented_without_security() {
    let health = vault_axum::health::router();
    let document = serde_json::to_value(health.get_openapi()).expect("document");
    assert_eq!(paths(&document), ["/health/live", "/health/ready"]);
    assert!(document["components"]["securitySchemes"].is_null());
    assert_eq!(
        document["paths"]["/health/ready"]["get"]["responses"]["503"]["content"]
            ["application/problem+json"]["schema"]["$ref"],
        "#/components/schemas/Problem"
    );
}
