//! `http://host:port`: the SQS API in its AWS JSON 1.0 protocol (`X-Amz-Target:
//! AmazonSQS.<Action>`), as current AWS SDKs speak it, over one keep-alive HTTP/1.1 connection per
//! producer and consumer. Any SQS-compatible endpoint that takes unsigned requests works (sqsfast,
//! moto, ElasticMQ); requests carry a placeholder `Authorization` header that such endpoints
//! read the region from, and no signature.

use crate::driver::{Conn, Driver, Error, Received, Token};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use sqsfast_server::http::json_str;
use std::io::Write as _;
use std::time::Duration;
use tokio::net::TcpStream;

/// SQS's most entries per batch and messages per receive.
pub const MAX_BATCH: usize = 10;

const AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=sqsfast-bench/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host;x-amz-target, Signature=0";

pub struct Http {
    /// `host:port`
    addr: String,
}

impl Http {
    pub fn new(addr: &str) -> Self {
        Self {
            addr: addr.to_owned(),
        }
    }

    async fn conn(&self) -> Result<HttpConn, Error> {
        Ok(HttpConn {
            sender: open(&self.addr).await?,
            host: self.addr.clone(),
        })
    }
}

impl Driver for Http {
    type Conn = HttpConn;

    fn name(&self) -> String {
        format!("http://{}", self.addr)
    }

    async fn connect(&self) -> Result<HttpConn, Error> {
        self.conn().await
    }

    async fn create_queue(&self, name: &str) -> Result<String, Error> {
        #[derive(Deserialize)]
        struct Out {
            #[serde(rename = "QueueUrl")]
            queue_url: String,
        }
        let body = serde_json::json!({ "QueueName": name });
        let out: Out = self.conn().await?.call("CreateQueue", &body).await?;
        Ok(out.queue_url)
    }

    async fn delete_queue(&self, queue: &str) -> Result<(), Error> {
        let body = serde_json::json!({ "QueueUrl": queue });
        let _: serde_json::Value = self.conn().await?.call("DeleteQueue", &body).await?;
        Ok(())
    }
}

async fn open(addr: &str) -> Result<SendRequest<Full<Bytes>>, Error> {
    let stream = tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(addr))
        .await
        .map_err(|_| format!("connecting to {addr} timed out"))??;
    stream.set_nodelay(true)?;
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        // Ends when the connection closes; its errors surface in the requests.
        let _ = conn.await;
    });
    Ok(sender)
}

pub struct HttpConn {
    sender: SendRequest<Full<Bytes>>,
    host: String,
}

#[derive(Deserialize)]
struct AwsError {
    #[serde(rename = "__type", default)]
    kind: String,
    #[serde(default, alias = "Message")]
    message: String,
}

#[cfg(test)]
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SendEntry<'a> {
    id: String,
    message_body: &'a str,
}

#[cfg(test)]
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct SendBatch<'a> {
    queue_url: &'a str,
    entries: Vec<SendEntry<'a>>,
}

#[cfg(test)]
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteEntry {
    id: String,
    receipt_handle: String,
}

