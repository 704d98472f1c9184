//! The store suite of the resources module (ARCHITECTURE.md "Tests, in three layers", layer 2).
//!
//! Every scenario is written once against `Arc<dyn ResourceStore>` (plus the auth store for the
//! owners and raw SQL where the trait has no say, e.g. the `blob_garbage` triggers) and run on a
//! fresh SQLite file always, and on a fresh PostgreSQL database when `VAULT_TEST_POSTGRES_URL` is
//! set (skipped with a note otherwise). `cargo test -p vault-core --test store_resources postgres`
//! runs only the PostgreSQL half.
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
    OrderField, ResourceChanges, ResourceFields, ResourceFilter, ResourceKind, ResourceRecord,
    ResourceStore, Tag,
};
use vault_core::testkit::{insert_user, run_store, Backend};
use vault_core::time::Timestamp;
use vault_core::{Database, Error};

// --- harness ----------------------------------------------------------------------------------

/// What a scenario gets: the stores over one fresh, migrated database, and the database itself
/// for raw SQL.
#[derive(Clone)]
struct Ctx {
    url: String,
    db: Database,
    auth: Arc<dyn AuthStore>,
    store: Arc<dyn ResourceStore>,
}

/// Runs one scenario on a fresh, migrated database of `backend`.
async fn run<F, Fut>(backend: Backend, scenario: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()>,
{
    run_store(backend, |fresh| {
        scenario(Ctx {
            url: fresh.url.clone(),
            auth: fresh.database.auth_store(),
            store: fresh.database.resource_store(),
            db: fresh.database.clone(),
        })
    })
    .await;
}

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
        blob_garbage_queues_keys_of_deleted_and_replaced_files,
    ],
    multi: [
        concurrent_patches_of_different_fields_both_survive,
        concurrent_create_tag_of_one_name_one_wins,
        concurrent_creates_with_the_same_new_tags_share_them,
        writes_wait_for_a_concurrent_write_transaction,
        tagging_racing_tag_deletion_or_rename_stays_consistent,
    ],
}

// --- fixtures ---------------------------------------------------------------------------------

/// Creates user `name` (resources and tags reference users); returns the id.
async fn user(ctx: &Ctx, name: &str) -> Uuid {
    insert_user(ctx.auth.as_ref(), name).await
}

/// A fixed instant in the past, plus `seconds`: scenarios choose their own timestamps.
fn at(seconds: i64) -> Timestamp {
    chrono::DateTime::from_timestamp_micros(1_795_342_530_123_456).expect("valid timestamp")
        + Duration::seconds(seconds)
}

fn note(title: &str) -> ResourceFields {
    ResourceFields {
        kind: ResourceKind::Note,
        title: title.to_string(),
        body: String::new(),
        url: None,
        favorite: false,
    }
}

fn link(title: &str, url: &str) -> ResourceFields {
    ResourceFields {
        kind: ResourceKind::Link,
        url: Some(url.to_string()),
        ..note(title)
    }
}

fn with_body(fields: ResourceFields, body: &str) -> ResourceFields {
    ResourceFields {
        body: body.to_string(),
        ..fields
    }
}

fn favorite(fields: ResourceFields) -> ResourceFields {
    ResourceFields {
        favorite: true,
        ..fields
    }
}

fn of_kind(kind: ResourceKind, title: &str) -> ResourceFields {
    ResourceFields {
        kind,
        ..note(title)
    }
}

/// Tag names as the service passes them (the caller lists them sorted).
fn tags(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_string()).collect()
}

/// Creates a resource of `owner` at `at(seconds)`.
async fn create(
    ctx: &Ctx,
    owner: Uuid,
    fields: &ResourceFields,
    names: &[&str],
    seconds: i64,
) -> ResourceRecord {
    ctx.store
        .create_resource(owner, Uuid::now_v7(), fields, &tags(names), at(seconds))
        .await
        .expect("create_resource")
}

async fn get(ctx: &Ctx, owner: Uuid, id: Uuid) -> Option<ResourceRecord> {
    ctx.store
        .get_resource(owner, id)
        .await
        .expect("get_resource")
}

async fn fetch(ctx: &Ctx, owner: Uuid, id: Uuid) -> ResourceRecord {
    get(ctx, owner, id).await.expect("resource exists")
}

/// No filter, default order.
fn everything() -> ResourceFilter {
    ResourceFilter {
        kind: None,
        tags: Vec::new(),
        favorite: None,
        search: None,
        ordering: None,
    }
}

fn searching(words: &str) -> ResourceFilter {
    ResourceFilter {
        search: Some(words.to_string()),
        ..everything()
    }
}

fn tagged(names: &[&str]) -> ResourceFilter {
    ResourceFilter {
        tags: tags(names),
        ..everything()
    }
}

fn page(page: u64, page_size: u64) -> PageRequest {
    PageRequest { page, page_size }
}

/// The first 100 matches and the total.
async fn list(ctx: &Ctx, owner: Uuid, filter: &ResourceFilter) -> (u64, Vec<ResourceRecord>) {
    ctx.store
        .list_resources(owner, filter, page(1, 100))
        .await
        .expect("list_resources")
}

/// Ids of the first 100 matches, in order; asserts the total agrees.
async fn ids(ctx: &Ctx, owner: Uuid, filter: &ResourceFilter) -> Vec<Uuid> {
    let (count, rows) = list(ctx, owner, filter).await;
    assert_eq!(
        count,
        rows.len() as u64,
        "count agrees with the rows of {filter:?}"
    );
    rows.iter().map(|r| r.id).collect()
}

/// Ids of the matches, sorted: for filters whose order does not matter.
async fn id_set(ctx: &Ctx, owner: Uuid, filter: &ResourceFilter) -> Vec<Uuid> {
    let mut found = ids(ctx, owner, filter).await;
    found.sort();
    found
}

fn sorted(records: &[&ResourceRecord]) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = records.iter().map(|r| r.id).collect();
    ids.sort();
    ids
}

/// Every tag of `owner` as (name, resource_count), by name.
async fn tag_counts(ctx: &Ctx, owner: Uuid) -> Vec<(String, i64)> {
    all_tags(ctx, owner)
        .await
        .into_iter()
        .map(|t| (t.name, t.resource_count))
        .collect()
}

async fn all_tags(ctx: &Ctx, owner: Uuid) -> Vec<Tag> {
    let (count, tags) = ctx
        .store
        .list_tags(owner, None, page(1, 100))
        .await
        .expect("list_tags");
    assert_eq!(count, tags.len() as u64, "tag count agrees with the rows");
    tags
}

async fn tag_named(ctx: &Ctx, owner: Uuid, name: &str) -> Tag {
    all_tags(ctx, owner)
        .await
        .into_iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("tag {name:?} exists"))
}

fn counts(pairs: &[(&str, i64)]) -> Vec<(String, i64)> {
    pairs.iter().map(|(n, c)| ((*n).to_string(), *c)).collect()
}

/// The fields a conflict or validation error names, or a panic describing what came instead.
fn error_fields<T: std::fmt::Debug>(result: vault_core::Result<T>, conflict: bool) -> Vec<String> {
    let errors = match (result, conflict) {
        (Err(Error::Conflict(errors)), true) | (Err(Error::Validation(errors)), false) => errors,
        (other, _) => panic!(
            "expected Error::{}, got {other:?}",
            if conflict { "Conflict" } else { "Validation" }
        ),
    };
    let value = serde_json::to_value(&errors).expect("field errors serialize");
    let map = value.as_object().expect("field errors are an object");
    for (field, messages) in map {
        let messages = messages.as_array().expect("messages are a list");
        assert!(!messages.is_empty(), "{field} has a message");
    }
    map.keys().cloned().collect()
}

fn conflict_fields<T: std::fmt::Debug>(result: vault_core::Result<T>) -> Vec<String> {
    error_fields(result, true)
}

fn validation_fields<T: std::fmt::Debug>(result: vault_core::Result<T>) -> Vec<String> {
    error_fields(result, false)
}

// --- raw SQL (what the trait does not expose) -------------------------------------------------

/// Runs `sql` with `$1` bound to `id`; returns the rows affected.
async fn exec(db: &Database, sql: &str, id: Uuid) -> u64 {
    let result = match db {
        Database::Sqlite(pool) => sqlx::query(sql)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
        Database::Postgres(pool) => sqlx::query(sql)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()),
    };
    result.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// `SELECT count(*) …` with `$1` bound to `id`.
