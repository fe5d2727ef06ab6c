//! Redis Streams with a consumer group: the work-queue pattern Redis documents for streams.
//!
//! - create: `XGROUP CREATE <queue> <group> 0 MKSTREAM`
//! - send: one `XADD <queue> * b <body>` per message, all in one pipeline (one round trip)
//! - receive: `XREADGROUP GROUP <group> <consumer> COUNT n [BLOCK ms] STREAMS <queue> >`
//! - delete: `XACK <queue> <group> ids…` and `XDEL <queue> ids…` in one pipeline. `XACK` alone only
//!   removes the entry from the group's pending list; the entry itself stays in the stream until
//!   trimmed, so a long run would grow Redis's memory with every message. `XDEL` removes it, which
//!   is what deleting a message means in SQS (Redis 8.2's `XACKDEL` does both in one command; the
//!   Redis that Debian ships, 7.0, does not have it).
//! - delete queue: `DEL <queue>` (the stream, its groups and their pending lists).
//!
//! Redis Streams has no visibility timeout: an entry read but never acknowledged stays pending on
//! its consumer until someone claims it (`XAUTOCLAIM`). The benchmark never abandons a message, so
//! that path is not exercised.
//!
//! Each [`RedisConn`] is its own TCP connection (a multiplexed connection, used by one task), so a
//! blocking `XREADGROUP` holds up no other producer or consumer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ::redis::aio::MultiplexedConnection;
use ::redis::{AsyncConnectionConfig, Client, Value};
use bytes::Bytes;

use crate::driver::{Conn, Driver, Error, Received, Token};

/// The consumer group every consumer of a run joins.
const GROUP: &str = "sqsfast-bench";
/// The field each stream entry stores its body under.
const FIELD: &str = "b";

/// Redis Streams at a `redis://` URL.
pub struct RedisDriver {
    client: Client,
    next_consumer: AtomicU64,
}

impl RedisDriver {
    /// A driver for the Redis at `url` (`redis://host:port[/db]`). Nothing is connected yet.
    ///
    /// # Errors
    /// When `url` is not a Redis URL.
    pub fn new(url: &str) -> Result<Self, Error> {
        Ok(Self {
            client: Client::open(url)?,
            next_consumer: AtomicU64::new(0),
        })
    }

    async fn connection(&self) -> Result<MultiplexedConnection, Error> {
        // No response timeout: a blocking XREADGROUP legitimately waits for as long as it asked.
        // The client's default (500 ms) would cut long polls short and report them as errors.
        let config = AsyncConnectionConfig::new()
            .set_response_timeout(None)
            .set_connection_timeout(Some(Duration::from_secs(10)));
        Ok(self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?)
    }
}

impl Driver for RedisDriver {
    type Conn = RedisConn;

    fn name(&self) -> String {
        "redis-streams".to_owned()
    }

    async fn connect(&self) -> Result<RedisConn, Error> {
        let n = self.next_consumer.fetch_add(1, Ordering::Relaxed);
        Ok(RedisConn {
            conn: self.connection().await?,
            consumer: format!("c{n}-{}", std::process::id()),
        })
    }

    async fn create_queue(&self, name: &str) -> Result<String, Error> {
        super::check_queue_name(name)?;
        let mut conn = self.connection().await?;
        // Id 0, not `$`: the group sees every entry of the stream, including any written before it.
        let () = ::redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(name)
            .arg(GROUP)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut conn)
            .await?;
        Ok(name.to_owned())
    }

    async fn delete_queue(&self, queue: &str) -> Result<(), Error> {
        let mut conn = self.connection().await?;
        let _: i64 = ::redis::cmd("DEL")
            .arg(queue)
            .query_async(&mut conn)
            .await?;
        Ok(())
    }
}

/// One connection to Redis and this consumer's name in the group.
pub struct RedisConn {
    conn: MultiplexedConnection,
    consumer: String,
}

impl Conn for RedisConn {
    async fn send(&mut self, queue: &str, bodies: &[Bytes]) -> Result<(), Error> {
        let mut pipe = ::redis::pipe();
        for body in bodies {
            pipe.cmd("XADD")
                .arg(queue)
                .arg("*")
                .arg(FIELD)
                .arg(body.as_ref())
                .ignore();
        }
        let () = pipe.query_async(&mut self.conn).await?;
        Ok(())
    }

