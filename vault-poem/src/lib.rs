//! # vault-poem
//!
//! Serves Vault's HTTP API (`../shared/API.md`) from a poem 3 application, byte for byte like
//! `vault-axum`. Thin by design: every rule lives in `vault-core`.
//!
//! Each module is a poem-openapi [`OpenApi`](trait@poem_openapi::OpenApi): [`AuthApi`],
//! [`ResourcesApi`], [`FlashcardsApi`] and [`HealthApi`]. [`app`] mounts them all as the example servers serve
//! them; a host that documents its own operations with poem-openapi composes Vault's APIs
//! with its own in one `OpenApiService`, so its document lists both:
//!
//! ```no_run
//! use poem::{EndpointExt, Route};
//! use poem_openapi::{payload::PlainText, OpenApi, OpenApiService};
//! use vault_core::{Config, Secret, Vault};
//! use vault_poem::{ApiAuth, AuthApi, ResourcesApi};
//!
//! struct HelloApi;
//!
//! #[OpenApi]
//! impl HelloApi {
//!     /// Greets the authenticated caller.
//!     #[oai(path = "/hello", method = "get")]
//!     async fn hello(&self, ApiAuth(caller): ApiAuth) -> PlainText<String> {
//!         PlainText(format!("hello, {}", caller.user_id))
//!     }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let vault = Vault::open(Config::new("sqlite://vault.db", Secret::generate(32)?)).await?;
//! let service = OpenApiService::new((AuthApi, ResourcesApi, HelloApi), "My app", "1.0")
//!     .url_prefix("/api");
//! let app = Route::new()
//!     .at("/api/openapi.json", service.spec_endpoint())
//!     .nest("/api", vault_poem::serve(service).around(vault_poem::throttle))
//!     .data(vault.clone());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
//! // Vault's server loop: slow-client timeouts, client IPs, a bounded graceful shutdown.
//! let server = vault_core::server::Server::new(listener, &vault.config().http)
//!     .with_graceful_shutdown(async { tokio::signal::ctrl_c().await.unwrap_or_default() });
//! vault_poem::run(server, vault_poem::with_layers(app)).await?;
//! # Ok(()) }
//! ```
//!
//! Plain poem handlers use the extractors [`AuthUser`], [`MaybeAuthUser`], [`ClientIp`] and
//! [`JsonBody`]; poem-openapi operations use [`ApiAuth`] (documented as the `bearer` and
//! `oauth2` security schemes), [`Json`], `Path<`[`Id`]`>`, and answer with the core's bytes
//! through [`Answer`]. Every error, poem's and poem-openapi's included, is the contract's
//! problem+json.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod answer;
mod auth;
mod docs;
mod error;
mod extract;
mod flashcards;
mod health;
mod params;
mod payload;
mod resources;
mod routing;
mod tags;

use poem::{Endpoint, EndpointExt, IntoEndpoint, Route};
use poem_openapi::OpenApiService;
use vault_core::Vault;

pub use answer::{Answer, ProblemJson};
pub use auth::AuthApi;
pub use docs::document;
pub use error::{into_poem, problem_layer, ApiError};
pub use extract::{throttle, AuthUser, ClientIp, JsonBody, MaybeAuthUser};
pub use flashcards::FlashcardsApi;
pub use health::HealthApi;
pub use params::{ApiAuth, HeaderParam, Id, MaybeApiAuth, QueryParam};
pub use payload::{BodyDoc, Json, Multipart, Streamed, Unparsed};
pub use resources::ResourcesApi;
pub use routing::{serve, Methods};

/// The whole API as the example servers serve it: every module under
/// [`vault_core::HttpConfig::api_prefix`] (default `/api`) behind the general rate limits, with
/// its OpenAPI document at `{prefix}/openapi.json` and the offline docs page at
/// `{prefix}/docs`; health at `/health`; and the behaviour of [`with_layers`]: problem+json
/// for every error (unknown routes, wrong methods, panics), and `X-Request-Id` on every
/// response.
pub fn app(vault: Vault) -> impl Endpoint<Output = poem::Response> {
    let prefix = vault.config().http.api_prefix.clone();
    let modules = serve(OpenApiService::new(
        (AuthApi, ResourcesApi, FlashcardsApi),
        docs::TITLE,
        docs::VERSION,
    ));
    let api = docs::routes(Route::new(), document(&prefix))
        .nest("/", modules)
        .around(throttle);
    let health = serve(OpenApiService::new(HealthApi, docs::TITLE, docs::VERSION));
    let route = Route::new()
        .nest_no_strip("/health", health)
        .nest(if prefix.is_empty() { "/" } else { &prefix }, api);
    with_layers(route.data(vault))
}

