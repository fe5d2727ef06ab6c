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
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_stream::StreamExt as _;
use tonic::transport::server::TcpIncoming;

/// The largest HTTP/2 frame a client may send: a batch of 100 messages of a few hundred bytes is one
/// DATA frame, not two of HTTP/2's default 16 KiB.
const FRAME_SIZE: u32 = 64 << 10;
/// How much a client may send before the server acknowledges it (`WINDOW_UPDATE`), on each call and
/// on the connection: HTTP/2's default of 64 KiB is two batches of 100.
const STREAM_WINDOW: u32 = 1 << 20;
const CONNECTION_WINDOW: u32 = 4 << 20;

/// Serves gRPC on `listener` until shutdown: then stops accepting, lets requests in flight finish
/// (long polls and streams return early) and returns.
///
/// # Errors
/// An I/O error from the listener or the HTTP/2 transport.
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

    // At most `max_connections` open at once: past it, new connections wait in the backlog.
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let idle = (limits.idle_connection_seconds > 0)
        .then(|| Duration::from_secs(limits.idle_connection_seconds));
    let incoming = TcpIncoming::from(listener)
        .with_nodelay(Some(true))
        .with_keepalive(Some(Duration::from_secs(60)))
        .then(move |conn| {
            let permits = permits.clone();
            async move {
                let conn = conn?;
                let permit = permits
                    .acquire_owned()
                    .await
                    .map_err(std::io::Error::other)?;
                Ok::<_, std::io::Error>(limit::Counted::new(conn, permit, idle))
            }
        });

    tonic::transport::Server::builder()
        .max_concurrent_streams(Some(limits.max_concurrent_streams))
        .concurrency_limit_per_connection(limits.max_concurrent_streams as usize)
        .http2_keepalive_interval(Some(Duration::from_secs(limits.keepalive_seconds)))
        .http2_keepalive_timeout(Some(Duration::from_secs(20)))
        .max_connection_age(Duration::from_secs(limits.max_connection_age_seconds))
        .max_frame_size(Some(FRAME_SIZE))
        .initial_stream_window_size(Some(STREAM_WINDOW))
        .initial_connection_window_size(Some(CONNECTION_WINDOW))
        .layer(limit::CallsLayer)
        .add_service(service)
        .serve_with_incoming_shutdown(incoming, shutdown.wait())
        .await
        .map_err(std::io::Error::other)
}

mod limit {
    //! Per-connection limits: a connection holds a permit of the connection limit while it is open,
    //! and is closed once it has had no call in flight for the idle timeout.
    //!
    //! Calls are counted by a tower layer ([`CallsLayer`]) that finds the connection's counter in the
    //! request's connect info; a call ends when its response body is dropped, so a long poll or a
    //! receive stream counts for as long as it runs. The connection's reads arm the idle timer only
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
    use tonic::transport::server::Connected;

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

    /// What tonic puts in each request's extensions for this connection.
    #[derive(Clone, Debug)]
    pub struct ConnInfo {
        pub calls: Arc<Calls>,
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

    impl Connected for Counted {
        type ConnectInfo = ConnInfo;
        fn connect_info(&self) -> Self::ConnectInfo {
            ConnInfo {
                calls: self.calls.clone(),
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

    /// Counts each call on its connection from request to the end of its response body.
    #[derive(Clone, Copy, Debug)]
    pub struct CallsLayer;

    impl<S> tower::Layer<S> for CallsLayer {
        type Service = CallsService<S>;
        fn layer(&self, inner: S) -> Self::Service {
            CallsService(inner)
        }
    }

    #[derive(Clone, Debug)]
    pub struct CallsService<S>(S);

    impl<S, B, R> Service<Request<B>> for CallsService<S>
    where
        S: Service<Request<B>, Response = Response<R>>,
        S::Future: Send + 'static,
    {
        type Response = Response<Guarded<R>>;
        type Error = S::Error;
        type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

        fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
            self.0.poll_ready(cx)
        }

        fn call(&mut self, req: Request<B>) -> Self::Future {
            let guard = req.extensions().get::<ConnInfo>().map(|c| c.calls.start());
            let fut = self.0.call(req);
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
        _guard: Option<CallGuard>,
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
