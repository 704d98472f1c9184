//! The caller's own account, and administration of others.

use std::sync::{Arc, Mutex};

use mockall::predicate::{always, eq};
use mockall::Sequence;
use uuid::Uuid;

use super::*;
use crate::auth::store::UserChanges;
use crate::throttle::Decision;

// --- the caller's own account -----------------------------------------------------------------

#[tokio::test]
async fn password_change_with_a_wrong_current_password_changes_nothing() {
    let user = ada(PASSWORD).await;
    let id = user.id;
    let mut seq = Sequence::new();
    let mut store = MockAuthStore::new();
    store
        .expect_user_by_id()
        .with(eq(id))
        .times(1)
        .in_sequence(&mut seq)
        .returning(move |_| Ok(Some(user.clone())));
    store.expect_change_password().never();
    // Both units are taken before the password is checked, and the failure keeps them.
    let mut throttle = MockThrottle::new();
    throttle
        .expect_hit()
        .withf(move |k, r| k == format!("confirm:{id}") && r.count == 5)
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(Decision::Allow));
    throttle
        .expect_hit()
        .withf(move |k, r| k == format!("account:{id}") && r.count == 10)
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(Decision::Allow));
    throttle.expect_refund().never();
    throttle.expect_peek().never();

    let request = ChangePasswordRequest {
        current_password: WRONG_PASSWORD.into(),
        new_password: "another-sturdy-quokka-77".into(),
    };
    let errors = field_errors(
        service(
            store,
            throttle,
            &config_with_user_limit(Rate::per_minute(5)),
        )
        .change_password(&principal(id), request)
        .await
        .expect_err("wrong current password"),
    );
    assert!(errors.get("current_password").is_some(), "{errors:?}");
}

#[tokio::test]
async fn a_spent_confirmation_budget_refuses_before_the_password_is_checked() {
    let mut user = ada(PASSWORD).await;
    // Unverifiable: had the hasher run, the answer would be an internal error.
    user.password_hash = "not-a-phc-string".into();
    let id = user.id;
    let mut store = MockAuthStore::new();
    store
        .expect_user_by_id()
        .returning(move |_| Ok(Some(user.clone())));
    store.expect_delete_user().never();
    store.expect_change_password().never();
    let mut throttle = MockThrottle::new();
    throttle
        .expect_hit()
        .withf(move |k, _| k == format!("confirm:{id}"))
        .times(2)
        .returning(|_, _| {
            Ok(Decision::Deny {
                retry_after: std::time::Duration::from_secs(12),
            })
        });
    throttle.expect_refund().never();
    let service = service(
        store,
        throttle,
        &config_with_user_limit(Rate::per_minute(5)),
    );

    let deletion = service
        .delete_account(
            &principal(id),
            DeleteAccountRequest {
                password: PASSWORD.into(),
            },
        )
        .await;
    let change = service
        .change_password(
            &principal(id),
            ChangePasswordRequest {
                current_password: PASSWORD.into(),
                new_password: "another-sturdy-quokka-77".into(),
            },
        )
        .await;
    for result in [deletion, change] {
        assert!(
            matches!(result, Err(Error::Throttled { retry_after: 12 })),
            "{result:?}"
        );
    }
}

#[tokio::test]
async fn password_change_refuses_weak_or_unchanged_new_passwords() {
    for new_password in ["password123", PASSWORD, "ada"] {
        let user = ada(PASSWORD).await;
        let id = user.id;
        let mut store = MockAuthStore::new();
        store
            .expect_user_by_id()
            .times(1)
            .returning(move |_| Ok(Some(user.clone())));
        store.expect_change_password().never();
        let request = ChangePasswordRequest {
            current_password: PASSWORD.into(),
            new_password: new_password.into(),
        };
        let errors = field_errors(
            service(store, no_throttle(), &config())
                .change_password(&principal(id), request)
                .await
                .expect_err("refused"),
        );
        assert!(
            errors.get("new_password").is_some(),
            "{new_password}: {errors:?}"
        );
    }
}

