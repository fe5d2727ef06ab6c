//! `SendMessageBatchEntry` and `DeleteMessageBatchEntry`, decoded with their text fields as
//! slices of the request.
//!
//! These are most of what the gRPC server reads: in a full cycle, every message arrives once in a
//! batch send and once in a batch delete. Generated structs would allocate a `String` for each
//! entry id and receipt handle, and the id would travel through the engine and into the reply only
//! to be freed. Here the id and the handle are [`ByteString`]s: checked to be UTF-8 as prost checks
//! a `string` field, but sharing the request's buffer, as the sent body already does (`Bytes`).
//!
//! The two requests around them are read by hand too ([`BatchRequest`]): the whole request is
//! one contiguous buffer, so its fields and its entries' fields are found with inline varint reads
//! over a slice, where prost's generic loop reads each key and length through the `Buf` trait (a
//! sixth of the server's instructions at batches of 100 went to decoding). Anything the fast path
//! does not expect (an unknown field, a wrong wire type, attributes, a cut or malformed input) goes
//! to prost's loop instead, so what is accepted and every error are prost's.
//!
//! `build.rs` maps the entries and the requests here (`extern_path`), so the generated service and
//! client use these types; the wire format is the generated one's, byte for byte.

use super::pb;
use super::reply::{bytes_len, put_bytes};
use bytes::{Buf, BufMut, Bytes};
use bytestring::ByteString;
use prost::DecodeError;
use prost::encoding::{
    DecodeContext, WireType, decode_key, encode_key, encode_varint, encoded_len_varint, hash_map,
    int64, key_len, message, skip_field, string, uint32,
};
use std::collections::HashMap;
use std::ops::Range;

/// `string id = 1; bytes message_body = 2; optional int64 delay_seconds = 3;
/// map<string, MessageAttributeValue> message_attributes = 4;`
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SendMessageBatchEntry {
    pub id: ByteString,
    pub message_body: Bytes,
    pub delay_seconds: Option<i64>,
    pub message_attributes: HashMap<String, pb::MessageAttributeValue>,
}

/// `string id = 1; string receipt_handle = 2;`
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeleteMessageBatchEntry {
    pub id: ByteString,
    pub receipt_handle: ByteString,
}

impl prost::Message for SendMessageBatchEntry {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        put_bytes(1, self.id.as_bytes(), buf);
        if !self.message_body.is_empty() {
            prost::encoding::bytes::encode(2, &self.message_body, buf);
        }
        if let Some(delay) = &self.delay_seconds {
            int64::encode(3, delay, buf);
        }
        hash_map::encode(
            string::encode,
            string::encoded_len,
            message::encode,
            message::encoded_len,
            4,
            &self.message_attributes,
            buf,
        );
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        let field = match tag {
            1 => return merge_text(wire_type, &mut self.id, buf, ctx).map_err(at("id")),
            2 => prost::encoding::bytes::merge(wire_type, &mut self.message_body, buf, ctx)
                .map_err(at("message_body")),
            3 => int64::merge(wire_type, self.delay_seconds.get_or_insert(0), buf, ctx)
                .map_err(at("delay_seconds")),
            4 => hash_map::merge(
                string::merge,
                message::merge,
                &mut self.message_attributes,
                buf,
                ctx,
            )
            .map_err(at("message_attributes")),
            _ => skip_field(wire_type, tag, buf, ctx),
        };
        return field;

        fn at(name: &'static str) -> impl FnOnce(DecodeError) -> DecodeError {
            move |mut e| {
                e.push("SendMessageBatchEntry", name);
                e
            }
        }
    }

    fn encoded_len(&self) -> usize {
        bytes_len(1, self.id.len())
            + if self.message_body.is_empty() {
                0
            } else {
                prost::encoding::bytes::encoded_len(2, &self.message_body)
            }
            + self
                .delay_seconds
                .as_ref()
                .map_or(0, |d| int64::encoded_len(3, d))
            + hash_map::encoded_len(
                string::encoded_len,
                message::encoded_len,
                4,
                &self.message_attributes,
            )
    }

    fn clear(&mut self) {
        *self = Self::default();
    }
}

