//! `sqsfast serve`: the Rust server run from Python, with the GIL released for its whole life.

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use sqsfast_core::{Broker as CoreBroker, BrokerConfig};
use sqsfast_server::ServerConfig;
use std::io::Write as _;

/// Runs the server until SIGINT or SIGTERM, then stops accepting, finishes requests in flight
/// (long polls return early) and returns. Prints where it listens once bound (port 0 picks a free
/// port). Settings come from `config` (a `sqsfast.toml`), then from the arguments given.
#[pyfunction]
#[pyo3(signature = (
    *, host = None, http_port = None, grpc_port = None, config = None, log_level = None,
    data_dir = None, in_memory = false, fsync = None, fsync_interval_ms = None, skip_corrupt = false,
    memory_budget_mb = None, workers = None,
))]
#[allow(clippy::too_many_arguments)]
pub fn serve(
    py: Python<'_>,
    host: Option<String>,
    http_port: Option<u16>,
    grpc_port: Option<u16>,
    config: Option<std::path::PathBuf>,
    log_level: Option<String>,
    data_dir: Option<std::path::PathBuf>,
    in_memory: bool,
    fsync: Option<String>,
    fsync_interval_ms: Option<u64>,
    skip_corrupt: bool,
    memory_budget_mb: Option<u64>,
    workers: Option<usize>,
) -> PyResult<()> {
    let mut settings = match &config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| PyOSError::new_err(format!("{}: {e}", path.display())))?;
            ServerConfig::from_toml(&text)
                .map_err(|e| PyValueError::new_err(format!("{}: {e}", path.display())))?
        }
        None => ServerConfig::default(),
    };
    if let Some(host) = host {
        settings.host = host;
    }
    if let Some(port) = http_port {
        settings.http_port = port;
    }
    if let Some(port) = grpc_port {
        settings.grpc_port = port;
    }
    if let Some(level) = log_level {
        settings.log_level = level;
    }
    if workers.is_some() {
        settings.workers = workers;
    }
    if settings.workers.is_some_and(|n| n == 0 || n > 1024) {
        return Err(PyValueError::new_err("workers must be 1-1024"));
    }
    let storage = &mut settings.storage;
    if let Some(dir) = data_dir {
        storage.data_dir = dir;
        storage.in_memory = false;
    }
    storage.in_memory |= in_memory;
    if let Some(fsync) = fsync {
        storage.fsync = fsync;
    }
    if let Some(ms) = fsync_interval_ms {
        storage.fsync_interval_ms = ms;
    }
    storage.skip_corrupt |= skip_corrupt;
    if memory_budget_mb.is_some() {
        storage.memory_budget_mb = memory_budget_mb;
    }
    init_logging(&settings.log_level)?;
    let broker_config = BrokerConfig {
        account_id: settings.account_id.clone(),
        region: settings.region.clone(),
        ..BrokerConfig::default()
    };
    let broker = match settings.storage.to_core().map_err(PyValueError::new_err)? {
        None => {
            println!("sqsfast: in memory: nothing is kept when the server stops");
            CoreBroker::new(broker_config)
        }
        Some(storage) => {
            let (dir, fsync, budget) = (storage.dir.clone(), storage.fsync, storage.memory_budget);
            let (broker, report) = py
                .detach(|| CoreBroker::open(broker_config, storage))
                .map_err(|e| PyOSError::new_err(e.to_string()))?;
            for (path, offset) in &report.truncated {
                println!(
                    "sqsfast: {}: cut off a torn record at offset {offset}",
                    path.display()
                );
            }
            for (path, offset, len, reason) in &report.skipped {
                println!(
                    "sqsfast: {}: skipped {len} damaged bytes at offset {offset}: {reason}",
                    path.display()
                );
            }
            let budget = match budget {
                Some(bytes) => format!(", bodies in memory up to {} MiB", bytes >> 20),
                None => String::new(),
            };
            println!(
                "sqsfast: data in {} (fsync {fsync}{budget}): {} queues, {} messages from {} records in {:.2} s",
                dir.display(),
                broker.list_queues("").len(),
                report.messages,
                report.records,
                report.elapsed.as_secs_f64()
            );
            broker
        }
    };
    let _ = std::io::stdout().flush();
    let closing = broker.clone();
    let worker_threads = settings.workers;
    let result = py.detach(move || {
        let mut runtime = tokio::runtime::Builder::new_multi_thread();
        if let Some(n) = worker_threads {
            runtime.worker_threads(n);
        }
        let runtime = runtime.enable_all().thread_name("sqsfast").build()?;
        runtime.block_on(async move {
            sqsfast_server::serve(
                broker,
                settings,
                |bound| {
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "sqsfast: SQS HTTP API on http://{}", bound.http);
                    let _ = writeln!(out, "sqsfast: gRPC on grpc://{}", bound.grpc);
                    let _ = out.flush();
                },
                shutdown_signal(),
            )
            .await
        })
    });
    // Writes and syncs what the log holds and releases the data directory.
    py.detach(|| closing.close());
    result.map_err(|e| PyOSError::new_err(format!("sqsfast serve: {e}")))
}

/// Logs to stderr at `level` (`info`, `debug`, ... or a tracing filter such as
/// `sqsfast_server=debug`). A second call (a second server in one process) keeps the first.
fn init_logging(level: &str) -> PyResult<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .map_err(|e| PyValueError::new_err(format!("log level {level:?}: {e}")))?;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    Ok(())
}

/// Installs the SIGINT and SIGTERM handlers now (before the server says where it listens, so that a
/// signal sent as soon as the addresses are printed is not lost) and returns the future that
/// completes on either.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let handlers = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    );
    async move {
        let (Ok(mut int), Ok(mut term)) = handlers else {
            // Without signal handlers the server still runs; it is stopped by killing the process.
            std::future::pending::<()>().await;
            return;
        };
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        println!("sqsfast: shutting down");
        let _ = std::io::stdout().flush();
    }
}
