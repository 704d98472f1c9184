//! Unit tests of the scheduler: FSRS-6 golden values, step walks, lapses, clamps and fuzz (a
//! child module of `schedule`, in a file of its own).

use chrono::{DateTime, Duration};

use super::*;

fn t0() -> Timestamp {
    DateTime::from_timestamp_micros(1_795_342_530_123_456).unwrap()
}

fn scheduler(config: FlashcardsConfig) -> Scheduler {
    Scheduler::new(&config).unwrap()
}

fn default_scheduler() -> Scheduler {
    scheduler(FlashcardsConfig::default())
}

fn answer(s: &Scheduler, card: &Schedule, rating: Rating, at: Timestamp) -> Outcome {
    s.answer(card, rating, at, 7).unwrap()
}

/// Relative closeness, for FSRS's f32 figures.
fn close(actual: f64, expected: f64) -> bool {
    ((actual - expected) / expected).abs() < 1e-3
}

#[test]
fn first_review_stabilities_are_fsrs6_defaults() {
    let s = default_scheduler();
    let new = Schedule::new_card(t0());
    let outcomes = s.outcomes(&new, t0(), 1).unwrap();
    for (outcome, expected) in outcomes.iter().zip([0.212, 1.2931, 2.3065, 8.2956]) {
        let stability = outcome.schedule.stability.unwrap();
        assert!(
            close(stability, expected),
            "{:?}: {stability}",
            outcome.rating
        );
    }
    let good = outcomes[Rating::Good.index()].schedule;
    assert!(close(good.difficulty.unwrap(), 2.118), "{good:?}");
}

#[test]
fn good_then_good_three_days_later_reaches_about_13_83_days() {
    let s = default_scheduler();
    let first = answer(&s, &Schedule::new_card(t0()), Rating::Good, t0()).schedule;
    let later = t0() + Duration::days(3);
    let second = answer(&s, &first, Rating::Good, later);
    let stability = second.schedule.stability.unwrap();
    assert!(close(stability, 13.83), "{stability}");
    assert_eq!(second.elapsed_days, 3);
}

#[test]
fn learning_steps_walk_as_anki_does() {
    let s = default_scheduler();
    let new = Schedule::new_card(t0());
    let outcomes = s.outcomes(&new, t0(), 1).unwrap();
    let after = |r: Rating| outcomes[r.index()];
    // again: first step (1 min); hard on the first step: mean of 1 and 10 min = 5 min 30 s;
    // good: second step (10 min); easy: graduates with FSRS's easy interval (8.3 → 8 days).
    assert_eq!(
        after(Rating::Again).schedule.due,
        t0() + Duration::minutes(1)
    );
    assert_eq!(after(Rating::Again).schedule.step, 0);
    assert_eq!(
        after(Rating::Hard).schedule.due,
        t0() + Duration::seconds(330)
    );
    assert_eq!(after(Rating::Hard).schedule.step, 0);
    assert_eq!(
        after(Rating::Good).schedule.due,
        t0() + Duration::minutes(10)
    );
    assert_eq!(after(Rating::Good).schedule.step, 1);
    for r in [Rating::Again, Rating::Hard, Rating::Good] {
        assert_eq!(after(r).schedule.state, CardState::Learning);
        assert_eq!(after(r).scheduled_days, 0);
    }
    let easy = after(Rating::Easy);
    assert_eq!(easy.schedule.state, CardState::Review);
    assert_eq!(easy.scheduled_days, 8);
    assert_eq!(easy.schedule.due, t0() + Duration::days(8));

    // From the second step: hard repeats it, good graduates.
    let at = t0() + Duration::minutes(10);
    let second = after(Rating::Good).schedule;
    let hard = answer(&s, &second, Rating::Hard, at);
    assert_eq!(
        (hard.schedule.state, hard.schedule.step),
        (CardState::Learning, 1)
    );
    assert_eq!(hard.schedule.due, at + Duration::minutes(10));
    let good = answer(&s, &second, Rating::Good, at);
    assert_eq!(good.schedule.state, CardState::Review);
    assert!(good.scheduled_days >= 1);
    assert_eq!(good.schedule.reps, 2);
    assert_eq!(good.schedule.lapses, 0);
    // Again goes back to the first step.
    let again = answer(&s, &second, Rating::Again, at);
    assert_eq!(
        (again.schedule.step, again.schedule.due),
        (0, at + Duration::minutes(1))
    );
}

#[test]
fn a_single_learning_step_makes_hard_one_and_a_half_of_it() {
    let s = scheduler(
        FlashcardsConfig::default().with_learning_steps(vec![std::time::Duration::from_secs(600)]),
    );
    let hard = answer(&s, &Schedule::new_card(t0()), Rating::Hard, t0());
    assert_eq!(hard.schedule.due, t0() + Duration::minutes(15));
    let good = answer(&s, &Schedule::new_card(t0()), Rating::Good, t0());
    assert_eq!(good.schedule.state, CardState::Review, "past the last step");
}

#[test]
fn without_steps_every_first_answer_graduates() {
    let s = scheduler(
        FlashcardsConfig::default()
            .with_learning_steps(Vec::new())
            .with_relearning_steps(Vec::new()),
    );
    for outcome in s.outcomes(&Schedule::new_card(t0()), t0(), 1).unwrap() {
        assert_eq!(outcome.schedule.state, CardState::Review, "{outcome:?}");
        assert!(outcome.scheduled_days >= 1);
        assert_eq!(outcome.schedule.lapses, 0, "a new card cannot lapse");
    }
    // A lapse without relearning steps stays in review, counted.
    let review = answer(&s, &Schedule::new_card(t0()), Rating::Good, t0()).schedule;
    let later = t0() + Duration::days(5);
    let lapse = answer(&s, &review, Rating::Again, later);
    assert_eq!(lapse.schedule.state, CardState::Review);
    assert_eq!(lapse.schedule.lapses, 1);
    assert!(lapse.scheduled_days >= 1);
}

