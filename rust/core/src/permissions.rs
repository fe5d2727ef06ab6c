//! AddPermission / RemovePermission: statements of a queue's access policy (its `Policy` attribute),
//! added and removed by label, as SQS does.
//!
//! The policy document is the `Policy` attribute itself, so GetQueueAttributes shows what
//! AddPermission wrote and SetQueueAttributes can replace it.

use crate::error::{Error, ErrorCode, Result};
use crate::queue::Queue;
use serde_json::{Value, json};

/// The actions AddPermission accepts (with or without the `SQS:` prefix); `*` is every action.
const ACTIONS: &[&str] = &[
    "*",
    "SendMessage",
    "ReceiveMessage",
    "DeleteMessage",
    "ChangeMessageVisibility",
    "GetQueueAttributes",
    "GetQueueUrl",
    "ListDeadLetterSourceQueues",
    "PurgeQueue",
    "ListQueueTags",
];

/// A queue policy holds at most this many statements.
const MAX_STATEMENTS: usize = 20;

fn label_error(label: &str, reason: &str) -> Error {
    Error::invalid_parameter("Label", label, reason)
}

fn statements(policy: Option<&str>) -> Result<(Value, Vec<Value>)> {
    let doc = match policy {
        Some(p) => serde_json::from_str::<Value>(p).map_err(|_| {
            Error::new(
                ErrorCode::InvalidAttributeValue,
                "The queue's Policy is not valid JSON.",
            )
        })?,
        None => Value::Null,
    };
    let list = match doc.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(v @ Value::Object(_)) => vec![v.clone()],
        _ => Vec::new(),
    };
    Ok((doc, list))
}

impl Queue {
    /// Allows `account_ids` to perform `actions` on this queue: adds a statement with id `label` to
    /// the queue's policy (creating the policy if there is none).
    ///
    /// # Errors
    /// `InvalidParameterValue` for a bad or already used label, no accounts, no or unknown actions,
    /// or a policy already holding 20 statements; `MissingParameter` for an empty label.
    pub fn add_permission(
        &self,
        label: &str,
        account_ids: &[String],
        actions: &[String],
    ) -> Result<()> {
        if label.is_empty() {
            return Err(Error::new(
                ErrorCode::MissingParameter,
                "The request must contain the parameter Label.",
            ));
        }
        if label.len() > 80
            || !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(label_error(
                label,
                "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
            ));
        }
        if account_ids.is_empty() {
            return Err(Error::new(
                ErrorCode::MissingParameter,
                "The request must contain the parameter AWSAccountIds.",
            ));
        }
        for id in account_ids {
            if id.is_empty() || id.len() > 64 {
                return Err(Error::invalid_parameter(
                    "AWSAccountIds",
                    id,
                    "Invalid AWS account id.",
                ));
            }
        }
        if actions.is_empty() {
            return Err(Error::new(
                ErrorCode::MissingParameter,
                "The request must contain the parameter Actions.",
            ));
        }
        let mut qualified = Vec::with_capacity(actions.len());
        for a in actions {
            let bare = a.strip_prefix("SQS:").unwrap_or(a);
            if !ACTIONS.contains(&bare) {
                return Err(Error::invalid_parameter(
                    "ActionName",
                    a,
                    "Please refer to the appropriate WSDL for a list of valid actions.",
                ));
            }
            qualified.push(format!("SQS:{bare}"));
        }
        let config = self.config();
        let (doc, mut list) = statements(config.policy.as_deref())?;
        if list
            .iter()
            .any(|s| s.get("Sid").and_then(Value::as_str) == Some(label))
        {
            return Err(label_error(label, "Already exists."));
        }
        if list.len() >= MAX_STATEMENTS {
            return Err(label_error(
                label,
                "A queue policy can hold at most 20 statements.",
            ));
        }
        let principals: Vec<String> = account_ids
            .iter()
            .map(|id| format!("arn:aws:iam::{id}:root"))
            .collect();
        list.push(json!({
            "Sid": label,
            "Effect": "Allow",
            "Principal": {"AWS": if principals.len() == 1 { json!(principals[0]) } else { json!(principals) }},
            "Action": if qualified.len() == 1 { json!(qualified[0]) } else { json!(qualified) },
            "Resource": self.arn(),
        }));
        let mut doc = match doc {
            Value::Object(m) => m,
            _ => {
                let mut m = serde_json::Map::new();
                m.insert("Version".into(), json!("2012-10-17"));
                m.insert(
                    "Id".into(),
                    json!(format!("{}/SQSDefaultPolicy", self.arn())),
                );
                m
            }
        };
        doc.insert("Statement".into(), Value::Array(list));
        self.set_attributes(&[("Policy".into(), Value::Object(doc).to_string())])
    }

    /// Removes the statement with id `label` from the queue's policy; the policy goes when its last
    /// statement does.
    ///
    /// # Errors
    /// `InvalidParameterValue` when no statement has that label.
    pub fn remove_permission(&self, label: &str) -> Result<()> {
        if label.is_empty() {
            return Err(Error::new(
                ErrorCode::MissingParameter,
                "The request must contain the parameter Label.",
            ));
        }
        let config = self.config();
        let (doc, mut list) = statements(config.policy.as_deref())?;
        let before = list.len();
        list.retain(|s| s.get("Sid").and_then(Value::as_str) != Some(label));
        if list.len() == before {
            return Err(label_error(label, "can't find label."));
        }
        let policy = if list.is_empty() {
            String::new()
        } else {
            let mut doc = match doc {
                Value::Object(m) => m,
                _ => serde_json::Map::new(),
            };
            doc.insert("Statement".into(), Value::Array(list));
            Value::Object(doc).to_string()
        };
        self.set_attributes(&[("Policy".into(), policy)])
    }
}

