//! The log's records: `[len u32][crc32c u32][payload]`, little-endian, the CRC over the payload.
//!
//! Payloads start with a kind byte:
//! - `SEND`: flags u8, queue u64, key u64, sent u64, visible_at u64, receive word u64,
//!   [original id u128], [dead-letter source ARN: u16 len + bytes], attribute count u16, each
//!   attribute (name u16+bytes, type u16+bytes, binary flag u8, value u32+bytes), then the body to
//!   the end. Written for a producer's send, a dead-letter move, and a compaction copy (same key).
//! - `RECEIVE`: key u64, receive word u64 (first receive time and receive count).
//! - `DELETE`: key u64.

use crate::message::{AttributeData, AttributeValue, Extras, MessageData, MessageId};
use std::sync::Arc;

pub const HEADER: usize = 8;
pub const SEND: u8 = 1;
pub const RECEIVE: u8 = 2;
pub const DELETE: u8 = 3;

/// A producer's send: its writer waits for it, and it is dropped from a group whose write failed
/// (the producer is told the send failed).
pub const FLAG_ACKED: u8 = 1;
const FLAG_ORIGINAL_ID: u8 = 2;
const FLAG_SOURCE_ARN: u8 = 4;

/// Largest payload a record may claim; anything bigger is damage, not a record (a message is at
/// most 1 MiB of body plus 256 KiB of attributes).
pub const MAX_PAYLOAD: usize = 4 << 20;

fn begin(buf: &mut Vec<u8>) -> usize {
    let at = buf.len();
    buf.extend_from_slice(&[0; HEADER]);
    at
}

fn finish(buf: &mut [u8], at: usize) -> usize {
    let payload = &buf[at + HEADER..];
    let len = payload.len() as u32;
    let crc = crc32c::crc32c(payload);
    buf[at..at + 4].copy_from_slice(&len.to_le_bytes());
    buf[at + 4..at + 8].copy_from_slice(&crc.to_le_bytes());
    buf.len() - at
}

fn put_str16(buf: &mut Vec<u8>, s: &[u8]) {
    buf.extend_from_slice(&(s.len() as u16).to_le_bytes());
    buf.extend_from_slice(s);
}

/// The size of the `SEND` record of a message that has its body in memory.
pub fn send_len(data: &MessageData) -> usize {
    let mut n = HEADER + 2 + 5 * 8 + 2 + data.body().len();
    if let Some(e) = data.extras() {
        if e.original_id.is_some() {
            n += 16;
        }
        if let Some(arn) = &e.dead_letter_source_arn {
            n += 2 + arn.len();
        }
        for (name, v) in &e.attributes {
            let value = match &v.value {
                AttributeData::String(s) => s.len(),
                AttributeData::Binary(b) => b.len(),
            };
            n += 2 + name.len() + 2 + v.data_type.len() + 1 + 4 + value;
        }
    }
    n
}

/// Appends a `SEND` record of `data` with `body` (its own, or read back from the log when it is
/// kept on disk only); returns its length.
pub fn put_send(
    buf: &mut Vec<u8>,
    queue: u64,
    data: &MessageData,
    body: &[u8],
    visible_at: u64,
    acked: bool,
) -> usize {
    let at = begin(buf);
    let h = data.header();
    let extras = data.extras();
    let mut flags = if acked { FLAG_ACKED } else { 0 };
    if extras.is_some_and(|e| e.original_id.is_some()) {
        flags |= FLAG_ORIGINAL_ID;
    }
    if extras.is_some_and(|e| e.dead_letter_source_arn.is_some()) {
        flags |= FLAG_SOURCE_ARN;
    }
    buf.push(SEND);
    buf.push(flags);
    for v in [queue, h.key(), h.sent_at(), visible_at, h.receive_word()] {
        buf.extend_from_slice(&v.to_le_bytes());
    }
    if let Some(e) = extras {
        if let Some(id) = e.original_id {
            buf.extend_from_slice(&id.0.to_le_bytes());
        }
        if let Some(arn) = &e.dead_letter_source_arn {
            put_str16(buf, arn.as_bytes());
        }
    }
    let attrs = data.attributes();
    buf.extend_from_slice(&(attrs.len() as u16).to_le_bytes());
    for (name, v) in attrs {
        put_str16(buf, name.as_bytes());
        put_str16(buf, v.data_type.as_bytes());
        let (binary, value) = match &v.value {
            AttributeData::String(s) => (0u8, s.as_bytes()),
            AttributeData::Binary(b) => (1u8, b.as_slice()),
        };
        buf.push(binary);
        buf.extend_from_slice(&(value.len() as u32).to_le_bytes());
        buf.extend_from_slice(value);
    }
    buf.extend_from_slice(body);
    finish(buf, at)
}

pub fn put_receive(buf: &mut Vec<u8>, key: u64, receive_word: u64) -> usize {
    let at = begin(buf);
    buf.push(RECEIVE);
    buf.extend_from_slice(&key.to_le_bytes());
    buf.extend_from_slice(&receive_word.to_le_bytes());
    finish(buf, at)
}

