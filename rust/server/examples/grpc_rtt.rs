//! Round trips of the gRPC API from a Rust (tonic) client, to tell the server's share of a call
//! from a Python client's: `cargo run --release -p sqsfast-server --example grpc_rtt -- URL`.

use sqsfast_server::grpc::pb::{self, queue_service_client::QueueServiceClient};
use std::time::Instant;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:9325".into())
        .replace("grpc://", "http://");
    let mut c = QueueServiceClient::connect(url).await?;
    let mut samples = Vec::new();
    for _ in 0..5000 {
        let t = Instant::now();
        c.get_server_info(pb::GetServerInfoRequest {}).await?;
        samples.push(t.elapsed().as_micros() as u64);
    }
    samples.sort_unstable();
    println!(
        "GetServerInfo round trip: p50 {} us, p99 {} us",
        samples[samples.len() / 2],
        samples[samples.len() * 99 / 100]
    );
    Ok(())
}
