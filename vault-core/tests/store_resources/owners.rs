//! An owner whose account is gone: what another server instance, still trusting the owner's
//! access token for a few seconds, gets from the store.

use super::*;

use vault_core::resources::FileColumns;

/// Whether `result` is the refusal of a gone owner's token.
fn gone<T: std::fmt::Debug>(result: vault_core::Result<T>) -> bool {
    match result {
        Err(Error::InvalidAccessToken(detail)) => detail == "User not found.",
        other => panic!("expected the owner to be gone, got {other:?}"),
    }
}

fn file() -> FileColumns {
    FileColumns {
        key: "late-upload".into(),
        name: "paper.pdf".into(),
        size: 3,
        content_type: "application/pdf".into(),
        sha256: "abc".into(),
    }
}

pub(crate) async fn every_call_for_a_deleted_owner_is_refused_as_its_token(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let bob = user(&ctx, "bob").await;
    let kept = create(&ctx, ada, &note("kept"), &["rust"], 0).await;
    let tag = tag_named(&ctx, ada, "rust").await;
    // The instance that deletes the account and one that only learns of it later.
    let other = ctx.another_store();
    assert!(ctx.auth.delete_user(ada).await.expect("delete_user"));

    for store in [&ctx.store, &other] {
        // Creating references the owner: the foreign key breaks, on either backend.
        assert!(gone(
            store
                .create_resource(ada, Uuid::now_v7(), &note("late"), &[], at(1))
                .await
        ));
        assert!(gone(
            store
                .create_resource(ada, Uuid::now_v7(), &note("late"), &tags(&["new"]), at(1))
                .await
        ));
        assert!(gone(
            store.create_tag(ada, Uuid::now_v7(), "late", at(1)).await
        ));
        // Naming an object finds no row: still the owner's absence, not a 404.
        assert!(gone(store.get_resource(ada, kept.id).await));
        assert!(gone(
            store
                .replace_resource(ada, kept.id, &note("x"), &tags(&["y"]), at(2))
                .await
        ));
        assert!(gone(
            store
                .patch_resource(
                    ada,
                    kept.id,
                    &ResourceChanges {
                        title: Some("x".into()),
                        tags: Some(tags(&["y"])),
                        ..ResourceChanges::default()
                    },
                    at(2),
                )
                .await
        ));
        assert!(gone(store.set_file(ada, kept.id, &file(), at(2)).await));
        assert!(gone(store.clear_file(ada, kept.id, at(2)).await));
        assert!(gone(store.delete_resource(ada, kept.id).await));
        assert!(gone(store.get_tag(ada, tag.id).await));
        assert!(gone(store.rename_tag(ada, tag.id, "z").await));
        assert!(gone(store.delete_tag(ada, tag.id).await));
        // Listings of nobody are simply empty.
        let (count, rows) = store
            .list_resources(ada, &everything(), page(1, 20))
            .await
            .expect("list_resources");
        assert_eq!((count, rows.len()), (0, 0));
    }
    for (table, sql) in [
        (
            "resources",
            "SELECT count(*) FROM resources WHERE owner_id = $1",
        ),
        ("tags", "SELECT count(*) FROM tags WHERE owner_id = $1"),
        (
            "resource_counts",
            "SELECT count(*) FROM resource_counts WHERE owner_id = $1",
        ),
    ] {
        assert_eq!(
            count_where(&ctx.db, sql, ada).await,
            0,
            "nothing of Ada's was written to {table}"
        );
    }

    // A live owner's misses stay misses, and its writes go through.
    let nothing = Uuid::now_v7();
    assert_eq!(get(&ctx, bob, nothing).await, None);
    assert_eq!(
        ctx.store
            .replace_resource(bob, nothing, &note("x"), &[], at(3))
            .await
            .expect("replace of nothing"),
        None
    );
    assert!(!ctx
        .store
        .delete_tag(bob, nothing)
        .await
        .expect("delete_tag of nothing"));
    assert_eq!(
        ctx.store
            .clear_file(bob, nothing, at(3))
            .await
            .expect("clear_file of nothing"),
        None
    );
    let bobs = create(&ctx, bob, &note("bob's"), &["rust"], 3).await;
    assert_eq!(
        ctx.store
            .clear_file(bob, bobs.id, at(4))
            .await
            .expect("clear_file without a file"),
        Some(false)
    );
}
