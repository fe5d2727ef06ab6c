//! A standard queue: sharded slots, lock-free ready lists, timers, long polling.
//!
//! Each shard owns a slab of slots (an append-only `boxcar::Vec`, so a slot never moves), a free list
//! of slot indexes, a ready list of hints, a send-order list for retention, a timer wheel and counters.
//! A thread sends to and first receives from its home shard, so two threads mostly touch different
//! cache lines; a receive looks at every shard before it reports the queue empty.
//!
//! A durable queue past its memory budget also keeps a list of messages left on disk whole (their
//! log keys), which receives move into slots as consumers reach them.
//!
//! Send, receive, delete and change-visibility take no lock. The one lock of a shard guards its advance
//! (timers and retention), is only ever `try_lock`ed, and whoever finds it taken goes on: someone else
//! is already doing that work.

use crate::attributes::{self, QueueConfig};
use crate::broker::BrokerInner;
use crate::clock::Clock;
use crate::error::{Error, ErrorCode, Result};
use crate::handle::{ID_BATCH, ReceiptHandle, Secrets};
use crate::message::{
    self, Extras, MessageAttributes, MessageData, MessageId, Received, SendMessage, Sent,
};
use crate::slot::{Claim, Delete, Remove, SlotWord, State, Visibility, Word};
use crate::storage::{Log, Outgoing, QueueMeta, SyncWait, Warmed};
use crate::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use crate::timer::{self, Kind, Wheel};
use arc_swap::ArcSwap;
use crossbeam_queue::SegQueue;
use crossbeam_utils::CachePadded;
use event_listener::{Event, EventListener, IntoNotification as _, Listener as _};
use parking_lot::Mutex;
use std::cell::UnsafeCell;
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// Messages in flight per queue past which receives fail with `OverLimit`, as in SQS.
pub const MAX_IN_FLIGHT: i64 = 120_000;
/// Entries per batch in the SQS API.
pub const SQS_BATCH_LIMIT: usize = 10;
/// Total payload of one batch send.
pub const MAX_BATCH_BYTES: usize = 1_048_576;
/// How often a long poll wakes to look at timers and at its caller's interrupt check.
const POLL_SLICE: Duration = Duration::from_millis(50);
const PURGE_COOLDOWN_MS: u64 = 60_000;

#[derive(Default)]
struct Slot {
    word: SlotWord,
    /// The message. Written only by whoever owns the slot by the protocol of [`crate::slot`]: the
    /// sender that took it off the free list (before `publish`), the receiver that claimed it, and
    /// whoever freed it (before it goes back on the free list). Read only by the sender or the
    /// claimer.
    data: UnsafeCell<Option<MessageData>>,
}

// SAFETY: `data` is only touched by the one thread that owns the slot at that moment, as the slot
// word's transitions (acquire/release) establish; see the field's comment.
unsafe impl Sync for Slot {}

impl Slot {
    /// # Safety
    /// The caller owns the slot: it took it off the free list, or claimed it, or freed it.
    unsafe fn data(&self) -> Option<&MessageData> {
        // SAFETY: per this function's contract, no other thread writes `data` meanwhile.
        unsafe { (*self.data.get()).as_ref() }
    }

    /// # Safety
    /// As for [`Slot::data`].
    unsafe fn set_data(&self, data: Option<MessageData>) -> Option<MessageData> {
        // SAFETY: per this function's contract, no other thread reads or writes `data` meanwhile.
        unsafe { std::mem::replace(&mut *self.data.get(), data) }
    }
}

#[derive(Default)]
struct Counts {
    ready: AtomicI64,
    in_flight: AtomicI64,
    delayed: AtomicI64,
}

impl Counts {
    fn of(&self, state: State) -> Option<&AtomicI64> {
        match state {
            State::Ready => Some(&self.ready),
            State::InFlight => Some(&self.in_flight),
            State::Delayed => Some(&self.delayed),
            State::Free | State::Claimed => None,
        }
    }
    fn moved(&self, from: State, to: State) {
        if let Some(c) = self.of(from) {
            c.fetch_sub(1, Ordering::Relaxed);
        }
        if let Some(c) = self.of(to) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// What only the holder of a shard's advance token touches.
/// An entry of a shard's send-order list: slot, generation, sent time. The sent time is kept here
/// because only a slot's owner may read its data.
#[derive(Clone, Copy)]
struct SentEntry {
    index: u32,
    generation: u32,
    sent_at: u64,
}

struct AdvanceState {
    /// Entries taken off `sent`, in send order, ahead of those still on it: the oldest not yet
    /// known to be gone, and the live ones taken past it ([`Queue::trim_sent`]).
    taken: VecDeque<SentEntry>,
}

struct Shard {
    slots: boxcar::Vec<Slot>,
    free: SegQueue<u32>,
    /// Hints (slot, generation) of ready messages.
    ready: SegQueue<(u32, u32)>,
    /// Messages in send order: retention and the oldest message's age.
    sent: SegQueue<SentEntry>,
    timers: Wheel,
    counts: CachePadded<Counts>,
    advance: Mutex<AdvanceState>,
    /// Sent time of the oldest message, `u64::MAX` when none.
    oldest: AtomicU64,
}

/// The number of messages in each state, exact when the queue is quiet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueCounts {
    pub visible: u64,
    pub in_flight: u64,
    pub delayed: u64,
    /// Age of the oldest message in ms, 0 when the queue is empty.
    pub oldest_age_ms: u64,
}

/// How to receive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiveOptions {
    /// 1 to `max_batch` (default 1).
    pub max_messages: u32,
    /// Overrides the queue's VisibilityTimeout for these messages, 0–43 200 s.
    pub visibility_timeout: Option<u32>,
    /// Long-poll wait, 0–20 s; `None` takes the queue's ReceiveMessageWaitTimeSeconds.
    pub wait_seconds: Option<u32>,
    /// The largest `max_messages` the front end allows: 10 in the SQS API, more over gRPC.
    pub max_batch: u32,
}

impl Default for ReceiveOptions {
    fn default() -> Self {
        Self {
            max_messages: 1,
            visibility_timeout: None,
            wait_seconds: None,
            max_batch: 10,
        }
    }
}

impl ReceiveOptions {
    /// Checks the options' ranges, as every receive does.
    ///
    /// # Errors
    /// `InvalidParameterValue` for `max_messages` outside 1 to `max_batch`, a visibility timeout over
    /// 43 200 s or a wait over 20 s.
    pub fn validate(&self) -> Result<()> {
        if self.max_messages < 1 || self.max_messages > self.max_batch {
            return Err(Error::invalid_parameter(
                "MaxNumberOfMessages",
                self.max_messages,
                &format!("Must be between 1 and {}, if provided.", self.max_batch),
            ));
        }
        if let Some(v) = self.visibility_timeout
            && v > attributes::MAX_VISIBILITY_TIMEOUT
        {
            return Err(Error::invalid_parameter(
                "VisibilityTimeout",
                v,
                "Must be between 0 and 43200, if provided.",
            ));
        }
        if let Some(w) = self.wait_seconds
            && w > attributes::MAX_WAIT_SECONDS
        {
            return Err(Error::invalid_parameter(
                "WaitTimeSeconds",
                w,
                "Must be >= 0 and <= 20, if provided.",
            ));
        }
        Ok(())
    }
}

/// One entry's outcome in a batch: its id (as the caller gave it) and its result.
pub type BatchResult<T, I = String> = Vec<(I, Result<T>)>;

thread_local! {
    static HOME: usize = {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    };
}

fn shard_count() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 16)
        .next_power_of_two()
}

/// A standard queue. Shared as `Arc<Queue>`; every method is safe to call from many threads.
pub struct Queue {
    id: u64,
    name: String,
    arn: String,
    created_s: u64,
    modified_s: AtomicU64,
    config: ArcSwap<QueueConfig>,
    tags: Mutex<BTreeMap<String, String>>,
    shards: Box<[Shard]>,
    shard_bits: u32,
    event: Event,
    last_purge_ms: AtomicU64,
    deleted: AtomicBool,
    broker: Weak<BrokerInner>,
    clock: Arc<dyn Clock>,
    secrets: Arc<Secrets>,
    /// The broker's log, in a durable broker.
    storage: Option<Arc<Log>>,
    cold: Cold,
}

