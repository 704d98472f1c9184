//! A mixed soak with hostile clients (`benches/faults/soak.sh`).
//!
//! The example server runs on SQLite for the given duration. Three ordinary clients, each with
//! an account, list, read, search, create, change and delete notes, upload files and log in
//! again; at the same time hostile clients send login names of a mebibyte and rotating
//! `X-Forwarded-For` addresses (each a new throttle key), page numbers and page sizes past
//! any integer type, request heads dribbled a byte a second (slowloris) and uploads that stall
//! after their first bytes. The server's resident set size is sampled every ten seconds.
//!
//! Promises checked: no 5xx at all; the ordinary clients never lose a connection; hostile
//! requests get their 400 / 404 / 200 (clamped) answers; a dribbling connection is closed by
//! the header timeout, a stalled upload answered 408 by the body idle timeout; after the
//! warm-up (the first fifth of the run) the mean RSS of every minute is within ±10 % of the first
//! minute's.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use serde_json::{json, Value};
use vault_core::testkit::{Backend, TestDatabase};

use super::{
    created_id, latency, multipart, report, rss_kib, start_server, status_counts, text_bytes,
    Check, Rng, Sample, Timed,
};
use crate::seed;

/// Ordinary clients.
const CLIENTS: usize = 3;
/// Dribbling connections held open at once.
const SLOWLORIS: usize = 16;
/// Stalled uploads at once.
const STALLED: usize = 4;
/// Notes an ordinary client keeps at most; past it, it deletes before it creates.
const KEEP: usize = 300;
/// Between RSS samples.
const SAMPLE_EVERY: Duration = Duration::from_secs(10);
/// The RSS band after the warm-up: each minute's mean around the first minute's.
const RSS_BAND: f64 = 0.10;
/// Samples averaged into one point of the RSS check: a minute. Single samples swing by a few
/// MiB with the database pages SQLite has mapped (`RssFile`), which the kernel reclaims and
/// maps again as the queries move; a leak shows as a rising mean, a page-cache swing does not.
const RSS_WINDOW: usize = 6;
/// The server's header read timeout and body idle timeout in this run.
const HEADER_TIMEOUT_S: u64 = 10;
const BODY_IDLE_S: u64 = 30;

/// Shared counters of the hostile clients that hold connections.
#[derive(Default)]
struct Hostile {
    /// Dribbling connections the server closed, and the longest one lived (ms).
    dribbles_closed: AtomicU64,
    dribble_longest_ms: AtomicU64,
    /// A dribbling connection the server answered instead of closing (it never should).
    dribbles_answered: AtomicU64,
}

