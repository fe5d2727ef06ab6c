//! Scenario tests of the engine API, driven by a manual clock: what the model test does not reach
//! (retention, long delays, the 12-hour visibility limit, OverLimit, queue lifecycle, long polling,
//! threads).

use sqsfast_core::{
    AttributeValue, Broker, BrokerConfig, ErrorCode, ManualClock, Queue, QueueCounts,
    ReceiveOptions, Received, SendMessage,
};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A start time that is a multiple of the wheel's 4 ms tick, so that whole-second deadlines land on
/// tick boundaries; tests that care about sub-tick deadlines offset it themselves.
const T0: u64 = 1_700_000_000_000;

fn broker_at(start_ms: u64) -> (Broker, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(start_ms));
    let broker = Broker::new(BrokerConfig {
        clock: clock.clone(),
        ..Default::default()
    });
    (broker, clock)
}

fn broker() -> (Broker, Arc<ManualClock>) {
    broker_at(T0)
}

fn attrs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn receive(q: &Queue, max: u32, visibility: Option<u32>) -> Vec<Received> {
    q.receive(&ReceiveOptions {
        max_messages: max,
        visibility_timeout: visibility,
        wait_seconds: Some(0),
        ..Default::default()
    })
    .unwrap()
}

fn bodies(got: &[Received]) -> Vec<String> {
    let mut v: Vec<String> = got
        .iter()
        .map(|r| String::from_utf8(r.body().to_vec()).unwrap())
        .collect();
    v.sort();
    v
}

fn counts(q: &Queue) -> (u64, u64, u64) {
    let QueueCounts {
        visible,
        in_flight,
        delayed,
        ..
    } = q.counts();
    (visible, in_flight, delayed)
}

fn send(q: &Queue, body: &str) {
    q.send(SendMessage::new(body)).unwrap();
}

fn send_delayed(q: &Queue, body: &str, delay: u32) {
    q.send(SendMessage {
        delay_seconds: Some(delay),
        ..SendMessage::new(body)
    })
    .unwrap();
}

// ---- retention ---------------------------------------------------------------------------------

#[test]
fn retention_removes_old_messages_whatever_their_state() {
    let (b, clock) = broker();
    let q = b
        .create_queue("q", &attrs(&[("MessageRetentionPeriod", "60")]), &[])
        .unwrap();
    send(&q, "ready");
    send(&q, "in-flight");
    send_delayed(&q, "delayed", 30);
    // Take "in-flight" (and only it) in flight for far longer than the retention period.
    let got = receive(&q, 2, Some(3600));
    assert_eq!(bodies(&got), ["in-flight", "ready"]);
    q.change_visibility(
        got.iter().find(|r| r.body() == b"ready").unwrap().handle(),
        0,
    )
    .unwrap();
    let held = got.into_iter().find(|r| r.body() == b"in-flight").unwrap();
    assert_eq!(counts(&q), (1, 1, 1));

    clock.advance_ms(20_000);
    send(&q, "young");
    clock.advance_ms(39_999);
    // 59.999 s after the first three were sent: all still there ("delayed" is visible since 30 s).
    assert_eq!(counts(&q), (3, 1, 0));

    clock.advance_ms(1);
    assert_eq!(counts(&q), (1, 0, 0), "retention ends at exactly 60 s");
    let got = receive(&q, 10, Some(30));
    assert_eq!(bodies(&got), ["young"]);
    // The removed in-flight message's handle no longer deletes or changes anything.
    q.delete(held.handle()).unwrap();
    assert_eq!(
        q.change_visibility(held.handle(), 10).unwrap_err().code,
        ErrorCode::InvalidParameterValue
    );
    assert_eq!(counts(&q), (0, 1, 0));

    clock.advance_ms(20_000);
    assert_eq!(counts(&q), (0, 0, 0), "the young message ages out too");
    assert_eq!(q.counts().oldest_age_ms, 0);
}

#[test]
fn shortening_retention_applies_to_messages_already_there() {
    let (b, clock) = broker();
    let q = b.create_queue("q", &[], &[]).unwrap();
    send(&q, "a");
    clock.advance_ms(90_000);
    assert_eq!(counts(&q), (1, 0, 0));
    q.set_attributes(&attrs(&[("MessageRetentionPeriod", "60")]))
        .unwrap();
    // Retention is enforced as time moves on (at the wheel's next 4 ms tick), not by the change.
    clock.advance_ms(1_000);
    assert_eq!(counts(&q), (0, 0, 0));
    assert!(receive(&q, 10, None).is_empty());
}

