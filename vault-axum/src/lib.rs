//! # vault-axum
//!
//! Serves Vault's HTTP API (`../shared/API.md`) from an axum 0.8 application. Thin by design:
//! every rule lives in `vault-core`; this crate decodes requests, calls the core and encodes
//! its answers.
//!
//! Each module is one file whose handlers carry their `#[utoipa::path]` documentation, and one
//! function returning its [`OpenApiRouter`] ([`auth::router`], [`resources::router`],
//! [`flashcards::router`], [`health::router`]): utoipa-axum registers a route and its OpenAPI
//! operation together, so neither exists without the other. [`app`] mounts them all; [`api`]
//! gives the same routes and document to a host that adds its own.
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
//! let (routes, document) = vault_axum::api(&vault).split_for_parts();
//! // `with_layers` over the whole app: the host's routes answer errors as Vault's do.
//! let app: Router = vault_axum::with_layers(
//!     routes
//!         .merge(vault_axum::docs::router(&vault, &document))
//!         .route("/hello", get(hello))
//!         .with_state(vault.clone()),
//! );
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
//! // Vault's server loop: slow-client timeouts, client IPs, a bounded graceful shutdown.
//! let server = vault_core::server::Server::new(listener, &vault.config().http)
//!     .with_graceful_shutdown(async { tokio::signal::ctrl_c().await.unwrap_or_default() });
//! vault_axum::run(server, app).await?;
//! # Ok(()) }
//! ```
//!
//! A host that documents its own routes with utoipa merges them, and Vault's document, into one
//! (`examples/embed-axum` does this):
//!
//! ```no_run
//! use utoipa_axum::{router::OpenApiRouter, routes};
//! use vault_axum::AuthUser;
//! use vault_core::{Config, Secret, Vault};
//!
//! /// Greets the caller.
//! #[utoipa::path(get, path = "/hello", responses((status = 200, body = String)))]
//! async fn hello(AuthUser(user): AuthUser) -> String {
//!     format!("hello, {}", user.user_id)
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let vault = Vault::open(Config::new("sqlite://vault.db", Secret::generate(32)?)).await?;
//! let (routes, document) = OpenApiRouter::new()
//!     .routes(routes!(hello))
//!     .merge(vault_axum::api(&vault))
//!     .split_for_parts();
//! // One document, both operations, at /api/openapi.json and in the docs page at /api/docs.
//! let app = vault_axum::with_layers(
//!     routes.merge(vault_axum::docs::router(&vault, &document)).with_state(vault),
//! );
//! # let _: axum::Router = app; Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
pub mod docs;
mod error;
mod extract;
pub mod flashcards;
pub mod health;
pub mod resources;
mod routing;

use std::time::Duration;

use axum::http::{HeaderName, Request, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use vault_core::Vault;

pub use error::{ApiError, Reply};
pub use extract::{AuthUser, ClientIp, JsonBody, MaybeAuthUser, PathParam};

#[derive(OpenApi)]
#[openapi(info(
    title = "Vault API",
    description = "Accounts, sessions and personal data modules. Errors are RFC 9457 problem documents."
))]
struct VaultApi;

