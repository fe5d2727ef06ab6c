//! A byte stream that reads ahead and writes behind, for HTTP/2 over TCP.
//!
//! HTTP/2 (h2) reads a connection in pieces of a few KiB and writes each frame as it is made: a
//! response of a batch is a header frame, one data frame per 16 KiB and a trailer frame, and the
//! trailers usually come from the call's task after the connection has already flushed the rest.
//! Unbuffered, one response costs two to four system calls, and on loopback each one runs the
//! whole TCP path of both ends. [`Coalesced`] puts a read buffer and a write buffer between h2 and
//! the socket, and lets the other tasks of the runtime run once before a flush, so that frames made
//! meanwhile (the trailers, the replies of other calls on the connection) leave in the same write.
//! The gRPC server and the `sqsfast bench` gRPC client both use it.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, BufStream, ReadBuf};

/// Bytes of each of the read and the write buffer of a connection.
pub const BUFFER: usize = 64 << 10;

/// `S` with a read buffer, a write buffer, and flushes deferred by one turn of the scheduler.
#[derive(Debug)]
pub struct Coalesced<S> {
    io: BufStream<S>,
    /// Something was written since the last flush.
    unflushed: bool,
    /// The pending flush has already let the other tasks run once.
    yielded: bool,
}

impl<S: AsyncRead + AsyncWrite> Coalesced<S> {
    pub fn new(io: S) -> Self {
        Self {
            io: BufStream::with_capacity(BUFFER, BUFFER, io),
            unflushed: false,
            yielded: false,
        }
    }

    pub fn get_ref(&self) -> &S {
        self.io.get_ref()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Coalesced<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Coalesced<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.unflushed = true;
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.unflushed = true;
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.unflushed && !self.yielded {
            // Woken while it runs, the task goes to the back of the run queue: whatever is ready
            // to run (a call about to write its trailers) runs before this flush.
            self.yielded = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let flushed = Pin::new(&mut self.io).poll_flush(cx);
        if flushed.is_ready() {
            // The next write starts a new round.
            self.unflushed = false;
            self.yielded = false;
        }
        flushed
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn writes_leave_on_flush_and_reads_pass_through() {
        let (a, mut b) = tokio::io::duplex(1 << 20);
        let mut a = Coalesced::new(a);
        a.write_all(b"hello ").await.unwrap();
        a.write_all(&[7u8; 100_000]).await.unwrap(); // larger than the buffer
        a.write_all(b"world").await.unwrap();
        // Nothing of the last write has left before the flush.
        let mut got = vec![0u8; 6 + 100_000];
        b.read_exact(&mut got).await.unwrap();
        assert_eq!(&got[..6], b"hello ");
        assert!(got[6..].iter().all(|&x| x == 7));
        let mut one = [0u8; 1];
        let early = tokio::time::timeout(std::time::Duration::from_millis(50), b.read(&mut one));
        assert!(
            early.await.is_err(),
            "a buffered write left before the flush"
        );
        a.flush().await.unwrap();
        let mut tail = [0u8; 5];
        b.read_exact(&mut tail).await.unwrap();
        assert_eq!(&tail, b"world");

        b.write_all(b"reply").await.unwrap();
        let mut reply = [0u8; 5];
        a.read_exact(&mut reply).await.unwrap();
        assert_eq!(&reply, b"reply");
    }
}
