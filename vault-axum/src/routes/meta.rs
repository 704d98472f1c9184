//! API.md §10: OpenAPI document, docs page, health.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::Router;
use vault_core::Vault;

use super::both;
use crate::error::Reply;

/// `/openapi.json` and the offline docs page at `/docs`.
pub fn docs() -> Router<Vault> {
    let mut r = Router::new();
    r = both(r, "/openapi.json", &["GET"], get(openapi));
    r = both(r, "/docs", &["GET"], get(docs_page));
    r = r.route("/docs/{*file}", get(docs_file));
    r
}

/// `/health/live` and `/health/ready` (never throttled, no auth).
pub fn health() -> Router<Vault> {
    let mut r = Router::new();
    r = both(r, "/health/live", &["GET"], get(live));
    r = both(r, "/health/ready", &["GET"], get(ready));
    r
}

async fn openapi(State(vault): State<Vault>) -> Reply {
    vault.openapi_response().into()
}

async fn docs_page(State(vault): State<Vault>) -> Reply {
    vault.docs_response("").into()
}

async fn docs_file(State(vault): State<Vault>, Path(file): Path<String>) -> Reply {
    vault.docs_response(&file).into()
}

async fn live(State(vault): State<Vault>) -> Reply {
    vault.live_response().into()
}

async fn ready(State(vault): State<Vault>) -> Reply {
    vault.ready_response().await.into()
}
