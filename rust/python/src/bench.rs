//! `sqsfast._core.bench`: the load generator of `sqsfast bench` (crate `sqsfast-bench`), run with
//! the GIL released. The target is a URL for the native client, or a Python object (a driver
//! written in Python, for `--client python`) that the runner calls, taking the GIL per call.

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use sqsfast_bench::{Config, Driver, Error, Progress, Received, Target, Token, Workload};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// How often the waiting thread looks at Python's signals (Ctrl-C) and the progress channel.
const POLL: Duration = Duration::from_millis(100);

fn secs(name: &str, v: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(v)
        .map_err(|_| PyValueError::new_err(format!("{name} must be a number of seconds >= 0")))
}

/// Runs a benchmark; returns its report as JSON text. See `docs/bench.md`.
///
/// `target` is `"embedded"`, `"grpc://host:port"`, `"http://host:port"`, or a driver object
/// with `name`, `connect()`, `create_queue(name) -> str` and `delete_queue(queue)`, whose
/// connections have `send(queue, bodies)`, `receive(queue, max, wait) -> [(body, token)]` and
/// `delete(queue, tokens)`. `progress(dict)` is called once a second. Ctrl-C stops the run,
/// deletes its queues and raises `KeyboardInterrupt`.
#[pyfunction]
#[pyo3(signature = (
    target, *, workload = "steady", producers = 4, consumers = 4, batch = 10, size = 256,
    queues = 1, duration = Some(10.0), messages = None, rate = None, wait = 1.0,
    drain_timeout = 10.0, queue_prefix = "sqsfast-bench", threads = None, progress = None
))]
#[pyo3(
    text_signature = "(target, *, workload='steady', producers=4, consumers=4, batch=10, \
    size=256, queues=1, duration=10.0, messages=None, rate=None, wait=1.0, drain_timeout=10.0, \
    queue_prefix='sqsfast-bench', threads=None, progress=None)"
)]
#[allow(clippy::too_many_arguments)]
pub fn bench(
    py: Python<'_>,
    target: &Bound<'_, PyAny>,
    workload: &str,
    producers: usize,
    consumers: usize,
    batch: usize,
    size: usize,
    queues: usize,
    duration: Option<f64>,
    messages: Option<u64>,
    rate: Option<f64>,
    wait: f64,
    drain_timeout: f64,
    queue_prefix: &str,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    let cfg = Config {
        workload: workload
            .parse::<Workload>()
            .map_err(PyValueError::new_err)?,
        producers,
        consumers,
        batch,
        size,
        queues,
        duration: duration.map(|d| secs("duration", d)).transpose()?,
        messages,
        rate,
        wait: secs("wait", wait)?,
        drain_timeout: secs("drain_timeout", drain_timeout)?,
        queue_prefix: queue_prefix.to_owned(),
        threads,
    };
    cfg.validate().map_err(PyValueError::new_err)?;
    let run: Box<dyn FnOnce(Arc<AtomicBool>, mpsc::Sender<Progress>) -> RunResult + Send> =
        if let Ok(url) = target.extract::<String>() {
            let t: Target = url.parse().map_err(PyValueError::new_err)?;
            t.check(&cfg)
                .map_err(|e| PyValueError::new_err(e.to_string()))?;
            Box::new(move |cancel, tx| {
                let cb = move |p: &Progress| {
                    let _ = tx.send(p.clone());
                };
                sqsfast_bench::run_target(&t, cfg, cancel, Some(&cb))
            })
        } else {
            let name = target
                .getattr("name")
                .and_then(|n| n.extract::<String>())
                .unwrap_or_else(|_| "python".into());
            let driver = PyDriver {
                obj: Arc::new(target.clone().unbind()),
                name,
            };
            Box::new(move |cancel, tx| {
                let cb = move |p: &Progress| {
                    let _ = tx.send(p.clone());
                };
                sqsfast_bench::run_blocking(driver, cfg, cancel, Some(&cb))
            })
        };
    let cancel = Arc::new(AtomicBool::new(false));
    let (tx, mut rx) = mpsc::channel();
    let runner = {
        let cancel = cancel.clone();
        std::thread::Builder::new()
            .name("sqsfast-bench".into())
            .spawn(move || run(cancel, tx))
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?
    };
    let mut raised: Option<PyErr> = None;
    loop {
        let (got, back) = py.detach(move || (rx.recv_timeout(POLL), rx));
        rx = back;
        match got {
            Ok(p) => {
                if let (Some(cb), None) = (&progress, &raised)
                    && let Err(e) = progress_dict(py, &p).and_then(|d| cb.call1(py, (d,)))
                {
                    cancel.store(true, Ordering::Relaxed);
                    raised = Some(e);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if raised.is_none()
            && let Err(e) = py.check_signals()
        {
            // Stop; the runner still deletes the run's queues before it returns.
            cancel.store(true, Ordering::Relaxed);
            raised = Some(e);
        }
    }
    let result = py
        .detach(move || runner.join())
        .map_err(|_| PyRuntimeError::new_err("the benchmark runner panicked"))?;
    if let Some(e) = raised {
        return Err(e);
    }
    let report = result.map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    serde_json::to_string(&report).map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

type RunResult = Result<sqsfast_bench::Report, Error>;

fn progress_dict<'py>(py: Python<'py>, p: &Progress) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("elapsed_s", p.elapsed_s)?;
    d.set_item("phase", p.phase)?;
    d.set_item("sent", p.sent)?;
    d.set_item("received", p.received)?;
    d.set_item("duplicates", p.duplicates)?;
    d.set_item("errors", p.errors)?;
    d.set_item("send_per_s", p.send_per_s)?;
    d.set_item("receive_per_s", p.receive_per_s)?;
    Ok(d)
}

/// Calls Python from a runner task: the task's worker thread hands its other tasks to another
/// thread meanwhile (`block_in_place`), since the call blocks on the GIL and on I/O.
fn call<T>(f: impl FnOnce(Python<'_>) -> PyResult<T>) -> Result<T, Error> {
    tokio::task::block_in_place(|| Python::attach(|py| f(py).map_err(|e| e.to_string().into())))
}

/// A driver written in Python (`--client python`).
struct PyDriver {
    obj: Arc<Py<PyAny>>,
    name: String,
}

struct PyConn {
    obj: Py<PyAny>,
}

impl Driver for PyDriver {
    type Conn = PyConn;

    fn name(&self) -> String {
        self.name.clone()
    }

    fn connect(&self) -> impl Future<Output = Result<PyConn, Error>> + Send {
        let obj = self.obj.clone();
        async move {
            let c = call(|py| obj.call_method0(py, "connect"))?;
            Ok(PyConn { obj: c })
        }
    }

    fn create_queue(&self, name: &str) -> impl Future<Output = Result<String, Error>> + Send {
        let obj = self.obj.clone();
        let name = name.to_owned();
        async move {
            call(|py| {
                obj.call_method1(py, "create_queue", (name,))?
                    .extract::<String>(py)
            })
        }
    }

    fn delete_queue(&self, queue: &str) -> impl Future<Output = Result<(), Error>> + Send {
        let obj = self.obj.clone();
        let queue = queue.to_owned();
        async move { call(|py| obj.call_method1(py, "delete_queue", (queue,)).map(drop)) }
    }
}

impl sqsfast_bench::Conn for PyConn {
    fn send(
        &mut self,
        queue: &str,
        bodies: &[bytes::Bytes],
    ) -> impl Future<Output = Result<(), Error>> + Send {
        let r = call(|py| {
            let list = PyList::new(py, bodies.iter().map(|b| PyBytes::new(py, b)))?;
            self.obj.call_method1(py, "send", (queue, list)).map(drop)
        });
        std::future::ready(r)
    }

    fn receive(
        &mut self,
        queue: &str,
        max: usize,
        wait: Duration,
    ) -> impl Future<Output = Result<Vec<Received>, Error>> + Send {
        let r = call(|py| {
            let got = self
                .obj
                .call_method1(py, "receive", (queue, max, wait.as_secs_f64()))?;
            let mut out = Vec::new();
            for item in got.bind(py).try_iter()? {
                let (body, token): (Vec<u8>, Bound<'_, PyAny>) = item?.extract()?;
                let token = match token.extract::<u64>() {
                    Ok(n) => Token::U64(n),
                    Err(_) => Token::Str(token.extract::<String>()?),
                };
                out.push(Received {
                    body: body.into(),
                    token,
                });
            }
            Ok(out)
        });
        std::future::ready(r)
    }

    fn delete(
        &mut self,
        queue: &str,
        tokens: Vec<Token>,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        let r = call(|py| {
            let list = PyList::empty(py);
            for t in tokens {
                match t {
                    Token::Str(s) => list.append(s)?,
                    Token::Bytes(b) => list.append(String::from_utf8_lossy(&b))?,
                    Token::U64(n) => list.append(n)?,
                }
            }
            self.obj.call_method1(py, "delete", (queue, list)).map(drop)
        });
        std::future::ready(r)
    }
}
