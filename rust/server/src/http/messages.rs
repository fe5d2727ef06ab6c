//! The messages of a ReceiveMessage answer.
//!
//! Over AWS JSON they are written straight from the engine's [`Received`]: ids, receipt handles and
//! MD5s formatted on the stack, each body copied once into the response. The Query protocol (and
//! the attributes a receive asks for) go through the response tree of [`Out`].

use super::output::{self, Out};
use crate::grpc::service::{message_id_bytes, message_id_text};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sqsfast_core::message::md5_of_attributes;
use sqsfast_core::{AttributeData, AttributeValue, Received};

/// The system attributes a receive can ask for by name (or with `All`).
pub const SYSTEM_ATTRIBUTES: &[&str] = &[
    "SenderId",
    "SentTimestamp",
    "ApproximateReceiveCount",
    "ApproximateFirstReceiveTimestamp",
    "DeadLetterQueueSourceArn",
];

/// What a receive got, and what it asked to see of it.
#[derive(Clone, Debug)]
pub struct Messages {
    pub got: Vec<Received>,
    /// The broker's sender id (the `SenderId` attribute).
    pub sender: String,
    /// System attributes asked for: names from [`SYSTEM_ATTRIBUTES`], or `All`.
    pub system: Vec<String>,
    /// Message attribute names asked for (`All`, `.*`, `prefix.*` or exact names).
    pub user: Vec<String>,
}

impl PartialEq for Messages {
    fn eq(&self, other: &Self) -> bool {
        self.tree() == other.tree()
    }
}

impl Messages {
    /// The answer as a response tree: `{"Messages": [...]}`, or nothing when none came.
    pub fn tree(&self) -> Out {
        if self.got.is_empty() {
            return Out::empty();
        }
        Out::Struct(vec![(
            "Messages",
            Out::List {
                item: "Message",
                items: self.got.iter().map(|m| self.message(m)).collect(),
            },
        )])
    }

    fn message(&self, m: &Received) -> Out {
        let mut members = vec![
            ("MessageId", Out::Str(message_id_text(m.message_id()))),
            ("ReceiptHandle", Out::Str(m.receipt_handle())),
            ("MD5OfBody", Out::Str(m.md5_of_body())),
            (
                "Body",
                Out::Str(String::from_utf8_lossy(m.body()).into_owned()),
            ),
        ];
        members.extend(self.attributes(m));
        Out::Struct(members)
    }

    /// The members after the body: the attributes asked for, when the message has any.
    fn attributes(&self, m: &Received) -> Vec<(&'static str, Out)> {
        let mut members = Vec::new();
        if !self.system.is_empty() {
            let all = self.system.iter().any(|n| n == "All");
            let attrs: Vec<(String, String)> = m
                .system_attributes(&self.sender)
                .into_iter()
                .filter(|(k, _)| all || self.system.iter().any(|n| n == k))
                .map(|(k, v)| (k.to_string(), v))
                .collect();
            if !attrs.is_empty() {
                members.push(("Attributes", Out::attributes(attrs)));
            }
        }
        if !self.user.is_empty() {
            let chosen: Vec<(String, AttributeValue)> = m
                .attributes()
                .iter()
                .filter(|(k, _)| wanted(&self.user, k))
                .cloned()
                .collect();
            if let Some(md5) = md5_of_attributes(&chosen) {
                members.push(("MD5OfMessageAttributes", Out::Str(md5)));
                members.push((
                    "MessageAttributes",
                    Out::Map {
                        entry: "MessageAttribute",
                        key: "Name",
                        value: "Value",
                        items: chosen
                            .iter()
                            .map(|(k, v)| (k.clone(), attribute_value(v)))
                            .collect(),
                    },
                ));
            }
        }
        members
    }

    /// About how many bytes [`Self::write_json`] writes.
    pub fn json_size(&self) -> usize {
        16 + self.got.iter().map(|m| m.body().len() + 200).sum::<usize>()
    }

