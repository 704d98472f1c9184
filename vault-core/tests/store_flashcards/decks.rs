//! Decks: listing, search, patch, ownership, cascades.

use super::*;

pub(crate) async fn decks_are_listed_by_name_searched_literally_and_scoped_to_their_owner(
    ctx: Ctx,
) {
    let ada = user(&ctx, "ada").await;
    let bob = user(&ctx, "bob").await;
    for name in ["Spanish", "german 100%", "Anatomy", "span_ish"] {
        deck(&ctx, ada, name).await;
    }
    deck(&ctx, bob, "Spanish too").await;
    let (total, decks) = ctx
        .store
        .list_decks(ada, None, page(1, 10), at(0))
        .await
        .expect("the store answers");
    let names: Vec<&str> = decks.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(total, 4);
    assert_eq!(names, ["Anatomy", "Spanish", "german 100%", "span_ish"]);
    let search = |text: &str| {
        let store = ctx.store.clone();
        let text = text.to_string();
        async move {
            let (total, decks) = store
                .list_decks(ada, Some(text), page(1, 10), at(0))
                .await
                .expect("the store answers");
            assert_eq!(total, decks.len() as u64);
            decks.into_iter().map(|d| d.name).collect::<Vec<_>>()
        }
    };
    assert_eq!(search("SPAN").await, ["Spanish", "span_ish"]);
    assert_eq!(search("%").await, ["german 100%"], "taken literally");
    assert_eq!(search("n_i").await, ["span_ish"], "taken literally");
    let (total, second) = ctx
        .store
        .list_decks(ada, None, page(2, 3), at(0))
        .await
        .expect("the store answers");
    assert_eq!((total, second.len()), (4, 1));
}

pub(crate) async fn deck_patch_changes_only_the_given_fields(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let id = deck(&ctx, ada, "Old").await;
    let changes = DeckChanges {
        name: None,
        description: Some("about it".into()),
    };
    let patched = ctx
        .store
        .patch_deck(ada, id, &changes, at(60))
        .await
        .expect("the store answers")
        .expect("found");
    assert_eq!(
        (patched.name.as_str(), patched.description.as_str()),
        ("Old", "about it")
    );
    assert_eq!((patched.created_at, patched.updated_at), (at(0), at(60)));
    let renamed = DeckChanges {
        name: Some("New".into()),
        description: None,
    };
    let patched = ctx
        .store
        .patch_deck(ada, id, &renamed, at(90))
        .await
        .expect("the store answers")
        .expect("found");
    assert_eq!(
        (patched.name.as_str(), patched.description.as_str()),
        ("New", "about it")
    );
}

pub(crate) async fn every_call_is_scoped_to_the_owner(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let eve = user(&ctx, "eve").await;
    let own = deck(&ctx, ada, "Ada's").await;
    let eves = deck(&ctx, eve, "Eve's").await;
    let c = card(&ctx, ada, own, "q", 0).await;
    let store = &ctx.store;
    assert!(store
        .get_deck(eve, own, at(0))
        .await
        .expect("the store answers")
        .is_none());
    assert!(store
        .patch_deck(eve, own, &DeckChanges::default(), at(0))
        .await
        .expect("the store answers")
        .is_none());
    assert!(store
        .get_card(eve, c.id)
        .await
        .expect("the store answers")
        .is_none());
    let changes = CardChanges {
        front: Some("stolen".into()),
        ..CardChanges::default()
    };
    assert!(store
        .patch_card(eve, c.id, &changes, at(0))
        .await
        .expect("the store answers")
        .is_none());
    assert!(store
        .create_card(eve, own, Uuid::now_v7(), "x", "", at(0))
        .await
        .expect("the store answers")
        .is_none());
    assert!(store
        .create_card(ada, eves, Uuid::now_v7(), "x", "", at(0))
        .await
        .expect("the store answers")
        .is_none());
    let (total, rows) = store
        .list_cards(eve, own, CardFilter::default(), page(1, 10))
        .await
        .expect("the store answers");
    assert_eq!((total, rows.len()), (0, 0));
    let today = at(0).date_naive();
    assert!(store
        .study(eve, Some(own), at(0), today, 20, 20)
        .await
        .expect("the store answers")
        .is_none());
    assert!(store
        .stats(eve, Some(own), today, at(DAY))
        .await
        .expect("the store answers")
        .is_none());
    let stale = ReviewWriteFor::new(&c).write(Rating::Good, at(10));
    assert_eq!(
        store
            .record_review(eve, &stale)
            .await
            .expect("the store answers"),
        ReviewApplied::Stale
    );
    assert!(!store
        .delete_card(eve, c.id)
        .await
        .expect("the store answers"));
    assert!(!store
        .delete_deck(eve, own)
        .await
        .expect("the store answers"));
    // Nothing of Ada's moved.
    assert_eq!(
        store
            .get_card(ada, c.id)
            .await
            .expect("the store answers")
            .expect("found"),
        c
    );
    assert_eq!(
        store
            .get_deck(ada, own, at(0))
            .await
            .expect("the store answers")
            .expect("found")
            .cards
            .new,
        1
    );
}

