//! The `refresh_tokens` table: sessions as families of rotated refresh tokens (only their
//! SHA-256 is stored).

use uuid::Uuid;

use crate::auth::{NewRefreshToken, Rotation};
use crate::db::{on_pool, on_tx, Database, Tx};
use crate::error::{Error, Result};
use crate::time::Timestamp;

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
const BUMP_VERSION: &str =
    "UPDATE users SET token_version = token_version + 1, updated_at = $2 WHERE id = $1";
const PURGE_TOKENS: &str = "DELETE FROM refresh_tokens WHERE expires_at < $1";

// Every change to a user's sessions serialises on the user's row. On PostgreSQL (READ
// COMMITTED) a revocation's UPDATE works on a snapshot taken when it starts: without these
// locks, a token inserted by a rotation still in flight is missed and survives logout,
// reuse detection, logout-all, a password change or deactivation. A rotation share-locks the
// owner (rotations do not block each other); a family revocation locks it exclusively;
// user-wide revocations already do, by updating the row first. Either the revocation waits for
// the rotation and then sees its new token, or the rotation waits and then finds its token
// revoked. SQLite needs none of this: its write transactions run one at a time.
const PG_LOCK_TOKEN_OWNER: &str = "SELECT 1 FROM users WHERE id = \
     (SELECT user_id FROM refresh_tokens WHERE token_hash = $1) FOR SHARE";
const PG_LOCK_FAMILY_OWNER: &str = "SELECT 1 FROM users WHERE id IN \
     (SELECT user_id FROM refresh_tokens WHERE family_id = $1) FOR NO KEY UPDATE";

/// Inserts a refresh-token row inside a transaction.
pub(super) async fn insert_in(tx: &mut Tx, token: &NewRefreshToken) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(INSERT_TOKEN)
            .bind(token.id)
            .bind(token.user_id)
            .bind(token.family_id)
            .bind(&token.token_hash)
            .bind(token.created_at)
            .bind(token.expires_at)
            .execute(&mut **conn)
            .await
            .map(drop)
    })?;
    Ok(())
}

/// Inserts a refresh-token row on its own (a login's new session). A user deleted since the
/// login found them breaks the foreign key: the login then fails as for any account that does
/// not exist, [`Error::AuthenticationFailed`], not as a server fault.
pub(super) async fn insert(db: &Database, token: &NewRefreshToken) -> Result<()> {
    on_pool!(db, pool => {
        sqlx::query(INSERT_TOKEN)
            .bind(token.id)
            .bind(token.user_id)
            .bind(token.family_id)
            .bind(&token.token_hash)
            .bind(token.created_at)
            .bind(token.expires_at)
            .execute(pool)
            .await
            .map(drop)
    })
    .map_err(|error| {
        if error
            .as_database_error()
            .is_some_and(|db| db.is_foreign_key_violation())
        {
            Error::AuthenticationFailed
        } else {
            Error::from(error)
        }
    })
}

/// Revokes every live session of a user inside a transaction.
pub(super) async fn revoke_user_in(tx: &mut Tx, user_id: Uuid, now: Timestamp) -> Result<()> {
    on_tx!(tx, conn => {
        sqlx::query(REVOKE_USER)
            .bind(user_id)
            .bind(now)
            .execute(&mut **conn)
            .await
            .map(drop)
    })?;
    Ok(())
}

/// The family of the token with this hash and whether that token was revoked.
async fn family_of_in(tx: &mut Tx, token_hash: &[u8]) -> Result<Option<(Uuid, bool)>> {
    Ok(on_tx!(tx, conn => {
        sqlx::query_as(TOKEN_BY_HASH)
            .bind(token_hash)
            .fetch_optional(&mut **conn)
            .await
    })?)
}

/// Takes the presented token and issues its successor in the same family, in one transaction;
/// otherwise says why not (unknown, reused after rotation, or refused).
pub(super) async fn rotate(
    db: &Database,
    presented: &[u8],
    new_hash: &[u8],
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<Rotation> {
    let mut tx = db.begin_write().await?;
    if let Tx::Postgres(conn) = &mut tx {
        sqlx::query(PG_LOCK_TOKEN_OWNER)
            .bind(presented)
            .execute(&mut **conn)
            .await?;
    }
    let taken: Option<(Uuid, Uuid)> = on_tx!(&mut tx, conn => {
        sqlx::query_as(TAKE_TOKEN)
            .bind(presented)
            .bind(now)
            .fetch_optional(&mut **conn)
            .await
    })?;
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
            insert_in(&mut tx, &token).await?;
            Rotation::Rotated { user_id }
        }
        None => match family_of_in(&mut tx, presented).await? {
            None => Rotation::Unknown,
            Some((family_id, true)) => Rotation::Reused { family_id },
            Some((_, false)) => Rotation::Refused,
        },
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Revokes every live token of a family.
pub(super) async fn revoke_family(db: &Database, family_id: Uuid, now: Timestamp) -> Result<()> {
    let mut tx = db.begin_write().await?;
    if let Tx::Postgres(conn) = &mut tx {
        sqlx::query(PG_LOCK_FAMILY_OWNER)
            .bind(family_id)
            .execute(&mut **conn)
            .await?;
    }
    on_tx!(&mut tx, conn => {
        sqlx::query(REVOKE_FAMILY)
            .bind(family_id)
            .bind(now)
            .execute(&mut **conn)
            .await
            .map(drop)
    })?;
    tx.commit().await?;
    Ok(())
}

/// Revokes the family of the token with this hash; `false` when no such token exists.
pub(super) async fn revoke_session_of(
    db: &Database,
    token_hash: &[u8],
    now: Timestamp,
) -> Result<bool> {
    let known: Option<(Uuid, bool)> = on_pool!(db, pool => {
        sqlx::query_as(TOKEN_BY_HASH)
            .bind(token_hash)
            .fetch_optional(pool)
            .await
    })?;
    let Some((family_id, _)) = known else {
        return Ok(false);
    };
    revoke_family(db, family_id, now).await?;
    Ok(true)
}

/// A new token version (every access token dies) and every session revoked, atomically.
pub(super) async fn end_all_sessions(db: &Database, user_id: Uuid, now: Timestamp) -> Result<()> {
    let mut tx = db.begin_write().await?;
    on_tx!(&mut tx, conn => {
        sqlx::query(BUMP_VERSION)
            .bind(user_id)
            .bind(now)
            .execute(&mut **conn)
            .await
            .map(drop)
    })?;
    revoke_user_in(&mut tx, user_id, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes the tokens that expired before `now`; returns how many.
pub(super) async fn purge_expired(db: &Database, now: Timestamp) -> Result<u64> {
    let purged = on_pool!(db, pool => {
        sqlx::query(PURGE_TOKENS)
            .bind(now)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
    })?;
    Ok(purged)
}
