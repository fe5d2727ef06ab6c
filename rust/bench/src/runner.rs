//! The load generator: producers and consumers over any [`Driver`], with the accounting that
//! makes a run trustworthy (every acknowledged message received, duplicates counted).

use crate::body::{self, Stamp};
use crate::driver::{Conn, Driver, Error, Token};
use crate::stats::{
    self, Bits, Cpu, Errors, Latencies, Latency, Ledger, Progress, Report, Throughput,
};
use bytes::Bytes;
use parking_lot::Mutex;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// What the producers and consumers do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    /// Producers and consumers at full speed together (closed loop).
    Steady,
    /// Producers fill the queues; then consumers drain them.
    FillDrain,
    /// Sends at a fixed total rate, scheduled in advance (open loop): latency counts from the
    /// time each send was due, so a slow reply cannot hide the sends it delayed.
    Rate,
    /// Consumers parked in long polls; messages sent one at a time at a low rate: the time from a
    /// send to the wake-up of a waiting consumer.
    LongPoll,
}

impl std::str::FromStr for Workload {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "steady" => Self::Steady,
            "fill-drain" => Self::FillDrain,
            "rate" => Self::Rate,
            "long-poll" => Self::LongPoll,
            _ => {
                return Err(format!(
                    "unknown workload {s:?}: steady, fill-drain, rate or long-poll"
                ));
            }
        })
    }
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Self::Steady => "steady",
            Self::FillDrain => "fill-drain",
            Self::Rate => "rate",
            Self::LongPoll => "long-poll",
        }
    }
    fn paced(self) -> bool {
        matches!(self, Self::Rate | Self::LongPoll)
    }
}

/// How to run.
#[derive(Clone, Debug, Serialize)]
pub struct Config {
    pub workload: Workload,
    pub producers: usize,
    pub consumers: usize,
    /// Messages per send, and the most per receive and delete.
    pub batch: usize,
    /// Bytes per message (at least [`body::HEADER_LEN`]).
    pub size: usize,
    pub queues: usize,
    /// How long producers send; with `messages` too, whichever ends first.
    pub duration: Option<Duration>,
    /// How many messages producers send in all.
    pub messages: Option<u64>,
    /// Messages per second in all, for `rate` and `long-poll`.
    pub rate: Option<f64>,
    /// Long-poll wait of a receive.
    pub wait: Duration,
    /// After producers stop: how long consumers go on without receiving anything new before the
    /// missing messages are declared lost.
    pub drain_timeout: Duration,
    /// Queue names start with this, then the run id and the queue number.
    pub queue_prefix: String,
    /// Threads of the load generator's runtime; unset: one per core (at least 2).
    pub threads: Option<usize>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            workload: Workload::Steady,
            producers: 4,
            consumers: 4,
            batch: 10,
            size: 256,
            queues: 1,
            duration: Some(Duration::from_secs(10)),
            messages: None,
            rate: None,
            wait: Duration::from_secs(1),
            drain_timeout: Duration::from_secs(10),
            queue_prefix: "sqsfast-bench".into(),
            threads: None,
        }
    }
}

impl Config {
    /// Checks that the run can do what it says.
    ///
    /// # Errors
    /// A message naming the setting at fault.
    pub fn validate(&self) -> Result<(), String> {
        if self.threads.is_some_and(|n| n == 0 || n > 1024) {
            return Err("--threads must be 1-1024".into());
        }
        if self.producers == 0 || self.producers > 10_000 {
            return Err("--producers must be 1-10000".into());
        }
        if self.consumers == 0 || self.consumers > 10_000 {
            return Err("--consumers must be 1-10000".into());
        }
        if self.batch == 0 || self.batch > 1000 {
            return Err("--batch must be 1-1000".into());
        }
        if self.queues == 0 || self.queues > 1000 {
            return Err("--queues must be 1-1000".into());
        }
        if self.consumers < self.queues {
            return Err(format!(
                "--consumers ({}) must be at least --queues ({}): every queue needs a consumer",
                self.consumers, self.queues
            ));
        }
        if self.size > 1 << 20 {
            return Err("--size must be at most 1 MiB (1048576)".into());
        }
        if self.duration.is_none() && self.messages.is_none() {
            return Err("give --duration or --messages (or both)".into());
        }
        if self.duration.is_some_and(|d| d.is_zero()) {
            return Err("--duration must be more than 0".into());
        }
        if self.messages == Some(0) {
            return Err("--messages must be at least 1".into());
        }
        if self.wait > Duration::from_secs(20) {
            return Err("--wait must be at most 20s (SQS's longest long poll)".into());
        }
        match self.rate {
            Some(r) if !(r > 0.0 && r <= 1e8) => {
                return Err("--rate must be more than 0 messages/s".into());
            }
            None if self.workload == Workload::Rate => {
                return Err("the rate workload needs --rate (messages/s in all)".into());
            }
            _ => {}
        }
        Ok(())
    }

