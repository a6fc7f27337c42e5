//! Speaker green rooms (`green:<session>`): who may enter (the session's speakers and
//! moderators, organisers), the member list every member sees, signalling addressed to one
//! member and no other, the six-person limit, and members on two nodes of one Redis.

use plenary_proto::Role::{self, Attendee, Moderator, Organiser, Speaker};
use plenary_proto::{ClientMsg, ErrorCode, RoomEvent, RoomId, ServerMsg, Signal};

use crate::calls::{next_signal, signal};
use crate::redis::node_on;
use crate::redis_support::TestRedis;
use crate::support::*;

fn green() -> RoomId {
    RoomId::green("opening").unwrap()
}

async fn person(url: &str, sub: &str, roles: &[Role], scopes: &[&str]) -> TestClient {
    let mut claims = claims(sub, roles, 3600);
    claims.scopes = scopes.iter().map(|s| s.to_string()).collect();
    let mut client = TestClient::connect_url(url).await;
    client.hello(&sign(&claims, SECRET)).await;
    client
}

async fn try_join(client: &mut TestClient, room: &RoomId) -> ServerMsg {
    let room = room.clone();
    client.request(|rid| ClientMsg::Join { rid, room, since: None }).await
}

fn refused(reply: &ServerMsg, code: ErrorCode) -> bool {
    matches!(reply, ServerMsg::Error { code: c, .. } if *c == code)
}

/// Waits until `client` has seen `user` join (or, with `joined: false`, leave) the room.
async fn sees(client: &mut TestClient, user: &str, joined: bool) {
    let what = format!("{user} {}", if joined { "joining" } else { "leaving" });
    client
        .recv_until(&what, |m| match m {
            ServerMsg::Event { event: RoomEvent::CallJoined { member }, .. } => joined && member.id.as_str() == user,
            ServerMsg::Event { event: RoomEvent::CallLeft { user: u }, .. } => !joined && u.as_str() == user,
            _ => false,
        })
        .await;
}

#[tokio::test]
async fn only_the_sessions_speakers_and_moderators_enter() {
    let server = TestServer::spawn().await;
    let url = server.ws_url();
    for (who, roles, scopes, allowed) in [
        ("organiser", &[Organiser][..], &[][..], true),
        ("moderator of every session", &[Moderator][..], &[][..], true),
        ("moderator of this session", &[Moderator][..], &["moderate:session:opening"][..], true),
        ("moderator of another session", &[Moderator][..], &["moderate:session:closing"][..], false),
        ("speaker of this session", &[Speaker][..], &["speak:opening"][..], true),
        ("speaker of another session", &[Speaker][..], &["speak:closing"][..], false),
        ("speaker with no session", &[Speaker][..], &[][..], false),
        ("attendee", &[Attendee][..], &[][..], false),
    ] {
        let mut client = person(&url, &who.replace(' ', "-"), roles, scopes).await;
        let reply = try_join(&mut client, &green()).await;
        if allowed {
            assert!(matches!(reply, ServerMsg::Snapshot { .. }), "{who}: {reply:?}");
        } else {
            assert!(refused(&reply, ErrorCode::Forbidden), "{who}: {reply:?}");
        }
    }
    server.shutdown().await;
}

