//! The segment log: writing records, syncing them, the index of live messages by key, and
//! compaction.
//!
//! Segments are preallocated files, so a full disk shows when a segment is made, not while
//! writing. Records are placed under one mutex, in the order the engine makes them, into a buffer
//! of the current segment; whoever placed them writes the buffer to the file (one `pwrite`) before
//! releasing the lock ([`Locked`]), so a producer's records are in the kernel's page cache, and
//! survive the process being killed, when its send returns. With `fsync = always` the producer then
//! waits for an fdatasync that covers its records: whoever finds no sync in progress runs one for
//! everyone written so far, the others wait for it (group commit). With `interval` the background
//! thread syncs every interval.
//!
//! Unless every send waits for a sync, the file is written with zeros ahead of the records, a
//! [`PREFILL`] window at a time ([`Segment::prefill`]): a write of a few kilobytes makes the kernel
//! add page-sized folios to the page cache one by one, while one of 64 KiB adds large ones, which
//! the records are then copied into, for about half the kernel's CPU per write. Zeros are what a
//! preallocated file reads as anyway, so recovery sees no difference. The kernel writes back a
//! large folio whole, so with `fsync = always`, where each group's fdatasync writes the folio the
//! records are in, zeroing would multiply what reaches the disk (seven times in a fill); that mode
//! writes the records alone.
//!
//! Records are written, not copied into a shared mapping of the file: syncing a mapping
//! write-protects its pages (a TLB shootdown across the process's threads) and the next write to
//! each faults again, which cost more than the system call.

use super::record::{self, Read, Record};
use super::recover::Replayed;
use super::{FsyncMode, IoOp, OpenError, StorageConfig, StorageStats};
use crate::error::{Error, ErrorCode, Result};
use crate::message::MessageData;
use crossbeam_queue::SegQueue;
use parking_lot::{Condvar, Mutex, MutexGuard};
use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Write};
use std::num::NonZeroU32;
use std::ops::{Deref, DerefMut};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;

/// The largest segment: record offsets within one are 32-bit.
pub(crate) const MAX_SEGMENT_BYTES: u64 = 1 << 31;

/// A segment file starts with this magic, its number and the first key it may hold.
pub(crate) const MAGIC: &[u8; 8] = b"SQSFLOG1";
pub(crate) const SEG_HEADER: u64 = 24;

pub(crate) fn segment_path(dir: &Path, no: u64) -> PathBuf {
    dir.join(format!("{no:016x}.log"))
}

/// A segment made ahead of time: renamed to its `.log` name when it becomes current, so that it
/// never stands for a segment that a roll made meanwhile.
pub(crate) fn spare_path(dir: &Path, no: u64) -> PathBuf {
    dir.join(format!("{no:016x}.spare"))
}

/// A live message in the log: its queue, its data (shared with the queue's slot; `None` for a
/// message kept on disk only, header and body, which its queue knows by key alone), and where its
/// latest `SEND` record is: `len` bytes at offset `at` of the segment whose number's low 16 bits are
/// `tag`. 24 bytes: this is per message, also for messages on disk only.
pub(crate) struct Entry {
    pub data: Option<MessageData>,
    pub queue: u32,
    pub at: u32,
    /// Never 0 (a record has a header), which leaves `Option<Entry>` a niche.
    pub len: NonZeroU32,
    pub tag: u16,
}

impl Entry {
    /// A message whose `SEND` record of `len` bytes is about to be written.
    pub fn new(queue: u64, data: MessageData, len: usize) -> Self {
        Self {
            data: Some(data),
            queue: queue_no(queue),
            at: 0,
            len: record_len(len),
            tag: UNPLACED,
        }
    }
}

/// A record's length as the index keeps it.
pub(crate) fn record_len(len: usize) -> NonZeroU32 {
    NonZeroU32::new(len as u32).expect("a record is at least its header")
}

// The index's cost per message, whatever the message.
const _: () = assert!(std::mem::size_of::<Option<Entry>>() == 24);

/// A queue id as the index keeps it. The broker numbers queues from 1 and refuses ids from
/// `u32::MAX` on, so a record naming a larger one (only damage could) names no queue.
pub(crate) fn queue_no(queue: u64) -> u32 {
    u32::try_from(queue).unwrap_or(u32::MAX)
}

const PAGE_BITS: u32 = 10;
const PAGE: usize = 1 << PAGE_BITS;

struct Page {
    entries: Box<[Option<Entry>]>,
    live: u32,
}

/// Live messages by key: pages of 1 024 keys, a page freed when its last message goes. Keys grow
/// with time, so the pages in use are a window that moves forward.
#[derive(Default)]
pub(crate) struct KeyIndex {
    base: u64,
    pages: VecDeque<Option<Box<Page>>>,
    len: u64,
}

impl KeyIndex {
    fn page(&self, key: u64) -> Option<&Page> {
        let p = (key >> PAGE_BITS).checked_sub(self.base)?;
        self.pages.get(p as usize)?.as_deref()
    }

    pub fn insert(&mut self, key: u64, entry: Entry) -> Option<Entry> {
        let p = key >> PAGE_BITS;
        if self.pages.is_empty() {
            self.base = p;
        }
        while p < self.base {
            self.pages.push_front(None);
            self.base -= 1;
        }
        let i = (p - self.base) as usize;
        if self.pages.len() <= i {
            self.pages.resize_with(i + 1, || None);
        }
        let page = self.pages[i].get_or_insert_with(|| {
            Box::new(Page {
                entries: (0..PAGE).map(|_| None).collect(),
                live: 0,
            })
        });
        let old = page.entries[key as usize & (PAGE - 1)].replace(entry);
        if old.is_none() {
            page.live += 1;
            self.len += 1;
        }
        old
    }

    pub fn get(&self, key: u64) -> Option<&Entry> {
        self.page(key)?.entries[key as usize & (PAGE - 1)].as_ref()
    }

    pub fn get_mut(&mut self, key: u64) -> Option<&mut Entry> {
        let p = (key >> PAGE_BITS).checked_sub(self.base)?;
        self.pages.get_mut(p as usize)?.as_deref_mut()?.entries[key as usize & (PAGE - 1)].as_mut()
    }

