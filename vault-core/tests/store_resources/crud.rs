//! Creating, reading, replacing, patching and deleting resources, each scoped to its owner.

use super::*;

// --- create and get ---------------------------------------------------------------------------

pub(crate) async fn create_round_trips_and_creates_tags_on_the_fly_per_owner(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let bob = user(&ctx, "bob").await;

    let fields = favorite(with_body(note("Ownership in Rust"), "# Borrowing\n\nbody"));
    let id = Uuid::now_v7();
    let first = ctx
        .store
        .create_resource(ada, id, &fields, &tags(&["databases", "rust"]), at(0))
        .await
        .expect("create_resource");
    assert_eq!(first.id, id);
    assert_eq!(first.kind, ResourceKind::Note);
    assert_eq!(first.title, "Ownership in Rust");
    assert_eq!(first.body, "# Borrowing\n\nbody");
    assert_eq!(first.url, None);
    assert!(first.favorite);
    assert_eq!(first.tags(), vec!["databases", "rust"], "tags sorted");
    assert_eq!(first.tag_names, "databases\nrust");
    assert_eq!(
        (
            &first.file_key,
            &first.file_name,
            first.file_size,
            &first.file_type,
            &first.file_sha256
        ),
        (&None, &None, None, &None, &None),
        "no file"
    );
    assert_eq!(first.created_at, at(0), "timestamps round-trip");
    assert_eq!(first.updated_at, at(0));
    assert_eq!(
        fetch(&ctx, ada, id).await,
        first,
        "get returns what create did"
    );

    // A link keeps its URL; no tags is an empty set.
    let site = create(
        &ctx,
        ada,
        &link("Docs", "https://docs.example.com/a?b=c"),
        &[],
        1,
    )
    .await;
    assert_eq!(site.kind, ResourceKind::Link);
    assert_eq!(site.url.as_deref(), Some("https://docs.example.com/a?b=c"));
    assert!(site.tags().is_empty());
    assert_eq!(site.tag_names, "");

    // "rust" is reused, "sqlx" is new.
    let rust_before = tag_named(&ctx, ada, "rust").await;
    let second = create(&ctx, ada, &note("sqlx"), &["rust", "sqlx"], 2).await;
    assert_eq!(second.tags(), vec!["rust", "sqlx"]);
    assert_eq!(
        tag_counts(&ctx, ada).await,
        counts(&[("databases", 1), ("rust", 2), ("sqlx", 1)]),
        "one row per name, listed by name"
    );
    let rust_after = tag_named(&ctx, ada, "rust").await;
    assert_eq!(rust_after.id, rust_before.id, "the existing tag is reused");
    assert_eq!(
        rust_after.created_at,
        at(0),
        "a tag is created with its resource"
    );
    assert_eq!(tag_named(&ctx, ada, "sqlx").await.created_at, at(2));

    // Bob's "rust" is his own row; Ada's counts do not move.
    assert!(tag_counts(&ctx, bob).await.is_empty());
    create(&ctx, bob, &note("bob's"), &["rust"], 3).await;
    assert_eq!(tag_counts(&ctx, bob).await, counts(&[("rust", 1)]));
    assert_ne!(tag_named(&ctx, bob, "rust").await.id, rust_before.id);
    assert_eq!(
        tag_counts(&ctx, ada).await,
        counts(&[("databases", 1), ("rust", 2), ("sqlx", 1)])
    );
    assert_eq!(
        count_where(
            &ctx.db,
            "SELECT count(*) FROM tags WHERE owner_id = $1",
            ada
        )
        .await,
        3
    );
    assert_eq!(
        count_where(
            &ctx.db,
            "SELECT count(*) FROM tags WHERE owner_id = $1",
            bob
        )
        .await,
        1
    );
}

pub(crate) async fn create_of_a_link_without_url_is_refused_and_leaves_nothing(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let id = Uuid::now_v7();
    let fields = ResourceFields {
        url: None,
        ..link("no url", "https://unused.example")
    };
    let result = ctx
        .store
        .create_resource(ada, id, &fields, &tags(&["orphan"]), at(0))
        .await;
    assert_eq!(validation_fields(result), vec!["url"]);
    assert!(get(&ctx, ada, id).await.is_none());
    assert_eq!(list(&ctx, ada, &everything()).await.0, 0);
    assert!(
        tag_counts(&ctx, ada).await.is_empty(),
        "no tag row survives the failed creation"
    );
}

