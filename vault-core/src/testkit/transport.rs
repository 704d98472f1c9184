//! The transport budgets of [`HttpConfig`](crate::HttpConfig) over a real socket, for an
//! adapter's `run` ([`crate::server::Server`]): what a client that sends half a request head,
//! trickles one, idles on a kept-alive connection or stalls in the middle of a body gets.
//! Each check starts the app on a loopback port with short timeouts, talks raw HTTP/1.1 to it
//! as an attacker would, and stops it.
//!
//! An adapter's `tests/transport.rs` runs them all with [`transport_tests!`](crate::transport_tests):
//!
//! ```ignore
//! fn run(server: Server, vault: Vault) -> BoxFuture<'static, std::io::Result<()>> {
//!     Box::pin(vault_axum::run(server, vault_axum::app(vault)))
//! }
//! vault_core::transport_tests!(run);
//! ```

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{test_config, Backend, BoxFuture, TestDatabase, TEST_PASSWORD};
use crate::server::Server;
use crate::Vault;

/// Serves an app over `vault` on `server` until its shutdown signal: an adapter's `run`.
pub type Run = fn(Server, Vault) -> BoxFuture<'static, io::Result<()>>;

/// The header-read timeout of the servers these checks start.
pub const HEADER_TIMEOUT: Duration = Duration::from_millis(300);
/// The body-idle timeout of the servers these checks start.
pub const BODY_IDLE: Duration = Duration::from_millis(300);
/// How late a timeout may be acted on, on a busy machine, before a check fails.
const SLACK: Duration = Duration::from_secs(3);

/// A server on a loopback port over a fresh SQLite database.
struct Running {
    addr: SocketAddr,
    database: TestDatabase,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: tokio::task::JoinHandle<io::Result<()>>,
}

impl Running {
    async fn start(run: Run) -> Self {
        let database = TestDatabase::create(Backend::Sqlite).await;
        let mut config = test_config(&database.url);
        config.resources.blob_dir = Some(database.files_dir());
        config.http.header_read_timeout = HEADER_TIMEOUT;
        config.http.body_idle_timeout = BODY_IDLE;
        let vault = Vault::open(config).await.expect("vault opens");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let addr = listener.local_addr().expect("bound address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = Server::new(listener, &vault.config().http)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .with_grace_period(Duration::from_secs(2));
        let served = tokio::spawn(run(server, vault));
        Self {
            addr,
            database,
            stop: Some(stop),
            served,
        }
    }

    async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.addr).await.expect("connects")
    }

    /// Sends `request` whole on a new connection and reads the answer to the end.
    async fn exchange(&self, request: &str) -> Answer {
        let mut stream = self.connect().await;
        stream.write_all(request.as_bytes()).await.expect("sent");
        let (answer, _) = read_to_close(&mut stream).await;
        Answer::parse(&answer)
    }

    /// A JSON request on its own connection (closed after the answer).
    async fn json(&self, method: &str, path: &str, token: Option<&str>, body: &Value) -> Answer {
        let body = body.to_string();
        let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
        self.exchange(&format!(
            "{method} {path} HTTP/1.1\r\nHost: vault\r\nConnection: close\r\n{auth}\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ))
        .await
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let served = tokio::time::timeout(Duration::from_secs(10), &mut self.served)
            .await
            .expect("the server stops after its signal");
        served
            .expect("the server task did not panic")
            .expect("the server ended cleanly");
    }
}

/// Reads until the peer closes (or resets) the connection; what was read and when it closed.
async fn read_to_close(stream: &mut TcpStream) -> (Vec<u8>, Instant) {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let deadline = Duration::from_secs(30);
    loop {
        match tokio::time::timeout(deadline, stream.read(&mut buffer)).await {
            Ok(Ok(0) | Err(_)) => return (received, Instant::now()),
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
            Err(_) => panic!("the server kept the connection open for {deadline:?}"),
        }
    }
}

/// Reads one response with a `Content-Length` off a connection that stays open.
async fn read_one(stream: &mut TcpStream) -> Answer {
    let mut received = Vec::new();
    let mut buffer = [0u8; 1024];
    loop {
        if let Some(end) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&received[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|value| value.trim().parse().ok())
                .unwrap_or_else(|| panic!("no Content-Length in {head:?}"));
            if received.len() >= end + 4 + length {
                return Answer::parse(&received[..end + 4 + length]);
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buffer))
            .await
            .expect("an answer in time")
            .expect("readable");
        assert!(n > 0, "closed before answering: {received:?}");
        received.extend_from_slice(&buffer[..n]);
    }
}

