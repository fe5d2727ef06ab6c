//! Durable brokers: what a data directory keeps across close and reopen, damaged logs, the lock,
//! I/O failures, and space reclaimed. Crash tests with `kill -9` of a real server are in
//! tests/test_durability.py.

use sqsfast_core::storage::IoOp;
use sqsfast_core::{
    AttributeValue, Broker, BrokerConfig, ErrorCode, FsyncMode, ManualClock, OpenError,
    ReceiveOptions, Received, SendMessage, StorageConfig,
};
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const T0: u64 = 1_700_000_000_000;

fn config(dir: &Path) -> StorageConfig {
    StorageConfig::new(dir)
}

fn open_with(dir: &Path, storage: StorageConfig, clock: &Arc<ManualClock>) -> Broker {
    let _ = dir;
    Broker::open(
        BrokerConfig {
            clock: clock.clone(),
            ..Default::default()
        },
        storage,
    )
    .unwrap()
    .0
}

fn open(dir: &Path, clock: &Arc<ManualClock>) -> Broker {
    open_with(dir, config(dir), clock)
}

fn receive(q: &sqsfast_core::Queue, max: u32, visibility: Option<u32>) -> Vec<Received> {
    q.receive(&ReceiveOptions {
        max_messages: max,
        visibility_timeout: visibility,
        wait_seconds: Some(0),
        max_batch: 1000,
    })
    .unwrap()
}

/// The bodies of the visible messages (up to 10), sorted; received with visibility 0.
fn sorted_bodies(q: &sqsfast_core::Queue) -> Vec<String> {
    let mut bodies: Vec<String> = receive(q, 10, Some(0))
        .iter()
        .map(|r| String::from_utf8(r.body().to_vec()).unwrap())
        .collect();
    bodies.sort();
    bodies
}

fn attrs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// (id, body, receive count, sent, first receive) of every message, received with visibility 0.
fn all(q: &sqsfast_core::Queue) -> BTreeMap<String, (String, u32, u64)> {
    receive(q, 1000, Some(0))
        .iter()
        .map(|r| {
            (
                r.message_id().to_string(),
                (
                    String::from_utf8(r.body().to_vec()).unwrap(),
                    r.receive_count(),
                    r.sent_timestamp(),
                ),
            )
        })
        .collect()
}

#[test]
fn queues_and_messages_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let (kept, deleted_id, received_id, first_receive, attrs_back);
    {
        let b = open(dir.path(), &clock);
        let dlq = b.create_queue("dlq", &[], &[]).unwrap();
        let q = b
            .create_queue(
                "orders",
                &attrs(&[
                    ("VisibilityTimeout", "45"),
                    (
                        "RedrivePolicy",
                        &format!(
                            r#"{{"deadLetterTargetArn":"{}","maxReceiveCount":"5"}}"#,
                            dlq.arn()
                        ),
                    ),
                ]),
                &attrs(&[("team", "a")]),
            )
            .unwrap();
        q.add_permission("p1", &["111122223333".into()], &["SendMessage".into()])
            .unwrap();
        q.tag(&attrs(&[("env", "test")])).unwrap();
        let mut m = SendMessage::new("with attributes");
        m.attributes = vec![
            ("s".into(), AttributeValue::string("x")),
            ("b".into(), AttributeValue::binary(vec![1, 2, 3])),
        ];
        q.send(m).unwrap();
        for i in 0..5 {
            q.send(SendMessage::new(format!("m{i}"))).unwrap();
        }
        clock.advance_ms(1000);
        let got = receive(&q, 2, Some(30));
        assert_eq!(got.len(), 2);
        deleted_id = got[0].message_id().to_string();
        q.delete(got[0].handle()).unwrap();
        received_id = got[1].message_id().to_string();
        first_receive = got[1].first_receive_timestamp();
        kept = all(&q);
        attrs_back = q.attributes(&["All".into()]).unwrap();
        assert_eq!(kept.len(), 4, "one deleted, one in flight and not listed");
        b.close();
    }
    clock.advance_ms(1000);
    let b = open(dir.path(), &clock);
    let names: Vec<String> = b
        .list_queues("")
        .iter()
        .map(|q| q.name().to_string())
        .collect();
    assert_eq!(names, ["dlq", "orders"]);
    let q = b.queue("orders").unwrap();
    assert_eq!(q.tags().get("team").map(String::as_str), Some("a"));
    assert_eq!(q.tags().get("env").map(String::as_str), Some("test"));
    let mut before: BTreeMap<_, _> = attrs_back.into_iter().collect();
    let mut after: BTreeMap<_, _> = q.attributes(&["All".into()]).unwrap().into_iter().collect();
    for counted in [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
    ] {
        before.remove(counted);
        after.remove(counted);
    }
    assert_eq!(
        before, after,
        "attributes, policy, redrive policy and timestamps are kept"
    );
    // The in-flight message is visible again after the restart, its receive count kept.
    let got = receive(&q, 10, Some(0));
    let mut back = BTreeMap::new();
    for r in &got {
        back.insert(
            r.message_id().to_string(),
            (
                String::from_utf8(r.body().to_vec()).unwrap(),
                r.receive_count(),
                r.sent_timestamp(),
            ),
        );
        if r.message_id().to_string() == received_id {
            assert_eq!(r.receive_count(), 2);
            assert_eq!(r.first_receive_timestamp(), first_receive);
        }
        if r.body() == b"with attributes" {
            assert_eq!(r.attributes().len(), 2);
            assert!(r.md5_of_attributes().is_some());
        }
    }
    assert!(!back.contains_key(&deleted_id), "a delete is kept");
    assert!(back.contains_key(&received_id));
    back.remove(&received_id);
    // Each was received once (listing them) before the restart, and once now.
    let kept: BTreeMap<_, _> = kept
        .into_iter()
        .map(|(k, (b, c, s))| (k, (b, c + 1, s)))
        .collect();
    assert_eq!(
        back, kept,
        "ids, bodies, receive counts and sent times are kept"
    );
}

