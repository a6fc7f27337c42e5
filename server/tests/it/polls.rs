//! Polls over real WebSockets: drafts seen by moderators only, one answer per user, results
//! shown to the audience as the moderator chose, and the same user on two nodes counted once.

use plenary_proto::Role::{Attendee, Moderator};
use plenary_proto::{
    ClientMsg, ErrorCode, MessageId, PollAction, PollResults, PollState, PollView, RoomEvent, RoomId, ServerMsg,
};

use crate::redis_support::TestRedis;
use crate::support::*;

fn create(room: &RoomId, changeable: bool, results: PollResults) -> impl FnOnce(plenary_proto::RequestId) -> ClientMsg {
    let room = room.clone();
    move |rid| ClientMsg::PollCreate {
        rid,
        room,
        question: "Which action line first?".into(),
        options: vec!["C1".into(), "C3".into(), "C7".into()],
        multiple: false,
        changeable,
        results,
    }
}

fn control(room: &RoomId, poll: &PollView, action: PollAction) -> impl FnOnce(plenary_proto::RequestId) -> ClientMsg {
    let (room, id, version) = (room.clone(), poll.id.clone(), poll.version);
    move |rid| ClientMsg::PollControl { rid, room, id, version, action, results: None }
}

fn answer(room: &RoomId, id: &MessageId, choices: &[u8]) -> impl FnOnce(plenary_proto::RequestId) -> ClientMsg {
    let (room, id, choices) = (room.clone(), id.clone(), choices.to_vec());
    move |rid| ClientMsg::PollAnswer { rid, room, id, choices }
}

/// The next `polls` event's first view.
async fn poll_event(client: &mut TestClient) -> PollView {
    let msg = client
        .recv_until("a polls event", |m| matches!(m, ServerMsg::Event { event: RoomEvent::Polls { .. }, .. }))
        .await;
    let ServerMsg::Event { event: RoomEvent::Polls { mut changed, .. }, .. } = msg else { unreachable!() };
    changed.remove(0)
}

fn acked(reply: &ServerMsg) -> bool {
    matches!(reply, ServerMsg::Ack { .. })
}

#[tokio::test]
async fn a_poll_runs_from_draft_to_results() {
    let server = TestServer::spawn().await;
    let room = session("poll-flow");
    let mut mo = server.client("mo", &[Moderator]).await;
    mo.join(&room).await;
    let mut ada = server.client("ada", &[Attendee]).await;
    ada.join(&room).await;
    let refused = ada.request(create(&room, true, PollResults::AfterClose)).await;
    assert!(matches!(refused, ServerMsg::Error { code: ErrorCode::Forbidden, .. }), "{refused:?}");

    let rid = mo.rid();
    mo.send(&create(&room, true, PollResults::AfterClose)(rid)).await;
    let draft = poll_event(&mut mo).await;
    assert!(acked(&mo.answer(rid).await));
    assert_eq!(draft.state, PollState::Draft);
    assert!(draft.tally.is_some(), "moderators always see the results");
    let early = ada.request(answer(&room, &draft.id, &[0])).await;
    assert!(matches!(early, ServerMsg::Error { code: ErrorCode::Conflict, .. }), "a draft takes no answers: {early:?}");

    assert!(acked(&mo.request(control(&room, &draft, PollAction::Open)).await));
    let open = poll_event(&mut ada).await;
    assert_eq!((open.state, open.tally.is_none()), (PollState::Open, true), "after_close: no results yet");
    assert!(acked(&ada.request(answer(&room, &open.id, &[0])).await));
    assert!(acked(&ada.request(answer(&room, &open.id, &[2])).await), "changeable");
    let invalid = ada.request(answer(&room, &open.id, &[0, 1])).await;
    assert!(matches!(invalid, ServerMsg::Error { code: ErrorCode::Invalid, .. }), "{invalid:?}");
    mo.recv_until("results for moderators", |m| {
        matches!(m, ServerMsg::PollResults { tallies, .. } if tallies.iter().any(|t| t.counts == vec![0, 0, 1] && t.voters == 1))
    })
    .await;

    let current = PollView { version: 2, ..open.clone() };
    assert!(acked(&mo.request(control(&room, &current, PollAction::Close)).await));
    let closed = poll_event(&mut ada).await;
    assert_eq!(closed.state, PollState::Closed);
    assert_eq!(closed.tally.map(|t| (t.counts, t.voters)), Some((vec![0, 0, 1], 1)), "results after close");
    let late = ada.request(answer(&room, &open.id, &[1])).await;
    assert!(matches!(late, ServerMsg::Error { code: ErrorCode::Conflict, .. }), "{late:?}");

    // A newcomer's snapshot has the poll with its results, and its own (none) answers.
    let mut bob = server.client("bob", &[Attendee]).await;
    let ServerMsg::Snapshot { polls, my_answers, .. } = bob.join(&room).await else { panic!("snapshot") };
    assert_eq!(polls.len(), 1);
    assert!(my_answers.is_empty());
}

/// The same user answers a poll that does not allow changes from two nodes at once: one
/// answer counts; the other is refused.
#[tokio::test]
async fn one_answer_per_user_across_nodes() {
    let redis = TestRedis::new();
    let node = |redis: &TestRedis| {
        let (url, prefix) = (redis.url.clone(), redis.prefix.clone());
        TestServer::spawn_with(move |s| {
            s.redis_url = Some(url);
            s.redis_prefix = prefix;
        })
    };
    let (node_a, node_b) = (node(&redis).await, node(&redis).await);
    let room = session("poll-race");
    let mut mo = node_a.client("mo", &[Moderator]).await;
    mo.join(&room).await;
    let rid = mo.rid();
    mo.send(&create(&room, false, PollResults::Live)(rid)).await;
    let draft = poll_event(&mut mo).await;
    assert!(acked(&mo.answer(rid).await));
    assert!(acked(&mo.request(control(&room, &draft, PollAction::Open)).await));
    let mut lin_a = node_a.client("lin", &[Attendee]).await;
    lin_a.join(&room).await;
    let mut lin_b = node_b.client("lin", &[Attendee]).await;
    lin_b.join(&room).await;
    let (r1, r2) = (lin_a.rid(), lin_b.rid());
    lin_a.send(&answer(&room, &draft.id, &[0])(r1)).await;
    lin_b.send(&answer(&room, &draft.id, &[1])(r2)).await;
    let (a, b) = (lin_a.answer(r1).await, lin_b.answer(r2).await);
    assert_eq!(u8::from(acked(&a)) + u8::from(acked(&b)), 1, "one answer wins: {a:?} {b:?}");
    let mut check = node_b.client("checker", &[Moderator]).await;
    let ServerMsg::Snapshot { polls, .. } = check.join(&room).await else { panic!("snapshot") };
    let tally = polls[0].tally.clone().unwrap();
    assert_eq!(tally.voters, 1);
    assert_eq!(tally.counts.iter().sum::<u32>(), 1);
    node_a.shutdown().await;
    node_b.shutdown().await;
}
