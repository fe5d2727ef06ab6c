//! The segment log: group commit, the index of live messages by key, and compaction.
//!
//! Every record is appended to an in-memory buffer (a chunk per segment) under one mutex, in the
//! order the engine makes them. A producer whose send needs the disk then calls [`Shared::drive`]:
//! if no write is in progress it takes every pending chunk and writes them (and fdatasyncs with
//! `fsync = always`) for everyone; otherwise it waits for the write in progress and looks again.
//! So one write serves every send that arrived while the previous one ran: group commit, with no
//! thread handoff when there is no contention.

use super::record;
use super::recover::Replayed;
use super::{FsyncMode, IoOp, OpenError, StorageConfig, StorageStats};
use crate::error::{Error, ErrorCode, Result};
use crate::message::MessageData;
use parking_lot::{Condvar, Mutex, MutexGuard};
use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

/// A segment file starts with this magic, its number and the first key it may hold.
pub(crate) const MAGIC: &[u8; 8] = b"SQSFLOG1";
pub(crate) const SEG_HEADER: u64 = 24;

pub(crate) fn segment_path(dir: &Path, no: u64) -> PathBuf {
    dir.join(format!("{no:016x}.log"))
}

/// A live message in the log: its queue and its data (shared with the queue's slot).
pub(crate) struct Entry {
    pub queue: u64,
    pub data: MessageData,
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
    pub first_key: u64,
    /// Every message whose latest record is in this segment has a key up to this.
    pub max_key: u64,
    /// Bytes assigned to the segment (written or pending).
    pub bytes: u64,
    pub live: u64,
    pub live_bytes: u64,
}

/// Records waiting to be written to one segment. `start..end` is their span of log positions.
struct Chunk {
    seg: u64,
    first_key: u64,
    start: u64,
    end: u64,
    buf: Vec<u8>,
}

impl Chunk {
    /// The records of the chunk that outlive a failed write: all but producers' sends, whose
    /// producers are told the send failed.
    fn lazy_part(&self) -> Chunk {
        let mut buf = Vec::new();
        let mut off = 0;
        while off < self.buf.len() {
            let len = record::HEADER
                + u32::from_le_bytes(self.buf[off..off + 4].try_into().unwrap()) as usize;
            let rec = &self.buf[off..off + len];
            let acked_send = rec[record::HEADER] == record::SEND
                && rec[record::HEADER + 1] & record::FLAG_ACKED != 0;
            if !acked_send {
                buf.extend_from_slice(rec);
            }
            off += len;
        }
        Chunk {
            buf,
            seg: self.seg,
            first_key: self.first_key,
            start: self.start,
            end: self.end,
        }
    }
}

struct State {
    chunks: VecDeque<Chunk>,
    /// The log position after the last record appended.
    next_lsn: u64,
    /// Every record up to here was written (or its write failed).
    written_lsn: u64,
    synced_lsn: u64,
    writing: bool,
    /// Spans whose write or sync failed, with the error: their producers get it.
    failures: VecDeque<(u64, u64, Arc<str>)>,
    error: Option<Arc<str>>,
    segments: VecDeque<SegMeta>,
    index: KeyIndex,
    next_key: u64,
    live_bytes: u64,
    closed: bool,
    stop: bool,
}

impl State {
    fn current(&mut self) -> &mut SegMeta {
        self.segments
            .back_mut()
            .expect("the log always has a current segment")
    }

    fn roll(&mut self) {
        let next_key = self.next_key;
        let no = match self.segments.back_mut() {
            Some(s) => {
                s.max_key = next_key.saturating_sub(1);
                s.no + 1
            }
            None => 1,
        };
        self.segments.push_back(SegMeta {
            no,
            first_key: next_key,
            max_key: u64::MAX,
            bytes: SEG_HEADER,
            live: 0,
            live_bytes: 0,
        });
    }

    /// Makes room for a record of `len` bytes in the current segment, starting a new one if full.
    fn room(&mut self, len: usize, segment_bytes: u64) {
        let cur = self.current();
        if cur.bytes > SEG_HEADER && cur.bytes + len as u64 > segment_bytes {
            self.roll();
        }
    }

    fn seg_mut(&mut self, tag: u16) -> Option<&mut SegMeta> {
        let front = self.segments.front()?.no;
        let i = tag.wrapping_sub(front as u16) as usize;
        if self.segments.get(i).is_some_and(|s| s.no as u16 == tag) {
            return self.segments.get_mut(i);
        }
        self.segments.iter_mut().find(|s| s.no as u16 == tag)
    }

