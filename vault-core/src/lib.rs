//! # vault-core
//!
//! The framework-agnostic heart of Vault: accounts and JWT sessions, ownership rules, storage
//! on SQLite or PostgreSQL, throttling, and the wire format (RFC 9457 problems, JSON decoding)
//! that the `vault-axum` and `vault-poem` adapters share byte for byte.
//!
//! ```no_run
//! # async fn run() -> vault_core::Result<()> {
//! use vault_core::{Config, Secret, Vault};
//!
//! let config = Config::new("sqlite://vault.db", Secret::new(std::env::var("JWT_SECRET").unwrap_or_default()));
//! let vault = Vault::open(config).await?; // connects, migrates
//! let registered = vault
//!     .auth()
//!     .register(
//!         serde_json::from_str(r#"{"username":"ada","email":"ada@example.com","password":"sturdy-quokka-2931"}"#)
//!             .expect("valid JSON"),
//!         None,
//!     )
//!     .await?;
//! let caller = vault.auth().authenticate(&registered.access).await?;
//! assert_eq!(caller.user_id, registered.user.id);
//! # Ok(()) }
//! ```
//!
//! Hosts normally use an adapter crate, which mounts the routes and gives an
//! authenticated-user extractor; this crate is what those adapters call.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
pub mod blob;
pub mod cli;
pub mod client_ip;
pub mod config;
pub mod db;
#[cfg(feature = "swagger-ui")]
pub mod docs;
pub mod error;
pub mod flashcards;
pub mod ownership;
pub mod page;
pub mod principal;
pub mod resources;
pub mod schema;
#[cfg(feature = "server")]
pub mod server;
pub mod text;
pub mod throttle;
pub mod time;
mod vault;
pub mod wire;

#[cfg(feature = "testkit")]
pub mod testkit;

pub use config::{
    AuthConfig, CacheConfig, Config, DatabaseConfig, FlashcardsConfig, HttpConfig, Rate,
    ResourcesConfig, Secret, ThrottleConfig,
};
pub use db::Database;
pub use error::{Error, FieldErrors, Problem, Result};
pub use principal::{Principal, Role};
pub use vault::{Vault, VaultBuilder};