#[cfg(test)]
mod tests {
    use crate::{Broker, ErrorCode};

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn add_and_remove_by_label() {
        let b = Broker::default();
        let q = b.create_queue("p", &[], &[]).unwrap();
        q.add_permission("one", &s(&["111122223333"]), &s(&["SendMessage"]))
            .unwrap();
        q.add_permission("two", &s(&["1", "2"]), &s(&["*", "SQS:ReceiveMessage"]))
            .unwrap();
        let policy: serde_json::Value =
            serde_json::from_str(q.config().policy.as_deref().unwrap()).unwrap();
        let st = policy["Statement"].as_array().unwrap();
        assert_eq!(st.len(), 2);
        assert_eq!(st[0]["Sid"], "one");
        assert_eq!(st[0]["Action"], "SQS:SendMessage");
        assert_eq!(st[0]["Principal"]["AWS"], "arn:aws:iam::111122223333:root");
        assert_eq!(st[0]["Resource"], q.arn());
        let err = q
            .add_permission("one", &s(&["1"]), &s(&["SendMessage"]))
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidParameterValue);
        q.remove_permission("one").unwrap();
        assert_eq!(
            q.remove_permission("one").unwrap_err().code,
            ErrorCode::InvalidParameterValue
        );
        q.remove_permission("two").unwrap();
        assert!(q.config().policy.is_none());
    }

    #[test]
    fn bad_input() {
        let b = Broker::default();
        let q = b.create_queue("p", &[], &[]).unwrap();
        let table: &[(&str, Vec<String>, Vec<String>, ErrorCode)] = &[
            (
                "",
                s(&["1"]),
                s(&["SendMessage"]),
                ErrorCode::MissingParameter,
            ),
            (
                "a b",
                s(&["1"]),
                s(&["SendMessage"]),
                ErrorCode::InvalidParameterValue,
            ),
            (
                "ok",
                s(&[]),
                s(&["SendMessage"]),
                ErrorCode::MissingParameter,
            ),
            ("ok", s(&["1"]), s(&[]), ErrorCode::MissingParameter),
            (
                "ok",
                s(&["1"]),
                s(&["Fly"]),
                ErrorCode::InvalidParameterValue,
            ),
        ];
        for (label, ids, actions, code) in table {
            assert_eq!(
                q.add_permission(label, ids, actions).unwrap_err().code,
                *code,
                "{label:?} {ids:?} {actions:?}"
            );
        }
    }
}
