//! The conformance suite of vault-core, against the poem adapter, in-process.

use bytes::Bytes;
use poem::endpoint::BoxEndpoint;
use poem::{Endpoint, EndpointExt, Request};
use vault_core::testkit::{BoxFuture, TestApp};
use vault_core::Vault;

struct PoemApp(BoxEndpoint<'static, poem::Response>);

impl TestApp for PoemApp {
    fn call(&self, request: http::Request<Bytes>) -> BoxFuture<'_, http::Response<Bytes>> {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let mut builder = Request::builder().method(parts.method).uri(parts.uri);
            for (name, value) in &parts.headers {
                builder = builder.header(name, value);
            }
            let response = self.0.get_response(builder.body(body)).await;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.into_body().into_bytes().await.unwrap_or_default();
            let mut out = http::Response::new(body);
            *out.status_mut() = status;
            *out.headers_mut() = headers;
            out
        })
    }
}

fn app(vault: Vault) -> Box<dyn TestApp> {
    Box::new(PoemApp(vault_poem::app(vault).boxed()))
}

vault_core::conformance_tests!(app);

/// A host that mounts only auth and flashcards under `/api`, behind the general rate limits,
/// with the cross-cutting layers.
fn auth_and_flashcards(vault: Vault) -> Box<dyn TestApp> {
    let service = poem_openapi::OpenApiService::new(
        (vault_poem::AuthApi, vault_poem::FlashcardsApi),
        "host",
        "1",
    );
    let route = poem::Route::new()
        .nest(
            "/api",
            vault_poem::serve(service).around(vault_poem::throttle),
        )
        .data(vault);
    Box::new(PoemApp(vault_poem::with_layers(route).boxed()))
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
