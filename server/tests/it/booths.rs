//! The virtual exhibition over real WebSockets: staff presence, contact requests and their
//! queue, the private call an accepted request opens, who may do what at a booth, the hall's
//! counts, and the races and failures across nodes of one Redis.

use plenary_proto::Role::{Attendee, Moderator, Organiser};
use plenary_proto::{
    BoothCounts, ClientMsg, ContactKind, ContactRequestView, ContactState, ErrorCode, MessageId, RequestId, Role,
    RoomEvent, RoomId, ServerMsg, StaffStatus, StaffView,
};

use crate::redis::{child_node, node_on};
use crate::redis_support::TestRedis;
use crate::support::*;

pub(crate) fn booth(slug: &str) -> RoomId {
    RoomId::booth(slug).unwrap()
}

/// A client whose token makes it staff of `booths`.
pub(crate) async fn staff_client(url: &str, sub: &str, booths: &[&str]) -> TestClient {
    let mut claims = claims(sub, &[Role::Exhibitor], 3600);
    claims.scopes = booths.iter().map(|b| format!("staff:{b}")).collect();
    let mut client = TestClient::connect_url(url).await;
    client.hello(&sign(&claims, SECRET)).await;
    client
}

pub(crate) async fn visitor(url: &str, sub: &str) -> TestClient {
    let mut client = TestClient::connect_url(url).await;
    client.hello(&token(sub, &[Attendee])).await;
    client
}

fn set_status(room: &RoomId, status: StaffStatus) -> impl FnOnce(RequestId) -> ClientMsg {
    let room = room.clone();
    move |rid| ClientMsg::BoothStatus { rid, room, status }
}

pub(crate) fn ask_to_talk(room: &RoomId, message: Option<&str>) -> impl FnOnce(RequestId) -> ClientMsg {
    let (room, message) = (room.clone(), message.map(str::to_owned));
    move |rid| ClientMsg::BoothRequest { rid, room, message }
}

pub(crate) fn accept(room: &RoomId, id: &MessageId) -> impl FnOnce(RequestId) -> ClientMsg {
    let (room, id) = (room.clone(), id.clone());
    move |rid| ClientMsg::BoothAccept { rid, room, id }
}

fn cancel(room: &RoomId, id: &MessageId) -> impl FnOnce(RequestId) -> ClientMsg {
    let (room, id) = (room.clone(), id.clone());
    move |rid| ClientMsg::BoothCancel { rid, room, id }
}

pub(crate) fn acked(reply: &ServerMsg) -> bool {
    matches!(reply, ServerMsg::Ack { .. })
}

pub(crate) fn refused(reply: &ServerMsg, code: ErrorCode) -> bool {
    matches!(reply, ServerMsg::Error { code: c, .. } if *c == code)
}

/// Waits for a booth event whose request views satisfy `wanted`, and returns that view.
pub(crate) async fn request_event(
    client: &mut TestClient,
    what: &str,
    wanted: impl Fn(&ContactRequestView) -> bool,
) -> ContactRequestView {
    let msg = client
        .recv_until(what, |m| {
            matches!(m, ServerMsg::Event { event: RoomEvent::Booth { requests, .. }, .. } if requests.iter().any(&wanted))
        })
        .await;
    let ServerMsg::Event { event: RoomEvent::Booth { requests, .. }, .. } = msg else { unreachable!() };
    requests.into_iter().find(|r| wanted(r)).unwrap()
}

/// Waits for a booth event showing `user` with `status`.
async fn staff_event(client: &mut TestClient, user: &str, status: StaffStatus) -> StaffView {
    let what = format!("{user} {status:?}");
    let msg = client
        .recv_until(&what, |m| {
            matches!(m, ServerMsg::Event { event: RoomEvent::Booth { staff, .. }, .. }
                if staff.iter().any(|s| s.user.as_str() == user && s.status == status))
        })
        .await;
    let ServerMsg::Event { event: RoomEvent::Booth { staff, .. }, .. } = msg else { unreachable!() };
    staff.into_iter().find(|s| s.user.as_str() == user).unwrap()
}

