//! The systems under test that the native load generator reaches by URL.

pub mod embedded;
pub mod grpc;
pub mod http;

use crate::driver::Error;

/// A `--target`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// sqsfast's engine in this process.
    Embedded,
    /// sqsfast's gRPC API at `host:port`.
    Grpc(String),
    /// An SQS-compatible HTTP endpoint at `host:port` (AWS JSON 1.0 protocol).
    Http(String),
}

impl std::str::FromStr for Target {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let authority = |rest: &str| -> Result<String, String> {
            let host = rest.split('/').next().unwrap_or_default();
            match host.rsplit_once(':') {
                Some((h, p)) if !h.is_empty() && p.parse::<u16>().is_ok() => Ok(host.to_owned()),
                _ => Err(format!(
                    "--target {s:?}: expected host:port after the scheme"
                )),
            }
        };
        if s == "embedded" {
            Ok(Self::Embedded)
        } else if let Some(rest) = s.strip_prefix("grpc://") {
            Ok(Self::Grpc(authority(rest)?))
        } else if let Some(rest) = s.strip_prefix("http://") {
            Ok(Self::Http(authority(rest)?))
        } else if s.starts_with("sqs://") || s.starts_with("https://") {
            Err(format!(
                "--target {s}: the native client sends unsigned requests over plain HTTP; \
                 use --client python (boto3 signs requests with your AWS credentials)"
            ))
        } else {
            Err(format!(
                "--target {s:?}: expected embedded, grpc://host:port, http://host:port or sqs://region"
            ))
        }
    }
}

impl Target {
    /// Checks what this target allows of a configuration.
    ///
    /// # Errors
    /// A batch over what the protocol takes.
    pub fn check(&self, cfg: &crate::Config) -> Result<(), Error> {
        if matches!(self, Self::Http(_)) && cfg.batch > http::MAX_BATCH {
            return Err(format!(
                "--batch {} is more than the SQS API takes (1-{}); gRPC batches go up to 1000",
                cfg.batch,
                http::MAX_BATCH
            )
            .into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_targets() {
        assert_eq!("embedded".parse(), Ok(Target::Embedded));
        assert_eq!(
            "grpc://127.0.0.1:9325".parse(),
            Ok(Target::Grpc("127.0.0.1:9325".into()))
        );
        assert_eq!(
            "http://localhost:9324/".parse(),
            Ok(Target::Http("localhost:9324".into()))
        );
        for bad in [
            "grpc://nohost",
            "http://:80",
            "ftp://x:1",
            "",
            "grpc://h:99999",
        ] {
            assert!(bad.parse::<Target>().is_err(), "{bad}");
        }
        let err = "sqs://us-east-1".parse::<Target>().unwrap_err();
        assert!(err.contains("--client python"), "{err}");
    }
}
