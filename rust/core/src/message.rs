//! Messages: what a producer sends, what the engine keeps, what a consumer receives.

use crate::error::{Error, ErrorCode, Result};
use crate::handle::ReceiptHandle;
use crate::sync::atomic::Ordering::Relaxed;
use bytes::Bytes;
use md5::{Digest, Md5};
use std::fmt;
use std::sync::Arc;

/// The value of one message attribute. `data_type` is `String`, `Number` or `Binary`, optionally
/// followed by `.label` (`Number.float`, `Binary.png`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttributeValue {
    pub data_type: String,
    pub value: AttributeData,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttributeData {
    /// For `String` and `Number` types.
    String(String),
    /// For `Binary` types.
    Binary(Vec<u8>),
}

impl AttributeValue {
    pub fn string(value: impl Into<String>) -> Self {
        Self {
            data_type: "String".into(),
            value: AttributeData::String(value.into()),
        }
    }
    pub fn number(value: impl Into<String>) -> Self {
        Self {
            data_type: "Number".into(),
            value: AttributeData::String(value.into()),
        }
    }
    pub fn binary(value: impl Into<Vec<u8>>) -> Self {
        Self {
            data_type: "Binary".into(),
            value: AttributeData::Binary(value.into()),
        }
    }

    /// The base type: `String`, `Number` or `Binary` (the part before any `.label`).
    pub fn base_type(&self) -> &str {
        self.data_type.split('.').next().unwrap_or("")
    }

    fn value_bytes(&self) -> &[u8] {
        match &self.value {
            AttributeData::String(s) => s.as_bytes(),
            AttributeData::Binary(b) => b,
        }
    }
}

/// Message attributes, sorted by name (names are unique).
pub type MessageAttributes = Vec<(String, AttributeValue)>;

/// A message to send.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SendMessage<B = Bytes> {
    /// The body: UTF-8 text of SQS's allowed characters. `Bytes`, or any bytes (`B`) that live as
    /// long as the send: a batch send copies each body into the queue, so a front end can lend
    /// slices of the request they arrived in.
    pub body: B,
    /// Per-message delay, 0–900 s; `None` takes the queue's `DelaySeconds`.
    pub delay_seconds: Option<u32>,
    /// Up to 10 message attributes, in any order.
    pub attributes: Vec<(String, AttributeValue)>,
    /// Compute the body's MD5 at send ([`Sent::md5_of_body`]) and keep it with the message, so
    /// that a receive answers with it without hashing the body again: for front ends that answer
    /// with it (the SQS API). 16 bytes more per message while its body is in memory.
    pub want_md5: bool,
}

impl SendMessage<Bytes> {
    pub fn new(body: impl Into<Vec<u8>>) -> Self {
        Self {
            body: body.into().into(),
            ..Self::default()
        }
    }
}

/// A message id: 128 bits, shown as a UUID like SQS's.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(pub u128);

