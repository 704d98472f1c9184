//! The HTTP/1.1 server loop both adapters serve with (`vault_axum::run`, `vault_poem::run`):
//! hyper's connection handling with the transport budgets of [`HttpConfig`], which neither
//! `axum::serve` nor `poem::Server` lets a host set.
//!
//! - **Request heads** must arrive within [`HttpConfig::header_read_timeout`], counted from
//!   the moment the server waits for one (a new connection, or the end of the previous
//!   response on a kept-alive one); a client that sends half a head, or nothing, is
//!   disconnected then. This is hyper's own HTTP/1 `header_read_timeout`, which only works
//!   with a timer, and `axum::serve` gives hyper none.
//! - **Request bodies** may go at most [`HttpConfig::body_idle_timeout`] without bytes while
//!   the application reads them ([`IdleBody`]). The read then fails, and whatever the
//!   application answered is replaced by a 408 problem (`parse_error`), sent with
//!   `Connection: close`, so a stalled upload holds neither a handler nor a connection.
//! - **Shutdown** ([`Server::with_graceful_shutdown`]): the listener closes (new connections
//!   are refused), every connection finishes the request it is serving and closes, and the
//!   loop returns when all are gone, or when the grace period ([`HttpConfig::shutdown_grace`],
//!   or [`Server::with_grace_period`]) has passed.
//!
//! Only HTTP/1.1 (and 1.0) is spoken: hyper's header timeout is HTTP/1's, and the automatic
//! HTTP/2 detection of `axum::serve` and `poem::Server` waits for a connection's first bytes
//! without any limit. A proxy in front terminates TLS and HTTP/2 and speaks HTTP/1.1 here.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{header, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Either, Full};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};

use crate::config::HttpConfig;
use crate::error::{ErrorCode, Problem};

/// The header carrying a request's id, kept on a response the loop replaces.
const REQUEST_ID: &str = "x-request-id";

/// A boxed shutdown signal.
type Signal = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The error type a response body may have.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// An HTTP/1.1 server on a bound listener, with the budgets of an [`HttpConfig`]. Build it,
/// then hand it to an adapter's `run` with the application, or call [`Server::run`] with a
/// handler of your own.
pub struct Server {
    listener: TcpListener,
    header_read_timeout: Duration,
    body_idle_timeout: Duration,
    shutdown: Option<Signal>,
    grace: Option<Duration>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.listener.local_addr().ok())
            .field("header_read_timeout", &self.header_read_timeout)
            .field("body_idle_timeout", &self.body_idle_timeout)
            .field("grace", &self.grace)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// A server accepting on `listener` with the timeouts and the shutdown grace period of
    /// `http`; it runs until its listener fails, unless given a shutdown signal.
    pub fn new(listener: TcpListener, http: &HttpConfig) -> Self {
        Self {
            listener,
            header_read_timeout: http.header_read_timeout,
            body_idle_timeout: http.body_idle_timeout,
            shutdown: None,
            grace: Some(http.shutdown_grace),
        }
    }

    /// Shuts down gracefully when `signal` resolves: no new connections, the requests in
    /// flight finish, then [`Server::run`] returns.
    #[must_use]
    pub fn with_graceful_shutdown(
        mut self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        self.shutdown = Some(Box::pin(signal));
        self
    }

    /// After the shutdown signal, waits at most `grace` for the requests in flight (default:
    /// [`HttpConfig::shutdown_grace`]; `None`: as long as they take). Connections still open
    /// then are dropped with the runtime.
    #[must_use]
    pub fn with_grace_period(mut self, grace: impl Into<Option<Duration>>) -> Self {
        self.grace = grace.into();
        self
    }

    /// The address the listener is bound to.
    ///
    /// # Errors
    /// When the socket cannot tell (see [`TcpListener::local_addr`]).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves every connection with `handler`, which gets each request, the client's socket
    /// address and a [`BodyTimer`] to wrap the request body with ([`BodyTimer::wrap`]; a body
    /// not wrapped has no idle timeout). Returns after a graceful shutdown.
    ///
    /// # Errors
    /// Never today: a failed `accept` (a reset connection, too many open files) is logged and
    /// retried rather than ending the server. The `Result` leaves room for errors to come.
    pub async fn run<H, Fut, B>(self, handler: H) -> io::Result<()>
    where
        H: Fn(Request<Incoming>, SocketAddr, BodyTimer) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Response<B>> + Send + 'static,
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let Self {
            listener,
            header_read_timeout,
            body_idle_timeout,
            shutdown,
            grace,
        } = self;
        let mut shutdown = shutdown.unwrap_or_else(|| Box::pin(std::future::pending()));
        // Each connection holds a receiver of both: the first tells it to finish up, the
        // second's sender sees when the last connection is gone.
        let (stop_tx, stop_rx) = watch::channel(());
        let (gone_tx, gone_rx) = watch::channel(());
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        pause_after_accept_error(&error).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            // Responses are small and written whole: no reason to wait for Nagle's algorithm.
            let _ = stream.set_nodelay(true);
            let handler = handler.clone();
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let timer = BodyTimer::new(body_idle_timeout);
                let answer = handler(request, peer, timer.clone());
                async move {
                    let response = answer.await;
                    Ok::<_, Infallible>(match timer.timeout_response() {
                        Some(mut timeout) => {
                            // The request id the application gave the request stays its own.
                            if let Some(id) = response.headers().get(REQUEST_ID) {
                                timeout.headers_mut().insert(REQUEST_ID, id.clone());
                            }
                            timeout.map(|body| Either::Right(Full::new(body)))
                        }
                        None => response.map(|body| Either::Left(body.map_err(box_error))),
                    })
                }
            });
            let mut stop = stop_rx.clone();
            let gone = gone_rx.clone();
            tokio::spawn(async move {
                let mut builder = hyper::server::conn::http1::Builder::new();
                builder
                    .timer(TokioTimer::new())
                    .header_read_timeout(header_read_timeout);
                let connection = builder
                    .serve_connection(TokioIo::new(stream), service)
                    .with_upgrades();
                tokio::pin!(connection);
                tokio::select! {
                    served = connection.as_mut() => log_connection_end(served, peer),
                    _ = stop.changed() => {
                        // Finish the request in flight (an idle connection closes at once);
                        // one still sending its head is bounded by the header timeout.
                        connection.as_mut().graceful_shutdown();
                        log_connection_end(connection.await, peer);
                    }
                }
                drop(gone);
            });
        }
        drop(listener);
        let _ = stop_tx.send(());
        drop(stop_rx);
        drop(gone_rx);
        match grace {
            Some(grace) => {
                if tokio::time::timeout(grace, gone_tx.closed()).await.is_err() {
                    tracing::warn!(
                        ?grace,
                        "shutdown grace period over; dropping the connections still open"
                    );
                }
            }
            None => gone_tx.closed().await,
        }
        Ok(())
    }
}

