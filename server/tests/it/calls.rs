//! Calls opened by accepted booth requests: WebRTC signalling reaches only the addressed
//! member of the call (on one node and across nodes of one Redis), members get ICE servers
//! with their own TURN credentials, and signals to outsiders or outside a call are refused.

use plenary_proto::{ClientMsg, ErrorCode, RequestId, RoomEvent, RoomId, ServerMsg, StaffStatus};

use crate::booths::{
    accept, acked, ask_to_talk, booth, refused, request_event, request_seeing, staff_client, visitor, ws,
};
use crate::redis::node_on;
use crate::redis_support::TestRedis;
use crate::support::*;

pub(crate) fn signal(room: &RoomId, to: &str, signal: plenary_proto::Signal) -> impl FnOnce(RequestId) -> ClientMsg {
    let (room, to) = (room.clone(), plenary_proto::UserId::parse(to).unwrap());
    move |rid| ClientMsg::CallSignal { rid, room, to, signal }
}

/// Waits for the next signal and returns who sent it and what.
pub(crate) async fn next_signal(client: &mut TestClient) -> (String, plenary_proto::Signal) {
    let msg = client.recv_until("a signal", |m| matches!(m, ServerMsg::Signal { .. })).await;
    let ServerMsg::Signal { from, signal, .. } = msg else { unreachable!() };
    (from.to_string(), signal)
}

/// A visitor (`visitor_url`) asks, a staff member (`staff_url`) accepts; both join the call.
/// Returns (visitor, staff, call room) with both in the call.
pub(crate) async fn open_call_between(
    visitor_url: &str,
    staff_url: &str,
    slug: &str,
) -> (TestClient, TestClient, RoomId) {
    let room = booth(slug);
    let mut ana = staff_client(staff_url, "ana", &[slug]).await;
    ana.join(&room).await;
    let mut ada = visitor(visitor_url, "ada").await;
    // The staff member may show on the visitor's node a presence round later.
    eventually("ana available to ada", || async {
        let mut probe = visitor(visitor_url, "probe").await;
        matches!(probe.join(&room).await, ServerMsg::Snapshot { booth: Some(view), .. }
            if view.staff.iter().any(|s| s.status == StaffStatus::Available))
    })
    .await;
    ada.join(&room).await;
    let (reply, own) = request_seeing(&mut ada, ask_to_talk(&room, None)).await;
    assert!(acked(&reply), "{reply:?}");
    let own = own.unwrap();
    request_event(&mut ana, "the request", |r| r.id == own.id).await;
    assert!(acked(&ana.request(accept(&room, &own.id)).await));
    let call = RoomId::call(own.id.as_str()).unwrap();
    eventually("the call open on both nodes", || async {
        let mut probe = visitor(visitor_url, "ada").await;
        matches!(
            probe.request(|rid| ClientMsg::Join { rid, room: call.clone(), since: None }).await,
            ServerMsg::Snapshot { .. }
        )
    })
    .await;
    ada.join(&call).await;
    ana.join(&call).await;
    (ada, ana, call)
}

