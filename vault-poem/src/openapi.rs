//! Stand-in for the poem adapter's OpenAPI document until it builds one from its own
//! poem-openapi operations: the document the core used to build, with utoipa, kept here
//! unchanged so that this adapter keeps serving what it served.
//!
//! Paths are declared relative to the API prefix and prefixed with
//! [`vault_core::Config::api_prefix`]. Error responses are declared by status only; a modifier
//! gives each of them the `application/problem+json` [`Problem`] body.

#![allow(missing_docs, dead_code)]

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{
    Flow, HttpAuthScheme, HttpBuilder, OAuth2, Password, Scopes, SecurityScheme,
};
use utoipa::openapi::{Content, OpenApi as Document, Ref, RefOr};
use utoipa::{Modify, OpenApi};
use vault_core::schema::{FileUpload, HealthStatus, PasswordGrantForm};

use vault_core::auth::*;
use vault_core::error::{Problem, PROBLEM_JSON};
use vault_core::page::Page;
use vault_core::resources::{Resource, ResourceInput, ResourceKind, ResourcePatch, Tag, TagInput};

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

#[utoipa::path(get, path = "/resources", tag = "resources", security(("bearer" = []), ("oauth2" = [])),
    params(("search" = Option<String>, Query, description = "Words matched in title, body, url and tag names (ranked)"),
        ("kind" = Option<ResourceKind>, Query), ("tag" = Option<Vec<String>>, Query, description = "Repeatable; all must match"),
        ("favorite" = Option<bool>, Query), ("ordering" = Option<String>, Query, description = "created_at, updated_at or title, optionally prefixed with -"),
        ("page" = Option<u64>, Query), ("page_size" = Option<u64>, Query, description = "Default 20, clamped to 100")),
    responses((status = 200, description = "A page of the caller's resources", body = Page<Resource>),
        (status = 400, description = "Bad query parameter"), (status = 401, description = "Not authenticated"),
        (status = 404, description = "Invalid page")))]
fn list_resources() {}

#[utoipa::path(post, path = "/resources", tag = "resources", security(("bearer" = []), ("oauth2" = [])),
    request_body = ResourceInput,
    responses((status = 201, description = "Created (tags created on the fly); Location names it", body = Resource),
        (status = 400, description = "Invalid input"), (status = 401, description = "Not authenticated")))]
fn create_resource() {}

#[utoipa::path(get, path = "/resources/{id}", tag = "resources", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "The resource", body = Resource), (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such resource of the caller")))]
fn get_resource() {}

#[utoipa::path(put, path = "/resources/{id}", tag = "resources", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path)), request_body = ResourceInput,
    responses((status = 200, description = "Replaced: omitted optional fields return to their defaults", body = Resource),
        (status = 400, description = "Invalid input"), (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such resource of the caller")))]
fn replace_resource() {}

#[utoipa::path(patch, path = "/resources/{id}", tag = "resources", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path)), request_body = ResourcePatch,
    responses((status = 200, description = "Only the given fields changed", body = Resource),
        (status = 400, description = "Invalid input"), (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such resource of the caller")))]
fn patch_resource() {}

#[utoipa::path(delete, path = "/resources/{id}", tag = "resources", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path)),
    responses((status = 204, description = "Deleted, with its file"), (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such resource of the caller")))]
fn delete_resource() {}

#[utoipa::path(put, path = "/resources/{id}/file", tag = "resources", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path)), request_body(content = FileUpload, content_type = "multipart/form-data"),
    responses((status = 200, description = "Stored (replacing any previous file)", body = Resource),
        (status = 400, description = "No `file` part, or an extra part"), (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such resource of the caller"), (status = 413, description = "Over the upload limit"),
        (status = 415, description = "Not multipart, or a file type not allowed")))]
fn upload_file() {}

#[utoipa::path(get, path = "/resources/{id}/file", tag = "resources", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path), ("If-None-Match" = Option<String>, Header)),
    responses((status = 200, description = "The bytes, with Content-Type, Content-Length, Content-Disposition and ETag",
            content_type = "application/octet-stream"),
        (status = 304, description = "Unchanged since the given ETag"), (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such resource of the caller, or no file")))]
fn download_file() {}

#[utoipa::path(delete, path = "/resources/{id}/file", tag = "resources", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path)),
    responses((status = 204, description = "The file and its bytes are gone"), (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such resource of the caller, or no file")))]
fn delete_file() {}

#[utoipa::path(get, path = "/tags", tag = "resources", security(("bearer" = []), ("oauth2" = [])),
    params(("search" = Option<String>, Query, description = "Substring of the name"), ("page" = Option<u64>, Query), ("page_size" = Option<u64>, Query)),
    responses((status = 200, description = "A page of the caller's tags, by name", body = Page<Tag>),
        (status = 400, description = "Bad query parameter"), (status = 401, description = "Not authenticated"),
        (status = 404, description = "Invalid page")))]
fn list_tags() {}

#[utoipa::path(post, path = "/tags", tag = "resources", security(("bearer" = []), ("oauth2" = [])),
    request_body = TagInput,
    responses((status = 201, description = "Created", body = Tag), (status = 400, description = "Invalid input"),
        (status = 401, description = "Not authenticated"), (status = 409, description = "Name taken")))]
fn create_tag() {}

#[utoipa::path(get, path = "/tags/{id}", tag = "resources", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "The tag", body = Tag), (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such tag of the caller")))]
fn get_tag() {}

#[utoipa::path(patch, path = "/tags/{id}", tag = "resources", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path)), request_body = TagInput,
    responses((status = 200, description = "Renamed", body = Tag), (status = 400, description = "Invalid input"),
        (status = 401, description = "Not authenticated"), (status = 404, description = "No such tag of the caller"),
        (status = 409, description = "Name taken")))]
fn rename_tag() {}

#[utoipa::path(delete, path = "/tags/{id}", tag = "resources", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path)),
    responses((status = 204, description = "Deleted and detached from every resource"),
        (status = 401, description = "Not authenticated"), (status = 404, description = "No such tag of the caller")))]
fn delete_tag() {}

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
    paths(register, token, refresh, logout, logout_all, me, update_me, delete_me, change_password,
        list_resources, create_resource, get_resource, replace_resource, patch_resource, delete_resource,
        upload_file, download_file, delete_file,
        list_tags, create_tag, get_tag, rename_tag, delete_tag, live, ready),
    components(schemas(Problem, PasswordGrantForm, HealthStatus)),
    tags((name = "auth", description = "Accounts and sessions"), (name = "resources", description = "Notes, links, files, references and their tags"), (name = "health", description = "Liveness and readiness")),
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
pub(crate) fn document(api_prefix: &str) -> Document {
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
