//! The conformance suite of vault-core, against the axum adapter, in-process.

use axum::body::Body;
use bytes::Bytes;
use http_body_util::BodyExt;
use tower::ServiceExt;
use vault_core::testkit::{BoxFuture, TestApp};
use vault_core::Vault;

struct AxumApp(axum::Router);

impl TestApp for AxumApp {
    fn call(&self, request: http::Request<Bytes>) -> BoxFuture<'_, http::Response<Bytes>> {
        let router = self.0.clone();
        Box::pin(async move {
            let response = match router.oneshot(request.map(Body::from)).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            let (parts, body) = response.into_parts();
            let bytes = body
                .collect()
                .await
                .map(|c| c.to_bytes())
                .unwrap_or_default();
            http::Response::from_parts(parts, bytes)
        })
    }
}

fn app(vault: Vault) -> Box<dyn TestApp> {
    Box::new(AxumApp(vault_axum::app(vault)))
}

vault_core::conformance_tests!(app);

/// A host that mounts only auth and flashcards, with the cross-cutting layers.
fn auth_and_flashcards(vault: Vault) -> Box<dyn TestApp> {
    let routes = vault_axum::auth::router(&vault).merge(vault_axum::flashcards::router(&vault));
    let router = axum::Router::from(routes).with_state(vault);
    Box::new(AxumApp(vault_axum::with_layers(router)))
}

#[tokio::test]
async fn auth_and_flashcards_mount_alone() {
    vault_core::testkit::run(
        vault_core::testkit::Backend::Sqlite,
        auth_and_flashcards,
        vault_core::testkit::scenarios::auth_and_flashcards_mounted_alone,
    )
    .await;
}