impl MessageId {
    /// Makes the bits look like a version-4 UUID, as SQS's ids do.
    pub(crate) fn from_bits(bits: u128) -> Self {
        let bits = (bits & !(0xF << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62);
        Self(bits)
    }
}

/// Each byte's two lowercase hex digits: for writing ids and other hex text without the
/// formatting machinery.
pub const HEX_PAIRS: [[u8; 2]; 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut t = [[0; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [HEX[i >> 4], HEX[i & 15]];
        i += 1;
    }
    t
};

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        write!(
            f,
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            (v >> 96) as u32,
            (v >> 80) as u16,
            (v >> 64) as u16,
            (v >> 48) as u16,
            (v as u64) & 0xffff_ffff_ffff
        )
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// What a message carries beyond its body and times; boxed because most messages have none.
#[derive(Clone, Debug, Default)]
pub(crate) struct Extras {
    pub attributes: MessageAttributes,
    /// The id the message was first sent with, for messages moved between queues.
    pub original_id: Option<MessageId>,
    /// The ARN of the queue a dead-lettered message came from.
    pub dead_letter_source_arn: Option<Arc<str>>,
}

/// The low 48 bits of a packed header word: epoch milliseconds (good until the year 10889).
pub(crate) const MS_MASK: u64 = (1 << 48) - 1;

/// In a header's sent word: the slice holds the body and then the body's MD5 (16 bytes).
const WITH_MD5: u64 = 1 << 63;
const MD5_LEN: usize = 16;

/// What a stored message keeps besides its body. One of its words packs a time with a 16-bit field
/// that only durable queues use, so that a message costs the same memory in both modes.
#[derive(Debug)]
pub(crate) struct Header {
    /// Sent time in ms (low 48 bits); [`WITH_MD5`].
    sent: u64,
    /// First receive time in ms (low 48 bits, 0 = never received); in a durable queue, the receive
    /// count last logged (high 16).
    first_receive: crate::sync::atomic::AtomicU64,
    pub extras: Option<Box<Extras>>,
    /// In a durable queue, the message's key in the log (unique for the life of the data
    /// directory); 0 in memory.
    key: crate::sync::atomic::AtomicU64,
}

impl Header {
    pub fn sent_at(&self) -> u64 {
        self.sent & MS_MASK
    }
    pub fn first_receive(&self) -> u64 {
        self.first_receive.load(Relaxed) & MS_MASK
    }
    /// Records the first receive time if there was none.
    pub fn received_first_at(&self, now: u64) {
        let _ = self.first_receive.fetch_update(Relaxed, Relaxed, |v| {
            (v & MS_MASK == 0).then_some(v | (now & MS_MASK))
        });
    }
    /// The packed first-receive word (time and logged receive count), as the log stores it.
    pub fn receive_word(&self) -> u64 {
        self.first_receive.load(Relaxed)
    }
    pub fn set_receive_word(&self, word: u64) {
        self.first_receive.store(word, Relaxed);
    }
    /// Sets the receive count the log holds for this message.
    pub fn set_logged_receives(&self, count: u32) {
        let count = u64::from(count.min(u16::MAX as u32));
        let _ = self
            .first_receive
            .fetch_update(Relaxed, Relaxed, |v| Some((v & MS_MASK) | (count << 48)));
    }
    pub fn key(&self) -> u64 {
        self.key.load(Relaxed)
    }
    pub fn set_key(&self, key: u64) {
        self.key.store(key, Relaxed);
    }
}

/// A stored message: header and body in one reference-counted allocation (a thin pointer), since
/// this is the per-message memory cost of the engine: two allocations and a fat `Arc` would add
/// 32 bytes to every message.
#[derive(Clone, Debug)]
pub(crate) struct MessageData(triomphe::ThinArc<Header, u8>);

impl MessageData {
    /// `first_receive` is the packed word of [`Header::receive_word`] (a plain time in memory).
    pub fn new(body: &[u8], sent_at: u64, first_receive: u64, extras: Option<Box<Extras>>) -> Self {
        let header = Header {
            sent: sent_at & MS_MASK,
            first_receive: crate::sync::atomic::AtomicU64::new(first_receive),
            extras,
            key: crate::sync::atomic::AtomicU64::new(0),
        };
        Self(triomphe::ThinArc::from_header_and_slice(header, body))
    }
    /// A new message (never received) that keeps its body's MD5 after the body.
    pub fn with_md5(body: &[u8], md5: [u8; 16], sent_at: u64, extras: Option<Box<Extras>>) -> Self {
        let header = Header {
            sent: sent_at & MS_MASK | WITH_MD5,
            first_receive: crate::sync::atomic::AtomicU64::new(0),
            extras,
            key: crate::sync::atomic::AtomicU64::new(0),
        };
        // Body and digest copied in as two slices (an iterator over both went byte by byte).
        let len = body.len() + MD5_LEN;
        let mut arc = triomphe::UniqueArc::from_header_and_uninit_slice(
            triomphe::HeaderWithLength::new(header, len),
            len,
        );
        let dst = arc.slice.as_mut_ptr().cast::<u8>();
        // SAFETY: `dst` has room for `len` bytes, written here in full (body, then digest), from
        // sources that cannot overlap a fresh allocation.
        let arc = unsafe {
            std::ptr::copy_nonoverlapping(body.as_ptr(), dst, body.len());
            std::ptr::copy_nonoverlapping(md5.as_ptr(), dst.add(body.len()), MD5_LEN);
            arc.assume_init_slice_with_header()
        };
        Self(triomphe::Arc::into_thin(arc.shareable()))
    }
    /// The same message with its body left on disk (a durable queue over its memory budget): a
    /// header only. Bodies are never empty, so an empty one marks it.
    pub fn without_body(&self) -> Self {
        let h = self.header();
        let header = Header {
            sent: h.sent & MS_MASK,
            first_receive: crate::sync::atomic::AtomicU64::new(h.first_receive.load(Relaxed)),
            extras: h.extras.clone(),
            key: crate::sync::atomic::AtomicU64::new(h.key()),
        };
        Self(triomphe::ThinArc::from_header_and_slice(header, &[]))
    }
    /// Whether the body is only on disk ([`MessageData::without_body`]); the log reads it back.
    pub fn spilled(&self) -> bool {
        self.0.slice.is_empty()
    }
    /// The body; empty when [`MessageData::spilled`].
    pub fn body(&self) -> &[u8] {
        let s = &self.0.slice;
        if self.header().sent & WITH_MD5 != 0 {
            &s[..s.len() - MD5_LEN]
        } else {
            s
        }
    }
    /// The body's MD5, when the message keeps it ([`MessageData::with_md5`]).
    pub fn body_md5(&self) -> Option<&[u8]> {
        let s = &self.0.slice;
        (self.header().sent & WITH_MD5 != 0).then(|| &s[s.len() - MD5_LEN..])
    }
    pub fn header(&self) -> &Header {
        &self.0.header.header
    }
    pub fn sent_at(&self) -> u64 {
        self.header().sent_at()
    }
    pub fn extras(&self) -> Option<&Extras> {
        self.header().extras.as_deref()
    }
    pub fn attributes(&self) -> &[(String, AttributeValue)] {
        self.extras().map_or(&[], |e| &e.attributes)
    }
}

/// The result of a successful send. The MD5 of the body is computed only when the send asks for it
/// ([`SendMessage::want_md5`]): it costs more than the rest of a send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    pub message_id: MessageId,
    /// Hex MD5 of the body, when the send asked for it ([`SendMessage::want_md5`]).
    pub md5_of_body: Option<String>,
    /// Hex MD5 of the message attributes; `None` without attributes.
    pub md5_of_attributes: Option<String>,
}

/// A received message: its data, its receipt handle and its system attributes.
#[derive(Clone, Debug)]
pub struct Received {
    pub(crate) data: MessageData,
    /// The body read back from the log, when `data` has its body on disk only.
    pub(crate) loaded: Option<Box<[u8]>>,
    pub(crate) handle: ReceiptHandle,
    pub(crate) message_id: MessageId,
    pub(crate) receive_count: u32,
}

impl Received {
    pub fn body(&self) -> &[u8] {
        self.loaded.as_deref().unwrap_or_else(|| self.data.body())
    }
    pub fn message_id(&self) -> MessageId {
        self.message_id
    }
    /// The handle of this receive; delete and change-visibility take it.
    pub fn handle(&self) -> &ReceiptHandle {
        &self.handle
    }
    /// The handle as the string SQS clients carry.
    pub fn receipt_handle(&self) -> String {
        self.handle.to_string()
    }
    pub fn receive_count(&self) -> u32 {
        self.receive_count
    }
    /// Epoch milliseconds of the first send (kept across dead-letter moves).
    pub fn sent_timestamp(&self) -> u64 {
        self.data.sent_at()
    }
    /// Epoch milliseconds of the first receive.
    pub fn first_receive_timestamp(&self) -> u64 {
        self.data.header().first_receive()
    }
    pub fn attributes(&self) -> &[(String, AttributeValue)] {
        self.data.attributes()
    }
    pub fn dead_letter_source_arn(&self) -> Option<&str> {
        self.data
            .extras()
            .and_then(|e| e.dead_letter_source_arn.as_deref())
    }
    pub fn md5_of_body(&self) -> String {
        hex(&self.body_digest())
    }
    /// The body's MD5 digest: kept from the send when it was asked for, computed otherwise.
    pub fn body_digest(&self) -> [u8; 16] {
        match self.data.body_md5() {
            Some(md5) if self.loaded.is_none() => md5.try_into().expect("an MD5 is 16 bytes"),
            _ => body_digest(self.body()),
        }
    }
    pub fn md5_of_attributes(&self) -> Option<String> {
        md5_of_attributes(self.attributes())
    }