    pub fn remove(&mut self, key: u64) -> Option<Entry> {
        let i = (key >> PAGE_BITS).checked_sub(self.base)? as usize;
        let page = self.pages.get_mut(i)?.as_mut()?;
        let old = page.entries[key as usize & (PAGE - 1)].take()?;
        page.live -= 1;
        self.len -= 1;
        if page.live == 0 {
            self.pages[i] = None;
            while let Some(None) = self.pages.front() {
                self.pages.pop_front();
                self.base += 1;
            }
            while let Some(None) = self.pages.back() {
                self.pages.pop_back();
            }
        }
        Some(old)
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    /// The live keys from `from` on, in order, up to `limit` of them and `to` at most; and the key
    /// to go on from.
    pub fn keys(&self, from: u64, to: u64, limit: usize) -> (Vec<u64>, u64) {
        let mut out = Vec::new();
        let mut key = from.max(self.base << PAGE_BITS);
        while key <= to && out.len() < limit {
            let i = ((key >> PAGE_BITS) - self.base) as usize;
            let Some(page) = self.pages.get(i) else {
                return (out, u64::MAX);
            };
            match page {
                None => key = (key | (PAGE as u64 - 1)) + 1,
                Some(page) => {
                    if page.entries[key as usize & (PAGE - 1)].is_some() {
                        out.push(key);
                    }
                    key += 1;
                }
            }
        }
        (out, key)
    }
}

/// What the log knows of one segment.
#[derive(Debug)]
pub(crate) struct SegMeta {
    pub no: u64,
    /// Every message whose latest record is in this segment has a key up to this.
    pub max_key: u64,
    /// Bytes of records (and header) in the segment.
    pub bytes: u64,
    pub live: u64,
    pub live_bytes: u64,
    /// The file opened for reading bodies kept on disk only; opened when first needed.
    pub file: Option<Arc<File>>,
}

/// The segment tag of a message whose `SEND` record is not written yet. Segment numbers whose low
/// 16 bits are 0 are skipped, so no segment has this tag.
pub(crate) const UNPLACED: u16 = 0;

/// The window of zeros written ahead of the records ([`Segment::prefill`]).
const PREFILL: usize = 64 << 10;
static ZEROS: [u8; PREFILL] = [0; PREFILL];

/// The segment records are written to.
struct Segment {
    no: u64,
    file: Arc<File>,
    /// Its preallocated size.
    capacity: usize,
    /// Where the next record goes.
    pos: usize,
    /// The records placed since the last write, which go to the file at `pos - buf.len()`.
    /// Empty whenever the log's lock is free ([`Locked`]).
    buf: Vec<u8>,
    /// The file is written (with records or zeros) up to here.
    filled: usize,
}

impl Segment {
    /// Writes the records in `buf` to the file; with `prefill`, after zeros up to the next
    /// [`PREFILL`] boundary past them (within the segment's capacity) where the file was not yet
    /// written.
    fn write_buf(&mut self, prefill: bool) -> io::Result<()> {
        let at = self.pos - self.buf.len();
        if prefill {
            self.prefill(at)?;
        }
        self.file.write_all_at(&self.buf, at as u64)
    }

    /// Zeros from where the file was last written (or `at`, the records' start, if beyond) to the
    /// [`PREFILL`] boundary past `pos`; records of a window or more make large folios themselves,
    /// so only the rest of their last window is zeroed.
    fn prefill(&mut self, at: usize) -> io::Result<()> {
        if self.pos <= self.filled {
            return Ok(());
        }
        let to = self.pos.next_multiple_of(PREFILL).min(self.capacity);
        let mut from = match self.buf.len() >= PREFILL {
            true => self.pos,
            false => self.filled.max(at),
        };
        while from < to {
            let n = (to - from).min(PREFILL);
            self.file.write_all_at(&ZEROS[..n], from as u64)?;
            from += n;
        }
        self.filled = to.max(self.pos);
        Ok(())
    }
}

struct State {
    /// The segment being written; `None` before the first record, or after a failed write or sync
    /// (the next record starts a new segment).
    cur: Option<Segment>,
    /// The next segment, made ahead by the background thread (its header is written when it
    /// becomes current).
    spare: Option<Segment>,
    /// Files written since their last fdatasync (the current one is always a candidate).
    unsynced: Vec<Arc<File>>,
    /// A spare became a segment (renamed) since the directory was last synced: the next sync
    /// syncs it too, so that no send waits for it under the log's lock.
    dir_unsynced: bool,
    /// Records that found no room (no segment could be made: a full disk), in order, written
    /// before anything else once a segment can be made. Only records nobody waits for.
    pending: Vec<u8>,
    /// The log position after the last record written.
    written_lsn: u64,
    synced_lsn: u64,
    syncing: bool,
    /// Async senders waiting for their records' sync (`fsync = always`): log position, waker.
    sync_waiters: Vec<(u64, Waker)>,
    /// Spans whose sync failed, with the error: producers waiting for them get it.
    failures: VecDeque<(u64, u64, Arc<str>)>,
    error: Option<Arc<str>>,
    segments: VecDeque<SegMeta>,
    index: KeyIndex,
    live_bytes: u64,
    /// Bytes of the bodies the index holds in memory, the number of messages whose bodies are on
    /// disk only, and of those kept on disk only, header and body.
    resident: u64,
    spilled: u64,
    cold: u64,
    scratch: Vec<u8>,
    closed: bool,
    stop: bool,
}

impl State {
    fn current(&mut self) -> &mut SegMeta {
        self.segments
            .back_mut()
            .expect("the log has a current segment")
    }

    fn seg_mut(&mut self, tag: u16) -> Option<&mut SegMeta> {
        let front = self.segments.front()?.no;
        let i = tag.wrapping_sub(front as u16) as usize;
        if self.segments.get(i).is_some_and(|s| s.no as u16 == tag) {
            return self.segments.get_mut(i);
        }
        self.segments.iter_mut().find(|s| s.no as u16 == tag)
    }

    /// Takes a message out of the index and the live counts.
    fn remove(&mut self, key: u64) -> Option<Entry> {
        let e = self.index.remove(key)?;
        self.forget(e.data.as_ref());
        if e.tag != UNPLACED {
            let len = u64::from(e.len.get());
            self.live_bytes -= len;
            if let Some(s) = self.seg_mut(e.tag) {
                s.live -= 1;
                s.live_bytes -= len;
            }
        }
        Some(e)
    }

    /// Takes a message's data out of the memory counts.
    fn forget(&mut self, data: Option<&MessageData>) {
        match data {
            None => self.cold -= 1,
            Some(d) if d.spilled() => self.spilled -= 1,
            Some(d) => self.resident -= d.body().len() as u64,
        }
    }

    /// Counts the message `key`, whose latest `SEND` record (of `len` bytes) was just written at
    /// offset `at` of segment `no`, as live there (and no longer where an earlier record of it was).
    fn retag(&mut self, key: u64, len: u64, no: u64, at: usize) {
        let Some(e) = self.index.get_mut(key) else {
            return;
        };
        let old = std::mem::replace(&mut e.tag, no as u16);
        e.at = at as u32;
        e.len = record_len(len as usize);
        if old == UNPLACED {
            self.live_bytes += len;
        } else if let Some(s) = self.seg_mut(old) {
            s.live -= 1;
            s.live_bytes -= len;
        }
        if let Some(s) = self.seg_mut(no as u16) {
            s.live += 1;
            s.live_bytes += len;
        }
    }

