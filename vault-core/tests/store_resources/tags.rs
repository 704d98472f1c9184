//! Tags: listing with counts, creation, renaming and deletion.

use super::*;

// --- tags -------------------------------------------------------------------------------------

pub(crate) async fn list_tags_counts_pages_and_searches_literally(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let bob = user(&ctx, "bob").await;
    create(&ctx, ada, &note("one"), &["100%", "a_b", "rust"], 0).await;
    create(&ctx, ada, &note("two"), &["axb", "rust"], 1).await;
    create(&ctx, ada, &note("three"), &["a\\b", "rust"], 2).await;
    ctx.store
        .create_tag(ada, Uuid::now_v7(), "1000", at(3))
        .await
        .expect("create_tag");
    create(&ctx, bob, &note("bob"), &["a_b", "rust"], 4).await;

    assert_eq!(
        tag_counts(&ctx, ada).await,
        counts(&[
            ("100%", 1),
            ("1000", 0),
            ("a\\b", 1),
            ("a_b", 1),
            ("axb", 1),
            ("rust", 3)
        ]),
        "by name, with counts of Ada's resources only"
    );

    let search = |text: &str| {
        let store = Arc::clone(&ctx.store);
        let text = text.to_string();
        async move {
            let (count, tags) = store
                .list_tags(ada, Some(text.clone()), page(1, 100))
                .await
                .expect("list_tags");
            assert_eq!(count, tags.len() as u64, "count of search {text:?}");
            tags.into_iter().map(|t| t.name).collect::<Vec<_>>()
        }
    };
    assert_eq!(search("%").await, vec!["100%"], "% is literal");
    assert_eq!(search("_").await, vec!["a_b"], "_ is literal");
    assert_eq!(search("a_").await, vec!["a_b"]);
    assert_eq!(search("\\").await, vec!["a\\b"], "backslash is literal");
    assert_eq!(search("100").await, vec!["100%", "1000"], "substring");
    assert_eq!(search("b").await, vec!["a\\b", "a_b", "axb"]);
    assert_eq!(search("us").await, vec!["rust"]);
    assert!(search("go").await.is_empty());

    // Pages of tags.
    let mut names = Vec::new();
    for number in 1..=4 {
        let (count, tags) = ctx
            .store
            .list_tags(ada, None, page(number, 2))
            .await
            .expect("list_tags");
        assert_eq!(count, 6, "page {number} still counts every tag");
        assert_eq!(tags.len(), if number <= 3 { 2 } else { 0 });
        names.extend(tags.into_iter().map(|t| t.name));
    }
    assert_eq!(names, vec!["100%", "1000", "a\\b", "a_b", "axb", "rust"]);
    let (count, tags) = ctx
        .store
        .list_tags(ada, Some("b".into()), page(2, 2))
        .await
        .expect("list_tags");
    assert_eq!(count, 3);
    assert_eq!(
        tags.into_iter().map(|t| t.name).collect::<Vec<_>>(),
        vec!["axb"]
    );
}

pub(crate) async fn create_tag_clash_is_a_conflict_on_name(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let bob = user(&ctx, "bob").await;
    let id = Uuid::now_v7();
    let tag = ctx
        .store
        .create_tag(ada, id, "rust", at(0))
        .await
        .expect("create_tag");
    assert_eq!(
        tag,
        Tag {
            id,
            name: "rust".into(),
            resource_count: 0,
            created_at: at(0)
        }
    );
    assert_eq!(
        ctx.store.get_tag(ada, id).await.expect("get_tag").as_ref(),
        Some(&tag)
    );

    let again = ctx
        .store
        .create_tag(ada, Uuid::now_v7(), "rust", at(1))
        .await;
    assert_eq!(conflict_fields(again), vec!["name"]);

    // A tag created on the fly by a resource clashes too, and the count is live.
    create(&ctx, ada, &note("n"), &["databases", "rust"], 2).await;
    let again = ctx
        .store
        .create_tag(ada, Uuid::now_v7(), "databases", at(3))
        .await;
    assert_eq!(conflict_fields(again), vec!["name"]);
    assert_eq!(
        ctx.store
            .get_tag(ada, id)
            .await
            .expect("get_tag")
            .map(|t| t.resource_count),
        Some(1)
    );
    assert_eq!(
        tag_counts(&ctx, ada).await,
        counts(&[("databases", 1), ("rust", 1)]),
        "the refused creations left nothing"
    );

    // Names are per owner.
    let bobs = ctx
        .store
        .create_tag(bob, Uuid::now_v7(), "rust", at(4))
        .await
        .expect("Bob has no rust tag yet");
    assert_ne!(bobs.id, id);
}

