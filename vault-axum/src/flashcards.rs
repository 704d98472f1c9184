//! API.md §5: flashcards (decks, cards, reviews, previews, the study queue and stats), private
//! to their owner.

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use vault_core::flashcards::{
    Card, CardInput, CardPatch, CardState, Deck, DeckInput, DeckPatch, Preview, Review,
    ReviewCreated, ReviewInput, Stats, StudyQueue,
};
use vault_core::page::{Page, Query};
use vault_core::{wire, Vault};

use crate::error::{ApiError, Reply};
use crate::extract::{AuthUser, JsonBody, PathParam};
use crate::routing::Routes;

type Answer = Result<Reply, ApiError>;

#[derive(OpenApi)]
#[openapi(tags((name = "flashcards", description = "Decks, cards and FSRS-6 spaced repetition")))]
struct FlashcardsApi;

/// `/decks/...`, `/cards/...`, `/study` and `/stats` under
/// [`vault_core::HttpConfig::api_prefix`], documented, behind the general rate limits of
/// API.md §9: the caller's decks, cards, reviews, study queue and stats.
pub fn router(vault: &Vault) -> OpenApiRouter<Vault> {
    Routes::new(&vault.config().http.api_prefix, FlashcardsApi::openapi())
        .add(routes!(list_decks, create_deck))
        .add(routes!(get_deck, patch_deck, delete_deck))
        .add(routes!(deck_stats))
        .add(routes!(list_cards, create_card))
        .add(routes!(get_card, patch_card, delete_card))
        .add(routes!(list_reviews, review_card))
        .add(routes!(preview_card))
        .add(routes!(study_queue))
        .add(routes!(user_stats))
        .done()
        .layer(axum::middleware::from_fn_with_state(
            vault.clone(),
            crate::extract::throttle,
        ))
}

fn query(uri: &Uri) -> Query {
    Query::parse(uri.query())
}

#[utoipa::path(get, path = "/decks", tag = "flashcards", security(("bearer" = []), ("oauth2" = [])),
    params(("search" = Option<String>, Query, description = "Substring of the name"),
        ("page" = Option<u64>, Query), ("page_size" = Option<u64>, Query, description = "Default 20, clamped to 100")),
    responses((status = 200, description = "A page of the caller's decks, by name", body = Page<Deck>),
        (status = 400, description = "Bad query parameter"), (status = 401, description = "Not authenticated"),
        (status = 404, description = "Invalid page")))]
async fn list_decks(State(vault): State<Vault>, AuthUser(user): AuthUser, uri: Uri) -> Answer {
    let page = vault.flashcards().list_decks(&user, &query(&uri)).await?;
    Ok(wire::json(StatusCode::OK, &page).into())
}

#[utoipa::path(post, path = "/decks", tag = "flashcards", security(("bearer" = []), ("oauth2" = [])),
    request_body = DeckInput,
    responses((status = 201, description = "Created", body = Deck,
            headers(("Location" = String, description = "The new deck's path"))),
        (status = 400, description = "Invalid input"), (status = 401, description = "Not authenticated")))]
async fn create_deck(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    JsonBody(input): JsonBody<DeckInput>,
) -> Answer {
    let deck = vault.flashcards().create_deck(&user, input).await?;
    Ok(wire::created(&vault.flashcards().deck_location(deck.id), &deck).into())
}

#[utoipa::path(get, path = "/decks/{id}", tag = "flashcards", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "The deck", body = Deck), (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such deck of the caller")))]
async fn get_deck(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    PathParam(id): PathParam,
) -> Answer {
    let deck = vault.flashcards().get_deck(&user, &id).await?;
    Ok(wire::json(StatusCode::OK, &deck).into())
}

#[utoipa::path(patch, path = "/decks/{id}", tag = "flashcards", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path)), request_body = DeckPatch,
    responses((status = 200, description = "Only the given fields changed", body = Deck),
        (status = 400, description = "Invalid input"), (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such deck of the caller")))]
async fn patch_deck(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    PathParam(id): PathParam,
    JsonBody(input): JsonBody<DeckPatch>,
) -> Answer {
    let deck = vault.flashcards().patch_deck(&user, &id, input).await?;
    Ok(wire::json(StatusCode::OK, &deck).into())
}

#[utoipa::path(delete, path = "/decks/{id}", tag = "flashcards", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path)),
    responses((status = 204, description = "Deleted, with its cards and their reviews"),
        (status = 401, description = "Not authenticated"), (status = 404, description = "No such deck of the caller")))]
async fn delete_deck(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    PathParam(id): PathParam,
) -> Answer {
    vault.flashcards().delete_deck(&user, &id).await?;
    Ok(wire::no_content().into())
}

#[utoipa::path(get, path = "/decks/{id}/stats", tag = "flashcards", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "The deck's figures", body = Stats), (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such deck of the caller")))]
async fn deck_stats(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    PathParam(id): PathParam,
) -> Answer {
    let stats = vault.flashcards().deck_stats(&user, &id).await?;
    Ok(wire::json(StatusCode::OK, &stats).into())
}

