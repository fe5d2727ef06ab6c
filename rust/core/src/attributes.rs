//! Queue attributes: SQS names, ranges and defaults, parsed and validated in one place.

use crate::error::{Error, ErrorCode, Result};

pub const MAX_VISIBILITY_TIMEOUT: u32 = 43_200;
pub const MAX_DELAY_SECONDS: u32 = 900;
pub const MAX_WAIT_SECONDS: u32 = 20;
pub const MIN_RETENTION: u32 = 60;
pub const MAX_RETENTION: u32 = 1_209_600;
pub const MIN_MESSAGE_SIZE: u32 = 1_024;
pub const MAX_MESSAGE_SIZE: u32 = 1_048_576;
pub const MAX_RECEIVE_COUNT: u32 = 1_000;

/// The attributes a user can set, in the order `GetQueueAttributes` lists them.
pub const SETTABLE: &[&str] = &[
    "VisibilityTimeout",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "DelaySeconds",
    "ReceiveMessageWaitTimeSeconds",
    "RedrivePolicy",
    "RedriveAllowPolicy",
    "Policy",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
];

/// Attributes the engine computes; they can be read, never set.
pub const READ_ONLY: &[&str] = &[
    "QueueArn",
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
];

const FIFO_ONLY: &[&str] = &[
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedrivePolicy {
    pub dead_letter_target_arn: String,
    pub max_receive_count: u32,
}

/// A queue's settable attributes, typed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueConfig {
    pub visibility_timeout: u32,
    pub maximum_message_size: u32,
    pub message_retention_period: u32,
    pub delay_seconds: u32,
    pub receive_message_wait_time_seconds: u32,
    pub redrive_policy: Option<RedrivePolicy>,
    pub redrive_allow_policy: Option<String>,
    pub policy: Option<String>,
    pub kms_master_key_id: Option<String>,
    pub kms_data_key_reuse_period_seconds: u32,
    pub sqs_managed_sse_enabled: bool,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            visibility_timeout: 30,
            maximum_message_size: MAX_MESSAGE_SIZE,
            message_retention_period: 345_600,
            delay_seconds: 0,
            receive_message_wait_time_seconds: 0,
            redrive_policy: None,
            redrive_allow_policy: None,
            policy: None,
            kms_master_key_id: None,
            kms_data_key_reuse_period_seconds: 300,
            sqs_managed_sse_enabled: true,
        }
    }
}

fn int_in(name: &str, value: &str, lo: u32, hi: u32) -> Result<u32> {
    match value.trim().parse::<i64>() {
        Ok(v) if (lo as i64..=hi as i64).contains(&v) => Ok(v as u32),
        _ => Err(Error::new(
            ErrorCode::InvalidAttributeValue,
            format!(
                "Invalid value for the parameter {name}. Reason: must be an integer from {lo} to {hi}."
            ),
        )),
    }
}

fn json_object(name: &str, value: &str) -> Result<serde_json::Map<String, serde_json::Value>> {
    match serde_json::from_str::<serde_json::Value>(value) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        _ => Err(Error::new(
            ErrorCode::InvalidAttributeValue,
            format!(
                "Invalid value for the parameter {name}. Reason: the value must be a JSON object."
            ),
        )),
    }
}

fn parse_redrive_policy(value: &str) -> Result<Option<RedrivePolicy>> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    let bad = |reason: &str| {
        Error::new(
            ErrorCode::InvalidParameterValue,
            format!("Value {value} for parameter RedrivePolicy is invalid. Reason: {reason}"),
        )
    };
    let map = json_object("RedrivePolicy", value)
        .map_err(|_| bad("Redrive policy is not a valid JSON map."))?;
    let arn = match map.get("deadLetterTargetArn") {
        Some(serde_json::Value::String(s)) => s.clone(),
        _ => {
            return Err(bad(
                "Redrive policy does not contain mandatory attribute: deadLetterTargetArn.",
            ));
        }
    };
    let count = match map.get("maxReceiveCount") {
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        Some(serde_json::Value::String(s)) => s.trim().parse::<i64>().ok(),
        None => {
            return Err(bad(
                "Redrive policy does not contain mandatory attribute: maxReceiveCount.",
            ));
        }
        _ => None,
    };
    match count {
        Some(c) if (1..=MAX_RECEIVE_COUNT as i64).contains(&c) => Ok(Some(RedrivePolicy {
            dead_letter_target_arn: arn,
            max_receive_count: c as u32,
        })),
        _ => Err(bad(
            "Invalid value for maxReceiveCount: must be an integer from 1 to 1000.",
        )),
    }
}

