//! [`AuthStore`] for SQLite and PostgreSQL: one body, instantiated for both (the SQL is the
//! same in both dialects, except for the row locks PostgreSQL needs: see `PG_LOCK_TOKEN_OWNER`).

use async_trait::async_trait;
use sqlx::{Postgres, Sqlite};
use uuid::Uuid;

use super::{map_unique, SqlStore};
use crate::auth::{
    AuthStore, NewRefreshToken, NewUser, Rotation, TokenState, UserChanges, UserRecord,
};
use crate::error::Result;
use crate::principal::Role;
use crate::time::Timestamp;

const USER_UNIQUE: &[(&str, &str, &str)] = &[
    (
        "users_username_key",
        "username",
        "A user with that username already exists.",
    ),
    (
        "users_email_key",
        "email",
        "A user with that email already exists.",
    ),
];

const INSERT_USER: &str = "INSERT INTO users \
     (id, username, email, display_name, password_hash, role, is_active, token_version, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, TRUE, 0, $7, $7) \
     RETURNING id, username, email, display_name, password_hash, role, is_active, token_version, created_at, updated_at";
const USER_BY_ID: &str =
    "SELECT id, username, email, display_name, password_hash, role, is_active, \
     token_version, created_at, updated_at FROM users WHERE id = $1";
const USER_BY_USERNAME: &str = "SELECT id, username, email, display_name, password_hash, role, \
     is_active, token_version, created_at, updated_at FROM users WHERE lower(username) = lower($1)";
const USER_BY_EMAIL: &str = "SELECT id, username, email, display_name, password_hash, role, \
     is_active, token_version, created_at, updated_at FROM users WHERE lower(email) = lower($1)";
const TOKEN_STATE: &str = "SELECT id, username, email, display_name, role, is_active, \
     created_at, token_version FROM users WHERE id = $1";
const UPDATE_USER: &str = "UPDATE users SET email = COALESCE($2, email), \
     display_name = COALESCE($3, display_name), updated_at = $4 WHERE id = $1 \
     RETURNING id, username, email, display_name, password_hash, role, is_active, token_version, created_at, updated_at";
const REPLACE_HASH: &str = "UPDATE users SET password_hash = $2 WHERE id = $1";
const CHANGE_PASSWORD: &str = "UPDATE users SET password_hash = $2, \
     token_version = token_version + 1, updated_at = $3 WHERE id = $1";
const SET_ACTIVE: &str = "UPDATE users SET is_active = $2, \
     token_version = token_version + 1, updated_at = $3 WHERE id = $1";
const SET_ROLE: &str = "UPDATE users SET role = $2, \
     token_version = token_version + 1, updated_at = $3 WHERE id = $1";
const BUMP_VERSION: &str =
    "UPDATE users SET token_version = token_version + 1, updated_at = $2 WHERE id = $1";
const DELETE_USER: &str = "DELETE FROM users WHERE id = $1";

const INSERT_TOKEN: &str = "INSERT INTO refresh_tokens \
     (id, user_id, family_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)";
/// Takes the presented token if it is live and its user active. Under concurrency only one
/// caller's UPDATE matches: the row lock (PostgreSQL) or the write lock (SQLite) serialises
/// them and the loser re-evaluates `revoked_at IS NULL` as false.
const TAKE_TOKEN: &str = "UPDATE refresh_tokens SET revoked_at = $2 \
     WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2 \
     AND EXISTS (SELECT 1 FROM users u WHERE u.id = refresh_tokens.user_id AND u.is_active) \
     RETURNING user_id, family_id";
const TOKEN_BY_HASH: &str =
    "SELECT family_id, revoked_at IS NOT NULL FROM refresh_tokens WHERE token_hash = $1";
const REVOKE_FAMILY: &str =
    "UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL";
const REVOKE_USER: &str =
    "UPDATE refresh_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL";
const PURGE_TOKENS: &str = "DELETE FROM refresh_tokens WHERE expires_at < $1";