/// Serves `endpoint` on `server` ([`vault_core::server::Server`]) until its shutdown signal:
/// HTTP/1.1 with the header-read and body-idle timeouts of the server's
/// [`HttpConfig`](vault_core::HttpConfig), each request carrying its client's address
/// (`Request::remote_addr`). `poem::Server` cannot set either timeout (its `idle_timeout`
/// neither ends a connection whose request head is being sent, however slowly, nor a stalled
/// body), so a host that serves with it keeps connections open as long as a client likes,
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
/// vault_poem::run(server, vault_poem::app(vault)).await?;
/// # Ok(()) }
/// ```
///
/// # Errors
/// As [`vault_core::server::Server::run`].
pub async fn run<E>(server: vault_core::server::Server, endpoint: E) -> std::io::Result<()>
where
    E: IntoEndpoint,
    E::Endpoint: 'static,
{
    use http_body_util::combinators::BoxBody;
    use poem::web::{LocalAddr, RemoteAddr};
    use poem::Addr;

    let local = LocalAddr(
        server
            .local_addr()
            .map_or(Addr::Custom("tcp", "".into()), Addr::SocketAddr),
    );
    let endpoint = std::sync::Arc::new(endpoint.into_endpoint());
    server
        .run(move |request, peer, timer| {
            let remote = RemoteAddr(Addr::SocketAddr(peer));
            let scheme = http::uri::Scheme::HTTP;
            let mut request = poem::Request::from((request, local.clone(), remote, scheme));
            let body: BoxBody<bytes::Bytes, std::io::Error> = request.take_body().into();
            request.set_body(poem::Body::from(BoxBody::new(timer.wrap(body))));
            let endpoint = std::sync::Arc::clone(&endpoint);
            async move { http::Response::<BoxBody<_, _>>::from(endpoint.get_response(request).await) }
        })
        .await
}

/// Adds the cross-cutting behaviour [`app`] uses to a host's endpoint, for the host's own
/// routes as much as Vault's. Apply it to the whole app.
///
/// What it gives every response:
///
/// - an `X-Request-Id` header: the client's own, or a new UUID;
/// - a panic in any handler is a problem+json 500 (the panic text is logged, never sent);
/// - every poem and poem-openapi error is the contract's problem+json: an unknown path is
///   404 `not_found`; a method a route does not take is 405 `method_not_allowed`, whose
///   `Allow` lists the methods when the route says them (operations of an `OpenApiService`
///   mounted with [`serve`], plain routes built with [`Methods`]; a poem `RouteMethod` cannot
///   say, so its 405 has no `Allow`); poem's 413 and 415 keep their status and code; its 401
///   and 403 are `not_authenticated` and `permission_denied`; its other 4xx errors
///   (extractors, parsing) are 400 `parse_error` with poem's message; any other error is a
///   500 `server_error`;
/// - an error response **without a body** that a handler or middleware returns (a bare
///   `StatusCode`) becomes the problem for its status, with its status and headers kept: 400
///   (`parse_error`), 401 (with `WWW-Authenticate: Bearer` unless it has its own), 403, 404,
///   405, 409, 413, 415, 429 (its `Retry-After` kept), 503 and every other 5xx
///   (`server_error`).
///
/// What it leaves as it is:
///
/// - any response with a body, whatever its status or type, returned as `Ok` or as an error
///   made from a response (`poem::Error::from_response`, a poem-openapi `ApiResponse` used as
///   an operation's error): the host's own JSON error, for instance;
/// - bodiless statuses the contract has no code for (406, 410, 422, ...);
/// - the answer to a HEAD request (poem answers it with GET's response, emptied).
pub fn with_layers<E: IntoEndpoint>(endpoint: E) -> impl Endpoint<Output = poem::Response>
where
    E::Endpoint: 'static,
{
    endpoint
        .into_endpoint()
        .with(poem::middleware::CatchPanic::new().with_handler(error::panic_response))
        .around(problem_layer)
}
