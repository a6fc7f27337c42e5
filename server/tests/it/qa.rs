//! Moderated Q&A over real WebSockets: the life cycle, who sees what, votes, conflicts,
//! the permission matrix, and two moderators racing on two nodes of one Redis.

use plenary_proto::Role::{Attendee, Moderator, Speaker};
use plenary_proto::{
    ClientMsg, ErrorCode, MessageId, QaAction, QuestionState, QuestionView, RoomEvent, RoomId, ServerMsg,
};

use crate::redis_support::TestRedis;
use crate::support::*;

fn ask(room: &RoomId, text: &str) -> impl FnOnce(plenary_proto::RequestId) -> ClientMsg {
    let (room, text) = (room.clone(), text.to_owned());
    move |rid| ClientMsg::QaAsk { rid, room, text, anonymous: false }
}

fn moderate(room: &RoomId, q: &QuestionView, action: QaAction) -> impl FnOnce(plenary_proto::RequestId) -> ClientMsg {
    let (room, id, version) = (room.clone(), q.id.clone(), q.version);
    move |rid| ClientMsg::QaModerate {
        rid,
        room,
        id,
        version,
        action,
        text: None,
        reason: None,
        into: None,
        into_version: None,
        rank: None,
    }
}

fn vote(room: &RoomId, id: &MessageId, up: bool) -> impl FnOnce(plenary_proto::RequestId) -> ClientMsg {
    let (room, id) = (room.clone(), id.clone());
    move |rid| ClientMsg::QaVote { rid, room, id, up }
}

/// Waits for a `questions` event carrying the question with `text`, and returns its view.
async fn question_event(client: &mut TestClient, text: &str) -> QuestionView {
    let text = text.to_owned();
    let msg = client
        .recv_until(&format!("question {text:?}"), |m| {
            matches!(m, ServerMsg::Event { event: RoomEvent::Questions { changed, .. }, .. }
                if changed.iter().any(|q| q.text == text))
        })
        .await;
    let ServerMsg::Event { event: RoomEvent::Questions { changed, .. }, .. } = msg else { unreachable!() };
    changed.into_iter().find(|q| q.text == text).unwrap()
}

/// Sends a request and returns its answer, keeping the first `questions` event with `text`
/// that arrives before it (the asker's own view comes before the ack).
async fn request_seeing(
    client: &mut TestClient,
    build: impl FnOnce(plenary_proto::RequestId) -> ClientMsg,
    text: &str,
) -> (ServerMsg, Option<QuestionView>) {
    let rid = client.rid();
    client.send(&build(rid)).await;
    let mut seen = None;
    loop {
        match client.recv().await {
            ServerMsg::Event { event: RoomEvent::Questions { changed, .. }, .. } => {
                if let Some(q) = changed.into_iter().find(|q| q.text == text) {
                    seen = Some(q);
                }
            }
            reply @ (ServerMsg::Ack { rid: r } | ServerMsg::Error { rid: Some(r), .. }) if r == rid => {
                return (reply, seen);
            }
            _ => {}
        }
    }
}

fn acked(reply: &ServerMsg) -> bool {
    matches!(reply, ServerMsg::Ack { .. })
}

fn refused(reply: &ServerMsg, code: ErrorCode) -> bool {
    matches!(reply, ServerMsg::Error { code: c, .. } if *c == code)
}