    /// Puts a new message in the index, its body in memory, its `SEND` record (`len` bytes) about
    /// to be written.
    fn insert(&mut self, key: u64, queue: u64, data: MessageData, len: usize) {
        self.resident += data.body().len() as u64;
        if let Some(old) = self.index.insert(key, Entry::new(queue, data, len)) {
            // A key is inserted once; only a caller's mistake would find one.
            debug_assert!(false, "key {key} inserted twice");
            self.forget(old.data.as_ref());
        }
    }

    /// Whether the bodies in memory are over `budget`.
    fn over(&self, budget: Option<u64>) -> bool {
        budget.is_some_and(|b| self.resident > b)
    }

    /// With the bodies in memory over `budget`, leaves the body of message `key` (whose record was
    /// just written) on disk only: its data in the index becomes a header, returned for the queue's
    /// slot to hold instead.
    fn settle(&mut self, key: u64, budget: Option<u64>) -> Option<MessageData> {
        if !self.over(budget) {
            return None;
        }
        let e = self.index.get_mut(key)?;
        let data = e.data.as_mut()?;
        if data.spilled() {
            return None;
        }
        let header = data.without_body();
        let old = std::mem::replace(data, header.clone());
        self.resident -= old.body().len() as u64;
        self.spilled += 1;
        Some(header)
    }

    /// Leaves message `key` (whose record was just written) on disk only, header and body: the
    /// index keeps where its record is, and the queue only its key until a consumer reaches it.
    fn chill(&mut self, key: u64) {
        let Some(e) = self.index.get_mut(key) else {
            return;
        };
        let old = e.data.take();
        self.forget(old.as_ref());
        self.cold += 1;
    }

    /// Where the latest record of message `key` is: its segment's file, offset and length.
    fn locate(&mut self, dir: &Path, key: u64) -> io::Result<(Arc<File>, u64, usize)> {
        let gone = || io::Error::new(io::ErrorKind::NotFound, format!("message {key} is gone"));
        let e = self.index.get(key).ok_or_else(gone)?;
        let (tag, at, len) = (e.tag, e.at, e.len.get());
        let seg = self.seg_mut(tag).ok_or_else(gone)?;
        let file = match &seg.file {
            Some(f) => f.clone(),
            None => {
                let f = Arc::new(File::open(segment_path(dir, seg.no))?);
                seg.file = Some(f.clone());
                f
            }
        };
        Ok((file, u64::from(at), len as usize))
    }

    fn failed_at(&self, lsn: u64) -> Option<Arc<str>> {
        self.failures
            .iter()
            .rev()
            .find(|(from, to, _)| *from < lsn && lsn <= *to)
            .map(|(_, _, e)| e.clone())
    }
}

pub(crate) struct Shared {
    dir: PathBuf,
    config: StorageConfig,
    /// The next message key. Taken before a record is encoded (outside the lock), so keys are
    /// unique but not in log order; a segment's header holds a floor for the keys after it.
    next_key: AtomicU64,
    /// Keys of messages gone, not yet taken out of the index and logged: a delete takes no lock;
    /// whoever next holds the log lock logs them (deletes may be logged lazily).
    deletes: SegQueue<u64>,
    state: Mutex<State>,
    progress: Condvar,
    wake: Condvar,
    /// Wakes the sync thread: an async sender waits.
    want_sync: Condvar,
    lock: Mutex<Option<File>>,
}

/// The log's state under its lock. The records placed while it is held are written to the current
/// segment's file, all in one write, when it is released; a caller that must know the write worked
/// calls [`Shared::write_out`] first.
struct Locked<'a> {
    log: &'a Shared,
    guard: MutexGuard<'a, State>,
}

impl Deref for Locked<'_> {
    type Target = State;
    fn deref(&self) -> &State {
        &self.guard
    }
}

impl DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.guard
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        // A failed write keeps its records for later (`pending`) and its error in `error`.
        let _ = self.log.write_out(&mut self.guard);
    }
}

/// How a send with `fsync = always` waits for its sync.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncWait {
    /// Blocks the calling thread (joining or running a group's fdatasync).
    Block,
    /// Awaits it: the log's sync thread runs the fdatasync and wakes the task.
    Async,
}

/// The messages of a send waiting for its sync: dropped while still holding them (the sync failed,
/// or the send was given up), it takes them out of the log's index with a delete after each.
struct Unsend<'a> {
    log: &'a Shared,
    batch: Option<&'a [Outgoing]>,
}

/// A message a producer sends, as the log takes it.
pub(crate) struct Outgoing {
    pub data: MessageData,
    /// When it becomes visible; 0: at once.
    pub visible_at: u64,
    /// Set by the log: the message is kept on disk only, header and body; its queue holds its key
    /// until a consumer reaches it ([`Shared::warm`]).
    pub cold: bool,
}

/// A message kept on disk only, read back ([`Shared::warm`]).
pub(crate) enum Warmed {
    Data(MessageData),
    /// Deleted meanwhile.
    Gone,
    /// Its record could not be read: the cause.
    Failed(String),
}

impl Drop for Unsend<'_> {
    fn drop(&mut self) {
        if let Some(batch) = self.batch.take() {
            self.log.unsend(batch, batch.len());
        }
    }
}

/// A broker's log. Dropping it (or [`Log::close`]) syncs what was written, stops its background
/// thread and unlocks the directory.
pub(crate) struct Log {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    /// With `fsync = always`: the thread that syncs for async senders ([`Shared::send`] with
    /// [`SyncWait::Async`]).
    syncer: Mutex<Option<JoinHandle<()>>>,
}

impl std::ops::Deref for Log {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.shared
    }
}

impl Drop for Log {
    fn drop(&mut self) {
        self.close();
    }
}

/// Locks a data directory for this process.
pub(crate) fn lock_dir(dir: &Path) -> std::result::Result<File, OpenError> {
    let path = dir.join("LOCK");
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| OpenError::io(&path, e))?;
    match f.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = f.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(OpenError::Locked {
                dir: dir.to_path_buf(),
                holder: (!holder.is_empty()).then(|| holder.to_string()),
            });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(OpenError::io(&path, e)),
    }
    f.set_len(0).map_err(|e| OpenError::io(&path, e))?;
    (&f).write_all(format!("pid {}\n", std::process::id()).as_bytes())
        .map_err(|e| OpenError::io(&path, e))?;
    Ok(f)
}

