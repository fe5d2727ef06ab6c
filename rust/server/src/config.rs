//! Server settings: from flags, or from a `sqsfast.toml` given with `--config`.

/// How `sqsfast serve` runs.
#[derive(Clone, Debug, PartialEq, Eq)]
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
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            http_port: 9324,
            grpc_port: 9325,
            account_id: "000000000000".into(),
            region: "us-east-1".into(),
        }
    }
}