#[tokio::test]
async fn a_question_goes_from_pending_to_live_and_only_the_right_people_see_it() {
    let server = TestServer::spawn().await;
    let room = session("qa-flow");
    let mut mo = server.client("mo", &[Moderator]).await;
    mo.join(&room).await;
    let mut ada = server.client("ada", &[Attendee]).await;
    ada.join(&room).await;
    let mut lin = server.client("lin", &[Attendee]).await;
    lin.join(&room).await;

    let (reply, own) =
        request_seeing(&mut ada, ask(&room, "Who pays for rural broadband?"), "Who pays for rural broadband?").await;
    assert!(acked(&reply), "{reply:?}");
    let own = own.expect("the asker sees its question before the ack");
    assert_eq!(own.state, QuestionState::Pending);
    assert_eq!(own.asker.as_ref().map(|a| a.id.as_str()), Some("ada"), "the asker sees itself named");
    let desk = question_event(&mut mo, "Who pays for rural broadband?").await;
    assert_eq!((desk.state, desk.version), (QuestionState::Pending, 1));
    // Lin sees nothing of a pending question: the next thing it gets is the approval.
    let (reply, _) =
        request_seeing(&mut mo, moderate(&room, &desk, QaAction::Approve), "Who pays for rural broadband?").await;
    assert!(acked(&reply), "{reply:?}");
    let seen = lin
        .recv_until("the first question event", |m| {
            matches!(m, ServerMsg::Event { event: RoomEvent::Questions { .. }, .. })
        })
        .await;
    let ServerMsg::Event { event: RoomEvent::Questions { changed, removed }, .. } = seen else { unreachable!() };
    assert_eq!((changed.len(), removed.len()), (1, 0));
    assert_eq!(changed[0].state, QuestionState::Published);

    // Votes: once per user, counted and sent coalesced.
    for client in [&mut lin, &mut mo] {
        assert!(acked(&client.request(vote(&room, &own.id, true)).await));
    }
    assert!(acked(&lin.request(vote(&room, &own.id, true)).await), "a repeated vote is accepted and changes nothing");
    ada.recv_until(
        "two votes",
        |m| matches!(m, ServerMsg::QaVotes { votes, .. } if votes.iter().any(|v| v.id == own.id && v.votes == 2)),
    )
    .await;

    // Highlight.
    let published = QuestionView { version: 2, ..desk.clone() };
    let (reply, _) =
        request_seeing(&mut mo, moderate(&room, &published, QaAction::Highlight), "Who pays for rural broadband?")
            .await;
    assert!(acked(&reply), "{reply:?}");
    let live = question_event(&mut lin, "Who pays for rural broadband?").await;
    assert_eq!(live.state, QuestionState::Live);

    // A stale version is a conflict.
    let stale = mo.request(moderate(&room, &published, QaAction::Unhighlight)).await;
    assert!(refused(&stale, ErrorCode::Conflict), "{stale:?}");

    // A late joiner's snapshot has the question and its own votes.
    let mut late = server.client("lin", &[Attendee]).await;
    let ServerMsg::Snapshot { questions, my_votes, .. } = late.join(&room).await else { panic!("snapshot") };
    assert_eq!(questions.len(), 1);
    assert_eq!((questions[0].state, questions[0].votes), (QuestionState::Live, 2));
    assert_eq!(my_votes, vec![own.id.clone()]);
}

#[tokio::test]
async fn hiding_a_question_takes_it_from_the_audience_and_leaks_nothing_else() {
    let server = TestServer::spawn_with(|s| s.qa_moderated = false).await;
    let room = session("qa-hide");
    let mut mo = server.client("mo", &[Moderator]).await;
    mo.join(&room).await;
    let mut lin = server.client("lin", &[Attendee]).await;
    lin.join(&room).await;
    let mut ada = server.client("ada", &[Attendee]).await;
    ada.join(&room).await;
    ada.request(ask(&room, "An unwelcome question")).await;
    let q = question_event(&mut mo, "An unwelcome question").await;
    assert_eq!(q.state, QuestionState::Published, "unmoderated sessions publish at once");
    question_event(&mut lin, "An unwelcome question").await;
    assert!(acked(&mo.request(moderate(&room, &q, QaAction::Hide)).await));
    let gone = lin
        .recv_until("the removal", |m| matches!(m, ServerMsg::Event { event: RoomEvent::Questions { .. }, .. }))
        .await;
    let ServerMsg::Event { event: RoomEvent::Questions { changed, removed }, .. } = gone else { unreachable!() };
    assert!(changed.is_empty());
    assert_eq!(removed, vec![q.id.clone()]);
    // The asker still sees its own question, hidden.
    let own = question_event(&mut ada, "An unwelcome question").await;
    assert_eq!(own.state, QuestionState::Hidden);
    // A newcomer's snapshot has no trace of it.
    let mut newcomer = server.client("new", &[Attendee]).await;
    let ServerMsg::Snapshot { questions, .. } = newcomer.join(&room).await else { panic!("snapshot") };
    assert!(questions.is_empty());
}

