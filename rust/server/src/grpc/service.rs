//! The `sqsfast.v1.QueueService` implementation: convert the request, call the engine, convert back.

use super::error::to_status;
use super::pb::{self, queue_service_server::QueueService};
use super::reply;
use crate::{Context, Shutdown};
use sqsfast_core::message::HEX_PAIRS;
use sqsfast_core::{
    AttributeData, AttributeValue, Error, ErrorCode, MessageId, Queue, ReceiveOptions, Received,
    SendMessage,
};
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

/// Entries of a batch and messages of a receive over gRPC, at most (SQS: 10).
pub const MAX_BATCH: u32 = 1000;
/// How often a long poll wakes to let the engine run its timers (see `Queue::receive_or_listen`).
const POLL_SLICE: Duration = Duration::from_millis(50);
/// Messages per pushed batch of a stream when the client does not say.
const DEFAULT_STREAM_BATCH: u32 = 10;

type Reply<T> = Result<Response<T>, Status>;

/// The service: the engine and the server's shutdown signal, shared by every connection.
#[derive(Clone)]
pub struct Service {
    ctx: Arc<Context>,
    shutdown: Shutdown,
    /// The `SenderId` of every received message.
    sender_id: Arc<str>,
}

impl Service {
    pub fn new(ctx: Arc<Context>, shutdown: Shutdown) -> Self {
        let sender_id = ctx.broker.config().sender_id.as_str().into();
        Self {
            ctx,
            shutdown,
            sender_id,
        }
    }

    fn queue(&self, name: &str) -> Result<Arc<Queue>, Status> {
        self.ctx.broker.queue(name).map_err(to_status)
    }

    fn messages(&self, got: Vec<Received>) -> reply::ReceiveMessageResponse {
        reply::ReceiveMessageResponse::from_received(got, self.sender_id.clone())
    }
}

/// `r` as a generated `Message` (the reply of a receive is encoded without building these, by
/// [`reply::ReceiveMessageResponse`], except for messages with attributes).
pub(crate) fn message_bytes(r: &Received, sender_id: &str) -> pb::Message {
    let attributes = r.attributes();
    pb::Message {
        message_id: message_id_text(r.message_id()),
        receipt_handle: r.receipt_handle(),
        body: r.body().to_vec(),
        message_attributes: attributes_to_pb(attributes),
        md5_of_message_attributes: r.md5_of_attributes().unwrap_or_default(),
        receive_count: r.receive_count(),
        sent_timestamp: r.sent_timestamp(),
        first_receive_timestamp: r.first_receive_timestamp(),
        sender_id: sender_id.to_string(),
        dead_letter_source_arn: r.dead_letter_source_arn().unwrap_or_default().to_string(),
    }
}

