//! The operation tags of Vault's modules.

use poem_openapi::Tags;

/// One tag per module, as the document lists them.
#[derive(Tags)]
#[oai(rename_all = "lowercase")]
pub(crate) enum ApiTags {
    /// Accounts and sessions
    Auth,
    /// Notes, links, files, references and their tags
    Resources,
    /// Decks, cards and FSRS-6 spaced repetition
    Flashcards,
    /// Liveness and readiness
    Health,
}
