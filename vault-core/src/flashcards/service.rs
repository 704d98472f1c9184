//! The flashcards service: validation, ownership scoping, scheduling and the answers of
//! API.md §5.

use std::sync::Arc;

use chrono::{Duration, NaiveDate, TimeZone};
use chrono_tz::Tz;
use uuid::Uuid;

use super::model::*;
use super::schedule::Scheduler;
use super::store::{CardFilter, CardRecord, DeckRecord, FlashcardStore, ReviewRecord};
use crate::config::FlashcardsConfig;
use crate::error::{Error, FieldErrors, Result};
use crate::ownership::{scope, Policy, Verb};
use crate::page::{Page, Query};
use crate::principal::Principal;
use crate::time::{Clock, SystemClock, Timestamp};

/// How many times a review is computed again when another review of the same card landed
/// between reading it and writing (see [`FlashcardService::review`]).
pub const REVIEW_ATTEMPTS: usize = 3;

/// Decks, cards, reviews, the study queue and stats. Obtain it from [`crate::Vault::flashcards`].
pub struct FlashcardService {
    pub(super) store: Arc<dyn FlashcardStore>,
    pub(super) scheduler: Arc<Scheduler>,
    pub(super) time_zone: Tz,
    pub(super) new_cards_per_day: u32,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) api_prefix: String,
    pub(super) public_base_url: Option<String>,
}

impl std::fmt::Debug for FlashcardService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlashcardService")
            .field("time_zone", &self.time_zone)
            .finish_non_exhaustive()
    }
}

pub(super) fn owner(caller: &Principal, verb: Verb) -> Result<Uuid> {
    scope(Policy::Private, Some(caller), verb, false)?
        .owner()
        .ok_or(Error::PermissionDenied)
}

/// A path id: malformed ids are simply not found.
pub(super) fn parse_id(raw: &str) -> Result<Uuid> {
    Uuid::parse_str(raw).map_err(|_| Error::NotFound)
}

impl FlashcardService {
    /// The service over a store, with `config`'s scheduling; links use `api_prefix` and
    /// `public_base_url`. Time comes from the system clock (see [`Self::with_clock`]).
    ///
    /// # Errors
    /// [`Error::Config`] when `config` is invalid.
    pub fn new(
        store: Arc<dyn FlashcardStore>,
        config: &FlashcardsConfig,
        api_prefix: &str,
        public_base_url: Option<String>,
    ) -> Result<Self> {
        Ok(Self {
            store,
            scheduler: Arc::new(Scheduler::new(config)?),
            time_zone: config.time_zone,
            new_cards_per_day: config.new_cards_per_day,
            clock: Arc::new(SystemClock),
            api_prefix: api_prefix.to_string(),
            public_base_url,
        })
    }

    /// Reads the time from `clock` instead of the system clock (tests that move time).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The path of a deck (for `Location`).
    pub fn deck_location(&self, id: Uuid) -> String {
        format!("{}/decks/{id}", self.api_prefix)
    }

    /// The path of a card (for `Location`).
    pub fn card_location(&self, id: Uuid) -> String {
        format!("{}/cards/{id}", self.api_prefix)
    }

    // --- decks ---------------------------------------------------------------------------------

    /// `GET /decks`: `?search=` (a substring of the name, at most [`SEARCH_MAX`] characters)
    /// and pagination, by name. Page links point at `{api_prefix}/decks`.
    ///
    /// # Errors
    /// [`Error::Validation`] naming a bad query parameter; [`Error::InvalidPage`].
    pub async fn list_decks(&self, caller: &Principal, query: &Query) -> Result<Page<Deck>> {
        let owner = owner(caller, Verb::Read)?;
        let (page, mut errors) = page_request(query)?;
        let search = query.search_text(SEARCH_MAX, &mut errors);
        let page = match page {
            Some(page) if errors.is_empty() => page,
            _ => return Err(Error::Validation(errors)),
        };
        let (count, decks) = self
            .store
            .list_decks(owner, search, page, self.clock.now())
            .await?;
        let decks = decks.into_iter().map(to_deck).collect();
        page.into_page(
            count,
            decks,
            &format!("{}/decks", self.api_prefix),
            query,
            self.public_base_url.as_deref(),
        )
    }

    /// `POST /decks`.
    ///
    /// # Errors
    /// [`Error::Validation`] on bad fields.
    pub async fn create_deck(&self, caller: &Principal, input: DeckInput) -> Result<Deck> {
        let owner = owner(caller, Verb::Write)?;
        let mut errors = FieldErrors::new();
        let name = errors.check("name", parse_deck_name(&input.name));
        let description = errors.check(
            "description",
            parse_description(input.description.as_deref().unwrap_or_default()),
        );
        errors.clone().into_result()?;
        let (Some(name), Some(description)) = (name, description) else {
            return Err(Error::Validation(errors));
        };
        let record = self
            .store
            .create_deck(
                owner,
                Uuid::now_v7(),
                &DeckFields { name, description },
                self.clock.now(),
            )
            .await?;
        Ok(to_deck(record))
    }