#[test]
fn dead_lettered_messages_keep_their_first_sent_time_for_retention() {
    let (b, clock) = broker();
    let dlq = b
        .create_queue("dlq", &attrs(&[("MessageRetentionPeriod", "120")]), &[])
        .unwrap();
    let policy = format!(
        r#"{{"deadLetterTargetArn":"{}","maxReceiveCount":1}}"#,
        dlq.arn()
    );
    let q = b
        .create_queue("src", &attrs(&[("RedrivePolicy", &policy)]), &[])
        .unwrap();
    let sent = q.send(SendMessage::new("m")).unwrap();
    clock.advance_ms(100_000);
    assert_eq!(receive(&q, 1, Some(1)).len(), 1);
    clock.advance_ms(1_000);
    assert!(receive(&q, 1, Some(1)).is_empty(), "moved, not delivered");
    assert_eq!(counts(&q), (0, 0, 0));
    assert_eq!(counts(&dlq), (1, 0, 0));
    let got = receive(&dlq, 1, Some(0));
    assert_eq!(got[0].message_id(), sent.message_id);
    assert_eq!(got[0].sent_timestamp(), T0);
    assert_eq!(got[0].dead_letter_source_arn(), Some(q.arn()));
    // 120 s after the first send, not after the move.
    clock.advance_ms(18_999);
    assert_eq!(counts(&dlq), (1, 0, 0));
    clock.advance_ms(1);
    assert_eq!(counts(&dlq), (0, 0, 0));
}

// ---- delays ------------------------------------------------------------------------------------

#[test]
fn per_message_delay() {
    let (b, clock) = broker();
    let q = b.create_queue("q", &[], &[]).unwrap();
    send_delayed(&q, "late", 5);
    send(&q, "now");
    assert_eq!(counts(&q), (1, 0, 1));
    assert_eq!(bodies(&receive(&q, 10, Some(0))), ["now"]);
    clock.advance_ms(4_999);
    assert_eq!(bodies(&receive(&q, 10, Some(0))), ["now"]);
    clock.advance_ms(1);
    assert_eq!(bodies(&receive(&q, 10, Some(0))), ["late", "now"]);
    assert_eq!(counts(&q), (2, 0, 0));
}

#[test]
fn queue_default_delay_and_per_message_override() {
    let (b, clock) = broker();
    let q = b
        .create_queue("q", &attrs(&[("DelaySeconds", "3")]), &[])
        .unwrap();
    send(&q, "default");
    send_delayed(&q, "zero", 0);
    send_delayed(&q, "longer", 900);
    assert_eq!(counts(&q), (1, 0, 2));
    assert_eq!(bodies(&receive(&q, 10, Some(0))), ["zero"]);
    clock.advance_ms(3_000);
    assert_eq!(bodies(&receive(&q, 10, Some(0))), ["default", "zero"]);
    clock.advance_ms(897_000 - 1);
    assert_eq!(counts(&q), (2, 0, 1));
    clock.advance_ms(1);
    assert_eq!(counts(&q), (3, 0, 0));

    let err = q
        .send(SendMessage {
            delay_seconds: Some(901),
            ..SendMessage::new("x")
        })
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidParameterValue);
    // Changing the queue's default affects later sends only.
    q.set_attributes(&attrs(&[("DelaySeconds", "0")])).unwrap();
    send(&q, "after");
    assert_eq!(counts(&q), (4, 0, 0));
}

// ---- visibility --------------------------------------------------------------------------------

#[test]
fn visibility_expires_at_its_deadline_not_at_the_next_tick() {
    // A deadline in the middle of a 4 ms wheel tick, with the engine ticked earlier in that same
    // tick: the message must still be visible as soon as the clock reaches its deadline.
    let start = T0 + 1;
    let (b, clock) = broker_at(start);
    let q = b.create_queue("q", &[], &[]).unwrap();
    send(&q, "m");
    let first = receive(&q, 1, Some(1));
    assert_eq!(first.len(), 1);
    clock.set_ms(start + 999);
    assert_eq!(counts(&q), (0, 1, 0));
    clock.set_ms(start + 1_000);
    assert_eq!(counts(&q), (1, 0, 0), "visible again at exactly 1 s");
    let again = receive(&q, 1, Some(1));
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].receive_count(), 2);
}

