//! API.md §3: accounts and sessions.

use poem::http::StatusCode;
use poem::web::Data;
use poem::{get, handler, post, Request, Response, Route};
use vault_core::auth::{
    ChangePasswordRequest, DeleteAccountRequest, RefreshRequest, UpdateMeRequest,
};
use vault_core::{wire, Vault};

use super::both;
use crate::error::{into_poem, ApiError};
use crate::extract::{AuthUser, ClientIp, JsonBody, RawBody};

type Answer = Result<Response, ApiError>;

/// Adds the `/auth/...` routes to `route`.
pub fn routes(route: Route) -> Route {
    let mut r = route;
    r = both(r, "/auth/register", &["POST"], post(register));
    r = both(r, "/auth/token", &["POST"], post(token));
    r = both(r, "/auth/token/refresh", &["POST"], post(refresh));
    r = both(r, "/auth/logout", &["POST"], post(logout));
    r = both(r, "/auth/logout-all", &["POST"], post(logout_all));
    r = both(
        r,
        "/auth/me",
        &["GET", "PATCH", "DELETE"],
        get(me).patch(update_me).delete(delete_me),
    );
    r = both(r, "/auth/password", &["POST"], post(change_password));
    r
}

// Register, token and refresh take the raw body: the core counts the request against the
// client IP before decoding it, so malformed requests are throttled too.

#[handler]
async fn register(
    vault: Data<&Vault>,
    ClientIp(ip): ClientIp,
    request: &Request,
    RawBody(body): RawBody,
) -> Answer {
    let registered = vault
        .auth()
        .register_http(request.headers(), &body, ip)
        .await?;
    Ok(into_poem(wire::json(StatusCode::CREATED, &registered)))
}

#[handler]
async fn token(
    vault: Data<&Vault>,
    ClientIp(ip): ClientIp,
    request: &Request,
    RawBody(body): RawBody,
) -> Answer {
    Ok(into_poem(
        vault
            .auth()
            .token_http(request.headers(), &body, ip)
            .await?,
    ))
}

#[handler]
async fn refresh(
    vault: Data<&Vault>,
    ClientIp(ip): ClientIp,
    request: &Request,
    RawBody(body): RawBody,
) -> Answer {
    let pair = vault
        .auth()
        .refresh_http(request.headers(), &body, ip)
        .await?;
    Ok(into_poem(wire::json(StatusCode::OK, &pair)))
}

#[handler]
async fn logout(vault: Data<&Vault>, JsonBody(req): JsonBody<RefreshRequest>) -> Answer {
    vault.auth().logout(&req.refresh).await?;
    Ok(into_poem(wire::no_content()))
}

#[handler]
async fn logout_all(vault: Data<&Vault>, AuthUser(user): AuthUser) -> Answer {
    vault.auth().logout_all(&user).await?;
    Ok(into_poem(wire::no_content()))
}

#[handler]
async fn me(vault: Data<&Vault>, AuthUser(user): AuthUser) -> Answer {
    let me = vault.auth().me_json(&user).await?;
    Ok(into_poem(wire::json_body(StatusCode::OK, me)))
}

#[handler]
async fn update_me(
    vault: Data<&Vault>,
    AuthUser(user): AuthUser,
    JsonBody(req): JsonBody<UpdateMeRequest>,
) -> Answer {
    let user = vault.auth().update_me(&user, req).await?;
    Ok(into_poem(wire::json(StatusCode::OK, &user)))
}

#[handler]
async fn delete_me(
    vault: Data<&Vault>,
    AuthUser(user): AuthUser,
    JsonBody(req): JsonBody<DeleteAccountRequest>,
) -> Answer {
    vault.delete_account(&user, req).await?;
    Ok(into_poem(wire::no_content()))
}

#[handler]
async fn change_password(
    vault: Data<&Vault>,
    AuthUser(user): AuthUser,
    JsonBody(req): JsonBody<ChangePasswordRequest>,
) -> Answer {
    vault.auth().change_password(&user, req).await?;
    Ok(into_poem(wire::no_content()))
}
