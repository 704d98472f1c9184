//! The HTTP conformance suite of API.md, runnable against any mounting of Vault.
//!
//! An adapter (or a host) implements [`TestApp`] for its router and invokes
//! [`conformance_tests!`](crate::conformance_tests) with a function that builds that app from a
//! [`Vault`]; the macro expands to one test per scenario and backend, each on a fresh database.
//!
//! ```ignore
//! fn app(vault: vault_core::Vault) -> Box<dyn vault_core::testkit::TestApp> { /* … */ }
//! vault_core::conformance_tests!(app);
//! ```
//!
//! # PostgreSQL tests are ignored, not passed, without a server
//!
//! The PostgreSQL tests the macros generate carry
//! `#[cfg_attr(not(vault_test_postgres), ignore = "needs VAULT_TEST_POSTGRES_URL")]`: a run
//! without a server lists them as *ignored* in libtest's counts instead of passing them
//! unrun. The cfg is evaluated in the crate where the macro expands, so every crate invoking
//! [`conformance_tests!`](crate::conformance_tests) or [`store_suite!`](crate::store_suite)
//! needs a build script that turns the variable into the cfg:
//!
//! ```text
//! // build.rs
//! fn main() {
//!     println!("cargo::rerun-if-env-changed=VAULT_TEST_POSTGRES_URL");
//!     println!("cargo::rustc-check-cfg=cfg(vault_test_postgres)");
//!     if std::env::var("VAULT_TEST_POSTGRES_URL").is_ok_and(|url| !url.trim().is_empty()) {
//!         println!("cargo::rustc-cfg=vault_test_postgres");
//!     }
//! }
//! ```
//!
//! Without it the PostgreSQL tests are always ignored. A PostgreSQL test that does run without
//! the variable (built with it and run without, or run with `--ignored`) fails, saying so.

mod db;
pub mod logs;
pub mod openapi;
mod request;
pub mod scenarios;
pub mod smoke;
#[cfg(feature = "server")]
pub mod transport;

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;

pub use db::{postgres_url, Backend, TestDatabase};
pub use request::{Req, Resp};

use crate::config::{Config, Secret, ThrottleConfig};
use crate::Vault;

/// A boxed future, for object-safe async in [`TestApp`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An app under test: takes a full request, returns a full response, in-process.
pub trait TestApp: Send + Sync {
    /// Serves one request.
    fn call(&self, request: http::Request<Bytes>) -> BoxFuture<'_, http::Response<Bytes>>;
}

/// Builds the app under test from a vault.
pub type AppFactory = fn(Vault) -> Box<dyn TestApp>;

/// The JWT secret of test vaults (tests forge tokens with it).
pub const TEST_SECRET: &[u8] = b"vault-conformance-suite-secret-0123456789";

/// The configuration scenarios start from: default rules, throttling off (scenarios that test
/// throttling turn it on), client IPs from `X-Forwarded-For`.
pub fn test_config(database_url: &str) -> Config {
    let mut config = Config::new(database_url, Secret::new(TEST_SECRET.to_vec()));
    config.throttle = ThrottleConfig::off();
    config.http.trust_forwarded_for = true;
    config.database.max_connections = 5;
    config
}

/// What a scenario gets: the backend and the app factory; it starts as many harnesses as it
/// needs.
#[derive(Clone, Copy)]
pub struct Ctx {
    /// The database backend of this run.
    pub backend: Backend,
    /// Builds the app under test.
    pub factory: AppFactory,
    /// [`ResourcesConfig::cache`](crate::config::ResourcesConfig::cache) of the vaults this run starts (the conformance suite runs
    /// the resources module's scenarios with it on and off).
    pub resource_cache: bool,
}

impl Ctx {
    /// A harness with [`test_config`].
    pub async fn start(&self) -> Harness {
        self.start_with(|_| {}).await
    }

    /// A harness with [`test_config`] adjusted by `adjust`.
    ///
    /// # Panics
    /// When the database cannot be created or Vault refuses the configuration.
    pub async fn start_with(&self, adjust: impl FnOnce(&mut Config)) -> Harness {
        self.start_with_clock(adjust, None).await
    }

