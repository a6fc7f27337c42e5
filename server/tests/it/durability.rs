//! Acknowledged means recorded: a node killed with SIGKILL right after its clients got
//! their acks has every acknowledged chat message, question, vote, stage change and booth
//! request in the record: alone on SQLite, and as one of two nodes on Redis and PostgreSQL.

use std::collections::HashMap;

use plenary_proto::Role::{Attendee, Moderator, Organiser};
use plenary_proto::{ClientMsg, QaAction, RequestId, RoomId, ServerMsg, StageState};
use serde_json::json;
use sqlx::{Connection as _, Row as _};

use crate::databases::{Kind, TestDatabase};
use crate::redis::{ChildGuard, process_node};
use crate::redis_support::TestRedis;
use crate::support::*;

const SESSION: &str = "durable";
const BOOTH: &str = "durable-booth";
/// Chat messages in the burst before the kill.
const BURST: usize = 40;

/// Generous rates, so the burst is limited by nothing but the node; a quick programme reload.
const RATES: [(&str, &str); 4] = [
    ("PLENARY_CHAT_BURST", "200"),
    ("PLENARY_CHAT_PER_MINUTE", "6000"),
    ("PLENARY_COMMAND_BURST", "200"),
    // The second node learns of the session the first one made at its next reload.
    ("PLENARY_PROGRAMME_RELOAD_MS", "500"),
];

async fn seed(url: &str) {
    let http = reqwest::Client::new();
    let organiser = token("durable-organiser", &[Organiser]);
    let session = json!({
        "id": SESSION, "title": "Durable", "kind": "workshop",
        "starts_at": "2025-07-07T08:00:00Z", "ends_at": "2025-07-07T09:00:00Z"
    });
    let booth = json!({"id": BOOTH, "organisation": "Durable Org", "staff": ["durable-staff"]});
    for (path, body) in [(format!("/api/sessions/{SESSION}"), session), (format!("/api/booths/{BOOTH}"), booth)] {
        let response = http.put(format!("{url}{path}")).bearer_auth(&organiser).json(&body).send().await.unwrap();
        assert!(response.status().is_success(), "{path}: {}", response.text().await.unwrap());
    }
}

async fn client(url: &str, sub: &str, role: plenary_proto::Role) -> TestClient {
    let mut client = TestClient::connect_url(&format!("{}/ws", url.replace("http://", "ws://"))).await;
    client.hello(&token(sub, &[role])).await;
    client
}

/// What the clients were told was accepted.
#[derive(Default)]
struct Acked {
    chat: Vec<String>,
    question: Option<String>,
    stage_live: bool,
    vote: bool,
    booth_request: bool,
}

/// Sends a burst of writes from a node's clients without waiting, reads every answer, and
/// kills the node the moment the last one arrives.
async fn burst_then_kill(url: &str, node: ChildGuard) -> Acked {
    let (room, booth) = (RoomId::session(SESSION).unwrap(), RoomId::booth(BOOTH).unwrap());
    let mut moderator = client(url, "durable-mod", Moderator).await;
    moderator.join(&room).await;
    let mut attendee = client(url, "durable-attendee", Attendee).await;
    attendee.join(&room).await;
    attendee.join(&booth).await;
    // A question to vote on, asked and acknowledged before the burst.
    let target = room.clone();
    let asked = moderator
        .request(|rid| ClientMsg::QaAsk { rid, room: target, text: "First question".into(), anonymous: false })
        .await;
    assert!(matches!(asked, ServerMsg::Ack { .. }), "{asked:?}");
    let target = room.clone();
    let ServerMsg::QuestionsPage { questions, .. } =
        moderator.request(|rid| ClientMsg::QaPage { rid, room: target, before: None }).await
    else {
        panic!("no questions page")
    };
    let first = questions[0].id.clone();
    let (target, id) = (room.clone(), first.clone());
    let approved = moderator
        .request(|rid| ClientMsg::QaModerate {
            rid,
            room: target,
            id,
            version: questions[0].version,
            action: QaAction::Approve,
            text: None,
            reason: None,
            into: None,
            into_version: None,
            rank: None,
        })
        .await;
    assert!(matches!(approved, ServerMsg::Ack { .. }), "{approved:?}");

    let mut moderator_writes: HashMap<RequestId, &str> = HashMap::new();
    let mut texts = HashMap::new();
    for n in 0..BURST {
        let rid = moderator.rid();
        let text = format!("durable message {n}");
        moderator.send(&ClientMsg::ChatSend { rid, room: room.clone(), text: text.clone() }).await;
        moderator_writes.insert(rid, "chat");
        texts.insert(rid, text);
    }
    let rid = moderator.rid();
    let stage =
        ClientMsg::StageUpdate { rid, room: room.clone(), state: Some(StageState::Live), title: None, speaker: None };
    moderator.send(&stage).await;
    moderator_writes.insert(rid, "stage");
    let rid = moderator.rid();
    let question = "Second question, asked in the burst".to_owned();
    moderator.send(&ClientMsg::QaAsk { rid, room: room.clone(), text: question.clone(), anonymous: false }).await;
    moderator_writes.insert(rid, "question");
    let vote_rid = attendee.rid();
    attendee.send(&ClientMsg::QaVote { rid: vote_rid, room: room.clone(), id: first, up: true }).await;
    let request_rid = attendee.rid();
    attendee.send(&ClientMsg::BoothRequest { rid: request_rid, room: booth, message: Some("Call me".into()) }).await;

    let mut acked = Acked::default();
    // Answers from two rooms: either may come first.
    let mut attendee_answers = HashMap::new();
    while attendee_answers.len() < 2 {
        let msg = attendee.recv().await;
        if let Some(rid) = answer_rid(&msg).filter(|rid| [vote_rid, request_rid].contains(rid)) {
            attendee_answers.insert(rid, matches!(msg, ServerMsg::Ack { .. }));
        }
    }
    acked.vote = attendee_answers[&vote_rid];
    acked.booth_request = attendee_answers[&request_rid];
    while !moderator_writes.is_empty() {
        let msg = moderator.recv().await;
        let Some(rid) = answer_rid(&msg) else { continue };
        let Some(what) = moderator_writes.remove(&rid) else { continue };
        if !matches!(msg, ServerMsg::Ack { .. }) {
            continue;
        }
        match what {
            "chat" => acked.chat.push(texts.remove(&rid).unwrap()),
            "stage" => acked.stage_live = true,
            _ => acked.question = Some(question.clone()),
        }
    }
    node.kill();
    assert!(acked.chat.len() >= BURST / 2, "most of the burst was accepted: {}", acked.chat.len());
    acked
}

