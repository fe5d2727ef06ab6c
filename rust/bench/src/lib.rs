//! The load generator of `sqsfast bench`: SQS workloads (steady, fill-then-drain, fixed rate,
//! long-poll wake-up) against sqsfast in process, over gRPC or the SQS HTTP API, or any
//! SQS-compatible endpoint; latency from HDR histograms, and an account of every message sent.
//!
//! The runner ([`run`]) is generic over a [`Driver`]: one per kind of system under test. See
//! `docs/bench.md`.

pub mod body;
pub mod driver;
#[cfg(feature = "peers")]
pub mod peers;
pub mod runner;
pub mod stats;
pub mod targets;

/// The gRPC client generated from `proto/sqsfast/v1/queue.proto`.
pub mod pb {
    #![allow(clippy::all, clippy::pedantic)]
    tonic::include_proto!("sqsfast.v1");
}

pub use driver::{Conn, Driver, Error, Received, Token};
pub use runner::{Config, Workload, run};
pub use stats::{Progress, Report};
pub use targets::Target;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

/// Runs [`run`] on a runtime of its own, blocking the calling thread.
///
/// # Errors
/// As [`run`], or a runtime that cannot start.
pub fn run_blocking<D: Driver>(
    driver: D,
    cfg: Config,
    cancel: Arc<AtomicBool>,
    progress: Option<&(dyn Fn(&Progress) + Send + Sync)>,
) -> Result<Report, Error> {
    let threads = cfg
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get().max(2)));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("sqsfast-bench")
        .enable_all()
        .build()?;
    let report = rt.block_on(run(Arc::new(driver), cfg, cancel, progress));
    // Connection tasks may linger on sockets: don't wait for them.
    rt.shutdown_background();
    report
}

/// Runs a benchmark against `target` with the native client.
///
/// # Errors
/// As [`run`], and a configuration the target does not take.
pub fn run_target(
    target: &Target,
    cfg: Config,
    cancel: Arc<AtomicBool>,
    progress: Option<&(dyn Fn(&Progress) + Send + Sync)>,
) -> Result<Report, Error> {
    cfg.validate()?;
    target.check(&cfg)?;
    match target {
        Target::Embedded => run_blocking(
            targets::embedded::Embedded::default(),
            cfg,
            cancel,
            progress,
        ),
        Target::Grpc(addr) => run_blocking(targets::grpc::Grpc::new(addr)?, cfg, cancel, progress),
        Target::Http(addr) => run_blocking(targets::http::Http::new(addr), cfg, cancel, progress),
    }
}
