//! Driving `wrk` (the well-known HTTP load generator) and reading its figures back through a
//! Lua `done` hook, instead of scraping its human-readable report.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use anyhow::{bail, Context, Result};

/// One load: what to send, how hard, how long.
#[derive(Debug, Clone)]
pub struct Load {
    /// Full URL.
    pub url: String,
    /// `GET` or `POST`.
    pub method: &'static str,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// JSON body, for `POST`.
    pub body: Option<String>,
    /// Bearer tokens taken in turn, one per request (each wrk thread starting at another one),
    /// so that a load's requests are spread over several accounts. Empty: none.
    pub rotate_tokens: Vec<String>,
    /// Paths taken in turn, one per request (in step with `rotate_tokens`, the two wrk threads
    /// starting far apart), so that a load's requests are spread over many URLs of the same
    /// host, e.g. many cards. Empty: the path of `url` always.
    pub rotate_paths: Vec<String>,
    /// Open connections.
    pub connections: u32,
    /// Seconds.
    pub seconds: u32,
}

/// What `wrk` measured.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    /// Completed requests.
    pub requests: u64,
    /// Requests per second.
    pub rps: f64,
    /// Median latency, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency, milliseconds.
    pub p99_ms: f64,
    /// Responses outside 2xx/3xx.
    pub status_errors: u64,
    /// Connect, read, write and timeout errors.
    pub socket_errors: u64,
}

const MARKER: &str = "VAULT-LOAD";

impl Load {
    /// A GET of `url` with a bearer token.
    pub fn get(url: String, token: Option<&str>, connections: u32, seconds: u32) -> Self {
        let headers = token
            .map(|t| vec![("Authorization".to_string(), format!("Bearer {t}"))])
            .unwrap_or_default();
        Self {
            url,
            method: "GET",
            headers,
            body: None,
            rotate_tokens: Vec::new(),
            rotate_paths: Vec::new(),
            connections,
            seconds,
        }
    }

    fn script(&self) -> String {
        let mut lua = format!("wrk.method = \"{}\"\n", self.method);
        for (name, value) in &self.headers {
            let _ = writeln!(lua, "wrk.headers[\"{name}\"] = \"{value}\"");
        }
        if let Some(body) = &self.body {
            lua.push_str("wrk.headers[\"Content-Type\"] = \"application/json\"\n");
            let _ = writeln!(lua, "wrk.body = [[{body}]]");
        }
        if !self.rotate_tokens.is_empty() || !self.rotate_paths.is_empty() {
            let list = |lua: &mut String, name: &str, items: &[String], prefix: &str| {
                let _ = write!(lua, "local {name} = {{");
                for item in items {
                    let _ = write!(lua, "\"{prefix}{item}\", ");
                }
                lua.push_str("}\n");
            };
            list(&mut lua, "tokens", &self.rotate_tokens, "Bearer ");
            list(&mut lua, "paths", &self.rotate_paths, "");
            // Each thread starts at its own offset (`setup` numbers the threads), far apart,
            // so that the two threads never send the same path at the same time.
            lua.push_str(
                "local threads = 0\n\
                 setup = function(thread) thread:set(\"offset\", threads * 5003); threads = threads + 1 end\n\
                 local turn = nil\n\
                 request = function()\n  \
                   if turn == nil then turn = offset or 0 end\n  \
                   turn = turn + 1\n  \
                   if #tokens > 0 then wrk.headers[\"Authorization\"] = tokens[turn % #tokens + 1] end\n  \
                   if #paths > 0 then return wrk.format(nil, paths[turn % #paths + 1]) end\n  \
                   return wrk.format()\n\
                 end\n",
            );
        }
        let _ = write!(
            lua,
            "done = function(summary, latency, requests)\n  \
               local e = summary.errors\n  \
               io.write(string.format(\"{MARKER} %d %d %d %d %d %d\\n\", summary.requests, \
                 summary.duration, math.floor(latency:percentile(50)), \
                 math.floor(latency:percentile(99)), e.status, \
                 e.connect + e.read + e.write + e.timeout))\n\
             end\n"
        );
        lua
    }

    /// Starts `wrk` with this load (the script is written into `dir`).
    ///
    /// # Errors
    /// When `wrk` cannot be started.
    pub fn start(&self, dir: &Path, name: &str) -> Result<Child> {
        let script = dir.join(format!("{name}.lua"));
        std::fs::write(&script, self.script())?;
        let threads = self.connections.clamp(1, 2);
        Command::new("wrk")
            .arg(format!("-t{threads}"))
            .arg(format!("-c{}", self.connections))
            .arg(format!("-d{}s", self.seconds))
            .arg("--timeout")
            .arg("10s")
            .arg("-s")
            .arg(&script)
            .arg(&self.url)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("starting wrk (install it: apt-get install wrk)")
    }
}

/// Waits for a `wrk` started by [`Load::start`] and reads its figures.
///
/// # Errors
/// When `wrk` fails or its output lacks the figures.
pub fn finish(child: Child) -> Result<Stats> {
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output()?;
    let stdout = String::from_utf8_lossy(&stdout);
    if !status.success() {
        bail!(
            "wrk failed ({status}): {stdout}{}",
            String::from_utf8_lossy(&stderr)
        );
    }
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix(MARKER))
        .with_context(|| format!("no figures in wrk's output: {stdout}"))?;
    let numbers: Vec<u64> = line
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .with_context(|| format!("bad figures {line:?}"))?;
    let [requests, duration_us, p50_us, p99_us, status_errors, socket_errors] = numbers[..] else {
        bail!("bad figures {line:?}");
    };
    #[allow(clippy::cast_precision_loss)] // counts and microseconds, far below 2^52
    Ok(Stats {
        requests,
        rps: requests as f64 / (duration_us.max(1) as f64 / 1e6),
        p50_ms: p50_us as f64 / 1e3,
        p99_ms: p99_us as f64 / 1e3,
        status_errors,
        socket_errors,
    })
}

/// Runs one load to its end.
///
/// # Errors
/// As [`Load::start`] and [`finish`].
pub fn run(load: &Load, dir: &Path, name: &str) -> Result<Stats> {
    finish(load.start(dir, name)?)
}