    /// `GET /decks/{id}`.
    ///
    /// # Errors
    /// [`Error::NotFound`] for unknown, malformed or other users' ids.
    pub async fn get_deck(&self, caller: &Principal, id: &str) -> Result<Deck> {
        let owner = owner(caller, Verb::Read)?;
        let record = self
            .store
            .get_deck(owner, parse_id(id)?, self.clock.now())
            .await?
            .ok_or(Error::NotFound)?;
        Ok(to_deck(record))
    }

    /// `PATCH /decks/{id}`: only the given fields.
    ///
    /// # Errors
    /// [`Error::NotFound`], [`Error::Validation`].
    pub async fn patch_deck(&self, caller: &Principal, id: &str, patch: DeckPatch) -> Result<Deck> {
        let owner = owner(caller, Verb::Write)?;
        let id = parse_id(id)?;
        let mut errors = FieldErrors::new();
        let name = errors
            .check("name", patch.name.non_null())
            .flatten()
            .and_then(|n| errors.check("name", parse_deck_name(&n)));
        let description = errors
            .check("description", patch.description.non_null())
            .flatten()
            .and_then(|d| errors.check("description", parse_description(&d)));
        errors.into_result()?;
        let record = self
            .store
            .patch_deck(
                owner,
                id,
                &DeckChanges { name, description },
                self.clock.now(),
            )
            .await?
            .ok_or(Error::NotFound)?;
        Ok(to_deck(record))
    }

    /// `DELETE /decks/{id}`: with its cards, their reviews and its rollups.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn delete_deck(&self, caller: &Principal, id: &str) -> Result<()> {
        let owner = owner(caller, Verb::Write)?;
        if self.store.delete_deck(owner, parse_id(id)?).await? {
            Ok(())
        } else {
            Err(Error::NotFound)
        }
    }

    // --- cards ---------------------------------------------------------------------------------

    /// `GET /decks/{id}/cards`: `?state=` (one state), `?due=true` (cards other than new ones
    /// due now, most overdue first; `false` is no filter) and pagination; oldest first
    /// otherwise. Page links point at `{api_prefix}/decks/{id}/cards`.
    ///
    /// # Errors
    /// [`Error::NotFound`] for a deck that is not the caller's; [`Error::Validation`] naming
    /// a bad query parameter; [`Error::InvalidPage`].
    pub async fn list_cards(
        &self,
        caller: &Principal,
        deck_id: &str,
        query: &Query,
    ) -> Result<Page<Card>> {
        let owner = owner(caller, Verb::Read)?;
        let deck = parse_id(deck_id)?;
        let (page, mut errors) = page_request(query)?;
        let state = query
            .get("state")
            .filter(|_| errors.get("state").is_none())
            .and_then(|s| errors.check("state", CardState::parse(s)));
        let due = match query.bool("due") {
            Ok(due) => due.unwrap_or(false),
            Err(Error::Validation(e)) => {
                if errors.get("due").is_none() {
                    errors.merge(e);
                }
                false
            }
            Err(other) => return Err(other),
        };
        let page = match page {
            Some(page) if errors.is_empty() => page,
            _ => return Err(Error::Validation(errors)),
        };
        let now = self.clock.now();
        self.store
            .get_deck(owner, deck, now)
            .await?
            .ok_or(Error::NotFound)?;
        let filter = CardFilter {
            state,
            due_at: due.then_some(now),
        };
        let (count, cards) = self.store.list_cards(owner, deck, filter, page).await?;
        let cards = cards.into_iter().map(to_card).collect();
        page.into_page(
            count,
            cards,
            &format!("{}/decks/{deck}/cards", self.api_prefix),
            query,
            self.public_base_url.as_deref(),
        )
    }

    /// `POST /decks/{id}/cards`: a new card, due at once.
    ///
    /// # Errors
    /// [`Error::NotFound`] for a deck that is not the caller's; [`Error::Validation`].
    pub async fn create_card(
        &self,
        caller: &Principal,
        deck_id: &str,
        input: CardInput,
    ) -> Result<Card> {
        let owner = owner(caller, Verb::Write)?;
        let deck = parse_id(deck_id)?;
        let mut errors = FieldErrors::new();
        let front = errors.check("front", parse_front(&input.front));
        let back = errors.check(
            "back",
            parse_back(input.back.as_deref().unwrap_or_default()),
        );
        errors.clone().into_result()?;
        let (Some(front), Some(back)) = (front, back) else {
            return Err(Error::Validation(errors));
        };
        let record = self
            .store
            .create_card(owner, deck, Uuid::now_v7(), &front, &back, self.clock.now())
            .await?
            .ok_or(Error::NotFound)?;
        Ok(to_card(record))
    }

    /// `GET /cards/{id}`.
    ///
    /// # Errors
    /// [`Error::NotFound`] for unknown, malformed or other users' ids.
    pub async fn get_card(&self, caller: &Principal, id: &str) -> Result<Card> {
        let owner = owner(caller, Verb::Read)?;
        Ok(to_card(self.card_of(owner, id).await?))
    }

    /// `PATCH /cards/{id}`: `front`, `back`, and `deck_id` to move the card to another of the
    /// caller's decks (both decks' counters change in the same transaction).
    ///
    /// # Errors
    /// [`Error::NotFound`] for a card, or a target deck, that is not the caller's;
    /// [`Error::Validation`].
    pub async fn patch_card(&self, caller: &Principal, id: &str, patch: CardPatch) -> Result<Card> {
        let owner = owner(caller, Verb::Write)?;
        let id = parse_id(id)?;
        let mut errors = FieldErrors::new();
        let front = errors
            .check("front", patch.front.non_null())
            .flatten()
            .and_then(|f| errors.check("front", parse_front(&f)));
        let back = errors
            .check("back", patch.back.non_null())
            .flatten()
            .and_then(|b| errors.check("back", parse_back(&b)));
        let deck_id = errors.check("deck_id", patch.deck_id.non_null()).flatten();
        errors.into_result()?;
        let changes = CardChanges {
            front,
            back,
            deck_id,
        };
        let record = self
            .store
            .patch_card(owner, id, &changes, self.clock.now())
            .await?
            .ok_or(Error::NotFound)?;
        Ok(to_card(record))
    }

    /// `DELETE /cards/{id}`: with its reviews.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn delete_card(&self, caller: &Principal, id: &str) -> Result<()> {
        let owner = owner(caller, Verb::Write)?;
        if self.store.delete_card(owner, parse_id(id)?).await? {
            Ok(())
        } else {
            Err(Error::NotFound)
        }
    }

    // --- helpers -------------------------------------------------------------------------------

    pub(super) async fn card_of(&self, owner: Uuid, id: &str) -> Result<CardRecord> {
        self.store
            .get_card(owner, parse_id(id)?)
            .await?
            .ok_or(Error::NotFound)
    }

    /// The calendar day of `at` in the configured time zone.
    pub fn local_day(&self, at: Timestamp) -> NaiveDate {
        at.with_timezone(&self.time_zone).date_naive()
    }

    /// The first instant of local day `day` (midnight, or the first time that exists when a
    /// clock change skips midnight).
    pub(super) fn start_of(&self, day: NaiveDate) -> Timestamp {
        let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
        let mut local = midnight;
        // A gap is at most a few hours; look for the first existing minute after midnight.
        for _ in 0..(24 * 60) {
            if let Some(at) = self.time_zone.from_local_datetime(&local).earliest() {
                return at.with_timezone(&chrono::Utc);
            }
            local += Duration::minutes(1);
        }
        midnight.and_utc()
    }
}

