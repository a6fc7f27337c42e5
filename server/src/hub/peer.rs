//! A connection as the hub sees it: a bounded outbox of encoded frames and a way to close
//! it. Rooms never block on a peer: a full outbox closes the connection as a slow
//! consumer instead of stalling everyone else or dropping frames silently.
//!
//! The outbox is a `VecDeque` behind a short std `Mutex` (never held across an `.await`)
//! with a `Notify` for the writer, rather than a tokio `mpsc` channel: a channel allocates
//! a block of 32 slots (about 1 KiB) up front for every connection, where an idle
//! connection's deque holds nothing.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::ws::Utf8Bytes;
use plenary_proto::{CloseCode, ConnectionId, ServerMsg};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::metrics::Metrics;

/// A node-local connection number.
pub type PeerId = u64;

/// Capacity an empty outbox keeps; a larger one (left by a burst) is given back.
const IDLE_OUTBOX_CAPACITY: usize = 8;

/// The largest frame a node sends (`welcome.limits.max_frame_bytes`). Snapshots and answers
/// are paged far below it (`domain::page`); a frame over it would be a bug, and is replaced
/// by an `error` the client can see rather than dropped or sent to break the socket's
/// write buffer.
pub const MAX_FRAME_BYTES: usize = 1024 * 1024;

#[derive(Debug, Default)]
struct Queue {
    frames: VecDeque<Utf8Bytes>,
    bytes: usize,
}

#[derive(Debug)]
pub struct Peer {
    pub id: PeerId,
    pub connection: ConnectionId,
    queue: Mutex<Queue>,
    /// Wakes the writer when the outbox goes from empty to not empty.
    ready: Notify,
    max_frames: usize,
    /// A frame count alone would let a few large snapshots hold megabytes per connection.
    max_bytes: usize,
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
    /// The frame was larger than [`MAX_FRAME_BYTES`]; an `error` was queued instead and the
    /// connection stays.
    TooLarge,
}

impl Undeliverable {
    /// Whether the connection is gone (or going) after this.
    pub fn is_gone(self) -> bool {
        !matches!(self, Undeliverable::TooLarge)
    }
}

/// The receiving end of a peer's outbox, owned by the connection's writer. Dropping it
/// marks the peer closed, so rooms stop queueing to a connection that is gone.
#[derive(Debug)]
pub struct Outbox {
    peer: Arc<Peer>,
}

impl Peer {
    /// A peer and the receiving end of its outbox, which the connection's writer drains.
    pub fn new(
        id: PeerId,
        connection: ConnectionId,
        outbox_frames: usize,
        max_queued_bytes: usize,
        metrics: Arc<Metrics>,
    ) -> (Arc<Peer>, Outbox) {
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
    ) -> (Arc<Peer>, Outbox) {
        let peer = Arc::new(Peer {
            id,
            connection,
            queue: Mutex::new(Queue::default()),
            ready: Notify::new(),
            max_frames: outbox_frames.max(1),
            max_bytes: max_queued_bytes,
            closed: AtomicBool::new(false),
            closing: shutdown.child_token(),
            close_code: OnceLock::new(),
            metrics,
        });
        let outbox = Outbox { peer: peer.clone() };
        (peer, outbox)
    }

    /// Queues a frame without waiting. Cloning a `Utf8Bytes` shares the bytes, so a
    /// broadcast encoded once is queued to every member without copying.
    pub fn send(&self, frame: Utf8Bytes) -> Result<(), Undeliverable> {
        if self.closed.load(Ordering::Relaxed) {
            return Err(Undeliverable::Closed);
        }
        let len = frame.len();
        if len > MAX_FRAME_BYTES {
            return Err(self.oversized(len));
        }
        let was_empty = {
            let mut queue = self.queue.lock().expect("outbox lock");
            // The byte bound is on what waits: a frame larger than it (a page near the frame
            // limit) still goes to an empty outbox.
            let over_bytes = queue.bytes + len > self.max_bytes && !queue.frames.is_empty();
            if queue.frames.len() >= self.max_frames || over_bytes {
                drop(queue);
                return Err(self.overflowed());
            }
            queue.bytes += len;
            queue.frames.push_back(frame);
            queue.frames.len() == 1
        };
        if was_empty {
            // A permit is kept if the writer is not waiting yet, so no wake-up is lost.
            self.ready.notify_one();
        }
        self.metrics.messages_out.inc();
        self.metrics.bytes_out.inc_by(len as u64);
        Ok(())
    }

