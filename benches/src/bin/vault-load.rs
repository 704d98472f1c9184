//! The HTTP load bench: `benches/load.sh [axum|poem] [sqlite|postgres]` runs
//! `vault-load run <adapter> <database>`.
//!
//! It starts the example server of `<adapter>` (built beside this binary) on a fresh database,
//! seeds it through the API — one user with 10 000 resources of 3 tags each, 100 other users
//! with 100 resources each — and drives it with `wrk` at 32 connections, scenario by scenario,
//! printing requests/s, p50, p99 and the server's peak RSS of each, then checks the targets of
//! the README as ratios within this one run. It then grows the user to 100 000 resources and
//! runs `list` and `search` again. Last come the writes: `create-1` (one account creates
//! resources with three existing tags on all 32 connections) and `create-32` (the same spread
//! over 32 accounts); on PostgreSQL, `pgbench` then commits the same rows straight into the
//! tables (see `vault_benches::pgbench`), the database's own ceiling for `create-32`.
//!
//! The flashcards group follows (`Bench::flashcards`): seeded through the API, then
//! `study-small` / `study` (the study queue of a 100-card / 10 000-card deck, all cards due),
//! `stats-small` / `stats` (`GET /api/stats` of an account with 1 000 / 100 000 reviews) and
//! `review` (`POST /api/cards/{id}/reviews` over the 10 000 cards in turn).
//!
//! Environment: `VAULT_LOAD_ONLY` (scenario groups to run, comma-separated: `resources`,
//! `flashcards`; default both), `VAULT_LOAD_SECONDS` (per scenario, default 10), `VAULT_LOAD_BIG` (resources
//! of the grown user, default 100000; 0 skips the growth step), `VAULT_TEST_POSTGRES_URL` (the
//! server a fresh database is created on, default `postgres://postgres@127.0.0.1:5432/postgres`),
//! `VAULT_LOAD_HOLD` (set: keep the seeded server running after the report, for profiling,
//! until stdin closes).
//!
//! PostgreSQL on this machine's loopback is reached without TLS (`sslmode=disable` is added
//! to a loopback URL that names no `sslmode`), as a same-host deployment connects; put
//! `sslmode=require` in `VAULT_TEST_POSTGRES_URL` to measure with TLS.
//!
//! Exit status: 0 when every target holds, 2 when one is missed, 1 on errors.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use vault_benches::wrk::{self, Load, Stats};
use vault_benches::{baseline, pgbench, seed};
use vault_core::testkit::smoke::Server;
use vault_core::testkit::{Backend, TestDatabase};

const CONNECTIONS: u32 = 32;
const MAIN_USER: &str = "loadbench";
const SMALL: usize = 10_000;
const SEED_THREADS: usize = 4;
/// Accounts the `create-32` scenario spreads its writes over.
const WRITERS: usize = 32;
/// Their usernames' prefix (`crowd00`…).
const WRITER_PREFIX: &str = "crowd";
/// Cards of the big study deck (`study`) and of the small one (`study-small`).
const STUDY_BIG: usize = 10_000;
const STUDY_SMALL: usize = 100;
/// Decks of each stats account, and cards per deck.
const STATS_DECKS: usize = 10;
const STATS_CARDS_PER_DECK: usize = 100;
/// Times each card of the stats accounts is reviewed: 1 000 reviews (`stats-small`) and
/// 100 000 (`stats`).
const STATS_ROUNDS_SMALL: usize = 1;
const STATS_ROUNDS: usize = 100;
/// The first learning step (1 minute by default) and a second's margin: a card first answered
/// `again` is due this long after.
const LEARNING_STEP: Duration = Duration::from_secs(61);

/// The scenario groups `VAULT_LOAD_ONLY` chooses from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Groups {
    resources: bool,
    flashcards: bool,
}

impl Groups {
    /// Parses `VAULT_LOAD_ONLY`'s value: group names separated by commas; absent, every group.
    fn parse(only: Option<&str>) -> Result<Self> {
        let Some(only) = only else {
            return Ok(Self {
                resources: true,
                flashcards: true,
            });
        };
        let mut groups = Self {
            resources: false,
            flashcards: false,
        };
        for name in only.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "resources" => groups.resources = true,
                "flashcards" => groups.flashcards = true,
                other => bail!("VAULT_LOAD_ONLY: unknown group {other:?} (resources, flashcards)"),
            }
        }
        if !groups.resources && !groups.flashcards {
            bail!("VAULT_LOAD_ONLY={only:?} names no group (resources, flashcards)");
        }
        Ok(groups)
    }
}

