//! The protobuf of the three RPCs of the hot loop, written and read by hand.
//!
//! A request is written straight from the runner's bodies and tokens: no generated entry, `String`
//! id or copied body per message. A reply is kept whole as it arrived ([`RawCodec`]) and read in
//! place: a received body and receipt handle are slices of it, and the fields the runner does not
//! use (message ids, timestamps, sender ids) are stepped over. Each is what prost writes and reads
//! for the messages of `proto/sqsfast/v1/queue.proto` (the tests check it).

use crate::driver::{Error, Received, Token};
use bytes::{Buf, BufMut, Bytes};
use prost::encoding::{
    DecodeContext, WireType, decode_varint, encode_key, encode_varint, encoded_len_varint,
};
use prost::{DecodeError, Message};
use sqsfast_server::grpc::codec::ProtoEncoder;
use std::marker::PhantomData;
use std::ops::Range;
use std::sync::Arc;
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder};

/// Requests encoded by prost (generated or hand-written [`Message`]s) as the server encodes its
/// replies; replies kept as bytes.
pub struct RawCodec<T>(PhantomData<T>);

impl<T> Default for RawCodec<T> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<T: Message + Send + 'static> Codec for RawCodec<T> {
    type Encode = T;
    type Decode = Bytes;
    type Encoder = ProtoEncoder<T>;
    type Decoder = RawDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        ProtoEncoder::default()
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawDecoder
    }
}

pub struct RawDecoder;

impl Decoder for RawDecoder {
    type Item = Bytes;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        // The decode buffer's bytes, handed over without a copy.
        Ok(Some(buf.copy_to_bytes(buf.remaining())))
    }
}

// ---- requests ---------------------------------------------------------------------------------

/// Entry ids are "0", "1", …: the entry's place in the batch.
fn id_len(i: usize) -> usize {
    i.checked_ilog10().unwrap_or(0) as usize + 1
}

fn put_id(i: usize, buf: &mut impl BufMut) {
    let mut digits = [0u8; 20];
    let n = id_len(i);
    let mut v = i;
    for d in digits[..n].iter_mut().rev() {
        *d = b'0' + (v % 10) as u8;
        v /= 10;
    }
    buf.put_slice(&digits[..n]);
}

/// Length of field `tag` holding `len` bytes.
fn len_field(len: usize) -> usize {
    1 + encoded_len_varint(len as u64) + len
}

fn put_len_field(tag: u32, bytes: &[u8], buf: &mut impl BufMut) {
    encode_key(tag, WireType::LengthDelimited, buf);
    encode_varint(bytes.len() as u64, buf);
    buf.put_slice(bytes);
}

/// An entry `{id: "<i>", <tag>: value}` of a batch (field 2 of the request); an empty value is
/// left out, as proto3 leaves out a field at its default.
fn entry_len(i: usize, value_len: usize) -> usize {
    len_field(id_len(i))
        + if value_len == 0 {
            0
        } else {
            len_field(value_len)
        }
}

fn put_entry(i: usize, tag: u32, value: &[u8], buf: &mut impl BufMut) {
    encode_key(2, WireType::LengthDelimited, buf);
    encode_varint(entry_len(i, value.len()) as u64, buf);
    encode_key(1, WireType::LengthDelimited, buf);
    encode_varint(id_len(i) as u64, buf);
    put_id(i, buf);
    if !value.is_empty() {
        put_len_field(tag, value, buf);
    }
}

fn batch_len(queue: &str, values: impl Iterator<Item = usize>) -> usize {
    let entries: usize = values
        .enumerate()
        .map(|(i, len)| len_field(entry_len(i, len)))
        .sum();
    let queue = if queue.is_empty() {
        0
    } else {
        len_field(queue.len())
    };
    queue + entries
}

fn put_queue(queue: &str, buf: &mut impl BufMut) {
    if !queue.is_empty() {
        put_len_field(1, queue.as_bytes(), buf);
    }
}

/// A batch request whose entries are `{id: "<i>", 2: value}`: `SendMessageBatchRequest` with
/// message bodies (no delay, no attributes), or `DeleteMessageBatchRequest` with receipt handles.
/// The values are shared, so that a call made again (see `GrpcConn::unary`) is not a copy.
#[derive(Debug, Default)]
pub struct Batch {
    pub queue: String,
    pub values: Arc<[Bytes]>,
}

