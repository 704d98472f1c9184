//! The scheduler: FSRS-6 (the `fsrs` crate, its 21 published default parameters) for memory
//! states and day intervals, and our own small state machine for the short-term steps around
//! it. Pure functions of a card's schedule, the answer and the time: no I/O, no clock.
//!
//! States: new → learning → review, and review --again--> relearning → review. The steps
//! follow Anki's (and ts-fsrs's) well-known semantics:
//!
//! | in learning / relearning at step `i` | again | hard | good | easy |
//! |---|---|---|---|---|
//! | | back to the first step | repeat step `i` (on the first step: the mean of steps 1 and 2, or 1.5 × a single step) | step `i + 1`; past the last, graduate to review with FSRS's "good" interval | graduate with FSRS's "easy" interval |
//!
//! A new card is at learning step 0 for its first answer (so with the default steps of 1 and
//! 10 minutes: again +1 min, hard +5 min 30 s, good +10 min, easy graduates). With no steps,
//! every answer graduates at once. In review, again counts a lapse and starts the relearning
//! steps (with none, the card stays in review with FSRS's "again" interval); hard, good and
//! easy stay in review.
//!
//! FSRS updates the memory state (stability, difficulty) on **every** answer, short-term ones
//! included: the first with no previous state, later ones with the whole days elapsed since
//! the previous answer (0 for the same day, where FSRS-6 uses its short-term stability,
//! w17–w19).
//!
//! Day intervals are FSRS's interval for the desired retention, rounded to whole days and
//! kept within 1..=`maximum_interval_days`; then "hard ≤ good ≤ easy" is enforced as Anki
//! does (good at least hard + 1, easy at least good + 1), and finally every answer's due
//! time is at least the previous answer's, so the four outcomes never decrease from again to
//! easy whatever the steps are. Fuzz (off by default) spreads intervals of 3 days or more by
//! ±5 % (at least ±1 day), drawn from a seed of the card and its review count: the same
//! review of the same card always gets the same interval.

use chrono::Duration;
use fsrs::{MemoryState, DEFAULT_PARAMETERS, FSRS};
use uuid::Uuid;

use super::model::{CardState, Rating};
use crate::config::FlashcardsConfig;
use crate::error::{Error, Result};
use crate::time::Timestamp;

/// The scheduling columns of a card: everything an answer reads and changes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    /// Where the card is in its life.
    pub state: CardState,
    /// The current learning or relearning step (0-based; 0 otherwise).
    pub step: u32,
    /// When the card is due.
    pub due: Timestamp,
    /// FSRS stability in days; `None` while new.
    pub stability: Option<f64>,
    /// FSRS difficulty; `None` while new.
    pub difficulty: Option<f64>,
    /// Answers so far.
    pub reps: u32,
    /// Lapses (again in review) so far.
    pub lapses: u32,
    /// The last answer; `None` while new.
    pub last_review: Option<Timestamp>,
}

impl Schedule {
    /// The schedule of a card created at `at`: new, due at once.
    pub fn new_card(at: Timestamp) -> Self {
        Self {
            state: CardState::New,
            step: 0,
            due: at,
            stability: None,
            difficulty: None,
            reps: 0,
            lapses: 0,
            last_review: None,
        }
    }
}

/// What one answer does to a card.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// The answer.
    pub rating: Rating,
    /// The card's schedule after it.
    pub schedule: Schedule,
    /// Whole days since the previous answer (0 for the first).
    pub elapsed_days: u32,
    /// Whole days until due, for a day interval; 0 for a short-term step.
    pub scheduled_days: u32,
    /// The time until due, in (fractional) days.
    pub interval_days: f64,
}

/// The four outcomes of answering a card, again to easy; due times never decrease.
pub type Outcomes = [Outcome; 4];

/// FSRS-6 with the module's settings. Cheap to share: the FSRS model is 21 numbers
/// (`Send + Sync`), built once.
#[derive(Debug, Clone)]
pub struct Scheduler {
    fsrs: FSRS,
    desired_retention: f32,
    learning_steps: Vec<Duration>,
    relearning_steps: Vec<Duration>,
    maximum_interval_days: u32,
    fuzz: bool,
}

/// The share of an interval fuzz may move it, each way.
const FUZZ_SHARE: f64 = 0.05;
/// Intervals shorter than this many days are never fuzzed.
const FUZZ_FROM_DAYS: u32 = 3;

