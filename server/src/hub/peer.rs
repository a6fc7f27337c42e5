//! A connection as the hub sees it: a bounded outbox of encoded frames and a way to close
//! it. Rooms never block on a peer: a full outbox closes the connection as a slow
//! consumer instead of stalling everyone else or dropping frames silently.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use axum::extract::ws::Utf8Bytes;
use plenary_proto::{CloseCode, ConnectionId, ServerMsg};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;

/// A node-local connection number.
pub type PeerId = u64;

#[derive(Debug)]
pub struct Peer {
    pub id: PeerId,
    pub connection: ConnectionId,
    outbox: mpsc::Sender<Utf8Bytes>,
    /// Bytes queued and not yet taken by the writer, bounded by `max_queued_bytes`: a
    /// frame count alone would let a few large snapshots hold megabytes per connection.
    queued_bytes: AtomicUsize,
    max_queued_bytes: usize,
    /// Read on every send: an atomic, where the token's state sits behind a mutex.
    closed: AtomicBool,
    closing: CancellationToken,
    close_code: OnceLock<CloseCode>,
    metrics: Arc<Metrics>,
}

/// Why a frame could not be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Undeliverable {
    /// The outbox was full: the connection is now closing with [`CloseCode::SlowConsumer`].
    Slow,
    /// The connection is already gone or closing.
    Closed,
}

impl Peer {
    /// A peer and the receiving end of its outbox, which the connection's writer drains.
    pub fn new(
        id: PeerId,
        connection: ConnectionId,
        outbox_frames: usize,
        max_queued_bytes: usize,
        metrics: Arc<Metrics>,
    ) -> (Arc<Peer>, mpsc::Receiver<Utf8Bytes>) {
        Self::new_under(&CancellationToken::new(), id, connection, outbox_frames, max_queued_bytes, metrics)
    }

    /// Like [`Peer::new`], with [`Peer::closing`] also resolving when `shutdown` is
    /// cancelled (then without a close code), so the connection waits on one signal.
    pub fn new_under(
        shutdown: &CancellationToken,
        id: PeerId,
        connection: ConnectionId,
        outbox_frames: usize,
        max_queued_bytes: usize,
        metrics: Arc<Metrics>,
    ) -> (Arc<Peer>, mpsc::Receiver<Utf8Bytes>) {
        let (outbox, rx) = mpsc::channel(outbox_frames);
        let peer = Peer {
            id,
            connection,
            outbox,
            queued_bytes: AtomicUsize::new(0),
            max_queued_bytes,
            closed: AtomicBool::new(false),
            closing: shutdown.child_token(),
            close_code: OnceLock::new(),
            metrics,
        };
        (Arc::new(peer), rx)
    }

    /// Queues a frame without waiting. Cloning a `Utf8Bytes` shares the bytes, so a
    /// broadcast encoded once is queued to every member without copying.
    pub fn send(&self, frame: Utf8Bytes) -> Result<(), Undeliverable> {
        if self.closed.load(Ordering::Relaxed) {
            return Err(Undeliverable::Closed);
        }
        let len = frame.len();
        let queued = self.queued_bytes.fetch_add(len, Ordering::Relaxed) + len;
        if queued > self.max_queued_bytes {
            self.queued_bytes.fetch_sub(len, Ordering::Relaxed);
            return Err(self.overflowed());
        }
        match self.outbox.try_send(frame) {
            Ok(()) => {
                self.metrics.messages_out.inc();
                self.metrics.bytes_out.inc_by(len as u64);
                Ok(())
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.queued_bytes.fetch_sub(len, Ordering::Relaxed);
                Err(self.overflowed())
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.queued_bytes.fetch_sub(len, Ordering::Relaxed);
                Err(Undeliverable::Closed)
            }
        }
    }

    fn overflowed(&self) -> Undeliverable {
        if self.close(CloseCode::SlowConsumer) {
            self.metrics.slow_consumer_closes.inc();
        }
        Undeliverable::Slow
    }

    /// The writer took a frame of `len` bytes off the outbox.
    pub fn dequeued(&self, len: usize) {
        self.queued_bytes.fetch_sub(len, Ordering::Relaxed);
    }

    /// Frames that can still be queued without overflowing.
    pub fn room_left(&self) -> usize {
        self.outbox.capacity()
    }

    /// Encodes and queues one message meant for this peer alone.
    pub fn send_msg(&self, msg: &ServerMsg) -> Result<(), Undeliverable> {
        self.send(Utf8Bytes::from(msg.to_json()))
    }

    /// Asks the connection to close with `code`; the first code asked for wins. Returns
    /// whether this call was the first.
    pub fn close(&self, code: CloseCode) -> bool {
        let first = self.close_code.set(code).is_ok();
        self.closed.store(true, Ordering::Relaxed);
        self.closing.cancel();
        first
    }

    /// Resolves once someone asked this connection to close, or the node shuts down.
    pub async fn closing(&self) {
        self.closing.cancelled().await
    }

    pub fn close_code(&self) -> Option<CloseCode> {
        self.close_code.get().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_outbox_closes_as_slow() {
        let metrics = Arc::new(Metrics::default());
        let (peer, _rx) = Peer::new(1, ConnectionId::parse("c1").unwrap(), 2, 1024, metrics.clone());
        assert!(peer.send("a".into()).is_ok());
        assert!(peer.send("b".into()).is_ok());
        assert_eq!(peer.send("c".into()), Err(Undeliverable::Slow));
        assert_eq!(peer.close_code(), Some(CloseCode::SlowConsumer));
        assert_eq!(peer.send("d".into()), Err(Undeliverable::Closed));
        assert_eq!(metrics.slow_consumer_closes.get(), 1);
        assert_eq!(metrics.messages_out.get(), 2);
    }

    #[test]
    fn queued_bytes_are_bounded_too() {
        let metrics = Arc::new(Metrics::default());
        let (peer, mut rx) = Peer::new(1, ConnectionId::parse("c1").unwrap(), 100, 10, metrics.clone());
        assert!(peer.send("12345".into()).is_ok());
        assert!(peer.send("12345".into()).is_ok());
        let taken = rx.try_recv().unwrap();
        peer.dequeued(taken.len());
        assert!(peer.send("12345".into()).is_ok(), "the writer made room");
        assert_eq!(peer.send("1".into()), Err(Undeliverable::Slow));
        assert_eq!(metrics.slow_consumer_closes.get(), 1);
    }
}
