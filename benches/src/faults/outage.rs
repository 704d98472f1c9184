//! PostgreSQL stops under load and starts again (`benches/faults/pg-outage.sh`).
//!
//! The example server runs on a fresh database of the PostgreSQL server named by
//! `VAULT_TEST_POSTGRES_URL` (the script's private cluster). Four clients, each with an
//! account of its own, cycle through a write (`POST /api/resources`), two reads
//! (`GET /api/resources`, `GET /api/auth/me`) and both health checks, each response recorded
//! with its status and latency. After a steady phase the script's stop command stops
//! PostgreSQL; the load goes on for the outage, then the start command starts it again and
//! the load goes on until the same server process has answered writes again.
//!
//! Promises checked: no 5xx but 503, ever, and no failed connection; during the outage every
//! write is a 503 problem+json, every read a 503 problem+json or (from the server's cache) a
//! 2xx, `/health/ready` is 503 and every answer comes within a second; `/health/live` is 200
//! throughout; after the restart writes succeed again without restarting the server (the
//! recovery time is reported).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use serde_json::json;
use vault_core::testkit::{Backend, TestDatabase};

use super::{latency, report, shell, start_server, status_counts, Check, Sample, Timed};
use crate::seed;

/// Concurrent clients.
const CLIENTS: usize = 4;
/// The steady phase before the stop, and the tail after recovery.
const STEADY: Duration = Duration::from_secs(5);
/// The longest an answer may take while PostgreSQL is down.
const PROMPT: Duration = Duration::from_secs(1);
/// How long the driver waits for recovery before it gives up.
const RECOVERY_LIMIT: Duration = Duration::from_secs(60);

/// What the script passes.
#[derive(Debug, Clone)]
pub struct Options {
    /// `axum` or `poem`.
    pub adapter: String,
    /// A shell command that stops PostgreSQL and returns once it is down.
    pub stop: String,
    /// A shell command that starts it and returns once it accepts connections.
    pub start: String,
    /// How long it stays down.
    pub outage: Duration,
}

