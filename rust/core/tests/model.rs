//! Model-based test: random sequences of operations run against a queue with a dead-letter queue
//! and against a plain reference model, invariants checked after every step. Model: sled's
//! `fuzz_model.rs`.
//!
//! The model knows what SQS promises, not how the engine orders its ready lists: a receive may
//! return any visible messages, so the model checks each one it is given (visible, under
//! maxReceiveCount, the right receive count and content) and that it was given as many as were
//! available. Which over-the-limit messages a full receive moved to the dead-letter queue is learnt
//! by reading the dead-letter queue, and checked against the same rules.
//!
//! Time: every deadline is `clock + whole seconds`, and a message is visible again once the clock
//! is at or past it; the engine runs its timers on every receive and `counts()` (the check after
//! each step calls it), so the model can be exact.

use proptest::prelude::*;
use sqsfast_core::message::md5_of_body;
use sqsfast_core::{
    AttributeValue, Broker, BrokerConfig, ErrorCode, FsyncMode, ManualClock, MessageId, Queue,
    QueueCounts, ReceiptHandle, ReceiveOptions, Received, SendMessage, StorageConfig,
};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

const START_MS: u64 = 1_700_000_000_000;
const PURGE_COOLDOWN_MS: u64 = 60_000;

#[derive(Clone, Debug)]
enum Op {
    Send {
        delay: u32,
        attributes: usize,
    },
    Receive {
        max: u32,
        visibility: Option<u32>,
    },
    /// Deletes with one of the handles seen so far (`pick` modulo their number), stale ones too.
    Delete {
        pick: usize,
    },
    ChangeVisibility {
        pick: usize,
        timeout: u32,
    },
    Advance {
        ms: u64,
    },
    /// Moves the clock to `delta` ms from one of the pending deadlines (`pick` modulo their number),
    /// where timing mistakes hide.
    AdvanceNearDeadline {
        pick: usize,
        delta: i64,
    },
    Purge,
    SetVisibilityTimeout {
        seconds: u32,
    },
    /// Closes a durable broker and opens its data directory again (a no-op in memory): messages in
    /// flight become visible, everything else is kept, and handles from before are invalid.
    Restart,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..=2u32, 0..=3usize).prop_map(|(delay, attributes)| Op::Send { delay, attributes }),
        6 => (1..=10u32, prop::option::weighted(0.8, 0..=3u32))
            .prop_map(|(max, visibility)| Op::Receive { max, visibility }),
        3 => any::<usize>().prop_map(|pick| Op::Delete { pick }),
        3 => (any::<usize>(), 0..=3u32)
            .prop_map(|(pick, timeout)| Op::ChangeVisibility { pick, timeout }),
        // Mostly long steps; some of a few ms, to land next to deadlines and inside 4 ms wheel ticks.
        4 => prop_oneof![3 => 0..=4_000u64, 1 => 0..=8u64].prop_map(|ms| Op::Advance { ms }),
        2 => (any::<usize>(), -2..=1i64)
            .prop_map(|(pick, delta)| Op::AdvanceNearDeadline { pick, delta }),
        1 => Just(Op::Purge),
        1 => (0..=3u32).prop_map(|seconds| Op::SetVisibilityTimeout { seconds }),
        1 => Just(Op::Restart),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Delayed until the deadline.
    Delayed(u64),
    Visible,
    /// In flight until the deadline.
    InFlight(u64),
}

#[derive(Debug)]
struct Msg {
    body: Vec<u8>,
    attributes: Vec<(String, AttributeValue)>,
    sent_at: u64,
    /// 0 until the first receive.
    first_receive: u64,
    receive_count: u32,
    state: State,
}

impl Msg {
    /// The state at `now`: a deadline at or before `now` has passed.
    fn state(&self, now: u64) -> State {
        match self.state {
            State::Delayed(t) | State::InFlight(t) if t <= now => State::Visible,
            s => s,
        }
    }
}

struct Handle {
    handle: ReceiptHandle,
    id: MessageId,
    receive_count: u32,
    /// Made by the dead-letter queue: the main queue must reject it.
    dead_letter: bool,
    /// Made before the last restart: every queue must reject it.
    epoch: u32,
}

