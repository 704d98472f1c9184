//! Extractors: the authenticated caller, the client IP, path parameters and JSON bodies with
//! the contract's errors.

use std::net::{IpAddr, SocketAddr};

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::DeserializeOwned;
use vault_core::{wire, Error, Principal, Vault};

use crate::error::ApiError;

/// The authenticated caller. Rejects with 401 problem+json when the `Authorization` header is
/// missing (`not_authenticated`) or its bearer token is refused (`token_not_valid`).
///
/// Works on a host's own routes whose state provides a [`Vault`] (`Vault: FromRef<S>`).
#[derive(Debug, Clone, Copy)]
pub struct AuthUser(pub Principal);

/// The caller if a bearer token was sent, else `None`. A token that was sent but does not
/// verify is still rejected (401), never silently ignored.
#[derive(Debug, Clone, Copy)]
pub struct MaybeAuthUser(pub Option<Principal>);

impl<S> FromRequestParts<S> for MaybeAuthUser
where
    Vault: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(principal) = parts.extensions.get::<Principal>() {
            return Ok(Self(Some(*principal)));
        }
        let vault = Vault::from_ref(state);
        let principal = vault.auth().authenticate_headers(&parts.headers).await?;
        if let Some(principal) = principal {
            parts.extensions.insert(principal);
        }
        Ok(Self(principal))
    }
}

impl<S> FromRequestParts<S> for AuthUser
where
    Vault: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let MaybeAuthUser(principal) = MaybeAuthUser::from_request_parts(parts, state).await?;
        principal.map(Self).ok_or(ApiError(Error::NotAuthenticated))
    }
}

/// The client's IP as throttling sees it (peer address, or the trusted proxy's
/// `X-Forwarded-For`). `None` when the server was not started with connect info.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S> FromRequestParts<S> for ClientIp
where
    Vault: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        Ok(Self(
            Vault::from_ref(state)
                .auth()
                .client_ip(&parts.headers, peer),
        ))
    }
}

/// A route's one path parameter (an id, a file name), as text. A value that cannot be read
/// (percent-encoded bytes that are not UTF-8) names nothing that exists, so it is the contract's
/// 404 problem (API.md §1) rather than axum's plain-text 400.
#[derive(Debug, Clone)]
pub struct PathParam(pub String);

impl<S> FromRequestParts<S> for PathParam
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(Self(value)),
            Err(PathRejection::FailedToDeserializePathParams(_)) => Err(ApiError(Error::NotFound)),
            // The route has no parameter: a mistake in this crate's routes, not in the request.
            Err(rejection) => Err(ApiError(Error::Internal(format!(
                "path parameter missing: {rejection}"
            )))),
        }
    }
}

/// Middleware: the general rate limits (anonymous per IP, authenticated per user). The caller
/// it verifies is kept in the request for [`AuthUser`] and [`MaybeAuthUser`].
pub(crate) async fn throttle(
    State(vault): State<Vault>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let ip = vault.auth().client_ip(request.headers(), peer);
    match vault.auth().throttle_request(request.headers(), ip).await {
        Ok(Some(principal)) => {
            request.extensions_mut().insert(principal);
        }
        Ok(None) => {}
        Err(error) => return ApiError(error).into_response(),
    }
    next.run(request).await
}

/// A JSON body decoded by the core's rules: 415 unless JSON, 413 over the configured limit
/// (enforced while reading), `parse_error` or `validation_error` naming the field.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    Vault: FromRef<S>,
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        wire::require_json(request.headers())?;
        let bytes = read_body(request, &Vault::from_ref(state)).await?;
        Ok(Self(wire::decode_json(&bytes)?))
    }
}

/// Reads a whole body, refusing more than the configured limit without buffering it.
pub(crate) async fn read_body(request: Request, vault: &Vault) -> Result<Bytes, ApiError> {
    let limit = vault.config().http.max_body_bytes;
    wire::check_declared_length(request.headers(), limit)?;
    let body: Body = request.into_body();
    let limit_usize = usize::try_from(limit).unwrap_or(usize::MAX);
    match Limited::new(body, limit_usize).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
            Err(ApiError(Error::PayloadTooLarge { limit }))
        }
        Err(error) => Err(ApiError(Error::Parse(format!(
            "could not read the request body: {error}"
        )))),
    }
}
