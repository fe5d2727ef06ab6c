//! Loom models of the races the slot word and the timer wheel are built to survive: every
//! interleaving (and every outcome the memory orderings allow) of a few threads is explored.
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test -p sqsfast-core --test loom --release
//! ```
#![cfg(loom)]

use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::thread;
use sqsfast_core::slot::{Claim, Delete, Remove, SlotWord, State, Visibility, Word};
use sqsfast_core::timer::{Entry, Kind, Wheel};

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    // Dropping a wheel takes each of its 1 024 buckets: more steps than loom's default allows.
    builder.max_branches = 100_000;
    builder.check(f);
}

/// A slot holding a ready message that was never received.
fn ready_slot(receive_count: u32) -> (Arc<SlotWord>, u32) {
    let s = SlotWord::default();
    let w = s.publish(receive_count, State::Ready);
    (Arc::new(s), w.generation())
}

/// A whole receive as the queue does it: claim, then finish (in flight if `invisible`). `Got`
/// carries the word after the receive, `Move` the claimed word.
fn receive(s: &SlotWord, g: u32, invisible: bool, max_receives: Option<u32>) -> Claim {
    match s.claim(g, max_receives) {
        Claim::Got(claimed) => Claim::Got(s.finish_receive(claimed, invisible)),
        other => other,
    }
}

/// Removes as retention and purge do: a message claimed this moment is tried again later.
fn remove(s: &SlotWord, g: u32) -> Remove {
    loop {
        match s.remove(g) {
            Remove::Busy => thread::yield_now(),
            other => return other,
        }
    }
}

/// A slot holding a message in flight after its first receive; the word is the receive's.
fn in_flight_slot() -> (Arc<SlotWord>, Word) {
    let (s, g) = ready_slot(0);
    let Claim::Got(w) = receive(&s, g, true, None) else {
        unreachable!("a ready message is received")
    };
    (s, w)
}

fn spawn<T: Send + 'static>(
    s: &Arc<SlotWord>,
    f: impl FnOnce(&SlotWord) -> T + Send + 'static,
) -> thread::JoinHandle<T> {
    let s = s.clone();
    thread::spawn(move || f(&s))
}

// ---- receive against receive -------------------------------------------------------------------

#[test]
fn two_receivers_one_message_exactly_one_gets_it() {
    model(|| {
        let (s, g) = ready_slot(0);
        let a = spawn(&s, move |s| receive(s, g, true, None));
        let b = spawn(&s, move |s| receive(s, g, true, None));
        let results = [a.join().unwrap(), b.join().unwrap()];
        let got: Vec<Word> = results
            .iter()
            .filter_map(|c| match c {
                Claim::Got(w) => Some(*w),
                _ => None,
            })
            .collect();
        assert_eq!(got.len(), 1, "{results:?}");
        assert!(results.contains(&Claim::Stale), "{results:?}");
        assert_eq!(got[0].state(), State::InFlight);
        assert_eq!(got[0].receive_count(), 1);
        assert_eq!(s.load(), got[0]);
    });
}

#[test]
fn two_receivers_with_visibility_zero_count_each_receive() {
    model(|| {
        let (s, g) = ready_slot(0);
        let a = spawn(&s, move |s| receive(s, g, false, None));
        let b = spawn(&s, move |s| receive(s, g, false, None));
        // A receiver that meets the message claimed by the other finds it not ready (in the queue
        // it would not even hold a hint); every receive that got it has its own receive count.
        let mut counts: Vec<u32> = [a.join().unwrap(), b.join().unwrap()]
            .iter()
            .filter_map(|c| match c {
                Claim::Got(w) => Some(w.receive_count()),
                Claim::Stale => None,
                other => panic!("{other:?}"),
            })
            .collect();
        counts.sort_unstable();
        assert!(counts == [1] || counts == [1, 2], "{counts:?}");
        let n = counts.len() as u32;
        assert_eq!(s.load(), Word::new(g, n, 0, State::Ready));
    });
}

