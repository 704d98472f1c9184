//! The `users` table: accounts, their profile and the token version that access-token checks
//! compare.

use uuid::Uuid;

use super::tokens;
use crate::auth::{NewRefreshToken, NewUser, TokenState, UserChanges, UserRecord};
use crate::db::{map_unique, on_pool, on_tx, Database};
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
const DELETE_USER: &str = "DELETE FROM users WHERE id = $1";

/// Inserts a user and, in the same transaction, their first session's refresh token.
pub(super) async fn create(
    db: &Database,
    user: &NewUser,
    first_token: Option<NewRefreshToken>,
) -> Result<UserRecord> {
    let mut tx = db.begin_write().await?;
    let record: UserRecord = on_tx!(&mut tx, conn => {
        sqlx::query_as(INSERT_USER)
            .bind(user.id)
            .bind(user.username.as_str())
            .bind(user.email.as_str())
            .bind(&user.display_name)
            .bind(&user.password_hash)
            .bind(user.role.as_str())
            .bind(user.created_at)
            .fetch_one(&mut **conn)
            .await
    })
    .map_err(|e| map_unique(e, USER_UNIQUE))?;
    if let Some(token) = first_token {
        tokens::insert_in(&mut tx, &token).await?;
    }
    tx.commit().await?;
    Ok(record)
}

pub(super) async fn by_id(db: &Database, id: Uuid) -> Result<Option<UserRecord>> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as(USER_BY_ID).bind(id).fetch_optional(pool).await
    })?)
}

/// The user whose username or email is `login`, case-insensitively.
pub(super) async fn by_login(db: &Database, login: &str) -> Result<Option<UserRecord>> {
    if login.contains('\0') {
        // No stored name holds a NUL (registration refuses it), and PostgreSQL would refuse
        // the statement rather than find nothing: answer for it, on both databases.
        return Ok(None);
    }
    // Usernames cannot contain '@', so the form of the login says which index to use.
    let sql = if login.contains('@') {
        USER_BY_EMAIL
    } else {
        USER_BY_USERNAME
    };
    Ok(on_pool!(db, pool => {
        sqlx::query_as(sql).bind(login).fetch_optional(pool).await
    })?)
}

pub(super) async fn token_state(db: &Database, id: Uuid) -> Result<Option<TokenState>> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as(TOKEN_STATE).bind(id).fetch_optional(pool).await
    })?)
}

pub(super) async fn update(
    db: &Database,
    id: Uuid,
    changes: &UserChanges,
    now: Timestamp,
) -> Result<Option<UserRecord>> {
    on_pool!(db, pool => {
        sqlx::query_as(UPDATE_USER)
            .bind(id)
            .bind(changes.email.as_ref().map(|e| e.as_str()))
            .bind(changes.display_name.as_deref())
            .bind(now)
            .fetch_optional(pool)
            .await
    })
    .map_err(|e| map_unique(e, USER_UNIQUE))
}

pub(super) async fn replace_password_hash(
    db: &Database,
    id: Uuid,
    password_hash: &str,
) -> Result<()> {
    on_pool!(db, pool => {
        sqlx::query(REPLACE_HASH)
            .bind(id)
            .bind(password_hash)
            .execute(pool)
            .await
            .map(drop)
    })?;
    Ok(())
}

/// A new hash, a new token version and every session revoked, in one transaction.
pub(super) async fn change_password(
    db: &Database,
    id: Uuid,
    password_hash: &str,
    now: Timestamp,
) -> Result<bool> {
    let mut tx = db.begin_write().await?;
    let changed = on_tx!(&mut tx, conn => {
        sqlx::query(CHANGE_PASSWORD)
            .bind(id)
            .bind(password_hash)
            .bind(now)
            .execute(&mut **conn)
            .await
            .map(|done| done.rows_affected())
    })?;
    tokens::revoke_user_in(&mut tx, id, now).await?;
    tx.commit().await?;
    Ok(changed > 0)
}

/// (De)activates a user with a new token version; deactivation revokes every session too.
pub(super) async fn set_active(
    db: &Database,
    id: Uuid,
    active: bool,
    now: Timestamp,
) -> Result<bool> {
    let mut tx = db.begin_write().await?;
    let changed = on_tx!(&mut tx, conn => {
        sqlx::query(SET_ACTIVE)
            .bind(id)
            .bind(active)
            .bind(now)
            .execute(&mut **conn)
            .await
            .map(|done| done.rows_affected())
    })?;
    if !active {
        tokens::revoke_user_in(&mut tx, id, now).await?;
    }
    tx.commit().await?;
    Ok(changed > 0)
}

pub(super) async fn set_role(db: &Database, id: Uuid, role: Role, now: Timestamp) -> Result<bool> {
    let changed = on_pool!(db, pool => {
        sqlx::query(SET_ROLE)
            .bind(id)
            .bind(role.as_str())
            .bind(now)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
    })?;
    Ok(changed > 0)
}

/// Deletes a user; their sessions, resources and tags go with them (`ON DELETE CASCADE`).
pub(super) async fn delete(db: &Database, id: Uuid) -> Result<bool> {
    let deleted = on_pool!(db, pool => {
        sqlx::query(DELETE_USER)
            .bind(id)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
    })?;
    Ok(deleted > 0)
}
