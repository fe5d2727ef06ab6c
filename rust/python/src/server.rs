//! `sqsfast serve`: the Rust server run from Python, with the GIL released for its whole life.

use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;
use sqsfast_core::{Broker as CoreBroker, BrokerConfig};
use sqsfast_server::ServerConfig;

/// Runs the server until SIGINT or SIGTERM, then stops accepting, finishes requests in flight and
/// returns. Prints where it listens once bound (port 0 picks a free port).
#[pyfunction]
#[pyo3(signature = (*, host = "127.0.0.1".to_string(), http_port = 9324, grpc_port = 9325))]
pub fn serve(py: Python<'_>, host: String, http_port: u16, grpc_port: u16) -> PyResult<()> {
    let config = ServerConfig {
        host,
        http_port,
        grpc_port,
        ..ServerConfig::default()
    };
    let broker = CoreBroker::new(BrokerConfig {
        account_id: config.account_id.clone(),
        region: config.region.clone(),
        ..BrokerConfig::default()
    });
    py.detach(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("sqsfast")
            .build()?;
        runtime.block_on(async move {
            sqsfast_server::serve(
                broker,
                config,
                |bound| {
                    println!("sqsfast: SQS HTTP API on http://{}", bound.http);
                    println!("sqsfast: gRPC on grpc://{}", bound.grpc);
                },
                shutdown_signal(),
            )
            .await
        })
    })
    .map_err(|e| PyOSError::new_err(format!("sqsfast serve: {e}")))
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        // Without signal handlers the server still runs; it is stopped by killing the process.
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
    println!("sqsfast: shutting down");
}
