//! API.md §3: accounts and sessions, as the poem-openapi [`AuthApi`].

mod answers;

use poem::http::StatusCode;
use poem::web::Data;
use poem::Request;
use poem_openapi::payload::Form;
use poem_openapi::OpenApi;
use vault_core::auth::{
    ChangePasswordRequest, DeleteAccountRequest, LoginRequest, RefreshRequest, RegisterRequest,
    UpdateMeRequest,
};
use vault_core::schema::PasswordGrantForm;
use vault_core::{wire, Vault};

use crate::answer::Answer;
use crate::error::ApiError;
use crate::extract::ClientIp;
use crate::params::ApiAuth;
use crate::payload::{Json, Unparsed};
use crate::tags::ApiTags;

/// The `/auth/...` operations: register, log in (JSON or the OAuth2 password form), refresh,
/// log out, the caller's account. Paths are relative to where the service is mounted
/// (`/api` in [`crate::app`]); the [`Vault`] must be request data.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuthApi;

type Answers<D> = Result<Answer<D>, ApiError>;

// Register, token and refresh take the raw body: the core counts the request against the
// client IP before decoding it, so malformed requests are throttled too.

#[OpenApi(tag = "ApiTags::Auth")]
impl AuthApi {
    #[oai(path = "/auth/register", method = "post", operation_id = "register")]
    async fn register(
        &self,
        vault: Data<&Vault>,
        ClientIp(ip): ClientIp,
        request: &Request,
        body: Unparsed<Json<RegisterRequest>>,
    ) -> Answers<answers::Register> {
        let registered = vault
            .auth()
            .register_http(request.headers(), &body.0, ip)
            .await?;
        Ok(wire::created(vault.auth().me_location(), &registered).into())
    }

    #[oai(path = "/auth/token", method = "post", operation_id = "token")]
    async fn token(
        &self,
        vault: Data<&Vault>,
        ClientIp(ip): ClientIp,
        request: &Request,
        body: Unparsed<(Json<LoginRequest>, Form<PasswordGrantForm>)>,
    ) -> Answers<answers::Token> {
        let answer = vault
            .auth()
            .token_http(request.headers(), &body.0, ip)
            .await?;
        Ok(answer.into())
    }

    #[oai(
        path = "/auth/token/refresh",
        method = "post",
        operation_id = "refresh"
    )]
    async fn refresh(
        &self,
        vault: Data<&Vault>,
        ClientIp(ip): ClientIp,
        request: &Request,
        body: Unparsed<Json<RefreshRequest>>,
    ) -> Answers<answers::Refresh> {
        let pair = vault
            .auth()
            .refresh_http(request.headers(), &body.0, ip)
            .await?;
        Ok(wire::json(StatusCode::OK, &pair).into())
    }

    #[oai(path = "/auth/logout", method = "post", operation_id = "logout")]
    async fn logout(
        &self,
        vault: Data<&Vault>,
        Json(req): Json<RefreshRequest>,
    ) -> Answers<answers::Logout> {
        vault.auth().logout(&req.refresh).await?;
        Ok(wire::no_content().into())
    }

    #[oai(
        path = "/auth/logout-all",
        method = "post",
        operation_id = "logout_all"
    )]
    async fn logout_all(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
    ) -> Answers<answers::LogoutAll> {
        vault.auth().logout_all(&user).await?;
        Ok(wire::no_content().into())
    }

    #[oai(path = "/auth/me", method = "get", operation_id = "me")]
    async fn me(&self, vault: Data<&Vault>, ApiAuth(user): ApiAuth) -> Answers<answers::Me> {
        let me = vault.auth().me_json(&user).await?;
        Ok(wire::json_body(StatusCode::OK, me).into())
    }

    #[oai(path = "/auth/me", method = "patch", operation_id = "update_me")]
    async fn update_me(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        Json(req): Json<UpdateMeRequest>,
    ) -> Answers<answers::UpdateMe> {
        let user = vault.auth().update_me(&user, req).await?;
        Ok(wire::json(StatusCode::OK, &user).into())
    }

    #[oai(path = "/auth/me", method = "delete", operation_id = "delete_me")]
    async fn delete_me(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        Json(req): Json<DeleteAccountRequest>,
    ) -> Answers<answers::DeleteMe> {
        vault.delete_account(&user, req).await?;
        Ok(wire::no_content().into())
    }

    #[oai(
        path = "/auth/password",
        method = "post",
        operation_id = "change_password"
    )]
    async fn change_password(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        Json(req): Json<ChangePasswordRequest>,
    ) -> Answers<answers::ChangePassword> {
        vault.auth().change_password(&user, req).await?;
        Ok(wire::no_content().into())
    }
}