#[test]
fn delays_moves_purges_and_deleted_queues_survive() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    {
        let b = open(dir.path(), &clock);
        let dlq = b.create_queue("dlq", &[], &[]).unwrap();
        let redrive = format!(
            r#"{{"deadLetterTargetArn":"{}","maxReceiveCount":"1"}}"#,
            dlq.arn()
        );
        let q = b
            .create_queue("src", &attrs(&[("RedrivePolicy", &redrive)]), &[])
            .unwrap();
        q.send(SendMessage::new("poison")).unwrap();
        assert_eq!(receive(&q, 1, Some(1)).len(), 1);
        clock.advance_ms(2000);
        // Its second receive moves it to the dead-letter queue.
        assert!(receive(&q, 1, Some(1)).is_empty());
        assert_eq!(dlq.counts().visible, 1);
        q.send(SendMessage {
            delay_seconds: Some(600),
            ..SendMessage::new("later")
        })
        .unwrap();
        let gone = b.create_queue("gone", &[], &[]).unwrap();
        gone.send(SendMessage::new("x")).unwrap();
        b.delete_queue("gone").unwrap();
        let purged = b.create_queue("purged", &[], &[]).unwrap();
        purged.send(SendMessage::new("x")).unwrap();
        purged.purge().unwrap();
        b.close();
    }
    clock.advance_ms(60_000);
    let b = open(dir.path(), &clock);
    assert!(b.queue("gone").is_err());
    assert_eq!(b.queue("purged").unwrap().counts().visible, 0);
    let dlq = b.queue("dlq").unwrap();
    let got = receive(&dlq, 10, Some(0));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body(), b"poison");
    assert!(got[0].dead_letter_source_arn().unwrap().ends_with(":src"));
    let q = b.queue("src").unwrap();
    assert_eq!(q.counts().delayed, 1, "the delay goes on after a restart");
    clock.advance_ms(540_000);
    assert_eq!(receive(&q, 10, None)[0].body(), b"later");
}

