//! Unit tests of [`FlashcardService`]'s decisions, with a mockall store (a child module of
//! `service`, in a file of its own).

use super::*;
use crate::flashcards::store::MockFlashcardStore;
use crate::principal::Role;

fn caller() -> Principal {
    Principal {
        user_id: Uuid::now_v7(),
        role: Role::User,
    }
}

fn service(store: MockFlashcardStore) -> FlashcardService {
    FlashcardService::new(Arc::new(store), &FlashcardsConfig::default(), "/api", None).unwrap()
}

#[tokio::test]
async fn invalid_input_never_reaches_the_store() {
    let service = service(MockFlashcardStore::new());
    let input: DeckInput = serde_json::from_value(serde_json::json!({"name": " "})).unwrap();
    assert!(matches!(
        service.create_deck(&caller(), input).await,
        Err(Error::Validation(fields)) if fields.get("name").is_some()
    ));
    assert!(matches!(
        service.get_card(&caller(), "not-a-uuid").await,
        Err(Error::NotFound)
    ));
}
