//! The study queue and stats, over the store and through the service.

use super::*;

pub(crate) async fn study_lists_due_cards_most_overdue_first_then_new_within_the_daily_limit(
    ctx: Ctx,
) {
    let ada = user(&ctx, "ada").await;
    let a = deck(&ctx, ada, "A").await;
    let b = deck(&ctx, ada, "B").await;
    let clock = Arc::new(ManualClock::new(at(0)));
    let service = service(&ctx, clock.clone());
    let mut cards = Vec::new();
    for i in 0..8 {
        let d = if i % 2 == 0 { a } else { b };
        cards.push(card(&ctx, ada, d, &format!("q{i}"), i).await);
    }
    // Three cards start learning at different times: due 10 minutes after their answer.
    for (i, c) in cards[..3].iter().enumerate() {
        clock.set(at(i64::try_from(i).expect("found") * 60));
        review(&service, ada, c.id, Rating::Good).await;
    }
    clock.set(at(3_600));
    let today = at(3_600).date_naive();
    let rows = ctx
        .store
        .study(ada, None, at(3_600), today, 20, 20)
        .await
        .expect("the store answers")
        .expect("found");
    let due: Vec<Uuid> = rows.due.iter().map(|c| c.id).collect();
    assert_eq!(
        due,
        [cards[0].id, cards[1].id, cards[2].id],
        "most overdue first"
    );
    assert_eq!(rows.due_count, 3);
    let new: Vec<Uuid> = rows.new.iter().map(|c| c.id).collect();
    assert_eq!(
        new,
        cards[3..].iter().map(|c| c.id).collect::<Vec<_>>(),
        "oldest new first"
    );
    assert_eq!(rows.new_count, 5);
    // The daily limit counts the new cards already started today, over all decks.
    let limited = ctx
        .store
        .study(ada, None, at(3_600), today, 20, 4)
        .await
        .expect("the store answers")
        .expect("found");
    assert_eq!((limited.new.len(), limited.new_count), (1, 1));
    let none = ctx
        .store
        .study(ada, None, at(3_600), today, 20, 2)
        .await
        .expect("the store answers")
        .expect("found");
    assert_eq!((none.new.len(), none.new_count), (0, 0));
    // A limit covers due and new cards together; due come first.
    let short = ctx
        .store
        .study(ada, None, at(3_600), today, 2, 20)
        .await
        .expect("the store answers")
        .expect("found");
    assert_eq!(
        (short.due.len(), short.new.len(), short.due_count),
        (2, 0, 3)
    );
    // One deck.
    let only_b = ctx
        .store
        .study(ada, Some(b), at(3_600), today, 20, 20)
        .await
        .expect("the store answers")
        .expect("found");
    assert!(only_b.due.iter().chain(&only_b.new).all(|c| c.deck_id == b));
    assert_eq!((only_b.due_count, only_b.new_count), (1, 3));
    // Tomorrow the allowance is whole again; nothing is due before its time.
    let early = ctx
        .store
        .study(ada, None, at(0), today + Duration::days(1), 20, 3)
        .await
        .expect("the store answers")
        .expect("found");
    assert_eq!((early.due_count, early.new_count), (0, 3));
    // Through the service: the same queue, due then new.
    let queue = service
        .study(&principal(ada), &Query::parse(Some("limit=4")))
        .await
        .expect("the store answers");
    let ids: Vec<Uuid> = queue.cards.iter().map(|c| c.id).collect();
    assert_eq!(ids, [cards[0].id, cards[1].id, cards[2].id, cards[3].id]);
    assert_eq!((queue.due_count, queue.new_count), (3, 5));
}

pub(crate) async fn stats_are_zero_filled_and_count_retention_and_streaks(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let a = deck(&ctx, ada, "A").await;
    let b = deck(&ctx, ada, "B").await;
    let clock = Arc::new(ManualClock::new(at(0)));
    let service = service(&ctx, clock.clone());
    let empty = service
        .stats(&principal(ada))
        .await
        .expect("the store answers");
    assert_eq!(empty.by_day.len(), 30);
    assert!(empty.by_day.iter().all(|d| d.reviews == 0));
    assert_eq!(
        (empty.total_reviews, empty.streak_days, empty.retention_30d),
        (0, 0, None)
    );
    let first = card(&ctx, ada, a, "q1", 0).await;
    let second = card(&ctx, ada, b, "q2", 0).await;
    card(&ctx, ada, b, "q3", 0).await;
    // Day 0: both graduate (easy); day 10: one kept (good), one forgotten (again); day 11:
    // the forgotten one relearned.
    review(&service, ada, first.id, Rating::Easy).await;
    review(&service, ada, second.id, Rating::Easy).await;
    clock.set(at(10 * DAY));
    review(&service, ada, first.id, Rating::Good).await;
    review(&service, ada, second.id, Rating::Again).await;
    clock.set(at(11 * DAY));
    review(&service, ada, second.id, Rating::Good).await;
    let stats = service
        .stats(&principal(ada))
        .await
        .expect("the store answers");
    let today = at(11 * DAY).date_naive();
    assert_eq!(stats.by_day.len(), 30);
    assert_eq!(stats.by_day[29].date, today);
    assert_eq!(stats.by_day[0].date, today - Duration::days(29));
    let on = |day: NaiveDate| {
        stats
            .by_day
            .iter()
            .find(|d| d.date == day)
            .copied()
            .expect("found")
    };
    let day10 = on(today - Duration::days(1));
    assert_eq!((day10.reviews, day10.good, day10.again), (2, 1, 1));
    assert_eq!(on(today - Duration::days(11)).easy, 2);
    assert_eq!(stats.reviews_today, 1);
    assert_eq!(stats.total_reviews, 5);
    assert_eq!(stats.total_cards, 3);
    assert_eq!(
        (
            stats.cards_by_state.new,
            stats.cards_by_state.review,
            stats.cards_by_state.relearning
        ),
        (1, 2, 0)
    );
    // Of the answers to review cards (day 10), one of two was kept.
    assert_eq!(stats.retention_30d, Some(0.5));
    assert_eq!(stats.streak_days, 2, "days 10 and 11");
    // One deck's figures: its own reviews only.
    let only_b = service
        .deck_stats(&principal(ada), &b.to_string())
        .await
        .expect("the store answers");
    assert_eq!((only_b.total_reviews, only_b.total_cards), (3, 2));
    assert_eq!(only_b.retention_30d, Some(0.0));
    // The streak survives a day without reviews yet, and breaks after a gap.
    clock.set(at(12 * DAY));
    assert_eq!(
        service
            .stats(&principal(ada))
            .await
            .expect("the store answers")
            .streak_days,
        2
    );
    clock.set(at(13 * DAY));
    assert_eq!(
        service
            .stats(&principal(ada))
            .await
            .expect("the store answers")
            .streak_days,
        0
    );
    // due_today counts what falls due before the end of today, not new cards.
    let later = service
        .stats(&principal(ada))
        .await
        .expect("the store answers");
    let due_now = ctx
        .store
        .study(ada, None, at(13 * DAY), at(13 * DAY).date_naive(), 100, 0)
        .await
        .expect("the store answers")
        .expect("found")
        .due_count;
    assert!(later.due_today >= due_now);
}