// --- ownership --------------------------------------------------------------------------------

pub(crate) async fn every_operation_is_scoped_to_the_owner(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let bob = user(&ctx, "bob").await;
    let mine = create(
        &ctx,
        ada,
        &with_body(note("private"), "secret"),
        &["alpha"],
        0,
    )
    .await;
    let alpha = tag_named(&ctx, ada, "alpha").await;

    // Bob does not see Ada's resource, and cannot change or delete it.
    assert!(get(&ctx, bob, mine.id).await.is_none());
    assert!(ctx
        .store
        .replace_resource(bob, mine.id, &note("stolen"), &tags(&["beta"]), at(5))
        .await
        .expect("replace_resource")
        .is_none());
    let changes = ResourceChanges {
        title: Some("stolen".into()),
        tags: Some(tags(&["gamma"])),
        ..ResourceChanges::default()
    };
    assert!(ctx
        .store
        .patch_resource(bob, mine.id, &changes, at(6))
        .await
        .expect("patch_resource")
        .is_none());
    assert!(!ctx
        .store
        .delete_resource(bob, mine.id)
        .await
        .expect("delete_resource"));
    assert_eq!(list(&ctx, bob, &everything()).await.0, 0);
    assert_eq!(list(&ctx, bob, &searching("secret")).await.0, 0);
    assert_eq!(list(&ctx, bob, &tagged(&["alpha"])).await.0, 0);

    // Nor Ada's tags.
    assert!(ctx
        .store
        .get_tag(bob, alpha.id)
        .await
        .expect("get_tag")
        .is_none());
    assert!(ctx
        .store
        .rename_tag(bob, alpha.id, "taken")
        .await
        .expect("rename_tag")
        .is_none());
    assert!(!ctx
        .store
        .delete_tag(bob, alpha.id)
        .await
        .expect("delete_tag"));
    assert!(
        tag_counts(&ctx, bob).await.is_empty(),
        "Bob's refused writes created no tags"
    );

    // Everything of Ada's is as it was.
    assert_eq!(fetch(&ctx, ada, mine.id).await, mine);
    assert_eq!(
        ctx.store
            .get_tag(ada, alpha.id)
            .await
            .expect("get_tag")
            .as_ref(),
        Some(&alpha)
    );
    assert_eq!(alpha.resource_count, 1);

    // Unknown ids are simply absent, for the owner too.
    let unknown = Uuid::now_v7();
    assert!(get(&ctx, ada, unknown).await.is_none());
    assert!(ctx
        .store
        .replace_resource(ada, unknown, &note("x"), &[], at(7))
        .await
        .expect("replace_resource")
        .is_none());
    assert!(ctx
        .store
        .patch_resource(ada, unknown, &ResourceChanges::default(), at(7))
        .await
        .expect("patch_resource")
        .is_none());
    assert!(!ctx
        .store
        .delete_resource(ada, unknown)
        .await
        .expect("delete_resource"));
    assert!(ctx
        .store
        .get_tag(ada, unknown)
        .await
        .expect("get_tag")
        .is_none());
}

// --- replace and patch ------------------------------------------------------------------------

