//! Listings: filters, ordering and the total count.

use super::*;

// --- list: filters and search -----------------------------------------------------------------

pub(crate) async fn list_filters_by_kind_favorite_and_tags(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let bob = user(&ctx, "bob").await;
    let n1 = create(&ctx, ada, &note("n1"), &["db", "rust"], 0).await;
    let n2 = create(&ctx, ada, &favorite(note("n2")), &["rust"], 1).await;
    let l1 = create(
        &ctx,
        ada,
        &favorite(link("l1", "https://example.com")),
        &["db", "rust", "web"],
        2,
    )
    .await;
    let f1 = create(&ctx, ada, &of_kind(ResourceKind::File, "f1"), &["db"], 3).await;
    let r1 = create(&ctx, ada, &of_kind(ResourceKind::Reference, "r1"), &[], 4).await;
    // Bob's rows match every filter below and must never show up for Ada.
    create(&ctx, bob, &favorite(note("b1")), &["db", "rust", "web"], 5).await;
    create(&ctx, bob, &link("b2", "https://example.com"), &["db"], 6).await;

    let all = ids(&ctx, ada, &everything()).await;
    assert_eq!(
        all,
        vec![r1.id, f1.id, l1.id, n2.id, n1.id],
        "newest first by default"
    );

    let by_kind = |kind| ResourceFilter {
        kind: Some(kind),
        ..everything()
    };
    assert_eq!(
        id_set(&ctx, ada, &by_kind(ResourceKind::Note)).await,
        sorted(&[&n1, &n2])
    );
    assert_eq!(
        ids(&ctx, ada, &by_kind(ResourceKind::Link)).await,
        vec![l1.id]
    );
    assert_eq!(
        ids(&ctx, ada, &by_kind(ResourceKind::File)).await,
        vec![f1.id]
    );
    assert_eq!(
        ids(&ctx, ada, &by_kind(ResourceKind::Reference)).await,
        vec![r1.id]
    );

    let by_favorite = |favorite| ResourceFilter {
        favorite: Some(favorite),
        ..everything()
    };
    assert_eq!(
        id_set(&ctx, ada, &by_favorite(true)).await,
        sorted(&[&n2, &l1])
    );
    assert_eq!(
        id_set(&ctx, ada, &by_favorite(false)).await,
        sorted(&[&n1, &f1, &r1])
    );

    // Tags: every one given must be carried.
    assert_eq!(
        id_set(&ctx, ada, &tagged(&["rust"])).await,
        sorted(&[&n1, &n2, &l1])
    );
    assert_eq!(
        id_set(&ctx, ada, &tagged(&["db"])).await,
        sorted(&[&n1, &l1, &f1])
    );
    assert_eq!(
        id_set(&ctx, ada, &tagged(&["db", "rust"])).await,
        sorted(&[&n1, &l1])
    );
    assert_eq!(
        ids(&ctx, ada, &tagged(&["db", "rust", "web"])).await,
        vec![l1.id]
    );
    assert!(
        ids(&ctx, ada, &tagged(&["rust", "nosuchtag"]))
            .await
            .is_empty(),
        "an unknown tag matches nothing, even next to a known one"
    );
    assert!(ids(&ctx, ada, &tagged(&["nosuchtag"])).await.is_empty());

    // Combined.
    let combined = ResourceFilter {
        kind: Some(ResourceKind::Note),
        favorite: Some(false),
        tags: tags(&["rust"]),
        ..everything()
    };
    assert_eq!(ids(&ctx, ada, &combined).await, vec![n1.id]);
    let favorite_db = ResourceFilter {
        favorite: Some(true),
        tags: tags(&["db"]),
        ..everything()
    };
    assert_eq!(ids(&ctx, ada, &favorite_db).await, vec![l1.id]);

    // Bob sees only his own.
    assert_eq!(list(&ctx, bob, &everything()).await.0, 2);
    assert_eq!(list(&ctx, bob, &tagged(&["db", "rust", "web"])).await.0, 1);
}

// --- list: order and pages --------------------------------------------------------------------

