//! Rights that change reach live connections: a revoked grant closes the user's connections
//! with 4005 `rights_changed`, a ban from the event with 4504 `removed` and from a room with
//! 4005, a revoked token with 4502; at once on the node that took the change and within its
//! programme reload on another; and the reconnect is let in only as far as the rules now
//! allow.

use std::time::Duration;

use futures_util::StreamExt;
use plenary_proto::Role::{Attendee, Organiser};
use plenary_proto::{ClientMsg, RoomId, ServerMsg};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::databases::{Kind, TestDatabase};
use crate::redis_support::TestRedis;
use crate::support::*;

/// Bounds the wait for the other node's programme reload (500 ms here).
const RELOAD_WAIT: Duration = Duration::from_secs(15);

async fn node(redis: &TestRedis, database: &str) -> TestServer {
    let (url, prefix, database) = (redis.url.clone(), redis.prefix.clone(), database.to_owned());
    TestServer::spawn_with(move |s| {
        s.redis_url = Some(url);
        s.redis_prefix = prefix;
        s.database_url = Some(database);
        s.programme_reload_ms = 500;
    })
    .await
}

/// The close code the server sends within `within`, reading and discarding frames.
async fn closed_within(client: &mut TestClient, within: Duration) -> u16 {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, client.ws.next()).await {
            Err(_) => panic!("the connection was still open after {within:?}"),
            Ok(Some(Ok(Message::Close(frame)))) => return frame.map_or(1005, |f| u16::from(f.code)),
            Ok(Some(Ok(_))) => {}
            Ok(other) => panic!("the connection ended without a close frame: {other:?}"),
        }
    }
}

async fn grants(server: &TestServer, method: reqwest::Method, body: serde_json::Value) -> reqwest::StatusCode {
    reqwest::Client::new()
        .request(method, server.http_url("/api/grants"))
        .bearer_auth(token("revoking-organiser", &[Organiser]))
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
}

fn mute(room: &RoomId, user: &str) -> impl FnOnce(plenary_proto::RequestId) -> ClientMsg {
    let (room, user) = (room.clone(), plenary_proto::UserId::parse(user).unwrap());
    move |rid| ClientMsg::Mute { rid, room, user, minutes: Some(5) }
}