    /// Appends a record of `len` bytes (room already made) to the current segment.
    fn push(&mut self, len: usize, encode: impl FnOnce(&mut Vec<u8>) -> usize) -> u64 {
        let (seg, first_key) = {
            let cur = self.current();
            cur.bytes += len as u64;
            (cur.no, cur.first_key)
        };
        let lsn = self.next_lsn;
        if self.chunks.back().is_none_or(|c| c.seg != seg) {
            self.chunks.push_back(Chunk {
                seg,
                first_key,
                start: lsn,
                end: lsn,
                buf: Vec::new(),
            });
        }
        let chunk = self.chunks.back_mut().unwrap();
        let n = encode(&mut chunk.buf);
        debug_assert_eq!(n, len);
        self.next_lsn += n as u64;
        chunk.end = self.next_lsn;
        self.next_lsn
    }

    /// Adds a message to the index and appends its `SEND` record to the current segment.
    fn add(
        &mut self,
        queue: u64,
        data: &MessageData,
        visible_at: u64,
        acked: bool,
        segment_bytes: u64,
    ) -> u64 {
        let len = record::send_len(data);
        self.room(len, segment_bytes);
        let cur = self.current();
        cur.live += 1;
        cur.live_bytes += len as u64;
        let tag = cur.no as u16;
        data.header().set_segment_tag(tag);
        self.live_bytes += len as u64;
        self.push(len, |b| record::put_send(b, queue, data, visible_at, acked))
    }

    /// Takes a message out of the index and the live counts.
    fn remove(&mut self, key: u64) -> Option<Entry> {
        let e = self.index.remove(key)?;
        let len = record::send_len(&e.data) as u64;
        self.live_bytes -= len;
        if let Some(s) = self.seg_mut(e.data.header().segment_tag()) {
            s.live -= 1;
            s.live_bytes -= len;
        }
        Some(e)
    }

    fn failed_at(&self, lsn: u64) -> Option<Arc<str>> {
        self.failures
            .iter()
            .rev()
            .find(|(from, to, _)| *from < lsn && lsn <= *to)
            .map(|(_, _, e)| e.clone())
    }
}

/// The segment being written; only the writer of the moment touches it.
struct Open {
    seg: u64,
    file: Arc<File>,
    len: u64,
}

#[derive(PartialEq, Eq)]
enum Failed {
    Write,
    Sync,
}

#[derive(Default)]
struct Outcome {
    failed: Option<(u64, Failed, Arc<str>)>,
    retained: Vec<Chunk>,
    /// The segment can take no more writes: later records go to a new one.
    broken: bool,
    synced: bool,
}

pub(crate) struct Shared {
    dir: PathBuf,
    config: StorageConfig,
    state: Mutex<State>,
    progress: Condvar,
    wake: Condvar,
    file: Mutex<Option<Open>>,
    lock: Mutex<Option<File>>,
}

/// A broker's log. Dropping it (or [`Log::close`]) writes and syncs what is pending, stops its
/// background thread and unlocks the directory.
pub(crate) struct Log {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
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
    pub fn new(config: StorageConfig, lock: File, replayed: Replayed) -> Self {
        let Replayed {
            segments,
            index,
            next_key,
            ..
        } = replayed;
        let mut state = State {
            chunks: VecDeque::new(),
            next_lsn: 0,
            written_lsn: 0,
            synced_lsn: 0,
            writing: false,
            failures: VecDeque::new(),
            error: None,
            segments,
            index,
            next_key,
            live_bytes: 0,
            closed: false,
            stop: false,
        };
        state.live_bytes = state.segments.iter().map(|s| s.live_bytes).sum();
        // Each start writes a new segment: the old ones stay as recovery left them.
        state.roll();
        let shared = Arc::new(Shared {
            dir: config.dir.clone(),
            config,
            state: Mutex::new(state),
            progress: Condvar::new(),
            wake: Condvar::new(),
            file: Mutex::new(None),
            lock: Mutex::new(Some(lock)),
        });
        let s = shared.clone();
        let thread = std::thread::Builder::new()
            .name("sqsfast-log".into())
            .spawn(move || s.background())
            .expect("cannot start the log thread");
        Self {
            shared,
            thread: Mutex::new(Some(thread)),
        }
    }

    /// Writes and syncs what is pending, stops the background thread and unlocks the directory.
    /// Later sends fail; later deletes and receives are not logged.
    pub fn close(&self) {
        let Some(thread) = self.thread.lock().take() else {
            return;
        };
        {
            let mut st = self.state.lock();
            st.stop = true;
        }
        self.wake.notify_all();
        let _ = thread.join();
        let lsn = self.state.lock().next_lsn;
        let _ = self.drive(lsn, self.config.fsync != FsyncMode::Never);
        self.state.lock().closed = true;
        *self.file.lock() = None;
        *self.lock.lock() = None;
    }
}

