//! A live session: snapshots, stage changes, permissions, chat, moderation, announcements.

use std::time::Duration;

use plenary_proto::Role::{Attendee, Moderator, Organiser};
use plenary_proto::{ClientMsg, RoomEvent, RoomId, ServerMsg, StageState};

use crate::support::*;

#[tokio::test]
async fn join_returns_a_snapshot_with_role_and_attendance() {
    let server = TestServer::spawn().await;
    let mut ada = server.client("ada", &[Attendee]).await;
    let snapshot = ada.join(&session("opening")).await;
    let ServerMsg::Snapshot { room, seq, recovered, stage, attendance, chat, you, .. } = snapshot else {
        unreachable!()
    };
    assert_eq!(room, session("opening"));
    assert_eq!(seq.0, 0);
    assert_eq!(recovered, None);
    let stage = stage.expect("a session has a stage");
    assert_eq!(stage.state, StageState::Scheduled);
    assert_eq!(stage.title, "opening");
    assert_eq!(attendance.present, 1);
    assert!(chat.is_empty());
    assert_eq!(you.role, Attendee);
    assert!(you.can_chat && !you.can_manage_stage && !you.can_moderate);

    let mut mod_ = server.client("mo", &[Moderator]).await;
    let ServerMsg::Snapshot { you, .. } = mod_.join(&session("opening")).await else { unreachable!() };
    assert!(you.can_manage_stage && you.can_moderate);
}

#[tokio::test]
async fn unknown_rooms_are_not_found() {
    let server = TestServer::spawn().await;
    let mut ada = server.client("ada", &[Attendee]).await;
    let room = RoomId::parse("stage:nope").unwrap();
    let answer = ada.request(|rid| ClientMsg::Join { rid, room, since: None }).await;
    assert_eq!(error_code(&answer), 404);
}

fn stage_update(
    state: Option<StageState>,
    speaker: Option<&str>,
) -> impl FnOnce(plenary_proto::RequestId) -> ClientMsg {
    let speaker = speaker.map(str::to_owned);
    move |rid| ClientMsg::StageUpdate { rid, room: session("keynote"), state, title: None, speaker }
}

#[tokio::test]
async fn stage_changes_reach_every_member_in_order() {
    let server = TestServer::spawn().await;
    let mut moderator = server.client("mod", &[Moderator]).await;
    moderator.join(&session("keynote")).await;
    let mut viewers = Vec::new();
    for n in 0..3 {
        let mut viewer = server.client(&format!("viewer{n}"), &[Attendee]).await;
        viewer.join(&session("keynote")).await;
        viewers.push(viewer);
    }
    let steps = [
        (Some(StageState::Live), Some("Doreen Bogdan-Martin")),
        (None, Some("Panel")),
        (Some(StageState::Break), None),
        (Some(StageState::Live), None),
        (Some(StageState::Ended), None),
    ];
    for (state, speaker) in steps {
        let answer = moderator.request(stage_update(state, speaker)).await;
        assert!(matches!(answer, ServerMsg::Ack { .. }), "{answer:?}");
    }
    for viewer in &mut viewers {
        let mut seen = Vec::new();
        while seen.len() < steps.len() {
            if let ServerMsg::Event { seq, event: RoomEvent::Stage { stage, by }, .. } = viewer.recv().await {
                assert_eq!(by.as_str(), "mod");
                seen.push((seq.0, stage.state, stage.speaker));
            }
        }
        let seqs: Vec<u64> = seen.iter().map(|s| s.0).collect();
        assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
        let states: Vec<StageState> = seen.iter().map(|s| s.1).collect();
        use StageState::*;
        assert_eq!(states, vec![Live, Live, Break, Live, Ended]);
        assert_eq!(seen[1].2.as_deref(), Some("Panel"));
    }
    // An ended stage refuses changes with `conflict`.
    let answer = moderator.request(stage_update(Some(StageState::Live), None)).await;
    assert_eq!(error_code(&answer), 409);
}