/// A response as read off the wire.
#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Answer {
    fn parse(bytes: &[u8]) -> Self {
        let text = String::from_utf8_lossy(bytes);
        let (head, _) = text
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("no complete response head in {text:?}"));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status in {head:?}"));
        let body = bytes[head.len() + 4..].to_vec();
        Self {
            status,
            head: head.to_ascii_lowercase(),
            body,
        }
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {:?}", String::from_utf8_lossy(&self.body)))
    }

    fn has_header(&self, line: &str) -> bool {
        self.head.lines().any(|l| l.trim() == line)
    }
}

/// Asserts that `elapsed` is the timeout `budget`, acted on in time.
#[track_caller]
fn within(elapsed: Duration, budget: Duration, what: &str) {
    assert!(
        elapsed >= budget.mul_f64(0.8),
        "{what}: closed after {elapsed:?}, before its {budget:?} budget"
    );
    assert!(
        elapsed < budget + SLACK,
        "{what}: still open after {elapsed:?} ({budget:?} budget)"
    );
}

/// A client that sends part of a request head (or nothing) and waits is disconnected once the
/// header-read timeout has passed, without an answer.
pub async fn half_sent_headers_are_cut_off(run: Run) {
    let server = Running::start(run).await;
    for sent in [
        "",
        "GET /health/live HTTP/1.1\r\nHost: vault\r\n",
        "POST /api/auth/token HTTP/1.1\r\nContent-Le",
    ] {
        let mut stream = server.connect().await;
        let started = Instant::now();
        stream.write_all(sent.as_bytes()).await.expect("sent");
        let (answer, closed) = read_to_close(&mut stream).await;
        assert!(answer.is_empty(), "{sent:?} was answered: {answer:?}");
        within(closed - started, HEADER_TIMEOUT, &format!("head {sent:?}"));
    }
    server.stop().await;
}

/// The header budget is a deadline, not an idle time: a head trickled a byte at a time, each
/// well inside the timeout, is cut off when the deadline passes.
pub async fn a_trickled_head_is_cut_off_at_the_deadline(run: Run) {
    let server = Running::start(run).await;
    let stream = server.connect().await;
    let started = Instant::now();
    let (mut reader, mut writer) = stream.into_split();
    let trickle = tokio::spawn(async move {
        let head = b"GET /health/live HTTP/1.1\r\nHost: vault\r\nX-Padding: ";
        for byte in head.iter().chain(std::iter::repeat(&b'a')).take(200) {
            if writer.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(HEADER_TIMEOUT / 6).await;
        }
    });
    let mut buffer = [0u8; 256];
    let read = tokio::time::timeout(Duration::from_secs(30), reader.read(&mut buffer))
        .await
        .expect("the server closed the connection");
    assert!(matches!(read, Ok(0) | Err(_)), "answered: {read:?}");
    within(started.elapsed(), HEADER_TIMEOUT, "trickled head");
    trickle.abort();
    server.stop().await;
}

/// A kept-alive connection is served, then closed once it has been idle for the header-read
/// timeout: an idle connection is a head not sent.
pub async fn idle_kept_alive_connections_are_closed(run: Run) {
    let server = Running::start(run).await;
    let mut stream = server.connect().await;
    for _ in 0..2 {
        stream
            .write_all(b"GET /health/live HTTP/1.1\r\nHost: vault\r\n\r\n")
            .await
            .expect("sent");
        let answer = read_one(&mut stream).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        assert!(!answer.has_header("connection: close"), "{answer:?}");
    }
    let idle_since = Instant::now();
    let (rest, closed) = read_to_close(&mut stream).await;
    assert!(rest.is_empty(), "{rest:?}");
    within(
        closed - idle_since,
        HEADER_TIMEOUT,
        "idle kept-alive connection",
    );
    server.stop().await;
}

/// Sends `head` and the first `sent` bytes of a body it declares longer, then nothing: the
/// answer must be the 408 problem, within the body-idle timeout, and the connection closed.
async fn expect_stalled_body_408(server: &Running, head: &str, sent: &[u8], what: &str) {
    let mut stream = server.connect().await;
    stream.write_all(head.as_bytes()).await.expect("head sent");
    stream.write_all(sent).await.expect("first bytes sent");
    let stalled_at = Instant::now();
    let (answer, closed) = read_to_close(&mut stream).await;
    let answer = Answer::parse(&answer);
    assert_eq!(answer.status, 408, "{what}: {answer:?}");
    assert!(answer.has_header("connection: close"), "{what}: {answer:?}");
    assert!(
        answer.has_header("content-type: application/problem+json"),
        "{what}: {answer:?}"
    );
    assert!(answer.head.contains("x-request-id: "), "{what}: {answer:?}");
    let problem = answer.json();
    assert_eq!(problem["status"], 408, "{what}");
    assert_eq!(problem["code"], "parse_error", "{what}");
    assert_eq!(problem["title"], "Request Timeout", "{what}");
    within(closed - stalled_at, BODY_IDLE, what);
}

