//! Peer brokers behind the same [`Driver`](crate::driver::Driver) seam as sqsfast, so that
//! `benches/peers/run.py` measures every system with one runner, one workload definition and one
//! report format.
//!
//! Each peer is used the way its own documentation recommends for a work queue with
//! acknowledgements:
//!
//! | target | queue | send | receive | delete |
//! |---|---|---|---|---|
//! | `redis://` | a stream + consumer group | pipelined `XADD` | `XREADGROUP … BLOCK` | `XACK` + `XDEL` |
//! | `amqp://` | durable RabbitMQ queue | persistent publish, waits for publisher confirms | consumer with `basic.qos` prefetch | `basic.ack` (multiple when it can) |
//! | `postgres://` | a pgmq-shaped table | multi-row `INSERT` | `UPDATE … FOR UPDATE SKIP LOCKED` | `DELETE … = ANY($1)` |
//!
//! Compiled only with the `peers` feature: their client crates are not needed by `sqsfast bench`.

pub mod amqp;
pub mod postgres;
pub mod redis;

pub use self::amqp::AmqpDriver;
pub use self::postgres::PostgresDriver;
pub use self::redis::RedisDriver;

/// Which peer a target URL names, by its scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerKind {
    /// `redis://host:port`: Redis Streams with a consumer group.
    Redis,
    /// `amqp://user:pass@host:port/vhost`: RabbitMQ (AMQP 0-9-1).
    Amqp,
    /// `postgres://user@host:port/db` (or `postgresql://`): pgmq-style tables.
    Postgres,
}

impl PeerKind {
    /// The peer a target URL names, or `None` when its scheme is not a peer's.
    pub fn of(target: &str) -> Option<Self> {
        let scheme = target.split_once("://")?.0;
        match scheme {
            "redis" => Some(Self::Redis),
            "amqp" => Some(Self::Amqp),
            "postgres" | "postgresql" => Some(Self::Postgres),
            _ => None,
        }
    }
}

/// A queue name that every peer accepts as is: a stream key, an AMQP queue name, and (after
/// [`postgres::table_name`]) a PostgreSQL identifier. Queue names come from the runner, but a
/// name is spliced into SQL, so it is checked rather than trusted.
pub(crate) fn check_queue_name(name: &str) -> Result<(), crate::driver::Error> {
    let ok = !name.is_empty()
        && name.len() <= 60
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!("queue name {name:?}: use 1-60 of [A-Za-z0-9_-]").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_schemes_name_their_peer() {
        assert_eq!(
            PeerKind::of("redis://127.0.0.1:6379"),
            Some(PeerKind::Redis)
        );
        assert_eq!(
            PeerKind::of("amqp://guest:guest@127.0.0.1:5672/%2f"),
            Some(PeerKind::Amqp)
        );
        assert_eq!(
            PeerKind::of("postgres://u@127.0.0.1/db"),
            Some(PeerKind::Postgres)
        );
        assert_eq!(
            PeerKind::of("postgresql://u@127.0.0.1/db"),
            Some(PeerKind::Postgres)
        );
        assert_eq!(PeerKind::of("grpc://127.0.0.1:9325"), None);
        assert_eq!(PeerKind::of("embedded"), None);
    }

    #[test]
    fn queue_names_that_could_break_sql_are_refused() {
        assert!(check_queue_name("bench-1_a").is_ok());
        assert!(check_queue_name("").is_err());
        assert!(check_queue_name("a\"; DROP TABLE x; --").is_err());
        assert!(check_queue_name(&"a".repeat(61)).is_err());
    }
}