/// Runs the soak for `duration` and prints the RSS samples, the figures and the checks; true
/// when every promise held.
///
/// # Errors
/// When the server or the accounts fail.
pub fn run(adapter: &str, duration: Duration) -> Result<bool> {
    let binary = super::server_binary(adapter)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let db = runtime.block_on(TestDatabase::create(Backend::Sqlite));
    let secret = super::secret();
    let header = HEADER_TIMEOUT_S.to_string();
    let idle = BODY_IDLE_S.to_string();
    let server = start_server(
        &binary,
        db.dir.path(),
        &[
            ("VAULT_DATABASE_URL", db.url.as_str()),
            ("VAULT_JWT_SECRET", secret.as_str()),
            // Every hostile request names a new client address: each is a throttle key, and
            // the budgets are high enough that the ordinary clients (all 127.0.0.1) never
            // meet them.
            ("VAULT_TRUST_FORWARDED_FOR", "true"),
            ("VAULT_THROTTLE_AUTH_IP", "100000/min"),
            ("VAULT_THROTTLE_ANON", "100000/min"),
            ("VAULT_THROTTLE_USER", "off"),
            ("VAULT_HEADER_READ_TIMEOUT", header.as_str()),
            ("VAULT_BODY_IDLE_TIMEOUT", idle.as_str()),
        ],
    );
    let addr = server.addr;
    let pid = server.pid();
    println!(
        "vault-{adapter}-server (pid {pid}) on SQLite at {addr}; soak of {} s",
        duration.as_secs()
    );
    let epoch = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let samples = Arc::new(Mutex::new(Vec::<Sample>::new()));
    let hostile = Arc::new(Hostile::default());
    let mut workers = Vec::new();
    for i in 0..CLIENTS {
        let username = format!("soak{i}");
        seed::register(addr, &username)?;
        let (done, samples) = (Arc::clone(&done), Arc::clone(&samples));
        workers.push(thread::spawn(move || {
            ordinary(addr, epoch, &username, &done, &samples, i as u64)
        }));
    }
    let hostile_token = seed::register(addr, "hostile")?;
    {
        let (done, samples) = (Arc::clone(&done), Arc::clone(&samples));
        let token = hostile_token.clone();
        workers.push(thread::spawn(move || {
            oversized(addr, epoch, &token, &done, &samples)
        }));
    }
    {
        let (done, hostile) = (Arc::clone(&done), Arc::clone(&hostile));
        workers.push(thread::spawn(move || slowloris(addr, &done, &hostile)));
    }
    for _ in 0..STALLED {
        let (done, samples) = (Arc::clone(&done), Arc::clone(&samples));
        let token = hostile_token.clone();
        workers.push(thread::spawn(move || {
            stalled_uploads(addr, epoch, &token, &done, &samples)
        }));
    }

    let mut rss = Vec::new();
    println!("\n| t s | RSS MiB | anon MiB | file MiB | answers | 5xx |");
    println!("|---:|---:|---:|---:|---:|---:|");
    while epoch.elapsed() < duration {
        thread::sleep(SAMPLE_EVERY.min(duration.saturating_sub(epoch.elapsed())));
        let Some(kib) = rss_kib(pid) else {
            break;
        };
        let t = epoch.elapsed();
        rss.push((t, kib));
        let (answers, errors) = samples.lock().map_or((0, 0), |all| {
            (all.len(), all.iter().filter(|s| s.status >= 500).count())
        });
        let mib = |field: &str| super::status_kib(pid, field).map_or(0.0, |k| k as f64 / 1024.0);
        println!(
            "| {:.0} | {:.1} | {:.1} | {:.1} | {answers} | {errors} |",
            t.as_secs_f64(),
            kib as f64 / 1024.0,
            mib("RssAnon"),
            mib("RssFile")
        );
    }
    done.store(true, Ordering::Relaxed);
    let still_running = rss_kib(pid).is_some();
    for worker in workers {
        worker
            .join()
            .map_err(|_| anyhow!("a client thread panicked"))?;
    }
    drop(server);
    let all = Arc::try_unwrap(samples)
        .map_err(|_| anyhow!("samples still shared"))?
        .into_inner()
        .map_err(|_| anyhow!("a client thread panicked holding the samples"))?;

    println!("\n| route | answers | statuses | p50 ms | p99 ms | max ms |");
    println!("|---|---:|---|---:|---:|---:|");
    let routes: std::collections::BTreeSet<&str> = all.iter().map(|s| s.route).collect();
    for route in routes {
        let of_route: Vec<&Sample> = all.iter().filter(|s| s.route == route).collect();
        let (count, p50, p99, max) = latency(&of_route);
        println!(
            "| {route} | {count} | {} | {p50:.1} | {p99:.1} | {max:.1} |",
            status_counts(&of_route)
        );
    }
    let of = |route: &str| -> Vec<&Sample> { all.iter().filter(|s| s.route == route).collect() };
    let all_of = |route: &str, status: u16| {
        let list = of(route);
        (
            !list.is_empty() && list.iter().all(|s| s.status == status),
            status_counts(&list),
        )
    };
    let server_errors = all.iter().filter(|s| s.status >= 500).count();
    let lost = all
        .iter()
        .filter(|s| s.status == 0 && !s.route.starts_with("hostile"))
        .count();
    let warm_up = duration / 5;
    let settled: Vec<u64> = rss
        .iter()
        .filter(|(t, _)| *t >= warm_up)
        .map(|(_, kib)| *kib)
        .collect();
    let band = rss_band(&settled);
    let (huge_names, huge_names_seen) = all_of("hostile-1MiB-username", 400);
    let (huge_pages, huge_pages_seen) = all_of("hostile-huge-page", 404);
    let (huge_sizes, huge_sizes_seen) = all_of("hostile-huge-page-size", 200);
    let (stalls, stalls_seen) = all_of("hostile-stalled-upload", 408);
    let closed = hostile.dribbles_closed.load(Ordering::Relaxed);
    let longest = hostile.dribble_longest_ms.load(Ordering::Relaxed);
    let answered = hostile.dribbles_answered.load(Ordering::Relaxed);
    let checks = [
        Check {
            what: "no 5xx".into(),
            held: server_errors == 0 && still_running,
            detail: format!("{server_errors} of {} answers", all.len()),
        },
        Check {
            what: "ordinary clients never lose a connection".into(),
            held: lost == 0,
            detail: format!("{lost} lost"),
        },
        Check {
            what: "1 MiB login names: 400".into(),
            held: huge_names,
            detail: huge_names_seen,
        },
        Check {
            what: "page numbers past any integer: 404".into(),
            held: huge_pages,
            detail: huge_pages_seen,
        },
        Check {
            what: "page sizes past any integer: 200 (clamped)".into(),
            held: huge_sizes,
            detail: huge_sizes_seen,
        },
        Check {
            what: format!("stalled uploads: 408 after {BODY_IDLE_S} s"),
            held: stalls,
            detail: stalls_seen,
        },
        Check {
            what: format!("dribbled heads: closed by the {HEADER_TIMEOUT_S} s header timeout"),
            held: closed > 0 && answered == 0 && longest <= (HEADER_TIMEOUT_S + 3) * 1000,
            detail: format!(
                "{closed} closed, longest {:.1} s, {answered} answered",
                longest as f64 / 1000.0
            ),
        },
        Check {
            what: format!(
                "RSS after the warm-up ({} s): every minute's mean within ±{:.0} % of the first",
                warm_up.as_secs(),
                RSS_BAND * 100.0
            ),
            held: band.is_some_and(|(first, low, high)| {
                low >= first * (1.0 - RSS_BAND) && high <= first * (1.0 + RSS_BAND)
            }),
            detail: band.map_or_else(
                || "too few samples".into(),
                |(first, low, high)| {
                    format!(
                        "first minute {:.1} MiB, minute means {:.1}–{:.1} MiB ({} samples)",
                        first / 1024.0,
                        low / 1024.0,
                        high / 1024.0,
                        settled.len()
                    )
                },
            ),
        },
    ];
    Ok(report(&checks))
}

