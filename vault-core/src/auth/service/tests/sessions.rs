//! Refresh-token rotation and logout.

use std::sync::{Arc, Mutex};

use mockall::predicate::{always, eq};
use uuid::Uuid;

use super::*;
use crate::auth::token::TokenCodec;

// --- refresh ----------------------------------------------------------------------------------

#[tokio::test]
async fn refresh_replay_revokes_that_family_once_and_is_refused() {
    let family = Uuid::now_v7();
    let presented = TokenCodec::hash_refresh("vrt_stolen");
    let mut store = MockAuthStore::new();
    store
        .expect_rotate_refresh_token()
        .withf(move |p, new, now, expires| {
            p == presented.as_slice() && new != p && *expires - *now == chrono::Duration::days(7)
        })
        .times(1)
        .returning(move |_, _, _, _| Ok(Rotation::Reused { family_id: family }));
    store
        .expect_revoke_family()
        .with(eq(family), always())
        .times(1)
        .returning(|_, _| Ok(()));
    store.expect_token_state().never();
    store.expect_purge_expired_tokens().never();

    let error = service(store, no_throttle(), &config())
        .refresh("vrt_stolen", None)
        .await
        .expect_err("a replayed token is refused");
    assert!(
        matches!(error, Error::InvalidRefreshToken("Token has been revoked.")),
        "{error:?}"
    );
}

#[tokio::test]
async fn refresh_of_unknown_or_refused_tokens_revokes_nothing() {
    for outcome in [Rotation::Unknown, Rotation::Refused] {
        let mut store = MockAuthStore::new();
        let answer = outcome.clone();
        store
            .expect_rotate_refresh_token()
            .times(1)
            .returning(move |_, _, _, _| Ok(answer.clone()));
        store.expect_revoke_family().never();
        store.expect_token_state().never();
        store.expect_purge_expired_tokens().never();

        let error = service(store, no_throttle(), &config())
            .refresh("vrt_whatever", None)
            .await
            .expect_err("refused");
        assert!(
            matches!(error, Error::InvalidRefreshToken(_)),
            "{outcome:?}: {error:?}"
        );
    }
}

#[tokio::test]
async fn refresh_issues_a_pair_from_current_state_and_purges_at_most_hourly() {
    let user_id = Uuid::now_v7();
    let stored: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let mut store = MockAuthStore::new();
    let seen = Arc::clone(&stored);
    store
        .expect_rotate_refresh_token()
        .times(2)
        .returning(move |_, new_hash, _, _| {
            seen.lock().expect("lock").push(new_hash.to_vec());
            Ok(Rotation::Rotated { user_id })
        });
    // Role and version come from the current state, read once (then cached).
    store
        .expect_token_state()
        .with(eq(user_id))
        .times(1)
        .returning(|_| Ok(Some(state(4, true, Role::Admin))));
    store
        .expect_purge_expired_tokens()
        .times(1)
        .returning(|_| Ok(3));
    store.expect_revoke_family().never();
    let service = service(store, no_throttle(), &config());

    let first = service.refresh("vrt_one", None).await.expect("refresh");
    let second = service
        .refresh(&first.refresh, None)
        .await
        .expect("refresh");

    for pair in [&first, &second] {
        let claims = service
            .tokens()
            .verify_access(&pair.access)
            .expect("access");
        assert_eq!(
            (claims.sub, claims.ver, claims.role),
            (user_id, 4, Role::Admin)
        );
        assert_eq!(pair.token_type, "Bearer");
        assert_eq!(pair.expires_in, 1800);
    }
    assert_ne!(first.refresh, "vrt_one");
    assert_ne!(first.refresh, second.refresh);
    let stored = stored.lock().expect("lock").clone();
    assert_eq!(
        stored,
        vec![
            TokenCodec::hash_refresh(&first.refresh),
            TokenCodec::hash_refresh(&second.refresh)
        ],
        "the store keeps the hashes of exactly the tokens handed out"
    );
}

#[tokio::test]
async fn refresh_for_an_inactive_or_deleted_user_is_refused() {
    for current in [Some(state(0, false, Role::User)), None] {
        let user_id = Uuid::now_v7();
        let mut store = MockAuthStore::new();
        store
            .expect_rotate_refresh_token()
            .times(1)
            .returning(move |_, _, _, _| Ok(Rotation::Rotated { user_id }));
        store
            .expect_token_state()
            .with(eq(user_id))
            .times(1)
            .returning({
                let current = current.clone();
                move |_| Ok(current.clone())
            });
        store
            .expect_purge_expired_tokens()
            .times(1)
            .returning(|_| Ok(0));

        let error = service(store, no_throttle(), &config())
            .refresh("vrt_one", None)
            .await
            .expect_err("refused");
        assert!(
            matches!(error, Error::InvalidRefreshToken(_)),
            "{current:?}: {error:?}"
        );
    }
}

#[tokio::test]
async fn logout_refuses_forged_tokens_and_accepts_genuine_ones() {
    for known in [false, true] {
        let mut store = MockAuthStore::new();
        let expected = TokenCodec::hash_refresh("vrt_session");
        store
            .expect_revoke_session_of()
            .withf(move |hash, _| hash == expected.as_slice())
            .times(1)
            .returning(move |_, _| Ok(known));
        let result = service(store, no_throttle(), &config())
            .logout("vrt_session")
            .await;
        match (known, result) {
            (true, Ok(())) => {}
            (false, Err(Error::InvalidRefreshToken(_))) => {}
            (known, other) => panic!("known {known}: {other:?}"),
        }
    }
}
