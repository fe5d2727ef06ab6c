//! Requests: the members of each action, from an AWS JSON 1.0 body or from Query-protocol parameters.
//!
//! Both protocols end in the same typed request structs. A JSON body deserialises straight into them;
//! Query parameters (`Attribute.1.Name=…`, `SendMessageBatchRequestEntry.2.MessageBody=…`) are first
//! turned into the JSON document the JSON protocol would have sent ([`query_to_json`]), so that one set
//! of structs and one set of checks serves both.

use super::error::ApiError;
use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The members of a request, in either encoding.
pub enum Input<'a> {
    Json(&'a [u8]),
    Query(Value),
}

impl Input<'_> {
    /// The typed request.
    ///
    /// # Errors
    /// `SerializationException` for JSON that does not parse or has members of the wrong type;
    /// `InvalidParameterValue` for a Query parameter of the wrong type.
    pub fn parse<T: DeserializeOwned>(self) -> Result<T, ApiError> {
        match self {
            Input::Json(bytes) => {
                let bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
                    b"{}".as_slice()
                } else {
                    bytes
                };
                // The whole request checked as UTF-8 once: read as text, serde_json checks none of
                // its strings again. Bytes that are not UTF-8 get serde_json's own error.
                match std::str::from_utf8(bytes) {
                    Ok(text) => serde_json::from_str(text),
                    Err(_) => serde_json::from_slice(bytes),
                }
                .map_err(ApiError::serialization)
            }
            Input::Query(v) => serde_json::from_value(v).map_err(|e| {
                ApiError::from_code(
                    sqsfast_core::ErrorCode::InvalidParameterValue,
                    format!("One or more parameters are invalid: {e}"),
                )
            }),
        }
    }
}

// ---- Query parameters ----------------------------------------------------------------------------

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn percent_decode(s: &[u8]) -> Result<String, ApiError> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let (Some(h), Some(l)) = (
                    s.get(i + 1).copied().and_then(hex),
                    s.get(i + 2).copied().and_then(hex),
                ) else {
                    return Err(ApiError::malformed_query("a bad percent escape"));
                };
                out.push(h << 4 | l);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| ApiError::malformed_query("a value is not UTF-8"))
}

/// Decodes `application/x-www-form-urlencoded` pairs, strictly: a bad escape or bytes that are not
/// UTF-8 make the whole request malformed rather than silently changed.
///
/// # Errors
/// `MalformedQueryString`.
pub fn parse_form(raw: &[u8], out: &mut Vec<(String, String)>) -> Result<(), ApiError> {
    for pair in raw.split(|&b| b == b'&') {
        if pair.is_empty() {
            continue;
        }
        let (k, v) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &b""[..]),
        };
        out.push((percent_decode(k)?, percent_decode(v)?));
    }
    Ok(())
}

#[derive(Debug)]
enum Tree {
    Leaf(String),
    Node(BTreeMap<String, Tree>),
}

impl Tree {
    fn insert(&mut self, path: &[&str], value: String) {
        let Tree::Node(map) = self else { return };
        match path {
            [] => {}
            [last] => {
                map.entry((*last).to_string()).or_insert(Tree::Leaf(value));
            }
            [first, rest @ ..] => {
                let child = map
                    .entry((*first).to_string())
                    .or_insert_with(|| Tree::Node(BTreeMap::new()));
                child.insert(rest, value);
            }
        }
    }
}

/// The items of a Query list (`X.1`, `X.2`, … in numeric order); a bare `X=v` is a list of one.
fn items(t: Tree) -> Vec<Tree> {
    match t {
        Tree::Leaf(v) => vec![Tree::Leaf(v)],
        Tree::Node(map) => {
            let mut numbered: Vec<(u32, Tree)> = map
                .into_iter()
                .filter_map(|(k, v)| k.parse::<u32>().ok().map(|n| (n, v)))
                .collect();
            numbered.sort_by_key(|(n, _)| *n);
            numbered.into_iter().map(|(_, v)| v).collect()
        }
    }
}

fn leaf_or_struct(action: &str, t: Tree) -> Value {
    match t {
        Tree::Leaf(v) => Value::String(v),
        Tree::Node(map) => structure(action, map),
    }
}

/// A Query map (`Attribute.N.Name` / `Attribute.N.Value`, or Key/Value for tags) as a JSON object.
fn map(action: &str, t: Tree, key: &str) -> Value {
    let mut out = Map::new();
    for item in items(t) {
        let Tree::Node(mut fields) = item else {
            continue;
        };
        let Some(Tree::Leaf(name)) = fields.remove(key) else {
            continue;
        };
        let value = fields
            .remove("Value")
            .map_or(Value::Null, |v| leaf_or_struct(action, v));
        out.insert(name, value);
    }
    Value::Object(out)
}

