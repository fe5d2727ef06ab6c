//! PostgreSQL used as a queue the way pgmq does it: one table per queue, a visibility timestamp per
//! row, and `FOR UPDATE SKIP LOCKED` so that concurrent readers never wait on each other's rows.
//!
//! The statements are pgmq's (`pgmq.send_batch`, `pgmq.read`, `pgmq.delete(queue, msg_ids[])`),
//! issued directly rather than through the extension, which Debian does not package:
//! - create: `CREATE TABLE q_<name> (msg_id bigint identity, read_ct, enqueued_at, vt, message)`
//!   and pgmq's index on `vt`. The body column is `bytea` where pgmq uses `jsonb`: bodies are
//!   arbitrary bytes here, and `jsonb` would only add parsing cost to PostgreSQL's figures.
//! - send: one `INSERT … SELECT clock_timestamp(), unnest($1::bytea[])` per batch (one statement,
//!   one commit).
//! - receive: `WITH cte AS (SELECT msg_id … WHERE vt <= clock_timestamp() ORDER BY msg_id LIMIT n
//!   FOR UPDATE SKIP LOCKED) UPDATE … SET vt = clock_timestamp() + timeout, read_ct = read_ct + 1
//!   … RETURNING msg_id, message`.
//! - delete: `DELETE … WHERE msg_id = ANY($1)`.
//! - delete queue: `DROP TABLE`.
//!
//! Long polling is pgmq's `read_with_poll`: read, and while nothing comes back and the wait is not
//! over, sleep a poll interval and read again. pgmq's default interval is 100 ms; the default here
//! is 10 ms, which favours PostgreSQL's latency figures, never hurts them.
//!
//! Every statement runs in autocommit with the server's defaults (`synchronous_commit = on`): a
//! send returns after its commit record is flushed to the WAL.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio_postgres::{Client, NoTls, Statement};

use crate::driver::{Conn, Driver, Error, Received, Token};

/// How long a received row stays invisible: SQS's default visibility timeout.
const VISIBILITY_TIMEOUT_SECS: u32 = 30;

/// PostgreSQL at a `postgres://` URL (libpq connection-string syntax also works).
pub struct PostgresDriver {
    url: String,
    poll: Duration,
}

impl PostgresDriver {
    /// A driver for the database at `url`, polling an empty queue every `poll` while a receive
    /// waits. Nothing is connected yet.
    pub fn new(url: &str, poll: Duration) -> Self {
        Self {
            url: url.to_owned(),
            poll: poll.max(Duration::from_millis(1)),
        }
    }

    async fn client(&self) -> Result<Client, Error> {
        let (client, connection) = tokio_postgres::connect(&self.url, NoTls).await?;
        // The connection task ends when the client is dropped.
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                eprintln!("postgres connection: {e}");
            }
        });
        Ok(client)
    }
}

/// The table of a queue: `q_` + the name, lower-cased, `-` as `_` (pgmq's own prefix).
///
/// # Errors
/// When the name has characters outside `[A-Za-z0-9_-]`.
pub fn table_name(queue: &str) -> Result<String, Error> {
    super::check_queue_name(queue)?;
    Ok(format!(
        "q_{}",
        queue.to_ascii_lowercase().replace('-', "_")
    ))
}

impl Driver for PostgresDriver {
    type Conn = PostgresConn;

    fn name(&self) -> String {
        "postgresql-skip-locked".to_owned()
    }

    async fn connect(&self) -> Result<PostgresConn, Error> {
        Ok(PostgresConn {
            client: self.client().await?,
            statements: HashMap::new(),
            poll: self.poll,
        })
    }

    async fn create_queue(&self, name: &str) -> Result<String, Error> {
        let table = table_name(name)?;
        let client = self.client().await?;
        client
            .batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {table} (
                     msg_id bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
                     read_ct integer NOT NULL DEFAULT 0,
                     enqueued_at timestamptz NOT NULL DEFAULT now(),
                     vt timestamptz NOT NULL,
                     message bytea
                 );
                 CREATE INDEX IF NOT EXISTS {table}_vt_idx ON {table} (vt ASC);"
            ))
            .await?;
        Ok(table)
    }

    async fn delete_queue(&self, queue: &str) -> Result<(), Error> {
        super::check_queue_name(queue)?;
        let client = self.client().await?;
        client
            .batch_execute(&format!("DROP TABLE IF EXISTS {queue}"))
            .await?;
        Ok(())
    }
}