fn env_number(name: &str, default: usize) -> Result<usize> {
    match std::env::var(name) {
        Ok(text) => text
            .trim()
            .parse()
            .with_context(|| format!("{name}={text:?} is not a number")),
        Err(_) => Ok(default),
    }
}

/// One measured scenario.
struct Row {
    name: String,
    stats: Stats,
    rss_mib: Option<f64>,
}

/// The server under load, and what the scenarios need of it.
struct Bench<'a> {
    server: &'a Server,
    dir: &'a Path,
    token: String,
    seconds: u32,
    rows: Vec<Row>,
}

/// The server's URL of the fresh database: on loopback without TLS unless the URL chooses
/// (sqlx's default `prefer` encrypts whenever the server offers TLS, which on the same host
/// only burns CPU on both ends: ~50 µs of the two cores per list page here).
fn server_database_url(url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return url.to_string();
    };
    let loopback = matches!(
        parsed.host_str(),
        Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
    );
    let chosen = parsed.query_pairs().any(|(key, _)| key == "sslmode");
    if !loopback || chosen {
        return url.to_string();
    }
    let mut plain = parsed;
    plain.query_pairs_mut().append_pair("sslmode", "disable");
    plain.to_string()
}

fn url(addr: SocketAddr, path: &str) -> String {
    format!("http://{addr}{path}")
}

/// Resets the peak RSS of `pid` (Linux `clear_refs`); later reads of `VmHWM` give the peak
/// since this call.
fn reset_peak_rss(pid: u32) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

/// The peak RSS of `pid` in MiB since the last reset, where `/proc` tells.
fn peak_rss_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