// Every change to a user's sessions serialises on the user's row. On PostgreSQL (READ
// COMMITTED) a revocation's UPDATE works on a snapshot taken when it starts: without these
// locks, a token inserted by a rotation still in flight is missed and survives logout,
// reuse detection, logout-all, a password change or deactivation. A rotation share-locks the
// owner (rotations do not block each other); a family revocation locks it exclusively;
// user-wide revocations already do, by updating the row first. Either the revocation waits for
// the rotation and then sees its new token, or the rotation waits and then finds its token
// revoked. SQLite needs none of this: its write transactions run one at a time.
const PG_LOCK_TOKEN_OWNER: Option<&str> = Some(
    "SELECT 1 FROM users WHERE id = \
     (SELECT user_id FROM refresh_tokens WHERE token_hash = $1) FOR SHARE",
);
const PG_LOCK_FAMILY_OWNER: Option<&str> = Some(
    "SELECT 1 FROM users WHERE id IN \
     (SELECT user_id FROM refresh_tokens WHERE family_id = $1) FOR NO KEY UPDATE",
);
const SQLITE_LOCK_TOKEN_OWNER: Option<&str> = None;
const SQLITE_LOCK_FAMILY_OWNER: Option<&str> = None;

/// Inserts a refresh-token row with any executor (pool or transaction).
macro_rules! insert_token {
    ($executor:expr, $token:expr) => {{
        let token: &NewRefreshToken = $token;
        sqlx::query(INSERT_TOKEN)
            .bind(token.id)
            .bind(token.user_id)
            .bind(token.family_id)
            .bind(&token.token_hash)
            .bind(token.created_at)
            .bind(token.expires_at)
            .execute($executor)
            .await
            .map(drop)
    }};
}

