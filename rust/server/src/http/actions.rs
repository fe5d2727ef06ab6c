//! The 23 SQS actions: typed request in, engine call, response tree out.

use super::State;
use super::error::ApiError;
use super::input::{self, Input, MessageAttributeValue};
use super::messages::{Messages, SYSTEM_ATTRIBUTES};
use super::move_tasks;
use super::output::Out;
use crate::grpc::service::message_id_text;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sqsfast_core::queue::SQS_BATCH_LIMIT;
use sqsfast_core::{AttributeData, AttributeValue, Queue, ReceiveOptions, Received, SendMessage};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often a long poll wakes to let timers run (visibility expiry, delays) even without a send.
const POLL_TICK: Duration = Duration::from_millis(50);
/// Most queue URLs one ListQueues answer holds.
const MAX_LIST: usize = 1000;

/// Runs one action. `base` is `http://<host>` as the client addressed the server.
pub async fn dispatch(
    st: &State,
    base: &str,
    action: &str,
    input: Input<'_>,
) -> Result<Out, ApiError> {
    let a = Actions { st, base };
    match action {
        "CreateQueue" => a.create_queue(input.parse()?),
        "DeleteQueue" => a.delete_queue(input.parse()?),
        "GetQueueUrl" => a.get_queue_url(input.parse()?),
        "ListQueues" => a.list_queues(input.parse()?),
        "GetQueueAttributes" => a.get_queue_attributes(input.parse()?),
        "SetQueueAttributes" => a.set_queue_attributes(input.parse()?),
        "PurgeQueue" => a.purge_queue(input.parse()?),
        "SendMessage" => a.send_message(input.parse()?).await,
        "SendMessageBatch" => a.send_message_batch(input.parse()?).await,
        "ReceiveMessage" => a.receive_message(input.parse()?).await,
        "DeleteMessage" => a.delete_message(input.parse()?),
        "DeleteMessageBatch" => a.delete_message_batch(input.parse()?),
        "ChangeMessageVisibility" => a.change_message_visibility(input.parse()?),
        "ChangeMessageVisibilityBatch" => a.change_message_visibility_batch(input.parse()?),
        "TagQueue" => a.tag_queue(input.parse()?),
        "UntagQueue" => a.untag_queue(input.parse()?),
        "ListQueueTags" => a.list_queue_tags(input.parse()?),
        "ListDeadLetterSourceQueues" => a.list_dead_letter_source_queues(input.parse()?),
        "AddPermission" => a.add_permission(input.parse()?),
        "RemovePermission" => a.remove_permission(input.parse()?),
        "StartMessageMoveTask" => a.start_message_move_task(input.parse()?),
        "CancelMessageMoveTask" => a.cancel_message_move_task(input.parse()?),
        "ListMessageMoveTasks" => a.list_message_move_tasks(input.parse()?),
        other => Err(ApiError::invalid_action(other)),
    }
}

fn required<T>(v: Option<T>, name: &str) -> Result<T, ApiError> {
    v.ok_or_else(|| ApiError::missing(name))
}

/// An integer member that must fit in `u32` (the engine checks the range).
fn to_u32(name: &str, v: Option<i64>) -> Result<Option<u32>, ApiError> {
    match v {
        None => Ok(None),
        Some(n) => u32::try_from(n)
            .map(Some)
            .map_err(|_| ApiError::invalid(name, n, "Must be a non-negative integer in range.")),
    }
}

fn pairs(map: Option<BTreeMap<String, Option<String>>>) -> Vec<(String, String)> {
    map.unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.unwrap_or_default()))
        .collect()
}

/// `(entry id, error)` as a `BatchResultErrorEntry`.
fn failed(id: String, e: &ApiError) -> Out {
    Out::Struct(vec![
        ("Id", Out::Str(id)),
        ("SenderFault", Out::Bool(e.sender_fault)),
        ("Code", Out::str(e.legacy_code)),
        ("Message", Out::Str(e.message.clone())),
    ])
}

fn batch_result(entry: &'static str, ok: Vec<Out>, bad: Vec<Out>) -> Out {
    Out::Struct(vec![
        (
            "Successful",
            Out::List {
                item: entry,
                items: ok,
            },
        ),
        (
            "Failed",
            Out::List {
                item: "BatchResultErrorEntry",
                items: bad,
            },
        ),
    ])
}

