//! The store, on SQLite and on PostgreSQL alike (every test runs on both), and a node that
//! keeps chat, the stage and mutes across a restart.

use plenary_proto::Role::{Attendee, Moderator, Organiser};
use plenary_proto::{ChatMessage, ClientMsg, MessageId, RoomId, ServerMsg, Stage, StageState, UserId, UserProfile};
use plenary_server::programme::model::{Programme, Session, SessionKind, Speaker, StageSource};
use plenary_server::store::{ProgrammeStore, Record, SqlStore, Store};
use sqlx::Row;

use crate::databases::{Kind, TestDatabase};
use crate::support::*;

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(#[tokio::test] async fn $name() { super::$name(super::Kind::Sqlite).await })*
        }
        mod on_postgres {
            $(#[tokio::test] async fn $name() { super::$name(super::Kind::Postgres).await })*
        }
    };
}

on_both!(
    chat_is_kept_paged_and_tombstoned,
    stage_and_mutes_are_kept,
    visits_are_kept,
    migrations_run_once,
    the_programme_is_kept_and_reimports_update,
    chat_stage_and_mutes_survive_a_restart,
    questions_and_votes_survive_a_restart,
);

fn room() -> RoomId {
    RoomId::session("recorded").unwrap()
}

fn user(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

fn message(n: u32) -> ChatMessage {
    ChatMessage {
        id: MessageId::parse(format!("m{n:04}")).unwrap(),
        author: UserProfile { id: user("ada"), name: "Ada".into(), country: Some("CH".into()) },
        text: format!("message {n}"),
        at: 1_000 + i64::from(n),
    }
}

async fn chat_is_kept_paged_and_tombstoned(kind: Kind) {
    let db = TestDatabase::create(kind).await;
    let store = SqlStore::open(&db.url).await.unwrap();
    let mut batch: Vec<Record> = (0..6).map(|n| Record::Chat { room: room(), message: message(n) }).collect();
    batch.push(Record::ChatDeleted { room: room(), id: message(4).id, by: user("mo"), at: 2_000 });
    // A message recorded twice (after a retried batch) is kept once.
    batch.push(Record::Chat { room: room(), message: message(5) });
    store.write(&batch).await.unwrap();

    let (newest, more) = store.chat_page(&room(), None, 3).await.unwrap();
    assert_eq!(newest.iter().map(|m| m.at).collect::<Vec<_>>(), vec![1_002, 1_003, 1_005], "deleted 4 left out");
    assert!(more);
    assert_eq!(newest[0], message(2), "every field round-trips");
    let (older, more) = store.chat_page(&room(), Some(&newest[0].id), 10).await.unwrap();
    assert_eq!(older.iter().map(|m| m.at).collect::<Vec<_>>(), vec![1_000, 1_001]);
    assert!(!more);
    let other = RoomId::session("other").unwrap();
    assert!(store.chat_page(&other, None, 10).await.unwrap().0.is_empty());

    let stored = store.room(&room(), 2, 0).await.unwrap();
    assert_eq!(stored.chat.len(), 2);
    assert!(stored.chat_more);
    store.close().await;
    db.drop_database().await;
}

fn stage(state: StageState, at: i64) -> Stage {
    Stage {
        state,
        title: "Opening".into(),
        speaker: Some("Doreen".into()),
        started_at: Some(100),
        ended_at: None,
        updated_at: at,
    }
}

async fn stage_and_mutes_are_kept(kind: Kind) {
    let db = TestDatabase::create(kind).await;
    let store = SqlStore::open(&db.url).await.unwrap();
    store
        .write(&[
            Record::Stage { room: room(), stage: stage(StageState::Live, 100), by: user("mo") },
            Record::Stage { room: room(), stage: stage(StageState::Break, 200), by: user("mo") },
            Record::Muted { room: room(), user: user("a"), until: None, by: user("mo"), at: 300 },
            Record::Muted { room: room(), user: user("b"), until: Some(400), by: user("mo"), at: 300 },
            Record::Muted { room: room(), user: user("c"), until: Some(9_000), by: user("mo"), at: 300 },
            Record::Unmuted { room: room(), user: user("a"), by: user("mo"), at: 350 },
        ])
        .await
        .unwrap();
    let stored = store.room(&room(), 10, 500).await.unwrap();
    assert_eq!(stored.stage, Some(stage(StageState::Break, 200)), "the latest change wins");
    assert_eq!(stored.mutes, vec![(user("c"), Some(9_000))], "lifted and lapsed mutes are not in force");
    assert!(stored.chat.is_empty() && !stored.chat_more);
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    let changes: i64 = sqlx::query("SELECT COUNT(*) AS n FROM stage_changes").fetch_one(&pool).await.unwrap().get("n");
    assert_eq!(changes, 2, "every stage change is in the audit trail");
    let decisions: i64 =
        sqlx::query("SELECT COUNT(*) AS n FROM moderation_log").fetch_one(&pool).await.unwrap().get("n");
    assert_eq!(decisions, 4);
    pool.close().await;
    store.close().await;
    db.drop_database().await;
}

async fn visits_are_kept(kind: Kind) {
    let db = TestDatabase::create(kind).await;
    let store = SqlStore::open(&db.url).await.unwrap();
    let ada = UserProfile { id: user("ada"), name: "Ada".into(), country: Some("CH".into()) };
    store
        .write(&[
            Record::Joined { visit: MessageId::parse("v1").unwrap(), room: room(), user: ada.clone(), at: 1_000 },
            Record::Joined { visit: MessageId::parse("v2").unwrap(), room: room(), user: ada, at: 1_500 },
            Record::Left { visit: MessageId::parse("v1").unwrap(), at: 61_000 },
        ])
        .await
        .unwrap();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    let row = sqlx::query(
        "SELECT COUNT(*) AS visits, COUNT(left_at) AS ended, MAX(left_at - joined_at) AS longest FROM attendance",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(row.get::<i64, _>("visits"), 2);
    assert_eq!(row.get::<i64, _>("ended"), 1);
    assert_eq!(row.get::<i64, _>("longest"), 60_000);
    let name: String =
        sqlx::query("SELECT name FROM users WHERE id = 'ada'").fetch_one(&pool).await.unwrap().get("name");
    assert_eq!(name, "Ada");
    pool.close().await;
    store.close().await;
    db.drop_database().await;
}

async fn migrations_run_once(kind: Kind) {
    let db = TestDatabase::create(kind).await;
    let first = SqlStore::open(&db.url).await.unwrap();
    first.write(&[Record::Chat { room: room(), message: message(1) }]).await.unwrap();
    first.close().await;
    let second = SqlStore::open(&db.url).await.unwrap();
    assert_eq!(second.chat_page(&room(), None, 10).await.unwrap().0, vec![message(1)], "reopening keeps the data");
    second.close().await;
    db.drop_database().await;
}

async fn chat_stage_and_mutes_survive_a_restart(kind: Kind) {
    let db = TestDatabase::create(kind).await;
    let configure = |s: &mut plenary_server::config::Settings| {
        s.database_url = Some(db.url.clone());
        s.chat_buffer = 10;
        s.chat_burst = 100;
        s.command_burst = 100;
    };
    let room = session("survivor");
    // The room belongs to a session of the programme.
    let store = SqlStore::open(&db.url).await.unwrap();
    let programme = Programme {
        sessions: vec![Session {
            id: "survivor".into(),
            external_id: None,
            title: "Survivor".into(),
            description: String::new(),
            kind: SessionKind::Workshop,
            starts_at: "2025-07-07T08:00:00Z".into(),
            ends_at: "2025-07-07T09:00:00Z".into(),
            track: None,
            languages: vec![],
            tags: vec![],
            speakers: vec![],
            stage: StageSource::None,
            qa: Default::default(),
        }],
        ..Programme::default()
    };
    ProgrammeStore::apply(&store, &programme).await.unwrap();
    store.close().await;
    let server = TestServer::spawn_with(configure).await;
    let mut mo = server.client("mo", &[Moderator]).await;
    mo.join(&room).await;
    for n in 0..30 {
        mo.request(chat(&room, &format!("message {n}"))).await;
    }
    mo.request(set_stage(&room, StageState::Live)).await;
    let (r, bob) = (room.clone(), UserId::parse("bob").unwrap());
    mo.request(|rid| ClientMsg::Mute { rid, room: r, user: bob, minutes: None }).await;
    drop(mo);
    server.shutdown().await;

    let server = TestServer::spawn_with(configure).await;
    let mut bob = server.client("bob", &[Attendee]).await;
    let ServerMsg::Snapshot { stage, chat, chat_more, you, .. } = bob.join(&room).await else { unreachable!() };
    assert_eq!(stage.unwrap().state, StageState::Live);
    assert_eq!(chat.len(), 10, "the newest messages, as many as the room keeps in memory");
    assert_eq!(chat.last().unwrap().text, "message 29");
    assert!(chat_more, "older messages are in the record");
    assert!(!you.can_chat, "the mute survived");
    let answer = bob.request(crate::support::chat(&room, "hello?")).await;
    assert_eq!(error_code(&answer), 423);

    // Paging back past what memory holds reads the record.
    let (r, before) = (room.clone(), Some(chat[0].id.clone()));
    let page = bob.request(|rid| ClientMsg::ChatHistory { rid, room: r, before, limit: Some(50) }).await;
    let ServerMsg::ChatHistory { messages, more, .. } = page else { panic!("{page:?}") };
    assert_eq!(messages.len(), 20);
    assert_eq!(messages[0].text, "message 0");
    assert!(!more);
    drop(bob);
    server.shutdown().await;
    db.drop_database().await;
}

/// The questions a moderator's fresh snapshot of `room` holds.
async fn desk(server: &TestServer, room: &RoomId) -> Vec<plenary_proto::QuestionView> {
    let mut mo = server.client("desk", &[Moderator]).await;
    let ServerMsg::Snapshot { questions, .. } = mo.join(room).await else { panic!("snapshot") };
    questions
}

async fn questions_and_votes_survive_a_restart(kind: Kind) {
    use plenary_proto::{QaAction, QuestionState};
    let db = TestDatabase::create(kind).await;
    let configure = |s: &mut plenary_server::config::Settings| s.database_url = Some(db.url.clone());
    let room = session("asked");
    let store = SqlStore::open(&db.url).await.unwrap();
    let mut session_record = programme_session("asked", "ext-asked", "Asked");
    session_record.stage = StageSource::None;
    ProgrammeStore::apply(&store, &Programme { sessions: vec![session_record], ..Programme::default() }).await.unwrap();
    store.close().await;

    let server = TestServer::spawn_with(configure).await;
    let mut mo = server.client("mo", &[Moderator]).await;
    mo.join(&room).await;
    let mut voters = Vec::new();
    for name in ["ada", "bob", "cy"] {
        let mut client = server.client(name, &[Attendee]).await;
        client.join(&room).await;
        voters.push(client);
    }
    for (asker, text) in [(0, "Original question"), (1, "Duplicate question")] {
        let (r, text) = (room.clone(), text.to_owned());
        let reply = voters[asker].request(move |rid| ClientMsg::QaAsk { rid, room: r, text, anonymous: false }).await;
        assert!(matches!(reply, ServerMsg::Ack { .. }), "{reply:?}");
    }
    let moderate = |q: &plenary_proto::QuestionView, action, into: Option<&plenary_proto::QuestionView>| {
        let (r, id, version) = (room.clone(), q.id.clone(), q.version);
        let (into_id, into_version) = (into.map(|t| t.id.clone()), into.map(|t| t.version));
        move |rid| ClientMsg::QaModerate {
            rid,
            room: r,
            id,
            version,
            action,
            text: None,
            reason: None,
            into: into_id,
            into_version,
            rank: None,
        }
    };
    for q in desk(&server, &room).await {
        assert!(matches!(mo.request(moderate(&q, QaAction::Approve, None)).await, ServerMsg::Ack { .. }));
    }
    let questions = desk(&server, &room).await;
    let original = questions.iter().find(|q| q.text == "Original question").unwrap().clone();
    let duplicate = questions.iter().find(|q| q.text == "Duplicate question").unwrap().clone();
    // ada and bob vote for the original, bob and cy for the duplicate: merged, three voters.
    for (voter, target) in [(0, &original), (1, &original), (1, &duplicate), (2, &duplicate)] {
        let (r, id) = (room.clone(), target.id.clone());
        let reply = voters[voter].request(move |rid| ClientMsg::QaVote { rid, room: r, id, up: true }).await;
        assert!(matches!(reply, ServerMsg::Ack { .. }), "{reply:?}");
    }
    let reply = mo.request(moderate(&duplicate, QaAction::Merge, Some(&original))).await;
    assert!(matches!(reply, ServerMsg::Ack { .. }), "{reply:?}");
    let (r, id) = (room.clone(), original.id.clone());
    let reply = voters[2].request(move |rid| ClientMsg::QaVote { rid, room: r, id, up: false }).await;
    assert!(matches!(reply, ServerMsg::Ack { .. }), "{reply:?}");
    // A poll, opened and answered, survives too.
    let r = room.clone();
    let reply = mo
        .request(move |rid| ClientMsg::PollCreate {
            rid,
            room: r,
            question: "Which track next?".into(),
            options: vec!["Youth".into(), "Gender".into()],
            multiple: false,
            changeable: true,
            results: plenary_proto::PollResults::Live,
        })
        .await;
    assert!(matches!(reply, ServerMsg::Ack { .. }), "{reply:?}");
    let mut desk_client = server.client("desk2", &[Moderator]).await;
    let ServerMsg::Snapshot { polls, .. } = desk_client.join(&room).await else { panic!("snapshot") };
    let (r, id, version) = (room.clone(), polls[0].id.clone(), polls[0].version);
    let reply = mo
        .request(move |rid| ClientMsg::PollControl {
            rid,
            room: r,
            id,
            version,
            action: plenary_proto::PollAction::Open,
            results: None,
        })
        .await;
    assert!(matches!(reply, ServerMsg::Ack { .. }), "{reply:?}");
    let (r, id) = (room.clone(), polls[0].id.clone());
    let reply = voters[0].request(move |rid| ClientMsg::PollAnswer { rid, room: r, id, choices: vec![1] }).await;
    assert!(matches!(reply, ServerMsg::Ack { .. }), "{reply:?}");
    drop((mo, voters, desk_client));
    server.shutdown().await;

    let server = TestServer::spawn_with(configure).await;
    let questions = desk(&server, &room).await;
    let kept = questions.iter().find(|q| q.id == original.id).expect("the original survived");
    assert_eq!((kept.state, kept.votes), (QuestionState::Published, 2), "ada and bob; cy took the vote back");
    let merged = questions.iter().find(|q| q.id == duplicate.id);
    assert!(merged.is_none(), "a merged question is not on the desk");
    let mut bob = server.client("bob", &[Attendee]).await;
    let ServerMsg::Snapshot { my_votes, polls, .. } = bob.join(&room).await else { panic!("snapshot") };
    assert_eq!(my_votes, vec![original.id.clone()]);
    assert_eq!(polls.len(), 1);
    assert_eq!(polls[0].state, plenary_proto::PollState::Open);
    assert_eq!(polls[0].tally.as_ref().map(|t| (t.counts.clone(), t.voters)), Some((vec![0, 1], 1)));
    let mut ada = server.client("ada", &[Attendee]).await;
    let ServerMsg::Snapshot { my_answers, .. } = ada.join(&room).await else { panic!("snapshot") };
    assert_eq!(my_answers.len(), 1);
    assert_eq!(my_answers[0].choices, vec![1]);
    drop(ada);
    drop(bob);

    // The export: every question, in every state, with its votes; refused to attendees.
    let http = reqwest::Client::new();
    let url = server.http_url("/api/sessions/asked/questions.csv");
    let refused = http.get(&url).bearer_auth(token("bob", &[Attendee])).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    let csv = http.get(&url).bearer_auth(token("mo", &[Moderator])).send().await.unwrap().text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "id,asked_at,state,votes,text,anonymous,asker_id,asker_name,answered_by,updated_at");
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines.iter().any(|l| l.contains(",published,2,Original question,false,ada,User ada,")), "{csv}");
    assert!(lines.iter().any(|l| l.contains(",merged,0,Duplicate question,")), "{csv}");
    let url = server.http_url("/api/sessions/asked/polls.csv");
    let csv = http.get(&url).bearer_auth(token("mo", &[Moderator])).send().await.unwrap().text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "poll_id,question,state,created_at,option,option_text,count,voters");
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[1].contains(",Which track next?,open,") && lines[1].ends_with(",0,Youth,0,1"), "{csv}");
    assert!(lines[2].ends_with(",1,Gender,1,1"), "{csv}");
    // The audit log: every change, by whom; organisers only.
    let url = server.http_url("/api/sessions/asked/qa-audit");
    assert_eq!(http.get(&url).bearer_auth(token("mo", &[Moderator])).send().await.unwrap().status(), 403);
    let audit: serde_json::Value =
        http.get(&url).bearer_auth(token("org", &[Organiser])).send().await.unwrap().json().await.unwrap();
    let lines = audit.as_array().unwrap();
    let states: Vec<&str> = lines.iter().map(|l| l["state"].as_str().unwrap()).collect();
    assert!(states.contains(&"pending") && states.contains(&"published") && states.contains(&"merged"), "{audit}");
    assert!(states.contains(&"poll:draft") && states.contains(&"poll:open"), "{audit}");
    assert!(lines.iter().any(|l| l["actor"] == "mo" && l["state"] == "merged"), "{audit}");
    server.shutdown().await;
    db.drop_database().await;
}

