//! Flashcards (API.md §5): the wire types (decks, cards, reviews, previews, the study queue,
//! stats), request bodies, and the parsers that validate their fields.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::text::{self, Lines};
use crate::time::Timestamp;
use crate::wire::Patch;

/// Longest deck name, in characters.
pub const DECK_NAME_MAX: usize = 200;
/// Longest deck description, in characters.
pub const DECK_DESCRIPTION_MAX: usize = 10_000;
/// Longest card side (`front`, `back`), in characters.
pub const CARD_TEXT_MAX: usize = 10_000;
/// Longest `?search=` text of the deck list, in characters.
pub const SEARCH_MAX: usize = 200;
/// Longest review duration a client may report: one day, in milliseconds.
pub const DURATION_MS_MAX: u64 = 24 * 60 * 60 * 1000;
/// Cards the study queue answers when `?limit=` is not given.
pub const STUDY_LIMIT_DEFAULT: u32 = 20;
/// Most cards the study queue answers (`?limit=` is clamped to it).
pub const STUDY_LIMIT_MAX: u32 = 100;
/// Entries of `by_day` in stats: the last 30 days, today included.
pub const STATS_DAYS: usize = 30;

/// Where a card is in its life: new (never reviewed), learning (short-term steps after its
/// first reviews), review (scheduled in days by FSRS), relearning (short-term steps after a
/// lapse, then back to review).
#[cfg_attr(
    feature = "poem-openapi",
    derive(poem_openapi::Enum),
    oai(rename_all = "lowercase")
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CardState {
    /// Never reviewed.
    New,
    /// In its learning steps.
    Learning,
    /// Scheduled in days.
    Review,
    /// Forgotten in review, in its relearning steps.
    Relearning,
}

impl CardState {
    /// Every state, in life order.
    pub const ALL: [Self; 4] = [Self::New, Self::Learning, Self::Review, Self::Relearning];

    /// The stored and serialized name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Learning => "learning",
            Self::Review => "review",
            Self::Relearning => "relearning",
        }
    }

    /// Parses a stored or query-string name.
    ///
    /// # Errors
    /// A message listing the valid states.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "new" => Ok(Self::New),
            "learning" => Ok(Self::Learning),
            "review" => Ok(Self::Review),
            "relearning" => Ok(Self::Relearning),
            other => Err(format!(
                "\"{other}\" is not a valid choice: new, learning, review or relearning."
            )),
        }
    }
}

/// A stored value that is not one of the names of its enum.
#[derive(Debug, thiserror::Error)]
#[error("unknown stored name {0:?}")]
pub struct UnknownName(pub String);

impl TryFrom<String> for CardState {
    type Error = UnknownName;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value).map_err(|_| UnknownName(value))
    }
}

/// How well a card was remembered.
#[cfg_attr(
    feature = "poem-openapi",
    derive(poem_openapi::Enum),
    oai(rename_all = "lowercase")
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Rating {
    /// Forgotten.
    Again,
    /// Remembered with serious difficulty.
    Hard,
    /// Remembered.
    Good,
    /// Remembered easily.
    Easy,
}

impl Rating {
    /// Every rating, from again to easy.
    pub const ALL: [Self; 4] = [Self::Again, Self::Hard, Self::Good, Self::Easy];

    /// The stored and serialized name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Again => "again",
            Self::Hard => "hard",
            Self::Good => "good",
            Self::Easy => "easy",
        }
    }

    /// FSRS's number of the rating: again 1, hard 2, good 3, easy 4.
    pub fn number(self) -> u8 {
        match self {
            Self::Again => 1,
            Self::Hard => 2,
            Self::Good => 3,
            Self::Easy => 4,
        }
    }

    /// The rating of FSRS's number (1–4).
    pub fn from_number(number: i64) -> Option<Self> {
        match number {
            1 => Some(Self::Again),
            2 => Some(Self::Hard),
            3 => Some(Self::Good),
            4 => Some(Self::Easy),
            _ => None,
        }
    }

    /// Its position in [`Self::ALL`] (0–3).
    pub fn index(self) -> usize {
        usize::from(self.number() - 1)
    }
}

impl TryFrom<String> for Rating {
    type Error = UnknownName;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        match value.as_str() {
            "again" => Ok(Self::Again),
            "hard" => Ok(Self::Hard),
            "good" => Ok(Self::Good),
            "easy" => Ok(Self::Easy),
            _ => Err(UnknownName(value)),
        }
    }
}

