//! API.md §5: flashcards (decks, cards, reviews, previews, the study queue and stats), private
//! to their owner, as the poem-openapi [`FlashcardsApi`].

mod answers;

use poem::http::StatusCode;
use poem::web::Data;
use poem::Request;
use poem_openapi::param::Path;
use poem_openapi::OpenApi;
use vault_core::flashcards::{CardInput, CardPatch, CardState, DeckInput, DeckPatch, ReviewInput};
use vault_core::page::Query;
use vault_core::{wire, Vault};

use crate::answer::Answer;
use crate::error::ApiError;
use crate::params::{ApiAuth, Id, QueryParam};
use crate::payload::Json;
use crate::tags::ApiTags;

/// The `/decks/...`, `/cards/...`, `/study` and `/stats` operations. Paths are relative to
/// where the service is mounted (`/api` in [`crate::app`]); the [`Vault`] must be request data.
#[derive(Debug, Clone, Copy, Default)]
pub struct FlashcardsApi;

type Answers<D> = Result<Answer<D>, ApiError>;

/// The query string as the core parses it (its errors are the contract's).
fn query(request: &Request) -> Query {
    Query::parse(request.uri().query())
}

// Query parameters are documented one by one and parsed by the core from the raw query string.
#[OpenApi(tag = "ApiTags::Flashcards")]
impl FlashcardsApi {
    #[oai(path = "/decks", method = "get", operation_id = "list_decks")]
    async fn list_decks(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        request: &Request,
        /// Substring of the name
        #[oai(name = "search")]
        _search: QueryParam<String>,
        #[oai(name = "page")] _page: QueryParam<u64>,
        /// Default 20, clamped to 100
        #[oai(name = "page_size")]
        _page_size: QueryParam<u64>,
    ) -> Answers<answers::ListDecks> {
        let page = vault
            .flashcards()
            .list_decks(&user, &query(request))
            .await?;
        Ok(wire::json(StatusCode::OK, &page).into())
    }

    #[oai(path = "/decks", method = "post", operation_id = "create_deck")]
    async fn create_deck(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        Json(input): Json<DeckInput>,
    ) -> Answers<answers::CreateDeck> {
        let deck = vault.flashcards().create_deck(&user, input).await?;
        let location = vault.flashcards().deck_location(deck.id);
        Ok(wire::created(&location, &deck).into())
    }

    #[oai(path = "/decks/:id", method = "get", operation_id = "get_deck")]
    async fn get_deck(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        id: Path<Id>,
    ) -> Answers<answers::GetDeck> {
        let deck = vault.flashcards().get_deck(&user, id.as_str()).await?;
        Ok(wire::json(StatusCode::OK, &deck).into())
    }

    #[oai(path = "/decks/:id", method = "patch", operation_id = "patch_deck")]
    async fn patch_deck(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        id: Path<Id>,
        Json(input): Json<DeckPatch>,
    ) -> Answers<answers::PatchDeck> {
        let deck = vault
            .flashcards()
            .patch_deck(&user, id.as_str(), input)
            .await?;
        Ok(wire::json(StatusCode::OK, &deck).into())
    }

    #[oai(path = "/decks/:id", method = "delete", operation_id = "delete_deck")]
    async fn delete_deck(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        id: Path<Id>,
    ) -> Answers<answers::DeleteDeck> {
        vault.flashcards().delete_deck(&user, id.as_str()).await?;
        Ok(wire::no_content().into())
    }

    #[oai(path = "/decks/:id/stats", method = "get", operation_id = "deck_stats")]
    async fn deck_stats(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        id: Path<Id>,
    ) -> Answers<answers::DeckStats> {
        let stats = vault.flashcards().deck_stats(&user, id.as_str()).await?;
        Ok(wire::json(StatusCode::OK, &stats).into())
    }

    #[oai(path = "/decks/:id/cards", method = "get", operation_id = "list_cards")]
    #[allow(clippy::too_many_arguments)]
    async fn list_cards(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        id: Path<Id>,
        request: &Request,
        #[oai(name = "state")] _state: QueryParam<CardState>,
        /// true: only cards other than new ones due now, most overdue first
        #[oai(name = "due")]
        _due: QueryParam<bool>,
        #[oai(name = "page")] _page: QueryParam<u64>,
        /// Default 20, clamped to 100
        #[oai(name = "page_size")]
        _page_size: QueryParam<u64>,
    ) -> Answers<answers::ListCards> {
        let page = vault
            .flashcards()
            .list_cards(&user, id.as_str(), &query(request))
            .await?;
        Ok(wire::json(StatusCode::OK, &page).into())
    }

