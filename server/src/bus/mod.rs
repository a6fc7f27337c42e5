//! The bus carries room events between nodes: every event is published to its room's topic,
//! where the bus gives it the next sequence number of that topic's stream, keeps it in a
//! bounded history, and delivers it to every node subscribed to the topic (the publisher
//! included).
//!
//! Delivery guarantee: at most once per subscribed node, in sequence order per topic, to
//! a bounded inbox. A node that misses publications (its inbox was full, or it subscribed
//! late) sees a gap in the sequence numbers and fills it from [`Bus::history`]; if the
//! history no longer reaches back, the stream's continuity is lost and the room restarts
//! its resume window. A new [`Epoch`] says the whole history was lost.
//!
//! The bus also sums attendance over nodes ([`Bus::exchange_presence`]): each node reports
//! its local count per room once per interval and reads the total; a node that stops
//! reporting (killed, cut off) drops out of the totals after the presence TTL
//! (`presence_ttl_ms`, [`PRESENCE_TTL`] by default).
//!
//! [`MemoryBus`] serves one process (and tests that run several nodes in one process);
//! [`RedisBus`] spans nodes through Redis (`REDIS_URL`). Both pass the same conformance
//! suite (`server/tests/it/bus.rs`).

mod memory;
pub mod redis;

pub use memory::{MemoryBroker, MemoryBus};
pub use redis::RedisBus;

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use plenary_proto::{Epoch, RoomId, Seq, UserId};

/// How long a node's reported attendance counts without a fresh report.
pub const PRESENCE_TTL: Duration = Duration::from_secs(10);

/// One room's attendance on this node, for [`Bus::exchange_presence`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceReport {
    pub room: RoomId,
    /// Connections in the room on this node now (in a booth, its visitors': staff are not
    /// counted).
    pub present: u32,
    /// Users seen in the room on this node since the last report.
    pub new_users: Vec<UserId>,
    /// Users the room watches (a booth's staff, visitors with a waiting request) that have a
    /// connection in the room on this node now.
    pub watched: Vec<UserId>,
    /// A booth's staff connected here and available now.
    pub on_duty: Vec<UserId>,
}

impl PresenceReport {
    /// A report of a room's connection count and new users only.
    pub fn count(room: RoomId, present: u32, new_users: Vec<UserId>) -> PresenceReport {
        PresenceReport { room, present, new_users, watched: Vec::new(), on_duty: Vec::new() }
    }
}

/// A room's attendance over every live node.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PresenceTotals {
    pub present: u32,
    /// Distinct users who ever joined (approximate on Redis: a HyperLogLog, about 1 %).
    pub unique: u32,
    /// The union of the live nodes' `watched`, sorted.
    pub watched: Vec<UserId>,
    /// The union of the live nodes' `on_duty`, sorted.
    pub on_duty: Vec<UserId>,
}

impl PresenceTotals {
    pub fn counts(present: u32, unique: u32) -> PresenceTotals {
        PresenceTotals { present, unique, ..PresenceTotals::default() }
    }

    /// Adds one node's report to the totals (`unique` is the caller's).
    fn add(&mut self, present: u32, watched: &[UserId], on_duty: &[UserId]) {
        self.present = self.present.saturating_add(present);
        self.watched.extend_from_slice(watched);
        self.on_duty.extend_from_slice(on_duty);
    }

    fn finish(mut self) -> PresenceTotals {
        self.watched.sort();
        self.watched.dedup();
        self.on_duty.sort();
        self.on_duty.dedup();
        self
    }
}

/// One published event as the bus delivers it.
#[derive(Debug, Clone)]
pub struct Publication {
    pub topic: RoomId,
    pub epoch: Epoch,
    pub seq: Seq,
    /// The encoded `RoomEvent`.
    pub payload: Bytes,
}

/// A topic's history after a position.
#[derive(Debug, Clone)]
pub struct History {
    pub epoch: Epoch,
    /// The topic's newest sequence number.
    pub latest: Seq,
    /// Publications after the asked position, oldest first.
    pub publications: Vec<Publication>,
    /// False when the history no longer reaches back to the asked position.
    pub complete: bool,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum BusError {
    #[error("the bus is unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Appends `payload` to the topic's stream and delivers it to subscribed nodes.
    async fn publish(&self, topic: &RoomId, payload: Bytes) -> Result<Publication, BusError>;
    /// Like [`Bus::publish`], but only if the topic's stream is still at `epoch`/`after`
    /// (nobody published since this node's last event); `None` when it moved on. Commands
    /// validated against a room's state (stage transitions) use it, so two nodes cannot
    /// both apply a transition to the same state.
    async fn publish_if(
        &self,
        topic: &RoomId,
        payload: Bytes,
        epoch: &Epoch,
        after: Seq,
    ) -> Result<Option<Publication>, BusError>;
    /// Delivers `payload` once to every node subscribed to the topic (this one included)
    /// without a sequence number and without keeping it: the delivery's `seq` is
    /// [`Seq::ZERO`]. For messages that must not be stored or replayed (call signalling).
    /// Best effort: a node whose inbox is full misses it.
    async fn notify(&self, topic: &RoomId, payload: Bytes) -> Result<(), BusError>;
    /// Starts delivering the topic's publications to this node's inbox.
    async fn subscribe(&self, topic: &RoomId) -> Result<(), BusError>;
    /// Stops delivering the topic to this node.
    async fn unsubscribe(&self, topic: &RoomId) -> Result<(), BusError>;
    /// Publications after `after`, at most `limit`.
    async fn history(&self, topic: &RoomId, after: Seq, limit: usize) -> Result<History, BusError>;
    /// This node closed its room for the topic: the bus may forget the topic's stream when
    /// no node subscribes to it (a later publication starts a new epoch).
    async fn release(&self, topic: &RoomId) -> Result<(), BusError>;
    /// Whether publications for this node were dropped since the last call (its inbox was
    /// full), so its rooms must check the history for gaps.
    fn take_lagged(&self) -> bool;
    /// Whether the bus can serve requests now (for `/readyz`).
    fn is_healthy(&self) -> bool;
    /// Requests that failed since the node started (for `/metrics`).
    fn failures(&self) -> u64 {
        0
    }
    /// Records this node's attendance in each reported room and returns each room's
    /// totals over the live nodes, in the order of `reports`.
    async fn exchange_presence(&self, reports: &[PresenceReport]) -> Result<Vec<PresenceTotals>, BusError>;
    /// Each room's totals over the live nodes, in the order of `rooms`, reporting nothing
    /// (the exhibition hall reads every booth this way; `unique` is not read and is 0).
    async fn read_presence(&self, rooms: &[RoomId]) -> Result<Vec<PresenceTotals>, BusError>;
}
