//! A host application that embeds Vault next to its own routes: `GET /hello` greets the
//! authenticated user; Vault's API is under `/api`. The host documents its route with utoipa
//! and serves one OpenAPI document, its own operations and Vault's, at `/api/openapi.json`
//! (and in the docs page at `/api/docs`).
//!
//! ```text
//! cargo run -p vault-embed-axum
//! curl -X POST localhost:8000/api/auth/register -H 'content-type: application/json' \
//!   -d '{"username":"ada","email":"ada@example.com","password":"sturdy-quokka-2931"}'
//! curl localhost:8000/hello -H "authorization: Bearer $ACCESS"
//! curl localhost:8000/api/openapi.json
//! ```

use std::net::SocketAddr;

use axum::extract::State;
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vault_axum::{ApiError, AuthUser, Reply};
use vault_core::{wire, Config, Problem, Vault};

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
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().init();
    // A real host reads its secret from its own configuration; this keeps one in a 0600 file.
    let secret = vault_core::cli::load_or_create_secret("embed.db.jwt-secret".as_ref())?;
    let vault = Vault::open(Config::new("sqlite://embed.db", secret)).await?;
    // The host's routes and Vault's, with both documents merged into the host's.
    let (routes, document) = OpenApiRouter::with_openapi(HostApi::openapi())
        .routes(routes!(hello))
        .merge(vault_axum::api(&vault))
        .split_for_parts();
    // Vault's layers (request ids, problem+json for unknown routes and panics) over everything;
    // Vault's general rate limits stay on its own routes.
    let app = vault_axum::with_layers(
        routes
            .merge(vault_axum::docs::router(&vault, &document))
            .with_state(vault),
    );
    let bind = std::env::var("VAULT_BIND").unwrap_or_else(|_| "127.0.0.1:8000".into());
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
