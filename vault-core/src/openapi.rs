//! The OpenAPI 3 document, built once in core so both adapters serve the same one.
//!
//! Paths are declared here relative to the API prefix and prefixed at start-up with
//! [`crate::Config::api_prefix`]. Error responses are declared by status only; a modifier gives
//! each of them the `application/problem+json` [`Problem`] body.

#![allow(missing_docs, dead_code)]

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{
    Flow, HttpAuthScheme, HttpBuilder, OAuth2, Password, Scopes, SecurityScheme,
};
use utoipa::openapi::{Content, OpenApi as Document, Ref, RefOr};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::auth::*;
use crate::error::{Problem, PROBLEM_JSON};

/// The OAuth2 password-grant form of POST /auth/token (what Swagger UI's Authorize sends).
#[derive(ToSchema)]
pub struct PasswordGrantForm {
    /// Must be `password`.
    #[schema(example = "password")]
    grant_type: String,
    /// Username or email.
    username: String,
    /// Password.
    password: String,
    /// Ignored.
    scope: Option<String>,
    /// Ignored.
    client_id: Option<String>,
    /// Ignored.
    client_secret: Option<String>,
}

/// Health answer.
#[derive(ToSchema)]
pub struct HealthStatus {
    #[schema(example = "ok")]
    status: String,
}

#[utoipa::path(post, path = "/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 201, description = "Registered and logged in", body = RegisterResponse),
        (status = 400, description = "Invalid input"), (status = 409, description = "Username or email taken"),
        (status = 413, description = "Body too large"), (status = 415, description = "Not JSON"),
        (status = 429, description = "Throttled")))]
fn register() {}

#[utoipa::path(post, path = "/auth/token", tag = "auth",
    request_body(content((LoginRequest = "application/json"),
        (PasswordGrantForm = "application/x-www-form-urlencoded"))),
    responses((status = 200, description = "A new session: JSON gives {access, refresh}, the form gives OAuth2's {access_token, refresh_token}",
            content((TokenPair = "application/json"), (OAuthTokenResponse = "application/json"))),
        (status = 400, description = "Invalid input"), (status = 401, description = "Bad credentials"),
        (status = 415, description = "Neither JSON nor a form"), (status = 429, description = "Throttled")))]
fn token() {}

#[utoipa::path(post, path = "/auth/token/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, description = "Rotated: a new pair; the presented token is revoked", body = TokenPair),
        (status = 400, description = "Invalid input"),
        (status = 401, description = "Unknown, expired, revoked or replayed token (a replay revokes the session)"),
        (status = 429, description = "Throttled")))]
fn refresh() {}

#[utoipa::path(post, path = "/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204, description = "Session revoked (also when it already was)"),
        (status = 400, description = "Invalid input"), (status = 401, description = "Not a token we issued")))]
fn logout() {}

#[utoipa::path(post, path = "/auth/logout-all", tag = "auth", security(("bearer" = []), ("oauth2" = [])),
    responses((status = 204, description = "Every session and access token of the caller revoked"),
        (status = 401, description = "Not authenticated")))]
fn logout_all() {}

#[utoipa::path(get, path = "/auth/me", tag = "auth", security(("bearer" = []), ("oauth2" = [])),
    responses((status = 200, description = "The caller", body = User), (status = 401, description = "Not authenticated")))]
fn me() {}

#[utoipa::path(patch, path = "/auth/me", tag = "auth", security(("bearer" = []), ("oauth2" = [])),
    request_body = UpdateMeRequest,
    responses((status = 200, description = "Updated", body = User), (status = 400, description = "Invalid input"),
        (status = 401, description = "Not authenticated"), (status = 409, description = "Email taken")))]
fn update_me() {}

#[utoipa::path(delete, path = "/auth/me", tag = "auth", security(("bearer" = []), ("oauth2" = [])),
    request_body = DeleteAccountRequest,
    responses((status = 204, description = "The account and all its data are gone"),
        (status = 400, description = "Wrong password"), (status = 401, description = "Not authenticated"),
        (status = 429, description = "Throttled")))]
fn delete_me() {}

#[utoipa::path(post, path = "/auth/password", tag = "auth", security(("bearer" = []), ("oauth2" = [])),
    request_body = ChangePasswordRequest,
    responses((status = 204, description = "Changed; every session and access token revoked"),
        (status = 400, description = "Wrong current password or weak new one"),
        (status = 401, description = "Not authenticated"), (status = 429, description = "Throttled")))]
fn change_password() {}

#[utoipa::path(get, path = "/health/live", tag = "health",
    responses((status = 200, description = "The process is up", body = HealthStatus)))]
fn live() {}

#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses((status = 200, description = "The database answers", body = HealthStatus),
        (status = 503, description = "The database does not answer")))]
fn ready() {}

#[derive(OpenApi)]
#[openapi(
    info(title = "Vault API", description = "Accounts, sessions and personal data modules. Errors are RFC 9457 problem documents."),
    paths(register, token, refresh, logout, logout_all, me, update_me, delete_me, change_password, live, ready),
    components(schemas(Problem, PasswordGrantForm, HealthStatus)),
    tags((name = "auth", description = "Accounts and sessions"), (name = "health", description = "Liveness and readiness")),
    modifiers(&ProblemBodies)
)]
struct ApiDoc;

/// Gives every 4xx/5xx response without content the problem+json body, and every operation
/// the 500 and 503 it can always answer.
struct ProblemBodies;

impl Modify for ProblemBodies {
    fn modify(&self, openapi: &mut Document) {
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                add_problem_bodies(op);
            }
        }
    }
}

fn add_problem_bodies(op: &mut Operation) {
    for (status, description) in [("500", "Server error"), ("503", "Database unavailable")] {
        op.responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(utoipa::openapi::Response::new(description)));
    }
    for (status, response) in op.responses.responses.iter_mut() {
        if let (true, RefOr::T(response)) =
            (status.starts_with('4') || status.starts_with('5'), response)
        {
            if response.content.is_empty() {
                response.content.insert(
                    PROBLEM_JSON.to_string(),
                    Content::new(Some(RefOr::Ref(Ref::from_schema_name("Problem")))),
                );
            }
        }
    }
}

/// The document for an API mounted at `api_prefix` (health stays at the root).
pub fn document(api_prefix: &str) -> Document {
    let mut doc = ApiDoc::openapi();
    let paths = std::mem::take(&mut doc.paths.paths);
    doc.paths.paths = paths
        .into_iter()
        .map(|(path, item)| {
            let full = if path.starts_with("/health") {
                path
            } else {
                format!("{api_prefix}{path}")
            };
            (full, item)
        })
        .collect();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("An access token from POST /auth/token"))
                .build(),
        ),
    );
    components.add_security_scheme(
        "oauth2",
        SecurityScheme::OAuth2(OAuth2::new([Flow::Password(Password::new(
            format!("{api_prefix}/auth/token"),
            Scopes::new(),
        ))])),
    );
    doc
}
