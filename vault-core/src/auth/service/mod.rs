//! The auth service: every rule of API.md §3, over an [`AuthStore`] and a [`Throttle`].
//!
//! One type, [`AuthService`], its methods by topic: registration and login (`login`),
//! refresh-token sessions (`sessions`), the caller's own account and administration
//! (`account`); the password-check budgets (`attempts`), the request bodies of the token
//! endpoint (`requests`) and the per-user state cache (`states`) beside them.

use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use http::HeaderMap;
use uuid::Uuid;

use super::model::*;
use super::password::PasswordHasher;
use super::store::AuthStore;
use super::token::TokenCodec;
use crate::config::{Config, ThrottleConfig};
use crate::error::{Error, Result};
use crate::principal::{Principal, Role};
use crate::throttle::Throttle;
use crate::time::Timestamp;

mod account;
mod attempts;
mod login;
mod requests;
mod sessions;
mod states;
#[cfg(test)]
mod tests;

pub use requests::{PasswordGrant, TokenRequest};
use states::TokenStates;

/// How often expired refresh-token rows are purged (checked on each login and refresh).
const PURGE_INTERVAL_SECS: i64 = 3600;

/// Everything about accounts and sessions. Obtain it from [`crate::Vault::auth`].
pub struct AuthService {
    store: Arc<dyn AuthStore>,
    throttle: Arc<dyn Throttle>,
    limits: ThrottleConfig,
    tokens: TokenCodec,
    hasher: PasswordHasher,
    states: TokenStates,
    refresh_ttl: chrono::Duration,
    trust_forwarded_for: bool,
    last_purge: AtomicI64,
    me_location: String,
}

impl std::fmt::Debug for AuthService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthService").finish_non_exhaustive()
    }
}

impl AuthService {
    /// Builds the service over a store and a throttle.
    ///
    /// # Errors
    /// [`Error::Config`] when the configuration is unsafe (see [`Config::validate`]).
    pub fn new(
        store: Arc<dyn AuthStore>,
        throttle: Arc<dyn Throttle>,
        config: &Config,
    ) -> Result<Self> {
        config.validate()?;
        let auth = &config.auth;
        Ok(Self {
            store,
            throttle,
            limits: config.throttle.clone(),
            tokens: TokenCodec::new(config),
            hasher: PasswordHasher::with_placement(
                auth.password_hash,
                auth.hashing.concurrency,
                auth.hashing.nice,
                auth.hashing.pinned,
            )?,
            states: TokenStates::new(auth.token_state_ttl, auth.token_state_cache),
            refresh_ttl: chrono::Duration::from_std(auth.refresh_ttl)
                .map_err(|e| Error::Config(format!("refresh_ttl: {e}")))?,
            trust_forwarded_for: config.http.trust_forwarded_for,
            last_purge: AtomicI64::new(0),
            me_location: format!("{}/auth/me", config.http.api_prefix),
        })
    }

    /// The path of `GET /auth/me` under the API prefix (`/api/auth/me` by default): the
    /// `Location` of a registration's 201, the new account as its owner sees it (API.md §1).
    /// Path-absolute, like every `Location` Vault sends.
    pub fn me_location(&self) -> &str {
        &self.me_location
    }

    /// The token codec (for benchmarks and host-side tooling).
    pub fn tokens(&self) -> &TokenCodec {
        &self.tokens
    }

    /// The client IP of a request: the socket peer, or with `trust_forwarded_for` the last
    /// `X-Forwarded-For` entry, the one the trusted proxy appended (see
    /// [`crate::client_ip::client_ip`]). Per-IP budgets count it by its
    /// [`network`](crate::client_ip::network): an IPv6 client by its `/64`.
    pub fn client_ip(&self, headers: &HeaderMap, peer: Option<IpAddr>) -> Option<IpAddr> {
        crate::client_ip::client_ip(headers, peer, self.trust_forwarded_for)
    }

    async fn throttle_ip(&self, ip: Option<IpAddr>) -> Result<()> {
        let (Some(rate), Some(ip)) = (self.limits.auth_ip, ip) else {
            return Ok(());
        };
        self.throttle
            .hit(&format!("auth-ip:{}", crate::client_ip::network(ip)), rate)
            .await?
            .into_result()
    }