#[tokio::test]
async fn password_change_stores_the_new_hash_and_forgets_cached_state() {
    const NEW: &str = "another-sturdy-quokka-77";
    let user = ada(PASSWORD).await;
    let id = user.id;
    let new_hash: Arc<Mutex<Option<String>>> = Arc::default();
    let saved = Arc::clone(&new_hash);
    let mut seq = Sequence::new();
    let mut store = MockAuthStore::new();
    store
        .expect_token_state()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(Some(state(2, true, Role::User))));
    store
        .expect_user_by_id()
        .times(1)
        .in_sequence(&mut seq)
        .returning(move |_| Ok(Some(user.clone())));
    store
        .expect_change_password()
        .withf(move |user_id, _, _| *user_id == id)
        .times(1)
        .in_sequence(&mut seq)
        .returning(move |_, hash, _| {
            *saved.lock().expect("lock") = Some(hash.to_string());
            Ok(true)
        });
    store
        .expect_token_state()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(Some(state(3, true, Role::User))));
    let service = service(store, no_throttle(), &config());
    let token = service
        .tokens()
        .issue_access(id, Role::User, 2, time::now())
        .expect("issue");

    let caller = service.authenticate(&token).await.expect("valid before");
    service
        .change_password(
            &caller,
            ChangePasswordRequest {
                current_password: PASSWORD.into(),
                new_password: NEW.into(),
            },
        )
        .await
        .expect("change_password");
    let error = service
        .authenticate(&token)
        .await
        .expect_err("revoked after the change");
    assert!(matches!(error, Error::InvalidAccessToken(_)), "{error:?}");

    let stored = new_hash.lock().expect("lock").clone().expect("a new hash");
    assert!(hasher().verify(NEW, Some(&stored)).await.expect("verify"));
    assert!(!hasher()
        .verify(PASSWORD, Some(&stored))
        .await
        .expect("verify"));
}

#[tokio::test]
async fn account_deletion_needs_the_password_and_forgets_cached_state() {
    let user = ada(PASSWORD).await;
    let id = user.id;
    let mut seq = Sequence::new();
    let mut store = MockAuthStore::new();
    store
        .expect_token_state()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(Some(state(2, true, Role::User))));
    store
        .expect_user_by_id()
        .times(2)
        .in_sequence(&mut seq)
        .returning(move |_| Ok(Some(user.clone())));
    store
        .expect_delete_user()
        .with(eq(id))
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(true));
    store
        .expect_token_state()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(None));
    let service = service(store, no_throttle(), &config());
    let token = service
        .tokens()
        .issue_access(id, Role::User, 2, time::now())
        .expect("issue");
    let caller = service.authenticate(&token).await.expect("valid before");

    let errors = field_errors(
        service
            .delete_account(
                &caller,
                DeleteAccountRequest {
                    password: WRONG_PASSWORD.into(),
                },
            )
            .await
            .expect_err("wrong password"),
    );
    assert!(errors.get("password").is_some(), "{errors:?}");

    service
        .delete_account(
            &caller,
            DeleteAccountRequest {
                password: PASSWORD.into(),
            },
        )
        .await
        .expect("delete_account");
    let error = service
        .authenticate(&token)
        .await
        .expect_err("gone after deletion");
    assert!(matches!(error, Error::InvalidAccessToken(_)), "{error:?}");
}

#[tokio::test]
async fn profile_updates_validate_before_the_store() {
    let id = Uuid::now_v7();
    let mut store = MockAuthStore::new();
    store.expect_update_user().never();
    let service = service(store, no_throttle(), &config());

    let request = UpdateMeRequest {
        email: crate::wire::Patch::Value("nope".into()),
        display_name: crate::wire::Patch::Null,
    };
    let errors = field_errors(
        service
            .update_me(&principal(id), request)
            .await
            .expect_err("invalid"),
    );
    assert!(errors.get("email").is_some(), "{errors:?}");
    assert!(errors.get("display_name").is_some(), "{errors:?}");
}

#[tokio::test]
async fn profile_updates_pass_validated_changes_and_notice_deleted_users() {
    let id = Uuid::now_v7();
    let mut store = MockAuthStore::new();
    store
        .expect_update_user()
        .withf(move |user_id, changes, _| {
            *user_id == id
                && changes
                    == &UserChanges {
                        email: Some(Email::parse("Ada@example.org").expect("email")),
                        display_name: None,
                    }
        })
        .times(1)
        .returning(|_, _, _| Ok(None));
    store.expect_token_state().times(1).returning(|_| Ok(None));
    let service = service(store, no_throttle(), &config());

    let request = UpdateMeRequest {
        email: crate::wire::Patch::Value("Ada@EXAMPLE.org".into()),
        display_name: crate::wire::Patch::Missing,
    };
    let error = service
        .update_me(&principal(id), request)
        .await
        .expect_err("user gone");
    assert!(matches!(error, Error::InvalidAccessToken(_)), "{error:?}");
    let error = service.me(&principal(id)).await.expect_err("user gone");
    assert!(matches!(error, Error::InvalidAccessToken(_)), "{error:?}");
}