impl prost::Message for DeleteMessageBatchEntry {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        put_bytes(1, self.id.as_bytes(), buf);
        put_bytes(2, self.receipt_handle.as_bytes(), buf);
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        let (field, name) = match tag {
            1 => (&mut self.id, "id"),
            2 => (&mut self.receipt_handle, "receipt_handle"),
            _ => return skip_field(wire_type, tag, buf, ctx),
        };
        merge_text(wire_type, field, buf, ctx).map_err(|mut e| {
            e.push("DeleteMessageBatchEntry", name);
            e
        })
    }

    fn encoded_len(&self) -> usize {
        bytes_len(1, self.id.len()) + bytes_len(2, self.receipt_handle.len())
    }

    fn clear(&mut self) {
        *self = Self::default();
    }
}

/// `string queue_name = 1; repeated E entries = 2; uint32 max_entries = 3;`: the batch send and
/// batch delete requests.
///
/// A client fills `entries`. The server reads a request in place ([`BatchRequest::read`]): it keeps
/// the request's buffer and where each entry's fields are in it, and lends them out
/// ([`BatchRequest::views`]), so that an entry costs no reference to the buffer of its own
/// (counting one is an atomic operation, and each message came with four: the id and the body
/// of its send, the id and the handle of its delete).
#[derive(Clone, Debug, PartialEq)]
pub struct BatchRequest<E: BatchEntry> {
    pub queue_name: String,
    pub entries: Vec<E>,
    pub max_entries: u32,
    /// Read in place: the request, and each entry's place in it. An entry the fast path does not
    /// read (one with attributes) is decoded by prost into `entries`, and placed by its index.
    placed: Option<(Bytes, Vec<Place<E::Fields>>)>,
}

impl<E: BatchEntry> Default for BatchRequest<E> {
    fn default() -> Self {
        Self {
            queue_name: String::new(),
            entries: Vec::new(),
            max_entries: 0,
            placed: None,
        }
    }
}

pub type SendMessageBatchRequest = BatchRequest<SendMessageBatchEntry>;
pub type DeleteMessageBatchRequest = BatchRequest<DeleteMessageBatchEntry>;

/// A field's bytes within a request's buffer.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Span {
    at: u32,
    len: u32,
}

impl Span {
    fn of(r: Range<usize>) -> Self {
        Self {
            at: r.start as u32,
            len: (r.end - r.start) as u32,
        }
    }

    fn get(self, wire: &[u8]) -> &[u8] {
        &wire[self.at as usize..(self.at + self.len) as usize]
    }

    /// A `string` field's text.
    ///
    /// # Safety
    /// `self` must come from [`Fields::text`] over `wire`, which checked that it is UTF-8.
    unsafe fn text(self, wire: &[u8]) -> &str {
        // SAFETY: as the caller promises.
        unsafe { std::str::from_utf8_unchecked(self.get(wire)) }
    }
}

/// Where an entry of a request read in place is.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Place<F> {
    /// In the request's buffer: the whole entry (as a message's bytes) and its fields.
    At { entry: Span, fields: F },
    /// Decoded by prost, at this index of `entries`.
    Decoded(u32),
}

/// An entry of a [`BatchRequest`].
pub trait BatchEntry: prost::Message + Default + Sized {
    /// The request's name in prost's errors.
    const REQUEST: &'static str;
    /// Where the fields the fast path reads are.
    type Fields: Copy + std::fmt::Debug + PartialEq + Send + Sync;
    /// An entry's fields, borrowed from its request.
    type View<'a>;
    /// The fields of the entry encoded at `at` in `wire`; `None` for anything but the fields the
    /// fast path reads (prost then reads the entry).
    fn place(wire: &Bytes, at: Range<usize>) -> Option<Self::Fields>;
    /// The fields of an entry placed in `wire`.
    fn view_in<'a>(wire: &'a [u8], fields: &Self::Fields) -> Self::View<'a>;
    /// The fields of an entry a client built or prost decoded.
    fn view(&self) -> Self::View<'_>;
}

/// `SendMessageBatchEntry`, borrowed from its request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SendEntry<'a> {
    pub id: &'a str,
    pub message_body: &'a [u8],
    pub delay_seconds: Option<i64>,
    pub message_attributes: Option<&'a HashMap<String, pb::MessageAttributeValue>>,
}

/// `DeleteMessageBatchEntry`, borrowed from its request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DeleteEntry<'a> {
    pub id: &'a str,
    pub receipt_handle: &'a str,
}

/// The places of a send entry's id and body, and its delay.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SendFields {
    id: Span,
    body: Span,
    delay_seconds: Option<i64>,
}

/// The places of a delete entry's id and receipt handle.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DeleteFields {
    id: Span,
    receipt_handle: Span,
}

impl BatchEntry for SendMessageBatchEntry {
    const REQUEST: &'static str = "SendMessageBatchRequest";
    type Fields = SendFields;
    type View<'a> = SendEntry<'a>;

