//! The bus conformance suite: the same cases run on the in-process `MemoryBus` and on the
//! `RedisBus` (against a real Redis), so the hub can rely on one contract whichever bus a
//! node uses (as centrifuge runs its brokers through one shared suite).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use plenary_proto::{RoomId, Seq, UserId};
use plenary_server::bus::{Bus, MemoryBroker, PresenceReport, PresenceTotals, Publication, RedisBus};
use tokio::sync::mpsc;

use crate::redis_support::TestRedis;
use crate::support::WAIT;

/// Two nodes on one bus, and whatever keeps that bus alive.
struct Pair {
    a: Arc<dyn Bus>,
    a_inbox: mpsc::Receiver<Publication>,
    b: Arc<dyn Bus>,
    b_inbox: mpsc::Receiver<Publication>,
    _redis: Option<TestRedis>,
}

async fn memory_pair(history_len: usize, inbox: usize) -> Pair {
    let broker = MemoryBroker::new(history_len);
    let (a, a_inbox) = broker.connect(inbox);
    let (b, b_inbox) = broker.connect(inbox);
    Pair { a: Arc::new(a), a_inbox, b: Arc::new(b), b_inbox, _redis: None }
}

async fn redis_pair(history_len: usize, inbox: usize) -> Pair {
    let redis = TestRedis::new();
    let (a, a_inbox) = RedisBus::connect(&redis.url, &redis.prefix, "node-a", history_len, inbox).await.unwrap();
    let (b, b_inbox) = RedisBus::connect(&redis.url, &redis.prefix, "node-b", history_len, inbox).await.unwrap();
    Pair { a: Arc::new(a), a_inbox, b: Arc::new(b), b_inbox, _redis: Some(redis) }
}

fn room(name: &str) -> RoomId {
    RoomId::session(name).unwrap()
}

async fn next(inbox: &mut mpsc::Receiver<Publication>) -> Publication {
    tokio::time::timeout(WAIT, inbox.recv()).await.expect("a delivery in time").expect("inbox open")
}

/// Nothing arrives: checked by publishing a marker on a topic the node does subscribe to
/// and seeing it first (deliveries to one node are in order per connection).
async fn nothing_before_marker(pair: &mut Pair) {
    let marker = room("marker");
    pair.b.subscribe(&marker).await.unwrap();
    pair.a.publish(&marker, Bytes::from_static(b"marker")).await.unwrap();
    let first = next(&mut pair.b_inbox).await;
    assert_eq!(first.topic, marker, "nothing was delivered before the marker");
}

mod cases {
    use super::*;

    pub async fn deliver_in_order_only_while_subscribed(mut pair: Pair) {
        let topic = room("order");
        pair.b.subscribe(&topic).await.unwrap();
        let first = pair.a.publish(&topic, Bytes::from_static(b"1")).await.unwrap();
        let second = pair.a.publish(&topic, Bytes::from_static(b"2")).await.unwrap();
        assert_eq!((first.seq, second.seq), (Seq(1), Seq(2)));
        assert_eq!(first.epoch, second.epoch);
        let (x, y) = (next(&mut pair.b_inbox).await, next(&mut pair.b_inbox).await);
        assert_eq!((x.seq, &x.payload[..]), (Seq(1), &b"1"[..]));
        assert_eq!((y.seq, &y.payload[..]), (Seq(2), &b"2"[..]));
        assert_eq!(x.epoch, first.epoch);
        assert!(pair.a_inbox.try_recv().is_err(), "a never subscribed");

        pair.b.unsubscribe(&topic).await.unwrap();
        pair.a.publish(&topic, Bytes::from_static(b"3")).await.unwrap();
        nothing_before_marker(&mut pair).await;
    }

    /// A notice reaches the subscribed nodes once, with sequence 0, and leaves no trace in
    /// the stream (call signalling must not be kept).
    pub async fn notices_reach_subscribers_and_are_not_kept(mut pair: Pair) {
        let topic = room("notice");
        pair.b.subscribe(&topic).await.unwrap();
        pair.a.publish(&topic, Bytes::from_static(b"event")).await.unwrap();
        assert_eq!(next(&mut pair.b_inbox).await.seq, Seq(1));
        pair.a.notify(&topic, Bytes::from_static(b"ana\n{\"type\":\"signal\"}")).await.unwrap();
        let notice = next(&mut pair.b_inbox).await;
        assert_eq!((notice.topic.clone(), notice.seq), (topic.clone(), Seq::ZERO));
        assert_eq!(&notice.payload[..], b"ana\n{\"type\":\"signal\"}");
        let history = pair.a.history(&topic, Seq::ZERO, 10).await.unwrap();
        assert_eq!((history.latest, history.publications.len()), (Seq(1), 1), "not in the stream");
        pair.b.unsubscribe(&topic).await.unwrap();
        pair.a.notify(&topic, Bytes::from_static(b"x\ny")).await.unwrap();
        nothing_before_marker(&mut pair).await;
    }

