//! Account deletion, the blob garbage queue and the reservations of uploads in it.

use super::*;

// --- account deletion and blob garbage --------------------------------------------------------

pub(crate) async fn deleting_the_user_cascades_to_resources_and_tags(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let bob = user(&ctx, "bob").await;
    let with_file = create(&ctx, ada, &note("paper"), &["papers", "rust"], 0).await;
    attach_file(&ctx.db, with_file.id, "ada-file").await;
    create(&ctx, ada, &note("plain"), &["rust"], 1).await;
    ctx.store
        .create_tag(ada, Uuid::now_v7(), "unused", at(2))
        .await
        .expect("create_tag");
    let bobs = create(&ctx, bob, &note("bob's paper"), &["rust"], 3).await;
    attach_file(&ctx.db, bobs.id, "bob-file").await;

    assert!(ctx.auth.delete_user(ada).await.expect("delete_user"));

    for (table, sql) in [
        (
            "resources",
            "SELECT count(*) FROM resources WHERE owner_id = $1",
        ),
        ("tags", "SELECT count(*) FROM tags WHERE owner_id = $1"),
    ] {
        assert_eq!(count_where(&ctx.db, sql, ada).await, 0, "{table} of Ada");
        assert!(
            count_where(&ctx.db, sql, bob).await > 0,
            "{table} of Bob are kept"
        );
    }
    assert_eq!(
        count_where(
            &ctx.db,
            "SELECT count(*) FROM resource_tags WHERE resource_id = $1",
            with_file.id
        )
        .await,
        0
    );
    assert!(
        matches!(
            ctx.store.get_resource(ada, with_file.id).await,
            Err(Error::InvalidAccessToken(_))
        ),
        "a deleted owner's object is refused as its token, not merely missing"
    );
    assert_eq!(list(&ctx, ada, &everything()).await.0, 0);
    assert!(tag_counts(&ctx, ada).await.is_empty());
    assert_eq!(
        blob_garbage(&ctx.db).await,
        vec!["ada-file"],
        "the cascade queues Ada's file, and only hers"
    );
    assert_eq!(fetch(&ctx, bob, bobs.id).await.tags(), vec!["rust"]);
    assert_eq!(tag_counts(&ctx, bob).await, counts(&[("rust", 1)]));
    assert!(
        ids(&ctx, bob, &searching("paper")).await == vec![bobs.id],
        "Bob's search index is intact"
    );
}

pub(crate) async fn blob_garbage_queues_keys_of_deleted_and_replaced_files(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let doomed = create(&ctx, ada, &note("doomed"), &[], 0).await;
    exec(
        &ctx.db,
        "UPDATE resources SET file_key = 'k1' WHERE id = $1",
        doomed.id,
    )
    .await;
    assert!(
        blob_garbage(&ctx.db).await.is_empty(),
        "setting a key queues nothing"
    );
    assert!(ctx
        .store
        .delete_resource(ada, doomed.id)
        .await
        .expect("delete_resource"));
    assert_eq!(blob_garbage(&ctx.db).await, vec!["k1"]);

    let kept = create(&ctx, ada, &note("kept"), &[], 1).await;
    attach_file(&ctx.db, kept.id, "k2").await;
    // Changing other columns (through the store) does not queue the file.
    ctx.store
        .patch_resource(
            ada,
            kept.id,
            &ResourceChanges {
                title: Some("renamed".into()),
                tags: Some(tags(&["t"])),
                ..ResourceChanges::default()
            },
            at(5),
        )
        .await
        .expect("patch_resource")
        .expect("resource exists");
    ctx.store
        .replace_resource(ada, kept.id, &note("replaced"), &[], at(6))
        .await
        .expect("replace_resource")
        .expect("resource exists");
    let record = fetch(&ctx, ada, kept.id).await;
    assert_eq!(
        record.file_key.as_deref(),
        Some("k2"),
        "PUT of the fields keeps the file"
    );
    assert_eq!(record.file_name.as_deref(), Some("paper.pdf"));
    assert_eq!(record.file_size, Some(3));
    exec(
        &ctx.db,
        "UPDATE resources SET file_key = 'k2' WHERE id = $1",
        kept.id,
    )
    .await;
    assert_eq!(
        blob_garbage(&ctx.db).await,
        vec!["k1"],
        "same key or other columns: nothing queued"
    );

    // Replacing the key queues the old one; clearing it too.
    exec(
        &ctx.db,
        "UPDATE resources SET file_key = 'k3' WHERE id = $1",
        kept.id,
    )
    .await;
    assert_eq!(blob_garbage(&ctx.db).await, vec!["k1", "k2"]);
    exec(
        &ctx.db,
        "UPDATE resources SET file_key = NULL WHERE id = $1",
        kept.id,
    )
    .await;
    assert_eq!(blob_garbage(&ctx.db).await, vec!["k1", "k2", "k3"]);

    // A key queued twice is one row.
    let again = create(&ctx, ada, &note("again"), &[], 2).await;
    exec(
        &ctx.db,
        "UPDATE resources SET file_key = 'k1' WHERE id = $1",
        again.id,
    )
    .await;
    assert!(ctx
        .store
        .delete_resource(ada, again.id)
        .await
        .expect("delete_resource"));
    assert_eq!(blob_garbage(&ctx.db).await, vec!["k1", "k2", "k3"]);
}

/// An upload reserves its key in the queue before storing the blob: the reservation is not due
/// for a day (a collection now leaves it alone), attaching the blob takes it off in the same
/// transaction, and one never attached (the process died) falls due and is collected.
pub(crate) async fn upload_reservations_fall_due_later_and_attaching_clears_them(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let resource = create(&ctx, ada, &note("paper"), &[], 0).await;
    for key in ["attached", "abandoned"] {
        ctx.store.reserve_blob(key).await.expect("reserve_blob");
    }
    assert_eq!(blob_garbage(&ctx.db).await, vec!["abandoned", "attached"]);
    assert!(
        ctx.store
            .blob_garbage(100)
            .await
            .expect("blob_garbage")
            .is_empty(),
        "reservations are not due yet"
    );
    let file = FileColumns {
        key: "attached".into(),
        name: "paper.pdf".into(),
        size: 3,
        content_type: "application/pdf".into(),
        sha256: "abc".into(),
    };
    let attached = ctx
        .store
        .set_file(ada, resource.id, &file, at(1))
        .await
        .expect("set_file")
        .expect("resource exists");
    assert_eq!(attached.file_key.as_deref(), Some("attached"));
    assert_eq!(
        blob_garbage(&ctx.db).await,
        vec!["abandoned"],
        "attaching takes the key off the queue"
    );
    // A day later (the clock moved by hand), the abandoned one is due; a key queued now by a
    // deletion is due at once.
    exec(
        &ctx.db,
        "UPDATE blob_garbage SET queued_at = '2000-01-01T00:00:00.000Z' \
         WHERE key = 'abandoned' AND $1 IS NOT NULL",
        resource.id,
    )
    .await;
    assert!(ctx
        .store
        .delete_resource(ada, resource.id)
        .await
        .expect("delete_resource"));
    assert_eq!(
        ctx.store.blob_garbage(100).await.expect("blob_garbage"),
        vec!["abandoned", "attached"],
        "due keys, oldest first"
    );
}