    /// Writes the answer as AWS JSON: the same document [`Self::tree`] serialises to.
    pub fn write_json(&self, buf: &mut Vec<u8>) {
        if self.got.is_empty() {
            buf.extend_from_slice(b"{}");
            return;
        }
        buf.extend_from_slice(b"{\"Messages\":[");
        for (i, m) in self.got.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            buf.extend_from_slice(b"{\"MessageId\":\"");
            buf.extend_from_slice(&message_id_bytes(m.message_id()));
            buf.extend_from_slice(b"\",\"ReceiptHandle\":\"");
            buf.extend_from_slice(m.handle().text(&mut [0; 48]).as_bytes());
            buf.extend_from_slice(b"\",\"MD5OfBody\":\"");
            hex_into(buf, &m.body_digest());
            buf.extend_from_slice(b"\",\"Body\":");
            json_str(buf, m.body());
            for (name, value) in self.attributes(m) {
                buf.extend_from_slice(b",\"");
                buf.extend_from_slice(name.as_bytes());
                buf.extend_from_slice(b"\":");
                output::write_json(buf, &value);
            }
            buf.push(b'}');
        }
        buf.extend_from_slice(b"]}");
    }
}

/// Which message attributes a receive asked for: `All`, `.*`, `prefix.*` or exact names.
fn wanted(names: &[String], name: &str) -> bool {
    names.iter().any(|n| {
        n == "All"
            || n == ".*"
            || n == name
            || n.strip_suffix(".*").is_some_and(|p| {
                name.len() > p.len() && name.starts_with(p) && name.as_bytes()[p.len()] == b'.'
            })
    })
}

fn attribute_value(v: &AttributeValue) -> Out {
    let (key, value) = match &v.value {
        AttributeData::String(s) => ("StringValue", Out::Str(s.clone())),
        AttributeData::Binary(b) => ("BinaryValue", Out::Str(B64.encode(b))),
    };
    Out::Struct(vec![
        (key, value),
        ("DataType", Out::Str(v.data_type.clone())),
    ])
}

fn hex_into(buf: &mut Vec<u8>, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        buf.extend_from_slice(&[DIGITS[(b >> 4) as usize], DIGITS[(b & 15) as usize]]);
    }
}

/// Writes `text` as a JSON string, as serde_json does. Text that is ASCII with nothing to escape
/// (the usual body) is copied whole; anything else goes through serde_json (invalid UTF-8, which the
/// engine's body check keeps out, as `from_utf8_lossy` shows it).
pub fn json_str(buf: &mut Vec<u8>, text: &[u8]) {
    if plain_ascii(text) {
        buf.reserve(text.len() + 2);
        buf.push(b'"');
        buf.extend_from_slice(text);
        buf.push(b'"');
    } else {
        let text = String::from_utf8_lossy(text);
        serde_json::to_writer(buf, &*text).expect("a string serialises");
    }
}

