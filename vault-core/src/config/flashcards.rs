//! The flashcards module's section: scheduling (FSRS-6 desired retention, learning and
//! relearning steps, maximum interval, fuzz), the daily new-card limit and the time zone days
//! are counted in.

use std::time::Duration;

use chrono_tz::Tz;

/// The flashcards module (API.md §5).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FlashcardsConfig {
    /// The probability of recall FSRS schedules reviews for: higher means shorter intervals
    /// and more reviews. Default 0.9; must be within 0.7..=0.99.
    pub desired_retention: f64,
    /// Short-term steps of a new card before it graduates to review. Default 1 min and
    /// 10 min; may be empty (a new card then graduates at its first review). Each step is
    /// at least 1 second and at most [`Self::MAX_STEP`]; at most [`Self::MAX_STEPS`] steps.
    pub learning_steps: Vec<Duration>,
    /// Short-term steps of a card forgotten in review ("again") before it returns to review.
    /// Default 10 min; may be empty (the card then stays in review with FSRS's interval).
    /// Same bounds as [`Self::learning_steps`].
    pub relearning_steps: Vec<Duration>,
    /// The longest review interval, in days. Default 36 500 (100 years), which is also the
    /// most it may be; at least 1.
    pub maximum_interval_days: u32,
    /// Whether review intervals of 3 days or more are spread by a few percent so cards added
    /// together do not stay due together. Default off; when on, the spread is seeded by the
    /// card and its review count, so the same review always gets the same interval.
    pub fuzz: bool,
    /// How many new cards a user may start per day, over all their decks. Default 20.
    pub new_cards_per_day: u32,
    /// The time zone whose calendar days count: today's reviews, `by_day`, streaks, the daily
    /// new-card limit. Default UTC. The example servers read `VAULT_TIME_ZONE` (an IANA name
    /// such as `Europe/Paris`).
    pub time_zone: Tz,
}

impl FlashcardsConfig {
    /// The default desired retention.
    pub const DEFAULT_DESIRED_RETENTION: f64 = 0.9;
    /// The default maximum interval, in days (100 years).
    pub const DEFAULT_MAXIMUM_INTERVAL_DAYS: u32 = 36_500;
    /// The default daily new-card limit.
    pub const DEFAULT_NEW_CARDS_PER_DAY: u32 = 20;
    /// The longest learning or relearning step.
    pub const MAX_STEP: Duration = Duration::from_secs(30 * 24 * 60 * 60);
    /// The most learning (or relearning) steps.
    pub const MAX_STEPS: usize = 20;

    /// With this desired retention.
    #[must_use]
    pub fn with_desired_retention(mut self, retention: f64) -> Self {
        self.desired_retention = retention;
        self
    }

    /// With these learning steps.
    #[must_use]
    pub fn with_learning_steps(mut self, steps: Vec<Duration>) -> Self {
        self.learning_steps = steps;
        self
    }

    /// With these relearning steps.
    #[must_use]
    pub fn with_relearning_steps(mut self, steps: Vec<Duration>) -> Self {
        self.relearning_steps = steps;
        self
    }

    /// With this maximum interval in days.
    #[must_use]
    pub fn with_maximum_interval_days(mut self, days: u32) -> Self {
        self.maximum_interval_days = days;
        self
    }

    /// With interval fuzz on or off.
    #[must_use]
    pub fn with_fuzz(mut self, fuzz: bool) -> Self {
        self.fuzz = fuzz;
        self
    }

    /// With this daily new-card limit.
    #[must_use]
    pub fn with_new_cards_per_day(mut self, limit: u32) -> Self {
        self.new_cards_per_day = limit;
        self
    }

    /// With days counted in this time zone.
    #[must_use]
    pub fn with_time_zone(mut self, time_zone: Tz) -> Self {
        self.time_zone = time_zone;
        self
    }

    /// Parses an IANA time zone name (`UTC`, `Europe/Paris`).
    ///
    /// # Errors
    /// A message naming the text when it is no known time zone.
    pub fn parse_time_zone(name: &str) -> Result<Tz, String> {
        name.trim()
            .parse::<Tz>()
            .map_err(|_| format!("{name:?} is not an IANA time zone name such as Europe/Paris"))
    }

    /// The first problem of this section, if any.
    pub(crate) fn problem(&self) -> Option<String> {
        if !(0.7..=0.99).contains(&self.desired_retention) {
            return Some("flashcards.desired_retention must be within 0.7..=0.99".into());
        }
        if !(1..=Self::DEFAULT_MAXIMUM_INTERVAL_DAYS).contains(&self.maximum_interval_days) {
            return Some("flashcards.maximum_interval_days must be within 1..=36500".into());
        }
        for (name, steps) in [
            ("learning_steps", &self.learning_steps),
            ("relearning_steps", &self.relearning_steps),
        ] {
            if steps.len() > Self::MAX_STEPS {
                return Some(format!(
                    "flashcards.{name} has more than {} steps",
                    Self::MAX_STEPS
                ));
            }
            if steps
                .iter()
                .any(|step| step.as_secs() < 1 || *step > Self::MAX_STEP)
            {
                return Some(format!(
                    "flashcards.{name}: each step must be between 1 second and 30 days"
                ));
            }
        }
        None
    }
}

impl Default for FlashcardsConfig {
    fn default() -> Self {
        Self {
            desired_retention: Self::DEFAULT_DESIRED_RETENTION,
            learning_steps: vec![Duration::from_secs(60), Duration::from_secs(600)],
            relearning_steps: vec![Duration::from_secs(600)],
            maximum_interval_days: Self::DEFAULT_MAXIMUM_INTERVAL_DAYS,
            fuzz: false,
            new_cards_per_day: Self::DEFAULT_NEW_CARDS_PER_DAY,
            time_zone: Tz::UTC,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let config = FlashcardsConfig::default();
        assert_eq!(config.desired_retention, 0.9);
        assert_eq!(
            config.learning_steps,
            [Duration::from_secs(60), Duration::from_secs(600)]
        );
        assert_eq!(config.relearning_steps, [Duration::from_secs(600)]);
        assert_eq!(config.maximum_interval_days, 36_500);
        assert!(!config.fuzz);
        assert_eq!(config.new_cards_per_day, 20);
        assert_eq!(config.time_zone, Tz::UTC);
        assert_eq!(config.problem(), None);
    }

    #[test]
    fn bad_settings_are_named() {
        let bad = |config: FlashcardsConfig| config.problem().is_some();
        let base = FlashcardsConfig::default;
        assert!(bad(base().with_desired_retention(0.69)));
        assert!(bad(base().with_desired_retention(0.995)));
        assert!(!bad(base().with_desired_retention(0.7)));
        assert!(!bad(base().with_desired_retention(0.99)));
        assert!(bad(base().with_maximum_interval_days(0)));
        assert!(bad(base().with_maximum_interval_days(36_501)));
        assert!(bad(base().with_learning_steps(vec![Duration::ZERO])));
        assert!(bad(
            base().with_relearning_steps(vec![Duration::from_secs(31 * 86_400)])
        ));
        assert!(bad(
            base().with_learning_steps(vec![Duration::from_secs(60); 21])
        ));
        assert!(!bad(base()
            .with_learning_steps(Vec::new())
            .with_relearning_steps(Vec::new())));
    }

    #[test]
    fn time_zones_parse_by_iana_name() {
        assert_eq!(
            FlashcardsConfig::parse_time_zone(" Europe/Paris "),
            Ok(Tz::Europe__Paris)
        );
        assert!(FlashcardsConfig::parse_time_zone("Mars/Olympus").is_err());
    }
}
