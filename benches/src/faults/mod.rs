//! The fault drivers behind `benches/faults/*.sh` (binary `vault-faults`): a PostgreSQL outage
//! under load ([`outage`]), `kill -9` of the server in the middle of writes ([`kill9`]), and a
//! mixed soak with hostile clients ([`soak`]). Each starts the release example server itself,
//! records every response it gets, and says which promise broke, if any.

pub mod kill9;
pub mod outage;
pub mod soak;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use vault_core::testkit::smoke::Server;

use crate::client::{Conn, Reply};

/// The example server binary of `adapter` (`axum` or `poem`), built beside the running driver.
///
/// # Errors
/// An unknown adapter, or a binary that was not built.
pub fn server_binary(adapter: &str) -> Result<PathBuf> {
    if !matches!(adapter, "axum" | "poem") {
        bail!("unknown adapter {adapter:?}: axum or poem");
    }
    let binary = std::env::current_exe()?.with_file_name(format!("vault-{adapter}-server"));
    if !binary.exists() {
        bail!(
            "{} is missing: cargo build --release -p vault-{adapter}-server",
            binary.display()
        );
    }
    Ok(binary)
}

/// A fresh JWT secret for one run.
pub fn secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Starts the example server `binary` in `dir` with `env` on a free loopback port (see
/// [`Server::start`]; dropping the returned server kills it with SIGKILL). It logs errors
/// only, besides the line that says where it listens: a fault makes every request log a
/// warning, thousands of lines that say nothing the driver's figures do not.
pub fn start_server(binary: &Path, dir: &Path, env: &[(&str, &str)]) -> Server {
    let mut env = env.to_vec();
    env.push((
        "RUST_LOG",
        "error,vault_axum_server=info,vault_poem_server=info",
    ));
    Server::start(&binary.to_string_lossy(), dir, &env)
}

/// A small deterministic generator (xorshift64*), so a run needs no randomness crate and a
/// seed reproduces its choices.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value; zero is moved off the fixed point).
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True about once in `n`.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
}

/// One response as a driver saw it.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Which kind of request (`create`, `list`, `ready`, …).
    pub route: &'static str,
    /// When it was sent, from the start of the run.
    pub sent: Duration,
    /// How long the answer took.
    pub took: Duration,
    /// Its status; 0 when the connection failed or the answer did not come.
    pub status: u16,
    /// Whether the answer was an `application/problem+json` document.
    pub problem: bool,
}

impl Sample {
    /// When the answer came, from the start of the run.
    pub fn answered(&self) -> Duration {
        self.sent + self.took
    }
}

/// A keep-alive connection that reconnects after a failure and times every request.
pub struct Timed {
    addr: SocketAddr,
    timeout: Duration,
    conn: Option<Conn>,
    epoch: Instant,
}

impl Timed {
    /// Requests to `addr`, each failing after `timeout`, timed from `epoch`.
    pub fn new(addr: SocketAddr, timeout: Duration, epoch: Instant) -> Self {
        Self {
            addr,
            timeout,
            conn: None,
            epoch,
        }
    }

    /// Sends one request (see [`Conn::request`]) and returns its sample, with the reply when
    /// one came.
    pub fn send(
        &mut self,
        route: &'static str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        content_type: Option<&str>,
        body: &[u8],
    ) -> (Sample, Option<Reply>) {
        let started = Instant::now();
        let reply = self.try_send(method, path, headers, content_type, body);
        let sample = Sample {
            route,
            sent: started - self.epoch,
            took: started.elapsed(),
            status: reply.as_ref().map_or(0, |r| r.status),
            problem: reply
                .as_ref()
                .is_ok_and(|r| r.content_type.starts_with("application/problem+json")),
        };
        match &reply {
            Ok(reply) if !reply.close => {}
            _ => self.conn = None,
        }
        (sample, reply.ok())
    }

    /// `POST path` with `body` as JSON (see [`Timed::send`]).
    pub fn post_json(
        &mut self,
        route: &'static str,
        path: &str,
        headers: &[(&str, &str)],
        body: &serde_json::Value,
    ) -> (Sample, Option<Reply>) {
        let body = body.to_string();
        self.send(
            route,
            "POST",
            path,
            headers,
            Some("application/json"),
            body.as_bytes(),
        )
    }

