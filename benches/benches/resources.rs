//! Criterion benchmarks of listing resources ([`ResourceStore::list_resources`]).
//!
//! One owner with 10 000 resources, 3 tags each (out of 50), created one millisecond apart;
//! one resource in a hundred carries the word `zeppelin` in its body. Each backend gets a
//! group `resources_<backend>` with:
//!
//! - `page_1`: the newest 20 (default ordering `-created_at`), plus the count;
//! - `page_400`: resources 7 981–8 000 in the same order, plus the count (API.md §2: the cost
//!   must not grow with the page number beyond what the database needs);
//! - `search_1pct`: `?search=zeppelin`, first page of 20 by relevance, plus the count (100 hits).
//!
//! Backends: SQLite on a temporary file always; PostgreSQL when `VAULT_BENCH_POSTGRES_URL` names
//! a server, on a fresh database created (and dropped afterwards) like the test suites do. Both
//! are seeded through the store and then `ANALYZE`d (PostgreSQL: `VACUUM ANALYZE`, the state
//! autovacuum leaves a live database in).
//!
//! Run with `cargo bench -p vault-benches --bench resources`, and
//! `VAULT_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p
//! vault-benches --bench resources` for both backends.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_main, Criterion};
use tokio::runtime::Runtime;
use uuid::Uuid;
use vault_core::page::PageRequest;
use vault_core::resources::{ResourceFields, ResourceFilter, ResourceKind, ResourceStore};
use vault_core::testkit::{insert_user, Backend, TestDatabase};
use vault_core::time::now;
use vault_core::Database;

/// Resources of the one owner.
const RESOURCES: usize = 10_000;
/// Distinct tag names.
const TAGS: usize = 50;
/// Page size of every listing.
const PAGE_SIZE: u64 = 20;
/// The word one resource in a hundred carries.
const RARE_WORD: &str = "zeppelin";

const WORDS: [&str; 16] = [
    "notes", "design", "storage", "index", "query", "latency", "review", "draft", "paper",
    "budget", "cache", "network", "layout", "schema", "backup", "release",
];

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("bench setup: tokio runtime")
}

/// Resource `i`: a note (every fifth a link), a title and body of a few words, three tags.
fn resource(i: usize) -> (ResourceFields, Vec<String>) {
    let word = |n: usize| WORDS[n % WORDS.len()];
    let mut body = format!(
        "{} {} {} about item {i}: {} and {}.",
        word(i),
        word(i / 3),
        word(i / 7),
        word(i / 11),
        word(i / 13)
    );
    if i % 100 == 42 {
        body.push_str(" A ");
        body.push_str(RARE_WORD);
        body.push_str(" sighting.");
    }
    let is_link = i % 5 == 0;
    let fields = ResourceFields {
        kind: if is_link {
            ResourceKind::Link
        } else {
            ResourceKind::Note
        },
        title: format!("{} {} {i}", word(i / 2), word(i / 5)),
        body,
        url: is_link.then(|| format!("https://example.com/{}/{i}", word(i / 17))),
        favorite: i % 10 == 0,
    };
    let mut tags: Vec<String> = [i, i + 7, i + 19]
        .iter()
        .map(|n| format!("tag{:02}", n % TAGS))
        .collect();
    tags.sort();
    (fields, tags)
}

