//! Receipt handles: (queue, slot, generation, receive count, receive time) plus a MAC under a
//! per-process secret.
//! Delete and change-visibility find the message in O(1) with no map of handles; a handle from an
//! earlier receive is recognised by its receive count, a forged or mangled one by its MAC.

use crate::error::{Error, ErrorCode, Result};
use crate::message::MessageId;
use aes::Aes128;
use aes::cipher::{BlockEncrypt, KeyInit};
use siphasher::sip::SipHasher13;
use siphasher::sip128::{Hasher128, SipHasher13 as SipHasher13x128};
use std::fmt;
use std::hash::Hasher;
use std::str::FromStr;

const LEN: usize = 8 + 4 + 4 + 4 + 8 + 8;
/// Characters of a handle: `LEN` bytes in URL-safe base64, without padding (36 bytes are 12
/// groups of three, so there is none to leave out).
const TEXT_LEN: usize = LEN / 3 * 4;

/// Handles are URL-safe base64 (RFC 4648, section 5) with the CPU's vector instructions: each
/// received and deleted message pays for one encode and one decode.
const BASE64: base64_simd::Base64 = base64_simd::URL_SAFE_NO_PAD;

fn encode(bytes: &[u8; LEN]) -> [u8; TEXT_LEN] {
    let mut out = [0u8; TEXT_LEN];
    let _ = BASE64.encode(bytes, base64_simd::Out::from_slice(&mut out));
    out
}

fn decode(text: &[u8]) -> Option<[u8; LEN]> {
    if text.len() != TEXT_LEN {
        return None;
    }
    let mut out = [0u8; LEN];
    BASE64
        .decode(text, base64_simd::Out::from_slice(&mut out))
        .ok()?;
    Some(out)
}

/// A parsed receipt handle. Its fields are only trusted after [`Secrets::verify`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReceiptHandle {
    pub(crate) queue_id: u64,
    pub(crate) slot: u32,
    pub(crate) generation: u32,
    pub(crate) receive_count: u32,
    /// When this receive happened (epoch ms): change-visibility may not pass 12 hours from it.
    pub(crate) received_at: u64,
    pub(crate) tag: u64,
}

impl ReceiptHandle {
    fn to_bytes(self) -> [u8; LEN] {
        let mut b = [0u8; LEN];
        b[0..8].copy_from_slice(&self.queue_id.to_le_bytes());
        b[8..12].copy_from_slice(&self.slot.to_le_bytes());
        b[12..16].copy_from_slice(&self.generation.to_le_bytes());
        b[16..20].copy_from_slice(&self.receive_count.to_le_bytes());
        b[20..28].copy_from_slice(&self.received_at.to_le_bytes());
        b[28..36].copy_from_slice(&self.tag.to_le_bytes());
        b
    }
}

impl ReceiptHandle {
    /// The handle as clients carry it (URL-safe base64, 48 characters), written into `buf`: what
    /// `Display` writes, without allocating.
    pub fn text(self, buf: &mut [u8; TEXT_LEN]) -> &str {
        *buf = encode(&self.to_bytes());
        std::str::from_utf8(buf).expect("base64 is ASCII")
    }
}

impl fmt::Display for ReceiptHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text(&mut [0u8; TEXT_LEN]))
    }
}

impl fmt::Debug for ReceiptHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReceiptHandle({self})")
    }
}

impl FromStr for ReceiptHandle {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let invalid = || {
            let shown: String = s.chars().take(100).collect();
            Error::new(
                ErrorCode::ReceiptHandleIsInvalid,
                format!("The input receipt handle \"{shown}\" is not a valid receipt handle."),
            )
        };
        if s.len() > 80 {
            return Err(invalid());
        }
        let b = decode(s.trim().as_bytes()).ok_or_else(invalid)?;
        let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap());
        Ok(Self {
            queue_id: u64::from_le_bytes(b[0..8].try_into().unwrap()),
            slot: u32_at(8),
            generation: u32_at(12),
            receive_count: u32_at(16),
            received_at: u64::from_le_bytes(b[20..28].try_into().unwrap()),
            tag: u64::from_le_bytes(b[28..36].try_into().unwrap()),
        })
    }
}

/// Per-broker secrets: one key signs receipt handles, another derives the ids of logged messages,
/// a third those of messages in memory.
#[derive(Debug)]
pub(crate) struct Secrets {
    mac: (u64, u64),
    ids: (u64, u64),
    /// Ids of messages not in a log: one AES block of where and when the message was sent.
    memory_ids: Aes128,
}