struct Harness {
    /// Held so that the queues' broker lives as long as the test.
    broker: Broker,
    /// The data directory of a durable broker.
    dir: Option<tempfile::TempDir>,
    mode: Mode,
    epoch: u32,
    clock: Arc<ManualClock>,
    main: Arc<Queue>,
    dlq: Arc<Queue>,
    now: u64,
    max_receives: u32,
    /// The main queue's VisibilityTimeout.
    visibility: u32,
    last_purge: Option<u64>,
    next_body: u64,
    sent: HashSet<MessageId>,
    queued: HashMap<MessageId, Msg>,
    /// Dead-lettered messages; always visible (the test only reads them and puts them back).
    dead: HashMap<MessageId, Msg>,
    deleted: HashSet<MessageId>,
    purged: HashSet<MessageId>,
    handles: Vec<Handle>,
}

fn attributes_for(n: usize, seq: u64) -> Vec<(String, AttributeValue)> {
    (0..n)
        .map(|i| {
            let value = match i % 3 {
                0 => AttributeValue::string(format!("s{seq}")),
                1 => AttributeValue::number(seq.to_string()),
                _ => AttributeValue::binary(seq.to_le_bytes()),
            };
            (format!("a{i}"), value)
        })
        .collect()
}

fn opts(max: u32, visibility: Option<u32>) -> ReceiveOptions {
    ReceiveOptions {
        max_messages: max,
        visibility_timeout: visibility,
        wait_seconds: Some(0),
        ..Default::default()
    }
}

impl Harness {
    fn open(clock: &Arc<ManualClock>, dir: Option<&tempfile::TempDir>, mode: Mode) -> Broker {
        let config = BrokerConfig {
            clock: clock.clone(),
            ..Default::default()
        };
        match dir {
            None => Broker::new(config),
            Some(d) => {
                // Small segments, so that rolls and compaction happen within a case.
                let storage = StorageConfig {
                    fsync: FsyncMode::Never,
                    segment_bytes: 4096,
                    memory_budget: match mode {
                        Mode::DurableBudget(bytes) => Some(bytes),
                        _ => None,
                    },
                    ..StorageConfig::new(d.path())
                };
                Broker::open(config, storage).unwrap().0
            }
        }
    }