/// The whole API as the example servers serve it: every module under
/// [`vault_core::HttpConfig::api_prefix`] (default `/api`), its OpenAPI document at
/// `{prefix}/openapi.json` and docs page at `{prefix}/docs`, health at `/health`, and the
/// layers of [`with_layers`]: problem+json for unknown routes, wrong methods and panics, and
/// `X-Request-Id` on every response.
///
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()` so that throttling sees
/// client IPs.
pub fn app(vault: Vault) -> Router {
    let (routes, document) = api(&vault).split_for_parts();
    with_layers(
        routes
            .merge(docs::router(&vault, &document))
            .with_state(vault),
    )
}

/// Every module's routes and their documentation, without the document's own routes
/// ([`docs::router`]) or the cross-cutting layers ([`with_layers`]): what [`app`] serves, for a
/// host to merge with its own [`OpenApiRouter`] before serving one document.
///
/// The routes are registered at their full paths under the prefix rather than nested: a nested
/// router rewrites every request's URI to strip the prefix, a cost paid on each request for
/// nothing the API needs.
pub fn api(vault: &Vault) -> OpenApiRouter<Vault> {
    OpenApiRouter::with_openapi(VaultApi::openapi())
        .merge(auth::router(vault))
        .merge(resources::router(vault))
        .merge(flashcards::router(vault))
        .merge(health::router())
}

/// Adds the cross-cutting layers [`app`] uses to a host's router, for the host's own routes
/// as much as Vault's. Apply it to the whole app, after every route and fallback is added.
///
/// What the layers give every response:
///
/// - an `X-Request-Id` header: the client's own, or a new UUID;
/// - a panic in any handler is a problem+json 500 (the panic text is logged, never sent);
/// - an error response **without a body** becomes the contract's problem+json for its status,
///   with its status and headers kept: axum's 405 for a method a route does not take
///   (`method_not_allowed`, with axum's `Allow`), its 404 for an unknown path (`not_found`),
///   and any bare status a handler or middleware returns: 400 (`parse_error`), 401
///   (`not_authenticated`, with `WWW-Authenticate: Bearer` unless the response has its own),
///   403, 409, 413, 415, 429 (its `Retry-After` kept), 503 and every other 5xx
///   (`server_error`).
///
/// What they leave as it is:
///
/// - any response with a body, whatever its status or type: a handler's own JSON error, a
///   host's fallback page, and axum's own extractor rejections (`Json`, `Query`, `Path`,
///   `Form` and body limits answer with a `text/plain` message). Host routes that want
///   problem+json there take Vault's extractors ([`JsonBody`], [`PathParam`]) or answer with
///   [`ApiError`];
/// - bodiless statuses the contract has no code for (406, 410, 422, ...);
/// - the answer to a HEAD request whose GET answer has a body (axum empties it but keeps its
///   `Content-Length`).
///
/// Each request runs in a `request` span (method, URI, request id) at DEBUG level, as
/// tower-http's own default: at the usual INFO level it costs nothing, where an INFO span
/// would format its fields on every request. Server errors (5xx) are always logged at ERROR
/// with their request id, status and latency, so a client's `X-Request-Id` finds the log line
/// of the core's error (logged just before) at any level.
pub fn with_layers(router: Router) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    // One `layer` call with the whole stack: axum boxes and clones each route once per
    // `Router::layer` call on every request, so several calls cost several boxed clones.
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
        .layer(CatchPanicLayer::custom(error::panic_response))
        // Innermost: it sees the routes' own axum responses (a panic's answer is a problem).
        .layer(error::BareErrorsLayer);
    // No fallback of Vault's own: axum's default one answers a bare 404, which the stack turns
    // into the problem, and a host's own fallback stays the host's.
    router.layer(stack)
}

/// Serves `app` on `server` ([`vault_core::server::Server`]) until its shutdown signal:
/// HTTP/1.1 with the header-read and body-idle timeouts of the server's
/// [`HttpConfig`](vault_core::HttpConfig), each request carrying its client's
/// `ConnectInfo<SocketAddr>` (so throttling sees client IPs, as with
/// `into_make_service_with_connect_info`). `axum::serve` has no way to set either timeout:
/// a host that serves with it instead keeps connections open as long as a client likes,
/// unless it bounds them itself.
///
/// ```no_run
/// use vault_core::server::Server;
/// use vault_core::{Config, Secret, Vault};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let vault = Vault::open(Config::new("sqlite://vault.db", Secret::generate(32)?)).await?;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
/// let server = Server::new(listener, &vault.config().http)
///     .with_graceful_shutdown(async { tokio::signal::ctrl_c().await.unwrap_or_default() });
/// vault_axum::run(server, vault_axum::app(vault)).await?;
/// # Ok(()) }
/// ```
///
/// # Errors
/// As [`vault_core::server::Server::run`].
pub async fn run(server: vault_core::server::Server, app: Router) -> std::io::Result<()> {
    server
        .run(move |request, peer, timer| {
            let mut request = request.map(|body| axum::body::Body::new(timer.wrap(body)));
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            let answer = tower::ServiceExt::oneshot(app.clone(), request);
            async move {
                match answer.await {
                    Ok(response) => response,
                    Err(never) => match never {},
                }
            }
        })
        .await
}

/// The `X-Request-Id` of a request or response, empty if absent or not text.
fn header_request_id(headers: &axum::http::HeaderMap) -> &str {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}