pub fn put_delete(buf: &mut Vec<u8>, key: u64) -> usize {
    let at = begin(buf);
    buf.push(DELETE);
    buf.extend_from_slice(&key.to_le_bytes());
    finish(buf, at)
}

/// A record read back.
#[derive(Debug)]
pub enum Record {
    Send {
        queue: u64,
        visible_at: u64,
        data: MessageData,
    },
    Receive {
        key: u64,
        receive_word: u64,
    },
    Delete {
        key: u64,
    },
    /// A `SEND` record read for its facts only ([`Keep::Nothing`]).
    Cold(SendFacts),
}

/// What reading a record at some offset found.
#[derive(Debug)]
pub enum Read {
    /// A record, and the length it takes.
    Record(Record, usize),
    /// The bytes end inside the record: a write cut short.
    Torn,
    /// A record that fails its check.
    Bad(String),
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2)
            .map(|b| u16::from_le_bytes(b.try_into().unwrap()))
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_le_bytes(b.try_into().unwrap()))
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
    }
    fn str16(&mut self) -> Option<String> {
        let n = self.u16()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
}

/// Reads the record at the start of `bytes`.
pub fn read(bytes: &[u8]) -> Read {
    read_keeping(bytes, |_| Keep::Body)
}

/// What reading a `SEND` record makes of its message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// Its data, body in memory.
    Body,
    /// Its data without the body ([`MessageData::spilled`]).
    Header,
    /// Only its facts ([`Record::Cold`]): the message stays on disk.
    Nothing,
}

/// The fixed fields of a `SEND` record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendFacts {
    pub queue: u64,
    pub key: u64,
    pub sent: u64,
    pub visible_at: u64,
    pub receive_word: u64,
    pub body_len: usize,
}

/// Reads the record at the start of `bytes`; `keep` says what a `SEND` record's message becomes.
pub fn read_keeping(bytes: &[u8], keep: impl FnOnce(&SendFacts) -> Keep) -> Read {
    if bytes.len() < HEADER {
        return Read::Torn;
    }
    let len = u32::from_le_bytes(bytes[0..4].try_into().unwrap()) as usize;
    let crc = u32::from_le_bytes(bytes[4..8].try_into().unwrap());
    if len == 0 || len > MAX_PAYLOAD {
        return Read::Bad(format!("impossible record length {len}"));
    }
    if bytes.len() < HEADER + len {
        return Read::Torn;
    }
    let payload = &bytes[HEADER..HEADER + len];
    if crc32c::crc32c(payload) != crc {
        return Read::Bad("checksum mismatch".into());
    }
    match decode(payload, keep) {
        Some(r) => Read::Record(r, HEADER + len),
        None => Read::Bad("malformed record".into()),
    }
}

/// The body of the `SEND` record of message `key` at the start of `bytes`, checked (length, CRC,
/// kind, key): how a body kept on disk only is read back.
pub fn send_body(bytes: &[u8], key: u64) -> Result<&[u8], String> {
    if bytes.len() < HEADER {
        return Err("record cut short".into());
    }
    let len = u32::from_le_bytes(bytes[0..4].try_into().unwrap()) as usize;
    let crc = u32::from_le_bytes(bytes[4..8].try_into().unwrap());
    if len == 0 || len > MAX_PAYLOAD || bytes.len() < HEADER + len {
        return Err(format!("bad record length {len}"));
    }
    let payload = &bytes[HEADER..HEADER + len];
    if crc32c::crc32c(payload) != crc {
        return Err("checksum mismatch".into());
    }
    match send_facts(payload) {
        Some((facts, at)) if facts.key == key => Ok(&payload[at..]),
        Some((facts, _)) => Err(format!("record of message {}, not {key}", facts.key)),
        None => Err("not a send record".into()),
    }
}

/// The fixed fields of a `SEND` payload and where its body starts, found without decoding the rest.
fn send_facts(payload: &[u8]) -> Option<(SendFacts, usize)> {
    let mut c = Cursor(payload);
    if c.u8()? != SEND {
        return None;
    }
    let flags = c.u8()?;
    let (queue, key, sent, visible_at, receive_word) =
        (c.u64()?, c.u64()?, c.u64()?, c.u64()?, c.u64()?);
    if flags & FLAG_ORIGINAL_ID != 0 {
        c.take(16)?;
    }
    if flags & FLAG_SOURCE_ARN != 0 {
        let n = c.u16()? as usize;
        c.take(n)?;
    }
    for _ in 0..c.u16()? {
        let n = c.u16()? as usize;
        c.take(n)?;
        let n = c.u16()? as usize;
        c.take(n + 1)?;
        let n = c.u32()? as usize;
        c.take(n)?;
    }
    let facts = SendFacts {
        queue,
        key,
        sent,
        visible_at,
        receive_word,
        body_len: c.0.len(),
    };
    Some((facts, payload.len() - c.0.len()))
}