#[test]
fn delay_ends_at_its_deadline_not_at_the_next_tick() {
    let start = T0 + 2;
    let (b, clock) = broker_at(start);
    let q = b.create_queue("q", &[], &[]).unwrap();
    send_delayed(&q, "m", 2);
    // Tick inside the 4 ms tick that holds the deadline, just before it.
    clock.set_ms(start + 1_999);
    assert_eq!(counts(&q), (0, 0, 1));
    clock.set_ms(start + 2_000);
    assert_eq!(bodies(&receive(&q, 1, Some(0))), ["m"]);
}

#[test]
fn receive_with_visibility_zero_returns_each_message_once() {
    let (b, _clock) = broker();
    let q = b.create_queue("q", &[], &[]).unwrap();
    send(&q, "a");
    send(&q, "b");
    let got = receive(&q, 10, Some(0));
    assert_eq!(bodies(&got), ["a", "b"], "no message twice in one response");
    assert!(got.iter().all(|r| r.receive_count() == 1));
    // Still visible: the next receive gets both again.
    let got = receive(&q, 10, Some(0));
    assert_eq!(bodies(&got), ["a", "b"]);
    assert!(got.iter().all(|r| r.receive_count() == 2));
    assert_eq!(counts(&q), (2, 0, 0));
}

#[test]
fn change_visibility_limits() {
    let (b, clock) = broker();
    let q = b.create_queue("q", &[], &[]).unwrap();
    send(&q, "m");
    let got = receive(&q, 1, Some(30));
    let h = got[0].handle();
    assert_eq!(
        q.change_visibility(h, 43_201).unwrap_err().code,
        ErrorCode::InvalidParameterValue
    );
    // Within the first second after the receive the whole 12 hours are available (the API
    // counts whole seconds).
    clock.advance_ms(999);
    q.change_visibility(h, 43_200).unwrap();
    clock.advance_ms(1);
    assert_eq!(
        q.change_visibility(h, 43_200).unwrap_err().code,
        ErrorCode::InvalidParameterValue
    );
    clock.advance_ms(3_600_000 - 1_000);
    // An hour after the receive, the total from the receive would pass 12 hours: rejected.
    assert_eq!(
        q.change_visibility(h, 39_601).unwrap_err().code,
        ErrorCode::InvalidParameterValue
    );
    q.change_visibility(h, 39_600).unwrap();
    assert_eq!(counts(&q), (0, 1, 0));
    clock.advance_ms(39_600_000 - 1);
    assert_eq!(counts(&q), (0, 1, 0));
    clock.advance_ms(1);
    assert_eq!(counts(&q), (1, 0, 0));
    // Expired: MessageNotInflight, with the latest handle.
    assert_eq!(
        q.change_visibility(h, 10).unwrap_err().code,
        ErrorCode::MessageNotInflight
    );
    // A new receive gets a fresh 12 hours; the old handle is no longer good for a change.
    let again = receive(&q, 1, Some(30));
    assert_eq!(again.len(), 1);
    q.change_visibility(again[0].handle(), 43_200).unwrap();
    assert_eq!(
        q.change_visibility(h, 10).unwrap_err().code,
        ErrorCode::InvalidParameterValue
    );
    // Timeout 0 makes it visible now.
    q.change_visibility(again[0].handle(), 0).unwrap();
    assert_eq!(counts(&q), (1, 0, 0));
}

#[test]
fn an_older_visibility_change_never_fires_late() {
    // Many extensions of one receive: only the latest deadline counts, even after the visibility
    // version has gone all the way round.
    let (b, clock) = broker();
    let q = b.create_queue("q", &[], &[]).unwrap();
    send(&q, "m");
    let got = receive(&q, 1, Some(600));
    let h = got[0].handle();
    for _ in 0..256 {
        q.change_visibility(h, 1_200).unwrap();
    }
    clock.advance_ms(600_000);
    assert_eq!(
        counts(&q),
        (0, 1, 0),
        "the receive's own 600 s timer is stale"
    );
    clock.advance_ms(600_000);
    assert_eq!(counts(&q), (1, 0, 0));
}