    fn place(wire: &Bytes, at: Range<usize>) -> Option<SendFields> {
        let mut f = SendFields {
            id: Span::default(),
            body: Span::default(),
            delay_seconds: None,
        };
        let mut fields = Fields::new(wire, at);
        while let Some(key) = fields.key()? {
            match key {
                0x0a => f.id = fields.text()?,
                0x12 => f.body = Span::of(fields.delimited()?),
                0x18 => f.delay_seconds = Some(fields.varint()? as i64),
                // Attributes (a map of messages) and anything else: prost reads the entry.
                _ => return None,
            }
        }
        Some(f)
    }

    fn view_in<'a>(wire: &'a [u8], f: &SendFields) -> SendEntry<'a> {
        SendEntry {
            // SAFETY: `place` made the span with `Fields::text`.
            id: unsafe { f.id.text(wire) },
            message_body: f.body.get(wire),
            delay_seconds: f.delay_seconds,
            message_attributes: None,
        }
    }

    fn view(&self) -> SendEntry<'_> {
        SendEntry {
            id: &self.id,
            message_body: &self.message_body,
            delay_seconds: self.delay_seconds,
            message_attributes: Some(&self.message_attributes).filter(|m| !m.is_empty()),
        }
    }
}

impl BatchEntry for DeleteMessageBatchEntry {
    const REQUEST: &'static str = "DeleteMessageBatchRequest";
    type Fields = DeleteFields;
    type View<'a> = DeleteEntry<'a>;

    fn place(wire: &Bytes, at: Range<usize>) -> Option<DeleteFields> {
        let mut f = DeleteFields {
            id: Span::default(),
            receipt_handle: Span::default(),
        };
        let mut fields = Fields::new(wire, at);
        while let Some(key) = fields.key()? {
            match key {
                0x0a => f.id = fields.text()?,
                0x12 => f.receipt_handle = fields.text()?,
                _ => return None,
            }
        }
        Some(f)
    }

    fn view_in<'a>(wire: &'a [u8], f: &DeleteFields) -> DeleteEntry<'a> {
        // SAFETY: `place` made both spans with `Fields::text`.
        unsafe {
            DeleteEntry {
                id: f.id.text(wire),
                receipt_handle: f.receipt_handle.text(wire),
            }
        }
    }

    fn view(&self) -> DeleteEntry<'_> {
        DeleteEntry {
            id: &self.id,
            receipt_handle: &self.receipt_handle,
        }
    }
}

impl<E: BatchEntry> BatchRequest<E> {
    /// A request for a client to send.
    pub fn new(queue_name: impl Into<String>, entries: Vec<E>, max_entries: u32) -> Self {
        Self {
            queue_name: queue_name.into(),
            entries,
            max_entries,
            placed: None,
        }
    }

    fn read(wire: &Bytes) -> Option<Self> {
        let mut out = Self::default();
        let mut places = Vec::new();
        let mut fields = Fields::new(wire, 0..wire.len());
        while let Some(key) = fields.key()? {
            match key {
                0x0a => {
                    let at = fields.text()?;
                    // SAFETY: made by `Fields::text` just above.
                    out.queue_name = unsafe { at.text(wire) }.to_owned();
                }
                0x12 => {
                    let at = fields.delimited()?;
                    places.push(match E::place(wire, at.clone()) {
                        Some(fields) => Place::At {
                            entry: Span::of(at),
                            fields,
                        },
                        None => {
                            out.entries.push(E::decode(wire.slice(at)).ok()?);
                            Place::Decoded(out.entries.len() as u32 - 1)
                        }
                    });
                }
                0x18 => out.max_entries = fields.varint()? as u32,
                _ => return None,
            }
        }
        out.placed = Some((wire.clone(), places));
        Some(out)
    }

    /// Decodes the placed entries into `entries`, so that more can be merged after them.
    fn own_entries(&mut self) -> Result<(), DecodeError> {
        let Some((wire, places)) = self.placed.take() else {
            return Ok(());
        };
        let mut decoded = std::mem::take(&mut self.entries);
        for p in places {
            self.entries.push(match p {
                Place::At { entry, .. } => {
                    E::decode(wire.slice(entry.at as usize..(entry.at + entry.len) as usize))?
                }
                Place::Decoded(i) => std::mem::take(&mut decoded[i as usize]),
            });
        }
        Ok(())
    }

