//! `embedded`: the engine in this process, no network: what the engine itself sustains under the
//! same load generator.

use crate::driver::{Conn, Driver, Error, Received, Token};
use bytes::Bytes;
use sqsfast_core::{Broker, Queue, ReceiptHandle, ReceiveOptions, SendMessage};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often a long poll calls the engine again even without a wake-up, so that its timers run.
const POLL_SLICE: Duration = Duration::from_millis(50);

#[derive(Default)]
pub struct Embedded {
    broker: Broker,
}

impl Embedded {
    pub fn new(broker: Broker) -> Self {
        Self { broker }
    }
}

impl Driver for Embedded {
    type Conn = EmbeddedConn;

    fn name(&self) -> String {
        "embedded".into()
    }

    async fn connect(&self) -> Result<EmbeddedConn, Error> {
        Ok(EmbeddedConn {
            broker: self.broker.clone(),
            queues: HashMap::new(),
            handles: HashMap::new(),
            next: 0,
        })
    }

    async fn create_queue(&self, name: &str) -> Result<String, Error> {
        self.broker.create_queue(name, &[], &[])?;
        Ok(name.to_owned())
    }

    async fn delete_queue(&self, queue: &str) -> Result<(), Error> {
        Ok(self.broker.delete_queue(queue)?)
    }
}

pub struct EmbeddedConn {
    broker: Broker,
    queues: HashMap<String, Arc<Queue>>,
    /// Receipt handles of messages received and not yet deleted, by token: a token is a number
    /// rather than the handle's string, which would cost a format and a parse per message.
    handles: HashMap<u64, ReceiptHandle>,
    next: u64,
}

impl EmbeddedConn {
    fn queue(&mut self, name: &str) -> Result<Arc<Queue>, Error> {
        if let Some(q) = self.queues.get(name) {
            return Ok(q.clone());
        }
        let q = self.broker.queue(name)?;
        self.queues.insert(name.to_owned(), q.clone());
        Ok(q)
    }
}

impl Conn for EmbeddedConn {
    async fn send(&mut self, queue: &str, bodies: &[Bytes]) -> Result<(), Error> {
        let q = self.queue(queue)?;
        let entries = bodies
            .iter()
            .enumerate()
            .map(|(i, b)| (i.to_string(), SendMessage::new(b.to_vec())))
            .collect();
        let results = q.send_batch(entries, bodies.len())?;
        // The engine never blocks: yield so that this task shares its worker thread (and the
        // runtime's timers run) however fast the engine is.
        tokio::task::yield_now().await;
        for (_, r) in results {
            r?;
        }
        Ok(())
    }

    async fn receive(
        &mut self,
        queue: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Received>, Error> {
        let q = self.queue(queue)?;
        let options = ReceiveOptions {
            max_messages: max as u32,
            visibility_timeout: None,
            wait_seconds: Some(0),
            max_batch: max.max(10) as u32,
        };
        let deadline = Instant::now() + wait;
        let got = loop {
            let listener = match q.receive_or_listen(&options)? {
                Ok(got) => {
                    tokio::task::yield_now().await;
                    break got;
                }
                Err(listener) => listener,
            };
            let now = Instant::now();
            if now >= deadline {
                break Vec::new();
            }
            let _ = tokio::time::timeout((deadline - now).min(POLL_SLICE), listener).await;
        };
        Ok(got
            .into_iter()
            .map(|m| {
                let token = self.next;
                self.next += 1;
                self.handles.insert(token, *m.handle());
                Received {
                    body: Bytes::copy_from_slice(m.body()),
                    token: Token::U64(token),
                }
            })
            .collect())
    }

    async fn delete(&mut self, queue: &str, tokens: Vec<Token>) -> Result<(), Error> {
        let q = self.queue(queue)?;
        let mut failed = None;
        for t in tokens {
            let handle = match t {
                Token::U64(n) => self.handles.remove(&n).ok_or("unknown token")?,
                Token::Str(s) => s.parse()?,
                Token::Bytes(b) => std::str::from_utf8(&b)?.parse()?,
            };
            if let Err(e) = q.delete(&handle) {
                failed.get_or_insert(e);
            }
        }
        match failed {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }
}