#[test]
fn delete_with_latest_and_older_handles() {
    let (b, clock) = broker();
    let q = b.create_queue("q", &[], &[]).unwrap();
    send(&q, "m");
    let first = receive(&q, 1, Some(1)).remove(0);
    clock.advance_ms(1_000);
    let second = receive(&q, 1, Some(1)).remove(0);
    assert_eq!(second.message_id(), first.message_id());
    assert_eq!(second.receive_count(), 2);
    // The older handle succeeds without deleting.
    q.delete(first.handle()).unwrap();
    assert_eq!(counts(&q), (0, 1, 0));
    // The latest one deletes, even after the visibility timeout has passed.
    clock.advance_ms(5_000);
    assert_eq!(counts(&q), (1, 0, 0));
    q.delete_str(&second.receipt_handle()).unwrap();
    assert_eq!(counts(&q), (0, 0, 0));
    // Deleting again is fine.
    q.delete(second.handle()).unwrap();
}

// ---- limits ------------------------------------------------------------------------------------

#[test]
fn over_limit_at_120_000_in_flight() {
    let (b, _clock) = broker();
    let q = b.create_queue("q", &[], &[]).unwrap();
    let limit = 120_000usize;
    for batch in 0..limit / 10 {
        let entries = (0..10)
            .map(|i| (format!("e{i}"), SendMessage::new(format!("{batch}-{i}"))))
            .collect();
        let out = q.send_batch(entries, 10).unwrap();
        assert!(out.iter().all(|(_, r)| r.is_ok()));
    }
    send(&q, "one-more");
    let mut in_flight = Vec::with_capacity(limit);
    while in_flight.len() < limit {
        let got = receive(&q, 10, Some(600));
        assert!(!got.is_empty());
        in_flight.extend(got);
    }
    assert_eq!(in_flight.len(), limit, "a receive stops at the limit");
    assert_eq!(counts(&q), (1, limit as u64, 0));
    let err = q
        .receive(&ReceiveOptions {
            max_messages: 10,
            visibility_timeout: Some(600),
            ..Default::default()
        })
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::OverLimit);
    // A receive that takes nothing in flight is not limited.
    assert_eq!(receive(&q, 1, Some(0)).len(), 1);
    // Deleting one makes room for one.
    q.delete(in_flight[0].handle()).unwrap();
    assert_eq!(receive(&q, 10, Some(600)).len(), 1);
    assert_eq!(
        q.receive(&ReceiveOptions::default()).unwrap_err().code,
        ErrorCode::OverLimit
    );
}

// ---- receipt handles ---------------------------------------------------------------------------

#[test]
fn receipt_handles_of_other_queues_and_brokers_are_rejected() {
    let (b, _clock) = broker();
    let q1 = b.create_queue("q1", &[], &[]).unwrap();
    let q2 = b.create_queue("q2", &[], &[]).unwrap();
    send(&q1, "m");
    let got = receive(&q1, 1, Some(30));
    let h = got[0].handle();
    assert_eq!(
        q2.delete(h).unwrap_err().code,
        ErrorCode::ReceiptHandleIsInvalid
    );
    assert_eq!(
        q2.change_visibility(h, 10).unwrap_err().code,
        ErrorCode::ReceiptHandleIsInvalid
    );
    // Same name, same id, other broker (other secret).
    let (other, _) = broker();
    let q1b = other.create_queue("q1", &[], &[]).unwrap();
    assert_eq!(q1b.id(), q1.id());
    assert_eq!(
        q1b.delete(h).unwrap_err().code,
        ErrorCode::ReceiptHandleIsInvalid
    );
    for bad in ["", "nope", "AAAA", &h.to_string()[1..]] {
        assert_eq!(
            q1.delete_str(bad).unwrap_err().code,
            ErrorCode::ReceiptHandleIsInvalid,
            "{bad:?}"
        );
    }
    // The message is untouched by all of that.
    assert_eq!(counts(&q1), (0, 1, 0));
    q1.delete(h).unwrap();
    assert_eq!(counts(&q1), (0, 0, 0));
}

// ---- queue lifecycle ---------------------------------------------------------------------------