    /// The message size actually sent.
    pub fn body_size(&self) -> usize {
        self.size.max(body::HEADER_LEN)
    }
}

/// Counters every task updates.
struct Shared {
    run: u64,
    sent: AtomicU64,
    received: AtomicU64,
    duplicates: AtomicU64,
    foreign: AtomicU64,
    send_errors: AtomicU64,
    receive_errors: AtomicU64,
    delete_errors: AtomicU64,
    /// Messages not yet claimed by a producer (`u64::MAX` without `--messages`).
    budget: AtomicU64,
    /// Producers stop (duration over, budget spent, or cancelled).
    producing: AtomicBool,
    /// Consumers stop.
    consuming: AtomicBool,
    cancel: Arc<AtomicBool>,
    /// Wakes consumers parked in a long poll when the run ends.
    done: Notify,
    ledger: Ledger,
    samples: Mutex<Vec<String>>,
    first_send_ns: AtomicU64,
    last_send_ns: AtomicU64,
    first_receive_ns: AtomicU64,
    last_receive_ns: AtomicU64,
}

impl Shared {
    fn error(&self, counter: &AtomicU64, what: &str, err: &Error) {
        counter.fetch_add(1, Ordering::Relaxed);
        let mut s = self.samples.lock();
        if s.len() < 5 {
            s.push(format!("{what}: {err}"));
        }
    }
    fn errors(&self) -> u64 {
        self.send_errors.load(Ordering::Relaxed)
            + self.receive_errors.load(Ordering::Relaxed)
            + self.delete_errors.load(Ordering::Relaxed)
    }
    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
    /// Claims up to `n` messages of the budget.
    fn claim(&self, n: usize) -> usize {
        let mut cur = self.budget.load(Ordering::Relaxed);
        loop {
            if cur == 0 {
                return 0;
            }
            let take = cur.min(n as u64);
            match self.budget.compare_exchange_weak(
                cur,
                cur - take,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return take as usize,
                Err(now) => cur = now,
            }
        }
    }
    fn all_received(&self) -> bool {
        self.received.load(Ordering::Acquire) >= self.sent.load(Ordering::Acquire)
    }
}

/// What a producer hands back.
struct ProducerResult {
    acked: Bits,
    latency: Latency,
}

