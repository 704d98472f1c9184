//! API.md §10: the OpenAPI document at `{prefix}/openapi.json` and the offline docs page at
//! `{prefix}/docs`. These describe the API rather than belong to it, so they are not in the
//! document themselves.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderValue;
use axum::routing::{get, MethodRouter};
use axum::Router;
use bytes::Bytes;
use utoipa::openapi::OpenApi;
use vault_core::{Error, Vault};

use crate::error::{ApiError, Reply};
use crate::extract::PathParam;

/// Serves `document` at `{prefix}/openapi.json` and the docs page reading it at `{prefix}/docs`
/// (its assets compiled in, no internet needed), behind the general rate limits of API.md §9.
/// The document is serialized once, here.
pub fn router(vault: &Vault, document: &OpenApi) -> Router<Vault> {
    let prefix = &vault.config().http.api_prefix;
    // Serializing a document cannot fail in practice (string keys, no foreign types); if it did,
    // the route answers the 500 problem rather than the server refusing to start.
    let document = serde_json::to_vec(document)
        .map(Bytes::from)
        .map_err(|error| error.to_string());
    let openapi = get(move || {
        let document = document.clone();
        async move { document_response(document) }
    });
    let method_not_allowed = |router: MethodRouter<Vault>| {
        router.fallback(|method| crate::error::method_not_allowed(method, ["GET"].into()))
    };
    let openapi = method_not_allowed(openapi);
    let page = method_not_allowed(get(docs_page));
    let file = method_not_allowed(get(docs_file));
    Router::new()
        .route(&format!("{prefix}/openapi.json"), openapi.clone())
        .route(&format!("{prefix}/openapi.json/"), openapi)
        .route(&format!("{prefix}/docs"), page.clone())
        .route(&format!("{prefix}/docs/"), page)
        .route(&format!("{prefix}/docs/{{*file}}"), file)
        .layer(axum::middleware::from_fn_with_state(
            vault.clone(),
            crate::extract::throttle,
        ))
}

fn document_response(document: Result<Bytes, String>) -> Result<Reply, ApiError> {
    let body = document
        .map_err(|cause| ApiError(Error::Internal(format!("OpenAPI document: {cause}"))))?;
    let mut response = http::Response::new(body);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response.into())
}

async fn docs_page(State(vault): State<Vault>) -> Reply {
    vault.docs_response("").into()
}

async fn docs_file(State(vault): State<Vault>, PathParam(file): PathParam) -> Reply {
    vault.docs_response(&file).into()
}
