//! Property tests of everything that parses untrusted input (issue 14): access tokens, query
//! strings and pagination, JSON and form bodies, multipart uploads; and the flashcards
//! scheduler's promise that answers never shorten from again to easy. The `?search=` language has
//! its own, next to its parser (`src/db/search/props.rs`), because its parser is crate-private.
//!
//! Each property runs a fixed number of cases (named where it is defined) so CI time is
//! bounded; `PROPTEST_CASES=<n>` runs more (or fewer) of every property. Seeds are random, so
//! runs explore different inputs; a failure prints its shrunk input and no failure file is
//! written: a failure found becomes a plain regression test beside the property.
//!
//! Properties that need a database run on a fresh SQLite file, and again on a fresh PostgreSQL
//! database when `VAULT_TEST_POSTGRES_URL` is set.

mod bodies;
mod queries;
mod scheduling;
mod tokens;
mod uploads;

use std::fmt::Debug;

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use vault_core::config::Config;
use vault_core::testkit::{insert_user, test_config, Backend, TestDatabase};
use vault_core::{Error, Principal, Role, Vault};

/// The runner configuration: `cases` unless `PROPTEST_CASES` says otherwise; no failure files.
pub(crate) fn budget(cases: u32) -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    config.failure_persistence = None;
    config
}

/// Runs `test` on `cases` values of `strategy`, panicking with the minimal failing input.
pub(crate) fn check<S: Strategy>(
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: Debug,
{
    let mut runner = TestRunner::new(budget(cases));
    if let Err(failure) = runner.run(&strategy, test) {
        panic!("{failure}");
    }
}

/// A runtime for the async parts of a property; cases run one after another on it.
pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// One test per database for a property over a database (`fn(Backend)`): `<name>::sqlite`,
/// and `<name>::postgres`, skipped with a note when `VAULT_TEST_POSTGRES_URL` is not set (so
/// `cargo test postgres` runs the PostgreSQL halves, as for the other suites).
macro_rules! on_both_databases {
    ($($(#[$doc:meta])* $name:ident => $property:path;)*) => {$(
        $(#[$doc])*
        mod $name {
            use vault_core::testkit::{postgres_url, Backend};

            #[test]
            fn sqlite() {
                $property(Backend::Sqlite);
            }

            #[test]
            fn postgres() {
                if postgres_url().is_none() {
                    eprintln!("skipped: VAULT_TEST_POSTGRES_URL is not set");
                    return;
                }
                $property(Backend::Postgres);
            }
        }
    )*};
}
pub(crate) use on_both_databases;

/// A vault over a fresh database (blobs in its directory) and one user of it.
pub(crate) struct World {
    pub(crate) vault: Vault,
    pub(crate) caller: Principal,
    pub(crate) database: TestDatabase,
}

impl World {
    /// Opens a vault with the test configuration adjusted by `adjust`.
    pub(crate) async fn open(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Self {
        let database = TestDatabase::create(backend).await;
        let mut config = test_config(&database.url);
        config.resources.blob_dir = Some(database.files_dir());
        adjust(&mut config);
        let vault = Vault::open(config).await.expect("vault opens");
        let user_id = insert_user(vault.database().auth_store().as_ref(), "prop").await;
        Self {
            vault,
            caller: Principal {
                user_id,
                role: Role::User,
            },
            database,
        }
    }
}

/// Whether `error` is one the contract lets bad input cause: a 4xx problem+json document
/// whose `status` is the response's and whose `code` and `detail` are there.
pub(crate) fn is_client_error(error: &Error) -> Result<(), TestCaseError> {
    let response = error.to_response();
    let status = response.status();
    prop_assert!(status.is_client_error(), "{status} for {error:?}");
    prop_assert_eq!(
        response
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    let body: serde_json::Value =
        serde_json::from_slice(response.body()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(body["status"].as_u64(), Some(u64::from(status.as_u16())));
    prop_assert!(body["code"].is_string(), "{body}");
    prop_assert!(body["detail"].is_string(), "{body}");
    Ok(())
}

/// Strings an attacker would try in a text field: arbitrary Unicode (NUL and other control
/// characters included), very long runs, and look-alikes of valid values.
pub(crate) fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<String>(),
        1 => (
            "[a-z]{1,8}",
            proptest::sample::select(&["\0", "\u{1}", "\u{7f}", "\u{85}", "\u{2028}", "\u{fffe}"][..]),
            "[a-z]{0,8}",
        )
            .prop_map(|(a, c, b)| format!("{a}{c}{b}")),
        1 => "[a-z0-9 ._-]{0,40}",
        1 => proptest::sample::select(&[
            "", " ", "\0", "a\0b", "\u{202e}", "\u{feff}", "%00", "' OR 1=1 --", "../../etc/passwd",
            "null", "true", "0", "-1", "1e309", "NaN", "\u{1F600}", "é\u{301}", "\r\n",
        ][..])
        .prop_map(str::to_string),
        1 => (any::<char>(), 0usize..5_000).prop_map(|(c, n)| c.to_string().repeat(n)),
    ]
}
