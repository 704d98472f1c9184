//! API.md §10: OpenAPI document, docs page, health.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::Router;
use vault_core::Vault;

use super::Table;
use crate::error::Reply;

/// `/openapi.json` and the offline docs page at `/docs`.
pub fn docs() -> Router<Vault> {
    docs_table(Table::new("")).done()
}

/// Adds `/openapi.json`, `/docs` and the docs page's files to `t`.
pub(crate) fn docs_table(t: Table<'_>) -> Table<'_> {
    t.both("/openapi.json", &["GET"], get(openapi))
        .both("/docs", &["GET"], get(docs_page))
        .route("/docs/{*file}", get(docs_file))
}

/// `/health/live` and `/health/ready` (never throttled, no auth).
pub fn health() -> Router<Vault> {
    Table::new("")
        .both("/health/live", &["GET"], get(live))
        .both("/health/ready", &["GET"], get(ready))
        .done()
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