#[cfg(test)]
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteBatch<'a> {
    queue_url: &'a str,
    entries: Vec<DeleteEntry>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Receive<'a> {
    queue_url: &'a str,
    max_number_of_messages: usize,
    wait_time_seconds: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ReceiveOut {
    #[serde(default)]
    messages: Vec<MessageOut>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MessageOut {
    body: String,
    receipt_handle: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BatchOut {
    #[serde(default)]
    failed: Vec<BatchFailure>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct BatchFailure {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

impl BatchOut {
    fn check(self) -> Result<(), Error> {
        match self.failed.first() {
            None => Ok(()),
            Some(f) => Err(format!(
                "{} entries failed, first: {}: {}",
                self.failed.len(),
                f.code,
                f.message
            )
            .into()),
        }
    }
}

impl HttpConn {
    async fn call<I: Serialize, O: for<'de> Deserialize<'de>>(
        &mut self,
        action: &str,
        input: &I,
    ) -> Result<O, Error> {
        self.call_json(action, serde_json::to_vec(input)?).await
    }

    /// [`Self::call`] with the request already written as JSON.
    async fn call_json<O: for<'de> Deserialize<'de>>(
        &mut self,
        action: &str,
        body: Vec<u8>,
    ) -> Result<O, Error> {
        let req = hyper::Request::post("/")
            .header(hyper::header::HOST, &self.host)
            .header(hyper::header::CONTENT_TYPE, "application/x-amz-json-1.0")
            .header("x-amz-target", format!("AmazonSQS.{action}"))
            .header(hyper::header::AUTHORIZATION, AUTHORIZATION)
            .body(Full::new(Bytes::from(body)))?;
        // Some endpoints (moto's werkzeug server) close the connection after each response: open
        // a new one then. A request that had not left when the connection closed is sent again on
        // the new one; one that had is an error (it may have been taken), never resent.
        if self.sender.is_closed() || self.sender.ready().await.is_err() {
            self.sender = open(&self.host).await?;
            self.sender.ready().await?;
        }
        let resp = match self.sender.try_send_request(req).await {
            Ok(resp) => resp,
            Err(mut e) => match e.take_message() {
                Some(req) => {
                    self.sender = open(&self.host).await?;
                    self.sender.ready().await?;
                    self.sender.send_request(req).await?
                }
                None => return Err(e.into_error().into()),
            },
        };
        let status = resp.status();
        let bytes = resp.into_body().collect().await?.to_bytes();
        if !status.is_success() {
            return Err(match serde_json::from_slice::<AwsError>(&bytes) {
                Ok(e) => {
                    let kind = e.kind.rsplit('#').next().unwrap_or_default();
                    format!("{action}: HTTP {status}: {kind}: {}", e.message).into()
                }
                Err(_) => format!(
                    "{action}: HTTP {status}: {}",
                    String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
                )
                .into(),
            });
        }
        // Checked as UTF-8 once, then read as text: serde_json checks none of its strings again.
        Ok(serde_json::from_str(std::str::from_utf8(&bytes)?)?)
    }
}

impl Conn for HttpConn {
    async fn send(&mut self, queue: &str, bodies: &[Bytes]) -> Result<(), Error> {
        let out: BatchOut = self
            .call_json("SendMessageBatch", send_request(queue, bodies)?)
            .await?;
        out.check()
    }

    async fn receive(
        &mut self,
        queue: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Received>, Error> {
        let out: ReceiveOut = self
            .call(
                "ReceiveMessage",
                &Receive {
                    queue_url: queue,
                    max_number_of_messages: max.min(MAX_BATCH),
                    // Whole seconds: a wait under one second rounds up.
                    wait_time_seconds: wait.as_secs_f64().ceil() as u64,
                },
            )
            .await?;
        Ok(out
            .messages
            .into_iter()
            .map(|m| Received {
                body: Bytes::from(m.body),
                token: Token::Str(m.receipt_handle),
            })
            .collect())
    }

    async fn delete(&mut self, queue: &str, tokens: Vec<Token>) -> Result<(), Error> {
        let out: BatchOut = self
            .call_json("DeleteMessageBatch", delete_request(queue, tokens))
            .await?;
        out.check()
    }
}

// The two requests of the hot loop are written by hand: bodies are most of the load generator's own
// work, and serde_json escapes them a byte at a time. Each is what serde_json writes for the
// `SendBatch` and `DeleteBatch` structs (the tests check it).

fn send_request(queue: &str, bodies: &[Bytes]) -> Result<Vec<u8>, Error> {
    let size = 64 + queue.len() + bodies.iter().map(|b| b.len() + 40).sum::<usize>();
    let mut req = Vec::with_capacity(size);
    req.extend_from_slice(b"{\"QueueUrl\":");
    json_str(&mut req, queue.as_bytes());
    req.extend_from_slice(b",\"Entries\":[");
    for (i, b) in bodies.iter().enumerate() {
        std::str::from_utf8(b)?;
        if i > 0 {
            req.push(b',');
        }
        write!(req, "{{\"Id\":\"{i}\",\"MessageBody\":").expect("writing to a Vec");
        json_str(&mut req, b);
        req.push(b'}');
    }
    req.extend_from_slice(b"]}");
    Ok(req)
}

fn delete_request(queue: &str, tokens: Vec<Token>) -> Vec<u8> {
    let mut req = Vec::with_capacity(64 + queue.len() + tokens.len() * 90);
    req.extend_from_slice(b"{\"QueueUrl\":");
    json_str(&mut req, queue.as_bytes());
    req.extend_from_slice(b",\"Entries\":[");
    for (i, t) in tokens.into_iter().enumerate() {
        if i > 0 {
            req.push(b',');
        }
        write!(req, "{{\"Id\":\"{i}\",\"ReceiptHandle\":").expect("writing to a Vec");
        match t {
            Token::Str(s) => json_str(&mut req, s.as_bytes()),
            Token::Bytes(b) => json_str(&mut req, &b),
            Token::U64(n) => json_str(&mut req, n.to_string().as_bytes()),
        }
        req.push(b'}');
    }
    req.extend_from_slice(b"]}");
    req
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_written_requests_are_what_serde_json_writes() {
        let queue = "http://127.0.0.1:9324/000000000000/q\"x";
        let bodies: Vec<Bytes> = ["plain", "tab\tquote\"", "héllo", &"x".repeat(300)]
            .iter()
            .map(|b| Bytes::from(b.to_string()))
            .collect();
        let want = serde_json::to_vec(&SendBatch {
            queue_url: queue,
            entries: bodies
                .iter()
                .enumerate()
                .map(|(i, b)| SendEntry {
                    id: i.to_string(),
                    message_body: std::str::from_utf8(b).unwrap(),
                })
                .collect(),
        })
        .unwrap();
        assert_eq!(send_request(queue, &bodies).unwrap(), want);
        assert!(send_request(queue, &[Bytes::from_static(b"\xff")]).is_err());

        let tokens = vec![Token::Str("AbC-_handle".into()), Token::U64(42)];
        let want = serde_json::to_vec(&DeleteBatch {
            queue_url: queue,
            entries: vec![
                DeleteEntry {
                    id: "0".into(),
                    receipt_handle: "AbC-_handle".into(),
                },
                DeleteEntry {
                    id: "1".into(),
                    receipt_handle: "42".into(),
                },
            ],
        })
        .unwrap();
        assert_eq!(delete_request(queue, tokens), want);
    }
}