#[test]
fn a_second_open_of_the_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let b = open(dir.path(), &clock);
    let err = Broker::open(BrokerConfig::default(), config(dir.path())).unwrap_err();
    assert!(matches!(err, OpenError::Locked { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("in use by another sqsfast process"),
        "{err}"
    );
    b.close();
    open(dir.path(), &clock).close();
}

fn segments(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    v.sort();
    v
}

fn fill(dir: &Path, clock: &Arc<ManualClock>, n: usize) {
    let b = open(dir, clock);
    let q = b.create_queue("q", &[], &[]).unwrap();
    for i in 0..n {
        q.send(SendMessage::new(format!("message {i}"))).unwrap();
    }
    b.close();
}

#[test]
fn a_torn_last_record_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    fill(dir.path(), &clock, 10);
    let seg = segments(dir.path()).pop().unwrap();
    let len = fs::metadata(&seg).unwrap().len();
    // Cut the last record in half.
    fs::OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(len - 10)
        .unwrap();
    let (b, report) = Broker::open(
        BrokerConfig {
            clock: clock.clone(),
            ..Default::default()
        },
        config(dir.path()),
    )
    .unwrap();
    assert_eq!(report.truncated.len(), 1, "{report:?}");
    assert_eq!(b.queue("q").unwrap().counts().visible, 9);
    b.close();
    // A zero-filled tail, as a file system may leave after a power loss, is cut off too.
    let seg = segments(dir.path())[0].clone();
    let mut f = fs::OpenOptions::new().append(true).open(&seg).unwrap();
    io::Write::write_all(&mut f, &[0; 100]).unwrap();
    drop(f);
    assert_eq!(
        open(dir.path(), &clock)
            .queue("q")
            .unwrap()
            .counts()
            .visible,
        9
    );
}

#[test]
fn damage_in_the_middle_stops_the_start_unless_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    fill(dir.path(), &clock, 10);
    let seg = segments(dir.path()).pop().unwrap();
    let mut bytes = fs::read(&seg).unwrap();
    // A bit flipped in the body of the third record (24-byte header, then records).
    let rec = 8 + 2 + 40 + 2 + "message 0".len();
    let at = 24 + 2 * rec + rec - 3;
    bytes[at] ^= 0x20;
    fs::write(&seg, &bytes).unwrap();
    let err = Broker::open(BrokerConfig::default(), config(dir.path())).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, OpenError::Corrupt { offset, .. } if offset == (24 + 2 * rec) as u64),
        "{text}"
    );
    assert!(
        text.contains(&seg.display().to_string()) && text.contains("checksum"),
        "{text}"
    );
    let (b, report) = Broker::open(
        BrokerConfig {
            clock: clock.clone(),
            ..Default::default()
        },
        StorageConfig {
            skip_corrupt: true,
            ..config(dir.path())
        },
    )
    .unwrap();
    assert_eq!(report.skipped.len(), 1, "{report:?}");
    assert_eq!(
        report.skipped[0].2, rec as u64,
        "exactly the damaged record is skipped"
    );
    assert_eq!(b.queue("q").unwrap().counts().visible, 9);
}

#[test]
fn failed_syncs_fail_sends_and_keep_receives_and_deletes_working() {
    io_failures(FsyncMode::Always, 64 << 20);
}

#[test]
fn failed_writes_fail_sends_and_keep_receives_and_deletes_working() {
    // No syncs and room in the segment: only the writes of records fail. The segment they were
    // for is given up; what was written to it before stays.
    io_failures(FsyncMode::Never, 64 << 20);
}

#[test]
fn a_full_disk_fails_sends_and_keeps_receives_and_deletes_working() {
    // Small segments: sends need new ones, which cannot be made while the disk is "full".
    io_failures(FsyncMode::Interval, 300);
}