#[tokio::test]
async fn attendees_may_not_moderate_and_speakers_only_from_the_shortlist() {
    let server = TestServer::spawn_with(|s| s.qa_moderated = false).await;
    let room = session("qa-perm");
    let mut mo = server.client("mo", &[Moderator]).await;
    mo.join(&room).await;
    let mut ada = server.client("ada", &[Attendee]).await;
    ada.join(&room).await;
    let mut spk = server.client("spk", &[Speaker]).await;
    spk.join(&room).await;
    let (reply, _) = request_seeing(&mut mo, ask(&room, "Target question"), "Target question").await;
    assert!(acked(&reply), "{reply:?}");
    let q = question_event(&mut ada, "Target question").await;
    for action in [
        QaAction::Approve,
        QaAction::Dismiss,
        QaAction::Restore,
        QaAction::Hide,
        QaAction::Unhide,
        QaAction::Highlight,
        QaAction::Unhighlight,
        QaAction::Answered,
        QaAction::Reopen,
        QaAction::Star,
        QaAction::Unstar,
        QaAction::Rank,
        QaAction::Delete,
    ] {
        let reply = ada.request(moderate(&room, &q, action)).await;
        assert!(refused(&reply, ErrorCode::Forbidden), "an attendee's {action:?}: {reply:?}");
    }
    let merge = ada
        .request(|rid| ClientMsg::QaModerate {
            rid,
            room: room.clone(),
            id: q.id.clone(),
            version: q.version,
            action: QaAction::Merge,
            text: None,
            reason: None,
            into: Some(q.id.clone()),
            into_version: Some(q.version),
            rank: None,
        })
        .await;
    assert!(refused(&merge, ErrorCode::Forbidden), "{merge:?}");
    // Withdrawing someone else's question is forbidden too.
    let withdraw = ada.request(|rid| ClientMsg::QaWithdraw { rid, room: room.clone(), id: q.id.clone() }).await;
    assert!(refused(&withdraw, ErrorCode::Forbidden), "{withdraw:?}");

    let not_starred = spk.request(moderate(&room, &q, QaAction::Highlight)).await;
    assert!(refused(&not_starred, ErrorCode::Forbidden), "{not_starred:?}");
    let (reply, starred) = request_seeing(&mut mo, moderate(&room, &q, QaAction::Star), "Target question").await;
    assert!(acked(&reply), "{reply:?}");
    let starred = starred.expect("the moderator's view of the starred question");
    assert!(starred.starred);
    assert!(acked(&spk.request(moderate(&room, &starred, QaAction::Highlight)).await));
}