    /// A harness whose flashcards module reads the time from `clock` (scenarios that move
    /// time to make cards due), with [`test_config`] adjusted by `adjust`.
    ///
    /// # Panics
    /// As [`Self::start_with`].
    pub async fn start_with_clock(
        &self,
        adjust: impl FnOnce(&mut Config),
        clock: Option<std::sync::Arc<dyn crate::time::Clock>>,
    ) -> Harness {
        let database = TestDatabase::create(self.backend).await;
        let mut config = test_config(&database.url);
        config.resources.blob_dir = Some(database.files_dir());
        if !self.resource_cache {
            config.resources.cache = crate::config::CacheConfig::off();
        }
        adjust(&mut config);
        let mut builder = Vault::builder(config);
        if let Some(clock) = clock {
            builder = builder.clock(clock);
        }
        let vault = builder
            .build()
            .await
            .expect("vault opens on the test database");
        let app = (self.factory)(vault.clone());
        Harness {
            vault,
            app,
            database,
        }
    }
}

/// A running app over a fresh database.
pub struct Harness {
    /// The vault behind the app (for set-up the API does not offer, like deactivation).
    pub vault: Vault,
    app: Box<dyn TestApp>,
    /// The database (dropped with the harness).
    pub database: TestDatabase,
}

/// A registered user, as scenarios use them.
#[derive(Debug, Clone)]
pub struct TestUser {
    /// Id.
    pub id: String,
    /// Username.
    pub username: String,
    /// Email.
    pub email: String,
    /// Password.
    pub password: String,
    /// Access token from registration.
    pub access: String,
    /// Refresh token from registration.
    pub refresh: String,
}

/// A password every scenario user gets (passes the strength check).
pub const TEST_PASSWORD: &str = "sturdy-quokka-2931";

impl Harness {
    /// A request builder.
    pub fn req(&self, method: http::Method, path: &str) -> Req<'_> {
        Req::new(self, method, path)
    }

    /// GET `path`.
    pub fn get(&self, path: &str) -> Req<'_> {
        self.req(http::Method::GET, path)
    }

    /// POST `path`.
    pub fn post(&self, path: &str) -> Req<'_> {
        self.req(http::Method::POST, path)
    }

    /// PATCH `path`.
    pub fn patch(&self, path: &str) -> Req<'_> {
        self.req(http::Method::PATCH, path)
    }

    /// PUT `path`.
    pub fn put(&self, path: &str) -> Req<'_> {
        self.req(http::Method::PUT, path)
    }

    /// DELETE `path`.
    pub fn delete(&self, path: &str) -> Req<'_> {
        self.req(http::Method::DELETE, path)
    }

    /// Sends a raw request.
    pub async fn call(&self, request: http::Request<Bytes>) -> http::Response<Bytes> {
        self.app.call(request).await
    }

    /// Registers `username` through the API.
    ///
    /// # Panics
    /// When registration does not answer 201.
    pub async fn register(&self, username: &str) -> TestUser {
        let email = format!("{username}@example.com");
        let resp = self
            .post("/api/auth/register")
            .json(serde_json::json!({"username": username, "email": email, "password": TEST_PASSWORD}))
            .send()
            .await
            .expect_status(201);
        let body = resp.json();
        TestUser {
            id: body["user"]["id"].as_str().unwrap_or_default().to_string(),
            username: username.to_string(),
            email,
            password: TEST_PASSWORD.to_string(),
            access: body["access"].as_str().unwrap_or_default().to_string(),
            refresh: body["refresh"].as_str().unwrap_or_default().to_string(),
        }
    }

    /// Logs in through the JSON token endpoint; returns the response body.
    pub async fn login(&self, username: &str, password: &str) -> Resp {
        self.post("/api/auth/token")
            .json(serde_json::json!({"username": username, "password": password}))
            .send()
            .await
    }
}

