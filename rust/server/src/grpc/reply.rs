//! `ReceiveMessageResponse` and the batch replies, encoded straight from the engine's received
//! and sent messages and batch results.
//!
//! The reply of a receive is most of what the gRPC server writes: for each message an id, a
//! receipt handle, the body and the system attributes. Built as generated `Message` structs, each
//! message would cost four allocations (id, handle, a copy of the body, the sender id) that are
//! freed as soon as they are encoded. This type writes the same protobuf bytes from
//! [`Received`] directly: ids and handles as text on the stack, the body copied once, into the
//! reply. Decoding (the Rust client) gives the usual [`pb::Message`]s in `messages`.
//!
//! The replies of a batch send, delete or visibility change are one entry per message: built as
//! generated structs, each would allocate its entry id again (and a send's, its message id's
//! text); here the id is the request's own (see `request.rs`) and the message id is written from
//! the stack.
//!
//! `build.rs` maps `sqsfast.v1.ReceiveMessageResponse`, `sqsfast.v1.SendMessageBatchResponse`,
//! `sqsfast.v1.DeleteMessageBatchResponse` and `sqsfast.v1.ChangeMessageVisibilityBatchResponse`
//! here (`extern_path`), so the generated service and client use these types.

use super::pb;
use super::service::{batch_error, message_bytes, message_id_bytes};
use bytes::{Buf, BufMut, Bytes};
use prost::DecodeError;
use prost::encoding::{
    DecodeContext, WireType, encode_key, encode_varint, encoded_len_varint, key_len, message,
};
use sqsfast_core::{Received, Sent};
use std::sync::Arc;

/// `repeated Message messages = 1;`
#[derive(Clone, Debug, Default)]
pub struct ReceiveMessageResponse {
    /// The messages of a decoded reply (and of one built from `pb::Message`s).
    pub messages: Vec<pb::Message>,
    /// Messages encoded from the engine's, after `messages`.
    received: Vec<Received>,
    /// The `sender_id` of every message in `received`.
    sender_id: Arc<str>,
}

impl ReceiveMessageResponse {
    /// A reply of `received`, each with `sender_id`.
    pub fn from_received(received: Vec<Received>, sender_id: Arc<str>) -> Self {
        Self {
            messages: Vec::new(),
            received,
            sender_id,
        }
    }

