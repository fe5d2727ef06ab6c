//! Engine benchmarks: full-cycle throughput on one and two threads, memory per queued message, and
//! long-poll wake-up latency. Prints numbers and checks its own results (every message sent is
//! received and deleted, counts end at zero); it never fails on speed.
//!
//!     cargo bench -p sqsfast-core --bench core
//!
//! Environment: `SQSFAST_BENCH_MESSAGES` (default 4 000 000 per thread), `SQSFAST_BENCH_SIZE` (256).

use sqsfast_core::{Broker, Queue, ReceiveOptions, SendMessage};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
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

fn wake_latency(rounds: usize) -> (Duration, Duration, Duration) {
    let broker = Broker::default();
    let q = broker.create_queue("wake", &[], &[]).unwrap();
    let q2 = q.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel::<Instant>();
    let receiver = std::thread::spawn(move || {
        let opts = ReceiveOptions {
            wait_seconds: Some(20),
            ..Default::default()
        };
        let mut lat = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let got = q2.receive_blocking(&opts, &mut || false).unwrap();
            let now = Instant::now();
            let sent: Instant = rx.recv().unwrap();
            assert_eq!(got.len(), 1);
            q2.delete(got[0].handle()).unwrap();
            lat.push(now - sent);
        }
        lat
    });
    for _ in 0..rounds {
        // Let the receiver reach its wait before sending.
        std::thread::sleep(Duration::from_micros(300));
        let t = Instant::now();
        q.send(SendMessage::new("wake")).unwrap();
        tx.send(t).unwrap();
    }
    let mut lat = receiver.join().unwrap();
    stop.store(true, Ordering::Relaxed);
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
    println!(
        "sqsfast-core benchmarks ({size}-byte bodies, {} cores)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
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
    let per = memory(1_000_000, 100);
    println!(
        "memory, 1 000 000 queued 100-byte messages:                   {:>10.1} bytes/message beyond the body",
        per
    );
    let (p50, p99, max) = wake_latency(2_000);
    println!(
        "long-poll wake-up (send -> waiting receive returns):          p50 {:?}  p99 {:?}  max {:?}",
        p50, p99, max
    );
}
