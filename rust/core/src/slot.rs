//! The state word of a message slot, and every transition of it.
//!
//! A slot's state (free / delayed / ready / in flight / claimed), its generation, its receive count
//! and its visibility version live in one `AtomicU64`, changed only by compare-and-swap. Everything
//! else that points at a slot (ready-list hints, timer entries, receipt handles) names the generation
//! and receive count it expects, and acts only when the word still says so: a stale pointer is
//! skipped, never acted on. The races that matter (two receivers for one message, delete against
//! visibility expiry, change-visibility against expiry, removal against a receive) are model-checked
//! with loom in `tests/loom.rs`.
//!
//! `Claimed` is the state of a message one receiver owns for a moment: it reads the message's data
//! (no other thread may free or reuse the slot meanwhile, so the data needs no reclamation scheme)
//! and then finishes the receive (in flight, or ready again for visibility 0) or moves the message
//! to a dead-letter queue. Nothing but the claimer changes a claimed word.
//!
//! Layout: `generation:32 | receive_count:16 | visibility_version:13 | state:3`.

use crate::sync::atomic::{AtomicU64, Ordering};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum State {
    Free = 0,
    Delayed = 1,
    Ready = 2,
    InFlight = 3,
    /// Owned by one receiver, which reads the data and then finishes the receive or the move.
    Claimed = 4,
}

const STATE_BITS: u32 = 3;
const VV_BITS: u32 = 13;
const RC_BITS: u32 = 16;
const VV_MASK: u64 = (1 << VV_BITS) - 1;
/// The receive count saturates here rather than overflow into the generation.
pub const MAX_RECEIVE_COUNT: u32 = (1 << RC_BITS) - 1;

#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Word(u64);

impl Word {
    pub fn new(generation: u32, receive_count: u32, vv: u16, state: State) -> Self {
        Self(
            (generation as u64) << 32
                | (receive_count.min(MAX_RECEIVE_COUNT) as u64) << (STATE_BITS + VV_BITS)
                | (vv as u64 & VV_MASK) << STATE_BITS
                | state as u64,
        )
    }
    pub fn state(self) -> State {
        match self.0 & 0b111 {
            0 => State::Free,
            1 => State::Delayed,
            2 => State::Ready,
            3 => State::InFlight,
            _ => State::Claimed,
        }
    }
    pub fn generation(self) -> u32 {
        (self.0 >> 32) as u32
    }
    pub fn receive_count(self) -> u32 {
        ((self.0 >> (STATE_BITS + VV_BITS)) as u32) & MAX_RECEIVE_COUNT
    }
    /// The visibility version: raised by every change of visibility, so that the timer of an earlier
    /// deadline no longer matches. It wraps after 8 192 changes of one receive.
    pub fn vv(self) -> u16 {
        ((self.0 >> STATE_BITS) & VV_MASK) as u16
    }
    pub fn bits(self) -> u64 {
        self.0
    }
    pub fn from_bits(bits: u64) -> Self {
        Self(bits)
    }
    fn with(self, receive_count: u32, vv: u16, state: State) -> Self {
        Self::new(self.generation(), receive_count, vv, state)
    }
    /// The word of the next message in this slot: free, next generation.
    fn freed(self) -> Self {
        Self::new(self.generation().wrapping_add(1), 0, 0, State::Free)
    }
}

impl std::fmt::Debug for Word {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?}(gen {}, rc {}, vv {})",
            self.state(),
            self.generation(),
            self.receive_count(),
            self.vv()
        )
    }
}

/// The outcome of trying to receive the message a ready-list hint points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Claimed for delivery: the caller reads the data, then calls [`SlotWord::finish_receive`].
    Got(Word),
    /// Claimed for a dead-letter move (already received maxReceiveCount times): the caller moves it
    /// and then calls [`SlotWord::finish_move`] (or [`SlotWord::cancel_move`]).
    Move(Word),
    /// The hint was stale: the message is gone or no longer ready.
    Stale,
}

/// The outcome of a delete by receipt handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delete {
    /// Deleted; the slot is now free and the caller releases it. Carries the state it was in.
    Deleted(State),
    /// The handle is from an earlier receive, or the message is being received: nothing deleted.
    Stale,
    /// The message is already gone.
    Gone,
}

/// The outcome of a change-visibility by receipt handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// Changed: the new word (in flight with a new visibility version, or ready for timeout 0).
    Changed(Word),
    /// The message is not in flight (its visibility timeout expired).
    NotInFlight,
    /// The message is gone, or the handle is not the latest.
    Gone,
}

/// The outcome of removing a message whatever its state (retention, purge).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Remove {
    /// Removed; the slot is now free and the caller releases it. Carries the state it was in.
    Removed(State),
    /// A receiver holds it claimed for a moment: try again later.
    Busy,
    /// Already gone.
    Gone,
}