async fn producer<C: Conn>(
    mut conn: C,
    shared: Arc<Shared>,
    cfg: Arc<Config>,
    id: u32,
    queue: String,
    deadline: Option<Instant>,
    mut ticks: Option<tokio::sync::mpsc::UnboundedReceiver<u64>>,
) -> ProducerResult {
    let mut acked = Bits::default();
    let mut latency = Latency::default();
    let size = cfg.body_size();
    let template = body::encode(
        &Stamp {
            run: shared.run,
            producer: id,
            seq: 0,
            sent_ns: 0,
        },
        size,
    );
    let mut seq = 0u64;
    let mut bodies: Vec<Bytes> = Vec::with_capacity(cfg.batch);
    loop {
        if shared.cancelled() || !shared.producing.load(Ordering::Relaxed) {
            break;
        }
        // Open loop: the pacer says when each batch is due.
        let due_ns = match &mut ticks {
            Some(rx) => match rx.recv().await {
                Some(due) => Some(due),
                None => break,
            },
            None => None,
        };
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let n = shared.claim(cfg.batch);
        if n == 0 {
            break;
        }
        let t0 = body::now_ns();
        let stamp_ns = due_ns.unwrap_or(t0);
        // One allocation for the whole batch; each body is a slice of it.
        let mut buf = bytes::BytesMut::with_capacity(n * size);
        for i in 0..n as u64 {
            buf.extend_from_slice(&template);
            let at = buf.len() - size;
            body::write_header(
                &mut buf[at..],
                &Stamp {
                    run: shared.run,
                    producer: id,
                    seq: seq + i,
                    sent_ns: stamp_ns,
                },
            );
        }
        let mut buf = buf.freeze();
        bodies.clear();
        bodies.extend((0..n).map(|_| buf.split_to(size)));
        let _ = shared
            .first_send_ns
            .compare_exchange(0, t0, Ordering::Relaxed, Ordering::Relaxed);
        let res = conn.send(&queue, &bodies).await;
        let t1 = body::now_ns();
        match res {
            Ok(()) => {
                latency.record_n(t1.saturating_sub(stamp_ns), n as u64);
                for i in 0..n as u64 {
                    acked.set(seq + i);
                }
                shared.sent.fetch_add(n as u64, Ordering::Release);
                shared.last_send_ns.fetch_max(t1, Ordering::Relaxed);
            }
            Err(e) => {
                shared.error(&shared.send_errors, "send", &e);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        seq += n as u64;
    }
    ProducerResult { acked, latency }
}

/// The schedule of an open-loop run: batch `k` is due at `start + k * batch / rate` and goes to
/// producer `k mod producers`. A thread of its own sleeps until each due time and hands the tick
/// to its producer; a producer still busy with an earlier send finds the tick waiting, and its
/// latency counts from the due time. Sleeping here rather than in the producers keeps the runtime's
/// workers free, and a thread's sleep is precise to tens of µs where tokio's timer has 1 ms steps.
fn pacer(
    shared: Arc<Shared>,
    cfg: &Config,
    deadline: Option<Instant>,
    ticks: Vec<tokio::sync::mpsc::UnboundedSender<u64>>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    const SLICE: Duration = Duration::from_millis(50);
    let rate = cfg.rate.unwrap_or(1.0);
    let period = cfg.batch as f64 / rate * 1e9;
    std::thread::Builder::new()
        .name("sqsfast-bench-pacer".into())
        .spawn(move || {
            // Wake within a few µs of the due time instead of the default 50 µs of slack.
            // SAFETY: PR_SET_TIMERSLACK takes one integer argument and only affects this thread.
            unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong) };
            let start = body::now_ns();
            let stopped = || {
                shared.cancelled()
                    || !shared.producing.load(Ordering::Relaxed)
                    || shared.budget.load(Ordering::Relaxed) == 0
            };
            'ticks: for k in 0u64.. {
                let due = start + (k as f64 * period) as u64;
                let left = Duration::from_nanos(due.saturating_sub(body::now_ns()));
                if deadline.is_some_and(|d| Instant::now() + left > d) {
                    break;
                }
                // In slices, so that a stop is seen within 50 ms even at a low rate.
                loop {
                    if stopped() {
                        break 'ticks;
                    }
                    let now = body::now_ns();
                    if now >= due {
                        break;
                    }
                    std::thread::sleep(Duration::from_nanos(due - now).min(SLICE));
                }
                if ticks[(k % ticks.len() as u64) as usize].send(due).is_err() {
                    break;
                }
            }
            // Dropping the senders ends the producers.
        })
}

