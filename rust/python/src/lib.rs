//! The extension module `sqsfast._core`: thin bindings of `sqsfast-core`. Each method converts its
//! arguments, calls the engine (with the GIL released when the call can take time) and converts
//! back. The Python package `sqsfast` re-exports these classes; see `docs/python.md`.

use pyo3::prelude::*;

mod attributes;
mod bench;
mod broker;
mod convert;
mod detach;
mod error;
mod message;
mod queue;
mod server;

pub use broker::Broker;
pub use message::Message;
pub use queue::Queue;

/// mimalloc for everything Rust allocates in the extension (the server's requests and responses,
/// messages): glibc malloc was a fifth of the server's CPU time, and with mimalloc the same
/// `sqsfast bench` runs did 1.1–1.8× the messages per second (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

// `gil_used = false`: every class is frozen over thread-safe engine state, so the module is safe
// without the GIL on free-threaded Python.
#[pymodule(gil_used = false)]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Broker>()?;
    m.add_class::<Queue>()?;
    m.add_class::<Message>()?;
    m.add_function(wrap_pyfunction!(server::serve, m)?)?;
    m.add_function(wrap_pyfunction!(bench::bench, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