    fn new(start_offset: u64, max_receives: u32, mode: Mode) -> Self {
        let now = START_MS + start_offset;
        let clock = Arc::new(ManualClock::new(now));
        let dir = (mode != Mode::Memory).then(|| tempfile::tempdir().unwrap());
        let broker = Self::open(&clock, dir.as_ref(), mode);
        let dlq = broker.create_queue("dead", &[], &[]).unwrap();
        let policy = format!(
            r#"{{"deadLetterTargetArn":"{}","maxReceiveCount":{max_receives}}}"#,
            dlq.arn()
        );
        let main = broker
            .create_queue(
                "main",
                &[
                    ("RedrivePolicy".into(), policy),
                    ("VisibilityTimeout".into(), "2".into()),
                ],
                &[],
            )
            .unwrap();
        Self {
            broker,
            dir,
            mode,
            epoch: 0,
            clock,
            main,
            dlq,
            now,
            max_receives,
            visibility: 2,
            last_purge: None,
            next_body: 0,
            sent: HashSet::new(),
            queued: HashMap::new(),
            dead: HashMap::new(),
            deleted: HashSet::new(),
            purged: HashSet::new(),
            handles: Vec::new(),
        }
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Send { delay, attributes } => self.send(delay, attributes),
            Op::Receive { max, visibility } => self.receive(max, visibility),
            Op::Delete { pick } => self.delete(pick),
            Op::ChangeVisibility { pick, timeout } => self.change_visibility(pick, timeout),
            Op::Advance { ms } => {
                self.clock.advance_ms(ms);
                self.now += ms;
            }
            Op::AdvanceNearDeadline { pick, delta } => {
                let mut deadlines: Vec<u64> = self
                    .queued
                    .values()
                    .filter_map(|m| match m.state(self.now) {
                        State::Delayed(t) | State::InFlight(t) => Some(t),
                        State::Visible => None,
                    })
                    .collect();
                if deadlines.is_empty() {
                    return;
                }
                deadlines.sort_unstable();
                let target = deadlines[pick % deadlines.len()].saturating_add_signed(delta);
                if target > self.now {
                    self.apply(&Op::Advance {
                        ms: target - self.now,
                    });
                }
            }
            Op::Purge => self.purge(),
            Op::SetVisibilityTimeout { seconds } => {
                self.main
                    .set_attributes(&[("VisibilityTimeout".into(), seconds.to_string())])
                    .unwrap();
                self.visibility = seconds;
            }
            Op::Restart => self.restart(),
        }
    }

    fn restart(&mut self) {
        if self.dir.is_none() {
            return;
        }
        self.broker.close();
        self.broker = Self::open(&self.clock, self.dir.as_ref(), self.mode);
        self.main = self.broker.queue("main").unwrap();
        self.dlq = self.broker.queue("dead").unwrap();
        self.epoch += 1;
        let now = self.now;
        for m in self.queued.values_mut() {
            if let State::InFlight(_) = m.state(now) {
                m.state = State::Visible;
            }
        }
    }

    fn send(&mut self, delay: u32, n_attributes: usize) {
        let seq = self.next_body;
        self.next_body += 1;
        let body = format!("message {seq}").into_bytes();
        let attributes = attributes_for(n_attributes, seq);
        let sent = self
            .main
            .send(SendMessage {
                body: body.clone().into(),
                delay_seconds: Some(delay),
                attributes: attributes.clone(),
                // Half the messages keep their MD5 (as the SQS API sends them).
                want_md5: seq.is_multiple_of(2),
            })
            .unwrap();
        let md5 = seq.is_multiple_of(2).then(|| md5_of_body(&body));
        assert_eq!(sent.md5_of_body, md5);
        assert!(
            self.sent.insert(sent.message_id),
            "message id {} given twice",
            sent.message_id
        );
        let state = if delay > 0 {
            State::Delayed(self.now + delay as u64 * 1000)
        } else {
            State::Visible
        };
        self.queued.insert(
            sent.message_id,
            Msg {
                body,
                attributes,
                sent_at: self.now,
                first_receive: 0,
                receive_count: 0,
                state,
            },
        );
    }

    fn check_content(r: &Received, m: &Msg) {
        assert_eq!(r.body(), &m.body[..]);
        assert_eq!(r.md5_of_body(), md5_of_body(&m.body));
        assert_eq!(r.attributes(), &m.attributes[..]);
        assert_eq!(r.sent_timestamp(), m.sent_at);
    }

    fn receive(&mut self, max: u32, visibility: Option<u32>) {
        let now = self.now;
        let timeout = visibility.unwrap_or(self.visibility);
        let visible: Vec<MessageId> = self
            .queued
            .iter()
            .filter(|(_, m)| m.state(now) == State::Visible)
            .map(|(id, _)| *id)
            .collect();
        let (eligible, over): (Vec<MessageId>, Vec<MessageId>) = visible
            .into_iter()
            .partition(|id| self.queued[id].receive_count < self.max_receives);
        let over: HashSet<MessageId> = over.into_iter().collect();
        let dead_before = self.dead.len();

        let got = self.main.receive(&opts(max, visibility)).unwrap();

        let mut seen = HashSet::new();
        for r in &got {
            let id = r.message_id();
            assert!(seen.insert(id), "{id} returned twice by one receive");
            let Some(m) = self.queued.get_mut(&id) else {
                panic!(
                    "{id} delivered but not in the queue (deleted {}, purged {}, dead-lettered {})",
                    self.deleted.contains(&id),
                    self.purged.contains(&id),
                    self.dead.contains_key(&id)
                );
            };
            assert_eq!(
                m.state(now),
                State::Visible,
                "{id} delivered while not visible"
            );
            assert!(
                m.receive_count < self.max_receives,
                "{id} delivered with receive count {} though maxReceiveCount is {}: it should have moved",
                m.receive_count,
                self.max_receives
            );
            Self::check_content(r, m);
            m.receive_count += 1;
            assert_eq!(r.receive_count(), m.receive_count, "{id} receive count");
            if m.first_receive == 0 {
                m.first_receive = now;
            }
            assert_eq!(r.first_receive_timestamp(), m.first_receive);
            assert_eq!(r.dead_letter_source_arn(), None);
            m.state = if timeout > 0 {
                State::InFlight(now + timeout as u64 * 1000)
            } else {
                State::Visible
            };
            self.handles.push(Handle {
                handle: *r.handle(),
                id,
                receive_count: m.receive_count,
                dead_letter: false,
                epoch: self.epoch,
            });
        }
        assert_eq!(
            got.len(),
            (max as usize).min(eligible.len()),
            "a receive returns every available message, up to its maximum"
        );

        // Dead-letter moves: only of visible messages over the limit, all of them unless the
        // receive was already full.
        let moved = (self.dlq.counts().visible as usize)
            .checked_sub(dead_before)
            .expect("the dead-letter queue lost messages");
        if got.len() < max as usize {
            assert_eq!(
                moved,
                over.len(),
                "every visible message over the limit moves"
            );
        } else {
            assert!(
                moved <= over.len(),
                "moved {moved} of {} over the limit",
                over.len()
            );
        }
        if moved > 0 {
            self.read_dead_letters(Some(&over), moved);
        }
    }

    /// Reads the whole dead-letter queue and puts every message back: checks each one, and learns
    /// which of `candidates` moved there (exactly `moved` of them).
    fn read_dead_letters(&mut self, candidates: Option<&HashSet<MessageId>>, moved: usize) {
        let mut got = Vec::new();
        loop {
            let batch = self.dlq.receive(&opts(10, Some(30))).unwrap();
            if batch.is_empty() {
                break;
            }
            got.extend(batch);
        }
        let mut newly = 0;
        let mut ids = HashSet::new();
        for r in &got {
            let id = r.message_id();
            assert!(ids.insert(id), "{id} read twice from the dead-letter queue");
            if !self.dead.contains_key(&id) {
                let ok = candidates.is_some_and(|c| c.contains(&id));
                assert!(ok, "{id} in the dead-letter queue, but was not due to move");
                let m = self.queued.remove(&id).unwrap();
                assert_eq!(m.receive_count, self.max_receives);
                self.dead.insert(id, m);
                newly += 1;
            }
            let m = self.dead.get_mut(&id).unwrap();
            Self::check_content(r, m);
            assert_eq!(r.dead_letter_source_arn(), Some(self.main.arn()));
            assert_eq!(r.first_receive_timestamp(), m.first_receive);
            m.receive_count += 1;
            assert_eq!(
                r.receive_count(),
                m.receive_count,
                "{id} receive count in the DLQ"
            );
            self.dlq.change_visibility(r.handle(), 0).unwrap();
            self.handles.push(Handle {
                handle: *r.handle(),
                id,
                receive_count: m.receive_count,
                dead_letter: true,
                epoch: self.epoch,
            });
        }
        assert_eq!(newly, moved, "dead-lettered messages found");
        assert_eq!(
            ids.len(),
            self.dead.len(),
            "every dead-lettered message is there"
        );
    }

    fn delete(&mut self, pick: usize) {
        if self.handles.is_empty() {
            return;
        }
        let h = &self.handles[pick % self.handles.len()];
        let result = self.main.delete(&h.handle);
        if h.dead_letter || h.epoch != self.epoch {
            assert_eq!(result.unwrap_err().code, ErrorCode::ReceiptHandleIsInvalid);
            return;
        }
        result.unwrap();
        // Only the latest handle deletes; an older one succeeds without deleting.
        if self
            .queued
            .get(&h.id)
            .is_some_and(|m| m.receive_count == h.receive_count)
        {
            self.queued.remove(&h.id);
            self.deleted.insert(h.id);
        }
    }

    fn change_visibility(&mut self, pick: usize, timeout: u32) {
        if self.handles.is_empty() {
            return;
        }
        let now = self.now;
        let h = &self.handles[pick % self.handles.len()];
        let result = self.main.change_visibility(&h.handle, timeout);
        if h.dead_letter || h.epoch != self.epoch {
            assert_eq!(result.unwrap_err().code, ErrorCode::ReceiptHandleIsInvalid);
            return;
        }
        match self.queued.get_mut(&h.id) {
            Some(m) if m.receive_count == h.receive_count => match m.state(now) {
                State::InFlight(_) => {
                    result.unwrap();
                    m.state = if timeout == 0 {
                        State::Visible
                    } else {
                        State::InFlight(now + timeout as u64 * 1000)
                    };
                }
                State::Visible => {
                    assert_eq!(result.unwrap_err().code, ErrorCode::MessageNotInflight);
                }
                State::Delayed(_) => unreachable!("a received message is never delayed"),
            },
            // An older handle, or a message deleted, purged or moved.
            _ => assert_eq!(result.unwrap_err().code, ErrorCode::InvalidParameterValue),
        }
    }

    fn purge(&mut self) {
        let result = self.main.purge();
        if self
            .last_purge
            .is_some_and(|t| self.now < t + PURGE_COOLDOWN_MS)
        {
            assert_eq!(result.unwrap_err().code, ErrorCode::PurgeQueueInProgress);
            return;
        }
        result.unwrap();
        self.last_purge = Some(self.now);
        for (id, _) in self.queued.drain() {
            self.purged.insert(id);
        }
    }

    /// Invariants after every step.
    fn check(&self) {
        let now = self.now;
        let mut expected = (0, 0, 0);
        for m in self.queued.values() {
            match m.state(now) {
                State::Visible => expected.0 += 1,
                State::InFlight(_) => expected.1 += 1,
                State::Delayed(_) => expected.2 += 1,
            }
        }
        let QueueCounts {
            visible,
            in_flight,
            delayed,
            ..
        } = self.main.counts();
        assert_eq!((visible, in_flight, delayed), expected, "main queue counts");
        let QueueCounts {
            visible,
            in_flight,
            delayed,
            ..
        } = self.dlq.counts();
        assert_eq!(
            (visible, in_flight, delayed),
            (self.dead.len() as u64, 0, 0),
            "dead-letter queue counts"
        );
        // No message lost: every message sent is in exactly one place.
        let places = self.queued.len() + self.dead.len() + self.deleted.len() + self.purged.len();
        assert_eq!(places, self.sent.len());
        for id in &self.sent {
            let n = self.queued.contains_key(id) as u8
                + self.dead.contains_key(id) as u8
                + self.deleted.contains(id) as u8
                + self.purged.contains(id) as u8;
            assert_eq!(n, 1, "{id} is in {n} places");
        }
    }

    /// After the last step: lets every deadline pass and receives everything, so that each message
    /// the model holds is seen once more.
    fn drain(&mut self) {
        self.apply(&Op::Advance { ms: 10_000 });
        self.check();
        while self
            .queued
            .values()
            .any(|m| m.state(self.now) == State::Visible)
        {
            self.receive(10, Some(30));
            self.check();
        }
        assert!(self.main.receive(&opts(10, Some(30))).unwrap().is_empty());
        self.read_dead_letters(None, 0);
        self.check();
    }
}