/// A message id's text, as `MessageId`'s `Display` writes it (8-4-4-4-12 hex digits), without the
/// formatting machinery: every sent and received message needs one, and `write!` with five padded
/// hex arguments costs more than the rest of building the reply entry.
pub(crate) fn message_id_bytes(id: MessageId) -> [u8; 36] {
    /// Where each byte's digits go, around the dashes.
    const AT: [usize; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
    let mut out = [b'-'; 36];
    for (at, b) in AT.into_iter().zip(id.0.to_be_bytes()) {
        out[at..at + 2].copy_from_slice(&HEX_PAIRS[usize::from(b)]);
    }
    out
}

/// [`message_id_bytes`] as a `String`.
pub(crate) fn message_id_text(id: MessageId) -> String {
    String::from_utf8(message_id_bytes(id).to_vec()).expect("hex digits and dashes")
}

fn queue_pb(q: &Queue) -> pb::Queue {
    pb::Queue {
        queue_name: q.name().to_string(),
        queue_arn: q.arn().to_string(),
        receive_message_wait_time_seconds: q.config().receive_message_wait_time_seconds,
    }
}

/// A count given by the caller as the engine's `u32`: a negative or huge value is SQS's
/// InvalidParameterValue, as in the Python bindings.
fn count(parameter: &str, value: i64) -> Result<u32, Status> {
    u32::try_from(value).map_err(|_| {
        let reason = if value < 0 {
            "must not be negative"
        } else {
            "too large"
        };
        to_status(Error::new(
            ErrorCode::InvalidParameterValue,
            format!("Value {value} for parameter {parameter} is invalid. Reason: {reason}."),
        ))
    })
}

fn optional_count(parameter: &str, value: Option<i64>) -> Result<Option<u32>, Status> {
    value.map(|v| count(parameter, v)).transpose()
}

/// The caller's batch cap: 0 is the server's, anything else at most the server's.
fn max_entries(requested: u32) -> usize {
    if requested == 0 {
        MAX_BATCH as usize
    } else {
        requested.min(MAX_BATCH) as usize
    }
}

fn attributes_from_pb(
    attributes: HashMap<String, pb::MessageAttributeValue>,
) -> Vec<(String, AttributeValue)> {
    use pb::message_attribute_value::Value;
    attributes
        .into_iter()
        .map(|(name, v)| {
            let value = match v.value {
                Some(Value::StringValue(s)) => AttributeData::String(s),
                Some(Value::BinaryValue(b)) => AttributeData::Binary(b),
                // No value: an empty one of the type's kind, which the engine rejects with SQS's
                // message for a missing value.
                None if v.data_type.starts_with("Binary") => AttributeData::Binary(Vec::new()),
                None => AttributeData::String(String::new()),
            };
            (
                name,
                AttributeValue {
                    data_type: v.data_type,
                    value,
                },
            )
        })
        .collect()
}

fn attributes_to_pb(
    attributes: &[(String, AttributeValue)],
) -> HashMap<String, pb::MessageAttributeValue> {
    use pb::message_attribute_value::Value;
    attributes
        .iter()
        .map(|(name, v)| {
            let value = match &v.value {
                AttributeData::String(s) => Value::StringValue(s.clone()),
                AttributeData::Binary(b) => Value::BinaryValue(b.clone()),
            };
            (
                name.clone(),
                pb::MessageAttributeValue {
                    data_type: v.data_type.clone(),
                    value: Some(value),
                },
            )
        })
        .collect()
}

pub(crate) fn batch_error(err: &Error) -> pb::BatchError {
    pb::BatchError {
        code: err.code.name().to_string(),
        message: err.message.clone(),
        sender_fault: err.code.sender_fault(),
    }
}

fn sorted_pairs(map: HashMap<String, String>) -> Vec<(String, String)> {
    let mut pairs: Vec<_> = map.into_iter().collect();
    pairs.sort();
    pairs
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Receives, long-polling until `deadline`: returns as soon as messages are there, or empty when
/// the deadline passes or the server shuts down. Holds no thread while waiting: it awaits the
/// queue's listener, waking every 50 ms so that the engine's timers run. Dropping the future is
/// safe at any await (each engine call is synchronous).
async fn receive_until(
    queue: &Queue,
    options: &ReceiveOptions,
    deadline: Option<Instant>,
    shutdown: &Shutdown,
) -> sqsfast_core::Result<Vec<Received>> {
    loop {
        let listener = match queue.receive_or_listen(options)? {
            Ok(got) => return Ok(got),
            Err(listener) => listener,
        };
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) || shutdown.is_set() {
            return Ok(Vec::new());
        }
        let wake = deadline.map_or(now + POLL_SLICE, |d| d.min(now + POLL_SLICE));
        tokio::select! {
            () = listener => {}
            () = tokio::time::sleep_until(wake) => {}
            () = shutdown.clone().wait() => return Ok(Vec::new()),
        }
        // Before taking messages, let the transport look at the call once more: hyper checks
        // for a client's cancellation (RST_STREAM) only when this future is pending, and a message
        // taken for a caller that is gone stays in flight for its whole visibility timeout.
        tokio::task::yield_now().await;
    }
}

#[tonic::async_trait]
impl QueueService for Service {
    async fn create_queue(
        &self,
        req: Request<pb::CreateQueueRequest>,
    ) -> Reply<pb::CreateQueueResponse> {
        let req = req.into_inner();
        let q = self
            .ctx
            .broker
            .create_queue(
                &req.queue_name,
                &sorted_pairs(req.attributes),
                &sorted_pairs(req.tags),
            )
            .map_err(to_status)?;
        Ok(Response::new(pb::CreateQueueResponse {
            queue: Some(queue_pb(&q)),
        }))
    }

    async fn get_queue(&self, req: Request<pb::GetQueueRequest>) -> Reply<pb::GetQueueResponse> {
        let q = self.queue(&req.into_inner().queue_name)?;
        Ok(Response::new(pb::GetQueueResponse {
            queue: Some(queue_pb(&q)),
        }))
    }

    async fn list_queues(
        &self,
        req: Request<pb::ListQueuesRequest>,
    ) -> Reply<pb::ListQueuesResponse> {
        let queues = self
            .ctx
            .broker
            .list_queues(&req.into_inner().queue_name_prefix);
        Ok(Response::new(pb::ListQueuesResponse {
            queues: queues.iter().map(|q| queue_pb(q)).collect(),
        }))
    }

    async fn delete_queue(
        &self,
        req: Request<pb::DeleteQueueRequest>,
    ) -> Reply<pb::DeleteQueueResponse> {
        self.ctx
            .broker
            .delete_queue(&req.into_inner().queue_name)
            .map_err(to_status)?;
        Ok(Response::new(pb::DeleteQueueResponse {}))
    }

    async fn list_dead_letter_source_queues(
        &self,
        req: Request<pb::ListDeadLetterSourceQueuesRequest>,
    ) -> Reply<pb::ListDeadLetterSourceQueuesResponse> {
        let queues = self
            .ctx
            .broker
            .dead_letter_source_queues(&req.into_inner().queue_name)
            .map_err(to_status)?;
        Ok(Response::new(pb::ListDeadLetterSourceQueuesResponse {
            queues: queues.iter().map(|q| queue_pb(q)).collect(),
        }))
    }

    async fn get_queue_attributes(
        &self,
        req: Request<pb::GetQueueAttributesRequest>,
    ) -> Reply<pb::GetQueueAttributesResponse> {
        let req = req.into_inner();
        let attributes = self
            .queue(&req.queue_name)?
            .attributes(&req.attribute_names)
            .map_err(to_status)?;
        Ok(Response::new(pb::GetQueueAttributesResponse {
            attributes: attributes
                .into_iter()
                .map(|(name, value)| pb::Attribute { name, value })
                .collect(),
        }))
    }

    async fn set_queue_attributes(
        &self,
        req: Request<pb::SetQueueAttributesRequest>,
    ) -> Reply<pb::SetQueueAttributesResponse> {
        let req = req.into_inner();
        let attributes: Vec<(String, String)> = req
            .attributes
            .into_iter()
            .map(|a| (a.name, a.value))
            .collect();
        self.queue(&req.queue_name)?
            .set_attributes(&attributes)
            .map_err(to_status)?;
        Ok(Response::new(pb::SetQueueAttributesResponse {}))
    }

    async fn list_queue_tags(
        &self,
        req: Request<pb::ListQueueTagsRequest>,
    ) -> Reply<pb::ListQueueTagsResponse> {
        let q = self.queue(&req.into_inner().queue_name)?;
        Ok(Response::new(pb::ListQueueTagsResponse {
            tags: q.tags().into_iter().collect(),
        }))
    }

    async fn tag_queue(&self, req: Request<pb::TagQueueRequest>) -> Reply<pb::TagQueueResponse> {
        let req = req.into_inner();
        self.queue(&req.queue_name)?
            .tag(&sorted_pairs(req.tags))
            .map_err(to_status)?;
        Ok(Response::new(pb::TagQueueResponse {}))
    }

    async fn untag_queue(
        &self,
        req: Request<pb::UntagQueueRequest>,
    ) -> Reply<pb::UntagQueueResponse> {
        let req = req.into_inner();
        self.queue(&req.queue_name)?
            .untag(&req.tag_keys)
            .map_err(to_status)?;
        Ok(Response::new(pb::UntagQueueResponse {}))
    }

    async fn purge_queue(
        &self,
        req: Request<pb::PurgeQueueRequest>,
    ) -> Reply<pb::PurgeQueueResponse> {
        let q = self.queue(&req.into_inner().queue_name)?;
        // Purge visits every slot of the queue: off the async workers.
        tokio::task::spawn_blocking(move || q.purge())
            .await
            .map_err(|e| Status::internal(e.to_string()))?
            .map_err(to_status)?;
        Ok(Response::new(pb::PurgeQueueResponse {}))
    }

    async fn get_queue_counts(
        &self,
        req: Request<pb::GetQueueCountsRequest>,
    ) -> Reply<pb::GetQueueCountsResponse> {
        let q = self.queue(&req.into_inner().queue_name)?;
        let c = q.counts();
        Ok(Response::new(pb::GetQueueCountsResponse {
            visible: c.visible,
            in_flight: c.in_flight,
            delayed: c.delayed,
            oldest_age_ms: c.oldest_age_ms,
        }))
    }

    async fn send_message(
        &self,
        req: Request<pb::SendMessageRequest>,
    ) -> Reply<pb::SendMessageResponse> {
        let req = req.into_inner();
        let q = self.queue(&req.queue_name)?;
        let m = SendMessage {
            body: req.message_body,
            delay_seconds: optional_count("DelaySeconds", req.delay_seconds)?,
            attributes: attributes_from_pb(req.message_attributes),
            want_md5: false,
        };
        let sent = q.send_async(m).await.map_err(to_status)?;
        Ok(Response::new(pb::SendMessageResponse {
            message_id: message_id_text(sent.message_id),
            md5_of_message_attributes: sent.md5_of_attributes.unwrap_or_default(),
        }))
    }

    async fn send_message_batch(
        &self,
        req: Request<pb::SendMessageBatchRequest>,
    ) -> Reply<reply::SendMessageBatchResponse> {
        let req = req.into_inner();
        let q = self.queue(&req.queue_name)?;
        // Ids and bodies are lent from the request: the queue copies each body in, and the reply
        // answers with the ids as slices of the request's buffer.
        let entries = req
            .views()
            .map(|e| {
                Ok((
                    e.id,
                    SendMessage {
                        body: e.message_body,
                        delay_seconds: optional_count("DelaySeconds", e.delay_seconds)?,
                        attributes: e
                            .message_attributes
                            .map(|a| attributes_from_pb(a.clone()))
                            .unwrap_or_default(),
                        want_md5: false,
                    },
                ))
            })
            .collect::<Result<Vec<_>, Status>>()?;
        let results = q
            .send_batch_async(entries, max_entries(req.max_entries))
            .await
            .map_err(to_status)?;
        Ok(Response::new(reply::SendMessageBatchResponse::from_sent(
            req.wire(),
            results,
        )))
    }

    async fn receive_message(
        &self,
        req: Request<pb::ReceiveMessageRequest>,
    ) -> Reply<reply::ReceiveMessageResponse> {
        let req = req.into_inner();
        let q = self.queue(&req.queue_name)?;
        let options = ReceiveOptions {
            max_messages: optional_count("MaxNumberOfMessages", req.max_number_of_messages)?
                .unwrap_or(1),
            visibility_timeout: optional_count("VisibilityTimeout", req.visibility_timeout)?,
            wait_seconds: optional_count("WaitTimeSeconds", req.wait_time_seconds)?,
            max_batch: max_entries(req.max_entries) as u32,
        };
        let wait = q.wait_for(&options);
        let got = if wait.is_zero() {
            q.receive(&options)
        } else {
            receive_until(&q, &options, Some(Instant::now() + wait), &self.shutdown).await
        }
        .map_err(to_status)?;
        Ok(Response::new(self.messages(got)))
    }

    type ReceiveMessageStreamStream =
        Pin<Box<dyn Stream<Item = Result<reply::ReceiveMessageResponse, Status>> + Send + 'static>>;

    async fn receive_message_stream(
        &self,
        req: Request<Streaming<pb::ReceiveMessageStreamRequest>>,
    ) -> Reply<Self::ReceiveMessageStreamStream> {
        let mut inbound = req.into_inner();
        let Some(first) = inbound.message().await? else {
            return Err(Status::invalid_argument(
                "ReceiveMessageStream: the first request must name the queue",
            ));
        };
        let q = self.queue(&first.queue_name)?;
        let per_batch = optional_count("MaxNumberOfMessages", first.max_number_of_messages)?
            .unwrap_or(DEFAULT_STREAM_BATCH);
        let visibility_timeout = optional_count("VisibilityTimeout", first.visibility_timeout)?;
        ReceiveOptions {
            max_messages: per_batch,
            visibility_timeout,
            wait_seconds: None,
            max_batch: MAX_BATCH,
        }
        .validate()
        .map_err(to_status)?;

        let credit = Arc::new(AtomicU64::new(first.credit as u64));
        let closed = Arc::new(AtomicBool::new(false));
        let more = Arc::new(Notify::new());
        // Credit from the client, read by its own task so that the pushing loop never waits on it.
        // It holds the request half of the call: the pushing task aborts it when it ends, which
        // drops that half and closes the call (graceful shutdown waits for closed calls).
        let reader = {
            let (credit, closed, more) = (credit.clone(), closed.clone(), more.clone());
            tokio::spawn(async move {
                while let Ok(Some(m)) = inbound.message().await {
                    credit.fetch_add(m.credit as u64, Ordering::AcqRel);
                    more.notify_one();
                }
                closed.store(true, Ordering::Release);
                more.notify_one();
            })
        };
        let (tx, rx) = mpsc::channel(1);
        let service = self.clone();
        tokio::spawn(async move {
            let _reader = AbortOnDrop(reader);
            let shutdown = service.shutdown.clone();
            loop {
                if closed.load(Ordering::Acquire) || shutdown.is_set() {
                    return;
                }
                let available = credit.load(Ordering::Acquire);
                if available == 0 {
                    tokio::select! {
                        () = more.notified() => {}
                        () = shutdown.clone().wait() => return,
                        () = tx.closed() => return,
                    }
                    continue;
                }
                let options = ReceiveOptions {
                    max_messages: available.min(per_batch as u64) as u32,
                    visibility_timeout,
                    wait_seconds: None,
                    max_batch: MAX_BATCH,
                };
                let got = tokio::select! {
                    got = receive_until(&q, &options, None, &shutdown) => got,
                    () = more.notified() => continue,
                    () = tx.closed() => return,
                };
                match got {
                    Ok(got) if got.is_empty() => {}
                    Ok(got) => {
                        credit.fetch_sub(got.len() as u64, Ordering::AcqRel);
                        if tx.send(Ok(service.messages(got))).await.is_err() {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(to_status(e))).await;
                        return;
                    }
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn delete_message(
        &self,
        req: Request<pb::DeleteMessageRequest>,
    ) -> Reply<pb::DeleteMessageResponse> {
        let req = req.into_inner();
        self.queue(&req.queue_name)?
            .delete_str(&req.receipt_handle)
            .map_err(to_status)?;
        Ok(Response::new(pb::DeleteMessageResponse {}))
    }

    async fn delete_message_batch(
        &self,
        req: Request<pb::DeleteMessageBatchRequest>,
    ) -> Reply<reply::BatchResponse> {
        let req = req.into_inner();
        let q = self.queue(&req.queue_name)?;
        let entries = req.views().map(|e| (e.id, e.receipt_handle)).collect();
        let results = q
            .delete_batch(entries, max_entries(req.max_entries))
            .map_err(to_status)?;
        Ok(Response::new(reply::BatchResponse::from_done(
            req.wire(),
            results,
        )))
    }

    async fn change_message_visibility(
        &self,
        req: Request<pb::ChangeMessageVisibilityRequest>,
    ) -> Reply<pb::ChangeMessageVisibilityResponse> {
        let req = req.into_inner();
        let q = self.queue(&req.queue_name)?;
        let seconds = count("VisibilityTimeout", req.visibility_timeout)?;
        q.change_visibility_str(&req.receipt_handle, seconds)
            .map_err(to_status)?;
        Ok(Response::new(pb::ChangeMessageVisibilityResponse {}))
    }

    async fn change_message_visibility_batch(
        &self,
        req: Request<pb::ChangeMessageVisibilityBatchRequest>,
    ) -> Reply<reply::BatchResponse> {
        let req = req.into_inner();
        let q = self.queue(&req.queue_name)?;
        let entries = req
            .entries
            .into_iter()
            .map(|e| {
                Ok((
                    e.id,
                    e.receipt_handle,
                    count("VisibilityTimeout", e.visibility_timeout)?,
                ))
            })
            .collect::<Result<Vec<_>, Status>>()?;
        let results = q
            .change_visibility_batch(entries, max_entries(req.max_entries))
            .map_err(to_status)?;
        Ok(Response::new(reply::BatchResponse::from_done(
            None, results,
        )))
    }

    async fn get_server_info(
        &self,
        _req: Request<pb::GetServerInfoRequest>,
    ) -> Reply<pb::GetServerInfoResponse> {
        let config = self.ctx.broker.config();
        Ok(Response::new(pb::GetServerInfoResponse {
            account_id: config.account_id.clone(),
            region: config.region.clone(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            max_batch_entries: MAX_BATCH,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_id_text_is_display() {
        let mut v: u128 = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210;
        for _ in 0..1000 {
            let id = MessageId(v);
            assert_eq!(message_id_text(id), id.to_string());
            v = v
                .wrapping_mul(0x2545_f491_4f6c_dd1d_9e37_79b9_7f4a_7c15)
                .rotate_left(17);
        }
        assert_eq!(message_id_text(MessageId(0)), MessageId(0).to_string());
        assert_eq!(
            message_id_text(MessageId(u128::MAX)),
            MessageId(u128::MAX).to_string()
        );
    }
}
