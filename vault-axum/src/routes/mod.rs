//! Route tables, one module per API module. Every path answers with and without a trailing
//! slash (clients ported from DRF use the slash).

mod auth;
mod meta;

use axum::http::Method;
use axum::routing::MethodRouter;
use axum::Router;
use vault_core::Vault;

pub use auth::router as auth;
pub use meta::{docs, health};

/// Every API module (for nesting under a prefix), with docs and OpenAPI.
pub fn api() -> Router<Vault> {
    Router::new().merge(auth()).merge(docs())
}

/// Adds `method_router` at `path` and at `path/`; other methods get the problem+json 405 with
/// `Allow: {allow}` (axum cannot tell a nested route's methods itself).
pub(crate) fn both(
    router: Router<Vault>,
    path: &str,
    allow: &'static [&'static str],
    method_router: MethodRouter<Vault>,
) -> Router<Vault> {
    let method_router = method_router
        .fallback(move |method: Method| crate::error::method_not_allowed(method, allow));
    router
        .route(path, method_router.clone())
        .route(&format!("{path}/"), method_router)
}
