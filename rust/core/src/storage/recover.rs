//! Opening a data directory: every segment read in order, records applied to an index of live
//! messages by key.
//!
//! A record cut short at the end of a segment (a write interrupted by a crash or power loss) is
//! cut off. Damage anywhere else stops the start with the file and offset, unless `skip_corrupt`
//! says to skip to the next good record and report what was skipped.

use super::log::{self, Entry, KeyIndex, SEG_HEADER, SegMeta};
use super::record::{self, Keep, Read, Record};
use super::{OpenError, RecoveryReport};
use crate::message::MessageData;
use std::collections::{HashMap, VecDeque};
use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::Instant;

pub(crate) struct Replayed {
    pub segments: VecDeque<SegMeta>,
    pub index: KeyIndex,
    /// Messages still delayed: key → end of the delay.
    pub delayed: HashMap<u64, u64>,
    pub next_key: u64,
    /// Bytes of bodies kept in memory, messages whose bodies were left on disk (over the memory
    /// budget), and messages left on disk whole.
    pub resident: u64,
    pub spilled: u64,
    pub cold: u64,
    /// The messages left on disk whole, by queue: (key, sent time), in log order.
    pub cold_lists: HashMap<u64, Vec<(u64, u64)>>,
    pub report: RecoveryReport,
}

/// What the index holds in memory.
#[derive(Default)]
struct Held {
    resident: u64,
    spilled: u64,
    cold: u64,
}

impl Held {
    fn add(&mut self, data: Option<&MessageData>) {
        match data {
            None => self.cold += 1,
            Some(d) if d.spilled() => self.spilled += 1,
            Some(d) => self.resident += d.body().len() as u64,
        }
    }
    fn forget(&mut self, data: Option<&MessageData>) {
        match data {
            None => self.cold -= 1,
            Some(d) if d.spilled() => self.spilled -= 1,
            Some(d) => self.resident -= d.body().len() as u64,
        }
    }
}

/// The header of a message left on disk whole, read back from its `SEND` record: in `bytes` (the
/// segment being replayed, number `no`) or in an earlier segment.
fn read_header(
    dir: &Path,
    segments: &VecDeque<SegMeta>,
    no: u64,
    bytes: &[u8],
    e: &Entry,
) -> Result<MessageData, OpenError> {
    let (at, len) = (e.at as usize, e.len.get() as usize);
    let owned;
    let (path, record) = if e.tag == no as u16 {
        (
            log::segment_path(dir, no),
            bytes.get(at..at + len).unwrap_or_default(),
        )
    } else {
        let seg = segments.iter().rev().find(|s| s.no as u16 == e.tag);
        let path = log::segment_path(dir, seg.map_or(0, |s| s.no));
        let mut buf = vec![0; len];
        let file = fs::File::open(&path).map_err(|err| OpenError::io(&path, err))?;
        std::os::unix::fs::FileExt::read_exact_at(&file, &mut buf, at as u64)
            .map_err(|err| OpenError::io(&path, err))?;
        owned = buf;
        (path, &owned[..])
    };
    match record::read_keeping(record, |_| Keep::Header) {
        Read::Record(Record::Send { data, .. }, _) => Ok(data),
        _ => Err(OpenError::Corrupt {
            path,
            offset: at as u64,
            reason: "a message's record could not be read again".into(),
        }),
    }
}

fn segment_files(dir: &Path) -> Result<Vec<(u64, PathBuf)>, OpenError> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).map_err(|e| OpenError::io(dir, e))? {
        let e = e.map_err(|e| OpenError::io(dir, e))?;
        let name = e.file_name();
        if name.to_str().is_some_and(|n| n.ends_with(".spare")) {
            // A segment made ahead of time and never used.
            let path = e.path();
            fs::remove_file(&path).map_err(|e| OpenError::io(&path, e))?;
            continue;
        }
        let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".log")) else {
            continue;
        };
        if let Ok(no) = u64::from_str_radix(stem, 16) {
            out.push((no, e.path()));
        }
    }
    out.sort();
    Ok(out)
}