impl Log {
    pub fn new(mut config: StorageConfig, lock: File, replayed: Replayed) -> Self {
        config.segment_bytes = config.segment_bytes.min(MAX_SEGMENT_BYTES);
        let Replayed {
            mut segments,
            index,
            next_key,
            resident,
            spilled,
            cold,
            ..
        } = replayed;
        if let Some(last) = segments.back_mut() {
            last.max_key = next_key.saturating_sub(1);
        }
        let live_bytes = segments.iter().map(|s| s.live_bytes).sum();
        let state = State {
            cur: None,
            spare: None,
            unsynced: Vec::new(),
            dir_unsynced: false,
            pending: Vec::new(),
            written_lsn: 0,
            synced_lsn: 0,
            syncing: false,
            sync_waiters: Vec::new(),
            failures: VecDeque::new(),
            error: None,
            segments,
            index,
            live_bytes,
            resident,
            spilled,
            cold,
            scratch: Vec::new(),
            closed: false,
            stop: false,
        };
        let shared = Arc::new(Shared {
            dir: config.dir.clone(),
            config,
            next_key: AtomicU64::new(next_key),
            deletes: SegQueue::new(),
            state: Mutex::new(state),
            progress: Condvar::new(),
            wake: Condvar::new(),
            want_sync: Condvar::new(),
            lock: Mutex::new(Some(lock)),
        });
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("sqsfast-log".into())
            .spawn(move || s.background())
            .expect("cannot start the log thread");
        let syncer = (shared.config.fsync == FsyncMode::Always).then(|| {
            let s = shared.clone();
            std::thread::Builder::new()
                .name("sqsfast-sync".into())
                .spawn(move || s.syncer())
                .expect("cannot start the log's sync thread")
        });
        Self {
            shared,
            thread: Mutex::new(Some(thread)),
            syncer: Mutex::new(syncer),
        }
    }

    /// Writes what is pending, syncs, stops the background thread, cuts the current segment to its
    /// records and unlocks the directory. Later sends fail; later deletes and receives are not
    /// logged.
    pub fn close(&self) {
        let Some(thread) = self.thread.lock().take() else {
            return;
        };
        self.state.lock().stop = true;
        self.wake.notify_all();
        self.want_sync.notify_all();
        let _ = thread.join();
        if let Some(syncer) = self.syncer.lock().take() {
            let _ = syncer.join();
        }
        let lsn = {
            let mut st = self.lock();
            let _gone = self.drain_deletes(&mut st);
            let _ = self.flush_pending(&mut st);
            st.written_lsn
        };
        if self.config.fsync != FsyncMode::Never {
            let _ = self.sync_to(lsn);
        }
        let mut st = self.state.lock();
        st.closed = true;
        if let Some(cur) = st.cur.take() {
            let _ = cur.file.set_len(cur.pos as u64);
        }
        let spare = st.spare.take();
        drop(st);
        if let Some(spare) = spare {
            self.discard(spare);
        }
        *self.lock.lock() = None;
    }
}

fn closed_error() -> Error {
    Error::new(ErrorCode::ServiceUnavailable, "The broker is closed.")
}

fn storage_error(e: &str) -> Error {
    Error::new(
        ErrorCode::ServiceUnavailable,
        format!("Storage failure: {e}"),
    )
}