fn programme_session(id: &str, external_id: &str, title: &str) -> Session {
    Session {
        id: id.into(),
        external_id: Some(external_id.into()),
        title: title.into(),
        description: String::new(),
        kind: SessionKind::Workshop,
        starts_at: "2025-07-07T08:00:00Z".into(),
        ends_at: "2025-07-07T09:00:00Z".into(),
        track: Some("youth".into()),
        languages: vec!["en".into()],
        tags: vec!["C1".into()],
        speakers: vec![],
        stage: StageSource::Hls { url: "https://stream.example/a.m3u8".into() },
        qa: Default::default(),
    }
}

async fn the_programme_is_kept_and_reimports_update(kind: Kind) {
    use plenary_server::programme::model::{Event, RoleGrant, Track};
    use plenary_server::store::RecordKind;
    let db = TestDatabase::create(kind).await;
    let store = SqlStore::open(&db.url).await.unwrap();
    let programme = Programme {
        event: Some(Event {
            name: "Forum".into(),
            time_zone: "Europe/Zurich".into(),
            starts_on: "2025-07-07".into(),
            ends_on: "2025-07-11".into(),
        }),
        tracks: vec![Track {
            id: "youth".into(),
            name: "ICTs and Youth".into(),
            description: String::new(),
            position: 1,
        }],
        sessions: vec![programme_session("opening", "ext-1", "Opening")],
        ..Programme::default()
    };
    let summary = store.apply(&programme).await.unwrap();
    assert_eq!((summary.tracks, summary.sessions), (1, 1));
    assert_eq!(store.sessions().await.unwrap(), programme.sessions);
    assert_eq!(store.event().await.unwrap(), programme.event);

    // The same external id under a new slug updates the stored session.
    let update =
        Programme { sessions: vec![programme_session("renamed", "ext-1", "Opening, renamed")], ..Programme::default() };
    store.apply(&update).await.unwrap();
    let sessions = store.sessions().await.unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!((sessions[0].id.as_str(), sessions[0].title.as_str()), ("opening", "Opening, renamed"));

    // A speaker renamed in the source keeps its stored id, and sessions follow it; a new
    // speaker whose slug is taken gets a slug of its own instead of replacing the other.
    let speaker = |id: &str, ext: &str, name: &str| Speaker {
        id: id.into(),
        external_id: Some(ext.into()),
        name: name.into(),
        affiliation: String::new(),
        bio: String::new(),
        country: None,
    };
    let mut talk = programme_session("talk", "ext-talk", "Talk");
    talk.speakers = vec!["jon-doe".into()];
    store
        .apply(&Programme {
            speakers: vec![speaker("jon-doe", "p1", "Jon Doe")],
            sessions: vec![talk.clone()],
            ..Programme::default()
        })
        .await
        .unwrap();
    talk.speakers = vec!["john-doe".into(), "jon-doe".into()];
    let renamed = Programme {
        speakers: vec![speaker("john-doe", "p1", "John Doe"), speaker("jon-doe", "p2", "Jon Doe")],
        sessions: vec![talk],
        ..Programme::default()
    };
    store.apply(&renamed).await.unwrap();
    let speakers: Vec<(String, String)> = store.speakers().await.unwrap().into_iter().map(|s| (s.id, s.name)).collect();
    assert_eq!(
        speakers,
        [("jon-doe".to_owned(), "John Doe".to_owned()), ("jon-doe-2".to_owned(), "Jon Doe".to_owned())]
    );
    let talk = store.sessions().await.unwrap().into_iter().find(|s| s.id == "talk").unwrap();
    assert_eq!(talk.speakers, ["jon-doe", "jon-doe-2"], "the session names the stored speakers");
    store.delete(RecordKind::Session, "talk").await.unwrap();

    let grant = RoleGrant { user: "ada".into(), role: "moderator".into(), scope: Some("opening".into()) };
    store.grant(&grant, "org", 5).await.unwrap();
    store.grant(&grant, "org2", 6).await.unwrap();
    let grants = store.grants().await.unwrap();
    assert_eq!(grants.len(), 1, "granting twice keeps one grant");
    assert_eq!((grants[0].granted_by.as_str(), grants[0].granted_at), ("org2", 6));
    assert!(store.revoke(&grant).await.unwrap());
    assert!(!store.revoke(&grant).await.unwrap());

    assert!(store.delete(RecordKind::Session, "opening").await.unwrap());
    assert!(!store.delete(RecordKind::Session, "opening").await.unwrap());
    assert!(store.sessions().await.unwrap().is_empty());
    store.close().await;
    db.drop_database().await;
}