pub(crate) async fn ordering_by_each_field_both_ways_with_a_stable_tie_break(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    // Created at 0, 10, 10, 10, 20, 30; titles with a duplicate; updated in another order.
    let plan: [(&str, i64); 6] = [
        ("delta", 0),
        ("bravo", 10),
        ("alpha", 10),
        ("bravo", 10),
        ("charlie", 20),
        ("echo", 30),
    ];
    let mut created = Vec::new();
    for (title, seconds) in plan {
        created.push(create(&ctx, ada, &note(title), &[], seconds).await);
    }
    // Touch some rows so that updated_at differs from created_at, with a tie.
    for (index, seconds) in [(0, 100), (4, 100), (2, 90)] {
        let id = created[index].id;
        ctx.store
            .patch_resource(ada, id, &ResourceChanges::default(), at(seconds))
            .await
            .expect("patch_resource")
            .expect("resource exists");
    }
    let mut records = Vec::new();
    for r in &created {
        records.push(fetch(&ctx, ada, r.id).await);
    }

    for field in [
        OrderField::CreatedAt,
        OrderField::UpdatedAt,
        OrderField::Title,
    ] {
        for descending in [false, true] {
            let mut expected = records.clone();
            expected.sort_by(|a, b| {
                let key = match field {
                    OrderField::CreatedAt => a.created_at.cmp(&b.created_at),
                    OrderField::UpdatedAt => a.updated_at.cmp(&b.updated_at),
                    OrderField::Title => a.title.cmp(&b.title),
                };
                key.then(a.id.cmp(&b.id))
            });
            if descending {
                expected.reverse();
            }
            let expected: Vec<Uuid> = expected.iter().map(|r| r.id).collect();
            let filter = ResourceFilter {
                ordering: Some((field, descending)),
                ..everything()
            };
            assert_eq!(
                ids(&ctx, ada, &filter).await,
                expected,
                "ordering {field:?} descending={descending}"
            );
            // Stable: asking again, or page by page, gives the same sequence.
            let mut paged = Vec::new();
            for number in 1..=3 {
                let (_, rows) = ctx
                    .store
                    .list_resources(ada, &filter, page(number, 2))
                    .await
                    .expect("list_resources");
                paged.extend(rows.iter().map(|r| r.id));
            }
            assert_eq!(
                paged, expected,
                "pages of {field:?} descending={descending}"
            );
        }
    }

    // The default is newest first.
    let default_order = ids(&ctx, ada, &everything()).await;
    let explicit = ResourceFilter {
        ordering: Some((OrderField::CreatedAt, true)),
        ..everything()
    };
    assert_eq!(default_order, ids(&ctx, ada, &explicit).await);
}

/// The unfiltered total comes from a maintained per-owner count: it must follow every create
/// and delete, ignore refused writes, stay per owner, and agree with a filtered count.
pub(crate) async fn unfiltered_count_follows_creates_deletes_and_failed_writes(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let bob = user(&ctx, "bob").await;
    assert_eq!(list(&ctx, ada, &everything()).await.0, 0, "no row yet");
    let mut made = Vec::new();
    for i in 0..5 {
        made.push(create(&ctx, ada, &note(&format!("n{i}")), &[], i).await);
    }
    create(&ctx, bob, &note("bob's"), &[], 9).await;
    let refused = ResourceFields {
        kind: ResourceKind::Link,
        ..note("link without url")
    };
    assert!(ctx
        .store
        .create_resource(ada, Uuid::now_v7(), &refused, &[], at(10))
        .await
        .is_err());
    assert!(ctx
        .store
        .delete_resource(ada, made[0].id)
        .await
        .expect("delete"));
    assert!(!ctx
        .store
        .delete_resource(bob, made[1].id)
        .await
        .expect("delete"));
    assert_eq!(list(&ctx, ada, &everything()).await.0, 4);
    assert_eq!(list(&ctx, bob, &everything()).await.0, 1);
    let notes = ResourceFilter {
        kind: Some(ResourceKind::Note),
        ..everything()
    };
    assert_eq!(
        list(&ctx, ada, &notes).await.0,
        4,
        "the counted path agrees"
    );
}

pub(crate) async fn count_is_independent_of_page_slicing(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let nobody = user(&ctx, "nobody").await;
    for i in 0..25 {
        let fields = if i % 5 == 0 {
            favorite(note(&format!("r{i:02}")))
        } else {
            note(&format!("r{i:02}"))
        };
        create(&ctx, ada, &fields, &[], i).await;
    }
    let (total, everything_at_once) = list(&ctx, ada, &everything()).await;
    assert_eq!(total, 25);
    let everything_at_once: Vec<Uuid> = everything_at_once.iter().map(|r| r.id).collect();

    let mut stitched = Vec::new();
    for (number, expected_len) in [(1, 10), (2, 10), (3, 5), (4, 0), (99, 0)] {
        let (count, rows) = ctx
            .store
            .list_resources(ada, &everything(), page(number, 10))
            .await
            .expect("list_resources");
        assert_eq!(count, 25, "page {number} still counts every row");
        assert_eq!(rows.len(), expected_len, "rows on page {number}");
        stitched.extend(rows.iter().map(|r| r.id));
    }
    assert_eq!(stitched, everything_at_once, "pages partition the list");

    let (count, rows) = ctx
        .store
        .list_resources(ada, &everything(), page(3, 7))
        .await
        .expect("list_resources");
    assert_eq!(count, 25);
    assert_eq!(
        rows.iter().map(|r| r.id).collect::<Vec<_>>(),
        everything_at_once[14..21].to_vec(),
        "offset (page - 1) * page_size, limit page_size"
    );

    let favorites = ResourceFilter {
        favorite: Some(true),
        ..everything()
    };
    let (count, rows) = ctx
        .store
        .list_resources(ada, &favorites, page(2, 2))
        .await
        .expect("list_resources");
    assert_eq!(count, 5, "the count is of the filtered rows");
    assert_eq!(rows.len(), 2);
    let (count, rows) = ctx
        .store
        .list_resources(ada, &favorites, page(3, 2))
        .await
        .expect("list_resources");
    assert_eq!((count, rows.len()), (5, 1));

    let (count, rows) = ctx
        .store
        .list_resources(nobody, &everything(), page(1, 20))
        .await
        .expect("list_resources");
    assert_eq!((count, rows.len()), (0, 0), "an empty list");
}
