//! Unit tests of [`FlashcardService`]'s decisions, with a mockall store (a child module of
//! `service`, in a file of its own).

use chrono::DateTime;
use mockall::predicate::{always, eq};

use super::*;
use crate::flashcards::reviews::{streak, to_stats};
use crate::flashcards::schedule::Schedule;
use crate::flashcards::store::{DayRow, MockFlashcardStore, ReviewApplied, StateCounts, StatsRows};
use crate::principal::Role;
use crate::time::ManualClock;

fn caller() -> Principal {
    Principal {
        user_id: Uuid::now_v7(),
        role: Role::User,
    }
}

fn t0() -> Timestamp {
    DateTime::from_timestamp(1_795_348_800, 0).unwrap()
}

fn service(store: MockFlashcardStore) -> FlashcardService {
    FlashcardService::new(Arc::new(store), &FlashcardsConfig::default(), "/api", None)
        .unwrap()
        .with_clock(Arc::new(ManualClock::new(t0())))
}

fn card(id: Uuid) -> CardRecord {
    CardRecord {
        id,
        deck_id: Uuid::now_v7(),
        front: "q".into(),
        back: "a".into(),
        schedule: Schedule::new_card(t0()),
        created_at: t0(),
        updated_at: t0(),
    }
}

fn fields_of(error: Error) -> Vec<String> {
    match error {
        Error::Validation(errors) => serde_json::to_value(&errors)
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn body<T: serde::de::DeserializeOwned>(json: serde_json::Value) -> T {
    serde_json::from_value(json).unwrap()
}

#[tokio::test]
async fn invalid_input_never_reaches_the_store_and_names_its_fields() {
    let service = service(MockFlashcardStore::new()); // no expectations: any call panics
    let who = caller();
    let deck: DeckInput =
        body(serde_json::json!({"name": "x".repeat(201), "description": "a\u{0}"}));
    let error = service.create_deck(&who, deck).await.unwrap_err();
    assert_eq!(fields_of(error), ["description", "name"]);
    let patch: DeckPatch = body(serde_json::json!({"name": null}));
    let error = service
        .patch_deck(&who, &Uuid::nil().to_string(), patch)
        .await
        .unwrap_err();
    assert_eq!(fields_of(error), ["name"]);
    let card: CardInput = body(serde_json::json!({"front": " ", "back": "y".repeat(10_001)}));
    let error = service
        .create_card(&who, &Uuid::nil().to_string(), card)
        .await
        .unwrap_err();
    assert_eq!(fields_of(error), ["back", "front"]);
    let patch: CardPatch = body(serde_json::json!({"front": null, "deck_id": null}));
    let error = service
        .patch_card(&who, &Uuid::nil().to_string(), patch)
        .await
        .unwrap_err();
    assert_eq!(fields_of(error), ["deck_id", "front"]);
    let review: ReviewInput =
        body(serde_json::json!({"rating": "good", "duration_ms": 86_400_001}));
    let error = service
        .review(&who, &Uuid::nil().to_string(), review)
        .await
        .unwrap_err();
    assert_eq!(fields_of(error), ["duration_ms"]);
    let query = Query::parse(Some("state=suspended&due=maybe&page=0"));
    let error = service
        .list_cards(&who, &Uuid::nil().to_string(), &query)
        .await
        .unwrap_err();
    assert_eq!(fields_of(error), ["due", "page", "state"]);
    let query = Query::parse(Some("deck=nope&limit=0"));
    let error = service.study(&who, &query).await.unwrap_err();
    assert_eq!(fields_of(error), ["deck", "limit"]);
    let query = Query::parse(Some(&format!("search={}", "s".repeat(201))));
    let error = service.list_decks(&who, &query).await.unwrap_err();
    assert_eq!(fields_of(error), ["search"]);
    // Malformed path ids are simply not found.
    for id in ["not-a-uuid", "", "123"] {
        assert!(matches!(
            service.get_card(&who, id).await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            service.get_deck(&who, id).await,
            Err(Error::NotFound)
        ));
        assert!(matches!(
            service.preview(&who, id).await,
            Err(Error::NotFound)
        ));
    }
}

#[tokio::test]
async fn another_users_card_is_not_found() {
    let who = caller();
    let id = Uuid::now_v7();
    let mut store = MockFlashcardStore::new();
    // The store is asked for the caller's card only, and has none of theirs by that id.
    store
        .expect_get_card()
        .with(eq(who.user_id), eq(id))
        .returning(|_, _| Ok(None));
    let service = service(store);
    let id = id.to_string();
    assert!(matches!(
        service.get_card(&who, &id).await,
        Err(Error::NotFound)
    ));
    assert!(matches!(
        service.preview(&who, &id).await,
        Err(Error::NotFound)
    ));
    let query = Query::parse(None);
    assert!(matches!(
        service.history(&who, &id, &query).await,
        Err(Error::NotFound)
    ));
    let review: ReviewInput = body(serde_json::json!({"rating": "again"}));
    assert!(matches!(
        service.review(&who, &id, review).await,
        Err(Error::NotFound)
    ));
}

#[tokio::test]
async fn preview_never_writes() {
    let id = Uuid::now_v7();
    let mut store = MockFlashcardStore::new();
    // Only the read is expected: a write method would panic as an unexpected call.
    store
        .expect_get_card()
        .times(1)
        .returning(move |_, id| Ok(Some(card(id))));
    let service = service(store);
    let preview = service.preview(&caller(), &id.to_string()).await.unwrap();
    let entries = [preview.again, preview.hard, preview.good, preview.easy];
    for pair in entries.windows(2) {
        assert!(pair[0].interval_days <= pair[1].interval_days, "{pair:?}");
    }
    assert_eq!(preview.again.due, t0() + Duration::minutes(1));
    assert_eq!(preview.good.due, t0() + Duration::minutes(10));
}

#[tokio::test]
async fn a_failed_write_is_reported_and_not_retried() {
    let id = Uuid::now_v7();
    let mut store = MockFlashcardStore::new();
    store
        .expect_get_card()
        .times(1)
        .returning(move |_, id| Ok(Some(card(id))));
    store
        .expect_record_review()
        .times(1)
        .returning(|_, _| Err(Error::Unavailable("connection reset".into())));
    let service = service(store);
    let review: ReviewInput = body(serde_json::json!({"rating": "good"}));
    let result = service.review(&caller(), &id.to_string(), review).await;
    assert!(matches!(result, Err(Error::Unavailable(_))), "{result:?}");
}

#[tokio::test]
async fn a_review_that_lost_a_race_is_computed_again_on_the_new_state() {
    let who = caller();
    let id = Uuid::now_v7();
    let mut store = MockFlashcardStore::new();
    let mut seq = mockall::Sequence::new();
    // First read: new. The write is stale (another review landed); second read: learning.
    store
        .expect_get_card()
        .times(1)
        .in_sequence(&mut seq)
        .returning(move |_, id| Ok(Some(card(id))));
    store
        .expect_record_review()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, _| Ok(ReviewApplied::Stale));
    store
        .expect_get_card()
        .times(1)
        .in_sequence(&mut seq)
        .returning(move |_, id| {
            let mut moved_on = card(id);
            moved_on.schedule.state = CardState::Learning;
            moved_on.schedule.step = 1;
            moved_on.schedule.reps = 1;
            moved_on.schedule.stability = Some(2.3065);
            moved_on.schedule.difficulty = Some(2.118);
            moved_on.schedule.last_review = Some(t0());
            Ok(Some(moved_on))
        });
    store
        .expect_record_review()
        .with(eq(who.user_id), always())
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_, write| {
            assert_eq!(write.before.reps, 1, "computed on the new state");
            assert_eq!(write.review.state_before, CardState::Learning);
            assert_eq!(
                write.after.state,
                CardState::Review,
                "good past the last step"
            );
            let mut after = card(write.card_id);
            after.schedule = write.after;
            Ok(ReviewApplied::Applied {
                card: after,
                review: write.review.clone(),
            })
        });
    let service = service(store);
    let review: ReviewInput = body(serde_json::json!({"rating": "good", "duration_ms": 900}));
    let created = service.review(&who, &id.to_string(), review).await.unwrap();
    assert_eq!(created.card.reps, 2);
    assert_eq!(created.review.duration_ms, Some(900));
}

