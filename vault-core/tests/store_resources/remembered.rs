//! What a caching layer remembers must answer what a fresh read would, after every kind of
//! write made through another store (as another server instance would).

use super::*;
use vault_core::resources::CachingResourceStore;

/// Searches are remembered per owner (`CachingResourceStore`) and checked against the owner's data
/// version: after every kind of write — made through another store over the same database, as
/// another server instance would — the remembered store answers exactly what a store that never
/// saw the search answers, page by page.
pub(crate) async fn remembered_searches_follow_every_write_of_any_store(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let bob = user(&ctx, "bob").await;
    let mut comets = Vec::new();
    for i in 0..25 {
        let body = "comet ".repeat(1 + i % 4);
        let tag_names: &[&str] = if i == 0 { &["nebula"] } else { &[] };
        comets.push(
            create(
                &ctx,
                ada,
                &with_body(note(&format!("Sky {i}")), &body),
                tag_names,
                i as i64,
            )
            .await,
        );
    }
    create(&ctx, bob, &note("comet of bob"), &[], 100).await;
    // Another instance's store (its own memory), and one that remembers nothing: the truth.
    let other = ctx.another_store();
    let pages = [
        page(1, 10),
        page(2, 10),
        page(3, 10),
        page(4, 10),
        page(2, 7),
    ];
    let check = |what: &'static str, owner: Uuid, filter: ResourceFilter| {
        let remembering = ctx.store.clone();
        let truth_store = ctx.truth();
        async move {
            for request in pages {
                let truth = truth_store
                    .list_resources(owner, &filter, request)
                    .await
                    .expect("list_resources");
                // Twice: the first may rank afresh, the second is answered from memory.
                for round in 0..2 {
                    let seen = remembering
                        .list_resources(owner, &filter, request)
                        .await
                        .expect("list_resources");
                    assert_eq!(
                        seen.0, truth.0,
                        "{what}: count of {request:?}, round {round}"
                    );
                    let ids =
                        |rows: &[ResourceRecord]| rows.iter().map(|r| r.id).collect::<Vec<_>>();
                    assert_eq!(
                        ids(&seen.1),
                        ids(&truth.1),
                        "{what}: rows of {request:?}, round {round}"
                    );
                    assert_eq!(
                        seen.1, truth.1,
                        "{what}: contents of {request:?}, round {round}"
                    );
                }
            }
        }
    };
    check("seeded", ada, searching("comet")).await;
    check("bob's own", bob, searching("comet")).await;
    check(
        "favorites",
        ada,
        ResourceFilter {
            favorite: Some(true),
            ..searching("comet")
        },
    )
    .await;
    check(
        "by title",
        ada,
        ResourceFilter {
            ordering: Some((OrderField::Title, false)),
            ..searching("comet")
        },
    )
    .await;
    check("tag", ada, searching("nebula")).await;

    // A new hit.
    let late = other
        .create_resource(ada, Uuid::now_v7(), &note("comet late"), &[], at(200))
        .await
        .expect("create_resource");
    check("after a create", ada, searching("comet")).await;
    // An edit that changes the ranking (more occurrences) and one that removes a hit.
    let edit = |id: Uuid, changes: ResourceChanges, seconds: i64| {
        let other = other.clone();
        async move {
            other
                .patch_resource(ada, id, &changes, at(seconds))
                .await
                .expect("patch_resource")
                .expect("resource exists")
        }
    };
    edit(
        comets[3].id,
        ResourceChanges {
            body: Some("comet ".repeat(30)),
            ..ResourceChanges::default()
        },
        201,
    )
    .await;
    check("after a re-ranking edit", ada, searching("comet")).await;
    edit(
        comets[4].id,
        ResourceChanges {
            body: Some("asteroid".into()),
            ..ResourceChanges::default()
        },
        202,
    )
    .await;
    check("after an edit removing a hit", ada, searching("comet")).await;
    // Favorite flag only: the favorite filter's hits change.
    edit(
        comets[5].id,
        ResourceChanges {
            favorite: Some(true),
            ..ResourceChanges::default()
        },
        203,
    )
    .await;
    check(
        "after starring",
        ada,
        ResourceFilter {
            favorite: Some(true),
            ..searching("comet")
        },
    )
    .await;
    // Replacing a resource.
    other
        .replace_resource(ada, comets[6].id, &note("Aardvark comet"), &[], at(204))
        .await
        .expect("replace_resource")
        .expect("resource exists");
    check(
        "after a replace",
        ada,
        ResourceFilter {
            ordering: Some((OrderField::Title, false)),
            ..searching("comet")
        },
    )
    .await;
    // Tags: renaming and deleting one changes what its old and new names find.
    let nebula = all_tags(&ctx, ada)
        .await
        .into_iter()
        .find(|t| t.name == "nebula")
        .expect("tag exists");
    other
        .rename_tag(ada, nebula.id, "quasar")
        .await
        .expect("rename_tag")
        .expect("tag exists");
    check("old tag name after a rename", ada, searching("nebula")).await;
    check("new tag name after a rename", ada, searching("quasar")).await;
    assert!(other.delete_tag(ada, nebula.id).await.expect("delete_tag"));
    check("after a tag deletion", ada, searching("quasar")).await;
    // Deleting hits, the late one included.
    for id in [late.id, comets[0].id, comets[10].id] {
        assert!(other
            .delete_resource(ada, id)
            .await
            .expect("delete_resource"));
    }
    check("after deletions", ada, searching("comet")).await;
    // Bob's writes leave Ada's remembered search valid, and Ada's never leak into Bob's.
    other
        .create_resource(bob, Uuid::now_v7(), &note("comet two"), &[], at(300))
        .await
        .expect("create_resource");
    check("bob after his create", bob, searching("comet")).await;
    check("ada after bob's create", ada, searching("comet")).await;
    // Everything deleted: nothing found, however many pages were remembered.
    for record in list(&ctx, ada, &everything()).await.1 {
        assert!(other
            .delete_resource(ada, record.id)
            .await
            .expect("delete_resource"));
    }
    check("after deleting everything", ada, searching("comet")).await;
}

