//! Query budget of `ResourceStore::list_resources` (API.md §2: "Listing cost must not grow with
//! the page number … nested data (tags, sections) is fetched in a constant number of queries per
//! page").
//!
//! sqlx 0.8 emits one `tracing` event with target `sqlx::query` for every statement it executes
//! (`sqlx_core::logger::QueryLogger`, DEBUG by default, WARN when slow). A small
//! [`tracing_subscriber::Layer`] counts those events per *probe*: a span wrapped around the one
//! store call being measured.
//!
//! The counter is installed as the global default, not with `tracing::subscriber::set_default`:
//! sqlx's SQLite driver runs every statement on a worker thread per connection (and logs it
//! there, inside the caller's span, which it forwards), so a thread-local subscriber on the test
//! thread would see the PostgreSQL statements only. Attributing events to probe spans keeps the
//! counts exact even with the SQLite and PostgreSQL tests running in parallel.
//!
//! Runs on SQLite always, on PostgreSQL when `VAULT_TEST_POSTGRES_URL` is set (ignored
//! otherwise).

use uuid::Uuid;
use vault_core::page::PageRequest;
use vault_core::resources::{OrderField, ResourceFields, ResourceFilter, ResourceKind};
use vault_core::testkit::{insert_user, Backend, TestDatabase};
use vault_core::time::now;
use vault_core::Database;

mod counter;
mod flashcards;

use counter::{install_counter, measure};

// --- the scenario -----------------------------------------------------------------------------

#[tokio::test]
async fn sqlite_list_resources_costs_a_constant_number_of_statements() {
    list_resources_costs_a_constant_number_of_statements(Backend::Sqlite, true).await;
}

#[tokio::test]
#[cfg_attr(not(vault_test_postgres), ignore = "needs VAULT_TEST_POSTGRES_URL")]
async fn postgres_list_resources_costs_a_constant_number_of_statements() {
    list_resources_costs_a_constant_number_of_statements(Backend::Postgres, true).await;
}

/// The same budget without the cache layer (`config.resources.cache` off).
#[tokio::test]
async fn sqlite_uncached_list_resources_costs_a_constant_number_of_statements() {
    list_resources_costs_a_constant_number_of_statements(Backend::Sqlite, false).await;
}

#[tokio::test]
#[cfg_attr(not(vault_test_postgres), ignore = "needs VAULT_TEST_POSTGRES_URL")]
async fn postgres_uncached_list_resources_costs_a_constant_number_of_statements() {
    list_resources_costs_a_constant_number_of_statements(Backend::Postgres, false).await;
}

/// PostgreSQL plans a reused statement once (its generic plan) only when that plan does not
/// look costlier than planning afresh; a listing page whose size and offset were bound
/// parameters looked several times costlier, so every page was planned again (over half of the
/// server's CPU per page). A page asked for repeatedly must run on its generic plan.
#[tokio::test]
#[cfg_attr(not(vault_test_postgres), ignore = "needs VAULT_TEST_POSTGRES_URL")]
async fn postgres_listing_pages_reuse_one_plan() {
    let test_db = TestDatabase::create(Backend::Postgres).await;
    // One connection, so that the plan statistics read below are those of the listings' session.
    let database = Database::connect(&test_db.url, 1)
        .await
        .expect("test database answers");
    database.migrate().await.expect("migrations apply");
    let auth = database.auth_store();
    let owner = insert_user(auth.as_ref(), "planned").await;
    let Database::Postgres(pool) = &database else {
        panic!("a PostgreSQL database");
    };
    // Thousands of rows for the owner, as in a real vault (the maintained count follows
    // through the insert trigger), among many small vaults: the statistics then say that an
    // unknown owner has few rows while this one has most of them — where a plan that reads
    // rows straight from the index looked costlier generically than planned afresh, and was
    // re-planned on every request.
    let mut counts = vec![(owner, 3000)];
    for n in 0..40 {
        counts.push((insert_user(auth.as_ref(), &format!("other{n}")).await, 30));
    }
    for (user, rows) in counts {
        sqlx::query(
            "INSERT INTO resources (id, owner_id, kind, title, created_at, updated_at) \
             SELECT gen_random_uuid(), $1, 'note', 'Resource ' || i, \
                    now() - i * interval '1 second', now() - i * interval '1 second' \
             FROM generate_series(1, $2) AS i",
        )
        .bind(user)
        .bind(rows)
        .execute(pool)
        .await
        .expect("bulk insert");
    }
    sqlx::query("VACUUM ANALYZE")
        .execute(pool)
        .await
        .expect("analyze");
    let request = |page| PageRequest {
        page,
        page_size: 20,
    };
    // Each round on a fresh store (nothing remembered, so every page runs its statement) over
    // the same connection (whose prepared statements are the ones checked): the first page, a
    // later one, a deep one walked, and the page after it sought from the deep one's mark.
    for _ in 0..10 {
        let fresh = database.resource_store();
        for page in [1, 2, 11, 12] {
            let (total, rows) = fresh
                .list_resources(owner, &filter(None, &[], None), request(page))
                .await
                .expect("list_resources");
            assert_eq!((total, rows.len()), (3000, 20));
        }
    }
    for (page, like, unlike) in [
        (1, "%LIMIT 20 OFFSET 0) page%", "%) < (%"),
        (2, "%LIMIT 20 OFFSET 20) page%", "%pg_prepared_statements%"),
        (
            11,
            "%LIMIT 20 OFFSET 200) page%",
            "%pg_prepared_statements%",
        ),
        (
            12,
            "%) < (%LIMIT 20 OFFSET 0) page%",
            "%pg_prepared_statements%",
        ),
    ] {
        let (generic, custom): (i64, i64) = sqlx::query_as(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements \
             WHERE statement LIKE $1 AND statement NOT LIKE $2 \
             AND statement NOT LIKE '%pg_prepared_statements%'",
        )
        .bind(like)
        .bind(unlike)
        .fetch_one(pool)
        .await
        .expect("the listing statement is prepared");
        assert!(
            generic >= 4 && custom <= 6,
            "page {page}: planned afresh: {generic} generic, {custom} custom plans"
        );
    }
}