macro_rules! auth_store {
    ($db:ty, lock_token_owner: $lock_token:ident, lock_family_owner: $lock_family:ident) => {
        #[async_trait]
        impl AuthStore for SqlStore<$db> {
            async fn create_user(
                &self,
                user: &NewUser,
                first_token: Option<NewRefreshToken>,
            ) -> Result<UserRecord> {
                let mut tx = self.write_tx().await?;
                let record = sqlx::query_as::<_, UserRecord>(INSERT_USER)
                    .bind(user.id)
                    .bind(user.username.as_str())
                    .bind(user.email.as_str())
                    .bind(&user.display_name)
                    .bind(&user.password_hash)
                    .bind(user.role.as_str())
                    .bind(user.created_at)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| map_unique(e, USER_UNIQUE))?;
                if let Some(token) = first_token {
                    insert_token!(&mut *tx, &token)?;
                }
                tx.commit().await?;
                Ok(record)
            }

            async fn user_by_id(&self, id: Uuid) -> Result<Option<UserRecord>> {
                Ok(sqlx::query_as(USER_BY_ID)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn user_by_login(&self, login: &str) -> Result<Option<UserRecord>> {
                // Usernames cannot contain '@', so the form of the login says which index to use.
                let sql = if login.contains('@') {
                    USER_BY_EMAIL
                } else {
                    USER_BY_USERNAME
                };
                Ok(sqlx::query_as(sql)
                    .bind(login)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn token_state(&self, id: Uuid) -> Result<Option<TokenState>> {
                Ok(sqlx::query_as(TOKEN_STATE)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn update_user(
                &self,
                id: Uuid,
                changes: &UserChanges,
                now: Timestamp,
            ) -> Result<Option<UserRecord>> {
                sqlx::query_as(UPDATE_USER)
                    .bind(id)
                    .bind(changes.email.as_ref().map(|e| e.as_str()))
                    .bind(changes.display_name.as_deref())
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(|e| map_unique(e, USER_UNIQUE))
            }

            async fn replace_password_hash(&self, id: Uuid, password_hash: &str) -> Result<()> {
                sqlx::query(REPLACE_HASH)
                    .bind(id)
                    .bind(password_hash)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn change_password(
                &self,
                id: Uuid,
                password_hash: &str,
                now: Timestamp,
            ) -> Result<bool> {
                let mut tx = self.write_tx().await?;
                let changed = sqlx::query(CHANGE_PASSWORD)
                    .bind(id)
                    .bind(password_hash)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                sqlx::query(REVOKE_USER)
                    .bind(id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(changed > 0)
            }

            async fn set_active(&self, id: Uuid, active: bool, now: Timestamp) -> Result<bool> {
                let mut tx = self.write_tx().await?;
                let changed = sqlx::query(SET_ACTIVE)
                    .bind(id)
                    .bind(active)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if !active {
                    sqlx::query(REVOKE_USER)
                        .bind(id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(changed > 0)
            }

            async fn set_role(&self, id: Uuid, role: Role, now: Timestamp) -> Result<bool> {
                let changed = sqlx::query(SET_ROLE)
                    .bind(id)
                    .bind(role.as_str())
                    .bind(now)
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                Ok(changed > 0)
            }

            async fn delete_user(&self, id: Uuid) -> Result<bool> {
                let deleted = sqlx::query(DELETE_USER)
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                Ok(deleted.rows_affected() > 0)
            }

            async fn insert_refresh_token(&self, token: &NewRefreshToken) -> Result<()> {
                Ok(insert_token!(&self.pool, token)?)
            }

            async fn rotate_refresh_token(
                &self,
                presented: &[u8],
                new_hash: &[u8],
                now: Timestamp,
                expires_at: Timestamp,
            ) -> Result<Rotation> {
                let mut tx = self.write_tx().await?;
                if let Some(lock) = $lock_token {
                    sqlx::query(lock).bind(presented).execute(&mut *tx).await?;
                }
                let taken: Option<(Uuid, Uuid)> = sqlx::query_as(TAKE_TOKEN)
                    .bind(presented)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?;
                let outcome = match taken {
                    Some((user_id, family_id)) => {
                        let token = NewRefreshToken {
                            id: Uuid::now_v7(),
                            user_id,
                            family_id,
                            token_hash: new_hash.to_vec(),
                            created_at: now,
                            expires_at,
                        };
                        insert_token!(&mut *tx, &token)?;
                        Rotation::Rotated { user_id }
                    }
                    None => {
                        let known: Option<(Uuid, bool)> = sqlx::query_as(TOKEN_BY_HASH)
                            .bind(presented)
                            .fetch_optional(&mut *tx)
                            .await?;
                        match known {
                            None => Rotation::Unknown,
                            Some((family_id, true)) => Rotation::Reused { family_id },
                            Some((_, false)) => Rotation::Refused,
                        }
                    }
                };
                tx.commit().await?;
                Ok(outcome)
            }

            async fn revoke_family(&self, family_id: Uuid, now: Timestamp) -> Result<()> {
                let mut tx = self.write_tx().await?;
                if let Some(lock) = $lock_family {
                    sqlx::query(lock).bind(family_id).execute(&mut *tx).await?;
                }
                sqlx::query(REVOKE_FAMILY)
                    .bind(family_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn revoke_session_of(&self, token_hash: &[u8], now: Timestamp) -> Result<bool> {
                let known: Option<(Uuid, bool)> = sqlx::query_as(TOKEN_BY_HASH)
                    .bind(token_hash)
                    .fetch_optional(&self.pool)
                    .await?;
                let Some((family_id, _)) = known else {
                    return Ok(false);
                };
                self.revoke_family(family_id, now).await?;
                Ok(true)
            }

            async fn end_all_sessions(&self, user_id: Uuid, now: Timestamp) -> Result<()> {
                let mut tx = self.write_tx().await?;
                sqlx::query(BUMP_VERSION)
                    .bind(user_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(REVOKE_USER)
                    .bind(user_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn purge_expired_tokens(&self, now: Timestamp) -> Result<u64> {
                let purged = sqlx::query(PURGE_TOKENS)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(purged.rows_affected())
            }
        }
    };
}

auth_store!(
    Sqlite,
    lock_token_owner: SQLITE_LOCK_TOKEN_OWNER,
    lock_family_owner: SQLITE_LOCK_FAMILY_OWNER
);
auth_store!(
    Postgres,
    lock_token_owner: PG_LOCK_TOKEN_OWNER,
    lock_family_owner: PG_LOCK_FAMILY_OWNER
);