fn io_failures(fsync: FsyncMode, segment_bytes: u64) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let failing = Arc::new(AtomicBool::new(false));
    let f = failing.clone();
    let storage = StorageConfig {
        fsync,
        segment_bytes,
        faults: Some(Arc::new(move |_op: IoOp| {
            if f.load(Ordering::SeqCst) {
                Err(io::Error::from_raw_os_error(28))
            } else {
                Ok(())
            }
        })),
        ..config(dir.path())
    };
    let b = open_with(dir.path(), storage, &clock);
    let q = b.create_queue("q", &[], &[]).unwrap();
    for i in 0..4 {
        q.send(SendMessage::new(format!("kept {i}"))).unwrap();
    }
    failing.store(true, Ordering::SeqCst);
    // Receives go on (their records wait), sends fail.
    let got = receive(&q, 10, Some(30));
    assert_eq!(got.len(), 4);
    let err = q.send(SendMessage::new("lost")).unwrap_err();
    assert_eq!(err.code, ErrorCode::ServiceUnavailable);
    assert!(
        err.message.contains("No space left on device"),
        "{}",
        err.message
    );
    let batch = q
        .send_batch(vec![("a", SendMessage::new("lost too"))], 10)
        .unwrap();
    assert_eq!(
        batch[0].1.as_ref().unwrap_err().code,
        ErrorCode::ServiceUnavailable
    );
    assert!(b.storage_stats().unwrap().error.is_some());
    // Deletes go on; nothing of the failed sends is in the queue.
    assert_eq!(q.counts().visible, 0);
    q.delete(got[0].handle()).unwrap();
    // Space comes back: sends work again, and the delete made meanwhile reaches the log.
    failing.store(false, Ordering::SeqCst);
    q.send(SendMessage::new("after")).unwrap();
    assert_eq!(b.storage_stats().unwrap().error, None);
    b.close();
    let b = open(dir.path(), &clock);
    // The receives made while writes failed were logged once they worked again: each message
    // kept counts them, and this receive.
    let mut found: Vec<(String, u32)> = all(&b.queue("q").unwrap())
        .into_values()
        .map(|(body, count, _)| (body, count))
        .collect();
    found.sort();
    let mut expected: Vec<(String, u32)> = (0..4)
        .map(|i| format!("kept {i}"))
        .filter(|w| w.as_bytes() != got[0].body())
        .map(|w| (w, 2))
        .collect();
    expected.push(("after".into(), 1));
    expected.sort();
    assert_eq!(found, expected);
}

/// `fsync = always` with async senders: a send waiting for its sync holds no thread (other tasks
/// on the same thread go on, and their sends join the same sync), its message is neither
/// acknowledged nor visible before the sync, and a failed sync fails exactly the sends it covered.
#[test]
fn async_sends_wait_for_their_sync_without_blocking_the_thread() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    // The test holds back (or fails) the log's syncs.
    let gate = Arc::new((
        std::sync::Mutex::new((true, false)),
        std::sync::Condvar::new(),
    ));
    let syncs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (g, n, s) = (gate.clone(), syncs.clone(), started.clone());
    let storage = StorageConfig {
        fsync: FsyncMode::Always,
        faults: Some(Arc::new(move |op: IoOp| {
            if op != IoOp::Sync {
                return Ok(());
            }
            s.fetch_add(1, Ordering::SeqCst);
            let (lock, cv) = &*g;
            // Bounded, so that a send that blocked its thread fails the test instead of hanging it.
            let (mut st, _) = cv
                .wait_timeout_while(
                    lock.lock().unwrap(),
                    Duration::from_secs(20),
                    |(held, _)| *held,
                )
                .unwrap();
            n.fetch_add(1, Ordering::SeqCst);
            if st.1 {
                st.1 = false;
                return Err(io::Error::other("injected fdatasync failure"));
            }
            Ok(())
        })),
        ..config(dir.path())
    };
    let release = |fail: bool| {
        let (lock, cv) = &*gate;
        *lock.lock().unwrap() = (false, fail);
        cv.notify_all();
    };
    let hold = || gate.0.lock().unwrap().0 = true;
    let b = open_with(dir.path(), storage, &clock);
    let q = b.create_queue("q", &[], &[]).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let first = tokio::spawn({
            let q = q.clone();
            async move { q.send_async(SendMessage::new("a")).await }
        });
        tokio::task::yield_now().await; // `first` logs its record and waits for the sync
        let second = tokio::spawn({
            let q = q.clone();
            async move {
                q.send_batch_async(vec![("b", SendMessage::new("b"))], 10)
                    .await
            }
        });
        tokio::task::yield_now().await;
        // This thread is free while both wait, and neither message is visible yet.
        assert!(!first.is_finished() && !second.is_finished());
        assert_eq!(q.counts().visible, 0);
        release(false);
        first.await.unwrap().unwrap();
        assert!(second.await.unwrap().unwrap()[0].1.is_ok());
    });
    assert_eq!(q.counts().visible, 2);
    assert!(
        syncs.load(Ordering::SeqCst) <= 2,
        "one sync served the first send, at most one more the second"
    );
    // A failed sync fails the send it covered: not visible, not there after a restart. So does a
    // send written to the same segment while that sync ran: no later sync covers that file.
    hold();
    let before = started.load(Ordering::SeqCst);
    let failed = rt.spawn({
        let q = q.clone();
        async move { q.send_async(SendMessage::new("lost")).await }
    });
    rt.block_on(tokio::task::yield_now());
    let deadline = Instant::now() + Duration::from_secs(20);
    while started.load(Ordering::SeqCst) == before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    let during = rt.spawn({
        let q = q.clone();
        async move { q.send_async(SendMessage::new("lost too")).await }
    });
    rt.block_on(tokio::task::yield_now());
    release(true);
    for task in [failed, during] {
        let err = rt.block_on(task).unwrap().unwrap_err();
        assert_eq!(err.code, ErrorCode::ServiceUnavailable);
        assert!(
            err.message.contains("injected fdatasync failure"),
            "{}",
            err.message
        );
    }
    assert_eq!(q.counts().visible, 2);
    // A send given up while it waits (its request dropped) is taken back, as if it had failed.
    hold();
    let abandoned = rt.spawn({
        let q = q.clone();
        async move { q.send_async(SendMessage::new("abandoned")).await }
    });
    rt.block_on(tokio::task::yield_now());
    assert_eq!(
        b.storage_stats().unwrap().live_messages,
        3,
        "logged, waiting"
    );
    abandoned.abort();
    assert!(rt.block_on(abandoned).unwrap_err().is_cancelled());
    assert_eq!(b.storage_stats().unwrap().live_messages, 2);
    release(false);
    assert_eq!(q.counts().visible, 2);
    rt.block_on(q.send_async(SendMessage::new("c"))).unwrap();
    b.close();
    let b = open(dir.path(), &clock);
    let bodies = sorted_bodies(&b.queue("q").unwrap());
    assert_eq!(bodies, ["a", "b", "c"]);
}