/// Reads the record straight from the database and checks every acknowledged write is in it.
async fn assert_recorded(database_url: &str, acked: &Acked) {
    let mut db = sqlx::AnyConnection::connect(database_url).await.unwrap();
    let strings = async |db: &mut sqlx::AnyConnection, sql: &'static str, room: &str| -> Vec<String> {
        sqlx::query(sql).bind(room.to_owned()).fetch_all(db).await.unwrap().iter().map(|r| r.get(0)).collect()
    };
    let session_room = format!("session:{SESSION}");
    let chat = strings(&mut db, "SELECT body FROM chat_messages WHERE room = $1", &session_room).await;
    let missing: Vec<&String> = acked.chat.iter().filter(|t| !chat.contains(t)).collect();
    assert!(missing.is_empty(), "{} of {} acknowledged messages missing: {missing:?}", missing.len(), acked.chat.len());
    let stages = strings(&mut db, "SELECT state FROM stage_changes WHERE room = $1", &session_room).await;
    assert!(!acked.stage_live || stages.iter().any(|s| s == "live"), "the stage change: {stages:?}");
    let questions = strings(&mut db, "SELECT body FROM questions WHERE room = $1", &session_room).await;
    if let Some(question) = &acked.question {
        assert!(questions.iter().any(|q| q.contains(question.as_str())), "the question: {questions:?}");
    }
    let voters = strings(&mut db, "SELECT voter FROM question_votes WHERE room = $1", &session_room).await;
    assert!(!acked.vote || voters.iter().any(|v| v == "durable-attendee"), "the vote: {voters:?}");
    let visitors =
        strings(&mut db, "SELECT visitor FROM contact_requests WHERE room = $1", &format!("booth:{BOOTH}")).await;
    assert!(!acked.booth_request || visitors.iter().any(|v| v == "durable-attendee"), "the request: {visitors:?}");
    db.close().await.unwrap();
}

#[tokio::test]
async fn a_node_alone_on_sqlite_killed_after_its_acks_has_recorded_them() {
    sqlx::any::install_default_drivers();
    let db = TestDatabase::create(Kind::Sqlite).await;
    let mut env = vec![("DATABASE_URL", db.url.as_str())];
    env.extend_from_slice(&RATES);
    let (url, node) = process_node(&env).await;
    seed(&url).await;
    let acked = burst_then_kill(&url, node).await;
    assert_recorded(&db.url, &acked).await;
    db.drop_database().await;
}

#[tokio::test]
async fn one_of_two_nodes_on_redis_and_postgres_killed_after_its_acks_has_recorded_them() {
    sqlx::any::install_default_drivers();
    let redis = TestRedis::new();
    let db = TestDatabase::create(Kind::Postgres).await;
    let mut env = vec![
        ("DATABASE_URL", db.url.as_str()),
        ("REDIS_URL", redis.url.as_str()),
        ("PLENARY_REDIS_PREFIX", redis.prefix.as_str()),
    ];
    env.extend_from_slice(&RATES);
    let (url_a, node_a) = process_node(&env).await;
    let (url_b, node_b) = process_node(&env).await;
    seed(&url_a).await;
    let acked = burst_then_kill(&url_a, node_a).await;
    // The surviving node serves the same record; what it reads is what the database holds.
    // (It learns of the new session at its next programme reload.)
    let mut late = client(&url_b, "durable-late", Attendee).await;
    let room = RoomId::session(SESSION).unwrap();
    for _ in 0..30 {
        let target = room.clone();
        if let ServerMsg::Snapshot { .. } = late.request(|rid| ClientMsg::Join { rid, room: target, since: None }).await
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    assert_recorded(&db.url, &acked).await;
    node_b.kill();
    db.drop_database().await;
}
