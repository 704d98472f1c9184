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

use std::time::Duration;

use axum::http::{HeaderName, Request, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use vault_core::Vault;

pub use error::{ApiError, Reply};
pub use extract::{AuthUser, ClientIp, JsonBody, MaybeAuthUser};

/// The whole API as the example servers serve it: every module under
/// [`vault_core::HttpConfig::api_prefix`] (default `/api`), health at `/health`, problem+json for
/// unknown routes, wrong methods and panics, and `X-Request-Id` on every response.
///
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()` so that throttling sees
/// client IPs.
pub fn app(vault: Vault) -> Router {
    let api = routes::api_at(&vault, &vault.config().http.api_prefix);
    with_layers(api.merge(routes::health()).with_state(vault))
}

/// Adds the cross-cutting layers [`app`] uses to a host's router: a problem+json 404 fallback,
/// panics as problem+json 500, request ids, and request tracing.
///
/// Each request runs in a `request` span (method, URI, request id) at DEBUG level, as
/// tower-http's own default: at the usual INFO level it costs nothing, where an INFO span
/// would format its fields on every request. Server errors (5xx) are always logged at ERROR
/// with their request id, status and latency, so a client's `X-Request-Id` finds the log line
/// of the core's error (logged just before) at any level.
pub fn with_layers(router: Router) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    // One `layer` call with the whole stack: axum boxes and clones each route once per
    // `Router::layer` call on every request, so four calls cost four boxed clones.
    let stack = tower::ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(request_id.clone(), MakeRequestUuid))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    let id = header_request_id(request.headers());
                    tracing::debug_span!("request", method = %request.method(), uri = %request.uri(), request_id = %id)
                })
                .on_response(|response: &Response<_>, latency: Duration, _: &tracing::Span| {
                    if response.status().is_server_error() {
                        let id = header_request_id(response.headers());
                        tracing::error!(request_id = %id, status = response.status().as_u16(), ?latency, "server error response");
                    }
                })
                .on_failure(()),
        )
        // Inside the trace layer, so that `on_response` sees the id on the response.
        .layer(PropagateRequestIdLayer::new(request_id))
        .layer(CatchPanicLayer::custom(error::panic_response));
    router.fallback(error::not_found).layer(stack)
}

/// The `X-Request-Id` of a request or response, empty if absent or not text.
fn header_request_id(headers: &axum::http::HeaderMap) -> &str {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}