impl Message for Batch {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        put_queue(&self.queue, buf);
        for (i, v) in self.values.iter().enumerate() {
            put_entry(i, 2, v, buf);
        }
    }

    /// Never asked of a request: the server decodes them.
    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        prost::encoding::skip_field(wire_type, tag, buf, ctx)
    }

    fn encoded_len(&self) -> usize {
        batch_len(&self.queue, self.values.iter().map(Bytes::len))
    }

    fn clear(&mut self) {
        self.queue.clear();
        self.values = Arc::default();
    }
}

// ---- replies ----------------------------------------------------------------------------------

enum Value {
    Varint(u64),
    /// A length-delimited field: where its bytes are in the message.
    Bytes(Range<usize>),
    /// A fixed 32- or 64-bit field.
    Fixed,
}

/// The fields of one message in order, as (tag, value). Malformed bytes end the walk early and
/// make [`Fields::check`] fail.
struct Fields<'a> {
    msg: &'a [u8],
    rest: &'a [u8],
    malformed: bool,
}

impl<'a> Fields<'a> {
    fn new(msg: &'a [u8]) -> Self {
        Self {
            msg,
            rest: msg,
            malformed: false,
        }
    }

    fn check(&self) -> Result<(), ()> {
        if self.malformed { Err(()) } else { Ok(()) }
    }

    /// A varint; one of a single byte (every key and short length here) read inline.
    fn varint(&mut self) -> Option<u64> {
        match self.rest.first() {
            Some(&b) if b < 0x80 => {
                self.rest = &self.rest[1..];
                Some(u64::from(b))
            }
            _ => decode_varint(&mut self.rest).ok(),
        }
    }

    fn field(&mut self) -> Option<(u32, Value)> {
        let key = self.varint()?;
        let wire_type = WireType::try_from(key & 7).ok()?;
        let tag = u32::try_from(key >> 3).ok().filter(|&t| t > 0)?;
        let len = match wire_type {
            WireType::Varint => return Some((tag, Value::Varint(self.varint()?))),
            WireType::LengthDelimited => usize::try_from(self.varint()?).ok()?,
            WireType::ThirtyTwoBit => 4,
            WireType::SixtyFourBit => 8,
            // Groups are proto2; no reply of this API has one.
            WireType::StartGroup | WireType::EndGroup => return None,
        };
        if len > self.rest.len() {
            return None;
        }
        let start = self.msg.len() - self.rest.len();
        self.rest = &self.rest[len..];
        Some(match wire_type {
            WireType::LengthDelimited => (tag, Value::Bytes(start..start + len)),
            _ => (tag, Value::Fixed),
        })
    }
}

impl Iterator for Fields<'_> {
    type Item = (u32, Value);

    fn next(&mut self) -> Option<(u32, Value)> {
        if self.rest.is_empty() {
            return None;
        }
        let field = self.field();
        if field.is_none() {
            self.malformed = true;
            self.rest = &[];
        }
        field
    }
}

fn malformed(what: &str) -> Error {
    format!("malformed {what} reply").into()
}

/// The messages of a `ReceiveMessageResponse`: body and receipt handle of each, as slices of
/// `reply`.
pub fn received(reply: &Bytes) -> Result<Vec<Received>, Error> {
    let mut out = Vec::new();
    let mut messages = Fields::new(reply);
    for field in &mut messages {
        let (1, Value::Bytes(msg)) = field else {
            continue;
        };
        let at = |r: Range<usize>| reply.slice(msg.start + r.start..msg.start + r.end);
        let mut handle = Bytes::new();
        let mut body = Bytes::new();
        let mut fields = Fields::new(&reply[msg.clone()]);
        for field in &mut fields {
            match field {
                (2, Value::Bytes(r)) => handle = at(r),
                (3, Value::Bytes(r)) => body = at(r),
                _ => {}
            }
        }
        fields.check().map_err(|()| malformed("ReceiveMessage"))?;
        out.push(Received {
            body,
            token: Token::Bytes(handle),
        });
    }
    messages.check().map_err(|()| malformed("ReceiveMessage"))?;
    Ok(out)
}

