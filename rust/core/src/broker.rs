//! The broker: the registry of queues by name, and what queues share (clock, secrets, identity).

use crate::attributes::{self, QueueConfig};
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, ErrorCode, Result};
use crate::handle::Secrets;
use crate::queue::{self, Queue};
use crate::storage::{self, Log, Meta, OpenError, RecoveryReport, StorageConfig, StorageStats};
use crate::sync::atomic::{AtomicU64, Ordering};
use dashmap::DashMap;
use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};
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
    /// The data directory's log, in a durable broker.
    pub storage: Option<Arc<Log>>,
    /// Serialises writes of the metadata file.
    meta_lock: Mutex<()>,
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

    /// Writes the queues' metadata to the data directory, in a durable broker.
    pub fn persist(&self) -> Result<()> {
        let Some(log) = &self.storage else {
            return Ok(());
        };
        let _one_at_a_time = self.meta_lock.lock();
        let mut queues: Vec<_> = self.queues.iter().map(|e| e.value().meta()).collect();
        queues.sort_by_key(|q| q.id);
        let meta = Meta {
            ids_key: self.secrets.ids_key(),
            next_queue_id: self.next_id.load(Ordering::Relaxed),
            queues,
        };
        meta.store(log.dir()).map_err(|e| {
            Error::new(
                ErrorCode::ServiceUnavailable,
                format!(
                    "Storage failure: cannot write {}: {e}",
                    log.dir().join("meta.json").display()
                ),
            )
        })
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
    /// A broker that keeps everything in memory.
    pub fn new(config: BrokerConfig) -> Self {
        Self {
            inner: Arc::new(BrokerInner {
                config,
                secrets: Arc::new(Secrets::random()),
                queues: DashMap::new(),
                recently_deleted: DashMap::new(),
                next_id: AtomicU64::new(1),
                storage: None,
                meta_lock: Mutex::new(()),
            }),
        }
    }

    /// A durable broker on a data directory (created if missing): its queues and messages are read
    /// back, and every change is kept there. One process at a time may have a directory open.
    ///
    /// # Errors
    /// [`OpenError::Locked`] when another process has the directory, [`OpenError::Corrupt`] for a
    /// damaged record (unless `skip_corrupt`), I/O errors with the path.
    pub fn open(
        config: BrokerConfig,
        storage: StorageConfig,
    ) -> std::result::Result<(Self, RecoveryReport), OpenError> {
        let dir = storage.dir.clone();
        std::fs::create_dir_all(&dir).map_err(|e| OpenError::io(&dir, e))?;
        let lock = storage::lock_dir(&dir)?;
        let meta = Meta::load(&dir)?;
        let now = config.clock.now_ms();
        let mut replayed = storage::replay(&dir, storage.skip_corrupt, storage.memory_budget, now)?;
        let mut report = std::mem::take(&mut replayed.report);
        let delayed = std::mem::take(&mut replayed.delayed);
        let cold_lists = std::mem::take(&mut replayed.cold_lists);
        let log = Arc::new(Log::new(storage, lock, replayed));
        let secrets = match &meta {
            Some(m) => Secrets::with_ids(m.ids_key),
            None => Secrets::random(),
        };
        let inner = Arc::new(BrokerInner {
            config,
            secrets: Arc::new(secrets),
            queues: DashMap::new(),
            recently_deleted: DashMap::new(),
            next_id: AtomicU64::new(meta.as_ref().map_or(1, |m| m.next_queue_id)),
            storage: Some(log.clone()),
            meta_lock: Mutex::new(()),
        });
        let mut by_id = HashMap::new();
        for q in meta.iter().flat_map(|m| &m.queues) {
            let mut qc = QueueConfig::default();
            qc.apply(&q.attributes).map_err(|e| OpenError::Meta {
                path: dir.join("meta.json"),
                reason: format!("queue {}: {e}", q.name),
            })?;
            let queue = Arc::new(
                Queue::new(q.id, &q.name, qc, q.tags.clone(), &inner).with_times(
                    q.created_s,
                    q.modified_s,
                    q.last_purge_ms,
                ),
            );
            inner.queues.insert(q.name.clone(), queue.clone());
            by_id.insert(q.id, queue);
        }
        if meta.is_none() {
            inner.persist().map_err(|e| {
                OpenError::io(
                    dir.join("meta.json"),
                    std::io::Error::other(e.message.clone()),
                )
            })?;
        }
        let mut messages = 0;
        log.recovered(&delayed, |e, visible_at| {
            match by_id.get(&u64::from(e.queue)) {
                Some(q) => {
                    // Messages on disk whole come back as their queue's list of keys, below.
                    if let Some(data) = &e.data {
                        q.restore(data.clone(), visible_at, now);
                    }
                    messages += 1;
                    true
                }
                None => false,
            }
        });
        for (id, list) in cold_lists {
            if let Some(q) = by_id.get(&id) {
                q.restore_cold(list);
            }
        }
        report.messages = messages;
        Ok((Self { inner }, report))
    }

    /// Whether the broker keeps its data in a directory.
    pub fn is_durable(&self) -> bool {
        self.inner.storage.is_some()
    }

    /// The state of the log, in a durable broker.
    pub fn storage_stats(&self) -> Option<StorageStats> {
        self.inner.storage.as_ref().map(|l| l.stats())
    }

    /// Writes and syncs what the log has pending and releases the data directory. Afterwards sends
    /// fail with `ServiceUnavailable`. A no-op in memory, and the second time.
    pub fn close(&self) {
        if let Some(log) = &self.inner.storage {
            log.close();
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
        if id >= u64::from(u32::MAX) {
            // The log's index keeps queue ids in 32 bits.
            return Err(Error::new(
                ErrorCode::OverLimit,
                "This broker has created as many queues as it can number.",
            ));
        }
        let tags: BTreeMap<String, String> = tags.iter().cloned().collect();
        let queue = Arc::new(Queue::new(id, name, config, tags, &self.inner));
        entry.or_insert(queue.clone());
        if let Err(e) = self.inner.persist() {
            self.inner.queues.remove(name);
            queue.mark_deleted();
            return Err(e);
        }
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
        if self.inner.storage.is_some() {
            queue.discard_all();
            self.inner.persist()?;
        }
        Ok(())
    }
}
