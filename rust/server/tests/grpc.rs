//! The gRPC front end with an in-process server on 127.0.0.1 port 0 and tonic's generated client.

use sqsfast_core::Broker;
use sqsfast_server::grpc::pb::{self, queue_service_client::QueueServiceClient};
use sqsfast_server::{Bound, ServerConfig, serve};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tonic::Code;
use tonic::codegen::Bytes;
use tonic::transport::Channel;
use tonic_types::StatusExt as _;

struct Server {
    client: QueueServiceClient<Channel>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start() -> Self {
        let config = ServerConfig {
            http_port: 0,
            grpc_port: 0,
            ..ServerConfig::default()
        };
        let (bound_tx, bound_rx) = oneshot::channel::<Bound>();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(
            Broker::default(),
            config,
            move |b| {
                let _ = bound_tx.send(b);
            },
            async move {
                let _ = stopped.await;
            },
        ));
        let bound = bound_rx.await.expect("the server binds");
        let client = QueueServiceClient::connect(format!("http://{}", bound.grpc))
            .await
            .expect("connects");
        Self {
            client,
            stop: Some(stop),
            task,
        }
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("stops in time")
            .unwrap()
            .unwrap();
    }
}

async fn create(c: &mut QueueServiceClient<Channel>, name: &str) {
    c.create_queue(pb::CreateQueueRequest {
        queue_name: name.into(),
        ..Default::default()
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_receive_delete() {
    let s = Server::start().await;
    let mut c = s.client.clone();
    create(&mut c, "jobs").await;
    let sent = c
        .send_message(pb::SendMessageRequest {
            queue_name: "jobs".into(),
            message_body: Bytes::from_static(b"hello"),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let got = c
        .receive_message(pb::ReceiveMessageRequest {
            queue_name: "jobs".into(),
            max_number_of_messages: Some(10),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .messages;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, b"hello");
    assert_eq!(got[0].message_id, sent.message_id);
    assert_eq!(got[0].receive_count, 1);
    c.delete_message(pb::DeleteMessageRequest {
        queue_name: "jobs".into(),
        receipt_handle: got[0].receipt_handle.clone(),
    })
    .await
    .unwrap();
    let counts = c
        .get_queue_counts(pb::GetQueueCountsRequest {
            queue_name: "jobs".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((counts.visible, counts.in_flight), (0, 0));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_the_sqs_code() {
    let s = Server::start().await;
    let mut c = s.client.clone();
    let err = c
        .get_queue(pb::GetQueueRequest {
            queue_name: "missing".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert_eq!(
        err.get_details_error_info().unwrap().reason,
        "QueueDoesNotExist"
    );
    create(&mut c, "q").await;
    let err = c
        .send_message_batch(pb::SendMessageBatchRequest::new("q", Vec::new(), 0))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(
        err.metadata().get("sqsfast-error-code").unwrap(),
        "EmptyBatchRequest"
    );
    // A bad entry fails alone, with its own code.
    let results = c
        .send_message_batch(pb::SendMessageBatchRequest::new(
            "q",
            vec![
                pb::SendMessageBatchEntry {
                    id: "a".into(),
                    message_body: Bytes::from_static(b"ok"),
                    ..Default::default()
                },
                pb::SendMessageBatchEntry {
                    id: "b".into(),
                    message_body: Bytes::from_static(b"\x00"),
                    ..Default::default()
                },
            ],
            10,
        ))
        .await
        .unwrap()
        .into_inner()
        .results;
    assert!(results[0].error.is_none() && !results[0].message_id.is_empty());
    assert_eq!(
        results[1].error.as_ref().map(|e| e.code.as_str()),
        Some("InvalidMessageContents")
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_poll_wakes_on_send_and_ends_at_shutdown() {
    let s = Server::start().await;
    let mut c = s.client.clone();
    create(&mut c, "lp").await;
    let poll = |mut c: QueueServiceClient<Channel>| async move {
        c.receive_message(pb::ReceiveMessageRequest {
            queue_name: "lp".into(),
            wait_time_seconds: Some(20),
            ..Default::default()
        })
        .await
        .map(|r| r.into_inner().messages.len())
    };
    // Woken by a send.
    let waiting = tokio::spawn(poll(c.clone()));
    tokio::time::sleep(Duration::from_millis(200)).await;
    c.send_message(pb::SendMessageRequest {
        queue_name: "lp".into(),
        message_body: Bytes::from_static(b"x"),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(waiting.await.unwrap().unwrap(), 1);
    // Ended early, empty, by shutdown; the server then stops.
    let waiting = tokio::spawn(poll(c.clone()));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let start = Instant::now();
    s.stop().await;
    assert_eq!(waiting.await.unwrap().unwrap(), 0);
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_pushes_as_far_as_credit_goes() {
    let s = Server::start().await;
    let mut c = s.client.clone();
    create(&mut c, "st").await;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tx.send(pb::ReceiveMessageStreamRequest {
        queue_name: "st".into(),
        max_number_of_messages: Some(10),
        credit: 3,
        ..Default::default()
    })
    .await
    .unwrap();
    let mut stream = c
        .receive_message_stream(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    let bodies: Vec<_> = (0..5)
        .map(|i| pb::SendMessageBatchEntry {
            id: i.to_string().into(),
            message_body: format!("m{i}").into(),
            ..Default::default()
        })
        .collect();
    c.send_message_batch(pb::SendMessageBatchRequest::new("st", bodies, 0))
        .await
        .unwrap();
    let mut got = 0;
    while got < 3 {
        got += stream.message().await.unwrap().unwrap().messages.len();
    }
    assert_eq!(got, 3, "no more than the credit");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let counts = c
        .get_queue_counts(pb::GetQueueCountsRequest {
            queue_name: "st".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((counts.visible, counts.in_flight), (2, 3));
    tx.send(pb::ReceiveMessageStreamRequest {
        credit: 10,
        ..Default::default()
    })
    .await
    .unwrap();
    while got < 5 {
        got += stream.message().await.unwrap().unwrap().messages.len();
    }
    // Shutdown ends the stream cleanly.
    s.stop().await;
    assert!(stream.message().await.map_or(true, |m| m.is_none()));
}
