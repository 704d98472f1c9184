//! Fixtures of the auth store suite: users, sessions and lookups.

use super::*;

// --- fixtures ---------------------------------------------------------------------------------

/// A new user `name` with email `name@example.com`, created now.
pub(crate) fn new_user(name: &str) -> NewUser {
    new_user_with_email(name, &format!("{name}@example.com"))
}

pub(crate) fn new_user_with_email(name: &str, email: &str) -> NewUser {
    NewUser {
        id: Uuid::now_v7(),
        username: Username::parse(name).expect("valid username"),
        email: Email::parse(email).expect("valid email"),
        display_name: format!("{name} the tester"),
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$fake${name}"),
        role: Role::User,
        created_at: now(),
    }
}

/// A random token hash, as the service would store it.
pub(crate) fn fresh_hash() -> Vec<u8> {
    TokenCodec::new_refresh().expect("OS random generator").1
}

/// A refresh-token row for a new session (new family) of `user_id`, expiring `ttl` from now.
pub(crate) fn session(user_id: Uuid, ttl: Duration) -> NewRefreshToken {
    session_in(user_id, Uuid::now_v7(), ttl)
}

pub(crate) fn session_in(user_id: Uuid, family_id: Uuid, ttl: Duration) -> NewRefreshToken {
    let created_at = now();
    NewRefreshToken {
        id: Uuid::now_v7(),
        user_id,
        family_id,
        token_hash: fresh_hash(),
        created_at,
        expires_at: created_at + ttl,
    }
}

pub(crate) fn week() -> Duration {
    Duration::days(7)
}

/// Creates `name` with a first session; returns the record and that session's row.
pub(crate) async fn user_with_session(
    store: &Arc<dyn AuthStore>,
    name: &str,
) -> (UserRecord, NewRefreshToken) {
    let user = new_user(name);
    let token = session(user.id, week());
    let record = store
        .create_user(&user, Some(token.clone()))
        .await
        .expect("create_user");
    (record, token)
}

/// Rotates `presented` into a fresh hash expiring in a week; returns the outcome and the new hash.
pub(crate) async fn rotate(store: &Arc<dyn AuthStore>, presented: &[u8]) -> (Rotation, Vec<u8>) {
    let new_hash = fresh_hash();
    let at = now();
    let outcome = store
        .rotate_refresh_token(presented, &new_hash, at, at + week())
        .await
        .expect("rotate_refresh_token");
    (outcome, new_hash)
}

pub(crate) async fn rotation(store: &Arc<dyn AuthStore>, presented: &[u8]) -> Rotation {
    rotate(store, presented).await.0
}

pub(crate) async fn state(store: &Arc<dyn AuthStore>, id: Uuid) -> TokenState {
    store
        .token_state(id)
        .await
        .expect("token_state")
        .expect("user exists")
}

pub(crate) async fn fetch(store: &Arc<dyn AuthStore>, id: Uuid) -> UserRecord {
    store
        .user_by_id(id)
        .await
        .expect("user_by_id")
        .expect("user exists")
}

/// The single field a conflict names, or a panic describing what came instead.
pub(crate) fn conflict_field<T: std::fmt::Debug>(result: vault_core::Result<T>) -> String {
    match result {
        Err(Error::Conflict(errors)) => {
            let fields: Vec<&str> = ["username", "email"]
                .into_iter()
                .filter(|f| errors.get(f).is_some_and(|m| !m.is_empty()))
                .collect();
            assert_eq!(fields.len(), 1, "one field per conflict: {errors:?}");
            fields[0].to_string()
        }
        other => panic!("expected Error::Conflict, got {other:?}"),
    }
}
