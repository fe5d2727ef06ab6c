//! The HTTP front end: the SQS-compatible API and `/health`.

use crate::{Context, Shutdown};
use axum::Router;
use axum::routing::get;
use std::sync::Arc;
use tokio::net::TcpListener;

/// The routes of the HTTP port.
pub fn router(ctx: Arc<Context>) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok\n" }))
        .with_state(ctx)
}

/// Serves HTTP on `listener` until shutdown.
///
/// # Errors
/// An I/O error from the listener.
pub async fn serve(
    ctx: Arc<Context>,
    listener: TcpListener,
    shutdown: Shutdown,
) -> std::io::Result<()> {
    axum::serve(listener, router(ctx))
        .with_graceful_shutdown(shutdown.wait())
        .await
}
