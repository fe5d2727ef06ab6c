//! Durable storage benchmarks: send throughput with each fsync mode against memory in the same run,
//! group commit under 64 concurrent senders, recovery speed, and resident memory after a restart.
//! Prints numbers and checks its own results (every message sent comes back after the restart); it
//! never fails on speed.
//!
//!     cargo bench -p sqsfast-core --bench storage
//!
//! Environment: `SQSFAST_BENCH_MESSAGES` (sends per mode, default 2 000 000), `SQSFAST_BENCH_SIZE`
//! (body bytes, 256), `SQSFAST_BENCH_RECOVER` (messages for the restart test, default 10 000 000;
//! 0 skips it), `SQSFAST_BENCH_DIR` (where data directories go; default the system temp dir, which
//! should be a real disk for the fsync numbers to mean anything). For a profiler:
//! `SQSFAST_BENCH_CYCLE=1` runs only the durable full cycle on one thread, `SQSFAST_BENCH_SEND=N`
//! only durable sends on N threads.
//!
//! `SQSFAST_BENCH_BACKLOG=50000000` runs only the backlog test: that many messages queued under a
//! body memory budget of `SQSFAST_BENCH_BUDGET_MB` (default 512), the process's resident memory
//! after sending and after a restart (in a process of its own), then every message received
//! (bodies read back from disk), checked and deleted.

use sqsfast_core::{
    Broker, BrokerConfig, FsyncMode, Queue, ReceiveOptions, SendMessage, StorageConfig,
};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The allocator of the Python extension and `sqsfast serve`, so that memory figures are theirs.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn base_dir() -> PathBuf {
    std::env::var_os("SQSFAST_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from)
}

fn fresh(name: &str) -> PathBuf {
    let dir = base_dir().join(format!("sqsfast-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn open(dir: Option<&Path>, fsync: FsyncMode) -> Broker {
    match dir {
        None => Broker::default(),
        Some(d) => {
            let storage = StorageConfig {
                fsync,
                ..StorageConfig::new(d)
            };
            Broker::open(BrokerConfig::default(), storage)
                .expect("open")
                .0
        }
    }
}

/// `threads` threads each send `per_thread` messages in batches of `batch`; returns msg/s.
fn sends(q: &Queue, threads: usize, per_thread: usize, batch: usize, body: &[u8]) -> f64 {
    let ids: Vec<String> = (0..batch).map(|i| i.to_string()).collect();
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..per_thread / batch {
                    if batch == 1 {
                        q.send(SendMessage::new(body)).expect("send");
                    } else {
                        let entries = ids
                            .iter()
                            .map(|id| (id.clone(), SendMessage::new(body)))
                            .collect();
                        for (_, r) in q.send_batch(entries, batch).expect("send batch") {
                            r.expect("send entry");
                        }
                    }
                }
            });
        }
    });
    let rate = (threads * (per_thread / batch) * batch) as f64 / start.elapsed().as_secs_f64();
    assert_eq!(
        q.counts().visible as usize,
        threads * (per_thread / batch) * batch,
        "every send is in the queue"
    );
    rate
}

fn mode_run(
    name: &str,
    fsync: Option<FsyncMode>,
    threads: usize,
    n: usize,
    batch: usize,
    body: &[u8],
) -> f64 {
    let dir = fsync.map(|_| fresh(name));
    let b = open(dir.as_deref(), fsync.unwrap_or_default());
    let q = b.create_queue("bench", &[], &[]).unwrap();
    let rate = sends(&q, threads, n / threads, batch, body);
    b.close();
    drop(q);
    drop(b);
    if let Some(d) = dir {
        let _ = std::fs::remove_dir_all(d);
    }
    rate
}