#[test]
fn a_lapse_relearns_and_is_counted_once() {
    let s = default_scheduler();
    let review = answer(&s, &Schedule::new_card(t0()), Rating::Easy, t0()).schedule;
    assert_eq!(review.state, CardState::Review);
    let at = review.due;
    let lapse = answer(&s, &review, Rating::Again, at);
    assert_eq!(lapse.schedule.state, CardState::Relearning);
    assert_eq!(lapse.schedule.lapses, 1);
    assert_eq!(lapse.schedule.due, at + Duration::minutes(10));
    assert!(
        lapse.schedule.stability.unwrap() < review.stability.unwrap(),
        "forgetting lowers stability"
    );
    // Again while relearning: back to the first step, no second lapse.
    let at2 = lapse.schedule.due;
    let again = answer(&s, &lapse.schedule, Rating::Again, at2);
    assert_eq!(
        (again.schedule.state, again.schedule.lapses),
        (CardState::Relearning, 1)
    );
    // Good past the only relearning step: back to review.
    let back = answer(&s, &again.schedule, Rating::Good, again.schedule.due);
    assert_eq!(back.schedule.state, CardState::Review);
    assert_eq!(back.schedule.reps, 4);
}

#[test]
fn intervals_are_clamped_to_the_maximum() {
    let s = scheduler(FlashcardsConfig::default().with_maximum_interval_days(5));
    let mut card = Schedule::new_card(t0());
    let mut at = t0();
    for _ in 0..8 {
        let outcome = answer(&s, &card, Rating::Easy, at);
        assert!(outcome.scheduled_days <= 5, "{outcome:?}");
        card = outcome.schedule;
        at = card.due;
    }
    assert_eq!(card.due - card.last_review.unwrap(), Duration::days(5));
}

#[test]
fn fuzz_off_is_deterministic_and_seed_blind() {
    let s = default_scheduler();
    let review = answer(&s, &Schedule::new_card(t0()), Rating::Easy, t0()).schedule;
    let at = review.due + Duration::days(20);
    let a = s.outcomes(&review, at, 1).unwrap();
    let b = s.outcomes(&review, at, 999).unwrap();
    assert_eq!(a, b);
}

#[test]
fn fuzz_on_is_deterministic_per_seed_and_within_five_percent() {
    let plain = default_scheduler();
    let fuzzy = scheduler(FlashcardsConfig::default().with_fuzz(true));
    let review = answer(&plain, &Schedule::new_card(t0()), Rating::Easy, t0()).schedule;
    let at = review.due + Duration::days(40);
    let base = plain.outcomes(&review, at, 0).unwrap();
    let mut differed = false;
    for seed in 0..200_u64 {
        let first = fuzzy.outcomes(&review, at, seed).unwrap();
        assert_eq!(
            first,
            fuzzy.outcomes(&review, at, seed).unwrap(),
            "same seed, same answer"
        );
        // Only the "good" interval is free of the ordering rule's pushes here.
        let (fuzzed, plain) = (
            f64::from(first[2].scheduled_days),
            f64::from(base[2].scheduled_days),
        );
        let allowed = (plain * 0.05).round().max(1.0);
        assert!(
            (fuzzed - plain).abs() <= allowed,
            "seed {seed}: {fuzzed} vs {plain}"
        );
        differed |= first != base;
    }
    assert!(differed, "fuzz changes some intervals");
    assert_ne!(fuzz_seed(Uuid::nil(), 1), fuzz_seed(Uuid::nil(), 2));
}

#[test]
fn outcomes_never_decrease_from_again_to_easy() {
    let s = default_scheduler();
    let mut card = Schedule::new_card(t0());
    let mut at = t0();
    for (i, rating) in [
        Rating::Good,
        Rating::Good,
        Rating::Hard,
        Rating::Again,
        Rating::Good,
    ]
    .into_iter()
    .enumerate()
    {
        let outcomes = s.outcomes(&card, at, i as u64).unwrap();
        for pair in outcomes.windows(2) {
            assert!(pair[0].schedule.due <= pair[1].schedule.due, "{pair:?}");
            assert!(pair[0].interval_days <= pair[1].interval_days, "{pair:?}");
        }
        card = outcomes[rating.index()].schedule;
        at = card.due + Duration::hours(6);
    }
}

/// Steps longer than the maximum interval are cut to it, so no answer (hard's 1.5 × a single
/// step, and good pushed up to hard's due time) is scheduled past the maximum.
#[test]
fn steps_longer_than_the_maximum_interval_stay_within_it() {
    let config = FlashcardsConfig::default()
        .with_learning_steps(vec![std::time::Duration::from_secs(748_800)])
        .with_relearning_steps(vec![])
        .with_maximum_interval_days(1)
        .with_desired_retention(0.7);
    let scheduler = Scheduler::new(&config).expect("valid settings");
    let now = DateTime::from_timestamp(1_795_342_530, 0).expect("valid time");
    let outcomes = scheduler
        .outcomes(&Schedule::new_card(now), now, 0)
        .expect("outcomes");
    for outcome in &outcomes {
        assert!(
            outcome.schedule.due <= now + Duration::days(1),
            "{outcome:?}"
        );
        assert!(outcome.scheduled_days <= 1, "{outcome:?}");
    }
}