impl Secrets {
    pub fn random() -> Self {
        let mut seed = [0u8; 48];
        // An OS without a random source is not one sqsfast can run on.
        getrandom::fill(&mut seed).expect("the OS random source is unavailable");
        let k = |i: usize| u64::from_le_bytes(seed[i * 8..i * 8 + 8].try_into().unwrap());
        let aes_key: [u8; 16] = seed[32..].try_into().unwrap();
        Self {
            mac: (k(0), k(1)),
            ids: (k(2), k(3)),
            memory_ids: Aes128::new(&aes_key.into()),
        }
    }

    /// Random handle keys with the given id key: a durable broker keeps its id key, so that
    /// message ids stay the same across restarts, and makes new handle keys, so that a handle from
    /// before a restart (whose slot means nothing now) is not accepted.
    pub fn with_ids(ids: (u64, u64)) -> Self {
        Self {
            ids,
            ..Self::random()
        }
    }

    pub fn ids_key(&self) -> (u64, u64) {
        self.ids
    }

    /// The id of the durable message with log key `key`.
    pub fn message_id_for_key(&self, queue_id: u64, key: u64) -> MessageId {
        let mut h = SipHasher13x128::new_with_keys(self.ids.0, self.ids.1);
        h.write_u8(0xd);
        h.write_u64(queue_id);
        h.write_u64(key);
        MessageId::from_bits(h.finish128().as_u128())
    }

    fn tag(&self, h: &ReceiptHandle) -> u64 {
        let mut m = SipHasher13::new_with_keys(self.mac.0, self.mac.1);
        m.write_u64(h.queue_id);
        m.write_u32(h.slot);
        m.write_u32(h.generation);
        m.write_u32(h.receive_count);
        m.write_u64(h.received_at);
        m.finish()
    }

    /// The handle of the receive number `receive_count` of the message in `slot` at `generation`.
    pub fn sign(
        &self,
        queue_id: u64,
        slot: u32,
        generation: u32,
        receive_count: u32,
        received_at: u64,
    ) -> ReceiptHandle {
        let mut h = ReceiptHandle {
            queue_id,
            slot,
            generation,
            receive_count,
            received_at,
            tag: 0,
        };
        h.tag = self.tag(&h);
        h
    }

    /// Whether the handle was made by this broker for queue `queue_id`.
    pub fn verify(&self, h: &ReceiptHandle, queue_id: u64) -> bool {
        h.queue_id == queue_id && self.tag(h) == h.tag
    }

    /// The id of the message sent at `sent_at` into `slot` at `generation`, unguessable across
    /// runs: one AES block, encrypted with the broker's key. No two messages of a broker have the
    /// same block (queue ids are under 2^32, a slot holds one message per generation, and the send
    /// time tells apart messages of a slot whose 32-bit generation wrapped, unless the wrap took a
    /// multiple of 2^32 ms), so their encryptions differ; with the UUID's 6 fixed bits set, two ids
    /// are the same with a chance of 2^-122.
    pub fn message_id(&self, queue_id: u64, slot: u32, generation: u32, sent_at: u64) -> MessageId {
        let mut block = id_block(queue_id, (slot, generation, sent_at));
        self.memory_ids.encrypt_block(&mut block);
        MessageId::from_bits(u128::from_le_bytes(block.into()))
    }

    /// [`Secrets::message_id`] of up to [`ID_BATCH`] messages of one queue, each given as (slot,
    /// generation, sent time), into `ids`. The blocks are independent, so the CPU encrypts them
    /// side by side: one block alone waits for each round in turn.
    pub fn message_ids(&self, queue_id: u64, of: &[(u32, u32, u64)], ids: &mut [MessageId]) {
        assert!(of.len() <= ID_BATCH && ids.len() == of.len());
        let mut blocks = [aes::Block::default(); ID_BATCH];
        for (block, &at) in blocks.iter_mut().zip(of) {
            *block = id_block(queue_id, at);
        }
        self.memory_ids.encrypt_blocks(&mut blocks[..of.len()]);
        for (id, block) in ids.iter_mut().zip(blocks) {
            *id = MessageId::from_bits(u128::from_le_bytes(block.into()));
        }
    }
}

/// Messages whose ids [`Secrets::message_ids`] makes at once: the blocks AES-NI runs in parallel.
pub(crate) const ID_BATCH: usize = 8;

