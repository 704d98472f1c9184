//! Cards: counters kept true through every change, moves between decks.

use super::*;

pub(crate) async fn counters_equal_the_real_counts_after_creates_moves_deletes_and_reviews(
    ctx: Ctx,
) {
    let ada = user(&ctx, "ada").await;
    let a = deck(&ctx, ada, "A").await;
    let b = deck(&ctx, ada, "B").await;
    let clock = Arc::new(ManualClock::new(at(0)));
    let service = service(&ctx, clock.clone());
    let mut cards = Vec::new();
    for i in 0..6 {
        cards.push(card(&ctx, ada, a, &format!("q{i}"), i).await);
    }
    assert_counters_true(&ctx.db, &[a, b]).await;
    // Into learning, review and relearning.
    review(&service, ada, cards[0].id, Rating::Good).await;
    review(&service, ada, cards[1].id, Rating::Easy).await;
    review(&service, ada, cards[2].id, Rating::Easy).await;
    clock.advance(Duration::days(30));
    review(&service, ada, cards[2].id, Rating::Again).await;
    assert_counters_true(&ctx.db, &[a, b]).await;
    let counters = ctx
        .store
        .get_deck(ada, a, clock_now(&clock))
        .await
        .expect("the store answers")
        .expect("found");
    assert_eq!(
        (
            counters.cards.new,
            counters.cards.learning,
            counters.cards.review,
            counters.cards.relearning
        ),
        (3, 1, 1, 1)
    );
    // Moves carry the state's count; the reviews stay counted where they were made.
    for c in &cards[..4] {
        let changes = CardChanges {
            deck_id: Some(b),
            ..CardChanges::default()
        };
        let moved = ctx
            .store
            .patch_card(ada, c.id, &changes, at(5))
            .await
            .expect("the store answers")
            .expect("found");
        assert_eq!(moved.deck_id, b);
    }
    assert_counters_true(&ctx.db, &[a, b]).await;
    review(&service, ada, cards[0].id, Rating::Good).await;
    assert!(ctx
        .store
        .delete_card(ada, cards[1].id)
        .await
        .expect("the store answers"));
    assert!(ctx
        .store
        .delete_card(ada, cards[5].id)
        .await
        .expect("the store answers"));
    assert!(!ctx
        .store
        .delete_card(ada, cards[5].id)
        .await
        .expect("the store answers"));
    assert_counters_true(&ctx.db, &[a, b]).await;
    let b_now = ctx
        .store
        .get_deck(ada, b, clock_now(&clock))
        .await
        .expect("the store answers")
        .expect("found");
    assert_eq!(b_now.cards.total(), 3);
    // Only the one review made in B counts there; cards[1]'s review left with its card.
    assert_eq!(b_now.total_reviews, 1);
    // A patch of text only leaves the counters alone and keeps the deck.
    let text = CardChanges {
        front: Some("new front".into()),
        back: Some(String::new()),
        deck_id: None,
    };
    let patched = ctx
        .store
        .patch_card(ada, cards[4].id, &text, at(7))
        .await
        .expect("the store answers")
        .expect("found");
    assert_eq!(
        (
            patched.front.as_str(),
            patched.back.as_str(),
            patched.deck_id
        ),
        ("new front", "", a)
    );
    assert_eq!(patched.updated_at, at(7));
    assert_counters_true(&ctx.db, &[a, b]).await;
}

pub(crate) fn clock_now(clock: &ManualClock) -> Timestamp {
    vault_core::time::Clock::now(clock)
}

pub(crate) async fn a_move_to_another_owners_deck_changes_nothing(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let eve = user(&ctx, "eve").await;
    let own = deck(&ctx, ada, "Mine").await;
    let theirs = deck(&ctx, eve, "Theirs").await;
    let c = card(&ctx, ada, own, "q", 0).await;
    let changes = CardChanges {
        front: Some("changed".into()),
        back: None,
        deck_id: Some(theirs),
    };
    assert!(ctx
        .store
        .patch_card(ada, c.id, &changes, at(5))
        .await
        .expect("the store answers")
        .is_none());
    assert_eq!(
        ctx.store
            .get_card(ada, c.id)
            .await
            .expect("the store answers")
            .expect("found"),
        c,
        "nothing changed"
    );
    let missing = CardChanges {
        deck_id: Some(Uuid::now_v7()),
        ..CardChanges::default()
    };
    assert!(ctx
        .store
        .patch_card(ada, c.id, &missing, at(5))
        .await
        .expect("the store answers")
        .is_none());
    assert_counters_true(&ctx.db, &[own, theirs]).await;
}