/// Sends a request and returns its answer with the visitor's own request view seen before it.
pub(crate) async fn request_seeing(
    client: &mut TestClient,
    build: impl FnOnce(RequestId) -> ClientMsg,
) -> (ServerMsg, Option<ContactRequestView>) {
    let rid = client.rid();
    client.send(&build(rid)).await;
    let mut seen = None;
    loop {
        match client.recv().await {
            ServerMsg::Event { event: RoomEvent::Booth { requests, .. }, .. } => {
                if let Some(view) = requests.into_iter().last() {
                    seen = Some(view);
                }
            }
            reply @ (ServerMsg::Ack { rid: r } | ServerMsg::Error { rid: Some(r), .. }) if r == rid => {
                return (reply, seen);
            }
            _ => {}
        }
    }
}

pub(crate) fn ws(server: &TestServer) -> String {
    server.ws_url()
}

#[tokio::test]
async fn a_visitor_queues_staff_accept_once_and_both_meet_in_a_private_call() {
    let server = TestServer::spawn_with(|s| s.attendance_interval_ms = 100).await;
    let room = booth("itu");
    let mut ana = staff_client(&ws(&server), "ana", &["itu"]).await;
    let ServerMsg::Snapshot { you, .. } = ana.join(&room).await else { panic!("snapshot") };
    assert!(you.booth_staff && you.can_moderate);
    let mut ben = staff_client(&ws(&server), "ben", &["itu"]).await;
    ben.join(&room).await;

    let mut ada = visitor(&ws(&server), "ada").await;
    let ServerMsg::Snapshot { booth: Some(view), you, .. } = ada.join(&room).await else { panic!("booth snapshot") };
    assert!(!you.booth_staff && !you.can_moderate && you.can_chat);
    let available: Vec<&str> =
        view.staff.iter().filter(|s| s.status == StaffStatus::Available).map(|s| s.user.as_str()).collect();
    assert_eq!(available, ["ana", "ben"], "{view:?}");
    assert!(view.requests.is_empty());

    let (reply, own) = request_seeing(&mut ada, ask_to_talk(&room, None)).await;
    assert!(acked(&reply), "{reply:?}");
    let own = own.expect("the visitor sees its request");
    assert_eq!((own.state, own.kind, own.position), (ContactState::Waiting, ContactKind::Live, Some(1)));
    let queued = request_event(&mut ana, "ada's request", |r| r.id == own.id).await;
    assert_eq!(queued.visitor.name, "User ada");

    let mut lin = visitor(&ws(&server), "lin").await;
    lin.join(&room).await;
    let (_, second) = request_seeing(&mut lin, ask_to_talk(&room, None)).await;
    assert_eq!(second.expect("lin's request").position, Some(2));
    let again = ada.request(ask_to_talk(&room, None)).await;
    assert!(refused(&again, ErrorCode::Conflict), "one waiting request per visitor: {again:?}");

    // Both staff accept ada's request at once: exactly one wins.
    let (rid_a, rid_b) = (ana.rid(), ben.rid());
    ana.send(&accept(&room, &own.id)(rid_a)).await;
    ben.send(&accept(&room, &own.id)(rid_b)).await;
    let (a, b) = (ana.answer(rid_a).await, ben.answer(rid_b).await);
    assert_eq!(u8::from(acked(&a)) + u8::from(acked(&b)), 1, "{a:?} {b:?}");
    let (winner, loser) = if acked(&a) { ("ana", &b) } else { ("ben", &a) };
    assert!(refused(loser, ErrorCode::Conflict), "{loser:?}");
    let accepted = request_event(&mut ada, "the acceptance", |r| r.state == ContactState::Accepted).await;
    assert_eq!(accepted.accepted_by.as_ref().map(|p| p.id.as_str()), Some(winner));
    let call = accepted.call.clone().expect("the call room");
    // Lin moved up the queue.
    let moved = request_event(&mut lin, "lin's new position", |r| r.position == Some(1)).await;
    assert_eq!(moved.state, ContactState::Waiting);

    // The call: its two members get in and talk; nobody else does.
    let mut ada_call = visitor(&ws(&server), "ada").await;
    let ServerMsg::Snapshot { call: Some(info), .. } = ada_call.join(&call).await else { panic!("call snapshot") };
    let members: Vec<&str> = info.members.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(members, ["ada", winner]);
    assert_eq!(info.booth.as_deref(), Some("itu"));
    let staff_in_call = if winner == "ana" { &mut ana } else { &mut ben };
    staff_in_call.join(&call).await;
    assert!(acked(&ada_call.request(chat(&call, "Hello from the visitor")).await));
    staff_in_call
        .recv_until("the visitor's message", |m| {
            matches!(m, ServerMsg::Event { event: RoomEvent::Chat { message }, .. } if message.text == "Hello from the visitor")
        })
        .await;
    let outsider = lin.request(|rid| ClientMsg::Join { rid, room: call.clone(), since: None }).await;
    assert!(refused(&outsider, ErrorCode::Forbidden), "{outsider:?}");
    let made_up = RoomId::call("0123456789abcdef").unwrap();
    let unknown = lin.request(|rid| ClientMsg::Join { rid, room: made_up, since: None }).await;
    assert!(refused(&unknown, ErrorCode::NotFound), "{unknown:?}");

    // Lin cancels; a late staff joiner sees the whole story in its snapshot.
    let (reply, cancelled) = request_seeing(&mut lin, cancel(&room, &moved.id)).await;
    assert!(acked(&reply), "{reply:?}");
    assert_eq!(cancelled.map(|c| (c.state, c.cancelled_by_visitor)), Some((ContactState::Cancelled, Some(true))));
    let mut cleo = staff_client(&ws(&server), "cleo", &["itu"]).await;
    let ServerMsg::Snapshot { booth: Some(view), .. } = cleo.join(&room).await else { panic!("booth snapshot") };
    assert_eq!(view.requests.len(), 2);
    server.shutdown().await;
}