#[tokio::test]
async fn a_revoked_moderator_loses_the_role_on_every_node() {
    let redis = TestRedis::new();
    let db = TestDatabase::create(Kind::Postgres).await;
    let node_a = node(&redis, &db.url).await;
    let node_b = node(&redis, &db.url).await;
    let session = json!({
        "id": "revoked", "title": "Revoked", "kind": "workshop",
        "starts_at": "2025-07-07T08:00:00Z", "ends_at": "2025-07-07T09:00:00Z"
    });
    let status = reqwest::Client::new()
        .put(node_a.http_url("/api/sessions/revoked"))
        .bearer_auth(token("revoking-organiser", &[Organiser]))
        .json(&session)
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success());
    let grant = json!({"user": "kim", "role": "moderator", "scope": "revoked"});
    assert_eq!(grants(&node_a, reqwest::Method::POST, grant.clone()).await, 201);

    // Kim moderates on both nodes (node B learns of the session and the grant at its reload).
    let room = RoomId::session("revoked").unwrap();
    let mut kim_a = node_a.client("kim", &[Attendee]).await;
    let ServerMsg::Snapshot { you, .. } = kim_a.join(&room).await else { unreachable!() };
    assert!(you.can_moderate);
    let mut kim_b = None;
    let deadline = tokio::time::Instant::now() + RELOAD_WAIT;
    while kim_b.is_none() {
        assert!(tokio::time::Instant::now() < deadline, "node B never made kim a moderator");
        let mut client = node_b.client("kim", &[Attendee]).await;
        let target = room.clone();
        if let ServerMsg::Snapshot { you, .. } =
            client.request(|rid| ClientMsg::Join { rid, room: target, since: None }).await
            && you.can_moderate
        {
            kim_b = Some(client);
        } else {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    let mut kim_b = kim_b.unwrap();
    assert!(matches!(kim_b.request(mute(&room, "troll")).await, ServerMsg::Ack { .. }));

    // Revoked on node A: kim's connection there closes at once, the one on B within the reload.
    assert_eq!(grants(&node_a, reqwest::Method::DELETE, grant).await, 204);
    assert_eq!(closed_within(&mut kim_a, WAIT).await, 4005);
    assert_eq!(closed_within(&mut kim_b, RELOAD_WAIT).await, 4005);

    // Reconnected, kim is an attendee: no more muting.
    let mut kim = node_b.client("kim", &[Attendee]).await;
    let ServerMsg::Snapshot { you, .. } = kim.join(&room).await else { unreachable!() };
    assert!(!you.can_moderate);
    assert_eq!(error_code(&kim.request(mute(&room, "troll")).await), 403);
    node_a.shutdown().await;
    node_b.shutdown().await;
    db.drop_database().await;
}

async fn post_json(
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    caller: &str,
    body: serde_json::Value,
) -> reqwest::Response {
    reqwest::Client::new().request(method, server.http_url(path)).bearer_auth(caller).json(&body).send().await.unwrap()
}

/// Says hello with `token` and returns how the node answered: 0 for `welcome`, else the close code.
async fn hello_outcome(server: &TestServer, token: &str) -> u16 {
    let mut client = TestClient::connect(server).await;
    client.send(&ClientMsg::Hello { protocol: vec![1], token: token.to_owned() }).await;
    match tokio::time::timeout(WAIT, client.ws.next()).await.expect("an answer to hello") {
        Some(Ok(Message::Text(text))) => {
            let welcome: ServerMsg = serde_json::from_str(text.as_str()).unwrap();
            assert!(matches!(welcome, ServerMsg::Welcome { .. }), "{welcome:?}");
            0
        }
        Some(Ok(Message::Close(frame))) => frame.map_or(1005, |f| u16::from(f.code)),
        other => panic!("hello answered with {other:?}"),
    }
}

#[tokio::test]
async fn an_organiser_removes_someone_from_the_event_on_every_node_until_lifted() {
    let redis = TestRedis::new();
    let db = TestDatabase::create(Kind::Postgres).await;
    let node_a = node(&redis, &db.url).await;
    let node_b = node(&redis, &db.url).await;
    let organiser = token("removing-organiser", &[Organiser]);
    let mut troll_a = node_a.client("troll", &[Attendee]).await;
    let mut troll_b = node_b.client("troll", &[Attendee]).await;
    troll_b.join(&RoomId::event()).await;

    let ban = json!({"user": "troll", "minutes": 60, "reason": "spam"});
    let response = post_json(&node_a, reqwest::Method::POST, "/api/bans", &organiser, ban).await;
    assert_eq!(response.status(), 201);
    let ban: serde_json::Value = response.json().await.unwrap();
    assert_eq!(ban["reason"], "spam");
    assert!(ban["until"].as_i64().is_some());
    assert_eq!(closed_within(&mut troll_a, WAIT).await, 4504, "at once on the node that took the ban");
    assert_eq!(closed_within(&mut troll_b, RELOAD_WAIT).await, 4504, "within the reload on the other");
    assert_eq!(hello_outcome(&node_b, &token("troll", &[Attendee])).await, 4504, "and cannot come back");
    assert_eq!(hello_outcome(&node_b, &token("someone-else", &[Attendee])).await, 0);
    let listed: serde_json::Value = reqwest::Client::new()
        .get(node_a.http_url("/api/bans"))
        .bearer_auth(&organiser)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);

    let lift = json!({"user": "troll"});
    assert_eq!(post_json(&node_a, reqwest::Method::DELETE, "/api/bans", &organiser, lift.clone()).await.status(), 204);
    assert_eq!(hello_outcome(&node_a, &token("troll", &[Attendee])).await, 0, "lifted");
    assert_eq!(post_json(&node_a, reqwest::Method::DELETE, "/api/bans", &organiser, lift).await.status(), 404);
    node_a.shutdown().await;
    node_b.shutdown().await;
    db.drop_database().await;
}