#[tokio::test]
async fn attendees_cannot_change_the_stage() {
    let server = TestServer::spawn().await;
    let mut ada = server.client("ada", &[Attendee]).await;
    ada.join(&session("keynote")).await;
    let answer = ada.request(stage_update(Some(StageState::Live), None)).await;
    assert_eq!(error_code(&answer), 403);
    // A moderator scoped to another session is an attendee here.
    let mut scoped = TestClient::connect(&server).await;
    let mut claims = claims("scoped", &[Moderator], 600);
    claims.scopes = vec!["moderate:session:other".into()];
    scoped.hello(&sign(&claims, SECRET)).await;
    scoped.join(&session("keynote")).await;
    let answer = scoped.request(stage_update(Some(StageState::Live), None)).await;
    assert_eq!(error_code(&answer), 403);
}

#[tokio::test]
async fn invalid_transitions_are_conflicts() {
    let server = TestServer::spawn().await;
    let mut moderator = server.client("mod", &[Moderator]).await;
    moderator.join(&session("keynote")).await;
    let answer = moderator.request(stage_update(Some(StageState::Break), None)).await;
    assert_eq!(error_code(&answer), 409, "scheduled cannot go on a break");
}

#[tokio::test]
async fn chat_fans_out_and_deletions_vanish_for_everyone() {
    let server = TestServer::spawn().await;
    let room = session("workshop");
    let mut ada = server.client("ada", &[Attendee]).await;
    let mut bob = server.client("bob", &[Attendee]).await;
    let mut mo = server.client("mo", &[Moderator]).await;
    for c in [&mut ada, &mut bob, &mut mo] {
        c.join(&room).await;
    }
    assert!(matches!(ada.request(chat(&room, "  Hello from Geneva  ")).await, ServerMsg::Ack { .. }));
    let mut id = None;
    for c in [&mut bob, &mut mo] {
        let msg = c.recv_until("chat", |m| matches!(m, ServerMsg::Event { event: RoomEvent::Chat { .. }, .. })).await;
        let ServerMsg::Event { event: RoomEvent::Chat { message }, .. } = msg else { unreachable!() };
        assert_eq!(message.text, "Hello from Geneva");
        assert_eq!(message.author.id.as_str(), "ada");
        id = Some(message.id);
    }
    let id = id.unwrap();

    // Bob may not delete Ada's message; the moderator may.
    let (r, i) = (room.clone(), id.clone());
    assert_eq!(error_code(&bob.request(|rid| ClientMsg::ChatDelete { rid, room: r, id: i }).await), 403);
    let (r, i) = (room.clone(), id.clone());
    assert!(matches!(mo.request(|rid| ClientMsg::ChatDelete { rid, room: r, id: i }).await, ServerMsg::Ack { .. }));
    for c in [&mut ada, &mut bob] {
        let msg = c
            .recv_until("deletion", |m| matches!(m, ServerMsg::Event { event: RoomEvent::ChatDeleted { .. }, .. }))
            .await;
        let ServerMsg::Event { event: RoomEvent::ChatDeleted { id: gone, by }, .. } = msg else { unreachable!() };
        assert_eq!((gone, by.as_str()), (id.clone(), "mo"));
    }
    let mut late = server.client("late", &[Attendee]).await;
    let ServerMsg::Snapshot { chat, .. } = late.join(&room).await else { unreachable!() };
    assert!(chat.is_empty(), "a deleted message is not in the snapshot");
}

