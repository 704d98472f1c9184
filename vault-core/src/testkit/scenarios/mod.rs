//! The scenarios of the conformance suite: API.md §1 (conventions), §3 (auth), §9 (throttling)
//! and §10 (docs, health), tried the way an attacker would. Each is `async fn(Ctx)`; the
//! [`conformance_tests!`](crate::conformance_tests) macro lists them.

#![allow(missing_docs)]

mod accounts;
mod conventions;
mod meta;
mod throttling;
mod tokens;

pub use accounts::*;
pub use conventions::*;
pub use meta::*;
pub use throttling::*;
pub use tokens::*;
