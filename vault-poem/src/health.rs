//! API.md §10: liveness and readiness, as the poem-openapi [`HealthApi`] (never throttled, no
//! auth).

use poem::web::Data;
use poem_openapi::{ApiResponse, OpenApi};
use vault_core::schema::HealthStatus;
use vault_core::Vault;

use crate::answer::{Answer, ProblemJson};
use crate::payload::Json;
use crate::tags::ApiTags;

/// `/health/live` and `/health/ready`, at the root of the host (not under the API prefix).
#[derive(Debug, Clone, Copy, Default)]
pub struct HealthApi;

/// GET /health/live (a declaration, see [`Answer`]: never built).
#[allow(dead_code)]
#[derive(ApiResponse)]
enum Live {
    /// The process is up
    #[oai(status = 200)]
    Ok(Json<HealthStatus>),
}

/// GET /health/ready (a declaration, see [`Answer`]: never built).
#[allow(dead_code)]
#[derive(ApiResponse)]
enum Ready {
    /// The database answers
    #[oai(status = 200)]
    Ok(Json<HealthStatus>),
    /// The database does not answer
    #[oai(status = 503)]
    Unavailable(ProblemJson),
}

#[OpenApi(tag = "ApiTags::Health")]
impl HealthApi {
    #[oai(path = "/health/live", method = "get", operation_id = "live")]
    async fn live(&self, vault: Data<&Vault>) -> Answer<Live> {
        vault.live_response().into()
    }

    #[oai(path = "/health/ready", method = "get", operation_id = "ready")]
    async fn ready(&self, vault: Data<&Vault>) -> Answer<Ready> {
        vault.ready_response().await.into()
    }
}
