//! Access tokens and the per-user state cache behind them.

use std::time::Duration;

use mockall::predicate::{always, eq};
use mockall::Sequence;
use uuid::Uuid;

use super::*;
use crate::auth::token::TokenCodec;

// --- access tokens ----------------------------------------------------------------------------

#[tokio::test]
async fn authenticate_caches_state_until_logout_all_forgets_it() {
    let id = Uuid::now_v7();
    let mut seq = Sequence::new();
    let mut store = MockAuthStore::new();
    store
        .expect_token_state()
        .with(eq(id))
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(Some(state(0, true, Role::User))));
    store
        .expect_end_all_sessions()
        .with(eq(id), always())
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(()));
    store
        .expect_token_state()
        .with(eq(id))
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(Some(state(1, true, Role::User))));
    let service = service(store, no_throttle(), &config());
    let old = service
        .tokens()
        .issue_access(id, Role::User, 0, time::now())
        .expect("issue");

    let caller = service.authenticate(&old).await.expect("first");
    assert_eq!(caller, principal(id));
    assert_eq!(service.authenticate(&old).await.expect("cached"), caller);

    service.logout_all(&caller).await.expect("logout_all");
    let error = service
        .authenticate(&old)
        .await
        .expect_err("revoked at once on this instance");
    assert!(matches!(error, Error::InvalidAccessToken(_)), "{error:?}");

    let new = service
        .tokens()
        .issue_access(id, Role::User, 1, time::now())
        .expect("issue");
    assert_eq!(
        service.authenticate(&new).await.expect("new version"),
        caller
    );
}

#[tokio::test]
async fn authenticate_without_a_cache_reads_state_every_time() {
    let id = Uuid::now_v7();
    let mut store = MockAuthStore::new();
    store
        .expect_token_state()
        .with(eq(id))
        .times(2)
        .returning(|_| Ok(Some(state(0, true, Role::User))));
    let mut config = config();
    config.auth.token_state_ttl = Duration::ZERO;
    let service = service(store, no_throttle(), &config);
    let token = service
        .tokens()
        .issue_access(id, Role::User, 0, time::now())
        .expect("issue");
    service.authenticate(&token).await.expect("first");
    service.authenticate(&token).await.expect("second");
}

#[tokio::test]
async fn authenticate_takes_the_role_from_current_state() {
    let id = Uuid::now_v7();
    let mut store = MockAuthStore::new();
    store
        .expect_token_state()
        .times(1)
        .returning(|_| Ok(Some(state(3, true, Role::User))));
    let service = service(store, no_throttle(), &config());
    let token = service
        .tokens()
        .issue_access(id, Role::Admin, 3, time::now())
        .expect("issue");
    let caller = service.authenticate(&token).await.expect("valid");
    assert_eq!(
        caller.role,
        Role::User,
        "a demoted admin's token is not admin"
    );
}

#[tokio::test]
async fn authenticate_refuses_other_versions_inactive_and_deleted_users() {
    for current in [
        Some(state(1, true, Role::User)),
        Some(state(0, false, Role::User)),
        None,
    ] {
        let id = Uuid::now_v7();
        let mut store = MockAuthStore::new();
        // Refusals are cached too (deleted users included): one read for two attempts.
        store.expect_token_state().with(eq(id)).times(1).returning({
            let current = current.clone();
            move |_| Ok(current.clone())
        });
        let service = service(store, no_throttle(), &config());
        let token = service
            .tokens()
            .issue_access(id, Role::User, 0, time::now())
            .expect("issue");
        for _ in 0..2 {
            let error = service.authenticate(&token).await.expect_err("refused");
            assert!(
                matches!(error, Error::InvalidAccessToken(_)),
                "{current:?}: {error:?}"
            );
        }
    }
}

#[tokio::test]
async fn authenticate_refuses_forged_tokens_without_store_calls() {
    let service = service(MockAuthStore::new(), no_throttle(), &config());
    let foreign = TokenCodec::new(&Config::new("sqlite::memory:", Secret::new(vec![8u8; 32])))
        .issue_access(Uuid::now_v7(), Role::Admin, 0, time::now())
        .expect("issue");
    for token in ["garbage", "a.b.c", foreign.as_str()] {
        let error = service.authenticate(token).await.expect_err("forged");
        assert!(matches!(error, Error::InvalidAccessToken(_)), "{error:?}");
    }
}