#[tokio::test]
async fn leaving_cancels_a_waiting_request_and_staff_show_offline_after_the_grace() {
    let server = TestServer::spawn_with(|s| {
        s.attendance_interval_ms = 100;
        s.booth_grace_ms = 300;
    })
    .await;
    let room = booth("undp");
    let mut ana = staff_client(&ws(&server), "ana", &["undp"]).await;
    ana.join(&room).await;
    let mut ada = visitor(&ws(&server), "ada").await;
    ada.join(&room).await;
    let (reply, own) = request_seeing(&mut ada, ask_to_talk(&room, None)).await;
    assert!(acked(&reply), "{reply:?}");
    let own = own.unwrap();
    drop(ada);
    let lapsed =
        request_event(&mut ana, "the lapsed request", |r| r.id == own.id && r.state == ContactState::Cancelled).await;
    assert_eq!(lapsed.cancelled_by_visitor, Some(false));

    // A staff member away on purpose shows away; with every tab closed, offline after the grace.
    let mut lin = visitor(&ws(&server), "lin").await;
    lin.join(&room).await;
    assert!(acked(&ana.request(set_status(&room, StaffStatus::Away)).await));
    staff_event(&mut lin, "ana", StaffStatus::Away).await;
    let nobody = lin.request(ask_to_talk(&room, None)).await;
    assert!(refused(&nobody, ErrorCode::Conflict), "nobody is available: {nobody:?}");
    assert!(acked(&ana.request(set_status(&room, StaffStatus::Available)).await));
    staff_event(&mut lin, "ana", StaffStatus::Available).await;
    drop(ana);
    staff_event(&mut lin, "ana", StaffStatus::Offline).await;

    // Nobody on duty: a callback request with a message, which does not lapse.
    let (reply, callback) = request_seeing(&mut lin, ask_to_talk(&room, Some("Please call me about Geneva"))).await;
    assert!(acked(&reply), "{reply:?}");
    let callback = callback.unwrap();
    assert_eq!((callback.kind, callback.position), (ContactKind::Callback, None));
    drop(lin);
    let mut ana = staff_client(&ws(&server), "ana", &["undp"]).await;
    let ServerMsg::Snapshot { booth: Some(view), .. } = ana.join(&room).await else { panic!("booth snapshot") };
    let kept = view.requests.iter().find(|r| r.id == callback.id).expect("the callback request");
    assert_eq!((kept.state, kept.message.as_deref()), (ContactState::Waiting, Some("Please call me about Geneva")));
    assert!(acked(&ana.request(accept(&room, &callback.id)).await), "staff take callbacks like live requests");
    server.shutdown().await;
}

