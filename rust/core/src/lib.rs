//! sqsfast-core: a message queue engine with the semantics of Amazon SQS standard queues.
//!
//! ```
//! use sqsfast_core::{Broker, ReceiveOptions, SendMessage};
//! let broker = Broker::default();
//! let q = broker.create_queue("orders", &[], &[]).unwrap();
//! q.send(SendMessage::new("hello")).unwrap();
//! let got = q.receive(&ReceiveOptions::default()).unwrap();
//! assert_eq!(got[0].body(), b"hello");
//! q.delete(got[0].handle()).unwrap();
//! ```
//!
//! The engine knows nothing of Python, gRPC or HTTP; front ends convert, call it and convert back.

pub mod attributes;
pub mod broker;
pub mod clock;
pub mod error;
mod handle;
pub mod message;
mod permissions;
pub mod queue;
#[doc(hidden)]
pub mod slot;
pub mod storage;
mod sync;
#[doc(hidden)]
pub mod timer;

pub use attributes::{QueueConfig, RedrivePolicy};
pub use broker::{Broker, BrokerConfig};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, ErrorCode, Result};
pub use handle::ReceiptHandle;
pub use message::{AttributeData, AttributeValue, MessageId, Received, SendMessage, Sent};
pub use queue::{AsHandle, BatchResult, Queue, QueueCounts, ReceiveOptions};
pub use storage::{FsyncMode, OpenError, RecoveryReport, StorageConfig, StorageStats};