async fn consumer<C: Conn>(
    mut conn: C,
    shared: Arc<Shared>,
    cfg: Arc<Config>,
    queue: String,
) -> Latency {
    let mut latency = Latency::default();
    let mut tokens: Vec<Token> = Vec::with_capacity(cfg.batch);
    loop {
        if shared.cancelled() || shared.consuming.load(Ordering::Relaxed) {
            break;
        }
        let got = tokio::select! {
            biased;
            () = shared.done.notified() => break,
            got = conn.receive(&queue, cfg.batch, cfg.wait) => got,
        };
        let messages = match got {
            Ok(m) => m,
            Err(e) => {
                shared.error(&shared.receive_errors, "receive", &e);
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        if messages.is_empty() {
            continue;
        }
        let now = body::now_ns();
        tokens.clear();
        let mut new = 0;
        for m in messages {
            match body::decode(&m.body).filter(|s| s.run == shared.run) {
                Some(stamp) => {
                    latency.record(now.saturating_sub(stamp.sent_ns));
                    if shared.ledger.mark(stamp.producer, stamp.seq) {
                        new += 1;
                    } else {
                        shared.duplicates.fetch_add(1, Ordering::Relaxed);
                    }
                }
                None => {
                    shared.foreign.fetch_add(1, Ordering::Relaxed);
                }
            }
            tokens.push(m.token);
        }
        if let Err(e) = conn.delete(&queue, std::mem::take(&mut tokens)).await {
            shared.error(&shared.delete_errors, "delete", &e);
        }
        let end = body::now_ns();
        let _ =
            shared
                .first_receive_ns
                .compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed);
        shared.last_receive_ns.fetch_max(end, Ordering::Relaxed);
        shared.received.fetch_add(new, Ordering::AcqRel);
    }
    latency
}

/// Runs one benchmark against `driver`: creates the run's queues, runs the workload, drains,
/// deletes the queues (also after an error or when `cancel` is set) and reports.
///
/// `progress` gets a snapshot once a second.
///
/// # Errors
/// A bad configuration, or a queue that cannot be created or a connection that cannot be made.
/// Errors of single requests during the run are counted in the report instead.
pub async fn run<D: Driver>(
    driver: Arc<D>,
    cfg: Config,
    cancel: Arc<AtomicBool>,
    progress: Option<&(dyn Fn(&Progress) + Send + Sync)>,
) -> Result<Report, Error> {
    cfg.validate()?;
    let run_id = run_id();
    let mut queues = Vec::with_capacity(cfg.queues);
    let result = async {
        for i in 0..cfg.queues {
            let name = format!("{}-{run_id:016x}-{i}", cfg.queue_prefix);
            queues.push(driver.create_queue(&name).await?);
        }
        run_on(&*driver, cfg, run_id, &queues, cancel, progress).await
    }
    .await;
    let mut cleanup: Option<Error> = None;
    for q in &queues {
        if let Err(e) = driver.delete_queue(q).await {
            cleanup.get_or_insert(e);
        }
    }
    let report = result?;
    if let Some(e) = cleanup {
        return Err(format!("the run finished but deleting its queues failed: {e}").into());
    }
    Ok(report)
}

fn run_id() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(body::now_ns());
    h.write_u32(std::process::id());
    h.finish()
}

