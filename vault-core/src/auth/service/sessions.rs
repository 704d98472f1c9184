//! Refresh-token sessions: rotation with reuse detection, logout and logout-all.

use std::net::IpAddr;
use std::sync::atomic::Ordering;

use http::HeaderMap;

use super::AuthService;
use crate::auth::model::*;
use crate::auth::token::TokenCodec;
use crate::error::{Error, Result};
use crate::principal::Principal;
use crate::time;
use crate::wire;

impl AuthService {
    /// Exchanges a live refresh token for a new pair (rotation). Presenting a token that was
    /// already rotated revokes its whole session, so a thief's copy dies with the victim's.
    ///
    /// # Errors
    /// [`Error::InvalidRefreshToken`] for unknown, expired, revoked or replayed tokens;
    /// [`Error::Throttled`] over the per-IP limit.
    pub async fn refresh(&self, refresh: &str, ip: Option<IpAddr>) -> Result<TokenPair> {
        self.throttle_ip(ip).await?;
        self.refresh_unthrottled(refresh).await
    }

    /// [`AuthService::refresh`] from a raw HTTP body `{refresh}`, counted before decoding.
    ///
    /// # Errors
    /// As [`AuthService::refresh`], plus the body errors of [`wire::decode_json_body`].
    pub async fn refresh_http(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        ip: Option<IpAddr>,
    ) -> Result<TokenPair> {
        self.throttle_ip(ip).await?;
        let request: RefreshRequest = wire::decode_json_body(headers, body)?;
        self.refresh_unthrottled(&request.refresh).await
    }

    async fn refresh_unthrottled(&self, refresh: &str) -> Result<TokenPair> {
        if refresh.len() > PRESENTED_REFRESH_MAX {
            return Err(Error::InvalidRefreshToken("Token is invalid or expired."));
        }
        let presented = TokenCodec::hash_refresh(refresh);
        let now = time::now();
        let (new_refresh, new_hash) = TokenCodec::new_refresh()?;
        let expires_at = now + self.refresh_ttl;
        match self
            .store
            .rotate_refresh_token(&presented, &new_hash, now, expires_at)
            .await?
        {
            Rotation::Rotated { user_id } => {
                self.purge_now_and_then(now).await;
                match self.states.get(self.store.as_ref(), user_id).await? {
                    Some(state) if state.user.is_active => self.pair(
                        user_id,
                        state.user.role,
                        state.token_version,
                        new_refresh,
                        now,
                    ),
                    _ => Err(Error::InvalidRefreshToken("Token is invalid or expired.")),
                }
            }
            Rotation::Reused { family_id } => {
                // Also reached by a token whose session was ended (logout, password change):
                // either way the answer is 401 and the family is (already) revoked.
                tracing::warn!(%family_id, "revoked refresh token presented; session revoked");
                self.store.revoke_family(family_id, now).await?;
                Err(Error::InvalidRefreshToken("Token has been revoked."))
            }
            Rotation::Refused | Rotation::Unknown => {
                Err(Error::InvalidRefreshToken("Token is invalid or expired."))
            }
        }
    }

    /// Ends the session of a refresh token. Idempotent for genuine tokens.
    ///
    /// # Errors
    /// [`Error::InvalidRefreshToken`] when the token was never issued.
    pub async fn logout(&self, refresh: &str) -> Result<()> {
        if refresh.len() > PRESENTED_REFRESH_MAX {
            return Err(Error::InvalidRefreshToken("Token is invalid or expired."));
        }
        let hash = TokenCodec::hash_refresh(refresh);
        if self.store.revoke_session_of(&hash, time::now()).await? {
            Ok(())
        } else {
            Err(Error::InvalidRefreshToken("Token is invalid or expired."))
        }
    }

    /// Ends every session of the caller and revokes their outstanding access tokens.
    ///
    /// # Errors
    /// Database failures.
    pub async fn logout_all(&self, principal: &Principal) -> Result<()> {
        self.store
            .end_all_sessions(principal.user_id, time::now())
            .await?;
        self.states.forget(principal.user_id);
        Ok(())
    }

    /// Deletes expired refresh-token rows now. Also runs by itself at most hourly during logins
    /// and refreshes, so hosts need not schedule it.
    ///
    /// # Errors
    /// Database failures.
    pub async fn purge_expired(&self) -> Result<u64> {
        let now = time::now();
        self.last_purge.store(now.timestamp(), Ordering::Relaxed);
        self.store.purge_expired_tokens(now).await
    }
}