#[test]
fn space_is_reclaimed_and_disk_use_follows_live_data() {
    reclaim_space(None);
}

#[test]
fn space_is_reclaimed_when_bodies_are_on_disk_only() {
    // No body in memory: compaction copies the long-lived bodies from the segments themselves.
    reclaim_space(Some(0));
}

fn reclaim_space(memory_budget: Option<u64>) {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let storage = StorageConfig {
        segment_bytes: 64 << 10,
        fsync: FsyncMode::Never,
        memory_budget,
        ..config(dir.path())
    };
    let b = open_with(dir.path(), storage.clone(), &clock);
    let q = b.create_queue("q", &[], &[]).unwrap();
    let idle = b.create_queue("idle", &[], &[]).unwrap();
    let body = "x".repeat(200);
    // A few long-lived messages at the start (some in a queue nobody reads: with a budget they stay
    // on disk whole), then a stream of short-lived ones.
    for i in 0..20 {
        q.send(SendMessage::new(format!("keep {i}"))).unwrap();
        idle.send(SendMessage::new(format!("idle {i}"))).unwrap();
    }
    let kept = receive(&q, 20, Some(0)).len();
    assert_eq!(kept, 20);
    for _ in 0..200 {
        let batch = (0..10)
            .map(|i| (i.to_string(), SendMessage::new(body.clone())))
            .collect();
        q.send_batch(batch, 10).unwrap();
        for r in receive(&q, 10, Some(30)) {
            if r.body().starts_with(b"keep") {
                q.change_visibility(r.handle(), 0).unwrap();
            } else {
                q.delete(r.handle()).unwrap();
            }
        }
    }
    // 200 × 10 × ~260 bytes written: about 8 segments of 64 KiB; the background thread reclaims.
    // (A segment is taken off the log's list before its file is removed: both are waited for.)
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = b.storage_stats().unwrap();
        let reclaimed = s.log_bytes <= 2 * s.live_bytes + 2 * (64 << 10);
        let files = segments(dir.path());
        if reclaimed && files.len() <= 4 || Instant::now() > deadline {
            assert!(reclaimed, "{s:?}");
            assert!(files.len() <= 4, "{files:?} {s:?}");
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let keep_bodies = |q: &sqsfast_core::Queue| {
        let mut v: Vec<String> = receive(q, 1000, Some(0))
            .iter()
            .filter(|r| r.body().starts_with(b"keep"))
            .map(|r| String::from_utf8(r.body().to_vec()).unwrap())
            .collect();
        v.sort();
        v
    };
    let mut expected: Vec<String> = (0..20).map(|i| format!("keep {i}")).collect();
    expected.sort();
    assert_eq!(keep_bodies(&q), expected, "copied bodies read back whole");
    let left = q.counts().visible + q.counts().in_flight;
    b.close();
    let b = open_with(dir.path(), storage, &clock);
    let q = b.queue("q").unwrap();
    assert_eq!(q.counts().visible, left);
    assert_eq!(
        keep_bodies(&q),
        expected,
        "long-lived messages survive being copied"
    );
    let mut idle: Vec<String> = receive(&b.queue("idle").unwrap(), 1000, Some(0))
        .iter()
        .map(|r| String::from_utf8(r.body().to_vec()).unwrap())
        .collect();
    idle.sort();
    let mut want: Vec<String> = (0..20).map(|i| format!("idle {i}")).collect();
    want.sort();
    assert_eq!(idle, want, "messages never received survive being copied");
}

/// The log writes zeros ahead of its records, 64 KiB at a time: records of every size, inside a
/// zeroed window, across windows and segments, and batches larger than a window, read back whole
/// from disk while the broker runs (all bodies over the budget) and after a restart.
#[test]
fn records_of_every_size_read_back_whole_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let storage = StorageConfig {
        segment_bytes: 300_007,
        memory_budget: Some(0),
        ..config(dir.path())
    };
    let body = |i: usize, len: usize| -> String {
        (0..len)
            .map(|j| char::from(b'a' + ((i * 7 + j) % 26) as u8))
            .collect()
    };
    let mut sent = Vec::new();
    let b = open_with(dir.path(), storage.clone(), &clock);
    let q = b.create_queue("q", &[], &[]).unwrap();
    let sizes = [
        1, 100, 2_900, 4_096, 65_536, 70_000, 3, 200_000, 256_000, 17,
    ];
    for (i, len) in sizes.iter().cycle().take(40).enumerate() {
        let text = body(i, *len);
        q.send(SendMessage::new(text.clone())).unwrap();
        sent.push(text);
    }
    for round in 0..4 {
        let batch: Vec<_> = (0..10)
            .map(|k| (k.to_string(), body(100 + round * 10 + k, 20_000 + k)))
            .collect();
        sent.extend(batch.iter().map(|(_, text)| text.clone()));
        let batch = batch
            .into_iter()
            .map(|(id, text)| (id, SendMessage::new(text)))
            .collect();
        q.send_batch(batch, 10).unwrap();
    }
    sent.sort();
    let bodies = |q: &sqsfast_core::Queue| {
        let mut got: Vec<String> = receive(q, 1000, Some(0))
            .iter()
            .map(|r| String::from_utf8(r.body().to_vec()).unwrap())
            .collect();
        got.sort();
        got
    };
    assert!(segments(dir.path()).len() > 5);
    assert_eq!(bodies(&q), sent, "read from disk while running");
    drop(q);
    b.close();
    let b = open_with(dir.path(), storage, &clock);
    assert_eq!(bodies(&b.queue("q").unwrap()), sent, "after a restart");
}