fn parse_bool(name: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(Error::new(
            ErrorCode::InvalidAttributeValue,
            format!("Invalid value for the parameter {name}. Reason: must be true or false."),
        )),
    }
}

impl QueueConfig {
    /// Applies SQS-named attributes, all or nothing: on error `self` is unchanged.
    ///
    /// # Errors
    /// `InvalidAttributeName` for unknown or read-only names, `InvalidAttributeValue` /
    /// `InvalidParameterValue` for values out of range, `UnsupportedOperation` for FIFO attributes.
    pub fn apply(&mut self, attributes: &[(String, String)]) -> Result<()> {
        let mut next = self.clone();
        for (name, value) in attributes {
            next.apply_one(name, value)?;
        }
        *self = next;
        Ok(())
    }

    fn apply_one(&mut self, name: &str, value: &str) -> Result<()> {
        match name {
            "VisibilityTimeout" => {
                self.visibility_timeout = int_in(name, value, 0, MAX_VISIBILITY_TIMEOUT)?
            }
            "MaximumMessageSize" => {
                self.maximum_message_size = int_in(name, value, MIN_MESSAGE_SIZE, MAX_MESSAGE_SIZE)?
            }
            "MessageRetentionPeriod" => {
                self.message_retention_period = int_in(name, value, MIN_RETENTION, MAX_RETENTION)?
            }
            "DelaySeconds" => self.delay_seconds = int_in(name, value, 0, MAX_DELAY_SECONDS)?,
            "ReceiveMessageWaitTimeSeconds" => {
                self.receive_message_wait_time_seconds = int_in(name, value, 0, MAX_WAIT_SECONDS)?
            }
            "RedrivePolicy" => self.redrive_policy = parse_redrive_policy(value)?,
            "RedriveAllowPolicy" => {
                self.redrive_allow_policy = if value.trim().is_empty() {
                    None
                } else {
                    json_object(name, value)?;
                    Some(value.to_string())
                }
            }
            "Policy" => {
                self.policy = if value.trim().is_empty() {
                    None
                } else {
                    json_object(name, value)?;
                    Some(value.to_string())
                }
            }
            "KmsMasterKeyId" => {
                self.kms_master_key_id = if value.is_empty() {
                    None
                } else {
                    Some(value.to_string())
                };
            }
            "KmsDataKeyReusePeriodSeconds" => {
                self.kms_data_key_reuse_period_seconds = int_in(name, value, 60, 86_400)?
            }
            "SqsManagedSseEnabled" => self.sqs_managed_sse_enabled = parse_bool(name, value)?,
            "FifoQueue" if value.trim().eq_ignore_ascii_case("false") => {}
            _ if FIFO_ONLY.contains(&name) => {
                return Err(Error::new(
                    ErrorCode::UnsupportedOperation,
                    format!(
                        "{name}: FIFO queues are not supported; sqsfast serves standard queues."
                    ),
                ));
            }
            _ => {
                return Err(Error::new(
                    ErrorCode::InvalidAttributeName,
                    format!("Unknown Attribute {name}."),
                ));
            }
        }
        Ok(())
    }

    /// The value of a settable attribute as SQS shows it; `None` when unset or not settable.
    pub fn get(&self, name: &str) -> Option<String> {
        Some(match name {
            "VisibilityTimeout" => self.visibility_timeout.to_string(),
            "MaximumMessageSize" => self.maximum_message_size.to_string(),
            "MessageRetentionPeriod" => self.message_retention_period.to_string(),
            "DelaySeconds" => self.delay_seconds.to_string(),
            "ReceiveMessageWaitTimeSeconds" => self.receive_message_wait_time_seconds.to_string(),
            "RedrivePolicy" => {
                let p = self.redrive_policy.as_ref()?;
                serde_json::json!({
                    "deadLetterTargetArn": p.dead_letter_target_arn,
                    "maxReceiveCount": p.max_receive_count,
                })
                .to_string()
            }
            "RedriveAllowPolicy" => self.redrive_allow_policy.clone()?,
            "Policy" => self.policy.clone()?,
            "KmsMasterKeyId" => self.kms_master_key_id.clone()?,
            "KmsDataKeyReusePeriodSeconds" => self.kms_data_key_reuse_period_seconds.to_string(),
            "SqsManagedSseEnabled" => self.sqs_managed_sse_enabled.to_string(),
            _ => return None,
        })
    }
}