    async fn receive(
        &mut self,
        queue: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Received>, Error> {
        let mut cmd = ::redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(GROUP)
            .arg(&self.consumer)
            .arg("COUNT")
            .arg(max.max(1));
        // BLOCK 0 means "forever" to Redis; no BLOCK at all is the non-blocking read.
        if !wait.is_zero() {
            cmd.arg("BLOCK").arg(wait.as_millis().max(1) as u64);
        }
        cmd.arg("STREAMS").arg(queue).arg(">");
        let reply: Value = cmd.query_async(&mut self.conn).await?;
        parse_read_reply(reply)
    }

    async fn delete(&mut self, queue: &str, tokens: Vec<Token>) -> Result<(), Error> {
        if tokens.is_empty() {
            return Ok(());
        }
        let ids = tokens
            .into_iter()
            .map(|t| match t {
                Token::Str(id) => Ok(id),
                other => Err(format!("redis: not a stream entry id: {other:?}")),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let (acked, deleted): (usize, usize) = ::redis::pipe()
            .cmd("XACK")
            .arg(queue)
            .arg(GROUP)
            .arg(&ids)
            .cmd("XDEL")
            .arg(queue)
            .arg(&ids)
            .query_async(&mut self.conn)
            .await?;
        if acked != ids.len() || deleted != ids.len() {
            return Err(format!(
                "redis: {} ids, {acked} acknowledged, {deleted} deleted",
                ids.len()
            )
            .into());
        }
        Ok(())
    }
}

/// Reads the reply of `XREADGROUP … STREAMS <one key> >` without building a map per entry:
/// `nil` on timeout, else `[[key, [[id, [field, value, …]], …]]]` (RESP2) or
/// `{key: [[id, [field, value]], …]}` (RESP3).
fn parse_read_reply(reply: Value) -> Result<Vec<Received>, Error> {
    let entries = match reply {
        Value::Nil => return Ok(Vec::new()),
        Value::Array(streams) => match streams.into_iter().next() {
            None => return Ok(Vec::new()),
            Some(Value::Array(key_entries)) => key_entries.into_iter().nth(1),
            Some(other) => return Err(unexpected("stream", &other)),
        },
        Value::Map(streams) => streams.into_iter().next().map(|(_, v)| v),
        other => return Err(unexpected("XREADGROUP reply", &other)),
    };
    let Some(Value::Array(entries)) = entries else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let Value::Array(parts) = entry else {
            return Err(unexpected("entry", &entry));
        };
        let mut parts = parts.into_iter();
        let id = match parts.next() {
            Some(Value::BulkString(id)) => String::from_utf8(id)?,
            Some(Value::SimpleString(id)) => id,
            other => return Err(format!("redis: entry without an id: {other:?}").into()),
        };
        let body = match parts.next() {
            Some(Value::Array(fields)) => body_field(fields)?,
            // The entry was deleted (XDEL) after it was delivered and before this read of the
            // pending list; it cannot happen with `>` reads, but an empty body is what it holds.
            Some(Value::Nil) | None => Bytes::new(),
            Some(other) => return Err(unexpected("entry fields", &other)),
        };
        out.push(Received {
            body,
            token: Token::Str(id),
        });
    }
    Ok(out)
}

fn body_field(fields: Vec<Value>) -> Result<Bytes, Error> {
    let mut fields = fields.into_iter();
    while let (Some(name), Some(value)) = (fields.next(), fields.next()) {
        if matches!(&name, Value::BulkString(n) if n == FIELD.as_bytes()) {
            return match value {
                Value::BulkString(body) => Ok(Bytes::from(body)),
                other => Err(unexpected("body", &other)),
            };
        }
    }
    Err(format!("redis: entry has no {FIELD:?} field").into())
}

fn unexpected(what: &str, value: &Value) -> Error {
    format!("redis: unexpected {what}: {value:?}").into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn a_timed_out_read_is_empty() {
        assert!(parse_read_reply(Value::Nil).unwrap().is_empty());
    }

    #[test]
    fn entries_come_back_in_order_with_their_ids() {
        let reply = Value::Array(vec![Value::Array(vec![
            bulk("q"),
            Value::Array(vec![
                Value::Array(vec![
                    bulk("1-0"),
                    Value::Array(vec![bulk("b"), bulk("one")]),
                ]),
                Value::Array(vec![
                    bulk("1-1"),
                    Value::Array(vec![bulk("b"), bulk("two")]),
                ]),
            ]),
        ])]);
        let got = parse_read_reply(reply).unwrap();
        let got: Vec<_> = got
            .into_iter()
            .map(|r| match r.token {
                Token::Str(id) => (id, r.body),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(
            got,
            [
                ("1-0".to_owned(), Bytes::from_static(b"one")),
                ("1-1".to_owned(), Bytes::from_static(b"two")),
            ]
        );
    }
}
