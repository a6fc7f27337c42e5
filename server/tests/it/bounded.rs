//! What attendees type never makes a frame too large for the people who run the room: a
//! moderator joining a session with 500 long questions, staff joining a booth with 130
//! long callback requests, and chat history with `chat_max_chars` raised. Every frame stays
//! under 256 KiB (what a strict client reads); the rest comes a page at a time.

use std::collections::BTreeSet;

use futures_util::StreamExt;
use plenary_proto::Role::{Attendee, Moderator};
use plenary_proto::{ClientMsg, MessageId, RequestId, Role, RoomId, ServerMsg};
use tokio_tungstenite::tungstenite::Message;

use crate::support::*;

/// The largest frame a strict client accepts in these tests.
const STRICT_CLIENT_FRAME: usize = 256 * 1024;

/// The answer to `rid`, failing if any frame on the way is larger than a strict client
/// accepts.
async fn strict_answer(client: &mut TestClient, rid: RequestId) -> ServerMsg {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let frame = tokio::time::timeout_at(deadline, client.ws.next()).await.expect("an answer in time");
        match frame {
            Some(Ok(Message::Text(text))) => {
                assert!(text.len() < STRICT_CLIENT_FRAME, "a frame of {} bytes", text.len());
                let msg: ServerMsg = serde_json::from_str(text.as_str()).expect("a protocol message");
                if answer_rid(&msg) == Some(rid) {
                    return msg;
                }
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("the connection ended: {other:?}"),
        }
    }
}

async fn strict_request(client: &mut TestClient, build: impl FnOnce(RequestId) -> ClientMsg) -> ServerMsg {
    let rid = client.rid();
    client.send(&build(rid)).await;
    strict_answer(client, rid).await
}

/// 500 characters of four bytes each.
fn long_text(n: usize) -> String {
    format!("{n:03} {}", "🎉".repeat(496))
}

#[tokio::test]
async fn a_moderator_joins_a_session_with_500_long_questions_and_pages_through_them() {
    let server = TestServer::spawn().await;
    let room = session("bounded-qa");
    // 100 attendees ask 5 questions each, within the default chat budget.
    let mut asked = 0;
    for a in 0..100 {
        let mut attendee = server.client(&format!("asker-{a}"), &[Attendee]).await;
        attendee.join(&room).await;
        for _ in 0..5 {
            let (text, room) = (long_text(asked), room.clone());
            let reply = attendee.request(|rid| ClientMsg::QaAsk { rid, room, text, anonymous: false }).await;
            assert!(matches!(reply, ServerMsg::Ack { .. }), "{reply:?}");
            asked += 1;
        }
    }

    let mut moderator = server.client("mod", &[Moderator]).await;
    let target = room.clone();
    let snapshot = strict_request(&mut moderator, |rid| ClientMsg::Join { rid, room: target, since: None }).await;
    let ServerMsg::Snapshot { questions, questions_more, you, .. } = snapshot else { panic!("{snapshot:?}") };
    assert!(you.can_moderate);
    assert!(questions_more, "500 questions do not fit one page");
    assert!(!questions.is_empty() && questions.len() <= 50);

    let mut seen: BTreeSet<MessageId> = BTreeSet::new();
    let mut before: Option<MessageId> = None;
    for _ in 0..100 {
        let (room, cursor) = (room.clone(), before.clone());
        let page = strict_request(&mut moderator, |rid| ClientMsg::QaPage { rid, room, before: cursor }).await;
        let ServerMsg::QuestionsPage { questions, more, .. } = page else { panic!("{page:?}") };
        assert!(questions.windows(2).all(|w| w[0].id > w[1].id), "newest first");
        for q in &questions {
            assert!(seen.insert(q.id.clone()), "{} twice", q.id);
        }
        before = questions.last().map(|q| q.id.clone());
        if !more {
            break;
        }
    }
    assert_eq!(seen.len(), 500, "every question reached the moderator");

    // The desk is still usable: an attendee's view is bounded too.
    let mut late = server.client("late", &[Attendee]).await;
    let target = room.clone();
    let snapshot = strict_request(&mut late, |rid| ClientMsg::Join { rid, room: target, since: None }).await;
    assert!(matches!(snapshot, ServerMsg::Snapshot { .. }));
    server.shutdown().await;
}

