//! What a run measures: latency histograms, the ledger of messages seen, CPU use, and the report.

use hdrhistogram::Histogram;
use parking_lot::Mutex;
use serde::Serialize;
use std::time::Duration;

/// The longest latency recorded; longer ones are clamped (a message that took longer is reported
/// as lost or late anyway).
const MAX_NS: u64 = 3_600_000_000_000;

/// A latency histogram in ns, 3 significant digits.
pub struct Latency(Histogram<u64>);

impl Default for Latency {
    fn default() -> Self {
        Self(Histogram::new_with_bounds(1, MAX_NS, 3).expect("valid histogram bounds"))
    }
}

impl Latency {
    pub fn record(&mut self, ns: u64) {
        self.0.saturating_record(ns.clamp(1, MAX_NS));
    }
    /// Records `ns` for `n` messages at once (a batch's round trip counts for each message).
    pub fn record_n(&mut self, ns: u64, n: u64) {
        // Can only fail past the bounds, which the clamp rules out.
        let _ = self.0.record_n(ns.clamp(1, MAX_NS), n);
    }
    pub fn add(&mut self, other: &Latency) {
        let _ = self.0.add(&other.0);
    }
    pub fn count(&self) -> u64 {
        self.0.len()
    }
    /// Percentiles in µs.
    pub fn summary(&self) -> LatencySummary {
        let us = |ns: u64| ns as f64 / 1000.0;
        if self.0.is_empty() {
            return LatencySummary::default();
        }
        LatencySummary {
            count: self.0.len(),
            mean: self.0.mean() / 1000.0,
            p50: us(self.0.value_at_quantile(0.50)),
            p90: us(self.0.value_at_quantile(0.90)),
            p99: us(self.0.value_at_quantile(0.99)),
            p999: us(self.0.value_at_quantile(0.999)),
            max: us(self.0.max()),
        }
    }
}

/// Latency percentiles in µs.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct LatencySummary {
    pub count: u64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

/// A growable bitmap of sequence numbers.
#[derive(Default, Clone, Debug)]
pub struct Bits(Vec<u64>);

impl Bits {
    /// Sets bit `i`; true when it was not set before.
    pub fn set(&mut self, i: u64) -> bool {
        let (w, b) = ((i / 64) as usize, i % 64);
        if w >= self.0.len() {
            self.0.resize(w + 1, 0);
        }
        let was = self.0[w] >> b & 1 == 1;
        self.0[w] |= 1 << b;
        !was
    }
    pub fn count(&self) -> u64 {
        self.0.iter().map(|w| w.count_ones() as u64).sum()
    }
    /// How many bits of `self` are not set in `other`.
    pub fn missing_from(&self, other: &Bits) -> u64 {
        self.0
            .iter()
            .enumerate()
            .map(|(i, w)| (w & !other.0.get(i).copied().unwrap_or(0)).count_ones() as u64)
            .sum()
    }
}

/// Which messages of each producer were received, shared by the consumers: a first receive and a
/// duplicate are told apart as they happen, so the run knows when everything has arrived. One
/// mutex per producer, taken once per producer per received batch: cheap next to a receive.
pub struct Ledger {
    seen: Vec<Mutex<Bits>>,
}

impl Ledger {
    pub fn new(producers: usize) -> Self {
        Self {
            seen: (0..producers)
                .map(|_| Mutex::new(Bits::default()))
                .collect(),
        }
    }
    /// Marks (producer, seq) received; true the first time, false for a duplicate or a producer id
    /// out of range.
    pub fn mark(&self, producer: u32, seq: u64) -> bool {
        match self.seen.get(producer as usize) {
            Some(m) => m.lock().set(seq),
            None => false,
        }
    }
    /// How many of the messages in `acked` (by producer) were never received.
    pub fn lost(&self, acked: &[Bits]) -> u64 {
        acked
            .iter()
            .zip(&self.seen)
            .map(|(a, s)| a.missing_from(&s.lock()))
            .sum()
    }
}

/// CPU time this process has used (user, system).
pub fn cpu_time() -> (Duration, Duration) {
    // SAFETY: an all-zero rusage is a valid value for getrusage to overwrite.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a valid, writable rusage; RUSAGE_SELF cannot fail.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let d = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    (d(u.ru_utime), d(u.ru_stime))
}

/// Messages over a time window.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Throughput {
    pub messages: u64,
    pub seconds: f64,
    pub msg_per_s: f64,
    pub mb_per_s: f64,
}