/// Messages a durable queue past its memory budget keeps on disk only, header and body: never
/// received, not delayed, known here by their log key and sent time, in send order. Consumers move
/// them into slots as they reach them ([`Queue::promote`]). While there are any, new sends join
/// them, so that messages are met in about the order they came.
#[derive(Default)]
struct Cold {
    list: Mutex<VecDeque<(u64, u64)>>,
    len: AtomicI64,
    /// Sent time of the first, `u64::MAX` when none.
    oldest: AtomicU64,
}

impl Cold {
    fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed).max(0) as usize
    }
    /// Updates `len` and `oldest` after a change of `list` (whose lock the caller holds).
    fn changed(&self, list: &VecDeque<(u64, u64)>) {
        self.len.store(list.len() as i64, Ordering::Relaxed);
        let oldest = list.front().map_or(u64::MAX, |(_, sent)| *sent);
        self.oldest.store(oldest, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("name", &self.name)
            .field("id", &self.id)
            .finish()
    }
}

impl Queue {
    pub(crate) fn new(
        id: u64,
        name: &str,
        config: QueueConfig,
        tags: BTreeMap<String, String>,
        broker: &Arc<BrokerInner>,
    ) -> Self {
        let now = broker.now_ms();
        let n = shard_count();
        Self {
            id,
            name: name.to_string(),
            arn: broker.arn(name),
            created_s: now / 1000,
            modified_s: AtomicU64::new(now / 1000),
            config: ArcSwap::from_pointee(config),
            tags: Mutex::new(tags),
            shards: (0..n)
                .map(|_| Shard {
                    slots: boxcar::Vec::new(),
                    free: SegQueue::new(),
                    ready: SegQueue::new(),
                    sent: SegQueue::new(),
                    timers: Wheel::new(now),
                    counts: CachePadded::new(Counts::default()),
                    advance: Mutex::new(AdvanceState {
                        taken: VecDeque::new(),
                    }),
                    oldest: AtomicU64::new(u64::MAX),
                })
                .collect(),
            shard_bits: n.trailing_zeros(),
            event: Event::new(),
            last_purge_ms: AtomicU64::new(0),
            deleted: AtomicBool::new(false),
            broker: Arc::downgrade(broker),
            clock: broker.config.clock.clone(),
            secrets: broker.secrets.clone(),
            storage: broker.storage.clone(),
            cold: Cold {
                oldest: AtomicU64::new(u64::MAX),
                ..Cold::default()
            },
        }
    }

    /// A queue read back from a data directory keeps its timestamps.
    pub(crate) fn with_times(
        mut self,
        created_s: u64,
        modified_s: u64,
        last_purge_ms: u64,
    ) -> Self {
        self.created_s = created_s;
        self.modified_s = AtomicU64::new(modified_s);
        self.last_purge_ms = AtomicU64::new(last_purge_ms);
        self
    }

    /// What a data directory keeps of the queue besides its messages.
    pub(crate) fn meta(&self) -> QueueMeta {
        let config = self.config.load();
        QueueMeta {
            id: self.id,
            name: self.name.clone(),
            created_s: self.created_s,
            modified_s: self.modified_s.load(Ordering::Relaxed),
            last_purge_ms: self.last_purge_ms.load(Ordering::Relaxed),
            attributes: attributes::SETTABLE
                .iter()
                .filter_map(|n| config.get(n).map(|v| (n.to_string(), v)))
                .collect(),
            tags: self.tags.lock().clone(),
        }
    }

