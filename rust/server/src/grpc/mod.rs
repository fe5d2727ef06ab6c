//! The gRPC front end (package `sqsfast.v1`, `proto/sqsfast/v1/queue.proto`).
//!
//! One [`service::Service`] over the shared engine serves every connection. Handlers are async and
//! hold no thread while a long poll waits. Limits keep a misbehaving client from taking the server
//! down: request size, concurrent streams per connection, number of connections, HTTP/2 and TCP
//! keepalive to drop dead peers.

pub mod codec;
pub mod error;
pub mod service;

/// The generated protobuf types, server and client of `sqsfast.v1`.
#[allow(clippy::all, missing_docs)]
pub mod pb {
    tonic::include_proto!("sqsfast.v1");
}

use crate::{Context, Shutdown};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_stream::StreamExt as _;
use tonic::transport::server::TcpIncoming;

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
                Ok::<_, std::io::Error>(limit::Counted::new(conn, permit))
            }
        });

    tonic::transport::Server::builder()
        .max_concurrent_streams(Some(limits.max_concurrent_streams))
        .concurrency_limit_per_connection(limits.max_concurrent_streams as usize)
        .http2_keepalive_interval(Some(Duration::from_secs(limits.keepalive_seconds)))
        .http2_keepalive_timeout(Some(Duration::from_secs(20)))
        .max_connection_age(Duration::from_secs(limits.max_connection_age_seconds))
        .add_service(service)
        .serve_with_incoming_shutdown(incoming, shutdown.wait())
        .await
        .map_err(std::io::Error::other)
}

mod limit {
    //! A connection that holds a permit of the connection limit while it is open.

    use std::io;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
    use tokio::net::TcpStream;
    use tokio::sync::OwnedSemaphorePermit;
    use tonic::transport::server::{Connected, TcpConnectInfo};

    pub struct Counted {
        io: TcpStream,
        _permit: OwnedSemaphorePermit,
    }

    impl Counted {
        pub fn new(io: TcpStream, permit: OwnedSemaphorePermit) -> Self {
            Self {
                io,
                _permit: permit,
            }
        }
    }

    impl Connected for Counted {
        type ConnectInfo = TcpConnectInfo;
        fn connect_info(&self) -> Self::ConnectInfo {
            self.io.connect_info()
        }
    }

    impl AsyncRead for Counted {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Pin::new(&mut self.io).poll_read(cx, buf)
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
}
