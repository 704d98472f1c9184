//! API.md §10: liveness and readiness, at the root whatever the API prefix, never throttled and
//! without authentication (orchestrators probe them).

use axum::extract::State;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vault_core::schema::HealthStatus;
use vault_core::Vault;

use crate::error::Reply;
use crate::routing::Routes;

#[derive(OpenApi)]
#[openapi(tags((name = "health", description = "Liveness and readiness")))]
struct HealthApi;

/// `/health/live` and `/health/ready`, documented.
pub fn router() -> OpenApiRouter<Vault> {
    Routes::new("", HealthApi::openapi())
        .add(routes!(live))
        .add(routes!(ready))
        .done()
}

#[utoipa::path(get, path = "/health/live", tag = "health",
    responses((status = 200, description = "The process is up", body = HealthStatus)))]
async fn live(State(vault): State<Vault>) -> Reply {
    vault.live_response().into()
}

#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses((status = 200, description = "The database answers", body = HealthStatus),
        (status = 503, description = "The database does not answer")))]
async fn ready(State(vault): State<Vault>) -> Reply {
    vault.ready_response().await.into()
}
