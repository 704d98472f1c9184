//! Ending sessions: families, users, password changes, deactivation, roles, deletion, purges.

use super::*;

// --- revocation -------------------------------------------------------------------------------

pub(crate) async fn revoke_family_affects_only_that_family(store: Arc<dyn AuthStore>) {
    let (ada, laptop) = user_with_session(&store, "ada").await;
    let phone = session(ada.id, week());
    store.insert_refresh_token(&phone).await.expect("phone");
    let (bob, bobs) = user_with_session(&store, "bob").await;

    // The laptop session has moved on to a second token; revoking the family kills it.
    let (outcome, laptop_now) = rotate(&store, &laptop.token_hash).await;
    assert_eq!(outcome, Rotation::Rotated { user_id: ada.id });
    store
        .revoke_family(laptop.family_id, now())
        .await
        .expect("revoke_family");
    assert_eq!(
        rotation(&store, &laptop_now).await,
        Rotation::Reused {
            family_id: laptop.family_id
        }
    );
    assert_eq!(
        rotation(&store, &phone.token_hash).await,
        Rotation::Rotated { user_id: ada.id }
    );
    assert_eq!(
        rotation(&store, &bobs.token_hash).await,
        Rotation::Rotated { user_id: bob.id }
    );
    // Revoking a family does not end the user's other sessions' access tokens either.
    assert_eq!(state(&store, ada.id).await.token_version, 0);

    // Unknown families and repeated revocations are harmless.
    store
        .revoke_family(Uuid::now_v7(), now())
        .await
        .expect("unknown family");
    store
        .revoke_family(laptop.family_id, now())
        .await
        .expect("again");
}

pub(crate) async fn revoke_session_of_knows_forgeries_and_is_idempotent(store: Arc<dyn AuthStore>) {
    let (ada, laptop) = user_with_session(&store, "ada").await;
    let phone = session(ada.id, week());
    store.insert_refresh_token(&phone).await.expect("phone");

    assert!(!store
        .revoke_session_of(&fresh_hash(), now())
        .await
        .expect("revoke_session_of unknown"));

    // Logging out with a token that was already rotated still ends its session, including
    // the token that replaced it.
    let (_, laptop_now) = rotate(&store, &laptop.token_hash).await;
    assert!(store
        .revoke_session_of(&laptop.token_hash, now())
        .await
        .expect("revoke_session_of"));
    assert_eq!(
        rotation(&store, &laptop_now).await,
        Rotation::Reused {
            family_id: laptop.family_id
        }
    );
    // Idempotent for genuine tokens.
    assert!(store
        .revoke_session_of(&laptop.token_hash, now())
        .await
        .expect("again"));
    assert!(store
        .revoke_session_of(&laptop_now, now())
        .await
        .expect("newest token, again"));

    // The other session lives on.
    assert_eq!(
        rotation(&store, &phone.token_hash).await,
        Rotation::Rotated { user_id: ada.id }
    );
}

pub(crate) async fn end_all_sessions_bumps_version_and_revokes_only_that_user(
    store: Arc<dyn AuthStore>,
) {
    let (ada, laptop) = user_with_session(&store, "ada").await;
    let phone = session(ada.id, week());
    store.insert_refresh_token(&phone).await.expect("phone");
    let (bob, bobs) = user_with_session(&store, "bob").await;

    let at = now() + Duration::seconds(1);
    store
        .end_all_sessions(ada.id, at)
        .await
        .expect("end_all_sessions");

    let after = fetch(&store, ada.id).await;
    assert_eq!(after.token_version, 1);
    assert_eq!(after.updated_at, at);
    assert!(after.is_active);
    for token in [&laptop, &phone] {
        assert_eq!(
            rotation(&store, &token.token_hash).await,
            Rotation::Reused {
                family_id: token.family_id
            }
        );
    }
    assert_eq!(state(&store, bob.id).await.token_version, 0);
    assert_eq!(
        rotation(&store, &bobs.token_hash).await,
        Rotation::Rotated { user_id: bob.id }
    );

    // A later session is unaffected by the earlier logout-all, and every call bumps again.
    let tablet = session(ada.id, week());
    store.insert_refresh_token(&tablet).await.expect("tablet");
    assert_eq!(
        rotation(&store, &tablet.token_hash).await,
        Rotation::Rotated { user_id: ada.id }
    );
    store
        .end_all_sessions(ada.id, now())
        .await
        .expect("end_all_sessions");
    assert_eq!(state(&store, ada.id).await.token_version, 2);
}

