//! The benchmark message body: who sent it, which one it is and when, so that any target gives
//! end-to-end latency and loss/duplicate accounting.
//!
//! Layout, all ASCII (SQS bodies must be text): `sqsb`, the run id (16 hex digits), the producer id
//! (8), the sequence number (16) and the send timestamp in ns of `CLOCK_MONOTONIC` (16), then `.`
//! padding up to the message size. The timestamp uses the system's monotonic clock rather than a process-local
//! `Instant` so that producers and consumers in other processes (the Python client mode) agree;
//! Python's `time.monotonic_ns()` reads the same clock.

use sqsfast_core::message::HEX_PAIRS;

const MAGIC: &[u8; 4] = b"sqsb";

/// Bytes of the header; a body is at least this long.
pub const HEADER_LEN: usize = 4 + 16 + 8 + 16 + 16;

/// What a body says about itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    pub run: u64,
    pub producer: u32,
    pub seq: u64,
    /// `CLOCK_MONOTONIC` in ns when the message was sent (or, at a fixed rate, meant to be sent).
    pub sent_ns: u64,
}

/// Now on `CLOCK_MONOTONIC`, in ns.
pub fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC is always available on Linux
    // and macOS, so the call cannot fail.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Writes the low `out.len() / 2` bytes of `v` as hex digits, two per byte from a table.
fn put_hex(out: &mut [u8], v: u64) {
    let bytes = v.to_be_bytes();
    let low = &bytes[8 - out.len() / 2..];
    for (pair, &b) in out.chunks_exact_mut(2).zip(low) {
        pair.copy_from_slice(&HEX_PAIRS[usize::from(b)]);
    }
}

/// Each byte's value as a lowercase hex digit, or 0xff for a byte that is not one.
const NIBBLES: [u8; 256] = {
    let mut t = [0xff; 256];
    let mut i = 0;
    while i < 16 {
        t[b"0123456789abcdef"[i] as usize] = i as u8;
        i += 1;
    }
    t
};

fn get_hex(s: &[u8]) -> Option<u64> {
    let mut v = 0u64;
    let mut bad = 0u8;
    for &c in s {
        let d = NIBBLES[usize::from(c)];
        bad |= d;
        v = v << 4 | u64::from(d & 0xf);
    }
    (bad & 0xf0 == 0).then_some(v)
}

/// Encodes `stamp` into a body of `size` bytes (at least [`HEADER_LEN`]).
pub fn encode(stamp: &Stamp, size: usize) -> Vec<u8> {
    let mut out = vec![b'.'; size.max(HEADER_LEN)];
    write_header(&mut out, stamp);
    out
}

/// Writes the header of `stamp` at the start of `out` (at least [`HEADER_LEN`] bytes): producers
/// reuse one padded buffer template and only rewrite the header.
pub fn write_header(out: &mut [u8], stamp: &Stamp) {
    out[..4].copy_from_slice(MAGIC);
    put_hex(&mut out[4..20], stamp.run);
    put_hex(&mut out[20..28], stamp.producer as u64);
    put_hex(&mut out[28..44], stamp.seq);
    put_hex(&mut out[44..60], stamp.sent_ns);
}

/// Reads the header of a body; `None` for a body this tool did not make.
pub fn decode(body: &[u8]) -> Option<Stamp> {
    if body.len() < HEADER_LEN || &body[..4] != MAGIC {
        return None;
    }
    Some(Stamp {
        run: get_hex(&body[4..20])?,
        producer: u32::try_from(get_hex(&body[20..28])?).ok()?,
        seq: get_hex(&body[28..44])?,
        sent_ns: get_hex(&body[44..60])?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_padding() {
        let stamp = Stamp {
            run: 0xdead_beef_0123_4567,
            producer: 7,
            seq: u64::MAX - 1,
            sent_ns: 123_456_789_012,
        };
        for size in [0, HEADER_LEN, 256, 4096] {
            let body = encode(&stamp, size);
            assert_eq!(body.len(), size.max(HEADER_LEN));
            assert!(body.is_ascii(), "bodies must be valid SQS text");
            assert_eq!(decode(&body), Some(stamp));
            assert!(body[HEADER_LEN..].iter().all(|&b| b == b'.'));
        }
    }

    #[test]
    fn hex_digits_both_ways() {
        for c in 0..=255u8 {
            let digit = c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
            assert_eq!(get_hex(&[b'0', c]).is_some(), digit, "{c:#x}");
        }
        let mut out = [0u8; 16];
        for v in [0, 1, 0xabc, u64::MAX, 0x0123_4567_89ab_cdef] {
            put_hex(&mut out, v);
            assert_eq!(out, *format!("{v:016x}").as_bytes());
            assert_eq!(get_hex(&out), Some(v));
            put_hex(&mut out[..8], v);
            assert_eq!(out[..8], *format!("{:08x}", v as u32).as_bytes());
        }
    }

    #[test]
    fn rejects_foreign_bodies() {
        assert_eq!(decode(b"hello"), None);
        assert_eq!(decode(&[b'x'; 100]), None);
        let mut body = encode(
            &Stamp {
                run: 1,
                producer: 2,
                seq: 3,
                sent_ns: 4,
            },
            64,
        );
        body[30] = b'z';
        assert_eq!(decode(&body), None);
    }

    #[test]
    fn monotonic_clock_advances() {
        let a = now_ns();
        let b = now_ns();
        assert!(b >= a && a > 0);
    }
}
