//! The HTTP front door: our own accept loop over hyper instead of `axum::serve`, because
//! `axum::serve` has no header-read or idle timeout, no connection cap and no shutdown
//! deadline, so silent or half-sent connections could exhaust file descriptors and hold
//! SIGTERM hostage (issue 12, finding 3).
//!
//! Per connection: a header-read timeout (which also bounds an idle keep-alive, since hyper
//! starts it as soon as it waits for the next request), an idle timeout on bytes moved in either
//! direction (a stalled body or a client that stops reading), and a permit of a global
//! semaphore held by the socket itself, so an upgraded WebSocket keeps counting until it closes.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tower::ServiceExt;
use tracing::{debug, info, warn};

/// Timeouts and caps of the HTTP server (`HTTP_*` and `SHUTDOWN_GRACE_SECS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpLimits {
    /// A request's headers must arrive within this; also the longest idle keep-alive.
    pub header_read_timeout: Duration,
    /// A connection that moves no byte either way for this long is closed.
    pub idle_timeout: Duration,
    /// Open connections (HTTP and upgraded WebSockets) at most.
    pub max_connections: usize,
    /// On shutdown, in-flight requests get this long before their connections are dropped.
    pub shutdown_grace: Duration,
}

impl HttpLimits {
    pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
    /// File descriptors kept free of connections for the database and Redis pools, the media
    /// sockets, the web app's files and the accept-and-refuse path.
    pub const RESERVED_FDS: usize = 64;
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Sent to a connection over the cap before it is closed, so a health check sees why.
const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\nretry-after: 1\r\n\r\n";

/// At most one log line per this interval about refused connections or accept errors.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// What the connection tasks are told about the server's life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Serving,
    /// Finish the request in flight, then close (idle connections close at once).
    Draining,
    /// The grace is over: close now.
    Closing,
}

/// A bound listener and its limits; serves once [`HttpServer::serve`] runs.
pub struct HttpServer {
    listener: TcpListener,
    limits: HttpLimits,
}

impl HttpServer {
    /// Lowers the connection cap to what the process's open-file limit can hold, so the cap
    /// (and not `EMFILE`) is what a flood of connections meets.
    pub fn new(listener: TcpListener, mut limits: HttpLimits) -> Self {
        if let Some(budget) = fd_budget()
            && budget < limits.max_connections
        {
            warn!(
                configured = limits.max_connections,
                effective = budget,
                "HTTP_MAX_CONNECTIONS exceeds the open-file limit; lowered (raise `ulimit -n`)"
            );
            limits.max_connections = budget;
        }
        Self { listener, limits }
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn limits(&self) -> HttpLimits {
        self.limits
    }

    /// Accepts until `shutdown` completes, then stops accepting, lets in-flight requests
    /// finish for the shutdown grace, and drops whatever is left.
    pub async fn serve(self, app: Router, shutdown: impl Future<Output = ()>) {
        let limits = self.limits;
        let permits = Arc::new(Semaphore::new(limits.max_connections));
        let (phase_tx, phase_rx) = watch::channel(Phase::Serving);
        let mut refused = RateLimitedLog::default();
        let mut accept_errors = RateLimitedLog::default();
        tokio::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                _ = &mut shutdown => break,
                accepted = self.listener.accept() => accepted,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    if let Some(n) = accept_errors.note() {
                        warn!(error = %e, errors = n, "accepting HTTP connections failed");
                    }
                    // Out of descriptors: let some connections end before trying again.
                    if !is_per_connection_error(&e) {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    continue;
                }
            };
            match permits.clone().try_acquire_owned() {
                Ok(permit) => {
                    tokio::spawn(serve_connection(
                        stream,
                        peer,
                        permit,
                        app.clone(),
                        limits,
                        phase_rx.clone(),
                    ));
                }
                Err(_) => {
                    // Never blocks: a full send buffer just loses the courtesy 503.
                    let _ = stream.try_write(REFUSAL);
                    if let Some(n) = refused.note() {
                        warn!(
                            refused = n,
                            cap = limits.max_connections,
                            "HTTP connection cap reached; refusing connections"
                        );
                    }
                }
            }
        }
        // New clients are refused by the kernel from here on.
        drop(self.listener);
        drop(phase_rx);
        let _ = phase_tx.send(Phase::Draining);
        let in_flight = limits.max_connections - permits.available_permits();
        debug!(in_flight, "draining HTTP connections");
        if tokio::time::timeout(limits.shutdown_grace, phase_tx.closed())
            .await
            .is_err()
        {
            info!(
                grace_secs = limits.shutdown_grace.as_secs(),
                "shutdown grace over; dropping the HTTP connections still open"
            );
            let _ = phase_tx.send(Phase::Closing);
            phase_tx.closed().await;
        }
    }
}