/// Pages of a plain listing are remembered whole, and deep ones also by marks
/// (`CachingResourceStore`) once reached: the same page again and the page after it. After every
/// kind of write — made
/// through another store, as another server instance would — the remembering store answers
/// exactly what a store that never listed answers, for every ordering.
pub(crate) async fn deep_pages_seek_from_remembered_marks_and_follow_every_write(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let bob = user(&ctx, "bob").await;
    let mut rows = Vec::new();
    for i in 0..250_i64 {
        // Titles repeat (ties broken by id), creation times are distinct.
        let title = format!("Title {:02}", i % 37);
        rows.push(create(&ctx, ada, &note(&title), &[], i).await);
    }
    create(&ctx, bob, &note("Bob's"), &[], 0).await;
    let other = ctx.another_store();
    let orderings = [
        None,
        Some((OrderField::CreatedAt, false)),
        Some((OrderField::UpdatedAt, true)),
        Some((OrderField::Title, false)),
        Some((OrderField::Title, true)),
    ];
    // Shallow pages (remembered whole) and pages of 20 from offset 200 (the first deep one)
    // to past the end; 7 and 30 cut differently.
    let pages = [
        page(1, 20),
        page(1, 20),
        page(2, 20),
        page(1, 7),
        page(11, 20),
        page(11, 20),
        page(12, 20),
        page(13, 20),
        page(14, 20),
        page(29, 7),
        page(30, 7),
        page(36, 7),
        page(37, 7),
        page(8, 30),
        page(9, 30),
    ];
    let check = |what: &'static str| {
        let remembering = ctx.store.clone();
        let truth_store = ctx.truth();
        async move {
            for ordering in orderings {
                let filter = ResourceFilter {
                    ordering,
                    ..everything()
                };
                for request in pages {
                    let truth = truth_store
                        .list_resources(ada, &filter, request)
                        .await
                        .expect("list_resources");
                    let seen = remembering
                        .list_resources(ada, &filter, request)
                        .await
                        .expect("list_resources");
                    assert_eq!(
                        seen.0, truth.0,
                        "{what}: count of {request:?} by {ordering:?}"
                    );
                    assert_eq!(
                        seen.1.iter().map(|r| r.id).collect::<Vec<_>>(),
                        truth.1.iter().map(|r| r.id).collect::<Vec<_>>(),
                        "{what}: rows of {request:?} by {ordering:?}"
                    );
                    assert_eq!(
                        seen.1, truth.1,
                        "{what}: contents of {request:?} by {ordering:?}"
                    );
                }
            }
        }
    };
    check("seeded").await;
    check("again, from marks").await;

    // Newer rows shift every page of the newest-first order.
    for i in 0..3 {
        other
            .create_resource(ada, Uuid::now_v7(), &note("Title 00"), &[], at(1_000 + i))
            .await
            .expect("create_resource");
    }
    check("after creates").await;
    // Renaming moves a row in the title order and touches `updated_at`.
    other
        .patch_resource(
            ada,
            rows[5].id,
            &ResourceChanges {
                title: Some("Aaa first".into()),
                ..ResourceChanges::default()
            },
            at(2_000),
        )
        .await
        .expect("patch_resource")
        .expect("resource exists");
    check("after a rename").await;
    // Deleting the very rows the marks point at.
    for id in [rows[40].id, rows[41].id, rows[9].id] {
        assert!(other
            .delete_resource(ada, id)
            .await
            .expect("delete_resource"));
    }
    check("after deletions").await;
    // Bob's writes do not disturb Ada's pages, and Ada's marks never answer Bob.
    other
        .create_resource(bob, Uuid::now_v7(), &note("Bob's late"), &[], at(3_000))
        .await
        .expect("create_resource");
    check("after another owner's write").await;
    let bobs = list(&ctx, bob, &everything()).await;
    assert_eq!(bobs.0, 2);
    assert!(ctx
        .store
        .list_resources(bob, &everything(), page(11, 20))
        .await
        .expect("list_resources")
        .1
        .is_empty());
}