/// A deck as the API shows it.
#[cfg_attr(feature = "poem-openapi", derive(poem_openapi::Object))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Deck {
    /// UUID v7.
    pub id: Uuid,
    /// 1–200 characters.
    pub name: String,
    /// At most 10 000 characters (may be empty).
    pub description: String,
    /// Cards in the deck.
    pub card_count: u64,
    /// Learning, relearning and review cards due now (not new cards).
    pub due_count: u64,
    /// Creation time.
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Last change of its name or description.
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// A card as the API shows it, with its schedule.
#[cfg_attr(feature = "poem-openapi", derive(poem_openapi::Object))]
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Card {
    /// UUID v7.
    pub id: Uuid,
    /// The deck it belongs to.
    pub deck_id: Uuid,
    /// The question side, 1–10 000 characters.
    pub front: String,
    /// The answer side, at most 10 000 characters.
    pub back: String,
    /// Where it is in its life.
    pub state: CardState,
    /// When it is due (a new card: when it was created).
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub due: Timestamp,
    /// FSRS stability in days (the interval at which recall falls to 90 %); `null` while new.
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    pub stability: Option<f64>,
    /// FSRS difficulty, 1–10; `null` while new.
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    pub difficulty: Option<f64>,
    /// Reviews so far.
    pub reps: u32,
    /// Times forgotten in review.
    pub lapses: u32,
    /// The last review; `null` while new.
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    #[serde(with = "crate::time::rfc3339_option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_review: Option<Timestamp>,
    /// Creation time.
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Last change of its text, deck or schedule.
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// One review of a card, as its history shows it. Reviews are never changed or deleted
/// (only with their card).
#[cfg_attr(feature = "poem-openapi", derive(poem_openapi::Object))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Review {
    /// UUID v7.
    pub id: Uuid,
    /// The card reviewed.
    pub card_id: Uuid,
    /// The answer.
    pub rating: Rating,
    /// The card's state when it was reviewed.
    pub state_before: CardState,
    /// When.
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub reviewed_at: Timestamp,
    /// Whole days since the card's previous review (0 for its first).
    pub elapsed_days: u32,
    /// Whole days until the card was next due (0 for a short-term step).
    pub scheduled_days: u32,
    /// How long the answer took, in milliseconds, when the client said.
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    pub duration_ms: Option<u64>,
}

/// `POST /cards/{id}/reviews` answer: the review and the card's new schedule.
#[cfg_attr(feature = "poem-openapi", derive(poem_openapi::Object))]
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ReviewCreated {
    /// The review recorded.
    pub review: Review,
    /// The card as rescheduled.
    pub card: Card,
}

/// What one answer would do to a card.
#[cfg_attr(feature = "poem-openapi", derive(poem_openapi::Object))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct PreviewEntry {
    /// When the card would be due.
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub due: Timestamp,
    /// The time until then, in days (fractions for short-term steps: 10 minutes ≈ 0.0069).
    pub interval_days: f64,
}

/// `GET /cards/{id}/preview`: the schedule each answer would give, never decreasing from
/// again to easy. Nothing is written.
#[cfg_attr(feature = "poem-openapi", derive(poem_openapi::Object))]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Preview {
    /// After "again".
    pub again: PreviewEntry,
    /// After "hard".
    pub hard: PreviewEntry,
    /// After "good".
    pub good: PreviewEntry,
    /// After "easy".
    pub easy: PreviewEntry,
}

/// `GET /study`: what to study now.
#[cfg_attr(feature = "poem-openapi", derive(poem_openapi::Object))]
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StudyQueue {
    /// Due cards (learning, relearning, review), most overdue first, then new cards up to
    /// the day's remaining new-card allowance; at most `limit`.
    pub cards: Vec<Card>,
    /// Learning, relearning and review cards due now, in scope (all of them, not only those
    /// in `cards`).
    pub due_count: u64,
    /// New cards that may still be started today in scope: the new cards there, at most the
    /// user's remaining daily allowance.
    pub new_count: u64,
}

/// Cards per state.
#[cfg_attr(feature = "poem-openapi", derive(poem_openapi::Object))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct CardsByState {
    /// New cards.
    pub new: u64,
    /// Learning cards.
    pub learning: u64,
    /// Review cards.
    pub review: u64,
    /// Relearning cards.
    pub relearning: u64,
}

