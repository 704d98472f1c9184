//! API.md §3: accounts and sessions.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use vault_core::auth::{
    ChangePasswordRequest, DeleteAccountRequest, RefreshRequest, UpdateMeRequest,
};
use vault_core::{wire, Vault};

use super::Table;
use crate::error::{ApiError, Reply};
use crate::extract::{read_body, AuthUser, ClientIp, JsonBody};

type Answer = Result<Reply, ApiError>;

/// `/auth/...` routes.
pub fn router() -> Router<Vault> {
    table(Table::new("")).done()
}

/// Adds the `/auth/...` routes to `t`.
pub(crate) fn table(t: Table<'_>) -> Table<'_> {
    t.both("/auth/register", &["POST"], post(register))
        .both("/auth/token", &["POST"], post(token))
        .both("/auth/token/refresh", &["POST"], post(refresh))
        .both("/auth/logout", &["POST"], post(logout))
        .both("/auth/logout-all", &["POST"], post(logout_all))
        .both(
            "/auth/me",
            &["GET", "PATCH", "DELETE"],
            get(me).patch(update_me).delete(delete_me),
        )
        .both("/auth/password", &["POST"], post(change_password))
}

// Register, token and refresh take the raw body: the core counts the request against the
// client IP before decoding it, so malformed requests are throttled too.

async fn register(State(vault): State<Vault>, ClientIp(ip): ClientIp, request: Request) -> Answer {
    let headers = request.headers().clone();
    let body = read_body(request, &vault).await?;
    let registered = vault.auth().register_http(&headers, &body, ip).await?;
    Ok(wire::json(StatusCode::CREATED, &registered).into())
}

async fn token(State(vault): State<Vault>, ClientIp(ip): ClientIp, request: Request) -> Answer {
    let headers = request.headers().clone();
    let body = read_body(request, &vault).await?;
    Ok(vault.auth().token_http(&headers, &body, ip).await?.into())
}

async fn refresh(State(vault): State<Vault>, ClientIp(ip): ClientIp, request: Request) -> Answer {
    let headers = request.headers().clone();
    let body = read_body(request, &vault).await?;
    let pair = vault.auth().refresh_http(&headers, &body, ip).await?;
    Ok(wire::json(StatusCode::OK, &pair).into())
}

async fn logout(State(vault): State<Vault>, JsonBody(req): JsonBody<RefreshRequest>) -> Answer {
    vault.auth().logout(&req.refresh).await?;
    Ok(wire::no_content().into())
}

async fn logout_all(State(vault): State<Vault>, AuthUser(user): AuthUser) -> Answer {
    vault.auth().logout_all(&user).await?;
    Ok(wire::no_content().into())
}

async fn me(State(vault): State<Vault>, AuthUser(user): AuthUser) -> Answer {
    let me = vault.auth().me_json(&user).await?;
    Ok(wire::json_body(StatusCode::OK, me).into())
}

async fn update_me(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    JsonBody(req): JsonBody<UpdateMeRequest>,
) -> Answer {
    let me = vault.auth().update_me(&user, req).await?;
    Ok(wire::json(StatusCode::OK, &me).into())
}

async fn delete_me(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    JsonBody(req): JsonBody<DeleteAccountRequest>,
) -> Answer {
    vault.delete_account(&user, req).await?;
    Ok(wire::no_content().into())
}

async fn change_password(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    JsonBody(req): JsonBody<ChangePasswordRequest>,
) -> Answer {
    vault.auth().change_password(&user, req).await?;
    Ok(wire::no_content().into())
}