    #[oai(
        path = "/decks/:id/cards",
        method = "post",
        operation_id = "create_card"
    )]
    async fn create_card(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        id: Path<Id>,
        Json(input): Json<CardInput>,
    ) -> Answers<answers::CreateCard> {
        let card = vault
            .flashcards()
            .create_card(&user, id.as_str(), input)
            .await?;
        let location = vault.flashcards().card_location(card.id);
        Ok(wire::created(&location, &card).into())
    }

    #[oai(path = "/cards/:id", method = "get", operation_id = "get_card")]
    async fn get_card(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        id: Path<Id>,
    ) -> Answers<answers::GetCard> {
        let card = vault.flashcards().get_card(&user, id.as_str()).await?;
        Ok(wire::json(StatusCode::OK, &card).into())
    }

    #[oai(path = "/cards/:id", method = "patch", operation_id = "patch_card")]
    async fn patch_card(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        id: Path<Id>,
        Json(input): Json<CardPatch>,
    ) -> Answers<answers::PatchCard> {
        let card = vault
            .flashcards()
            .patch_card(&user, id.as_str(), input)
            .await?;
        Ok(wire::json(StatusCode::OK, &card).into())
    }

    #[oai(path = "/cards/:id", method = "delete", operation_id = "delete_card")]
    async fn delete_card(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        id: Path<Id>,
    ) -> Answers<answers::DeleteCard> {
        vault.flashcards().delete_card(&user, id.as_str()).await?;
        Ok(wire::no_content().into())
    }

    #[oai(
        path = "/cards/:id/reviews",
        method = "get",
        operation_id = "list_reviews"
    )]
    async fn list_reviews(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        id: Path<Id>,
        request: &Request,
        #[oai(name = "page")] _page: QueryParam<u64>,
        /// Default 20, clamped to 100
        #[oai(name = "page_size")]
        _page_size: QueryParam<u64>,
    ) -> Answers<answers::ListReviews> {
        let page = vault
            .flashcards()
            .history(&user, id.as_str(), &query(request))
            .await?;
        Ok(wire::json(StatusCode::OK, &page).into())
    }

    #[oai(
        path = "/cards/:id/reviews",
        method = "post",
        operation_id = "review_card"
    )]
    async fn review_card(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        id: Path<Id>,
        Json(input): Json<ReviewInput>,
    ) -> Answers<answers::ReviewCard> {
        let created = vault.flashcards().review(&user, id.as_str(), input).await?;
        Ok(wire::json(StatusCode::CREATED, &created).into())
    }

    #[oai(
        path = "/cards/:id/preview",
        method = "get",
        operation_id = "preview_card"
    )]
    async fn preview_card(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        id: Path<Id>,
    ) -> Answers<answers::PreviewCard> {
        let preview = vault.flashcards().preview(&user, id.as_str()).await?;
        Ok(wire::json(StatusCode::OK, &preview).into())
    }

    #[oai(path = "/study", method = "get", operation_id = "study_queue")]
    async fn study_queue(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
        request: &Request,
        /// Only this deck's cards (a deck id)
        #[oai(name = "deck")]
        _deck: QueryParam<String>,
        /// Default 20, clamped to 100
        #[oai(name = "limit")]
        _limit: QueryParam<u64>,
    ) -> Answers<answers::StudyQueue> {
        let queue = vault.flashcards().study(&user, &query(request)).await?;
        Ok(wire::json(StatusCode::OK, &queue).into())
    }

    #[oai(path = "/stats", method = "get", operation_id = "user_stats")]
    async fn user_stats(
        &self,
        vault: Data<&Vault>,
        ApiAuth(user): ApiAuth,
    ) -> Answers<answers::UserStats> {
        let stats = vault.flashcards().stats(&user).await?;
        Ok(wire::json(StatusCode::OK, &stats).into())
    }
}