    /// Says so instead of sending a frame over the limit. Never happens to a frame the node
    /// builds from pages; counted and logged, since it means a list escaped paging.
    #[cold]
    fn oversized(&self, len: usize) -> Undeliverable {
        self.metrics.oversized_frames.inc();
        tracing::error!(connection = %self.connection, bytes = len, "a frame over the frame limit was not sent");
        let error = ServerMsg::Error {
            rid: None,
            code: plenary_proto::ErrorCode::Internal,
            message: format!(
                "a message of {len} bytes exceeded the {MAX_FRAME_BYTES}-byte frame limit and was not sent; rejoin the room"
            ),
            retry_after_ms: None,
        };
        match self.send(Utf8Bytes::from(error.to_json())) {
            Ok(()) => Undeliverable::TooLarge,
            Err(other) => other,
        }
    }

    fn overflowed(&self) -> Undeliverable {
        if self.close(CloseCode::SlowConsumer) {
            self.metrics.slow_consumer_closes.inc();
        }
        Undeliverable::Slow
    }

    /// Encodes and queues one message meant for this peer alone.
    pub fn send_msg(&self, msg: &ServerMsg) -> Result<(), Undeliverable> {
        self.send(Utf8Bytes::from(msg.to_json()))
    }

    /// Frames that can still be queued without overflowing.
    pub fn room_left(&self) -> usize {
        self.max_frames.saturating_sub(self.queue.lock().expect("outbox lock").frames.len())
    }

    /// Asks the connection to close with `code`; the first code asked for wins. Returns
    /// whether this call was the first.
    pub fn close(&self, code: CloseCode) -> bool {
        let first = self.close_code.set(code).is_ok();
        self.closed.store(true, Ordering::Release);
        // The writer waits on the outbox: wake it there, so its loop needs no other signal.
        self.ready.notify_one();
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

impl Outbox {
    /// The next frame, waiting for one; `None` once the connection was asked to close
    /// ([`Peer::close`]).
    pub async fn recv(&mut self) -> Option<Utf8Bytes> {
        loop {
            if self.peer.closed.load(Ordering::Acquire) {
                return None;
            }
            if let Some(frame) = self.try_recv() {
                return Some(frame);
            }
            self.peer.ready.notified().await;
        }
    }

    /// The next frame if one is queued.
    pub fn try_recv(&mut self) -> Option<Utf8Bytes> {
        let mut queue = self.peer.queue.lock().expect("outbox lock");
        let frame = queue.frames.pop_front()?;
        queue.bytes -= frame.len();
        if queue.frames.is_empty() && queue.frames.capacity() > IDLE_OUTBOX_CAPACITY {
            queue.frames.shrink_to(IDLE_OUTBOX_CAPACITY);
        }
        Some(frame)
    }
}

impl Drop for Outbox {
    fn drop(&mut self) {
        self.peer.closed.store(true, Ordering::Relaxed);
        let mut queue = self.peer.queue.lock().expect("outbox lock");
        queue.frames = VecDeque::new();
        queue.bytes = 0;
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
        assert_eq!(rx.try_recv().as_deref(), Some("12345"));
        assert!(peer.send("12345".into()).is_ok(), "the writer made room");
        assert_eq!(peer.send("1".into()), Err(Undeliverable::Slow));
        assert_eq!(metrics.slow_consumer_closes.get(), 1);
    }

    #[tokio::test]
    async fn the_writer_wakes_for_frames_queued_while_it_waits() {
        let metrics = Arc::new(Metrics::default());
        let (peer, mut rx) = Peer::new(1, ConnectionId::parse("c1").unwrap(), 8, 1024, metrics);
        let writer = tokio::spawn(async move { [rx.recv().await.unwrap(), rx.recv().await.unwrap()] });
        tokio::task::yield_now().await;
        peer.send("one".into()).unwrap();
        peer.send("two".into()).unwrap();
        let frames = tokio::time::timeout(std::time::Duration::from_secs(5), writer).await.unwrap().unwrap();
        assert_eq!(frames.iter().map(|f| f.as_str()).collect::<Vec<_>>(), ["one", "two"]);
    }

    #[tokio::test]
    async fn closing_wakes_the_writer() {
        let metrics = Arc::new(Metrics::default());
        let (peer, mut rx) = Peer::new(1, ConnectionId::parse("c1").unwrap(), 8, 1024, metrics);
        let writer = tokio::spawn(async move { rx.recv().await });
        tokio::task::yield_now().await;
        peer.close(CloseCode::GoingAway);
        let next = tokio::time::timeout(std::time::Duration::from_secs(5), writer).await.unwrap().unwrap();
        assert_eq!(next, None);
    }

    #[test]
    fn a_dropped_outbox_refuses_frames() {
        let metrics = Arc::new(Metrics::default());
        let (peer, rx) = Peer::new(1, ConnectionId::parse("c1").unwrap(), 8, 1024, metrics.clone());
        peer.send("queued".into()).unwrap();
        drop(rx);
        assert_eq!(peer.send("late".into()), Err(Undeliverable::Closed));
        assert_eq!(metrics.slow_consumer_closes.get(), 0);
    }
}