    /// Writes the broker's queue metadata, in a durable broker.
    fn persist(&self) -> Result<()> {
        match &self.storage {
            Some(_) => self.broker()?.persist(),
            None => Ok(()),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn arn(&self) -> &str {
        &self.arn
    }
    /// A number never reused for another queue of the same broker.
    pub fn id(&self) -> u64 {
        self.id
    }
    /// The current settable attributes, typed.
    pub fn config(&self) -> Arc<QueueConfig> {
        self.config.load_full()
    }

    pub(crate) fn mark_deleted(&self) {
        self.deleted.store(true, Ordering::Release);
        self.event.notify(usize::MAX);
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted.load(Ordering::Acquire)
    }

    fn check_live(&self) -> Result<()> {
        if self.is_deleted() {
            Err(Error::queue_does_not_exist())
        } else {
            Ok(())
        }
    }

    fn broker(&self) -> Result<Arc<BrokerInner>> {
        self.broker
            .upgrade()
            .ok_or_else(Error::queue_does_not_exist)
    }

    fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    fn home(&self) -> usize {
        HOME.with(|h| *h) & (self.shards.len() - 1)
    }

    fn global_slot(&self, shard: usize, index: u32) -> u32 {
        (index << self.shard_bits) | shard as u32
    }

    fn locate(&self, global: u32) -> Option<(&Shard, u32)> {
        let shard = (global as usize) & (self.shards.len() - 1);
        let index = global >> self.shard_bits;
        let s = &self.shards[shard];
        s.slots.get(index as usize).map(|_| (s, index))
    }

    fn slot(shard: &Shard, index: u32) -> &Slot {
        &shard.slots[index as usize]
    }

    // ---- timers and retention ------------------------------------------------------------------

    /// Runs due timers and retention on every shard whose advance is due and free.
    pub fn tick(&self, now: u64) {
        for shard in self.shards.iter() {
            if shard.timers.due(now)
                && let Some(mut state) = shard.advance.try_lock()
            {
                self.advance(shard, &mut state, now);
            }
        }
        let oldest = self.cold.oldest.load(Ordering::Relaxed);
        if oldest != u64::MAX {
            let retention_ms = self.config.load().message_retention_period as u64 * 1000;
            if oldest + retention_ms <= now
                && let (Some(log), Some(mut list)) = (&self.storage, self.cold.list.try_lock())
            {
                while let Some(&(key, sent)) = list.front()
                    && sent + retention_ms <= now
                {
                    list.pop_front();
                    log.deleted_key(key);
                }
                self.cold.changed(&list);
            }
        }
    }

    fn advance(&self, shard: &Shard, state: &mut AdvanceState, now: u64) {
        let mut woke = 0usize;
        shard.timers.advance(now, |e| {
            let slot = Self::slot(shard, e.slot);
            let generation = (e.word >> 32) as u32;
            match e.kind {
                Kind::Visibility => {
                    if slot.word.expire_visibility(Word::from_bits(e.word)) {
                        shard.counts.moved(State::InFlight, State::Ready);
                        shard.ready.push((e.slot, generation));
                        woke += 1;
                    }
                }
                Kind::Delay => {
                    if slot.word.end_delay(generation) {
                        shard.counts.moved(State::Delayed, State::Ready);
                        shard.ready.push((e.slot, generation));
                        woke += 1;
                    }
                }
                Kind::Retention => match slot.word.remove(generation) {
                    Remove::Removed(prev) => self.release(shard, e.slot, prev),
                    // Being received this very moment: look again at the next advance.
                    Remove::Busy => shard.timers.insert(timer::Entry { deadline: now, ..e }),
                    Remove::Gone => {}
                },
            }
        });
        if woke > 0 {
            self.event.notify(woke.additional());
        }
        // Timers of messages gone since (deleted, expired, moved): every timer action needs the
        // generation it names, which a freed slot no longer has.
        shard
            .timers
            .sweep(|e| Self::slot(shard, e.slot).word.load().generation() == (e.word >> 32) as u32);
        let retention_ms = self.config.load().message_retention_period as u64 * 1000;
        loop {
            let Some(head) = state.taken.front().copied().or_else(|| {
                let h = shard.sent.pop()?;
                state.taken.push_back(h);
                Some(h)
            }) else {
                shard.oldest.store(u64::MAX, Ordering::Relaxed);
                break;
            };
            if Self::gone(shard, &head) {
                state.taken.pop_front();
                continue;
            }
            if head.sent_at + retention_ms <= now {
                match Self::slot(shard, head.index).word.remove(head.generation) {
                    Remove::Removed(prev) => self.release(shard, head.index, prev),
                    Remove::Gone => {}
                    // Being received this very moment: look again at the next advance.
                    Remove::Busy => break,
                }
                state.taken.pop_front();
                continue;
            }
            shard.oldest.store(head.sent_at, Ordering::Relaxed);
            break;
        }
        Self::trim_sent(shard, state);
    }

    /// Whether the message a send-order entry names is gone.
    fn gone(shard: &Shard, e: &SentEntry) -> bool {
        let w = Self::slot(shard, e.index).word.load();
        w.generation() != e.generation || w.state() == State::Free
    }

    /// Keeps the send-order list near the number of live messages. Entries leave it from the front
    /// only, so one message that stays (received again and again, never deleted) would hold every
    /// later entry, 16 bytes per message sent, until its retention period ends. When the list is
    /// much longer than the shard's live messages, entries past the oldest are taken off it: those
    /// of messages gone are dropped, the live ones kept in order.
    fn trim_sent(shard: &Shard, state: &mut AdvanceState) {
        /// Entries an advance looks at, at most, past the oldest.
        const TRIM_BUDGET: usize = 16_384;
        let live = [
            &shard.counts.ready,
            &shard.counts.in_flight,
            &shard.counts.delayed,
        ]
        .iter()
        .map(|c| c.load(Ordering::Relaxed).max(0) as usize)
        .sum::<usize>();
        let slack = 2 * live + 4_096;
        if shard.sent.len() + state.taken.len() <= slack {
            return;
        }
        for _ in 0..TRIM_BUDGET {
            let Some(e) = shard.sent.pop() else { break };
            if !Self::gone(shard, &e) {
                state.taken.push_back(e);
            }
        }
        if state.taken.len() > slack {
            // Those taken earlier may have gone since (each pass at least halves the list).
            state.taken.retain(|e| !Self::gone(shard, e));
        }
    }

    /// Frees a slot that just left `prev` for Free: counters, message, free list.
    fn release(&self, shard: &Shard, index: u32, prev: State) {
        shard.counts.moved(prev, State::Free);
        // SAFETY: the caller's transition to Free made this thread the slot's owner until the slot
        // is back on the free list.
        let data = unsafe { Self::slot(shard, index).set_data(None) };
        if let (Some(log), Some(data)) = (&self.storage, &data) {
            log.deleted(data);
        }
        drop(data);
        shard.free.push(index);
    }

    // ---- send ----------------------------------------------------------------------------------

    /// Sends one message.
    ///
    /// # Errors
    /// `InvalidMessageContents` for characters SQS does not allow, `InvalidParameterValue` for an
    /// empty or oversized message, a bad delay or bad attributes, `QueueDoesNotExist` after deletion.
    pub fn send(&self, message: SendMessage) -> Result<Sent> {
        completed(self.send_with(message, SyncWait::Block))
    }

    /// [`Queue::send`] for a caller on an async runtime: with `fsync = always` the wait for the
    /// log's sync is this future's, not a blocked thread's.
    ///
    /// # Errors
    /// As [`Queue::send`].
    pub async fn send_async(&self, message: SendMessage) -> Result<Sent> {
        self.send_with(message, SyncWait::Async).await
    }

    async fn send_with(&self, message: SendMessage, wait: SyncWait) -> Result<Sent> {
        self.check_live()?;
        let now = self.now_ms();
        let prepared = prepare(message, &self.config.load())?;
        let sent = match &self.storage {
            None => self.enqueue(prepared, now),
            Some(log) => self
                .enqueue_durable(log, vec![prepared], now, wait)
                .await?
                .pop()
                .expect("one sent for one message"),
        };
        self.tick(now);
        Ok(sent)
    }

    /// Sends up to `max_entries` messages (10 in the SQS API). Whole-batch problems fail the call;
    /// a bad entry fails only that entry. Entry ids are any text (`String`, or a slice of the
    /// caller's request); each comes back with its entry's result.
    ///
    /// # Errors
    /// `EmptyBatchRequest`, `TooManyEntriesInBatchRequest`, `BatchEntryIdsNotDistinct`,
    /// `InvalidBatchEntryId`, `BatchRequestTooLong` (over 1 MiB in all).
    pub fn send_batch<I: AsRef<str>, B: AsRef<[u8]>>(
        &self,
        entries: Vec<(I, SendMessage<B>)>,
        max_entries: usize,
    ) -> Result<BatchResult<Sent, I>> {
        completed(self.send_batch_with(entries, max_entries, SyncWait::Block))
    }

    /// [`Queue::send_batch`] for a caller on an async runtime: with `fsync = always` the wait for
    /// the log's sync is this future's, not a blocked thread's.
    ///
    /// # Errors
    /// As [`Queue::send_batch`].
    pub async fn send_batch_async<I: AsRef<str>, B: AsRef<[u8]>>(
        &self,
        entries: Vec<(I, SendMessage<B>)>,
        max_entries: usize,
    ) -> Result<BatchResult<Sent, I>> {
        self.send_batch_with(entries, max_entries, SyncWait::Async)
            .await
    }

    async fn send_batch_with<I: AsRef<str>, B: AsRef<[u8]>>(
        &self,
        entries: Vec<(I, SendMessage<B>)>,
        max_entries: usize,
        wait: SyncWait,
    ) -> Result<BatchResult<Sent, I>> {
        self.check_live()?;
        check_batch(entries.iter().map(|(id, _)| id.as_ref()), max_entries)?;
        let total: usize = entries
            .iter()
            .map(|(_, m)| {
                m.body.as_ref().len()
                    + m.attributes
                        .iter()
                        .map(|(n, v)| n.len() + v.data_type.len() + attr_len(v))
                        .sum::<usize>()
            })
            .sum();
        if total > MAX_BATCH_BYTES {
            return Err(Error::new(
                ErrorCode::BatchRequestTooLong,
                format!(
                    "Batch requests cannot be longer than {MAX_BATCH_BYTES} bytes. You have sent {total} bytes."
                ),
            ));
        }
        let config = self.config.load_full();
        let now = self.now_ms();
        let Some(log) = &self.storage else {
            let out = entries
                .into_iter()
                .map(|(id, m)| {
                    let r = prepare(m, &config).map(|p| self.enqueue(p, now));
                    (id, r)
                })
                .collect();
            self.tick(now);
            return Ok(out);
        };
        // Durable: the good entries go to the log in one write, then into the queue.
        let mut out: BatchResult<Sent, I> = Vec::with_capacity(entries.len());
        let mut good = Vec::with_capacity(entries.len());
        for (id, m) in entries {
            match prepare(m, &config) {
                Ok(p) => {
                    good.push((out.len(), p));
                    out.push((id, Err(Error::new(ErrorCode::InternalFailure, ""))));
                }
                Err(e) => out.push((id, Err(e))),
            }
        }
        let (at, prepared): (Vec<usize>, Vec<Prepared<B>>) = good.into_iter().unzip();
        match self.enqueue_durable(log, prepared, now, wait).await {
            Ok(sent) => {
                for (i, s) in at.into_iter().zip(sent) {
                    out[i].1 = Ok(s);
                }
            }
            Err(e) => {
                for i in at {
                    out[i].1 = Err(e.clone());
                }
            }
        }
        self.tick(now);
        Ok(out)
    }

    /// Sends to a durable queue: the messages are logged (and, as the fsync mode says, written or
    /// synced) before any consumer can see them.
    async fn enqueue_durable<B: AsRef<[u8]>>(
        &self,
        log: &Log,
        prepared: Vec<Prepared<B>>,
        now: u64,
        wait: SyncWait,
    ) -> Result<Vec<Sent>> {
        let mut batch = Vec::with_capacity(prepared.len());
        let mut rest = Vec::with_capacity(prepared.len());
        for p in prepared {
            let (data, delay_ms, md5) = make(p, now);
            let visible_at = if delay_ms > 0 { now + delay_ms } else { 0 };
            batch.push(Outgoing {
                data,
                visible_at,
                cold: false,
            });
            rest.push((delay_ms, md5));
        }
        // Past its memory budget the log keeps messages on disk: the queue keeps what it gives
        // back, or only the key of a message it marks cold.
        log.send(self.id, &mut batch, self.cold.len() > 0, wait)
            .await?;
        let mut cold = Vec::new();
        let sent = batch
            .into_iter()
            .zip(rest)
            .map(|(o, (delay_ms, md5))| {
                if o.cold {
                    let key = o.data.header().key();
                    cold.push((key, o.data.sent_at()));
                    md5.sent(self.secrets.message_id_for_key(self.id, key))
                } else {
                    self.place(o.data, delay_ms, md5, now)
                }
            })
            .collect();
        if !cold.is_empty() {
            let n = cold.len();
            let mut list = self.cold.list.lock();
            list.extend(cold);
            self.cold.changed(&list);
            drop(list);
            self.event.notify(n.additional());
        }
        Ok(sent)
    }

    fn enqueue<B: AsRef<[u8]>>(&self, p: Prepared<B>, now: u64) -> Sent {
        let (data, delay_ms, md5) = make(p, now);
        self.place(data, delay_ms, md5, now)
    }

    /// Puts a new message in the queue: ready, or delayed for `delay_ms`.
    fn place(&self, data: MessageData, delay_ms: u64, md5: Md5s, now: u64) -> Sent {
        let key = data.header().key();
        let (shard_no, index, w) = self.store(data, 0, delay_ms > 0);
        if delay_ms > 0 {
            self.shards[shard_no].timers.insert(timer::Entry {
                deadline: now + delay_ms,
                slot: index,
                kind: Kind::Delay,
                word: w.bits(),
            });
        } else {
            self.event.notify(1.additional());
        }
        let message_id = if key != 0 {
            self.secrets.message_id_for_key(self.id, key)
        } else {
            self.message_id(shard_no, index, w.generation(), now)
        };
        md5.sent(message_id)
    }

    /// Takes the messages of this queue a restart left on disk whole: (log key, sent time).
    pub(crate) fn restore_cold(&self, list: Vec<(u64, u64)>) {
        let mut cold = self.cold.list.lock();
        if cold.is_empty() {
            // The list's own allocation: no copy of what may be tens of millions of entries.
            *cold = VecDeque::from(list);
        } else {
            cold.extend(list);
        }
        self.cold.changed(&cold);
    }

    /// Moves up to `n` messages kept on disk only into slots, ready. Returns how many it moved, and
    /// the error of a message that could not be read (it goes back to the end of the list).
    fn promote(&self, log: &Log, n: usize) -> (usize, Option<String>) {
        let taken: Vec<(u64, u64)> = {
            let mut list = self.cold.list.lock();
            let n = n.min(list.len());
            let taken = list.drain(..n).collect();
            self.cold.changed(&list);
            taken
        };
        if taken.is_empty() {
            return (0, None);
        }
        let keys: Vec<u64> = taken.iter().map(|(k, _)| *k).collect();
        let mut failed = Vec::new();
        let mut error = None;
        let mut moved = 0;
        for (w, entry) in log.warm(&keys).into_iter().zip(taken) {
            match w {
                Warmed::Data(data) => {
                    self.store(data, 0, false);
                    moved += 1;
                }
                Warmed::Gone => {}
                Warmed::Failed(e) => {
                    failed.push(entry);
                    error.get_or_insert(e);
                }
            }
        }
        if !failed.is_empty() {
            let mut list = self.cold.list.lock();
            list.extend(failed);
            self.cold.changed(&list);
        }
        (moved, error)
    }

    /// Puts a message read back from the log in the queue: ready, or delayed until `visible_at`.
    pub(crate) fn restore(&self, data: MessageData, visible_at: u64, now: u64) {
        let receive_count = (data.header().receive_word() >> 48) as u32;
        let delayed = visible_at > now;
        let (shard_no, index, w) = self.store(data, receive_count, delayed);
        if delayed {
            self.shards[shard_no].timers.insert(timer::Entry {
                deadline: visible_at,
                slot: index,
                kind: Kind::Delay,
                word: w.bits(),
            });
        } else {
            self.event.notify(1.additional());
        }
    }

    /// The id of a message: kept from its first queue, derived from its log key in a durable queue,
    /// else from its slot.
    fn id_of(&self, data: &MessageData, shard_no: usize, index: u32, generation: u32) -> MessageId {
        self.kept_id(data)
            .unwrap_or_else(|| self.message_id(shard_no, index, generation, data.sent_at()))
    }

    /// The id of a message kept from its first queue or derived from its log key; `None` for a
    /// message in memory, whose id comes from its slot.
    fn kept_id(&self, data: &MessageData) -> Option<MessageId> {
        if let Some(id) = data.extras().and_then(|e| e.original_id) {
            return Some(id);
        }
        match data.header().key() {
            0 => None,
            key => Some(self.secrets.message_id_for_key(self.id, key)),
        }
    }

    /// Whether the message's id comes from its slot (`kept_id` is `None`).
    fn slot_id(data: &MessageData) -> bool {
        data.header().key() == 0 && data.extras().is_none_or(|e| e.original_id.is_none())
    }

    /// Gives the received messages in memory their ids, [`ID_BATCH`] at a time.
    fn memory_ids(&self, out: &mut [Received]) {
        let mut at = [0; ID_BATCH];
        let mut of = [(0, 0, 0); ID_BATCH];
        let mut ids = [MessageId::from_bits(0); ID_BATCH];
        let mut n = 0;
        for i in 0..=out.len() {
            if let Some(r) = out.get(i).filter(|r| Self::slot_id(&r.data)) {
                (at[n], of[n]) = (i, (r.handle.slot, r.handle.generation, r.data.sent_at()));
                n += 1;
            }
            if n == ID_BATCH || (i == out.len() && n > 0) {
                self.secrets.message_ids(self.id, &of[..n], &mut ids[..n]);
                for (&i, &id) in at.iter().zip(&ids[..n]) {
                    out[i].message_id = id;
                }
                n = 0;
            }
        }
    }

    fn message_id(&self, shard_no: usize, index: u32, generation: u32, sent_at: u64) -> MessageId {
        self.secrets.message_id(
            self.id,
            self.global_slot(shard_no, index),
            generation,
            sent_at,
        )
    }

    /// Puts a message in a free slot of the home shard and lists it. Returns (shard, slot, word).
    fn store(&self, data: MessageData, receive_count: u32, delayed: bool) -> (usize, u32, Word) {
        let shard_no = self.home();
        let shard = &self.shards[shard_no];
        let index = match shard.free.pop() {
            Some(i) => i,
            None => shard.slots.push(Slot::default()) as u32,
        };
        let slot = Self::slot(shard, index);
        let sent_at = data.sent_at();
        // SAFETY: the slot came off the free list (or is new): this thread owns it until `publish`.
        unsafe { slot.set_data(Some(data)) };
        let state = if delayed {
            State::Delayed
        } else {
            State::Ready
        };
        let w = slot.word.publish(receive_count, state);
        shard.counts.moved(State::Free, state);
        if !delayed {
            shard.ready.push((index, w.generation()));
        }
        shard.sent.push(SentEntry {
            index,
            generation: w.generation(),
            sent_at,
        });
        (shard_no, index, w)
    }

    // ---- receive -------------------------------------------------------------------------------

    /// Receives what is available now, without waiting.
    ///
    /// # Errors
    /// `InvalidParameterValue` for options out of range, `OverLimit` past 120 000 messages in flight.
    pub fn receive(&self, options: &ReceiveOptions) -> Result<Vec<Received>> {
        self.check_live()?;
        options.validate()?;
        let now = self.now_ms();
        self.tick(now);
        self.take(options, now)
    }

    fn take(&self, options: &ReceiveOptions, now: u64) -> Result<Vec<Received>> {
        let config = self.config.load();
        let visibility = options
            .visibility_timeout
            .unwrap_or(config.visibility_timeout);
        // Without its broker (dropped) the queue has no dead-letter queue to move to: it delivers.
        let dead_letter = match &config.redrive_policy {
            Some(p) => self
                .broker
                .upgrade()
                .and_then(|b| b.queue_by_arn(&p.dead_letter_target_arn))
                .filter(|q| q.id != self.id)
                .map(|q| (q, p.max_receive_count)),
            None => None,
        };
        let max_receives = dead_letter.as_ref().map(|(_, m)| *m);
        let mut want = options.max_messages as usize;
        if visibility > 0 {
            let room = MAX_IN_FLIGHT - self.in_flight();
            if room <= 0 {
                return Err(Error::new(
                    ErrorCode::OverLimit,
                    format!("Too many messages in flight: at most {MAX_IN_FLIGHT} per queue."),
                ));
            }
            want = want.min(room as usize);
        }
        let mut out: Vec<Received> = Vec::with_capacity(want.min(64));
        // Messages received with visibility 0 stay ready; their hints go back on the ready lists only
        // after this receive, or the loop below would pop them again and return a message twice.
        let mut still_ready = Vec::new();
        let home = self.home();
        // Messages kept on disk only are taken into slots as consumers ask for messages, behind
        // the ready ones: neither kind waits for the other to run out.
        let mut cold_error = None;
        loop {
            let mut promoted = 0;
            if self.cold.len() > 0
                && let Some(log) = &self.storage
            {
                let (moved, error) = self.promote(log, want - out.len());
                if let Some(e) = error {
                    cold_error.get_or_insert(e);
                }
                promoted = moved;
            }
            for i in 0..self.shards.len() {
                let shard_no = (home + i) & (self.shards.len() - 1);
                let shard = &self.shards[shard_no];
                while out.len() < want {
                    let Some((index, generation)) = shard.ready.pop() else {
                        break;
                    };
                    let slot = Self::slot(shard, index);
                    match slot.word.claim(generation, max_receives) {
                        Claim::Stale => {}
                        Claim::Move(claimed) => {
                            let (dlq, _) = dead_letter
                                .as_ref()
                                .expect("moves only with a dead-letter queue");
                            if !self.move_claimed(dlq, shard_no, index, claimed, false, now) {
                                still_ready.push((shard_no, index, generation));
                            }
                        }
                        Claim::Got(claimed) => {
                            // SAFETY: the claim makes this thread the slot's owner until it finishes.
                            let data = unsafe { slot.data() }
                                .expect("a published slot holds its message")
                                .clone();
                            data.header().received_first_at(now);
                            let w = slot.word.finish_receive(claimed, visibility > 0);
                            if visibility > 0 {
                                shard.counts.moved(State::Ready, State::InFlight);
                                shard.timers.insert(timer::Entry {
                                    deadline: now + visibility as u64 * 1000,
                                    slot: index,
                                    kind: Kind::Visibility,
                                    word: w.bits(),
                                });
                            } else {
                                still_ready.push((shard_no, index, generation));
                            }
                            out.push(self.received(data, shard_no, index, w, now));
                        }
                    }
                }
                if out.len() >= want {
                    break;
                }
            }
            if out.len() >= want || promoted == 0 {
                break;
            }
        }
        for (shard_no, index, generation) in still_ready {
            self.shards[shard_no].ready.push((index, generation));
        }
        self.memory_ids(&mut out);
        if let Some(log) = &self.storage
            && !out.is_empty()
        {
            log.received(out.iter().map(|r| (&r.data, r.receive_count)));
            if out.iter().any(|r| r.data.spilled()) {
                return Self::with_bodies(log, out);
            }
        }
        match cold_error {
            Some(e) if out.is_empty() => Err(storage_failure(&e)),
            _ => Ok(out),
        }
    }

    /// Reads back the bodies of received messages kept on disk only. A message whose body cannot
    /// be read is left out (it stays in flight and comes back when its visibility timeout ends);
    /// when none can be, the receive fails with the cause.
    fn with_bodies(log: &Log, mut out: Vec<Received>) -> Result<Vec<Received>> {
        let errors = log.load_bodies(&mut out);
        let mut first_error = None;
        let mut kept = Vec::with_capacity(out.len());
        for (r, e) in out.into_iter().zip(errors) {
            match e {
                None => kept.push(r),
                Some(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) if kept.is_empty() => Err(storage_failure(&e)),
            _ => Ok(kept),
        }
    }

    fn received(
        &self,
        data: MessageData,
        shard_no: usize,
        index: u32,
        w: Word,
        now: u64,
    ) -> Received {
        let global = self.global_slot(shard_no, index);
        // A message in memory gets its id after the receive's loop ([`Queue::memory_ids`]).
        let message_id = self.kept_id(&data).unwrap_or(MessageId::from_bits(0));
        Received {
            loaded: None,
            handle: self
                .secrets
                .sign(self.id, global, w.generation(), w.receive_count(), now),
            message_id,
            receive_count: w.receive_count(),
            data,
        }
    }

    /// Moves a claimed message to `destination`, or (`redrive`) back to the queue it was
    /// dead-lettered from with its receive count reset. Its id, body, attributes and sent time go
    /// with it. Returns false, leaving it ready here (the caller puts it back on a ready list), when
    /// there is nowhere to move it or its body, kept on disk only, cannot be read.
    fn move_claimed(
        &self,
        destination: &Queue,
        shard_no: usize,
        index: u32,
        claimed: Word,
        redrive: bool,
        now: u64,
    ) -> bool {
        let shard = &self.shards[shard_no];
        let slot = Self::slot(shard, index);
        if destination.is_deleted() {
            slot.word.cancel_move(claimed);
            return false;
        }
        // SAFETY: the claim makes this thread the slot's owner until it finishes.
        let data = unsafe { slot.data() }.expect("a published slot holds its message");
        let loaded;
        let body = match &self.storage {
            Some(log) if data.spilled() => match log.read_body(data) {
                Ok(b) => {
                    loaded = b;
                    &loaded[..]
                }
                Err(_) => {
                    slot.word.cancel_move(claimed);
                    return false;
                }
            },
            _ => data.body(),
        };
        let id = self.id_of(data, shard_no, index, claimed.generation());
        let extras = Extras {
            attributes: data.attributes().to_vec(),
            original_id: Some(id),
            dead_letter_source_arn: if redrive {
                None
            } else {
                Some(self.arn.as_str().into())
            },
        };
        let first_receive = data.header().first_receive();
        let moved = MessageData::new(body, data.sent_at(), first_receive, Some(Box::new(extras)));
        let receive_count = if redrive { 0 } else { claimed.receive_count() };
        destination.accept_moved(moved, receive_count, now);
        slot.word.finish_move(claimed);
        self.release(shard, index, State::Ready);
        true
    }

    /// Takes a message moved from another queue: ready now, its receive count and sent time kept, its
    /// retention counted from its first send.
    pub(crate) fn accept_moved(&self, data: MessageData, receive_count: u32, now: u64) {
        let sent_at = data.sent_at();
        let data = match &self.storage {
            Some(log) => {
                data.header().set_logged_receives(receive_count);
                log.moved(self.id, data)
            }
            None => data,
        };
        let (shard_no, index, w) = self.store(data, receive_count, false);
        let retention_ms = self.config.load().message_retention_period as u64 * 1000;
        self.shards[shard_no].timers.insert(timer::Entry {
            deadline: (sent_at + retention_ms).max(now),
            slot: index,
            kind: Kind::Retention,
            word: w.bits(),
        });
        self.event.notify(1.additional());
    }

    fn in_flight(&self) -> i64 {
        self.shards
            .iter()
            .map(|s| s.counts.in_flight.load(Ordering::Relaxed))
            .sum()
    }

    /// The long-poll wait of a receive: its own, or the queue's ReceiveMessageWaitTimeSeconds.
    pub fn wait_for(&self, options: &ReceiveOptions) -> Duration {
        let secs = options
            .wait_seconds
            .unwrap_or_else(|| self.config.load().receive_message_wait_time_seconds);
        Duration::from_secs(secs as u64)
    }

    /// Receives what is there; when nothing is, returns a listener that fires when a send (or a
    /// timer) may have made a message available. Async front ends await it with their own timeout and
    /// call again; they should also call again at least every 50 ms so that timers run.
    ///
    /// # Errors
    /// As [`Queue::receive`].
    pub fn receive_or_listen(
        &self,
        options: &ReceiveOptions,
    ) -> Result<Result<Vec<Received>, EventListener>> {
        let got = self.receive(options)?;
        if !got.is_empty() {
            return Ok(Ok(got));
        }
        let listener = self.event.listen();
        let got = self.receive(options)?;
        if !got.is_empty() {
            return Ok(Ok(got));
        }
        Ok(Err(listener))
    }

    /// Receives, long-polling up to the wait of [`Queue::wait_for`]: returns as soon as a message is
    /// available, or empty when the wait ends. `interrupted` is asked every 50 ms; when it says
    /// true the wait ends early with what there is (nothing).
    ///
    /// # Errors
    /// As [`Queue::receive`]; `QueueDoesNotExist` if the queue is deleted while waiting.
    pub fn receive_blocking(
        &self,
        options: &ReceiveOptions,
        interrupted: &mut dyn FnMut() -> bool,
    ) -> Result<Vec<Received>> {
        let deadline = Instant::now() + self.wait_for(options);
        loop {
            let listener = match self.receive_or_listen(options)? {
                Ok(got) => return Ok(got),
                Err(listener) => listener,
            };
            let now = Instant::now();
            if now >= deadline {
                return Ok(Vec::new());
            }
            listener.wait_deadline((now + POLL_SLICE).min(deadline));
            if interrupted() {
                return Ok(Vec::new());
            }
        }
    }

    // ---- delete and change visibility ----------------------------------------------------------

    fn verify(&self, handle: &ReceiptHandle) -> Result<(&Shard, u32, &Slot)> {
        let invalid = || {
            Error::new(
                ErrorCode::ReceiptHandleIsInvalid,
                format!("The input receipt handle \"{handle}\" is not a valid receipt handle."),
            )
        };
        if !self.secrets.verify(handle, self.id) {
            return Err(invalid());
        }
        let (shard, index) = self.locate(handle.slot).ok_or_else(invalid)?;
        Ok((shard, index, Self::slot(shard, index)))
    }

    /// Deletes the message received with `handle`. An older handle of a message received again since
    /// succeeds without deleting, as in SQS; so does the handle of a message already deleted.
    ///
    /// # Errors
    /// `ReceiptHandleIsInvalid` for a handle this queue did not make.
    pub fn delete(&self, handle: &ReceiptHandle) -> Result<()> {
        self.check_live()?;
        let (shard, index, slot) = self.verify(handle)?;
        if let Delete::Deleted(prev) = slot.word.delete(handle.generation, handle.receive_count) {
            self.release(shard, index, prev);
        }
        Ok(())
    }

    /// [`Queue::delete`] with the handle as a string.
    ///
    /// # Errors
    /// `ReceiptHandleIsInvalid` for a handle that does not parse or was not made by this queue.
    pub fn delete_str(&self, handle: &str) -> Result<()> {
        self.delete(&handle.parse()?)
    }

    /// Deletes a batch of (entry id, receipt handle); handles as strings or parsed.
    ///
    /// # Errors
    /// The batch errors of [`Queue::send_batch`]; a bad handle fails only its entry.
    pub fn delete_batch<I: AsRef<str>, H: AsHandle>(
        &self,
        entries: Vec<(I, H)>,
        max_entries: usize,
    ) -> Result<BatchResult<(), I>> {
        self.check_live()?;
        check_batch(entries.iter().map(|(id, _)| id.as_ref()), max_entries)?;
        Ok(entries
            .into_iter()
            .map(|(id, h)| {
                let r = h.as_handle().and_then(|h| self.delete(&h));
                (id, r)
            })
            .collect())
    }

    /// Makes the message received with `handle` invisible for `timeout` seconds from now (0: visible
    /// now).
    ///
    /// # Errors
    /// `InvalidParameterValue` for a timeout over 12 hours or a message no longer there,
    /// `MessageNotInflight` when its visibility already expired, `ReceiptHandleIsInvalid`.
    pub fn change_visibility(&self, handle: &ReceiptHandle, timeout: u32) -> Result<()> {
        self.check_live()?;
        if timeout > attributes::MAX_VISIBILITY_TIMEOUT {
            return Err(Error::invalid_parameter(
                "VisibilityTimeout",
                timeout,
                "Must be between 0 and 43200.",
            ));
        }
        let (shard, index, slot) = self.verify(handle)?;
        let now = self.now_ms();
        self.tick(now);
        let deadline = now + timeout as u64 * 1000;
        // In whole seconds, as the API counts: 43 200 right after a receive is allowed.
        let elapsed_s = now.saturating_sub(handle.received_at) / 1000;
        if timeout > 0 && elapsed_s + timeout as u64 > attributes::MAX_VISIBILITY_TIMEOUT as u64 {
            let w = slot.word.load();
            if (w.generation(), w.receive_count(), w.state())
                == (handle.generation, handle.receive_count, State::InFlight)
            {
                return Err(Error::invalid_parameter(
                    "VisibilityTimeout",
                    timeout,
                    "Total VisibilityTimeout for the message is beyond the limit [43200 seconds]",
                ));
            }
        }
        match slot
            .word
            .change_visibility(handle.generation, handle.receive_count, timeout == 0)
        {
            Visibility::Changed(w) if w.state() == State::Ready => {
                shard.counts.moved(State::InFlight, State::Ready);
                shard.ready.push((index, w.generation()));
                self.event.notify(1.additional());
                Ok(())
            }
            Visibility::Changed(w) => {
                shard.timers.insert(timer::Entry {
                    deadline,
                    slot: index,
                    kind: Kind::Visibility,
                    word: w.bits(),
                });
                Ok(())
            }
            Visibility::NotInFlight => Err(Error::new(
                ErrorCode::MessageNotInflight,
                "The message referred to isn't in flight.",
            )),
            Visibility::Gone => Err(Error::invalid_parameter(
                "ReceiptHandle",
                handle,
                "Message does not exist or is not available for visibility timeout change.",
            )),
        }
    }

    /// [`Queue::change_visibility`] with the handle as a string.
    ///
    /// # Errors
    /// As [`Queue::change_visibility`].
    pub fn change_visibility_str(&self, handle: &str, timeout: u32) -> Result<()> {
        self.change_visibility(&handle.parse()?, timeout)
    }

    /// Changes visibility for a batch of (entry id, receipt handle, timeout); handles as strings or
    /// parsed.
    ///
    /// # Errors
    /// The batch errors of [`Queue::send_batch`]; a bad entry fails only itself.
    pub fn change_visibility_batch<I: AsRef<str>, H: AsHandle>(
        &self,
        entries: Vec<(I, H, u32)>,
        max_entries: usize,
    ) -> Result<BatchResult<(), I>> {
        self.check_live()?;
        check_batch(entries.iter().map(|(id, _, _)| id.as_ref()), max_entries)?;
        Ok(entries
            .into_iter()
            .map(|(id, h, t)| {
                let r = h.as_handle().and_then(|h| self.change_visibility(&h, t));
                (id, r)
            })
            .collect())
    }

    /// Moves up to `max` visible messages to `destination`, or, when `None`, each back to the queue
    /// it was dead-lettered from (its `DeadLetterQueueSourceArn`), with its id, body, attributes and
    /// sent time, its receive count reset: a dead-letter queue redrive. Messages in flight stay.
    /// Returns how many moved; messages whose source queue no longer exists stay here.
    ///
    /// # Errors
    /// `QueueDoesNotExist` if this queue was deleted.
    pub fn move_messages(&self, destination: Option<&Queue>, max: usize) -> Result<usize> {
        self.check_live()?;
        let broker = self.broker()?;
        let now = self.now_ms();
        self.tick(now);
        if let Some(log) = &self.storage {
            // Messages kept on disk only move too: into slots first.
            let mut left = max.min(self.cold.len());
            while left > 0 {
                let (promoted, _) = self.promote(log, left.min(1000));
                if promoted == 0 {
                    break;
                }
                left = left.saturating_sub(promoted);
            }
        }
        let mut moved = 0;
        let mut stuck = Vec::new();
        for shard_no in 0..self.shards.len() {
            let shard = &self.shards[shard_no];
            while moved < max {
                let Some((index, generation)) = shard.ready.pop() else {
                    break;
                };
                let slot = Self::slot(shard, index);
                // A limit of 0 receives claims every message for a move.
                let (Claim::Move(claimed) | Claim::Got(claimed)) =
                    slot.word.claim(generation, Some(0))
                else {
                    continue;
                };
                let source = match destination {
                    Some(_) => None,
                    None => {
                        // SAFETY: the claim makes this thread the slot's owner until it finishes.
                        let data =
                            unsafe { slot.data() }.expect("a published slot holds its message");
                        data.extras()
                            .and_then(|e| e.dead_letter_source_arn.as_deref())
                            .and_then(|arn| broker.queue_by_arn(arn))
                    }
                };
                let ok = match destination.or(source.as_deref()) {
                    Some(to) if to.id != self.id => {
                        self.move_claimed(to, shard_no, index, claimed, destination.is_none(), now)
                    }
                    _ => {
                        slot.word.cancel_move(claimed);
                        false
                    }
                };
                if ok {
                    moved += 1;
                } else {
                    // Back on a ready list after this pass, so that the pass does not meet it again.
                    stuck.push((shard_no, index, generation));
                }
            }
        }
        for (shard_no, index, generation) in stuck {
            self.shards[shard_no].ready.push((index, generation));
        }
        Ok(moved)
    }

    // ---- queue-level operations ----------------------------------------------------------------

    /// Deletes every message. Like SQS, a second purge within 60 s fails.
    ///
    /// # Errors
    /// `PurgeQueueInProgress` within 60 s of the last purge.
    pub fn purge(&self) -> Result<()> {
        self.check_live()?;
        let now = self.now_ms();
        let last = self.last_purge_ms.load(Ordering::Acquire);
        if last != 0 && now < last + PURGE_COOLDOWN_MS
            || self
                .last_purge_ms
                .compare_exchange(last, now.max(1), Ordering::AcqRel, Ordering::Acquire)
                .is_err()
        {
            return Err(Error::new(
                ErrorCode::PurgeQueueInProgress,
                format!(
                    "Only one PurgeQueue operation on {} is allowed every 60 seconds.",
                    self.name
                ),
            ));
        }
        self.discard_all();
        // The time of the purge is kept, so that its cooldown outlasts a restart.
        self.persist()
    }

    /// Removes every message. Purge and queue deletion visit every slot: the only operations that
    /// do.
    pub(crate) fn discard_all(&self) {
        if let Some(log) = &self.storage {
            let mut list = self.cold.list.lock();
            for (key, _) in list.drain(..) {
                log.deleted_key(key);
            }
            self.cold.changed(&list);
        }
        for shard in self.shards.iter() {
            for (index, slot) in shard.slots.iter() {
                // A message claimed by a receiver this very moment is delivered rather than purged,
                // as a receive racing a purge in SQS may be.
                if let Remove::Removed(prev) = slot.word.remove(slot.word.load().generation()) {
                    self.release(shard, index as u32, prev);
                }
            }
        }
    }

    /// Message counts by state.
    pub fn counts(&self) -> QueueCounts {
        let now = self.now_ms();
        self.tick(now);
        let sum = |f: fn(&Counts) -> &AtomicI64| -> u64 {
            self.shards
                .iter()
                .map(|s| f(&s.counts).load(Ordering::Relaxed))
                .sum::<i64>()
                .max(0) as u64
        };
        let oldest = self
            .shards
            .iter()
            .map(|s| s.oldest.load(Ordering::Relaxed))
            .min()
            .unwrap_or(u64::MAX)
            .min(self.cold.oldest.load(Ordering::Relaxed));
        QueueCounts {
            visible: sum(|c| &c.ready) + self.cold.len() as u64,
            in_flight: sum(|c| &c.in_flight),
            delayed: sum(|c| &c.delayed),
            oldest_age_ms: if oldest == u64::MAX {
                0
            } else {
                now.saturating_sub(oldest)
            },
        }
    }

    /// Attributes by SQS name. An empty list or `All` gives every attribute.
    ///
    /// # Errors
    /// `InvalidAttributeName` for a name SQS does not know.
    pub fn attributes(&self, names: &[String]) -> Result<Vec<(String, String)>> {
        self.check_live()?;
        let all = names.is_empty() || names.iter().any(|n| n == "All");
        let wanted: Vec<&str> = if all {
            attributes::SETTABLE
                .iter()
                .chain(attributes::READ_ONLY)
                .copied()
                .collect()
        } else {
            for n in names {
                if !attributes::SETTABLE.contains(&n.as_str())
                    && !attributes::READ_ONLY.contains(&n.as_str())
                {
                    return Err(Error::new(
                        ErrorCode::InvalidAttributeName,
                        format!("Unknown Attribute {n}."),
                    ));
                }
            }
            names.iter().map(String::as_str).collect()
        };
        let config = self.config.load();
        let counts = if wanted.iter().any(|n| n.starts_with("Approximate")) {
            Some(self.counts())
        } else {
            None
        };
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for name in wanted {
            if !seen.insert(name) {
                continue;
            }
            let value = match name {
                "QueueArn" => Some(self.arn.clone()),
                "ApproximateNumberOfMessages" => counts.map(|c| c.visible.to_string()),
                "ApproximateNumberOfMessagesNotVisible" => counts.map(|c| c.in_flight.to_string()),
                "ApproximateNumberOfMessagesDelayed" => counts.map(|c| c.delayed.to_string()),
                "CreatedTimestamp" => Some(self.created_s.to_string()),
                "LastModifiedTimestamp" => {
                    Some(self.modified_s.load(Ordering::Relaxed).to_string())
                }
                other => config.get(other),
            };
            if let Some(v) = value {
                out.push((name.to_string(), v));
            }
        }
        Ok(out)
    }

    /// Sets attributes by SQS name, all or nothing.
    ///
    /// # Errors
    /// As [`QueueConfig::apply`]; `InvalidParameterValue` for a RedrivePolicy whose dead-letter queue
    /// does not exist.
    pub fn set_attributes(&self, attributes: &[(String, String)]) -> Result<()> {
        self.check_live()?;
        let broker = self.broker()?;
        let mut next = (**self.config.load()).clone();
        next.apply(attributes)?;
        broker.check_redrive(&next)?;
        self.config.store(Arc::new(next));
        self.modified_s
            .store(broker.now_ms() / 1000, Ordering::Relaxed);
        self.persist()
    }

    pub fn tags(&self) -> BTreeMap<String, String> {
        self.tags.lock().clone()
    }

    /// Adds or replaces tags. A queue has at most 50.
    ///
    /// # Errors
    /// `InvalidParameterValue` for bad keys or values or more than 50 tags.
    pub fn tag(&self, tags: &[(String, String)]) -> Result<()> {
        self.check_live()?;
        validate_tags(tags)?;
        let mut current = self.tags.lock();
        let mut next = current.clone();
        next.extend(tags.iter().cloned());
        if next.len() > 50 {
            return Err(Error::new(
                ErrorCode::InvalidParameterValue,
                "Too many tags: a queue can have at most 50.",
            ));
        }
        *current = next;
        drop(current);
        self.persist()
    }

    /// Removes tags by key; absent keys are ignored.
    ///
    /// # Errors
    /// `QueueDoesNotExist` after deletion.
    pub fn untag(&self, keys: &[String]) -> Result<()> {
        self.check_live()?;
        let mut current = self.tags.lock();
        for k in keys {
            current.remove(k);
        }
        drop(current);
        self.persist()
    }
}

/// Checks tags: keys 1–128 characters, values up to 256, at most 50.
///
/// # Errors
/// `InvalidParameterValue`.
pub(crate) fn validate_tags(tags: &[(String, String)]) -> Result<()> {
    if tags.len() > 50 {
        return Err(Error::new(
            ErrorCode::InvalidParameterValue,
            "Too many tags: a queue can have at most 50.",
        ));
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 {
            return Err(Error::new(
                ErrorCode::InvalidParameterValue,
                format!("Tag key {k:?} must be 1 to 128 characters."),
            ));
        }
        if v.chars().count() > 256 {
            return Err(Error::new(
                ErrorCode::InvalidParameterValue,
                format!("The value of tag {k:?} must be at most 256 characters."),
            ));
        }
        if k.to_ascii_lowercase().starts_with("aws:") {
            return Err(Error::new(
                ErrorCode::InvalidParameterValue,
                format!("Tag key {k:?} uses the reserved prefix aws:."),
            ));
        }
    }
    Ok(())
}

struct Prepared<B> {
    body: B,
    delay_ms: u64,
    attributes: MessageAttributes,
    want_md5: bool,
}

/// The MD5s a send answers with (hex).
struct Md5s {
    attributes: Option<String>,
    body: Option<String>,
}

impl Md5s {
    fn sent(self, message_id: MessageId) -> Sent {
        Sent {
            message_id,
            md5_of_attributes: self.attributes,
            md5_of_body: self.body,
        }
    }
}

fn attr_len(v: &crate::message::AttributeValue) -> usize {
    match &v.value {
        crate::message::AttributeData::String(s) => s.len(),
        crate::message::AttributeData::Binary(b) => b.len(),
    }
}

/// The result of a send future that never waits: one that blocks its thread for the log's sync
/// ([`SyncWait::Block`]) completes on its first poll.
/// A receive that found only messages it could not read back from the log.
fn storage_failure(cause: &str) -> Error {
    Error::new(
        ErrorCode::InternalFailure,
        format!("Storage failure: {cause}"),
    )
}

fn completed<T>(send: impl Future<Output = T>) -> T {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::pin!(send).poll(&mut cx) {
        std::task::Poll::Ready(out) => out,
        std::task::Poll::Pending => unreachable!("a blocking send does not suspend"),
    }
}

/// A prepared message's data, its delay and the MD5 of its attributes.
fn make<B: AsRef<[u8]>>(p: Prepared<B>, now: u64) -> (MessageData, u64, Md5s) {
    let attributes = message::md5_of_attributes(&p.attributes);
    let extras = (!p.attributes.is_empty()).then(|| {
        Box::new(Extras {
            attributes: p.attributes,
            ..Extras::default()
        })
    });
    let (data, body) = if p.want_md5 {
        let digest = message::body_digest(p.body.as_ref());
        (
            MessageData::with_md5(p.body.as_ref(), digest, now, extras),
            Some(message::hex(&digest)),
        )
    } else {
        (MessageData::new(p.body.as_ref(), now, 0, extras), None)
    };
    (data, p.delay_ms, Md5s { attributes, body })
}

fn prepare<B: AsRef<[u8]>>(m: SendMessage<B>, config: &QueueConfig) -> Result<Prepared<B>> {
    message::validate_body(m.body.as_ref())?;
    let (attributes, attr_bytes) = message::validate_attributes(m.attributes)?;
    let size = m.body.as_ref().len() + attr_bytes;
    if size > config.maximum_message_size as usize {
        return Err(Error::new(
            ErrorCode::InvalidParameterValue,
            format!(
                "One or more parameters are invalid. Reason: Message must be shorter than {} bytes.",
                config.maximum_message_size
            ),
        ));
    }
    let delay = m.delay_seconds.unwrap_or(config.delay_seconds);
    if delay > attributes::MAX_DELAY_SECONDS {
        return Err(Error::invalid_parameter(
            "DelaySeconds",
            delay,
            "DelaySeconds must be >= 0 and <= 900.",
        ));
    }
    Ok(Prepared {
        body: m.body,
        delay_ms: delay as u64 * 1000,
        attributes,
        want_md5: m.want_md5,
    })
}

/// A receipt handle as batch entries carry it: a string from a client, or one already parsed.
pub trait AsHandle {
    /// # Errors
    /// `ReceiptHandleIsInvalid` for a string that is not a receipt handle.
    fn as_handle(&self) -> Result<ReceiptHandle>;
}

impl AsHandle for ReceiptHandle {
    fn as_handle(&self) -> Result<ReceiptHandle> {
        Ok(*self)
    }
}

/// Text: `String`, `&str`, or a front end's slice of its request.
impl<T: AsRef<str>> AsHandle for T {
    fn as_handle(&self) -> Result<ReceiptHandle> {
        self.as_ref().parse()
    }
}

/// Whole-batch checks shared by every batch action.
fn check_batch<'a>(ids: impl ExactSizeIterator<Item = &'a str>, max_entries: usize) -> Result<()> {
    let n = ids.len();
    if n == 0 {
        return Err(Error::new(
            ErrorCode::EmptyBatchRequest,
            "There should be at least one entry in the request.",
        ));
    }
    if n > max_entries {
        return Err(Error::new(
            ErrorCode::TooManyEntriesInBatchRequest,
            format!("Maximum number of entries per request are {max_entries}. You have sent {n}."),
        ));
    }
    // Ids are at most 80 characters and a batch at most `max_entries`: a fast hash with a
    // per-process seed is enough (SipHash cost as much as the rest of a delete's checks).
    let mut seen = HashSet::with_capacity_and_hasher(n, foldhash::fast::RandomState::default());
    for id in ids {
        if id.is_empty()
            || id.len() > 80
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(Error::new(
                ErrorCode::InvalidBatchEntryId,
                "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
            ));
        }
        if !seen.insert(id) {
            return Err(Error::new(
                ErrorCode::BatchEntryIdsNotDistinct,
                format!("Id {id} repeated."),
            ));
        }
    }
    Ok(())
}

#[cfg(all(test, not(loom)))]
mod tests {
    use crate::{Broker, BrokerConfig, ManualClock, ReceiveOptions, SendMessage};
    use std::sync::Arc;