#[tokio::test]
async fn sqlite_deep_pages_seek_from_their_marks() {
    deep_pages_seek_from_their_marks(Backend::Sqlite).await;
}

#[tokio::test]
#[cfg_attr(not(vault_test_postgres), ignore = "needs VAULT_TEST_POSTGRES_URL")]
async fn postgres_deep_pages_seek_from_their_marks() {
    deep_pages_seek_from_their_marks(Backend::Postgres).await;
}

/// A deep page walks its offset the first time; asked again it is remembered whole (one read
/// of the owner's counts row), and the page after it seeks from the mark the first read left
/// (no skipping `OFFSET`). A write makes both stale: their answers are discarded and the
/// offset walked again.
async fn deep_pages_seek_from_their_marks(backend: Backend) {
    install_counter();
    let test_db = TestDatabase::create(backend).await;
    let database = Database::connect(&test_db.url, 1)
        .await
        .expect("test database answers");
    database.migrate().await.expect("migrations apply");
    let store = database.resource_store();
    let owner = insert_user(database.auth_store().as_ref(), "deep").await;
    let note = |i: usize| ResourceFields {
        kind: ResourceKind::Note,
        title: format!("Resource {i}"),
        body: String::new(),
        url: None,
        favorite: false,
    };
    for i in 0..260 {
        store
            .create_resource(owner, Uuid::now_v7(), &note(i), &[], now())
            .await
            .expect("create_resource");
    }
    let everything = filter(None, &[], None);
    let deep = |page| {
        store.list_resources(
            owner,
            &everything,
            PageRequest {
                page,
                page_size: 20,
            },
        )
    };
    let offsets = |executed: &[String]| {
        executed
            .iter()
            // Skipping rows; a seek reads from its mark at `OFFSET 0`.
            .filter(|statement| statement.contains(" OFFSET ") && !statement.contains(" OFFSET 0)"))
            .count()
    };
    let (first, executed) = measure(deep(11)).await;
    let first = first.expect("list_resources");
    assert_eq!((first.0, first.1.len()), (260, 20));
    assert_eq!(
        (executed.len(), offsets(&executed)),
        (1, 1),
        "{executed:#?}"
    );
    let (again, executed) = measure(deep(11)).await;
    assert_eq!(again.expect("list_resources"), first);
    // Remembered whole: only the owner's counts row is read.
    assert_eq!(executed.len(), 1, "{executed:#?}");
    assert!(
        executed[0].starts_with("SELECT total, version FROM resource_counts"),
        "{executed:#?}"
    );
    let (next, executed) = measure(deep(12)).await;
    let next = next.expect("list_resources");
    assert_eq!(next.1.len(), 20);
    assert_eq!(
        (executed.len(), offsets(&executed)),
        (1, 0),
        "{executed:#?}"
    );
    store
        .create_resource(owner, Uuid::now_v7(), &note(999), &[], now())
        .await
        .expect("create_resource");
    let (shifted, executed) = measure(deep(11)).await;
    let shifted = shifted.expect("list_resources");
    assert_eq!(shifted.0, 261);
    // The remembered page's version check, the mark's seek (stale too), the walk.
    assert_eq!(
        (executed.len(), offsets(&executed)),
        (3, 1),
        "{executed:#?}"
    );
    // The newest-first order moved by one: the old first row of page 11 is now its second.
    assert_eq!(shifted.1[1].id, first.1[0].id);
    database.close().await;
    drop(test_db);
}

