//! Smoke tests of a server binary over real HTTP: start it in a temporary directory with zero
//! set-up, talk to it on loopback, stop it with SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// A server process under test.
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
}

/// A response read off the wire.
#[derive(Debug)]
pub struct WireResponse {
    /// Status code.
    pub status: u16,
    /// Header lines, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Body text.
    pub body: String,
}

impl WireResponse {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    ///
    /// # Panics
    /// When it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

impl Server {
    /// Starts `binary` in `dir` listening on a free loopback port, with extra environment.
    ///
    /// # Panics
    /// When it does not start listening within 60 s.
    pub fn start(binary: &str, dir: &Path, env: &[(&str, &str)]) -> Self {
        Self::start_with_args(binary, &[], dir, env)
    }

    /// [`Server::start`] with command-line arguments.
    ///
    /// # Panics
    /// When it does not start listening within 60 s.
    pub fn start_with_args(binary: &str, args: &[&str], dir: &Path, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(binary);
        command
            .args(args)
            .current_dir(dir)
            .env("VAULT_BIND", "127.0.0.1:0")
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .env_remove("VAULT_JWT_SECRET")
            .env_remove("VAULT_DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("server binary starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                println!("[server] {line}");
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let addr = rest
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    let _ = tx.send(addr);
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .ok()
            .and_then(|a| a.parse().ok());
        let Some(addr) = addr else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("server did not log 'listening on http://ADDR' within 60 s");
        };
        Self { child, addr }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends one HTTP/1.1 request and reads the whole response.
    ///
    /// # Panics
    /// On connection errors or an unparseable response.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> WireResponse {
        let mut stream = TcpStream::connect(self.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nhost: {}\r\nconnection: close\r\ncontent-length: {}\r\n",
            self.addr,
            body.len()
        );
        if !body.is_empty() {
            head.push_str("content-type: application/json\r\n");
        }
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).expect("write");
        stream.write_all(body.as_bytes()).expect("write");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("read");
        let text = String::from_utf8_lossy(&raw).to_string();
        let (head, body) = text.split_once("\r\n\r\n").expect("HTTP response");
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .expect("status line");
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_lowercase(), v.trim().to_string()))
            .collect();
        let chunked = headers
            .iter()
            .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
        let body = if chunked {
            dechunk(body)
        } else {
            body.to_string()
        };
        WireResponse {
            status,
            headers,
            body,
        }
    }

    /// Sends SIGTERM and waits (at most 15 s) for a graceful exit.
    ///
    /// # Panics
    /// When the process does not exit in time.
    pub fn terminate(mut self) -> ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "server did not shut down within 15 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// The standard smoke test of an example server binary: zero set-up start, health, register,