fn closed_error() -> Error {
    Error::new(ErrorCode::ServiceUnavailable, "The broker is closed.")
}

impl Shared {
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Logs a producer's sends and waits until they are written (synced with `fsync = always`). On
    /// failure nothing of them stays in the log's index: the caller must not enqueue them.
    ///
    /// # Errors
    /// `ServiceUnavailable` with the I/O error when the write or sync failed, or after close.
    pub fn send(&self, queue: u64, batch: &[(MessageData, u64)]) -> Result<()> {
        let seg_bytes = self.config.segment_bytes;
        let lsn = {
            let mut st = self.state.lock();
            if st.closed || st.stop {
                return Err(closed_error());
            }
            let mut lsn = st.next_lsn;
            for (data, visible_at) in batch {
                let key = st.next_key;
                st.next_key += 1;
                data.header().set_key(key);
                st.index.insert(
                    key,
                    Entry {
                        queue,
                        data: data.clone(),
                    },
                );
                lsn = st.add(queue, data, *visible_at, true, seg_bytes);
            }
            lsn
        };
        match self.drive(lsn, self.config.fsync == FsyncMode::Always) {
            Ok(()) => Ok(()),
            Err(e) => {
                // A record whose sync failed may still be in the file: a delete after it keeps the
                // message from appearing after a restart.
                let dropped: Vec<Entry> = {
                    let mut st = self.state.lock();
                    let mut dropped = Vec::new();
                    for (d, _) in batch {
                        let key = d.header().key();
                        if let Some(e) = st.remove(key) {
                            let len = record::HEADER + 9;
                            st.room(len, seg_bytes);
                            st.push(len, |b| record::put_delete(b, key));
                            dropped.push(e);
                        }
                    }
                    dropped
                };
                drop(dropped);
                Err(Error::new(
                    ErrorCode::ServiceUnavailable,
                    format!("Storage failure: {e}"),
                ))
            }
        }
    }

    /// Logs a message moved into a queue (dead-letter moves, redrives). Not waited for.
    pub fn moved(&self, queue: u64, data: &MessageData) {
        let seg_bytes = self.config.segment_bytes;
        let mut st = self.state.lock();
        if st.closed {
            return;
        }
        let key = st.next_key;
        st.next_key += 1;
        data.header().set_key(key);
        st.index.insert(
            key,
            Entry {
                queue,
                data: data.clone(),
            },
        );
        st.add(queue, data, 0, false, seg_bytes);
    }