/// Runs the outage and prints the figures and the checks; true when every promise held.
///
/// # Errors
/// When the server, the accounts or the stop and start commands fail.
pub fn run(options: &Options) -> Result<bool> {
    let binary = super::server_binary(&options.adapter)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let db = runtime.block_on(TestDatabase::create(Backend::Postgres));
    let secret = super::secret();
    let server = start_server(
        &binary,
        db.dir.path(),
        &[
            ("VAULT_DATABASE_URL", db.url.as_str()),
            ("VAULT_JWT_SECRET", secret.as_str()),
            ("VAULT_THROTTLE_AUTH_IP", "off"),
            ("VAULT_THROTTLE_AUTH_USER", "off"),
            ("VAULT_THROTTLE_ANON", "off"),
            ("VAULT_THROTTLE_USER", "off"),
        ],
    );
    let addr = server.addr;
    let pid = server.pid();
    let tokens = (0..CLIENTS)
        .map(|i| seed::register(addr, &format!("outage{i}")))
        .collect::<Result<Vec<_>>>()?;
    println!(
        "vault-{}-server (pid {pid}) on PostgreSQL at {addr}; {CLIENTS} clients",
        options.adapter
    );

    let epoch = Instant::now();
    let samples = Arc::new(Mutex::new(Vec::<Sample>::new()));
    let done = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = tokens
        .into_iter()
        .enumerate()
        .map(|(i, token)| {
            let samples = Arc::clone(&samples);
            let done = Arc::clone(&done);
            thread::spawn(move || {
                let mut client = Timed::new(addr, Duration::from_secs(10), epoch);
                let bearer = format!("Bearer {token}");
                let auth = [("authorization", bearer.as_str())];
                let mut n = 0u64;
                while !done.load(Ordering::Relaxed) {
                    let body = json!({"kind": "note", "title": format!("outage {i}-{n}"),
                        "tags": ["outage"]})
                    .to_string();
                    let sample = match n % 5 {
                        0 => client.send(
                            "create",
                            "POST",
                            "/api/resources",
                            &auth,
                            Some("application/json"),
                            body.as_bytes(),
                        ),
                        1 => client.send("list", "GET", "/api/resources", &auth, None, b""),
                        2 => client.send("me", "GET", "/api/auth/me", &auth, None, b""),
                        3 => client.send("ready", "GET", "/health/ready", &[], None, b""),
                        _ => client.send("live", "GET", "/health/live", &[], None, b""),
                    }
                    .0;
                    if let Ok(mut all) = samples.lock() {
                        all.push(sample);
                    }
                    n += 1;
                    thread::sleep(Duration::from_millis(10));
                }
            })
        })
        .collect();

    thread::sleep(STEADY);
    let stopping = epoch.elapsed();
    println!("stopping PostgreSQL at {:.1} s", stopping.as_secs_f64());
    shell(&options.stop)?;
    let down = epoch.elapsed();
    println!("PostgreSQL down at {:.1} s", down.as_secs_f64());
    thread::sleep(options.outage);
    let starting = epoch.elapsed();
    shell(&options.start)?;
    let up = epoch.elapsed();
    println!(
        "PostgreSQL started at {:.1} s, accepting at {:.1} s",
        starting.as_secs_f64(),
        up.as_secs_f64()
    );
    let recovered_write = |all: &[Sample]| {
        all.iter()
            .filter(|s| s.route == "create" && s.sent >= up && (200..300).contains(&s.status))
            .map(Sample::answered)
            .min()
    };
    let deadline = Instant::now() + RECOVERY_LIMIT;
    while Instant::now() < deadline {
        let seen = samples.lock().map(|all| recovered_write(&all).is_some());
        if seen.unwrap_or(false) {
            break;
        }
        thread::sleep(Duration::from_millis(100));
    }
    thread::sleep(STEADY);
    done.store(true, Ordering::Relaxed);
    for worker in workers {
        worker
            .join()
            .map_err(|_| anyhow!("a client thread panicked"))?;
    }
    let still_running = super::rss_kib(pid).is_some();
    drop(server);
    let all = Arc::try_unwrap(samples)
        .map_err(|_| anyhow!("samples still shared"))?
        .into_inner()
        .map_err(|_| anyhow!("a client thread panicked holding the samples"))?;

    // Phases: before the stop; the outage proper (sent after PostgreSQL was down, answered
    // before it was started again); after it accepted connections again.
    let before: Vec<&Sample> = all.iter().filter(|s| s.answered() <= stopping).collect();
    let outage: Vec<&Sample> = all
        .iter()
        .filter(|s| s.sent >= down && s.answered() <= starting)
        .collect();
    let overlapping: Vec<&Sample> = all
        .iter()
        .filter(|s| s.answered() > stopping && s.sent < up)
        .collect();
    let after: Vec<&Sample> = all.iter().filter(|s| s.sent >= up).collect();
    println!("\n| phase | route | answers | statuses | p50 ms | p99 ms | max ms |");
    println!("|---|---|---:|---|---:|---:|---:|");
    for (phase, samples) in [
        ("before", &before),
        ("outage", &outage),
        ("after restart", &after),
    ] {
        for route in ["create", "list", "me", "ready", "live"] {
            let of_route: Vec<&Sample> = samples
                .iter()
                .copied()
                .filter(|s| s.route == route)
                .collect();
            let (count, p50, p99, max) = latency(&of_route);
            println!(
                "| {phase} | {route} | {count} | {} | {p50:.1} | {p99:.1} | {max:.1} |",
                status_counts(&of_route)
            );
        }
    }

    let server_errors: Vec<&Sample> = all
        .iter()
        .filter(|s| s.status >= 500 && s.status != 503)
        .collect();
    let failed: Vec<&Sample> = all.iter().filter(|s| s.status == 0).collect();
    let outage_of = |route: &str| -> Vec<&Sample> {
        outage
            .iter()
            .copied()
            .filter(|s| s.route == route)
            .collect()
    };
    let unavailable = |s: &&Sample| s.status == 503 && s.problem;
    let writes = outage_of("create");
    let reads: Vec<&Sample> = outage
        .iter()
        .copied()
        .filter(|s| matches!(s.route, "list" | "me"))
        .collect();
    let ready = outage_of("ready");
    let live: Vec<&Sample> = all.iter().filter(|s| s.route == "live").collect();
    let slowest = overlapping.iter().map(|s| s.took).max().unwrap_or_default();
    let recovery = recovered_write(&all);
    let after_recovery: Vec<&Sample> = match recovery {
        Some(at) => after
            .iter()
            .copied()
            .filter(|s| s.sent >= at + Duration::from_secs(1))
            .collect(),
        None => Vec::new(),
    };
    let checks = [
        Check {
            what: "no 5xx other than 503, ever".into(),
            held: server_errors.is_empty(),
            detail: format!("{} of {} answers", server_errors.len(), all.len()),
        },
        Check {
            what: "every request answered (no failed connection)".into(),
            held: failed.is_empty(),
            detail: format!("{} failed", failed.len()),
        },
        Check {
            what: "writes during the outage: 503 problem+json".into(),
            held: !writes.is_empty() && writes.iter().all(unavailable),
            detail: status_counts(&writes),
        },
        Check {
            what: "reads during the outage: 503 problem+json, or 2xx from the cache".into(),
            held: reads
                .iter()
                .all(|s| unavailable(s) || (200..300).contains(&s.status)),
            detail: status_counts(&reads),
        },
        Check {
            what: "/health/ready during the outage: 503".into(),
            held: !ready.is_empty() && ready.iter().all(|s| s.status == 503),
            detail: status_counts(&ready),
        },
        Check {
            what: "/health/live: 200 throughout".into(),
            held: live.iter().all(|s| s.status == 200),
            detail: status_counts(&live),
        },
        Check {
            what: format!(
                "every answer from the stop to the restart within {} ms",
                PROMPT.as_millis()
            ),
            held: slowest <= PROMPT,
            detail: format!(
                "slowest {:.0} ms of {}",
                slowest.as_secs_f64() * 1000.0,
                overlapping.len()
            ),
        },
        Check {
            what: "the same server process answers writes again after the restart".into(),
            held: recovery.is_some() && still_running,
            detail: recovery.map_or_else(
                || "no successful write".into(),
                |at| {
                    format!(
                        "first 2xx write {:.0} ms after PostgreSQL accepted connections",
                        (at.saturating_sub(up)).as_secs_f64() * 1000.0
                    )
                },
            ),
        },
        Check {
            what: "from a second after recovery on, every answer is 2xx".into(),
            held: !after_recovery.is_empty()
                && after_recovery
                    .iter()
                    .all(|s| (200..300).contains(&s.status)),
            detail: status_counts(&after_recovery),
        },
    ];
    Ok(report(&checks))
}
