//! Two nodes on one in-process bus behave as one: the same events in the same order, and a
//! node subscribes to a room only while it has a local member there.

use plenary_proto::Role::{Attendee, Moderator};
use plenary_proto::{ClientMsg, RoomEvent, ServerMsg};
use plenary_server::bus::MemoryBroker;

use crate::support::*;

#[tokio::test]
async fn events_cross_nodes_in_order_and_subscriptions_follow_members() {
    let broker = MemoryBroker::new(1000);
    let node_a = TestServer::spawn_on(&broker).await;
    let node_b = TestServer::spawn_on(&broker).await;
    let room = session("plenary");

    let mut mo = node_a.client("mo", &[Moderator]).await;
    mo.join(&room).await;
    assert_eq!(broker.subscribers(&room), 1);
    let mut ada = node_b.client("ada", &[Attendee]).await;
    ada.join(&room).await;
    assert_eq!(broker.subscribers(&room), 2);

    for (n, text) in ["first", "second", "third"].into_iter().enumerate() {
        let r = room.clone();
        mo.send(&ClientMsg::ChatSend { rid: plenary_proto::RequestId(n as u64 + 100), room: r, text: text.into() })
            .await;
    }
    let mut seen_b = Vec::new();
    while seen_b.len() < 3 {
        if let ServerMsg::Event { seq, event: RoomEvent::Chat { message }, .. } = ada.recv().await {
            seen_b.push((seq.0, message.text));
        }
    }
    let r = room.clone();
    ada.send(&ClientMsg::ChatSend { rid: plenary_proto::RequestId(99), room: r, text: "from b".into() }).await;
    while seen_b.len() < 4 {
        if let ServerMsg::Event { seq, event: RoomEvent::Chat { message }, .. } = ada.recv().await {
            seen_b.push((seq.0, message.text));
        }
    }
    let mut seen_a = Vec::new();
    while seen_a.len() < 4 {
        if let ServerMsg::Event { seq, event: RoomEvent::Chat { message }, .. } = mo.recv().await {
            seen_a.push((seq.0, message.text));
        }
    }
    assert_eq!(seen_a, seen_b, "both nodes deliver the same sequence");
    assert_eq!(seen_a.iter().map(|s| s.0).collect::<Vec<_>>(), vec![1, 2, 3, 4]);

    let r = room.clone();
    ada.request(|rid| ClientMsg::Leave { rid, room: r }).await;
    eventually("node b to unsubscribe", || async { broker.subscribers(&room) == 1 }).await;
}

#[tokio::test]
async fn a_node_that_missed_deliveries_fills_the_gap_from_history() {
    let broker = MemoryBroker::new(1000);
    let node_a = TestServer::spawn_on_configured(&broker, |s| {
        s.chat_burst = 100;
        s.command_burst = 100;
    })
    .await;
    // Node B's inbox holds one publication: a burst overflows it.
    let node_b = TestServer::spawn_on_with_inbox(&broker, 1).await;
    let room = session("burst");
    let mut mo = node_a.client("mo", &[Moderator]).await;
    mo.join(&room).await;
    let mut ada = node_b.client("ada", &[Attendee]).await;
    ada.join(&room).await;
    const BURST: u64 = 40;
    for n in 0..BURST {
        let msg =
            ClientMsg::ChatSend { rid: plenary_proto::RequestId(n + 10), room: room.clone(), text: format!("m{n}") };
        mo.send(&msg).await;
    }
    let mut seqs = Vec::new();
    while seqs.len() < BURST as usize {
        if let ServerMsg::Event { seq, .. } = ada.recv().await {
            seqs.push(seq.0);
        }
    }
    assert_eq!(seqs, (1..=BURST).collect::<Vec<_>>(), "every event, in order, without duplicates");
}