/// An ordinary client: a mix of reads, writes, searches, uploads and logins.
fn ordinary(
    addr: SocketAddr,
    epoch: Instant,
    username: &str,
    done: &AtomicBool,
    samples: &Mutex<Vec<Sample>>,
    seed: u64,
) {
    let mut rng = Rng::new(seed + 1);
    let mut http = Timed::new(addr, Duration::from_secs(30), epoch);
    let mut mine: Vec<String> = Vec::new();
    let mut bearer = String::new();
    let login = json!({"username": username, "password": seed::PASSWORD}).to_string();
    let mut n = 0u64;
    while !done.load(Ordering::Relaxed) {
        n += 1;
        let roll = rng.below(100);
        let record = |sample: Sample| {
            if let Ok(mut all) = samples.lock() {
                all.push(sample);
            }
        };
        if bearer.is_empty() || roll < 3 {
            let (sample, reply) = http.send(
                "login",
                "POST",
                "/api/auth/token",
                &[],
                Some("application/json"),
                login.as_bytes(),
            );
            if let Some(access) = reply
                .filter(|r| r.status == 200)
                .and_then(|r| serde_json::from_str::<Value>(&r.body).ok())
                .and_then(|v| v["access"].as_str().map(|a| format!("Bearer {a}")))
            {
                bearer = access;
            }
            record(sample);
            continue;
        }
        let auth = [("authorization", bearer.as_str())];
        let (sample, reply) = if roll < 30 {
            let page = 1 + rng.below(3);
            let path = format!("/api/resources?page={page}&page_size=20");
            http.send("list", "GET", &path, &auth, None, b"")
        } else if roll < 45 && !mine.is_empty() {
            let id = &mine[usize::try_from(rng.below(mine.len() as u64)).unwrap_or(0)];
            http.send(
                "get",
                "GET",
                &format!("/api/resources/{id}"),
                &auth,
                None,
                b"",
            )
        } else if roll < 60 {
            let word = ["borrow", "lifetime", "zeppelin", "soak"]
                [usize::try_from(rng.below(4)).unwrap_or(0)];
            let path = format!("/api/resources?search={word}");
            http.send("search", "GET", &path, &auth, None, b"")
        } else if roll < 65 && !mine.is_empty() {
            let id = &mine[usize::try_from(rng.below(mine.len() as u64)).unwrap_or(0)];
            let body = json!({"favorite": rng.one_in(2), "tags": [format!("t{}", rng.below(20))]});
            http.send(
                "patch",
                "PATCH",
                &format!("/api/resources/{id}"),
                &auth,
                Some("application/json"),
                body.to_string().as_bytes(),
            )
        } else if (roll < 75 || mine.len() > KEEP) && !mine.is_empty() {
            let id = mine.swap_remove(usize::try_from(rng.below(mine.len() as u64)).unwrap_or(0));
            http.send(
                "delete",
                "DELETE",
                &format!("/api/resources/{id}"),
                &auth,
                None,
                b"",
            )
        } else {
            let file = roll >= 95;
            let body = json!({
                "kind": if file { "file" } else { "note" },
                "title": format!("{username} {n}"),
                "body": format!("a soak note on borrow and lifetime number {n}"),
                "tags": [format!("t{}", rng.below(20)), format!("t{}", rng.below(20))],
            });
            let (sample, reply) = http.post_json("create", "/api/resources", &auth, &body);
            if let Some(id) = created_id(reply.as_ref()) {
                if file {
                    record(sample);
                    let size = 16 * 1024 + rng.below(112 * 1024);
                    let bytes = text_bytes(usize::try_from(size).unwrap_or(1024), rng.next_u64());
                    record(http.upload(&id, &auth, "soak.txt", &bytes));
                    mine.push(id);
                    continue;
                }
                mine.push(id);
            }
            (sample, reply)
        };
        if sample.status == 401 {
            bearer.clear();
        }
        drop(reply);
        record(sample);
        thread::sleep(Duration::from_millis(2));
    }
}