pub(crate) async fn replace_resets_every_field_and_the_tag_set(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let original = create(
        &ctx,
        ada,
        &favorite(with_body(
            link("Lifetimes explained", "https://example.com/lifetimes"),
            "long read",
        )),
        &["borrowing", "rust"],
        0,
    )
    .await;

    let replaced = ctx
        .store
        .replace_resource(
            ada,
            original.id,
            &note("Plain note"),
            &tags(&["misc"]),
            at(60),
        )
        .await
        .expect("replace_resource")
        .expect("resource exists");
    assert_eq!(replaced.id, original.id);
    assert_eq!(replaced.kind, ResourceKind::Note);
    assert_eq!(replaced.title, "Plain note");
    assert_eq!(replaced.body, "");
    assert_eq!(replaced.url, None);
    assert!(!replaced.favorite);
    assert_eq!(replaced.tags(), vec!["misc"]);
    assert_eq!(replaced.created_at, at(0), "creation time is kept");
    assert_eq!(replaced.updated_at, at(60));
    assert_eq!(fetch(&ctx, ada, original.id).await, replaced);
    assert_eq!(
        tag_counts(&ctx, ada).await,
        counts(&[("borrowing", 0), ("misc", 1), ("rust", 0)]),
        "old tags are detached (but kept), the new one attached"
    );

    // The search index follows: old words are gone, new ones found.
    assert!(ids(&ctx, ada, &searching("lifetimes")).await.is_empty());
    assert!(ids(&ctx, ada, &searching("borrowing")).await.is_empty());
    assert!(ids(&ctx, ada, &tagged(&["rust"])).await.is_empty());
    assert_eq!(ids(&ctx, ada, &searching("plain")).await, vec![original.id]);
    assert_eq!(ids(&ctx, ada, &searching("misc")).await, vec![original.id]);

    // Replacing with no tags empties the set.
    let bare = ctx
        .store
        .replace_resource(
            ada,
            original.id,
            &with_body(note("Plain note"), "text"),
            &[],
            at(61),
        )
        .await
        .expect("replace_resource")
        .expect("resource exists");
    assert!(bare.tags().is_empty());
    assert_eq!(bare.tag_names, "");
    assert_eq!(bare.body, "text");
    assert_eq!(
        tag_counts(&ctx, ada).await,
        counts(&[("borrowing", 0), ("misc", 0), ("rust", 0)])
    );

    // A link without url is refused and changes nothing.
    let fields = ResourceFields {
        url: None,
        ..link("broken", "https://unused.example")
    };
    let result = ctx
        .store
        .replace_resource(ada, original.id, &fields, &tags(&["fresh"]), at(62))
        .await;
    assert_eq!(validation_fields(result), vec!["url"]);
    assert_eq!(fetch(&ctx, ada, original.id).await, bare);
    assert!(
        !tag_counts(&ctx, ada)
            .await
            .iter()
            .any(|(name, _)| name == "fresh"),
        "the refused replacement created no tag"
    );
}

pub(crate) async fn patch_changes_only_the_given_fields(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let base = create(
        &ctx,
        ada,
        &with_body(
            link("Original title", "https://example.com/one"),
            "original body",
        ),
        &["alpha", "beta"],
        0,
    )
    .await;
    let patch = |changes: ResourceChanges, seconds: i64| {
        let store = Arc::clone(&ctx.store);
        async move {
            store
                .patch_resource(ada, base.id, &changes, at(seconds))
                .await
                .expect("patch_resource")
                .expect("resource exists")
        }
    };

    // Nothing given: only the modification time moves.
    let touched = patch(ResourceChanges::default(), 10).await;
    assert_eq!(
        touched,
        ResourceRecord {
            updated_at: at(10),
            ..base.clone()
        }
    );

    let titled = patch(
        ResourceChanges {
            title: Some("New title".into()),
            ..ResourceChanges::default()
        },
        20,
    )
    .await;
    assert_eq!(
        titled,
        ResourceRecord {
            title: "New title".into(),
            updated_at: at(20),
            ..base.clone()
        }
    );

    let starred = patch(
        ResourceChanges {
            favorite: Some(true),
            body: Some(String::new()),
            ..ResourceChanges::default()
        },
        30,
    )
    .await;
    assert_eq!(
        starred,
        ResourceRecord {
            favorite: true,
            body: String::new(),
            updated_at: at(30),
            ..titled.clone()
        }
    );

    let retagged = patch(
        ResourceChanges {
            tags: Some(tags(&["beta", "gamma"])),
            ..ResourceChanges::default()
        },
        40,
    )
    .await;
    assert_eq!(
        retagged,
        ResourceRecord {
            tag_names: "beta\ngamma".into(),
            updated_at: at(40),
            ..starred.clone()
        }
    );
    assert_eq!(
        tag_counts(&ctx, ada).await,
        counts(&[("alpha", 0), ("beta", 1), ("gamma", 1)])
    );
    assert_eq!(ids(&ctx, ada, &searching("gamma")).await, vec![base.id]);
    assert!(ids(&ctx, ada, &searching("alpha")).await.is_empty());

    let moved = patch(
        ResourceChanges {
            url: Some(Some("https://example.com/two".into())),
            ..ResourceChanges::default()
        },
        50,
    )
    .await;
    assert_eq!(moved.url.as_deref(), Some("https://example.com/two"));
    assert_eq!(moved.tags(), vec!["beta", "gamma"], "tags untouched");

    // A note may lose its URL; kind and url in one patch.
    let noted = patch(
        ResourceChanges {
            kind: Some(ResourceKind::Note),
            url: Some(None),
            ..ResourceChanges::default()
        },
        60,
    )
    .await;
    assert_eq!(
        noted,
        ResourceRecord {
            kind: ResourceKind::Note,
            url: None,
            updated_at: at(60),
            ..moved.clone()
        }
    );
    let linked = patch(
        ResourceChanges {
            kind: Some(ResourceKind::Link),
            url: Some(Some("https://example.com/three".into())),
            ..ResourceChanges::default()
        },
        70,
    )
    .await;
    assert_eq!(linked.kind, ResourceKind::Link);
    assert_eq!(linked.url.as_deref(), Some("https://example.com/three"));

    // Clearing the tags.
    let untagged = patch(
        ResourceChanges {
            tags: Some(Vec::new()),
            ..ResourceChanges::default()
        },
        80,
    )
    .await;
    assert!(untagged.tags().is_empty());
    assert_eq!(untagged.title, "New title");
    assert_eq!(untagged.created_at, at(0));
    assert_eq!(fetch(&ctx, ada, base.id).await, untagged);
}

