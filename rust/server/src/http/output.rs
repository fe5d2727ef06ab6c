//! Responses: one tree per action result, written as AWS JSON 1.0 or as Query-protocol XML.
//!
//! The tree carries what both encodings need: JSON member names, and for lists and maps the element
//! names of the Query protocol, which flattens them (`<QueueUrl>` repeated, `<Attribute><Name/><Value/>`).

use super::error::ApiError;
use super::messages::{Messages, json_str};
#[cfg(test)]
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use std::fmt::Write as _;

const XMLNS: &str = "http://queue.amazonaws.com/doc/2012-11-05/";

/// A response value.
#[derive(Clone, Debug, PartialEq)]
pub enum Out {
    Str(String),
    Int(i64),
    Bool(bool),
    /// A list; in XML each item is an element named `item`, repeated in place of the member.
    List {
        item: &'static str,
        items: Vec<Out>,
    },
    /// A map; in XML each entry is `<entry><key>…</key><value>…</value></entry>`, repeated.
    Map {
        entry: &'static str,
        key: &'static str,
        value: &'static str,
        items: Vec<(String, Out)>,
    },
    /// A structure: members in order.
    Struct(Vec<(&'static str, Out)>),
    /// A ReceiveMessage answer, kept as the engine gave it until it is written.
    Messages(Box<Messages>),
}

impl Out {
    pub fn empty() -> Self {
        Self::Struct(Vec::new())
    }

    pub fn str(s: impl Into<String>) -> Self {
        Self::Str(s.into())
    }

    /// A string-to-string map as SQS shows attributes (`<Attribute><Name/><Value/></Attribute>`).
    pub fn attributes(items: Vec<(String, String)>) -> Self {
        Self::Map {
            entry: "Attribute",
            key: "Name",
            value: "Value",
            items: items.into_iter().map(|(k, v)| (k, Out::Str(v))).collect(),
        }
    }
}

/// Writes `v` as compact JSON, as serde_json writes the same tree ([`Serialize`], the reference the
/// tests check this against).
pub(super) fn write_json(buf: &mut Vec<u8>, v: &Out) {
    fn members<'a, K: AsRef<str> + 'a>(
        buf: &mut Vec<u8>,
        items: impl Iterator<Item = (&'a K, &'a Out)>,
    ) {
        buf.push(b'{');
        for (i, (k, v)) in items.enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            json_str(buf, k.as_ref().as_bytes());
            buf.push(b':');
            write_json(buf, v);
        }
        buf.push(b'}');
    }
    match v {
        Out::Str(s) => json_str(buf, s.as_bytes()),
        Out::Int(i) => buf.extend_from_slice(i.to_string().as_bytes()),
        Out::Bool(b) => buf.extend_from_slice(if *b { b"true" } else { b"false" }),
        Out::List { items, .. } => {
            buf.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                write_json(buf, item);
            }
            buf.push(b']');
        }
        Out::Map { items, .. } => members(buf, items.iter().map(|(k, v)| (k, v))),
        Out::Struct(items) => members(buf, items.iter().map(|(k, v)| (k, v))),
        Out::Messages(m) => m.write_json(buf),
    }
}

#[cfg(test)]
impl Serialize for Out {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Out::Str(v) => s.serialize_str(v),
            Out::Int(v) => s.serialize_i64(*v),
            Out::Bool(v) => s.serialize_bool(*v),
            Out::List { items, .. } => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
            Out::Map { items, .. } => {
                let mut map = s.serialize_map(Some(items.len()))?;
                for (k, v) in items {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            Out::Struct(members) => {
                let mut map = s.serialize_map(Some(members.len()))?;
                for (k, v) in members {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            Out::Messages(m) => m.tree().serialize(s),
        }
    }
}

/// The JSON body of a success.
pub fn json(out: &Out) -> Vec<u8> {
    let mut buf = Vec::with_capacity(match out {
        Out::Messages(m) => m.json_size(),
        _ => 256,
    });
    write_json(&mut buf, out);
    buf
}

/// The JSON body of an error.
pub fn json_error(e: &ApiError) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"__type": e.json_type(), "message": e.message}))
        .expect("serialising strings cannot fail")
}

/// Escapes text for XML content; keeps carriage returns and tabs as character references so that
/// they survive parsing (a literal CR would be normalised away).
fn escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
}

