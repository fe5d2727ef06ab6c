//! Queue attributes given as snake-case keywords (`visibility_timeout=60`), turned into the SQS
//! names and string values the engine takes (`VisibilityTimeout`, `"60"`). The engine validates.

use crate::convert::str_pairs;
use crate::queue::Queue;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use sqsfast_core::{Broker, RedrivePolicy};

/// The `maxReceiveCount` of a `RedrivePolicy` made from `dead_letter_queue` alone.
const DEFAULT_MAX_RECEIVE_COUNT: i64 = 10;

/// The attribute keywords of `Broker.create_queue` and `Queue.set_attributes`.
pub(crate) struct QueueSettings<'py> {
    pub visibility_timeout: Option<i64>,
    pub message_retention_period: Option<i64>,
    pub delay_seconds: Option<i64>,
    pub receive_wait_time_seconds: Option<i64>,
    pub maximum_message_size: Option<i64>,
    /// A queue name or a `Queue`.
    pub dead_letter_queue: Option<Bound<'py, PyAny>>,
    pub max_receive_count: Option<i64>,
    /// Raw SQS names and string values, applied before the keywords.
    pub attributes: Option<Bound<'py, PyAny>>,
}

impl QueueSettings<'_> {
    /// The attributes by SQS name, in the order they apply: `attributes` first, then the keywords.
    ///
    /// `current` is the queue's redrive policy when setting attributes: `max_receive_count` alone
    /// then keeps its dead-letter queue. Without one, the policy lacks `deadLetterTargetArn` and the
    /// engine rejects it, as SQS does.
    pub fn to_sqs(
        &self,
        broker: &Broker,
        current: Option<&RedrivePolicy>,
    ) -> PyResult<Vec<(String, String)>> {
        let mut out = match &self.attributes {
            Some(a) if !a.is_none() => str_pairs(a, "attributes")?,
            _ => Vec::new(),
        };
        let numbers = [
            ("VisibilityTimeout", self.visibility_timeout),
            ("MessageRetentionPeriod", self.message_retention_period),
            ("DelaySeconds", self.delay_seconds),
            (
                "ReceiveMessageWaitTimeSeconds",
                self.receive_wait_time_seconds,
            ),
            ("MaximumMessageSize", self.maximum_message_size),
        ];
        for (name, value) in numbers {
            if let Some(v) = value {
                out.push((name.to_string(), v.to_string()));
            }
        }
        let target = match &self.dead_letter_queue {
            Some(dlq) => Some(dead_letter_arn(broker, dlq)?),
            None => None,
        };
        if target.is_some() || self.max_receive_count.is_some() {
            let mut policy = serde_json::Map::new();
            if let Some(arn) = target.or_else(|| current.map(|p| p.dead_letter_target_arn.clone()))
            {
                policy.insert("deadLetterTargetArn".into(), arn.into());
            }
            let count = self.max_receive_count.unwrap_or(DEFAULT_MAX_RECEIVE_COUNT);
            policy.insert("maxReceiveCount".into(), count.into());
            out.push((
                "RedrivePolicy".to_string(),
                serde_json::Value::Object(policy).to_string(),
            ));
        }
        Ok(out)
    }
}

/// The ARN of a dead-letter queue given by name (of this broker) or as a `Queue`.
fn dead_letter_arn(broker: &Broker, dlq: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(queue) = dlq.cast::<Queue>() {
        Ok(queue.get().inner.arn().to_string())
    } else if let Ok(name) = dlq.extract::<String>() {
        Ok(broker.arn(&name))
    } else {
        Err(PyTypeError::new_err(
            "dead_letter_queue must be a queue name (str) or a Queue",
        ))
    }
}
