//! API.md §3: accounts and sessions.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vault_core::auth::{
    ChangePasswordRequest, DeleteAccountRequest, LoginRequest, OAuthTokenResponse, RefreshRequest,
    RegisterRequest, RegisterResponse, TokenPair, UpdateMeRequest, User,
};
use vault_core::schema::PasswordGrantForm;
use vault_core::{wire, Vault};

use crate::error::{ApiError, Reply};
use crate::extract::{read_body, AuthUser, ClientIp, JsonBody};
use crate::routing::Routes;

type Answer = Result<Reply, ApiError>;

#[derive(OpenApi)]
#[openapi(tags((name = "auth", description = "Accounts and sessions")))]
struct AuthApi;

/// `/auth/...` under [`vault_core::HttpConfig::api_prefix`], documented, behind the general rate
/// limits of API.md §9: accounts, sessions, the caller's profile and password.
pub fn router(vault: &Vault) -> OpenApiRouter<Vault> {
    Routes::new(&vault.config().http.api_prefix, AuthApi::openapi())
        .add(routes!(register))
        .add(routes!(token))
        .add(routes!(refresh))
        .add(routes!(logout))
        .add(routes!(logout_all))
        .add(routes!(me, update_me, delete_me))
        .add(routes!(change_password))
        .done()
        .layer(axum::middleware::from_fn_with_state(
            vault.clone(),
            crate::extract::throttle,
        ))
}

// Register, token and refresh take the raw body: the core counts the request against the
// client IP before decoding it, so malformed requests are throttled too.

#[utoipa::path(post, path = "/auth/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 201, description = "Registered and logged in", body = RegisterResponse,
            headers(("Location" = String, description = "GET /auth/me under the API prefix: the new account as its owner sees it"))),
        (status = 400, description = "Invalid input"), (status = 409, description = "Username or email taken"),
        (status = 413, description = "Body too large"), (status = 415, description = "Not JSON"),
        (status = 429, description = "Throttled")))]
async fn register(State(vault): State<Vault>, ClientIp(ip): ClientIp, request: Request) -> Answer {
    let headers = request.headers().clone();
    let body = read_body(request, &vault).await?;
    let registered = vault.auth().register_http(&headers, &body, ip).await?;
    Ok(wire::created(vault.auth().me_location(), &registered).into())
}

#[utoipa::path(post, path = "/auth/token", tag = "auth",
    request_body(content((LoginRequest = "application/json"),
        (PasswordGrantForm = "application/x-www-form-urlencoded"))),
    responses((status = 200, description = "A new session: JSON gives {access, refresh}, the form gives OAuth2's {access_token, refresh_token}",
            content((TokenPair = "application/json"), (OAuthTokenResponse = "application/json"))),
        (status = 400, description = "Invalid input"), (status = 401, description = "Bad credentials"),
        (status = 415, description = "Neither JSON nor a form"), (status = 429, description = "Throttled")))]
async fn token(State(vault): State<Vault>, ClientIp(ip): ClientIp, request: Request) -> Answer {
    let headers = request.headers().clone();
    let body = read_body(request, &vault).await?;
    Ok(vault.auth().token_http(&headers, &body, ip).await?.into())
}

#[utoipa::path(post, path = "/auth/token/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, description = "Rotated: a new pair; the presented token is revoked", body = TokenPair),
        (status = 400, description = "Invalid input"),
        (status = 401, description = "Unknown, expired, revoked or replayed token (a replay revokes the session)"),
        (status = 429, description = "Throttled")))]
async fn refresh(State(vault): State<Vault>, ClientIp(ip): ClientIp, request: Request) -> Answer {
    let headers = request.headers().clone();
    let body = read_body(request, &vault).await?;
    let pair = vault.auth().refresh_http(&headers, &body, ip).await?;
    Ok(wire::json(StatusCode::OK, &pair).into())
}

#[utoipa::path(post, path = "/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 204, description = "Session revoked (also when it already was)"),
        (status = 400, description = "Invalid input"), (status = 401, description = "Not a token we issued")))]
async fn logout(State(vault): State<Vault>, JsonBody(req): JsonBody<RefreshRequest>) -> Answer {
    vault.auth().logout(&req.refresh).await?;
    Ok(wire::no_content().into())
}

#[utoipa::path(post, path = "/auth/logout-all", tag = "auth", security(("bearer" = []), ("oauth2" = [])),
    responses((status = 204, description = "Every session and access token of the caller revoked"),
        (status = 401, description = "Not authenticated")))]
async fn logout_all(State(vault): State<Vault>, AuthUser(user): AuthUser) -> Answer {
    vault.auth().logout_all(&user).await?;
    Ok(wire::no_content().into())
}

#[utoipa::path(get, path = "/auth/me", tag = "auth", security(("bearer" = []), ("oauth2" = [])),
    responses((status = 200, description = "The caller", body = User), (status = 401, description = "Not authenticated")))]
async fn me(State(vault): State<Vault>, AuthUser(user): AuthUser) -> Answer {
    let me = vault.auth().me_json(&user).await?;
    Ok(wire::json_body(StatusCode::OK, me).into())
}

#[utoipa::path(patch, path = "/auth/me", tag = "auth", security(("bearer" = []), ("oauth2" = [])),
    request_body = UpdateMeRequest,
    responses((status = 200, description = "Updated", body = User), (status = 400, description = "Invalid input"),
        (status = 401, description = "Not authenticated"), (status = 409, description = "Email taken")))]
async fn update_me(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    JsonBody(req): JsonBody<UpdateMeRequest>,
) -> Answer {
    let me = vault.auth().update_me(&user, req).await?;
    Ok(wire::json(StatusCode::OK, &me).into())
}

#[utoipa::path(delete, path = "/auth/me", tag = "auth", security(("bearer" = []), ("oauth2" = [])),
    request_body = DeleteAccountRequest,
    responses((status = 204, description = "The account and all its data are gone"),
        (status = 400, description = "Wrong password"), (status = 401, description = "Not authenticated"),
        (status = 429, description = "Throttled")))]
async fn delete_me(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    JsonBody(req): JsonBody<DeleteAccountRequest>,
) -> Answer {
    vault.delete_account(&user, req).await?;
    Ok(wire::no_content().into())
}

#[utoipa::path(post, path = "/auth/password", tag = "auth", security(("bearer" = []), ("oauth2" = [])),
    request_body = ChangePasswordRequest,
    responses((status = 204, description = "Changed; every session and access token revoked"),
        (status = 400, description = "Wrong current password or weak new one"),
        (status = 401, description = "Not authenticated"), (status = 429, description = "Throttled")))]
async fn change_password(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    JsonBody(req): JsonBody<ChangePasswordRequest>,
) -> Answer {
    vault.auth().change_password(&user, req).await?;
    Ok(wire::no_content().into())
}