/// SQLite has no `ANALYZE` statistics in a fresh vault, so its planner picks indexes by rule
/// of thumb; the statements of remembered searches and of deep pages must still find their
/// rows by index, never by walking the owner's rows: a search page by the hits' ids uses the
/// `id` index, a deep page's seek a range of the owner's order index.
#[tokio::test]
async fn sqlite_remembered_listings_find_rows_by_index() {
    install_counter();
    let test_db = TestDatabase::create(Backend::Sqlite).await;
    let database = Database::connect(&test_db.url, 1)
        .await
        .expect("test database answers");
    database.migrate().await.expect("migrations apply");
    let store = database.resource_store();
    let owner = insert_user(database.auth_store().as_ref(), "plans").await;
    for i in 0..260 {
        let fields = ResourceFields {
            kind: ResourceKind::Note,
            title: format!("Resource {i}"),
            body: if i % 10 == 0 {
                "rare".into()
            } else {
                "common".into()
            },
            url: None,
            favorite: false,
        };
        store
            .create_resource(owner, Uuid::now_v7(), &fields, &[], now())
            .await
            .expect("create_resource");
    }
    let Database::Sqlite(pool) = &database else {
        panic!("a SQLite database");
    };
    let plan_of = |sql: String| async move {
        let text = format!("EXPLAIN QUERY PLAN {sql}");
        let mut explain = sqlx::query(&text);
        for _ in 0..sql.matches('?').count() {
            explain = explain.bind(None::<String>);
        }
        let rows = explain.fetch_all(pool).await.expect("EXPLAIN QUERY PLAN");
        rows.iter()
            .map(|row| sqlx::Row::get::<String, _>(row, "detail"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let request = |page| PageRequest {
        page,
        page_size: 20,
    };
    let searching = filter(None, &[], Some("rare"));
    store
        .list_resources(owner, &searching, request(1))
        .await
        .expect("list_resources");
    let (_, executed) = measure(store.list_resources(owner, &searching, request(1))).await;
    assert_eq!(executed.len(), 1, "{executed:#?}");
    let plan = plan_of(executed[0].clone()).await;
    assert!(
        plan.contains("sqlite_autoindex_resources_1 (id=?)") && !plan.contains("SCAN"),
        "a remembered search's page by id:\n{plan}"
    );
    let everything = filter(None, &[], None);
    store
        .list_resources(owner, &everything, request(11))
        .await
        .expect("list_resources");
    // The page after it: sought from the mark page 11 left.
    let (_, executed) = measure(store.list_resources(owner, &everything, request(12))).await;
    assert_eq!(executed.len(), 1, "{executed:#?}");
    let plan = plan_of(executed[0].clone()).await;
    // A range of the owner's (owner_id, created_at, id) index, not all of the owner's entries.
    assert!(
        plan.contains("resources_owner_created (owner_id=? AND") && !plan.contains("SCAN r"),
        "a deep page's seek:\n{plan}"
    );
    database.close().await;
    drop(test_db);
}

/// How many resources are seeded.
const RESOURCES: usize = 120;
/// The most statements one `list_resources` call may execute.
const BUDGET: usize = 3;

const TAG_NAMES: [&str; 10] = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
];

/// Resource `i`'s tags: three distinct names, sorted (as the service passes them).
fn tags_of(i: usize) -> Vec<String> {
    let mut names: Vec<String> = [i, i + 1, i + 3]
        .iter()
        .map(|n| TAG_NAMES[n % TAG_NAMES.len()].to_string())
        .collect();
    names.sort();
    names
}

/// `cached`: the store a vault uses by default (with the cache layer), else the SQL store alone.
async fn list_resources_costs_a_constant_number_of_statements(backend: Backend, cached: bool) {
    install_counter();
    let test_db = TestDatabase::create(backend).await;
    // One connection: a pool that opens a new connection during a measured call would add the
    // connection's set-up statements (SQLite's PRAGMAs) to that call.
    let database = Database::connect(&test_db.url, 1)
        .await
        .expect("test database answers");
    database.migrate().await.expect("migrations apply");
    let store = if cached {
        database.resource_store()
    } else {
        database.resource_store_with_cache(None)
    };

    let owner = insert_user(database.auth_store().as_ref(), "budget").await;
    let mut first = None;
    for i in 0..RESOURCES {
        let fields = ResourceFields {
            kind: if i % 4 == 0 {
                ResourceKind::Reference
            } else {
                ResourceKind::Note
            },
            title: format!("Resource number {i}"),
            body: if i % 2 == 0 {
                format!("A common word and the marker w{i}.")
            } else {
                format!("Nothing special, marker w{i}.")
            },
            url: None,
            favorite: i % 3 == 0,
        };
        let record = store
            .create_resource(owner, Uuid::now_v7(), &fields, &tags_of(i), now())
            .await
            .expect("create_resource");
        first.get_or_insert(record.id);
    }

    // Calibration: one lookup is one statement, so the counter does see this backend's queries.
    let first = first.expect("seeded");
    let (found, executed) = measure(store.get_resource(owner, first)).await;
    assert!(found.expect("get_resource").is_some());
    assert_eq!(
        executed.len(),
        1,
        "get_resource is one statement: {executed:#?}"
    );

    let filters = [
        ("no filter", filter(None, &[], None)),
        ("one tag", filter(None, &["alpha"], None)),
        ("two tags", filter(None, &["alpha", "bravo"], None)),
        ("search", filter(None, &[], Some("common"))),
        ("tag and search", filter(None, &["alpha"], Some("common"))),
        (
            "everything",
            ResourceFilter {
                favorite: Some(false),
                ordering: Some((OrderField::Title, false)),
                ..filter(Some(ResourceKind::Note), &["bravo"], Some("resource"))
            },
        ),
    ];
    let pages = [(1, 10), (1, 100), (5, 20)];
    let mut seen = Vec::new();
    for (name, filter) in &filters {
        // Warm-up (connections, prepared statements), then the measured calls.
        store
            .list_resources(owner, filter, PageRequest::default())
            .await
            .expect("list_resources");
        for (number, size) in pages {
            let request = PageRequest {
                page: number,
                page_size: size,
            };
            let (listed, executed) = measure(store.list_resources(owner, filter, request)).await;
            let (total, rows) = listed.expect("list_resources");
            assert!(total > 0, "{name}: the seed matches");
            let expected_rows = total.saturating_sub(request.offset()).min(size);
            assert_eq!(
                rows.len() as u64,
                expected_rows,
                "{name}, page {number} of {size}: rows"
            );
            let statements = executed.len();
            assert!(
                statements > 0,
                "{name}, page {number} of {size}: the counter saw no statement"
            );
            assert!(
                statements <= BUDGET,
                "{name}, page {number} of {size}: {statements} statements: {executed:#?}"
            );
            eprintln!(
                "{backend:?} (cached: {cached}) {name}, page {number} of {size}: {total} matches, {} rows, {statements} statements",
                rows.len()
            );
            seen.push((*name, number, size, executed));
        }
    }
    // Within one filter, every page and page size costs the same statements; an unfiltered
    // listing is a single statement (rows and the maintained total together).
    for (name, number, size, executed) in &seen {
        let first = seen
            .iter()
            .find(|(other, ..)| other == name)
            .map(|(.., executed)| executed.len());
        assert_eq!(
            Some(executed.len()),
            first,
            "{name}, page {number} of {size} costs the same as its other pages: {executed:#?}"
        );
    }
    assert_eq!(seen[0].0, "no filter");
    assert_eq!(seen[0].3.len(), 1, "unfiltered: {:#?}", seen[0].3);
    if !cached {
        database.close().await;
        drop(test_db);
        return;
    }

    // A search asked again is answered from its remembered ranking: one statement (the page's
    // rows with the owner's data version). After a write it is ranked afresh: the stale check,
    // the ranking, the page.
    let search = filter(None, &[], Some("common"));
    let asked = || store.list_resources(owner, &search, PageRequest::default());
    let (before, _) = measure(asked()).await;
    let (again, executed) = measure(asked()).await;
    let before = before.expect("list_resources");
    assert_eq!(again.expect("list_resources"), before);
    assert_eq!(executed.len(), 1, "a repeated search: {executed:#?}");
    let fields = ResourceFields {
        kind: ResourceKind::Note,
        title: "Late".into(),
        body: "common".into(),
        url: None,
        favorite: false,
    };
    let late = store
        .create_resource(owner, Uuid::now_v7(), &fields, &[], now())
        .await
        .expect("create_resource");
    let (after, executed) = measure(asked()).await;
    let (total, rows) = after.expect("list_resources");
    assert_eq!(total, before.0 + 1, "the new hit is counted");
    assert!(
        rows.iter().any(|r| r.id == late.id),
        "the new hit is listed"
    );
    assert_eq!(executed.len(), 3, "a search after a write: {executed:#?}");
    let (_, executed) = measure(asked()).await;
    assert_eq!(executed.len(), 1, "remembered again: {executed:#?}");

    database.close().await;
    drop(test_db);
}

fn filter(kind: Option<ResourceKind>, tags: &[&str], search: Option<&str>) -> ResourceFilter {
    ResourceFilter {
        kind,
        tags: tags.iter().map(|t| (*t).to_string()).collect(),
        favorite: None,
        search: search.map(str::to_string),
        ordering: None,
    }
}
