//! Engine benchmarks: full-cycle throughput on one and two threads, memory per queued message, and
//! long-poll wake-up latency. Prints numbers and checks its own results (every message sent is
//! received and deleted, counts end at zero); it never fails on speed.
//!
//!     cargo bench -p sqsfast-core --bench core
//!
//! Environment: `SQSFAST_BENCH_MESSAGES` (default 4 000 000), `SQSFAST_BENCH_SIZE` (256),
//! `SQSFAST_BENCH_THREADS` (only the full cycle, on that many threads).

use sqsfast_core::{Broker, Queue, ReceiveOptions, SendMessage};
use std::time::{Duration, Instant};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Sends `n` messages in batches of 10, receiving and deleting each batch: the full cycle.
fn cycle(q: &Queue, n: usize, body: &[u8]) -> usize {
    let opts = ReceiveOptions {
        max_messages: 10,
        visibility_timeout: Some(60),
        ..Default::default()
    };
    let ids: Vec<String> = (0..10).map(|i| i.to_string()).collect();
    let mut received = 0;
    for _ in 0..n / 10 {
        let batch = ids
            .iter()
            .map(|id| (id.clone(), SendMessage::new(body)))
            .collect();
        for (_, r) in q.send_batch(batch, 10).expect("send batch") {
            r.expect("send entry");
        }
        let got = q.receive(&opts).expect("receive");
        for m in &got {
            q.delete(m.handle()).expect("delete");
        }
        received += got.len();
    }
    received
}

fn throughput(threads: usize, per_thread: usize, body: &[u8]) -> f64 {
    let broker = Broker::default();
    let q = broker.create_queue("bench", &[], &[]).unwrap();
    let start = Instant::now();
    let received: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| s.spawn(|| cycle(&q, per_thread, body)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    let secs = start.elapsed().as_secs_f64();
    // Other threads' messages can be received by any thread: drain what is left, then check.
    let mut rest = 0;
    loop {
        let got = q
            .receive(&ReceiveOptions {
                max_messages: 10,
                ..Default::default()
            })
            .unwrap();
        if got.is_empty() {
            break;
        }
        for m in &got {
            q.delete(m.handle()).unwrap();
        }
        rest += got.len();
    }
    let total = threads * (per_thread / 10 * 10);
    let c = q.counts();
    let correct = received + rest == total && c.visible + c.in_flight + c.delayed == 0;
    assert!(
        correct,
        "lost or duplicated messages: {received} + {rest} != {total}, counts {c:?}"
    );
    total as f64 / secs
}

fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn memory(n: usize, size: usize) -> f64 {
    let broker = Broker::default();
    let q = broker.create_queue("mem", &[], &[]).unwrap();
    let body = vec![b'x'; size];
    let before = rss_bytes();
    for _ in 0..n {
        q.send(SendMessage::new(body.as_slice())).unwrap();
    }
    let after = rss_bytes();
    assert_eq!(q.counts().visible as usize, n, "every message is held");
    (after - before) as f64 / n as f64 - size as f64
}

/// A receive long-polling in another thread; time from the send to its return. Each round waits
/// until the receiver is about to wait again, so that a late receiver measures no backlog.
fn wake_latency(rounds: usize) -> (Duration, Duration, Duration) {
    let broker = Broker::default();
    let q = broker.create_queue("wake", &[], &[]).unwrap();
    let q2 = q.clone();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    let (sent_tx, sent_rx) = std::sync::mpsc::channel::<Instant>();
    let receiver = std::thread::spawn(move || {
        let opts = ReceiveOptions {
            wait_seconds: Some(20),
            ..Default::default()
        };
        let mut lat = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            ready_tx.send(()).unwrap();
            let got = q2.receive_blocking(&opts, &mut || false).unwrap();
            let now = Instant::now();
            let sent: Instant = sent_rx.recv().unwrap();
            assert_eq!(got.len(), 1, "the long poll returned without the message");
            q2.delete(got[0].handle()).unwrap();
            lat.push(now - sent);
        }
        lat
    });
    for _ in 0..rounds {
        ready_rx.recv().unwrap();
        // Let the receiver reach its wait before sending.
        std::thread::sleep(Duration::from_micros(300));
        let t = Instant::now();
        q.send(SendMessage::new("wake")).unwrap();
        sent_tx.send(t).unwrap();
    }
    let mut lat = receiver.join().unwrap();
    assert_eq!(q.counts().visible, 0, "every message was received");
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    (pct(0.5), pct(0.99), *lat.last().unwrap())
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` lists benches; there is nothing to list.
    }
    let n = env("SQSFAST_BENCH_MESSAGES", 4_000_000);
    let size = env("SQSFAST_BENCH_SIZE", 256);
    let body = vec![b'x'; size];
    // `SQSFAST_BENCH_WAKE=N` runs only the long-poll wake-up, N rounds.
    if let Ok(rounds) = std::env::var("SQSFAST_BENCH_WAKE") {
        let (p50, p99, max) = wake_latency(rounds.parse().expect("a number"));
        println!("long-poll wake-up: p50 {p50:?}  p99 {p99:?}  max {max:?}");
        return;
    }
    // `SQSFAST_BENCH_THREADS=N` runs only the full cycle on N threads (for `perf stat`).
    if let Ok(threads) = std::env::var("SQSFAST_BENCH_THREADS") {
        let threads: usize = threads.parse().expect("SQSFAST_BENCH_THREADS is a number");
        let rate = throughput(threads, n / threads, &body);
        println!("full cycle, {threads} thread(s): {rate:.0} msg/s");
        return;
    }
    println!(
        "sqsfast-core benchmarks ({size}-byte bodies, {} cores)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    // Memory first, on a fresh heap: later workloads leave freed memory for it to reuse.
    let per = memory(1_000_000, 100);
    println!(
        "memory, 1 000 000 queued 100-byte messages:                   {:>10.1} bytes/message beyond the body",
        per
    );
    let one = throughput(1, n, &body);
    println!(
        "full cycle, 1 thread  (send batch 10, receive 10, delete 10): {:>10.0} msg/s",
        one
    );
    let two = throughput(2, n / 2, &body);
    println!(
        "full cycle, 2 threads on one queue:                           {:>10.0} msg/s ({:.2}x)",
        two,
        two / one
    );
    let (p50, p99, max) = wake_latency(2_000);
    println!(
        "long-poll wake-up (send -> waiting receive returns):          p50 {:?}  p99 {:?}  max {:?}",
        p50, p99, max
    );
}