pub(crate) async fn change_password_bumps_version_and_revokes_sessions(store: Arc<dyn AuthStore>) {
    let (ada, laptop) = user_with_session(&store, "ada").await;
    let (bob, bobs) = user_with_session(&store, "bob").await;

    let at = now() + Duration::seconds(1);
    assert!(store
        .change_password(ada.id, "$argon2id$new-hash", at)
        .await
        .expect("change_password"));
    let after = fetch(&store, ada.id).await;
    assert_eq!(after.password_hash, "$argon2id$new-hash");
    assert_eq!(after.token_version, ada.token_version + 1);
    assert_eq!(after.updated_at, at);
    assert_eq!(
        rotation(&store, &laptop.token_hash).await,
        Rotation::Reused {
            family_id: laptop.family_id
        }
    );

    // Bob is untouched.
    assert_eq!(fetch(&store, bob.id).await, bob);
    assert_eq!(
        rotation(&store, &bobs.token_hash).await,
        Rotation::Rotated { user_id: bob.id }
    );

    assert!(!store
        .change_password(Uuid::now_v7(), "$argon2id$x", now())
        .await
        .expect("unknown user"));
}

pub(crate) async fn set_active_bumps_version_and_deactivation_revokes_sessions(
    store: Arc<dyn AuthStore>,
) {
    let (ada, laptop) = user_with_session(&store, "ada").await;
    let (bob, bobs) = user_with_session(&store, "bob").await;

    let at = now() + Duration::seconds(1);
    assert!(store
        .set_active(ada.id, false, at)
        .await
        .expect("deactivate"));
    let after = fetch(&store, ada.id).await;
    assert!(!after.is_active);
    assert_eq!(after.token_version, 1);
    assert_eq!(after.updated_at, at);
    assert_eq!(
        state(&store, ada.id).await,
        TokenState {
            token_version: 1,
            user: User::from(fetch(&store, ada.id).await),
        }
    );
    // The session was revoked (not merely refused while inactive): it stays dead after
    // reactivation.
    assert_eq!(
        rotation(&store, &laptop.token_hash).await,
        Rotation::Reused {
            family_id: laptop.family_id
        }
    );

    assert!(store
        .set_active(ada.id, true, now())
        .await
        .expect("reactivate"));
    let reactivated = state(&store, ada.id).await;
    assert!(reactivated.user.is_active);
    assert_eq!(reactivated.token_version, 2);
    assert_eq!(
        rotation(&store, &laptop.token_hash).await,
        Rotation::Reused {
            family_id: laptop.family_id
        }
    );

    // Activation revokes nothing.
    let phone = session(ada.id, week());
    store.insert_refresh_token(&phone).await.expect("phone");
    assert!(store
        .set_active(ada.id, true, now())
        .await
        .expect("activate again"));
    assert_eq!(
        rotation(&store, &phone.token_hash).await,
        Rotation::Rotated { user_id: ada.id }
    );

    // Bob is untouched.
    assert_eq!(fetch(&store, bob.id).await, bob);
    assert_eq!(
        rotation(&store, &bobs.token_hash).await,
        Rotation::Rotated { user_id: bob.id }
    );

    assert!(!store
        .set_active(Uuid::now_v7(), false, now())
        .await
        .expect("unknown user"));
}

pub(crate) async fn set_role_changes_role_and_bumps_version_only(store: Arc<dyn AuthStore>) {
    let (ada, laptop) = user_with_session(&store, "ada").await;
    let bob = store
        .create_user(&new_user("bob"), None)
        .await
        .expect("bob");

    let at = now() + Duration::seconds(1);
    assert!(store
        .set_role(ada.id, Role::Admin, at)
        .await
        .expect("set_role"));
    let after = fetch(&store, ada.id).await;
    assert_eq!(after.role, Role::Admin);
    assert_eq!(after.token_version, 1);
    assert_eq!(after.updated_at, at);
    assert_eq!(state(&store, ada.id).await.user.role, Role::Admin);
    // Sessions survive a role change: the next refresh re-issues with the new role.
    assert_eq!(
        rotation(&store, &laptop.token_hash).await,
        Rotation::Rotated { user_id: ada.id }
    );

    assert!(store
        .set_role(ada.id, Role::User, now())
        .await
        .expect("set_role back"));
    let back = state(&store, ada.id).await;
    assert_eq!((back.user.role, back.token_version), (Role::User, 2));
    assert_eq!(fetch(&store, bob.id).await, bob);

    assert!(!store
        .set_role(Uuid::now_v7(), Role::Admin, now())
        .await
        .expect("unknown user"));
}

