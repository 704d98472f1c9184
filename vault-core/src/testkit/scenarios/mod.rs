//! The scenarios of the conformance suite: API.md §1 (conventions), §2 (pagination), §3 (auth),
//! §4 (resources and tags), §9 (throttling) and §10 (docs, health), tried the way an attacker would. Each is `async fn(Ctx)`; the
//! [`conformance_tests!`](crate::conformance_tests) macro lists them.

#![allow(missing_docs)]

mod accounts;
mod conventions;
mod files;
mod listing;
mod meta;
mod ownership;
mod profile;
mod resources;
mod sessions;
mod throttling;
mod tokens;

pub use accounts::*;
pub use conventions::*;
pub use files::*;
pub use listing::*;
pub use meta::*;
pub use ownership::*;
pub use profile::*;
pub use resources::*;
pub use sessions::*;
pub use throttling::*;
pub use tokens::*;