/// A body error as hyper takes it.
fn box_error<E: Into<BoxError>>(error: E) -> BoxError {
    error.into()
}

/// What a failed `accept` costs: nothing for an error of that one connection (it was reset
/// or aborted before it was accepted); a second's pause for anything else (out of file
/// descriptors, most often), so the loop does not spin while the condition lasts.
async fn pause_after_accept_error(error: &io::Error) {
    use io::ErrorKind as K;
    if matches!(
        error.kind(),
        K::ConnectionRefused | K::ConnectionAborted | K::ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "accepting a connection failed; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// Connections end by the client's doing all the time (closed, reset, timed out): worth a
/// debug line, not more.
fn log_connection_end(served: hyper::Result<()>, peer: SocketAddr) {
    if let Err(error) = served {
        tracing::debug!(%peer, %error, "connection ended with an error");
    }
}

/// One request's body idle timer: [`BodyTimer::wrap`] puts it around the body, and the
/// server loop asks it afterwards whether it fired.
#[derive(Debug, Clone)]
pub struct BodyTimer {
    idle: Duration,
    fired: Arc<AtomicBool>,
}

impl BodyTimer {
    /// A timer allowing `idle` between a body's bytes.
    pub fn new(idle: Duration) -> Self {
        Self {
            idle,
            fired: Arc::new(AtomicBool::new(false)),
        }
    }

    /// `body`, failing with [`io::ErrorKind::TimedOut`] after waiting `idle` for its next
    /// bytes.
    pub fn wrap<B>(&self, body: B) -> IdleBody<B> {
        IdleBody {
            inner: body,
            idle: self.idle,
            sleep: None,
            waiting: false,
            fired: Arc::clone(&self.fired),
        }
    }

    /// Whether a body wrapped by this timer timed out.
    pub fn fired(&self) -> bool {
        self.fired.load(Ordering::Acquire)
    }

    /// The answer for a request whose body timed out (see [`body_timeout_response`]), or
    /// `None` when it did not.
    pub fn timeout_response(&self) -> Option<Response<Bytes>> {
        self.fired().then(|| body_timeout_response(self.idle))
    }
}

/// The answer to a request whose body stalled for `idle`: 408 `parse_error` (the contract has
/// no code of its own for it: like a broken multipart body, the body could not be read whole),
/// with `Connection: close`, since the rest of the body may still come and the connection
/// cannot be reused.
pub fn body_timeout_response(idle: Duration) -> Response<Bytes> {
    let problem = Problem {
        status: StatusCode::REQUEST_TIMEOUT,
        title: StatusCode::REQUEST_TIMEOUT
            .canonical_reason()
            .unwrap_or("Request Timeout")
            .into(),
        detail: format!(
            "Request body timed out: no bytes received for {} seconds.",
            idle.as_secs_f64()
        ),
        code: ErrorCode::ParseError,
        errors: None,
        www_authenticate: None,
        retry_after: None,
        allow: None,
    };
    let mut response = problem.to_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A request body that fails when its next bytes take longer than the idle time to come.
///
/// The clock runs only while the reader waits: from the poll that found no data to the data's
/// arrival, and starts afresh for the next wait, so a reader that is slow itself (writing each
/// chunk to disk) is never timed out, and neither is a slow but steady sender. After it fires,
/// every further poll fails the same way: a reader that retries never mistakes the cut for the
/// body's end.
#[derive(Debug)]
pub struct IdleBody<B> {
    inner: B,
    idle: Duration,
    sleep: Option<Pin<Box<Sleep>>>,
    waiting: bool,
    fired: Arc<AtomicBool>,
}

impl<B> IdleBody<B> {
    fn timed_out(&self) -> io::Error {
        io::Error::new(
            io::ErrorKind::TimedOut,
            format!("request body idle for {} seconds", self.idle.as_secs_f64()),
        )
    }
}

impl<B> Body for IdleBody<B>
where
    B: Body + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = B::Data;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        if this.fired.load(Ordering::Acquire) {
            return Poll::Ready(Some(Err(this.timed_out())));
        }
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            this.waiting = false;
            return Poll::Ready(frame.map(|frame| frame.map_err(|e| io::Error::other(e.into()))));
        }
        let deadline = Instant::now() + this.idle;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if !this.waiting {
            sleep.as_mut().reset(deadline);
            this.waiting = true;
        }
        if sleep.as_mut().poll(cx).is_ready() {
            this.fired.store(true, Ordering::Release);
            tracing::debug!(idle = ?this.idle, "request body timed out");
            return Poll::Ready(Some(Err(this.timed_out())));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        !self.fired.load(Ordering::Acquire) && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt as _;
    use http_body_util::StreamBody;

    use super::*;

    type Chunks = StreamBody<futures::stream::BoxStream<'static, Result<Frame<Bytes>, io::Error>>>;

    /// A body yielding `chunks`, each after its delay, then (if `stall`) nothing ever again.
    fn body(chunks: &[(u64, &'static [u8])], stall: bool) -> Chunks {
        let chunks: Vec<_> = chunks.to_vec();
        let stream = futures::stream::iter(chunks)
            .then(|(delay, bytes)| async move {
                tokio::time::sleep(Duration::from_millis(delay)).await;
                Ok(Frame::data(Bytes::from_static(bytes)))
            })
            .chain(futures::stream::pending().take(usize::from(stall)))
            .boxed();
        StreamBody::new(stream)
    }

    /// A server whose handler answers after `delay`, with `grace` as its configured shutdown
    /// grace period (`HttpConfig::shutdown_grace`), shut down by the returned sender.
    async fn slow_server(
        delay: Duration,
        grace: Duration,
    ) -> (
        SocketAddr,
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<io::Result<()>>,
    ) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let http = HttpConfig::default().with_shutdown_grace(grace);
        let server = Server::new(listener, &http).with_graceful_shutdown(async {
            let _ = stopped.await;
        });
        let served = tokio::spawn(server.run(move |_request, _peer, _timer| async move {
            tokio::time::sleep(delay).await;
            Response::new(Full::new(Bytes::from_static(b"done")))
        }));
        (addr, stop, served)
    }

    async fn send_request(addr: SocketAddr) -> tokio::net::TcpStream {
        use tokio::io::AsyncWriteExt as _;
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
            .await
            .unwrap();
        stream
    }

    /// On the signal the listener closes at once, the request in flight is answered whole, and
    /// `run` returns once its connection is done.
    #[tokio::test]
    async fn graceful_shutdown_finishes_what_is_in_flight_and_refuses_the_rest() {
        use tokio::io::AsyncReadExt as _;
        let (addr, stop, served) = slow_server(
            Duration::from_millis(300),
            HttpConfig::DEFAULT_SHUTDOWN_GRACE,
        )
        .await;
        let mut in_flight = send_request(addr).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        stop.send(()).unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            tokio::net::TcpStream::connect(addr).await.is_err(),
            "a new connection was accepted after the signal"
        );
        let mut answer = String::new();
        in_flight.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("done"), "{answer}");
        tokio::time::timeout(Duration::from_secs(5), served)
            .await
            .expect("run returns once the connection is done")
            .unwrap()
            .unwrap();
    }

    /// A request that outlasts the configured grace period does not hold the shutdown up:
    /// `run` returns when the grace is over, not when the request is done (a minute later).
    #[tokio::test]
    async fn the_configured_grace_period_bounds_the_shutdown() {
        let grace = Duration::from_millis(300);
        let (addr, stop, served) = slow_server(Duration::from_secs(60), grace).await;
        let _in_flight = send_request(addr).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = std::time::Instant::now();
        stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(10), served)
            .await
            .expect("run returns after the grace period")
            .unwrap()
            .unwrap();
        let took = started.elapsed();
        assert!(
            took >= grace,
            "returned before the grace was over: {took:?}"
        );
        assert!(took < grace * 10, "the grace was not applied: {took:?}");
    }

    /// `with_grace_period` overrides the configured grace: `None` waits for the requests in
    /// flight however long they take.
    #[tokio::test]
    async fn an_explicit_grace_period_overrides_the_configured_one() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let http = HttpConfig::default().with_shutdown_grace(Duration::from_millis(50));
        let server = Server::new(listener, &http).with_grace_period(Duration::from_secs(7));
        assert_eq!(server.grace, Some(Duration::from_secs(7)));
        assert_eq!(server.with_grace_period(None).grace, None);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        assert_eq!(
            Server::new(listener, &HttpConfig::default()).grace,
            Some(HttpConfig::DEFAULT_SHUTDOWN_GRACE)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_steady_body_is_never_cut_however_long_it_takes() {
        let timer = BodyTimer::new(Duration::from_millis(100));
        // Ten chunks, 90 ms apart: 900 ms in all, never 100 ms without bytes.
        let chunks = [(90, &b"0123456789"[..]); 10];
        let collected = timer
            .wrap(body(&chunks, false))
            .collect()
            .await
            .expect("the body completes");
        assert_eq!(collected.to_bytes().len(), 100);
        assert!(!timer.fired());
        assert!(timer.timeout_response().is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_stalled_body_fails_after_the_idle_time_and_stays_failed() {
        let timer = BodyTimer::new(Duration::from_millis(100));
        let mut body = timer.wrap(body(&[(10, b"hello")], true));
        let first = body.frame().await.expect("a frame").expect("data");
        assert_eq!(first.into_data().ok(), Some(Bytes::from_static(b"hello")));
        let started = Instant::now();
        let error = body
            .frame()
            .await
            .expect("an error, not the end")
            .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_millis(100));
        assert!(timer.fired());
        assert!(!body.is_end_stream());
        // A reader that tries again is told again, never handed an end of body.
        let again = body.frame().await.expect("still an error").unwrap_err();
        assert_eq!(again.kind(), io::ErrorKind::TimedOut);

        let answer = timer.timeout_response().expect("a 408");
        assert_eq!(answer.status(), StatusCode::REQUEST_TIMEOUT);
        assert_eq!(answer.headers()[header::CONNECTION], "close");
        assert_eq!(
            answer.headers()[header::CONTENT_TYPE],
            crate::error::PROBLEM_JSON
        );
        let problem: serde_json::Value = serde_json::from_slice(answer.body()).unwrap();
        assert_eq!(problem["status"], 408);
        assert_eq!(problem["code"], "parse_error");
        assert_eq!(problem["title"], "Request Timeout");
        assert!(problem["detail"].as_str().unwrap().contains("0.1 seconds"));
    }

    /// The clock runs only while the reader waits for bytes: a reader busy elsewhere between
    /// chunks for longer than the idle time is not cut off.
    #[tokio::test(start_paused = true)]
    async fn a_slow_reader_is_not_timed_out() {
        let timer = BodyTimer::new(Duration::from_millis(100));
        let mut body = timer.wrap(body(&[(0, b"a"), (0, b"b"), (50, b"c")], false));
        let mut seen = Vec::new();
        while let Some(frame) = body.frame().await {
            seen.extend_from_slice(&frame.expect("no timeout").into_data().unwrap_or_default());
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        assert_eq!(seen, b"abc");
        assert!(!timer.fired());
    }
}