pub(crate) async fn patch_leaving_a_link_without_url_is_refused_and_changes_nothing(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let site = create(&ctx, ada, &link("Site", "https://example.com"), &["web"], 0).await;
    let cleared = ResourceChanges {
        url: Some(None),
        title: Some("changed".into()),
        tags: Some(tags(&["other"])),
        ..ResourceChanges::default()
    };
    let result = ctx
        .store
        .patch_resource(ada, site.id, &cleared, at(10))
        .await;
    assert_eq!(validation_fields(result), vec!["url"]);
    assert_eq!(fetch(&ctx, ada, site.id).await, site, "nothing changed");
    assert_eq!(tag_counts(&ctx, ada).await, counts(&[("web", 1)]));

    // Turning a note without URL into a link is the same mistake.
    let memo = create(&ctx, ada, &note("Memo"), &[], 1).await;
    let linkify = ResourceChanges {
        kind: Some(ResourceKind::Link),
        ..ResourceChanges::default()
    };
    let result = ctx
        .store
        .patch_resource(ada, memo.id, &linkify, at(11))
        .await;
    assert_eq!(validation_fields(result), vec!["url"]);
    assert_eq!(fetch(&ctx, ada, memo.id).await, memo);
}

// --- delete -----------------------------------------------------------------------------------

pub(crate) async fn delete_removes_the_resource_and_its_tag_links(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let doomed = create(
        &ctx,
        ada,
        &with_body(note("Doomed"), "ephemeral"),
        &["rust", "temp"],
        0,
    )
    .await;
    let kept = create(&ctx, ada, &note("Kept"), &["rust"], 1).await;

    assert!(ctx
        .store
        .delete_resource(ada, doomed.id)
        .await
        .expect("delete_resource"));
    assert!(get(&ctx, ada, doomed.id).await.is_none());
    assert!(
        !ctx.store
            .delete_resource(ada, doomed.id)
            .await
            .expect("delete again"),
        "a second delete finds nothing"
    );
    assert_eq!(ids(&ctx, ada, &everything()).await, vec![kept.id]);
    assert!(ids(&ctx, ada, &searching("ephemeral")).await.is_empty());
    assert_eq!(ids(&ctx, ada, &tagged(&["rust"])).await, vec![kept.id]);
    assert_eq!(
        tag_counts(&ctx, ada).await,
        counts(&[("rust", 1), ("temp", 0)]),
        "tags stay, their links go"
    );
    assert_eq!(
        count_where(
            &ctx.db,
            "SELECT count(*) FROM resource_tags WHERE resource_id = $1",
            doomed.id
        )
        .await,
        0
    );
    assert!(
        blob_garbage(&ctx.db).await.is_empty(),
        "no file, no garbage"
    );
}
