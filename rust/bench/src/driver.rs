//! The seam between the runner and a system under test.
//!
//! The runner is generic over [`Driver`]: sqsfast in process, over gRPC or over the SQS HTTP API, any
//! SQS-compatible endpoint, or a peer broker. Each producer and consumer task owns one [`Conn`].

use bytes::Bytes;
use std::{future::Future, time::Duration};
pub type Error = Box<dyn std::error::Error + Send + Sync>;
/// What a consumer needs to acknowledge (delete) a received message.
#[derive(Clone, Debug)]
pub enum Token {
    Str(String),
    /// Text as it came, a slice of the reply (sqsfast's gRPC receipt handles).
    Bytes(Bytes),
    U64(u64),
}
pub struct Received {
    pub body: Bytes,
    pub token: Token,
}
/// One system under test (sqsfast over gRPC or HTTP, an SQS endpoint, a peer broker).
pub trait Driver: Send + Sync + 'static {
    type Conn: Conn;
    fn name(&self) -> String;
    fn connect(&self) -> impl Future<Output = Result<Self::Conn, Error>> + Send;
    /// Creates a queue for this run; returns what the connections address it by (URL or name).
    fn create_queue(&self, name: &str) -> impl Future<Output = Result<String, Error>> + Send;
    fn delete_queue(&self, queue: &str) -> impl Future<Output = Result<(), Error>> + Send;
}
/// One client connection; each producer/consumer task owns one.
pub trait Conn: Send + 'static {
    fn send(
        &mut self,
        queue: &str,
        bodies: &[Bytes],
    ) -> impl Future<Output = Result<(), Error>> + Send;
    /// Up to `max` messages, waiting up to `wait` for the first one (long poll).
    fn receive(
        &mut self,
        queue: &str,
        max: usize,
        wait: Duration,
    ) -> impl Future<Output = Result<Vec<Received>, Error>> + Send;
    fn delete(
        &mut self,
        queue: &str,
        tokens: Vec<Token>,
    ) -> impl Future<Output = Result<(), Error>> + Send;
}