#[test]
fn two_receivers_of_a_message_over_the_limit_one_moves_it() {
    model(|| {
        let (s, g) = ready_slot(3);
        let a = spawn(&s, move |s| receive(s, g, true, Some(3)));
        let b = spawn(&s, move |s| receive(s, g, true, Some(3)));
        let results = [a.join().unwrap(), b.join().unwrap()];
        let moves: Vec<Word> = results
            .iter()
            .filter_map(|c| match c {
                Claim::Move(w) => Some(*w),
                Claim::Got(_) => panic!("delivered over maxReceiveCount: {results:?}"),
                Claim::Stale => None,
            })
            .collect();
        assert_eq!(moves.len(), 1, "{results:?}");
        assert_eq!(moves[0].receive_count(), 3);
        s.finish_move(moves[0]);
        assert_eq!(s.load(), Word::new(g + 1, 0, 0, State::Free));
    });
}

// ---- delete against expiry and redelivery ------------------------------------------------------

#[test]
fn delete_against_expiry_then_redelivery_never_both() {
    model(|| {
        let (s, w1) = in_flight_slot();
        let g = w1.generation();
        let deleter = spawn(&s, move |s| s.delete(g, w1.receive_count()));
        // The timer of the receive fires, and a receiver takes the message again at once.
        let redeliver = spawn(&s, move |s| {
            s.expire_visibility(w1).then(|| receive(s, g, true, None))
        });
        let deleted = deleter.join().unwrap();
        let again = redeliver.join().unwrap();
        let was_deleted = matches!(deleted, Delete::Deleted(_));
        let received_again = matches!(again, Some(Claim::Got(_)));
        assert!(
            was_deleted != received_again,
            "exactly one of delete and redelivery: {deleted:?}, {again:?}"
        );
        let end = s.load();
        if was_deleted {
            assert_eq!(end, Word::new(g + 1, 0, 0, State::Free));
        } else {
            // The handle was from the earlier receive: succeeds without deleting.
            assert_eq!(deleted, Delete::Stale);
            assert_eq!(end.state(), State::InFlight);
            assert_eq!(end.receive_count(), 2);
        }
    });
}

#[test]
fn two_deletes_with_one_handle_free_the_slot_once() {
    model(|| {
        let (s, w1) = in_flight_slot();
        let g = w1.generation();
        let a = spawn(&s, move |s| s.delete(g, 1));
        let b = spawn(&s, move |s| s.delete(g, 1));
        let results = [a.join().unwrap(), b.join().unwrap()];
        let n = results
            .iter()
            .filter(|d| **d == Delete::Deleted(State::InFlight))
            .count();
        assert_eq!(n, 1, "{results:?}");
        assert!(results.contains(&Delete::Gone), "{results:?}");
        assert_eq!(s.load(), Word::new(g + 1, 0, 0, State::Free));
    });
}

// ---- change visibility against expiry ----------------------------------------------------------

fn change_visibility_against_expiry(visible_now: bool) {
    model(move || {
        let (s, w1) = in_flight_slot();
        let g = w1.generation();
        let changer = spawn(&s, move |s| s.change_visibility(g, 1, visible_now));
        let timer = spawn(&s, move |s| s.expire_visibility(w1));
        let changed = changer.join().unwrap();
        let expired = timer.join().unwrap();
        match changed {
            Visibility::Changed(w2) => {
                assert!(!expired, "the timer the change replaced fired");
                assert_eq!(w2.vv(), w1.vv().wrapping_add(1));
                assert_eq!(w2.receive_count(), 1);
                assert_eq!(s.load(), w2);
                if visible_now {
                    assert_eq!(w2.state(), State::Ready);
                } else {
                    assert_eq!(w2.state(), State::InFlight);
                    // The timer armed for the new word is the one that fires.
                    assert!(!s.expire_visibility(w1));
                    assert!(s.expire_visibility(w2));
                }
            }
            Visibility::NotInFlight => {
                assert!(expired, "not in flight, yet nothing expired it");
                assert_eq!(s.load(), Word::new(g, 1, w1.vv(), State::Ready));
            }
            Visibility::Gone => panic!("the latest handle of a message still there"),
        }
    });
}