impl Bench<'_> {
    fn record(&mut self, name: &str, stats: Stats, rss_mib: Option<f64>) -> Result<Stats> {
        println!(
            "{name:<14} {:>9.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  peak RSS {}  errors {}/{}",
            stats.rps,
            stats.p50_ms,
            stats.p99_ms,
            rss_mib.map_or_else(|| "?".into(), |m| format!("{m:.1} MiB")),
            stats.status_errors,
            stats.socket_errors,
        );
        if stats.status_errors > 0 || stats.requests == 0 {
            bail!("{name}: {} error responses", stats.status_errors);
        }
        self.rows.push(Row {
            name: name.to_string(),
            stats,
            rss_mib,
        });
        Ok(stats)
    }

    /// GETs `path` as the main user at 32 connections, after one unmeasured second of the
    /// same load: what is measured is the steady state, not the first requests after the
    /// previous scenario (a search's first request after the growth step ranks all its hits
    /// once, cold, at 32 connections at a time).
    fn get(&mut self, name: &str, path: &str) -> Result<Stats> {
        let token = self.token.clone();
        self.get_as(name, path, &token)
    }

    /// [`Bench::get`] as the holder of `token`.
    fn get_as(&mut self, name: &str, path: &str, token: &str) -> Result<Stats> {
        let target = url(self.server.addr, path);
        let warm_up = Load::get(target.clone(), Some(token), CONNECTIONS, 1);
        wrk::run(&warm_up, self.dir, &format!("{name}-warm-up"))?;
        let load = Load::get(target, Some(token), CONNECTIONS, self.seconds);
        let pid = self.server.pid();
        reset_peak_rss(pid);
        let stats = wrk::run(&load, self.dir, name)?;
        self.record(name, stats, peak_rss_mib(pid))
    }

    /// 32 clients log in as fast as they can while one client measures `GET /api/auth/me`.
    fn login_flood(&mut self) -> Result<()> {
        let addr = self.server.addr;
        let me = Load::get(
            url(addr, "/api/auth/me"),
            Some(&self.token),
            1,
            self.seconds,
        );
        let quiet = wrk::run(&me, self.dir, "me-quiet")?;
        self.record("me-quiet", quiet, None)?;
        let flood = Load {
            url: url(addr, "/api/auth/token"),
            method: "POST",
            headers: Vec::new(),
            body: Some(
                serde_json::json!({"username": MAIN_USER, "password": seed::PASSWORD}).to_string(),
            ),
            rotate_tokens: Vec::new(),
            rotate_paths: Vec::new(),
            connections: CONNECTIONS,
            seconds: self.seconds,
        };
        let pid = self.server.pid();
        reset_peak_rss(pid);
        let flooding = flood.start(self.dir, "login-flood")?;
        // Let the flood reach its steady state before measuring beside it.
        std::thread::sleep(Duration::from_millis(500));
        let measuring = me.start(self.dir, "me-under-flood")?;
        let beside = wrk::finish(measuring)?;
        let logins = wrk::finish(flooding)?;
        let rss = peak_rss_mib(pid);
        self.record("login-flood", logins, rss)?;
        self.record("me-under-flood", beside, rss)?;
        Ok(())
    }

    /// `POST /api/resources` with three existing tags at 32 connections: from one account,
    /// then spread over [`WRITERS`] accounts; on PostgreSQL, then pgbench writing the same rows
    /// (`pgbench-create`), with the database's tables as they are after the HTTP writes.
    fn writes(&mut self, runtime: &tokio::runtime::Runtime, db: &TestDatabase) -> Result<()> {
        let addr = self.server.addr;
        let body = pgbench::create_body();
        let mut tokens = Vec::with_capacity(WRITERS + 1);
        for name in std::iter::once("writer".to_string())
            .chain((0..WRITERS).map(|n| format!("{WRITER_PREFIX}{n:02}")))
        {
            let token = seed::register(addr, &name)?;
            // The first resource creates the account's tags; the measured ones find them.
            let mut conn = vault_benches::client::Conn::connect(addr)?;
            let value: serde_json::Value = serde_json::from_str(&body)?;
            conn.send("POST", "/api/resources", Some(&token), Some(&value))?
                .expect(201, "first resource")?;
            tokens.push(token);
        }
        let seconds = self.seconds;
        let create = |tokens: Vec<String>| Load {
            url: url(addr, "/api/resources"),
            method: "POST",
            headers: Vec::new(),
            body: Some(body.clone()),
            rotate_tokens: tokens,
            rotate_paths: Vec::new(),
            connections: CONNECTIONS,
            seconds,
        };
        let one = create(tokens[..1].to_vec());
        let stats = wrk::run(&one, self.dir, "create-1")?;
        self.record("create-1", stats, None)?;
        let spread = create(tokens[1..].to_vec());
        let stats = wrk::run(&spread, self.dir, "create-32")?;
        self.record("create-32", stats, None)?;
        if db.backend == Backend::Postgres {
            let url = server_database_url(&db.url);
            let writers = runtime.block_on(async {
                let pool = sqlx::PgPool::connect(&url).await?;
                let writers = pgbench::prepare(&pool, WRITER_PREFIX).await;
                pool.close().await;
                writers
            })?;
            let tps = pgbench::run(&url, self.dir, writers, CONNECTIONS, self.seconds)?;
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let stats = Stats {
                requests: (tps * f64::from(self.seconds)) as u64,
                rps: tps,
                ..Stats::default()
            };
            self.record("pgbench-create", stats, None)?;
        }
        Ok(())
    }

    /// The flashcards scenarios. Seeds through the API: `studier` with a deck of
    /// [`STUDY_BIG`] cards and one of [`STUDY_SMALL`], every card answered `again` once (so
    /// all are in learning, due a minute later, and the day's new-card allowance is spent:
    /// the queue is all due cards); `stats1k` and `stats100k` with [`STATS_DECKS`] decks of
    /// [`STATS_CARDS_PER_DECK`] cards, each card reviewed [`STATS_ROUNDS_SMALL`] or
    /// [`STATS_ROUNDS`] times. Then measures `study-small` and `study` (`GET /api/study` of
    /// each deck), `stats-small` and `stats` (`GET /api/stats` of each account) and `review`
    /// (`POST /api/cards/{id}/reviews`, "good", over the big deck's cards in turn).
    fn flashcards(&mut self, runtime: &tokio::runtime::Runtime, db: &TestDatabase) -> Result<()> {
        let addr = self.server.addr;
        let started = Instant::now();
        let studier = seed::register(addr, "studier")?;
        let big = seed::deck(addr, &studier, "Big deck")?;
        let big_cards = seed::cards(addr, &studier, &big, STUDY_BIG, SEED_THREADS)?;
        let small = seed::deck(addr, &studier, "Small deck")?;
        let small_cards = seed::cards(addr, &studier, &small, STUDY_SMALL, SEED_THREADS)?;
        let studied: Vec<String> = big_cards.iter().chain(&small_cards).cloned().collect();
        seed::reviews(addr, &studier, &studied, 1, SEED_THREADS)?;
        let learning_since = Instant::now();
        let mut stats_tokens = Vec::new();
        for (name, rounds) in [("stats1k", STATS_ROUNDS_SMALL), ("stats100k", STATS_ROUNDS)] {
            let token = seed::register(addr, name)?;
            let mut cards = Vec::new();
            for d in 0..STATS_DECKS {
                let deck = seed::deck(addr, &token, &format!("Deck {d}"))?;
                cards.extend(seed::cards(
                    addr,
                    &token,
                    &deck,
                    STATS_CARDS_PER_DECK,
                    SEED_THREADS,
                )?);
            }
            let reviewing = Instant::now();
            seed::reviews(addr, &token, &cards, rounds, SEED_THREADS)?;
            let seconds = reviewing.elapsed().as_secs_f64();
            #[allow(clippy::cast_precision_loss)] // at most 100 000
            let made = (cards.len() * rounds) as f64;
            println!(
                "{name}: {made} reviews through the API in {seconds:.1} s ({:.0}/s)",
                made / seconds
            );
            stats_tokens.push(token);
        }
        analyze(runtime, db)?;
        println!(
            "seeded {} cards and {} reviews of 3 users through the API in {:.1} s",
            STUDY_BIG + STUDY_SMALL + 2 * STATS_DECKS * STATS_CARDS_PER_DECK,
            STUDY_BIG
                + STUDY_SMALL
                + STATS_DECKS * STATS_CARDS_PER_DECK * (STATS_ROUNDS_SMALL + STATS_ROUNDS),
            started.elapsed().as_secs_f64()
        );
        if let Some(wait) = LEARNING_STEP.checked_sub(learning_since.elapsed()) {
            println!(
                "waiting {:.0} s for the learning cards to fall due",
                wait.as_secs_f64()
            );
            std::thread::sleep(wait);
        }
        // The queue is what the scenario means to measure: all due, none new.
        let mut conn = vault_benches::client::Conn::connect(addr)?;
        for (deck, cards) in [(&big, STUDY_BIG), (&small, STUDY_SMALL)] {
            let queue = conn
                .send(
                    "GET",
                    &format!("/api/study?deck={deck}"),
                    Some(&studier),
                    None,
                )?
                .expect(200, "study")?;
            if queue["due_count"].as_u64() != u64::try_from(cards).ok()
                || queue["new_count"].as_u64() != Some(0)
            {
                bail!(
                    "the study queue of the {cards}-card deck is not all due: due_count {}, \
                     new_count {}",
                    queue["due_count"],
                    queue["new_count"]
                );
            }
        }
        self.get_as("study-small", &format!("/api/study?deck={small}"), &studier)?;
        self.get_as("study", &format!("/api/study?deck={big}"), &studier)?;
        self.get_as("stats-small", "/api/stats", &stats_tokens[0])?;
        self.get_as("stats", "/api/stats", &stats_tokens[1])?;
        let paths: Vec<String> = big_cards.iter().map(|id| seed::review_path(id)).collect();
        let review = Load {
            url: url(addr, &paths[0]),
            method: "POST",
            headers: vec![("Authorization".into(), format!("Bearer {studier}"))],
            body: Some(serde_json::json!({"rating": "good", "duration_ms": 3000}).to_string()),
            rotate_tokens: Vec::new(),
            rotate_paths: paths,
            connections: CONNECTIONS,
            seconds: self.seconds,
        };
        let stats = wrk::run(&review, self.dir, "review")?;
        self.record("review", stats, None)?;
        Ok(())
    }

    fn stats(&self, name: &str) -> Option<Stats> {
        self.rows.iter().find(|r| r.name == name).map(|r| r.stats)
    }
}

