//! API.md §10: OpenAPI document, docs page, health.

use poem::web::{Data, Path};
use poem::{get, handler, Response, Route};
use vault_core::Vault;

use super::both;
use crate::error::into_poem;

/// Adds `/openapi.json` and the offline docs page at `/docs` to `route`.
pub fn docs(route: Route) -> Route {
    let mut r = route;
    r = both(r, "/openapi.json", &["GET"], get(openapi));
    r = both(r, "/docs", &["GET"], get(docs_page));
    r.at("/docs/*file", get(docs_file))
}

/// Adds `/health/live` and `/health/ready` to `route` (never throttled, no auth).
pub fn health(route: Route) -> Route {
    let mut r = route;
    r = both(r, "/health/live", &["GET"], get(live));
    r = both(r, "/health/ready", &["GET"], get(ready));
    r
}

#[handler]
fn openapi(vault: Data<&Vault>) -> Response {
    let document = crate::openapi::document(&vault.config().api_prefix);
    match serde_json::to_vec(&document) {
        Ok(body) => Response::builder()
            .content_type("application/json")
            .body(body),
        Err(error) => into_poem(vault_core::Error::internal(error).to_response()),
    }
}

#[handler]
fn docs_page(vault: Data<&Vault>) -> Response {
    into_poem(vault.docs_response(""))
}

#[handler]
fn docs_file(vault: Data<&Vault>, Path(file): Path<String>) -> Response {
    into_poem(vault.docs_response(&file))
}

#[handler]
fn live(vault: Data<&Vault>) -> Response {
    into_poem(vault.live_response())
}

#[handler]
async fn ready(vault: Data<&Vault>) -> Response {
    into_poem(vault.ready_response().await)
}
