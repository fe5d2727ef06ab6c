//! `sqsfast.Broker`: a queue engine in this process, the registry of its queues.

use crate::attributes::QueueSettings;
use crate::convert::str_pairs;
use crate::error::to_py_err;
use crate::queue::{Queue, queue_name};
use pyo3::prelude::*;
use pyo3::types::PyList;
use sqsfast_core::BrokerConfig;

/// An in-process queue engine with Amazon SQS standard-queue semantics. Safe to share between
/// threads.
#[pyclass(frozen, module = "sqsfast._core")]
pub struct Broker {
    pub(crate) inner: sqsfast_core::Broker,
}

#[pymethods]
impl Broker {
    #[new]
    #[pyo3(signature = (*, account_id=None, region=None))]
    fn new(account_id: Option<String>, region: Option<String>) -> Self {
        let mut config = BrokerConfig::default();
        if let Some(account_id) = account_id {
            config.account_id = account_id;
        }
        if let Some(region) = region {
            config.region = region;
        }
        Self {
            inner: sqsfast_core::Broker::new(config),
        }
    }

    /// The account id in queue ARNs.
    #[getter]
    fn account_id(&self) -> &str {
        &self.inner.config().account_id
    }

    /// The region in queue ARNs.
    #[getter]
    fn region(&self) -> &str {
        &self.inner.config().region
    }

    /// Creates a queue, or returns the one of that name if its attributes are the ones given.
    #[pyo3(signature = (
        name,
        *,
        visibility_timeout=None,
        message_retention_period=None,
        delay_seconds=None,
        receive_wait_time_seconds=None,
        maximum_message_size=None,
        dead_letter_queue=None,
        max_receive_count=None,
        attributes=None,
        tags=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn create_queue<'py>(
        slf: &Bound<'py, Self>,
        name: &str,
        visibility_timeout: Option<i64>,
        message_retention_period: Option<i64>,
        delay_seconds: Option<i64>,
        receive_wait_time_seconds: Option<i64>,
        maximum_message_size: Option<i64>,
        dead_letter_queue: Option<Bound<'py, PyAny>>,
        max_receive_count: Option<i64>,
        attributes: Option<Bound<'py, PyAny>>,
        tags: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, Queue>> {
        let broker = &slf.get().inner;
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
        .to_sqs(broker, None)?;
        let tags = match tags {
            Some(t) if !t.is_none() => str_pairs(&t, "tags")?,
            _ => Vec::new(),
        };
        let queue = broker
            .create_queue(name, &attributes, &tags)
            .map_err(to_py_err)?;
        Queue::wrap(slf, queue)
    }

    /// The queue of that name.
    fn queue<'py>(slf: &Bound<'py, Self>, name: &str) -> PyResult<Bound<'py, Queue>> {
        let queue = slf.get().inner.queue(name).map_err(to_py_err)?;
        Queue::wrap(slf, queue)
    }

    /// The queues whose name starts with `prefix`, sorted by name.
    #[pyo3(signature = (prefix=""))]
    fn list_queues<'py>(slf: &Bound<'py, Self>, prefix: &str) -> PyResult<Bound<'py, PyList>> {
        let queues = slf
            .get()
            .inner
            .list_queues(prefix)
            .into_iter()
            .map(|q| Queue::wrap(slf, q))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(slf.py(), queues)
    }

    /// Deletes a queue (by name or `Queue`) and its messages.
    fn delete_queue(&self, name_or_queue: &Bound<'_, PyAny>) -> PyResult<()> {
        let name = queue_name(name_or_queue)?;
        self.inner.delete_queue(&name).map_err(to_py_err)
    }

    /// The queues whose dead-letter queue is this one (by name or `Queue`), sorted by name.
    fn dead_letter_source_queues<'py>(
        slf: &Bound<'py, Self>,
        name_or_queue: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let name = queue_name(name_or_queue)?;
        let queues = slf
            .get()
            .inner
            .dead_letter_source_queues(&name)
            .map_err(to_py_err)?
            .into_iter()
            .map(|q| Queue::wrap(slf, q))
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(slf.py(), queues)
    }

    fn __repr__(&self) -> String {
        let config = self.inner.config();
        format!(
            "Broker(account_id='{}', region='{}', queues={})",
            config.account_id,
            config.region,
            self.inner.list_queues("").len()
        )
    }
}
