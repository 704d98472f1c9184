//! Users: creation, lookups, profile changes and unique clashes.

use super::*;

// --- users ------------------------------------------------------------------------------------

pub(crate) async fn create_user_round_trips_and_logins_are_case_insensitive(
    store: Arc<dyn AuthStore>,
) {
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
        // No stored name holds a NUL; PostgreSQL cannot even be asked.
        "ada.lovelace\0",
        "ada.lovelace@example.com\0",
        "\0",
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

pub(crate) async fn username_and_email_clashes_name_the_field(store: Arc<dyn AuthStore>) {
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

pub(crate) async fn first_token_is_atomic_with_the_user(store: Arc<dyn AuthStore>) {
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

pub(crate) async fn update_user_changes_profile_and_refuses_email_clash(store: Arc<dyn AuthStore>) {
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