fn decode(payload: &[u8], keep: impl FnOnce(&SendFacts) -> Keep) -> Option<Record> {
    let mut c = Cursor(payload);
    match c.u8()? {
        SEND => {
            let (facts, _) = send_facts(payload)?;
            let keep = keep(&facts);
            if keep == Keep::Nothing {
                return Some(Record::Cold(facts));
            }
            let flags = c.u8()?;
            let queue = c.u64()?;
            let key = c.u64()?;
            let sent = c.u64()?;
            let visible_at = c.u64()?;
            let receive_word = c.u64()?;
            let original_id = if flags & FLAG_ORIGINAL_ID != 0 {
                Some(MessageId(u128::from_le_bytes(
                    c.take(16)?.try_into().unwrap(),
                )))
            } else {
                None
            };
            let source: Option<Arc<str>> = if flags & FLAG_SOURCE_ARN != 0 {
                Some(c.str16()?.into())
            } else {
                None
            };
            let n = c.u16()? as usize;
            let mut attributes = Vec::with_capacity(n);
            for _ in 0..n {
                let name = c.str16()?;
                let data_type = c.str16()?;
                let binary = c.u8()? != 0;
                let len = c.u32()? as usize;
                let raw = c.take(len)?;
                let value = if binary {
                    AttributeData::Binary(raw.to_vec())
                } else {
                    AttributeData::String(String::from_utf8(raw.to_vec()).ok()?)
                };
                attributes.push((name, AttributeValue { data_type, value }));
            }
            let extras = (original_id.is_some() || source.is_some() || !attributes.is_empty())
                .then(|| {
                    Box::new(Extras {
                        attributes,
                        original_id,
                        dead_letter_source_arn: source,
                    })
                });
            let body = if keep == Keep::Body { c.0 } else { &[] };
            let data = MessageData::new(body, sent, receive_word, extras);
            data.header().set_key(key);
            Some(Record::Send {
                queue,
                visible_at,
                data,
            })
        }
        RECEIVE => Some(Record::Receive {
            key: c.u64()?,
            receive_word: c.u64()?,
        }),
        DELETE => Some(Record::Delete { key: c.u64()? }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_round_trip_and_length() {
        let extras = Extras {
            attributes: vec![
                ("a".into(), AttributeValue::string("x")),
                ("b".into(), AttributeValue::binary(vec![0, 1, 2])),
            ],
            original_id: Some(MessageId(42)),
            dead_letter_source_arn: Some("arn:aws:sqs:us-east-1:0:src".into()),
        };
        let data = MessageData::new(b"hello", 1234, 77 | (3 << 48), Some(Box::new(extras)));
        data.header().set_key(9);
        let mut buf = Vec::new();
        let n = put_send(&mut buf, 5, &data, data.body(), 999, true);
        assert_eq!(n, buf.len());
        assert_eq!(n, send_len(&data));
        assert_eq!(send_body(&buf, 9), Ok(&b"hello"[..]));
        assert!(send_body(&buf, 10).unwrap_err().contains("not 10"));
        assert!(send_body(&buf[..n - 1], 9).is_err());
        let Read::Record(Record::Send { data: spilled, .. }, _) =
            read_keeping(&buf, |_| Keep::Header)
        else {
            panic!("not a send")
        };
        assert!(spilled.spilled());
        assert_eq!(spilled.attributes(), data.attributes());
        let Read::Record(Record::Cold(facts), _) = read_keeping(&buf, |_| Keep::Nothing) else {
            panic!("not a send")
        };
        let want = SendFacts {
            queue: 5,
            key: 9,
            sent: 1234,
            visible_at: 999,
            receive_word: 77 | (3 << 48),
            body_len: 5,
        };
        assert_eq!(facts, want);
        let Read::Record(
            Record::Send {
                queue,
                visible_at,
                data: back,
            },
            len,
        ) = read(&buf)
        else {
            panic!("not a send")
        };
        assert_eq!((queue, visible_at, len), (5, 999, n));
        assert_eq!(buf[HEADER + 1] & FLAG_ACKED, FLAG_ACKED);
        assert_eq!(back.body(), b"hello");
        assert_eq!(back.header().key(), 9);
        assert_eq!(back.sent_at(), 1234);
        assert_eq!(back.header().receive_word(), 77 | (3 << 48));
        assert_eq!(back.attributes(), data.attributes());
        assert_eq!(back.extras().unwrap().original_id, Some(MessageId(42)));
    }

    #[test]
    fn torn_and_bad() {
        let mut buf = Vec::new();
        put_delete(&mut buf, 7);
        put_receive(&mut buf, 8, 1);
        assert!(matches!(
            read(&buf),
            Read::Record(Record::Delete { key: 7 }, 17)
        ));
        assert!(matches!(
            read(&buf[17..]),
            Read::Record(
                Record::Receive {
                    key: 8,
                    receive_word: 1
                },
                25
            )
        ));
        assert!(matches!(read(&buf[..10]), Read::Torn));
        let mut flipped = buf.clone();
        flipped[12] ^= 1;
        assert!(matches!(read(&flipped), Read::Bad(_)));
        assert!(matches!(read(&[0; 16]), Read::Bad(_)));
    }
}
