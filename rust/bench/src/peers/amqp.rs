//! RabbitMQ (AMQP 0-9-1) with the guarantees an SQS user expects: a durable queue, persistent
//! messages, and publisher confirms, so that a send returns only once the broker has taken
//! responsibility for every message of the batch.
//!
//! - create: `queue.declare` durable
//! - send: one `basic.publish` per message (delivery mode 2, persistent) on a channel in confirm
//!   mode; all of the batch is written before its confirms are awaited, so a batch costs one
//!   round trip plus the broker's (batched) fsync, not one per message.
//! - receive: a `basic.consume` consumer with a `basic.qos` prefetch window; a receive waits for
//!   the first delivery (up to the long-poll wait) and takes what else has already arrived, up
//!   to the batch size. This is how AMQP clients consume; `basic.get` (one message per round
//!   trip, polling) would make RabbitMQ look slower than it is.
//! - delete: `basic.ack`, one frame with `multiple` when the batch is every delivery still
//!   unacknowledged up to its highest tag (the usual case), else one per message.
//! - delete queue: `queue.delete`.
//!
//! Each [`AmqpConn`] is its own AMQP connection with one channel for publishing and, from its
//! first receive, one for consuming. Delivery tags are per channel, so a message is acknowledged
//! on the connection that received it (each runner task owns one connection and does just that).

use std::collections::BTreeSet;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::try_join_all;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, Consumer};
use tokio_stream::{Stream, StreamExt};

use crate::driver::{Conn, Driver, Error, Received, Token};

/// AMQP's "persistent" delivery mode: the broker writes the message to disk.
const PERSISTENT: u8 = 2;

/// RabbitMQ (or another AMQP 0-9-1 broker) at an `amqp://` URL.
pub struct AmqpDriver {
    url: String,
    prefetch: u16,
}

impl AmqpDriver {
    /// A driver for the broker at `url` (`amqp://user:pass@host:port/%2f`), whose consumers let
    /// up to `prefetch` unacknowledged deliveries be in flight each. Nothing is connected yet.
    pub fn new(url: &str, prefetch: u16) -> Self {
        Self {
            url: url.to_owned(),
            prefetch: prefetch.max(1),
        }
    }

    async fn connection(&self) -> Result<Connection, Error> {
        Ok(Connection::connect(&self.url, ConnectionProperties::default()).await?)
    }
}

impl Driver for AmqpDriver {
    type Conn = AmqpConn;

    fn name(&self) -> String {
        "rabbitmq".to_owned()
    }

    async fn connect(&self) -> Result<AmqpConn, Error> {
        let connection = self.connection().await?;
        let publisher = connection.create_channel().await?;
        publisher
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        Ok(AmqpConn {
            connection,
            publisher,
            consumer: None,
            prefetch: self.prefetch,
            properties: BasicProperties::default().with_delivery_mode(PERSISTENT),
        })
    }

    async fn create_queue(&self, name: &str) -> Result<String, Error> {
        super::check_queue_name(name)?;
        let connection = self.connection().await?;
        let channel = connection.create_channel().await?;
        channel
            .queue_declare(
                name.into(),
                QueueDeclareOptions::durable(),
                FieldTable::default(),
            )
            .await?;
        connection.close(200, "OK".into()).await?;
        Ok(name.to_owned())
    }

    async fn delete_queue(&self, queue: &str) -> Result<(), Error> {
        let connection = self.connection().await?;
        let channel = connection.create_channel().await?;
        channel
            .queue_delete(queue.into(), QueueDeleteOptions::default())
            .await?;
        connection.close(200, "OK".into()).await?;
        Ok(())
    }
}

/// The consuming side of a connection, created on its first receive.
struct Consuming {
    queue: String,
    channel: Channel,
    consumer: Consumer,
    /// Tags delivered to the runner and not yet acknowledged, to tell when one `multiple` ack
    /// covers a whole delete.
    unacked: BTreeSet<u64>,
}

