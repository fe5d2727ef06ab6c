//! Deadlines (visibility, delay, retention of moved messages) in a hierarchical timing wheel whose
//! buckets are lock-free push-only stacks.
//!
//! Inserting is one allocation and one compare-and-swap on a bucket; the wheel is advanced by whoever
//! holds the shard's advance token (a try-lock: nobody waits for it), who takes whole buckets with one
//! swap. Entries are hints: the callback checks them against the slot's word, so an entry made stale by
//! a delete or a change of visibility is dropped, and an entry fired twice does nothing the second time.
//!
//! Levels: 256 buckets each, ticks of 4 ms, ~1 s, ~4.4 min and ~18.6 h; a deadline beyond the top
//! level's span waits in its last bucket and is placed again when that bucket is taken.
//! Algorithm: Varghese & Lauck, "Hashed and hierarchical timing wheels" (1987); the stacks are Treiber
//! stacks used only as push / take-all, which needs no ABA protection and no deferred reclamation.

use crate::sync::atomic::{AtomicPtr, AtomicU64, Ordering, fence};
use std::ptr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A visibility timeout; `word` is the slot word the receive left.
    Visibility,
    /// The end of a message's delay.
    Delay,
    /// The end of a (dead-lettered) message's retention period.
    Retention,
}

#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub deadline: u64,
    pub slot: u32,
    pub kind: Kind,
    /// The slot word the entry expects (visibility), or just its generation.
    pub word: u64,
}

struct Node {
    entry: Entry,
    next: *mut Node,
}

/// A push-only, take-all lock-free stack.
struct Stack {
    head: AtomicPtr<Node>,
}

impl Stack {
    fn new() -> Self {
        Self {
            head: AtomicPtr::new(ptr::null_mut()),
        }
    }

    fn push(&self, entry: Entry) {
        let node = Box::into_raw(Box::new(Node {
            entry,
            next: ptr::null_mut(),
        }));
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            // SAFETY: `node` came from Box::into_raw above and is not shared until the CAS succeeds.
            unsafe { (*node).next = head };
            match self
                .head
                .compare_exchange_weak(head, node, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(h) => head = h,
            }
        }
    }

    fn take_all(&self, out: &mut Vec<Entry>) {
        let mut node = self.head.swap(ptr::null_mut(), Ordering::Acquire);
        while !node.is_null() {
            // SAFETY: the swap made this thread the only owner of the whole list; every node was
            // made by Box::into_raw in `push` and is freed exactly once, here.
            let boxed = unsafe { Box::from_raw(node) };
            out.push(boxed.entry);
            node = boxed.next;
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.take_all(&mut Vec::new());
    }
}

// SAFETY: nodes are owned by the stack and only moved between threads through its atomics.
unsafe impl Send for Stack {}
// SAFETY: as above; `push` and `take_all` synchronise through `head`.
unsafe impl Sync for Stack {}

const BUCKETS: u64 = 256;
const LEVELS: usize = 4;
const TICK0_MS: u64 = 4;

fn tick_ms(level: usize) -> u64 {
    TICK0_MS << (8 * level)
}

struct Level {
    tick_ms: u64,
    /// The next tick of this level to process; every bucket of an earlier tick has been taken.
    cursor: AtomicU64,
    buckets: Box<[Stack]>,
}

pub struct Wheel {
    levels: [Level; LEVELS],
    /// Entries that arrived for a bucket already taken; drained first by every advance.
    overdue: Stack,
}

impl Wheel {
    pub fn new(now_ms: u64) -> Self {
        Self {
            levels: std::array::from_fn(|l| Level {
                tick_ms: tick_ms(l),
                cursor: AtomicU64::new(now_ms / tick_ms(l)),
                buckets: (0..BUCKETS).map(|_| Stack::new()).collect(),
            }),
            overdue: Stack::new(),
        }
    }