    /// The request's buffer when it was read in place (entry ids in a reply can borrow from it).
    pub fn wire(&self) -> Option<&Bytes> {
        self.placed.as_ref().map(|(wire, _)| wire)
    }

    /// The entries, in request order.
    pub fn views(&self) -> impl ExactSizeIterator<Item = E::View<'_>> {
        let (wire, places): (&[u8], &[Place<E::Fields>]) = match &self.placed {
            Some((wire, places)) => (wire, places),
            None => (&[], &[]),
        };
        let placed = places.iter().map(move |p| match p {
            Place::At { fields, .. } => E::view_in(wire, fields),
            Place::Decoded(i) => self.entries[*i as usize].view(),
        });
        let built = self.entries.iter().map(E::view);
        // Either every entry is placed or none is.
        let (placed, built) = match self.placed {
            Some(_) => (Some(placed), None),
            None => (None, Some(built)),
        };
        Either(placed, built)
    }
}

/// One of two iterators.
struct Either<A, B>(Option<A>, Option<B>);

impl<T, A: Iterator<Item = T>, B: Iterator<Item = T>> Iterator for Either<A, B> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        match self {
            Either(Some(a), _) => a.next(),
            Either(_, Some(b)) => b.next(),
            _ => None,
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Either(Some(a), _) => a.size_hint(),
            Either(_, Some(b)) => b.size_hint(),
            _ => (0, Some(0)),
        }
    }
}

impl<T, A: ExactSizeIterator<Item = T>, B: ExactSizeIterator<Item = T>> ExactSizeIterator
    for Either<A, B>
{
}

impl<E: BatchEntry> prost::Message for BatchRequest<E> {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        if !self.queue_name.is_empty() {
            string::encode(1, &self.queue_name, buf);
        }
        match &self.placed {
            Some((wire, places)) => {
                for p in places {
                    match p {
                        // An entry's bytes, as a message: written even when empty.
                        Place::At { entry, .. } => {
                            encode_key(2, WireType::LengthDelimited, buf);
                            encode_varint(u64::from(entry.len), buf);
                            buf.put_slice(entry.get(wire));
                        }
                        Place::Decoded(i) => message::encode(2, &self.entries[*i as usize], buf),
                    }
                }
            }
            None => message::encode_repeated(2, &self.entries, buf),
        }
        if self.max_entries != 0 {
            uint32::encode(3, &self.max_entries, buf);
        }
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        if tag == 2 {
            self.own_entries()?;
        }
        let (field, name) = match tag {
            1 => (
                string::merge(wire_type, &mut self.queue_name, buf, ctx),
                "queue_name",
            ),
            2 => (
                message::merge_repeated(wire_type, &mut self.entries, buf, ctx),
                "entries",
            ),
            3 => (
                uint32::merge(wire_type, &mut self.max_entries, buf, ctx),
                "max_entries",
            ),
            _ => return skip_field(wire_type, tag, buf, ctx),
        };
        field.map_err(|mut e| {
            e.push(E::REQUEST, name);
            e
        })
    }

    fn encoded_len(&self) -> usize {
        (if self.queue_name.is_empty() {
            0
        } else {
            string::encoded_len(1, &self.queue_name)
        }) + match &self.placed {
            Some((_, places)) => places
                .iter()
                .map(|p| match p {
                    Place::At { entry, .. } => {
                        key_len(2) + encoded_len_varint(u64::from(entry.len)) + entry.len as usize
                    }
                    Place::Decoded(i) => message::encoded_len(2, &self.entries[*i as usize]),
                })
                .sum(),
            None => message::encoded_len_repeated(2, &self.entries),
        } + if self.max_entries == 0 {
            0
        } else {
            uint32::encoded_len(3, &self.max_entries)
        }
    }

    fn clear(&mut self) {
        *self = Self::default();
    }

    fn merge(&mut self, mut buf: impl Buf) -> Result<(), DecodeError> {
        // The request's own buffer (no copy when `buf` is tonic's).
        let mut wire = buf.copy_to_bytes(buf.remaining());
        let empty = self.queue_name.is_empty()
            && self.entries.is_empty()
            && self.max_entries == 0
            && self.placed.is_none();
        if empty && let Some(read) = Self::read(&wire) {
            *self = read;
            return Ok(());
        }
        // prost's loop, as the provided `merge` runs it.
        let ctx = DecodeContext::default();
        while wire.has_remaining() {
            let (tag, wire_type) = decode_key(&mut wire)?;
            self.merge_field(tag, wire_type, &mut wire, ctx.clone())?;
        }
        Ok(())
    }
}

