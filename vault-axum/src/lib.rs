//! # vault-axum
//!
//! Serves Vault's HTTP API (`../shared/API.md`) from an axum 0.8 application. Thin by design:
//! every rule lives in `vault-core`; this crate decodes requests, calls the core and encodes
//! its answers.
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use vault_axum::AuthUser;
//! use vault_core::{Config, Secret, Vault};
//!
//! async fn hello(AuthUser(user): AuthUser) -> String {
//!     format!("hello, {}", user.user_id)
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let vault = Vault::open(Config::new("sqlite://vault.db", Secret::generate(32)?)).await?;
//! let app = Router::new()
//!     .route("/hello", get(hello))
//!     .with_state(vault.clone())
//!     .merge(vault_axum::app(vault));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
//! axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await?;
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod extract;
pub mod routes;

use axum::http::{HeaderName, Request};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use vault_core::Vault;

pub use error::{ApiError, Reply};
pub use extract::{AuthUser, ClientIp, JsonBody, MaybeAuthUser};

/// The whole API as the example servers serve it: every module under
/// [`vault_core::Config::api_prefix`] (default `/api`), health at `/health`, problem+json for
/// unknown routes, wrong methods and panics, and `X-Request-Id` on every response.
///
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()` so that throttling sees
/// client IPs.
pub fn app(vault: Vault) -> Router {
    let prefix = vault.config().api_prefix.clone();
    let api = routes::api(&vault);
    let router = if prefix.is_empty() {
        api
    } else {
        Router::new().nest(&prefix, api)
    };
    with_layers(router.merge(routes::health()).with_state(vault))
}

/// Adds the cross-cutting layers [`app`] uses to a host's router: a problem+json 404 fallback,
/// panics as problem+json 500, request ids, and request tracing.
pub fn with_layers(router: Router) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    router
        .fallback(error::not_found)
        .layer(CatchPanicLayer::custom(error::panic_response))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let id = request
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}
