//! What each operation of API.md §5 answers, as documentation (see [`crate::Answer`]): the
//! handlers return the core's response, so these variants are declared, never built.

#![allow(dead_code)]

use poem_openapi::ApiResponse;
use vault_core::flashcards::{self as model, Card, Deck, Preview, Review, ReviewCreated, Stats};
use vault_core::page::Page;

use crate::answer::ProblemJson;
use crate::payload::Json;

/// GET /decks.
#[derive(ApiResponse)]
pub(crate) enum ListDecks {
    /// A page of the caller's decks, by name
    #[oai(status = 200)]
    Ok(Json<Page<Deck>>),
    /// Bad query parameter
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// Invalid page
    #[oai(status = 404)]
    NotFound(ProblemJson),
}

/// POST /decks.
#[derive(ApiResponse)]
pub(crate) enum CreateDeck {
    /// Created
    #[oai(status = 201)]
    Created(
        Json<Deck>,
        /// The new deck's path
        #[oai(header = "Location")]
        String,
    ),
    /// Invalid input
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
}

/// GET /decks/{id}.
#[derive(ApiResponse)]
pub(crate) enum GetDeck {
    /// The deck
    #[oai(status = 200)]
    Ok(Json<Deck>),
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// No such deck of the caller
    #[oai(status = 404)]
    NotFound(ProblemJson),
}

/// PATCH /decks/{id}.
#[derive(ApiResponse)]
pub(crate) enum PatchDeck {
    /// Only the given fields changed
    #[oai(status = 200)]
    Ok(Json<Deck>),
    /// Invalid input
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// No such deck of the caller
    #[oai(status = 404)]
    NotFound(ProblemJson),
}

/// DELETE /decks/{id}.
#[derive(ApiResponse)]
pub(crate) enum DeleteDeck {
    /// Deleted, with its cards and their reviews
    #[oai(status = 204)]
    NoContent,
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// No such deck of the caller
    #[oai(status = 404)]
    NotFound(ProblemJson),
}

/// GET /decks/{id}/stats.
#[derive(ApiResponse)]
pub(crate) enum DeckStats {
    /// The deck's figures
    #[oai(status = 200)]
    Ok(Json<Stats>),
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// No such deck of the caller
    #[oai(status = 404)]
    NotFound(ProblemJson),
}

/// GET /decks/{id}/cards.
#[derive(ApiResponse)]
pub(crate) enum ListCards {
    /// A page of the deck's cards
    #[oai(status = 200)]
    Ok(Json<Page<Card>>),
    /// Bad query parameter
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// No such deck of the caller, or invalid page
    #[oai(status = 404)]
    NotFound(ProblemJson),
}

/// POST /decks/{id}/cards.
#[derive(ApiResponse)]
pub(crate) enum CreateCard {
    /// Created, new and due at once
    #[oai(status = 201)]
    Created(
        Json<Card>,
        /// The new card's path
        #[oai(header = "Location")]
        String,
    ),
    /// Invalid input
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// No such deck of the caller
    #[oai(status = 404)]
    NotFound(ProblemJson),
}

/// GET /cards/{id}.
#[derive(ApiResponse)]
pub(crate) enum GetCard {
    /// The card
    #[oai(status = 200)]
    Ok(Json<Card>),
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// No such card of the caller
    #[oai(status = 404)]
    NotFound(ProblemJson),
}

/// PATCH /cards/{id}.
#[derive(ApiResponse)]
pub(crate) enum PatchCard {
    /// Only the given fields changed; deck_id moves the card
    #[oai(status = 200)]
    Ok(Json<Card>),
    /// Invalid input
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// No such card, or target deck, of the caller
    #[oai(status = 404)]
    NotFound(ProblemJson),
}

/// DELETE /cards/{id}.
#[derive(ApiResponse)]
pub(crate) enum DeleteCard {
    /// Deleted, with its reviews
    #[oai(status = 204)]
    NoContent,
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// No such card of the caller
    #[oai(status = 404)]
    NotFound(ProblemJson),
}

/// GET /cards/{id}/reviews.
#[derive(ApiResponse)]
pub(crate) enum ListReviews {
    /// The card's reviews, newest first
    #[oai(status = 200)]
    Ok(Json<Page<Review>>),
    /// Bad query parameter
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// No such card of the caller, or invalid page
    #[oai(status = 404)]
    NotFound(ProblemJson),
}

/// POST /cards/{id}/reviews.
#[derive(ApiResponse)]
pub(crate) enum ReviewCard {
    /// Recorded: the review and the card's new schedule
    #[oai(status = 201)]
    Created(Json<ReviewCreated>),
    /// Invalid input
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// No such card of the caller
    #[oai(status = 404)]
    NotFound(ProblemJson),
    /// Other reviews of the card kept landing first
    #[oai(status = 409)]
    Conflict(ProblemJson),
}

/// GET /cards/{id}/preview.
#[derive(ApiResponse)]
pub(crate) enum PreviewCard {
    /// What each answer would schedule now (nothing is written)
    #[oai(status = 200)]
    Ok(Json<Preview>),
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// No such card of the caller
    #[oai(status = 404)]
    NotFound(ProblemJson),
}

/// GET /study.
#[derive(ApiResponse)]
pub(crate) enum StudyQueue {
    /// Due cards, most overdue first, then new cards within the daily limit
    #[oai(status = 200)]
    Ok(Json<model::StudyQueue>),
    /// Bad query parameter
    #[oai(status = 400)]
    BadRequest(ProblemJson),
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
    /// No such deck of the caller
    #[oai(status = 404)]
    NotFound(ProblemJson),
}

/// GET /stats.
#[derive(ApiResponse)]
pub(crate) enum UserStats {
    /// The caller's figures over all their decks
    #[oai(status = 200)]
    Ok(Json<Stats>),
    /// Not authenticated
    #[oai(status = 401)]
    Unauthorized(ProblemJson),
}
