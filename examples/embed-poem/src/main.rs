//! A host application that embeds Vault in its own poem-openapi service: its `HelloApi` and
//! Vault's `AuthApi` and `ResourcesApi` are one `OpenApiService` under `/api`, so one document
//! (`/api/openapi.json`) lists the host's operations next to Vault's. `GET /api/hello` greets
//! the authenticated user.
//!
//! ```text
//! cargo run -p vault-embed-poem
//! curl -X POST localhost:8000/api/auth/register -H 'content-type: application/json' \
//!   -d '{"username":"ada","email":"ada@example.com","password":"sturdy-quokka-2931"}'
//! curl localhost:8000/api/hello -H "authorization: Bearer $ACCESS"
//! ```

use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::Data;
use poem::{EndpointExt, Route};
use poem_openapi::{Object, OpenApi, OpenApiService};
use vault_core::{Config, Vault};
use vault_poem::{ApiAuth, ApiError, AuthApi, Json, ResourcesApi};

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
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().init();
    // A real host reads its secret from its own configuration; this keeps one in a 0600 file.
    let secret = vault_core::cli::load_or_create_secret("embed.db.jwt-secret".as_ref())?;
    let vault = Vault::open(Config::new("sqlite://embed.db", secret)).await?;
    let service = OpenApiService::new((AuthApi, ResourcesApi, HelloApi), "Host app", "1.0")
        .url_prefix("/api");
    let app = Route::new()
        .at("/api/openapi.json", service.spec_endpoint())
        .nest(
            "/api",
            vault_poem::serve(service).around(vault_poem::throttle),
        )
        .data(vault.clone());
    let bind = std::env::var("VAULT_BIND").unwrap_or_else(|_| "127.0.0.1:8000".into());
    let acceptor = TcpListener::bind(bind).into_acceptor().await?;
    for addr in acceptor
        .local_addr()
        .iter()
        .filter_map(|a| a.as_socket_addr().copied())
    {
        tracing::info!("listening on http://{addr}");
    }
    poem::Server::new_with_acceptor(acceptor)
        .run(vault_poem::with_layers(app))
        .await?;
    vault.database().close().await;
    Ok(())
}
