//! Running engine calls with the GIL released: the one helper every method uses
//! (after polars' `EnterPolarsExt`), and the interruptible long poll.

use crate::error::to_py_err;
use pyo3::marker::Ungil;
use pyo3::prelude::*;
use sqsfast_core::{Queue, ReceiveOptions, Received};

/// Runs engine code detached from the interpreter, so that other Python threads run meanwhile.
///
/// Arguments are converted to owned Rust values *before* the call (no Python object can be touched
/// inside), and results converted back after it.
pub(crate) trait EnterCore {
    /// Runs `f` with the GIL released; an engine error becomes its Python exception.
    fn enter<T, F>(self, f: F) -> PyResult<T>
    where
        F: Ungil + FnOnce() -> sqsfast_core::Result<T>,
        T: Ungil + Send;

    /// Runs infallible `f` with the GIL released.
    fn enter_ok<T, F>(self, f: F) -> T
    where
        F: Ungil + FnOnce() -> T,
        T: Ungil;
}

impl EnterCore for Python<'_> {
    fn enter<T, F>(self, f: F) -> PyResult<T>
    where
        F: Ungil + FnOnce() -> sqsfast_core::Result<T>,
        T: Ungil + Send,
    {
        self.detach(f).map_err(to_py_err)
    }

    fn enter_ok<T, F>(self, f: F) -> T
    where
        F: Ungil + FnOnce() -> T,
        T: Ungil,
    {
        self.detach(f)
    }
}

/// Receives, long-polling when the effective wait (the call's, else the queue's) is not zero.
///
/// The wait runs with the GIL released. The engine asks `interrupted` every 50 ms; it re-attaches
/// briefly to run Python's signal handlers, so Ctrl-C raises `KeyboardInterrupt` (or whatever a
/// handler raises) within about 50 ms instead of after the whole wait.
pub(crate) fn receive(
    py: Python<'_>,
    queue: &Queue,
    options: &ReceiveOptions,
) -> PyResult<Vec<Received>> {
    if queue.wait_for(options).is_zero() {
        return py.enter(|| queue.receive(options));
    }
    let mut raised: Option<PyErr> = None;
    let got = py.enter(|| {
        queue.receive_blocking(
            options,
            &mut || match Python::attach(|py| py.check_signals()) {
                Ok(()) => false,
                Err(err) => {
                    raised = Some(err);
                    true
                }
            },
        )
    });
    match raised {
        Some(err) => Err(err),
        None => got,
    }
}