    /// The SQS system attributes of this receive, by their SQS names, values as SQS sends them.
    /// `sender_id` is the broker's ([`crate::BrokerConfig::sender_id`]).
    pub fn system_attributes(&self, sender_id: &str) -> Vec<(&'static str, String)> {
        let mut out = vec![
            ("SenderId", sender_id.to_string()),
            ("SentTimestamp", self.sent_timestamp().to_string()),
            ("ApproximateReceiveCount", self.receive_count.to_string()),
            (
                "ApproximateFirstReceiveTimestamp",
                self.first_receive_timestamp().to_string(),
            ),
        ];
        if let Some(arn) = self.dead_letter_source_arn() {
            out.push(("DeadLetterQueueSourceArn", arn.to_string()));
        }
        out
    }
}

/// Hex MD5 of the body bytes.
pub fn md5_of_body(body: &[u8]) -> String {
    hex(&body_digest(body))
}

pub(crate) fn body_digest(body: &[u8]) -> [u8; 16] {
    Md5::digest(body).into()
}

/// Hex MD5 of message attributes as SQS computes it (sorted by name; length-prefixed name, type,
/// a transport byte, value). `None` when there are none.
pub fn md5_of_attributes(attributes: &[(String, AttributeValue)]) -> Option<String> {
    if attributes.is_empty() {
        return None;
    }
    let mut sorted: Vec<&(String, AttributeValue)> = attributes.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut md5 = Md5::new();
    fn put(md5: &mut Md5, bytes: &[u8]) {
        md5.update((bytes.len() as u32).to_be_bytes());
        md5.update(bytes);
    }
    for (name, value) in sorted {
        put(&mut md5, name.as_bytes());
        put(&mut md5, value.data_type.as_bytes());
        let (transport, bytes) = match &value.value {
            AttributeData::String(s) => (1u8, s.as_bytes()),
            AttributeData::Binary(b) => (2u8, b.as_slice()),
        };
        md5.update([transport]);
        put(&mut md5, bytes);
    }
    Some(hex(&md5.finalize()))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Checks a body against SQS's allowed characters:
/// `#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF`, and that it is not empty.
pub fn validate_body(body: &[u8]) -> Result<()> {
    if body.is_empty() {
        return Err(Error::new(
            ErrorCode::MissingParameter,
            "The request must contain the parameter MessageBody.",
        ));
    }
    // Fast path: ASCII from 0x20 to 0x7F, which most bodies are. A branch-free fold, so that the
    // compiler vectorises it; anything else (tab, newline, non-ASCII) takes the exact path below.
    if !body
        .iter()
        .fold(false, |bad, &b| bad | (b.wrapping_sub(0x20) >= 0x60))
    {
        return Ok(());
    }
    let invalid = || {
        Error::new(
            ErrorCode::InvalidMessageContents,
            "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
        )
    };
    let text = std::str::from_utf8(body).map_err(|_| invalid())?;
    let ok = text.chars().all(|c| {
        matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
    });
    if ok { Ok(()) } else { Err(invalid()) }
}

/// Checks message attributes against SQS's rules and returns them sorted by name, with the number of
/// bytes they add to the message size (names, types and values).
pub fn validate_attributes(
    mut attributes: Vec<(String, AttributeValue)>,
) -> Result<(MessageAttributes, usize)> {
    if attributes.len() > 10 {
        return Err(Error::new(
            ErrorCode::InvalidParameterValue,
            format!(
                "Number of message attributes [{}] exceeds the allowed maximum [10].",
                attributes.len()
            ),
        ));
    }
    let mut size = 0;
    for (name, value) in &attributes {
        validate_attribute_name(name)?;
        validate_attribute_value(name, value)?;
        size += name.len() + value.data_type.len() + value.value_bytes().len();
    }
    attributes.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(w) = attributes.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(Error::new(
            ErrorCode::InvalidParameterValue,
            format!("Message attribute name '{}' is repeated.", w[0].0),
        ));
    }
    Ok((attributes, size))
}

fn validate_attribute_name(name: &str) -> Result<()> {
    let bad = |reason: &str| {
        Err(Error::new(
            ErrorCode::InvalidParameterValue,
            format!("Message attribute name '{name}' is invalid. {reason}"),
        ))
    };
    if name.is_empty() {
        return Err(Error::new(
            ErrorCode::InvalidParameterValue,
            "Message attribute name can not be null or empty.",
        ));
    }
    if name.len() > 256 {
        return bad("The name must be 256 characters or fewer.");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    {
        return bad(
            "Only alphanumeric characters, hyphens (-), underscores (_) and periods (.) are allowed.",
        );
    }
    if name.starts_with('.') || name.ends_with('.') || name.contains("..") {
        return bad("The name can't start or end with a period or have successive periods.");
    }
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("aws.") || lower.starts_with("amazon.") {
        return bad("The name can't start with 'AWS.' or 'Amazon.'; these prefixes are reserved.");
    }
    Ok(())
}

fn validate_attribute_value(name: &str, value: &AttributeValue) -> Result<()> {
    let err = |reason: String| Err(Error::new(ErrorCode::InvalidParameterValue, reason));
    let data_type = &value.data_type;
    if data_type.is_empty() {
        return err(format!(
            "The message attribute '{name}' must contain non-empty message attribute type."
        ));
    }
    if data_type.len() > 256 {
        return err(format!(
            "The message attribute '{name}' has a type longer than 256 characters."
        ));
    }
    let base = value.base_type();
    let label = &data_type[base.len()..];
    if !(label.is_empty() || (label.len() > 1 && label.starts_with('.'))) {
        return err(format!(
            "The type of message attribute '{name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String."
        ));
    }
    match (base, &value.value) {
        ("String", AttributeData::String(s)) => {
            if s.is_empty() {
                return err(format!(
                    "The message attribute '{name}' must contain non-empty message attribute value for message attribute type 'String'."
                ));
            }
            validate_body(s.as_bytes()).map_err(|_| {
                Error::new(
                    ErrorCode::InvalidParameterValue,
                    format!("The message attribute '{name}' contains characters outside the allowed set."),
                )
            })
        }
        ("Number", AttributeData::String(s)) => {
            if is_sqs_number(s) {
                Ok(())
            } else {
                err(format!(
                    "Can't cast the value of message attribute '{name}' to a number."
                ))
            }
        }
        ("Binary", AttributeData::Binary(b)) => {
            if b.is_empty() {
                err(format!(
                    "The message attribute '{name}' must contain non-empty message attribute value for message attribute type 'Binary'."
                ))
            } else {
                Ok(())
            }
        }
        ("String" | "Number", AttributeData::Binary(_)) => err(format!(
            "The message attribute '{name}' with type '{base}' must use field 'String'."
        )),
        ("Binary", AttributeData::String(_)) => err(format!(
            "The message attribute '{name}' with type 'Binary' must use field 'Binary'."
        )),
        _ => err(format!(
            "The type of message attribute '{name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String."
        )),
    }
}

/// SQS numbers: a decimal with up to 38 significant digits, optional sign and exponent, between
/// -10^128 and 10^126.
fn is_sqs_number(s: &str) -> bool {
    let s = s.trim();
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa = mantissa.strip_prefix(['+', '-']).unwrap_or(mantissa);
    let mut parts = mantissa.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next().unwrap_or("");
    if int.is_empty() && frac.is_empty() {
        return false;
    }
    if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return false;
    }
    let digits: String = int.chars().chain(frac.chars()).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0');
    if significant.len() > 38 {
        return false;
    }
    let exp: i64 = match exponent {
        Some(e) => match e.parse() {
            Ok(v) => v,
            Err(_) => return false,
        },
        None => 0,
    };
    if significant.is_empty() {
        return true;
    }
    // Magnitude: position of the most significant digit relative to the decimal point.
    let lead_zeros = digits.len() - digits.trim_start_matches('0').len();
    let magnitude = int.len() as i64 - lead_zeros as i64 - 1 + exp;
    magnitude < 126
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_matches_published_vectors() {
        let a = vec![(
            "attribName1".to_string(),
            AttributeValue::string("attribValue 1"),
        )];
        assert_eq!(
            md5_of_attributes(&a).unwrap(),
            "19e27d4e946b072f3f58da80d94fd778"
        );
        let b = vec![(
            "binaryAttribute".to_string(),
            AttributeValue::binary(&b"Hello binary world!"[..]),
        )];
        assert_eq!(
            md5_of_attributes(&b).unwrap(),
            "31a92b15d92f8db860eda32aceb656c3"
        );
        assert_eq!(md5_of_attributes(&[]), None);
        assert_eq!(md5_of_body(b"hello"), "5d41402abc4b2a76b9719d911017c592");
    }

    #[test]
    fn body_characters() {
        assert!(validate_body(b"hello\tworld\n").is_ok());
        assert!(validate_body("héllo ✓ 😀".as_bytes()).is_ok());
        assert_eq!(
            validate_body(b"a\x00b").unwrap_err().code,
            ErrorCode::InvalidMessageContents
        );
        assert_eq!(
            validate_body(&[0xff, 0xfe]).unwrap_err().code,
            ErrorCode::InvalidMessageContents
        );
        assert_eq!(
            validate_body("\u{FFFE}".as_bytes()).unwrap_err().code,
            ErrorCode::InvalidMessageContents
        );
        assert!(validate_body(b"").is_err());
    }

    #[test]
    fn attribute_rules() {
        let ok = |n: &str, v: AttributeValue| validate_attributes(vec![(n.into(), v)]).is_ok();
        assert!(ok("a.b-c_d", AttributeValue::string("x")));
        assert!(ok("n", AttributeValue::number("-1.5e10")));
        assert!(ok(
            "n",
            AttributeValue {
                data_type: "Number.float".into(),
                value: AttributeData::String("3".into())
            }
        ));
        assert!(!ok("n", AttributeValue::number("abc")));
        assert!(!ok("n", AttributeValue::number("1e200")));
        assert!(!ok(".a", AttributeValue::string("x")));
        assert!(!ok("a..b", AttributeValue::string("x")));
        assert!(!ok("AWS.x", AttributeValue::string("x")));
        assert!(!ok("amazon.x", AttributeValue::string("x")));
        assert!(!ok("a b", AttributeValue::string("x")));
        assert!(!ok("a", AttributeValue::string("")));
        assert!(!ok(
            "a",
            AttributeValue {
                data_type: "Blob".into(),
                value: AttributeData::String("x".into())
            }
        ));
        assert!(!ok(
            "a",
            AttributeValue {
                data_type: "String.".into(),
                value: AttributeData::String("x".into())
            }
        ));
        let eleven: Vec<_> = (0..11)
            .map(|i| (format!("a{i}"), AttributeValue::string("x")))
            .collect();
        assert!(validate_attributes(eleven).is_err());
        let (sorted, size) = validate_attributes(vec![
            ("b".into(), AttributeValue::string("xy")),
            ("a".into(), AttributeValue::binary(vec![1, 2, 3])),
        ])
        .unwrap();
        assert_eq!(sorted[0].0, "a");
        assert_eq!(size, 1 + 6 + 2 + 1 + 6 + 3);
    }

    #[test]
    fn message_id_looks_like_uuid_v4() {
        let id = MessageId(0x0123_4567_89ab_cdef_0011_2233_4455_6677).to_string();
        assert_eq!(id, "01234567-89ab-cdef-0011-223344556677");
        let id = MessageId::from_bits(u128::MAX).to_string();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
    }
}