/// The fields of a message encoded in `wire[at]`, read in place.
struct Fields<'a> {
    wire: &'a Bytes,
    pos: usize,
    end: usize,
}

impl<'a> Fields<'a> {
    fn new(wire: &'a Bytes, at: Range<usize>) -> Self {
        Self {
            wire,
            pos: at.start,
            end: at.end,
        }
    }

    /// The next field's key; `Some(None)` at the end.
    #[inline]
    fn key(&mut self) -> Option<Option<u64>> {
        if self.pos == self.end {
            return Some(None);
        }
        self.varint().map(Some)
    }

    /// A varint as prost reads it (at most ten bytes, the tenth 0 or 1).
    #[inline]
    fn varint(&mut self) -> Option<u64> {
        let b = &self.wire[..self.end];
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *b.get(self.pos)?;
            self.pos += 1;
            if shift == 63 && byte > 1 {
                return None;
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Some(value);
            }
        }
        None
    }

    /// A length-delimited field's place in `wire`.
    #[inline]
    fn delimited(&mut self) -> Option<Range<usize>> {
        let len = usize::try_from(self.varint()?).ok()?;
        let start = self.pos;
        let end = start.checked_add(len).filter(|&e| e <= self.end)?;
        self.pos = end;
        Some(start..end)
    }

    /// A `string` field's place in `wire`; `None` if it is not UTF-8. Entry ids and receipt handles
    /// are short and ASCII, which `is_ascii` tells for a fraction of a full UTF-8 check.
    #[inline]
    fn text(&mut self) -> Option<Span> {
        let at = self.delimited()?;
        let bytes = &self.wire[at.clone()];
        if !bytes.is_ascii() {
            std::str::from_utf8(bytes).ok()?;
        }
        Some(Span::of(at))
    }
}

/// Reads a `string` field as a slice of `buf` (no copy when `buf` is the request's `Bytes`).
fn merge_text(
    wire_type: WireType,
    value: &mut ByteString,
    buf: &mut impl Buf,
    ctx: DecodeContext,
) -> Result<(), DecodeError> {
    let mut raw = Bytes::new();
    prost::encoding::bytes::merge(wire_type, &mut raw, buf, ctx)?;
    *value = ByteString::try_from(raw).map_err(|_| not_utf8())?;
    Ok(())
}

