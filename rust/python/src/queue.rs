//! `sqsfast.Queue`: send, receive, delete, change visibility, attributes, tags, purge.

use crate::attributes::QueueSettings;
use crate::broker::Broker;
use crate::convert::{self, count, message_attributes, str_pairs, strings};
use crate::detach::{self, EnterCore as _};
use crate::error::{error_value, to_py_err};
use crate::message::Message;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple, PyType};
use sqsfast_core::queue::SQS_BATCH_LIMIT;
use sqsfast_core::{AsHandle, ReceiptHandle, ReceiveOptions, SendMessage};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// A standard queue of a [`Broker`]. Equal to another `Queue` of the same broker and name.
#[pyclass(frozen, eq, hash, module = "sqsfast._core")]
pub struct Queue {
    pub(crate) inner: Arc<sqsfast_core::Queue>,
    pub(crate) broker: Py<Broker>,
}

impl PartialEq for Queue {
    fn eq(&self, other: &Self) -> bool {
        self.broker.as_ptr() == other.broker.as_ptr() && self.inner.name() == other.inner.name()
    }
}

impl Hash for Queue {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.broker.as_ptr() as usize).hash(state);
        self.inner.name().hash(state);
    }
}

impl Queue {
    pub(crate) fn wrap<'py>(
        broker: &Bound<'py, Broker>,
        inner: Arc<sqsfast_core::Queue>,
    ) -> PyResult<Bound<'py, Queue>> {
        Bound::new(
            broker.py(),
            Queue {
                inner,
                broker: broker.clone().unbind(),
            },
        )
    }
}

/// `sqsfast.BatchResult`, one entry's outcome.
static BATCH_RESULT: PyOnceLock<Py<PyType>> = PyOnceLock::new();
/// `sqsfast._consume.consume`, the generator behind `Queue.consume`.
static CONSUME: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

