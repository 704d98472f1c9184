//! # vault-poem
//!
//! Serves Vault's HTTP API (`../shared/API.md`) from a poem 3 application, byte for byte like
//! `vault-axum`. Thin by design: every rule lives in `vault-core`.
//!
//! ```no_run
//! use poem::{get, handler, EndpointExt, Route};
//! use vault_core::{Config, Secret, Vault};
//! use vault_poem::AuthUser;
//!
//! #[handler]
//! fn hello(AuthUser(user): AuthUser) -> String {
//!     format!("hello, {}", user.user_id)
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let vault = Vault::open(Config::new("sqlite://vault.db", Secret::generate(32)?)).await?;
//! let app = Route::new()
//!     .at("/hello", get(hello))
//!     .nest("/", vault_poem::app(vault.clone()))
//!     .data(vault);
//! poem::Server::new(poem::listener::TcpListener::bind("127.0.0.1:8000")).run(app).await?;
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod extract;
mod openapi;
pub mod routes;

use poem::{Endpoint, EndpointExt, IntoEndpoint, Route};
use vault_core::Vault;

pub use error::{into_poem, problem_layer, ApiError};
pub use extract::{AuthUser, ClientIp, JsonBody, MaybeAuthUser};

/// The whole API as the example servers serve it: every module under
/// [`vault_core::Config::api_prefix`] (default `/api`), health at `/health`, problem+json for
/// every error (unknown routes, wrong methods, panics), and `X-Request-Id` on every response.
pub fn app(vault: Vault) -> impl Endpoint<Output = poem::Response> {
    let prefix = vault.config().api_prefix.clone();
    let route = Route::new().nest(
        if prefix.is_empty() {
            "/"
        } else {
            prefix.as_str()
        },
        routes::api(),
    );
    let route = routes::health(route);
    with_layers(route.data(vault))
}

/// Adds the cross-cutting behaviour [`app`] uses to a host's endpoint: every error as
/// problem+json, panics as problem+json 500, request ids.
pub fn with_layers<E: IntoEndpoint>(endpoint: E) -> impl Endpoint<Output = poem::Response>
where
    E::Endpoint: 'static,
{
    endpoint
        .into_endpoint()
        .with(poem::middleware::CatchPanic::new().with_handler(error::panic_response))
        .around(problem_layer)
}
