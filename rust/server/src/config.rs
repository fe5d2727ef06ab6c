//! Server settings: from flags, or from a `sqsfast.toml` given with `--config`.
//!
//! ```toml
//! host = "127.0.0.1"
//! http_port = 9324
//! grpc_port = 9325
//! account_id = "000000000000"
//! region = "us-east-1"
//! log_level = "info"
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
    /// HTTP/2 PING interval: a peer that does not answer within 20 s is disconnected.
    pub keepalive_seconds: u64,
    /// Connections are asked to reconnect (HTTP/2 GOAWAY, which gRPC clients do transparently)
    /// after this long, so that an idle or runaway connection's resources are returned.
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
        assert_eq!(c.limits.max_connections, 5);
        assert_eq!(c.limits.max_concurrent_streams, 1000);
        assert_eq!(c.queues[0].name, "jobs");
        assert_eq!(c.queues[0].attributes["VisibilityTimeout"], "60");
        assert!(ServerConfig::from_toml("grpc_prot = 1").is_err());
    }
}