impl Scheduler {
    /// The scheduler of `config`, with FSRS-6's default parameters.
    ///
    /// # Errors
    /// [`Error::Config`] when the section is invalid (see [`crate::Config::validate`]).
    pub fn new(config: &FlashcardsConfig) -> Result<Self> {
        if let Some(problem) = config.problem() {
            return Err(Error::Config(problem));
        }
        let fsrs = FSRS::new(&DEFAULT_PARAMETERS)
            .map_err(|e| Error::Config(format!("FSRS parameters: {e:?}")))?;
        let steps = |steps: &[std::time::Duration]| {
            steps
                .iter()
                .map(|step| Duration::from_std(*step).unwrap_or(Duration::MAX))
                .collect()
        };
        // Within 0.7..=0.99 (checked above): exactly representable enough as f32.
        #[allow(clippy::cast_possible_truncation)]
        let desired_retention = config.desired_retention as f32;
        Ok(Self {
            fsrs,
            desired_retention,
            learning_steps: steps(&config.learning_steps),
            relearning_steps: steps(&config.relearning_steps),
            maximum_interval_days: config.maximum_interval_days,
            fuzz: config.fuzz,
        })
    }

    /// What answering `card` at `now` with `rating` does (`seed`: see [`fuzz_seed`]).
    ///
    /// # Errors
    /// [`Error::Internal`] when the stored memory state is not finite.
    pub fn answer(
        &self,
        card: &Schedule,
        rating: Rating,
        now: Timestamp,
        seed: u64,
    ) -> Result<Outcome> {
        Ok(self.outcomes(card, now, seed)?[rating.index()])
    }

    /// The outcome of each answer, again to easy, at `now`. [`Self::answer`] picks one of
    /// these, so a preview and the review that follows it agree.
    ///
    /// # Errors
    /// [`Error::Internal`] when the stored memory state is not finite.
    pub fn outcomes(&self, card: &Schedule, now: Timestamp, seed: u64) -> Result<Outcomes> {
        let elapsed_days = match card.last_review {
            Some(last) if now > last => u32::try_from((now - last).num_days()).unwrap_or(u32::MAX),
            _ => 0,
        };
        #[allow(clippy::cast_possible_truncation)]
        let memory = match (card.state, card.stability, card.difficulty) {
            (CardState::New, _, _) | (_, None, _) | (_, _, None) => None,
            (_, Some(stability), Some(difficulty)) => Some(MemoryState {
                stability: stability as f32,
                difficulty: difficulty as f32,
            }),
        };
        let next = self
            .fsrs
            .next_states(memory, self.desired_retention, elapsed_days)
            .map_err(|e| Error::Internal(format!("FSRS refused a memory state: {e:?}")))?;
        let states = [next.again, next.hard, next.good, next.easy];
        let days = self.review_days(
            states.each_ref().map(|s| f64::from(s.interval)),
            card.state == CardState::Review,
            seed,
        );
        let mut outcomes = Rating::ALL.map(|rating| {
            let i = rating.index();
            let (state, step, due) = self.transition(card, rating, now, days[i]);
            let memory = states[i].memory;
            let schedule = Schedule {
                state,
                step,
                due,
                stability: Some(f64::from(memory.stability)),
                difficulty: Some(f64::from(memory.difficulty)),
                reps: card.reps.saturating_add(1),
                lapses: card.lapses
                    + u32::from(card.state == CardState::Review && rating == Rating::Again),
                last_review: Some(now),
            };
            Outcome {
                rating,
                schedule,
                elapsed_days,
                scheduled_days: 0,
                interval_days: 0.0,
            }
        });
        // Never earlier than the previous answer's due time (steps longer than a day, or a
        // day interval shorter than a step, could otherwise invert them).
        for i in 1..outcomes.len() {
            let floor = outcomes[i - 1].schedule.due;
            if outcomes[i].schedule.due < floor {
                outcomes[i].schedule.due = floor;
            }
        }
        for outcome in &mut outcomes {
            let until = outcome.schedule.due - now;
            outcome.interval_days =
                until.num_microseconds().unwrap_or(i64::MAX) as f64 / MICROS_PER_DAY;
            if outcome.schedule.state == CardState::Review {
                outcome.scheduled_days = u32::try_from(until.num_days().max(0)).unwrap_or(u32::MAX);
            }
        }
        Ok(outcomes)
    }