impl Shared {
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Takes the lock of the log's state, for placing records: they are written when it is
    /// released.
    fn lock(&self) -> Locked<'_> {
        Locked {
            log: self,
            guard: self.state.lock(),
        }
    }

    fn fault(&self, op: IoOp) -> io::Result<()> {
        match &self.config.faults {
            Some(f) => f(op),
            None => Ok(()),
        }
    }

    /// Makes segment `no`: a preallocated file of `capacity` bytes, with a header unless
    /// `first_key` is `None` (a spare, whose header is written when it is used).
    fn make_segment(&self, no: u64, first_key: Option<u64>, capacity: u64) -> io::Result<Segment> {
        self.fault(IoOp::Write)?;
        let path = match first_key {
            Some(_) => segment_path(&self.dir, no),
            None => spare_path(&self.dir, no),
        };
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)?;
        let made = (|| {
            // SAFETY: posix_fallocate on an open descriptor with a valid range.
            let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, capacity as libc::off_t) };
            if rc != 0 {
                return Err(io::Error::from_raw_os_error(rc));
            }
            if let Some(first_key) = first_key {
                write_header(&file, no, first_key)?;
            }
            if self.config.fsync != FsyncMode::Never {
                super::meta::sync_dir(&self.dir)?;
            }
            Ok(())
        })();
        match made {
            Ok(()) => Ok(Segment {
                no,
                file: Arc::new(file),
                capacity: capacity as usize,
                pos: SEG_HEADER as usize,
                buf: Vec::new(),
                filled: SEG_HEADER as usize,
            }),
            Err(e) => {
                drop(file);
                let _ = fs::remove_file(&path);
                Err(e)
            }
        }
    }

    /// Starts a new segment with room for at least `len` bytes of records.
    fn roll(&self, st: &mut State, len: usize) -> io::Result<()> {
        let mut no = st.segments.back().map_or(1, |s| s.no + 1);
        if no as u16 == UNPLACED {
            no += 1;
        }
        let capacity = self.config.segment_bytes.max(SEG_HEADER + len as u64);
        let first_key = self.next_key.load(Ordering::Relaxed);
        let mut segment = match st.spare.take() {
            Some(spare)
                if spare.no == no
                    && spare.capacity as u64 >= capacity
                    && self.adopt(no).is_ok()
                    && write_header(&spare.file, no, first_key).is_ok() =>
            {
                st.dir_unsynced = self.config.fsync != FsyncMode::Never;
                spare
            }
            other => {
                if let Some(stale) = other {
                    self.discard(stale);
                }
                self.make_segment(no, Some(first_key), capacity)?
            }
        };
        if let Some(old) = st.cur.as_mut() {
            // Its buffer (written out before a roll, so empty) serves the new segment.
            debug_assert!(old.buf.is_empty());
            std::mem::swap(&mut segment.buf, &mut old.buf);
        }
        if let Some(old) = st.cur.replace(segment) {
            // The rest of a preallocated segment is given back; its records are kept.
            let Segment { file, pos, .. } = old;
            let _ = file.set_len(pos as u64);
            if self.config.fsync != FsyncMode::Never {
                st.unsynced.push(file);
            }
        }
        let next_key = self.next_key.load(Ordering::Relaxed);
        if let Some(prev) = st.segments.back_mut() {
            prev.max_key = next_key.saturating_sub(1);
        }
        st.segments.push_back(SegMeta {
            no,
            max_key: u64::MAX,
            bytes: SEG_HEADER,
            live: 0,
            live_bytes: 0,
            file: None,
        });
        Ok(())
    }

    /// Gives the spare segment `no` its `.log` name. The directory is synced by the next sync
    /// (`State::dir_unsynced`), which every send that waits for durability waits for.
    fn adopt(&self, no: u64) -> io::Result<()> {
        fs::rename(spare_path(&self.dir, no), segment_path(&self.dir, no))
    }

    /// Removes a spare segment that was never used.
    fn discard(&self, spare: Segment) {
        let no = spare.no;
        drop(spare);
        let _ = fs::remove_file(spare_path(&self.dir, no));
    }

    /// The background thread's share of writing: makes the next segment ahead of time, so that
    /// this does not happen while a producer waits.
    fn prepare(&self) {
        let no = {
            let st = self.state.lock();
            if st.stop || st.closed {
                return;
            }
            match (&st.cur, &st.spare) {
                (Some(c), None) => {
                    let mut no = c.no + 1;
                    if no as u16 == UNPLACED {
                        no += 1;
                    }
                    no
                }
                _ => return,
            }
        };
        let Ok(spare) = self.make_segment(no, None, self.config.segment_bytes) else {
            return; // a full disk: the next roll will say so
        };
        let mut st = self.state.lock();
        let wanted = !st.stop && st.spare.is_none() && st.cur.as_ref().is_some_and(|c| c.no < no);
        if wanted {
            st.spare = Some(spare);
        } else {
            drop(st);
            self.discard(spare);
        }
    }

    /// Places the record in `st.scratch` in the current segment (starting one if it has no room).
    fn place(&self, st: &mut State) -> std::result::Result<u64, Arc<str>> {
        let rec = std::mem::take(&mut st.scratch);
        let result = self.place_bytes(st, &rec);
        st.scratch = rec;
        result
    }

    /// Places one record in the current segment's buffer (starting a segment if it has no room);
    /// the lock's holder writes it out ([`Locked`]).
    fn place_bytes(&self, st: &mut State, rec: &[u8]) -> std::result::Result<u64, Arc<str>> {
        if !st.pending.is_empty() {
            self.flush_pending(st)?;
        }
        let len = rec.len();
        let fits = st.cur.as_ref().is_some_and(|c| c.pos + len <= c.capacity);
        if !fits {
            self.write_out(st)?;
            if let Err(e) = self.roll(st, len) {
                let e: Arc<str> = format!("cannot make a log segment: {e}").into();
                st.error = Some(e.clone());
                return Err(e);
            }
            st.error = None;
        }
        let cur = st.cur.as_mut().expect("rolled above");
        let at = cur.pos;
        cur.buf.extend_from_slice(rec);
        cur.pos += len;
        let no = cur.no;
        let send_key = (rec[record::HEADER] == record::SEND).then(|| {
            let at = record::HEADER + 10;
            u64::from_le_bytes(rec[at..at + 8].try_into().unwrap())
        });
        st.current().bytes += len as u64;
        st.written_lsn += len as u64;
        if let Some(key) = send_key {
            st.retag(key, len as u64, no, at);
        }
        Ok(st.written_lsn)
    }

    /// Writes the records placed in the current segment's buffer to its file. On failure the
    /// segment is given up (as after a failed sync: later records start a new one) and the records
    /// wait in `pending`, written before any other once a segment takes them.
    fn write_out(&self, st: &mut State) -> std::result::Result<(), Arc<str>> {
        let Some(cur) = st.cur.as_mut().filter(|c| !c.buf.is_empty()) else {
            return Ok(());
        };
        let at = (cur.pos - cur.buf.len()) as u64;
        let prefill = self.config.fsync != FsyncMode::Always;
        let written = self
            .fault(IoOp::Write)
            .and_then(|()| cur.write_buf(prefill));
        let Err(e) = written else {
            cur.buf.clear();
            return Ok(());
        };
        let e: Arc<str> = format!("cannot write the log: {e}").into();
        let Segment { file, buf, .. } = st.cur.take().expect("checked above");
        let _ = file.set_len(at);
        if self.config.fsync != FsyncMode::Never {
            st.unsynced.push(file);
        }
        let later = std::mem::replace(&mut st.pending, buf);
        st.pending.extend_from_slice(&later);
        st.error = Some(e.clone());
        Err(e)
    }

    /// Writes the records that waited for room; an error leaves them waiting. `st.scratch` is
    /// kept as it was.
    fn flush_pending(&self, st: &mut State) -> std::result::Result<(), Arc<str>> {
        let saved = std::mem::take(&mut st.scratch);
        let result = self.flush_pending_records(st);
        st.scratch = saved;
        result
    }

    fn flush_pending_records(&self, st: &mut State) -> std::result::Result<(), Arc<str>> {
        let pending = std::mem::take(&mut st.pending);
        let mut off = 0;
        while off < pending.len() {
            let len = record::HEADER
                + u32::from_le_bytes(pending[off..off + 4].try_into().unwrap()) as usize;
            st.scratch.clear();
            st.scratch.extend_from_slice(&pending[off..off + len]);
            // `pending` is empty now, so `place` goes straight to the segment.
            if let Err(e) = self.place(st) {
                st.pending = pending[off..].to_vec();
                return Err(e);
            }
            off += len;
        }
        Ok(())
    }

    /// Places the record in `st.scratch`, or keeps it for later if there is no room on disk: for
    /// records nobody waits for. Returns whether it was placed.
    fn place_lazy(&self, st: &mut State) -> bool {
        if self.place(st).is_ok() {
            return true;
        }
        let State {
            pending, scratch, ..
        } = st;
        pending.extend_from_slice(scratch);
        false
    }

    /// Encodes a message's `SEND` record, with `body`, into `st.scratch`; placing it counts the
    /// message as live in the segment it lands in.
    fn add(st: &mut State, queue: u64, data: &MessageData, body: &[u8], visible_at: u64) {
        st.scratch.clear();
        record::put_send(&mut st.scratch, queue, data, body, visible_at, false);
    }

    /// Waits until everything up to `lsn` is synced; whoever finds no sync in progress runs one
    /// for everything written so far.
    fn sync_to(&self, lsn: u64) -> std::result::Result<(), Arc<str>> {
        let mut st = self.state.lock();
        loop {
            if let Some(e) = st.failed_at(lsn) {
                return Err(e);
            }
            if st.synced_lsn >= lsn {
                return Ok(());
            }
            if st.syncing {
                self.progress.wait(&mut st);
                continue;
            }
            st.syncing = true;
            let target = st.written_lsn;
            let from = st.synced_lsn;
            let mut files = std::mem::take(&mut st.unsynced);
            if let Some(cur) = &st.cur {
                files.push(cur.file.clone());
            }
            let dir = std::mem::take(&mut st.dir_unsynced);
            let result = MutexGuard::unlocked(&mut st, || {
                files
                    .iter()
                    .try_for_each(|f| self.fault(IoOp::Sync).and_then(|()| f.sync_data()))?;
                if dir {
                    super::meta::sync_dir(&self.dir)?;
                }
                Ok::<(), io::Error>(())
            });
            match result {
                Ok(()) => {
                    st.synced_lsn = st.synced_lsn.max(target);
                    if st.pending.is_empty() {
                        st.error = None;
                    }
                }
                Err(e) => {
                    // A failed fsync is not retried on the same file: what the kernel dropped is
                    // gone. Later records go to a new segment. Those written to this one while it
                    // synced fail with it: no later sync covers the file.
                    let e: Arc<str> = format!("fdatasync failed: {e}").into();
                    let to = st.written_lsn;
                    st.failures.push_back((from, to, e.clone()));
                    while st.failures.len() > 256 {
                        st.failures.pop_front();
                    }
                    st.synced_lsn = st.synced_lsn.max(to);
                    st.error = Some(e);
                    if let Some(cur) = st.cur.take() {
                        let _ = cur.file.set_len(cur.pos as u64);
                    }
                }
            }
            st.syncing = false;
            self.progress.notify_all();
            let synced = st.synced_lsn;
            if st.sync_waiters.iter().any(|(lsn, _)| *lsn <= synced) {
                let (ready, waiting) = std::mem::take(&mut st.sync_waiters)
                    .into_iter()
                    .partition::<Vec<_>, _>(|(lsn, _)| *lsn <= synced);
                st.sync_waiters = waiting;
                MutexGuard::unlocked(&mut st, || ready.into_iter().for_each(|(_, w)| w.wake()));
            }
        }
    }

    /// With `fsync = always`: syncs whenever an async sender waits for records not yet synced.
    fn syncer(&self) {
        let mut st = self.state.lock();
        loop {
            if st.stop {
                return; // close() syncs the rest, which wakes whoever still waits
            }
            let synced = st.synced_lsn;
            match st.sync_waiters.iter().map(|(lsn, _)| *lsn).max() {
                Some(lsn) if lsn > synced => {
                    drop(st);
                    let _ = self.sync_to(lsn);
                    st = self.state.lock();
                }
                _ => self.want_sync.wait(&mut st),
            }
        }
    }

    /// Ready once the log is synced up to `lsn` (or its sync failed); otherwise registers `cx`'s
    /// waker for when it is.
    fn poll_synced(
        &self,
        lsn: u64,
        cx: &mut Context<'_>,
    ) -> Poll<std::result::Result<(), Arc<str>>> {
        let mut st = self.state.lock();
        if let Some(e) = st.failed_at(lsn) {
            return Poll::Ready(Err(e));
        }
        if st.synced_lsn >= lsn {
            return Poll::Ready(Ok(()));
        }
        if st.stop || st.closed {
            // No syncer any more: the closing thread syncs everything written.
            drop(st);
            return Poll::Ready(self.sync_to(lsn));
        }
        if let Some(w) = st
            .sync_waiters
            .iter_mut()
            .find(|(l, w)| *l == lsn && w.will_wake(cx.waker()))
        {
            w.1 = cx.waker().clone();
        } else {
            st.sync_waiters.push((lsn, cx.waker().clone()));
        }
        drop(st);
        self.want_sync.notify_one();
        Poll::Pending
    }

    /// Logs a producer's sends: once this returns they are in the page cache (they survive the
    /// process being killed), and with `fsync = always` on disk. On failure nothing of them stays
    /// in the log's index: the caller must not enqueue them.
    ///
    /// # Errors
    /// `ServiceUnavailable` with the I/O error when no segment could be made or the sync failed,
    /// or after close.
    ///
    /// Past the memory budget, a message visible at once is kept on disk only (`cold` is set: the
    /// queue keeps only its key); so is every such message while the queue still has some on disk
    /// (`cold_queue`), so that consumers meet them in the order they came. A delayed message past
    /// the budget is replaced in `batch` by its header ([`MessageData::without_body`]), its body
    /// read back from the log when it is received.
    pub async fn send(
        &self,
        queue: u64,
        batch: &mut [Outgoing],
        cold_queue: bool,
        wait: SyncWait,
    ) -> Result<()> {
        let lsn = self.append_sends(queue, batch, cold_queue)?;
        if self.config.fsync != FsyncMode::Always {
            return Ok(());
        }
        // A send given up while it waits (its request dropped: the client went away) was never
        // acknowledged: its messages are taken back out, as after a failed sync.
        let mut pending = Unsend {
            log: self,
            batch: Some(batch),
        };
        let synced = match wait {
            SyncWait::Block => self.sync_to(lsn),
            SyncWait::Async => std::future::poll_fn(|cx| self.poll_synced(lsn, cx)).await,
        };
        if synced.is_ok() {
            pending.batch = None;
        }
        synced.map_err(|e| storage_error(&e))
    }

    /// Writes the `SEND` records of `batch` and returns the log position after them. On failure
    /// none of them stays in the index (those written get a delete after them).
    fn append_sends(&self, queue: u64, batch: &mut [Outgoing], cold_queue: bool) -> Result<u64> {
        // Encoding (and the CRC) happens before the lock is taken; under it, only copies.
        let first = self
            .next_key
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        let mut buf = Vec::with_capacity(batch.iter().map(|o| record::send_len(&o.data)).sum());
        let mut ends = Vec::with_capacity(batch.len());
        for (i, o) in batch.iter().enumerate() {
            o.data.header().set_key(first + i as u64);
            record::put_send(&mut buf, queue, &o.data, o.data.body(), o.visible_at, true);
            ends.push(buf.len());
        }
        let mut st = self.lock();
        if st.closed || st.stop {
            return Err(closed_error());
        }
        let gone = self.drain_deletes(&mut st);
        let mut lsn = st.written_lsn;
        let mut failed = None;
        let mut placed = 0;
        let mut start = 0;
        let budget = self.config.memory_budget;
        for (o, end) in batch.iter_mut().zip(ends) {
            let key = o.data.header().key();
            st.insert(key, queue, o.data.clone(), end - start);
            match self.place_bytes(&mut st, &buf[start..end]) {
                Ok(l) => {
                    lsn = l;
                    placed += 1;
                    if budget.is_some() && o.visible_at == 0 && (cold_queue || st.over(budget)) {
                        st.chill(key);
                        o.cold = true;
                    } else if let Some(header) = st.settle(key, budget) {
                        o.data = header;
                    }
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
            start = end;
        }
        if failed.is_none() {
            // Acknowledged once written: with the write failed, nothing of the batch is.
            if let Err(e) = self.write_out(&mut st) {
                failed = Some(e);
            }
        }
        drop(st);
        drop(gone);
        let Some(e) = failed else {
            return Ok(lsn);
        };
        self.unsend(batch, placed);
        Err(storage_error(&e))
    }

    /// Takes the messages of a failed send out of the index. The first `placed` have a record in
    /// the log (a batch cut short, a failed sync): each gets a delete after it, so that the
    /// message does not appear after a restart.
    fn unsend(&self, batch: &[Outgoing], placed: usize) {
        let mut st = self.lock();
        let mut dropped = Vec::new();
        for (i, o) in batch.iter().enumerate() {
            let key = o.data.header().key();
            if let Some(entry) = st.remove(key) {
                dropped.push(entry);
                if i < placed {
                    st.scratch.clear();
                    record::put_delete(&mut st.scratch, key);
                    self.place_lazy(&mut st);
                }
            }
        }
        drop(st);
        drop(dropped);
    }

    /// Logs a message moved into a queue (dead-letter moves, redrives). Not waited for. Returns
    /// the data for the queue to hold: `data`, or its header when its body does not fit the memory
    /// budget.
    pub fn moved(&self, queue: u64, data: MessageData) -> MessageData {
        let mut st = self.lock();
        if st.closed {
            return data;
        }
        let key = self.next_key.fetch_add(1, Ordering::Relaxed);
        data.header().set_key(key);
        Self::add(&mut st, queue, &data, data.body(), 0);
        let len = st.scratch.len();
        st.insert(key, queue, data.clone(), len);
        if self.place_lazy(&mut st) {
            return st.settle(key, self.config.memory_budget).unwrap_or(data);
        }
        data
    }

    /// Reads back the bodies of received messages kept on disk only (the others are left as they
    /// are). Returns, for each message, the error of a read that failed.
    pub fn load_bodies(&self, items: &mut [crate::message::Received]) -> Vec<Option<String>> {
        let mut errors: Vec<Option<String>> = vec![None; items.len()];
        let mut found = Vec::new();
        {
            let mut st = self.state.lock();
            for (i, r) in items.iter().enumerate() {
                if r.data.spilled() {
                    match st.locate(&self.dir, r.data.header().key()) {
                        Ok(place) => found.push((i, place)),
                        Err(e) => errors[i] = Some(e.to_string()),
                    }
                }
            }
        }
        for (i, (file, at, len)) in found {
            let key = items[i].data.header().key();
            match read_body(&file, at, len, key) {
                Ok(body) => items[i].loaded = Some(body),
                Err(e) => errors[i] = Some(e),
            }
        }
        errors
    }

    /// Reads back messages kept on disk only, header and body (`keys`, as [`Shared::send`] marked
    /// them `cold`), for their queue to hold again: bodies in memory as far as the budget allows.
    pub fn warm(&self, keys: &[u64]) -> Vec<Warmed> {
        let mut places = Vec::with_capacity(keys.len());
        let mut room = {
            let mut st = self.state.lock();
            for &key in keys {
                let cold = st.index.get(key).is_some_and(|e| e.data.is_none());
                places.push(match cold {
                    true => Some(st.locate(&self.dir, key).map_err(|e| e.to_string())),
                    false => None,
                });
            }
            self.config
                .memory_budget
                .map_or(u64::MAX, |b| b.saturating_sub(st.resident))
        };
        let mut out: Vec<Warmed> = places
            .into_iter()
            .zip(keys)
            .map(|(place, &key)| {
                let (file, at, len) = match place {
                    None => return Warmed::Gone,
                    Some(Err(e)) => return Warmed::Failed(e),
                    Some(Ok(place)) => place,
                };
                let mut buf = vec![0; len];
                if let Err(e) = read_exact_at(&file, &mut buf, at) {
                    return Warmed::Failed(format!("cannot read a message: {e}"));
                }
                let keep = |f: &record::SendFacts| {
                    let n = f.body_len as u64;
                    if n <= room {
                        room -= n;
                        record::Keep::Body
                    } else {
                        record::Keep::Header
                    }
                };
                match record::read_keeping(&buf, keep) {
                    Read::Record(Record::Send { data, .. }, _) if data.header().key() == key => {
                        Warmed::Data(data)
                    }
                    Read::Bad(e) => {
                        Warmed::Failed(format!("cannot read a message at offset {at}: {e}"))
                    }
                    _ => Warmed::Failed(format!("no record of message {key} at offset {at}")),
                }
            })
            .collect();
        let mut st = self.state.lock();
        for (w, &key) in out.iter_mut().zip(keys) {
            let Warmed::Data(data) = w else { continue };
            let still_cold = st.index.get(key).is_some_and(|e| e.data.is_none());
            if !still_cold {
                *w = Warmed::Gone;
                continue;
            }
            st.cold -= 1;
            if data.spilled() {
                st.spilled += 1;
            } else {
                st.resident += data.body().len() as u64;
            }
            if let Some(e) = st.index.get_mut(key) {
                e.data = Some(data.clone());
            }
        }
        out
    }

    /// Logs that a message kept on disk only is gone (expired, purged, its queue deleted).
    pub fn deleted_key(&self, key: u64) {
        self.deletes.push(key);
    }

    /// Reads back the body of a message kept on disk only.
    pub fn read_body(&self, data: &MessageData) -> std::result::Result<Box<[u8]>, String> {
        let key = data.header().key();
        let (file, at, len) = self
            .state
            .lock()
            .locate(&self.dir, key)
            .map_err(|e| e.to_string())?;
        read_body(&file, at, len, key)
    }

    /// Logs receives: (message, its receive count now). Not waited for.
    pub fn received<'a>(&self, items: impl Iterator<Item = (&'a MessageData, u32)>) {
        let mut st = self.lock();
        if st.closed {
            return;
        }
        for (data, count) in items {
            let key = data.header().key();
            if st.index.get(key).is_none() {
                continue;
            }
            data.header().set_logged_receives(count);
            st.scratch.clear();
            record::put_receive(&mut st.scratch, key, data.header().receive_word());
            self.place_lazy(&mut st);
        }
    }

    /// Logs that a message is gone (deleted, expired, purged, moved away). Not waited for: the key
    /// is queued without a lock and logged by the next holder of the log lock.
    pub fn deleted(&self, data: &MessageData) {
        let key = data.header().key();
        if key != 0 {
            self.deletes.push(key);
        }
    }

    /// Takes the queued deletes out of the index and logs them. Returns the messages, for the
    /// caller to free after the lock.
    fn drain_deletes(&self, st: &mut State) -> Vec<Entry> {
        let mut gone = Vec::new();
        if st.closed {
            return gone;
        }
        while let Some(key) = self.deletes.pop() {
            if let Some(e) = st.remove(key) {
                gone.push(e);
                st.scratch.clear();
                record::put_delete(&mut st.scratch, key);
                self.place_lazy(st);
            }
        }
        gone
    }

    /// Calls `keep` for each message recovered, in log order, with its delay end (0: none); drops
    /// from the log those it says no to (their queue is gone).
    pub fn recovered(
        &self,
        delayed: &std::collections::HashMap<u64, u64>,
        mut keep: impl FnMut(&Entry, u64) -> bool,
    ) {
        let mut st = self.lock();
        let mut from = 0;
        let mut dropped = Vec::new();
        loop {
            let (keys, next) = st.index.keys(from, u64::MAX, 4096);
            for key in keys {
                let e = st.index.get(key).expect("listed keys are live");
                if !keep(e, delayed.get(&key).copied().unwrap_or(0)) {
                    dropped.push(key);
                }
            }
            if next == u64::MAX {
                break;
            }
            from = next;
        }
        for key in dropped {
            st.remove(key);
            st.scratch.clear();
            record::put_delete(&mut st.scratch, key);
            self.place_lazy(&mut st);
        }
    }

    pub fn stats(&self) -> StorageStats {
        let mut st = self.state.lock();
        let _gone = self.drain_deletes(&mut st);
        StorageStats {
            segments: st.segments.len(),
            log_bytes: st.segments.iter().map(|s| s.bytes).sum(),
            live_bytes: st.live_bytes,
            live_messages: st.index.len(),
            body_bytes_in_memory: st.resident,
            bodies_on_disk: st.spilled + st.cold,
            messages_on_disk: st.cold,
            error: st.error.as_deref().map(str::to_string),
        }
    }

    fn background(&self) {
        loop {
            let lsn = {
                let mut st = self.lock();
                if st.stop {
                    return;
                }
                self.wake
                    .wait_for(&mut st.guard, self.config.fsync_interval);
                if st.stop {
                    return;
                }
                if !st.pending.is_empty() && self.flush_pending(&mut st).is_ok() {
                    st.error = None;
                }
                let _gone = self.drain_deletes(&mut st);
                st.written_lsn
            };
            if self.config.fsync == FsyncMode::Interval {
                let _ = self.sync_to(lsn);
            }
            self.prepare();
            self.compact();
        }
    }

    /// Reclaims space from the oldest segment: removes it when nothing in it is live; when the log
    /// is over twice the live data, first appends its live messages again at the end.
    fn compact(&self) {
        let seg_bytes = self.config.segment_bytes;
        loop {
            let (front_no, max_key) = {
                let mut st = self.lock();
                let _gone = self.drain_deletes(&mut st);
                if st.segments.len() < 2 || st.stop || !st.pending.is_empty() {
                    return;
                }
                let front = st.segments.front().expect("two segments");
                let (no, live, max_key) = (front.no, front.live, front.max_key);
                if live == 0 {
                    st.segments.pop_front();
                    drop(st);
                    match fs::remove_file(segment_path(&self.dir, no)) {
                        Ok(()) => {
                            let _ = super::meta::sync_dir(&self.dir);
                        }
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                        Err(_) => return,
                    }
                    continue;
                }
                let total: u64 = st.segments.iter().map(|s| s.bytes).sum();
                if total <= 2 * st.live_bytes + seg_bytes {
                    return;
                }
                (no, max_key)
            };
            let tag = front_no as u16;
            // Bodies kept on disk only are copied from the segment itself, read outside the lock.
            let front = match self.config.memory_budget {
                Some(_) => match fs::read(segment_path(&self.dir, front_no)) {
                    Ok(bytes) => bytes,
                    Err(_) => return,
                },
                None => Vec::new(),
            };
            let mut from = 0;
            let mut last = 0;
            let mut damaged = false;
            loop {
                let mut st = self.lock();
                if st.stop {
                    return;
                }
                let (keys, next) = st.index.keys(from, max_key, 1024);
                for key in keys {
                    let Some(e) = st.index.get(key) else { continue };
                    if e.tag != tag {
                        continue;
                    }
                    let (queue, data) = (u64::from(e.queue), e.data.clone());
                    let (at, len) = (e.at as usize, e.len.get() as usize);
                    let record = front
                        .get(at..at + len)
                        .filter(|r| record::send_body(r, key).is_ok());
                    match (data, record) {
                        (Some(data), _) if !data.spilled() => {
                            Self::add(&mut st, queue, &data, data.body(), 0);
                        }
                        (Some(data), Some(record)) => {
                            let body = record::send_body(record, key).expect("checked above");
                            Self::add(&mut st, queue, &data, body, 0);
                        }
                        // Kept on disk only: nothing of it changed since its record was written.
                        (None, Some(record)) => {
                            st.scratch.clear();
                            st.scratch.extend_from_slice(record);
                        }
                        // A damaged record: the message stays where it is, and so does the
                        // segment.
                        (_, None) => {
                            damaged = true;
                            continue;
                        }
                    }
                    match self.place(&mut st) {
                        Ok(l) => last = l,
                        Err(_) => {
                            // No room: the copy waits with the other pending records, and the
                            // segment stays until it is written.
                            let State {
                                pending, scratch, ..
                            } = &mut *st;
                            pending.extend_from_slice(scratch);
                            return;
                        }
                    }
                }
                drop(st);
                if next > max_key {
                    break;
                }
                from = next;
            }
            // The copies must be on disk before the segment they replace goes.
            if last > 0 && self.config.fsync != FsyncMode::Never && self.sync_to(last).is_err() {
                return;
            }
            if damaged {
                return;
            }
        }
    }
}

