//! Scheduling: for any card state the scheduler can be asked about (any state, step,
//! stability, difficulty, review count, time since the last review) and any settings within
//! their bounds, the four outcomes never decrease from again to easy, stay within the maximum
//! interval, and count one more review.

use chrono::{DateTime, Duration};
use proptest::prelude::*;
use vault_core::flashcards::{CardState, Rating, Schedule, Scheduler};
use vault_core::FlashcardsConfig;

use super::check;

fn state() -> impl Strategy<Value = CardState> {
    proptest::sample::select(&CardState::ALL[..])
}

fn steps() -> impl Strategy<Value = Vec<std::time::Duration>> {
    proptest::collection::vec(
        (1_u64..30 * 86_400).prop_map(std::time::Duration::from_secs),
        0..5,
    )
}

#[test]
fn preview_intervals_never_decrease_from_again_to_easy() {
    let strategy = (
        (state(), 0_u32..8, 0.01_f64..40_000.0, 1.0_f64..10.0),
        (0_u32..500, 0_i64..4_000_000_000, any::<u64>()),
        (
            steps(),
            steps(),
            1_u32..=36_500,
            any::<bool>(),
            0.7_f64..=0.99,
        ),
    );
    check(
        2_000,
        strategy,
        |((state, step, stability, difficulty), (reps, since_last, seed), settings)| {
            let (learning, relearning, maximum, fuzz, retention) = settings;
            let config = FlashcardsConfig::default()
                .with_learning_steps(learning)
                .with_relearning_steps(relearning)
                .with_maximum_interval_days(maximum)
                .with_fuzz(fuzz)
                .with_desired_retention(retention);
            let scheduler = Scheduler::new(&config).expect("settings within bounds");
            let now = DateTime::from_timestamp(1_795_342_530, 0).expect("valid time");
            let last = now - Duration::seconds(since_last);
            let card = if state == CardState::New {
                Schedule::new_card(last)
            } else {
                Schedule {
                    state,
                    step,
                    due: last,
                    stability: Some(stability),
                    difficulty: Some(difficulty),
                    reps,
                    lapses: 0,
                    last_review: Some(last),
                }
            };
            let outcomes = scheduler
                .outcomes(&card, now, seed)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            for (outcome, rating) in outcomes.iter().zip(Rating::ALL) {
                prop_assert_eq!(outcome.rating, rating);
                prop_assert_eq!(outcome.schedule.reps, card.reps + 1);
                prop_assert!(outcome.schedule.due >= now, "{:?}", outcome);
                prop_assert!(outcome.scheduled_days <= maximum, "{:?}", outcome);
                prop_assert!(outcome.interval_days.is_finite() && outcome.interval_days >= 0.0);
                let stability = outcome.schedule.stability.unwrap_or(f64::NAN);
                prop_assert!(stability.is_finite() && stability > 0.0, "{:?}", outcome);
            }
            for pair in outcomes.windows(2) {
                prop_assert!(pair[0].schedule.due <= pair[1].schedule.due, "{:?}", pair);
                prop_assert!(pair[0].interval_days <= pair[1].interval_days, "{:?}", pair);
            }
            Ok(())
        },
    );
}