#[test]
fn purge_removes_everything_then_cools_down() {
    let (b, clock) = broker();
    let q = b.create_queue("q", &[], &[]).unwrap();
    send(&q, "ready");
    send(&q, "in-flight");
    send_delayed(&q, "delayed", 10);
    let held = receive(&q, 1, Some(30)).remove(0);
    assert_eq!(counts(&q), (1, 1, 1));
    q.purge().unwrap();
    assert_eq!(counts(&q), (0, 0, 0));
    q.delete(held.handle()).unwrap();
    clock.advance_ms(60_000 - 1);
    assert_eq!(
        counts(&q),
        (0, 0, 0),
        "no timer brings a purged message back"
    );
    send(&q, "after");
    assert_eq!(q.purge().unwrap_err().code, ErrorCode::PurgeQueueInProgress);
    assert_eq!(counts(&q), (1, 0, 0), "a refused purge removes nothing");
    clock.advance_ms(1);
    q.purge().unwrap();
    assert_eq!(counts(&q), (0, 0, 0));
}

#[test]
fn deleted_queue_names_cool_down() {
    let (b, clock) = broker();
    let q = b.create_queue("q", &[], &[]).unwrap();
    send(&q, "m");
    b.delete_queue("q").unwrap();
    assert_eq!(b.queue("q").unwrap_err().code, ErrorCode::QueueDoesNotExist);
    assert_eq!(
        q.send(SendMessage::new("x")).unwrap_err().code,
        ErrorCode::QueueDoesNotExist
    );
    assert_eq!(
        q.receive(&ReceiveOptions::default()).unwrap_err().code,
        ErrorCode::QueueDoesNotExist
    );
    assert_eq!(
        b.delete_queue("q").unwrap_err().code,
        ErrorCode::QueueDoesNotExist
    );
    clock.advance_ms(59_999);
    assert_eq!(
        b.create_queue("q", &[], &[]).unwrap_err().code,
        ErrorCode::QueueDeletedRecently
    );
    clock.advance_ms(1);
    let again = b.create_queue("q", &[], &[]).unwrap();
    assert_ne!(again.id(), q.id(), "queue ids are never reused");
    assert_eq!(counts(&again), (0, 0, 0));
    assert!(receive(&again, 10, None).is_empty());
}

#[test]
fn create_queue_is_idempotent_for_the_same_attributes() {
    let (b, _clock) = broker();
    let a = attrs(&[("VisibilityTimeout", "45"), ("DelaySeconds", "2")]);
    let q = b.create_queue("q", &a, &[]).unwrap();
    let same = b.create_queue("q", &a, &[]).unwrap();
    assert!(Arc::ptr_eq(&q, &same));
    // A subset of the same values, and no attributes at all, also return the existing queue.
    let subset = b
        .create_queue("q", &attrs(&[("VisibilityTimeout", "45")]), &[])
        .unwrap();
    assert_eq!(subset.id(), q.id());
    assert_eq!(b.create_queue("q", &[], &[]).unwrap().id(), q.id());
    for other in [
        attrs(&[("VisibilityTimeout", "46")]),
        attrs(&[("VisibilityTimeout", "45"), ("DelaySeconds", "0")]),
        attrs(&[("MessageRetentionPeriod", "60")]),
    ] {
        assert_eq!(
            b.create_queue("q", &other, &[]).unwrap_err().code,
            ErrorCode::QueueNameExists,
            "{other:?}"
        );
    }
    assert_eq!(q.config().visibility_timeout, 45);
    assert_eq!(b.list_queues("").len(), 1);
}

// ---- long polling ------------------------------------------------------------------------------

#[test]
fn long_poll_returns_with_a_message_sent_while_waiting() {
    let (b, _clock) = broker();
    let q = b.create_queue("q", &[], &[]).unwrap();
    let waiter = {
        let q = q.clone();
        std::thread::spawn(move || {
            q.receive_blocking(
                &ReceiveOptions {
                    wait_seconds: Some(20),
                    visibility_timeout: Some(30),
                    ..Default::default()
                },
                &mut || false,
            )
        })
    };
    // Not a timing assertion: only makes it likely that the receiver is already waiting.
    std::thread::sleep(Duration::from_millis(100));
    send(&q, "wake");
    let got = waiter.join().unwrap().unwrap();
    assert_eq!(bodies(&got), ["wake"]);
}