    /// How many messages the reply holds.
    pub fn len(&self) -> usize {
        self.messages.len() + self.received.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The fields of `Message` that [`encode_received`] writes itself (those of a message without
/// attributes); a message with attributes goes through [`message_bytes`].
const MESSAGE_ID: u32 = 1;
const RECEIPT_HANDLE: u32 = 2;
const BODY: u32 = 3;
const RECEIVE_COUNT: u32 = 6;
const SENT_TIMESTAMP: u32 = 7;
const FIRST_RECEIVE_TIMESTAMP: u32 = 8;
const SENDER_ID: u32 = 9;
const DEAD_LETTER_SOURCE_ARN: u32 = 10;

pub(super) fn bytes_len(tag: u32, len: usize) -> usize {
    if len == 0 {
        0
    } else {
        key_len(tag) + encoded_len_varint(len as u64) + len
    }
}

pub(super) fn put_bytes(tag: u32, value: &[u8], buf: &mut impl BufMut) {
    if !value.is_empty() {
        encode_key(tag, WireType::LengthDelimited, buf);
        encode_varint(value.len() as u64, buf);
        buf.put_slice(value);
    }
}

fn varint_len(tag: u32, v: u64) -> usize {
    if v == 0 {
        0
    } else {
        key_len(tag) + encoded_len_varint(v)
    }
}

fn put_varint(tag: u32, v: u64, buf: &mut impl BufMut) {
    if v != 0 {
        encode_key(tag, WireType::Varint, buf);
        encode_varint(v, buf);
    }
}

/// Fields written on the stack, then into the reply with one `put_slice`: the reply's buffer
/// checks its room once for them, and keys and lengths are written inline (prost's `encode_varint`
/// goes through `BufMut` a byte at a time). Only for fields whose size is bounded by `N`.
struct Scratch<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Scratch<N> {
    fn new() -> Self {
        Self {
            bytes: [0; N],
            len: 0,
        }
    }

    #[inline]
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.bytes[self.len] = v as u8 | 0x80;
            self.len += 1;
            v >>= 7;
        }
        self.bytes[self.len] = v as u8;
        self.len += 1;
    }

    #[inline]
    fn key(&mut self, tag: u32, wire_type: WireType) {
        self.varint(u64::from(tag << 3 | wire_type as u32));
    }

    /// A length-delimited field's key and length (its bytes follow).
    #[inline]
    fn delimited(&mut self, tag: u32, len: usize) {
        self.key(tag, WireType::LengthDelimited);
        self.varint(len as u64);
    }

    /// As [`put_bytes`].
    #[inline]
    fn bytes(&mut self, tag: u32, value: &[u8]) {
        if !value.is_empty() {
            self.delimited(tag, value.len());
            self.bytes[self.len..self.len + value.len()].copy_from_slice(value);
            self.len += value.len();
        }
    }

    /// As [`put_varint`].
    #[inline]
    fn uint(&mut self, tag: u32, v: u64) {
        if v != 0 {
            self.key(tag, WireType::Varint);
            self.varint(v);
        }
    }

    fn put(&self, buf: &mut impl BufMut) {
        buf.put_slice(&self.bytes[..self.len]);
    }
}

/// The longest batch entry id SQS accepts; a reply entry with a longer one (only a failed entry
/// could have it) is written through prost.
const MAX_ENTRY_ID: usize = 80;

/// The encoded length of `r` as a `Message` (without its own key and length).
fn received_len(r: &Received, sender_id: &str) -> usize {
    if !r.attributes().is_empty() {
        return prost::Message::encoded_len(&message_bytes(r, sender_id));
    }
    bytes_len(MESSAGE_ID, 36)
        + bytes_len(RECEIPT_HANDLE, 48)
        + bytes_len(BODY, r.body().len())
        + varint_len(RECEIVE_COUNT, u64::from(r.receive_count()))
        + varint_len(SENT_TIMESTAMP, r.sent_timestamp())
        + varint_len(FIRST_RECEIVE_TIMESTAMP, r.first_receive_timestamp())
        + bytes_len(SENDER_ID, sender_id.len())
        + bytes_len(
            DEAD_LETTER_SOURCE_ARN,
            r.dead_letter_source_arn().map_or(0, str::len),
        )
}

/// Writes `r` as field 1 of the reply: the same bytes as prost writes for the `pb::Message` that
/// [`message_bytes`] builds (fields in tag order, defaults left out).
fn encode_received(r: &Received, sender_id: &str, buf: &mut impl BufMut) {
    if !r.attributes().is_empty() {
        message::encode(1, &message_bytes(r, sender_id), buf);
        return;
    }
    // Up to the body's bytes: 11 + 38 + 50 + 11 bytes at most (varints of up to ten bytes).
    let mut head = Scratch::<112>::new();
    head.delimited(1, received_len(r, sender_id));
    head.bytes(MESSAGE_ID, &message_id_bytes(r.message_id()));
    head.bytes(RECEIPT_HANDLE, r.handle().text(&mut [0u8; 48]).as_bytes());
    let body = r.body();
    if !body.is_empty() {
        head.delimited(BODY, body.len());
    }
    head.put(buf);
    buf.put_slice(body);
    // The counts and times, and the sender id's key and length: 6 + 11 + 11 + 11 at most.
    let mut tail = Scratch::<40>::new();
    tail.uint(RECEIVE_COUNT, u64::from(r.receive_count()));
    tail.uint(SENT_TIMESTAMP, r.sent_timestamp());
    tail.uint(FIRST_RECEIVE_TIMESTAMP, r.first_receive_timestamp());
    if !sender_id.is_empty() {
        tail.delimited(SENDER_ID, sender_id.len());
    }
    tail.put(buf);
    buf.put_slice(sender_id.as_bytes());
    put_bytes(
        DEAD_LETTER_SOURCE_ARN,
        r.dead_letter_source_arn().unwrap_or_default().as_bytes(),
        buf,
    );
}

impl prost::Message for ReceiveMessageResponse {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        for m in &self.messages {
            message::encode(1, m, buf);
        }
        for r in &self.received {
            encode_received(r, &self.sender_id, buf);
        }
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        if tag == 1 {
            message::merge_repeated(wire_type, &mut self.messages, buf, ctx).map_err(|mut e| {
                e.push("ReceiveMessageResponse", "messages");
                e
            })
        } else {
            prost::encoding::skip_field(wire_type, tag, buf, ctx)
        }
    }