fn message_attributes(
    map: Option<BTreeMap<String, Option<MessageAttributeValue>>>,
) -> Result<Vec<(String, AttributeValue)>, ApiError> {
    let mut out = Vec::new();
    for (name, v) in map.unwrap_or_default() {
        let v = v.unwrap_or_default();
        let data_type = v.data_type.unwrap_or_default();
        let value = if data_type.starts_with("Binary") {
            let raw = v.binary_value.unwrap_or_default();
            AttributeData::Binary(B64.decode(raw.trim()).map_err(|_| {
                ApiError::invalid(
                    "MessageAttributes",
                    &name,
                    "The BinaryValue is not valid base64.",
                )
            })?)
        } else {
            AttributeData::String(v.string_value.unwrap_or_default())
        };
        out.push((name, AttributeValue { data_type, value }));
    }
    Ok(out)
}

fn send_message_of(
    body: Option<String>,
    delay: Option<i64>,
    attributes: Option<BTreeMap<String, Option<MessageAttributeValue>>>,
) -> Result<SendMessage, ApiError> {
    Ok(SendMessage {
        body: required(body, "MessageBody")?.into(),
        delay_seconds: to_u32("DelaySeconds", delay)?,
        attributes: message_attributes(attributes)?,
        // Answered with here, and kept for receives.
        want_md5: true,
    })
}

/// A page of names after `token` (the last name of the previous page, base64).
fn page<T>(
    items: Vec<T>,
    name: impl Fn(&T) -> &str,
    token: Option<String>,
    max: Option<i64>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let max = match max {
        None => None,
        Some(m) if (1..=MAX_LIST as i64).contains(&m) => Some(m as usize),
        Some(m) => {
            return Err(ApiError::invalid(
                "MaxResults",
                m,
                "MaxResults must be an integer between 1 and 1000.",
            ));
        }
    };
    let after = match token.filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => Some(
            B64.decode(&t)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| ApiError::invalid("NextToken", &t, "Invalid NextToken value."))?,
        ),
    };
    let mut rest: Vec<T> = items
        .into_iter()
        .filter(|i| after.as_deref().is_none_or(|a| name(i) > a))
        .collect();
    let limit = max.unwrap_or(MAX_LIST);
    let more = rest.len() > limit;
    rest.truncate(limit);
    let next = (more && max.is_some())
        .then(|| rest.last().map(|i| B64.encode(name(i))))
        .flatten();
    Ok((rest, next))
}

struct Actions<'a> {
    st: &'a State,
    base: &'a str,
}