#[pymethods]
impl Queue {
    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }

    #[getter]
    fn arn(&self) -> &str {
        self.inner.arn()
    }

    /// The broker this queue belongs to.
    #[getter]
    fn broker(&self, py: Python<'_>) -> Py<Broker> {
        self.broker.clone_ref(py)
    }

    /// Every SQS attribute, values as strings.
    // Named apart from `get_attributes`, whose generated wrapper would have the same name.
    #[getter(attributes)]
    fn all_attributes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.attributes_named(py, Vec::new())
    }

    /// The attributes of those SQS names (all of them for none, or for `"All"`).
    #[pyo3(signature = (*names))]
    fn get_attributes<'py>(
        &self,
        py: Python<'py>,
        names: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let names = names
            .iter()
            .map(|n| n.extract::<String>())
            .collect::<PyResult<Vec<_>>>()?;
        self.attributes_named(py, names)
    }

    /// Sets attributes, all or nothing: raw SQS names in `attributes`, or the keywords of
    /// `Broker.create_queue`.
    #[pyo3(signature = (
        attributes=None,
        *,
        visibility_timeout=None,
        message_retention_period=None,
        delay_seconds=None,
        receive_wait_time_seconds=None,
        maximum_message_size=None,
        dead_letter_queue=None,
        max_receive_count=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn set_attributes<'py>(
        &self,
        py: Python<'py>,
        attributes: Option<Bound<'py, PyAny>>,
        visibility_timeout: Option<i64>,
        message_retention_period: Option<i64>,
        delay_seconds: Option<i64>,
        receive_wait_time_seconds: Option<i64>,
        maximum_message_size: Option<i64>,
        dead_letter_queue: Option<Bound<'py, PyAny>>,
        max_receive_count: Option<i64>,
    ) -> PyResult<()> {
        let config = self.inner.config();
        let attributes = QueueSettings {
            visibility_timeout,
            message_retention_period,
            delay_seconds,
            receive_wait_time_seconds,
            maximum_message_size,
            dead_letter_queue,
            max_receive_count,
            attributes,
        }
        .to_sqs(&self.broker.get().inner, config.redrive_policy.as_ref())?;
        py.enter(|| self.inner.set_attributes(&attributes))
    }

    /// The queue's tags.
    #[getter]
    fn tags(&self) -> std::collections::BTreeMap<String, String> {
        self.inner.tags()
    }

    /// Adds or replaces tags.
    fn tag(&self, tags: &Bound<'_, PyAny>) -> PyResult<()> {
        let tags = str_pairs(tags, "tags")?;
        self.inner.tag(&tags).map_err(to_py_err)
    }

    /// Removes tags by key; absent keys are ignored.
    fn untag(&self, keys: &Bound<'_, PyAny>) -> PyResult<()> {
        let keys = strings(keys, "keys")?;
        self.inner.untag(&keys).map_err(to_py_err)
    }

    /// Sends a message; returns its id.
    #[pyo3(signature = (body, *, delay_seconds=None, attributes=None))]
    fn send(
        &self,
        py: Python<'_>,
        body: &Bound<'_, PyAny>,
        delay_seconds: Option<i64>,
        attributes: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<String> {
        let message = SendMessage {
            body: convert::body(body)?.into(),
            delay_seconds: count("DelaySeconds", delay_seconds)?,
            attributes: message_attributes(attributes)?,
            want_md5: false,
        };
        let sent = py.enter(|| self.inner.send(message))?;
        Ok(sent.message_id.to_string())
    }

    /// Sends up to 10 messages: bodies, or dicts with `id`, `body`, `delay_seconds`, `attributes`.
    fn send_batch<'py>(
        &self,
        py: Python<'py>,
        entries: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let entries = items(entries, "send_batch entries")?
            .iter()
            .enumerate()
            .map(|(i, entry)| send_entry(i, entry))
            .collect::<PyResult<Vec<_>>>()?;
        let results = py.enter(|| self.inner.send_batch(entries, SQS_BATCH_LIMIT))?;
        batch_results(py, results, |sent| Some(sent.message_id.to_string()))
    }

    /// Receives up to `max_messages` (1-10) messages, long-polling up to `wait_seconds`.
    #[pyo3(signature = (max_messages=1, *, wait_seconds=None, visibility_timeout=None))]
    fn receive<'py>(
        slf: &Bound<'py, Self>,
        max_messages: i64,
        wait_seconds: Option<i64>,
        visibility_timeout: Option<i64>,
    ) -> PyResult<Bound<'py, PyList>> {
        let py = slf.py();
        let options = ReceiveOptions {
            max_messages: count("MaxNumberOfMessages", Some(max_messages))?.unwrap_or(0),
            wait_seconds: count("WaitTimeSeconds", wait_seconds)?,
            visibility_timeout: count("VisibilityTimeout", visibility_timeout)?,
            max_batch: SQS_BATCH_LIMIT as u32,
        };
        let received = detach::receive(py, &slf.get().inner, &options)?;
        let messages = received
            .into_iter()
            .map(|r| Bound::new(py, Message::new(r, slf.clone().unbind())))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, messages)
    }

    /// An endless iterator of messages, long-polling `wait_seconds` at a time.
    #[pyo3(
        signature = (*, max_messages=10, wait_seconds=Some(20), visibility_timeout=None),
        text_signature = "($self, *, max_messages=10, wait_seconds=20, visibility_timeout=None)"
    )]
    fn consume<'py>(
        slf: &Bound<'py, Self>,
        max_messages: i64,
        wait_seconds: Option<i64>,
        visibility_timeout: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        CONSUME
            .import(slf.py(), "sqsfast._consume", "consume")?
            .call1((slf, max_messages, wait_seconds, visibility_timeout))
    }

    /// Deletes the message received with this receipt handle (or this `Message`).
    fn delete(&self, receipt_handle: &Bound<'_, PyAny>) -> PyResult<()> {
        let handle = parsed_handle(receipt_handle)?;
        // O(1) and never waits: cheaper than releasing the GIL.
        self.inner.delete(&handle).map_err(to_py_err)
    }

    /// Makes the message received with this receipt handle invisible for `seconds` from now.
    fn change_visibility(
        &self,
        py: Python<'_>,
        receipt_handle: &Bound<'_, PyAny>,
        seconds: i64,
    ) -> PyResult<()> {
        let handle = parsed_handle(receipt_handle)?;
        let seconds = count("VisibilityTimeout", Some(seconds))?.unwrap_or(0);
        py.enter(|| self.inner.change_visibility(&handle, seconds))
    }

    /// Deletes up to 10 messages, given as `Message`s or receipt handles.
    fn delete_batch<'py>(
        &self,
        py: Python<'py>,
        items: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let entries = self::items(items, "delete_batch items")?
            .iter()
            .enumerate()
            .map(|(i, item)| Ok((i.to_string(), batch_handle(item)?)))
            .collect::<PyResult<Vec<_>>>()?;
        let results = py.enter(|| self.inner.delete_batch(entries, SQS_BATCH_LIMIT))?;
        batch_results(py, results, |()| None)
    }

    /// Changes the visibility of up to 10 messages, given as `(Message or handle, seconds)`.
    fn change_visibility_batch<'py>(
        &self,
        py: Python<'py>,
        items: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let entries = self::items(items, "change_visibility_batch items")?
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let (handle, seconds): (Bound<'py, PyAny>, i64) = item.extract().map_err(|_| {
                    PyTypeError::new_err(
                        "change_visibility_batch items must be (Message or receipt handle, seconds)",
                    )
                })?;
                let seconds = count("VisibilityTimeout", Some(seconds))?.unwrap_or(0);
                Ok((i.to_string(), batch_handle(&handle)?, seconds))
            })
            .collect::<PyResult<Vec<_>>>()?;
        let results = py.enter(|| self.inner.change_visibility_batch(entries, SQS_BATCH_LIMIT))?;
        batch_results(py, results, |()| None)
    }

    /// Deletes every message. Fails with `PurgeQueueInProgress` within 60 s of the last purge.
    fn purge(&self, py: Python<'_>) -> PyResult<()> {
        py.enter(|| self.inner.purge())
    }

    /// Message counts: `visible`, `in_flight`, `delayed`, and `oldest_age_seconds`.
    fn counts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let counts = py.enter_ok(|| self.inner.counts());
        let dict = PyDict::new(py);
        dict.set_item("visible", counts.visible)?;
        dict.set_item("in_flight", counts.in_flight)?;
        dict.set_item("delayed", counts.delayed)?;
        dict.set_item("oldest_age_seconds", counts.oldest_age_ms / 1000)?;
        Ok(dict)
    }

    fn __repr__(&self) -> String {
        format!(
            "Queue(name='{}', arn='{}')",
            self.inner.name(),
            self.inner.arn()
        )
    }
}