fn xml_value(buf: &mut String, name: &str, v: &Out) {
    match v {
        Out::List { item, items } => {
            for i in items {
                xml_value(buf, item, i);
            }
        }
        Out::Map {
            entry,
            key,
            value,
            items,
        } => {
            for (k, v) in items {
                let _ = write!(buf, "<{entry}><{key}>");
                escape(buf, k);
                let _ = write!(buf, "</{key}>");
                xml_value(buf, value, v);
                let _ = write!(buf, "</{entry}>");
            }
        }
        scalar_or_struct => {
            let _ = write!(buf, "<{name}>");
            match scalar_or_struct {
                Out::Str(s) => escape(buf, s),
                Out::Int(i) => {
                    let _ = write!(buf, "{i}");
                }
                Out::Bool(b) => {
                    let _ = write!(buf, "{b}");
                }
                Out::Struct(members) => {
                    for (k, v) in members {
                        xml_value(buf, k, v);
                    }
                }
                Out::Messages(m) => {
                    if let Out::Struct(members) = m.tree() {
                        for (k, v) in &members {
                            xml_value(buf, k, v);
                        }
                    }
                }
                Out::List { .. } | Out::Map { .. } => unreachable!("handled above"),
            }
            let _ = write!(buf, "</{name}>");
        }
    }
}

/// The XML body of a Query-protocol success: `<ActionResponse><ActionResult>…` (no Result element for
/// actions that return nothing).
pub fn xml(action: &str, out: &Out, request_id: &str) -> Vec<u8> {
    let mut buf = String::with_capacity(512);
    let _ = write!(
        buf,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><{action}Response xmlns=\"{XMLNS}\">"
    );
    let tree;
    let out = match out {
        Out::Messages(m) => {
            tree = m.tree();
            &tree
        }
        out => out,
    };
    let members = match out {
        Out::Struct(m) => m.as_slice(),
        _ => &[],
    };
    if !members.is_empty() {
        let _ = write!(buf, "<{action}Result>");
        for (k, v) in members {
            xml_value(&mut buf, k, v);
        }
        let _ = write!(buf, "</{action}Result>");
    }
    let _ = write!(
        buf,
        "<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
    );
    buf.into_bytes()
}

/// The XML body of a Query-protocol error.
pub fn xml_error(e: &ApiError, request_id: &str) -> Vec<u8> {
    let mut buf = String::with_capacity(256);
    let _ = write!(
        buf,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ErrorResponse xmlns=\"{XMLNS}\"><Error><Type>{}</Type><Code>",
        if e.sender_fault { "Sender" } else { "Receiver" }
    );
    escape(&mut buf, e.legacy_code);
    buf.push_str("</Code><Message>");
    escape(&mut buf, &e.message);
    let _ = write!(
        buf,
        "</Message><Detail/></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    );
    buf.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Out {
        Out::Struct(vec![
            (
                "QueueUrls",
                Out::List {
                    item: "QueueUrl",
                    items: vec![Out::str("u1"), Out::str("u<2>")],
                },
            ),
            (
                "Attributes",
                Out::attributes(vec![("A".into(), "1".into())]),
            ),
            ("Moved", Out::Int(3)),
        ])
    }

    #[test]
    fn json_uses_member_names() {
        assert_eq!(
            String::from_utf8(json(&sample())).unwrap(),
            r#"{"QueueUrls":["u1","u<2>"],"Attributes":{"A":"1"},"Moved":3}"#
        );
    }

    #[test]
    fn json_is_what_serde_json_writes() {
        let tree = Out::Struct(vec![
            ("Empty", Out::empty()),
            (
                "List",
                Out::List {
                    item: "i",
                    items: vec![],
                },
            ),
            ("Neg", Out::Int(-42)),
            ("Big", Out::Int(i64::MAX)),
            ("Yes", Out::Bool(true)),
            ("No", Out::Bool(false)),
            ("Escaped", Out::str("a\"b\\c\n\u{1}é")),
            (
                "Nested",
                Out::List {
                    item: "i",
                    items: vec![
                        sample(),
                        Out::attributes(vec![("k\"".into(), "v\t".into())]),
                    ],
                },
            ),
        ]);
        assert_eq!(
            String::from_utf8(json(&tree)).unwrap(),
            serde_json::to_string(&tree).unwrap()
        );
    }

    #[test]
    fn xml_flattens_lists_and_maps() {
        let x = String::from_utf8(xml("ListQueues", &sample(), "r")).unwrap();
        assert!(x.contains(
            "<ListQueuesResult><QueueUrl>u1</QueueUrl><QueueUrl>u&lt;2&gt;</QueueUrl><Attribute><Name>A</Name><Value>1</Value></Attribute><Moved>3</Moved></ListQueuesResult>"
        ), "{x}");
        let x = String::from_utf8(xml("DeleteQueue", &Out::empty(), "r")).unwrap();
        assert!(!x.contains("DeleteQueueResult"));
        assert!(x.contains("<RequestId>r</RequestId>"));
    }
}