#[tokio::test]
async fn reviews_that_keep_losing_are_a_conflict() {
    let id = Uuid::now_v7();
    let mut store = MockFlashcardStore::new();
    store
        .expect_get_card()
        .times(REVIEW_ATTEMPTS)
        .returning(move |_, id| Ok(Some(card(id))));
    store
        .expect_record_review()
        .times(REVIEW_ATTEMPTS)
        .returning(|_, _| Ok(ReviewApplied::Stale));
    let service = service(store);
    let review: ReviewInput = body(serde_json::json!({"rating": "hard"}));
    let result = service.review(&caller(), &id.to_string(), review).await;
    assert!(matches!(result, Err(Error::InvalidState(_))), "{result:?}");
}

#[test]
fn stats_are_zero_filled_over_thirty_days_oldest_first() {
    let today = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
    let row = |days_ago: i64, reviews: u64, kept: u64| DayRow {
        day: today - Duration::days(days_ago),
        reviews,
        again: reviews - kept,
        hard: 0,
        good: kept,
        easy: 0,
        recall_total: reviews,
        recall_kept: kept,
    };
    let rows = StatsRows {
        cards: StateCounts {
            new: 1,
            learning: 2,
            review: 3,
            relearning: 4,
        },
        total_reviews: 99,
        due_today: 5,
        days: vec![row(0, 4, 3), row(29, 2, 1), row(30, 50, 0)],
        streak_days: 1,
    };
    let stats = to_stats(rows, today);
    assert_eq!(stats.by_day.len(), STATS_DAYS);
    assert_eq!(stats.by_day[0].date, today - Duration::days(29));
    assert_eq!(stats.by_day[29].date, today);
    assert_eq!(stats.by_day[29].reviews, 4);
    assert_eq!(stats.by_day[0].reviews, 2);
    assert_eq!(
        stats.by_day[1..29].iter().map(|d| d.reviews).sum::<u64>(),
        0
    );
    assert_eq!(stats.reviews_today, 4);
    assert_eq!(stats.total_cards, 10);
    // The day 30 days ago is outside both by_day and the retention window.
    assert_eq!(stats.retention_30d, Some(4.0 / 6.0));
}

