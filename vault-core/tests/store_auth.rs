//! The store suite of the auth module (ARCHITECTURE.md "Tests, in three layers", layer 2).
//!
//! Every scenario is written once against `Arc<dyn AuthStore>` and run on a fresh SQLite file
//! always, and on a fresh PostgreSQL database when `VAULT_TEST_POSTGRES_URL` is set (skipped
//! with a note otherwise). `cargo test -p vault-core --test store_auth postgres` runs only the
//! PostgreSQL half.

use std::future::Future;
use std::sync::Arc;

use chrono::Duration;
use tokio::task::JoinSet;
use uuid::Uuid;
use vault_core::auth::{
    AuthStore, Email, NewRefreshToken, NewUser, Rotation, TokenCodec, TokenState, User,
    UserChanges, UserRecord, Username,
};
use vault_core::testkit::{run_store, Backend};
use vault_core::time::now;
use vault_core::{Error, Role};

// --- harness ----------------------------------------------------------------------------------

/// Runs one scenario on a fresh, migrated database of `backend`.
async fn run<F, Fut>(backend: Backend, scenario: F)
where
    F: FnOnce(Arc<dyn AuthStore>) -> Fut,
    Fut: Future<Output = ()>,
{
    run_store(backend, |fresh| scenario(fresh.database.auth_store())).await;
}

vault_core::store_suite! {
    single: [
        create_user_round_trips_and_logins_are_case_insensitive,
        username_and_email_clashes_name_the_field,
        first_token_is_atomic_with_the_user,
        update_user_changes_profile_and_refuses_email_clash,
        rotation_of_a_live_token_then_replay_is_reuse,
        rotation_refuses_unknown_expired_and_inactive,
        revoke_family_affects_only_that_family,
        revoke_session_of_knows_forgeries_and_is_idempotent,
        end_all_sessions_bumps_version_and_revokes_only_that_user,
        change_password_bumps_version_and_revokes_sessions,
        set_active_bumps_version_and_deactivation_revokes_sessions,
        set_role_changes_role_and_bumps_version_only,
        replace_password_hash_keeps_version_and_sessions,
        delete_user_cascades_to_refresh_tokens,
        insert_refresh_token_requires_an_existing_user,
        purge_deletes_only_rows_expired_before_now,
    ],
    multi: [
        concurrent_create_user_of_one_username_one_wins,
        concurrent_create_user_of_one_email_one_wins,
        concurrent_rotation_of_one_token_one_wins,
        sessions_ended_during_a_rotation_stay_ended,
        session_revoked_during_a_rotation_stays_revoked,
    ],
}

// --- fixtures ---------------------------------------------------------------------------------

/// A new user `name` with email `name@example.com`, created now.
fn new_user(name: &str) -> NewUser {
    new_user_with_email(name, &format!("{name}@example.com"))
}