    fn encoded_len(&self) -> usize {
        let decoded = message::encoded_len_repeated(1, &self.messages);
        let received: usize = self
            .received
            .iter()
            .map(|r| {
                let len = received_len(r, &self.sender_id);
                key_len(1) + encoded_len_varint(len as u64) + len
            })
            .sum();
        decoded + received
    }

    fn clear(&mut self) {
        self.messages.clear();
        self.received.clear();
    }
}

/// The entry ids a reply answers with: slices of the request's buffer (one reference to it for
/// the whole batch), or copies of those that are not in it.
#[derive(Clone, Debug, Default)]
struct EntryIds {
    wire: Bytes,
    own: String,
}

/// An id in [`EntryIds`]: in the request's buffer or in the copies, where and how long.
#[derive(Clone, Copy, Debug)]
struct IdAt {
    own: bool,
    at: u32,
    len: u32,
}

impl EntryIds {
    fn new(wire: Option<&Bytes>) -> Self {
        Self {
            wire: wire.cloned().unwrap_or_default(),
            own: String::new(),
        }
    }

    fn keep(&mut self, id: &str) -> IdAt {
        let start = self.wire.as_ptr() as usize;
        let at = (id.as_ptr() as usize).wrapping_sub(start);
        if at <= self.wire.len() && id.len() <= self.wire.len() - at {
            return IdAt {
                own: false,
                at: at as u32,
                len: id.len() as u32,
            };
        }
        let at = self.own.len() as u32;
        self.own.push_str(id);
        IdAt {
            own: true,
            at,
            len: id.len() as u32,
        }
    }

    /// An id `keep` gave out (for this `EntryIds`: each reply keeps its own with its ids).
    fn get(&self, id: IdAt) -> &str {
        let bytes = match id.own {
            true => self.own.as_bytes(),
            false => &self.wire,
        };
        let bytes = &bytes[id.at as usize..(id.at + id.len) as usize];
        // SAFETY: `keep` placed the span over the bytes of a `str`, in `wire` (which never
        // changes) or copied to `own` (which only grows).
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }
}

/// `repeated SendMessageBatchResult results = 1; uint32 failed = 2;`
#[derive(Clone, Debug, Default)]
pub struct SendMessageBatchResponse {
    /// The results of a decoded reply (and of one built from `pb::SendMessageBatchResult`s).
    pub results: Vec<pb::SendMessageBatchResult>,
    pub failed: u32,
    /// Results encoded from the engine's, after `results`: an entry's id and what became of it.
    ids: EntryIds,
    sent: Vec<(IdAt, sqsfast_core::Result<Sent>)>,
}

impl SendMessageBatchResponse {
    /// The reply of a batch send: the engine's result for each entry, in request order. Ids in
    /// `wire` (the request's buffer) are not copied.
    pub fn from_sent<I: AsRef<str>>(
        wire: Option<&Bytes>,
        sent: Vec<(I, sqsfast_core::Result<Sent>)>,
    ) -> Self {
        let mut ids = EntryIds::new(wire);
        Self {
            results: Vec::new(),
            failed: sent.iter().filter(|(_, r)| r.is_err()).count() as u32,
            sent: sent
                .into_iter()
                .map(|(id, r)| (ids.keep(id.as_ref()), r))
                .collect(),
            ids,
        }
    }
}

/// Fields of `SendMessageBatchResult`.
const RESULT_ID: u32 = 1;
const RESULT_MESSAGE_ID: u32 = 2;
const RESULT_MD5_OF_ATTRIBUTES: u32 = 3;

/// The encoded length of a successful entry as a `SendMessageBatchResult` (without its own key
/// and length).
fn sent_len(id: &str, sent: &Sent) -> usize {
    bytes_len(RESULT_ID, id.len())
        + bytes_len(RESULT_MESSAGE_ID, 36)
        + bytes_len(
            RESULT_MD5_OF_ATTRIBUTES,
            sent.md5_of_attributes.as_ref().map_or(0, String::len),
        )
}

/// The generated struct of a failed entry (rare; built, not hand-encoded).
fn failed_result(id: &str, e: &sqsfast_core::Error) -> pb::SendMessageBatchResult {
    pb::SendMessageBatchResult {
        id: id.to_owned(),
        error: Some(batch_error(e)),
        ..Default::default()
    }
}

