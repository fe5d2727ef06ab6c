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
//!
//! Most entries go stale long before they fire: a message received with a 30 s visibility timeout
//! is usually deleted within milliseconds. So that they do not stay in memory until their deadline
//! (at 500 000 receives a second, 30 s of them is over half a gigabyte), the advancer also sweeps the
//! buckets beyond the finest level, one bucket of each level per advance ([`Wheel::sweep`]): entries
//! the caller says are stale are dropped, the rest move to the bucket's swept stack, where no sweep
//! looks at them again. Every entry is thus checked once within about a second of its insertion.
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
        self.push_node(Box::into_raw(Box::new(Node {
            entry,
            next: ptr::null_mut(),
        })));
    }

    /// Pushes a node the caller owns: a new one ([`Stack::push`]) or one taken off a stack by
    /// [`Stack::take_list`]; it was made by `Box::into_raw`.
    fn push_node(&self, node: *mut Node) {
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            // SAFETY: the caller owns `node`, and nobody else sees it until the CAS succeeds.
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

    /// Takes the whole list: the caller owns its nodes, to free or push again.
    fn take_list(&self) -> *mut Node {
        self.head.swap(ptr::null_mut(), Ordering::Acquire)
    }

    fn take_all(&self, out: &mut Vec<Entry>) {
        let mut node = self.take_list();
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
    /// Where inserts go.
    buckets: Box<[Stack]>,
    /// Entries of the same buckets that a sweep found live (levels above the finest only).
    swept: Box<[Stack]>,
    /// The bucket the next sweep takes.
    sweep_at: AtomicU64,
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
                swept: (0..if l == 0 { 0 } else { BUCKETS })
                    .map(|_| Stack::new())
                    .collect(),
                sweep_at: AtomicU64::new(0),
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
                let b = (tick % BUCKETS) as usize;
                level.buckets[b].take_all(&mut taken);
                if let Some(swept) = level.swept.get(b) {
                    swept.take_all(&mut taken);
                }
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

    /// Drops the stale entries of the next bucket of each level above the finest: `live` says
    /// whether an entry may still act when it fires (a stale one must do nothing then, so dropping
    /// it early changes nothing). Returns how many were dropped. Like [`Wheel::advance`], only the
    /// holder of the shard's advance token calls it.
    pub fn sweep(&self, mut live: impl FnMut(&Entry) -> bool) -> usize {
        let mut dropped = 0;
        for level in &self.levels[1..] {
            let b = level.sweep_at.load(Ordering::Relaxed) % BUCKETS;
            level.sweep_at.store(b + 1, Ordering::Relaxed);
            let b = b as usize;
            let mut node = level.buckets[b].take_list();
            while !node.is_null() {
                // SAFETY: `take_list` made this thread the owner of the whole list: no other thread
                // reads or frees its nodes.
                let (next, keep) = unsafe { ((*node).next, live(&(*node).entry)) };
                if keep {
                    // The swept stack is taken with the bucket, so the entry keeps its place. The
                    // sweeper is the advancer: no take of this bucket runs meanwhile.
                    level.swept[b].push_node(node);
                } else {
                    // SAFETY: made by Box::into_raw in `push`, owned here (above), freed once.
                    drop(unsafe { Box::from_raw(node) });
                    dropped += 1;
                }
                node = next;
            }
        }
        dropped
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
    fn sweeps_drop_stale_entries_and_live_ones_still_fire_once() {
        let start = 1_000_000;
        let wheel = Wheel::new(start);
        // Levels 0 to 3; odd slots are live, even ones stale.
        let deadlines = [
            start + 100,
            start + 2_000,
            start + 30_000,
            start + 30_001,
            start + 600_000,
            start + 600_000,
            start + 12 * 3_600_000,
            start + 14 * 86_400_000,
        ];
        for (i, d) in deadlines.iter().enumerate() {
            wheel.insert(entry(*d, i as u32));
        }
        let mut dropped = 0;
        let mut looked = Vec::new();
        for _ in 0..BUCKETS {
            dropped += wheel.sweep(|e| {
                looked.push(e.slot);
                e.slot % 2 == 1
            });
        }
        // Everything but the finest level's entry was looked at, once; the stale ones are gone.
        looked.sort_unstable();
        assert_eq!(looked, [1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(dropped, 3);
        // Swept once, an entry is not looked at again.
        assert_eq!(
            (0..BUCKETS).map(|_| wheel.sweep(|_| false)).sum::<usize>(),
            0
        );
        let mut fired = Vec::new();
        let mut now = start;
        while now <= start + 15 * 86_400_000 {
            wheel.advance(now, |e| {
                assert!(e.deadline <= now && now <= e.deadline + 1_000);
                fired.push(e.slot);
            });
            now += if now < start + 60_000 { 1 } else { 997 };
        }
        fired.sort_unstable();
        assert_eq!(fired, [0, 1, 3, 5, 7]);
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
