//! `sqsfast.Message`: one receive of a message, with the receipt handle of that receive.

use crate::convert::{count, message_attributes_to_py};
use crate::detach::EnterCore as _;
use crate::error::to_py_err;
use crate::queue::Queue;
use pyo3::exceptions::PyUnicodeDecodeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDateTime, PyDict, PyTzInfo};
use sqsfast_core::Received;

/// Bytes of the body `repr(message)` shows.
const REPR_BODY_BYTES: usize = 48;

/// A received message. `delete()` and `change_visibility()` act with this receive's handle.
#[pyclass(frozen, module = "sqsfast._core")]
pub struct Message {
    pub(crate) inner: Received,
    queue: Py<Queue>,
}

impl Message {
    pub(crate) fn new(inner: Received, queue: Py<Queue>) -> Self {
        Self { inner, queue }
    }

    /// The `SenderId` of messages sent without an authenticated identity: the broker's.
    fn sender_id_str(&self) -> &str {
        &self.queue.get().broker.get().inner.config().sender_id
    }
}

/// An aware UTC datetime of epoch milliseconds.
fn utc_datetime(py: Python<'_>, epoch_ms: u64) -> PyResult<Bound<'_, PyDateTime>> {
    let utc = PyTzInfo::utc(py)?;
    // `fromtimestamp` rounds to the microsecond, so whole milliseconds come back exact.
    PyDateTime::from_timestamp(py, epoch_ms as f64 / 1000.0, Some(&utc))
}

#[pymethods]
impl Message {
    #[getter]
    fn body<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.inner.body())
    }

    /// The body decoded as UTF-8.
    #[getter]
    fn text(&self, py: Python<'_>) -> PyResult<&str> {
        let body = self.inner.body();
        std::str::from_utf8(body).map_err(|e| PyUnicodeDecodeError::new_err_from_utf8(py, body, e))
    }

    #[getter]
    fn message_id(&self) -> String {
        self.inner.message_id().to_string()
    }

    #[getter]
    fn receipt_handle(&self) -> String {
        self.inner.receipt_handle()
    }

    /// How many times the message has been received (`ApproximateReceiveCount`).
    #[getter]
    fn receive_count(&self) -> u32 {
        self.inner.receive_count()
    }

    /// When the message was first sent (UTC).
    #[getter]
    fn sent_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
        utc_datetime(py, self.inner.sent_timestamp())
    }

    /// When the message was first received (UTC).
    #[getter]
    fn first_received_at<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
        utc_datetime(py, self.inner.first_receive_timestamp())
    }

    #[getter]
    fn sender_id(&self) -> &str {
        self.sender_id_str()
    }

    /// Message attributes: `str`, `bytes`, `int` or `float`, or `MessageAttribute` for labelled types.
    #[getter]
    fn attributes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        message_attributes_to_py(py, self.inner.attributes())
    }

    /// System attributes by SQS name (`SentTimestamp`, `ApproximateReceiveCount`, ...), as strings.
    #[getter]
    fn system_attributes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let dict = PyDict::new(py);
        for (name, value) in self.inner.system_attributes(self.sender_id_str()) {
            dict.set_item(name, value)?;
        }
        Ok(dict)
    }

    /// Hex MD5 of the body, as SQS computes it.
    #[getter]
    fn md5_of_body(&self) -> String {
        self.inner.md5_of_body()
    }

    /// Hex MD5 of the message attributes as SQS computes it; `None` without attributes.
    #[getter]
    fn md5_of_attributes(&self) -> Option<String> {
        self.inner.md5_of_attributes()
    }

    /// The queue the message was received from.
    #[getter]
    fn queue(&self, py: Python<'_>) -> Py<Queue> {
        self.queue.clone_ref(py)
    }

    /// Deletes the message, by this receive's handle.
    fn delete(&self) -> PyResult<()> {
        // O(1) and never waits: cheaper than releasing the GIL.
        self.queue
            .get()
            .inner
            .delete(self.inner.handle())
            .map_err(to_py_err)
    }

    /// Makes the message invisible for `seconds` from now (0: visible now), by this receive's handle.
    fn change_visibility(&self, py: Python<'_>, seconds: i64) -> PyResult<()> {
        let seconds = count("VisibilityTimeout", Some(seconds))?.unwrap_or(0);
        let queue = &self.queue.get().inner;
        py.enter(|| queue.change_visibility(self.inner.handle(), seconds))
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let body = self.inner.body();
        let shown = PyBytes::new(py, &body[..body.len().min(REPR_BODY_BYTES)]).repr()?;
        let more = if body.len() > REPR_BODY_BYTES {
            "..."
        } else {
            ""
        };
        Ok(format!(
            "Message(message_id='{}', receive_count={}, body={shown}{more})",
            self.inner.message_id(),
            self.inner.receive_count(),
        ))
    }
}