/// One day of `by_day`.
#[cfg_attr(feature = "poem-openapi", derive(poem_openapi::Object))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct DayStats {
    /// The day (in the configured time zone), `YYYY-MM-DD`.
    #[schema(value_type = String, format = Date)]
    pub date: chrono::NaiveDate,
    /// Reviews that day.
    pub reviews: u64,
    /// "again" answers.
    pub again: u64,
    /// "hard" answers.
    pub hard: u64,
    /// "good" answers.
    pub good: u64,
    /// "easy" answers.
    pub easy: u64,
}

/// `GET /stats` and `GET /decks/{id}/stats`. Days are calendar days of the configured time
/// zone. A deck's figures count the reviews made while the card was in that deck (a card
/// moved keeps its earlier reviews with its earlier deck).
#[cfg_attr(feature = "poem-openapi", derive(poem_openapi::Object))]
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Stats {
    /// Cards.
    pub total_cards: u64,
    /// Cards per state.
    pub cards_by_state: CardsByState,
    /// Reviews ever.
    pub total_reviews: u64,
    /// Reviews today.
    pub reviews_today: u64,
    /// Cards other than new ones due before the end of today.
    pub due_today: u64,
    /// Over the last 30 days, the share of reviews of cards in review state that were not
    /// "again"; `null` without such reviews.
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    pub retention_30d: Option<f64>,
    /// Consecutive days with reviews, ending today (or yesterday, when none yet today).
    pub streak_days: u32,
    /// The last 30 days, oldest first, zero-filled.
    pub by_day: Vec<DayStats>,
}

/// `POST /decks` body.
#[cfg_attr(
    feature = "poem-openapi",
    derive(poem_openapi::Object),
    oai(deny_unknown_fields)
)]
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeckInput {
    /// 1–200 characters, one line.
    pub name: String,
    /// At most 10 000 characters (default `""`).
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    #[serde(default)]
    pub description: Option<String>,
}

/// `PATCH /decks/{id}` body: only the fields given change.
#[cfg_attr(
    feature = "poem-openapi",
    derive(poem_openapi::Object),
    oai(deny_unknown_fields)
)]
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeckPatch {
    /// New name.
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub name: Patch<String>,
    /// New description.
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub description: Patch<String>,
}

/// `POST /decks/{id}/cards` body.
#[cfg_attr(
    feature = "poem-openapi",
    derive(poem_openapi::Object),
    oai(deny_unknown_fields)
)]
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CardInput {
    /// The question side, 1–10 000 characters.
    pub front: String,
    /// The answer side, at most 10 000 characters (default `""`).
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    #[serde(default)]
    pub back: Option<String>,
}

/// `PATCH /cards/{id}` body: only the fields given change; `deck_id` moves the card to
/// another of the caller's decks (its schedule and history go with it).
#[cfg_attr(
    feature = "poem-openapi",
    derive(poem_openapi::Object),
    oai(deny_unknown_fields)
)]
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CardPatch {
    /// New question side.
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub front: Patch<String>,
    /// New answer side.
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub back: Patch<String>,
    /// The deck to move it to (one of the caller's).
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    #[serde(default)]
    #[schema(value_type = Option<Uuid>)]
    pub deck_id: Patch<Uuid>,
}

/// `POST /cards/{id}/reviews` body.
#[cfg_attr(
    feature = "poem-openapi",
    derive(poem_openapi::Object),
    oai(deny_unknown_fields)
)]
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    /// The answer.
    pub rating: Rating,
    /// How long the answer took, in milliseconds (at most one day).
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    #[serde(default)]
    pub duration_ms: Option<u64>,
}

/// Validated deck fields, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeckFields {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
}

/// Validated changes of a deck PATCH (`None`: unchanged).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeckChanges {
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
}

/// Validated changes of a card PATCH (`None`: unchanged).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardChanges {
    /// New front.
    pub front: Option<String>,
    /// New back.
    pub back: Option<String>,
    /// The deck to move to.
    pub deck_id: Option<Uuid>,
}

/// Checks a deck name: trimmed, 1–200 characters, one line.
///
/// # Errors
/// A message when blank, too long or holding a control character.
pub fn parse_deck_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    text::check_controls(name, Lines::Single)?;
    if name.is_empty() {
        return Err("This field may not be blank.".into());
    }
    if text::longer_than(name, DECK_NAME_MAX) {
        return Err(text::too_long(DECK_NAME_MAX));
    }
    Ok(name.to_string())
}