/// me, docs, throttling by real peer address, graceful SIGTERM, restart with the same secret,
/// and `create-admin` (password from the environment or piped; weak ones refused).
///
/// # Panics
/// When any step fails.
pub fn run_example_server(binary: &str) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let server = Server::start(binary, dir.path(), &[]);
    assert!(
        dir.path().join("vault.db").exists(),
        "SQLite file vault.db in the working directory"
    );
    let secret_file = dir.path().join("vault.db.jwt-secret");
    assert!(
        secret_file.exists(),
        "generated JWT secret stored beside the database"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret_file)
            .expect("secret file")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "secret file is private");
    }
    assert_eq!(
        server.request("GET", "/health/ready", &[], None).status,
        200
    );
    let registered = server.request(
        "POST",
        "/api/auth/register",
        &[],
        Some(&json!({"username": "smoke", "email": "smoke@example.com", "password": super::TEST_PASSWORD})),
    );
    assert_eq!(registered.status, 201, "{}", registered.body);
    assert!(registered.header("x-request-id").is_some());
    let access = registered.json()["access"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let bearer = format!("Bearer {access}");
    let me = server.request("GET", "/api/auth/me", &[("authorization", &bearer)], None);
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.json()["username"], "smoke");
    let docs = server.request("GET", "/api/docs", &[], None);
    assert_eq!(docs.status, 200);
    assert!(docs.body.to_lowercase().contains("swagger"));
    // The default per-IP auth limit (10/min) sees the real peer address: register above was 1.
    let mut throttled = None;
    for i in 0..12 {
        let resp = server.request(
            "POST",
            "/api/auth/token",
            &[],
            Some(&json!({"username": format!("nobody{i}"), "password": "wrong-password-0"})),
        );
        if resp.status == 429 {
            throttled = Some(resp);
            break;
        }
        assert_eq!(resp.status, 401, "{}", resp.body);
    }
    let throttled = throttled.expect("the 11th auth request from one IP is throttled");
    assert!(throttled.header("retry-after").is_some());
    assert_eq!(
        throttled.header("content-type"),
        Some("application/problem+json")
    );
    let status = server.terminate();
    assert!(status.success(), "graceful exit on SIGTERM: {status:?}");

    // create-admin, with the password from the environment, then piped on stdin (not a
    // terminal: one line is read). Weak passwords are refused either way.
    let created = run_once(
        binary,
        dir.path(),
        &["create-admin", "root", "root@example.com"],
        &[("VAULT_ADMIN_PASSWORD", "admin-passphrase-for-smoke")],
        "",
    );
    assert!(created.status.success(), "create-admin: {created:?}");
    let piped = run_once(
        binary,
        dir.path(),
        &["create-admin", "piped", "piped@example.com"],
        &[],
        "piped-admin-passphrase-7\n",
    );
    assert!(piped.status.success(), "create-admin, piped: {piped:?}");
    assert!(
        String::from_utf8_lossy(&piped.stdout).contains("created admin piped"),
        "{piped:?}"
    );
    for (env, stdin) in [
        (&[("VAULT_ADMIN_PASSWORD", "password")][..], ""),
        (&[], "password\n"),
    ] {
        let weak = run_once(
            binary,
            dir.path(),
            &["create-admin", "root2", "root2@example.com"],
            env,
            stdin,
        );
        assert_eq!(
            weak.status.code(),
            Some(1),
            "a weak admin password is refused"
        );
        assert!(
            String::from_utf8_lossy(&weak.stderr).contains("password"),
            "the refusal names the password: {weak:?}"
        );
    }

    // Restart: same database, same secret, so the old token still works; the admin can log in.
    let server = Server::start(binary, dir.path(), &[("VAULT_THROTTLE_AUTH_IP", "off")]);
    let me = server.request("GET", "/api/auth/me", &[("authorization", &bearer)], None);
    assert_eq!(me.status, 200, "tokens survive a restart: {}", me.body);
    let login = server.request(
        "POST",
        "/api/auth/token",
        &[],
        Some(&json!({"username": "root", "password": "admin-passphrase-for-smoke"})),
    );
    assert_eq!(login.status, 200, "{}", login.body);
    let admin_bearer = format!(
        "Bearer {}",
        login.json()["access"].as_str().unwrap_or_default()
    );
    let me = server.request(
        "GET",
        "/api/auth/me",
        &[("authorization", &admin_bearer)],
        None,
    );
    assert_eq!(me.json()["role"], "admin");
    let login = server.request(
        "POST",
        "/api/auth/token",
        &[],
        Some(&json!({"username": "piped", "password": "piped-admin-passphrase-7"})),
    );
    assert_eq!(
        login.status, 200,
        "the piped password is the one stored: {}",
        login.body
    );
    assert!(server.terminate().success());
}

/// Runs `binary` once in `dir` with `args`, `stdin` piped in, and of the `VAULT_*` settings
/// only `env` (not the caller's).
fn run_once(binary: &str, dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let mut command = Command::new(binary);
    command
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("VAULT_JWT_SECRET")
        .env_remove("VAULT_DATABASE_URL")
        .env_remove("VAULT_ADMIN_PASSWORD")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("binary starts");
    if let Some(mut input) = child.stdin.take() {
        // A binary that does not read stdin may have exited already: a broken pipe is fine.
        let _ = input.write_all(stdin.as_bytes());
    }
    child.wait_with_output().expect("binary runs")
}

/// The command line of an example server binary: `--help` (alone, or with `create-admin`)
/// prints the usage on stdout and exits 0 without creating anything; a wrong command line
/// prints what is wrong and the usage on stderr and exits 2.
///
/// # Panics
/// When any of that does not hold.
pub fn check_command_line(binary: &str) {
    let dir = tempfile::tempdir().expect("temporary directory");
    for args in [&["--help"][..], &["-h"], &["create-admin", "--help"]] {
        let help = run_once(binary, dir.path(), args, &[], "");
        assert_eq!(help.status.code(), Some(0), "{args:?}: {help:?}");
        let stdout = String::from_utf8_lossy(&help.stdout);
        for expected in [
            "create-admin <username> <email>",
            "--help",
            "VAULT_DATABASE_URL",
        ] {
            assert!(
                stdout.contains(expected),
                "{args:?}: {expected} not in {stdout}"
            );
        }
    }
    let created: Vec<_> = std::fs::read_dir(dir.path())
        .expect("temporary directory")
        .filter_map(Result::ok)
        .map(|entry| entry.file_name())
        .collect();
    assert!(created.is_empty(), "--help created {created:?}");
    for (args, says) in [
        (&["serve"][..], "unknown command"),
        (&["--port", "80"], "unknown option"),
        (&["create-admin", "root"], "<username> <email>"),
    ] {
        let wrong = run_once(binary, dir.path(), args, &[], "");
        assert_eq!(wrong.status.code(), Some(2), "{args:?}: {wrong:?}");
        let stderr = String::from_utf8_lossy(&wrong.stderr);
        assert!(stderr.contains(says), "{args:?}: {says} not in {stderr}");
        assert!(stderr.contains("usage:"), "{args:?}: no usage in {stderr}");
        assert!(wrong.stdout.is_empty(), "{args:?}: {wrong:?}");
    }
}
