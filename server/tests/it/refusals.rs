//! A refused request changes nothing: joins of made-up calls take no place on the
//! connection and open no room, `leave` of a room one is not in is `405`, and one user
//! cannot hold more than `max_connections_per_user` sockets on a node.

use plenary_proto::Role::Attendee;
use plenary_proto::{ClientMsg, RoomId, ServerMsg};

use crate::support::*;

fn join(room: &RoomId) -> impl FnOnce(plenary_proto::RequestId) -> ClientMsg {
    let room = room.clone();
    move |rid| ClientMsg::Join { rid, room, since: None }
}

fn leave(room: &RoomId) -> impl FnOnce(plenary_proto::RequestId) -> ClientMsg {
    let room = room.clone();
    move |rid| ClientMsg::Leave { rid, room }
}

#[tokio::test]
async fn joins_of_made_up_calls_hold_no_place_and_open_no_room() {
    let server = TestServer::spawn_with(|s| s.max_rooms_per_connection = 8).await;
    let mut client = server.client("prober", &[Attendee]).await;
    let rooms_before = server.state.hub.room_count();
    for n in 0..20 {
        let call = RoomId::call(&format!("made-up-{n}")).unwrap();
        assert_eq!(error_code(&client.request(join(&call)).await), 404, "call {n}");
    }
    assert_eq!(server.state.hub.room_count(), rooms_before, "no room was opened for a made-up call");
    // Every place is still free: the event room and seven more rooms can be joined.
    client.join(&RoomId::event()).await;
    for n in 0..7 {
        client.join(&session(&format!("free-{n}"))).await;
    }
    // Leaving a room one is not in (a made-up call, a refused one) changes nothing.
    let call = RoomId::call("made-up-0").unwrap();
    assert_eq!(error_code(&client.request(leave(&call)).await), 405);
    assert_eq!(error_code(&client.request(leave(&session("never-joined"))).await), 405);
    server.shutdown().await;
}

#[tokio::test]
async fn made_up_calls_on_other_connections_do_not_fill_the_node() {
    let server = TestServer::spawn_with(|s| s.max_rooms = 2).await;
    for c in 0..2 {
        let mut prober = server.client(&format!("prober-{c}"), &[Attendee]).await;
        for n in 0..4 {
            let call = RoomId::call(&format!("made-up-{c}-{n}")).unwrap();
            assert_eq!(error_code(&prober.request(join(&call)).await), 404);
        }
    }
    let mut visitor = server.client("visitor", &[Attendee]).await;
    visitor.join(&RoomId::booth("open-booth").unwrap()).await;
    visitor.join(&session("open-session")).await;
    server.shutdown().await;
}

#[tokio::test]
async fn one_user_holds_at_most_max_connections_per_user() {
    let server = TestServer::spawn_with(|s| s.max_connections_per_user = 3).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(server.client("many-tabs", &[Attendee]).await);
    }
    let mut fourth = TestClient::connect(&server).await;
    fourth.send(&ClientMsg::Hello { protocol: vec![1], token: token("many-tabs", &[Attendee]) }).await;
    assert_eq!(fourth.ended().await, Ended::Closed(4004));
    // Another user is not affected.
    let mut other = server.client("someone-else", &[Attendee]).await;
    other.join(&session("tabs")).await;
    // A closed tab gives its place back.
    let mut first = held.remove(0);
    first.ws.close(None).await.unwrap();
    eventually("the closed tab's place is free", || {
        let connections = server.state.user_connections.clone();
        async move { connections.count(&plenary_proto::UserId::parse("many-tabs").unwrap()) == 2 }
    })
    .await;
    let mut again = server.client("many-tabs", &[Attendee]).await;
    assert!(matches!(again.join(&session("tabs")).await, ServerMsg::Snapshot { .. }));
    server.shutdown().await;
}

#[tokio::test]
async fn a_muted_attendee_gets_one_code_for_chat_and_questions() {
    let server = TestServer::spawn().await;
    let room = session("muted");
    let mut moderator = server.client("mod", &[plenary_proto::Role::Moderator]).await;
    moderator.join(&room).await;
    let mut attendee = server.client("loud", &[Attendee]).await;
    attendee.join(&room).await;
    let (target, user) = (room.clone(), plenary_proto::UserId::parse("loud").unwrap());
    let muted = moderator.request(|rid| ClientMsg::Mute { rid, room: target, user, minutes: Some(5) }).await;
    assert!(matches!(muted, ServerMsg::Ack { .. }), "{muted:?}");
    assert_eq!(error_code(&attendee.request(chat(&room, "hello")).await), 423);
    let target = room.clone();
    let asked = attendee
        .request(|rid| ClientMsg::QaAsk { rid, room: target, text: "A question?".into(), anonymous: false })
        .await;
    assert_eq!(error_code(&asked), 423);
    server.shutdown().await;
}