    /// Whether an advance at `now_ms` may have anything to do: a new tick at the finest level, or
    /// entries waiting in `overdue`. Those belong to a tick already taken (an entry taken early and
    /// put back, or one inserted as its bucket was taken), so without this they would wait for the
    /// next tick, up to 4 ms past their deadline, or forever under a clock that stands still.
    pub fn due(&self, now_ms: u64) -> bool {
        now_ms / TICK0_MS >= self.levels[0].cursor.load(Ordering::Relaxed)
            || !self.overdue.head.load(Ordering::Relaxed).is_null()
    }

    pub fn insert(&self, entry: Entry) {
        let level = self
            .levels
            .iter()
            .find(|l| entry.deadline / l.tick_ms < l.cursor.load(Ordering::Relaxed) + BUCKETS)
            .unwrap_or(&self.levels[LEVELS - 1]);
        let cursor = level.cursor.load(Ordering::Relaxed);
        let tick = (entry.deadline / level.tick_ms).min(cursor + BUCKETS - 1);
        if tick < cursor {
            self.overdue.push(entry);
            return;
        }
        level.buckets[(tick % BUCKETS) as usize].push(entry);
        // Pairs with the fence in `advance`: either the advancer's take of this bucket sees our push,
        // or we see its cursor past our tick and hand the entry to `overdue` as well (a duplicate is
        // harmless: entries are checked against the slot word when they fire).
        fence(Ordering::SeqCst);
        if level.cursor.load(Ordering::Relaxed) > tick {
            self.overdue.push(entry);
        }
    }

    /// Takes every entry due at `now_ms` and calls `fire` with it; entries not yet due move down a
    /// level. The caller holds the shard's advance token, so only one thread advances at a time.
    pub fn advance(&self, now_ms: u64, mut fire: impl FnMut(Entry)) {
        let mut taken = Vec::new();
        self.overdue.take_all(&mut taken);
        for level in self.levels.iter().rev() {
            let target = now_ms / level.tick_ms;
            let mut tick = level.cursor.load(Ordering::Relaxed);
            if target >= tick + BUCKETS {
                tick = target + 1 - BUCKETS;
            }
            while tick <= target {
                level.cursor.store(tick + 1, Ordering::Relaxed);
                fence(Ordering::SeqCst);
                level.buckets[(tick % BUCKETS) as usize].take_all(&mut taken);
                tick += 1;
            }
        }
        for entry in taken {
            if entry.deadline <= now_ms {
                fire(entry);
            } else {
                self.insert(entry);
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn entry(deadline: u64, slot: u32) -> Entry {
        Entry {
            deadline,
            slot,
            kind: Kind::Delay,
            word: 0,
        }
    }

    #[test]
    fn fires_each_entry_once_when_due() {
        let start = 1_000_000;
        let wheel = Wheel::new(start);
        let deadlines = [
            start,
            start + 3,
            start + 5,
            start + 999,
            start + 30_000,
            start + 4 * 86_400_000,
            start + 14 * 86_400_000,
        ];
        for (i, d) in deadlines.iter().enumerate() {
            wheel.insert(entry(*d, i as u32));
        }
        let mut fired = vec![None; deadlines.len()];
        let mut now = start;
        while now <= start + 15 * 86_400_000 {
            wheel.advance(now, |e| {
                assert!(fired[e.slot as usize].is_none(), "fired twice");
                assert!(e.deadline <= now);
                fired[e.slot as usize] = Some(now);
            });
            now += if now < start + 60_000 { 1 } else { 997 };
        }
        for (i, d) in deadlines.iter().enumerate() {
            let at = fired[i].expect("never fired");
            assert!(
                at >= *d && at <= d + 1_000,
                "entry {i} due {d} fired at {at}"
            );
        }
    }

    #[test]
    fn late_insert_goes_to_overdue() {
        let wheel = Wheel::new(0);
        wheel.advance(10_000, |_| {});
        wheel.insert(entry(5, 1));
        let mut fired = 0;
        wheel.advance(10_001, |_| fired += 1);
        assert_eq!(fired, 1);
    }
}
