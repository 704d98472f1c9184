//! The scenarios of the conformance suite: API.md §1 (conventions), §2 (pagination), §3 (auth),
//! §4 (resources and tags), §5 (flashcards), §9 (throttling) and §10 (docs, health), tried the way an attacker would. Each is `async fn(Ctx)`; the
//! [`conformance_tests!`](crate::conformance_tests) macro lists them.

#![allow(missing_docs)]

mod accounts;
mod conventions;
mod deleted_owner;
mod faults;
mod files;
mod flashcards;
mod hostile_input;
mod listing;
mod meta;
mod ownership;
mod profile;
mod resources;
mod sessions;
mod throttle_attacks;
mod throttling;
mod tokens;
mod transport;

pub use accounts::*;
pub use conventions::*;
pub use deleted_owner::*;
pub use faults::*;
pub use files::*;
pub use flashcards::*;
pub use hostile_input::*;
pub use listing::*;
pub use meta::*;
pub use ownership::*;
pub use profile::*;
pub use resources::*;
pub use sessions::*;
pub use throttle_attacks::*;
pub use throttling::*;
pub use tokens::*;
pub use transport::*;

use serde_json::Value;

use super::Resp;

/// `WWW-Authenticate` of a 401 that refused no `Authorization` token: none was sent, or a
/// refresh token in a body or credentials were refused (API.md §1).
pub(crate) const CHALLENGE: &str = "Bearer";

/// `WWW-Authenticate` of a 401 that refused the token of an `Authorization` header.
pub(crate) const CHALLENGE_INVALID_TOKEN: &str = "Bearer error=\"invalid_token\"";

/// Asserts a 401 problem with `code` whose `WWW-Authenticate` is exactly `challenge`; returns
/// the problem. `case` names the attempt in a failure.
#[track_caller]
pub(crate) fn expect_401(resp: &Resp, code: &str, challenge: &str, case: &str) -> Value {
    assert_eq!(
        resp.status.as_u16(),
        401,
        "{case}: {}",
        String::from_utf8_lossy(&resp.body)
    );
    let body = resp.expect_problem(401, code);
    assert_eq!(
        resp.header("www-authenticate"),
        Some(challenge),
        "{case}: WWW-Authenticate"
    );
    body
}