    pub async fn one_order_for_concurrent_publishers(mut pair: Pair) {
        let topic = room("race");
        pair.a.subscribe(&topic).await.unwrap();
        pair.b.subscribe(&topic).await.unwrap();
        const EACH: usize = 50;
        let publish = |bus: Arc<dyn Bus>, tag: &'static str| {
            let topic = topic.clone();
            tokio::spawn(async move {
                for n in 0..EACH {
                    bus.publish(&topic, Bytes::from(format!("{tag}{n}"))).await.unwrap();
                }
            })
        };
        let (x, y) = (publish(pair.a.clone(), "a"), publish(pair.b.clone(), "b"));
        x.await.unwrap();
        y.await.unwrap();
        let mut seen_a = Vec::new();
        let mut seen_b = Vec::new();
        for _ in 0..2 * EACH {
            let p = next(&mut pair.a_inbox).await;
            seen_a.push((p.seq.0, p.payload));
            let p = next(&mut pair.b_inbox).await;
            seen_b.push((p.seq.0, p.payload));
        }
        assert_eq!(seen_a, seen_b, "both nodes see one order");
        let seqs: Vec<u64> = seen_a.iter().map(|(s, _)| *s).collect();
        assert_eq!(seqs, (1..=2 * EACH as u64).collect::<Vec<_>>(), "contiguous, no gaps, no duplicates");
    }

    pub async fn conditional_publish_refuses_a_moved_stream(pair: Pair) {
        let topic = room("conditional");
        let start = pair.a.history(&topic, Seq::ZERO, 1).await.unwrap();
        let first = pair.a.publish_if(&topic, Bytes::from_static(b"a"), &start.epoch, Seq::ZERO).await.unwrap();
        assert_eq!(first.map(|p| p.seq), Some(Seq(1)), "the stream was where a saw it");
        // b saw the stream at 0 too: it has moved on, so b's publication is refused.
        let stale = pair.b.publish_if(&topic, Bytes::from_static(b"b"), &start.epoch, Seq::ZERO).await.unwrap();
        assert!(stale.is_none());
        let other_epoch = plenary_proto::Epoch::parse("000000000000").unwrap();
        assert!(pair.b.publish_if(&topic, Bytes::from_static(b"b"), &other_epoch, Seq(1)).await.unwrap().is_none());
        let fresh = pair.b.publish_if(&topic, Bytes::from_static(b"b"), &start.epoch, Seq(1)).await.unwrap();
        assert_eq!(fresh.map(|p| p.seq), Some(Seq(2)));
        let h = pair.a.history(&topic, Seq::ZERO, 10).await.unwrap();
        assert_eq!(h.publications.iter().map(|p| &p.payload[..]).collect::<Vec<_>>(), vec![&b"a"[..], &b"b"[..]]);
    }

    pub async fn history_after_a_position(pair: Pair) {
        let topic = room("history");
        for n in 0..5u8 {
            pair.a.publish(&topic, Bytes::from(vec![b'0' + n])).await.unwrap();
        }
        let h = pair.b.history(&topic, Seq(2), 10).await.unwrap();
        assert!(h.complete);
        assert_eq!(h.latest, Seq(5));
        assert_eq!(h.publications.iter().map(|p| p.seq.0).collect::<Vec<_>>(), vec![3, 4, 5]);
        assert_eq!(&h.publications[0].payload[..], b"2");
        let limited = pair.b.history(&topic, Seq::ZERO, 2).await.unwrap();
        assert_eq!(limited.publications.iter().map(|p| p.seq.0).collect::<Vec<_>>(), vec![1, 2]);
        let fresh = pair.b.history(&room("never-used"), Seq::ZERO, 10).await.unwrap();
        assert!(fresh.complete && fresh.publications.is_empty() && fresh.latest == Seq::ZERO);
        // Reading a fresh topic fixes its epoch: the first publication keeps it.
        let first = pair.a.publish(&room("never-used"), Bytes::from_static(b"x")).await.unwrap();
        assert_eq!(first.epoch, fresh.epoch);
        assert_eq!(first.seq, Seq(1));
    }

    pub async fn history_says_when_it_no_longer_reaches_back(pair: Pair) {
        let topic = room("trimmed");
        // Redis trims streams approximately (whole nodes of 100 entries): publish enough
        // that both buses must have dropped the start.
        for n in 0..250u32 {
            pair.a.publish(&topic, Bytes::from(n.to_string())).await.unwrap();
        }
        let old = pair.b.history(&topic, Seq(1), 10).await.unwrap();
        assert!(!old.complete, "the start is gone");
        let recent = pair.b.history(&topic, Seq(247), 10).await.unwrap();
        assert!(recent.complete);
        assert_eq!(recent.publications.iter().map(|p| p.seq.0).collect::<Vec<_>>(), vec![248, 249, 250]);
    }

    pub async fn presence_sums_over_nodes(pair: Pair) {
        let topic = room("presence");
        let users = |names: &[&str]| names.iter().map(|n| UserId::parse(*n).unwrap()).collect::<Vec<_>>();
        let report = |present, names: &[&str]| PresenceReport::count(topic.clone(), present, users(names));
        let a = pair.a.exchange_presence(&[report(3, &["ada", "grace"])]).await.unwrap();
        assert_eq!(a, vec![PresenceTotals::counts(3, 2)]);
        let b = pair.b.exchange_presence(&[report(2, &["grace", "lin"])]).await.unwrap();
        assert_eq!(b, vec![PresenceTotals::counts(5, 3)], "counts add up; a user on both counts once");
        let a = pair.a.exchange_presence(&[report(0, &[])]).await.unwrap();
        assert_eq!(a, vec![PresenceTotals::counts(2, 3)], "a node's share goes when it reports none");
        assert!(pair.a.exchange_presence(&[]).await.unwrap().is_empty());
    }

    /// A booth's watched users and staff on duty are the union over nodes; reading reports
    /// nothing.
    pub async fn watched_users_are_a_union_over_nodes(pair: Pair) {
        let topic = room("watched");
        let users = |names: &[&str]| names.iter().map(|n| UserId::parse(*n).unwrap()).collect::<Vec<_>>();
        let report = |present, watched: &[&str], on_duty: &[&str]| PresenceReport {
            watched: users(watched),
            on_duty: users(on_duty),
            ..PresenceReport::count(topic.clone(), present, Vec::new())
        };
        pair.a.exchange_presence(&[report(3, &["staff-1", "visitor"], &["staff-1"])]).await.unwrap();
        let b = pair.b.exchange_presence(&[report(2, &["staff-1", "staff-2"], &[])]).await.unwrap();
        assert_eq!(b[0].present, 5);
        assert_eq!(b[0].watched, users(&["staff-1", "staff-2", "visitor"]));
        assert_eq!(b[0].on_duty, users(&["staff-1"]));
        let read = pair.a.read_presence(&[topic.clone(), room("nobody-here")]).await.unwrap();
        assert_eq!(read[0].watched, b[0].watched);
        assert_eq!(read[0].present, 5);
        assert_eq!(read[1], PresenceTotals::default());
        pair.b.exchange_presence(&[report(0, &[], &[])]).await.unwrap();
        let read = pair.a.read_presence(std::slice::from_ref(&topic)).await.unwrap();
        assert_eq!(read[0].watched, users(&["staff-1", "visitor"]), "node b's users go with its report");
        assert!(pair.a.read_presence(&[]).await.unwrap().is_empty());
    }

    pub async fn a_full_inbox_drops_and_raises_the_lag_flag(mut pair: Pair) {
        let topic = room("lag");
        pair.b.subscribe(&topic).await.unwrap();
        // Settle whatever the bus flagged at connect time (Redis flags every (re)connect).
        pair.b.take_lagged();
        for n in 0..3u8 {
            pair.a.publish(&topic, Bytes::from(vec![n])).await.unwrap();
        }
        assert_eq!(next(&mut pair.b_inbox).await.seq, Seq(1));
        let flagged = async {
            while !pair.b.take_lagged() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        tokio::time::timeout(WAIT, flagged).await.expect("the node is told it missed deliveries");
        assert!(pair.b_inbox.try_recv().is_err(), "2 and 3 were dropped, not queued without bound");
        let h = pair.b.history(&topic, Seq(1), 10).await.unwrap();
        assert_eq!(h.publications.len(), 2, "the history fills the gap");
    }
}

