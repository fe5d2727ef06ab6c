//! The gRPC front end (package `sqsfast.v1`, `proto/sqsfast/v1/queue.proto`).
//!
//! One [`service::Service`] over the shared engine serves every connection. Handlers are async and
//! hold no thread while a long poll waits. Limits keep a misbehaving client from taking the server
//! down: request size, concurrent streams per connection, number of connections, HTTP/2 and TCP
//! keepalive to drop dead peers, and a connection with no call in flight for
//! `idle_connection_seconds` is closed.

pub mod codec;
pub mod error;
pub mod reply;
pub mod request;
pub mod service;

/// The generated protobuf types, server and client of `sqsfast.v1`.
#[allow(clippy::all, missing_docs)]
pub mod pb {
    tonic::include_proto!("sqsfast.v1");
    // Written by hand (`extern_path` in build.rs), here under their generated names.
    pub use super::request::{
        DeleteMessageBatchEntry, DeleteMessageBatchRequest, SendMessageBatchEntry,
        SendMessageBatchRequest,
    };
}

use crate::{Context, Shutdown};
use hyper::server::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use socket2::{SockRef, TcpKeepalive};
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// The largest HTTP/2 frame a client may send: a batch of 100 messages of a few hundred bytes is one
/// DATA frame, not two of HTTP/2's default 16 KiB.
const FRAME_SIZE: u32 = 64 << 10;
/// How much a client may send before the server acknowledges it (`WINDOW_UPDATE`), on each call and
/// on the connection: HTTP/2's default of 64 KiB is two batches of 100.
const STREAM_WINDOW: u32 = 1 << 20;
const CONNECTION_WINDOW: u32 = 4 << 20;
/// How long an HTTP/2 PING may go unanswered before the connection is dropped.
const PING_TIMEOUT: Duration = Duration::from_secs(20);
/// TCP keepalive: how long a connection is silent before the kernel starts probing it.
const TCP_KEEPALIVE: Duration = Duration::from_secs(60);

/// Serves gRPC on `listener` until shutdown: then stops accepting, lets requests in flight finish
/// (long polls and streams return early) and returns once every connection has closed.
///
/// Each connection is served by hyper's HTTP/2 server straight into the generated
/// `QueueServiceServer`, which routes by path itself: no router or other layer sits between them.
///
/// # Errors
/// An I/O error from the listener.
pub async fn serve(
    ctx: Arc<Context>,
    listener: TcpListener,
    shutdown: Shutdown,
) -> std::io::Result<()> {
    let limits = ctx.config.limits.clone();
    let service = pb::queue_service_server::QueueServiceServer::new(service::Service::new(
        ctx.clone(),
        shutdown.clone(),
    ))
    .max_decoding_message_size(limits.max_request_bytes);

    let seconds = |s: u64| (s > 0).then(|| Duration::from_secs(s));
    let idle = seconds(limits.idle_connection_seconds);
    let max_age = seconds(limits.max_connection_age_seconds);
    let mut builder = http2::Builder::new(TokioExecutor::new());
    builder
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.max_concurrent_streams)
        .keep_alive_interval(seconds(limits.keepalive_seconds))
        .keep_alive_timeout(PING_TIMEOUT)
        .max_frame_size(FRAME_SIZE)
        .initial_stream_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW);

    // At most `max_connections` open at once: past it, new connections wait in the backlog. Each
    // open connection holds a permit, so all of them back means every connection has closed.
    let max_connections = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let permits = Arc::new(Semaphore::new(max_connections as usize));
    let mut stop = pin!(shutdown.clone().wait());
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.map_err(std::io::Error::other)?,
            () = &mut stop => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let _ =
            SockRef::from(&stream).set_tcp_keepalive(&TcpKeepalive::new().with_time(TCP_KEEPALIVE));
        let io = limit::Counted::new(stream, permit, idle);
        let svc = TowerToHyperService::new(limit::CallsService::new(service.clone(), io.calls()));
        let conn = Box::pin(builder.serve_connection(TokioIo::new(io), svc));
        // Past its age, or at shutdown: GOAWAY, then the calls in flight finish. A task of its own
        // waits for either, so that serving the connection does not poll their timers each time.
        let goaway = Arc::new(GoAway::default());
        let watcher = tokio::spawn({
            let (goaway, shutdown) = (goaway.clone(), shutdown.clone());
            async move {
                let aged = async {
                    match max_age {
                        Some(age) => tokio::time::sleep(age).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    () = aged => {}
                    () = shutdown.wait() => {}
                }
                goaway.fire();
            }
        });
        tokio::spawn(async move {
            let served = Serving {
                conn,
                goaway,
                watching: false,
                sent: false,
            }
            .await;
            watcher.abort();
            if let Err(e) = served {
                tracing::debug!("gRPC connection: {e}");
            }
        });
    }
    drop(listener);
    // Every connection's permit back: all of them have closed.
    let _ = tokio::time::timeout(crate::DRAIN, permits.acquire_many(max_connections)).await;
    Ok(())
}