/// Where the engine under test keeps its messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Memory,
    Durable,
    /// Durable, with this many bytes of bodies in memory at most: the rest are read from disk.
    DurableBudget(u64),
}

fn run(start_offset: u64, max_receives: u32, ops: &[Op]) {
    run_in(start_offset, max_receives, ops, Mode::Memory);
}

fn run_in(start_offset: u64, max_receives: u32, ops: &[Op], mode: Mode) {
    let mut h = Harness::new(start_offset, max_receives, mode);
    h.check();
    for op in ops {
        h.apply(op);
        h.check();
    }
    h.drain();
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2_000,
        max_shrink_iters: 20_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn engine_matches_model(
        start_offset in 0..4u64,
        max_receives in 1..=3u32,
        ops in prop::collection::vec(op(), 1..250),
    ) {
        run(start_offset, max_receives, &ops);
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 300,
        max_shrink_iters: 5_000,
        ..ProptestConfig::default()
    })]

    /// The same model on a durable broker, with restarts: after each, the engine holds what the
    /// model holds.
    #[test]
    fn durable_engine_matches_model_across_restarts(
        start_offset in 0..4u64,
        max_receives in 1..=3u32,
        ops in prop::collection::vec(op(), 1..250),
    ) {
        run_in(start_offset, max_receives, &ops, Mode::Durable);
    }

    /// Again with a memory budget of a few bodies, so that most bodies are read back from the log
    /// (also by dead-letter moves and compaction).
    #[test]
    fn durable_engine_with_bodies_on_disk_matches_model(
        start_offset in 0..4u64,
        max_receives in 1..=3u32,
        budget in 0..64u64,
        ops in prop::collection::vec(op(), 1..250),
    ) {
        run_in(start_offset, max_receives, &ops, Mode::DurableBudget(budget));
    }
}

/// Sequences that once failed, kept as plain tests.
#[test]
fn visibility_zero_receive_of_one_message_with_room_for_more() {
    run(
        0,
        2,
        &[
            Op::Send {
                delay: 0,
                attributes: 1,
            },
            Op::Receive {
                max: 10,
                visibility: Some(0),
            },
            Op::Receive {
                max: 10,
                visibility: Some(0),
            },
            Op::Receive {
                max: 10,
                visibility: Some(0),
            },
        ],
    );
}

#[test]
fn expiry_inside_a_wheel_tick() {
    run(
        1,
        3,
        &[
            Op::Send {
                delay: 0,
                attributes: 0,
            },
            Op::Receive {
                max: 1,
                visibility: Some(1),
            },
            Op::Advance { ms: 999 },
            Op::Advance { ms: 1 },
            Op::Receive {
                max: 1,
                visibility: Some(1),
            },
        ],
    );
}
