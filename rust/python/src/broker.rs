//! `sqsfast.Broker`: a queue engine in this process, the registry of its queues.

use crate::attributes::QueueSettings;
use crate::convert::str_pairs;
use crate::error::to_py_err;
use crate::queue::{Queue, queue_name};
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use sqsfast_core::{BrokerConfig, FsyncMode, RecoveryReport, StorageConfig};
use std::path::PathBuf;
use std::time::Duration;

/// An in-process queue engine with Amazon SQS standard-queue semantics. Safe to share between
/// threads.
#[pyclass(frozen, module = "sqsfast._core")]
pub struct Broker {
    pub(crate) inner: sqsfast_core::Broker,
    recovery: Option<RecoveryReport>,
}

#[pymethods]
impl Broker {
    /// In memory by default; with `data_dir`, durable: queues and messages are read back from the
    /// directory and every change is kept there (`fsync`: `"always"`, `"interval"` or `"never"`).
    /// `memory_budget_mb` caps the message bodies held in memory; past it they stay on disk.
    #[new]
    #[pyo3(signature = (*, account_id=None, region=None, data_dir=None, fsync="interval", fsync_interval_ms=10, skip_corrupt=false, memory_budget_mb=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        account_id: Option<String>,
        region: Option<String>,
        data_dir: Option<PathBuf>,
        fsync: &str,
        fsync_interval_ms: u64,
        skip_corrupt: bool,
        memory_budget_mb: Option<u64>,
    ) -> PyResult<Self> {
        let mut config = BrokerConfig::default();
        if let Some(account_id) = account_id {
            config.account_id = account_id;
        }
        if let Some(region) = region {
            config.region = region;
        }
        let Some(dir) = data_dir else {
            return Ok(Self {
                inner: sqsfast_core::Broker::new(config),
                recovery: None,
            });
        };
        if fsync_interval_ms == 0 {
            return Err(PyValueError::new_err(
                "fsync_interval_ms must be at least 1",
            ));
        }
        let storage = StorageConfig {
            fsync: fsync.parse::<FsyncMode>().map_err(PyValueError::new_err)?,
            fsync_interval: Duration::from_millis(fsync_interval_ms),
            skip_corrupt,
            memory_budget: memory_budget_mb.map(|mb| mb << 20),
            ..StorageConfig::new(dir)
        };
        let (inner, report) = py
            .detach(|| sqsfast_core::Broker::open(config, storage))
            .map_err(|e| PyOSError::new_err(e.to_string()))?;
        Ok(Self {
            inner,
            recovery: Some(report),
        })
    }

    /// Whether the broker keeps its data in a directory.
    #[getter]
    fn durable(&self) -> bool {
        self.inner.is_durable()
    }

    /// What opening the data directory found (`None` in memory): counts, the time it took, torn
    /// records cut off and damaged ones skipped.
    #[getter]
    fn recovery<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(r) = &self.recovery else {
            return Ok(None);
        };
        let d = PyDict::new(py);
        d.set_item("segments", r.segments)?;
        d.set_item("records", r.records)?;
        d.set_item("bytes", r.bytes)?;
        d.set_item("messages", r.messages)?;
        d.set_item("seconds", r.elapsed.as_secs_f64())?;
        let truncated: Vec<(String, u64)> = r
            .truncated
            .iter()
            .map(|(p, o)| (p.display().to_string(), *o))
            .collect();
        d.set_item("truncated", truncated)?;
        let skipped: Vec<(String, u64, u64, String)> = r
            .skipped
            .iter()
            .map(|(p, o, n, why)| (p.display().to_string(), *o, *n, why.clone()))
            .collect();
        d.set_item("skipped", skipped)?;
        Ok(Some(d))
    }

    /// The log's size and live data (`None` in memory), and its last I/O error if it has not
    /// written successfully since.
    fn storage_stats<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(s) = self.inner.storage_stats() else {
            return Ok(None);
        };
        let d = PyDict::new(py);
        d.set_item("segments", s.segments)?;
        d.set_item("log_bytes", s.log_bytes)?;
        d.set_item("live_bytes", s.live_bytes)?;
        d.set_item("live_messages", s.live_messages)?;
        d.set_item("body_bytes_in_memory", s.body_bytes_in_memory)?;
        d.set_item("bodies_on_disk", s.bodies_on_disk)?;
        d.set_item("messages_on_disk", s.messages_on_disk)?;
        d.set_item("error", s.error)?;
        Ok(Some(d))
    }

    /// Writes and syncs what is pending and releases the data directory; later sends fail. Does
    /// nothing in memory.
    fn close(&self, py: Python<'_>) {
        py.detach(|| self.inner.close());
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        _exc_type: &Bound<'_, PyAny>,
        _exc: &Bound<'_, PyAny>,
        _tb: &Bound<'_, PyAny>,
    ) {
        self.close(py);
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
