//! The flashcards service's reviews and what is read from them: answering a card (one
//! transaction, recomputed when another review of the card landed first), its history, the
//! preview, the study queue and the stats.

use chrono::{Duration, NaiveDate};
use uuid::Uuid;

use super::model::*;
use super::schedule::{fuzz_seed, Outcome};
use super::service::{owner, parse_id, parse_limit, query_text_errors, to_card, to_review};
use super::store::{CardRecord, ReviewApplied, ReviewRecord, ReviewWrite, StatsRows};
use super::{FlashcardService, REVIEW_ATTEMPTS};
use crate::error::{Error, Result};
use crate::ownership::Verb;
use crate::page::{Page, Query};
use crate::principal::Principal;
use crate::time::Timestamp;

impl FlashcardService {
    /// `POST /cards/{id}/reviews`: schedules the card by the answer and records the review,
    /// in one transaction.
    ///
    /// Two reviews of one card at the same time are both applied, in order: the write only
    /// lands if the card still has the `reps` it was read with; otherwise the card is read and
    /// the answer computed again on its new schedule (at most [`REVIEW_ATTEMPTS`] times in
    /// all, then 409).
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::Validation`] on `duration_ms`; [`Error::InvalidState`]
    /// (409) when other reviews kept landing first.
    pub async fn review(
        &self,
        caller: &Principal,
        id: &str,
        input: ReviewInput,
    ) -> Result<ReviewCreated> {
        let owner = owner(caller, Verb::Write)?;
        let id = parse_id(id)?;
        let duration_ms = input
            .duration_ms
            .map(parse_duration_ms)
            .transpose()
            .map_err(|message| Error::field("duration_ms", message))?;
        for _ in 0..REVIEW_ATTEMPTS {
            let card = self
                .store
                .get_card(owner, id)
                .await?
                .ok_or(Error::NotFound)?;
            let now = self.clock.now();
            let outcome = self.scheduler.answer(
                &card.schedule,
                input.rating,
                now,
                fuzz_seed(card.id, card.schedule.reps),
            )?;
            let write = self.review_write(&card, &outcome, now, duration_ms);
            match self.store.record_review(owner, &write).await? {
                ReviewApplied::Applied { card, review } => {
                    return Ok(ReviewCreated {
                        review: to_review(review),
                        card: to_card(card),
                    })
                }
                ReviewApplied::Stale => continue,
            }
        }
        Err(Error::InvalidState(
            "Other reviews of this card kept landing first; try again.".into(),
        ))
    }

    fn review_write(
        &self,
        card: &CardRecord,
        outcome: &Outcome,
        now: Timestamp,
        duration_ms: Option<u64>,
    ) -> ReviewWrite {
        let before = card.schedule;
        let after = outcome.schedule;
        ReviewWrite {
            card_id: card.id,
            before,
            after,
            review: ReviewRecord {
                id: Uuid::now_v7(),
                card_id: card.id,
                deck_id: card.deck_id,
                rating: outcome.rating,
                state_before: before.state,
                reviewed_at: now,
                review_day: self.local_day(now),
                elapsed_days: outcome.elapsed_days,
                scheduled_days: outcome.scheduled_days,
                duration_ms,
                stability_before: before.stability,
                stability_after: after.stability.unwrap_or_default(),
                difficulty_before: before.difficulty,
                difficulty_after: after.difficulty.unwrap_or_default(),
            },
        }
    }

    /// `GET /cards/{id}/reviews`: the card's reviews, newest first, paginated. Page links
    /// point at `{api_prefix}/cards/{id}/reviews`.
    ///
    /// # Errors
    /// [`Error::NotFound`]; [`Error::Validation`] on pagination; [`Error::InvalidPage`].
    pub async fn history(
        &self,
        caller: &Principal,
        id: &str,
        query: &Query,
    ) -> Result<Page<Review>> {
        let owner = owner(caller, Verb::Read)?;
        let page = query.page_request()?;
        let card = self.card_of(owner, id).await?;
        let (count, reviews) = self.store.list_reviews(owner, card.id, page).await?;
        let reviews = reviews.into_iter().map(to_review).collect();
        page.into_page(
            count,
            reviews,
            &format!("{}/cards/{}/reviews", self.api_prefix, card.id),
            query,
            self.public_base_url.as_deref(),
        )
    }

    /// `GET /cards/{id}/preview`: what each answer would do now. Writes nothing.
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn preview(&self, caller: &Principal, id: &str) -> Result<Preview> {
        let owner = owner(caller, Verb::Read)?;
        let card = self.card_of(owner, id).await?;
        let now = self.clock.now();
        let outcomes =
            self.scheduler
                .outcomes(&card.schedule, now, fuzz_seed(card.id, card.schedule.reps))?;
        let entry = |o: &Outcome| PreviewEntry {
            due: o.schedule.due,
            interval_days: o.interval_days,
        };
        Ok(Preview {
            again: entry(&outcomes[0]),
            hard: entry(&outcomes[1]),
            good: entry(&outcomes[2]),
            easy: entry(&outcomes[3]),
        })
    }

    // --- study and stats -----------------------------------------------------------------------

    /// `GET /study?deck=&limit=`: due cards (learning, relearning, review) most overdue first,
    /// then new cards up to the daily new-card limit (per user, per local day), at most
    /// `limit` (default [`STUDY_LIMIT_DEFAULT`], clamped to [`STUDY_LIMIT_MAX`]) in all.
    ///
    /// # Errors
    /// [`Error::Validation`] on `deck` (not a UUID) or `limit` (not a whole number ≥ 1);
    /// [`Error::NotFound`] for a deck that is not the caller's.
    pub async fn study(&self, caller: &Principal, query: &Query) -> Result<StudyQueue> {
        let owner = owner(caller, Verb::Read)?;
        let mut errors = query_text_errors(query);
        let deck = query
            .get("deck")
            .filter(|_| errors.get("deck").is_none())
            .and_then(|d| {
                errors.check(
                    "deck",
                    Uuid::parse_str(d.trim()).map_err(|_| "Must be a valid UUID.".to_string()),
                )
            });
        let limit = match query.get("limit").filter(|_| errors.get("limit").is_none()) {
            None => STUDY_LIMIT_DEFAULT,
            Some(text) => errors
                .check("limit", parse_limit(text))
                .unwrap_or(STUDY_LIMIT_DEFAULT),
        };
        errors.into_result()?;
        let now = self.clock.now();
        let rows = self
            .store
            .study(
                owner,
                deck,
                now,
                self.local_day(now),
                limit,
                self.new_cards_per_day,
            )
            .await?
            .ok_or(Error::NotFound)?;
        Ok(StudyQueue {
            cards: rows.due.into_iter().chain(rows.new).map(to_card).collect(),
            due_count: rows.due_count,
            new_count: rows.new_count,
        })
    }

    /// `GET /stats`: the caller's figures over all their decks.
    ///
    /// # Errors
    /// Store failures.
    pub async fn stats(&self, caller: &Principal) -> Result<Stats> {
        let owner = owner(caller, Verb::Read)?;
        self.stats_of(owner, None).await
    }

    /// `GET /decks/{id}/stats`: one deck's figures (reviews made while their card was in it).
    ///
    /// # Errors
    /// [`Error::NotFound`].
    pub async fn deck_stats(&self, caller: &Principal, id: &str) -> Result<Stats> {
        let owner = owner(caller, Verb::Read)?;
        self.stats_of(owner, Some(parse_id(id)?)).await
    }

    async fn stats_of(&self, owner: Uuid, deck: Option<Uuid>) -> Result<Stats> {
        let now = self.clock.now();
        let today = self.local_day(now);
        let end_of_today = self.start_of(today + Duration::days(1));
        let rows = self
            .store
            .stats(owner, deck, today, end_of_today)
            .await?
            .ok_or(Error::NotFound)?;
        Ok(to_stats(rows, today))
    }
}

/// Stats from their rows: `by_day` zero-filled over the 30 days ending `today`, retention
/// over the same days.
pub(crate) fn to_stats(rows: StatsRows, today: NaiveDate) -> Stats {
    let first = today - Duration::days(STATS_DAYS as i64 - 1);
    let mut by_day: Vec<DayStats> = (0..STATS_DAYS)
        .map(|i| DayStats {
            date: first + Duration::days(i as i64),
            reviews: 0,
            again: 0,
            hard: 0,
            good: 0,
            easy: 0,
        })
        .collect();
    let (mut recall_total, mut recall_kept, mut reviews_today) = (0, 0, 0);
    for row in &rows.days {
        let Ok(index) = usize::try_from((row.day - first).num_days()) else {
            continue;
        };
        let Some(day) = by_day.get_mut(index) else {
            continue;
        };
        day.reviews += row.reviews;
        day.again += row.again;
        day.hard += row.hard;
        day.good += row.good;
        day.easy += row.easy;
        recall_total += row.recall_total;
        recall_kept += row.recall_kept;
        if row.day == today {
            reviews_today += row.reviews;
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let retention_30d = (recall_total > 0).then(|| recall_kept as f64 / recall_total as f64);
    Stats {
        total_cards: rows.cards.total(),
        cards_by_state: CardsByState {
            new: rows.cards.new,
            learning: rows.cards.learning,
            review: rows.cards.review,
            relearning: rows.cards.relearning,
        },
        total_reviews: rows.total_reviews,
        reviews_today,
        due_today: rows.due_today,
        retention_30d,
        streak_days: rows.streak_days,
        by_day,
    }
}

/// The streak ending `today` (or yesterday) from days with reviews, newest first: how many
/// consecutive days it covers; `None` when the days given end before the streak might (more
/// must be read).
pub fn streak(today: NaiveDate, days_newest_first: &[NaiveDate]) -> Option<u32> {
    let mut expected = match days_newest_first.first() {
        None => return Some(0),
        Some(day) if *day == today => today,
        Some(day) if *day == today - Duration::days(1) => *day,
        Some(_) => return Some(0),
    };
    for (streak, day) in days_newest_first.iter().enumerate() {
        if *day != expected {
            return Some(u32::try_from(streak).unwrap_or(u32::MAX));
        }
        expected -= Duration::days(1);
    }
    None
}
