//! Revoking a grant reaches live connections: the user's connections close with 4005
//! `rights_changed` on the node that took the change at once and on another node within its
//! programme reload, and the reconnected user no longer has the role.

use std::time::Duration;

use futures_util::StreamExt;
use plenary_proto::Role::{Attendee, Organiser};
use plenary_proto::{ClientMsg, RoomId, ServerMsg};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::databases::{Kind, TestDatabase};
use crate::redis_support::TestRedis;
use crate::support::*;

/// Longer than a node's programme reload (10 s).
const RELOAD_WAIT: Duration = Duration::from_secs(25);

async fn node(redis: &TestRedis, database: &str) -> TestServer {
    let (url, prefix, database) = (redis.url.clone(), redis.prefix.clone(), database.to_owned());
    TestServer::spawn_with(move |s| {
        s.redis_url = Some(url);
        s.redis_prefix = prefix;
        s.database_url = Some(database);
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
