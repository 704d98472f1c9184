//! The storage trait of the auth module. Implemented for SQLite and PostgreSQL in
//! [`crate::db`]; mocked with mockall behind the `mock` feature.

use async_trait::async_trait;
use uuid::Uuid;

use super::model::{Email, NewRefreshToken, NewUser, Rotation, TokenState, UserRecord};
use crate::error::Result;
use crate::principal::Role;
use crate::time::Timestamp;

/// Changes to a user's own profile fields (PATCH /auth/me).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChanges {
    /// New email, if changing.
    pub email: Option<Email>,
    /// New display name, if changing.
    pub display_name: Option<String>,
}

/// Users and their sessions (refresh-token families).
///
/// Every method that changes more than one row runs in one transaction. Unique clashes come back
/// as [`crate::Error::Conflict`] naming the field, straight from the database's constraint (no
/// check-then-insert race).
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait AuthStore: Send + Sync + 'static {
    /// Inserts a user and, atomically with it, their first session's refresh token.
    ///
    /// # Errors
    /// [`crate::Error::Conflict`] on `username` or `email` clashes.
    async fn create_user(
        &self,
        user: &NewUser,
        first_token: Option<NewRefreshToken>,
    ) -> Result<UserRecord>;

    /// The user with this id.
    ///
    /// # Errors
    /// Database failures.
    async fn user_by_id(&self, id: Uuid) -> Result<Option<UserRecord>>;

    /// The user whose username or email equals `login`, case-insensitively.
    ///
    /// # Errors
    /// Database failures.
    async fn user_by_login(&self, login: &str) -> Result<Option<UserRecord>>;

    /// What access-token checks need: version, active flag, role.
    ///
    /// # Errors
    /// Database failures.
    async fn token_state(&self, id: Uuid) -> Result<Option<TokenState>>;

    /// Applies profile changes; `None` when the user is gone.
    ///
    /// # Errors
    /// [`crate::Error::Conflict`] on an `email` clash.
    async fn update_user(
        &self,
        id: Uuid,
        changes: &UserChanges,
        now: Timestamp,
    ) -> Result<Option<UserRecord>>;

    /// Replaces the password hash without ending sessions (transparent re-hash on login).
    ///
    /// # Errors
    /// Database failures.
    async fn replace_password_hash(&self, id: Uuid, password_hash: &str) -> Result<()>;

    /// Sets a new password hash, bumps the token version and revokes every session, atomically.
    ///
    /// # Errors
    /// Database failures.
    async fn change_password(&self, id: Uuid, password_hash: &str, now: Timestamp) -> Result<bool>;

    /// Activates or deactivates a user; deactivation also bumps the token version and revokes
    /// every session, atomically. `false` when the user is gone.
    ///
    /// # Errors
    /// Database failures.
    async fn set_active(&self, id: Uuid, active: bool, now: Timestamp) -> Result<bool>;

    /// Changes a user's role and bumps the token version. `false` when the user is gone.
    ///
    /// # Errors
    /// Database failures.
    async fn set_role(&self, id: Uuid, role: Role, now: Timestamp) -> Result<bool>;

    /// Deletes the user and, by cascade, everything they own. `false` when already gone.
    ///
    /// # Errors
    /// Database failures.
    async fn delete_user(&self, id: Uuid) -> Result<bool>;

    /// Stores the refresh token of a new session.
    ///
    /// # Errors
    /// [`crate::Error::AuthenticationFailed`] when the user was deleted meanwhile; database
    /// failures.
    async fn insert_refresh_token(&self, token: &NewRefreshToken) -> Result<()>;

    /// Atomically revokes the live token with hash `presented` (if its user is active) and
    /// stores a new token with hash `new_hash` in the same family, expiring at `expires_at`.
    /// Of two concurrent calls with one token exactly one sees [`Rotation::Rotated`].
    ///
    /// # Errors
    /// Database failures.
    async fn rotate_refresh_token(
        &self,
        presented: &[u8],
        new_hash: &[u8],
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<Rotation>;

    /// Revokes every live token of a family (one session).
    ///
    /// # Errors
    /// Database failures.
    async fn revoke_family(&self, family_id: Uuid, now: Timestamp) -> Result<()>;

    /// Revokes the session the token with this hash belongs to. `false` when no such token
    /// exists; `true` also when it was already revoked (logout is idempotent).
    ///
    /// # Errors
    /// Database failures.
    async fn revoke_session_of(&self, token_hash: &[u8], now: Timestamp) -> Result<bool>;

    /// Revokes every session of a user and bumps their token version, atomically.
    ///
    /// # Errors
    /// Database failures.
    async fn end_all_sessions(&self, user_id: Uuid, now: Timestamp) -> Result<()>;

    /// Deletes refresh-token rows that expired before `now`. Returns how many.
    ///
    /// # Errors
    /// Database failures.
    async fn purge_expired_tokens(&self, now: Timestamp) -> Result<u64>;
}