fn new_user_with_email(name: &str, email: &str) -> NewUser {
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
fn fresh_hash() -> Vec<u8> {
    TokenCodec::new_refresh().expect("OS random generator").1
}

/// A refresh-token row for a new session (new family) of `user_id`, expiring `ttl` from now.
fn session(user_id: Uuid, ttl: Duration) -> NewRefreshToken {
    session_in(user_id, Uuid::now_v7(), ttl)
}

fn session_in(user_id: Uuid, family_id: Uuid, ttl: Duration) -> NewRefreshToken {
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

fn week() -> Duration {
    Duration::days(7)
}

/// Creates `name` with a first session; returns the record and that session's row.
async fn user_with_session(
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
async fn rotate(store: &Arc<dyn AuthStore>, presented: &[u8]) -> (Rotation, Vec<u8>) {
    let new_hash = fresh_hash();
    let at = now();
    let outcome = store
        .rotate_refresh_token(presented, &new_hash, at, at + week())
        .await
        .expect("rotate_refresh_token");
    (outcome, new_hash)
}

async fn rotation(store: &Arc<dyn AuthStore>, presented: &[u8]) -> Rotation {
    rotate(store, presented).await.0
}

async fn state(store: &Arc<dyn AuthStore>, id: Uuid) -> TokenState {
    store
        .token_state(id)
        .await
        .expect("token_state")
        .expect("user exists")
}

async fn fetch(store: &Arc<dyn AuthStore>, id: Uuid) -> UserRecord {
    store
        .user_by_id(id)
        .await
        .expect("user_by_id")
        .expect("user exists")
}

/// The single field a conflict names, or a panic describing what came instead.
fn conflict_field<T: std::fmt::Debug>(result: vault_core::Result<T>) -> String {
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

// --- users ------------------------------------------------------------------------------------

async fn create_user_round_trips_and_logins_are_case_insensitive(store: Arc<dyn AuthStore>) {
    let user = new_user_with_email("Ada.Lovelace", "Ada.Lovelace@Example.COM");
    let record = store.create_user(&user, None).await.expect("create_user");

    assert_eq!(record.id, user.id);
    assert_eq!(record.username, "Ada.Lovelace");
    assert_eq!(
        record.email, "Ada.Lovelace@example.com",
        "domain lower-cased"
    );
    assert_eq!(record.display_name, "Ada.Lovelace the tester");
    assert_eq!(record.password_hash, user.password_hash);
    assert_eq!(record.role, Role::User);
    assert!(record.is_active);
    assert_eq!(record.token_version, 0);
    assert_eq!(record.created_at, user.created_at, "timestamps round-trip");
    assert_eq!(record.updated_at, user.created_at);

    assert_eq!(fetch(&store, user.id).await, record);
    for login in [
        "Ada.Lovelace",
        "ada.lovelace",
        "ADA.LOVELACE",
        "Ada.Lovelace@example.com",
        "ada.lovelace@EXAMPLE.com",
        "ADA.LOVELACE@EXAMPLE.COM",
    ] {
        let found = store.user_by_login(login).await.expect("user_by_login");
        assert_eq!(found.as_ref(), Some(&record), "login {login:?}");
    }
    for miss in [
        "Ada",
        "ada.lovelace@example.org",
        "lovelace@example.com",
        "",
    ] {
        assert!(
            store
                .user_by_login(miss)
                .await
                .expect("user_by_login")
                .is_none(),
            "login {miss:?} must not match"
        );
    }
    assert!(store
        .user_by_id(Uuid::now_v7())
        .await
        .expect("user_by_id")
        .is_none());

    assert_eq!(
        state(&store, user.id).await,
        TokenState {
            token_version: 0,
            user: User::from(fetch(&store, user.id).await),
        }
    );
    assert!(store
        .token_state(Uuid::now_v7())
        .await
        .expect("token_state")
        .is_none());

    let mut admin = new_user("root");
    admin.role = Role::Admin;
    let admin = store.create_user(&admin, None).await.expect("create admin");
    assert_eq!(admin.role, Role::Admin);
    assert_eq!(state(&store, admin.id).await.user.role, Role::Admin);
}

async fn username_and_email_clashes_name_the_field(store: Arc<dyn AuthStore>) {
    let ada = store
        .create_user(&new_user("ada"), None)
        .await
        .expect("create ada");

    let same_name = new_user_with_email("ADA", "someone-else@example.com");
    assert_eq!(
        conflict_field(store.create_user(&same_name, None).await),
        "username"
    );
    let same_email = new_user_with_email("ada2", "ADA@EXAMPLE.COM");
    assert_eq!(
        conflict_field(store.create_user(&same_email, None).await),
        "email"
    );

    // Neither attempt left a row behind.
    assert!(store
        .user_by_id(same_name.id)
        .await
        .expect("user_by_id")
        .is_none());
    assert!(store
        .user_by_id(same_email.id)
        .await
        .expect("user_by_id")
        .is_none());
    assert_eq!(
        store.user_by_login("ADA").await.expect("user_by_login"),
        Some(ada.clone())
    );
    assert_eq!(
        store
            .user_by_login("ada@example.com")
            .await
            .expect("user_by_login"),
        Some(ada)
    );

    // A name that differs in more than case is fine.
    store
        .create_user(&new_user("ada_"), None)
        .await
        .expect("different username and email");
}

async fn first_token_is_atomic_with_the_user(store: Arc<dyn AuthStore>) {
    let (ada, ada_token) = user_with_session(&store, "ada").await;

    // Bob's first token collides with Ada's token hash: the token insert fails after the user
    // insert succeeded, so the whole transaction must roll back.
    let bob = new_user("bob");
    let mut clashing = session(bob.id, week());
    clashing.token_hash = ada_token.token_hash.clone();
    let result = store.create_user(&bob, Some(clashing)).await;
    assert!(
        result.is_err(),
        "duplicate token hash must fail: {result:?}"
    );
    assert!(store
        .user_by_id(bob.id)
        .await
        .expect("user_by_id")
        .is_none());
    assert!(store
        .user_by_login("bob")
        .await
        .expect("user_by_login")
        .is_none());
    assert!(store.token_state(bob.id).await.expect("state").is_none());

    // Ada's session is untouched, and Bob can register for real afterwards (no half-row left
    // holding his username or email).
    let (outcome, _) = rotate(&store, &ada_token.token_hash).await;
    assert_eq!(outcome, Rotation::Rotated { user_id: ada.id });
    let token = session(bob.id, week());
    let bob_record = store
        .create_user(&bob, Some(token.clone()))
        .await
        .expect("bob registers");
    assert_eq!(
        rotation(&store, &token.token_hash).await,
        Rotation::Rotated {
            user_id: bob_record.id
        },
        "the first token is stored with the user"
    );
}

async fn update_user_changes_profile_and_refuses_email_clash(store: Arc<dyn AuthStore>) {
    let ada = store
        .create_user(&new_user("ada"), None)
        .await
        .expect("create ada");
    let bob = store
        .create_user(&new_user("bob"), None)
        .await
        .expect("create bob");

    // Email clash (case-insensitive): Conflict on `email`, and nothing changes, not even the
    // display name sent along or `updated_at`.
    let clash = UserChanges {
        email: Some(Email::parse("ADA@example.com").expect("email")),
        display_name: Some("Robert".into()),
    };
    assert_eq!(
        conflict_field(store.update_user(bob.id, &clash, now()).await),
        "email"
    );
    assert_eq!(fetch(&store, bob.id).await, bob);
    assert_eq!(fetch(&store, ada.id).await, ada);

    // Only the display name: the email stays.
    let later = now() + Duration::seconds(5);
    let renamed = store
        .update_user(
            bob.id,
            &UserChanges {
                email: None,
                display_name: Some("Robert".into()),
            },
            later,
        )
        .await
        .expect("update_user")
        .expect("bob exists");
    assert_eq!(renamed.display_name, "Robert");
    assert_eq!(renamed.email, "bob@example.com");
    assert_eq!(renamed.updated_at, later);
    assert_eq!(renamed.created_at, bob.created_at);
    assert_eq!(renamed.token_version, bob.token_version);
    assert_eq!(fetch(&store, bob.id).await, renamed);

    // Only the email: the display name stays, and the new address is what logins find.
    let even_later = later + Duration::seconds(5);
    let moved = store
        .update_user(
            bob.id,
            &UserChanges {
                email: Some(Email::parse("Robert@Example.org").expect("email")),
                display_name: None,
            },
            even_later,
        )
        .await
        .expect("update_user")
        .expect("bob exists");
    assert_eq!(moved.email, "Robert@example.org");
    assert_eq!(moved.display_name, "Robert");
    assert_eq!(moved.updated_at, even_later);
    assert_eq!(
        store
            .user_by_login("robert@example.org")
            .await
            .expect("user_by_login"),
        Some(moved)
    );
    assert!(store
        .user_by_login("bob@example.com")
        .await
        .expect("user_by_login")
        .is_none());

    // A user may keep their own address in another case (no clash with themselves).
    let recased = store
        .update_user(
            ada.id,
            &UserChanges {
                email: Some(Email::parse("ADA@example.com").expect("email")),
                display_name: None,
            },
            now(),
        )
        .await
        .expect("own email in another case")
        .expect("ada exists");
    assert_eq!(recased.email, "ADA@example.com");

    // Unknown users: None.
    assert!(store
        .update_user(Uuid::now_v7(), &UserChanges::default(), now())
        .await
        .expect("update_user")
        .is_none());
}

// --- rotation ---------------------------------------------------------------------------------

async fn rotation_of_a_live_token_then_replay_is_reuse(store: Arc<dyn AuthStore>) {
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

async fn rotation_refuses_unknown_expired_and_inactive(store: Arc<dyn AuthStore>) {
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

async fn concurrent_rotation_of_one_token_one_wins(store: Arc<dyn AuthStore>) {
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

// --- revocation -------------------------------------------------------------------------------

async fn revoke_family_affects_only_that_family(store: Arc<dyn AuthStore>) {
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

async fn revoke_session_of_knows_forgeries_and_is_idempotent(store: Arc<dyn AuthStore>) {
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

async fn end_all_sessions_bumps_version_and_revokes_only_that_user(store: Arc<dyn AuthStore>) {
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

async fn change_password_bumps_version_and_revokes_sessions(store: Arc<dyn AuthStore>) {
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

async fn set_active_bumps_version_and_deactivation_revokes_sessions(store: Arc<dyn AuthStore>) {
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

async fn set_role_changes_role_and_bumps_version_only(store: Arc<dyn AuthStore>) {
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

async fn replace_password_hash_keeps_version_and_sessions(store: Arc<dyn AuthStore>) {
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

async fn delete_user_cascades_to_refresh_tokens(store: Arc<dyn AuthStore>) {
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

async fn insert_refresh_token_requires_an_existing_user(store: Arc<dyn AuthStore>) {
    let orphan = session(Uuid::now_v7(), week());
    let result = store.insert_refresh_token(&orphan).await;
    assert!(result.is_err(), "foreign key enforced: {result:?}");
    assert_eq!(
        rotation(&store, &orphan.token_hash).await,
        Rotation::Unknown
    );
}

async fn purge_deletes_only_rows_expired_before_now(store: Arc<dyn AuthStore>) {
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

// --- concurrency ------------------------------------------------------------------------------

async fn concurrent_create_user_of_one_username_one_wins(store: Arc<dyn AuthStore>) {
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

async fn concurrent_create_user_of_one_email_one_wins(store: Arc<dyn AuthStore>) {
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
async fn sessions_ended_during_a_rotation_stay_ended(store: Arc<dyn AuthStore>) {
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
async fn session_revoked_during_a_rotation_stays_revoked(store: Arc<dyn AuthStore>) {
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
