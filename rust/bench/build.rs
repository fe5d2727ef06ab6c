//! Generates the gRPC client of `proto/sqsfast/v1/queue.proto` at build time (protox: no `protoc`
//! needed).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let file = root.join("sqsfast/v1/queue.proto");
    println!("cargo:rerun-if-changed={}", file.display());
    let fds = protox::compile([&file], [&root])?;
    tonic_prost_build::configure()
        .build_server(false)
        // Bodies as `Bytes`: sent and received without a copy.
        .bytes(".")
        .compile_fds(fds)?;
    Ok(())
}
