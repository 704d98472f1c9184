//! Concurrent writes: races between writers must leave consistent rows on both backends.

use super::*;

// --- concurrency ------------------------------------------------------------------------------

pub(crate) async fn concurrent_patches_of_different_fields_both_survive(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    for round in 0..10_i64 {
        let base = create(
            &ctx,
            ada,
            &with_body(note(&format!("round {round}")), "body"),
            &["start"],
            round,
        )
        .await;
        let barrier = Arc::new(Barrier::new(3));
        let mut tasks = JoinSet::new();
        let changes = [
            ResourceChanges {
                title: Some(format!("title {round}")),
                ..ResourceChanges::default()
            },
            ResourceChanges {
                favorite: Some(true),
                ..ResourceChanges::default()
            },
            ResourceChanges {
                tags: Some(tags(&["finish", "start"])),
                ..ResourceChanges::default()
            },
        ];
        for (i, change) in changes.into_iter().enumerate() {
            let store = Arc::clone(&ctx.store);
            let barrier = Arc::clone(&barrier);
            let seconds = 100 + i64::try_from(i).expect("small index");
            tasks.spawn(async move {
                barrier.wait().await;
                store
                    .patch_resource(ada, base.id, &change, at(seconds))
                    .await
                    .expect("patch_resource")
                    .expect("resource exists")
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.expect("patch task");
        }
        let record = fetch(&ctx, ada, base.id).await;
        assert_eq!(record.title, format!("title {round}"), "round {round}");
        assert!(record.favorite, "round {round}");
        assert_eq!(record.tags(), vec!["finish", "start"], "round {round}");
        assert_eq!(record.body, "body");
        assert_eq!(
            ids(&ctx, ada, &tagged(&["finish"])).await.len(),
            usize::try_from(round + 1).expect("small"),
            "round {round}"
        );
    }
}

pub(crate) async fn concurrent_create_tag_of_one_name_one_wins(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let barrier = Arc::new(Barrier::new(4));
    let mut tasks = JoinSet::new();
    for i in 0..4 {
        let store = Arc::clone(&ctx.store);
        let barrier = Arc::clone(&barrier);
        tasks.spawn(async move {
            barrier.wait().await;
            store
                .create_tag(ada, Uuid::now_v7(), "contended", at(i))
                .await
        });
    }
    let mut won = 0;
    let mut lost = 0;
    while let Some(done) = tasks.join_next().await {
        match done.expect("create task") {
            Ok(tag) => {
                assert_eq!(tag.name, "contended");
                won += 1;
            }
            refused => {
                assert_eq!(conflict_fields(refused), vec!["name"]);
                lost += 1;
            }
        }
    }
    assert_eq!((won, lost), (1, 3));
    assert_eq!(tag_counts(&ctx, ada).await, counts(&[("contended", 0)]));
}

pub(crate) async fn concurrent_creates_with_the_same_new_tags_share_them(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let barrier = Arc::new(Barrier::new(4));
    let mut tasks = JoinSet::new();
    for i in 0..4 {
        let store = Arc::clone(&ctx.store);
        let barrier = Arc::clone(&barrier);
        tasks.spawn(async move {
            barrier.wait().await;
            store
                .create_resource(
                    ada,
                    Uuid::now_v7(),
                    &note(&format!("racer {i}")),
                    &tags(&["fresh", "shared"]),
                    at(i),
                )
                .await
                .expect("every creation succeeds")
        });
    }
    while let Some(done) = tasks.join_next().await {
        assert_eq!(done.expect("create task").tags(), vec!["fresh", "shared"]);
    }
    assert_eq!(
        tag_counts(&ctx, ada).await,
        counts(&[("fresh", 4), ("shared", 4)]),
        "one row per name, linked to every racer"
    );
}

/// Holds a write transaction (SQLite: the database's write lock; PostgreSQL: one user row) from
/// the moment `ready` fires until `hold` has passed, then commits.
pub(crate) async fn hold_a_write_transaction(
    db: Database,
    user: Uuid,
    ready: tokio::sync::oneshot::Sender<()>,
    hold: std::time::Duration,
) {
    macro_rules! hold {
        ($pool:expr) => {{
            let mut tx = $pool.begin().await.expect("begin");
            sqlx::query("UPDATE users SET display_name = 'busy' WHERE id = $1")
                .bind(user)
                .execute(&mut *tx)
                .await
                .expect("the holder writes");
            ready.send(()).expect("the scenario waits");
            tokio::time::sleep(hold).await;
            tx.commit().await.expect("commit");
        }};
    }
    match db {
        Database::Sqlite(pool) => hold!(pool),
        Database::Postgres(pool) => hold!(pool),
    }
}

/// While another connection is in a write transaction, the store's writes wait (SQLite: up to
/// the busy timeout) instead of failing with "database is locked". Covers a write on a fresh
/// connection (its first use of the full-text index) and `delete_tag`, which reads before it
/// writes.
pub(crate) async fn writes_wait_for_a_concurrent_write_transaction(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let first = create(&ctx, ada, &note("first"), &["doomed", "kept"], 0).await;
    let doomed = tag_named(&ctx, ada, "doomed").await;
    let hold = std::time::Duration::from_millis(300);

    // A fresh pool: its connections have not touched the full-text index yet.
    let fresh = Database::connect(&ctx.url, 2)
        .await
        .expect("second pool on the test database");
    let (ready, held) = tokio::sync::oneshot::channel();
    let holder = tokio::spawn(hold_a_write_transaction(ctx.db.clone(), ada, ready, hold));
    held.await.expect("the holder is in its transaction");
    let created = ctx
        .store_over(&fresh)
        .create_resource(
            ada,
            Uuid::now_v7(),
            &note("second"),
            &tags(&["kept"]),
            at(1),
        )
        .await
        .expect("create_resource waits for the other writer");
    holder.await.expect("holder task");
    assert_eq!(fetch(&ctx, ada, created.id).await, created);
    fresh.close().await;

    let (ready, held) = tokio::sync::oneshot::channel();
    let holder = tokio::spawn(hold_a_write_transaction(ctx.db.clone(), ada, ready, hold));
    held.await.expect("the holder is in its transaction");
    assert!(ctx
        .store
        .delete_tag(ada, doomed.id)
        .await
        .expect("delete_tag waits for the other writer"));
    holder.await.expect("holder task");
    assert_eq!(fetch(&ctx, ada, first.id).await.tags(), vec!["kept"]);
}

/// A PATCH giving a resource tag `name` races the deletion (or the renaming) of the existing tag
/// of that name. Either order is fine (deleted first: the tag is created afresh and attached;
/// patched first: the resource loses it with the deletion, or carries the new name after the
/// rename), but both calls must succeed and the resource's `tag_names` must list exactly the
/// tags linked to it.
pub(crate) async fn tagging_racing_tag_deletion_or_rename_stays_consistent(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let target = create(&ctx, ada, &note("target"), &[], 0).await;
    for round in 0..40_i64 {
        let name = format!("race{round}");
        create(&ctx, ada, &note("holder"), &[name.as_str()], round).await;
        let tag = tag_named(&ctx, ada, &name).await;
        let rename = round % 2 == 1;
        let barrier = Arc::new(Barrier::new(2));

        let store = Arc::clone(&ctx.store);
        let wait = Arc::clone(&barrier);
        let renamed = format!("renamed{round}");
        let tag_side = tokio::spawn(async move {
            wait.wait().await;
            if rename {
                store
                    .rename_tag(ada, tag.id, &renamed)
                    .await
                    .map(|t| t.is_some())
            } else {
                store.delete_tag(ada, tag.id).await
            }
        });
        let store = Arc::clone(&ctx.store);
        let wait = Arc::clone(&barrier);
        let changes = ResourceChanges {
            tags: Some(vec![name.clone()]),
            ..ResourceChanges::default()
        };
        let patch_side = tokio::spawn(async move {
            wait.wait().await;
            store
                .patch_resource(ada, target.id, &changes, at(1000 + round))
                .await
        });
        let what = if rename { "rename_tag" } else { "delete_tag" };
        let tag_result = tag_side.await.expect("tag task");
        let patch_result = patch_side.await.expect("patch task");
        assert!(
            matches!(tag_result, Ok(true)),
            "round {round}: {what} failed: {tag_result:?}"
        );
        assert!(
            matches!(patch_result, Ok(Some(_))),
            "round {round}: patch_resource racing {what} failed: {patch_result:?}"
        );
        let record = fetch(&ctx, ada, target.id).await;
        assert_eq!(
            record.tags(),
            linked_tag_names(&ctx.db, target.id).await,
            "round {round}, racing {what}: tag_names agree with the linked tags"
        );
    }
}
