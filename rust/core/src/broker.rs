//! The broker: the registry of queues by name, and what queues share (clock, secrets, identity).

use crate::attributes::{self, QueueConfig};
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, ErrorCode, Result};
use crate::handle::Secrets;
use crate::queue::{self, Queue};
use crate::sync::atomic::{AtomicU64, Ordering};
use dashmap::DashMap;
use std::collections::BTreeMap;
use std::sync::Arc;

/// After a queue is deleted, its name can be used again only after this long, as in SQS.
const DELETED_NAME_COOLDOWN_MS: u64 = 60_000;

/// Who the broker says it is, and where its time comes from.
#[derive(Clone, Debug)]
pub struct BrokerConfig {
    /// The account id in queue URLs and ARNs.
    pub account_id: String,
    /// The region in ARNs.
    pub region: String,
    /// The SenderId system attribute of messages sent without an authenticated identity.
    pub sender_id: String,
    pub clock: Arc<dyn Clock>,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        Self {
            account_id: "000000000000".into(),
            region: "us-east-1".into(),
            sender_id: "AIDAIENQZJOLO23YVJ4VO".into(),
            clock: Arc::new(SystemClock),
        }
    }
}

pub(crate) struct BrokerInner {
    pub config: BrokerConfig,
    pub secrets: Arc<Secrets>,
    queues: DashMap<String, Arc<Queue>>,
    recently_deleted: DashMap<String, u64>,
    next_id: AtomicU64,
}

impl BrokerInner {
    pub fn now_ms(&self) -> u64 {
        self.config.clock.now_ms()
    }

    pub fn arn(&self, name: &str) -> String {
        format!(
            "arn:aws:sqs:{}:{}:{}",
            self.config.region, self.config.account_id, name
        )
    }

    pub fn queue_by_arn(&self, arn: &str) -> Option<Arc<Queue>> {
        let name = arn.strip_prefix(&self.arn(""))?;
        self.queues.get(name).map(|q| q.clone())
    }

    pub fn check_redrive(&self, config: &QueueConfig) -> Result<()> {
        if let Some(p) = &config.redrive_policy
            && self.queue_by_arn(&p.dead_letter_target_arn).is_none()
        {
            return Err(Error::invalid_parameter(
                "RedrivePolicy",
                &p.dead_letter_target_arn,
                "Dead letter target does not exist.",
            ));
        }
        Ok(())
    }
}

/// A registry of queues. Cheap to clone (one `Arc`); safe to share between threads.
#[derive(Clone)]
pub struct Broker {
    inner: Arc<BrokerInner>,
}

impl Default for Broker {
    fn default() -> Self {
        Self::new(BrokerConfig::default())
    }
}

impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broker")
            .field("queues", &self.inner.queues.len())
            .finish()
    }
}

impl Broker {
    pub fn new(config: BrokerConfig) -> Self {
        Self {
            inner: Arc::new(BrokerInner {
                config,
                secrets: Arc::new(Secrets::random()),
                queues: DashMap::new(),
                recently_deleted: DashMap::new(),
                next_id: AtomicU64::new(1),
            }),
        }
    }

    pub fn config(&self) -> &BrokerConfig {
        &self.inner.config
    }

    /// The ARN of a queue of this broker with that name.
    pub fn arn(&self, name: &str) -> String {
        self.inner.arn(name)
    }

    /// Creates a queue, or returns the existing one when every attribute given matches it.
    ///
    /// # Errors
    /// `InvalidParameterValue` for a bad name, the errors of [`QueueConfig::apply`],
    /// `QueueNameExists` when a queue of that name has other attribute values, `QueueDeletedRecently`
    /// within 60 s of deleting a queue of that name.
    pub fn create_queue(
        &self,
        name: &str,
        attributes: &[(String, String)],
        tags: &[(String, String)],
    ) -> Result<Arc<Queue>> {
        attributes::validate_queue_name(name)?;
        let mut config = QueueConfig::default();
        config.apply(attributes)?;
        self.inner.check_redrive(&config)?;
        queue::validate_tags(tags)?;
        let now = self.inner.now_ms();
        if let Some(at) = self.inner.recently_deleted.get(name).map(|e| *e) {
            if now < at + DELETED_NAME_COOLDOWN_MS {
                return Err(Error::new(
                    ErrorCode::QueueDeletedRecently,
                    "You must wait 60 seconds after deleting a queue before you can create another with the same name.",
                ));
            }
            self.inner.recently_deleted.remove(name);
        }
        let entry = self.inner.queues.entry(name.to_string());
        if let dashmap::Entry::Occupied(existing) = &entry {
            let existing = existing.get().clone();
            drop(entry);
            let current = existing.config();
            for (attr, _) in attributes {
                if config.get(attr) != current.get(attr) {
                    return Err(Error::new(
                        ErrorCode::QueueNameExists,
                        format!(
                            "A queue already exists with the same name and a different value for attribute {attr}"
                        ),
                    ));
                }
            }
            return Ok(existing);
        }
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let tags: BTreeMap<String, String> = tags.iter().cloned().collect();
        let queue = Arc::new(Queue::new(id, name, config, tags, &self.inner));
        entry.or_insert(queue.clone());
        Ok(queue)
    }

    /// The queue of that name.
    ///
    /// # Errors
    /// `QueueDoesNotExist`.
    pub fn queue(&self, name: &str) -> Result<Arc<Queue>> {
        self.inner
            .queues
            .get(name)
            .map(|q| q.clone())
            .ok_or_else(Error::queue_does_not_exist)
    }

    /// The queue with that ARN, if this broker has it.
    pub fn queue_by_arn(&self, arn: &str) -> Option<Arc<Queue>> {
        self.inner.queue_by_arn(arn)
    }

    /// Queues whose name starts with `prefix`, sorted by name.
    pub fn list_queues(&self, prefix: &str) -> Vec<Arc<Queue>> {
        let mut out: Vec<Arc<Queue>> = self
            .inner
            .queues
            .iter()
            .filter(|e| e.key().starts_with(prefix))
            .map(|e| e.value().clone())
            .collect();
        out.sort_by(|a, b| a.name().cmp(b.name()));
        out
    }

    /// Queues whose RedrivePolicy names `name` as their dead-letter queue, sorted by name.
    ///
    /// # Errors
    /// `QueueDoesNotExist` if there is no queue `name`.
    pub fn dead_letter_source_queues(&self, name: &str) -> Result<Vec<Arc<Queue>>> {
        let dlq = self.queue(name)?;
        Ok(self
            .list_queues("")
            .into_iter()
            .filter(|q| {
                q.config()
                    .redrive_policy
                    .as_ref()
                    .is_some_and(|p| p.dead_letter_target_arn == dlq.arn())
            })
            .collect())
    }

    /// Deletes a queue and its messages.
    ///
    /// # Errors
    /// `QueueDoesNotExist`.
    pub fn delete_queue(&self, name: &str) -> Result<()> {
        let (_, queue) = self
            .inner
            .queues
            .remove(name)
            .ok_or_else(Error::queue_does_not_exist)?;
        queue.mark_deleted();
        self.inner
            .recently_deleted
            .insert(name.to_string(), self.inner.now_ms());
        Ok(())
    }
}