#[test]
fn a_send_notifies_a_listening_receiver() {
    let (b, _clock) = broker();
    let q = b.create_queue("q", &[], &[]).unwrap();
    let opts = ReceiveOptions::default();
    let listener = match q.receive_or_listen(&opts).unwrap() {
        Ok(got) => panic!("nothing was sent, got {}", got.len()),
        Err(listener) => listener,
    };
    send(&q, "m");
    // The notification was delivered by the send itself: a zero wait finds it already there.
    use event_listener::Listener as _;
    assert!(listener.wait_timeout(Duration::ZERO).is_some());
    assert_eq!(bodies(&q.receive(&opts).unwrap()), ["m"]);
}

#[test]
fn deleting_a_queue_ends_a_long_poll() {
    let (b, _clock) = broker();
    let q = b.create_queue("q", &[], &[]).unwrap();
    let waiter = {
        let q = q.clone();
        std::thread::spawn(move || {
            q.receive_blocking(
                &ReceiveOptions {
                    wait_seconds: Some(20),
                    ..Default::default()
                },
                &mut || false,
            )
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    b.delete_queue("q").unwrap();
    let err = waiter.join().unwrap().unwrap_err();
    assert_eq!(err.code, ErrorCode::QueueDoesNotExist);
}

#[test]
fn an_interrupted_long_poll_returns_empty() {
    let (b, _clock) = broker();
    let q = b.create_queue("q", &[], &[]).unwrap();
    let mut asked = 0;
    let got = q
        .receive_blocking(
            &ReceiveOptions {
                wait_seconds: Some(20),
                ..Default::default()
            },
            &mut || {
                asked += 1;
                true
            },
        )
        .unwrap();
    assert!(got.is_empty());
    assert_eq!(asked, 1);
}

// ---- threads -----------------------------------------------------------------------------------

#[test]
fn concurrent_send_receive_delete() {
    const THREADS: usize = 4;
    const PER_THREAD: usize = 2_000;
    const TOTAL: usize = THREADS * PER_THREAD;
    let b = Broker::default();
    let q = b
        .create_queue("q", &attrs(&[("VisibilityTimeout", "120")]), &[])
        .unwrap();
    let deleted = Arc::new(AtomicUsize::new(0));
    let give_up = Instant::now() + Duration::from_secs(60);
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let q = q.clone();
            let deleted = deleted.clone();
            std::thread::spawn(move || {
                let mut seen = Vec::new();
                let mut sent = 0;
                while deleted.load(Ordering::SeqCst) < TOTAL && Instant::now() < give_up {
                    if sent < PER_THREAD {
                        let n = (PER_THREAD - sent).min(10);
                        let entries = (0..n)
                            .map(|i| {
                                let mut m = SendMessage::new(format!("{t}-{}", sent + i));
                                m.attributes =
                                    vec![("t".into(), AttributeValue::number(t.to_string()))];
                                (format!("e{i}"), m)
                            })
                            .collect();
                        for (_, r) in q.send_batch(entries, 10).unwrap() {
                            r.unwrap();
                        }
                        sent += n;
                    }
                    let got = q
                        .receive(&ReceiveOptions {
                            max_messages: 10,
                            ..Default::default()
                        })
                        .unwrap();
                    let handles: Vec<_> = got
                        .iter()
                        .enumerate()
                        .map(|(i, r)| (format!("d{i}"), r.receipt_handle()))
                        .collect();
                    seen.extend(got.iter().map(|r| r.body().to_vec()));
                    if !handles.is_empty() {
                        for (_, r) in q.delete_batch(handles, 10).unwrap() {
                            r.unwrap();
                        }
                        deleted.fetch_add(got.len(), Ordering::SeqCst);
                    }
                }
                seen
            })
        })
        .collect();
    let mut all = HashSet::new();
    let mut received = 0;
    for t in threads {
        let seen = t.join().unwrap();
        received += seen.len();
        all.extend(seen);
    }
    assert_eq!(all.len(), TOTAL, "every message received");
    assert_eq!(received, TOTAL, "none twice: nothing expired");
    assert_eq!(counts(&q), (0, 0, 0));
}