/// The full cycle (send a batch, receive it, delete it) on `threads` threads; returns msg/s.
fn cycle_run(fsync: Option<FsyncMode>, threads: usize, n: usize, body: &[u8]) -> f64 {
    let dir = fsync.map(|_| fresh("cycle"));
    let b = open(dir.as_deref(), fsync.unwrap_or_default());
    let q = b.create_queue("bench", &[], &[]).unwrap();
    let opts = ReceiveOptions {
        max_messages: 10,
        visibility_timeout: Some(60),
        ..Default::default()
    };
    let ids: Vec<String> = (0..10).map(|i| i.to_string()).collect();
    let start = Instant::now();
    let received: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut received = 0;
                    for _ in 0..n / threads / 10 {
                        let entries = ids
                            .iter()
                            .map(|id| (id.clone(), SendMessage::new(body)))
                            .collect();
                        q.send_batch(entries, 10).expect("send batch");
                        let got = q.receive(&opts).expect("receive");
                        let handles = got
                            .iter()
                            .zip(&ids)
                            .map(|(m, id)| (id.clone(), *m.handle()))
                            .collect();
                        for (_, r) in q.delete_batch(handles, 10).expect("delete") {
                            r.expect("delete entry");
                        }
                        received += got.len();
                    }
                    received
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    let rate = received as f64 / start.elapsed().as_secs_f64();
    assert_eq!(q.counts().in_flight, 0);
    b.close();
    drop(q);
    drop(b);
    if let Some(d) = dir {
        let _ = std::fs::remove_dir_all(d);
    }
    rate
}

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn recovery(n: usize, body: &[u8]) {
    let dir = fresh("recover");
    {
        let b = open(Some(&dir), FsyncMode::Never);
        let q = b.create_queue("bench", &[], &[]).unwrap();
        sends(&q, 2, n / 2, 100, body);
        b.close();
    }
    let log_bytes: u64 = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    let rss_before = rss_bytes();
    let start = Instant::now();
    let (b, report) =
        Broker::open(BrokerConfig::default(), StorageConfig::new(&dir)).expect("reopen");
    let ready = start.elapsed();
    let q = b.queue("bench").unwrap();
    assert_eq!(
        report.messages as usize,
        n / 200 * 200,
        "every message is back"
    );
    assert_eq!(q.counts().visible as usize, n / 200 * 200);
    println!(
        "restart with {} messages queued ({:.1} GB of log): ready in {:.2} s; replay {:.2} M records/s over {:.2} s; RSS +{:.0} MB ({:.0} bytes/message)",
        report.messages,
        log_bytes as f64 / 1e9,
        ready.as_secs_f64(),
        report.records as f64 / report.elapsed.as_secs_f64() / 1e6,
        report.elapsed.as_secs_f64(),
        (rss_bytes().saturating_sub(rss_before)) as f64 / 1e6,
        (rss_bytes().saturating_sub(rss_before)) as f64 / report.messages as f64,
    );
    // Everything received and deleted once: each message's content came back whole.
    let opts = ReceiveOptions {
        max_messages: 1000,
        max_batch: 1000,
        visibility_timeout: Some(600),
        ..Default::default()
    };
    let mut seen = 0;
    loop {
        let got = q.receive(&opts).unwrap();
        if got.is_empty() {
            break;
        }
        for m in &got {
            assert_eq!(m.body(), body);
            q.delete(m.handle()).unwrap();
        }
        seen += got.len();
    }
    assert_eq!(seen, report.messages as usize);
    b.close();
    drop(q);
    drop(b);
    let _ = std::fs::remove_dir_all(dir);
}

/// A body of `size` bytes that names message `i`.
fn numbered(i: u64, size: usize) -> Vec<u8> {
    let mut body = format!("{i:016}").into_bytes();
    body.resize(size.max(16), b'x');
    body
}

fn gib(bytes: u64) -> f64 {
    bytes as f64 / (1u64 << 30) as f64
}

const BACKLOG_THREADS: u64 = 2;