fn sent_entry_len(id: &str, r: &sqsfast_core::Result<Sent>) -> usize {
    let len = match r {
        Ok(sent) => sent_len(id, sent),
        Err(e) => prost::Message::encoded_len(&failed_result(id, e)),
    };
    key_len(1) + encoded_len_varint(len as u64) + len
}

impl prost::Message for SendMessageBatchResponse {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        for r in &self.results {
            message::encode(1, r, buf);
        }
        for (id, r) in &self.sent {
            let id = self.ids.get(*id);
            let md5 = match r {
                Ok(sent) => sent.md5_of_attributes.as_deref().unwrap_or_default(),
                Err(_) => "",
            };
            match r {
                // 3 + 82 + 38 + 34 bytes at most.
                Ok(sent) if id.len() <= MAX_ENTRY_ID && md5.len() <= 32 => {
                    let mut entry = Scratch::<160>::new();
                    entry.delimited(1, sent_len(id, sent));
                    entry.bytes(RESULT_ID, id.as_bytes());
                    entry.bytes(RESULT_MESSAGE_ID, &message_id_bytes(sent.message_id));
                    entry.bytes(RESULT_MD5_OF_ATTRIBUTES, md5.as_bytes());
                    entry.put(buf);
                }
                Ok(sent) => {
                    encode_key(1, WireType::LengthDelimited, buf);
                    encode_varint(sent_len(id, sent) as u64, buf);
                    put_bytes(RESULT_ID, id.as_bytes(), buf);
                    put_bytes(RESULT_MESSAGE_ID, &message_id_bytes(sent.message_id), buf);
                    put_bytes(RESULT_MD5_OF_ATTRIBUTES, md5.as_bytes(), buf);
                }
                Err(e) => message::encode(1, &failed_result(id, e), buf),
            }
        }
        put_varint(2, u64::from(self.failed), buf);
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        match tag {
            1 => {
                message::merge_repeated(wire_type, &mut self.results, buf, ctx).map_err(|mut e| {
                    e.push("SendMessageBatchResponse", "results");
                    e
                })
            }
            2 => prost::encoding::uint32::merge(wire_type, &mut self.failed, buf, ctx).map_err(
                |mut e| {
                    e.push("SendMessageBatchResponse", "failed");
                    e
                },
            ),
            _ => prost::encoding::skip_field(wire_type, tag, buf, ctx),
        }
    }

    fn encoded_len(&self) -> usize {
        message::encoded_len_repeated(1, &self.results)
            + self
                .sent
                .iter()
                .map(|(id, r)| sent_entry_len(self.ids.get(*id), r))
                .sum::<usize>()
            + varint_len(2, u64::from(self.failed))
    }

    fn clear(&mut self) {
        self.results.clear();
        self.failed = 0;
        self.ids = EntryIds::default();
        self.sent.clear();
    }
}

/// `repeated BatchResult results = 1; uint32 failed = 2;`: the reply of a batch delete
/// (`DeleteMessageBatchResponse`) and of a batch visibility change
/// (`ChangeMessageVisibilityBatchResponse`), which are the same message.
#[derive(Clone, Debug, Default)]
pub struct BatchResponse {
    /// The results of a decoded reply (and of one built from `pb::BatchResult`s).
    pub results: Vec<pb::BatchResult>,
    pub failed: u32,
    /// Results encoded from the engine's, after `results`.
    ids: EntryIds,
    done: Vec<(IdAt, sqsfast_core::Result<()>)>,
}

impl BatchResponse {
    /// The reply of a batch without result values: the engine's result for each entry, in
    /// request order. Ids in `wire` (the request's buffer) are not copied.
    pub fn from_done<I: AsRef<str>>(
        wire: Option<&Bytes>,
        done: Vec<(I, sqsfast_core::Result<()>)>,
    ) -> Self {
        let mut ids = EntryIds::new(wire);
        Self {
            results: Vec::new(),
            failed: done.iter().filter(|(_, r)| r.is_err()).count() as u32,
            done: done
                .into_iter()
                .map(|(id, r)| (ids.keep(id.as_ref()), r))
                .collect(),
            ids,
        }
    }
}

/// The generated struct of a failed entry (rare; built, not hand-encoded).
fn failed_unit(id: &str, e: &sqsfast_core::Error) -> pb::BatchResult {
    pb::BatchResult {
        id: id.to_owned(),
        error: Some(batch_error(e)),
    }
}