#[tokio::test]
async fn only_a_booths_staff_act_for_it() {
    let server = TestServer::spawn().await;
    let room = booth("wsis");
    let mut ana = staff_client(&ws(&server), "ana", &["wsis"]).await;
    ana.join(&room).await;
    let mut other = staff_client(&ws(&server), "olga", &["itu"]).await;
    other.join(&room).await;
    let mut ada = visitor(&ws(&server), "ada").await;
    ada.join(&room).await;
    let mut mo = TestClient::connect_url(&ws(&server)).await;
    mo.hello(&token("mo", &[Moderator])).await;
    mo.join(&room).await;
    let mut org = TestClient::connect_url(&ws(&server)).await;
    org.hello(&token("org", &[Organiser])).await;
    org.join(&room).await;

    let (_, own) = request_seeing(&mut ada, ask_to_talk(&room, None)).await;
    let own = own.unwrap();
    assert!(acked(&ada.request(chat(&room, "spam spam")).await));
    let spam = ana
        .recv_until("the chat message", |m| matches!(m, ServerMsg::Event { event: RoomEvent::Chat { .. }, .. }))
        .await;
    let ServerMsg::Event { event: RoomEvent::Chat { message }, .. } = spam else { unreachable!() };
    let mute = |room: &RoomId| {
        let room = room.clone();
        move |rid| ClientMsg::Mute { rid, room, user: plenary_proto::UserId::parse("ada").unwrap(), minutes: Some(5) }
    };
    let delete = |room: &RoomId, id: &MessageId| {
        let (room, id) = (room.clone(), id.clone());
        move |rid| ClientMsg::ChatDelete { rid, room, id }
    };
    for (who, client) in [("visitor", &mut ada), ("staff of another booth", &mut other), ("session moderator", &mut mo)]
    {
        for reply in [
            client.request(set_status(&room, StaffStatus::Available)).await,
            client.request(accept(&room, &own.id)).await,
            client.request(mute(&room)).await,
        ] {
            assert!(refused(&reply, ErrorCode::Forbidden), "{who}: {reply:?}");
        }
        if who != "visitor" {
            let reply = client.request(delete(&room, &message.id)).await;
            assert!(refused(&reply, ErrorCode::Forbidden), "{who}: {reply:?}");
            let reply = client.request(cancel(&room, &own.id)).await;
            assert!(refused(&reply, ErrorCode::Forbidden), "{who} cancels another's request: {reply:?}");
        }
    }
    // Organisers keep the event's code of conduct everywhere, but do not staff booths.
    assert!(refused(&org.request(accept(&room, &own.id)).await, ErrorCode::Forbidden));
    assert!(refused(&org.request(set_status(&room, StaffStatus::Busy)).await, ErrorCode::Forbidden));
    assert!(acked(&org.request(delete(&room, &message.id)).await));
    // The booth's staff moderate its chat and take its requests.
    assert!(acked(&ana.request(mute(&room)).await));
    assert!(acked(&ana.request(accept(&room, &own.id)).await));
    assert!(refused(&ana.request(ask_to_talk(&room, None)).await, ErrorCode::Invalid), "staff do not queue");
    server.shutdown().await;
}

