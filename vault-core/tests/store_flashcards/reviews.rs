//! Reviews: the transaction's rows, the compare-and-swap, append-only, the race.

use tokio::sync::Barrier;
use vault_core::flashcards::{ReviewRecord, ReviewWrite, Scheduler};

use super::*;

/// A review of a card as read, written the way the service writes one.
pub(crate) struct ReviewWriteFor<'a> {
    card: &'a CardRecord,
}

impl<'a> ReviewWriteFor<'a> {
    pub(crate) fn new(card: &'a CardRecord) -> Self {
        Self { card }
    }

    pub(crate) fn write(&self, rating: Rating, at: Timestamp) -> ReviewWrite {
        let scheduler = Scheduler::new(&FlashcardsConfig::default()).expect("valid settings");
        let outcome = scheduler
            .answer(&self.card.schedule, rating, at, 0)
            .expect("finite state");
        let before = self.card.schedule;
        ReviewWrite {
            card_id: self.card.id,
            before,
            after: outcome.schedule,
            review: ReviewRecord {
                id: Uuid::now_v7(),
                card_id: self.card.id,
                deck_id: self.card.deck_id,
                rating,
                state_before: before.state,
                reviewed_at: at,
                review_day: at.date_naive(),
                elapsed_days: outcome.elapsed_days,
                scheduled_days: outcome.scheduled_days,
                duration_ms: Some(1500),
                stability_before: before.stability,
                stability_after: outcome.schedule.stability.unwrap_or_default(),
                difficulty_before: before.difficulty,
                difficulty_after: outcome.schedule.difficulty.unwrap_or_default(),
            },
        }
    }
}

pub(crate) async fn a_review_is_recorded_with_its_rollup_and_history_newest_first(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let d = deck(&ctx, ada, "D").await;
    let c = card(&ctx, ada, d, "q", 0).await;
    let first = ReviewWriteFor::new(&c).write(Rating::Good, at(60));
    let ReviewApplied::Applied {
        card: after,
        review,
    } = ctx
        .store
        .record_review(ada, &first)
        .await
        .expect("the store answers")
    else {
        panic!("applied");
    };
    assert_eq!(after.schedule, first.after);
    assert_eq!(after.schedule.state, CardState::Learning);
    assert_eq!(review, first.review);
    assert_eq!(
        ctx.store
            .get_card(ada, c.id)
            .await
            .expect("the store answers")
            .expect("found"),
        after
    );
    let second = ReviewWriteFor::new(&after).write(Rating::Good, at(60 + 600));
    assert!(matches!(
        ctx.store
            .record_review(ada, &second)
            .await
            .expect("the store answers"),
        ReviewApplied::Applied { .. }
    ));
    let (total, history) = ctx
        .store
        .list_reviews(ada, c.id, page(1, 10))
        .await
        .expect("the store answers");
    assert_eq!(total, 2);
    assert_eq!(history[0], second.review, "newest first, stored as written");
    assert_eq!(history[1].state_before, CardState::New);
    let (_, tail) = ctx
        .store
        .list_reviews(ada, c.id, page(2, 1))
        .await
        .expect("the store answers");
    assert_eq!(tail.len(), 1);
    assert_eq!(tail[0], first.review);
    // One rollup row for the day: two answers, one of them the card's first.
    let day = "SELECT reviews FROM review_days WHERE deck_id = $1";
    assert_eq!(count_where(&ctx.db, day, d).await, 2);
    let new_cards = "SELECT new_cards FROM review_days WHERE deck_id = $1";
    assert_eq!(count_where(&ctx.db, new_cards, d).await, 1);
    assert_counters_true(&ctx.db, &[d]).await;
}

pub(crate) async fn a_stale_review_writes_nothing(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let d = deck(&ctx, ada, "D").await;
    let c = card(&ctx, ada, d, "q", 0).await;
    let winner = ReviewWriteFor::new(&c).write(Rating::Easy, at(10));
    let loser = ReviewWriteFor::new(&c).write(Rating::Again, at(11));
    assert!(matches!(
        ctx.store
            .record_review(ada, &winner)
            .await
            .expect("the store answers"),
        ReviewApplied::Applied { .. }
    ));
    assert_eq!(
        ctx.store
            .record_review(ada, &loser)
            .await
            .expect("the store answers"),
        ReviewApplied::Stale
    );
    let stored = ctx
        .store
        .get_card(ada, c.id)
        .await
        .expect("the store answers")
        .expect("found");
    assert_eq!(
        stored.schedule, winner.after,
        "the stale write changed nothing"
    );
    assert_eq!(
        count_where(
            &ctx.db,
            "SELECT count(*) FROM reviews WHERE card_id = $1",
            c.id
        )
        .await,
        1
    );
    assert_eq!(
        count_where(
            &ctx.db,
            "SELECT reviews FROM review_days WHERE deck_id = $1",
            d
        )
        .await,
        1
    );
    assert_counters_true(&ctx.db, &[d]).await;
    // A card that is gone is stale too.
    assert!(ctx
        .store
        .delete_card(ada, c.id)
        .await
        .expect("the store answers"));
    let after = ReviewWriteFor::new(&stored).write(Rating::Good, at(20));
    assert_eq!(
        ctx.store
            .record_review(ada, &after)
            .await
            .expect("the store answers"),
        ReviewApplied::Stale
    );
}