pub struct SlotWord(AtomicU64);

impl Default for SlotWord {
    fn default() -> Self {
        Self(AtomicU64::new(Word::new(0, 0, 0, State::Free).0))
    }
}

impl SlotWord {
    pub fn load(&self) -> Word {
        Word(self.0.load(Ordering::Acquire))
    }

    fn cas(&self, current: Word, new: Word) -> Result<(), Word> {
        self.0
            .compare_exchange(current.0, new.0, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
            .map_err(Word)
    }

    /// Publishes a new message in a free slot the caller owns (popped from the free list), after
    /// the caller wrote its data.
    pub fn publish(&self, receive_count: u32, state: State) -> Word {
        let w = self.load();
        debug_assert_eq!(w.state(), State::Free);
        let new = w.with(receive_count, 0, state);
        self.0.store(new.0, Ordering::Release);
        new
    }

    /// Claims the ready message of `generation`. `max_receives`: a message already received that
    /// many times is claimed for a dead-letter move instead of delivery.
    pub fn claim(&self, generation: u32, max_receives: Option<u32>) -> Claim {
        let mut w = self.load();
        loop {
            if w.generation() != generation || w.state() != State::Ready {
                return Claim::Stale;
            }
            let claimed = w.with(w.receive_count(), w.vv(), State::Claimed);
            match self.cas(w, claimed) {
                Ok(()) => {
                    return match max_receives {
                        Some(max) if w.receive_count() >= max => Claim::Move(claimed),
                        _ => Claim::Got(claimed),
                    };
                }
                Err(actual) => w = actual,
            }
        }
    }

    /// Finishes a receive: in flight (`invisible`, visibility timeout > 0) or ready again, with the
    /// receive count raised. Returns the new word.
    pub fn finish_receive(&self, claimed: Word, invisible: bool) -> Word {
        debug_assert_eq!(self.load(), claimed);
        let state = if invisible {
            State::InFlight
        } else {
            State::Ready
        };
        let new = claimed.with(
            claimed.receive_count().saturating_add(1),
            claimed.vv(),
            state,
        );
        // Nothing but the claimer changes a claimed word: a store is enough.
        self.0.store(new.0, Ordering::Release);
        new
    }

    /// A visibility timer fired: makes the message ready again if it is still in flight under
    /// exactly the receive and visibility version the timer was set for.
    pub fn expire_visibility(&self, expected: Word) -> bool {
        debug_assert_eq!(expected.state(), State::InFlight);
        let ready = expected.with(expected.receive_count(), expected.vv(), State::Ready);
        self.cas(expected, ready).is_ok()
    }

    /// A delay timer fired: makes the delayed message of `generation` ready.
    pub fn end_delay(&self, generation: u32) -> bool {
        let w = self.load();
        if w.generation() != generation || w.state() != State::Delayed {
            return false;
        }
        self.cas(w, w.with(w.receive_count(), w.vv(), State::Ready))
            .is_ok()
    }

    /// Deletes by receipt handle (generation and receive count of the receive that made it). The
    /// latest handle deletes the message whether in flight or visible again; an older one does not.
    pub fn delete(&self, generation: u32, receive_count: u32) -> Delete {
        let mut w = self.load();
        loop {
            if w.generation() != generation {
                return Delete::Gone;
            }
            match w.state() {
                State::InFlight | State::Ready if w.receive_count() == receive_count => {
                    match self.cas(w, w.freed()) {
                        Ok(()) => return Delete::Deleted(w.state()),
                        Err(actual) => w = actual,
                    }
                }
                State::InFlight | State::Ready | State::Claimed => return Delete::Stale,
                State::Free | State::Delayed => return Delete::Gone,
            }
        }
    }

    /// Changes the visibility of the message received as (generation, receive count). A timeout of 0
    /// makes it ready now; otherwise its visibility version is raised so that older timers no longer
    /// match, and the caller arms a timer for the returned word.
    pub fn change_visibility(
        &self,
        generation: u32,
        receive_count: u32,
        visible_now: bool,
    ) -> Visibility {
        let mut w = self.load();
        loop {
            if w.generation() != generation || w.receive_count() != receive_count {
                return Visibility::Gone;
            }
            let vv = w.vv().wrapping_add(1);
            let new = match w.state() {
                State::InFlight if visible_now => w.with(receive_count, vv, State::Ready),
                State::InFlight => w.with(receive_count, vv, State::InFlight),
                State::Ready => return Visibility::NotInFlight,
                _ => return Visibility::Gone,
            };
            match self.cas(w, new) {
                Ok(()) => return Visibility::Changed(new),
                Err(actual) => w = actual,
            }
        }
    }

    /// Removes the message of `generation` whatever its state (retention, purge).
    pub fn remove(&self, generation: u32) -> Remove {
        let mut w = self.load();
        loop {
            if w.generation() != generation || w.state() == State::Free {
                return Remove::Gone;
            }
            if w.state() == State::Claimed {
                return Remove::Busy;
            }
            match self.cas(w, w.freed()) {
                Ok(()) => return Remove::Removed(w.state()),
                Err(actual) => w = actual,
            }
        }
    }

    /// Ends a dead-letter move: the slot is free.
    pub fn finish_move(&self, claimed: Word) {
        debug_assert_eq!(self.load(), claimed);
        self.0.store(claimed.freed().0, Ordering::Release);
    }

    /// Puts a claimed message back to ready, untouched (its destination is gone).
    pub fn cancel_move(&self, claimed: Word) -> Word {
        debug_assert_eq!(self.load(), claimed);
        let ready = claimed.with(claimed.receive_count(), claimed.vv(), State::Ready);
        self.0.store(ready.0, Ordering::Release);
        ready
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn ready_slot() -> (SlotWord, u32) {
        let s = SlotWord::default();
        let w = s.publish(0, State::Ready);
        (s, w.generation())
    }

    fn receive(s: &SlotWord, g: u32, invisible: bool) -> Word {
        let Claim::Got(c) = s.claim(g, None) else {
            panic!("not claimed")
        };
        s.finish_receive(c, invisible)
    }

    #[test]
    fn receive_delete_cycle() {
        let (s, g) = ready_slot();
        let w = receive(&s, g, true);
        assert_eq!((w.state(), w.receive_count()), (State::InFlight, 1));
        assert_eq!(s.claim(g, None), Claim::Stale);
        assert_eq!(s.delete(g, 0), Delete::Stale);
        assert_eq!(s.delete(g, 1), Delete::Deleted(State::InFlight));
        assert_eq!(s.delete(g, 1), Delete::Gone);
        assert_eq!(s.load().generation(), g + 1);
    }

    #[test]
    fn a_claimed_message_is_left_to_its_claimer() {
        let (s, g) = ready_slot();
        let Claim::Got(c) = s.claim(g, None) else {
            panic!()
        };
        assert_eq!(s.remove(g), Remove::Busy);
        assert_eq!(s.delete(g, 0), Delete::Stale);
        assert_eq!(s.change_visibility(g, 0, true), Visibility::Gone);
        assert_eq!(s.claim(g, None), Claim::Stale);
        let w = s.finish_receive(c, false);
        assert_eq!((w.state(), w.receive_count()), (State::Ready, 1));
        assert_eq!(s.remove(g), Remove::Removed(State::Ready));
        assert_eq!(s.remove(g), Remove::Gone);
    }

    #[test]
    fn expiry_and_change_visibility() {
        let (s, g) = ready_slot();
        let w1 = receive(&s, g, true);
        let Visibility::Changed(w2) = s.change_visibility(g, 1, false) else {
            panic!()
        };
        assert!(!s.expire_visibility(w1), "an older timer must not fire");
        assert!(s.expire_visibility(w2));
        assert_eq!(s.change_visibility(g, 1, false), Visibility::NotInFlight);
        let w3 = receive(&s, g, true);
        assert_eq!(w3.receive_count(), 2);
        assert_eq!(s.change_visibility(g, 1, false), Visibility::Gone);
        assert_eq!(s.delete(g, 1), Delete::Stale);
        assert!(matches!(
            s.change_visibility(g, 2, true),
            Visibility::Changed(w) if w.state() == State::Ready
        ));
    }

    #[test]
    fn dead_letter_move_and_remove() {
        let (s, g) = ready_slot();
        let w = receive(&s, g, false);
        assert_eq!(w.state(), State::Ready);
        let Claim::Move(m) = s.claim(g, Some(1)) else {
            panic!()
        };
        assert_eq!(s.remove(g), Remove::Busy);
        assert_eq!(s.delete(g, 1), Delete::Stale);
        s.finish_move(m);
        assert_eq!(s.load().state(), State::Free);
        let w = s.publish(0, State::Delayed);
        assert_eq!(s.claim(w.generation(), None), Claim::Stale);
        assert!(s.end_delay(w.generation()));
        assert_eq!(s.remove(w.generation()), Remove::Removed(State::Ready));
    }

    #[test]
    fn fields_saturate_and_wrap() {
        let w = Word::new(u32::MAX, MAX_RECEIVE_COUNT + 5, 8_191, State::InFlight);
        assert_eq!(w.generation(), u32::MAX);
        assert_eq!(w.receive_count(), MAX_RECEIVE_COUNT);
        assert_eq!(w.vv(), 8_191);
        assert_eq!(w.state(), State::InFlight);
        assert_eq!(Word::new(1, 1, 8_192, State::Ready).vv(), 0);
    }
}