#[tokio::test]
async fn chat_rules_and_rate_limit() {
    let server = TestServer::spawn_with(|s| s.chat_burst = 3).await;
    let room = session("chatty");
    let mut ada = server.client("ada", &[Attendee]).await;
    ada.join(&room).await;
    assert_eq!(error_code(&ada.request(chat(&room, " \n ")).await), 422);
    assert_eq!(error_code(&ada.request(chat(&room, &"x".repeat(1001))).await), 413);
    for n in 0..3 {
        assert!(matches!(ada.request(chat(&room, &format!("m{n}"))).await, ServerMsg::Ack { .. }));
    }
    let limited = ada.request(chat(&room, "one too many")).await;
    let ServerMsg::Error { code, retry_after_ms, .. } = limited else { panic!("{limited:?}") };
    assert_eq!(code.as_u16(), 429);
    assert!(retry_after_ms.is_some_and(|ms| ms > 0));
    // Another user is not limited by Ada's messages.
    let mut bob = server.client("bob", &[Attendee]).await;
    bob.join(&room).await;
    assert!(matches!(bob.request(chat(&room, "hi")).await, ServerMsg::Ack { .. }));
}

#[tokio::test]
async fn history_pages_backwards() {
    let server = TestServer::spawn_with(|s| {
        s.chat_burst = 100;
        s.command_burst = 100;
    })
    .await;
    let room = session("history");
    let mut ada = server.client("ada", &[Attendee]).await;
    ada.join(&room).await;
    for n in 0..60 {
        ada.request(chat(&room, &format!("message {n}"))).await;
    }
    let mut bob = server.client("bob", &[Attendee]).await;
    let ServerMsg::Snapshot { chat, chat_more, .. } = bob.join(&room).await else { unreachable!() };
    assert_eq!(chat.len(), 50);
    assert!(chat_more);
    assert_eq!(chat[0].text, "message 10");
    let before = Some(chat[0].id.clone());
    let r = room.clone();
    let page = bob.request(|rid| ClientMsg::ChatHistory { rid, room: r, before, limit: Some(20) }).await;
    let ServerMsg::ChatHistory { messages, more, .. } = page else { panic!("{page:?}") };
    assert_eq!(messages.iter().map(|m| m.text.as_str()).collect::<Vec<_>>()[..2], ["message 0", "message 1"]);
    assert_eq!(messages.len(), 10);
    assert!(!more);
}

#[tokio::test]
async fn muted_users_cannot_chat_until_unmuted() {
    let server = TestServer::spawn().await;
    let room = session("moderated");
    let mut mo = server.client("mo", &[Moderator]).await;
    let mut bob = server.client("bob", &[Attendee]).await;
    mo.join(&room).await;
    bob.join(&room).await;
    let user = plenary_proto::UserId::parse("bob").unwrap();
    let (r, u) = (room.clone(), user.clone());
    assert_eq!(error_code(&bob.request(|rid| ClientMsg::Mute { rid, room: r, user: u, minutes: None }).await), 403);
    let (r, u) = (room.clone(), user.clone());
    assert!(matches!(
        mo.request(|rid| ClientMsg::Mute { rid, room: r, user: u, minutes: Some(10) }).await,
        ServerMsg::Ack { .. }
    ));
    bob.recv_until("mute event", |m| matches!(m, ServerMsg::Event { event: RoomEvent::UserMuted { .. }, .. })).await;
    assert_eq!(error_code(&bob.request(chat(&room, "let me speak")).await), 423);
    // Rejoining does not hide the mute: the snapshot says Bob cannot chat.
    let r = room.clone();
    bob.request(|rid| ClientMsg::Leave { rid, room: r }).await;
    let ServerMsg::Snapshot { you, .. } = bob.join(&room).await else { unreachable!() };
    assert!(!you.can_chat);
    let (r, u) = (room.clone(), user.clone());
    assert!(matches!(mo.request(|rid| ClientMsg::Unmute { rid, room: r, user: u }).await, ServerMsg::Ack { .. }));
    assert!(matches!(bob.request(chat(&room, "thanks")).await, ServerMsg::Ack { .. }));
}

#[tokio::test]
async fn commands_need_membership() {
    let server = TestServer::spawn().await;
    let mut ada = server.client("ada", &[Attendee]).await;
    assert_eq!(error_code(&ada.request(chat(&session("elsewhere"), "hi")).await), 405);
}

