//! What each operation of API.md §3 answers, as documentation (see [`crate::Answer`]): the
//! handlers return the core's response, so these variants are declared, never built.

#![allow(dead_code)]

use poem_openapi::ApiResponse;
use vault_core::auth::{OAuthTokenResponse, RegisterResponse, TokenPair, User};

use crate::answer::ProblemJson;
use crate::payload::Json;

/// POST /auth/register.
#[derive(ApiResponse)]
pub(crate) enum Register {
    /// Registered and logged in
    #[oai(status = 201)]
    Created(
        Json<RegisterResponse>,
        /// GET /auth/me under the API prefix: the new account as its owner sees it
        #[oai(header = "Location")]
        String,
    ),
    /// Invalid input
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// Username or email taken
    #[oai(status = 409)]
    Conflict(ProblemJson),
    /// Body too large
    #[oai(status = 413)]
    PayloadTooLarge(ProblemJson),
    /// Not JSON
    #[oai(status = 415)]
    UnsupportedMediaType(ProblemJson),
    /// Throttled
    #[oai(status = 429)]
    TooManyRequests(ProblemJson),
}

/// POST /auth/token. A JSON login answers a [`TokenPair`], the OAuth2 form an
/// [`OAuthTokenResponse`]; the document names the latter, as the reference document does.
#[derive(ApiResponse)]
pub(crate) enum Token {
    /// A new session: JSON gives {access, refresh}, the form gives OAuth2's {access_token, refresh_token}
    #[oai(status = 200)]
    Ok(Json<OAuthTokenResponse>),
    /// Invalid input
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// Bad credentials
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// Neither JSON nor a form
    #[oai(status = 415)]
    UnsupportedMediaType(ProblemJson),
    /// Throttled
    #[oai(status = 429)]
    TooManyRequests(ProblemJson),
}

/// POST /auth/token/refresh.
#[derive(ApiResponse)]
pub(crate) enum Refresh {
    /// Rotated: a new pair; the presented token is revoked
    #[oai(status = 200)]
    Ok(Json<TokenPair>),
    /// Invalid input
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// Unknown, expired, revoked or replayed token (a replay revokes the session)
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// Throttled
    #[oai(status = 429)]
    TooManyRequests(ProblemJson),
}

/// POST /auth/logout.
#[derive(ApiResponse)]
pub(crate) enum Logout {
    /// Session revoked (also when it already was)
    #[oai(status = 204)]
    NoContent,
    /// Invalid input
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// Not a token we issued
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
}

/// POST /auth/logout-all.
#[derive(ApiResponse)]
pub(crate) enum LogoutAll {
    /// Every session and access token of the caller revoked
    #[oai(status = 204)]
    NoContent,
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
}

/// GET /auth/me.
#[derive(ApiResponse)]
pub(crate) enum Me {
    /// The caller
    #[oai(status = 200)]
    Ok(Json<User>),
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
}

/// PATCH /auth/me.
#[derive(ApiResponse)]
pub(crate) enum UpdateMe {
    /// Updated
    #[oai(status = 200)]
    Ok(Json<User>),
    /// Invalid input
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// Email taken
    #[oai(status = 409)]
    Conflict(ProblemJson),
}

/// DELETE /auth/me.
#[derive(ApiResponse)]
pub(crate) enum DeleteMe {
    /// The account and all its data are gone
    #[oai(status = 204)]
    NoContent,
    /// Wrong password
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// Throttled
    #[oai(status = 429)]
    TooManyRequests(ProblemJson),
}

/// POST /auth/password.
#[derive(ApiResponse)]
pub(crate) enum ChangePassword {
    /// Changed; every session and access token revoked
    #[oai(status = 204)]
    NoContent,
    /// Wrong current password or weak new one
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// Throttled
    #[oai(status = 429)]
    TooManyRequests(ProblemJson),
}