    /// Logs receives: (message, its receive count now). Not waited for.
    pub fn received<'a>(&self, items: impl Iterator<Item = (&'a MessageData, u32)>) {
        let seg_bytes = self.config.segment_bytes;
        let mut st = self.state.lock();
        if st.closed {
            return;
        }
        for (data, count) in items {
            let key = data.header().key();
            if st.index.get(key).is_none() {
                continue;
            }
            data.header().set_logged_receives(count);
            let len = record::HEADER + 17;
            st.room(len, seg_bytes);
            let word = data.header().receive_word();
            st.push(len, |b| record::put_receive(b, key, word));
        }
    }

    /// Logs that a message is gone (deleted, expired, purged, moved away). Not waited for.
    pub fn deleted(&self, data: &MessageData) {
        let key = data.header().key();
        let seg_bytes = self.config.segment_bytes;
        let gone = {
            let mut st = self.state.lock();
            if st.closed {
                return;
            }
            let gone = st.remove(key);
            if gone.is_some() {
                let len = record::HEADER + 9;
                st.room(len, seg_bytes);
                st.push(len, |b| record::put_delete(b, key));
            }
            gone
        };
        // The message's memory is freed outside the lock.
        drop(gone);
    }

    /// Calls `keep` for each message recovered, in log order, with its delay end (0: none); drops
    /// from the log those it says no to (their queue is gone).
    pub fn recovered(
        &self,
        delayed: &std::collections::HashMap<u64, u64>,
        mut keep: impl FnMut(&Entry, u64) -> bool,
    ) {
        let mut st = self.state.lock();
        let mut from = 0;
        let mut dropped = Vec::new();
        loop {
            let (keys, next) = st.index.keys(from, u64::MAX, 4096);
            if keys.is_empty() && next == u64::MAX {
                break;
            }
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
            let len = record::HEADER + 9;
            st.remove(key);
            st.room(len, self.config.segment_bytes);
            st.push(len, |b| record::put_delete(b, key));
        }
    }

    pub fn stats(&self) -> StorageStats {
        let st = self.state.lock();
        StorageStats {
            segments: st.segments.len(),
            log_bytes: st.segments.iter().map(|s| s.bytes).sum(),
            live_bytes: st.live_bytes,
            live_messages: st.index.len(),
            error: st.error.as_deref().map(str::to_string),
        }
    }

    /// Writes everything pending up to `lsn`; with `sync`, fdatasyncs it too. Whoever calls this when
    /// no write is in progress writes every pending chunk; others wait for that write.
    fn drive(&self, lsn: u64, sync: bool) -> std::result::Result<(), Arc<str>> {
        let mut st = self.state.lock();
        loop {
            if let Some(e) = st.failed_at(lsn) {
                return Err(e);
            }
            if st.written_lsn >= lsn && (!sync || st.synced_lsn >= lsn) {
                return Ok(());
            }
            if st.writing {
                self.progress.wait(&mut st);
                continue;
            }
            st.writing = true;
            let chunks: Vec<Chunk> = st.chunks.drain(..).collect();
            let end = chunks
                .last()
                .map_or(st.written_lsn, |c| c.end)
                .max(st.written_lsn);
            let synced_before = st.synced_lsn;
            let do_sync = sync || self.config.fsync == FsyncMode::Always;
            let out = MutexGuard::unlocked(&mut st, || self.write_group(&chunks, do_sync));
            self.settle(&mut st, out, end, synced_before);
            st.writing = false;
            self.progress.notify_all();
        }
    }

    fn settle(&self, st: &mut State, out: Outcome, end: u64, synced_before: u64) {
        st.written_lsn = st.written_lsn.max(end);
        let Some((start, kind, e)) = out.failed else {
            if out.synced {
                st.synced_lsn = st.synced_lsn.max(end);
            }
            st.error = None;
            return;
        };
        let from = if kind == Failed::Sync {
            synced_before
        } else {
            start
        };
        st.failures.push_back((from, end, e.clone()));
        while st.failures.len() > 256 {
            st.failures.pop_front();
        }
        st.error = Some(e);
        if out.broken {
            st.roll();
        }
        // What was not written goes first, into the current segment, before what was appended
        // meanwhile; every pending chunk goes to the current segment.
        let (seg, first_key) = {
            let cur = st.current();
            (cur.no, cur.first_key)
        };
        for mut c in out.retained.into_iter().rev() {
            if !c.buf.is_empty() {
                c.seg = seg;
                c.first_key = first_key;
                st.chunks.push_front(c);
            }
        }
        for c in st.chunks.iter_mut() {
            if c.seg < seg {
                c.seg = seg;
                c.first_key = first_key;
            }
        }
    }

    fn fault(&self, op: IoOp) -> io::Result<()> {
        match &self.config.faults {
            Some(f) => f(op),
            None => Ok(()),
        }
    }

    fn open_segment(&self, no: u64, first_key: u64) -> io::Result<Open> {
        let path = segment_path(&self.dir, no);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&path)?;
        let mut len = file.metadata()?.len();
        if len < SEG_HEADER {
            // New, or a header cut short by an earlier failure.
            file.set_len(0)?;
            self.fault(IoOp::Write)?;
            let mut header = Vec::with_capacity(SEG_HEADER as usize);
            header.extend_from_slice(MAGIC);
            header.extend_from_slice(&no.to_le_bytes());
            header.extend_from_slice(&first_key.to_le_bytes());
            if let Err(e) = (&file).write_all(&header) {
                let _ = file.set_len(0);
                return Err(e);
            }
            len = SEG_HEADER;
            if self.config.fsync != FsyncMode::Never {
                self.fault(IoOp::Sync)?;
                file.sync_data()?;
                super::meta::sync_dir(&self.dir)?;
            }
        }
        Ok(Open {
            seg: no,
            file: Arc::new(file),
            len,
        })
    }

    fn write_group(&self, chunks: &[Chunk], sync: bool) -> Outcome {
        let mut file = self.file.lock();
        let mut out = Outcome::default();
        for (i, c) in chunks.iter().enumerate() {
            if let Err(e) = self.write_chunk(&mut file, c, &mut out.broken) {
                out.failed = Some((c.start, Failed::Write, e.to_string().into()));
                out.retained = chunks[i..].iter().map(Chunk::lazy_part).collect();
                return out;
            }
        }
        if sync
            && let Some(open) = file.as_ref()
            && let Err(e) = self.fault(IoOp::Sync).and_then(|()| open.file.sync_data())
        {
            // A failed fsync is not retried on the same file: what the kernel dropped is gone.
            *file = None;
            out.broken = true;
            out.failed = Some((0, Failed::Sync, format!("fdatasync failed: {e}").into()));
            return out;
        }
        out.synced = sync;
        out
    }

    fn write_chunk(&self, file: &mut Option<Open>, c: &Chunk, broken: &mut bool) -> io::Result<()> {
        if file.as_ref().is_none_or(|f| f.seg < c.seg) {
            if let Some(old) = file.take()
                && self.config.fsync != FsyncMode::Never
                && let Err(e) = self.fault(IoOp::Sync).and_then(|()| old.file.sync_data())
            {
                *broken = true;
                return Err(e);
            }
            *file = Some(self.open_segment(c.seg, c.first_key)?);
        }
        let open = file.as_mut().expect("opened above");
        let result = self
            .fault(IoOp::Write)
            .and_then(|()| (&*open.file).write_all(&c.buf));
        if let Err(e) = result {
            // Cut off whatever part of the chunk reached the file, so that the next write follows
            // the last whole record; if even that fails, the segment takes no more writes.
            if open.file.set_len(open.len).is_err() {
                *file = None;
                *broken = true;
            }
            return Err(e);
        }
        open.len += c.buf.len() as u64;
        Ok(())
    }

    /// The background fdatasync of `fsync = interval`: syncs the open segment without holding up
    /// writers.
    fn sync_now(&self) {
        let (lsn, file) = {
            let st = self.state.lock();
            if st.synced_lsn >= st.written_lsn || st.writing {
                return;
            }
            let Some(open) = self
                .file
                .try_lock()
                .and_then(|f| f.as_ref().map(|o| o.file.clone()))
            else {
                return;
            };
            (st.written_lsn, open)
        };
        let result = self.fault(IoOp::Sync).and_then(|()| file.sync_data());
        let mut st = self.state.lock();
        match result {
            Ok(()) => st.synced_lsn = st.synced_lsn.max(lsn),
            Err(e) => {
                let mut f = self.file.lock();
                if f.as_ref().is_some_and(|o| Arc::ptr_eq(&o.file, &file)) {
                    *f = None;
                }
                drop(f);
                st.error = Some(format!("fdatasync failed: {e}").into());
                st.roll();
                let (seg, first_key) = {
                    let cur = st.current();
                    (cur.no, cur.first_key)
                };
                for c in st.chunks.iter_mut() {
                    c.seg = seg;
                    c.first_key = first_key;
                }
            }
        }
    }

    fn background(&self) {
        loop {
            {
                let mut st = self.state.lock();
                if st.stop {
                    return;
                }
                self.wake.wait_for(&mut st, self.config.fsync_interval);
                if st.stop {
                    return;
                }
            }
            let lsn = self.state.lock().next_lsn;
            let _ = self.drive(lsn, false);
            if self.config.fsync == FsyncMode::Interval {
                self.sync_now();
            }
            self.compact();
        }
    }

    /// Reclaims space from the oldest segment: removes it when nothing in it is live; when the log
    /// is over twice the live data, first appends its live messages again at the end.
    fn compact(&self) {
        let seg_bytes = self.config.segment_bytes;
        loop {
            let (front_no, max_key) = {
                let mut st = self.state.lock();
                if st.segments.len() < 2 || st.stop {
                    return;
                }
                let front = st.segments.front().expect("two segments");
                let (no, live, max_key) = (front.no, front.live, front.max_key);
                if live == 0 {
                    if st.chunks.iter().any(|c| c.seg == no) || st.writing {
                        return;
                    }
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
            let mut from = 0;
            let mut last = 0;
            loop {
                let mut st = self.state.lock();
                if st.stop {
                    return;
                }
                let (keys, next) = st.index.keys(from, max_key, 1024);
                for key in keys {
                    let Some(e) = st.index.get(key) else { continue };
                    if e.data.header().segment_tag() != tag {
                        continue;
                    }
                    let (queue, data) = (e.queue, e.data.clone());
                    let len = record::send_len(&data) as u64;
                    if let Some(s) = st.seg_mut(tag) {
                        s.live -= 1;
                        s.live_bytes -= len;
                    }
                    st.live_bytes -= len;
                    last = st.add(queue, &data, 0, false, seg_bytes);
                }
                drop(st);
                if next > max_key {
                    break;
                }
                from = next;
            }
            if last > 0
                && self
                    .drive(last, self.config.fsync != FsyncMode::Never)
                    .is_err()
            {
                return;
            }
        }
    }
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
