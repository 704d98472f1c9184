//! Accounts and sessions (API.md §3): registration, login, refresh rotation with reuse
//! detection, logout, logout-all, profile, password change and account deletion.

pub mod model;
pub mod password;
mod redact;
mod service;
pub mod store;
pub mod token;

pub use model::*;
pub use password::PasswordHasher;
pub use service::{bearer_token, AuthService, PasswordGrant, TokenRequest};
#[cfg(any(test, feature = "mock"))]
pub use store::MockAuthStore;
pub use store::{AuthStore, UserChanges};
pub use token::{AccessClaims, TokenCodec};