#[test]
fn streaks_end_today_or_yesterday() {
    let today = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
    let days = |ago: &[i64]| -> Vec<NaiveDate> {
        ago.iter().map(|a| today - Duration::days(*a)).collect()
    };
    assert_eq!(streak(today, &[]), Some(0));
    assert_eq!(streak(today, &days(&[0, 1, 2, 4])), Some(3));
    assert_eq!(streak(today, &days(&[1, 2, 5])), Some(2));
    assert_eq!(streak(today, &days(&[2, 3])), Some(0));
    assert_eq!(
        streak(today, &days(&[0, 1, 2])),
        None,
        "more days may follow"
    );
}

#[test]
fn local_days_follow_the_configured_time_zone() {
    let config = FlashcardsConfig::default().with_time_zone(chrono_tz::Tz::Pacific__Auckland);
    let service =
        FlashcardService::new(Arc::new(MockFlashcardStore::new()), &config, "/api", None).unwrap();
    // 23:30 UTC on 2 December is already 3 December in Auckland (UTC+13 in summer).
    let at = DateTime::parse_from_rfc3339("2026-12-02T23:30:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    assert_eq!(
        service.local_day(at),
        NaiveDate::from_ymd_opt(2026, 12, 3).unwrap()
    );
    let start = service.start_of(NaiveDate::from_ymd_opt(2026, 12, 3).unwrap());
    assert_eq!(crate::time::format(&start), "2026-12-02T11:00:00.000Z");
}