#[test]
fn change_visibility_against_expiry_one_wins() {
    change_visibility_against_expiry(false);
}

#[test]
fn change_visibility_to_zero_against_expiry_one_wins() {
    change_visibility_against_expiry(true);
}

// ---- remove (retention, purge) against receive -------------------------------------------------

#[test]
fn remove_against_claim() {
    model(|| {
        let (s, g) = ready_slot(0);
        let remover = spawn(&s, move |s| remove(s, g));
        let receiver = spawn(&s, move |s| receive(s, g, true, None));
        let removed = remover.join().unwrap();
        match receiver.join().unwrap() {
            Claim::Got(_) => assert_eq!(removed, Remove::Removed(State::InFlight)),
            Claim::Stale => assert_eq!(removed, Remove::Removed(State::Ready)),
            Claim::Move(w) => panic!("no dead-letter queue, yet moving: {w:?}"),
        }
        assert_eq!(s.load(), Word::new(g + 1, 0, 0, State::Free));
    });
}

#[test]
fn remove_against_dead_letter_move_frees_once() {
    model(|| {
        let (s, g) = ready_slot(2);
        let remover = spawn(&s, move |s| remove(s, g));
        let mover = spawn(&s, move |s| match receive(s, g, true, Some(2)) {
            Claim::Move(w) => {
                s.finish_move(w);
                true
            }
            Claim::Stale => false,
            Claim::Got(w) => panic!("delivered over maxReceiveCount: {w:?}"),
        });
        let removed = remover.join().unwrap();
        let moved = mover.join().unwrap();
        let was_removed = matches!(removed, Remove::Removed(_));
        assert!(
            was_removed != moved,
            "removed {removed:?}, moved {moved}: exactly one must take the message"
        );
        if was_removed {
            assert_eq!(removed, Remove::Removed(State::Ready));
        }
        // Freed exactly once: one generation further, not two.
        assert_eq!(s.load(), Word::new(g + 1, 0, 0, State::Free));
    });
}

/// The claim protocol's point: while a receiver holds a message claimed and reads its data, nobody
/// may free the slot and write the next message's data into it. loom's `UnsafeCell` reports any
/// access the orderings do not separate.
#[test]
fn a_claimed_message_data_is_never_overwritten_while_read() {
    model(|| {
        let (s, g) = ready_slot(0);
        let data = Arc::new(UnsafeCell::new(1u64));
        let receiver = {
            let (s, data) = (s.clone(), data.clone());
            thread::spawn(move || match s.claim(g, None) {
                Claim::Got(claimed) => {
                    // SAFETY: the claim owns the slot until finish_receive.
                    let v = data.with(|p| unsafe { *p });
                    s.finish_receive(claimed, false);
                    Some(v)
                }
                _ => None,
            })
        };
        let reuser = {
            let (s, data) = (s.clone(), data.clone());
            thread::spawn(move || {
                if let Remove::Removed(_) = remove(&s, g) {
                    // SAFETY: freeing made this thread the slot's owner: it writes the next message.
                    data.with_mut(|p| unsafe { *p = 2 });
                    s.publish(0, State::Ready);
                }
            })
        };
        let read = receiver.join().unwrap();
        reuser.join().unwrap();
        if let Some(v) = read {
            assert_eq!(v, 1, "read the next message's data");
        }
    });
}

// ---- publication ---------------------------------------------------------------------------------