pub(crate) async fn rename_tag_clash_is_a_conflict_and_resources_follow_the_new_name(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let bob = user(&ctx, "bob").await;
    let first = create(&ctx, ada, &note("first"), &["alpha", "beta", "gamma"], 0).await;
    let second = create(&ctx, ada, &note("second"), &["alpha"], 1).await;
    let untouched = create(&ctx, ada, &note("third"), &["beta"], 2).await;
    create(&ctx, bob, &note("bob's"), &["omega"], 3).await;
    let alpha = tag_named(&ctx, ada, "alpha").await;

    // Clashing with an existing name of the owner: refused, nothing changes.
    let clash = ctx.store.rename_tag(ada, alpha.id, "beta").await;
    assert_eq!(conflict_fields(clash), vec!["name"]);
    assert_eq!(fetch(&ctx, ada, first.id).await, first);
    assert_eq!(
        tag_counts(&ctx, ada).await,
        counts(&[("alpha", 2), ("beta", 2), ("gamma", 1)])
    );

    // Renaming to its own name is a no-op.
    let same = ctx
        .store
        .rename_tag(ada, alpha.id, "alpha")
        .await
        .expect("rename_tag")
        .expect("tag exists");
    assert_eq!(same, alpha);

    // Another owner's name is free; then "alpha" becomes "zeta", the end of the sorted list.
    let renamed = ctx
        .store
        .rename_tag(ada, alpha.id, "omega")
        .await
        .expect("rename_tag")
        .expect("tag exists");
    assert_eq!(
        renamed,
        Tag {
            name: "omega".into(),
            ..alpha.clone()
        }
    );
    let renamed = ctx
        .store
        .rename_tag(ada, alpha.id, "zeta")
        .await
        .expect("rename_tag")
        .expect("tag exists");
    assert_eq!(renamed.name, "zeta");
    assert_eq!(renamed.resource_count, 2);
    assert_eq!(
        ctx.store
            .get_tag(ada, alpha.id)
            .await
            .expect("get_tag")
            .as_ref(),
        Some(&renamed)
    );
    assert_eq!(
        fetch(&ctx, ada, first.id).await.tags(),
        vec!["beta", "gamma", "zeta"],
        "tag names follow, sorted"
    );
    assert_eq!(fetch(&ctx, ada, second.id).await.tags(), vec!["zeta"]);
    assert_eq!(fetch(&ctx, ada, untouched.id).await, untouched);
    assert_eq!(
        id_set(&ctx, ada, &searching("zeta")).await,
        sorted(&[&first, &second]),
        "search finds the new name"
    );
    assert!(ids(&ctx, ada, &searching("alpha")).await.is_empty());
    assert!(ids(&ctx, ada, &searching("omega")).await.is_empty());
    assert_eq!(
        id_set(&ctx, ada, &tagged(&["zeta"])).await,
        sorted(&[&first, &second])
    );
    assert!(ids(&ctx, ada, &tagged(&["alpha"])).await.is_empty());
    assert_eq!(
        tag_counts(&ctx, bob).await,
        counts(&[("omega", 1)]),
        "Bob's tags are not touched"
    );
    assert!(ctx
        .store
        .rename_tag(ada, Uuid::now_v7(), "nothing")
        .await
        .expect("rename_tag")
        .is_none());
}

pub(crate) async fn delete_tag_detaches_it_from_resources(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let both = create(&ctx, ada, &note("both"), &["drop", "keep"], 0).await;
    let only = create(&ctx, ada, &note("only"), &["drop"], 1).await;
    let other = create(&ctx, ada, &note("other"), &["keep"], 2).await;
    assert_eq!(both.tags(), vec!["drop", "keep"]);
    let dropped = tag_named(&ctx, ada, "drop").await;

    assert!(ctx
        .store
        .delete_tag(ada, dropped.id)
        .await
        .expect("delete_tag"));
    assert!(ctx
        .store
        .get_tag(ada, dropped.id)
        .await
        .expect("get_tag")
        .is_none());
    assert!(!ctx
        .store
        .delete_tag(ada, dropped.id)
        .await
        .expect("delete again"));

    let both_now = fetch(&ctx, ada, both.id).await;
    assert_eq!(both_now.tags(), vec!["keep"]);
    assert_eq!(both_now.updated_at, both.updated_at);
    let only_now = fetch(&ctx, ada, only.id).await;
    assert!(only_now.tags().is_empty());
    assert_eq!(only_now.tag_names, "");
    assert_eq!(fetch(&ctx, ada, other.id).await, other);
    assert_eq!(tag_counts(&ctx, ada).await, counts(&[("keep", 2)]));
    assert!(ids(&ctx, ada, &searching("drop")).await.is_empty());
    assert!(ids(&ctx, ada, &tagged(&["drop"])).await.is_empty());
    assert_eq!(
        id_set(&ctx, ada, &tagged(&["keep"])).await,
        sorted(&[&both, &other])
    );
    assert_eq!(
        count_where(
            &ctx.db,
            "SELECT count(*) FROM resource_tags WHERE tag_id = $1",
            dropped.id
        )
        .await,
        0
    );

    // The name is free again.
    ctx.store
        .create_tag(ada, Uuid::now_v7(), "drop", at(5))
        .await
        .expect("the name is free");
}