pub(crate) async fn reviews_are_append_only(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let d = deck(&ctx, ada, "D").await;
    let c = card(&ctx, ada, d, "q", 0).await;
    let write = ReviewWriteFor::new(&c).write(Rating::Hard, at(5));
    ctx.store
        .record_review(ada, &write)
        .await
        .expect("the store answers");
    let changed = exec(
        &ctx.db,
        "UPDATE reviews SET rating = 4 WHERE card_id = $1",
        c.id,
    )
    .await;
    assert!(
        changed.is_err(),
        "an UPDATE of the log is refused: {changed:?}"
    );
    let (_, history) = ctx
        .store
        .list_reviews(ada, c.id, page(1, 10))
        .await
        .expect("the store answers");
    assert_eq!(history[0].rating, Rating::Hard);
}

pub(crate) async fn two_simultaneous_reviews_of_one_card_are_both_applied_in_order(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let d = deck(&ctx, ada, "D").await;
    for round in 0..5 {
        let c = card(&ctx, ada, d, &format!("q{round}"), 0).await;
        let clock = Arc::new(ManualClock::new(at(100)));
        let service = Arc::new(service(&ctx, clock));
        let barrier = Arc::new(Barrier::new(2));
        let mut tasks = tokio::task::JoinSet::new();
        for r in [Rating::Good, Rating::Easy] {
            let (service, barrier) = (service.clone(), barrier.clone());
            tasks.spawn(async move {
                barrier.wait().await;
                service
                    .review(&principal(ada), &c.id.to_string(), rating(r))
                    .await
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.expect("task").expect("both reviews are applied");
        }
        let stored = ctx
            .store
            .get_card(ada, c.id)
            .await
            .expect("the store answers")
            .expect("found");
        assert_eq!(stored.schedule.reps, 2, "reps ends +2");
        let (total, history) = ctx
            .store
            .list_reviews(ada, c.id, page(1, 10))
            .await
            .expect("the store answers");
        assert_eq!(total, 2, "two review rows");
        // Newest first: the second review saw the state the first one left.
        let (second, first) = (&history[0], &history[1]);
        assert_eq!(first.state_before, CardState::New);
        let expected = if first.rating == Rating::Easy {
            CardState::Review
        } else {
            CardState::Learning
        };
        assert_eq!(second.state_before, expected, "{history:?}");
        assert_eq!(second.stability_before, Some(first.stability_after));
    }
    assert_counters_true(&ctx.db, &[d]).await;
}

pub(crate) async fn deleting_a_deck_while_its_cards_are_reviewed_is_clean(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    for round in 0..5 {
        let d = deck(&ctx, ada, &format!("D{round}")).await;
        let mut cards = Vec::new();
        for i in 0..6 {
            cards.push(card(&ctx, ada, d, &format!("q{i}"), i).await);
        }
        let clock = Arc::new(ManualClock::new(at(100)));
        let service = Arc::new(service(&ctx, clock));
        let barrier = Arc::new(Barrier::new(cards.len() + 1));
        let mut reviews = tokio::task::JoinSet::new();
        for c in &cards {
            let (service, barrier, id) = (service.clone(), barrier.clone(), c.id.to_string());
            reviews.spawn(async move {
                barrier.wait().await;
                service
                    .review(&principal(ada), &id, rating(Rating::Good))
                    .await
            });
        }
        let deleting = {
            let (service, barrier) = (service.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                service.delete_deck(&principal(ada), &d.to_string()).await
            })
        };
        deleting.await.expect("task").expect("the deck is deleted");
        while let Some(done) = reviews.join_next().await {
            match done.expect("task") {
                Ok(_) | Err(vault_core::Error::NotFound) => {}
                Err(other) => panic!("a review racing the deletion failed: {other:?}"),
            }
        }
        for table in ["cards", "reviews", "review_days"] {
            let sql = format!("SELECT count(*) FROM {table} WHERE deck_id = $1");
            assert_eq!(count_where(&ctx.db, &sql, d).await, 0, "{table}");
        }
    }
}

pub(crate) async fn a_review_whose_write_fails_leaves_the_card_unchanged(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let d = deck(&ctx, ada, "D").await;
    let c = card(&ctx, ada, d, "q", 0).await;
    let first = ReviewWriteFor::new(&c).write(Rating::Good, at(10));
    let ReviewApplied::Applied { card: after, .. } = ctx
        .store
        .record_review(ada, &first)
        .await
        .expect("the store answers")
    else {
        panic!("applied");
    };
    let counters = stored_counters(&ctx.db, d).await;
    // The next review reuses the first one's id: its insert fails after the card's update.
    let mut clash = ReviewWriteFor::new(&after).write(Rating::Easy, at(700));
    clash.review.id = first.review.id;
    let failed = ctx.store.record_review(ada, &clash).await;
    assert!(failed.is_err(), "{failed:?}");
    let stored = ctx
        .store
        .get_card(ada, c.id)
        .await
        .expect("the store answers")
        .expect("found");
    assert_eq!(stored, after, "the card's update was rolled back");
    assert_eq!(stored_counters(&ctx.db, d).await, counters);
    let rollup = "SELECT reviews FROM review_days WHERE deck_id = $1";
    assert_eq!(count_where(&ctx.db, rollup, d).await, 1);
}