impl Actions<'_> {
    fn url(&self, name: &str) -> String {
        format!("{}/{}/{}", self.base, self.st.ctx.config.account_id, name)
    }

    /// The queue a queue URL names: `http(s)://<host>/<account-id>/<name>` (the host is not checked,
    /// so URLs keep working behind proxies); another account's URL names no queue of ours.
    fn queue(&self, url: Option<String>) -> Result<Arc<Queue>, ApiError> {
        let url = required(url, "QueueUrl")?;
        let path = match url.split_once("://") {
            Some((_, rest)) => rest.split_once('/').map_or("", |(_, p)| p),
            None => url.trim_start_matches('/'),
        };
        let path = path.split(['?', '#']).next().unwrap_or("");
        let mut parts = path.split('/').filter(|s| !s.is_empty());
        let (Some(account), Some(name), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(ApiError::no_queue());
        };
        if account != self.st.ctx.config.account_id {
            return Err(ApiError::no_queue());
        }
        Ok(self.st.ctx.broker.queue(name)?)
    }

    fn queue_url_result(&self, name: &str) -> Out {
        Out::Struct(vec![("QueueUrl", Out::Str(self.url(name)))])
    }

    fn create_queue(&self, r: input::CreateQueue) -> Result<Out, ApiError> {
        let name = required(r.queue_name, "QueueName")?;
        let q = self
            .st
            .ctx
            .broker
            .create_queue(&name, &pairs(r.attributes), &pairs(r.tags))?;
        Ok(self.queue_url_result(q.name()))
    }

    fn delete_queue(&self, r: input::QueueOnly) -> Result<Out, ApiError> {
        let q = self.queue(r.queue_url)?;
        self.st.ctx.broker.delete_queue(q.name())?;
        Ok(Out::empty())
    }

    fn get_queue_url(&self, r: input::GetQueueUrl) -> Result<Out, ApiError> {
        let name = required(r.queue_name, "QueueName")?;
        if r.queue_owner_aws_account_id
            .is_some_and(|a| !a.is_empty() && a != self.st.ctx.config.account_id)
        {
            return Err(ApiError::no_queue());
        }
        let q = self.st.ctx.broker.queue(&name)?;
        Ok(self.queue_url_result(q.name()))
    }

    fn list_queues(&self, r: input::ListQueues) -> Result<Out, ApiError> {
        let queues = self
            .st
            .ctx
            .broker
            .list_queues(r.queue_name_prefix.as_deref().unwrap_or(""));
        let (queues, next) = page(queues, |q| q.name(), r.next_token, r.max_results)?;
        let mut members = Vec::new();
        if !queues.is_empty() {
            members.push((
                "QueueUrls",
                Out::List {
                    item: "QueueUrl",
                    items: queues
                        .iter()
                        .map(|q| Out::Str(self.url(q.name())))
                        .collect(),
                },
            ));
        }
        if let Some(t) = next {
            members.push(("NextToken", Out::Str(t)));
        }
        Ok(Out::Struct(members))
    }

    fn get_queue_attributes(&self, r: input::GetQueueAttributes) -> Result<Out, ApiError> {
        let q = self.queue(r.queue_url)?;
        let names = r.attribute_names.unwrap_or_default();
        if names.is_empty() {
            // As SQS: no names asked, no attributes given.
            return Ok(Out::empty());
        }
        let attrs = q.attributes(&names)?;
        if attrs.is_empty() {
            return Ok(Out::empty());
        }
        Ok(Out::Struct(vec![("Attributes", Out::attributes(attrs))]))
    }

    fn set_queue_attributes(&self, r: input::SetQueueAttributes) -> Result<Out, ApiError> {
        let q = self.queue(r.queue_url)?;
        let attrs = required(r.attributes, "Attributes")?;
        q.set_attributes(&pairs(Some(attrs)))?;
        Ok(Out::empty())
    }

    fn purge_queue(&self, r: input::QueueOnly) -> Result<Out, ApiError> {
        self.queue(r.queue_url)?.purge()?;
        Ok(Out::empty())
    }

    async fn send_message(&self, r: input::SendMessage) -> Result<Out, ApiError> {
        let q = self.queue(r.queue_url)?;
        if r.message_group_id.is_some() || r.message_deduplication_id.is_some() {
            return Err(ApiError::invalid(
                "MessageGroupId",
                r.message_group_id.unwrap_or_default(),
                "The request include parameter that is not valid for this queue type.",
            ));
        }
        let m = send_message_of(r.message_body, r.delay_seconds, r.message_attributes)?;
        let sent = q.send_async(m).await?;
        let mut members = vec![(
            "MD5OfMessageBody",
            Out::Str(sent.md5_of_body.unwrap_or_default()),
        )];
        if let Some(md5) = sent.md5_of_attributes {
            members.push(("MD5OfMessageAttributes", Out::Str(md5)));
        }
        members.push(("MessageId", Out::Str(message_id_text(sent.message_id))));
        Ok(Out::Struct(members))
    }

    async fn send_message_batch(&self, r: input::SendMessageBatch) -> Result<Out, ApiError> {
        let q = self.queue(r.queue_url)?;
        let entries = required(r.entries, "Entries")?;
        // Entries that fail to convert still go to the engine (as empty messages, which it refuses
        // without sending) so that its whole-batch checks see every id; their own error is reported.
        let mut early: BTreeMap<usize, ApiError> = BTreeMap::new();
        let batch: Vec<(String, SendMessage)> = entries
            .into_iter()
            .enumerate()
            .map(|(i, e)| {
                let id = e.id.unwrap_or_default();
                let m = if e.message_group_id.is_some() {
                    Err(ApiError::invalid(
                        "MessageGroupId",
                        "",
                        "The request include parameter that is not valid for this queue type.",
                    ))
                } else {
                    send_message_of(e.message_body, e.delay_seconds, e.message_attributes)
                };
                match m {
                    Ok(m) => (id, m),
                    Err(err) => {
                        early.insert(i, err);
                        (id, SendMessage::default())
                    }
                }
            })
            .collect();
        let results = q.send_batch_async(batch, SQS_BATCH_LIMIT).await?;
        let (mut ok, mut bad) = (Vec::new(), Vec::new());
        for (i, (id, r)) in results.into_iter().enumerate() {
            match (early.remove(&i), r) {
                (Some(e), _) => bad.push(failed(id, &e)),
                (None, Err(e)) => bad.push(failed(id, &ApiError::from_core(&e))),
                (None, Ok(sent)) => {
                    let mut m = vec![
                        ("Id", Out::Str(id)),
                        ("MessageId", Out::Str(message_id_text(sent.message_id))),
                        (
                            "MD5OfMessageBody",
                            Out::Str(sent.md5_of_body.unwrap_or_default()),
                        ),
                    ];
                    if let Some(a) = sent.md5_of_attributes {
                        m.push(("MD5OfMessageAttributes", Out::Str(a)));
                    }
                    ok.push(Out::Struct(m));
                }
            }
        }
        Ok(batch_result("SendMessageBatchResultEntry", ok, bad))
    }

    async fn receive_message(&self, r: input::ReceiveMessage) -> Result<Out, ApiError> {
        let q = self.queue(r.queue_url)?;
        let options = ReceiveOptions {
            max_messages: to_u32("MaxNumberOfMessages", r.max_number_of_messages)?.unwrap_or(1),
            visibility_timeout: to_u32("VisibilityTimeout", r.visibility_timeout)?,
            wait_seconds: to_u32("WaitTimeSeconds", r.wait_time_seconds)?,
            max_batch: SQS_BATCH_LIMIT as u32,
        };
        let mut system = r.attribute_names.unwrap_or_default();
        system.extend(r.message_system_attribute_names.unwrap_or_default());
        system.retain(|n| n == "All" || SYSTEM_ATTRIBUTES.contains(&n.as_str()));
        let user = r.message_attribute_names.unwrap_or_default();
        let got = self.long_poll(&q, &options).await?;
        Ok(Out::Messages(Box::new(Messages {
            got,
            sender: self.st.ctx.broker.config().sender_id.clone(),
            system,
            user,
        })))
    }

    /// Receives, waiting up to the receive's wait for a message without holding a thread: awaits the
    /// queue's listener, a 50 ms tick (so timers run), the deadline or the server's shutdown, which
    /// ends the wait early with nothing.
    async fn long_poll(
        &self,
        q: &Queue,
        options: &ReceiveOptions,
    ) -> Result<Vec<Received>, ApiError> {
        let deadline = Instant::now() + q.wait_for(options);
        loop {
            let listener = match q.receive_or_listen(options)? {
                Ok(got) => return Ok(got),
                Err(listener) => listener,
            };
            let now = Instant::now();
            if now >= deadline || self.st.shutdown.is_set() {
                return Ok(Vec::new());
            }
            let wake = tokio::time::Instant::from_std((now + POLL_TICK).min(deadline));
            tokio::select! {
                _ = listener => {}
                _ = tokio::time::sleep_until(wake) => {}
                _ = self.st.shutdown.clone().wait() => return Ok(Vec::new()),
            }
        }
    }

    fn delete_message(&self, r: input::DeleteMessage) -> Result<Out, ApiError> {
        let q = self.queue(r.queue_url)?;
        q.delete_str(&required(r.receipt_handle, "ReceiptHandle")?)?;
        Ok(Out::empty())
    }

    fn delete_message_batch(&self, r: input::HandleBatch) -> Result<Out, ApiError> {
        let q = self.queue(r.queue_url)?;
        let entries = required(r.entries, "Entries")?;
        let batch = entries
            .into_iter()
            .map(|e| {
                (
                    e.id.unwrap_or_default(),
                    e.receipt_handle.unwrap_or_default(),
                )
            })
            .collect();
        let (mut ok, mut bad) = (Vec::new(), Vec::new());
        for (id, r) in q.delete_batch(batch, SQS_BATCH_LIMIT)? {
            match r {
                Ok(()) => ok.push(Out::Struct(vec![("Id", Out::Str(id))])),
                Err(e) => bad.push(failed(id, &ApiError::from_core(&e))),
            }
        }
        Ok(batch_result("DeleteMessageBatchResultEntry", ok, bad))
    }

    fn change_message_visibility(
        &self,
        r: input::ChangeMessageVisibility,
    ) -> Result<Out, ApiError> {
        let q = self.queue(r.queue_url)?;
        let handle = required(r.receipt_handle, "ReceiptHandle")?;
        let timeout = required(
            to_u32("VisibilityTimeout", r.visibility_timeout)?,
            "VisibilityTimeout",
        )?;
        q.change_visibility_str(&handle, timeout)?;
        Ok(Out::empty())
    }

    fn change_message_visibility_batch(&self, r: input::HandleBatch) -> Result<Out, ApiError> {
        let q = self.queue(r.queue_url)?;
        let entries = required(r.entries, "Entries")?;
        let mut early: BTreeMap<usize, ApiError> = BTreeMap::new();
        let batch = entries
            .into_iter()
            .enumerate()
            .map(|(i, e)| {
                let id = e.id.unwrap_or_default();
                let timeout = to_u32("VisibilityTimeout", e.visibility_timeout)
                    .and_then(|t| required(t, "VisibilityTimeout"));
                match (timeout, e.receipt_handle) {
                    (Ok(t), Some(h)) => (id, h, t),
                    (Err(err), _) => {
                        early.insert(i, err);
                        (id, String::new(), 0)
                    }
                    (Ok(_), None) => {
                        early.insert(i, ApiError::missing("ReceiptHandle"));
                        (id, String::new(), 0)
                    }
                }
            })
            .collect();
        let (mut ok, mut bad) = (Vec::new(), Vec::new());
        for (i, (id, r)) in q
            .change_visibility_batch(batch, SQS_BATCH_LIMIT)?
            .into_iter()
            .enumerate()
        {
            match (early.remove(&i), r) {
                (Some(e), _) => bad.push(failed(id, &e)),
                (None, Ok(())) => ok.push(Out::Struct(vec![("Id", Out::Str(id))])),
                (None, Err(e)) => bad.push(failed(id, &ApiError::from_core(&e))),
            }
        }
        Ok(batch_result(
            "ChangeMessageVisibilityBatchResultEntry",
            ok,
            bad,
        ))
    }

    fn tag_queue(&self, r: input::TagQueue) -> Result<Out, ApiError> {
        let q = self.queue(r.queue_url)?;
        let tags = required(r.tags, "Tags")?;
        q.tag(&pairs(Some(tags)))?;
        Ok(Out::empty())
    }

    fn untag_queue(&self, r: input::UntagQueue) -> Result<Out, ApiError> {
        let q = self.queue(r.queue_url)?;
        q.untag(&required(r.tag_keys, "TagKeys")?)?;
        Ok(Out::empty())
    }

    fn list_queue_tags(&self, r: input::QueueOnly) -> Result<Out, ApiError> {
        let tags = self.queue(r.queue_url)?.tags();
        if tags.is_empty() {
            return Ok(Out::empty());
        }
        Ok(Out::Struct(vec![(
            "Tags",
            Out::Map {
                entry: "Tag",
                key: "Key",
                value: "Value",
                items: tags.into_iter().map(|(k, v)| (k, Out::Str(v))).collect(),
            },
        )]))
    }

    fn list_dead_letter_source_queues(
        &self,
        r: input::ListDeadLetterSourceQueues,
    ) -> Result<Out, ApiError> {
        let q = self.queue(r.queue_url)?;
        let sources = self.st.ctx.broker.dead_letter_source_queues(q.name())?;
        let (sources, next) = page(sources, |q| q.name(), r.next_token, r.max_results)?;
        let mut members = vec![(
            "queueUrls",
            Out::List {
                item: "QueueUrl",
                items: sources
                    .iter()
                    .map(|q| Out::Str(self.url(q.name())))
                    .collect(),
            },
        )];
        if let Some(t) = next {
            members.push(("NextToken", Out::Str(t)));
        }
        Ok(Out::Struct(members))
    }

    fn add_permission(&self, r: input::AddPermission) -> Result<Out, ApiError> {
        let q = self.queue(r.queue_url)?;
        q.add_permission(
            &required(r.label, "Label")?,
            &required(r.aws_account_ids, "AWSAccountIds")?,
            &required(r.actions, "Actions")?,
        )?;
        Ok(Out::empty())
    }

    fn remove_permission(&self, r: input::RemovePermission) -> Result<Out, ApiError> {
        let q = self.queue(r.queue_url)?;
        q.remove_permission(&required(r.label, "Label")?)?;
        Ok(Out::empty())
    }

    fn start_message_move_task(&self, r: input::StartMessageMoveTask) -> Result<Out, ApiError> {
        let source = required(r.source_arn, "SourceArn")?;
        let handle = self.st.tasks.start(
            &self.st.ctx.broker,
            &self.st.shutdown,
            &source,
            r.destination_arn.as_deref().filter(|d| !d.is_empty()),
            r.max_number_of_messages_per_second,
        )?;
        Ok(Out::Struct(vec![("TaskHandle", Out::Str(handle))]))
    }

    fn cancel_message_move_task(&self, r: input::CancelMessageMoveTask) -> Result<Out, ApiError> {
        let moved = self
            .st
            .tasks
            .cancel(&required(r.task_handle, "TaskHandle")?)?;
        Ok(Out::Struct(vec![(
            "ApproximateNumberOfMessagesMoved",
            Out::Int(moved as i64),
        )]))
    }

    fn list_message_move_tasks(&self, r: input::ListMessageMoveTasks) -> Result<Out, ApiError> {
        let source = required(r.source_arn, "SourceArn")?;
        if self.st.ctx.broker.queue_by_arn(&source).is_none() {
            return Err(ApiError::resource_not_found(
                "The resource that you specified for the SourceArn parameter doesn't exist.",
            ));
        }
        let max = match r.max_results {
            None => 1,
            Some(m) if (1..=10).contains(&m) => m as usize,
            Some(m) => {
                return Err(ApiError::invalid(
                    "MaxResults",
                    m,
                    "MaxResults must be an integer between 1 and 10.",
                ));
            }
        };
        let items = self
            .st
            .tasks
            .list(&source, max)
            .into_iter()
            .map(|t| {
                let (status, reason) = t.status();
                let mut m = Vec::new();
                if status == move_tasks::Status::Running {
                    m.push(("TaskHandle", Out::Str(t.handle.clone())));
                }
                m.push(("Status", Out::str(status.as_str())));
                m.push(("SourceArn", Out::Str(t.source_arn.clone())));
                if let Some(d) = &t.destination_arn {
                    m.push(("DestinationArn", Out::Str(d.clone())));
                }
                if let Some(rate) = t.rate {
                    m.push(("MaxNumberOfMessagesPerSecond", Out::Int(rate.into())));
                }
                m.push((
                    "ApproximateNumberOfMessagesMoved",
                    Out::Int(t.moved.load(std::sync::atomic::Ordering::Relaxed) as i64),
                ));
                m.push((
                    "ApproximateNumberOfMessagesToMove",
                    Out::Int(t.to_move as i64),
                ));
                if let Some(reason) = reason {
                    m.push(("FailureReason", Out::Str(reason)));
                }
                m.push(("StartedTimestamp", Out::Int(t.started_ms as i64)));
                Out::Struct(m)
            })
            .collect();
        Ok(Out::Struct(vec![(
            "Results",
            Out::List {
                item: "ListMessageMoveTasksResultEntry",
                items,
            },
        )]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqsfast_core::ErrorCode;

    #[test]
    fn paging_by_name() {
        let names: Vec<String> = (0..5).map(|i| format!("q{i}")).collect();
        let (p1, t1) = page(names.clone(), |s| s.as_str(), None, Some(2)).unwrap();
        assert_eq!(p1, ["q0", "q1"]);
        let (p2, t2) = page(names.clone(), |s| s.as_str(), t1, Some(2)).unwrap();
        assert_eq!(p2, ["q2", "q3"]);
        let (p3, t3) = page(names.clone(), |s| s.as_str(), t2, Some(2)).unwrap();
        assert_eq!(p3, ["q4"]);
        assert!(t3.is_none());
        let (all, none) = page(names.clone(), |s| s.as_str(), None, None).unwrap();
        assert_eq!(all.len(), 5);
        assert!(none.is_none());
        assert!(page(names, |s| s.as_str(), None, Some(0)).is_err());
    }

    #[test]
    fn error_code_of_failed_entries_is_the_legacy_code() {
        let e = ApiError::from_code(ErrorCode::MessageNotInflight, "m");
        let Out::Struct(m) = failed("a".into(), &e) else {
            panic!()
        };
        assert_eq!(
            m[2].1,
            Out::str("AWS.SimpleQueueService.MessageNotInflight")
        );
    }
}