#[tokio::test]
async fn members_see_each_other_and_signals_reach_only_their_addressee() {
    let server = TestServer::spawn_with(|s| s.attendance_interval_ms = 100).await;
    let url = server.ws_url();
    let mut grace = person(&url, "grace", &[Speaker], &["speak:opening"]).await;
    let ServerMsg::Snapshot { call: Some(call), .. } = grace.join(&green()).await else { panic!("snapshot") };
    assert_eq!(call.members.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["grace"], "in from the start");
    let mut alan = person(&url, "alan", &[Speaker], &["speak:opening"]).await;
    let ServerMsg::Snapshot { call: Some(call), .. } = alan.join(&green()).await else { panic!("snapshot") };
    assert_eq!(call.members.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["grace", "alan"]);
    sees(&mut grace, "alan", true).await;
    let mut mo = person(&url, "mo", &[Moderator], &[]).await;
    mo.join(&green()).await;
    sees(&mut alan, "mo", true).await;

    let offer = Signal::Offer { sdp: "v=0\r\n".into() };
    assert!(matches!(grace.request(signal(&green(), "alan", offer.clone())).await, ServerMsg::Ack { .. }));
    assert_eq!(next_signal(&mut alan).await, ("grace".into(), offer));
    let outsider = grace.request(signal(&green(), "someone-else", Signal::Bye)).await;
    assert!(refused(&outsider, ErrorCode::Forbidden), "{outsider:?}");
    // Mo, in the room, got nothing addressed to alan: the next thing it sees is the marker.
    assert!(matches!(grace.request(chat(&green(), "marker")).await, ServerMsg::Ack { .. }));
    loop {
        match mo.recv().await {
            ServerMsg::Signal { .. } => panic!("a signal reached a member it was not for"),
            ServerMsg::Event { event: RoomEvent::Chat { message }, .. } if message.text == "marker" => break,
            _ => {}
        }
    }
    // Alan leaves: everyone sees it (after the presence rounds confirm he is gone).
    drop(alan);
    sees(&mut grace, "alan", false).await;
    let refused_after = grace.request(signal(&green(), "alan", Signal::Bye)).await;
    assert!(refused(&refused_after, ErrorCode::Forbidden), "alan is no longer in the call: {refused_after:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn a_green_room_holds_six() {
    let server = TestServer::spawn_with(|s| s.attendance_interval_ms = 100).await;
    let url = server.ws_url();
    let mut inside = Vec::new();
    for n in 0..plenary_server::hub::room::GREEN_ROOM_CAPACITY {
        let mut speaker = person(&url, &format!("speaker-{n}"), &[Speaker], &["speak:opening"]).await;
        speaker.join(&green()).await;
        inside.push(speaker);
    }
    sees(&mut inside[0], "speaker-5", true).await;
    let mut seventh = person(&url, "speaker-6", &[Speaker], &["speak:opening"]).await;
    let full = try_join(&mut seventh, &green()).await;
    assert!(refused(&full, ErrorCode::Conflict), "{full:?}");
    // A second tab of someone inside is no seventh person.
    let mut again = person(&url, "speaker-0", &[Speaker], &["speak:opening"]).await;
    assert!(matches!(try_join(&mut again, &green()).await, ServerMsg::Snapshot { .. }));
    inside.pop();
    sees(&mut inside[0], "speaker-5", false).await;
    assert!(matches!(try_join(&mut seventh, &green()).await, ServerMsg::Snapshot { .. }), "room again");
    server.shutdown().await;
}

#[tokio::test]
async fn members_on_two_nodes_meet() {
    let redis = TestRedis::new();
    let node_a = node_on(&redis.url, &redis.prefix).await;
    let node_b = node_on(&redis.url, &redis.prefix).await;
    let mut grace = person(&node_a.ws_url(), "grace", &[Speaker], &["speak:opening"]).await;
    grace.join(&green()).await;
    let mut alan = person(&node_b.ws_url(), "alan", &[Speaker], &["speak:opening"]).await;
    let ServerMsg::Snapshot { call: Some(call), .. } = alan.join(&green()).await else { panic!("snapshot") };
    assert_eq!(
        call.members.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        ["grace", "alan"],
        "grace from the stream"
    );
    sees(&mut grace, "alan", true).await;
    let ready = Signal::Ready { reply: false };
    assert!(matches!(alan.request(signal(&green(), "grace", ready.clone())).await, ServerMsg::Ack { .. }));
    assert_eq!(next_signal(&mut grace).await, ("alan".into(), ready));
    node_a.shutdown().await;
    node_b.shutdown().await;
}

/// Five inside, two more join at once on two nodes: exactly one gets the sixth place.
#[tokio::test]
async fn the_last_place_goes_to_one_of_two_joining_at_once_on_two_nodes() {
    let redis = TestRedis::new();
    let node_a = node_on(&redis.url, &redis.prefix).await;
    let node_b = node_on(&redis.url, &redis.prefix).await;
    let mut inside = Vec::new();
    for n in 0..plenary_server::hub::room::GREEN_ROOM_CAPACITY - 1 {
        let url = if n % 2 == 0 { node_a.ws_url() } else { node_b.ws_url() };
        let mut speaker = person(&url, &format!("speaker-{n}"), &[Speaker], &["speak:opening"]).await;
        speaker.join(&green()).await;
        inside.push(speaker);
    }
    let mut on_a = person(&node_a.ws_url(), "late-a", &[Speaker], &["speak:opening"]).await;
    let mut on_b = person(&node_b.ws_url(), "late-b", &[Speaker], &["speak:opening"]).await;
    let (rid_a, rid_b) = (on_a.rid(), on_b.rid());
    on_a.send(&ClientMsg::Join { rid: rid_a, room: green(), since: None }).await;
    on_b.send(&ClientMsg::Join { rid: rid_b, room: green(), since: None }).await;
    let (a, b) = (on_a.answer(rid_a).await, on_b.answer(rid_b).await);
    let admitted = [&a, &b].iter().filter(|m| matches!(m, ServerMsg::Snapshot { .. })).count();
    assert_eq!(admitted, 1, "exactly one takes the last place: {a:?} {b:?}");
    assert!(refused(if matches!(a, ServerMsg::Snapshot { .. }) { &b } else { &a }, ErrorCode::Conflict));
    node_a.shutdown().await;
    node_b.shutdown().await;
}