fn to_deck(r: DeckRecord) -> Deck {
    Deck {
        id: r.id,
        name: r.name,
        description: r.description,
        card_count: r.cards.total(),
        due_count: r.due_count,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

pub(super) fn to_card(r: CardRecord) -> Card {
    let s = r.schedule;
    Card {
        id: r.id,
        deck_id: r.deck_id,
        front: r.front,
        back: r.back,
        state: s.state,
        due: s.due,
        stability: s.stability,
        difficulty: s.difficulty,
        reps: s.reps,
        lapses: s.lapses,
        last_review: s.last_review,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

pub(super) fn to_review(r: ReviewRecord) -> Review {
    Review {
        id: r.id,
        card_id: r.card_id,
        rating: r.rating,
        state_before: r.state_before,
        reviewed_at: r.reviewed_at,
        elapsed_days: r.elapsed_days,
        scheduled_days: r.scheduled_days,
        duration_ms: r.duration_ms,
    }
}

/// The page request and the errors of the query so far (a bad page is among them).
pub(super) fn page_request(
    query: &Query,
) -> Result<(Option<crate::page::PageRequest>, FieldErrors)> {
    match query.page_request() {
        Ok(page) => Ok((Some(page), FieldErrors::new())),
        Err(Error::Validation(errors)) => Ok((None, errors)),
        Err(other) => Err(other),
    }
}

/// The NUL errors of every parameter (what [`Query::page_request`] checks for list
/// endpoints), for the study queue, which has no pages.
pub(super) fn query_text_errors(query: &Query) -> FieldErrors {
    let mut nul = FieldErrors::new();
    if let Err(Error::Validation(errors)) = query.page_request() {
        for (field, messages) in errors.iter() {
            if messages.iter().any(|m| m == crate::text::NUL_MESSAGE) {
                nul.add(field, crate::text::NUL_MESSAGE);
            }
        }
    }
    nul
}

/// `?limit=` of the study queue: a whole number ≥ 1, clamped to [`STUDY_LIMIT_MAX`].
pub(super) fn parse_limit(text: &str) -> std::result::Result<u32, String> {
    match crate::page::whole_number(text) {
        Some(value) if value >= 1 => {
            Ok(u32::try_from(value.min(u64::from(STUDY_LIMIT_MAX))).unwrap_or(STUDY_LIMIT_MAX))
        }
        _ => Err("A valid integer of at least 1 is required.".into()),
    }
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