pub(crate) async fn replace_password_hash_keeps_version_and_sessions(store: Arc<dyn AuthStore>) {
    let (ada, laptop) = user_with_session(&store, "ada").await;
    store
        .replace_password_hash(ada.id, "$argon2id$rehashed")
        .await
        .expect("replace_password_hash");
    let after = fetch(&store, ada.id).await;
    assert_eq!(after.password_hash, "$argon2id$rehashed");
    assert_eq!(after.token_version, ada.token_version);
    assert_eq!(
        rotation(&store, &laptop.token_hash).await,
        Rotation::Rotated { user_id: ada.id }
    );
}

pub(crate) async fn delete_user_cascades_to_refresh_tokens(store: Arc<dyn AuthStore>) {
    let (ada, laptop) = user_with_session(&store, "ada").await;
    let revoked = session(ada.id, week());
    store.insert_refresh_token(&revoked).await.expect("insert");
    assert!(store
        .revoke_session_of(&revoked.token_hash, now())
        .await
        .expect("revoke"));
    let (bob, bobs) = user_with_session(&store, "bob").await;

    assert!(store.delete_user(ada.id).await.expect("delete_user"));
    assert!(store.user_by_id(ada.id).await.expect("by id").is_none());
    assert!(store.user_by_login("ada").await.expect("login").is_none());
    assert!(store.token_state(ada.id).await.expect("state").is_none());
    // Live and revoked rows alike are gone: never issued, as far as the store knows.
    assert_eq!(
        rotation(&store, &laptop.token_hash).await,
        Rotation::Unknown
    );
    assert_eq!(
        rotation(&store, &revoked.token_hash).await,
        Rotation::Unknown
    );
    assert!(!store
        .revoke_session_of(&laptop.token_hash, now())
        .await
        .expect("logout after deletion"));
    assert!(!store.delete_user(ada.id).await.expect("delete again"));

    // Bob is untouched, and the username is free again.
    assert_eq!(
        rotation(&store, &bobs.token_hash).await,
        Rotation::Rotated { user_id: bob.id }
    );
    store
        .create_user(&new_user("ada"), None)
        .await
        .expect("username reusable");
}

pub(crate) async fn insert_refresh_token_requires_an_existing_user(store: Arc<dyn AuthStore>) {
    let orphan = session(Uuid::now_v7(), week());
    let result = store.insert_refresh_token(&orphan).await;
    // A login racing the deletion of its account fails as for an unknown account.
    assert!(
        matches!(result, Err(Error::AuthenticationFailed)),
        "foreign key enforced: {result:?}"
    );
    assert_eq!(
        rotation(&store, &orphan.token_hash).await,
        Rotation::Unknown
    );
}

pub(crate) async fn purge_deletes_only_rows_expired_before_now(store: Arc<dyn AuthStore>) {
    let (ada, live) = user_with_session(&store, "ada").await;
    let (bob, _) = user_with_session(&store, "bob").await;
    let at = now();
    let expired_ada = NewRefreshToken {
        expires_at: at - Duration::hours(1),
        ..session(ada.id, week())
    };
    let expired_bob = NewRefreshToken {
        expires_at: at - Duration::microseconds(1),
        ..session(bob.id, week())
    };
    let expired_revoked = NewRefreshToken {
        expires_at: at - Duration::days(30),
        ..session(ada.id, week())
    };
    let boundary = NewRefreshToken {
        expires_at: at,
        ..session(ada.id, week())
    };
    let revoked_live = session(bob.id, week());
    for token in [
        &expired_ada,
        &expired_bob,
        &expired_revoked,
        &boundary,
        &revoked_live,
    ] {
        store.insert_refresh_token(token).await.expect("insert");
    }
    for token in [&expired_revoked, &revoked_live] {
        assert!(store
            .revoke_session_of(&token.token_hash, at)
            .await
            .expect("revoke"));
    }

    assert_eq!(store.purge_expired_tokens(at).await.expect("purge"), 3);
    assert_eq!(
        store.purge_expired_tokens(at).await.expect("purge again"),
        0
    );

    for gone in [&expired_ada, &expired_bob, &expired_revoked] {
        assert_eq!(rotation(&store, &gone.token_hash).await, Rotation::Unknown);
    }
    // Kept: expiring exactly at `now` (not before it), revoked but unexpired, and live rows.
    let outcome = store
        .rotate_refresh_token(&boundary.token_hash, &fresh_hash(), at, at + week())
        .await
        .expect("rotate boundary");
    assert_eq!(outcome, Rotation::Refused);
    assert_eq!(
        rotation(&store, &revoked_live.token_hash).await,
        Rotation::Reused {
            family_id: revoked_live.family_id
        }
    );
    assert_eq!(
        rotation(&store, &live.token_hash).await,
        Rotation::Rotated { user_id: ada.id }
    );
    // Users are never purged.
    fetch(&store, ada.id).await;
    fetch(&store, bob.id).await;
}