/// One AMQP connection: a confirm-mode publishing channel and, once it receives, a consumer.
pub struct AmqpConn {
    connection: Connection,
    publisher: Channel,
    consumer: Option<Consuming>,
    prefetch: u16,
    properties: BasicProperties,
}

impl AmqpConn {
    async fn consuming(&mut self, queue: &str) -> Result<&mut Consuming, Error> {
        if self.consumer.as_ref().is_none_or(|c| c.queue != queue) {
            let channel = self.connection.create_channel().await?;
            channel
                .basic_qos(self.prefetch, BasicQosOptions::default())
                .await?;
            let consumer = channel
                .basic_consume(
                    queue.into(),
                    "".into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await?;
            self.consumer = Some(Consuming {
                queue: queue.to_owned(),
                channel,
                consumer,
                unacked: BTreeSet::new(),
            });
        }
        Ok(self.consumer.as_mut().expect("set above"))
    }
}

impl Conn for AmqpConn {
    async fn send(&mut self, queue: &str, bodies: &[Bytes]) -> Result<(), Error> {
        // Every publish is started before any is awaited: the frames go out back to back.
        let publishes = bodies.iter().map(|body| {
            self.publisher.basic_publish(
                "".into(),
                queue.into(),
                BasicPublishOptions::default(),
                body,
                self.properties.clone(),
            )
        });
        let confirms = try_join_all(publishes).await?;
        for confirm in confirms {
            if !confirm.await?.is_ack() {
                return Err("rabbitmq: the broker refused (nacked) a published message".into());
            }
        }
        Ok(())
    }

    async fn receive(
        &mut self,
        queue: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Received>, Error> {
        let consuming = self.consuming(queue).await?;
        let first = match tokio::time::timeout(wait, consuming.consumer.next()).await {
            Err(_elapsed) => return Ok(Vec::new()),
            Ok(None) => return Err("rabbitmq: the consumer was cancelled".into()),
            Ok(Some(delivery)) => delivery?,
        };
        let mut deliveries = vec![first];
        while deliveries.len() < max {
            // Only what has already arrived: poll once, never wait.
            let consumer = &mut consuming.consumer;
            match std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *consumer).poll_next(cx)))
                .await
            {
                Poll::Ready(Some(delivery)) => deliveries.push(delivery?),
                Poll::Ready(None) | Poll::Pending => break,
            }
        }
        let unacked = &mut consuming.unacked;
        Ok(deliveries
            .into_iter()
            .map(|delivery| {
                unacked.insert(delivery.delivery_tag);
                Received {
                    body: Bytes::from(delivery.data),
                    token: Token::U64(delivery.delivery_tag),
                }
            })
            .collect())
    }

    async fn delete(&mut self, queue: &str, tokens: Vec<Token>) -> Result<(), Error> {
        let Some(consuming) = self.consumer.as_mut().filter(|c| c.queue == queue) else {
            return Err(
                format!("rabbitmq: nothing was received from {queue} on this connection").into(),
            );
        };
        let mut tags = tokens
            .into_iter()
            .map(|t| match t {
                Token::U64(tag) => Ok(tag),
                other => Err(format!("rabbitmq: not a delivery tag: {other:?}")),
            })
            .collect::<Result<Vec<u64>, _>>()?;
        let Some(&highest) = tags.iter().max() else {
            return Ok(());
        };
        for tag in &tags {
            if !consuming.unacked.remove(tag) {
                return Err(format!("rabbitmq: delivery tag {tag} is not outstanding").into());
            }
        }
        let channel = &consuming.channel;
        if consuming
            .unacked
            .first()
            .is_none_or(|&lowest| lowest > highest)
        {
            // Every outstanding delivery up to `highest` is in this batch: one frame acks them all.
            channel
                .basic_ack(highest, BasicAckOptions { multiple: true })
                .await?;
        } else {
            tags.sort_unstable();
            for tag in tags {
                channel.basic_ack(tag, BasicAckOptions::default()).await?;
            }
        }
        Ok(())
    }
}
