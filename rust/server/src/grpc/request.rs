//! `SendMessageBatchEntry` and `DeleteMessageBatchEntry`, decoded with their text fields as
//! slices of the request.
//!
//! These are most of what the gRPC server reads: in a full cycle, every message arrives once in a
//! batch send and once in a batch delete. Generated structs would allocate a `String` for each
//! entry id and receipt handle, and the id would travel through the engine and into the reply only
//! to be freed. Here the id and the handle are [`ByteString`]s: checked to be UTF-8 as prost checks
//! a `string` field, but sharing the request's buffer, as the sent body already does (`Bytes`).
//!
//! `build.rs` maps both entries here (`extern_path`), so the generated requests, service and
//! client use these types; the wire format is the generated one's, byte for byte.

use super::pb;
use super::reply::{bytes_len, put_bytes};
use bytes::{Buf, BufMut, Bytes};
use bytestring::ByteString;
use prost::DecodeError;
use prost::encoding::{DecodeContext, WireType, hash_map, int64, message, skip_field, string};
use std::collections::HashMap;

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