/// Runs one scenario.
///
/// # Panics
/// When the scenario fails, or `backend` is PostgreSQL and `VAULT_TEST_POSTGRES_URL` is unset.
pub async fn run<F, Fut>(backend: Backend, factory: AppFactory, scenario: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()>,
{
    run_with_resource_cache(backend, factory, true, scenario).await;
}

/// [`run`] with [`ResourcesConfig::cache`](crate::config::ResourcesConfig::cache) set to `resource_cache`.
///
/// # Panics
/// As [`run`].
pub async fn run_with_resource_cache<F, Fut>(
    backend: Backend,
    factory: AppFactory,
    resource_cache: bool,
    scenario: F,
) where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()>,
{
    // Fail before the scenario does anything, whatever it starts with.
    if backend == Backend::Postgres {
        db::required_postgres_url();
    }
    scenario(Ctx {
        backend,
        factory,
        resource_cache,
    })
    .await;
}

/// Inserts a user `name` (email `name@example.com`, a placeholder hash nobody can log in with)
/// straight through the store, for tests and benches that need an owner, not a login.
///
/// # Panics
/// When `name` is not a valid username or the store refuses the user.
pub async fn insert_user(store: &dyn crate::auth::AuthStore, name: &str) -> uuid::Uuid {
    let user = crate::auth::NewUser {
        id: uuid::Uuid::now_v7(),
        username: crate::auth::Username::parse(name).expect("valid username"),
        email: crate::auth::Email::parse(&format!("{name}@example.com")).expect("valid email"),
        display_name: name.to_string(),
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$fake${name}"),
        role: crate::Role::User,
        created_at: crate::time::now(),
    };
    store
        .create_user(&user, None)
        .await
        .expect("create_user")
        .id
}

/// A fresh, migrated database for a store suite scenario: its URL (for raw connections) and
/// the pool.
pub struct StoreDatabase {
    /// Connection URL of the fresh database.
    pub url: String,
    /// A pool of 5 connections over it, migrated.
    pub database: crate::Database,
    _guard: TestDatabase,
}

/// Runs one store scenario on a fresh, migrated database of `backend`. The database lives until
/// the scenario has finished and the pool is closed.
///
/// # Panics
/// When the scenario fails, the database cannot be created or migrated, or `backend` is
/// PostgreSQL and `VAULT_TEST_POSTGRES_URL` is unset.
pub async fn run_store<F, Fut>(backend: Backend, scenario: F)
where
    F: FnOnce(&StoreDatabase) -> Fut,
    Fut: Future<Output = ()>,
{
    let guard = TestDatabase::create(backend).await;
    let database = crate::Database::connect(&guard.url, 5)
        .await
        .expect("test database answers");
    database.migrate().await.expect("migrations apply");
    let store = StoreDatabase {
        url: guard.url.clone(),
        database,
        _guard: guard,
    };
    scenario(&store).await;
    store.database.close().await;
}

/// One `#[tokio::test]` per store scenario and backend, in modules `sqlite` and `postgres`,
/// each calling `super::run(backend, super::scenario)`. Scenarios listed under `multi` run on a
/// two-worker runtime (they race tasks). The PostgreSQL tests are ignored unless the invoking
/// crate has `cfg(vault_test_postgres)` (see the [module docs](crate::testkit)).
#[macro_export]
macro_rules! store_suite {
    (single: [$($single:ident),* $(,)?], multi: [$($multi:ident),* $(,)?] $(,)?) => {
        $crate::store_suite!(@backend sqlite, Sqlite, [$($single),*], [$($multi),*]);
        $crate::store_suite!(@backend postgres, Postgres, [$($single),*], [$($multi),*]);
    };
    (@backend $module:ident, $backend:ident, [$($single:ident),*], [$($multi:ident),*]) => {
        mod $module {
            $(
                $crate::__vault_backend_test! { $backend,
                    #[::tokio::test]
                    async fn $single() {
                        super::run($crate::testkit::Backend::$backend, super::$single).await;
                    }
                }
            )*
            $(
                $crate::__vault_backend_test! { $backend,
                    #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $multi() {
                        super::run($crate::testkit::Backend::$backend, super::$multi).await;
                    }
                }
            )*
        }
    };
}

/// A test function of `Backend::$backend`: as is on SQLite; on PostgreSQL, ignored unless the
/// expanding crate was built with `VAULT_TEST_POSTGRES_URL` set (`cfg(vault_test_postgres)`,
/// from its build script).
#[doc(hidden)]
#[macro_export]
macro_rules! __vault_backend_test {
    (Sqlite, $($test:tt)*) => {
        $($test)*
    };
    (Postgres, #[$runner:meta] $($test:tt)*) => {
        #[$runner]
        #[cfg_attr(not(vault_test_postgres), ignore = "needs VAULT_TEST_POSTGRES_URL")]
        $($test)*
    };
}

