//! Extractors: the authenticated caller, the client IP, and JSON bodies with the contract's
//! errors. Each needs the [`Vault`] as request data (`.data(vault)`), which [`crate::app`]
//! adds; a host's own routes add it themselves.

use std::net::IpAddr;

use bytes::Bytes;
use std::sync::Arc;

use poem::{Endpoint, FromRequest, IntoResponse, Request, RequestBody};
use serde::de::DeserializeOwned;
use vault_core::{wire, Error, Principal, Vault};

use crate::error::ApiError;

fn vault(request: &Request) -> Result<&Vault, ApiError> {
    request.data::<Vault>().ok_or_else(|| {
        ApiError(Error::Internal(
            "Vault is not attached to the request: add `.data(vault)`".into(),
        ))
    })
}

/// The authenticated caller. Rejects with 401 problem+json when the `Authorization` header is
/// missing (`not_authenticated`) or its bearer token is refused (`token_not_valid`).
#[derive(Debug, Clone, Copy)]
pub struct AuthUser(pub Principal);

/// The caller if a bearer token was sent, else `None`. A token that was sent but does not
/// verify is still rejected (401).
#[derive(Debug, Clone, Copy)]
pub struct MaybeAuthUser(pub Option<Principal>);

impl<'a> FromRequest<'a> for MaybeAuthUser {
    async fn from_request(request: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        if let Some(principal) = request.extensions().get::<Principal>() {
            return Ok(Self(Some(*principal)));
        }
        let principal = vault(request)?
            .auth()
            .authenticate_headers(request.headers())
            .await
            .map_err(ApiError)?;
        Ok(Self(principal))
    }
}

impl<'a> FromRequest<'a> for AuthUser {
    async fn from_request(request: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let MaybeAuthUser(principal) = MaybeAuthUser::from_request(request, body).await?;
        Ok(Self(principal.ok_or(ApiError(Error::NotAuthenticated))?))
    }
}

/// The client's IP as throttling sees it (peer address, or the trusted proxy's
/// `X-Forwarded-For`).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl<'a> FromRequest<'a> for ClientIp {
    async fn from_request(request: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let peer = request.remote_addr().as_socket_addr().map(|addr| addr.ip());
        Ok(Self(
            vault(request)?.auth().client_ip(request.headers(), peer),
        ))
    }
}

/// Middleware (`.around(vault_poem::throttle)`): the general rate limits of API.md §9
/// (anonymous per IP, authenticated per user). The caller it verifies is kept in the request
/// for [`AuthUser`], [`MaybeAuthUser`] and [`crate::ApiAuth`].
///
/// # Errors
/// 429 problem+json when a limit is reached, 401 for a refused bearer token.
pub async fn throttle<E: Endpoint>(
    next: Arc<E>,
    mut request: Request,
) -> poem::Result<poem::Response> {
    let peer = request.remote_addr().as_socket_addr().map(|addr| addr.ip());
    let vault = vault(&request)?.clone();
    let ip = vault.auth().client_ip(request.headers(), peer);
    if let Some(principal) = vault
        .auth()
        .throttle_request(request.headers(), ip)
        .await
        .map_err(ApiError)?
    {
        request.extensions_mut().insert(principal);
    }
    next.call(request).await.map(IntoResponse::into_response)
}

/// A JSON body decoded by the core's rules: 415 unless JSON, 413 over the configured limit
/// (enforced while reading), `parse_error` or `validation_error` naming the field.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<'a, T: DeserializeOwned> FromRequest<'a> for JsonBody<T> {
    async fn from_request(request: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        wire::require_json(request.headers()).map_err(ApiError)?;
        let RawBody(bytes) = RawBody::from_request(request, body).await?;
        Ok(Self(wire::decode_json(&bytes).map_err(ApiError)?))
    }
}

/// The whole body, refused past the configured limit without buffering more than it.
#[derive(Debug)]
pub(crate) struct RawBody(pub Bytes);

impl<'a> FromRequest<'a> for RawBody {
    async fn from_request(request: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let vault = vault(request)?;
        let limit = vault.config().http.max_body_bytes;
        wire::check_declared_length(request.headers(), limit).map_err(ApiError)?;
        let Ok(body) = body.take() else {
            return Ok(Self(Bytes::new()));
        };
        let limit_usize = usize::try_from(limit).unwrap_or(usize::MAX);
        match body.into_bytes_limit(limit_usize).await {
            Ok(bytes) => Ok(Self(bytes)),
            Err(poem::error::ReadBodyError::PayloadTooLarge) => {
                Err(ApiError(Error::PayloadTooLarge { limit }).into())
            }
            Err(error) => Err(ApiError(Error::Parse(format!(
                "could not read the request body: {error}"
            )))
            .into()),
        }
    }
}
