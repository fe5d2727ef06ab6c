//! Durability: queues and messages kept in a data directory, so that a restart (or `kill -9`) loses
//! no acknowledged message.
//!
//! - `meta.json`: the queues (ids, names, attributes, tags, policies) and the secret message ids
//!   derive from; rewritten atomically (write, fsync, rename, fsync the directory) on every change.
//! - `<segment>.log`: an append-only log of message records ([`record`]) with a CRC32C each. Every
//!   send, dead-letter move and delete is a record; receives are records too (the receive count
//!   survives a restart); visibility changes are not (after a restart every message is visible).
//! - `LOCK`: held (`flock`) by the one process that has the directory open.
//!
//! Writing is group commit ([`log`]): records from all queues go into one buffer; a producer's send
//! waits until a write (and, with `fsync = always`, an fdatasync) that includes it has happened, and
//! whoever finds no write in progress performs it for everyone waiting. Deletes and receives never
//! wait: losing the last of them in a crash only causes redelivery.
//!
//! With a memory budget ([`StorageConfig::memory_budget`]), messages past it stay in the log only:
//! never-received ones whole (the index keeps where their record is, their queue their key, and
//! consumers' receives read them back), others with their header in memory and their body read
//! back when received.
//!
//! Space is reclaimed from the oldest segment: when the log is more than twice the live data, the
//! live messages of the oldest segment are appended again at the end and the segment is removed.
//! Segments are only ever removed oldest first, and a copy is made only of a message not deleted:
//! so no record that a delete cancels can outlive that delete.

mod log;
mod meta;
pub(crate) mod record;
mod recover;

pub(crate) use log::{Log, Outgoing, SyncWait, Warmed, lock_dir};
pub(crate) use meta::{Meta, QueueMeta};
pub(crate) use recover::replay;

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// When a write reaches the disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FsyncMode {
    /// A send is acknowledged after the fdatasync of its group: it survives power loss.
    Always,
    /// A send is acknowledged after its group is written (it survives `kill -9`); a background
    /// fdatasync runs every `fsync_interval`, so power loss loses at most that much.
    #[default]
    Interval,
    /// A send is acknowledged after its group is written (it survives `kill -9`); flushing to disk is
    /// left to the OS, so power loss can lose anything not yet flushed.
    Never,
}

impl FromStr for FsyncMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "always" => Ok(Self::Always),
            "interval" => Ok(Self::Interval),
            "never" => Ok(Self::Never),
            _ => Err(format!(
                "fsync must be one of always, interval, never (not {s:?})"
            )),
        }
    }
}

impl fmt::Display for FsyncMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Always => "always",
            Self::Interval => "interval",
            Self::Never => "never",
        })
    }
}

/// An I/O operation of the log, for fault injection in tests.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoOp {
    Write,
    Sync,
}

/// A test hook called before each write and fdatasync of a segment; an error it returns is what
/// that operation fails with.
#[doc(hidden)]
pub type Faults = Arc<dyn Fn(IoOp) -> io::Result<()> + Send + Sync>;

/// Where and how a broker keeps its data.
#[derive(Clone)]
pub struct StorageConfig {
    pub dir: PathBuf,
    pub fsync: FsyncMode,
    /// The background fdatasync period of [`FsyncMode::Interval`].
    pub fsync_interval: Duration,
    /// A segment is closed and a new one started past this size.
    pub segment_bytes: u64,
    /// Start even when a record in the middle of the log is damaged: skip to the next good record
    /// and report what was skipped. Without it, damage stops the start with the file and offset.
    pub skip_corrupt: bool,
    /// The most bytes of message bodies kept in memory; past it, bodies stay on disk only and are
    /// read back when their messages are received. `None`: every body in memory.
    pub memory_budget: Option<u64>,
    #[doc(hidden)]
    pub faults: Option<Faults>,
}

impl StorageConfig {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            fsync: FsyncMode::Interval,
            fsync_interval: Duration::from_millis(10),
            segment_bytes: 64 << 20,
            skip_corrupt: false,
            memory_budget: None,
            faults: None,
        }
    }
}

impl fmt::Debug for StorageConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StorageConfig")
            .field("dir", &self.dir)
            .field("fsync", &self.fsync)
            .field("fsync_interval", &self.fsync_interval)
            .field("segment_bytes", &self.segment_bytes)
            .field("skip_corrupt", &self.skip_corrupt)
            .field("memory_budget", &self.memory_budget)
            .finish()
    }
}

/// Why a data directory could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("data directory {dir} is in use by another sqsfast process{}", .holder.as_deref().map(|h| format!(" ({h})")).unwrap_or_default())]
    Locked {
        dir: PathBuf,
        holder: Option<String>,
    },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "{path}: damaged record at offset {offset}: {reason} (start with --skip-corrupt to skip damaged records and report them)"
    )]
    Corrupt {
        path: PathBuf,
        offset: u64,
        reason: String,
    },
    #[error("{path}: {reason}")]
    Meta { path: PathBuf, reason: String },
}

impl OpenError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

/// What opening a data directory found.
#[derive(Clone, Debug, Default)]
pub struct RecoveryReport {
    pub segments: usize,
    pub records: u64,
    pub bytes: u64,
    /// Messages restored into their queues.
    pub messages: u64,
    /// Torn records at the end of a segment, cut off: (file, offset).
    pub truncated: Vec<(PathBuf, u64)>,
    /// Damaged ranges skipped with `skip_corrupt`: (file, offset, length, reason).
    pub skipped: Vec<(PathBuf, u64, u64, String)>,
    pub elapsed: Duration,
}

/// The state of a broker's storage, for metrics and status.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StorageStats {
    pub segments: usize,
    /// Bytes in segment files.
    pub log_bytes: u64,
    /// Bytes of the records of live messages.
    pub live_bytes: u64,
    pub live_messages: u64,
    /// Bytes of message bodies held in memory.
    pub body_bytes_in_memory: u64,
    /// Messages whose bodies are on disk only (over the memory budget).
    pub bodies_on_disk: u64,
    /// Of those, messages kept on disk only, header and body: their queue holds only their keys
    /// until consumers reach them.
    pub messages_on_disk: u64,
    /// The last write or sync error, if the log has not written successfully since.
    pub error: Option<String>,
}