/// Two moderators on two nodes approve the same question at once: exactly one wins, the
/// other is told `conflict`. A user voting on both nodes counts once.
#[tokio::test]
async fn racing_moderators_on_two_nodes_and_votes_counted_once() {
    let redis = TestRedis::new();
    let node = |redis: &TestRedis| {
        let (url, prefix) = (redis.url.clone(), redis.prefix.clone());
        TestServer::spawn_with(move |s| {
            s.redis_url = Some(url);
            s.redis_prefix = prefix;
        })
    };
    let node_a = node(&redis).await;
    let node_b = node(&redis).await;
    let room = session("qa-race");
    let mut mo_a = node_a.client("mo-a", &[Moderator]).await;
    mo_a.join(&room).await;
    let mut mo_b = node_b.client("mo-b", &[Moderator]).await;
    mo_b.join(&room).await;
    let mut ada = node_a.client("ada", &[Attendee]).await;
    ada.join(&room).await;
    for round in 0..5 {
        let text = format!("Question {round}");
        let (reply, _) = request_seeing(&mut ada, ask(&room, &text), &text).await;
        assert!(acked(&reply), "{reply:?}");
        let seen_a = question_event(&mut mo_a, &text).await;
        let seen_b = question_event(&mut mo_b, &text).await;
        assert_eq!(seen_a.version, seen_b.version);
        let (rid_a, rid_b) = (mo_a.rid(), mo_b.rid());
        mo_a.send(&moderate(&room, &seen_a, QaAction::Approve)(rid_a)).await;
        mo_b.send(&moderate(&room, &seen_b, QaAction::Approve)(rid_b)).await;
        let (a, b) = (mo_a.answer(rid_a).await, mo_b.answer(rid_b).await);
        assert_eq!(u8::from(acked(&a)) + u8::from(acked(&b)), 1, "exactly one approval wins: {a:?} {b:?}");
        let loser = if acked(&a) { &b } else { &a };
        assert!(refused(loser, ErrorCode::Conflict), "{loser:?}");
    }

    // The same user votes from both nodes: one vote.
    let mut lin_a = node_a.client("lin", &[Attendee]).await;
    lin_a.join(&room).await;
    let mut lin_b = node_b.client("lin", &[Attendee]).await;
    lin_b.join(&room).await;
    let ServerMsg::Snapshot { questions, .. } = lin_b.join(&room).await else { panic!("snapshot") };
    let target = questions.iter().find(|q| q.text == "Question 0").expect("approved question visible").id.clone();
    let (r1, r2) = (lin_a.rid(), lin_b.rid());
    lin_a.send(&vote(&room, &target, true)(r1)).await;
    lin_b.send(&vote(&room, &target, true)(r2)).await;
    assert!(acked(&lin_a.answer(r1).await) && acked(&lin_b.answer(r2).await));
    mo_a.request(vote(&room, &target, true)).await;
    ada.recv_until(
        "two votes",
        |m| matches!(m, ServerMsg::QaVotes { votes, .. } if votes.iter().any(|v| v.id == target && v.votes == 2)),
    )
    .await;
    let mut check = node_b.client("checker", &[Attendee]).await;
    let ServerMsg::Snapshot { questions, .. } = check.join(&room).await else { panic!("snapshot") };
    assert_eq!(questions.iter().find(|q| q.id == target).map(|q| q.votes), Some(2), "lin counted once, mo once");
    node_a.shutdown().await;
    node_b.shutdown().await;
}

/// Ending the stage ends the Q&A: the live question counts as answered and voting closes.
#[tokio::test]
async fn ending_the_session_answers_the_live_question_and_closes_voting() {
    use plenary_proto::StageState::{Ended, Live};
    let server = TestServer::spawn_with(|s| s.qa_moderated = false).await;
    let room = session("qa-end");
    let mut mo = server.client("mo", &[Moderator]).await;
    mo.join(&room).await;
    let mut ada = server.client("ada", &[Attendee]).await;
    ada.join(&room).await;
    assert!(acked(&mo.request(set_stage(&room, Live)).await));
    let (reply, q) = request_seeing(&mut ada, ask(&room, "Last question?"), "Last question?").await;
    assert!(acked(&reply), "{reply:?}");
    let q = q.expect("the asker sees its question");
    let (reply, _) = request_seeing(&mut mo, moderate(&room, &q, QaAction::Highlight), "Last question?").await;
    assert!(acked(&reply), "{reply:?}");
    assert!(acked(&mo.request(set_stage(&room, Ended)).await));
    let answered = question_event(&mut ada, "Last question?").await;
    let answered = if answered.state == QuestionState::Answered {
        answered
    } else {
        question_event(&mut ada, "Last question?").await
    };
    assert_eq!(answered.state, QuestionState::Answered);
    let late = ada.request(vote(&room, &q.id, true)).await;
    assert!(refused(&late, ErrorCode::Conflict), "voting closed: {late:?}");
    let late = ada.request(ask(&room, "One more?")).await;
    assert!(refused(&late, ErrorCode::Conflict), "asking closed: {late:?}");
}
