//! The in-process bus. A [`MemoryBroker`] holds every topic's stream; each node connects to
//! it with its own [`MemoryBus`] handle and inbox, so tests can run several nodes in one
//! process against one broker, as they later run them against one Redis.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use plenary_proto::{Epoch, RoomId, Seq};
use tokio::sync::mpsc;

use super::{Bus, BusError, History, PRESENCE_TTL, PresenceReport, PresenceTotals, Publication};

/// The shared state of every node connected to one in-process bus.
#[derive(Debug, Clone)]
pub struct MemoryBroker {
    inner: Arc<Mutex<BrokerState>>,
    history_len: usize,
}

#[derive(Debug, Default)]
struct BrokerState {
    topics: HashMap<RoomId, Topic>,
    presence: HashMap<RoomId, RoomPresence>,
    next_node: u64,
}

/// Attendance of one room: each node's last report, and every user seen.
#[derive(Debug, Default)]
struct RoomPresence {
    nodes: HashMap<u64, NodeReport>,
    users: std::collections::HashSet<plenary_proto::UserId>,
}

#[derive(Debug)]
struct NodeReport {
    present: u32,
    watched: Vec<plenary_proto::UserId>,
    on_duty: Vec<plenary_proto::UserId>,
    at: std::time::Instant,
}

impl RoomPresence {
    /// The live nodes' totals (`unique`: every user seen).
    fn totals(&self, now: std::time::Instant) -> PresenceTotals {
        let mut totals = PresenceTotals::default();
        for node in self.nodes.values().filter(|n| now.duration_since(n.at) < PRESENCE_TTL) {
            totals.add(node.present, &node.watched, &node.on_duty);
        }
        totals.unique = u32::try_from(self.users.len()).unwrap_or(u32::MAX);
        totals.finish()
    }
}

#[derive(Debug)]
struct Topic {
    epoch: Epoch,
    latest: Seq,
    history: VecDeque<Publication>,
    /// Subscribed nodes by their broker-local id.
    subscribers: HashMap<u64, Inbox>,
}

/// A node's inbox and the flag raised when a delivery to it was dropped.
#[derive(Debug, Clone)]
struct Inbox {
    sender: mpsc::Sender<Publication>,
    lagged: Arc<AtomicBool>,
}

impl MemoryBroker {
    /// A broker keeping the last `history_len` publications of each topic.
    pub fn new(history_len: usize) -> Self {
        MemoryBroker { inner: Arc::default(), history_len: history_len.max(1) }
    }

    /// How many topics the broker holds (for tests and diagnostics).
    pub fn topics(&self) -> usize {
        self.inner.lock().expect("bus lock").topics.len()
    }

    /// How many nodes are subscribed to `topic` (for tests and diagnostics).
    pub fn subscribers(&self, topic: &RoomId) -> usize {
        let state = self.inner.lock().expect("bus lock");
        state.topics.get(topic).map_or(0, |t| t.subscribers.len())
    }

    /// Connects a node: its bus handle and the inbox its subscriptions deliver to.
    pub fn connect(&self, inbox_capacity: usize) -> (MemoryBus, mpsc::Receiver<Publication>) {
        let (tx, rx) = mpsc::channel(inbox_capacity.max(1));
        let mut state = self.inner.lock().expect("bus lock");
        state.next_node += 1;
        let inbox = Inbox { sender: tx, lagged: Arc::new(AtomicBool::new(false)) };
        let bus = MemoryBus { broker: self.clone(), node: state.next_node, inbox };
        (bus, rx)
    }
}

/// One node's handle on a [`MemoryBroker`].
#[derive(Debug)]
pub struct MemoryBus {
    broker: MemoryBroker,
    node: u64,
    inbox: Inbox,
}

fn new_epoch() -> Epoch {
    Epoch::parse(uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()).expect("hex is a valid epoch")
}

impl BrokerState {
    fn topic(&mut self, id: &RoomId) -> &mut Topic {
        self.topics.entry(id.clone()).or_insert_with(|| Topic {
            epoch: new_epoch(),
            latest: Seq::ZERO,
            history: VecDeque::new(),
            subscribers: HashMap::new(),
        })
    }
}

