//! The HTTP front end: the SQS-compatible API and `/health`.
//!
//! Both SQS wire protocols arrive on the same port:
//! - AWS JSON 1.0: `POST` with `X-Amz-Target: AmazonSQS.<Action>` and a JSON body;
//! - Query: `Action=<Action>&…` form-encoded in a `POST` body or in the query string of a `GET`, to
//!   the endpoint or to the queue URL; answered in XML.
//!
//! Connections are HTTP/1.1 with keep-alive, a header read timeout and a body size limit; hyper
//! serves them directly (no per-request routing layer: there is one endpoint). A long poll holds no
//! thread: it awaits the queue's listener (see [`actions`]).

mod actions;
pub mod error;
mod input;
mod messages;
mod move_tasks;
mod output;

/// Writes a JSON string (as serde_json does, faster for plain ASCII): for clients that build requests.
pub use messages::json_str;

use crate::{Context, Shutdown};
use bytes::Bytes;
use error::ApiError;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HOST, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use input::Input;
use move_tasks::MoveTasks;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// The largest request body read: a batch of 1 MiB of messages, with room for JSON escaping and
/// base64 binary attributes. Larger bodies are refused before they are read in full.
pub const MAX_BODY: usize = 4 * 1024 * 1024;
/// How long a client may take to send a request's headers (also the idle keep-alive limit between
/// requests).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// What the HTTP handlers share.
pub struct State {
    pub ctx: Arc<Context>,
    pub shutdown: Shutdown,
    tasks: Arc<MoveTasks>,
    /// `http://<address bound>`: the base of queue URLs for a request without a Host header.
    local_base: String,
}

/// Serves HTTP on `listener` until shutdown; then stops accepting, ends long polls early and lets
/// requests in flight finish.
///
/// # Errors
/// An I/O error from the listener.
pub async fn serve(
    ctx: Arc<Context>,
    listener: TcpListener,
    shutdown: Shutdown,
) -> std::io::Result<()> {
    let state = Arc::new(State {
        ctx,
        shutdown: shutdown.clone(),
        tasks: Arc::new(MoveTasks::default()),
        local_base: format!("http://{}", listener.local_addr()?),
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let stop = shutdown.wait();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of file descriptors and the like: wait a little rather than spin.
                        tracing::warn!("accept: {e}");
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let state = state.clone();
                let service = service_fn(move |req| {
                    let state = state.clone();
                    async move { Ok::<_, Infallible>(handle(&state, req).await) }
                });
                let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    let _ = conn.await;
                });
            }
            _ = &mut stop => break,
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(crate::DRAIN, graceful.shutdown()).await;
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Protocol {
    Json,
    Query,
}

/// A request id for each response, unique in this process and, with a random base, across
/// processes: a version-4 UUID drawn once, with a counter in its last 48 bits. `Uuid::new_v4()` for
/// every request would cost a `getrandom` system call each.
fn request_id() -> String {
    static BASE: std::sync::OnceLock<u128> = std::sync::OnceLock::new();
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let base = *BASE.get_or_init(|| uuid::Uuid::new_v4().as_u128());
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) & 0xffff_ffff_ffff;
    let id = uuid::Uuid::from_u128(base ^ n as u128);
    id.hyphenated()
        .encode_lower(&mut uuid::Uuid::encode_buffer())
        .to_owned()
}

fn respond(status: u16, content_type: &'static str, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn with_request_id(mut r: Response<Full<Bytes>>, id: &str) -> Response<Full<Bytes>> {
    if let Ok(v) = HeaderValue::from_str(id) {
        r.headers_mut().insert("x-amzn-requestid", v);
    }
    r
}

fn error_response(p: Protocol, e: &ApiError) -> Response<Full<Bytes>> {
    let id = request_id();
    let mut r = match p {
        Protocol::Json => respond(
            e.status,
            "application/x-amz-json-1.0",
            output::json_error(e),
        ),
        Protocol::Query => respond(e.status, "text/xml", output::xml_error(e, &id)),
    };
    if let Ok(v) = HeaderValue::from_str(&e.query_error_header()) {
        r.headers_mut().insert("x-amzn-query-error", v);
    }
    with_request_id(r, &id)
}

async fn handle(st: &State, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    if parts.uri.path() == "/health" && parts.method == Method::GET {
        return respond(200, "text/plain", b"ok\n".to_vec());
    }
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let protocol = if target.is_some() {
        Protocol::Json
    } else {
        Protocol::Query
    };
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            let err = if e.is::<http_body_util::LengthLimitError>() {
                ApiError::too_large(MAX_BODY)
            } else {
                ApiError::malformed_query("the request body could not be read")
            };
            return error_response(protocol, &err);
        }
    };
    let base = match parts.headers.get(HOST).and_then(|h| h.to_str().ok()) {
        Some(host) if !host.is_empty() => format!("http://{host}"),
        _ => st.local_base.clone(),
    };
    let (action, input) = match &target {
        Some(t) => {
            let action = t.strip_prefix("AmazonSQS.").unwrap_or("");
            if action.is_empty() {
                return error_response(protocol, &ApiError::invalid_action(t));
            }
            (action.to_string(), Input::Json(&body))
        }
        None => match query_input(&parts, &body) {
            Ok(v) => v,
            Err(e) => return error_response(protocol, &e),
        },
    };
    match actions::dispatch(st, &base, &action, input).await {
        Ok(out) => {
            let id = request_id();
            let r = match protocol {
                Protocol::Json => respond(200, "application/x-amz-json-1.0", output::json(&out)),
                Protocol::Query => respond(200, "text/xml", output::xml(&action, &out, &id)),
            };
            with_request_id(r, &id)
        }
        Err(e) => error_response(protocol, &e),
    }
}

/// The action and members of a Query-protocol request: parameters from the query string and from a
/// form body; the queue URL from the path when the request was sent to it.
fn query_input<'a>(
    parts: &hyper::http::request::Parts,
    body: &'a Bytes,
) -> Result<(String, Input<'a>), ApiError> {
    let mut params = Vec::new();
    if let Some(q) = parts.uri.query() {
        input::parse_form(q.as_bytes(), &mut params)?;
    }
    if !body.is_empty() {
        input::parse_form(body, &mut params)?;
    }
    let action = params
        .iter()
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.clone())
        .filter(|a| !a.is_empty())
        .ok_or_else(ApiError::missing_action)?;
    let mut value = input::query_to_json(&action, params);
    let path = parts.uri.path();
    if path.trim_matches('/').split('/').count() == 2
        && let serde_json::Value::Object(m) = &mut value
        && !m.contains_key("QueueUrl")
    {
        m.insert(
            "QueueUrl".into(),
            serde_json::Value::String(path.to_string()),
        );
    }
    Ok((action, Input::Query(value)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn request_ids_are_distinct_v4_uuids() {
        let ids: std::collections::HashSet<String> =
            (0..1000).map(|_| super::request_id()).collect();
        assert_eq!(ids.len(), 1000);
        for id in &ids {
            let u = uuid::Uuid::parse_str(id).expect("a UUID");
            assert_eq!(u.get_version_num(), 4, "{id}");
            assert_eq!(u.get_variant(), uuid::Variant::RFC4122, "{id}");
        }
    }
}
