//! A host application that embeds Vault in its own poem-openapi service: its `HelloApi` and
//! Vault's `AuthApi` and `ResourcesApi` are one `OpenApiService` under `/api`, so one document
//! (`/api/openapi.json`) lists the host's operations next to Vault's. `GET /api/hello` greets
//! the authenticated user. Vault's layers cover the whole app, so the host's operation
//! answers errors in Vault's shape too (`POST /api/hello` is a problem+json 405).
//!
//! Run it with `cargo run -p vault-embed-poem`. Zero set-up: a SQLite file `embed.db` in the
//! working directory; the JWT secret from `VAULT_JWT_SECRET`, or else generated once into
//! `embed.db.jwt-secret` (mode 0600); `VAULT_BIND` (default `127.0.0.1:8000`) is where it
//! listens, which it logs.
//!
//! ```text
//! cargo run -p vault-embed-poem
//! curl -X POST localhost:8000/api/auth/register -H 'content-type: application/json' \
//!   -d '{"username":"ada","email":"ada@example.com","password":"sturdy-quokka-2931"}'
//! curl localhost:8000/api/hello -H "authorization: Bearer $ACCESS"
//! curl localhost:8000/api/openapi.json
//! ```

use std::error::Error;

use poem::web::Data;
use poem::{EndpointExt, Route};
use poem_openapi::{Object, OpenApi, OpenApiService};
use tracing_subscriber::EnvFilter;
use vault_core::server::Server;
use vault_core::{cli, Config, Vault};
use vault_poem::{ApiAuth, ApiError, AuthApi, Json, ResourcesApi};

/// The example's database: a SQLite file in the working directory.
const DATABASE_URL: &str = "sqlite://embed.db";

/// The host's answer.
#[derive(Object, serde::Serialize)]
struct Greeting {
    /// `Hello, {username}!`
    message: String,
}

/// The host's own operations.
struct HelloApi;

#[OpenApi]
impl HelloApi {
    /// Greets the caller: any operation can take `ApiAuth` (401 problem+json without a valid
    /// token), and its errors are Vault's problems.
    #[oai(path = "/hello", method = "get", operation_id = "hello")]
    async fn hello(
        &self,
        vault: Data<&Vault>,
        ApiAuth(caller): ApiAuth,
    ) -> Result<Json<Greeting>, ApiError> {
        let me = vault.auth().me(&caller).await?;
        Ok(Json(Greeting {
            message: format!("Hello, {}!", me.username),
        }))
    }
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
    serve(Config::new(DATABASE_URL, secret), bind).await
}

// readme:start embed
/// The host's operations and Vault's in one `OpenApiService` under `/api` (one document for
/// all), and Vault's layers over the whole app.
async fn serve(config: Config, bind: String) -> Result<(), Box<dyn Error>> {
    let vault = Vault::open(config).await?;
    let service = OpenApiService::new((AuthApi, ResourcesApi, HelloApi), "Host app", "1.0")
        .url_prefix("/api");
    // Vault's routing conventions (trailing slashes, 405 with `Allow`) and rate limits for the
    // whole service, the host's operations included.
    let app = Route::new()
        .at("/api/openapi.json", service.spec_endpoint())
        .nest(
            "/api",
            vault_poem::serve(service).around(vault_poem::throttle),
        )
        .data(vault.clone());
    // Vault's layers over everything: request ids, and problem+json for every error.
    let app = vault_poem::with_layers(app);
    let listener = tokio::net::TcpListener::bind(bind).await?;
    tracing::info!("listening on http://{}", listener.local_addr()?);
    // Vault's server loop rather than `poem::Server`: time limits on request heads and between
    // body bytes, and on SIGTERM or Ctrl-C the requests in flight get the configured grace
    // (`HttpConfig::shutdown_grace`, 30 s) to finish.
    let server =
        Server::new(listener, &vault.config().http).with_graceful_shutdown(cli::shutdown_signal());
    vault_poem::run(server, app).await?;
    vault.database().close().await;
    Ok(())
}
// readme:end embed
