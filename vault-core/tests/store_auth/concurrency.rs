//! Races: one name registered twice, one token rotated twice, sessions ended mid-rotation.

use super::*;

// --- concurrency ------------------------------------------------------------------------------

pub(crate) async fn concurrent_create_user_of_one_username_one_wins(store: Arc<dyn AuthStore>) {
    const TASKS: usize = 8;
    let mut tasks = JoinSet::new();
    for i in 0..TASKS {
        let store = Arc::clone(&store);
        // Same name in different cases, distinct emails: only `username` can clash.
        let name = if i % 2 == 0 { "grace" } else { "GRACE" };
        let user = new_user_with_email(name, &format!("grace{i}@example.com"));
        tasks.spawn(async move {
            let result = store
                .create_user(&user, Some(session(user.id, week())))
                .await;
            (user.id, result)
        });
    }
    let mut winners = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (id, result) = joined.expect("task");
        match result {
            Ok(record) => {
                assert_eq!(record.id, id);
                winners.push(id);
            }
            Err(error) => assert_eq!(conflict_field::<()>(Err(error)), "username"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one registration wins");
    let found = store
        .user_by_login("grace")
        .await
        .expect("user_by_login")
        .expect("the winner exists");
    assert_eq!(found.id, winners[0]);
}

pub(crate) async fn concurrent_create_user_of_one_email_one_wins(store: Arc<dyn AuthStore>) {
    const TASKS: usize = 8;
    let mut tasks = JoinSet::new();
    for i in 0..TASKS {
        let store = Arc::clone(&store);
        let email = if i % 2 == 0 {
            "hopper@example.com"
        } else {
            "HOPPER@example.com"
        };
        let user = new_user_with_email(&format!("hopper{i}"), email);
        tasks.spawn(async move { (user.id, store.create_user(&user, None).await) });
    }
    let mut winners = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (id, result) = joined.expect("task");
        match result {
            Ok(_) => winners.push(id),
            Err(error) => assert_eq!(conflict_field::<()>(Err(error)), "email"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one registration wins");
    let found = store
        .user_by_login("hopper@EXAMPLE.com")
        .await
        .expect("user_by_login")
        .expect("the winner exists");
    assert_eq!(found.id, winners[0]);
}

/// Logout-all, password change and deactivation must leave no live session behind, even when
/// a refresh of one of the user's tokens runs at the same moment: whichever commits first, the
/// token minted by the rotation must end up revoked too.
pub(crate) async fn sessions_ended_during_a_rotation_stay_ended(store: Arc<dyn AuthStore>) {
    const ROUNDS: usize = 20;
    for round in 0..ROUNDS {
        for kind in ["end_all_sessions", "change_password", "set_active"] {
            let (ada, token) = user_with_session(&store, &format!("ada_{round}_{kind}")).await;
            let id = ada.id;
            let rotating = {
                let store = Arc::clone(&store);
                let presented = token.token_hash.clone();
                tokio::spawn(async move { rotate(&store, &presented).await })
            };
            let ending = {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    match kind {
                        "end_all_sessions" => store.end_all_sessions(id, now()).await,
                        "change_password" => store
                            .change_password(id, "$argon2id$new", now())
                            .await
                            .map(|found| assert!(found)),
                        _ => store
                            .set_active(id, false, now())
                            .await
                            .map(|found| assert!(found)),
                    }
                })
            };
            let (outcome, new_hash) = rotating.await.expect("rotation task");
            ending.await.expect("ending task").expect(kind);
            if kind == "set_active" {
                // Reactivate so that only revocation (not the active flag) can refuse.
                assert!(store
                    .set_active(ada.id, true, now())
                    .await
                    .expect("reactivate"));
            }
            if let Rotation::Rotated { .. } = outcome {
                assert_ne!(
                    rotation(&store, &new_hash).await,
                    Rotation::Rotated { user_id: ada.id },
                    "round {round}, {kind}: the token minted by a concurrent rotation survived"
                );
            }
            assert_eq!(state(&store, ada.id).await.token_version, {
                if kind == "set_active" {
                    2
                } else {
                    1
                }
            });
        }
    }
}

/// Logout (`revoke_session_of`) and reuse detection (`revoke_family`) racing a rotation of the
/// same session: the token minted by the rotation must end up revoked too.
pub(crate) async fn session_revoked_during_a_rotation_stays_revoked(store: Arc<dyn AuthStore>) {
    const ROUNDS: usize = 20;
    let (ada, _) = user_with_session(&store, "ada").await;
    for round in 0..ROUNDS {
        for by_family in [false, true] {
            let token = session(ada.id, week());
            store.insert_refresh_token(&token).await.expect("insert");
            let rotating = {
                let store = Arc::clone(&store);
                let presented = token.token_hash.clone();
                tokio::spawn(async move { rotate(&store, &presented).await })
            };
            let revoking = {
                let store = Arc::clone(&store);
                let token = token.clone();
                tokio::spawn(async move {
                    if by_family {
                        store.revoke_family(token.family_id, now()).await
                    } else {
                        store
                            .revoke_session_of(&token.token_hash, now())
                            .await
                            .map(|known| assert!(known))
                    }
                })
            };
            let (outcome, new_hash) = rotating.await.expect("rotation task");
            revoking.await.expect("revoking task").expect("revocation");
            if let Rotation::Rotated { .. } = outcome {
                assert_eq!(
                    rotation(&store, &new_hash).await,
                    Rotation::Reused {
                        family_id: token.family_id
                    },
                    "round {round}, by_family {by_family}: the token minted by a concurrent \
                     rotation survived"
                );
            }
        }
    }
}