fn read_exact_at(file: &File, buf: &mut [u8], at: u64) -> io::Result<()> {
    file.read_exact_at(buf, at)
}

/// Reads the `SEND` record of message `key` at `at` in `file` and returns its body.
fn read_body(file: &File, at: u64, len: usize, key: u64) -> std::result::Result<Box<[u8]>, String> {
    let mut buf = vec![0; len];
    read_exact_at(file, &mut buf, at)
        .map_err(|e| format!("cannot read the body of a message: {e}"))?;
    record::send_body(&buf, key)
        .map(Box::from)
        .map_err(|e| format!("cannot read the body of a message at offset {at}: {e}"))
}

fn write_header(file: &File, no: u64, first_key: u64) -> io::Result<()> {
    let mut header = [0; SEG_HEADER as usize];
    header[..8].copy_from_slice(MAGIC);
    header[8..16].copy_from_slice(&no.to_le_bytes());
    header[16..24].copy_from_slice(&first_key.to_le_bytes());
    file.write_all_at(&header, 0)
}

/// Reads the header of a segment file: its number and first key.
pub(crate) fn read_header(bytes: &[u8]) -> Option<(u64, u64)> {
    if bytes.len() < SEG_HEADER as usize || &bytes[..8] != MAGIC {
        return None;
    }
    Some((
        u64::from_le_bytes(bytes[8..16].try_into().unwrap()),
        u64::from_le_bytes(bytes[16..24].try_into().unwrap()),
    ))
}
