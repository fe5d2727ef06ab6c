//! Message move tasks (DLQ redrive): StartMessageMoveTask, CancelMessageMoveTask,
//! ListMessageMoveTasks.
//!
//! A task moves the messages of a dead-letter queue to a destination queue, or back to each
//! message's source queue, at most `MaxNumberOfMessagesPerSecond` a second. It runs as a tokio task
//! that wakes every 50 ms and moves what its rate allows; the bookkeeping (handle, status, counts)
//! lives here, the moving itself in the engine ([`Queue::move_messages`]).

use super::error::ApiError;
use crate::Shutdown;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use parking_lot::Mutex;
use sqsfast_core::{Broker, Queue, Result};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Without MaxNumberOfMessagesPerSecond, a task moves up to this many messages a second.
const DEFAULT_RATE: u64 = 10_000;
/// The most MaxNumberOfMessagesPerSecond SQS allows.
pub const MAX_RATE: i64 = 500;
const TICK: Duration = Duration::from_millis(50);
/// Finished tasks kept per source queue for ListMessageMoveTasks.
const HISTORY: usize = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Running,
    Completed,
    Cancelling,
    Cancelled,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "RUNNING",
            Status::Completed => "COMPLETED",
            Status::Cancelling => "CANCELLING",
            Status::Cancelled => "CANCELLED",
            Status::Failed => "FAILED",
        }
    }
}

/// One task, shared between its runner and the API.
#[derive(Debug)]
pub struct Task {
    pub handle: String,
    pub source_arn: String,
    pub destination_arn: Option<String>,
    pub rate: Option<u32>,
    pub started_ms: u64,
    pub to_move: u64,
    pub moved: AtomicU64,
    cancel: AtomicBool,
    state: Mutex<(Status, Option<String>)>,
}

impl Task {
    pub fn status(&self) -> (Status, Option<String>) {
        self.state.lock().clone()
    }
    fn finish(&self, status: Status, reason: Option<String>) {
        *self.state.lock() = (status, reason);
    }
}

/// Every task of the server, by source queue ARN, newest last.
#[derive(Debug, Default)]
pub struct MoveTasks {
    by_source: Mutex<HashMap<String, Vec<Arc<Task>>>>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl MoveTasks {
    /// Starts a task.
    ///
    /// # Errors
    /// `ResourceNotFoundException` for a source or destination that does not exist;
    /// `InvalidParameterValue` for a source that is no dead-letter queue, a bad rate, or a source
    /// that already has a running task.
    pub fn start(
        self: &Arc<Self>,
        broker: &Broker,
        shutdown: &Shutdown,
        source_arn: &str,
        destination_arn: Option<&str>,
        rate: Option<i64>,
    ) -> Result<String, ApiError> {
        let source = broker.queue_by_arn(source_arn).ok_or_else(|| {
            ApiError::resource_not_found(
                "The resource that you specified for the SourceArn parameter doesn't exist.",
            )
        })?;
        if broker
            .dead_letter_source_queues(source.name())
            .map_or(true, |v| v.is_empty())
        {
            return Err(ApiError::invalid(
                "SourceArn",
                source_arn,
                "Source queue must be configured as a Dead Letter Queue.",
            ));
        }
        let destination = match destination_arn {
            Some(arn) => Some(broker.queue_by_arn(arn).ok_or_else(|| {
                ApiError::resource_not_found(
                    "The resource that you specified for the DestinationArn parameter doesn't exist.",
                )
            })?),
            None => None,
        };
        let rate = match rate {
            None => None,
            Some(r) if (1..=MAX_RATE).contains(&r) => Some(r as u32),
            Some(r) => {
                return Err(ApiError::invalid(
                    "MaxNumberOfMessagesPerSecond",
                    r,
                    "Must be between 1 and 500.",
                ));
            }
        };
        let mut all = self.by_source.lock();
        let list = all.entry(source_arn.to_string()).or_default();
        if list
            .iter()
            .any(|t| matches!(t.status().0, Status::Running | Status::Cancelling))
        {
            return Err(ApiError::invalid(
                "SourceArn",
                source_arn,
                "There is already a task running. Only one active task is allowed for a source queue arn at a given time.",
            ));
        }
        let id = uuid::Uuid::new_v4();
        let handle = B64.encode(
            serde_json::json!({"taskId": id.to_string(), "sourceArn": source_arn}).to_string(),
        );
        let counts = source.counts();
        let task = Arc::new(Task {
            handle: handle.clone(),
            source_arn: source_arn.to_string(),
            destination_arn: destination_arn.map(str::to_string),
            rate,
            started_ms: now_ms(),
            to_move: counts.visible,
            moved: AtomicU64::new(0),
            cancel: AtomicBool::new(false),
            state: Mutex::new((Status::Running, None)),
        });
        list.push(task.clone());
        if list.len() > HISTORY {
            let excess = list.len() - HISTORY;
            list.drain(..excess);
        }
        drop(all);
        tokio::spawn(run(task, source, destination, shutdown.clone()));
        Ok(handle)
    }

    /// Cancels a running task; returns how many messages it moved.
    ///
    /// # Errors
    /// `ResourceNotFoundException` for an unknown handle; `InvalidParameterValue` for a task that is no
    /// longer running.
    pub fn cancel(&self, handle: &str) -> Result<u64, ApiError> {
        let task = self
            .by_source
            .lock()
            .values()
            .flatten()
            .find(|t| t.handle == handle)
            .cloned()
            .ok_or_else(|| ApiError::resource_not_found("Task does not exist."))?;
        let mut state = task.state.lock();
        if state.0 != Status::Running {
            return Err(ApiError::invalid(
                "TaskHandle",
                handle,
                "Only active tasks can be cancelled.",
            ));
        }
        state.0 = Status::Cancelling;
        task.cancel.store(true, Ordering::Release);
        Ok(task.moved.load(Ordering::Relaxed))
    }

    /// The newest `max` tasks of a source queue, newest first.
    pub fn list(&self, source_arn: &str, max: usize) -> Vec<Arc<Task>> {
        self.by_source
            .lock()
            .get(source_arn)
            .map(|v| v.iter().rev().take(max).cloned().collect())
            .unwrap_or_default()
    }
}

async fn run(
    task: Arc<Task>,
    source: Arc<Queue>,
    destination: Option<Arc<Queue>>,
    shutdown: Shutdown,
) {
    let rate = task.rate.map_or(DEFAULT_RATE, u64::from);
    let started = Instant::now();
    let mut ticker = tokio::time::interval(TICK);
    loop {
        ticker.tick().await;
        if task.cancel.load(Ordering::Acquire) {
            task.finish(Status::Cancelled, None);
            return;
        }
        if shutdown.is_set() {
            task.finish(Status::Failed, Some("The server shut down.".into()));
            return;
        }
        let moved = task.moved.load(Ordering::Relaxed);
        if moved >= task.to_move {
            task.finish(Status::Completed, None);
            return;
        }
        // What the rate allows since the start, less what has moved: steady, whatever the tick.
        let allowed = (started.elapsed().as_millis() as u64 * rate / 1000 + 1)
            .min(task.to_move)
            .saturating_sub(moved);
        if allowed == 0 {
            continue;
        }
        match source.move_messages(destination.as_deref(), allowed as usize) {
            Ok(0) => {
                task.finish(Status::Completed, None);
                return;
            }
            Ok(n) => {
                task.moved.fetch_add(n as u64, Ordering::Relaxed);
            }
            Err(e) => {
                task.finish(Status::Failed, Some(e.message));
                return;
            }
        }
    }
}
