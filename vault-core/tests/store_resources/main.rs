//! The store suite of the resources module (ARCHITECTURE.md "Tests, in three layers", layer 2).
//!
//! Every scenario is written once against `Arc<dyn ResourceStore>` (plus the auth store for the
//! owners and raw SQL where the trait has no say, e.g. the `blob_garbage` triggers) and run on a
//! fresh SQLite file always, and on a fresh PostgreSQL database when `VAULT_TEST_POSTGRES_URL` is
//! set (ignored otherwise). `cargo test -p vault-core --test store_resources postgres` runs only
//! the PostgreSQL half.
//!
//! The suite runs twice: in module `cached` against the store a vault uses by default (the SQL
//! store behind `CachingResourceStore`), in module `uncached` against the SQL store alone.
//! Scenarios that stand for "another server instance" get a store of the same kind over the
//! same database ([`Ctx::another_store`]); the truth they compare with is always the bare SQL
//! store ([`Ctx::truth`]).
//!
//! The store trusts the service for normalisation: tag names arrive trimmed, lowercase, sorted
//! and deduplicated, so the scenarios pass them that way.

use std::future::Future;
use std::sync::Arc;

use chrono::Duration;
use tokio::sync::Barrier;
use tokio::task::JoinSet;
use uuid::Uuid;
use vault_core::auth::AuthStore;
use vault_core::page::PageRequest;
use vault_core::resources::{
    FileColumns, OrderField, ResourceChanges, ResourceFields, ResourceFilter, ResourceKind,
    ResourceRecord, ResourceStore, Tag,
};
use vault_core::testkit::{insert_user, run_store, Backend};
use vault_core::time::Timestamp;
use vault_core::{Database, Error};

mod concurrency;
mod crud;
mod files;
mod fixtures;
mod listing;
mod owners;
mod remembered;
mod search;
mod tags;

use concurrency::*;
use crud::*;
use files::*;
use fixtures::*;
use listing::*;
use owners::*;
use remembered::*;
use search::*;
use tags::*;

// --- harness ----------------------------------------------------------------------------------

/// The cache bound of the `cached` runs: the default of a vault.
const CACHE_BYTES: u64 = vault_core::resources::CachingResourceStore::DEFAULT_BYTES;

/// What a scenario gets: the stores over one fresh, migrated database, and the database itself
/// for raw SQL.
#[derive(Clone)]
pub(crate) struct Ctx {
    pub(crate) url: String,
    pub(crate) db: Database,
    pub(crate) auth: Arc<dyn AuthStore>,
    pub(crate) store: Arc<dyn ResourceStore>,
    /// The cache bound of this run's resource stores (`None`: no cache layer).
    pub(crate) cache: Option<u64>,
}

impl Ctx {
    /// A store of this run's kind over `db`, with a memory of its own: another server instance.
    pub(crate) fn store_over(&self, db: &Database) -> Arc<dyn ResourceStore> {
        db.resource_store_with_cache(self.cache)
    }

    /// Another instance's store over this scenario's database.
    pub(crate) fn another_store(&self) -> Arc<dyn ResourceStore> {
        self.store_over(&self.db)
    }

    /// The bare SQL store, which remembers nothing: what a fresh read answers.
    pub(crate) fn truth(&self) -> Arc<dyn ResourceStore> {
        self.db.resource_store_with_cache(None)
    }
}

/// Runs one scenario on a fresh, migrated database of `backend`, with the resource store behind
/// a cache of `cache` bytes (or none).
async fn run_with<F, Fut>(backend: Backend, cache: Option<u64>, scenario: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()>,
{
    run_store(backend, |fresh| {
        scenario(Ctx {
            url: fresh.url.clone(),
            auth: fresh.database.auth_store(),
            store: fresh.database.resource_store_with_cache(cache),
            db: fresh.database.clone(),
            cache,
        })
    })
    .await;
}

/// Every scenario, once per backend (see `vault_core::store_suite!`).
macro_rules! suite {
    () => {
        vault_core::store_suite! {
            single: [
                create_round_trips_and_creates_tags_on_the_fly_per_owner,
                create_of_a_link_without_url_is_refused_and_leaves_nothing,
                every_operation_is_scoped_to_the_owner,
                replace_resets_every_field_and_the_tag_set,
                patch_changes_only_the_given_fields,
                patch_leaving_a_link_without_url_is_refused_and_changes_nothing,
                delete_removes_the_resource_and_its_tag_links,
                list_filters_by_kind_favorite_and_tags,
                search_matches_title_body_url_and_tag_names,
                search_ranks_by_relevance_unless_ordered,
                search_syntax_means_the_same_on_both_backends,
                remembered_searches_follow_every_write_of_any_store,
                deep_pages_seek_from_remembered_marks_and_follow_every_write,
                ordering_by_each_field_both_ways_with_a_stable_tie_break,
                count_is_independent_of_page_slicing,
                unfiltered_count_follows_creates_deletes_and_failed_writes,
                list_tags_counts_pages_and_searches_literally,
                create_tag_clash_is_a_conflict_on_name,
                rename_tag_clash_is_a_conflict_and_resources_follow_the_new_name,
                delete_tag_detaches_it_from_resources,
                deleting_the_user_cascades_to_resources_and_tags,
                every_call_for_a_deleted_owner_is_refused_as_its_token,
                blob_garbage_queues_keys_of_deleted_and_replaced_files,
                upload_reservations_fall_due_later_and_attaching_clears_them,
            ],
            multi: [
                concurrent_patches_of_different_fields_both_survive,
                concurrent_create_tag_of_one_name_one_wins,
                concurrent_creates_with_the_same_new_tags_share_them,
                writes_wait_for_a_concurrent_write_transaction,
                tagging_racing_tag_deletion_or_rename_stays_consistent,
            ],
        }
    };
}

/// The SQL store behind the cache layer, as a vault uses it by default.
mod cached {
    use super::*;

    async fn run<F, Fut>(backend: Backend, scenario: F)
    where
        F: FnOnce(Ctx) -> Fut,
        Fut: Future<Output = ()>,
    {
        run_with(backend, Some(CACHE_BYTES), scenario).await;
    }

    suite!();
}

/// The SQL store alone (`config.resources.cache` off).
mod uncached {
    use super::*;

    async fn run<F, Fut>(backend: Backend, scenario: F)
    where
        F: FnOnce(Ctx) -> Fut,
        Fut: Future<Output = ()>,
    {
        run_with(backend, None, scenario).await;
    }

    suite!();
}

/// The cache layer's byte bound, with a layer of its own over the bare SQL store.
mod byte_bound {
    use super::*;

    async fn run<F, Fut>(backend: Backend, scenario: F)
    where
        F: FnOnce(Ctx) -> Fut,
        Fut: Future<Output = ()>,
    {
        run_with(backend, None, scenario).await;
    }

    vault_core::store_suite! {
        single: [remembered_rows_stay_within_the_byte_bound],
        multi: [],
    }
}
