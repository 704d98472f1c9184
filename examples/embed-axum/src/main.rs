//! A host application that embeds Vault next to its own routes: `GET /hello` greets the
//! authenticated user; Vault's API is under `/api`. The host documents its route with utoipa
//! and serves one OpenAPI document, its own operations and Vault's, at `/api/openapi.json`
//! (and in the docs page at `/api/docs`). Vault's layers cover the whole app, so the host's
//! route answers errors in Vault's shape too (`POST /hello` is a problem+json 405).
//!
//! Run it with `cargo run -p vault-embed-axum`. Zero set-up: a SQLite file `embed.db` in the
//! working directory; the JWT secret from `VAULT_JWT_SECRET`, or else generated once into
//! `embed.db.jwt-secret` (mode 0600); `VAULT_BIND` (default `127.0.0.1:8000`) is where it
//! listens, which it logs.
//!
//! ```text
//! cargo run -p vault-embed-axum
//! curl -X POST localhost:8000/api/auth/register -H 'content-type: application/json' \
//!   -d '{"username":"ada","email":"ada@example.com","password":"sturdy-quokka-2931"}'
//! curl localhost:8000/hello -H "authorization: Bearer $ACCESS"
//! curl localhost:8000/api/openapi.json
//! ```

use std::error::Error;

use axum::extract::State;
use serde::Serialize;
use tracing_subscriber::EnvFilter;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vault_axum::{ApiError, AuthUser, Reply};
use vault_core::server::Server;
use vault_core::{cli, wire, Config, Problem, Vault};

/// The example's database: a SQLite file in the working directory.
const DATABASE_URL: &str = "sqlite://embed.db";

/// The host's own document: its title and its tag. Vault's operations are merged into it.
#[derive(OpenApi)]
#[openapi(
    info(title = "Embedding example", description = "A host's own API next to Vault's."),
    tags((name = "host", description = "The host application's own routes"))
)]
struct HostApi;

/// What `GET /hello` answers.
#[derive(Serialize, ToSchema)]
struct Greeting {
    /// `Hello, {username}!`
    message: String,
}

/// The host's own route: any handler can take `AuthUser` (401 problem+json without a valid token).
#[utoipa::path(get, path = "/hello", tag = "host", security(("bearer" = []), ("oauth2" = [])),
    responses((status = 200, description = "A greeting for the caller", body = Greeting),
        (status = 401, description = "Not authenticated", body = Problem, content_type = "application/problem+json")))]
async fn hello(State(vault): State<Vault>, AuthUser(caller): AuthUser) -> Result<Reply, ApiError> {
    let me = vault.auth().me(&caller).await?;
    let greeting = Greeting {
        message: format!("Hello, {}!", me.username),
    };
    Ok(wire::json(http::StatusCode::OK, &greeting).into())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .init();
    let bind = std::env::var("VAULT_BIND").unwrap_or_else(|_| cli::DEFAULT_BIND.to_string());
    // As the example servers do: VAULT_JWT_SECRET, or a secret generated once beside the
    // database. A host with its own configuration takes the secret from there instead.
    let (secret, _file) = cli::jwt_secret(|name| std::env::var(name).ok(), DATABASE_URL)?;
    serve(Config::new(DATABASE_URL, secret), &bind).await
}

// readme:start embed
/// Vault's API under `/api` next to the host's `GET /hello`, one OpenAPI document for both,
/// and Vault's layers over the whole app.
async fn serve(config: Config, bind: &str) -> Result<(), Box<dyn Error>> {
    let vault = Vault::open(config).await?;
    // The host's routes and Vault's, with both documents merged into the host's.
    let (routes, document) = OpenApiRouter::with_openapi(HostApi::openapi())
        .routes(routes!(hello))
        .merge(vault_axum::api(&vault))
        .split_for_parts();
    // Vault's layers over everything: request ids, and problem+json for panics, unknown paths
    // and wrong methods, the host's routes included. Its rate limits stay on its own routes.
    let app = vault_axum::with_layers(
        routes
            .merge(vault_axum::docs::router(&vault, &document))
            .with_state(vault.clone()),
    );
    let listener = tokio::net::TcpListener::bind(bind).await?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    // Vault's server loop rather than `axum::serve`: time limits on request heads and between
    // body bytes, client IPs for throttling, and on SIGTERM or Ctrl-C the requests in flight
    // get the configured grace (`HttpConfig::shutdown_grace`, 30 s) to finish.
    let server =
        Server::new(listener, &vault.config().http).with_graceful_shutdown(cli::shutdown_signal());
    vault_axum::run(server, app).await?;
    vault.database().close().await;
    Ok(())
}
// readme:end embed