async fn run_on<D: Driver>(
    driver: &D,
    cfg: Config,
    run: u64,
    queues: &[String],
    cancel: Arc<AtomicBool>,
    progress: Option<&(dyn Fn(&Progress) + Send + Sync)>,
) -> Result<Report, Error> {
    let cfg = Arc::new(cfg);
    let shared = Arc::new(Shared {
        run,
        sent: AtomicU64::new(0),
        received: AtomicU64::new(0),
        duplicates: AtomicU64::new(0),
        foreign: AtomicU64::new(0),
        send_errors: AtomicU64::new(0),
        receive_errors: AtomicU64::new(0),
        delete_errors: AtomicU64::new(0),
        budget: AtomicU64::new(cfg.messages.unwrap_or(u64::MAX)),
        producing: AtomicBool::new(true),
        consuming: AtomicBool::new(false),
        cancel,
        done: Notify::new(),
        ledger: Ledger::new(cfg.producers),
        samples: Mutex::new(Vec::new()),
        first_send_ns: AtomicU64::new(0),
        last_send_ns: AtomicU64::new(0),
        first_receive_ns: AtomicU64::new(0),
        last_receive_ns: AtomicU64::new(0),
    });
    // Every connection first, so that connecting is not measured.
    let mut pconns = Vec::with_capacity(cfg.producers);
    for _ in 0..cfg.producers {
        pconns.push(driver.connect().await?);
    }
    let mut cconns = Vec::with_capacity(cfg.consumers);
    for _ in 0..cfg.consumers {
        cconns.push(driver.connect().await?);
    }
    let (cpu_user0, cpu_sys0) = stats::cpu_time();
    let started = Instant::now();
    let epoch_ns = body::now_ns();
    let start_consumers = |cconns: Vec<D::Conn>| {
        cconns
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                tokio::spawn(consumer(
                    c,
                    shared.clone(),
                    cfg.clone(),
                    queues[i % queues.len()].clone(),
                ))
            })
            .collect::<Vec<_>>()
    };
    let mut consumers = Vec::new();
    let fill_drain = cfg.workload == Workload::FillDrain;
    if !fill_drain {
        consumers = start_consumers(std::mem::take(&mut cconns));
        if cfg.workload == Workload::LongPoll {
            // Let the consumers park in their long polls before the first send.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let deadline = cfg.duration.map(|d| Instant::now() + d);
    let mut receivers = Vec::new();
    let mut pacer_thread = None;
    if cfg.workload.paced() {
        let (txs, rxs): (Vec<_>, Vec<_>) = (0..cfg.producers)
            .map(|_| tokio::sync::mpsc::unbounded_channel())
            .unzip();
        receivers = rxs.into_iter().map(Some).collect();
        pacer_thread = Some(pacer(shared.clone(), &cfg, deadline, txs)?);
    }
    let producers: Vec<_> = pconns
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            tokio::spawn(producer(
                c,
                shared.clone(),
                cfg.clone(),
                i as u32,
                queues[i % queues.len()].clone(),
                deadline,
                receivers.get_mut(i).and_then(Option::take),
            ))
        })
        .collect();

    // Once a second: progress, and the timeline of the report.
    let mut timeline = Vec::new();
    let mut phase = if fill_drain { "fill" } else { "run" };
    let mut last = (0u64, 0u64, Instant::now());
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_secs(1),
        Duration::from_secs(1),
    );
    let snapshot = |phase: &'static str, last: &mut (u64, u64, Instant)| {
        let (sent, received) = (
            shared.sent.load(Ordering::Relaxed),
            shared.received.load(Ordering::Relaxed),
        );
        let now = Instant::now();
        let dt = now.duration_since(last.2).as_secs_f64().max(1e-9);
        let p = Progress {
            elapsed_s: started.elapsed().as_secs_f64(),
            phase,
            sent,
            received,
            duplicates: shared.duplicates.load(Ordering::Relaxed),
            errors: shared.errors(),
            send_per_s: (sent - last.0) as f64 / dt,
            receive_per_s: (received.saturating_sub(last.1)) as f64 / dt,
        };
        *last = (sent, received, now);
        p
    };
    let mut idle_since: Option<(Instant, u64)> = None;
    let mut drain_timed_out = false;
    let mut producers = Some(producers);
    let mut acked: Vec<Bits> = Vec::with_capacity(cfg.producers);
    let mut send_lat = Latency::default();
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let p = snapshot(phase, &mut last);
                if let Some(f) = progress {
                    f(&p);
                }
                timeline.push(p);
            }
            _ = tokio::time::sleep(Duration::from_millis(20)) => {}
        }
        if shared.cancelled() {
            shared.producing.store(false, Ordering::Release);
            shared.consuming.store(true, Ordering::Release);
            shared.done.notify_waiters();
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            shared.producing.store(false, Ordering::Release);
        }
        if producers
            .as_ref()
            .is_some_and(|p| p.iter().all(|h| h.is_finished()))
        {
            for h in producers.take().unwrap_or_default() {
                let r = h.await.map_err(|e| format!("producer task failed: {e}"))?;
                send_lat.add(&r.latency);
                acked.push(r.acked);
            }
            shared.producing.store(false, Ordering::Release);
            if fill_drain {
                phase = "drain";
                consumers = start_consumers(std::mem::take(&mut cconns));
            } else {
                phase = "drain";
            }
        }
        if producers.is_none() {
            // Every acknowledged message in: the count first (cheap), then the ledger, since a
            // message whose send failed may have arrived in place of one still missing.
            if shared.cancelled() || (shared.all_received() && shared.ledger.lost(&acked) == 0) {
                break;
            }
            let received = shared.received.load(Ordering::Relaxed);
            match idle_since {
                Some((t, r)) if r == received => {
                    if t.elapsed() >= cfg.drain_timeout {
                        drain_timed_out = true;
                        break;
                    }
                }
                _ => idle_since = Some((Instant::now(), received)),
            }
        }
    }
    shared.consuming.store(true, Ordering::Release);
    shared.done.notify_waiters();
    if let Some(t) = pacer_thread {
        // It has stopped: producers stop only when it drops their ticks, or on cancel, which it
        // sees within one period.
        let _ = tokio::task::spawn_blocking(move || t.join()).await;
    }
    let mut e2e = Latency::default();
    for h in consumers {
        // A consumer can be inside a receive that does not listen for the end (a blocking client):
        // it returns within the wait.
        e2e.add(&h.await.map_err(|e| format!("consumer task failed: {e}"))?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (cpu_user1, cpu_sys1) = stats::cpu_time();
    let lost = shared.ledger.lost(&acked);
    let sent = shared.sent.load(Ordering::Relaxed);
    let received = shared.received.load(Ordering::Relaxed);
    let window = |a: &AtomicU64, b: &AtomicU64| {
        let (a, b) = (a.load(Ordering::Relaxed), b.load(Ordering::Relaxed));
        if a == 0 || b < a {
            0.0
        } else {
            (b - a) as f64 / 1e9
        }
    };
    let size = cfg.body_size();
    // Sending starts at the run's start; receiving (for fill-drain) at its first receive.
    let send_window = if sent > 0 {
        (shared.last_send_ns.load(Ordering::Relaxed) as f64 - epoch_ns as f64).max(0.0) / 1e9
    } else {
        0.0
    };
    let receive_window = if fill_drain {
        window(&shared.first_receive_ns, &shared.last_receive_ns)
    } else {
        (shared.last_receive_ns.load(Ordering::Relaxed) as f64 - epoch_ns as f64).max(0.0) / 1e9
    };
    let cpu = (cpu_user1 - cpu_user0, cpu_sys1 - cpu_sys0);
    let interrupted = shared.cancelled();
    let errors = Errors {
        send: shared.send_errors.load(Ordering::Relaxed),
        receive: shared.receive_errors.load(Ordering::Relaxed),
        delete: shared.delete_errors.load(Ordering::Relaxed),
        total: shared.errors(),
        samples: shared.samples.lock().clone(),
    };
    Ok(Report {
        target: driver.name(),
        workload: cfg.workload.name().into(),
        run_id: format!("{run:016x}"),
        config: serde_json::to_value(&*cfg).unwrap_or_default(),
        queues: queues.to_vec(),
        elapsed_s: elapsed,
        send: Throughput::new(sent, send_window, size),
        receive: Throughput::new(received, receive_window, size),
        latency_us: Latencies {
            send: send_lat.summary(),
            end_to_end: e2e.summary(),
        },
        sent,
        received,
        duplicates: shared.duplicates.load(Ordering::Relaxed),
        lost,
        received_unacknowledged: (received + lost).saturating_sub(sent),
        foreign: shared.foreign.load(Ordering::Relaxed),
        errors,
        cpu: Cpu {
            user_s: cpu.0.as_secs_f64(),
            system_s: cpu.1.as_secs_f64(),
            cores: (cpu.0 + cpu.1).as_secs_f64() / elapsed.max(1e-9),
        },
        interrupted,
        drain_timed_out,
        ok: lost == 0 && !interrupted,
        timeline,
    })
}