macro_rules! conformance {
    ($backend:ident, $pair:ident) => {
        mod $backend {
            use super::*;

            #[tokio::test]
            async fn deliver_in_order_only_while_subscribed() {
                cases::deliver_in_order_only_while_subscribed($pair(100, 64).await).await;
            }

            #[tokio::test]
            async fn notices_reach_subscribers_and_are_not_kept() {
                cases::notices_reach_subscribers_and_are_not_kept($pair(100, 64).await).await;
            }

            #[tokio::test]
            async fn one_order_for_concurrent_publishers() {
                cases::one_order_for_concurrent_publishers($pair(1000, 256).await).await;
            }

            #[tokio::test]
            async fn conditional_publish_refuses_a_moved_stream() {
                cases::conditional_publish_refuses_a_moved_stream($pair(100, 64).await).await;
            }

            #[tokio::test]
            async fn history_after_a_position() {
                cases::history_after_a_position($pair(100, 64).await).await;
            }

            #[tokio::test]
            async fn history_says_when_it_no_longer_reaches_back() {
                cases::history_says_when_it_no_longer_reaches_back($pair(3, 64).await).await;
            }

            #[tokio::test]
            async fn presence_sums_over_nodes() {
                cases::presence_sums_over_nodes($pair(100, 64).await).await;
            }

            #[tokio::test]
            async fn watched_users_are_a_union_over_nodes() {
                cases::watched_users_are_a_union_over_nodes($pair(100, 64).await).await;
            }

            #[tokio::test]
            async fn a_full_inbox_drops_and_raises_the_lag_flag() {
                cases::a_full_inbox_drops_and_raises_the_lag_flag($pair(100, 1).await).await;
            }
        }
    };
}

conformance!(memory, memory_pair);
conformance!(redis, redis_pair);