/// Fills a queue with `n` messages under the budget, then runs [`backlog_restart`] in a new process
/// (so that its memory is only what the restart holds).
fn backlog(n: u64, size: usize, budget_mb: u64) {
    let dir = fresh("backlog");
    let storage = StorageConfig {
        fsync: FsyncMode::Never,
        memory_budget: Some(budget_mb << 20),
        ..StorageConfig::new(&dir)
    };
    let gb = gib;
    let threads = BACKLOG_THREADS;
    {
        let (b, _) = Broker::open(BrokerConfig::default(), storage.clone()).expect("open");
        let q = b.create_queue("backlog", &[], &[]).unwrap();
        let start = Instant::now();
        std::thread::scope(|s| {
            for t in 0..threads {
                let q = &q;
                s.spawn(move || {
                    let mut i = t;
                    while i < n {
                        let entries = (0..100)
                            .map_while(|j| {
                                let k = i + j * threads;
                                (k < n)
                                    .then(|| (j.to_string(), SendMessage::new(numbered(k, size))))
                            })
                            .collect::<Vec<_>>();
                        i += entries.len() as u64 * threads;
                        for (_, r) in q.send_batch(entries, 100).expect("send batch") {
                            r.expect("send entry");
                        }
                    }
                });
            }
        });
        let stats = b.storage_stats().unwrap();
        println!(
            "backlog: {n} messages of {size} bytes sent in {:.1} s ({:.0} msg/s), budget {budget_mb} MiB: {:.2} GiB of bodies in memory, {} on disk only; RSS {:.2} GiB ({:.0} bytes/message)",
            start.elapsed().as_secs_f64(),
            n as f64 / start.elapsed().as_secs_f64(),
            gb(stats.body_bytes_in_memory),
            stats.bodies_on_disk,
            gb(rss_bytes()),
            rss_bytes() as f64 / n as f64,
        );
        assert_eq!(q.counts().visible, n, "every send is in the queue");
        println!(
            "backlog: peak resident memory while sending {:.2} GiB",
            gib(peak_rss_bytes())
        );
        b.close();
    }
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .env("SQSFAST_BENCH_BACKLOG_DIR", &dir)
        .status()
        .expect("run the restart");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(status.success(), "the restart and drain failed");
}

