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
    api_at(vault, "")
}

/// [`api`] with every path under `prefix` (empty or `/segment...`). [`crate::app`] registers
/// the routes at their full paths rather than nesting: a nested router rewrites every request's
/// URI to strip the prefix, a cost paid on each request for nothing the API needs.
pub(crate) fn api_at(vault: &Vault, prefix: &str) -> Router<Vault> {
    Router::new()
        .merge(auth::table(Table::new(prefix)).done())
        .merge(resources::table(Table::new(prefix)).done())
        .merge(meta::docs_table(Table::new(prefix)).done())
        .layer(axum::middleware::from_fn_with_state(
            vault.clone(),
            crate::extract::throttle,
        ))
}

/// A route table being built, every path under one prefix.
pub(crate) struct Table<'p> {
    router: Router<Vault>,
    prefix: &'p str,
}

impl<'p> Table<'p> {
    /// An empty table whose paths go under `prefix`.
    pub(crate) fn new(prefix: &'p str) -> Self {
        Self {
            router: Router::new(),
            prefix,
        }
    }

    /// Adds `method_router` at `path` and at `path/`; other methods get the problem+json 405
    /// with `Allow: {allow}` (axum cannot tell a nested route's methods itself).
    pub(crate) fn both(
        self,
        path: &str,
        allow: &'static [&'static str],
        method_router: MethodRouter<Vault>,
    ) -> Self {
        let method_router = method_router
            .fallback(move |method: Method| crate::error::method_not_allowed(method, allow));
        let path = format!("{}{path}", self.prefix);
        let router = self
            .router
            .route(&path, method_router.clone())
            .route(&format!("{path}/"), method_router);
        Self { router, ..self }
    }

    /// Adds `method_router` at `path` only.
    pub(crate) fn route(self, path: &str, method_router: MethodRouter<Vault>) -> Self {
        let router = self
            .router
            .route(&format!("{}{path}", self.prefix), method_router);
        Self { router, ..self }
    }

    /// The finished router.
    pub(crate) fn done(self) -> Router<Vault> {
        self.router
    }
}