pub(crate) async fn deleting_a_deck_removes_its_cards_reviews_and_rollups(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let gone = deck(&ctx, ada, "Gone").await;
    let kept = deck(&ctx, ada, "Kept").await;
    let clock = Arc::new(ManualClock::new(at(0)));
    let service = service(&ctx, clock.clone());
    let doomed = card(&ctx, ada, gone, "q1", 0).await;
    let survivor = card(&ctx, ada, kept, "q2", 0).await;
    review(&service, ada, doomed.id, Rating::Good).await;
    review(&service, ada, survivor.id, Rating::Good).await;
    assert!(ctx
        .store
        .delete_deck(ada, gone)
        .await
        .expect("the store answers"));
    let sql = |table: &str| format!("SELECT count(*) FROM {table} WHERE deck_id = $1");
    for table in ["cards", "reviews", "review_days"] {
        assert_eq!(count_where(&ctx.db, &sql(table), gone).await, 0, "{table}");
        assert_eq!(count_where(&ctx.db, &sql(table), kept).await, 1, "{table}");
    }
    assert!(ctx
        .store
        .get_card(ada, doomed.id)
        .await
        .expect("the store answers")
        .is_none());
    assert!(
        !ctx.store
            .delete_deck(ada, gone)
            .await
            .expect("the store answers"),
        "already gone"
    );
}

pub(crate) async fn deleting_the_user_removes_every_flashcard_row(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let bob = user(&ctx, "bob").await;
    let clock = Arc::new(ManualClock::new(at(0)));
    let service = service(&ctx, clock);
    for owner in [ada, bob] {
        let d = deck(&ctx, owner, "D").await;
        let c = card(&ctx, owner, d, "q", 0).await;
        review(&service, owner, c.id, Rating::Again).await;
    }
    exec(&ctx.db, "DELETE FROM users WHERE id = $1", ada)
        .await
        .expect("the store answers");
    for table in ["decks", "cards", "reviews", "review_days"] {
        let sql = format!("SELECT count(*) FROM {table} WHERE owner_id = $1");
        assert_eq!(count_where(&ctx.db, &sql, ada).await, 0, "{table}");
        assert_eq!(count_where(&ctx.db, &sql, bob).await, 1, "{table}");
    }
}

pub(crate) async fn every_call_for_a_deleted_owner_is_refused_as_its_token(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let d = deck(&ctx, ada, "D").await;
    let c = card(&ctx, ada, d, "q", 0).await;
    let write = ReviewWriteFor::new(&c).write(Rating::Good, at(10));
    exec(&ctx.db, "DELETE FROM users WHERE id = $1", ada)
        .await
        .expect("the user is deleted");
    let gone = |result: vault_core::Result<()>, call: &str| {
        assert!(
            matches!(result, Err(vault_core::Error::InvalidAccessToken(_))),
            "{call}: {result:?}"
        );
    };
    let store = &ctx.store;
    gone(
        store
            .create_deck(ada, Uuid::now_v7(), &fields("X"), at(0))
            .await
            .map(drop),
        "create_deck",
    );
    gone(store.get_deck(ada, d, at(0)).await.map(drop), "get_deck");
    gone(
        store
            .create_card(ada, d, Uuid::now_v7(), "q", "", at(0))
            .await
            .map(drop),
        "create_card",
    );
    gone(store.get_card(ada, c.id).await.map(drop), "get_card");
    gone(store.delete_card(ada, c.id).await.map(drop), "delete_card");
    gone(
        store.record_review(ada, &write).await.map(drop),
        "record_review",
    );
}