    /// Uploads `bytes` as the plain-text file `name` of resource `id` (multipart, as
    /// `PUT /api/resources/{id}/file` takes it).
    pub fn upload(
        &mut self,
        id: &str,
        headers: &[(&str, &str)],
        name: &str,
        bytes: &[u8],
    ) -> Sample {
        let (content_type, body) = multipart(name, "text/plain", bytes);
        let path = format!("/api/resources/{id}/file");
        self.send("upload", "PUT", &path, headers, Some(&content_type), &body)
            .0
    }

    fn try_send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Reply> {
        let conn = match &mut self.conn {
            Some(conn) => conn,
            slot @ None => slot.insert(Conn::connect_with_timeout(self.addr, self.timeout)?),
        };
        conn.request(method, path, headers, content_type, body)
    }
}

/// The `id` of what a 201 answer created.
pub fn created_id(reply: Option<&Reply>) -> Option<String> {
    reply
        .filter(|r| r.status == 201)
        .and_then(|r| serde_json::from_str::<serde_json::Value>(&r.body).ok())
        .and_then(|v| v["id"].as_str().map(str::to_string))
}

/// A `multipart/form-data` body with one part `file` named `name`: its content type and bytes.
pub fn multipart(name: &str, part_type: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = format!("vault-fault-{}", uuid::Uuid::new_v4().simple());
    let mut body = format!(
        "--{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         content-type: {part_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Printable text of `len` bytes, different for each `seed` (plain text passes the upload
/// type check).
pub fn text_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    (0..len)
        .map(|i| {
            if i % 64 == 63 {
                b'\n'
            } else {
                b"abcdefghijklmnopqrstuvwxyz "[usize::try_from(rng.below(27)).unwrap_or(0)]
            }
        })
        .collect()
}

/// Latency figures of some samples, in milliseconds: (count, p50, p99, max).
pub fn latency(samples: &[&Sample]) -> (usize, f64, f64, f64) {
    let mut ms: Vec<f64> = samples
        .iter()
        .map(|s| s.took.as_secs_f64() * 1000.0)
        .collect();
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| {
        if ms.is_empty() {
            return 0.0;
        }
        // Nearest rank.
        let rank = (q * ms.len() as f64).ceil().max(1.0) as usize;
        ms[rank.min(ms.len()) - 1]
    };
    (
        ms.len(),
        at(0.5),
        at(0.99),
        ms.last().copied().unwrap_or(0.0),
    )
}

/// How many of `samples` had each status, as `200×12 503×40`.
pub fn status_counts(samples: &[&Sample]) -> String {
    let mut counts = std::collections::BTreeMap::<u16, usize>::new();
    for sample in samples {
        *counts.entry(sample.status).or_default() += 1;
    }
    let mut text = String::new();
    for (status, count) in counts {
        let shown = if status == 0 {
            "conn-error".to_string()
        } else {
            status.to_string()
        };
        let _ = write!(
            text,
            "{}{shown}×{count}",
            if text.is_empty() { "" } else { " " }
        );
    }
    text
}

/// A check of a run: what was promised and whether it held.
#[derive(Debug)]
pub struct Check {
    /// What was promised.
    pub what: String,
    /// Whether it held.
    pub held: bool,
    /// The figures behind the verdict.
    pub detail: String,
}

/// Prints `checks` and says whether all held.
pub fn report(checks: &[Check]) -> bool {
    println!();
    for check in checks {
        println!(
            "[{}] {}: {}",
            if check.held { "ok" } else { "FAILED" },
            check.what,
            check.detail
        );
    }
    checks.iter().all(|c| c.held)
}

/// The server's resident set size in KiB (`VmRSS` of `/proc/PID/status`), on Linux.
pub fn rss_kib(pid: u32) -> Option<u64> {
    status_kib(pid, "VmRSS")
}

/// A `kB` field of `/proc/PID/status` (`VmRSS`, `RssAnon`: the heap and stacks, `RssFile`:
/// mapped files such as SQLite's memory-mapped database), on Linux.
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Runs a shell command given by the fault script (stopping or starting PostgreSQL).
///
/// # Errors
/// When it cannot run or exits unsuccessfully.
pub fn shell(command: &str) -> Result<()> {
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .status()
        .with_context(|| format!("running {command:?}"))?;
    if !status.success() {
        bail!("{command:?} failed: {status}");
    }
    Ok(())
}
