//! The two adapters document one API: the OpenAPI document vault-poem builds from its
//! poem-openapi operations and the one vault-axum builds from its utoipa-annotated routes must
//! agree on everything a client depends on (`vault_core::testkit::openapi::outline`).

use axum::body::Body;
use http_body_util::BodyExt;
use poem::{Endpoint, Request};
use tower::ServiceExt;
use vault_core::testkit::openapi::{drift, outline};
use vault_core::testkit::{test_config, Backend, TestDatabase};
use vault_core::Vault;

async fn poem_document(vault: Vault, path: &str) -> serde_json::Value {
    let response = vault_poem::app(vault)
        .get_response(Request::builder().uri(path.parse().expect("path")).finish())
        .await;
    assert_eq!(response.status(), http::StatusCode::OK, "poem {path}");
    let body = response.into_body().into_bytes().await.expect("poem body");
    serde_json::from_slice(&body).expect("poem serves JSON")
}

async fn axum_document(vault: Vault, path: &str) -> serde_json::Value {
    let request = http::Request::get(path)
        .body(Body::empty())
        .expect("request");
    let response = match vault_axum::app(vault).oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    assert_eq!(response.status(), http::StatusCode::OK, "axum {path}");
    let body = response
        .into_body()
        .collect()
        .await
        .expect("axum body")
        .to_bytes();
    serde_json::from_slice(&body).expect("axum serves JSON")
}

async fn documents(prefix: &str) -> (serde_json::Value, serde_json::Value) {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let mut config = test_config(&database.url);
    config.resources.blob_dir = Some(database.files_dir());
    config.http.api_prefix = prefix.to_string();
    let vault = Vault::open(config).await.expect("vault opens");
    let path = format!("{prefix}/openapi.json");
    (
        axum_document(vault.clone(), &path).await,
        poem_document(vault, &path).await,
    )
}

#[tokio::test]
async fn both_adapters_serve_the_same_document() {
    let (axum, poem) = documents("/api").await;
    let (axum, poem) = (outline(&axum), outline(&poem));
    let drift = drift(&axum, &poem);
    assert!(
        drift.is_empty(),
        "the documents differ (- axum only, + poem only):\n{}",
        drift.join("\n")
    );
    // The outline is not empty by accident: every module's operations are in it.
    for line in [
        "POST /api/auth/register response 201 application/json RegisterResponse",
        "POST /api/auth/register response 201 header location string",
        "POST /api/resources response 201 header location string",
        "POST /api/tags response 201 header location string",
        "GET /api/auth/me security bearer | oauth2",
        "GET /api/resources parameter query page integer",
        "PUT /api/resources/{id}/file body required multipart/form-data FileUpload",
        "GET /api/tags/{id} response 404 application/problem+json Problem",
        "GET /health/ready response 503 application/problem+json Problem",
        "security-scheme oauth2 oauth2 password(/api/auth/token)",
    ] {
        assert!(axum.contains(line), "missing: {line}\n{axum:#?}");
    }
}

#[tokio::test]
async fn both_adapters_follow_the_prefix() {
    let (axum, poem) = documents("/v1/vault").await;
    let (axum, poem) = (outline(&axum), outline(&poem));
    assert!(drift(&axum, &poem).is_empty(), "{:#?}", drift(&axum, &poem));
    assert!(axum.contains("GET /v1/vault/auth/me security bearer | oauth2"));
    assert!(
        axum.iter().all(|line| !line.contains(" /api/")),
        "{axum:#?}"
    );
}