impl Queue {
    fn attributes_named<'py>(
        &self,
        py: Python<'py>,
        names: Vec<String>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let attributes = py.enter(|| self.inner.attributes(&names))?;
        let dict = PyDict::new(py);
        for (name, value) in attributes {
            dict.set_item(name, value)?;
        }
        Ok(dict)
    }
}

/// The name of a queue given by name or as a `Queue`.
pub(crate) fn queue_name(ob: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(queue) = ob.cast::<Queue>() {
        Ok(queue.get().inner.name().to_string())
    } else {
        ob.extract::<String>()
            .map_err(|_| PyTypeError::new_err("expected a queue name (str) or a Queue"))
    }
}

/// The items of a batch argument, which must be an iterable but not one body.
fn items<'py>(ob: &Bound<'py, PyAny>, what: &str) -> PyResult<Vec<Bound<'py, PyAny>>> {
    if ob.is_instance_of::<PyString>() || ob.is_instance_of::<PyBytes>() {
        return Err(PyTypeError::new_err(format!(
            "{what} must be a list, not a single str or bytes"
        )));
    }
    ob.try_iter()?.collect()
}

/// One `send_batch` entry: a body (id = its position) or a dict.
fn send_entry(index: usize, entry: &Bound<'_, PyAny>) -> PyResult<(String, SendMessage)> {
    let Ok(dict) = entry.cast::<PyDict>() else {
        if !(entry.is_instance_of::<PyBytes>() || entry.is_instance_of::<PyString>()) {
            return Err(PyTypeError::new_err(
                "send_batch entries must be bodies (bytes or str) or dicts",
            ));
        }
        return Ok((index.to_string(), SendMessage::new(convert::body(entry)?)));
    };
    let mut id = None;
    let mut message = SendMessage::default();
    let mut has_body = false;
    for (key, value) in dict.iter() {
        match key.extract::<String>().as_deref() {
            Ok("id") => id = Some(value.extract::<String>()?),
            Ok("body") => {
                message.body = convert::body(&value)?.into();
                has_body = true;
            }
            Ok("delay_seconds") => {
                message.delay_seconds = count("DelaySeconds", value.extract()?)?;
            }
            Ok("attributes") => message.attributes = message_attributes(Some(&value))?,
            _ => {
                return Err(PyTypeError::new_err(format!(
                    "unexpected key {key:?} in a send_batch entry (keys: id, body, delay_seconds, attributes)"
                )));
            }
        }
    }
    if !has_body {
        return Err(PyTypeError::new_err(
            "a send_batch entry dict needs a 'body'",
        ));
    }
    Ok((id.unwrap_or_else(|| index.to_string()), message))
}