/// A JSON body that stops after 5 of its declared bytes is answered 408 `parse_error` and its
/// connection closed, within the body-idle timeout.
pub async fn a_stalled_json_body_is_answered_408(run: Run) {
    let server = Running::start(run).await;
    for path in ["/api/auth/token", "/api/auth/register"] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: vault\r\nContent-Type: application/json\r\n\
             Content-Length: 100\r\n\r\n"
        );
        expect_stalled_body_408(&server, &head, b"{\"use", path).await;
    }
    // A chunked body that stops between chunks, likewise.
    let head = "POST /api/auth/token HTTP/1.1\r\nHost: vault\r\nContent-Type: application/json\r\n\
                Transfer-Encoding: chunked\r\n\r\n";
    expect_stalled_body_408(&server, head, b"5\r\n{\"use\r\n", "chunked").await;
    server.stop().await;
}

/// A file upload that stalls after 5 bytes is answered 408 within the body-idle timeout, and
/// nothing of it is kept: no blob, no file on the resource.
pub async fn a_stalled_upload_is_answered_408_and_leaves_nothing(run: Run) {
    let server = Running::start(run).await;
    let registered = server
        .json(
            "POST",
            "/api/auth/register",
            None,
            &serde_json::json!({"username": "uploader", "email": "uploader@example.com",
                                "password": TEST_PASSWORD}),
        )
        .await;
    assert_eq!(registered.status, 201, "{registered:?}");
    let access = registered.json()["access"]
        .as_str()
        .expect("an access token")
        .to_string();
    let created = server
        .json(
            "POST",
            "/api/resources",
            Some(&access),
            &serde_json::json!({"kind": "file", "title": "stalled"}),
        )
        .await;
    assert_eq!(created.status, 201, "{created:?}");
    let id = created.json()["id"].as_str().expect("an id").to_string();
    let head = format!(
        "PUT /api/resources/{id}/file HTTP/1.1\r\nHost: vault\r\nAuthorization: Bearer {access}\r\n\
         Content-Type: multipart/form-data; boundary=xyz\r\nContent-Length: 100000\r\n\r\n"
    );
    expect_stalled_body_408(&server, &head, b"--xyz", "upload").await;
    // The same after the part's head and some of its bytes.
    let sent = b"--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\
                 Content-Type: text/plain\r\n\r\nhello";
    expect_stalled_body_408(&server, &head, sent, "upload after some file bytes").await;
    let resource = server
        .exchange(&format!(
            "GET /api/resources/{id} HTTP/1.1\r\nHost: vault\r\nConnection: close\r\n\
             Authorization: Bearer {access}\r\n\r\n"
        ))
        .await;
    assert_eq!(resource.status, 200, "{resource:?}");
    assert_eq!(resource.json()["file"], Value::Null);
    assert_eq!(
        server.database.blob_count(),
        0,
        "a stalled upload left a blob"
    );
    server.stop().await;
}

/// A body sent slowly but steadily, a chunk well inside the idle time each, over several times
/// the idle time in all, is read whole and answered as usual.
pub async fn a_slow_steady_body_is_served(run: Run) {
    let server = Running::start(run).await;
    let body =
        serde_json::json!({"username": "nobody", "password": "not-the-password"}).to_string();
    let mut stream = server.connect().await;
    let head = format!(
        "POST /api/auth/token HTTP/1.1\r\nHost: vault\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("head sent");
    let started = Instant::now();
    for chunk in body.as_bytes().chunks(body.len().div_ceil(8)) {
        tokio::time::sleep(BODY_IDLE / 3).await;
        stream.write_all(chunk).await.expect("chunk sent");
    }
    assert!(
        started.elapsed() > BODY_IDLE * 2,
        "the upload took longer than the idle time"
    );
    let (answer, _) = read_to_close(&mut stream).await;
    let answer = Answer::parse(&answer);
    assert_eq!(answer.status, 401, "{answer:?}");
    assert_eq!(answer.json()["code"], "authentication_failed");
    server.stop().await;
}

/// Expands to one `#[tokio::test]` per transport check, for the adapter's [`Run`] `$run`.
#[macro_export]
macro_rules! transport_tests {
    ($run:expr) => {
        $crate::transport_tests!(@checks $run;
            half_sent_headers_are_cut_off,
            a_trickled_head_is_cut_off_at_the_deadline,
            idle_kept_alive_connections_are_closed,
            a_stalled_json_body_is_answered_408,
            a_stalled_upload_is_answered_408_and_leaves_nothing,
            a_slow_steady_body_is_served,
        );
    };
    (@checks $run:expr; $($check:ident),* $(,)?) => {
        $(
            #[::tokio::test]
            async fn $check() {
                $crate::testkit::transport::$check($run).await;
            }
        )*
    };
}