/// Expands to one `#[tokio::test]` per conformance scenario, in modules `sqlite` and
/// `postgres`, for the app built by `$factory: fn(Vault) -> Box<dyn TestApp>`. The PostgreSQL
/// tests are ignored unless the invoking crate has `cfg(vault_test_postgres)` (see the
/// [module docs](crate::testkit)).
#[macro_export]
macro_rules! conformance_tests {
    ($factory:expr) => {
        fn __vault_conformance_factory() -> $crate::testkit::AppFactory {
            $factory
        }
        $crate::__conformance_backend!(sqlite, Sqlite);
        $crate::__conformance_backend!(postgres, Postgres);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_backend {
    ($module:ident, $backend:ident) => {
        mod $module {
            $crate::__conformance_scenarios!($backend;
                unknown_route_is_problem_404,
                wrong_method_is_problem_405,
                trailing_slash_is_the_same_route,
                request_id_is_echoed_or_generated,
                non_json_body_is_415,
                malformed_json_is_parse_error,
                unknown_fields_are_rejected,
                wrong_types_and_missing_fields_name_the_field,
                body_over_limit_is_413,
                undecodable_ids_are_404,
                register_returns_user_and_tokens,
                register_validates_every_field,
                register_clash_is_409_case_insensitive,
                concurrent_registrations_of_one_name_one_wins,
                login_with_username_or_email,
                login_with_oauth2_password_form,
                login_failures_look_the_same,
                refresh_rotates_and_reuse_revokes_the_family,
                concurrent_refresh_exactly_one_wins,
                token_types_are_not_interchangeable,
                logout_is_idempotent_and_refuses_forgeries,
                logout_all_revokes_sessions_and_access_tokens,
                me_get_and_patch,
                patch_me_refuses_unwritable_fields,
                password_change_rules_and_revocation,
                account_deletion_removes_everything,
                bearer_token_attacks_are_refused,
                deactivated_users_are_locked_out,
                revocation_reaches_other_instances_within_ttl,
                auth_requests_are_throttled_per_ip,
                failed_logins_are_throttled_per_account,
                general_api_limits_per_ip_and_per_user,
                simultaneous_wrong_passwords_get_at_most_the_budget,
                overlong_login_names_are_refused_before_anything_counts,
                failed_logins_do_not_reveal_which_names_share_an_account,
                forwarded_for_entries_cannot_choose_the_throttle_key,
                openapi_document_describes_the_api,
                every_documented_route_is_served,
                docs_page_works_offline,
                health_endpoints,
                a_session_the_database_ends_is_503_then_recovers,
                resources_crud_with_put_and_patch_semantics,
                resource_validation,
                tags_are_created_on_the_fly_and_counted,
                tag_crud_rename_clash_and_detach,
                list_filters_and_ordering,
                pagination_links_and_invalid_page,
                remembered_pages_answer_what_a_fresh_read_would,
                search_is_ranked_and_safe,
                malformed_ids_are_404,
                ownership_table_private_modules,
                page_links_are_absolute_with_a_public_base_url,
                files_upload_download_replace_delete,
                file_uploads_are_checked,
                files_never_outlive_their_rows,
                page_numbers_past_any_listing_are_invalid_pages,
                nul_characters_are_refused_by_name_everywhere,
                control_characters_and_lengths_have_limits,
                requests_of_an_account_deleted_elsewhere_are_401,
                flashcard_decks_crud_search_pages_and_cascade,
                flashcard_cards_crud_filters_and_moves,
                flashcard_reviews_history_and_preview,
                flashcard_study_queue_and_stats,
                flashcard_validation_and_malformed_ids,
                flashcards_ownership_table,
            );
            /// The resources module's scenarios again, without its cache layer.
            mod uncached {
                $crate::__conformance_uncached!($backend;
                    resources_crud_with_put_and_patch_semantics,
                    resource_validation,
                    tags_are_created_on_the_fly_and_counted,
                    tag_crud_rename_clash_and_detach,
                    list_filters_and_ordering,
                    pagination_links_and_invalid_page,
                    remembered_pages_answer_what_a_fresh_read_would,
                    search_is_ranked_and_safe,
                    malformed_ids_are_404,
                    ownership_table_private_modules,
                    page_links_are_absolute_with_a_public_base_url,
                    files_upload_download_replace_delete,
                    file_uploads_are_checked,
                    files_never_outlive_their_rows,
                    page_numbers_past_any_listing_are_invalid_pages,
                    requests_of_an_account_deleted_elsewhere_are_401,
                );
            }
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_uncached {
    ($backend:ident; $($name:ident),* $(,)?) => {
        $(
            $crate::__vault_backend_test! { $backend,
                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::testkit::run_with_resource_cache(
                        $crate::testkit::Backend::$backend,
                        super::super::__vault_conformance_factory(),
                        false,
                        $crate::testkit::scenarios::$name,
                    )
                    .await;
                }
            }
        )*
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_scenarios {
    ($backend:ident; $($name:ident),* $(,)?) => {
        $(
            $crate::__vault_backend_test! { $backend,
                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $crate::testkit::run(
                        $crate::testkit::Backend::$backend,
                        super::__vault_conformance_factory(),
                        $crate::testkit::scenarios::$name,
                    )
                    .await;
                }
            }
        )*
    };
}