/// A receipt handle given as a string or as the `Message` it was received with.
fn parsed_handle(ob: &Bound<'_, PyAny>) -> PyResult<ReceiptHandle> {
    if let Ok(message) = ob.cast::<Message>() {
        Ok(*message.get().inner.handle())
    } else if let Ok(s) = ob.cast::<PyString>() {
        s.to_cow()?.parse().map_err(to_py_err)
    } else {
        Err(handle_type_error())
    }
}

/// A batch entry's receipt handle: a `Message`'s, already parsed, or a string the engine parses
/// per entry (so that a bad one fails only its entry).
enum BatchHandle {
    Parsed(ReceiptHandle),
    Text(String),
}

impl AsHandle for BatchHandle {
    fn as_handle(&self) -> sqsfast_core::Result<ReceiptHandle> {
        match self {
            Self::Parsed(h) => Ok(*h),
            Self::Text(s) => s.as_handle(),
        }
    }
}

fn batch_handle(ob: &Bound<'_, PyAny>) -> PyResult<BatchHandle> {
    if let Ok(message) = ob.cast::<Message>() {
        Ok(BatchHandle::Parsed(*message.get().inner.handle()))
    } else if let Ok(s) = ob.cast::<PyString>() {
        Ok(BatchHandle::Text(s.to_cow()?.into_owned()))
    } else {
        Err(handle_type_error())
    }
}

fn handle_type_error() -> PyErr {
    PyTypeError::new_err("expected a receipt handle (str) or a Message")
}

/// `list[BatchResult]` of an engine batch result, in the order of the entries.
fn batch_results<'py, T>(
    py: Python<'py>,
    results: sqsfast_core::queue::BatchResult<T>,
    message_id: impl Fn(&T) -> Option<String>,
) -> PyResult<Bound<'py, PyList>> {
    let class = BATCH_RESULT.import(py, "sqsfast._types", "BatchResult")?;
    let results = results
        .iter()
        .map(|(id, result)| match result {
            Ok(value) => class.call1((id, message_id(value), py.None())),
            Err(err) => class.call1((id, py.None(), error_value(py, err)?)),
        })
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, results)
}
