//! [`SqlAuthStore`]: the [`AuthStore`] over SQLite or PostgreSQL. Users in [`users`], refresh
//! tokens (sessions) in [`tokens`]; the SQL is the same in both dialects except for the row
//! locks PostgreSQL needs (see `tokens`).

mod tokens;
mod users;

use async_trait::async_trait;
use uuid::Uuid;

use super::Database;
use crate::auth::{
    AuthStore, NewRefreshToken, NewUser, Rotation, TokenState, UserChanges, UserRecord,
};
use crate::error::Result;
use crate::principal::Role;
use crate::time::Timestamp;

/// The auth store over a [`Database`] (clones share the pool). It remembers nothing between
/// calls: the auth service keeps its own caches.
#[derive(Debug, Clone)]
pub struct SqlAuthStore {
    db: Database,
}

impl SqlAuthStore {
    /// The store over `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl AuthStore for SqlAuthStore {
    async fn create_user(
        &self,
        user: &NewUser,
        first_token: Option<NewRefreshToken>,
    ) -> Result<UserRecord> {
        users::create(&self.db, user, first_token).await
    }

    async fn user_by_id(&self, id: Uuid) -> Result<Option<UserRecord>> {
        users::by_id(&self.db, id).await
    }

    async fn user_by_login(&self, login: &str) -> Result<Option<UserRecord>> {
        users::by_login(&self.db, login).await
    }

    async fn token_state(&self, id: Uuid) -> Result<Option<TokenState>> {
        users::token_state(&self.db, id).await
    }

    async fn update_user(
        &self,
        id: Uuid,
        changes: &UserChanges,
        now: Timestamp,
    ) -> Result<Option<UserRecord>> {
        users::update(&self.db, id, changes, now).await
    }

    async fn replace_password_hash(&self, id: Uuid, password_hash: &str) -> Result<()> {
        users::replace_password_hash(&self.db, id, password_hash).await
    }

    async fn change_password(&self, id: Uuid, password_hash: &str, now: Timestamp) -> Result<bool> {
        users::change_password(&self.db, id, password_hash, now).await
    }

    async fn set_active(&self, id: Uuid, active: bool, now: Timestamp) -> Result<bool> {
        users::set_active(&self.db, id, active, now).await
    }

    async fn set_role(&self, id: Uuid, role: Role, now: Timestamp) -> Result<bool> {
        users::set_role(&self.db, id, role, now).await
    }

    async fn delete_user(&self, id: Uuid) -> Result<bool> {
        users::delete(&self.db, id).await
    }

    async fn insert_refresh_token(&self, token: &NewRefreshToken) -> Result<()> {
        tokens::insert(&self.db, token).await
    }

    async fn rotate_refresh_token(
        &self,
        presented: &[u8],
        new_hash: &[u8],
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<Rotation> {
        tokens::rotate(&self.db, presented, new_hash, now, expires_at).await
    }

    async fn revoke_family(&self, family_id: Uuid, now: Timestamp) -> Result<()> {
        tokens::revoke_family(&self.db, family_id, now).await
    }

    async fn revoke_session_of(&self, token_hash: &[u8], now: Timestamp) -> Result<bool> {
        tokens::revoke_session_of(&self.db, token_hash, now).await
    }

    async fn end_all_sessions(&self, user_id: Uuid, now: Timestamp) -> Result<()> {
        tokens::end_all_sessions(&self.db, user_id, now).await
    }

    async fn purge_expired_tokens(&self, now: Timestamp) -> Result<u64> {
        tokens::purge_expired(&self.db, now).await
    }
}
