//! The one mapping from engine errors to Python exceptions.
//!
//! An [`sqsfast_core::Error`] becomes an instance of the class named after its code in the Python
//! module `sqsfast.errors` (`QueueDoesNotExist`, ...), every one a subclass of `sqsfast.SqsfastError`,
//! with `.code` and `.message`. The hierarchy is written in Python (so users read and subclass plain
//! classes); the classes are looked up once and cached.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;
use sqsfast_core::{Error, ErrorCode};

/// The exception classes, in the order of [`ErrorCode::ALL`].
struct Classes {
    by_code: Vec<Py<PyType>>,
    /// `SqsfastError`, for a code newer than the Python module (the core's enum is non-exhaustive).
    root: Py<PyType>,
}

static CLASSES: PyOnceLock<Classes> = PyOnceLock::new();

fn classes(py: Python<'_>) -> PyResult<&Classes> {
    CLASSES.get_or_try_init(py, || {
        let module = py.import("sqsfast.errors")?;
        let root = module.getattr("SqsfastError")?.cast_into::<PyType>()?;
        let by_code = ErrorCode::ALL
            .iter()
            .map(|code| match module.getattr(code.name()) {
                Ok(class) => Ok(class.cast_into::<PyType>()?.unbind()),
                Err(_) => Ok(root.clone().unbind()),
            })
            .collect::<PyResult<_>>()?;
        Ok(Classes {
            by_code,
            root: root.unbind(),
        })
    })
}

/// The exception instance of an engine error, not raised: `sqsfast.errors.<Code>(message, code)`.
/// Batch results carry these; [`to_py_err`] raises them.
pub(crate) fn error_value<'py>(py: Python<'py>, err: &Error) -> PyResult<Bound<'py, PyAny>> {
    let classes = classes(py)?;
    let class = ErrorCode::ALL
        .iter()
        .position(|code| *code == err.code)
        .map_or(&classes.root, |i| &classes.by_code[i]);
    class
        .bind(py)
        .call1((err.message.as_str(), err.code.name()))
}

/// The Python exception of an engine error.
pub(crate) fn to_py_err(err: Error) -> PyErr {
    Python::attach(|py| match error_value(py, &err) {
        Ok(value) => PyErr::from_value(value),
        Err(lookup_failed) => lookup_failed,
    })
}

/// An integer argument that the engine's type (`u32`) cannot hold, such as a negative number of
/// seconds: the `InvalidParameterValue` SQS gives for it.
pub(crate) fn out_of_range(parameter: &str, value: i64) -> PyErr {
    let reason = if value < 0 {
        "must not be negative"
    } else {
        "too large"
    };
    to_py_err(Error::new(
        ErrorCode::InvalidParameterValue,
        format!("Value {value} for parameter {parameter} is invalid. Reason: {reason}."),
    ))
}