/// One user with 30 resources of ~400 KB each (100 000 four-byte characters), read with every
/// `page_size` from 1 to 30 and searched the same way: however many pages that is (each page
/// size is a page of its own to remember), the layer's weighed memory never exceeds its bound,
/// and what it answers is still what a fresh read answers. The weight counts the bodies: one
/// remembered single-row page weighs more than its body.
pub(crate) async fn remembered_rows_stay_within_the_byte_bound(ctx: Ctx) {
    const BOUND: u64 = 8 * 1024 * 1024;
    const BODY_CHARS: usize = 100_000;
    let ada = user(&ctx, "ada").await;
    let body = "\u{1D11E}".repeat(BODY_CHARS);
    assert_eq!(body.len(), 4 * BODY_CHARS);
    for i in 0..30 {
        create(
            &ctx,
            ada,
            &with_body(note(&format!("needle {i}")), &body),
            &[],
            i,
        )
        .await;
    }
    let layer = CachingResourceStore::new(ctx.truth(), BOUND);
    assert_eq!(layer.max_bytes(), BOUND);
    let truth = ctx.truth();

    let first = layer
        .list_resources(ada, &everything(), page(1, 1))
        .await
        .expect("list_resources");
    assert_eq!((first.0, first.1.len()), (30, 1));
    let weighed = layer.weighed_bytes();
    assert!(
        weighed > body.len() as u64 && weighed <= BOUND,
        "one remembered row of {} bytes weighs {weighed}",
        body.len()
    );

    let searching_needle = searching("needle");
    for filter in [everything(), searching_needle] {
        for size in 1..=30_u64 {
            for number in [1, 2] {
                let request = page(number, size);
                let seen = layer
                    .list_resources(ada, &filter, request)
                    .await
                    .expect("list_resources");
                let expected = 30_u64.saturating_sub(request.offset()).min(size);
                assert_eq!(
                    (seen.0, seen.1.len() as u64),
                    (30, expected),
                    "{filter:?} {request:?}"
                );
                assert!(
                    layer.weighed_bytes() <= BOUND,
                    "{filter:?} {request:?}: {} weighed bytes over the bound {BOUND}",
                    layer.weighed_bytes()
                );
            }
        }
    }
    // Asked again, pages (remembered or not) are what a fresh read answers.
    for size in [1, 2, 7, 30] {
        let request = page(1, size);
        let seen = layer
            .list_resources(ada, &everything(), request)
            .await
            .expect("list_resources");
        let fresh = truth
            .list_resources(ada, &everything(), request)
            .await
            .expect("list_resources");
        assert_eq!(seen, fresh, "{request:?}");
    }
    assert!(layer.weighed_bytes() <= BOUND);
}