#[utoipa::path(get, path = "/decks/{id}/cards", tag = "flashcards", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path), ("state" = Option<CardState>, Query),
        ("due" = Option<bool>, Query, description = "true: only cards other than new ones due now, most overdue first"),
        ("page" = Option<u64>, Query), ("page_size" = Option<u64>, Query, description = "Default 20, clamped to 100")),
    responses((status = 200, description = "A page of the deck's cards", body = Page<Card>),
        (status = 400, description = "Bad query parameter"), (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such deck of the caller, or invalid page")))]
async fn list_cards(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    PathParam(id): PathParam,
    uri: Uri,
) -> Answer {
    let page = vault
        .flashcards()
        .list_cards(&user, &id, &query(&uri))
        .await?;
    Ok(wire::json(StatusCode::OK, &page).into())
}

#[utoipa::path(post, path = "/decks/{id}/cards", tag = "flashcards", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path)), request_body = CardInput,
    responses((status = 201, description = "Created, new and due at once", body = Card,
            headers(("Location" = String, description = "The new card's path"))),
        (status = 400, description = "Invalid input"), (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such deck of the caller")))]
async fn create_card(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    PathParam(id): PathParam,
    JsonBody(input): JsonBody<CardInput>,
) -> Answer {
    let card = vault.flashcards().create_card(&user, &id, input).await?;
    Ok(wire::created(&vault.flashcards().card_location(card.id), &card).into())
}

#[utoipa::path(get, path = "/cards/{id}", tag = "flashcards", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "The card", body = Card), (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such card of the caller")))]
async fn get_card(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    PathParam(id): PathParam,
) -> Answer {
    let card = vault.flashcards().get_card(&user, &id).await?;
    Ok(wire::json(StatusCode::OK, &card).into())
}

#[utoipa::path(patch, path = "/cards/{id}", tag = "flashcards", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path)), request_body = CardPatch,
    responses((status = 200, description = "Only the given fields changed; deck_id moves the card", body = Card),
        (status = 400, description = "Invalid input"), (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such card, or target deck, of the caller")))]
async fn patch_card(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    PathParam(id): PathParam,
    JsonBody(input): JsonBody<CardPatch>,
) -> Answer {
    let card = vault.flashcards().patch_card(&user, &id, input).await?;
    Ok(wire::json(StatusCode::OK, &card).into())
}

#[utoipa::path(delete, path = "/cards/{id}", tag = "flashcards", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path)),
    responses((status = 204, description = "Deleted, with its reviews"),
        (status = 401, description = "Not authenticated"), (status = 404, description = "No such card of the caller")))]
async fn delete_card(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    PathParam(id): PathParam,
) -> Answer {
    vault.flashcards().delete_card(&user, &id).await?;
    Ok(wire::no_content().into())
}

#[utoipa::path(get, path = "/cards/{id}/reviews", tag = "flashcards", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path), ("page" = Option<u64>, Query),
        ("page_size" = Option<u64>, Query, description = "Default 20, clamped to 100")),
    responses((status = 200, description = "The card's reviews, newest first", body = Page<Review>),
        (status = 400, description = "Bad query parameter"), (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such card of the caller, or invalid page")))]
async fn list_reviews(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    PathParam(id): PathParam,
    uri: Uri,
) -> Answer {
    let page = vault.flashcards().history(&user, &id, &query(&uri)).await?;
    Ok(wire::json(StatusCode::OK, &page).into())
}

#[utoipa::path(post, path = "/cards/{id}/reviews", tag = "flashcards", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path)), request_body = ReviewInput,
    responses((status = 201, description = "Recorded: the review and the card's new schedule", body = ReviewCreated),
        (status = 400, description = "Invalid input"), (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such card of the caller"),
        (status = 409, description = "Other reviews of the card kept landing first")))]
async fn review_card(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    PathParam(id): PathParam,
    JsonBody(input): JsonBody<ReviewInput>,
) -> Answer {
    let created = vault.flashcards().review(&user, &id, input).await?;
    Ok(wire::json(StatusCode::CREATED, &created).into())
}

#[utoipa::path(get, path = "/cards/{id}/preview", tag = "flashcards", security(("bearer" = []), ("oauth2" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "What each answer would schedule now (nothing is written)", body = Preview),
        (status = 401, description = "Not authenticated"), (status = 404, description = "No such card of the caller")))]
async fn preview_card(
    State(vault): State<Vault>,
    AuthUser(user): AuthUser,
    PathParam(id): PathParam,
) -> Answer {
    let preview = vault.flashcards().preview(&user, &id).await?;
    Ok(wire::json(StatusCode::OK, &preview).into())
}

#[utoipa::path(get, path = "/study", tag = "flashcards", security(("bearer" = []), ("oauth2" = [])),
    params(("deck" = Option<String>, Query, description = "Only this deck's cards (a deck id)"),
        ("limit" = Option<u64>, Query, description = "Default 20, clamped to 100")),
    responses((status = 200, description = "Due cards, most overdue first, then new cards within the daily limit", body = StudyQueue),
        (status = 400, description = "Bad query parameter"), (status = 401, description = "Not authenticated"),
        (status = 404, description = "No such deck of the caller")))]
async fn study_queue(State(vault): State<Vault>, AuthUser(user): AuthUser, uri: Uri) -> Answer {
    let queue = vault.flashcards().study(&user, &query(&uri)).await?;
    Ok(wire::json(StatusCode::OK, &queue).into())
}

#[utoipa::path(get, path = "/stats", tag = "flashcards", security(("bearer" = []), ("oauth2" = [])),
    responses((status = 200, description = "The caller's figures over all their decks", body = Stats),
        (status = 401, description = "Not authenticated")))]
async fn user_stats(State(vault): State<Vault>, AuthUser(user): AuthUser) -> Answer {
    let stats = vault.flashcards().stats(&user).await?;
    Ok(wire::json(StatusCode::OK, &stats).into())
}