#[tokio::test]
async fn a_moderator_removes_someone_from_a_session_it_moderates_and_no_other() {
    let db = TestDatabase::create(Kind::Sqlite).await;
    let url = db.url.clone();
    let server = TestServer::spawn_with(move |s| s.database_url = Some(url)).await;
    let organiser = token("removing-organiser", &[Organiser]);
    for id in ["panel", "other"] {
        let session = json!({
            "id": id, "title": id, "kind": "workshop",
            "starts_at": "2025-07-07T08:00:00Z", "ends_at": "2025-07-07T09:00:00Z"
        });
        let path = format!("/api/sessions/{id}");
        assert!(post_json(&server, reqwest::Method::PUT, &path, &organiser, session).await.status().is_success());
    }
    let mut claims = claims("panel-mod", &[plenary_proto::Role::Moderator], 3600);
    claims.scopes = vec!["moderate:session:panel".to_owned()];
    let moderator = sign(&claims, SECRET);
    let (panel, other) = (RoomId::session("panel").unwrap(), RoomId::session("other").unwrap());
    let mut loud = server.client("loud", &[Attendee]).await;
    loud.join(&panel).await;

    let not_mine = json!({"user": "loud", "room": "session:other"});
    assert_eq!(post_json(&server, reqwest::Method::POST, "/api/bans", &moderator, not_mine).await.status(), 403);
    let whole_event = json!({"user": "loud"});
    assert_eq!(post_json(&server, reqwest::Method::POST, "/api/bans", &moderator, whole_event).await.status(), 403);
    let bad = json!({"user": "loud", "room": "nowhere"});
    assert_eq!(post_json(&server, reqwest::Method::POST, "/api/bans", &moderator, bad).await.status(), 422);
    let ban = json!({"user": "loud", "room": "session:panel", "reason": "off topic"});
    assert_eq!(post_json(&server, reqwest::Method::POST, "/api/bans", &moderator, ban).await.status(), 201);
    assert_eq!(closed_within(&mut loud, WAIT).await, 4005);

    // Back in the event, but not in the panel.
    let mut loud = server.client("loud", &[Attendee]).await;
    let target = panel.clone();
    let refused = loud.request(|rid| ClientMsg::Join { rid, room: target, since: None }).await;
    assert_eq!(error_code(&refused), 403);
    let ServerMsg::Error { message, .. } = refused else { unreachable!() };
    assert!(message.contains("off topic"), "{message}");
    loud.join(&other).await;
    server.shutdown().await;
    db.drop_database().await;
}

#[tokio::test]
async fn a_revoked_token_closes_its_connections_and_opens_no_more() {
    let db = TestDatabase::create(Kind::Sqlite).await;
    let url = db.url.clone();
    let server = TestServer::spawn_with(move |s| s.database_url = Some(url)).await;
    let minter = server.state.minter.as_ref().expect("the test node signs tokens");
    let request = |name: &str| plenary_server::auth::TokenRequest {
        sub: "leaky".into(),
        name: name.into(),
        roles: vec![Attendee],
        country: None,
        scopes: vec![],
        ttl: Duration::from_secs(3600),
    };
    let (leaked, expires_at) = minter.mint(&request("Leaky")).unwrap();
    let (fresh, _) = minter.mint(&request("Leaky again")).unwrap();
    let jti = plenary_server::auth::token_id(&leaked).expect("minted tokens have an id");
    let mut with_leaked = TestClient::connect(&server).await;
    with_leaked.hello(&leaked).await;
    let mut with_fresh = TestClient::connect(&server).await;
    with_fresh.hello(&fresh).await;

    let attendee = token("not-an-organiser", &[Attendee]);
    let body = json!({"jti": jti, "expires_at": expires_at});
    assert_eq!(
        post_json(&server, reqwest::Method::POST, "/api/tokens/revoke", &attendee, body.clone()).await.status(),
        403
    );
    let organiser = token("revoking-organiser", &[Organiser]);
    assert_eq!(post_json(&server, reqwest::Method::POST, "/api/tokens/revoke", &organiser, body).await.status(), 204);
    assert_eq!(closed_within(&mut with_leaked, WAIT).await, 4502);
    assert_eq!(hello_outcome(&server, &leaked).await, 4502);
    let status = reqwest::Client::new().get(server.http_url("/api/bans")).bearer_auth(&leaked).send().await.unwrap();
    assert_eq!(status.status(), 401, "the REST API refuses it too");
    // The user's other token still works.
    with_fresh.join(&RoomId::event()).await;
    server.shutdown().await;
    db.drop_database().await;
}