/// Whether every byte is ASCII and needs no JSON escape: none below 0x20, no `"`, no `\`.
/// Eight bytes at a time (the bit tricks are exact for "is there such a byte").
fn plain_ascii(text: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    let flagged = |x: u64| {
        let zero_in = |v: u64| v.wrapping_sub(ONES) & !v;
        let below_space = x.wrapping_sub(ONES * 0x20) & !x;
        let quote = zero_in(x ^ (ONES * b'"' as u64));
        let backslash = zero_in(x ^ (ONES * b'\\' as u64));
        (below_space | quote | backslash | x) & HIGH != 0
    };
    let mut words = text.chunks_exact(8);
    for w in words.by_ref() {
        if flagged(u64::from_ne_bytes(w.try_into().expect("8 bytes"))) {
            return false;
        }
    }
    words
        .remainder()
        .iter()
        .all(|&b| (0x20..0x80).contains(&b) && b != b'"' && b != b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqsfast_core::{Broker, ReceiveOptions, SendMessage};

    /// Messages of every kind a receive returns: plain, escaped and non-ASCII bodies, with and
    /// without attributes, with the MD5 kept from the send or not, and dead-lettered.
    fn received() -> Vec<Received> {
        let receive = |q: &sqsfast_core::Queue, visibility| {
            q.receive(&ReceiveOptions {
                max_messages: 10,
                visibility_timeout: Some(visibility),
                ..Default::default()
            })
            .unwrap()
        };
        let b = Broker::new(Default::default());
        let dlq = b.create_queue("dlq", &[], &[]).unwrap();
        let redrive = format!(
            r#"{{"deadLetterTargetArn":"{}","maxReceiveCount":"1"}}"#,
            dlq.arn()
        );
        let q = b
            .create_queue("q", &[("RedrivePolicy".into(), redrive)], &[])
            .unwrap();
        for body in [
            "plain",
            "a \"quoted\" \\ body\twith\ttabs\r\n",
            "héllo 日本 🎉",
        ] {
            q.send(SendMessage::new(body)).unwrap();
            q.send(SendMessage {
                want_md5: true,
                ..SendMessage::new(body)
            })
            .unwrap();
        }
        q.send(SendMessage {
            attributes: vec![
                ("a.b".into(), AttributeValue::string("1 \" 2")),
                (
                    "bin".into(),
                    AttributeValue {
                        data_type: "Binary".into(),
                        value: AttributeData::Binary(vec![0, 1, 2, 255]),
                    },
                ),
            ],
            ..SendMessage::new("with attributes")
        })
        .unwrap();
        let mut got = receive(&q, 30);
        got.extend(receive(&q, 30));
        q.send(SendMessage::new("poison")).unwrap();
        assert_eq!(receive(&q, 0).len(), 1);
        assert!(receive(&q, 0).is_empty());
        got.extend(receive(&dlq, 30));
        assert_eq!(got.len(), 8);
        got
    }

    #[test]
    fn json_is_what_the_tree_serialises_to() {
        let got = received();
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        for (system, user) in [
            (names(&[]), names(&[])),
            (names(&["All"]), names(&["All"])),
            (
                names(&["SentTimestamp", "DeadLetterQueueSourceArn"]),
                names(&["a.*"]),
            ),
            (names(&[]), names(&["bin", "none"])),
        ] {
            for got in [got.clone(), got[..1].to_vec(), Vec::new()] {
                let m = Messages {
                    got,
                    sender: "AIDA\"X".into(),
                    system: system.clone(),
                    user: user.clone(),
                };
                let mut fast = Vec::new();
                m.write_json(&mut fast);
                assert_eq!(
                    String::from_utf8(fast.clone()).unwrap(),
                    String::from_utf8(serde_json::to_vec(&m.tree()).unwrap()).unwrap()
                );
                let parsed: serde_json::Value = serde_json::from_slice(&fast).unwrap();
                assert_eq!(
                    parsed["Messages"].as_array().map_or(0, Vec::len),
                    m.got.len()
                );
            }
        }
    }

    fn serde(text: &str) -> Vec<u8> {
        serde_json::to_vec(text).unwrap()
    }

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        let mut cases: Vec<String> = vec![
            String::new(),
            "a".into(),
            "plain text of more than eight bytes".into(),
            "quote\" in the middle".into(),
            "back\\slash".into(),
            "tab\tand\nnew line\r".into(),
            "\u{1}\u{1f}\u{7f}".into(),
            "héllo wörld, 日本語, 🎉".into(),
            " ~!#$%&'()*+,-./:;<=>?@[]^_`{|}".into(),
        ];
        // Every byte of interest at every position of a word and of the tail.
        for b in [0x00u8, 0x09, 0x1f, 0x20, b'"', b'\\', b'!', 0x7e, 0x7f] {
            for at in 0..19 {
                let mut s = vec![b'x'; 19];
                s[at] = b;
                cases.push(String::from_utf8(s).unwrap());
            }
        }
        for c in &cases {
            let mut buf = Vec::new();
            json_str(&mut buf, c.as_bytes());
            assert_eq!(buf, serde(c), "{c:?}");
        }
        let mut buf = Vec::new();
        json_str(&mut buf, b"bad \xff utf-8");
        assert_eq!(buf, serde("bad \u{fffd} utf-8"));
    }

    #[test]
    fn plain_ascii_agrees_with_a_byte_at_a_time_check() {
        let slow = |t: &[u8]| {
            t.iter()
                .all(|&b| (0x20..0x80).contains(&b) && b != b'"' && b != b'\\')
        };
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in 0..40 {
            for _ in 0..200 {
                let t: Vec<u8> = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        // Mostly printable ASCII, now and then any byte.
                        if x.is_multiple_of(16) {
                            (x >> 8) as u8
                        } else {
                            0x20 + (x >> 8) as u8 % 95
                        }
                    })
                    .collect();
                assert_eq!(plain_ascii(&t), slow(&t), "{t:?}");
            }
        }
    }

    #[test]
    fn message_attribute_name_filters() {
        let n = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let table: &[(&[&str], &str, bool)] = &[
            (&["All"], "x", true),
            (&[".*"], "x", true),
            (&["x"], "x", true),
            (&["x"], "xy", false),
            (&["a.*"], "a.b", true),
            (&["a.*"], "a", false),
            (&["a.*"], "ab.c", false),
            (&[], "x", false),
        ];
        for (names, name, want) in table {
            assert_eq!(wanted(&n(names), name), *want, "{names:?} {name}");
        }
    }
}