/// Two nodes of one Redis: staff on one node and visitors on the other see each other, two
/// staff members on two nodes accept one request and exactly one wins, the hall counts
/// visitors over both nodes, and a SIGKILLed node's staff go offline within 30 s.
#[tokio::test]
async fn presence_and_accepts_hold_across_nodes_and_a_killed_nodes_staff_go_offline() {
    let redis = TestRedis::new();
    let node_a = node_on(&redis.url, &redis.prefix).await;
    let (url_b, killer) =
        child_node(&redis, &[("PLENARY_ATTENDANCE_INTERVAL_MS", "200"), ("PLENARY_BOOTH_GRACE_MS", "2000")]).await;
    let ws_b = format!("{}/ws", url_b.replace("http://", "ws://"));
    let room = booth("expo-race");

    let mut hall = visitor(&ws(&node_a), "hall-watcher").await;
    hall.join(&RoomId::expo()).await;
    let mut far_staff = staff_client(&ws_b, "far", &["expo-race"]).await;
    far_staff.join(&room).await;
    let mut near_staff = staff_client(&ws(&node_a), "near", &["expo-race"]).await;
    near_staff.join(&room).await;
    let mut ada = visitor(&ws(&node_a), "ada").await;
    ada.join(&room).await;
    let mut lin = visitor(&ws_b, "lin").await;
    lin.join(&room).await;
    // The staff member on the other node shows available here.
    eventually("far shows available on node a", || async {
        let mut probe = visitor(&ws(&node_a), "probe").await;
        let snapshot = probe.join(&room).await;
        matches!(snapshot, ServerMsg::Snapshot { booth: Some(view), .. }
            if view.staff.iter().any(|s| s.user.as_str() == "far" && s.status == StaffStatus::Available))
    })
    .await;
    // The hall counts both nodes' visitors (the probes left) and both staff on duty.
    hall.recv_until("two visitors and two staff on duty", |m| {
        matches!(m, ServerMsg::BoothSummary { booths }
            if booths.contains(&BoothCounts { booth: "expo-race".into(), visitors: 2, staff_on_duty: 2 }))
    })
    .await;

    for round in 0..3 {
        let visitor_client = if round % 2 == 0 { &mut ada } else { &mut lin };
        let (reply, own) = request_seeing(visitor_client, ask_to_talk(&room, None)).await;
        assert!(acked(&reply), "round {round}: {reply:?}");
        let own = own.unwrap();
        request_event(&mut far_staff, "the request on node b", |r| r.id == own.id).await;
        request_event(&mut near_staff, "the request on node a", |r| r.id == own.id).await;
        let (rid_far, rid_near) = (far_staff.rid(), near_staff.rid());
        far_staff.send(&accept(&room, &own.id)(rid_far)).await;
        near_staff.send(&accept(&room, &own.id)(rid_near)).await;
        let (a, b) = (far_staff.answer(rid_far).await, near_staff.answer(rid_near).await);
        assert_eq!(u8::from(acked(&a)) + u8::from(acked(&b)), 1, "round {round}: exactly one wins: {a:?} {b:?}");
        assert!(refused(if acked(&a) { &b } else { &a }, ErrorCode::Conflict));
        request_event(visitor_client, "the acceptance", |r| r.id == own.id && r.state == ContactState::Accepted).await;
    }

    // Node b dies without a word: its staff member shows offline on node a within 30 s
    // (presence TTL 3 s, confirmation 2 s, grace 2 s here).
    killer.kill();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let message = ada.try_recv(std::time::Duration::from_secs(1)).await;
        if matches!(&message, Some(ServerMsg::Event { event: RoomEvent::Booth { staff, .. }, .. })
            if staff.iter().any(|s| s.user.as_str() == "far" && s.status == StaffStatus::Offline))
        {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the killed node's staff still showed after 30 s");
    }
    hall.recv_until("the killed node's visitor and staff gone from the hall", |m| {
        matches!(m, ServerMsg::BoothSummary { booths }
            if booths.contains(&BoothCounts { booth: "expo-race".into(), visitors: 1, staff_on_duty: 1 }))
    })
    .await;
    node_a.shutdown().await;
}

