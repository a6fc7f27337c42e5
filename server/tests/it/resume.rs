//! Resume: a client that reconnects with its last position gets exactly what it missed,
//! or a fresh snapshot flagged `recovered: false`; never a partial recovery.

use plenary_proto::Role::{Attendee, Moderator};
use plenary_proto::{Epoch, RoomEvent, Seq, ServerMsg, StageState, StreamPosition};

use crate::support::*;

async fn position_after_join(client: &mut TestClient, room: &plenary_proto::RoomId) -> StreamPosition {
    match client.join(room).await {
        ServerMsg::Snapshot { epoch, seq, .. } => StreamPosition { epoch, seq },
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn resume_replays_exactly_the_missed_events_in_order() {
    let server = TestServer::spawn().await;
    let room = session("resumable");
    let mut mo = server.client("mo", &[Moderator]).await;
    mo.join(&room).await;
    let mut ada = server.client("ada", &[Attendee]).await;
    let before = position_after_join(&mut ada, &room).await;
    drop(ada);

    mo.request(set_stage(&room, StageState::Live)).await;
    for text in ["one", "two", "three"] {
        mo.request(chat(&room, text)).await;
    }

    let mut ada = server.client("ada", &[Attendee]).await;
    let answer = ada.join_since(&room, Some(before.clone())).await;
    let ServerMsg::Resumed { replayed, epoch, .. } = answer else { panic!("expected resumed, got {answer:?}") };
    assert_eq!(replayed, 4);
    assert_eq!(epoch, before.epoch);
    let mut seqs = Vec::new();
    let mut texts = Vec::new();
    for _ in 0..4 {
        match ada.recv().await {
            ServerMsg::Event { seq, event, .. } => {
                seqs.push(seq.0);
                if let RoomEvent::Chat { message } = event {
                    texts.push(message.text);
                }
            }
            other => panic!("expected a replayed event, got {other:?}"),
        }
    }
    assert_eq!(seqs, vec![1, 2, 3, 4]);
    assert_eq!(texts, vec!["one", "two", "three"]);

    // Live events continue after the replay, without duplicates.
    mo.request(chat(&room, "four")).await;
    let next = ada.recv_until("the next event", |m| matches!(m, ServerMsg::Event { .. })).await;
    assert!(matches!(next, ServerMsg::Event { seq: Seq(5), .. }), "{next:?}");

    // Resuming at the head replays nothing.
    let mut bob = server.client("bob", &[Attendee]).await;
    let head = StreamPosition { epoch: before.epoch.clone(), seq: Seq(5) };
    assert!(matches!(bob.join_since(&room, Some(head)).await, ServerMsg::Resumed { replayed: 0, .. }));
}

#[tokio::test]
async fn resume_outside_the_window_gets_a_fresh_snapshot() {
    let server = TestServer::spawn_with(|s| {
        s.resume_window = 3;
        s.chat_burst = 100;
    })
    .await;
    let room = session("forgetful");
    let mut mo = server.client("mo", &[Moderator]).await;
    let before = position_after_join(&mut mo, &room).await;
    for n in 0..6 {
        mo.request(chat(&room, &format!("m{n}"))).await;
    }
    let mut ada = server.client("ada", &[Attendee]).await;
    let answer = ada.join_since(&room, Some(before.clone())).await;
    let ServerMsg::Snapshot { recovered, seq, chat, .. } = answer else { panic!("{answer:?}") };
    assert_eq!(recovered, Some(false));
    assert_eq!(seq, Seq(6));
    assert_eq!(chat.len(), 6, "the snapshot carries the state the client lost");

    let mut bob = server.client("bob", &[Attendee]).await;
    let stale = StreamPosition { epoch: Epoch::parse("another-epoch").unwrap(), seq: Seq(5) };
    let answer = bob.join_since(&room, Some(stale)).await;
    assert!(matches!(answer, ServerMsg::Snapshot { recovered: Some(false), .. }), "{answer:?}");

    let future = StreamPosition { epoch: before.epoch, seq: Seq(99) };
    let answer = bob.join_since(&room, Some(future)).await;
    assert!(matches!(answer, ServerMsg::Snapshot { recovered: Some(false), .. }), "{answer:?}");
}

#[tokio::test]
async fn a_replay_larger_than_the_outbox_gets_a_snapshot_instead() {
    let server = TestServer::spawn_with(|s| {
        s.outbox_frames = 16;
        s.chat_burst = 100;
        s.command_burst = 100;
    })
    .await;
    let room = session("long-absence");
    let mut mo = server.client("mo", &[Moderator]).await;
    let before = position_after_join(&mut mo, &room).await;
    for n in 0..30 {
        mo.request(chat(&room, &format!("m{n}"))).await;
    }
    let mut ada = server.client("ada", &[Attendee]).await;
    let answer = ada.join_since(&room, Some(before)).await;
    assert!(matches!(answer, ServerMsg::Snapshot { recovered: Some(false), .. }), "{answer:?}");
    // And the connection is still healthy.
    assert!(matches!(ada.request(chat(&room, "back")).await, ServerMsg::Ack { .. }));
}
