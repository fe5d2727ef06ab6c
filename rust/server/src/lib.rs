//! sqsfast-server: the network front ends of sqsfast over one shared engine.
//!
//! - [`grpc`]: the gRPC API (package `sqsfast.v1`), batch-first, with a streaming receive.
//! - [`http`]: the SQS-compatible HTTP API (AWS JSON 1.0 and Query/XML), plus `/health`.
//!
//! Both are thin: they convert requests, call [`sqsfast_core`], and convert results and errors back.
//! [`serve`] runs both until its shutdown future completes.

pub mod config;
pub mod grpc;
pub mod http;
pub mod net;

pub use config::ServerConfig;

use sqsfast_core::Broker;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// How long shutdown waits for requests in flight after long polls and streams were told to end.
pub const DRAIN: std::time::Duration = std::time::Duration::from_secs(10);

/// What every request handler shares.
#[derive(Debug)]
pub struct Context {
    pub broker: Broker,
    pub config: ServerConfig,
}

/// Where a running server listens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bound {
    pub http: SocketAddr,
    pub grpc: SocketAddr,
}

/// A signal that turns true once, when the server starts shutting down.
#[derive(Clone, Debug)]
pub struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    pub fn is_set(&self) -> bool {
        *self.0.borrow()
    }

    /// Completes when shutdown begins.
    pub async fn wait(mut self) {
        let _ = self.0.wait_for(|v| *v).await;
    }
}

/// Creates the queues of the configuration (`[[queues]]` of `sqsfast.toml`).
///
/// # Errors
/// `InvalidInput` naming the queue whose name or attributes the engine rejects.
pub fn create_queues(broker: &Broker, config: &ServerConfig) -> std::io::Result<()> {
    for spec in &config.queues {
        let attributes: Vec<(String, String)> = spec.attributes.clone().into_iter().collect();
        let tags: Vec<(String, String)> = spec.tags.clone().into_iter().collect();
        broker
            .create_queue(&spec.name, &attributes, &tags)
            .map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("queue {:?} of the configuration: {e}", spec.name),
                )
            })?;
    }
    Ok(())
}

/// Binds both listeners, calls `on_bound` with their addresses (port 0 picks free ports), then serves
/// until `shutdown` completes; requests in flight are finished (long polls return early).
///
/// # Errors
/// An I/O error binding or serving.
pub async fn serve(
    broker: Broker,
    config: ServerConfig,
    on_bound: impl FnOnce(Bound),
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    create_queues(&broker, &config)?;
    let http_listener = TcpListener::bind((config.host.as_str(), config.http_port)).await?;
    let grpc_listener = TcpListener::bind((config.host.as_str(), config.grpc_port)).await?;
    on_bound(Bound {
        http: http_listener.local_addr()?,
        grpc: grpc_listener.local_addr()?,
    });
    let ctx = Arc::new(Context { broker, config });
    let (tx, rx) = watch::channel(false);
    let http = tokio::spawn(http::serve(
        ctx.clone(),
        http_listener,
        Shutdown(rx.clone()),
    ));
    let grpc = tokio::spawn(grpc::serve(ctx.clone(), grpc_listener, Shutdown(rx)));
    shutdown.await;
    let _ = tx.send(true);
    let (h, g) = tokio::join!(http, grpc);
    h.map_err(std::io::Error::other)??;
    g.map_err(std::io::Error::other)??;
    Ok(())
}