fn truncate(path: &Path, len: u64) -> Result<(), OpenError> {
    let f = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| OpenError::io(path, e))?;
    f.set_len(len).map_err(|e| OpenError::io(path, e))?;
    f.sync_all().map_err(|e| OpenError::io(path, e))
}

/// The next offset after `from` where a whole good record starts, if any.
fn resync(bytes: &[u8], from: usize) -> Option<usize> {
    (from + 1..bytes.len().saturating_sub(record::HEADER))
        .find(|&off| matches!(record::read(&bytes[off..]), Read::Record(..)))
}

/// Reads the log of `dir`. Bodies are kept in memory up to `budget` bytes in all; past it, a message
/// never received and not delayed stays on disk whole (its queue gets its key), others keep their
/// headers in memory.
pub(crate) fn replay(
    dir: &Path,
    skip_corrupt: bool,
    budget: Option<u64>,
    now: u64,
) -> Result<Replayed, OpenError> {
    let started = Instant::now();
    let mut held = Held::default();
    let mut cold_lists: HashMap<u64, Vec<(u64, u64)>> = HashMap::new();
    let mut report = RecoveryReport::default();
    let mut index = KeyIndex::default();
    let mut delayed = HashMap::new();
    let mut segments = VecDeque::new();
    let mut next_key = 1u64;
    let files = segment_files(dir)?;
    let last_no = files.last().map(|(no, _)| *no);
    for (no, path) in files {
        let bytes = fs::read(&path).map_err(|e| OpenError::io(&path, e))?;
        let Some((header_no, first_key)) = log::read_header(&bytes) else {
            if bytes.len() < SEG_HEADER as usize && Some(no) == last_no {
                // Created, its header not yet written when the process stopped.
                fs::remove_file(&path).map_err(|e| OpenError::io(&path, e))?;
                report.truncated.push((path, 0));
                continue;
            }
            return Err(OpenError::Corrupt {
                path,
                offset: 0,
                reason: "not a segment header".into(),
            });
        };
        if header_no != no {
            return Err(OpenError::Corrupt {
                path,
                offset: 8,
                reason: format!("segment number {header_no} in a file named for {no}"),
            });
        }
        next_key = next_key.max(first_key);
        let mut seg = SegMeta {
            no,
            max_key: first_key.saturating_sub(1),
            bytes: bytes.len() as u64,
            live: 0,
            live_bytes: 0,
            file: None,
        };
        let mut off = SEG_HEADER as usize;
        let mut end = None;
        while off < bytes.len() {
            let rest = &bytes[off..];
            if rest.len() < record::HEADER || rest[..record::HEADER].iter().all(|&b| b == 0) {
                // The end of the records: the rest of a preallocated segment is zeros, but for
                // the payload of a record cut short before its header was written.
                let window = record::HEADER + record::MAX_PAYLOAD;
                if rest.len() > window && rest[window..].iter().any(|&b| b != 0) {
                    if !skip_corrupt {
                        return Err(OpenError::Corrupt {
                            path,
                            offset: off as u64,
                            reason: "data after the end of the records".into(),
                        });
                    }
                    report.skipped.push((
                        path.clone(),
                        off as u64,
                        rest.len() as u64,
                        "data after the end of the records".into(),
                    ));
                } else if rest.iter().any(|&b| b != 0) {
                    report.truncated.push((path.clone(), off as u64));
                }
                end = Some(off);
                break;
            }
            let keep = |f: &record::SendFacts| {
                if budget.is_none_or(|b| held.resident + f.body_len as u64 <= b) {
                    Keep::Body
                } else if f.visible_at <= now && f.receive_word == 0 {
                    Keep::Nothing
                } else {
                    Keep::Header
                }
            };
            match record::read_keeping(rest, keep) {
                Read::Record(r, n) => {
                    report.records += 1;
                    let (key, queue, visible_at, data, sent) = match r {
                        Record::Send {
                            queue,
                            visible_at,
                            data,
                        } => (data.header().key(), queue, visible_at, Some(data), 0),
                        Record::Cold(f) => (f.key, f.queue, f.visible_at, None, f.sent),
                        Record::Receive { key, receive_word } => {
                            if let Some(e) = index.get(key)
                                && e.data.is_none()
                            {
                                // Received after all: its header comes back to memory.
                                let data = read_header(dir, &segments, no, &bytes, e)?;
                                held.forget(None);
                                held.add(Some(&data));
                                if let Some(e) = index.get_mut(key) {
                                    e.data = Some(data);
                                }
                            }
                            if let Some(data) = index.get(key).and_then(|e| e.data.as_ref()) {
                                data.header().set_receive_word(receive_word);
                            }
                            off += n;
                            continue;
                        }
                        Record::Delete { key } => {
                            if let Some(old) = index.remove(key) {
                                held.forget(old.data.as_ref());
                            }
                            delayed.remove(&key);
                            off += n;
                            continue;
                        }
                    };
                    seg.max_key = seg.max_key.max(key);
                    next_key = next_key.max(key + 1);
                    if visible_at > now {
                        delayed.insert(key, visible_at);
                    } else {
                        delayed.remove(&key);
                    }
                    held.add(data.as_ref());
                    let cold = data.is_none();
                    let entry = Entry {
                        data,
                        queue: log::queue_no(queue),
                        at: off as u32,
                        len: log::record_len(n),
                        tag: no as u16,
                    };
                    let was_cold = index.insert(key, entry).is_some_and(|old| {
                        held.forget(old.data.as_ref());
                        old.data.is_none()
                    });
                    if cold && !was_cold {
                        cold_lists.entry(queue).or_default().push((key, sent));
                    }
                    off += n;
                }
                Read::Torn => {
                    report.truncated.push((path.clone(), off as u64));
                    end = Some(off);
                    break;
                }
                Read::Bad(reason) => {
                    let claimed = u32::from_le_bytes(rest[..4].try_into().unwrap()) as usize;
                    let after = (record::HEADER + claimed).min(rest.len());
                    if claimed <= record::MAX_PAYLOAD && rest[after..].iter().all(|&b| b == 0) {
                        // The last record, cut short by a power loss (pages of it not written).
                        report.truncated.push((path.clone(), off as u64));
                        end = Some(off);
                        break;
                    }
                    if !skip_corrupt {
                        return Err(OpenError::Corrupt {
                            path,
                            offset: off as u64,
                            reason,
                        });
                    }
                    let next = resync(&bytes, off).unwrap_or(bytes.len());
                    report
                        .skipped
                        .push((path.clone(), off as u64, (next - off) as u64, reason));
                    off = next;
                }
            }
        }
        if let Some(end) = end {
            // Cut off the torn record or the unused, preallocated rest of the segment.
            truncate(&path, end as u64)?;
            seg.bytes = end as u64;
        }
        report.bytes += seg.bytes;
        segments.push_back(seg);
    }
    report.segments = segments.len();
    // Each live message counts in the segment of its latest record.
    let by_tag: HashMap<u16, usize> = segments
        .iter()
        .enumerate()
        .map(|(i, s)| (s.no as u16, i))
        .collect();
    let mut from = 0;
    loop {
        let (keys, next) = index.keys(from, u64::MAX, 1 << 16);
        for key in keys {
            let e = index.get(key).expect("listed keys are live");
            let len = u64::from(e.len.get());
            if let Some(s) = by_tag.get(&e.tag).and_then(|&i| segments.get_mut(i)) {
                s.live += 1;
                s.live_bytes += len;
            }
        }
        if next == u64::MAX {
            break;
        }
        from = next;
    }
    // A key listed stays only if its message is still on disk whole, in that queue.
    for (queue, list) in &mut cold_lists {
        list.retain(|(key, _)| {
            index
                .get(*key)
                .is_some_and(|e| e.data.is_none() && u64::from(e.queue) == *queue)
        });
    }
    report.elapsed = started.elapsed();
    Ok(Replayed {
        segments,
        index,
        delayed,
        next_key,
        resident: held.resident,
        spilled: held.spilled,
        cold: held.cold,
        cold_lists,
        report,
    })
}