/// prost's own error for a `string` field that is not UTF-8 (it has no public constructor), so
/// that clients see the same message from either decoder.
#[cold]
fn not_utf8() -> DecodeError {
    let mut text = String::new();
    let mut not_utf8: &[u8] = &[1, 0xff];
    string::merge(
        WireType::LengthDelimited,
        &mut text,
        &mut not_utf8,
        DecodeContext::default(),
    )
    .expect_err("0xff is not UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    /// The entries as prost generates them, to compare against.
    mod generated {
        #[derive(Clone, PartialEq, prost::Message)]
        pub struct SendMessageBatchEntry {
            #[prost(string, tag = "1")]
            pub id: String,
            #[prost(bytes = "bytes", tag = "2")]
            pub message_body: bytes::Bytes,
            #[prost(int64, optional, tag = "3")]
            pub delay_seconds: Option<i64>,
            #[prost(map = "string, message", tag = "4")]
            pub message_attributes:
                std::collections::HashMap<String, super::pb::MessageAttributeValue>,
        }

        #[derive(Clone, PartialEq, prost::Message)]
        pub struct DeleteMessageBatchEntry {
            #[prost(string, tag = "1")]
            pub id: String,
            #[prost(string, tag = "2")]
            pub receipt_handle: String,
        }

        #[derive(Clone, PartialEq, prost::Message)]
        pub struct SendMessageBatchRequest {
            #[prost(string, tag = "1")]
            pub queue_name: String,
            #[prost(message, repeated, tag = "2")]
            pub entries: Vec<SendMessageBatchEntry>,
            #[prost(uint32, tag = "3")]
            pub max_entries: u32,
        }

        #[derive(Clone, PartialEq, prost::Message)]
        pub struct DeleteMessageBatchRequest {
            #[prost(string, tag = "1")]
            pub queue_name: String,
            #[prost(message, repeated, tag = "2")]
            pub entries: Vec<DeleteMessageBatchEntry>,
            #[prost(uint32, tag = "3")]
            pub max_entries: u32,
        }
    }

    fn same_send(ours: &SendMessageBatchRequest, g: &generated::SendMessageBatchRequest) -> bool {
        ours.queue_name == g.queue_name
            && ours.max_entries == g.max_entries
            && ours.views().len() == g.entries.len()
            && ours.views().zip(&g.entries).all(|(o, g)| {
                o.id == g.id
                    && o.message_body == g.message_body
                    && o.delay_seconds == g.delay_seconds
                    && o.message_attributes.cloned().unwrap_or_default() == g.message_attributes
            })
    }

    fn same_delete(
        ours: &DeleteMessageBatchRequest,
        g: &generated::DeleteMessageBatchRequest,
    ) -> bool {
        ours.queue_name == g.queue_name
            && ours.max_entries == g.max_entries
            && ours.views().len() == g.entries.len()
            && ours
                .views()
                .zip(&g.entries)
                .all(|(o, g)| o.id == g.id && o.receipt_handle == g.receipt_handle)
    }

    fn send_requests() -> Vec<generated::SendMessageBatchRequest> {
        let entries = sends();
        let mut out = Vec::new();
        for queue_name in ["", "q", "é-queue"] {
            for max_entries in [0, 10, 1000] {
                for range in [0..0, 0..1, 0..entries.len(), 40..50] {
                    out.push(generated::SendMessageBatchRequest {
                        queue_name: queue_name.into(),
                        entries: entries[range].to_vec(),
                        max_entries,
                    });
                }
            }
        }
        out
    }

    fn delete_requests() -> Vec<generated::DeleteMessageBatchRequest> {
        let entry = |id: &str, handle: &str| generated::DeleteMessageBatchEntry {
            id: id.into(),
            receipt_handle: handle.into(),
        };
        let mut out = Vec::new();
        for queue_name in ["", "q"] {
            for max_entries in [0, 10] {
                for entries in [
                    vec![],
                    vec![entry("", "")],
                    vec![entry("a", "AAAA"), entry(&"y".repeat(300), "é")],
                ] {
                    out.push(generated::DeleteMessageBatchRequest {
                        queue_name: queue_name.into(),
                        entries,
                        max_entries,
                    });
                }
            }
        }
        out
    }

    /// Decodes `wire` with both and checks that they agree: the same fields, or the same error.
    fn agree(wire: &[u8]) {
        let ours = SendMessageBatchRequest::decode(Bytes::copy_from_slice(wire));
        let prost = generated::SendMessageBatchRequest::decode(wire);
        match (&ours, &prost) {
            (Ok(o), Ok(g)) => assert!(same_send(o, g), "{wire:?}: {o:?} against {g:?}"),
            (Err(o), Err(g)) => assert_eq!(o.to_string(), g.to_string(), "{wire:?}"),
            _ => panic!("{wire:?}: {ours:?} against {prost:?}"),
        }
        let ours = DeleteMessageBatchRequest::decode(Bytes::copy_from_slice(wire));
        let prost = generated::DeleteMessageBatchRequest::decode(wire);
        match (&ours, &prost) {
            (Ok(o), Ok(g)) => assert!(same_delete(o, g), "{wire:?}: {o:?} against {g:?}"),
            (Err(o), Err(g)) => assert_eq!(o.to_string(), g.to_string(), "{wire:?}"),
            _ => panic!("{wire:?}: {ours:?} against {prost:?}"),
        }
    }

    #[test]
    fn batch_requests_read_and_write_what_prost_does() {
        for g in send_requests() {
            let wire = Bytes::from(g.encode_to_vec());
            let ours = SendMessageBatchRequest::decode(wire.clone()).unwrap();
            assert!(same_send(&ours, &g), "{g:?}");
            // Entries with attributes go to prost; the request is still read in place.
            assert!(SendMessageBatchRequest::read(&wire).is_some(), "{g:?}");
            if g.entries.iter().all(|e| e.message_attributes.len() < 2) {
                assert_eq!(ours.encode_to_vec(), wire);
            }
            assert_eq!(ours.encoded_len(), wire.len());
        }
        for g in delete_requests() {
            let wire = Bytes::from(g.encode_to_vec());
            let ours = DeleteMessageBatchRequest::decode(wire.clone()).unwrap();
            assert!(same_delete(&ours, &g), "{g:?}");
            assert!(DeleteMessageBatchRequest::read(&wire).is_some(), "{g:?}");
            assert_eq!(ours.encode_to_vec(), wire);
            assert_eq!(ours.encoded_len(), wire.len());
        }
    }

    #[test]
    fn batch_request_fields_share_the_request_buffer() {
        let g = generated::SendMessageBatchRequest {
            queue_name: "q".into(),
            entries: sends()[..3].to_vec(),
            max_entries: 0,
        };
        let g = generated::SendMessageBatchRequest {
            entries: g
                .entries
                .into_iter()
                .map(|mut e| {
                    e.id = "entry".into();
                    e.message_body = Bytes::from_static(b"body");
                    e
                })
                .collect(),
            ..g
        };
        let wire = Bytes::from(g.encode_to_vec());
        let within = wire.as_ptr_range();
        let ours = SendMessageBatchRequest::decode(wire.clone()).unwrap();
        assert_eq!(ours.views().len(), 3);
        // Placed, not decoded: `entries` holds only what prost read (the one with attributes).
        assert_eq!(ours.entries.len(), 1);
        for e in ours.views() {
            assert!(within.contains(&e.id.as_ptr()));
            assert!(within.contains(&e.message_body.as_ptr()));
        }
        let g = &delete_requests()[5];
        let wire = Bytes::from(g.encode_to_vec());
        let within = wire.as_ptr_range();
        let ours = DeleteMessageBatchRequest::decode(wire.clone()).unwrap();
        assert_eq!(ours.views().len(), 2);
        assert!(ours.entries.is_empty());
        for e in ours.views() {
            assert!(within.contains(&e.id.as_ptr()));
            assert!(within.contains(&e.receipt_handle.as_ptr()));
        }
    }

    #[test]
    fn text_read_in_place_is_utf8_checked_past_ascii() {
        let request = |id: &str, handle: &str| generated::DeleteMessageBatchRequest {
            queue_name: "q".into(),
            entries: vec![generated::DeleteMessageBatchEntry {
                id: id.into(),
                receipt_handle: handle.into(),
            }],
            max_entries: 0,
        };
        for id in ["plain", "é", "entry-ü-1", "\u{10348}"] {
            let wire = Bytes::from(request(id, &format!("{id}!")).encode_to_vec());
            let ours = DeleteMessageBatchRequest::read(&wire).expect("read in place");
            let views: Vec<_> = ours.views().collect();
            assert_eq!(
                (views[0].id, views[0].receipt_handle),
                (id, &*format!("{id}!"))
            );
        }
        // "a\xff" where "ab" was, and a lone continuation byte where "é" was.
        for (valid, invalid) in [
            (&b"ab"[..], &[b'a', 0xff][..]),
            ("é".as_bytes(), &[0x80, 0x80]),
        ] {
            let mut wire = request(std::str::from_utf8(valid).unwrap(), "h").encode_to_vec();
            let at = wire.windows(2).position(|w| w == valid).unwrap();
            wire[at..at + 2].copy_from_slice(invalid);
            let wire = Bytes::from(wire);
            assert!(DeleteMessageBatchRequest::read(&wire).is_none());
            let ours = DeleteMessageBatchRequest::decode(wire.clone()).unwrap_err();
            let prost = generated::DeleteMessageBatchRequest::decode(wire).unwrap_err();
            assert_eq!(ours.to_string(), prost.to_string());
        }
    }

    #[test]
    fn a_request_merged_after_one_read_in_place_keeps_every_entry() {
        let (a, b) = (
            send_requests().swap_remove(7),
            send_requests().swap_remove(11),
        );
        assert!(!a.entries.is_empty() && !b.entries.is_empty());
        let mut ours = SendMessageBatchRequest::decode(Bytes::from(a.encode_to_vec())).unwrap();
        assert!(ours.placed.is_some());
        ours.merge(Bytes::from(b.encode_to_vec())).unwrap();
        let mut g = a.clone();
        g.merge(b.encode_to_vec().as_slice()).unwrap();
        assert!(same_send(&ours, &g), "{ours:?} against {g:?}");
    }

    #[test]
    fn every_cut_or_changed_batch_request_decodes_as_prost_decodes_it() {
        let mut wires: Vec<Vec<u8>> = vec![
            generated::SendMessageBatchRequest {
                queue_name: "q".into(),
                entries: sends()[..6].to_vec(),
                max_entries: 10,
            }
            .encode_to_vec(),
        ];
        wires.extend(delete_requests().iter().map(|g| g.encode_to_vec()));
        // An unknown field in the request, and one in an entry.
        wires.push([&wires[0][..], &[0x48, 7]].concat());
        wires.push(vec![0x12, 6, 0x0a, 1, b'a', 0x28, 1, 0]);
        for wire in &wires {
            for cut in 0..=wire.len() {
                agree(&wire[..cut]);
            }
            for at in 0..wire.len() {
                for byte in [0x00, 0x01, 0x02, 0x0a, 0x12, 0x18, 0x22, 0x7f, 0x80, 0xff] {
                    let mut changed = wire.clone();
                    changed[at] = byte;
                    agree(&changed);
                }
            }
        }
    }

    fn sends() -> Vec<generated::SendMessageBatchEntry> {
        let attribute = pb::MessageAttributeValue {
            data_type: "String".into(),
            value: Some(pb::message_attribute_value::Value::StringValue("é".into())),
        };
        let mut out = Vec::new();
        for id in ["", "a", "entry-7", &"x".repeat(200)] {
            for body in ["", "b", "é-body"] {
                for delay in [None, Some(0), Some(5), Some(-1)] {
                    for n in [0, 2] {
                        out.push(generated::SendMessageBatchEntry {
                            id: id.into(),
                            message_body: Bytes::from(body),
                            delay_seconds: delay,
                            message_attributes: (0..n)
                                .map(|k| (format!("attr{k}"), attribute.clone()))
                                .collect(),
                        });
                    }
                }
            }
        }
        out
    }

    #[test]
    fn send_entries_read_and_write_what_prost_does() {
        for g in sends() {
            let wire = Bytes::from(g.encode_to_vec());
            let ours = SendMessageBatchEntry::decode(wire.clone()).unwrap();
            assert_eq!(&*ours.id, g.id);
            assert_eq!(ours.message_body, g.message_body);
            assert_eq!(ours.delay_seconds, g.delay_seconds);
            assert_eq!(ours.message_attributes, g.message_attributes);
            // One attribute at most, so that the map's order cannot differ.
            if g.message_attributes.len() < 2 {
                assert_eq!(ours.encode_to_vec(), wire, "{g:?}");
            }
            assert_eq!(ours.encoded_len(), wire.len());
        }
    }

    #[test]
    fn delete_entries_read_and_write_what_prost_does() {
        for id in ["", "a", &"y".repeat(300)] {
            for handle in ["", "AAAA", "é"] {
                let g = generated::DeleteMessageBatchEntry {
                    id: id.into(),
                    receipt_handle: handle.into(),
                };
                let wire = Bytes::from(g.encode_to_vec());
                let ours = DeleteMessageBatchEntry::decode(wire.clone()).unwrap();
                assert_eq!((&*ours.id, &*ours.receipt_handle), (id, handle));
                assert_eq!(ours.encode_to_vec(), wire);
                assert_eq!(ours.encoded_len(), wire.len());
            }
        }
    }

    #[test]
    fn text_fields_share_the_request_buffer() {
        let g = generated::DeleteMessageBatchEntry {
            id: "entry".into(),
            receipt_handle: "handle".into(),
        };
        let wire = Bytes::from(g.encode_to_vec());
        let ours = DeleteMessageBatchEntry::decode(wire.clone()).unwrap();
        let within = wire.as_ptr_range();
        assert!(within.contains(&ours.id.as_ptr()));
        assert!(within.contains(&ours.receipt_handle.as_ptr()));
    }

    #[test]
    fn text_that_is_not_utf8_is_refused_as_prost_refuses_it() {
        // id = "a\xff"; receipt_handle = "\xff".
        let (id, handle): (&[u8], &[u8]) = (&[0x0a, 2, b'a', 0xff], &[0x12, 1, 0xff]);
        for wire in [id, handle] {
            let ours = DeleteMessageBatchEntry::decode(wire).unwrap_err();
            let prost = generated::DeleteMessageBatchEntry::decode(wire).unwrap_err();
            assert_eq!(ours.to_string(), prost.to_string());
        }
        let ours = SendMessageBatchEntry::decode(id).unwrap_err();
        let prost = generated::SendMessageBatchEntry::decode(id).unwrap_err();
        assert_eq!(ours.to_string(), prost.to_string());
    }

    #[test]
    fn every_cut_entry_is_refused_as_prost_refuses_it() {
        for g in sends()
            .into_iter()
            .filter(|g| g.message_attributes.len() < 2)
        {
            let wire = g.encode_to_vec();
            for cut in 0..wire.len() {
                let ours = SendMessageBatchEntry::decode(&wire[..cut]).is_ok();
                let prost = generated::SendMessageBatchEntry::decode(&wire[..cut]).is_ok();
                assert_eq!(ours, prost, "cut at {cut} of {g:?}");
            }
        }
    }
}