/// Oversized inputs from rotating client addresses: 1 MiB login names, page numbers and
/// sizes past any integer type, failed logins of names nobody has.
fn oversized(
    addr: SocketAddr,
    epoch: Instant,
    token: &str,
    done: &AtomicBool,
    samples: &Mutex<Vec<Sample>>,
) {
    let mut rng = Rng::new(7);
    let mut http = Timed::new(addr, Duration::from_secs(30), epoch);
    let bearer = format!("Bearer {token}");
    let mut n = 0u64;
    while !done.load(Ordering::Relaxed) {
        n += 1;
        let forwarded = format!(
            "10.{}.{}.{}",
            rng.below(256),
            rng.below(256),
            rng.below(256)
        );
        let (sample, _) = match n % 4 {
            0 => {
                // Just under the 1 MiB body limit, so the name itself is what is refused.
                let name = format!("{n:06}{}", "x".repeat((1 << 20) - 1024));
                let body = json!({"username": name, "password": "a-wrong-guess-1"}).to_string();
                http.send(
                    "hostile-1MiB-username",
                    "POST",
                    "/api/auth/token",
                    &[("x-forwarded-for", forwarded.as_str())],
                    Some("application/json"),
                    body.as_bytes(),
                )
            }
            1 => http.send(
                "hostile-huge-page",
                "GET",
                "/api/resources?page=99999999999999999999999999999999999999999",
                &[("authorization", bearer.as_str())],
                None,
                b"",
            ),
            2 => http.send(
                "hostile-huge-page-size",
                "GET",
                "/api/resources?page_size=340282366920938463463374607431768211456",
                &[("authorization", bearer.as_str())],
                None,
                b"",
            ),
            _ => {
                let body = json!({"username": format!("ghost{n}"), "password": "a-wrong-guess-1"})
                    .to_string();
                http.send(
                    "hostile-unknown-login",
                    "POST",
                    "/api/auth/token",
                    &[("x-forwarded-for", forwarded.as_str())],
                    Some("application/json"),
                    body.as_bytes(),
                )
            }
        };
        if let Ok(mut all) = samples.lock() {
            all.push(sample);
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Slowloris: [`SLOWLORIS`] connections, each sending a request head one byte a second; each
/// one the server closes is replaced.
fn slowloris(addr: SocketAddr, done: &AtomicBool, hostile: &Hostile) {
    let head = b"GET /api/resources HTTP/1.1\r\nhost: soak\r\nx-dribble: ";
    let open = || -> Option<(TcpStream, Instant)> {
        let mut stream = TcpStream::connect(addr).ok()?;
        stream.set_nonblocking(true).ok()?;
        stream.write_all(&head[..8]).ok()?;
        Some((stream, Instant::now()))
    };
    let mut conns: Vec<Option<(TcpStream, Instant)>> = (0..SLOWLORIS).map(|_| open()).collect();
    while !done.load(Ordering::Relaxed) {
        thread::sleep(Duration::from_secs(1));
        for slot in &mut conns {
            let Some((stream, opened)) = slot else {
                *slot = open();
                continue;
            };
            let mut buf = [0u8; 512];
            let closed = match stream.read(&mut buf) {
                Ok(0) => true,
                Ok(_) => {
                    hostile.dribbles_answered.fetch_add(1, Ordering::Relaxed);
                    true
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    stream.write_all(b"a").is_err()
                }
                Err(_) => true,
            };
            if closed {
                let lived = u64::try_from(opened.elapsed().as_millis()).unwrap_or(u64::MAX);
                hostile.dribbles_closed.fetch_add(1, Ordering::Relaxed);
                hostile
                    .dribble_longest_ms
                    .fetch_max(lived, Ordering::Relaxed);
                *slot = open();
            }
        }
    }
}

/// An upload that sends its head and 64 KiB of a 1 MiB body, then nothing: the server should
/// answer 408 once the body has been idle for its timeout.
fn stalled_uploads(
    addr: SocketAddr,
    epoch: Instant,
    token: &str,
    done: &AtomicBool,
    samples: &Mutex<Vec<Sample>>,
) {
    let mut http = Timed::new(addr, Duration::from_secs(30), epoch);
    let auth = format!("Bearer {token}");
    while !done.load(Ordering::Relaxed) {
        let created = http.post_json(
            "hostile-create",
            "/api/resources",
            &[("authorization", auth.as_str())],
            &json!({"kind": "file", "title": "stalled"}),
        );
        let Some(id) = created_id(created.1.as_ref()) else {
            thread::sleep(Duration::from_secs(1));
            continue;
        };
        let (content_type, body) = multipart("stall.txt", "text/plain", &text_bytes(1 << 20, 3));
        let started = Instant::now();
        let status = (|| -> Result<u16> {
            let mut stream = TcpStream::connect(addr)?;
            stream.set_read_timeout(Some(Duration::from_secs(BODY_IDLE_S + 30)))?;
            let head = format!(
                "PUT /api/resources/{id}/file HTTP/1.1\r\nhost: soak\r\nauthorization: {auth}\r\n\
                 content-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes())?;
            stream.write_all(&body[..64 * 1024])?;
            let mut answer = Vec::new();
            let mut buf = [0u8; 4096];
            // Until the head of the answer is in; the server closes after it.
            while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
                let read = stream.read(&mut buf)?;
                if read == 0 {
                    break;
                }
                answer.extend_from_slice(&buf[..read]);
            }
            let text = String::from_utf8_lossy(&answer);
            text.split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| anyhow!("no answer to a stalled upload"))
        })()
        .unwrap_or(0);
        let sample = Sample {
            route: "hostile-stalled-upload",
            sent: started - epoch,
            took: started.elapsed(),
            status,
            problem: false,
        };
        if let Ok(mut all) = samples.lock() {
            all.push(sample);
            all.push(created.0);
        }
    }
}

/// The first window's mean RSS and the lowest and highest window means (KiB), over windows of
/// [`RSS_WINDOW`] samples; `None` with fewer than two windows.
fn rss_band(samples: &[u64]) -> Option<(f64, f64, f64)> {
    let means: Vec<f64> = samples
        .chunks(RSS_WINDOW)
        .filter(|window| window.len() == RSS_WINDOW)
        .map(|window| window.iter().sum::<u64>() as f64 / window.len() as f64)
        .collect();
    let first = *means.first()?;
    if means.len() < 2 {
        return None;
    }
    let low = means.iter().copied().fold(f64::INFINITY, f64::min);
    let high = means.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some((first, low, high))
}

#[cfg(test)]
mod tests {
    use super::rss_band;

    #[test]
    fn a_swinging_sample_passes_and_a_rising_mean_does_not() {
        let flat = [100, 100, 125, 100, 100, 100, 100, 100, 100, 100, 100, 100];
        let (first, low, high) = rss_band(&flat).unwrap();
        assert!((first - 104.166).abs() < 0.01 && low == 100.0 && high == first);
        let rising: Vec<u64> = (0..18).map(|i| 100 + 2 * i).collect();
        let (first, _, high) = rss_band(&rising).unwrap();
        assert!(high > first * 1.10, "{first} {high}");
        assert!(rss_band(&[1, 2, 3]).is_none());
    }
}