#[test]
fn bodies_over_the_memory_budget_stay_on_disk_and_read_back_whole() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let budgeted = |budget: Option<u64>| StorageConfig {
        memory_budget: budget,
        ..config(dir.path())
    };
    let body = |i: usize| format!("{i:04} {}", "b".repeat(95));
    let b = open_with(dir.path(), budgeted(Some(1000)), &clock);
    let dlq = b.create_queue("dlq", &[], &[]).unwrap();
    let redrive = format!(
        r#"{{"deadLetterTargetArn":"{}","maxReceiveCount":"1"}}"#,
        dlq.arn()
    );
    let q = b
        .create_queue("q", &attrs(&[("RedrivePolicy", &redrive)]), &[])
        .unwrap();
    for i in 0..100 {
        q.send(SendMessage {
            attributes: vec![("n".into(), AttributeValue::number(i.to_string()))],
            ..SendMessage::new(body(i))
        })
        .unwrap();
    }
    let s = b.storage_stats().unwrap();
    assert!(s.body_bytes_in_memory <= 1000, "{s:?}");
    assert_eq!(s.bodies_on_disk, 90, "{s:?}");
    // Every body and its attributes come back, whether kept in memory or read from the log.
    let check = |got: &[Received], from: usize, to: usize| {
        let mut seen: Vec<(String, String)> = got
            .iter()
            .map(|r| {
                let n = match &r.attributes()[0].1.value {
                    sqsfast_core::AttributeData::String(s) => s.clone(),
                    other => panic!("{other:?}"),
                };
                (String::from_utf8(r.body().to_vec()).unwrap(), n)
            })
            .collect();
        seen.sort();
        let want: Vec<(String, String)> = (from..to).map(|i| (body(i), i.to_string())).collect();
        assert_eq!(seen, want);
    };
    let got = receive(&q, 1000, Some(30));
    check(&got, 0, 100);
    for r in &got[..50] {
        q.delete(r.handle()).unwrap();
    }
    let s = b.storage_stats().unwrap();
    assert_eq!(s.live_messages, 50, "{s:?}");
    // Past their visibility timeout, the second receive of the rest moves them to the dead-letter
    // queue, which reads each body back for its new record.
    clock.advance_ms(31_000);
    assert!(receive(&q, 1000, Some(30)).is_empty());
    let mut left: Vec<usize> = got[50..]
        .iter()
        .map(|r| {
            std::str::from_utf8(&r.body()[..4])
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    left.sort();
    let moved = receive(&dlq, 1000, Some(0));
    assert_eq!(moved.len(), 50);
    let mut moved_ids: Vec<usize> = moved
        .iter()
        .map(|r| {
            let i: usize = std::str::from_utf8(&r.body()[..4])
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(r.body(), body(i).as_bytes());
            i
        })
        .collect();
    moved_ids.sort();
    assert_eq!(moved_ids, left);
    b.close();

    // A restart keeps to the budget, and without one every body is in memory again.
    let b = open_with(dir.path(), budgeted(Some(500)), &clock);
    let s = b.storage_stats().unwrap();
    assert!(s.body_bytes_in_memory <= 500, "{s:?}");
    assert_eq!(s.bodies_on_disk + s.body_bytes_in_memory / 100, 50, "{s:?}");
    assert_eq!(receive(&b.queue("dlq").unwrap(), 1000, Some(0)).len(), 50);
    b.close();
    let b = open_with(dir.path(), budgeted(None), &clock);
    let s = b.storage_stats().unwrap();
    assert_eq!((s.bodies_on_disk, s.body_bytes_in_memory), (0, 50 * 100));
    let again = receive(&b.queue("dlq").unwrap(), 1000, Some(0));
    assert_eq!(again.len(), 50);
    assert!(again.iter().all(|r| r.body().len() == 100));
}

#[test]
fn a_damaged_body_on_disk_fails_its_receive_not_the_broker() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let storage = StorageConfig {
        memory_budget: Some(0),
        ..config(dir.path())
    };
    let b = open_with(dir.path(), storage, &clock);
    let q = b.create_queue("q", &[], &[]).unwrap();
    q.send(SendMessage::new("first body on disk")).unwrap();
    q.send(SendMessage::new("second body on disk")).unwrap();
    // Damage the first body in the segment (the broker reads it through the page cache).
    let seg = &segments(dir.path())[0];
    let mut bytes = fs::read(seg).unwrap();
    let at = bytes
        .windows(5)
        .position(|w| w == b"first")
        .expect("the body is in the log");
    bytes[at] = b'F';
    fs::write(seg, &bytes).unwrap();
    // The damaged message is left out (it stays in flight); the other is delivered.
    let got = receive(&q, 10, Some(5));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body(), b"second body on disk");
    q.delete(got[0].handle()).unwrap();
    clock.advance_ms(6_000);
    // Alone, its receive fails with the cause, and the broker goes on serving.
    let err = q
        .receive(&ReceiveOptions {
            max_messages: 10,
            wait_seconds: Some(0),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InternalFailure);
    assert!(err.message.contains("checksum mismatch"), "{}", err.message);
    q.send(SendMessage::new("third")).unwrap();
    assert_eq!(receive(&q, 10, Some(0))[0].body(), b"third");
}

#[test]
fn message_ids_are_stable_and_unique_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(T0));
    let mut ids = std::collections::HashSet::new();
    for round in 0..3 {
        let b = open(dir.path(), &clock);
        let q = b.create_queue("q", &[], &[]).unwrap();
        let sent = q.send(SendMessage::new(format!("r{round}"))).unwrap();
        assert!(ids.insert(sent.message_id.to_string()));
        let listed: std::collections::HashSet<String> = receive(&q, 10, Some(0))
            .iter()
            .map(|r| r.message_id().to_string())
            .collect();
        assert_eq!(listed, ids, "every id seen so far, unchanged");
        b.close();
    }
}
