//! Route tables, one module per API module. Every path answers with and without a trailing
//! slash (clients ported from DRF use the slash).

mod auth;
mod meta;
mod resources;

use axum::http::Method;
use axum::routing::MethodRouter;
use axum::Router;
use vault_core::Vault;

pub use auth::router as auth;
pub use meta::{docs, health};
pub use resources::router as resources;

/// Every API module (for nesting under a prefix), with docs and OpenAPI, behind the general
/// rate limits of API.md §9.
pub fn api(vault: &Vault) -> Router<Vault> {
    Router::new()
        .merge(auth())
        .merge(resources())
        .merge(docs())
        .layer(axum::middleware::from_fn_with_state(
            vault.clone(),
            crate::extract::throttle,
        ))
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
