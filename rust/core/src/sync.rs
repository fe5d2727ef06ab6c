//! The one door to atomics for the engine's lock-free parts, so that they can be model-checked with
//! loom (`RUSTFLAGS="--cfg loom" cargo test -p sqsfast-core --test loom --release`).
//! Model: tokio's `loom/mod.rs`.

#[cfg(loom)]
pub(crate) use loom::sync::atomic;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic;