/// Serves one connection until it ends, hands off an upgrade, times out or is told to close.
/// Returning drops the connection, which closes the socket (unless it was upgraded).
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    permit: OwnedSemaphorePermit,
    app: Router,
    limits: HttpLimits,
    mut phase: watch::Receiver<Phase>,
) {
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(TrackedStream {
        inner: stream,
        activity: activity.clone(),
        _permit: permit,
    });
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        app.clone().oneshot(req.map(Body::new))
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let conn = builder.serve_connection(io, service).with_upgrades();
    tokio::pin!(conn);
    if *phase.borrow_and_update() != Phase::Serving {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        let idle_deadline = activity.last() + limits.idle_timeout;
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    debug!(%peer, error = %e, "HTTP connection ended with an error");
                }
                return;
            }
            _ = tokio::time::sleep_until(idle_deadline.into()) => {
                if activity.last() + limits.idle_timeout <= Instant::now() {
                    debug!(%peer, "HTTP connection idle; closing");
                    return;
                }
            }
            changed = phase.changed() => {
                if changed.is_err() {
                    return;
                }
                match *phase.borrow_and_update() {
                    Phase::Serving => {}
                    Phase::Draining => conn.as_mut().graceful_shutdown(),
                    Phase::Closing => return,
                }
            }
        }
    }
}

/// Errors that concern only the connection being accepted (the client gave up already).
fn is_per_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// How many connections the open-file limit leaves room for, if the platform says.
fn fd_budget() -> Option<usize> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit only writes the struct we pass.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0
            || limit.rlim_cur == libc::RLIM_INFINITY
        {
            return None;
        }
        let soft = usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX);
        Some(soft.saturating_sub(HttpLimits::RESERVED_FDS).max(1))
    }
    #[cfg(not(unix))]
    None
}

/// Counts events and says when to log them, at most once per [`LOG_EVERY`].
#[derive(Default)]
struct RateLimitedLog {
    last: Option<Instant>,
    pending: u64,
}

impl RateLimitedLog {
    /// Returns the number of events since the last line when a line is due.
    fn note(&mut self) -> Option<u64> {
        self.pending += 1;
        let now = Instant::now();
        if self.last.is_some_and(|t| now.duration_since(t) < LOG_EVERY) {
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.pending))
    }
}

/// When a connection last moved a byte, as milliseconds since it was accepted.
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
        }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn last(&self) -> Instant {
        self.start + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
}

/// The socket with its activity clock and its connection permit (released when the socket
/// closes, even after an upgrade moved it out of hyper).
struct TrackedStream {
    inner: TcpStream,
    activity: Arc<Activity>,
    _permit: OwnedSemaphorePermit,
}

impl AsyncRead for TrackedStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(poll, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        poll
    }
}

impl AsyncWrite for TrackedStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        poll
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_log_speaks_once_per_interval_with_the_count() {
        let mut log = RateLimitedLog::default();
        assert_eq!(log.note(), Some(1));
        assert_eq!(log.note(), None);
        assert_eq!(log.note(), None);
        log.last = Some(Instant::now() - LOG_EVERY);
        assert_eq!(log.note(), Some(3), "the suppressed events are counted");
    }
}