fn structure(action: &str, fields: BTreeMap<String, Tree>) -> Value {
    let mut out = Map::new();
    for (key, t) in fields {
        let list = |t: Tree| {
            Value::Array(
                items(t)
                    .into_iter()
                    .map(|i| leaf_or_struct(action, i))
                    .collect(),
            )
        };
        let (name, value) = match key.as_str() {
            "AttributeName" => ("AttributeNames".to_string(), list(t)),
            "MessageAttributeName" => ("MessageAttributeNames".to_string(), list(t)),
            "MessageSystemAttributeName" => ("MessageSystemAttributeNames".to_string(), list(t)),
            "TagKey" => ("TagKeys".to_string(), list(t)),
            "AWSAccountId" => ("AWSAccountIds".to_string(), list(t)),
            "ActionName" => ("Actions".to_string(), list(t)),
            k if k.ends_with("BatchRequestEntry") => ("Entries".to_string(), list(t)),
            "Attribute" => ("Attributes".to_string(), map(action, t, "Name")),
            "MessageAttribute" => ("MessageAttributes".to_string(), map(action, t, "Name")),
            "MessageSystemAttribute" => (
                "MessageSystemAttributes".to_string(),
                map(action, t, "Name"),
            ),
            "Tag" if action == "CreateQueue" => ("tags".to_string(), map(action, t, "Key")),
            "Tag" => ("Tags".to_string(), map(action, t, "Key")),
            _ => (key, leaf_or_struct(action, t)),
        };
        out.insert(name, value);
    }
    Value::Object(out)
}

/// Query-protocol parameters as the JSON document of the same request.
pub fn query_to_json(action: &str, params: Vec<(String, String)>) -> Value {
    let mut root = Tree::Node(BTreeMap::new());
    for (k, v) in params {
        let path: Vec<&str> = k.split('.').collect();
        root.insert(&path, v);
    }
    match root {
        Tree::Node(map) => structure(action, map),
        Tree::Leaf(_) => Value::Object(Map::new()),
    }
}

// ---- typed requests ------------------------------------------------------------------------------

/// An integer member: a JSON number, or a string of digits (how the Query protocol carries it).
fn opt_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Int {
        N(i64),
        S(String),
    }
    match Option::<Int>::deserialize(d)? {
        None => Ok(None),
        Some(Int::N(n)) => Ok(Some(n)),
        Some(Int::S(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| D::Error::custom(format!("{s:?} is not an integer"))),
    }
}