fn done_entry_len(id: &str, r: &sqsfast_core::Result<()>) -> usize {
    let len = match r {
        Ok(()) => bytes_len(RESULT_ID, id.len()),
        Err(e) => prost::Message::encoded_len(&failed_unit(id, e)),
    };
    key_len(1) + encoded_len_varint(len as u64) + len
}

impl prost::Message for BatchResponse {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        for r in &self.results {
            message::encode(1, r, buf);
        }
        for (id, r) in &self.done {
            let id = self.ids.get(*id);
            match r {
                // 3 + 82 bytes at most.
                Ok(()) if id.len() <= MAX_ENTRY_ID => {
                    let mut entry = Scratch::<88>::new();
                    entry.delimited(1, bytes_len(RESULT_ID, id.len()));
                    entry.bytes(RESULT_ID, id.as_bytes());
                    entry.put(buf);
                }
                Ok(()) => {
                    encode_key(1, WireType::LengthDelimited, buf);
                    encode_varint(bytes_len(RESULT_ID, id.len()) as u64, buf);
                    put_bytes(RESULT_ID, id.as_bytes(), buf);
                }
                Err(e) => message::encode(1, &failed_unit(id, e), buf),
            }
        }
        put_varint(2, u64::from(self.failed), buf);
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        match tag {
            1 => {
                message::merge_repeated(wire_type, &mut self.results, buf, ctx).map_err(|mut e| {
                    e.push("BatchResponse", "results");
                    e
                })
            }
            2 => prost::encoding::uint32::merge(wire_type, &mut self.failed, buf, ctx).map_err(
                |mut e| {
                    e.push("BatchResponse", "failed");
                    e
                },
            ),
            _ => prost::encoding::skip_field(wire_type, tag, buf, ctx),
        }
    }

    fn encoded_len(&self) -> usize {
        message::encoded_len_repeated(1, &self.results)
            + self
                .done
                .iter()
                .map(|(id, r)| done_entry_len(self.ids.get(*id), r))
                .sum::<usize>()
            + varint_len(2, u64::from(self.failed))
    }

    fn clear(&mut self) {
        self.results.clear();
        self.failed = 0;
        self.ids = EntryIds::default();
        self.done.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytestring::ByteString;
    use prost::Message as _;
    use sqsfast_core::{AttributeValue, Broker, ReceiveOptions, SendMessage};

    fn receive(q: &sqsfast_core::Queue, visibility: u32) -> Vec<Received> {
        q.receive(&ReceiveOptions {
            max_messages: 10,
            visibility_timeout: Some(visibility),
            ..Default::default()
        })
        .unwrap()
    }

    fn received() -> Vec<Received> {
        let b = Broker::new(Default::default());
        let dlq = b.create_queue("dlq", &[], &[]).unwrap();
        let redrive = format!(
            r#"{{"deadLetterTargetArn":"{}","maxReceiveCount":"1"}}"#,
            dlq.arn()
        );
        let q = b
            .create_queue("q", &[("RedrivePolicy".into(), redrive)], &[])
            .unwrap();
        q.send(SendMessage::new("plain")).unwrap();
        q.send(SendMessage::new("x".repeat(300))).unwrap(); // lengths over one varint byte
        q.send(SendMessage {
            attributes: vec![("a".into(), AttributeValue::string("1"))],
            ..SendMessage::new("with attributes")
        })
        .unwrap();
        let mut got = receive(&q, 30);
        // One more, received twice: the second receive moves it to the dead-letter queue, where
        // it carries its source queue's ARN.
        q.send(SendMessage::new("poison")).unwrap();
        assert_eq!(receive(&q, 0).len(), 1);
        assert!(receive(&q, 0).is_empty());
        got.extend(receive(&dlq, 30));
        assert_eq!(got.len(), 4);
        assert!(got[3].dead_letter_source_arn().is_some());
        got
    }

    #[test]
    fn encodes_what_prost_encodes_for_the_same_messages() {
        let got = received();
        let sender: Arc<str> = "AIDSQSFAST".into();
        let fast = ReceiveMessageResponse::from_received(got.clone(), sender.clone());
        let slow = ReceiveMessageResponse {
            messages: got.iter().map(|r| message_bytes(r, &sender)).collect(),
            ..Default::default()
        };
        assert_eq!(fast.encoded_len(), slow.encoded_len());
        let bytes = fast.encode_to_vec();
        assert_eq!(bytes.len(), fast.encoded_len());
        assert_eq!(bytes, slow.encode_to_vec());
        let back = ReceiveMessageResponse::decode(bytes.as_slice()).unwrap();
        assert_eq!(back.messages, slow.messages);
        assert_eq!(back.len(), 4);
        assert!(back.messages.iter().any(|m| m.body.len() == 300));
        assert!(
            back.messages
                .iter()
                .any(|m| !m.message_attributes.is_empty())
        );
        assert!(
            back.messages
                .iter()
                .any(|m| !m.dead_letter_source_arn.is_empty())
        );
    }

    #[test]
    fn batch_send_replies_encode_what_prost_encodes() {
        let b = Broker::new(Default::default());
        let q = b.create_queue("q", &[], &[]).unwrap();
        let entries: Vec<(ByteString, _)> = vec![
            ("a".into(), SendMessage::new("plain")),
            (
                "with-attributes".into(),
                SendMessage {
                    attributes: vec![("k".into(), AttributeValue::string("v"))],
                    ..SendMessage::new("body")
                },
            ),
            ("empty".into(), SendMessage::default()), // refused: an empty body
            ("b".into(), SendMessage::new("x".repeat(300))),
            // The longest id an entry may have.
            ("y".repeat(MAX_ENTRY_ID).into(), SendMessage::new("long id")),
        ];
        let sent = q.send_batch(entries, 10).unwrap();
        assert!(sent[2].1.is_err());
        assert!(sent[4].1.is_ok());
        let slow = SendMessageBatchResponse {
            results: sent
                .iter()
                .map(|(id, r)| match r {
                    Ok(s) => pb::SendMessageBatchResult {
                        id: id.to_string(),
                        message_id: s.message_id.to_string(),
                        md5_of_message_attributes: s.md5_of_attributes.clone().unwrap_or_default(),
                        error: None,
                    },
                    Err(e) => failed_result(id, e),
                })
                .collect(),
            failed: 1,
            ..Default::default()
        };
        let fast = SendMessageBatchResponse::from_sent(None, sent);
        assert_eq!(fast.failed, 1);
        assert_eq!(fast.encoded_len(), slow.encoded_len());
        let bytes = fast.encode_to_vec();
        assert_eq!(bytes.len(), fast.encoded_len());
        assert_eq!(bytes, slow.encode_to_vec());
        let back = SendMessageBatchResponse::decode(bytes.as_slice()).unwrap();
        assert_eq!(back.results, slow.results);
        assert_eq!(back.failed, 1);
        assert_eq!(back.results[1].md5_of_message_attributes.len(), 32);
        assert_eq!(
            back.results[2].error.as_ref().unwrap().code,
            "MissingParameter"
        );
    }

    #[test]
    fn batch_delete_replies_encode_what_prost_encodes() {
        let b = Broker::new(Default::default());
        let q = b.create_queue("q", &[], &[]).unwrap();
        q.send(SendMessage::new("m")).unwrap();
        q.send(SendMessage::new("n")).unwrap();
        let handles: Vec<String> = receive(&q, 30)
            .iter()
            .map(|r| r.handle().to_string())
            .collect();
        let entries: Vec<(ByteString, ByteString)> = vec![
            ("ok".into(), handles[0].clone().into()),
            ("z".repeat(MAX_ENTRY_ID).into(), handles[1].clone().into()),
            ("bad-handle".into(), "not a handle".into()),
            ("x".repeat(80).into(), "AAAA".into()),
        ];
        let done = q.delete_batch(entries, 10).unwrap();
        let slow = BatchResponse {
            results: done
                .iter()
                .map(|(id, r)| pb::BatchResult {
                    id: id.to_string(),
                    error: r.as_ref().err().map(batch_error),
                })
                .collect(),
            failed: 2,
            ..Default::default()
        };
        let fast = BatchResponse::from_done(None, done);
        assert_eq!(fast.failed, 2);
        assert_eq!(fast.encoded_len(), slow.encoded_len());
        let bytes = fast.encode_to_vec();
        assert_eq!(bytes.len(), fast.encoded_len());
        assert_eq!(bytes, slow.encode_to_vec());
        let back = BatchResponse::decode(bytes.as_slice()).unwrap();
        assert_eq!(back.results, slow.results);
        assert_eq!(back.failed, 2);
        assert!(back.results[0].error.is_none());
        assert!(back.results[1].error.is_none());
        assert_eq!(
            back.results[2].error.as_ref().unwrap().code,
            "ReceiptHandleIsInvalid"
        );
    }
}