/// Checks a deck description: at most 10 000 characters, multi-line.
///
/// # Errors
/// A message when too long or holding a refused control character.
pub fn parse_description(raw: &str) -> Result<String, String> {
    multi_line(raw, DECK_DESCRIPTION_MAX)
}

/// Checks a card's front: 1–10 000 characters (not only whitespace), multi-line.
///
/// # Errors
/// A message when blank, too long or holding a refused control character.
pub fn parse_front(raw: &str) -> Result<String, String> {
    let front = multi_line(raw, CARD_TEXT_MAX)?;
    if front.trim().is_empty() {
        return Err("This field may not be blank.".into());
    }
    Ok(front)
}

/// Checks a card's back: at most 10 000 characters, multi-line.
///
/// # Errors
/// A message when too long or holding a refused control character.
pub fn parse_back(raw: &str) -> Result<String, String> {
    multi_line(raw, CARD_TEXT_MAX)
}

/// Checks a review duration: at most one day.
///
/// # Errors
/// A message when longer.
pub fn parse_duration_ms(duration_ms: u64) -> Result<u64, String> {
    if duration_ms > DURATION_MS_MAX {
        return Err(format!(
            "Ensure this value is less than or equal to {DURATION_MS_MAX}."
        ));
    }
    Ok(duration_ms)
}

fn multi_line(raw: &str, max: usize) -> Result<String, String> {
    if text::longer_than(raw, max) {
        return Err(text::too_long(max));
    }
    text::check_controls(raw, Lines::Multi)?;
    Ok(raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_texts_are_checked() {
        assert_eq!(parse_deck_name("  Spanish ").unwrap(), "Spanish");
        assert!(parse_deck_name("  ").is_err());
        assert!(parse_deck_name("a\nb").is_err());
        assert!(parse_deck_name(&"é".repeat(DECK_NAME_MAX)).is_ok());
        assert!(parse_deck_name(&"x".repeat(DECK_NAME_MAX + 1)).is_err());
        assert!(parse_description(&"x".repeat(DECK_DESCRIPTION_MAX)).is_ok());
        assert!(parse_description(&"x".repeat(DECK_DESCRIPTION_MAX + 1)).is_err());
        assert_eq!(parse_front("¿Qué?\n").unwrap(), "¿Qué?\n");
        assert!(parse_front(" \n\t").is_err());
        assert!(parse_back("").is_ok());
        assert!(parse_back(&"x".repeat(CARD_TEXT_MAX + 1)).is_err());
        for parse in [parse_front, parse_back, parse_description, parse_deck_name] {
            assert_eq!(parse("a\0b").unwrap_err(), text::NUL_MESSAGE);
            assert!(parse("bell\u{7}").is_err());
        }
        assert!(parse_duration_ms(DURATION_MS_MAX).is_ok());
        assert!(parse_duration_ms(DURATION_MS_MAX + 1).is_err());
    }

    #[test]
    fn names_round_trip() {
        for state in CardState::ALL {
            assert_eq!(CardState::parse(state.as_str()).unwrap(), state);
            let json = serde_json::to_value(state).unwrap();
            assert_eq!(json, state.as_str());
        }
        assert!(CardState::parse("suspended").is_err());
        for (i, rating) in Rating::ALL.into_iter().enumerate() {
            assert_eq!(rating.index(), i);
            assert_eq!(
                Rating::from_number(i64::from(rating.number())),
                Some(rating)
            );
            assert_eq!(
                Rating::try_from(rating.as_str().to_string()).unwrap(),
                rating
            );
        }
        assert_eq!(Rating::from_number(0), None);
    }

    #[test]
    fn bodies_refuse_unknown_fields() {
        let card: Result<CardPatch, _> = serde_json::from_str(r#"{"front":"a","reps":3}"#);
        assert!(card.is_err());
        let review: ReviewInput =
            serde_json::from_str(r#"{"rating":"good","duration_ms":1200}"#).unwrap();
        assert_eq!(
            (review.rating, review.duration_ms),
            (Rating::Good, Some(1200))
        );
        let moved: CardPatch =
            serde_json::from_str(&format!(r#"{{"deck_id":"{}"}}"#, Uuid::nil())).unwrap();
        assert_eq!(moved.deck_id, Patch::Value(Uuid::nil()));
    }
}