/// The prepared statements of one queue on one connection.
struct Statements {
    send: Statement,
    read: Statement,
    delete: Statement,
}

/// One PostgreSQL session with its statements prepared per queue on first use.
pub struct PostgresConn {
    client: Client,
    statements: HashMap<String, Statements>,
    poll: Duration,
}

impl PostgresConn {
    async fn statements(&mut self, table: &str) -> Result<&Statements, Error> {
        if !self.statements.contains_key(table) {
            super::check_queue_name(table)?;
            let send = format!(
                "INSERT INTO {table} (vt, message) SELECT clock_timestamp(), unnest($1::bytea[])"
            );
            let read = format!(
                "WITH cte AS (
                     SELECT msg_id FROM {table}
                     WHERE vt <= clock_timestamp()
                     ORDER BY msg_id ASC
                     LIMIT $1
                     FOR UPDATE SKIP LOCKED
                 )
                 UPDATE {table} m
                 SET vt = clock_timestamp() + interval '{VISIBILITY_TIMEOUT_SECS} seconds',
                     read_ct = read_ct + 1
                 FROM cte
                 WHERE m.msg_id = cte.msg_id
                 RETURNING m.msg_id, m.message"
            );
            let delete = format!("DELETE FROM {table} WHERE msg_id = ANY($1::bigint[])");
            let statements = Statements {
                send: self.client.prepare(&send).await?,
                read: self.client.prepare(&read).await?,
                delete: self.client.prepare(&delete).await?,
            };
            self.statements.insert(table.to_owned(), statements);
        }
        Ok(&self.statements[table])
    }
}

impl Conn for PostgresConn {
    async fn send(&mut self, queue: &str, bodies: &[Bytes]) -> Result<(), Error> {
        let statement = self.statements(queue).await?.send.clone();
        let bodies: Vec<&[u8]> = bodies.iter().map(Bytes::as_ref).collect();
        let inserted = self.client.execute(&statement, &[&bodies]).await?;
        if inserted != bodies.len() as u64 {
            return Err(format!("postgres: {} bodies, {inserted} rows", bodies.len()).into());
        }
        Ok(())
    }

    async fn receive(
        &mut self,
        queue: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Received>, Error> {
        let statement = self.statements(queue).await?.read.clone();
        let limit = max.max(1) as i64;
        let deadline = Instant::now() + wait;
        loop {
            let rows = self.client.query(&statement, &[&limit]).await?;
            if !rows.is_empty() {
                return rows
                    .into_iter()
                    .map(|row| {
                        let id: i64 = row.try_get(0)?;
                        let body: Vec<u8> = row.try_get(1)?;
                        Ok(Received {
                            body: Bytes::from(body),
                            token: Token::U64(id as u64),
                        })
                    })
                    .collect();
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(Vec::new());
            }
            tokio::time::sleep(self.poll.min(deadline - now)).await;
        }
    }

    async fn delete(&mut self, queue: &str, tokens: Vec<Token>) -> Result<(), Error> {
        if tokens.is_empty() {
            return Ok(());
        }
        let statement = self.statements(queue).await?.delete.clone();
        let ids = tokens
            .into_iter()
            .map(|t| match t {
                Token::U64(id) => Ok(id as i64),
                other => Err(format!("postgres: not a msg_id: {other:?}")),
            })
            .collect::<Result<Vec<i64>, _>>()?;
        let deleted = self.client.execute(&statement, &[&ids]).await?;
        if deleted != ids.len() as u64 {
            return Err(format!("postgres: {} ids, {deleted} rows deleted", ids.len()).into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_pgmq_style_identifiers() {
        assert_eq!(table_name("Bench-1").unwrap(), "q_bench_1");
        assert!(table_name("x; DROP TABLE y").is_err());
    }
}