/// One connection served by hyper's HTTP/2 server.
type Connection = http2::Connection<
    TokioIo<limit::Counted>,
    TowerToHyperService<
        limit::CallsService<pb::queue_service_server::QueueServiceServer<service::Service>>,
    >,
    TokioExecutor,
>;

/// Set once, when a connection is to go away; wakes the connection's task.
#[derive(Default)]
struct GoAway {
    set: AtomicBool,
    waker: parking_lot::Mutex<Option<Waker>>,
}

impl GoAway {
    fn fire(&self) {
        self.set.store(true, Ordering::Release);
        if let Some(w) = self.waker.lock().take() {
            w.wake();
        }
    }
}

/// Serves a connection until it ends, and starts its graceful shutdown once [`GoAway`] is set.
struct Serving {
    conn: Pin<Box<Connection>>,
    goaway: Arc<GoAway>,
    /// The task's waker is with `goaway` (a task's waker stays valid for as long as the task runs).
    watching: bool,
    sent: bool,
}

impl Future for Serving {
    type Output = Result<(), hyper::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if !this.sent {
            if !this.watching {
                *this.goaway.waker.lock() = Some(cx.waker().clone());
                this.watching = true;
            }
            if this.goaway.set.load(Ordering::Acquire) {
                this.conn.as_mut().graceful_shutdown();
                this.sent = true;
            }
        }
        this.conn.as_mut().poll(cx)
    }
}

mod limit {
    //! Per-connection limits: a connection holds a permit of the connection limit while it is open,
    //! and is closed once it has had no call in flight for the idle timeout.
    //!
    //! Calls are counted by the connection's service ([`CallsService`], which holds the connection's
    //! counter); a call ends when its response body is dropped, so a long poll or a receive stream
    //! counts for as long as it runs. The connection's reads arm the idle timer only
    //! while no call is in flight (an HTTP/2 connection always has a read pending, so the timer
    //! wakes it).