/// A map member that may be null (a Query entry without a value).
fn opt_map<'de, D: Deserializer<'de>, V: Deserialize<'de>>(
    d: D,
) -> Result<Option<BTreeMap<String, Option<V>>>, D::Error> {
    Option::deserialize(d)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct CreateQueue {
    pub queue_name: Option<String>,
    #[serde(default, deserialize_with = "opt_map")]
    pub attributes: Option<BTreeMap<String, Option<String>>>,
    #[serde(default, rename = "tags", deserialize_with = "opt_map")]
    pub tags: Option<BTreeMap<String, Option<String>>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct QueueOnly {
    pub queue_url: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct GetQueueUrl {
    pub queue_name: Option<String>,
    #[serde(rename = "QueueOwnerAWSAccountId")]
    pub queue_owner_aws_account_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ListQueues {
    pub queue_name_prefix: Option<String>,
    pub next_token: Option<String>,
    #[serde(default, deserialize_with = "opt_int")]
    pub max_results: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ListDeadLetterSourceQueues {
    pub queue_url: Option<String>,
    pub next_token: Option<String>,
    #[serde(default, deserialize_with = "opt_int")]
    pub max_results: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct GetQueueAttributes {
    pub queue_url: Option<String>,
    pub attribute_names: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct SetQueueAttributes {
    pub queue_url: Option<String>,
    #[serde(default, deserialize_with = "opt_map")]
    pub attributes: Option<BTreeMap<String, Option<String>>>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct MessageAttributeValue {
    pub data_type: Option<String>,
    pub string_value: Option<String>,
    pub binary_value: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct SendMessage {
    pub queue_url: Option<String>,
    pub message_body: Option<String>,
    #[serde(default, deserialize_with = "opt_int")]
    pub delay_seconds: Option<i64>,
    #[serde(default, deserialize_with = "opt_map")]
    pub message_attributes: Option<BTreeMap<String, Option<MessageAttributeValue>>>,
    pub message_group_id: Option<String>,
    pub message_deduplication_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct SendMessageBatchEntry {
    pub id: Option<String>,
    pub message_body: Option<String>,
    #[serde(default, deserialize_with = "opt_int")]
    pub delay_seconds: Option<i64>,
    #[serde(default, deserialize_with = "opt_map")]
    pub message_attributes: Option<BTreeMap<String, Option<MessageAttributeValue>>>,
    pub message_group_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct SendMessageBatch {
    pub queue_url: Option<String>,
    pub entries: Option<Vec<SendMessageBatchEntry>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ReceiveMessage {
    pub queue_url: Option<String>,
    pub attribute_names: Option<Vec<String>>,
    pub message_system_attribute_names: Option<Vec<String>>,
    pub message_attribute_names: Option<Vec<String>>,
    #[serde(default, deserialize_with = "opt_int")]
    pub max_number_of_messages: Option<i64>,
    #[serde(default, deserialize_with = "opt_int")]
    pub visibility_timeout: Option<i64>,
    #[serde(default, deserialize_with = "opt_int")]
    pub wait_time_seconds: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteMessage {
    pub queue_url: Option<String>,
    pub receipt_handle: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct HandleEntry {
    pub id: Option<String>,
    pub receipt_handle: Option<String>,
    #[serde(default, deserialize_with = "opt_int")]
    pub visibility_timeout: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct HandleBatch {
    pub queue_url: Option<String>,
    pub entries: Option<Vec<HandleEntry>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ChangeMessageVisibility {
    pub queue_url: Option<String>,
    pub receipt_handle: Option<String>,
    #[serde(default, deserialize_with = "opt_int")]
    pub visibility_timeout: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct TagQueue {
    pub queue_url: Option<String>,
    #[serde(default, deserialize_with = "opt_map")]
    pub tags: Option<BTreeMap<String, Option<String>>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct UntagQueue {
    pub queue_url: Option<String>,
    pub tag_keys: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct AddPermission {
    pub queue_url: Option<String>,
    pub label: Option<String>,
    #[serde(rename = "AWSAccountIds")]
    pub aws_account_ids: Option<Vec<String>>,
    pub actions: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct RemovePermission {
    pub queue_url: Option<String>,
    pub label: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct StartMessageMoveTask {
    pub source_arn: Option<String>,
    pub destination_arn: Option<String>,
    #[serde(default, deserialize_with = "opt_int")]
    pub max_number_of_messages_per_second: Option<i64>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct CancelMessageMoveTask {
    pub task_handle: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ListMessageMoveTasks {
    pub source_arn: Option<String>,
    #[serde(default, deserialize_with = "opt_int")]
    pub max_results: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(s: &str) -> Vec<(String, String)> {
        let mut v = Vec::new();
        parse_form(s.as_bytes(), &mut v).unwrap();
        v
    }

    #[test]
    fn form_decoding_is_strict() {
        assert_eq!(
            params("a=b%20c+d&e=&f"),
            vec![
                ("a".into(), "b c d".into()),
                ("e".into(), "".into()),
                ("f".into(), "".into())
            ]
        );
        let mut v = Vec::new();
        assert_eq!(
            parse_form(b"a=%zz", &mut v).unwrap_err().shape,
            "MalformedQueryString"
        );
        assert_eq!(
            parse_form(b"a=%ff", &mut v).unwrap_err().shape,
            "MalformedQueryString"
        );
    }

    #[test]
    fn query_lists_and_maps_become_json() {
        let v = query_to_json(
            "SendMessageBatch",
            params(
                "QueueUrl=u&SendMessageBatchRequestEntry.2.Id=b&SendMessageBatchRequestEntry.2.MessageBody=y\
                 &SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=x\
                 &SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=k\
                 &SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType=String\
                 &SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue=v\
                 &SendMessageBatchRequestEntry.1.DelaySeconds=3",
            ),
        );
        assert_eq!(
            v,
            serde_json::json!({"QueueUrl": "u", "Entries": [
                {"Id": "a", "MessageBody": "x", "DelaySeconds": "3",
                 "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}}},
                {"Id": "b", "MessageBody": "y"}]})
        );
        let req: SendMessageBatch = Input::Query(v).parse().unwrap();
        assert_eq!(req.entries.unwrap()[0].delay_seconds, Some(3));

        let v = query_to_json(
            "CreateQueue",
            params(
                "QueueName=q&Attribute.1.Name=DelaySeconds&Attribute.1.Value=5&Tag.1.Key=t&Tag.1.Value=1",
            ),
        );
        assert_eq!(
            v,
            serde_json::json!({"QueueName": "q", "Attributes": {"DelaySeconds": "5"}, "tags": {"t": "1"}})
        );
        let v = query_to_json(
            "ReceiveMessage",
            params("AttributeName.1=All&MessageAttributeName.1=a.*&MessageAttributeName.2=b"),
        );
        assert_eq!(
            v,
            serde_json::json!({"AttributeNames": ["All"], "MessageAttributeNames": ["a.*", "b"]})
        );
    }

    #[test]
    fn json_type_errors_are_serialization_errors() {
        let e = Input::Json(br#"{"MaxNumberOfMessages": [1]}"#)
            .parse::<ReceiveMessage>()
            .err()
            .unwrap();
        assert_eq!(e.shape, "SerializationException");
        let e = Input::Json(b"{\"QueueUrl\": \"q\xff\"}")
            .parse::<QueueOnly>()
            .err()
            .unwrap();
        assert_eq!(e.shape, "SerializationException");
        let e = Input::Json(b"{not json")
            .parse::<QueueOnly>()
            .err()
            .unwrap();
        assert_eq!(e.shape, "SerializationException");
        let ok: ReceiveMessage = Input::Json(br#"{"MaxNumberOfMessages": "7"}"#)
            .parse()
            .unwrap();
        assert_eq!(ok.max_number_of_messages, Some(7));
        let e = Input::Query(serde_json::json!({"MaxNumberOfMessages": "x"}))
            .parse::<ReceiveMessage>()
            .err()
            .unwrap();
        assert_eq!(e.shape, "InvalidParameterValue");
    }
}