/// Opens the backlog's directory again and receives, checks and deletes every message.
fn backlog_restart(dir: &Path, n: u64, size: usize, budget_mb: u64) {
    let storage = StorageConfig {
        fsync: FsyncMode::Never,
        memory_budget: Some(budget_mb << 20),
        ..StorageConfig::new(dir)
    };
    let (gb, threads) = (gib, BACKLOG_THREADS);
    let start = Instant::now();
    let (b, report) = Broker::open(BrokerConfig::default(), storage).expect("reopen");
    let stats = b.storage_stats().unwrap();
    println!(
        "backlog: restart ready in {:.1} s ({:.1} GB of log); RSS {:.2} GiB ({:.0} bytes/message), {} bodies on disk only",
        start.elapsed().as_secs_f64(),
        stats.log_bytes as f64 / 1e9,
        gb(rss_bytes()),
        rss_bytes() as f64 / n as f64,
        stats.bodies_on_disk,
    );
    assert_eq!(report.messages, n, "every message is back");
    // Every message received once, its body checked, and deleted.
    let q = b.queue("backlog").unwrap();
    // One bit per message (6 MB for 50 M), so that the check adds little to the memory measured.
    let seen: Vec<std::sync::atomic::AtomicU64> = (0..n.div_ceil(64))
        .map(|_| std::sync::atomic::AtomicU64::new(0))
        .collect();
    let start = Instant::now();
    let received: u64 = std::thread::scope(|s| {
        let (q, size, seen) = (&q, size, &seen);
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(move || {
                    let opts = ReceiveOptions {
                        max_messages: 100,
                        max_batch: 100,
                        visibility_timeout: Some(3600),
                        wait_seconds: Some(0),
                    };
                    let mut count = 0u64;
                    loop {
                        let got = q.receive(&opts).expect("receive");
                        if got.is_empty() {
                            return count;
                        }
                        let handles = got
                            .iter()
                            .enumerate()
                            .map(|(j, m)| {
                                let i: u64 = std::str::from_utf8(&m.body()[..16])
                                    .unwrap()
                                    .parse()
                                    .unwrap();
                                assert_eq!(m.body(), numbered(i, size), "body of message {i}");
                                let bit = 1u64 << (i % 64);
                                let was = seen[(i / 64) as usize]
                                    .fetch_or(bit, std::sync::atomic::Ordering::Relaxed);
                                assert_eq!(was & bit, 0, "message {i} twice");
                                count += 1;
                                (j.to_string(), *m.handle())
                            })
                            .collect();
                        for (_, r) in q.delete_batch(handles, 100).expect("delete") {
                            r.expect("delete entry");
                        }
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    println!(
        "backlog: all {received} received, checked and deleted in {:.1} s ({:.0} msg/s)",
        start.elapsed().as_secs_f64(),
        received as f64 / start.elapsed().as_secs_f64()
    );
    assert_eq!(received, n, "every message received");
    println!(
        "backlog: peak resident memory of the restarted process {:.2} GiB",
        gib(peak_rss_bytes())
    );
    b.close();
}

/// The most this process has had resident (`VmHWM`).
fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let backlog_n = env("SQSFAST_BENCH_BACKLOG", 0) as u64;
    if backlog_n > 0 {
        let size = env("SQSFAST_BENCH_SIZE", 256);
        let budget_mb = env("SQSFAST_BENCH_BUDGET_MB", 512) as u64;
        match std::env::var_os("SQSFAST_BENCH_BACKLOG_DIR") {
            Some(dir) => backlog_restart(Path::new(&dir), backlog_n, size, budget_mb),
            None => backlog(backlog_n, size, budget_mb),
        }
        return;
    }
    let n = env("SQSFAST_BENCH_MESSAGES", 2_000_000);
    let size = env("SQSFAST_BENCH_SIZE", 256);
    let body = vec![b'x'; size];
    println!(
        "sqsfast storage benchmarks ({size}-byte bodies, {} cores, data in {})",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        base_dir().display()
    );
    // `SQSFAST_BENCH_CYCLE=1` runs only the durable full cycle on one thread (for a profiler).
    if std::env::var_os("SQSFAST_BENCH_CYCLE").is_some() {
        let rate = cycle_run(Some(FsyncMode::Interval), 1, n, &body);
        println!("full cycle, interval, 1 thread: {rate:.0} msg/s");
        return;
    }
    // `SQSFAST_BENCH_SEND=N` runs only durable sends (`interval`, batches of 10) on N threads.
    if let Some(threads) = std::env::var("SQSFAST_BENCH_SEND")
        .ok()
        .and_then(|t| t.parse().ok())
    {
        let rate = mode_run("interval", Some(FsyncMode::Interval), threads, n, 10, &body);
        println!("send, interval, {threads} thread(s), batches of 10: {rate:.0} msg/s");
        return;
    }
    // The process's first run pays for its first memory (page faults on a heap that later runs
    // reuse): an untimed one goes first, so that the first figures compare like with like.
    mode_run("memory", None, 2, n, 10, &body);
    for (threads, batch) in [(1, 10), (2, 10), (2, 100)] {
        let memory = mode_run("memory", None, threads, n, batch, &body);
        print!(
            "send, {threads} thread(s), batches of {batch:>3}: memory {:>9.0} msg/s",
            memory
        );
        for (name, mode) in [
            ("never", FsyncMode::Never),
            ("interval", FsyncMode::Interval),
            ("always", FsyncMode::Always),
        ] {
            let rate = mode_run(name, Some(mode), threads, n, batch, &body);
            print!(" | {name} {rate:>9.0} ({:>3.0}%)", 100.0 * rate / memory);
        }
        println!();
    }
    for threads in [1, 2] {
        let memory = cycle_run(None, threads, n, &body);
        let interval = cycle_run(Some(FsyncMode::Interval), threads, n, &body);
        println!(
            "full cycle (batches of 10), {threads} thread(s): memory {memory:.0} msg/s | interval {interval:.0} ({:.0}%)",
            100.0 * interval / memory
        );
    }
    // Group commit: 64 threads each sending one message at a time.
    let per = (n / 20).max(6400);
    let memory = mode_run("memory", None, 64, per, 1, &body);
    let always = mode_run("always64", Some(FsyncMode::Always), 64, per, 1, &body);
    let interval = mode_run("interval64", Some(FsyncMode::Interval), 64, per, 1, &body);
    println!(
        "single sends, 64 threads: memory {memory:.0} msg/s | interval {interval:.0} ({:.0}%) | always {always:.0} ({:.0}%)",
        100.0 * interval / memory,
        100.0 * always / memory
    );
    let recover = env("SQSFAST_BENCH_RECOVER", 10_000_000);
    if recover > 0 {
        recovery(recover, &body);
    }
}