async fn count_where(db: &Database, sql: &str, id: Uuid) -> i64 {
    let result = match db {
        Database::Sqlite(pool) => sqlx::query_scalar(sql).bind(id).fetch_one(pool).await,
        Database::Postgres(pool) => sqlx::query_scalar(sql).bind(id).fetch_one(pool).await,
    };
    result.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The names of the tags actually linked to resource `id` (through `resource_tags`), sorted.
async fn linked_tag_names(db: &Database, id: Uuid) -> Vec<String> {
    let sql = "SELECT t.name FROM resource_tags rt JOIN tags t ON t.id = rt.tag_id \
               WHERE rt.resource_id = $1 ORDER BY t.name";
    let result = match db {
        Database::Sqlite(pool) => sqlx::query_scalar(sql).bind(id).fetch_all(pool).await,
        Database::Postgres(pool) => sqlx::query_scalar(sql).bind(id).fetch_all(pool).await,
    };
    result.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The keys queued in `blob_garbage`, sorted.
async fn blob_garbage(db: &Database) -> Vec<String> {
    let sql = "SELECT key FROM blob_garbage ORDER BY key";
    let result = match db {
        Database::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
        Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
    };
    result.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Attaches a (pretend) stored file with blob key `key` to resource `id`.
async fn attach_file(db: &Database, id: Uuid, key: &str) {
    let sql = format!(
        "UPDATE resources SET file_key = '{key}', file_name = 'paper.pdf', file_size = 3, \
         file_type = 'application/pdf', file_sha256 = 'abc' WHERE id = $1"
    );
    assert_eq!(exec(db, &sql, id).await, 1, "resource {id} exists");
}

// --- create and get ---------------------------------------------------------------------------

async fn create_round_trips_and_creates_tags_on_the_fly_per_owner(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let bob = user(&ctx, "bob").await;

    let fields = favorite(with_body(note("Ownership in Rust"), "# Borrowing\n\nbody"));
    let id = Uuid::now_v7();
    let first = ctx
        .store
        .create_resource(ada, id, &fields, &tags(&["databases", "rust"]), at(0))
        .await
        .expect("create_resource");
    assert_eq!(first.id, id);
    assert_eq!(first.kind, ResourceKind::Note);
    assert_eq!(first.title, "Ownership in Rust");
    assert_eq!(first.body, "# Borrowing\n\nbody");
    assert_eq!(first.url, None);
    assert!(first.favorite);
    assert_eq!(first.tags(), vec!["databases", "rust"], "tags sorted");
    assert_eq!(first.tag_names, "databases\nrust");
    assert_eq!(
        (
            &first.file_key,
            &first.file_name,
            first.file_size,
            &first.file_type,
            &first.file_sha256
        ),
        (&None, &None, None, &None, &None),
        "no file"
    );
    assert_eq!(first.created_at, at(0), "timestamps round-trip");
    assert_eq!(first.updated_at, at(0));
    assert_eq!(
        fetch(&ctx, ada, id).await,
        first,
        "get returns what create did"
    );

    // A link keeps its URL; no tags is an empty set.
    let site = create(
        &ctx,
        ada,
        &link("Docs", "https://docs.example.com/a?b=c"),
        &[],
        1,
    )
    .await;
    assert_eq!(site.kind, ResourceKind::Link);
    assert_eq!(site.url.as_deref(), Some("https://docs.example.com/a?b=c"));
    assert!(site.tags().is_empty());
    assert_eq!(site.tag_names, "");

    // "rust" is reused, "sqlx" is new.
    let rust_before = tag_named(&ctx, ada, "rust").await;
    let second = create(&ctx, ada, &note("sqlx"), &["rust", "sqlx"], 2).await;
    assert_eq!(second.tags(), vec!["rust", "sqlx"]);
    assert_eq!(
        tag_counts(&ctx, ada).await,
        counts(&[("databases", 1), ("rust", 2), ("sqlx", 1)]),
        "one row per name, listed by name"
    );
    let rust_after = tag_named(&ctx, ada, "rust").await;
    assert_eq!(rust_after.id, rust_before.id, "the existing tag is reused");
    assert_eq!(
        rust_after.created_at,
        at(0),
        "a tag is created with its resource"
    );
    assert_eq!(tag_named(&ctx, ada, "sqlx").await.created_at, at(2));

    // Bob's "rust" is his own row; Ada's counts do not move.
    assert!(tag_counts(&ctx, bob).await.is_empty());
    create(&ctx, bob, &note("bob's"), &["rust"], 3).await;
    assert_eq!(tag_counts(&ctx, bob).await, counts(&[("rust", 1)]));
    assert_ne!(tag_named(&ctx, bob, "rust").await.id, rust_before.id);
    assert_eq!(
        tag_counts(&ctx, ada).await,
        counts(&[("databases", 1), ("rust", 2), ("sqlx", 1)])
    );
    assert_eq!(
        count_where(
            &ctx.db,
            "SELECT count(*) FROM tags WHERE owner_id = $1",
            ada
        )
        .await,
        3
    );
    assert_eq!(
        count_where(
            &ctx.db,
            "SELECT count(*) FROM tags WHERE owner_id = $1",
            bob
        )
        .await,
        1
    );
}

async fn create_of_a_link_without_url_is_refused_and_leaves_nothing(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let id = Uuid::now_v7();
    let fields = ResourceFields {
        url: None,
        ..link("no url", "https://unused.example")
    };
    let result = ctx
        .store
        .create_resource(ada, id, &fields, &tags(&["orphan"]), at(0))
        .await;
    assert_eq!(validation_fields(result), vec!["url"]);
    assert!(get(&ctx, ada, id).await.is_none());
    assert_eq!(list(&ctx, ada, &everything()).await.0, 0);
    assert!(
        tag_counts(&ctx, ada).await.is_empty(),
        "no tag row survives the failed creation"
    );
}

// --- ownership --------------------------------------------------------------------------------

async fn every_operation_is_scoped_to_the_owner(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let bob = user(&ctx, "bob").await;
    let mine = create(
        &ctx,
        ada,
        &with_body(note("private"), "secret"),
        &["alpha"],
        0,
    )
    .await;
    let alpha = tag_named(&ctx, ada, "alpha").await;

    // Bob does not see Ada's resource, and cannot change or delete it.
    assert!(get(&ctx, bob, mine.id).await.is_none());
    assert!(ctx
        .store
        .replace_resource(bob, mine.id, &note("stolen"), &tags(&["beta"]), at(5))
        .await
        .expect("replace_resource")
        .is_none());
    let changes = ResourceChanges {
        title: Some("stolen".into()),
        tags: Some(tags(&["gamma"])),
        ..ResourceChanges::default()
    };
    assert!(ctx
        .store
        .patch_resource(bob, mine.id, &changes, at(6))
        .await
        .expect("patch_resource")
        .is_none());
    assert!(!ctx
        .store
        .delete_resource(bob, mine.id)
        .await
        .expect("delete_resource"));
    assert_eq!(list(&ctx, bob, &everything()).await.0, 0);
    assert_eq!(list(&ctx, bob, &searching("secret")).await.0, 0);
    assert_eq!(list(&ctx, bob, &tagged(&["alpha"])).await.0, 0);

    // Nor Ada's tags.
    assert!(ctx
        .store
        .get_tag(bob, alpha.id)
        .await
        .expect("get_tag")
        .is_none());
    assert!(ctx
        .store
        .rename_tag(bob, alpha.id, "taken")
        .await
        .expect("rename_tag")
        .is_none());
    assert!(!ctx
        .store
        .delete_tag(bob, alpha.id)
        .await
        .expect("delete_tag"));
    assert!(
        tag_counts(&ctx, bob).await.is_empty(),
        "Bob's refused writes created no tags"
    );

    // Everything of Ada's is as it was.
    assert_eq!(fetch(&ctx, ada, mine.id).await, mine);
    assert_eq!(
        ctx.store
            .get_tag(ada, alpha.id)
            .await
            .expect("get_tag")
            .as_ref(),
        Some(&alpha)
    );
    assert_eq!(alpha.resource_count, 1);

    // Unknown ids are simply absent, for the owner too.
    let unknown = Uuid::now_v7();
    assert!(get(&ctx, ada, unknown).await.is_none());
    assert!(ctx
        .store
        .replace_resource(ada, unknown, &note("x"), &[], at(7))
        .await
        .expect("replace_resource")
        .is_none());
    assert!(ctx
        .store
        .patch_resource(ada, unknown, &ResourceChanges::default(), at(7))
        .await
        .expect("patch_resource")
        .is_none());
    assert!(!ctx
        .store
        .delete_resource(ada, unknown)
        .await
        .expect("delete_resource"));
    assert!(ctx
        .store
        .get_tag(ada, unknown)
        .await
        .expect("get_tag")
        .is_none());
}

// --- replace and patch ------------------------------------------------------------------------

async fn replace_resets_every_field_and_the_tag_set(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let original = create(
        &ctx,
        ada,
        &favorite(with_body(
            link("Lifetimes explained", "https://example.com/lifetimes"),
            "long read",
        )),
        &["borrowing", "rust"],
        0,
    )
    .await;

    let replaced = ctx
        .store
        .replace_resource(
            ada,
            original.id,
            &note("Plain note"),
            &tags(&["misc"]),
            at(60),
        )
        .await
        .expect("replace_resource")
        .expect("resource exists");
    assert_eq!(replaced.id, original.id);
    assert_eq!(replaced.kind, ResourceKind::Note);
    assert_eq!(replaced.title, "Plain note");
    assert_eq!(replaced.body, "");
    assert_eq!(replaced.url, None);
    assert!(!replaced.favorite);
    assert_eq!(replaced.tags(), vec!["misc"]);
    assert_eq!(replaced.created_at, at(0), "creation time is kept");
    assert_eq!(replaced.updated_at, at(60));
    assert_eq!(fetch(&ctx, ada, original.id).await, replaced);
    assert_eq!(
        tag_counts(&ctx, ada).await,
        counts(&[("borrowing", 0), ("misc", 1), ("rust", 0)]),
        "old tags are detached (but kept), the new one attached"
    );

    // The search index follows: old words are gone, new ones found.
    assert!(ids(&ctx, ada, &searching("lifetimes")).await.is_empty());
    assert!(ids(&ctx, ada, &searching("borrowing")).await.is_empty());
    assert!(ids(&ctx, ada, &tagged(&["rust"])).await.is_empty());
    assert_eq!(ids(&ctx, ada, &searching("plain")).await, vec![original.id]);
    assert_eq!(ids(&ctx, ada, &searching("misc")).await, vec![original.id]);

    // Replacing with no tags empties the set.
    let bare = ctx
        .store
        .replace_resource(
            ada,
            original.id,
            &with_body(note("Plain note"), "text"),
            &[],
            at(61),
        )
        .await
        .expect("replace_resource")
        .expect("resource exists");
    assert!(bare.tags().is_empty());
    assert_eq!(bare.tag_names, "");
    assert_eq!(bare.body, "text");
    assert_eq!(
        tag_counts(&ctx, ada).await,
        counts(&[("borrowing", 0), ("misc", 0), ("rust", 0)])
    );

    // A link without url is refused and changes nothing.
    let fields = ResourceFields {
        url: None,
        ..link("broken", "https://unused.example")
    };
    let result = ctx
        .store
        .replace_resource(ada, original.id, &fields, &tags(&["fresh"]), at(62))
        .await;
    assert_eq!(validation_fields(result), vec!["url"]);
    assert_eq!(fetch(&ctx, ada, original.id).await, bare);
    assert!(
        !tag_counts(&ctx, ada)
            .await
            .iter()
            .any(|(name, _)| name == "fresh"),
        "the refused replacement created no tag"
    );
}

async fn patch_changes_only_the_given_fields(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let base = create(
        &ctx,
        ada,
        &with_body(
            link("Original title", "https://example.com/one"),
            "original body",
        ),
        &["alpha", "beta"],
        0,
    )
    .await;
    let patch = |changes: ResourceChanges, seconds: i64| {
        let store = Arc::clone(&ctx.store);
        async move {
            store
                .patch_resource(ada, base.id, &changes, at(seconds))
                .await
                .expect("patch_resource")
                .expect("resource exists")
        }
    };

    // Nothing given: only the modification time moves.
    let touched = patch(ResourceChanges::default(), 10).await;
    assert_eq!(
        touched,
        ResourceRecord {
            updated_at: at(10),
            ..base.clone()
        }
    );

    let titled = patch(
        ResourceChanges {
            title: Some("New title".into()),
            ..ResourceChanges::default()
        },
        20,
    )
    .await;
    assert_eq!(
        titled,
        ResourceRecord {
            title: "New title".into(),
            updated_at: at(20),
            ..base.clone()
        }
    );

    let starred = patch(
        ResourceChanges {
            favorite: Some(true),
            body: Some(String::new()),
            ..ResourceChanges::default()
        },
        30,
    )
    .await;
    assert_eq!(
        starred,
        ResourceRecord {
            favorite: true,
            body: String::new(),
            updated_at: at(30),
            ..titled.clone()
        }
    );

    let retagged = patch(
        ResourceChanges {
            tags: Some(tags(&["beta", "gamma"])),
            ..ResourceChanges::default()
        },
        40,
    )
    .await;
    assert_eq!(
        retagged,
        ResourceRecord {
            tag_names: "beta\ngamma".into(),
            updated_at: at(40),
            ..starred.clone()
        }
    );
    assert_eq!(
        tag_counts(&ctx, ada).await,
        counts(&[("alpha", 0), ("beta", 1), ("gamma", 1)])
    );
    assert_eq!(ids(&ctx, ada, &searching("gamma")).await, vec![base.id]);
    assert!(ids(&ctx, ada, &searching("alpha")).await.is_empty());

    let moved = patch(
        ResourceChanges {
            url: Some(Some("https://example.com/two".into())),
            ..ResourceChanges::default()
        },
        50,
    )
    .await;
    assert_eq!(moved.url.as_deref(), Some("https://example.com/two"));
    assert_eq!(moved.tags(), vec!["beta", "gamma"], "tags untouched");

    // A note may lose its URL; kind and url in one patch.
    let noted = patch(
        ResourceChanges {
            kind: Some(ResourceKind::Note),
            url: Some(None),
            ..ResourceChanges::default()
        },
        60,
    )
    .await;
    assert_eq!(
        noted,
        ResourceRecord {
            kind: ResourceKind::Note,
            url: None,
            updated_at: at(60),
            ..moved.clone()
        }
    );
    let linked = patch(
        ResourceChanges {
            kind: Some(ResourceKind::Link),
            url: Some(Some("https://example.com/three".into())),
            ..ResourceChanges::default()
        },
        70,
    )
    .await;
    assert_eq!(linked.kind, ResourceKind::Link);
    assert_eq!(linked.url.as_deref(), Some("https://example.com/three"));

    // Clearing the tags.
    let untagged = patch(
        ResourceChanges {
            tags: Some(Vec::new()),
            ..ResourceChanges::default()
        },
        80,
    )
    .await;
    assert!(untagged.tags().is_empty());
    assert_eq!(untagged.title, "New title");
    assert_eq!(untagged.created_at, at(0));
    assert_eq!(fetch(&ctx, ada, base.id).await, untagged);
}

async fn patch_leaving_a_link_without_url_is_refused_and_changes_nothing(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let site = create(&ctx, ada, &link("Site", "https://example.com"), &["web"], 0).await;
    let cleared = ResourceChanges {
        url: Some(None),
        title: Some("changed".into()),
        tags: Some(tags(&["other"])),
        ..ResourceChanges::default()
    };
    let result = ctx
        .store
        .patch_resource(ada, site.id, &cleared, at(10))
        .await;
    assert_eq!(validation_fields(result), vec!["url"]);
    assert_eq!(fetch(&ctx, ada, site.id).await, site, "nothing changed");
    assert_eq!(tag_counts(&ctx, ada).await, counts(&[("web", 1)]));

    // Turning a note without URL into a link is the same mistake.
    let memo = create(&ctx, ada, &note("Memo"), &[], 1).await;
    let linkify = ResourceChanges {
        kind: Some(ResourceKind::Link),
        ..ResourceChanges::default()
    };
    let result = ctx
        .store
        .patch_resource(ada, memo.id, &linkify, at(11))
        .await;
    assert_eq!(validation_fields(result), vec!["url"]);
    assert_eq!(fetch(&ctx, ada, memo.id).await, memo);
}

// --- delete -----------------------------------------------------------------------------------

async fn delete_removes_the_resource_and_its_tag_links(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let doomed = create(
        &ctx,
        ada,
        &with_body(note("Doomed"), "ephemeral"),
        &["rust", "temp"],
        0,
    )
    .await;
    let kept = create(&ctx, ada, &note("Kept"), &["rust"], 1).await;

    assert!(ctx
        .store
        .delete_resource(ada, doomed.id)
        .await
        .expect("delete_resource"));
    assert!(get(&ctx, ada, doomed.id).await.is_none());
    assert!(
        !ctx.store
            .delete_resource(ada, doomed.id)
            .await
            .expect("delete again"),
        "a second delete finds nothing"
    );
    assert_eq!(ids(&ctx, ada, &everything()).await, vec![kept.id]);
    assert!(ids(&ctx, ada, &searching("ephemeral")).await.is_empty());
    assert_eq!(ids(&ctx, ada, &tagged(&["rust"])).await, vec![kept.id]);
    assert_eq!(
        tag_counts(&ctx, ada).await,
        counts(&[("rust", 1), ("temp", 0)]),
        "tags stay, their links go"
    );
    assert_eq!(
        count_where(
            &ctx.db,
            "SELECT count(*) FROM resource_tags WHERE resource_id = $1",
            doomed.id
        )
        .await,
        0
    );
    assert!(
        blob_garbage(&ctx.db).await.is_empty(),
        "no file, no garbage"
    );
}

// --- list: filters and search -----------------------------------------------------------------

async fn list_filters_by_kind_favorite_and_tags(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let bob = user(&ctx, "bob").await;
    let n1 = create(&ctx, ada, &note("n1"), &["db", "rust"], 0).await;
    let n2 = create(&ctx, ada, &favorite(note("n2")), &["rust"], 1).await;
    let l1 = create(
        &ctx,
        ada,
        &favorite(link("l1", "https://example.com")),
        &["db", "rust", "web"],
        2,
    )
    .await;
    let f1 = create(&ctx, ada, &of_kind(ResourceKind::File, "f1"), &["db"], 3).await;
    let r1 = create(&ctx, ada, &of_kind(ResourceKind::Reference, "r1"), &[], 4).await;
    // Bob's rows match every filter below and must never show up for Ada.
    create(&ctx, bob, &favorite(note("b1")), &["db", "rust", "web"], 5).await;
    create(&ctx, bob, &link("b2", "https://example.com"), &["db"], 6).await;

    let all = ids(&ctx, ada, &everything()).await;
    assert_eq!(
        all,
        vec![r1.id, f1.id, l1.id, n2.id, n1.id],
        "newest first by default"
    );

    let by_kind = |kind| ResourceFilter {
        kind: Some(kind),
        ..everything()
    };
    assert_eq!(
        id_set(&ctx, ada, &by_kind(ResourceKind::Note)).await,
        sorted(&[&n1, &n2])
    );
    assert_eq!(
        ids(&ctx, ada, &by_kind(ResourceKind::Link)).await,
        vec![l1.id]
    );
    assert_eq!(
        ids(&ctx, ada, &by_kind(ResourceKind::File)).await,
        vec![f1.id]
    );
    assert_eq!(
        ids(&ctx, ada, &by_kind(ResourceKind::Reference)).await,
        vec![r1.id]
    );

    let by_favorite = |favorite| ResourceFilter {
        favorite: Some(favorite),
        ..everything()
    };
    assert_eq!(
        id_set(&ctx, ada, &by_favorite(true)).await,
        sorted(&[&n2, &l1])
    );
    assert_eq!(
        id_set(&ctx, ada, &by_favorite(false)).await,
        sorted(&[&n1, &f1, &r1])
    );

    // Tags: every one given must be carried.
    assert_eq!(
        id_set(&ctx, ada, &tagged(&["rust"])).await,
        sorted(&[&n1, &n2, &l1])
    );
    assert_eq!(
        id_set(&ctx, ada, &tagged(&["db"])).await,
        sorted(&[&n1, &l1, &f1])
    );
    assert_eq!(
        id_set(&ctx, ada, &tagged(&["db", "rust"])).await,
        sorted(&[&n1, &l1])
    );
    assert_eq!(
        ids(&ctx, ada, &tagged(&["db", "rust", "web"])).await,
        vec![l1.id]
    );
    assert!(
        ids(&ctx, ada, &tagged(&["rust", "nosuchtag"]))
            .await
            .is_empty(),
        "an unknown tag matches nothing, even next to a known one"
    );
    assert!(ids(&ctx, ada, &tagged(&["nosuchtag"])).await.is_empty());

    // Combined.
    let combined = ResourceFilter {
        kind: Some(ResourceKind::Note),
        favorite: Some(false),
        tags: tags(&["rust"]),
        ..everything()
    };
    assert_eq!(ids(&ctx, ada, &combined).await, vec![n1.id]);
    let favorite_db = ResourceFilter {
        favorite: Some(true),
        tags: tags(&["db"]),
        ..everything()
    };
    assert_eq!(ids(&ctx, ada, &favorite_db).await, vec![l1.id]);

    // Bob sees only his own.
    assert_eq!(list(&ctx, bob, &everything()).await.0, 2);
    assert_eq!(list(&ctx, bob, &tagged(&["db", "rust", "web"])).await.0, 1);
}

async fn search_matches_title_body_url_and_tag_names(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let bob = user(&ctx, "bob").await;
    let in_title = create(&ctx, ada, &note("Learning Ferris ownership"), &[], 0).await;
    let in_body = create(
        &ctx,
        ada,
        &with_body(
            note("Weekend notes"),
            "Borrow checker tips for ferris fans.",
        ),
        &[],
        1,
    )
    .await;
    let in_url = create(
        &ctx,
        ada,
        &link(
            "A blog",
            "https://blog.example.com/postgres-indexing?page=2",
        ),
        &[],
        2,
    )
    .await;
    let in_tags = create(&ctx, ada, &note("Misc"), &["databases", "self-hosting"], 3).await;
    // Bob's rows carry every word searched below.
    create(
        &ctx,
        bob,
        &with_body(
            link(
                "Ferris borrow",
                "https://blog.example.com/postgres-indexing",
            ),
            "weekend",
        ),
        &["databases"],
        4,
    )
    .await;

    let cases = [
        (
            "ferris",
            sorted(&[&in_title, &in_body]),
            "title and body words",
        ),
        ("FERRIS", sorted(&[&in_title, &in_body]), "case-insensitive"),
        ("postgres", sorted(&[&in_url]), "url words"),
        ("indexing", sorted(&[&in_url]), "url words"),
        ("databases", sorted(&[&in_tags]), "tag names"),
        ("hosting", sorted(&[&in_tags]), "tag name words"),
        (
            "ferris borrow",
            sorted(&[&in_body]),
            "every word must match",
        ),
        ("  weekend   borrow ", sorted(&[&in_body]), "extra spaces"),
        ("ferris postgres", Vec::new(), "words of different rows"),
        ("nowhere", Vec::new(), "unknown word"),
        ("ferr", Vec::new(), "words, not substrings"),
    ];
    for (words, expected, why) in cases {
        assert_eq!(
            id_set(&ctx, ada, &searching(words)).await,
            expected,
            "{words:?}: {why}"
        );
    }

    // Search combines with the other filters.
    let notes = ResourceFilter {
        kind: Some(ResourceKind::Note),
        ..searching("ferris")
    };
    assert_eq!(
        id_set(&ctx, ada, &notes).await,
        sorted(&[&in_title, &in_body])
    );
    let links = ResourceFilter {
        kind: Some(ResourceKind::Link),
        ..searching("ferris")
    };
    assert!(ids(&ctx, ada, &links).await.is_empty());
    let tagged_search = ResourceFilter {
        tags: tags(&["databases"]),
        ..searching("misc")
    };
    assert_eq!(ids(&ctx, ada, &tagged_search).await, vec![in_tags.id]);

    // Punctuation is no operator: it neither errors nor widens the search.
    for odd in ["\"ferris", "ferris*", "ferris:", "(ferris)", "ferris!"] {
        let found = ctx
            .store
            .list_resources(ada, &searching(odd), page(1, 100))
            .await
            .unwrap_or_else(|e| panic!("search {odd:?} must not fail: {e:?}"));
        assert!(found.0 <= 2, "search {odd:?} matched {}", found.0);
    }
}

/// Searches are remembered per owner (`db::search_cache`) and checked against the owner's data
/// version: after every kind of write — made through another store over the same database, as
/// another server instance would — the remembered store answers exactly what a store that never
/// saw the search answers, page by page.
async fn remembered_searches_follow_every_write_of_any_store(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let bob = user(&ctx, "bob").await;
    let mut comets = Vec::new();
    for i in 0..25 {
        let body = "comet ".repeat(1 + i % 4);
        let tag_names: &[&str] = if i == 0 { &["nebula"] } else { &[] };
        comets.push(
            create(
                &ctx,
                ada,
                &with_body(note(&format!("Sky {i}")), &body),
                tag_names,
                i as i64,
            )
            .await,
        );
    }
    create(&ctx, bob, &note("comet of bob"), &[], 100).await;
    // Another instance's store (its own memory), and one that remembers nothing: the truth.
    let other = ctx.db.resource_store();
    let pages = [
        page(1, 10),
        page(2, 10),
        page(3, 10),
        page(4, 10),
        page(2, 7),
    ];
    let check = |what: &'static str, owner: Uuid, filter: ResourceFilter| {
        let remembering = ctx.store.clone();
        let db = ctx.db.clone();
        async move {
            for request in pages {
                let truth = db
                    .resource_store()
                    .list_resources(owner, &filter, request)
                    .await
                    .expect("list_resources");
                // Twice: the first may rank afresh, the second is answered from memory.
                for round in 0..2 {
                    let seen = remembering
                        .list_resources(owner, &filter, request)
                        .await
                        .expect("list_resources");
                    assert_eq!(
                        seen.0, truth.0,
                        "{what}: count of {request:?}, round {round}"
                    );
                    let ids =
                        |rows: &[ResourceRecord]| rows.iter().map(|r| r.id).collect::<Vec<_>>();
                    assert_eq!(
                        ids(&seen.1),
                        ids(&truth.1),
                        "{what}: rows of {request:?}, round {round}"
                    );
                    assert_eq!(
                        seen.1, truth.1,
                        "{what}: contents of {request:?}, round {round}"
                    );
                }
            }
        }
    };
    check("seeded", ada, searching("comet")).await;
    check("bob's own", bob, searching("comet")).await;
    check(
        "favorites",
        ada,
        ResourceFilter {
            favorite: Some(true),
            ..searching("comet")
        },
    )
    .await;
    check(
        "by title",
        ada,
        ResourceFilter {
            ordering: Some((OrderField::Title, false)),
            ..searching("comet")
        },
    )
    .await;
    check("tag", ada, searching("nebula")).await;

    // A new hit.
    let late = other
        .create_resource(ada, Uuid::now_v7(), &note("comet late"), &[], at(200))
        .await
        .expect("create_resource");
    check("after a create", ada, searching("comet")).await;
    // An edit that changes the ranking (more occurrences) and one that removes a hit.
    let edit = |id: Uuid, changes: ResourceChanges, seconds: i64| {
        let other = other.clone();
        async move {
            other
                .patch_resource(ada, id, &changes, at(seconds))
                .await
                .expect("patch_resource")
                .expect("resource exists")
        }
    };
    edit(
        comets[3].id,
        ResourceChanges {
            body: Some("comet ".repeat(30)),
            ..ResourceChanges::default()
        },
        201,
    )
    .await;
    check("after a re-ranking edit", ada, searching("comet")).await;
    edit(
        comets[4].id,
        ResourceChanges {
            body: Some("asteroid".into()),
            ..ResourceChanges::default()
        },
        202,
    )
    .await;
    check("after an edit removing a hit", ada, searching("comet")).await;
    // Favorite flag only: the favorite filter's hits change.
    edit(
        comets[5].id,
        ResourceChanges {
            favorite: Some(true),
            ..ResourceChanges::default()
        },
        203,
    )
    .await;
    check(
        "after starring",
        ada,
        ResourceFilter {
            favorite: Some(true),
            ..searching("comet")
        },
    )
    .await;
    // Replacing a resource.
    other
        .replace_resource(ada, comets[6].id, &note("Aardvark comet"), &[], at(204))
        .await
        .expect("replace_resource")
        .expect("resource exists");
    check(
        "after a replace",
        ada,
        ResourceFilter {
            ordering: Some((OrderField::Title, false)),
            ..searching("comet")
        },
    )
    .await;
    // Tags: renaming and deleting one changes what its old and new names find.
    let nebula = all_tags(&ctx, ada)
        .await
        .into_iter()
        .find(|t| t.name == "nebula")
        .expect("tag exists");
    other
        .rename_tag(ada, nebula.id, "quasar")
        .await
        .expect("rename_tag")
        .expect("tag exists");
    check("old tag name after a rename", ada, searching("nebula")).await;
    check("new tag name after a rename", ada, searching("quasar")).await;
    assert!(other.delete_tag(ada, nebula.id).await.expect("delete_tag"));
    check("after a tag deletion", ada, searching("quasar")).await;
    // Deleting hits, the late one included.
    for id in [late.id, comets[0].id, comets[10].id] {
        assert!(other
            .delete_resource(ada, id)
            .await
            .expect("delete_resource"));
    }
    check("after deletions", ada, searching("comet")).await;
    // Bob's writes leave Ada's remembered search valid, and Ada's never leak into Bob's.
    other
        .create_resource(bob, Uuid::now_v7(), &note("comet two"), &[], at(300))
        .await
        .expect("create_resource");
    check("bob after his create", bob, searching("comet")).await;
    check("ada after bob's create", ada, searching("comet")).await;
    // Everything deleted: nothing found, however many pages were remembered.
    for record in list(&ctx, ada, &everything()).await.1 {
        assert!(other
            .delete_resource(ada, record.id)
            .await
            .expect("delete_resource"));
    }
    check("after deleting everything", ada, searching("comet")).await;
}

/// Pages of a plain listing are remembered whole, and deep ones also by marks
/// (`db::page_marks`) once reached: the same page again and the page after it. After every
/// kind of write — made
/// through another store, as another server instance would — the remembering store answers
/// exactly what a store that never listed answers, for every ordering.
async fn deep_pages_seek_from_remembered_marks_and_follow_every_write(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let bob = user(&ctx, "bob").await;
    let mut rows = Vec::new();
    for i in 0..250_i64 {
        // Titles repeat (ties broken by id), creation times are distinct.
        let title = format!("Title {:02}", i % 37);
        rows.push(create(&ctx, ada, &note(&title), &[], i).await);
    }
    create(&ctx, bob, &note("Bob's"), &[], 0).await;
    let other = ctx.db.resource_store();
    let orderings = [
        None,
        Some((OrderField::CreatedAt, false)),
        Some((OrderField::UpdatedAt, true)),
        Some((OrderField::Title, false)),
        Some((OrderField::Title, true)),
    ];
    // Shallow pages (remembered whole) and pages of 20 from offset 200 (the first deep one)
    // to past the end; 7 and 30 cut differently.
    let pages = [
        page(1, 20),
        page(1, 20),
        page(2, 20),
        page(1, 7),
        page(11, 20),
        page(11, 20),
        page(12, 20),
        page(13, 20),
        page(14, 20),
        page(29, 7),
        page(30, 7),
        page(36, 7),
        page(37, 7),
        page(8, 30),
        page(9, 30),
    ];
    let check = |what: &'static str| {
        let remembering = ctx.store.clone();
        let db = ctx.db.clone();
        async move {
            for ordering in orderings {
                let filter = ResourceFilter {
                    ordering,
                    ..everything()
                };
                for request in pages {
                    let truth = db
                        .resource_store()
                        .list_resources(ada, &filter, request)
                        .await
                        .expect("list_resources");
                    let seen = remembering
                        .list_resources(ada, &filter, request)
                        .await
                        .expect("list_resources");
                    assert_eq!(
                        seen.0, truth.0,
                        "{what}: count of {request:?} by {ordering:?}"
                    );
                    assert_eq!(
                        seen.1.iter().map(|r| r.id).collect::<Vec<_>>(),
                        truth.1.iter().map(|r| r.id).collect::<Vec<_>>(),
                        "{what}: rows of {request:?} by {ordering:?}"
                    );
                    assert_eq!(
                        seen.1, truth.1,
                        "{what}: contents of {request:?} by {ordering:?}"
                    );
                }
            }
        }
    };
    check("seeded").await;
    check("again, from marks").await;

    // Newer rows shift every page of the newest-first order.
    for i in 0..3 {
        other
            .create_resource(ada, Uuid::now_v7(), &note("Title 00"), &[], at(1_000 + i))
            .await
            .expect("create_resource");
    }
    check("after creates").await;
    // Renaming moves a row in the title order and touches `updated_at`.
    other
        .patch_resource(
            ada,
            rows[5].id,
            &ResourceChanges {
                title: Some("Aaa first".into()),
                ..ResourceChanges::default()
            },
            at(2_000),
        )
        .await
        .expect("patch_resource")
        .expect("resource exists");
    check("after a rename").await;
    // Deleting the very rows the marks point at.
    for id in [rows[40].id, rows[41].id, rows[9].id] {
        assert!(other
            .delete_resource(ada, id)
            .await
            .expect("delete_resource"));
    }
    check("after deletions").await;
    // Bob's writes do not disturb Ada's pages, and Ada's marks never answer Bob.
    other
        .create_resource(bob, Uuid::now_v7(), &note("Bob's late"), &[], at(3_000))
        .await
        .expect("create_resource");
    check("after another owner's write").await;
    let bobs = list(&ctx, bob, &everything()).await;
    assert_eq!(bobs.0, 2);
    assert!(ctx
        .store
        .list_resources(bob, &everything(), page(11, 20))
        .await
        .expect("list_resources")
        .1
        .is_empty());
}

/// Phrases, exclusions, alternatives and punctuated words give the same rows on SQLite and
/// PostgreSQL: the search is parsed once and rendered for each backend.
async fn search_syntax_means_the_same_on_both_backends(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let checker = create(
        &ctx,
        ada,
        &with_body(
            note("Rust notes"),
            "The borrow checker rejects unsafe aliasing.",
        ),
        &[],
        0,
    )
    .await;
    let reversed = create(
        &ctx,
        ada,
        &with_body(note("Checker borrow"), "Words in the other order."),
        &[],
        1,
    )
    .await;
    let go = create(
        &ctx,
        ada,
        &with_body(
            note("Go notes"),
            "Visit example.com or read snake_case_names.",
        ),
        &["café-crème"],
        2,
    )
    .await;

    let none = Vec::new();
    let cases = [
        (
            "\"borrow checker\"",
            sorted(&[&checker]),
            "a phrase: adjacent, in order",
        ),
        (
            "borrow checker",
            sorted(&[&checker, &reversed]),
            "words anywhere",
        ),
        ("borrow -unsafe", sorted(&[&reversed]), "-word excludes"),
        (
            "aliasing or visit",
            sorted(&[&checker, &go]),
            "or: alternatives",
        ),
        (
            "rust notes or go -visit",
            sorted(&[&checker]),
            "or binds looser than and",
        ),
        ("example", sorted(&[&go]), "body words split at dots"),
        ("example.com", sorted(&[&go]), "a dotted word is a phrase"),
        ("case", sorted(&[&go]), "words split at underscores"),
        ("crème", sorted(&[&go]), "tag words split at dashes"),
        ("CAFÉ", sorted(&[&go]), "accented words fold case"),
        ("\"or\"", sorted(&[&go]), "a quoted or is a word"),
        ("!!!", none.clone(), "no word at all"),
        ("-borrow", none.clone(), "only exclusions"),
        ("or", none.clone(), "only an operator"),
        ("\"\"", none, "an empty phrase"),
    ];
    for (words, expected, why) in cases {
        assert_eq!(
            id_set(&ctx, ada, &searching(words)).await,
            expected,
            "{words:?}: {why}"
        );
    }
}

async fn search_ranks_by_relevance_unless_ordered(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    // Fillers keep the word rare (BM25 needs it in fewer than half of the rows).
    for i in 0..6 {
        create(
            &ctx,
            ada,
            &with_body(note(&format!("filler {i}")), "nothing to see here"),
            &[],
            i,
        )
        .await;
    }
    // The body hit is newer, so only relevance puts the title hit first.
    let title_hit = create(
        &ctx,
        ada,
        &with_body(note("Quokka facts"), "small marsupial"),
        &[],
        10,
    )
    .await;
    let body_hit = create(
        &ctx,
        ada,
        &with_body(note("Animal facts"), "small quokka"),
        &[],
        20,
    )
    .await;

    assert_eq!(
        ids(&ctx, ada, &searching("quokka")).await,
        vec![title_hit.id, body_hit.id],
        "a title hit outranks a body hit"
    );
    let oldest_first = ResourceFilter {
        ordering: Some((OrderField::CreatedAt, false)),
        ..searching("quokka")
    };
    assert_eq!(
        ids(&ctx, ada, &oldest_first).await,
        vec![title_hit.id, body_hit.id]
    );
    let newest_first = ResourceFilter {
        ordering: Some((OrderField::CreatedAt, true)),
        ..searching("quokka")
    };
    assert_eq!(
        ids(&ctx, ada, &newest_first).await,
        vec![body_hit.id, title_hit.id],
        "an explicit ordering wins over relevance"
    );
    let by_title = ResourceFilter {
        ordering: Some((OrderField::Title, false)),
        ..searching("quokka")
    };
    assert_eq!(
        ids(&ctx, ada, &by_title).await,
        vec![body_hit.id, title_hit.id]
    );
}

// --- list: order and pages --------------------------------------------------------------------

async fn ordering_by_each_field_both_ways_with_a_stable_tie_break(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    // Created at 0, 10, 10, 10, 20, 30; titles with a duplicate; updated in another order.
    let plan: [(&str, i64); 6] = [
        ("delta", 0),
        ("bravo", 10),
        ("alpha", 10),
        ("bravo", 10),
        ("charlie", 20),
        ("echo", 30),
    ];
    let mut created = Vec::new();
    for (title, seconds) in plan {
        created.push(create(&ctx, ada, &note(title), &[], seconds).await);
    }
    // Touch some rows so that updated_at differs from created_at, with a tie.
    for (index, seconds) in [(0, 100), (4, 100), (2, 90)] {
        let id = created[index].id;
        ctx.store
            .patch_resource(ada, id, &ResourceChanges::default(), at(seconds))
            .await
            .expect("patch_resource")
            .expect("resource exists");
    }
    let mut records = Vec::new();
    for r in &created {
        records.push(fetch(&ctx, ada, r.id).await);
    }

    for field in [
        OrderField::CreatedAt,
        OrderField::UpdatedAt,
        OrderField::Title,
    ] {
        for descending in [false, true] {
            let mut expected = records.clone();
            expected.sort_by(|a, b| {
                let key = match field {
                    OrderField::CreatedAt => a.created_at.cmp(&b.created_at),
                    OrderField::UpdatedAt => a.updated_at.cmp(&b.updated_at),
                    OrderField::Title => a.title.cmp(&b.title),
                };
                key.then(a.id.cmp(&b.id))
            });
            if descending {
                expected.reverse();
            }
            let expected: Vec<Uuid> = expected.iter().map(|r| r.id).collect();
            let filter = ResourceFilter {
                ordering: Some((field, descending)),
                ..everything()
            };
            assert_eq!(
                ids(&ctx, ada, &filter).await,
                expected,
                "ordering {field:?} descending={descending}"
            );
            // Stable: asking again, or page by page, gives the same sequence.
            let mut paged = Vec::new();
            for number in 1..=3 {
                let (_, rows) = ctx
                    .store
                    .list_resources(ada, &filter, page(number, 2))
                    .await
                    .expect("list_resources");
                paged.extend(rows.iter().map(|r| r.id));
            }
            assert_eq!(
                paged, expected,
                "pages of {field:?} descending={descending}"
            );
        }
    }

    // The default is newest first.
    let default_order = ids(&ctx, ada, &everything()).await;
    let explicit = ResourceFilter {
        ordering: Some((OrderField::CreatedAt, true)),
        ..everything()
    };
    assert_eq!(default_order, ids(&ctx, ada, &explicit).await);
}

/// The unfiltered total comes from a maintained per-owner count: it must follow every create
/// and delete, ignore refused writes, stay per owner, and agree with a filtered count.
async fn unfiltered_count_follows_creates_deletes_and_failed_writes(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let bob = user(&ctx, "bob").await;
    assert_eq!(list(&ctx, ada, &everything()).await.0, 0, "no row yet");
    let mut made = Vec::new();
    for i in 0..5 {
        made.push(create(&ctx, ada, &note(&format!("n{i}")), &[], i).await);
    }
    create(&ctx, bob, &note("bob's"), &[], 9).await;
    let refused = ResourceFields {
        kind: ResourceKind::Link,
        ..note("link without url")
    };
    assert!(ctx
        .store
        .create_resource(ada, Uuid::now_v7(), &refused, &[], at(10))
        .await
        .is_err());
    assert!(ctx
        .store
        .delete_resource(ada, made[0].id)
        .await
        .expect("delete"));
    assert!(!ctx
        .store
        .delete_resource(bob, made[1].id)
        .await
        .expect("delete"));
    assert_eq!(list(&ctx, ada, &everything()).await.0, 4);
    assert_eq!(list(&ctx, bob, &everything()).await.0, 1);
    let notes = ResourceFilter {
        kind: Some(ResourceKind::Note),
        ..everything()
    };
    assert_eq!(
        list(&ctx, ada, &notes).await.0,
        4,
        "the counted path agrees"
    );
}

async fn count_is_independent_of_page_slicing(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let nobody = user(&ctx, "nobody").await;
    for i in 0..25 {
        let fields = if i % 5 == 0 {
            favorite(note(&format!("r{i:02}")))
        } else {
            note(&format!("r{i:02}"))
        };
        create(&ctx, ada, &fields, &[], i).await;
    }
    let (total, everything_at_once) = list(&ctx, ada, &everything()).await;
    assert_eq!(total, 25);
    let everything_at_once: Vec<Uuid> = everything_at_once.iter().map(|r| r.id).collect();

    let mut stitched = Vec::new();
    for (number, expected_len) in [(1, 10), (2, 10), (3, 5), (4, 0), (99, 0)] {
        let (count, rows) = ctx
            .store
            .list_resources(ada, &everything(), page(number, 10))
            .await
            .expect("list_resources");
        assert_eq!(count, 25, "page {number} still counts every row");
        assert_eq!(rows.len(), expected_len, "rows on page {number}");
        stitched.extend(rows.iter().map(|r| r.id));
    }
    assert_eq!(stitched, everything_at_once, "pages partition the list");

    let (count, rows) = ctx
        .store
        .list_resources(ada, &everything(), page(3, 7))
        .await
        .expect("list_resources");
    assert_eq!(count, 25);
    assert_eq!(
        rows.iter().map(|r| r.id).collect::<Vec<_>>(),
        everything_at_once[14..21].to_vec(),
        "offset (page - 1) * page_size, limit page_size"
    );

    let favorites = ResourceFilter {
        favorite: Some(true),
        ..everything()
    };
    let (count, rows) = ctx
        .store
        .list_resources(ada, &favorites, page(2, 2))
        .await
        .expect("list_resources");
    assert_eq!(count, 5, "the count is of the filtered rows");
    assert_eq!(rows.len(), 2);
    let (count, rows) = ctx
        .store
        .list_resources(ada, &favorites, page(3, 2))
        .await
        .expect("list_resources");
    assert_eq!((count, rows.len()), (5, 1));

    let (count, rows) = ctx
        .store
        .list_resources(nobody, &everything(), page(1, 20))
        .await
        .expect("list_resources");
    assert_eq!((count, rows.len()), (0, 0), "an empty list");
}

// --- tags -------------------------------------------------------------------------------------

async fn list_tags_counts_pages_and_searches_literally(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let bob = user(&ctx, "bob").await;
    create(&ctx, ada, &note("one"), &["100%", "a_b", "rust"], 0).await;
    create(&ctx, ada, &note("two"), &["axb", "rust"], 1).await;
    create(&ctx, ada, &note("three"), &["a\\b", "rust"], 2).await;
    ctx.store
        .create_tag(ada, Uuid::now_v7(), "1000", at(3))
        .await
        .expect("create_tag");
    create(&ctx, bob, &note("bob"), &["a_b", "rust"], 4).await;

    assert_eq!(
        tag_counts(&ctx, ada).await,
        counts(&[
            ("100%", 1),
            ("1000", 0),
            ("a\\b", 1),
            ("a_b", 1),
            ("axb", 1),
            ("rust", 3)
        ]),
        "by name, with counts of Ada's resources only"
    );

    let search = |text: &str| {
        let store = Arc::clone(&ctx.store);
        let text = text.to_string();
        async move {
            let (count, tags) = store
                .list_tags(ada, Some(text.clone()), page(1, 100))
                .await
                .expect("list_tags");
            assert_eq!(count, tags.len() as u64, "count of search {text:?}");
            tags.into_iter().map(|t| t.name).collect::<Vec<_>>()
        }
    };
    assert_eq!(search("%").await, vec!["100%"], "% is literal");
    assert_eq!(search("_").await, vec!["a_b"], "_ is literal");
    assert_eq!(search("a_").await, vec!["a_b"]);
    assert_eq!(search("\\").await, vec!["a\\b"], "backslash is literal");
    assert_eq!(search("100").await, vec!["100%", "1000"], "substring");
    assert_eq!(search("b").await, vec!["a\\b", "a_b", "axb"]);
    assert_eq!(search("us").await, vec!["rust"]);
    assert!(search("go").await.is_empty());

    // Pages of tags.
    let mut names = Vec::new();
    for number in 1..=4 {
        let (count, tags) = ctx
            .store
            .list_tags(ada, None, page(number, 2))
            .await
            .expect("list_tags");
        assert_eq!(count, 6, "page {number} still counts every tag");
        assert_eq!(tags.len(), if number <= 3 { 2 } else { 0 });
        names.extend(tags.into_iter().map(|t| t.name));
    }
    assert_eq!(names, vec!["100%", "1000", "a\\b", "a_b", "axb", "rust"]);
    let (count, tags) = ctx
        .store
        .list_tags(ada, Some("b".into()), page(2, 2))
        .await
        .expect("list_tags");
    assert_eq!(count, 3);
    assert_eq!(
        tags.into_iter().map(|t| t.name).collect::<Vec<_>>(),
        vec!["axb"]
    );
}

async fn create_tag_clash_is_a_conflict_on_name(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let bob = user(&ctx, "bob").await;
    let id = Uuid::now_v7();
    let tag = ctx
        .store
        .create_tag(ada, id, "rust", at(0))
        .await
        .expect("create_tag");
    assert_eq!(
        tag,
        Tag {
            id,
            name: "rust".into(),
            resource_count: 0,
            created_at: at(0)
        }
    );
    assert_eq!(
        ctx.store.get_tag(ada, id).await.expect("get_tag").as_ref(),
        Some(&tag)
    );

    let again = ctx
        .store
        .create_tag(ada, Uuid::now_v7(), "rust", at(1))
        .await;
    assert_eq!(conflict_fields(again), vec!["name"]);

    // A tag created on the fly by a resource clashes too, and the count is live.
    create(&ctx, ada, &note("n"), &["databases", "rust"], 2).await;
    let again = ctx
        .store
        .create_tag(ada, Uuid::now_v7(), "databases", at(3))
        .await;
    assert_eq!(conflict_fields(again), vec!["name"]);
    assert_eq!(
        ctx.store
            .get_tag(ada, id)
            .await
            .expect("get_tag")
            .map(|t| t.resource_count),
        Some(1)
    );
    assert_eq!(
        tag_counts(&ctx, ada).await,
        counts(&[("databases", 1), ("rust", 1)]),
        "the refused creations left nothing"
    );

    // Names are per owner.
    let bobs = ctx
        .store
        .create_tag(bob, Uuid::now_v7(), "rust", at(4))
        .await
        .expect("Bob has no rust tag yet");
    assert_ne!(bobs.id, id);
}

async fn rename_tag_clash_is_a_conflict_and_resources_follow_the_new_name(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let bob = user(&ctx, "bob").await;
    let first = create(&ctx, ada, &note("first"), &["alpha", "beta", "gamma"], 0).await;
    let second = create(&ctx, ada, &note("second"), &["alpha"], 1).await;
    let untouched = create(&ctx, ada, &note("third"), &["beta"], 2).await;
    create(&ctx, bob, &note("bob's"), &["omega"], 3).await;
    let alpha = tag_named(&ctx, ada, "alpha").await;

    // Clashing with an existing name of the owner: refused, nothing changes.
    let clash = ctx.store.rename_tag(ada, alpha.id, "beta").await;
    assert_eq!(conflict_fields(clash), vec!["name"]);
    assert_eq!(fetch(&ctx, ada, first.id).await, first);
    assert_eq!(
        tag_counts(&ctx, ada).await,
        counts(&[("alpha", 2), ("beta", 2), ("gamma", 1)])
    );

    // Renaming to its own name is a no-op.
    let same = ctx
        .store
        .rename_tag(ada, alpha.id, "alpha")
        .await
        .expect("rename_tag")
        .expect("tag exists");
    assert_eq!(same, alpha);

    // Another owner's name is free; then "alpha" becomes "zeta", the end of the sorted list.
    let renamed = ctx
        .store
        .rename_tag(ada, alpha.id, "omega")
        .await
        .expect("rename_tag")
        .expect("tag exists");
    assert_eq!(
        renamed,
        Tag {
            name: "omega".into(),
            ..alpha.clone()
        }
    );
    let renamed = ctx
        .store
        .rename_tag(ada, alpha.id, "zeta")
        .await
        .expect("rename_tag")
        .expect("tag exists");
    assert_eq!(renamed.name, "zeta");
    assert_eq!(renamed.resource_count, 2);
    assert_eq!(
        ctx.store
            .get_tag(ada, alpha.id)
            .await
            .expect("get_tag")
            .as_ref(),
        Some(&renamed)
    );
    assert_eq!(
        fetch(&ctx, ada, first.id).await.tags(),
        vec!["beta", "gamma", "zeta"],
        "tag names follow, sorted"
    );
    assert_eq!(fetch(&ctx, ada, second.id).await.tags(), vec!["zeta"]);
    assert_eq!(fetch(&ctx, ada, untouched.id).await, untouched);
    assert_eq!(
        id_set(&ctx, ada, &searching("zeta")).await,
        sorted(&[&first, &second]),
        "search finds the new name"
    );
    assert!(ids(&ctx, ada, &searching("alpha")).await.is_empty());
    assert!(ids(&ctx, ada, &searching("omega")).await.is_empty());
    assert_eq!(
        id_set(&ctx, ada, &tagged(&["zeta"])).await,
        sorted(&[&first, &second])
    );
    assert!(ids(&ctx, ada, &tagged(&["alpha"])).await.is_empty());
    assert_eq!(
        tag_counts(&ctx, bob).await,
        counts(&[("omega", 1)]),
        "Bob's tags are not touched"
    );
    assert!(ctx
        .store
        .rename_tag(ada, Uuid::now_v7(), "nothing")
        .await
        .expect("rename_tag")
        .is_none());
}

async fn delete_tag_detaches_it_from_resources(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let both = create(&ctx, ada, &note("both"), &["drop", "keep"], 0).await;
    let only = create(&ctx, ada, &note("only"), &["drop"], 1).await;
    let other = create(&ctx, ada, &note("other"), &["keep"], 2).await;
    assert_eq!(both.tags(), vec!["drop", "keep"]);
    let dropped = tag_named(&ctx, ada, "drop").await;

    assert!(ctx
        .store
        .delete_tag(ada, dropped.id)
        .await
        .expect("delete_tag"));
    assert!(ctx
        .store
        .get_tag(ada, dropped.id)
        .await
        .expect("get_tag")
        .is_none());
    assert!(!ctx
        .store
        .delete_tag(ada, dropped.id)
        .await
        .expect("delete again"));

    let both_now = fetch(&ctx, ada, both.id).await;
    assert_eq!(both_now.tags(), vec!["keep"]);
    assert_eq!(both_now.updated_at, both.updated_at);
    let only_now = fetch(&ctx, ada, only.id).await;
    assert!(only_now.tags().is_empty());
    assert_eq!(only_now.tag_names, "");
    assert_eq!(fetch(&ctx, ada, other.id).await, other);
    assert_eq!(tag_counts(&ctx, ada).await, counts(&[("keep", 2)]));
    assert!(ids(&ctx, ada, &searching("drop")).await.is_empty());
    assert!(ids(&ctx, ada, &tagged(&["drop"])).await.is_empty());
    assert_eq!(
        id_set(&ctx, ada, &tagged(&["keep"])).await,
        sorted(&[&both, &other])
    );
    assert_eq!(
        count_where(
            &ctx.db,
            "SELECT count(*) FROM resource_tags WHERE tag_id = $1",
            dropped.id
        )
        .await,
        0
    );

    // The name is free again.
    ctx.store
        .create_tag(ada, Uuid::now_v7(), "drop", at(5))
        .await
        .expect("the name is free");
}

// --- account deletion and blob garbage --------------------------------------------------------

async fn deleting_the_user_cascades_to_resources_and_tags(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let bob = user(&ctx, "bob").await;
    let with_file = create(&ctx, ada, &note("paper"), &["papers", "rust"], 0).await;
    attach_file(&ctx.db, with_file.id, "ada-file").await;
    create(&ctx, ada, &note("plain"), &["rust"], 1).await;
    ctx.store
        .create_tag(ada, Uuid::now_v7(), "unused", at(2))
        .await
        .expect("create_tag");
    let bobs = create(&ctx, bob, &note("bob's paper"), &["rust"], 3).await;
    attach_file(&ctx.db, bobs.id, "bob-file").await;

    assert!(ctx.auth.delete_user(ada).await.expect("delete_user"));

    for (table, sql) in [
        (
            "resources",
            "SELECT count(*) FROM resources WHERE owner_id = $1",
        ),
        ("tags", "SELECT count(*) FROM tags WHERE owner_id = $1"),
    ] {
        assert_eq!(count_where(&ctx.db, sql, ada).await, 0, "{table} of Ada");
        assert!(
            count_where(&ctx.db, sql, bob).await > 0,
            "{table} of Bob are kept"
        );
    }
    assert_eq!(
        count_where(
            &ctx.db,
            "SELECT count(*) FROM resource_tags WHERE resource_id = $1",
            with_file.id
        )
        .await,
        0
    );
    assert!(get(&ctx, ada, with_file.id).await.is_none());
    assert_eq!(list(&ctx, ada, &everything()).await.0, 0);
    assert!(tag_counts(&ctx, ada).await.is_empty());
    assert_eq!(
        blob_garbage(&ctx.db).await,
        vec!["ada-file"],
        "the cascade queues Ada's file, and only hers"
    );
    assert_eq!(fetch(&ctx, bob, bobs.id).await.tags(), vec!["rust"]);
    assert_eq!(tag_counts(&ctx, bob).await, counts(&[("rust", 1)]));
    assert!(
        ids(&ctx, bob, &searching("paper")).await == vec![bobs.id],
        "Bob's search index is intact"
    );
}

async fn blob_garbage_queues_keys_of_deleted_and_replaced_files(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let doomed = create(&ctx, ada, &note("doomed"), &[], 0).await;
    exec(
        &ctx.db,
        "UPDATE resources SET file_key = 'k1' WHERE id = $1",
        doomed.id,
    )
    .await;
    assert!(
        blob_garbage(&ctx.db).await.is_empty(),
        "setting a key queues nothing"
    );
    assert!(ctx
        .store
        .delete_resource(ada, doomed.id)
        .await
        .expect("delete_resource"));
    assert_eq!(blob_garbage(&ctx.db).await, vec!["k1"]);

    let kept = create(&ctx, ada, &note("kept"), &[], 1).await;
    attach_file(&ctx.db, kept.id, "k2").await;
    // Changing other columns (through the store) does not queue the file.
    ctx.store
        .patch_resource(
            ada,
            kept.id,
            &ResourceChanges {
                title: Some("renamed".into()),
                tags: Some(tags(&["t"])),
                ..ResourceChanges::default()
            },
            at(5),
        )
        .await
        .expect("patch_resource")
        .expect("resource exists");
    ctx.store
        .replace_resource(ada, kept.id, &note("replaced"), &[], at(6))
        .await
        .expect("replace_resource")
        .expect("resource exists");
    let record = fetch(&ctx, ada, kept.id).await;
    assert_eq!(
        record.file_key.as_deref(),
        Some("k2"),
        "PUT of the fields keeps the file"
    );
    assert_eq!(record.file_name.as_deref(), Some("paper.pdf"));
    assert_eq!(record.file_size, Some(3));
    exec(
        &ctx.db,
        "UPDATE resources SET file_key = 'k2' WHERE id = $1",
        kept.id,
    )
    .await;
    assert_eq!(
        blob_garbage(&ctx.db).await,
        vec!["k1"],
        "same key or other columns: nothing queued"
    );

    // Replacing the key queues the old one; clearing it too.
    exec(
        &ctx.db,
        "UPDATE resources SET file_key = 'k3' WHERE id = $1",
        kept.id,
    )
    .await;
    assert_eq!(blob_garbage(&ctx.db).await, vec!["k1", "k2"]);
    exec(
        &ctx.db,
        "UPDATE resources SET file_key = NULL WHERE id = $1",
        kept.id,
    )
    .await;
    assert_eq!(blob_garbage(&ctx.db).await, vec!["k1", "k2", "k3"]);

    // A key queued twice is one row.
    let again = create(&ctx, ada, &note("again"), &[], 2).await;
    exec(
        &ctx.db,
        "UPDATE resources SET file_key = 'k1' WHERE id = $1",
        again.id,
    )
    .await;
    assert!(ctx
        .store
        .delete_resource(ada, again.id)
        .await
        .expect("delete_resource"));
    assert_eq!(blob_garbage(&ctx.db).await, vec!["k1", "k2", "k3"]);
}

// --- concurrency ------------------------------------------------------------------------------

async fn concurrent_patches_of_different_fields_both_survive(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    for round in 0..10_i64 {
        let base = create(
            &ctx,
            ada,
            &with_body(note(&format!("round {round}")), "body"),
            &["start"],
            round,
        )
        .await;
        let barrier = Arc::new(Barrier::new(3));
        let mut tasks = JoinSet::new();
        let changes = [
            ResourceChanges {
                title: Some(format!("title {round}")),
                ..ResourceChanges::default()
            },
            ResourceChanges {
                favorite: Some(true),
                ..ResourceChanges::default()
            },
            ResourceChanges {
                tags: Some(tags(&["finish", "start"])),
                ..ResourceChanges::default()
            },
        ];
        for (i, change) in changes.into_iter().enumerate() {
            let store = Arc::clone(&ctx.store);
            let barrier = Arc::clone(&barrier);
            let seconds = 100 + i64::try_from(i).expect("small index");
            tasks.spawn(async move {
                barrier.wait().await;
                store
                    .patch_resource(ada, base.id, &change, at(seconds))
                    .await
                    .expect("patch_resource")
                    .expect("resource exists")
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.expect("patch task");
        }
        let record = fetch(&ctx, ada, base.id).await;
        assert_eq!(record.title, format!("title {round}"), "round {round}");
        assert!(record.favorite, "round {round}");
        assert_eq!(record.tags(), vec!["finish", "start"], "round {round}");
        assert_eq!(record.body, "body");
        assert_eq!(
            ids(&ctx, ada, &tagged(&["finish"])).await.len(),
            usize::try_from(round + 1).expect("small"),
            "round {round}"
        );
    }
}

async fn concurrent_create_tag_of_one_name_one_wins(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let barrier = Arc::new(Barrier::new(4));
    let mut tasks = JoinSet::new();
    for i in 0..4 {
        let store = Arc::clone(&ctx.store);
        let barrier = Arc::clone(&barrier);
        tasks.spawn(async move {
            barrier.wait().await;
            store
                .create_tag(ada, Uuid::now_v7(), "contended", at(i))
                .await
        });
    }
    let mut won = 0;
    let mut lost = 0;
    while let Some(done) = tasks.join_next().await {
        match done.expect("create task") {
            Ok(tag) => {
                assert_eq!(tag.name, "contended");
                won += 1;
            }
            refused => {
                assert_eq!(conflict_fields(refused), vec!["name"]);
                lost += 1;
            }
        }
    }
    assert_eq!((won, lost), (1, 3));
    assert_eq!(tag_counts(&ctx, ada).await, counts(&[("contended", 0)]));
}

async fn concurrent_creates_with_the_same_new_tags_share_them(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let barrier = Arc::new(Barrier::new(4));
    let mut tasks = JoinSet::new();
    for i in 0..4 {
        let store = Arc::clone(&ctx.store);
        let barrier = Arc::clone(&barrier);
        tasks.spawn(async move {
            barrier.wait().await;
            store
                .create_resource(
                    ada,
                    Uuid::now_v7(),
                    &note(&format!("racer {i}")),
                    &tags(&["fresh", "shared"]),
                    at(i),
                )
                .await
                .expect("every creation succeeds")
        });
    }
    while let Some(done) = tasks.join_next().await {
        assert_eq!(done.expect("create task").tags(), vec!["fresh", "shared"]);
    }
    assert_eq!(
        tag_counts(&ctx, ada).await,
        counts(&[("fresh", 4), ("shared", 4)]),
        "one row per name, linked to every racer"
    );
}

/// Holds a write transaction (SQLite: the database's write lock; PostgreSQL: one user row) from
/// the moment `ready` fires until `hold` has passed, then commits.
async fn hold_a_write_transaction(
    db: Database,
    user: Uuid,
    ready: tokio::sync::oneshot::Sender<()>,
    hold: std::time::Duration,
) {
    macro_rules! hold {
        ($pool:expr) => {{
            let mut tx = $pool.begin().await.expect("begin");
            sqlx::query("UPDATE users SET display_name = 'busy' WHERE id = $1")
                .bind(user)
                .execute(&mut *tx)
                .await
                .expect("the holder writes");
            ready.send(()).expect("the scenario waits");
            tokio::time::sleep(hold).await;
            tx.commit().await.expect("commit");
        }};
    }
    match db {
        Database::Sqlite(pool) => hold!(pool),
        Database::Postgres(pool) => hold!(pool),
    }
}

/// While another connection is in a write transaction, the store's writes wait (SQLite: up to
/// the busy timeout) instead of failing with "database is locked". Covers a write on a fresh
/// connection (its first use of the full-text index) and `delete_tag`, which reads before it
/// writes.
async fn writes_wait_for_a_concurrent_write_transaction(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let first = create(&ctx, ada, &note("first"), &["doomed", "kept"], 0).await;
    let doomed = tag_named(&ctx, ada, "doomed").await;
    let hold = std::time::Duration::from_millis(300);

    // A fresh pool: its connections have not touched the full-text index yet.
    let fresh = Database::connect(&ctx.url, 2)
        .await
        .expect("second pool on the test database");
    let (ready, held) = tokio::sync::oneshot::channel();
    let holder = tokio::spawn(hold_a_write_transaction(ctx.db.clone(), ada, ready, hold));
    held.await.expect("the holder is in its transaction");
    let created = fresh
        .resource_store()
        .create_resource(
            ada,
            Uuid::now_v7(),
            &note("second"),
            &tags(&["kept"]),
            at(1),
        )
        .await
        .expect("create_resource waits for the other writer");
    holder.await.expect("holder task");
    assert_eq!(fetch(&ctx, ada, created.id).await, created);
    fresh.close().await;

    let (ready, held) = tokio::sync::oneshot::channel();
    let holder = tokio::spawn(hold_a_write_transaction(ctx.db.clone(), ada, ready, hold));
    held.await.expect("the holder is in its transaction");
    assert!(ctx
        .store
        .delete_tag(ada, doomed.id)
        .await
        .expect("delete_tag waits for the other writer"));
    holder.await.expect("holder task");
    assert_eq!(fetch(&ctx, ada, first.id).await.tags(), vec!["kept"]);
}

/// A PATCH giving a resource tag `name` races the deletion (or the renaming) of the existing tag
/// of that name. Either order is fine (deleted first: the tag is created afresh and attached;
/// patched first: the resource loses it with the deletion, or carries the new name after the
/// rename), but both calls must succeed and the resource's `tag_names` must list exactly the
/// tags linked to it.
async fn tagging_racing_tag_deletion_or_rename_stays_consistent(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let target = create(&ctx, ada, &note("target"), &[], 0).await;
    for round in 0..40_i64 {
        let name = format!("race{round}");
        create(&ctx, ada, &note("holder"), &[name.as_str()], round).await;
        let tag = tag_named(&ctx, ada, &name).await;
        let rename = round % 2 == 1;
        let barrier = Arc::new(Barrier::new(2));

        let store = Arc::clone(&ctx.store);
        let wait = Arc::clone(&barrier);
        let renamed = format!("renamed{round}");
        let tag_side = tokio::spawn(async move {
            wait.wait().await;
            if rename {
                store
                    .rename_tag(ada, tag.id, &renamed)
                    .await
                    .map(|t| t.is_some())
            } else {
                store.delete_tag(ada, tag.id).await
            }
        });
        let store = Arc::clone(&ctx.store);
        let wait = Arc::clone(&barrier);
        let changes = ResourceChanges {
            tags: Some(vec![name.clone()]),
            ..ResourceChanges::default()
        };
        let patch_side = tokio::spawn(async move {
            wait.wait().await;
            store
                .patch_resource(ada, target.id, &changes, at(1000 + round))
                .await
        });
        let what = if rename { "rename_tag" } else { "delete_tag" };
        let tag_result = tag_side.await.expect("tag task");
        let patch_result = patch_side.await.expect("patch task");
        assert!(
            matches!(tag_result, Ok(true)),
            "round {round}: {what} failed: {tag_result:?}"
        );
        assert!(
            matches!(patch_result, Ok(Some(_))),
            "round {round}: patch_resource racing {what} failed: {patch_result:?}"
        );
        let record = fetch(&ctx, ada, target.id).await;
        assert_eq!(
            record.tags(),
            linked_tag_names(&ctx.db, target.id).await,
            "round {round}, racing {what}: tag_names agree with the linked tags"
        );
    }
}