fn id_block(queue_id: u64, (slot, generation, sent_at): (u32, u32, u64)) -> aes::Block {
    let mut block = [0u8; 16];
    block[..4].copy_from_slice(&(queue_id as u32).to_le_bytes());
    block[4..8].copy_from_slice(&slot.to_le_bytes());
    block[8..12].copy_from_slice(&generation.to_le_bytes());
    block[12..].copy_from_slice(&(sent_at as u32).to_le_bytes());
    block.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_verify() {
        let s = Secrets::random();
        let h = s.sign(7, 42, 3, 9, 1_700_000_000_000);
        let text = h.to_string();
        let parsed: ReceiptHandle = text.parse().unwrap();
        assert_eq!(parsed, h);
        assert!(s.verify(&parsed, 7));
        assert!(!s.verify(&parsed, 8));
        let forged = ReceiptHandle {
            receive_count: 10,
            ..parsed
        };
        assert!(!s.verify(&forged, 7));
        let later = ReceiptHandle {
            received_at: 1,
            ..parsed
        };
        assert!(!s.verify(&later, 7), "the receive time is signed too");
        assert!(!Secrets::random().verify(&parsed, 7));
    }

    proptest::proptest! {
        #[test]
        fn encodes_as_base64_does(bytes: [u8; LEN]) {
            use base64::Engine as _;
            let ours = encode(&bytes);
            let theirs = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
            proptest::prop_assert_eq!(&ours[..], theirs.as_bytes());
            proptest::prop_assert_eq!(decode(&ours), Some(bytes));
        }

        /// Text near a handle's (a changed, added or removed character, or none) decodes exactly
        /// when base64 decodes it to a handle's length, and to the same bytes.
        #[test]
        fn decodes_as_base64_does(
            bytes: [u8; LEN],
            at in 0..TEXT_LEN,
            c: u8,
            edit in 0..4u8,
        ) {
            use base64::Engine as _;
            let mut text = encode(&bytes).to_vec();
            match edit {
                0 => text[at] = c,
                1 => text.insert(at, c),
                2 => { text.remove(at); }
                _ => {}
            }
            let mut buf = [0u8; 64];
            let theirs = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode_slice(&text, &mut buf)
                .ok()
                .filter(|&n| n == LEN)
                .map(|_| <[u8; LEN]>::try_from(&buf[..LEN]).unwrap());
            proptest::prop_assert_eq!(decode(&text), theirs);
        }
    }

    #[test]
    fn memory_message_ids_are_distinct_v4_uuids_and_differ_between_brokers() {
        let (a, b) = (Secrets::random(), Secrets::random());
        let mut seen = std::collections::HashSet::new();
        for queue in [1, 2, u64::from(u32::MAX) - 1] {
            for slot in [0, 1, 1 << 20] {
                for generation in [0, 1, u32::MAX] {
                    for sent_at in [0, 1_700_000_000_000, 1_700_000_000_001] {
                        let id = a.message_id(queue, slot, generation, sent_at);
                        assert_eq!(id, a.message_id(queue, slot, generation, sent_at));
                        assert_ne!(id, b.message_id(queue, slot, generation, sent_at));
                        let text = id.to_string();
                        assert_eq!(text.len(), 36);
                        assert_eq!(&text[14..15], "4", "{text}");
                        assert!(matches!(&text[19..20], "8" | "9" | "a" | "b"), "{text}");
                        assert!(seen.insert(id));
                    }
                }
            }
        }
    }

    #[test]
    fn message_ids_at_once_are_those_made_one_by_one() {
        let s = Secrets::random();
        let of: Vec<_> = (0..ID_BATCH as u32)
            .map(|i| (i * 7, i, 1_700_000_000_000 + u64::from(i)))
            .collect();
        for n in 0..=ID_BATCH {
            let mut ids = vec![MessageId::from_bits(0); n];
            s.message_ids(3, &of[..n], &mut ids);
            for (id, &(slot, generation, sent_at)) in ids.iter().zip(&of) {
                assert_eq!(*id, s.message_id(3, slot, generation, sent_at));
            }
        }
    }

    #[test]
    fn garbage_is_invalid() {
        for bad in ["", "abc", "!!!!", &"A".repeat(200)] {
            let err = bad.parse::<ReceiptHandle>().unwrap_err();
            assert_eq!(err.code, ErrorCode::ReceiptHandleIsInvalid);
        }
    }
}