impl Throughput {
    pub fn new(messages: u64, seconds: f64, size: usize) -> Self {
        let rate = if seconds > 0.0 {
            messages as f64 / seconds
        } else {
            0.0
        };
        Self {
            messages,
            seconds,
            msg_per_s: rate,
            mb_per_s: rate * size as f64 / 1e6,
        }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Latencies {
    /// Round trip of a send request (at a fixed rate: from the time the send was due).
    pub send: LatencySummary,
    /// From the time a message was sent (or due) to the time a consumer had it.
    pub end_to_end: LatencySummary,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Errors {
    pub send: u64,
    pub receive: u64,
    pub delete: u64,
    pub total: u64,
    /// The first few error messages.
    pub samples: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Cpu {
    pub user_s: f64,
    pub system_s: f64,
    /// (user + system) / wall time: how many cores the client (and, in process, the engine) used.
    pub cores: f64,
}

/// One second of the run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Progress {
    pub elapsed_s: f64,
    pub phase: &'static str,
    pub sent: u64,
    pub received: u64,
    pub duplicates: u64,
    pub errors: u64,
    /// Over the last interval.
    pub send_per_s: f64,
    pub receive_per_s: f64,
}

/// The outcome of a run: what `--json` writes.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub target: String,
    pub workload: String,
    pub run_id: String,
    pub config: serde_json::Value,
    pub queues: Vec<String>,
    pub elapsed_s: f64,
    /// Acknowledged sends over the sending window.
    pub send: Throughput,
    /// Messages received (first receives) and deleted over the receiving window: the full cycle.
    pub receive: Throughput,
    pub latency_us: Latencies,
    /// Messages whose send was acknowledged.
    pub sent: u64,
    /// Distinct messages received.
    pub received: u64,
    /// Receives of a message already received (at-least-once allows them).
    pub duplicates: u64,
    /// Acknowledged messages never received: any fails the run.
    pub lost: u64,
    /// Messages received whose send failed (the server took them but the reply did not arrive).
    pub received_unacknowledged: u64,
    /// Bodies that were not this run's.
    pub foreign: u64,
    pub errors: Errors,
    pub cpu: Cpu,
    /// Stopped by Ctrl-C (or the caller) before the end.
    pub interrupted: bool,
    /// The drain ended by its timeout with messages missing.
    pub drain_timed_out: bool,
    /// No message lost, and the run was not interrupted.
    pub ok: bool,
    pub timeline: Vec<Progress>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut h = Latency::default();
        for us in 1..=1000u64 {
            h.record(us * 1000);
        }
        let s = h.summary();
        assert_eq!(s.count, 1000);
        // 3 significant digits: within 0.1 %.
        let near = |a: f64, b: f64| (a - b).abs() <= b * 0.001 + 1.0;
        assert!(near(s.p50, 500.0), "{s:?}");
        assert!(near(s.p90, 900.0), "{s:?}");
        assert!(near(s.p99, 990.0), "{s:?}");
        assert!(near(s.p999, 999.0), "{s:?}");
        assert!(near(s.max, 1000.0), "{s:?}");
        assert!(s.p50 <= s.p90 && s.p90 <= s.p99 && s.p99 <= s.p999 && s.p999 <= s.max);
    }

    #[test]
    fn merged_histograms_and_batches_count_each_message() {
        let mut a = Latency::default();
        let mut b = Latency::default();
        a.record_n(2_000, 10);
        b.record(0); // clamped to 1 ns, not dropped
        b.record(u64::MAX); // clamped to the bound
        a.add(&b);
        assert_eq!(a.count(), 12);
        assert_eq!(Latency::default().summary(), LatencySummary::default());
    }

    #[test]
    fn ledger_counts_duplicates_and_losses() {
        let ledger = Ledger::new(2);
        let mut acked = vec![Bits::default(), Bits::default()];
        for seq in 0..200 {
            acked[0].set(seq);
            acked[1].set(seq);
        }
        for seq in 0..200 {
            assert!(ledger.mark(0, seq));
        }
        assert!(!ledger.mark(0, 5), "a second receive is a duplicate");
        assert!(!ledger.mark(9, 0), "unknown producer");
        for seq in (0..200).filter(|s| s % 50 != 0) {
            assert!(ledger.mark(1, seq));
        }
        assert_eq!(ledger.lost(&acked), 4);
        assert_eq!(acked[0].count(), 200);
    }

    #[test]
    fn throughput_in_messages_and_megabytes() {
        let t = Throughput::new(1_000_000, 2.0, 1000);
        assert_eq!(t.msg_per_s, 500_000.0);
        assert_eq!(t.mb_per_s, 500.0);
        assert_eq!(Throughput::new(5, 0.0, 10).msg_per_s, 0.0);
    }
}