/// A target: `name`, the measured ratio and its bound (`at_least` or at most).
struct Target {
    name: &'static str,
    ratio: f64,
    bound: f64,
    at_least: bool,
}

impl Target {
    fn holds(&self) -> bool {
        if self.at_least {
            self.ratio >= self.bound
        } else {
            self.ratio <= self.bound
        }
    }
}

fn targets(bench: &Bench<'_>) -> Vec<Target> {
    // A ratio of two scenarios' figures, when both ran.
    let ratio = |a: &str, b: &str, figure: fn(&Stats) -> f64| {
        let (a, b) = (bench.stats(a)?, bench.stats(b)?);
        let below = figure(&b);
        Some(if below > 0.0 {
            figure(&a) / below
        } else {
            f64::INFINITY
        })
    };
    let rps = |s: &Stats| s.rps;
    let p99 = |s: &Stats| s.p99_ms;
    let mut targets = Vec::new();
    let mut push = |name, ratio: Option<f64>, bound, at_least| {
        if let Some(ratio) = ratio {
            targets.push(Target {
                name,
                ratio,
                bound,
                at_least,
            });
        }
    };
    push(
        "me / baseline throughput ≥ 0.50",
        ratio("me", "baseline", rps),
        0.5,
        true,
    );
    push(
        "list / me throughput ≥ 0.15",
        ratio("list", "me", rps),
        0.15,
        true,
    );
    push(
        "deep p99 / list p99 ≤ 2",
        ratio("deep", "list", p99),
        2.0,
        false,
    );
    push(
        "me p99 under login flood / quiet ≤ 5",
        ratio("me-under-flood", "me-quiet", p99),
        5.0,
        false,
    );
    push(
        "list peak RSS ≤ 64 MiB",
        bench
            .rows
            .iter()
            .find(|r| r.name == "list")
            .and_then(|r| r.rss_mib),
        64.0,
        false,
    );
    push(
        "list p99 big / 10k ≤ 1.5",
        ratio("list-big", "list", p99),
        1.5,
        false,
    );
    push(
        "search p99 big / 10k ≤ 2",
        ratio("search-big", "search", p99),
        2.0,
        false,
    );
    push(
        "create (32 users) / pgbench ≥ 0.70",
        ratio("create-32", "pgbench-create", rps),
        0.7,
        true,
    );
    push(
        "study p99 10 000-card deck / 100-card deck ≤ 2",
        ratio("study", "study-small", p99),
        2.0,
        false,
    );
    push(
        "stats p99 100 000 reviews / 1 000 ≤ 2",
        ratio("stats", "stats-small", p99),
        2.0,
        false,
    );
    targets
}