#[tokio::test]
async fn organisers_announce_to_the_event_room() {
    let server = TestServer::spawn().await;
    let mut org = server.client("org", &[Organiser]).await;
    let mut ada = server.client("ada", &[Attendee]).await;
    ada.join(&RoomId::event()).await;
    let denied = ada.request(|rid| ClientMsg::Announce { rid, text: "I am in charge".into() }).await;
    assert_eq!(error_code(&denied), 403);
    let ok = org.request(|rid| ClientMsg::Announce { rid, text: "Prize ceremony at 16:00 CET".into() }).await;
    assert!(matches!(ok, ServerMsg::Ack { .. }), "{ok:?}");
    let msg = ada
        .recv_until("announcement", |m| matches!(m, ServerMsg::Event { event: RoomEvent::Announcement { .. }, .. }))
        .await;
    let ServerMsg::Event { event: RoomEvent::Announcement { announcement }, .. } = msg else { unreachable!() };
    assert_eq!(announcement.text, "Prize ceremony at 16:00 CET");
    // A later joiner finds it in the snapshot.
    let mut bob = server.client("bob", &[Attendee]).await;
    let ServerMsg::Snapshot { announcements, .. } = bob.join(&RoomId::event()).await else { unreachable!() };
    assert_eq!(announcements.len(), 1);
}

#[tokio::test]
async fn the_event_room_summarises_live_sessions() {
    let server = TestServer::spawn_with(|s| s.summary_interval_ms = 100).await;
    let mut watcher = server.client("watcher", &[Attendee]).await;
    watcher.join(&RoomId::event()).await;
    let mut mo = server.client("mo", &[Moderator]).await;
    mo.join(&session("keynote")).await;
    let mut ada = server.client("ada", &[Attendee]).await;
    ada.join(&session("keynote")).await;
    mo.request(stage_update(Some(StageState::Live), None)).await;
    let summary = watcher
        .recv_until(
            "a summary with the keynote",
            |m| matches!(m, ServerMsg::AttendanceSummary { sessions } if sessions.iter().any(|s| s.present == 2)),
        )
        .await;
    let ServerMsg::AttendanceSummary { sessions } = summary else { unreachable!() };
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].room, session("keynote"));
    assert_eq!(sessions[0].state, StageState::Live);

    // Someone opening the programme now gets the counts right after the snapshot.
    let mut late = server.client("late", &[Attendee]).await;
    late.join(&RoomId::event()).await;
    let next = late.recv().await;
    assert!(matches!(&next, ServerMsg::AttendanceSummary { sessions } if sessions.len() == 1), "{next:?}");
}

#[tokio::test]
async fn attendance_reaches_members() {
    let server = TestServer::spawn_with(|s| s.attendance_interval_ms = 100).await;
    let room = session("counted");
    let mut ada = server.client("ada", &[Attendee]).await;
    ada.join(&room).await;
    let mut bob = server.client("bob", &[Attendee]).await;
    bob.join(&room).await;
    ada.recv_until(
        "attendance 2",
        |m| matches!(m, ServerMsg::Attendance { attendance, .. } if attendance.present == 2),
    )
    .await;
    drop(bob);
    let msg = ada
        .recv_until(
            "attendance 1",
            |m| matches!(m, ServerMsg::Attendance { attendance, .. } if attendance.present == 1),
        )
        .await;
    let ServerMsg::Attendance { attendance, .. } = msg else { unreachable!() };
    assert_eq!(attendance.unique, 2, "unique attendees are remembered");
    // Leaving is acknowledged and the connection stays usable.
    let r = room.clone();
    assert!(matches!(ada.request(|rid| ClientMsg::Leave { rid, room: r }).await, ServerMsg::Ack { .. }));
    assert!(ada.try_recv(Duration::from_millis(300)).await.is_none(), "no more room traffic after leaving");
}