    #[test]
    fn a_repeated_batch_id_is_named_in_request_order() {
        use crate::ErrorCode;
        let check = |ids: &[&str]| super::check_batch(ids.iter().copied(), 1000);
        assert!(check(&["a", "b", "c"]).is_ok());
        let e = check(&["b", "a", "b", "a"]).unwrap_err();
        assert_eq!(e.code, ErrorCode::BatchEntryIdsNotDistinct);
        assert_eq!(e.message, "Id b repeated.");
        let e = check(&["z", "y", "x", "y", "z"]).unwrap_err();
        assert_eq!(e.message, "Id y repeated.");
        let many: Vec<String> = (0..1000).map(|i| format!("id-{i}")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(check(&refs).is_ok());
        let mut dup = refs.clone();
        dup[999] = "id-3";
        assert_eq!(check(&dup).unwrap_err().message, "Id id-3 repeated.");
        assert_eq!(
            check(&["ok", "not ok"]).unwrap_err().code,
            ErrorCode::InvalidBatchEntryId
        );
    }

    /// One message received again and again, never deleted, must not make the queue keep an entry
    /// for every message sent after it.
    #[test]
    fn a_message_that_stays_does_not_hold_the_send_order_of_later_ones() {
        let clock = Arc::new(ManualClock::new(1_700_000_000_000));
        let broker = Broker::new(BrokerConfig {
            clock: clock.clone(),
            ..Default::default()
        });
        let q = broker.create_queue("stays", &[], &[]).unwrap();
        let receive = |max, visibility| {
            q.receive(&ReceiveOptions {
                max_messages: max,
                visibility_timeout: Some(visibility),
                wait_seconds: Some(0),
                ..Default::default()
            })
            .unwrap()
        };
        q.send(SendMessage::new("stays")).unwrap();
        assert_eq!(receive(1, 43_200).len(), 1);
        let sends = 100_000;
        for i in 0..sends / 10 {
            let batch = (0..10)
                .map(|j| (j.to_string(), SendMessage::new(format!("m{i}.{j}"))))
                .collect();
            q.send_batch(batch, 10).unwrap();
            let got = receive(10, 30);
            assert_eq!(got.len(), 10);
            let handles = got
                .iter()
                .enumerate()
                .map(|(j, m)| (j.to_string(), m.receipt_handle()))
                .collect();
            assert!(
                q.delete_batch(handles, 10)
                    .unwrap()
                    .iter()
                    .all(|(_, r)| r.is_ok())
            );
            clock.advance_ms(4);
        }
        let tracked: usize = q
            .shards
            .iter()
            .map(|s| s.sent.len() + s.advance.lock().taken.len())
            .sum();
        assert!(
            tracked < sends / 4,
            "{tracked} send-order entries for 1 message"
        );
        // The oldest message is still the one that stays.
        assert_eq!(q.counts().oldest_age_ms, sends as u64 / 10 * 4);
    }
}