#[test]
fn what_was_written_before_publish_is_seen_by_the_receiver() {
    model(|| {
        let s = Arc::new(SlotWord::default());
        let data = Arc::new(UnsafeCell::new(0u64));
        let g = s.load().generation();
        let producer = {
            let (s, data) = (s.clone(), data.clone());
            thread::spawn(move || {
                // SAFETY: nobody reads the cell before the publish below.
                data.with_mut(|p| unsafe { *p = 42 });
                s.publish(0, State::Ready);
            })
        };
        let consumer = {
            let (s, data) = (s.clone(), data.clone());
            thread::spawn(move || {
                loop {
                    match receive(&s, g, true, None) {
                        // SAFETY: the producer wrote before publishing and writes nothing after.
                        Claim::Got(_) => return data.with(|p| unsafe { *p }),
                        Claim::Stale => thread::yield_now(),
                        Claim::Move(w) => panic!("{w:?}"),
                    }
                }
            })
        };
        producer.join().unwrap();
        assert_eq!(consumer.join().unwrap(), 42);
    });
}

// ---- timer wheel: insert against advance -------------------------------------------------------

/// One thread inserts an entry while another advances the wheel past its bucket; then the queue's
/// next tick at `later` (gated by `due`, as `Queue::tick` does) must fire it if it has not fired.
fn insert_against_advance(deadline: u64, advance_to: u64, later: u64) {
    model(move || {
        let wheel = Arc::new(Wheel::new(0));
        let entry = Entry {
            deadline,
            slot: 7,
            kind: Kind::Delay,
            word: 0,
        };
        let inserter = {
            let wheel = wheel.clone();
            thread::spawn(move || wheel.insert(entry))
        };
        let advancer = {
            let wheel = wheel.clone();
            thread::spawn(move || {
                let mut fired = Vec::new();
                wheel.advance(advance_to, |e| {
                    assert!(e.deadline <= advance_to, "fired before its deadline");
                    fired.push(e.slot);
                });
                fired
            })
        };
        inserter.join().unwrap();
        let mut fired = advancer.join().unwrap();
        if wheel.due(later) {
            wheel.advance(later, |e| {
                assert!(e.deadline <= later, "fired before its deadline");
                fired.push(e.slot);
            });
        }
        assert!(
            fired.contains(&7),
            "entry due at {deadline} not fired by {later}"
        );
    });
}

#[test]
fn insert_against_advance_past_the_deadline() {
    // The advance takes ticks 0..=2; the entry's bucket is tick 1.
    insert_against_advance(5, 8, 8);
}

#[test]
fn insert_against_advance_before_the_deadline() {
    // The entry's bucket (tick 2) is taken while the entry is not yet due, inside that tick: it
    // must still fire as soon as the clock reaches it, not at the next tick.
    insert_against_advance(10, 8, 10);
}

/// An insert racing a sweep of its bucket: a live entry the sweep moves keeps its place and fires
/// once when due.
#[test]
fn insert_against_sweep_keeps_a_live_entry() {
    model(|| {
        let wheel = Arc::new(Wheel::new(0));
        // Level 1 (ticks of 1 024 ms), bucket 1: the second bucket a sweep takes.
        let entry = Entry {
            deadline: 2_000,
            slot: 7,
            kind: Kind::Delay,
            word: 0,
        };
        let inserter = {
            let wheel = wheel.clone();
            thread::spawn(move || wheel.insert(entry))
        };
        let sweeper = {
            let wheel = wheel.clone();
            thread::spawn(move || {
                wheel.sweep(|_| true);
                wheel.sweep(|_| true)
            })
        };
        inserter.join().unwrap();
        assert_eq!(sweeper.join().unwrap(), 0, "a live entry was dropped");
        let mut fired = Vec::new();
        wheel.advance(1_999, |e| fired.push(e.slot));
        assert!(fired.is_empty(), "fired before its deadline");
        wheel.advance(2_000, |e| fired.push(e.slot));
        assert_eq!(fired, [7]);
    });
}