#[tokio::test]
async fn me_is_served_from_the_cached_state_until_a_profile_update_forgets_it() {
    let before = state(0, true, Role::User);
    let id = before.user.id;
    let mut after = before.clone();
    after.user.display_name = "Countess".into();
    let record = {
        let mut record = ada(PASSWORD).await;
        record.id = id;
        record.display_name = "Countess".into();
        record
    };
    let mut seq = Sequence::new();
    let mut store = MockAuthStore::new();
    let first = before.clone();
    store
        .expect_token_state()
        .with(eq(id))
        .times(1)
        .in_sequence(&mut seq)
        .returning(move |_| Ok(Some(first.clone())));
    store
        .expect_update_user()
        .times(1)
        .in_sequence(&mut seq)
        .returning(move |_, _, _| Ok(Some(record.clone())));
    let second = after.clone();
    store
        .expect_token_state()
        .with(eq(id))
        .times(1)
        .in_sequence(&mut seq)
        .returning(move |_| Ok(Some(second.clone())));
    store.expect_user_by_id().never();
    let service = service(store, no_throttle(), &config());
    let token = service
        .tokens()
        .issue_access(id, Role::User, 0, time::now())
        .expect("issue");

    // One read serves the token check and every `me` after it.
    let caller = service.authenticate(&token).await.expect("authenticate");
    assert_eq!(service.me(&caller).await.expect("me"), before.user);
    assert_eq!(service.me(&caller).await.expect("me again"), before.user);
    let json = |user: &User| bytes::Bytes::from(serde_json::to_vec(user).expect("json"));
    assert_eq!(
        service.me_json(&caller).await.expect("me json"),
        json(&before.user)
    );

    let request = UpdateMeRequest {
        email: crate::wire::Patch::Missing,
        display_name: crate::wire::Patch::Value("Countess".into()),
    };
    let updated = service.update_me(&caller, request).await.expect("update");
    assert_eq!(updated.display_name, "Countess");
    // The update is visible at once on this instance, not after the cache's TTL.
    assert_eq!(service.me(&caller).await.expect("me after"), after.user);
    // So is the body `GET /auth/me` answers with.
    assert_eq!(
        service.me_json(&caller).await.expect("me json after"),
        json(&after.user)
    );
}

// --- administration ---------------------------------------------------------------------------

#[tokio::test]
async fn admin_changes_of_unknown_users_are_not_found() {
    let id = Uuid::now_v7();
    let mut store = MockAuthStore::new();
    store
        .expect_set_active()
        .with(eq(id), eq(false), always())
        .times(1)
        .returning(|_, _, _| Ok(false));
    store
        .expect_set_role()
        .with(eq(id), eq(Role::Admin), always())
        .times(1)
        .returning(|_, _, _| Ok(false));
    let service = service(store, no_throttle(), &config());
    assert!(matches!(
        service.set_active(id, false).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        service.set_role(id, Role::Admin).await,
        Err(Error::NotFound)
    ));
}

#[tokio::test]
async fn deactivation_and_role_changes_forget_cached_state() {
    let id = Uuid::now_v7();
    let mut seq = Sequence::new();
    let mut store = MockAuthStore::new();
    store
        .expect_token_state()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(Some(state(0, true, Role::User))));
    store
        .expect_set_role()
        .with(eq(id), eq(Role::Admin), always())
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _, _| Ok(true));
    store
        .expect_token_state()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(Some(state(1, true, Role::Admin))));
    store
        .expect_set_active()
        .with(eq(id), eq(false), always())
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _, _| Ok(true));
    store
        .expect_token_state()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| Ok(Some(state(2, false, Role::Admin))));
    let service = service(store, no_throttle(), &config());

    let v0 = service
        .tokens()
        .issue_access(id, Role::User, 0, time::now())
        .expect("issue");
    service.authenticate(&v0).await.expect("valid");
    service.set_role(id, Role::Admin).await.expect("set_role");
    assert!(
        service.authenticate(&v0).await.is_err(),
        "old version refused"
    );
    let v1 = service
        .tokens()
        .issue_access(id, Role::User, 1, time::now())
        .expect("issue");
    assert_eq!(
        service.authenticate(&v1).await.expect("new version").role,
        Role::Admin
    );
    service.set_active(id, false).await.expect("set_active");
    let error = service
        .authenticate(&v1)
        .await
        .expect_err("inactive at once on this instance");
    assert!(matches!(error, Error::InvalidAccessToken(_)), "{error:?}");
}