/// Field 2 (`failed`) of a `SendMessageBatchResponse` or `DeleteMessageBatchResponse`.
pub fn failed(reply: &[u8], what: &str) -> Result<u32, Error> {
    let mut failed = 0;
    let mut fields = Fields::new(reply);
    for field in &mut fields {
        if let (2, Value::Varint(n)) = field {
            failed = n as u32;
        }
    }
    fields.check().map_err(|()| malformed(what))?;
    Ok(failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pb;
    use crate::targets::grpc::lean;

    fn bodies(n: usize) -> Vec<Bytes> {
        (0..n)
            .map(|i| Bytes::from("é-body-".repeat(i * 7 % 50)))
            .collect()
    }

    #[test]
    fn hand_written_requests_are_what_prost_writes() {
        for n in [0, 1, 9, 10, 11, 99, 100, 101, 1000] {
            for queue in ["", "q", &"long-queue-name".repeat(12)] {
                let bodies = bodies(n);
                let ours = Batch {
                    queue: queue.into(),
                    values: bodies.clone().into(),
                };
                let prost = pb::SendMessageBatchRequest {
                    queue_name: queue.into(),
                    entries: bodies
                        .iter()
                        .enumerate()
                        .map(|(i, b)| pb::SendMessageBatchEntry {
                            id: i.to_string(),
                            message_body: b.clone(),
                            ..Default::default()
                        })
                        .collect(),
                    max_entries: 0,
                };
                assert_eq!(ours.encoded_len(), prost.encoded_len(), "{n} entries");
                assert_eq!(ours.encode_to_vec(), prost.encode_to_vec(), "{n} entries");

                let ours = Batch {
                    queue: queue.into(),
                    values: bodies.clone().into(),
                };
                let prost = pb::DeleteMessageBatchRequest {
                    queue_name: queue.into(),
                    entries: bodies
                        .iter()
                        .enumerate()
                        .map(|(i, b)| pb::DeleteMessageBatchEntry {
                            id: i.to_string(),
                            receipt_handle: String::from_utf8(b.to_vec()).unwrap(),
                        })
                        .collect(),
                    max_entries: 0,
                };
                assert_eq!(ours.encoded_len(), prost.encoded_len(), "{n} entries");
                assert_eq!(ours.encode_to_vec(), prost.encode_to_vec(), "{n} entries");
            }
        }
    }

    fn reply(n: usize) -> pb::ReceiveMessageResponse {
        pb::ReceiveMessageResponse {
            messages: bodies(n)
                .into_iter()
                .enumerate()
                .map(|(i, body)| pb::Message {
                    message_id: format!("{i:08}-0000-4000-8000-000000000000"),
                    receipt_handle: format!("handle-{i}-").repeat(i % 5),
                    body,
                    message_attributes: (0..i % 3)
                        .map(|k| {
                            let value = pb::MessageAttributeValue {
                                data_type: "Number".into(),
                                value: Some(pb::message_attribute_value::Value::StringValue(
                                    k.to_string(),
                                )),
                            };
                            (format!("a{k}"), value)
                        })
                        .collect(),
                    md5_of_message_attributes: "d41d8cd98f00b204e9800998ecf8427e".into(),
                    receive_count: i as u32,
                    sent_timestamp: 1_700_000_000_000 + i as u64,
                    first_receive_timestamp: u64::MAX - i as u64,
                    sender_id: "000000000000".into(),
                    dead_letter_source_arn: String::new(),
                })
                .collect(),
        }
    }

    #[test]
    fn replies_read_in_place_are_what_prost_reads() {
        for n in [0, 1, 2, 10, 37] {
            let wire = Bytes::from(reply(n).encode_to_vec());
            let ours = received(&wire).unwrap();
            let prost = lean::ReceiveMessageResponse::decode(wire.clone()).unwrap();
            assert_eq!(ours.len(), prost.messages.len());
            for (o, p) in ours.iter().zip(&prost.messages) {
                assert_eq!(o.body, p.body);
                let Token::Bytes(h) = &o.token else {
                    panic!("a gRPC receipt handle is bytes")
                };
                assert_eq!(h, p.receipt_handle.as_bytes());
            }
        }
        for failed_n in [0, 1, 300] {
            let send = pb::SendMessageBatchResponse {
                results: vec![pb::SendMessageBatchResult::default(); 3],
                failed: failed_n,
            };
            let delete = pb::DeleteMessageBatchResponse {
                results: vec![pb::BatchResult::default(); 3],
                failed: failed_n,
            };
            assert_eq!(failed(&send.encode_to_vec(), "send").unwrap(), failed_n);
            assert_eq!(failed(&delete.encode_to_vec(), "delete").unwrap(), failed_n);
        }
    }

    #[test]
    fn a_cut_reply_is_an_error() {
        let wire = reply(3).encode_to_vec();
        // Every cut inside the message is refused (a cut at a field boundary of the top level
        // reads as fewer messages, as prost reads it).
        for cut in 1..wire.len() {
            let part = Bytes::copy_from_slice(&wire[..cut]);
            let prost = lean::ReceiveMessageResponse::decode(part.clone());
            assert_eq!(received(&part).is_ok(), prost.is_ok(), "cut at {cut}");
        }
    }
}