/// Checks a queue name: 1–80 of `[A-Za-z0-9_-]`.
///
/// # Errors
/// `InvalidParameterValue` for a bad name, `UnsupportedOperation` for a FIFO (`.fifo`) name.
pub fn validate_queue_name(name: &str) -> Result<()> {
    if name.ends_with(".fifo") {
        return Err(Error::new(
            ErrorCode::UnsupportedOperation,
            "FIFO queues are not supported; sqsfast serves standard queues.",
        ));
    }
    if name.is_empty()
        || name.len() > 80
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(Error::new(
            ErrorCode::InvalidParameterValue,
            "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn limits_at_and_past_edges() {
        let table: &[(&str, &str, bool)] = &[
            ("VisibilityTimeout", "0", true),
            ("VisibilityTimeout", "43200", true),
            ("VisibilityTimeout", "43201", false),
            ("VisibilityTimeout", "-1", false),
            ("VisibilityTimeout", "abc", false),
            ("MessageRetentionPeriod", "60", true),
            ("MessageRetentionPeriod", "59", false),
            ("MessageRetentionPeriod", "1209600", true),
            ("MessageRetentionPeriod", "1209601", false),
            ("DelaySeconds", "900", true),
            ("DelaySeconds", "901", false),
            ("ReceiveMessageWaitTimeSeconds", "20", true),
            ("ReceiveMessageWaitTimeSeconds", "21", false),
            ("MaximumMessageSize", "1024", true),
            ("MaximumMessageSize", "1023", false),
            ("MaximumMessageSize", "1048576", true),
            ("MaximumMessageSize", "1048577", false),
            ("SqsManagedSseEnabled", "false", true),
            ("SqsManagedSseEnabled", "maybe", false),
            ("Policy", "{}", true),
            ("Policy", "[1]", false),
        ];
        for (name, value, ok) in table {
            let mut c = QueueConfig::default();
            assert_eq!(
                c.apply(&attrs(&[(name, value)])).is_ok(),
                *ok,
                "{name}={value}"
            );
        }
    }

    #[test]
    fn names() {
        let mut c = QueueConfig::default();
        assert_eq!(
            c.apply(&attrs(&[("Nope", "1")])).unwrap_err().code,
            ErrorCode::InvalidAttributeName
        );
        assert_eq!(
            c.apply(&attrs(&[("QueueArn", "x")])).unwrap_err().code,
            ErrorCode::InvalidAttributeName
        );
        assert_eq!(
            c.apply(&attrs(&[("FifoQueue", "true")])).unwrap_err().code,
            ErrorCode::UnsupportedOperation
        );
        assert!(validate_queue_name("a-B_9").is_ok());
        assert!(validate_queue_name(&"a".repeat(80)).is_ok());
        assert!(validate_queue_name(&"a".repeat(81)).is_err());
        assert!(validate_queue_name("").is_err());
        assert!(validate_queue_name("a.b").is_err());
    }

    #[test]
    fn all_or_nothing_and_redrive() {
        let mut c = QueueConfig::default();
        let err = c.apply(&attrs(&[
            ("VisibilityTimeout", "5"),
            ("DelaySeconds", "1000"),
        ]));
        assert!(err.is_err());
        assert_eq!(c.visibility_timeout, 30);
        c.apply(&attrs(&[(
            "RedrivePolicy",
            r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":"3"}"#,
        )]))
        .unwrap();
        assert_eq!(c.redrive_policy.as_ref().unwrap().max_receive_count, 3);
        assert_eq!(
            c.get("RedrivePolicy").unwrap(),
            r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":3}"#
        );
        c.apply(&attrs(&[("RedrivePolicy", "")])).unwrap();
        assert!(c.redrive_policy.is_none());
        assert!(
            c.apply(&attrs(&[("RedrivePolicy", r#"{"maxReceiveCount":1}"#)]))
                .is_err()
        );
    }
}
