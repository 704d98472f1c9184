//! A host application that embeds Vault next to its own routes: `GET /hello` greets the
//! authenticated user; Vault's auth API is under `/api`.
//!
//! ```text
//! cargo run -p vault-embed-axum
//! curl -X POST localhost:8000/api/auth/register -H 'content-type: application/json' \
//!   -d '{"username":"ada","email":"ada@example.com","password":"sturdy-quokka-2931"}'
//! curl localhost:8000/hello -H "authorization: Bearer $ACCESS"
//! ```

use std::net::SocketAddr;

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use vault_axum::{ApiError, AuthUser, Reply};
use vault_core::{wire, Config, Vault};

/// The host's own route: any handler can take `AuthUser` (401 problem+json without a valid token).
async fn hello(State(vault): State<Vault>, AuthUser(caller): AuthUser) -> Result<Reply, ApiError> {
    let me = vault.auth().me(&caller).await?;
    let greeting = serde_json::json!({ "message": format!("Hello, {}!", me.username) });
    Ok(wire::json(http::StatusCode::OK, &greeting).into())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().init();
    // A real host reads its secret from its own configuration; this keeps one in a 0600 file.
    let secret = vault_core::cli::load_or_create_secret("embed.db.jwt-secret".as_ref())?;
    let vault = Vault::open(Config::new("sqlite://embed.db", secret)).await?;
    let app = Router::new()
        .route("/hello", get(hello))
        .with_state(vault.clone())
        .merge(vault_axum::app(vault));
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
