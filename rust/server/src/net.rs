//! A byte stream that reads ahead and writes behind, for HTTP/2 over TCP.
//!
//! HTTP/2 (h2) reads a connection in pieces of a few KiB and writes each frame as it is made: a
//! response of a batch is a header frame, one data frame per 16 KiB and a trailer frame, and the
//! trailers usually come from the call's task after the connection has already flushed the rest.
//! Unbuffered, one response costs two to four system calls, and on loopback each one runs the
//! whole TCP path of both ends. [`Coalesced`] puts a read buffer and a write buffer between h2 and
//! the socket, and lets the other tasks of the runtime run before a flush, so that frames made
//! meanwhile (the trailers, the replies of other calls on the connection) leave in the same write.
//! h2 also flushes in the middle of a message, whenever it has handed over a large DATA frame
//! (one per 16 KiB): a flush is therefore put off again as long as each turn brings more bytes,
//! up to [`MAX_YIELDS`] turns, so that a batch of a hundred messages leaves in one write, not
//! two or three. The gRPC server and the `sqsfast bench` gRPC client both use it.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, BufStream, ReadBuf};

/// Bytes of each of the read and the write buffer of a connection.
pub const BUFFER: usize = 64 << 10;

/// Turns of the scheduler a flush may wait for more bytes to send with it.
pub const MAX_YIELDS: u8 = 4;

/// `S` with a read buffer, a write buffer, and flushes deferred while turns of the scheduler bring
/// more to send.
#[derive(Debug)]
pub struct Coalesced<S> {
    io: BufStream<S>,
    /// Something was written since the last flush.
    unflushed: bool,
    /// Something was written since the pending flush last let the other tasks run.
    grew: bool,
    /// Times the pending flush has let the other tasks run.
    yields: u8,
}

impl<S: AsyncRead + AsyncWrite> Coalesced<S> {
    pub fn new(io: S) -> Self {
        Self {
            io: BufStream::with_capacity(BUFFER, BUFFER, io),
            unflushed: false,
            grew: false,
            yields: 0,
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
        self.grew = true;
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.unflushed = true;
        self.grew = true;
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.unflushed && self.grew && self.yields < MAX_YIELDS {
            // Woken while it runs, the task goes to the back of the run queue: whatever is ready
            // to run (a call about to write its trailers) runs before this flush is tried again.
            self.grew = false;
            self.yields += 1;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let flushed = Pin::new(&mut self.io).poll_flush(cx);
        if flushed.is_ready() {
            // The next write starts a new round.
            self.unflushed = false;
            self.grew = false;
            self.yields = 0;
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

    /// A socket that keeps what each write system call would have sent.
    #[derive(Default)]
    struct Wire(Vec<usize>);

    impl AsyncRead for Wire {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Poll::Pending
        }
    }

    impl AsyncWrite for Wire {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.0.push(buf.len());
            Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    /// As h2 drives it: each turn writes `chunks[turn]` (if any) and flushes; returns the writes
    /// that reached the socket and the turn the flush completed on.
    fn drive(chunks: &[usize]) -> (Vec<usize>, usize) {
        let mut io = Coalesced::new(Wire::default());
        let mut cx = Context::from_waker(std::task::Waker::noop());
        for turn in 0.. {
            if let Some(&n) = chunks.get(turn) {
                let wrote = Pin::new(&mut io).poll_write(&mut cx, &vec![1u8; n]);
                assert!(matches!(wrote, Poll::Ready(Ok(w)) if w == n));
            }
            if Pin::new(&mut io).poll_flush(&mut cx).is_ready() {
                return (io.get_ref().0.clone(), turn);
            }
        }
        unreachable!()
    }

    #[test]
    fn a_flush_waits_while_each_turn_brings_more() {
        // A reply in three DATA frames and its trailers, each followed by a flush: one write.
        let (writes, turn) = drive(&[16_393, 16_393, 6_156, 30]);
        assert_eq!(writes, [16_393 * 2 + 6_156 + 30]);
        assert_eq!(turn, 4, "flushed on the first turn that brought nothing");
        // Nothing written: nothing to wait for.
        assert_eq!(drive(&[]), (vec![], 0));
    }

    #[test]
    fn a_flush_waits_a_bounded_number_of_turns() {
        let chunks = [100; 2 * MAX_YIELDS as usize];
        let (writes, turn) = drive(&chunks);
        assert_eq!(turn, usize::from(MAX_YIELDS));
        assert_eq!(writes, [100 * (usize::from(MAX_YIELDS) + 1)]);
    }
}