    /// The state, step and due time answering `rating` gives, `review_days` being the day
    /// interval of that rating should the card (stay in or) graduate to review.
    fn transition(
        &self,
        card: &Schedule,
        rating: Rating,
        now: Timestamp,
        review_days: u32,
    ) -> (CardState, u32, Timestamp) {
        let review = (
            CardState::Review,
            0,
            now + Duration::days(i64::from(review_days)),
        );
        let (steps, short_state) = match card.state {
            CardState::New | CardState::Learning => (&self.learning_steps, CardState::Learning),
            CardState::Relearning => (&self.relearning_steps, CardState::Relearning),
            CardState::Review => {
                return match (rating, self.relearning_steps.first()) {
                    (Rating::Again, Some(first)) => {
                        (CardState::Relearning, 0, self.after(now, *first))
                    }
                    _ => review,
                };
            }
        };
        let Some(last) = steps.len().checked_sub(1) else {
            return review;
        };
        // A step index beyond the steps (they were shortened since) is the last step.
        let at = usize::try_from(card.step).map_or(last, |step| step.min(last));
        let at = if card.state == CardState::New { 0 } else { at };
        let step = |index: usize| u32::try_from(index).unwrap_or(u32::MAX);
        match rating {
            Rating::Again => (short_state, 0, self.after(now, steps[0])),
            Rating::Hard => {
                let delay = match (at, steps.get(1)) {
                    (0, Some(second)) => (steps[0] + *second) / 2,
                    (0, None) => steps[0] * 3 / 2,
                    (at, _) => steps[at],
                };
                (short_state, step(at), self.after(now, delay))
            }
            Rating::Good if at < last => {
                (short_state, step(at + 1), self.after(now, steps[at + 1]))
            }
            Rating::Good | Rating::Easy => review,
        }
    }

    /// `now` plus a short-term step, never past the maximum interval: steps may be configured
    /// longer than it, and the due times of all four answers must stay within it.
    fn after(&self, now: Timestamp, step: Duration) -> Timestamp {
        now + step.min(Duration::days(i64::from(self.maximum_interval_days)))
    }

    /// Whole-day intervals of the four answers: FSRS's intervals rounded, fuzzed when on,
    /// kept within 1..=maximum, then hard ≤ good < easy (and, for a card in review,
    /// hard < good as well, as Anki does).
    fn review_days(&self, intervals: [f64; 4], in_review: bool, seed: u64) -> [u32; 4] {
        let max = self.maximum_interval_days;
        let mut days = [0_u32; 4];
        for (i, interval) in intervals.into_iter().enumerate() {
            let rounded = if interval.is_finite() {
                // Clamped into u32 range first, so the cast is exact.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let whole = interval.round().clamp(1.0, f64::from(max)) as u32;
                whole
            } else {
                max
            };
            days[i] = if self.fuzz {
                fuzzed(rounded, max, mix(seed, i as u64))
            } else {
                rounded
            };
        }
        let [again, mut hard, mut good, mut easy] = days;
        hard = hard.min(good);
        if in_review {
            good = good.max(hard.saturating_add(1));
        }
        easy = easy.max(good.saturating_add(1));
        [again, hard, good, easy].map(|d| d.clamp(1, max))
    }
}

const MICROS_PER_DAY: f64 = 86_400_000_000.0;

/// `days` moved by up to ±5 % (at least ±1 day) for intervals of 3 days or more, by the
/// random number `random`; within 1..=`max`.
fn fuzzed(days: u32, max: u32, random: u64) -> u32 {
    if days < FUZZ_FROM_DAYS {
        return days;
    }
    // Rounded within u32 range: exact.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let delta = ((f64::from(days) * FUZZ_SHARE).round() as u32).max(1);
    let span = u64::from(delta) * 2 + 1;
    let offset = u32::try_from(random % span).unwrap_or(0);
    (days - delta + offset).clamp(1, max)
}

/// The fuzz seed of a review: the card and how many answers it had before it, so the same
/// review always draws the same numbers and the next one different ones.
pub fn fuzz_seed(card: Uuid, reps: u32) -> u64 {
    let (high, low) = card.as_u64_pair();
    mix(high ^ low.rotate_left(17), u64::from(reps))
}

/// SplitMix64 of `seed` advanced `stream + 1` times: a well-mixed number per (seed, stream).
fn mix(seed: u64, stream: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15_u64.wrapping_mul(stream.wrapping_add(1)));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
