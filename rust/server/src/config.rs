//! Server settings: from flags, or from a `sqsfast.toml` given with `--config`.
//!
//! ```toml
//! host = "127.0.0.1"
//! http_port = 9324
//! grpc_port = 9325
//! account_id = "000000000000"
//! region = "us-east-1"
//! log_level = "info"
//! workers = 4                    # threads serving requests (default: one per core)
//!
//! [storage]
//! data_dir = "./sqsfast-data"    # durable by default; in_memory = true keeps nothing
//! fsync = "interval"             # always | interval | never
//! fsync_interval_ms = 10
//! memory_budget_mb = 512         # bodies past this stay on disk only (default: all in memory)
//!
//! [limits]
//! max_request_bytes = 4194304
//! max_concurrent_streams = 1000
//! max_connections = 10000
//!
//! [[queues]]
//! name = "jobs"
//! attributes = { VisibilityTimeout = "60" }
//! tags = { team = "payments" }
//! ```

use serde::Deserialize;
use std::collections::BTreeMap;

/// How `sqsfast serve` runs.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub host: String,
    /// The SQS HTTP API, `/health` (and later `/metrics` and the console). 0 picks a free port.
    pub http_port: u16,
    /// The gRPC API. 0 picks a free port.
    pub grpc_port: u16,
    /// The account id in queue URLs and ARNs.
    pub account_id: String,
    /// The region in ARNs.
    pub region: String,
    /// `error`, `warn`, `info`, `debug`, `trace`, or a tracing filter.
    pub log_level: String,
    /// Threads serving requests; unset: one per core. Fewer leave cores to other programs, such as
    /// a load generator on the same machine.
    pub workers: Option<usize>,
    pub storage: Storage,
    pub limits: Limits,
    /// Queues created at start (existing ones with the same attributes are kept).
    pub queues: Vec<QueueSpec>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            http_port: 9324,
            grpc_port: 9325,
            account_id: "000000000000".into(),
            region: "us-east-1".into(),
            log_level: "warn".into(),
            workers: None,
            storage: Storage::default(),
            limits: Limits::default(),
            queues: Vec::new(),
        }
    }
}

impl ServerConfig {
    /// Reads a `sqsfast.toml`; missing keys keep their defaults.
    ///
    /// # Errors
    /// A message naming the file and what is wrong in it.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}

/// Where messages are kept.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Storage {
    /// Keep nothing on disk: every queue and message is gone when the server stops.
    pub in_memory: bool,
    /// The data directory (created if missing); one server at a time may use it.
    pub data_dir: std::path::PathBuf,
    /// `always` (a send is acknowledged once on disk: survives power loss), `interval` (once
    /// written: survives a crash of the process; synced every `fsync_interval_ms`), or `never`.
    pub fsync: String,
    pub fsync_interval_ms: u64,
    /// Log segment size.
    pub segment_mb: u64,
    /// Start despite damaged records, skipping and reporting them.
    pub skip_corrupt: bool,
    /// The most MiB of message bodies kept in memory; past it, bodies stay on disk only and are
    /// read back when received, so a backlog can be larger than RAM. Unset: all in memory.
    pub memory_budget_mb: Option<u64>,
}

impl Default for Storage {
    fn default() -> Self {
        Self {
            in_memory: false,
            data_dir: "sqsfast-data".into(),
            fsync: "interval".into(),
            fsync_interval_ms: 10,
            segment_mb: 64,
            skip_corrupt: false,
            memory_budget_mb: None,
        }
    }
}

impl Storage {
    /// The engine's storage settings, `None` in memory.
    ///
    /// # Errors
    /// A message for a bad `fsync` value or interval.
    pub fn to_core(&self) -> Result<Option<sqsfast_core::StorageConfig>, String> {
        if self.in_memory {
            return Ok(None);
        }
        if self.fsync_interval_ms == 0 || self.segment_mb == 0 {
            return Err("storage: fsync_interval_ms and segment_mb must be at least 1".into());
        }
        Ok(Some(sqsfast_core::StorageConfig {
            fsync: self.fsync.parse()?,
            fsync_interval: std::time::Duration::from_millis(self.fsync_interval_ms),
            segment_bytes: self.segment_mb << 20,
            skip_corrupt: self.skip_corrupt,
            memory_budget: self.memory_budget_mb.map(|mb| mb << 20),
            ..sqsfast_core::StorageConfig::new(&self.data_dir)
        }))
    }
}

/// What one client may take of the server.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// The largest request, in bytes (a message is at most 1 MiB; a gRPC batch of 1000 entries
    /// at most 1 MiB of payload plus framing).
    pub max_request_bytes: usize,
    /// Concurrent requests (HTTP/2 streams) per connection.
    pub max_concurrent_streams: u32,
    /// Open connections at once; past it, new ones wait to be accepted.
    pub max_connections: usize,
    /// HTTP/2 PING interval: a peer that does not answer within 20 s is disconnected (0: no
    /// PINGs).
    pub keepalive_seconds: u64,
    /// Connections are asked to reconnect (HTTP/2 GOAWAY, which gRPC clients do transparently)
    /// after this long, so that an idle or runaway connection's resources are returned (0: never).
    /// The calls in flight on it finish first.
    pub max_connection_age_seconds: u64,
    /// A connection with no call in flight for this long is closed (0: never). Long polls and
    /// receive streams are calls in flight, so they keep their connection.
    pub idle_connection_seconds: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_request_bytes: 4 * 1024 * 1024,
            max_concurrent_streams: 1000,
            max_connections: 10_000,
            keepalive_seconds: 60,
            max_connection_age_seconds: 3600,
            idle_connection_seconds: 300,
        }
    }
}

/// A queue to create at start.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueSpec {
    pub name: String,
    /// SQS attribute names and string values.
    pub attributes: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_with_queues_and_limits() {
        let c = ServerConfig::from_toml(
            r#"
            grpc_port = 0
            workers = 3
            [limits]
            max_connections = 5
            [[queues]]
            name = "jobs"
            attributes = { VisibilityTimeout = "60" }
            "#,
        )
        .unwrap();
        assert_eq!(c.grpc_port, 0);
        assert_eq!(c.http_port, 9324);
        assert_eq!(c.workers, Some(3));
        assert_eq!(ServerConfig::default().workers, None);
        assert_eq!(c.limits.max_connections, 5);
        assert_eq!(c.limits.max_concurrent_streams, 1000);
        assert_eq!(c.queues[0].name, "jobs");
        assert_eq!(c.queues[0].attributes["VisibilityTimeout"], "60");
        assert!(ServerConfig::from_toml("grpc_prot = 1").is_err());
        let s = ServerConfig::from_toml("[storage]\nfsync = \"always\"\ndata_dir = \"/d\"")
            .unwrap()
            .storage
            .to_core()
            .unwrap()
            .unwrap();
        assert_eq!(
            (s.fsync, s.dir.to_str()),
            (sqsfast_core::FsyncMode::Always, Some("/d"))
        );
        let bad = ServerConfig::from_toml("[storage]\nfsync = \"sometimes\"").unwrap();
        assert!(
            bad.storage
                .to_core()
                .unwrap_err()
                .contains("always, interval, never")
        );
    }
}