/// Signalling reaches the addressed member of the call and nobody else; members get ICE
/// servers with their own TURN credentials; signals to outsiders or outside a call are refused.
#[tokio::test]
async fn signals_reach_only_the_addressed_member_and_ice_servers_only_members() {
    use plenary_proto::Signal;

    let server = TestServer::spawn_with(|s| {
        s.attendance_interval_ms = 100;
        s.stun_urls = vec!["stun:127.0.0.1:3478".into()];
        s.turn_urls = vec!["turn:127.0.0.1:3478?transport=udp".into()];
        s.turn_secret = Some("loopback-turn-secret".into());
    })
    .await;
    let (mut ada, mut ana, call) = open_call_between(&ws(&server), &ws(&server), "ilo").await;
    let mut lin = visitor(&ws(&server), "lin").await;
    let ServerMsg::Snapshot { ice_servers, .. } = lin.join(&booth("ilo")).await else { panic!("booth snapshot") };
    assert!(ice_servers.is_empty(), "no ICE servers outside a call");
    let mut again = visitor(&ws(&server), "ada").await;
    let ServerMsg::Snapshot { ice_servers, .. } = again.join(&call).await else { panic!("call snapshot") };
    assert_eq!(ice_servers.len(), 2);
    let username = ice_servers[1].username.clone().unwrap();
    let (expiry, user) = username.split_once(':').unwrap();
    assert_eq!(user, "ada", "credentials name their member");
    assert!(expiry.parse::<i64>().unwrap() > plenary_server::clock::unix_secs() + 3000, "they last hours");
    drop(again);

    let offer = Signal::Offer { sdp: "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n".into() };
    assert!(acked(&ada.request(signal(&call, "ana", offer.clone())).await));
    assert_eq!(next_signal(&mut ana).await, ("ada".into(), offer));
    let candidate = Signal::Candidate {
        candidate: "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host".into(),
        sdp_mid: Some("0".into()),
        sdp_m_line_index: Some(0),
        username_fragment: None,
    };
    for sent in [
        Signal::Answer { sdp: "v=0\r\n".into() },
        candidate,
        Signal::EndOfCandidates,
        Signal::Media { audio: false, video: true },
        Signal::Restart,
        Signal::Ready { reply: true },
        Signal::Bye,
    ] {
        assert!(acked(&ana.request(signal(&call, "ada", sent.clone())).await));
        assert_eq!(next_signal(&mut ada).await, ("ana".into(), sent));
    }
    // A burst of candidates beyond the command budget (40) is relayed: signals have their own.
    let rids: Vec<_> = (0..60).map(|_| ada.rid()).collect();
    for (n, rid) in rids.iter().enumerate() {
        let candidate = Signal::Candidate {
            candidate: format!("candidate:{n} 1 udp 2122260223 127.0.0.1 {} typ host", 50_000 + n),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(0),
            username_fragment: None,
        };
        ada.send(&signal(&call, "ana", candidate)(*rid)).await;
    }
    for rid in rids {
        assert!(acked(&ada.answer(rid).await), "every signal of the burst is relayed");
    }
    let mut received = 0;
    while received < 60 {
        next_signal(&mut ana).await;
        received += 1;
    }
    // Refused: to someone outside the call, to oneself, outside a call room.
    let outside = ada.request(signal(&call, "lin", Signal::Bye)).await;
    assert!(refused(&outside, ErrorCode::Forbidden), "{outside:?}");
    assert!(refused(&ada.request(signal(&call, "ada", Signal::Bye)).await, ErrorCode::Invalid));
    let in_booth = ada.request(signal(&booth("ilo"), "ana", Signal::Bye)).await;
    assert!(refused(&in_booth, ErrorCode::NotFound), "{in_booth:?}");
    // Lin, in the booth all along, received no signal: the next thing it sees of the booth
    // is this chat message, and nothing before it was a signal.
    assert!(acked(&ana.request(chat(&booth("ilo"), "marker")).await));
    loop {
        match lin.recv().await {
            ServerMsg::Signal { .. } => panic!("an outsider received a signal"),
            ServerMsg::Event { event: RoomEvent::Chat { message }, .. } if message.text == "marker" => break,
            _ => {}
        }
    }
    server.shutdown().await;
}

/// The visitor on one node and the staff member on another, one Redis: signalling crosses.
#[tokio::test]
async fn signals_cross_nodes() {
    use plenary_proto::Signal;

    let redis = TestRedis::new();
    let node_a = node_on(&redis.url, &redis.prefix).await;
    let node_b = node_on(&redis.url, &redis.prefix).await;
    let (mut ada, mut ana, call) = open_call_between(&ws(&node_a), &ws(&node_b), "itu-x").await;
    let offer = Signal::Offer { sdp: "v=0\r\n".into() };
    assert!(acked(&ada.request(signal(&call, "ana", offer.clone())).await));
    assert_eq!(next_signal(&mut ana).await, ("ada".into(), offer));
    let answer = Signal::Answer { sdp: "v=0\r\na=answer\r\n".into() };
    assert!(acked(&ana.request(signal(&call, "ada", answer.clone())).await));
    assert_eq!(next_signal(&mut ada).await, ("ana".into(), answer));
    node_a.shutdown().await;
    node_b.shutdown().await;
}