/// A migrated database of `backend` holding the seeded owner; returns it with the owner id.
async fn seeded(backend: Backend) -> (TestDatabase, Database, Uuid) {
    let test_db = TestDatabase::create(backend).await;
    let database = Database::connect(&test_db.url, 5)
        .await
        .expect("bench setup: database answers");
    database
        .migrate()
        .await
        .expect("bench setup: migrations apply");
    let owner = insert_user(database.auth_store().as_ref(), "bench").await;

    let started = Instant::now();
    let store = database.resource_store();
    let base = now() - chrono::Duration::milliseconds(i64::try_from(RESOURCES).unwrap_or(0));
    // Sequential: SQLite has one writer anyway, and PostgreSQL seeds fast enough like this.
    for i in 0..RESOURCES {
        let (fields, tags) = resource(i);
        let at = base + chrono::Duration::milliseconds(i64::try_from(i).unwrap_or(0));
        store
            .create_resource(owner, Uuid::now_v7(), &fields, &tags, at)
            .await
            .expect("bench setup: create_resource");
    }
    // Statistics, as a live database has them. On PostgreSQL also what autovacuum would have
    // done by now: flush the GIN index's pending list (without it a search scans the whole
    // list, ~7 ms here) and set the visibility map.
    let analyzed = match &database {
        Database::Sqlite(pool) => sqlx::query("ANALYZE").execute(pool).await.map(drop),
        Database::Postgres(pool) => sqlx::query("VACUUM ANALYZE").execute(pool).await.map(drop),
    };
    analyzed.expect("bench setup: ANALYZE");
    eprintln!(
        "{}: seeded {RESOURCES} resources in {:.1} s",
        database.backend_name(),
        started.elapsed().as_secs_f64()
    );
    (test_db, database, owner)
}

fn filter(search: Option<&str>) -> ResourceFilter {
    ResourceFilter {
        kind: None,
        tags: Vec::new(),
        favorite: None,
        search: search.map(str::to_string),
        ordering: None,
    }
}

/// Lists once and checks the answer, so a benchmark never measures a wrong query.
async fn check(
    store: &Arc<dyn ResourceStore>,
    owner: Uuid,
    filter: &ResourceFilter,
    page: u64,
    expected_count: u64,
) {
    let (count, rows) = store
        .list_resources(
            owner,
            filter,
            PageRequest {
                page,
                page_size: PAGE_SIZE,
            },
        )
        .await
        .expect("bench setup: list_resources");
    assert_eq!(count, expected_count, "bench setup: count of {filter:?}");
    assert_eq!(
        rows.len() as u64,
        PAGE_SIZE,
        "bench setup: a full page {page} of {filter:?}"
    );
}

/// The three listings on one backend.
fn list_resources(c: &mut Criterion, rt: &Runtime, backend: Backend) {
    let (test_db, database, owner) = rt.block_on(seeded(backend));
    let store = database.resource_store();
    let everything = filter(None);
    let rare = filter(Some(RARE_WORD));
    let rare_count = u64::try_from((0..RESOURCES).filter(|i| i % 100 == 42).count())
        .expect("bench setup: small count");
    let total = u64::try_from(RESOURCES).expect("bench setup: small count");
    rt.block_on(async {
        check(&store, owner, &everything, 1, total).await;
        check(&store, owner, &everything, 400, total).await;
        check(&store, owner, &rare, 1, rare_count).await;
    });

    let mut group = c.benchmark_group(format!("resources_{}", database.backend_name()));
    group
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5));
    for (name, filter, page) in [
        ("page_1", &everything, 1),
        ("page_400", &everything, 400),
        ("search_1pct", &rare, 1),
    ] {
        let request = PageRequest {
            page,
            page_size: PAGE_SIZE,
        };
        group.bench_function(name, |b| {
            b.to_async(rt).iter(|| {
                store.list_resources(black_box(owner), black_box(filter), black_box(request))
            });
        });
    }
    group.finish();
    rt.block_on(database.close());
    drop(test_db);
}

/// Every benchmark of this file (what `criterion_group!` would generate, but documented):
/// SQLite always, PostgreSQL when `VAULT_BENCH_POSTGRES_URL` is set.
fn benches() {
    let mut c = Criterion::default().configure_from_args();
    let rt = runtime();
    list_resources(&mut c, &rt, Backend::Sqlite);
    match std::env::var("VAULT_BENCH_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => {
            // `TestDatabase` creates its PostgreSQL databases on the server the test suites use.
            std::env::set_var("VAULT_TEST_POSTGRES_URL", url);
            list_resources(&mut c, &rt, Backend::Postgres);
        }
        _ => eprintln!("resources_postgres skipped: VAULT_BENCH_POSTGRES_URL is not set"),
    }
}

criterion_main!(benches);