    use crate::net::Coalesced;
    use parking_lot::Mutex;
    use std::future::Future;
    use std::io;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll, Waker};
    use std::time::Duration;
    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
    use tokio::net::TcpStream;
    use tokio::sync::OwnedSemaphorePermit;
    use tokio::time::{Instant, Sleep};
    use tonic::codegen::http::{Request, Response};
    use tonic::codegen::{Body, Bytes, Service};

    /// The calls in flight on one connection.
    #[derive(Debug, Default)]
    pub struct Calls {
        in_flight: AtomicUsize,
        /// When the last call ended (or the connection opened), and who to wake when it does.
        idle: Mutex<(Option<Instant>, Option<Waker>)>,
    }

    impl Calls {
        fn start(self: &Arc<Self>) -> CallGuard {
            self.in_flight.fetch_add(1, Ordering::AcqRel);
            CallGuard(self.clone())
        }
    }

    /// One call in flight; dropping it ends the call.
    pub struct CallGuard(Arc<Calls>);

    impl Drop for CallGuard {
        fn drop(&mut self) {
            if self.0.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
                let mut idle = self.0.idle.lock();
                idle.0 = Some(Instant::now());
                // The connection may be parked on a read with no timer armed: let it arm one.
                if let Some(w) = idle.1.take() {
                    w.wake();
                }
            }
        }
    }

    pub struct Counted {
        io: Coalesced<TcpStream>,
        calls: Arc<Calls>,
        idle_after: Option<Duration>,
        timer: Pin<Box<Sleep>>,
        /// The deadline `timer` is set for, until it fires.
        armed: Option<Instant>,
        _permit: OwnedSemaphorePermit,
    }

    impl Counted {
        pub fn new(
            io: TcpStream,
            permit: OwnedSemaphorePermit,
            idle_after: Option<Duration>,
        ) -> Self {
            let calls = Arc::new(Calls::default());
            calls.idle.lock().0 = Some(Instant::now());
            Self {
                io: Coalesced::new(io),
                calls,
                idle_after,
                timer: Box::pin(tokio::time::sleep(Duration::ZERO)),
                armed: None,
                _permit: permit,
            }
        }

        /// The calls in flight on this connection.
        pub fn calls(&self) -> Arc<Calls> {
            self.calls.clone()
        }

        /// With the read pending: closes an idle connection, or arms the timer for when it would be.
        fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            let Some(after) = self.idle_after else {
                return Poll::Pending;
            };
            loop {
                let since = {
                    let mut idle = self.calls.idle.lock();
                    if self.calls.in_flight.load(Ordering::Acquire) > 0 {
                        if !idle.1.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                            idle.1 = Some(cx.waker().clone());
                        }
                        return Poll::Pending;
                    }
                    idle.0.unwrap_or_else(Instant::now)
                };
                let deadline = since + after;
                // Deadlines only move later. A timer set for an earlier one is left as it is: it
                // fires then and is set again, instead of being reset at every read.
                if self.armed.is_none_or(|at| at > deadline) {
                    self.timer.as_mut().reset(deadline);
                    self.armed = Some(deadline);
                }
                if self.timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                self.armed = None;
                if Instant::now() >= deadline {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "closing a connection idle for longer than idle_connection_seconds",
                    )));
                }
            }
        }
    }

    impl AsyncRead for Counted {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            match Pin::new(&mut self.io).poll_read(cx, buf) {
                Poll::Pending => self.poll_idle(cx),
                ready => ready,
            }
        }
    }

    impl AsyncWrite for Counted {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut self.io).poll_write(cx, buf)
        }
        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.io).poll_flush(cx)
        }
        fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.io).poll_shutdown(cx)
        }
        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &[io::IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
        }
        fn is_write_vectored(&self) -> bool {
            self.io.is_write_vectored()
        }
    }

    /// A connection's service: counts each call from request to the end of its response body.
    #[derive(Clone, Debug)]
    pub struct CallsService<S> {
        inner: S,
        calls: Arc<Calls>,
    }

    impl<S> CallsService<S> {
        pub fn new(inner: S, calls: Arc<Calls>) -> Self {
            Self { inner, calls }
        }
    }

    impl<S, B, R> Service<Request<B>> for CallsService<S>
    where
        S: Service<Request<B>, Response = Response<R>>,
        S::Future: Send + 'static,
    {
        type Response = Response<Guarded<R>>;
        type Error = S::Error;
        type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

        fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
            self.inner.poll_ready(cx)
        }

        fn call(&mut self, req: Request<B>) -> Self::Future {
            let guard = self.calls.start();
            let fut = self.inner.call(req);
            Box::pin(async move {
                let res = fut.await?;
                Ok(res.map(|body| Guarded {
                    body,
                    _guard: guard,
                }))
            })
        }
    }

    /// A response body that ends its call when dropped.
    pub struct Guarded<B> {
        body: B,
        _guard: CallGuard,
    }

    impl<B: Body<Data = Bytes> + Unpin> Body for Guarded<B> {
        type Data = Bytes;
        type Error = B::Error;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<http_body::Frame<Bytes>, B::Error>>> {
            Pin::new(&mut self.body).poll_frame(cx)
        }
        fn is_end_stream(&self) -> bool {
            self.body.is_end_stream()
        }
        fn size_hint(&self) -> http_body::SizeHint {
            self.body.size_hint()
        }
    }
}