    /// The general API limits of API.md §9, for every API request: an authenticated caller
    /// counts against their user (`throttle.user`), anyone else against their IP
    /// (`throttle.anon`). Returns the caller it verified on the way, so the adapter can hand it
    /// to its extractors instead of verifying twice; a refused token counts as anonymous here
    /// and is rejected by the route's extractor.
    ///
    /// # Errors
    /// [`Error::Throttled`] over a limit.
    pub async fn throttle_request(
        &self,
        headers: &HeaderMap,
        ip: Option<IpAddr>,
    ) -> Result<Option<Principal>> {
        if self.limits.anon.is_none() && self.limits.user.is_none() {
            return Ok(None);
        }
        let principal = match self.authenticate_headers(headers).await {
            Ok(principal) => principal,
            Err(Error::InvalidAccessToken(_)) => None,
            Err(other) => return Err(other),
        };
        match (principal, self.limits.user, self.limits.anon, ip) {
            (Some(p), Some(rate), _, _) => self
                .throttle
                .hit(&format!("api-user:{}", p.user_id), rate)
                .await?
                .into_result()?,
            (None, _, Some(rate), Some(ip)) => self
                .throttle
                .hit(&format!("api-ip:{}", crate::client_ip::network(ip)), rate)
                .await?
                .into_result()?,
            _ => {}
        }
        Ok(principal)
    }

    // --- access tokens ----------------------------------------------------------------------

    /// Verifies a bearer token and returns the caller. Checks signature, algorithm, expiry,
    /// issuer, audience and type, then the user's revocation state (cached for at most
    /// `token_state_ttl`): a deleted or inactive user, or a bumped token version, is refused.
    ///
    /// # Errors
    /// [`Error::InvalidAccessToken`] for any refusal.
    pub async fn authenticate(&self, token: &str) -> Result<Principal> {
        let claims = self.tokens.verify_access(token)?;
        match self.states.get(self.store.as_ref(), claims.sub).await? {
            Some(state) if state.user.is_active && state.token_version == claims.ver => {
                Ok(Principal {
                    user_id: claims.sub,
                    role: state.user.role,
                })
            }
            _ => Err(Error::InvalidAccessToken("Token has been revoked.")),
        }
    }

    /// The caller from an `Authorization` header, if one was sent.
    ///
    /// A missing header is `Ok(None)`; a header with another scheme counts as missing; a bearer
    /// token that does not verify is an error (an optional-auth route still rejects bad tokens).
    ///
    /// # Errors
    /// [`Error::InvalidAccessToken`] when a bearer token was sent and refused.
    pub async fn authenticate_headers(&self, headers: &HeaderMap) -> Result<Option<Principal>> {
        match bearer_token(headers)? {
            Some(token) => self.authenticate(token).await.map(Some),
            None => Ok(None),
        }
    }

    // --- helpers ----------------------------------------------------------------------------

    fn new_session_row(
        &self,
        user_id: Uuid,
        family_id: Uuid,
        token_hash: Vec<u8>,
        now: Timestamp,
    ) -> NewRefreshToken {
        NewRefreshToken {
            id: Uuid::now_v7(),
            user_id,
            family_id,
            token_hash,
            created_at: now,
            expires_at: now + self.refresh_ttl,
        }
    }

    fn pair(
        &self,
        user_id: Uuid,
        role: Role,
        version: i64,
        refresh: String,
        now: Timestamp,
    ) -> Result<TokenPair> {
        Ok(TokenPair {
            access: self.tokens.issue_access(user_id, role, version, now)?,
            refresh,
            token_type: "Bearer".into(),
            expires_in: self.tokens.access_ttl_secs(),
        })
    }

    async fn purge_now_and_then(&self, now: Timestamp) {
        let last = self.last_purge.load(Ordering::Relaxed);
        if now.timestamp() - last < PURGE_INTERVAL_SECS {
            return;
        }
        // Only one caller wins the slot; the others go on without waiting.
        if self
            .last_purge
            .compare_exchange(last, now.timestamp(), Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
        {
            match self.store.purge_expired_tokens(now).await {
                Ok(n) if n > 0 => tracing::info!(purged = n, "expired refresh tokens purged"),
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "purging expired refresh tokens failed"),
            }
        }
    }
}

/// The bearer token of an `Authorization` header.
///
/// `Ok(None)` when there is no header or it uses another scheme (no credentials for us).
///
/// # Errors
/// [`Error::InvalidAccessToken`] for `Bearer` with an empty or malformed token.
pub fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>> {
    let Some(value) = headers.get(http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| {
        Error::InvalidAccessToken("Authorization header must contain only visible ASCII.")
    })?;
    let (scheme, token) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    let token = token.trim();
    if token.is_empty() || token.contains(' ') {
        return Err(Error::InvalidAccessToken(
            "Authorization header must contain two space-delimited values.",
        ));
    }
    Ok(Some(token))
}