fn run(adapter: &str, database: &str) -> Result<bool> {
    let backend = match database {
        "sqlite" => Backend::Sqlite,
        "postgres" => Backend::Postgres,
        other => bail!("unknown database {other:?}: sqlite or postgres"),
    };
    if !matches!(adapter, "axum" | "poem") {
        bail!("unknown adapter {adapter:?}: axum or poem");
    }
    let seconds = u32::try_from(env_number("VAULT_LOAD_SECONDS", 10)?)?;
    let big = env_number("VAULT_LOAD_BIG", 100_000)?;
    let groups = Groups::parse(std::env::var("VAULT_LOAD_ONLY").ok().as_deref())?;
    let exe = std::env::current_exe()?;
    let server_bin = exe.with_file_name(format!("vault-{adapter}-server"));
    if !server_bin.exists() {
        bail!(
            "{} is missing: cargo build --release -p vault-{adapter}-server",
            server_bin.display()
        );
    }
    if backend == Backend::Postgres && std::env::var_os("VAULT_TEST_POSTGRES_URL").is_none() {
        // Single-threaded at this point: nothing else reads the environment.
        std::env::set_var(
            "VAULT_TEST_POSTGRES_URL",
            "postgres://postgres@127.0.0.1:5432/postgres",
        );
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let db = runtime.block_on(TestDatabase::create(backend));
    let dir = db.dir.path();
    let secret = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let server_path = server_bin.to_string_lossy().into_owned();
    let database_url = server_database_url(&db.url);
    let server = Server::start(
        &server_path,
        dir,
        &[
            ("VAULT_DATABASE_URL", database_url.as_str()),
            ("VAULT_JWT_SECRET", secret.as_str()),
            ("VAULT_THROTTLE_AUTH_IP", "off"),
            ("VAULT_THROTTLE_AUTH_USER", "off"),
            ("VAULT_THROTTLE_ANON", "off"),
            ("VAULT_THROTTLE_USER", "off"),
            // Pinning is opt-in; the recorded figures were measured with it.
            ("VAULT_HASH_PINNED", "true"),
        ],
    );
    let addr = server.addr;
    println!("vault-{adapter}-server on {database}, {addr}; {seconds} s per scenario");
    if database_url != db.url {
        println!("(PostgreSQL on loopback without TLS: sslmode=disable)");
    }

    let token = seed::register(addr, MAIN_USER)?;
    let mut bench = Bench {
        server: &server,
        dir,
        token,
        seconds,
        rows: Vec::new(),
    };
    if groups.resources {
        resources(&mut bench, &runtime, &db, adapter, big)?;
    }
    if groups.flashcards {
        bench.flashcards(&runtime, &db)?;
    }

    let targets = targets(&bench);
    let mut report = String::new();
    let _ = writeln!(
        report,
        "\n| scenario | req/s | p50 ms | p99 ms | peak RSS MiB |"
    );
    let _ = writeln!(report, "|---|---:|---:|---:|---:|");
    for row in &bench.rows {
        let _ = writeln!(
            report,
            "| {} | {:.0} | {:.2} | {:.2} | {} |",
            row.name,
            row.stats.rps,
            row.stats.p50_ms,
            row.stats.p99_ms,
            row.rss_mib.map_or_else(|| "".into(), |m| format!("{m:.1}"))
        );
    }
    let _ = writeln!(report, "\n| target | measured | |\n|---|---:|---|");
    for target in &targets {
        let _ = writeln!(
            report,
            "| {} | {:.2} | {} |",
            target.name,
            target.ratio,
            if target.holds() { "ok" } else { "MISSED" }
        );
    }
    println!("{report}");
    if std::env::var_os("VAULT_LOAD_HOLD").is_some() {
        // For profiling: keep the seeded server up until stdin closes (Ctrl-D).
        let token_file = dir.join("token");
        std::fs::write(&token_file, &bench.token)?;
        println!(
            "holding: server {addr} (pid {}), database {}, token in {}; close stdin to stop",
            server.pid(),
            db.url,
            token_file.display()
        );
        std::io::copy(&mut std::io::stdin(), &mut std::io::sink())?;
    }
    let status = server.terminate();
    if !status.success() {
        bail!("server exited with {status}");
    }
    drop(db);
    Ok(targets.iter().all(Target::holds))
}

/// The resources scenarios (see the module documentation), the main user seeded first.
fn resources(
    bench: &mut Bench<'_>,
    runtime: &tokio::runtime::Runtime,
    db: &TestDatabase,
    adapter: &str,
    big: usize,
) -> Result<()> {
    let (addr, dir, seconds) = (bench.server.addr, bench.dir, bench.seconds);
    let exe = std::env::current_exe()?;
    let started = Instant::now();
    seed::resources(addr, &bench.token, 0, SMALL, SEED_THREADS)?;
    seed::other_users(addr, 100, 100, SEED_THREADS)?;
    analyze(runtime, db)?;
    println!(
        "seeded {} resources of 101 users through the API in {:.1} s",
        SMALL + 100 * 100,
        started.elapsed().as_secs_f64()
    );
    let me_body = {
        let mut conn = vault_benches::client::Conn::connect(addr)?;
        conn.send("GET", "/api/auth/me", Some(&bench.token), None)?
            .body
    };

    // The baseline: same framework, a bare handler, the same JSON as `me`; measured right
    // before `me`, so that the ratio of the two sees the shared machine in the same state.
    let body_file = dir.join("me.json");
    std::fs::write(&body_file, &me_body)?;
    let exe_path = exe.to_string_lossy().into_owned();
    let body_path = body_file.to_string_lossy().into_owned();
    let bare = Server::start_with_args(&exe_path, &["baseline", adapter, &body_path], dir, &[]);
    let load = Load::get(url(bare.addr, "/api/auth/me"), None, CONNECTIONS, seconds);
    reset_peak_rss(bare.pid());
    let stats = wrk::run(&load, dir, "baseline")?;
    bench.record("baseline", stats, peak_rss_mib(bare.pid()))?;
    drop(bare);
    bench.get("me", "/api/auth/me")?;
    bench.get("list", "/api/resources?page=1&page_size=20")?;
    bench.get("deep", "/api/resources?page=400&page_size=20")?;
    bench.get(
        "search",
        &format!("/api/resources?search={}", seed::RARE_WORD),
    )?;
    bench.login_flood()?;

    if big > SMALL {
        let started = Instant::now();
        seed::resources(addr, &bench.token, SMALL, big, SEED_THREADS)?;
        analyze(runtime, db)?;
        println!(
            "grew {MAIN_USER} to {big} resources in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        bench.get("list-big", "/api/resources?page=1&page_size=20")?;
        bench.get("deep-big", "/api/resources?page=400&page_size=20")?;
        bench.get(
            "search-big",
            &format!("/api/resources?search={}", seed::RARE_WORD),
        )?;
    }

    bench.writes(runtime, db)
}

/// Refreshes the planner's statistics on PostgreSQL, as autovacuum does on a live database
/// after a bulk load. (SQLite has none to refresh: Vault does not run `ANALYZE` there.)
fn analyze(runtime: &tokio::runtime::Runtime, db: &TestDatabase) -> Result<()> {
    if db.backend != Backend::Postgres {
        return Ok(());
    }
    runtime.block_on(async {
        let pool = sqlx::PgPool::connect(&db.url).await?;
        sqlx::query("VACUUM ANALYZE").execute(&pool).await?;
        pool.close().await;
        Ok(())
    })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["run", adapter, database] => run(adapter, database).map(|held| {
            if held {
                ExitCode::SUCCESS
            } else {
                eprintln!("some targets were missed");
                ExitCode::from(2)
            }
        }),
        ["baseline", framework, body_file] => serve_baseline(framework, Path::new(body_file)),
        _ => {
            eprintln!(
                "usage: vault-load run <axum|poem> <sqlite|postgres>\n       \
                 vault-load baseline <axum|poem> <body.json>"
            );
            return ExitCode::FAILURE;
        }
    };
    result.unwrap_or_else(|error| {
        eprintln!("error: {error:#}");
        ExitCode::FAILURE
    })
}

fn serve_baseline(framework: &str, body_file: &Path) -> Result<ExitCode> {
    let body = std::fs::read(body_file).with_context(|| format!("read {}", body_file.display()))?;
    let bind: SocketAddr = std::env::var("VAULT_BIND")
        .unwrap_or_else(|_| "127.0.0.1:0".into())
        .parse()?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(baseline::serve(framework, bind, body.into()))?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::{server_database_url, Groups};

    #[test]
    fn load_only_chooses_groups_and_refuses_unknown_ones() {
        let all = Groups::parse(None).expect("default");
        assert!(all.resources && all.flashcards);
        let cards = Groups::parse(Some("flashcards")).expect("one group");
        assert!(!cards.resources && cards.flashcards);
        let both = Groups::parse(Some(" resources , flashcards ")).expect("two groups");
        assert_eq!(both, all);
        for bad in ["", " , ", "cards", "resources,payments"] {
            assert!(Groups::parse(Some(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn loopback_postgres_goes_without_tls_unless_the_url_chooses() {
        assert_eq!(
            server_database_url("postgres://postgres@127.0.0.1:5432/vault_test_1"),
            "postgres://postgres@127.0.0.1:5432/vault_test_1?sslmode=disable"
        );
        assert_eq!(
            server_database_url("postgres://u@localhost/db?application_name=x"),
            "postgres://u@localhost/db?application_name=x&sslmode=disable"
        );
        for kept in [
            "postgres://u@127.0.0.1/db?sslmode=require",
            "postgres://u@db.example.com/db",
            "sqlite:///tmp/x/vault.db",
        ] {
            assert_eq!(server_database_url(kept), kept);
        }
    }
}