#[tokio::test]
async fn staff_join_a_booth_with_130_long_callback_requests_and_page_through_them() {
    let server = TestServer::spawn().await;
    let room = RoomId::booth("bounded-booth").unwrap();
    for v in 0..130 {
        let mut visitor = server.client(&format!("visitor-{v}"), &[Attendee]).await;
        visitor.join(&room).await;
        let (room, message) = (room.clone(), Some(long_text(v)));
        let reply = visitor.request(|rid| ClientMsg::BoothRequest { rid, room, message }).await;
        assert!(matches!(reply, ServerMsg::Ack { .. }), "{reply:?}");
    }

    let mut claims = claims("staff", &[Role::Exhibitor], 3600);
    claims.scopes = vec!["staff:bounded-booth".to_owned()];
    let mut staff = TestClient::connect(&server).await;
    staff.hello(&sign(&claims, SECRET)).await;
    let target = room.clone();
    let snapshot = strict_request(&mut staff, |rid| ClientMsg::Join { rid, room: target, since: None }).await;
    let ServerMsg::Snapshot { booth: Some(booth), .. } = snapshot else { panic!("{snapshot:?}") };
    assert!(booth.more, "130 long requests do not fit one page");
    let mut seen: BTreeSet<MessageId> = booth.requests.iter().map(|r| r.id.clone()).collect();
    let mut after = booth.requests.last().map(|r| r.id.clone());
    for _ in 0..100 {
        let (room, cursor) = (room.clone(), after.clone());
        let page = strict_request(&mut staff, |rid| ClientMsg::BoothPage { rid, room, after: cursor }).await;
        let ServerMsg::BoothRequests { requests, more, .. } = page else { panic!("{page:?}") };
        for r in &requests {
            assert!(seen.insert(r.id.clone()), "{} twice", r.id);
        }
        after = requests.last().map(|r| r.id.clone());
        if !more {
            break;
        }
    }
    assert_eq!(seen.len(), 130, "every request reached the staff");

    // Staff can still take the oldest request.
    let (room_id, id) = (room.clone(), seen.first().cloned().unwrap());
    let reply = staff.request(|rid| ClientMsg::BoothAccept { rid, room: room_id, id }).await;
    assert!(matches!(reply, ServerMsg::Ack { .. }), "{reply:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn long_chat_with_raised_chat_max_chars_comes_in_pages() {
    let server = TestServer::spawn_with(|s| {
        s.chat_max_chars = 16_000;
        s.max_message_bytes = 80 * 1024;
        s.chat_burst = 100;
        s.chat_per_minute = 6_000;
        s.command_burst = 100;
    })
    .await;
    let room = session("bounded-chat");
    let mut author = server.client("author", &[Attendee]).await;
    author.join(&room).await;
    for n in 0..40 {
        let text = format!("{n} {}", "🌍".repeat(15_000));
        let reply = author.request(chat(&room, &text)).await;
        assert!(matches!(reply, ServerMsg::Ack { .. }), "{reply:?}");
    }

    let mut reader = server.client("reader", &[Attendee]).await;
    let target = room.clone();
    let snapshot = strict_request(&mut reader, |rid| ClientMsg::Join { rid, room: target, since: None }).await;
    let ServerMsg::Snapshot { chat, chat_more, .. } = snapshot else { panic!("{snapshot:?}") };
    assert!(chat_more && !chat.is_empty());
    let mut seen = chat.len();
    let mut before = chat.first().map(|m| m.id.clone());
    for _ in 0..100 {
        let (room, cursor) = (room.clone(), before.clone());
        let page =
            strict_request(&mut reader, |rid| ClientMsg::ChatHistory { rid, room, before: cursor, limit: None }).await;
        let ServerMsg::ChatHistory { messages, more, .. } = page else { panic!("{page:?}") };
        seen += messages.len();
        before = messages.first().map(|m| m.id.clone());
        if !more {
            break;
        }
    }
    assert_eq!(seen, 40, "all of the chat, a page at a time");
    server.shutdown().await;
}
