//! The store suite of the auth module (ARCHITECTURE.md "Tests, in three layers", layer 2).
//!
//! Every scenario is written once against `Arc<dyn AuthStore>` and run on a fresh SQLite file
//! always, and on a fresh PostgreSQL database when `VAULT_TEST_POSTGRES_URL` is set (ignored
//! otherwise). `cargo test -p vault-core --test store_auth postgres` runs only the PostgreSQL
//! half.

use std::future::Future;
use std::sync::Arc;

use chrono::Duration;
use tokio::task::JoinSet;
use uuid::Uuid;
use vault_core::auth::{
    AuthStore, Email, NewRefreshToken, NewUser, Rotation, TokenCodec, TokenState, User,
    UserChanges, UserRecord, Username,
};
use vault_core::testkit::{run_store, Backend};
use vault_core::time::now;
use vault_core::{Error, Role};

mod concurrency;
mod fixtures;
mod revocation;
mod rotation;
mod users;

use concurrency::*;
use fixtures::*;
use revocation::*;
use rotation::*;
use users::*;

// --- harness ----------------------------------------------------------------------------------

/// Runs one scenario on a fresh, migrated database of `backend`.
async fn run<F, Fut>(backend: Backend, scenario: F)
where
    F: FnOnce(Arc<dyn AuthStore>) -> Fut,
    Fut: Future<Output = ()>,
{
    run_store(backend, |fresh| scenario(fresh.database.auth_store())).await;
}

vault_core::store_suite! {
    single: [
        create_user_round_trips_and_logins_are_case_insensitive,
        username_and_email_clashes_name_the_field,
        first_token_is_atomic_with_the_user,
        update_user_changes_profile_and_refuses_email_clash,
        rotation_of_a_live_token_then_replay_is_reuse,
        rotation_refuses_unknown_expired_and_inactive,
        revoke_family_affects_only_that_family,
        revoke_session_of_knows_forgeries_and_is_idempotent,
        end_all_sessions_bumps_version_and_revokes_only_that_user,
        change_password_bumps_version_and_revokes_sessions,
        set_active_bumps_version_and_deactivation_revokes_sessions,
        set_role_changes_role_and_bumps_version_only,
        replace_password_hash_keeps_version_and_sessions,
        delete_user_cascades_to_refresh_tokens,
        insert_refresh_token_requires_an_existing_user,
        purge_deletes_only_rows_expired_before_now,
    ],
    multi: [
        concurrent_create_user_of_one_username_one_wins,
        concurrent_create_user_of_one_email_one_wins,
        concurrent_rotation_of_one_token_one_wins,
        sessions_ended_during_a_rotation_stay_ended,
        session_revoked_during_a_rotation_stays_revoked,
    ],
}