/// A caller of the REST API with its own token.
async fn http(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    bearer: &str,
    body: Option<serde_json::Value>,
) -> (reqwest::StatusCode, String) {
    let mut request = reqwest::Client::new().request(method, server.http_url(path)).bearer_auth(bearer);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

fn staff_token(sub: &str, booths: &[&str]) -> String {
    let mut claims = claims(sub, &[Role::Exhibitor], 3600);
    claims.scopes = booths.iter().map(|b| format!("staff:{b}")).collect();
    sign(&claims, SECRET)
}

/// Leads: shared with consent only, read by that booth's staff only (not other booths'
/// staff, not organisers, not other visitors), withdrawn by the visitor; analytics and the
/// profile by role; the record survives the node on SQLite and PostgreSQL.
#[tokio::test]
async fn leads_are_shared_with_consent_and_read_only_by_the_booths_staff() {
    use reqwest::Method;
    use reqwest::StatusCode;
    use serde_json::json;

    use crate::databases::{Kind, TestDatabase};

    for kind in [Kind::Sqlite, Kind::Postgres] {
        let db = TestDatabase::create(kind).await;
        let url = db.url.clone();
        let server = TestServer::spawn_with(move |s| s.database_url = Some(url)).await;
        let organiser = token("org", &[Organiser]);
        for id in ["itu", "undp"] {
            let booth = json!({"id": id, "organisation": id.to_uppercase(), "staff": ["named-staff"]});
            let (status, body) =
                http(&server, Method::PUT, &format!("/api/booths/{id}"), &organiser, Some(booth)).await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        let ada = token("ada", &[Attendee]);
        let card = json!({"name": "Ada Lovelace", "email": "ada@example.org", "organisation": "=HYPERLINK(\"x\")"});
        let (status, body) =
            http(&server, Method::PUT, "/api/booths/itu/lead", &ada, Some(json!({"card": card}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "no consent, no lead: {body}");
        let bad = json!({"card": {"name": "", "email": "nope"}, "consent": true});
        let (status, body) = http(&server, Method::PUT, "/api/booths/itu/lead", &ada, Some(bad)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body.contains("card.name") && body.contains("card.email"), "{body}");
        let (status, body) =
            http(&server, Method::PUT, "/api/booths/itu/lead", &ada, Some(json!({"card": card, "consent": true})))
                .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, _) = http(&server, Method::GET, "/api/booths/itu/lead", &ada, None).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = http(&server, Method::GET, "/api/booths/undp/lead", &ada, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "shared with itu only");

        // Who reads the leads.
        for (who, bearer) in [
            ("a visitor", token("lin", &[Attendee])),
            ("an organiser", organiser.clone()),
            ("another booth's staff", staff_token("olga", &["undp"])),
        ] {
            let (status, body) = http(&server, Method::GET, "/api/booths/itu/leads.csv", &bearer, None).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who}: {body}");
            let (status, _) = http(&server, Method::GET, "/api/booths/itu/leads", &bearer, None).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
        }
        for bearer in [staff_token("ana", &["itu"]), token("named-staff", &[Attendee])] {
            let (status, csv) = http(&server, Method::GET, "/api/booths/itu/leads.csv", &bearer, None).await;
            assert_eq!(status, StatusCode::OK);
            let lines: Vec<&str> = csv.lines().collect();
            assert_eq!(lines[0], "shared_at,visitor,name,email,organisation,job_title,phone,note");
            assert!(lines[1].contains("ada,Ada Lovelace,ada@example.org,\"'=HYPERLINK"), "formula-safe: {csv}");
        }
        let (_, leads) =
            http(&server, Method::GET, "/api/booths/undp/leads", &staff_token("olga", &["undp"]), None).await;
        assert_eq!(leads, "[]");

        // Withdrawn: gone from the export.
        let (status, _) = http(&server, Method::DELETE, "/api/booths/itu/lead", &ada, None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (_, csv) =
            http(&server, Method::GET, "/api/booths/itu/leads.csv", &staff_token("ana", &["itu"]), None).await;
        assert_eq!(csv.lines().count(), 1, "{csv}");
        let (status, _) = http(&server, Method::DELETE, "/api/booths/itu/lead", &ada, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // Analytics: the booth's staff and organisers; everyone's list for organisers only.
        let (status, _) = http(&server, Method::GET, "/api/booths/itu/analytics", &ada, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) =
            http(&server, Method::GET, "/api/booths/itu/analytics", &staff_token("olga", &["undp"]), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, body) =
            http(&server, Method::GET, "/api/booths/itu/analytics", &staff_token("ana", &["itu"]), None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = http(&server, Method::GET, "/api/analytics/booths", &organiser, None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(serde_json::from_str::<serde_json::Value>(&body).unwrap().as_array().unwrap().len(), 2);
        let (status, _) =
            http(&server, Method::GET, "/api/analytics/booths", &staff_token("ana", &["itu"]), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN);

        // The profile: its staff edit it, nobody else.
        let profile = json!({"description": "Connecting the world", "links": ["https://itu.int"], "tags": ["ict"]});
        let (status, _) = http(
            &server,
            Method::PUT,
            "/api/booths/itu/profile",
            &staff_token("olga", &["undp"]),
            Some(profile.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, body) =
            http(&server, Method::PUT, "/api/booths/itu/profile", &staff_token("ana", &["itu"]), Some(profile)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, booth) = http(&server, Method::GET, "/api/booths/itu", &ada, None).await;
        assert!(booth.contains("Connecting the world") && booth.contains("named-staff"), "{booth}");
        let bad = json!({"description": "", "links": ["ftp://nope"], "tags": []});
        let (status, _) =
            http(&server, Method::PUT, "/api/booths/itu/profile", &staff_token("ana", &["itu"]), Some(bad)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        server.shutdown().await;
        db.drop_database().await;
    }
}

/// Booth rooms take their staff from the programme, a visit and a request end up in the
/// booth's analytics, and a callback request survives the node restarting.
#[tokio::test]
async fn requests_are_recorded_and_survive_a_restart() {
    use reqwest::Method;
    use serde_json::json;

    use crate::databases::{Kind, TestDatabase};

    let db = TestDatabase::create(Kind::Sqlite).await;
    let url = db.url.clone();
    let start = |url: String| TestServer::spawn_with(move |s| s.database_url = Some(url));
    let server = start(url.clone()).await;
    let organiser = token("org", &[Organiser]);
    let booth_body = json!({"id": "ilo", "organisation": "ILO", "staff": ["ana"]});
    http(&server, Method::PUT, "/api/booths/ilo", &organiser, Some(booth_body)).await;
    let room = booth("ilo");
    let mut nobody = visitor(&ws(&server), "ada").await;
    let unknown = nobody.request(|rid| ClientMsg::Join { rid, room: booth("not-in-programme"), since: None }).await;
    assert!(refused(&unknown, ErrorCode::NotFound), "{unknown:?}");
    nobody.join(&room).await;
    let (reply, callback) = request_seeing(&mut nobody, ask_to_talk(&room, Some("Call me back"))).await;
    assert!(acked(&reply), "{reply:?}");
    let callback = callback.unwrap();
    drop(nobody);
    server.shutdown().await;

    let server = start(url.clone()).await;
    let mut ana = TestClient::connect_url(&ws(&server)).await;
    ana.hello(&token("ana", &[Attendee])).await;
    let ServerMsg::Snapshot { booth: Some(view), you, .. } = ana.join(&room).await else { panic!("snapshot") };
    assert!(you.booth_staff, "named on the booth in the programme");
    assert!(view.requests.iter().any(|r| r.id == callback.id && r.state == ContactState::Waiting), "{view:?}");
    assert!(acked(&ana.request(accept(&room, &callback.id)).await));
    let again = ana.request(accept(&room, &callback.id)).await;
    assert!(acked(&again), "the winner's retry is answered, not refused: {again:?}");
    assert!(acked(&ana.request(set_status(&room, StaffStatus::Away)).await));
    let (_, body) = http(&server, Method::GET, "/api/booths/ilo/analytics", &organiser, None).await;
    let figures: serde_json::Value = serde_json::from_str(&body).unwrap();
    eventually("the acceptance in the record", || {
        let (server, organiser) = (&server, organiser.clone());
        async move {
            let (_, body) = http(server, Method::GET, "/api/booths/ilo/analytics", &organiser, None).await;
            let figures: serde_json::Value = serde_json::from_str(&body).unwrap();
            figures["requests_answered"] == 1
        }
    })
    .await;
    assert_eq!(figures["unique_visitors"], 1, "ada visited; ana is staff: {figures}");
    drop(ana);
    server.shutdown().await;

    // A third start, with no bus history at all: the call still admits its two members, and
    // the booth still knows its staff member as the record has her.
    let server = start(url).await;
    let call = RoomId::call(callback.id.as_str()).unwrap();
    let mut ada = visitor(&ws(&server), "ada").await;
    let ServerMsg::Snapshot { call: Some(info), .. } = ada.join(&call).await else { panic!("call snapshot") };
    assert_eq!(info.members.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["ada", "ana"]);
    let ServerMsg::Snapshot { booth: Some(view), .. } = ada.join(&room).await else { panic!("booth snapshot") };
    let ana_view = view.staff.iter().find(|s| s.user.as_str() == "ana").expect("ana from the record");
    assert_eq!((ana_view.name.as_str(), ana_view.status), ("User ana", StaffStatus::Away));
    let mut lin = visitor(&ws(&server), "lin").await;
    let outsider = lin.request(|rid| ClientMsg::Join { rid, room: call.clone(), since: None }).await;
    assert!(refused(&outsider, ErrorCode::Forbidden), "{outsider:?}");
    server.shutdown().await;
    db.drop_database().await;
}

/// One node alone: the hall counts each booth's visitors (not its staff) and staff on duty,
/// and follows visitors moving between booths.
#[tokio::test]
async fn the_hall_follows_visitors_between_booths() {
    let server = TestServer::spawn_with(|s| s.attendance_interval_ms = 100).await;
    let mut hall = visitor(&ws(&server), "hall").await;
    hall.join(&RoomId::expo()).await;
    let mut ana = staff_client(&ws(&server), "ana", &["a"]).await;
    ana.join(&booth("a")).await;
    let mut ada = visitor(&ws(&server), "ada").await;
    ada.join(&booth("a")).await;
    let mut lin = visitor(&ws(&server), "lin").await;
    lin.join(&booth("b")).await;
    let counts = |a: (u32, u32), b: (u32, u32)| {
        vec![
            BoothCounts { booth: "a".into(), visitors: a.0, staff_on_duty: a.1 },
            BoothCounts { booth: "b".into(), visitors: b.0, staff_on_duty: b.1 },
        ]
    };
    let wanted = counts((1, 1), (1, 0));
    hall.recv_until(
        "a: 1 visitor, 1 on duty; b: 1 visitor",
        |m| matches!(m, ServerMsg::BoothSummary { booths } if *booths == wanted),
    )
    .await;
    assert!(acked(&ada.request(|rid| ClientMsg::Leave { rid, room: booth("a") }).await));
    ada.join(&booth("b")).await;
    assert!(acked(&ana.request(set_status(&booth("a"), StaffStatus::Busy)).await));
    let wanted = counts((0, 0), (2, 0));
    hall.recv_until(
        "ada moved to b, ana busy",
        |m| matches!(m, ServerMsg::BoothSummary { booths } if *booths == wanted),
    )
    .await;
    server.shutdown().await;
}

/// Two nodes on one PostgreSQL: a booth added and a staff grant made through one node reach
/// the other by its periodic reload (500 ms here), and the revocation does too.
#[tokio::test]
async fn booths_and_grants_made_on_one_node_reach_the_other() {
    use reqwest::Method;
    use serde_json::json;

    use crate::databases::{Kind, TestDatabase};

    let db = TestDatabase::create(Kind::Postgres).await;
    let (url_a, url_b) = (db.url.clone(), db.url.clone());
    let reload = |s: &mut plenary_server::config::Settings| s.programme_reload_ms = 500;
    let node_a = TestServer::spawn_with(move |s| {
        s.database_url = Some(url_a);
        reload(s);
    })
    .await;
    let node_b = TestServer::spawn_with(move |s| {
        s.database_url = Some(url_b);
        reload(s);
    })
    .await;
    let organiser = token("org", &[Organiser]);
    let (status, body) = http(
        &node_a,
        Method::PUT,
        "/api/booths/unesco",
        &organiser,
        Some(json!({"id": "unesco", "organisation": "UNESCO"})),
    )
    .await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    let grant = json!({"user": "kim", "role": "exhibitor", "scope": "unesco"});
    let (status, body) = http(&node_a, Method::POST, "/api/grants", &organiser, Some(grant.clone())).await;
    assert!(status.is_success(), "{body}");

    // On node b: the booth exists and kim is its staff, once b has reloaded.
    let staff_on_b = |expected: bool| {
        let url = ws(&node_b);
        async move {
            let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(25);
            loop {
                let mut kim = visitor(&url, "kim").await;
                let rid = kim.rid();
                kim.send(&ClientMsg::Join { rid, room: booth("unesco"), since: None }).await;
                // The reload that changes kim's rights also closes kim's connections (4005):
                // a close instead of an answer means "ask again".
                let answer = answer_unless_closed(&mut kim, rid).await;
                if matches!(&answer, Some(ServerMsg::Snapshot { you, .. }) if you.booth_staff == expected) {
                    return;
                }
                assert!(tokio::time::Instant::now() < deadline, "node b still answers {answer:?}");
                let _ = kim.ws.close(None).await;
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
        }
    };
    staff_on_b(true).await;
    let (status, _) = http(&node_a, Method::DELETE, "/api/grants", &organiser, Some(grant)).await;
    assert!(status.is_success());
    staff_on_b(false).await;
    node_a.shutdown().await;
    node_b.shutdown().await;
    db.drop_database().await;
}

/// The answer to `rid`, or `None` when the node closes the connection first.
async fn answer_unless_closed(client: &mut TestClient, rid: RequestId) -> Option<ServerMsg> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        match tokio::time::timeout(WAIT, client.ws.next()).await.expect("an answer in time") {
            Some(Ok(Message::Text(text))) => {
                let msg: ServerMsg = serde_json::from_str(text.as_str()).unwrap();
                if answer_rid(&msg) == Some(rid) {
                    return Some(msg);
                }
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            _ => return None,
        }
    }
}