impl MemoryBus {
    /// Appends to the topic's stream (if it is at `expected`, when given) and delivers.
    fn append(&self, topic_id: &RoomId, payload: Bytes, expected: Option<(&Epoch, Seq)>) -> Option<Publication> {
        // A std Mutex: held only for this synchronous section, never across an await.
        let mut state = self.broker.inner.lock().expect("bus lock");
        let history_len = self.broker.history_len;
        let topic = state.topic(topic_id);
        if expected.is_some_and(|(epoch, after)| topic.epoch != *epoch || topic.latest != after) {
            return None;
        }
        topic.latest = topic.latest.next();
        let publication =
            Publication { topic: topic_id.clone(), epoch: topic.epoch.clone(), seq: topic.latest, payload };
        if topic.history.len() == history_len {
            topic.history.pop_front();
        }
        topic.history.push_back(publication.clone());
        topic.subscribers.retain(|_, inbox| match inbox.sender.try_send(publication.clone()) {
            Ok(()) => true,
            // The node is behind: it is told so, and its rooms read the history.
            Err(mpsc::error::TrySendError::Full(_)) => {
                inbox.lagged.store(true, Ordering::Relaxed);
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
        Some(publication)
    }
}

#[async_trait]
impl Bus for MemoryBus {
    async fn publish(&self, topic_id: &RoomId, payload: Bytes) -> Result<Publication, BusError> {
        Ok(self.append(topic_id, payload, None).expect("an unconditional publish always appends"))
    }

    async fn publish_if(
        &self,
        topic: &RoomId,
        payload: Bytes,
        epoch: &Epoch,
        after: Seq,
    ) -> Result<Option<Publication>, BusError> {
        Ok(self.append(topic, payload, Some((epoch, after))))
    }

    async fn notify(&self, topic: &RoomId, payload: Bytes) -> Result<(), BusError> {
        let state = self.broker.inner.lock().expect("bus lock");
        if let Some(topic_state) = state.topics.get(topic) {
            let publication = Publication {
                topic: topic.clone(),
                epoch: Epoch::parse("-").expect("a valid epoch"),
                seq: Seq::ZERO,
                payload,
            };
            for inbox in topic_state.subscribers.values() {
                // Not kept anywhere: a full inbox misses it, and no history could fill the gap.
                let _ = inbox.sender.try_send(publication.clone());
            }
        }
        Ok(())
    }

    async fn subscribe(&self, topic: &RoomId) -> Result<(), BusError> {
        let mut state = self.broker.inner.lock().expect("bus lock");
        state.topic(topic).subscribers.insert(self.node, self.inbox.clone());
        Ok(())
    }

    async fn unsubscribe(&self, topic: &RoomId) -> Result<(), BusError> {
        let mut state = self.broker.inner.lock().expect("bus lock");
        if let Some(t) = state.topics.get_mut(topic) {
            t.subscribers.remove(&self.node);
        }
        Ok(())
    }

    async fn history(&self, topic_id: &RoomId, after: Seq, limit: usize) -> Result<History, BusError> {
        let mut state = self.broker.inner.lock().expect("bus lock");
        let topic = state.topic(topic_id);
        let oldest = topic.history.front().map_or(topic.latest.next(), |p| p.seq);
        let complete = after.next() >= oldest;
        let publications = topic.history.iter().filter(|p| p.seq > after).take(limit).cloned().collect();
        Ok(History { epoch: topic.epoch.clone(), latest: topic.latest, publications, complete })
    }

    async fn release(&self, topic: &RoomId) -> Result<(), BusError> {
        let mut state = self.broker.inner.lock().expect("bus lock");
        if state.topics.get(topic).is_some_and(|t| t.subscribers.is_empty()) {
            state.topics.remove(topic);
        }
        Ok(())
    }

    fn take_lagged(&self) -> bool {
        self.inbox.lagged.swap(false, Ordering::Relaxed)
    }

    fn is_healthy(&self) -> bool {
        true
    }

    async fn exchange_presence(&self, reports: &[PresenceReport]) -> Result<Vec<PresenceTotals>, BusError> {
        let now = std::time::Instant::now();
        let mut state = self.broker.inner.lock().expect("bus lock");
        let mut totals = Vec::with_capacity(reports.len());
        for report in reports {
            let room = state.presence.entry(report.room.clone()).or_default();
            room.nodes.insert(
                self.node,
                NodeReport {
                    present: report.present,
                    watched: report.watched.clone(),
                    on_duty: report.on_duty.clone(),
                    at: now,
                },
            );
            room.users.extend(report.new_users.iter().cloned());
            room.nodes.retain(|_, node| now.duration_since(node.at) < PRESENCE_TTL);
            let room_totals = room.totals(now);
            if room_totals.present == 0 && report.watched.is_empty() && report.on_duty.is_empty() {
                // Nobody anywhere: the room's presence is kept (its unique count stays) but
                // this node's entry goes.
                room.nodes.remove(&self.node);
            }
            totals.push(room_totals);
        }
        Ok(totals)
    }

    async fn read_presence(&self, rooms: &[RoomId]) -> Result<Vec<PresenceTotals>, BusError> {
        let now = std::time::Instant::now();
        let state = self.broker.inner.lock().expect("bus lock");
        Ok(rooms
            .iter()
            .map(|room| {
                let mut totals = state.presence.get(room).map(|p| p.totals(now)).unwrap_or_default();
                totals.unique = 0;
                totals
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(name: &str) -> RoomId {
        RoomId::session(name).unwrap()
    }

    #[tokio::test]
    async fn publications_reach_subscribed_nodes_in_order() {
        let broker = MemoryBroker::new(100);
        let (a, mut a_inbox) = broker.connect(16);
        let (b, mut b_inbox) = broker.connect(16);
        b.subscribe(&room("x")).await.unwrap();
        let first = a.publish(&room("x"), Bytes::from_static(b"1")).await.unwrap();
        let second = a.publish(&room("x"), Bytes::from_static(b"2")).await.unwrap();
        assert_eq!((first.seq, second.seq), (Seq(1), Seq(2)));
        assert_eq!(b_inbox.recv().await.unwrap().seq, Seq(1));
        assert_eq!(b_inbox.recv().await.unwrap().seq, Seq(2));
        assert!(a_inbox.try_recv().is_err(), "a never subscribed");

        b.unsubscribe(&room("x")).await.unwrap();
        a.publish(&room("x"), Bytes::from_static(b"3")).await.unwrap();
        assert!(b_inbox.try_recv().is_err());
    }

    #[tokio::test]
    async fn history_says_when_it_no_longer_reaches_back() {
        let broker = MemoryBroker::new(3);
        let (bus, _inbox) = broker.connect(1);
        for n in 0..5u8 {
            bus.publish(&room("h"), Bytes::from(vec![n])).await.unwrap();
        }
        let h = bus.history(&room("h"), Seq(2), 10).await.unwrap();
        assert!(h.complete);
        assert_eq!(h.publications.iter().map(|p| p.seq.0).collect::<Vec<_>>(), vec![3, 4, 5]);
        assert_eq!(h.latest, Seq(5));
        assert!(!bus.history(&room("h"), Seq(1), 10).await.unwrap().complete);
        let fresh = bus.history(&room("new"), Seq::ZERO, 10).await.unwrap();
        assert!(fresh.complete && fresh.publications.is_empty());
    }

    #[tokio::test]
    async fn a_full_inbox_drops_and_history_fills_the_gap() {
        let broker = MemoryBroker::new(100);
        let (bus, mut inbox) = broker.connect(1);
        bus.subscribe(&room("g")).await.unwrap();
        for n in 0..3u8 {
            bus.publish(&room("g"), Bytes::from(vec![n])).await.unwrap();
        }
        assert_eq!(inbox.recv().await.unwrap().seq, Seq(1));
        assert!(inbox.try_recv().is_err(), "2 and 3 were dropped, not queued without bound");
        assert!(bus.take_lagged(), "the node is told it missed deliveries");
        assert!(!bus.take_lagged());
        let h = bus.history(&room("g"), Seq(1), 10).await.unwrap();
        assert_eq!(h.publications.len(), 2);
    }

    #[tokio::test]
    async fn released_topics_are_forgotten_unless_subscribed() {
        let broker = MemoryBroker::new(10);
        let (a, _ia) = broker.connect(4);
        let (b, _ib) = broker.connect(4);
        a.publish(&room("r"), Bytes::from_static(b"1")).await.unwrap();
        b.subscribe(&room("r")).await.unwrap();
        a.release(&room("r")).await.unwrap();
        assert_eq!(broker.topics(), 1, "b still subscribes");
        b.unsubscribe(&room("r")).await.unwrap();
        b.release(&room("r")).await.unwrap();
        assert_eq!(broker.topics(), 0);
    }
}
