//! Refresh-token rotation: live, replayed, unknown, expired and inactive tokens.

use super::*;

// --- rotation ---------------------------------------------------------------------------------

pub(crate) async fn rotation_of_a_live_token_then_replay_is_reuse(store: Arc<dyn AuthStore>) {
    let (ada, first) = user_with_session(&store, "ada").await;

    let (outcome, second) = rotate(&store, &first.token_hash).await;
    assert_eq!(outcome, Rotation::Rotated { user_id: ada.id });

    // The new token is live and belongs to the same family.
    let (outcome, third) = rotate(&store, &second).await;
    assert_eq!(outcome, Rotation::Rotated { user_id: ada.id });

    // Replaying an already-rotated token: Reused, naming the session's family, and the replay
    // stores nothing (its new hash is unknown).
    let (outcome, replay_hash) = rotate(&store, &first.token_hash).await;
    assert_eq!(
        outcome,
        Rotation::Reused {
            family_id: first.family_id
        }
    );
    assert_eq!(rotation(&store, &replay_hash).await, Rotation::Unknown);
    assert_eq!(
        rotation(&store, &second).await,
        Rotation::Reused {
            family_id: first.family_id
        }
    );

    // The store does not revoke the family by itself (the service decides): the newest token
    // still works; once the family is revoked it is Reused too.
    let (outcome, fourth) = rotate(&store, &third).await;
    assert_eq!(outcome, Rotation::Rotated { user_id: ada.id });
    store
        .revoke_family(first.family_id, now())
        .await
        .expect("revoke_family");
    assert_eq!(
        rotation(&store, &fourth).await,
        Rotation::Reused {
            family_id: first.family_id
        },
        "rotated tokens stay in the family"
    );
}

pub(crate) async fn rotation_refuses_unknown_expired_and_inactive(store: Arc<dyn AuthStore>) {
    let (ada, _) = user_with_session(&store, "ada").await;

    // Never issued.
    assert_eq!(rotation(&store, &fresh_hash()).await, Rotation::Unknown);

    // Expired (not revoked): Refused, and it stays Refused (it was not taken).
    let expired = session(ada.id, Duration::seconds(-1));
    store
        .insert_refresh_token(&expired)
        .await
        .expect("insert expired");
    let (outcome, new_hash) = rotate(&store, &expired.token_hash).await;
    assert_eq!(outcome, Rotation::Refused);
    assert_eq!(rotation(&store, &new_hash).await, Rotation::Unknown);
    assert_eq!(
        rotation(&store, &expired.token_hash).await,
        Rotation::Refused
    );

    // Expiring exactly now: no longer live.
    let at = now();
    let boundary = NewRefreshToken {
        expires_at: at,
        ..session(ada.id, week())
    };
    store
        .insert_refresh_token(&boundary)
        .await
        .expect("insert boundary");
    let outcome = store
        .rotate_refresh_token(&boundary.token_hash, &fresh_hash(), at, at + week())
        .await
        .expect("rotate");
    assert_eq!(outcome, Rotation::Refused);

    // Inactive user: a live token (e.g. stored by a login racing the deactivation) is Refused,
    // and stays unrotated for when the user is reactivated.
    assert!(store
        .set_active(ada.id, false, now())
        .await
        .expect("set_active"));
    let during = session(ada.id, week());
    store
        .insert_refresh_token(&during)
        .await
        .expect("insert while inactive");
    let (outcome, new_hash) = rotate(&store, &during.token_hash).await;
    assert_eq!(outcome, Rotation::Refused);
    assert_eq!(rotation(&store, &new_hash).await, Rotation::Unknown);
    assert!(store
        .set_active(ada.id, true, now())
        .await
        .expect("set_active"));
    assert_eq!(
        rotation(&store, &during.token_hash).await,
        Rotation::Rotated { user_id: ada.id }
    );
}

pub(crate) async fn concurrent_rotation_of_one_token_one_wins(store: Arc<dyn AuthStore>) {
    const TASKS: usize = 8;
    let (ada, token) = user_with_session(&store, "ada").await;

    let mut tasks = JoinSet::new();
    for _ in 0..TASKS {
        let store = Arc::clone(&store);
        let presented = token.token_hash.clone();
        tasks.spawn(async move { rotate(&store, &presented).await });
    }
    let mut winners = Vec::new();
    let mut reused = 0;
    while let Some(joined) = tasks.join_next().await {
        match joined.expect("task") {
            (Rotation::Rotated { user_id }, new_hash) => {
                assert_eq!(user_id, ada.id);
                winners.push(new_hash);
            }
            (Rotation::Reused { family_id }, new_hash) => {
                assert_eq!(family_id, token.family_id);
                assert_eq!(rotation(&store, &new_hash).await, Rotation::Unknown);
                reused += 1;
            }
            (other, _) => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one rotation wins");
    assert_eq!(reused, TASKS - 1);
    assert_eq!(
        rotation(&store, &winners[0]).await,
        Rotation::Rotated { user_id: ada.id },
        "the winner's token is live"
    );
}
