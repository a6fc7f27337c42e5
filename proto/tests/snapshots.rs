//! Snapshot tests that pin the exact wire encoding (the bytes of one text frame) of one value of
//! every [`ClientMsg`], [`ServerMsg`] and [`RoomEvent`] variant, plus the variants whose optional
//! fields are left out, so that a change to field names, tags, field order or the omission of
//! absent fields shows up as a failing test. Each encoding must also decode back to the same
//! value. After an intended change, refresh the expectations with
//! `UPDATE_EXPECT=1 cargo test -p plenary-proto --test snapshots` and review the diff.

mod common;

use std::collections::BTreeSet;

use common::{CLIENT_TAGS, EVENT_TAGS, SERVER_TAGS, client_tag, event_tag, server_tag};
use expect_test::expect;
use plenary_proto::{
    Announcement, Attendance, BoothCounts, BoothView, CallInfo, ChatMessage, ClientMsg, ConnectionId, ContactKind,
    ContactRequestView, ContactState, Epoch, ErrorCode, IceServer, Limits, Membership, MessageId, PollAction,
    PollResults, PollState, PollTally, PollView, PublishedTrack, QaAction, QuestionState, QuestionView, QuestionVotes,
    RequestId, Role, RoomEvent, RoomId, Seq, ServerMsg, SessionAttendance, Signal, StaffStatus, StaffView, Stage,
    StageQuality, StageState, StageTrack, StreamPosition, TrackSource, UserId, UserProfile,
};

// ---- values ---------------------------------------------------------------------------------

fn room(id: &str) -> RoomId {
    RoomId::parse(id).unwrap()
}

fn keynote() -> RoomId {
    room("session:keynote")
}

fn user(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

fn message_id(id: &str) -> MessageId {
    MessageId::parse(id).unwrap()
}

fn epoch() -> Epoch {
    Epoch::parse("5d0c7f1e9a3b").unwrap()
}

fn ada() -> UserProfile {
    UserProfile { id: user("auth0|ada"), name: "Ada Lovelace".into(), country: Some("GB".into()) }
}

fn alan() -> UserProfile {
    UserProfile { id: user("guest-7f3a9c"), name: "Alan T.".into(), country: None }
}

fn grace() -> UserProfile {
    UserProfile { id: user("auth0|grace"), name: "Grace Hopper".into(), country: Some("US".into()) }
}

fn chat_message() -> ChatMessage {
    ChatMessage {
        id: message_id("01945c3e8b7a7c2d9e4f5a6b7c8d9e0f"),
        author: alan(),
        text: "Can you hear us at the back?".into(),
        at: 1_767_258_120_000,
    }
}

fn live_stage() -> Stage {
    Stage {
        state: StageState::Live,
        title: "Opening keynote".into(),
        speaker: Some("Grace Hopper".into()),
        started_at: Some(1_767_258_000_000),
        ended_at: None,
        updated_at: 1_767_258_000_000,
    }
}

fn announcement() -> Announcement {
    Announcement { text: "Lunch is served in the atrium until 13:30.".into(), by: grace(), at: 1_767_265_000_000 }
}

fn moderator_membership() -> Membership {
    Membership {
        role: Role::Moderator,
        can_chat: true,
        can_moderate: true,
        can_manage_stage: true,
        can_announce: false,
        booth_staff: false,
    }
}

fn attendance() -> Attendance {
    Attendance { present: 212, unique: 240 }
}

// ---- client messages ------------------------------------------------------------------------

fn hello() -> ClientMsg {
    ClientMsg::Hello { protocol: vec![1], token: "eyJhbGciOiJIUzI1NiJ9.e30.c2ln".into() }
}

fn refresh() -> ClientMsg {
    ClientMsg::Refresh { rid: RequestId(7), token: "eyJhbGciOiJIUzI1NiJ9.e30.bmV3".into() }
}

fn join() -> ClientMsg {
    ClientMsg::Join {
        rid: RequestId(12),
        room: keynote(),
        since: Some(StreamPosition { epoch: epoch(), seq: Seq(41) }),
    }
}

fn leave() -> ClientMsg {
    ClientMsg::Leave { rid: RequestId(2), room: keynote() }
}

fn stage_update() -> ClientMsg {
    ClientMsg::StageUpdate {
        rid: RequestId(3),
        room: keynote(),
        state: Some(StageState::Live),
        title: Some("Opening keynote".into()),
        speaker: Some("Grace Hopper".into()),
    }
}

fn chat_send() -> ClientMsg {
    ClientMsg::ChatSend { rid: RequestId(5), room: keynote(), text: "Hello from Zürich!\n\"quoted\"".into() }
}

fn chat_history_request() -> ClientMsg {
    ClientMsg::ChatHistory {
        rid: RequestId(6),
        room: keynote(),
        before: Some(message_id("01945c3e8b7a7c2d9e4f5a6b7c8d9e0f")),
        limit: Some(20),
    }
}

fn chat_delete() -> ClientMsg {
    ClientMsg::ChatDelete { rid: RequestId(8), room: keynote(), id: message_id("01945c3e8b7a7c2d9e4f5a6b7c8d9e0f") }
}

fn mute() -> ClientMsg {
    ClientMsg::Mute { rid: RequestId(9), room: keynote(), user: user("guest-7f3a9c"), minutes: Some(15) }
}

fn unmute() -> ClientMsg {
    ClientMsg::Unmute { rid: RequestId(10), room: keynote(), user: user("guest-7f3a9c") }
}

fn announce() -> ClientMsg {
    ClientMsg::Announce { rid: RequestId(11), text: "Lunch is served in the atrium until 13:30.".into() }
}

// ---- server messages ------------------------------------------------------------------------

fn welcome() -> ServerMsg {
    ServerMsg::Welcome {
        protocol: 1,
        connection: ConnectionId::parse("a1b2c3d4-17").unwrap(),
        user: ada(),
        roles: vec![Role::Attendee, Role::Moderator],
        expires_at: 1_767_265_200,
        limits: Limits {
            max_message_bytes: 16_384,
            max_rooms: 8,
            chat_max_chars: 1_000,
            commands_per_second: 20,
            max_frame_bytes: 1_048_576,
        },
    }
}

fn ack() -> ServerMsg {
    ServerMsg::Ack { rid: RequestId(5) }
}

fn error() -> ServerMsg {
    ServerMsg::Error {
        rid: Some(RequestId(5)),
        code: ErrorCode::RateLimited,
        message: "slow down: at most 20 chat messages a minute".into(),
        retry_after_ms: Some(2_750),
    }
}

fn snapshot() -> ServerMsg {
    ServerMsg::Snapshot {
        rid: RequestId(1),
        room: keynote(),
        epoch: epoch(),
        seq: Seq(41),
        recovered: Some(false),
        stage: Some(live_stage()),
        attendance: attendance(),
        chat: vec![chat_message()],
        chat_more: true,
        announcements: vec![announcement()],
        questions: vec![],
        questions_more: false,
        my_votes: vec![],
        polls: vec![],
        my_answers: vec![],
        booth: None,
        call: None,
        ice_servers: vec![],
        stage_tracks: vec![],
        you: moderator_membership(),
    }
}

fn resumed() -> ServerMsg {
    ServerMsg::Resumed {
        rid: RequestId(12),
        room: keynote(),
        epoch: epoch(),
        replayed: 2,
        attendance: attendance(),
        you: moderator_membership(),
    }
}

fn event() -> ServerMsg {
    ServerMsg::Event { room: keynote(), seq: Seq(42), event: RoomEvent::Chat { message: chat_message() } }
}

fn attendance_msg() -> ServerMsg {
    ServerMsg::Attendance { room: keynote(), attendance: Attendance { present: 215, unique: 243 } }
}

fn attendance_summary() -> ServerMsg {
    ServerMsg::AttendanceSummary {
        sessions: vec![
            SessionAttendance { room: keynote(), state: StageState::Live, present: 215 },
            SessionAttendance { room: room("session:rust-workshop"), state: StageState::Break, present: 38 },
        ],
    }
}

fn resync() -> ServerMsg {
    ServerMsg::Resync { room: keynote(), epoch: Epoch::parse("9e41c0d2b7aa").unwrap() }
}

fn qa_page_request() -> ClientMsg {
    ClientMsg::QaPage {
        rid: RequestId(12),
        room: keynote(),
        before: Some(message_id("01945c3f2a1b7c2d9e4f5a6b7c8d9e0f")),
    }
}

fn booth_page_request() -> ClientMsg {
    ClientMsg::BoothPage { rid: RequestId(9), room: room("booth:itu"), after: None }
}

fn questions_page() -> ServerMsg {
    let question = question();
    ServerMsg::QuestionsPage {
        rid: RequestId(12),
        room: keynote(),
        my_votes: vec![question.id.clone()],
        questions: vec![question],
        more: true,
    }
}

fn booth_requests() -> ServerMsg {
    ServerMsg::BoothRequests {
        rid: RequestId(9),
        room: room("booth:itu"),
        requests: vec![contact_request()],
        more: false,
    }
}

fn chat_history_answer() -> ServerMsg {
    ServerMsg::ChatHistory { rid: RequestId(6), room: keynote(), messages: vec![chat_message()], more: false }
}

// ---- room events ----------------------------------------------------------------------------

fn stage_event() -> RoomEvent {
    RoomEvent::Stage { stage: live_stage(), by: user("auth0|ada") }
}

fn chat_event() -> RoomEvent {
    RoomEvent::Chat { message: chat_message() }
}

fn chat_deleted_event() -> RoomEvent {
    RoomEvent::ChatDeleted { id: message_id("01945c3e8b7a7c2d9e4f5a6b7c8d9e0f"), by: user("auth0|ada") }
}

fn user_muted_event() -> RoomEvent {
    RoomEvent::UserMuted { user: user("guest-7f3a9c"), until: Some(1_767_262_200_000), by: user("auth0|ada") }
}

fn user_unmuted_event() -> RoomEvent {
    RoomEvent::UserUnmuted { user: user("guest-7f3a9c"), by: user("auth0|ada") }
}

fn question() -> QuestionView {
    QuestionView {
        id: message_id("01945c3f1a2b7c2d9e4f5a6b7c8d9e11"),
        text: "How will the WSIS action lines meet the SDGs after 2030?".into(),
        state: QuestionState::Published,
        version: 2,
        votes: 14,
        asker: Some(UserProfile { id: user("auth0|ada"), name: "Ada Lovelace".into(), country: None }),
        starred: false,
        rank: None,
        dismiss_reason: None,
        merged_into: None,
        asked_at: 1767258300000,
        updated_at: 1767258360000,
        answered_by: None,
    }
}

fn questions_event() -> RoomEvent {
    RoomEvent::Questions { changed: vec![question()], removed: vec![] }
}

fn qa_ask() -> ClientMsg {
    ClientMsg::QaAsk {
        rid: RequestId(12),
        room: keynote(),
        text: "How will the WSIS action lines meet the SDGs after 2030?".into(),
        anonymous: false,
    }
}

fn qa_vote() -> ClientMsg {
    ClientMsg::QaVote {
        rid: RequestId(13),
        room: keynote(),
        id: message_id("01945c3f1a2b7c2d9e4f5a6b7c8d9e11"),
        up: true,
    }
}

fn qa_withdraw() -> ClientMsg {
    ClientMsg::QaWithdraw { rid: RequestId(14), room: keynote(), id: message_id("01945c3f1a2b7c2d9e4f5a6b7c8d9e11") }
}

fn qa_moderate() -> ClientMsg {
    ClientMsg::QaModerate {
        rid: RequestId(15),
        room: keynote(),
        id: message_id("01945c3f1a2b7c2d9e4f5a6b7c8d9e11"),
        version: 2,
        action: QaAction::Highlight,
        text: None,
        reason: None,
        into: None,
        into_version: None,
        rank: None,
    }
}

fn qa_votes() -> ServerMsg {
    ServerMsg::QaVotes {
        room: keynote(),
        votes: vec![QuestionVotes { id: message_id("01945c3f1a2b7c2d9e4f5a6b7c8d9e11"), votes: 15 }],
    }
}

fn poll() -> PollView {
    PollView {
        id: message_id("01945c3f9a2b7c2d9e4f5a6b7c8d9e21"),
        question: "Which action line should the next Forum focus on?".into(),
        options: vec!["C3 Access to information".into(), "C5 Building confidence".into(), "C7 E-learning".into()],
        multiple: false,
        changeable: true,
        results: PollResults::Live,
        state: PollState::Open,
        version: 2,
        created_at: 1767258400000,
        updated_at: 1767258460000,
        tally: Some(PollTally {
            id: message_id("01945c3f9a2b7c2d9e4f5a6b7c8d9e21"),
            counts: vec![12, 30, 9],
            voters: 51,
        }),
    }
}

fn polls_event() -> RoomEvent {
    RoomEvent::Polls { changed: vec![poll()], removed: vec![] }
}

fn poll_create() -> ClientMsg {
    ClientMsg::PollCreate {
        rid: RequestId(16),
        room: keynote(),
        question: "Which action line should the next Forum focus on?".into(),
        options: vec!["C3 Access to information".into(), "C5 Building confidence".into(), "C7 E-learning".into()],
        multiple: false,
        changeable: true,
        results: PollResults::Live,
    }
}

fn poll_control() -> ClientMsg {
    ClientMsg::PollControl {
        rid: RequestId(17),
        room: keynote(),
        id: message_id("01945c3f9a2b7c2d9e4f5a6b7c8d9e21"),
        version: 1,
        action: PollAction::Open,
        results: None,
    }
}

fn poll_answer() -> ClientMsg {
    ClientMsg::PollAnswer {
        rid: RequestId(18),
        room: keynote(),
        id: message_id("01945c3f9a2b7c2d9e4f5a6b7c8d9e21"),
        choices: vec![1],
    }
}

fn poll_results() -> ServerMsg {
    ServerMsg::PollResults {
        room: keynote(),
        tallies: vec![PollTally {
            id: message_id("01945c3f9a2b7c2d9e4f5a6b7c8d9e21"),
            counts: vec![12, 31, 9],
            voters: 52,
        }],
    }
}

fn booth_room() -> RoomId {
    room("booth:itu")
}

fn contact_request() -> ContactRequestView {
    ContactRequestView {
        id: message_id("01945c4a1b2c7d3e8f9a0b1c2d3e4f50"),
        visitor: UserProfile { id: user("guest-7f3a9c"), name: "Alan T.".into(), country: None },
        kind: ContactKind::Live,
        message: None,
        state: ContactState::Waiting,
        position: Some(2),
        accepted_by: None,
        call: None,
        cancelled_by_visitor: None,
        created_at: 1_767_258_300_000,
        updated_at: 1_767_258_300_000,
    }
}

fn staff_view() -> StaffView {
    StaffView { user: user("auth0|grace"), name: "Grace Hopper".into(), status: StaffStatus::Available }
}

fn booth_event() -> RoomEvent {
    RoomEvent::Booth { staff: vec![staff_view()], requests: vec![contact_request()] }
}

fn call_opened_event() -> RoomEvent {
    RoomEvent::CallOpened {
        call: CallInfo {
            members: vec![UserProfile { id: user("guest-7f3a9c"), name: "Alan T.".into(), country: None }, grace()],
            booth: Some("itu".into()),
            opened_at: 1_767_258_360_000,
        },
    }
}

fn booth_status() -> ClientMsg {
    ClientMsg::BoothStatus { rid: RequestId(20), room: booth_room(), status: StaffStatus::Busy }
}

fn booth_request() -> ClientMsg {
    ClientMsg::BoothRequest {
        rid: RequestId(21),
        room: booth_room(),
        message: Some("Please call me about the 2026 prizes".into()),
    }
}

fn booth_cancel() -> ClientMsg {
    ClientMsg::BoothCancel {
        rid: RequestId(22),
        room: booth_room(),
        id: message_id("01945c4a1b2c7d3e8f9a0b1c2d3e4f50"),
    }
}

fn booth_accept() -> ClientMsg {
    ClientMsg::BoothAccept {
        rid: RequestId(23),
        room: booth_room(),
        id: message_id("01945c4a1b2c7d3e8f9a0b1c2d3e4f50"),
    }
}

fn call_room() -> RoomId {
    room("call:01945c4a1b2c7d3e8f9a0b1c2d3e4f50")
}

fn call_signal() -> ClientMsg {
    ClientMsg::CallSignal {
        rid: RequestId(24),
        room: call_room(),
        to: user("auth0|grace"),
        signal: Signal::Candidate {
            candidate: "candidate:842163049 1 udp 1677729535 198.51.100.7 46154 typ srflx raddr 0.0.0.0 rport 0".into(),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(0),
            username_fragment: Some("EsAw".into()),
        },
    }
}

fn signal_msg() -> ServerMsg {
    ServerMsg::Signal {
        room: call_room(),
        from: user("guest-7f3a9c"),
        signal: Signal::Offer { sdp: "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n".into() },
    }
}

const SDP: &str = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";

fn media_publish() -> ClientMsg {
    ClientMsg::MediaPublish {
        rid: RequestId(26),
        room: keynote(),
        sdp: SDP.into(),
        tracks: vec![
            PublishedTrack { mid: "0".into(), source: TrackSource::Camera },
            PublishedTrack { mid: "1".into(), source: TrackSource::Microphone },
        ],
    }
}

fn media_view() -> ClientMsg {
    ClientMsg::MediaView { rid: RequestId(27), room: keynote(), quality: StageQuality::Auto }
}

fn media_answer() -> ClientMsg {
    ClientMsg::MediaAnswer { rid: RequestId(28), room: keynote(), sdp: SDP.into() }
}

fn media_quality() -> ClientMsg {
    ClientMsg::MediaQuality { rid: RequestId(29), room: keynote(), quality: StageQuality::AudioOnly }
}

fn media_stop() -> ClientMsg {
    ClientMsg::MediaStop { rid: RequestId(30), room: keynote() }
}

fn media_published() -> ServerMsg {
    ServerMsg::MediaPublished { rid: RequestId(26), room: keynote(), sdp: SDP.into() }
}

fn media_offer() -> ServerMsg {
    ServerMsg::MediaOffer { rid: None, room: keynote(), sdp: SDP.into() }
}

fn stage_tracks_event() -> RoomEvent {
    RoomEvent::StageTracks {
        tracks: vec![
            StageTrack {
                id: "17-0".into(),
                user: user("auth0|grace"),
                name: "Grace Hopper".into(),
                source: TrackSource::Camera,
                layers: vec!["l".into(), "m".into(), "h".into()],
            },
            StageTrack {
                id: "17-1".into(),
                user: user("auth0|grace"),
                name: "Grace Hopper".into(),
                source: TrackSource::Microphone,
                layers: vec![],
            },
        ],
    }
}

fn booth_summary() -> ServerMsg {
    ServerMsg::BoothSummary {
        booths: vec![
            BoothCounts { booth: "itu".into(), visitors: 14, staff_on_duty: 2 },
            BoothCounts { booth: "undp".into(), visitors: 3, staff_on_duty: 0 },
        ],
    }
}

fn announcement_event() -> RoomEvent {
    RoomEvent::Announcement { announcement: announcement() }
}

// ---- encoding -------------------------------------------------------------------------------

/// The frame a client sends, checked to decode back to `msg`.
fn client_json(msg: ClientMsg) -> String {
    let json = msg.to_json();
    assert_eq!(serde_json::from_str::<ClientMsg>(&json).unwrap(), msg, "{json}");
    json
}

/// The frame a node sends, checked to decode back to `msg`.
fn server_json(msg: ServerMsg) -> String {
    let json = msg.to_json();
    assert_eq!(serde_json::from_str::<ServerMsg>(&json).unwrap(), msg, "{json}");
    json
}

/// A room event as published to the bus and nested in `event`, checked to decode back.
fn event_json(event: RoomEvent) -> String {
    let json = serde_json::to_string(&event).unwrap();
    assert_eq!(serde_json::from_str::<RoomEvent>(&json).unwrap(), event, "{json}");
    json
}

#[test]
fn every_variant_is_pinned() {
    let clients = [
        hello(),
        refresh(),
        join(),
        leave(),
        stage_update(),
        chat_send(),
        chat_history_request(),
        chat_delete(),
        mute(),
        unmute(),
        announce(),
        qa_ask(),
        qa_vote(),
        qa_withdraw(),
        qa_page_request(),
        qa_moderate(),
        poll_create(),
        poll_control(),
        poll_answer(),
        booth_status(),
        booth_request(),
        booth_cancel(),
        booth_accept(),
        booth_page_request(),
        call_signal(),
        media_publish(),
        media_view(),
        media_answer(),
        media_quality(),
        media_stop(),
    ];
    let servers = [
        welcome(),
        ack(),
        error(),
        snapshot(),
        resumed(),
        event(),
        attendance_msg(),
        attendance_summary(),
        chat_history_answer(),
        questions_page(),
        booth_requests(),
        resync(),
        qa_votes(),
        poll_results(),
        booth_summary(),
        signal_msg(),
        media_published(),
        media_offer(),
    ];
    let events = [
        stage_event(),
        chat_event(),
        chat_deleted_event(),
        user_muted_event(),
        user_unmuted_event(),
        announcement_event(),
        questions_event(),
        polls_event(),
        booth_event(),
        call_opened_event(),
        RoomEvent::CallJoined { member: grace() },
        RoomEvent::CallLeft { user: user("auth0|grace") },
        stage_tracks_event(),
    ];
    let seen: BTreeSet<&str> = clients.iter().map(client_tag).collect();
    assert_eq!(seen, CLIENT_TAGS.iter().copied().collect(), "client messages");
    let seen: BTreeSet<&str> = servers.iter().map(server_tag).collect();
    assert_eq!(seen, SERVER_TAGS.iter().copied().collect(), "server messages");
    let seen: BTreeSet<&str> = events.iter().map(event_tag).collect();
    assert_eq!(seen, EVENT_TAGS.iter().copied().collect(), "room events");
}

// ---- client messages ------------------------------------------------------------------------

#[test]
fn client_hello() {
    expect![[r#"{"type":"hello","protocol":[1],"token":"eyJhbGciOiJIUzI1NiJ9.e30.c2ln"}"#]]
        .assert_eq(&client_json(hello()));
}

#[test]
fn client_refresh() {
    expect![[r#"{"type":"refresh","rid":7,"token":"eyJhbGciOiJIUzI1NiJ9.e30.bmV3"}"#]]
        .assert_eq(&client_json(refresh()));
}

#[test]
fn client_join() {
    expect![[r#"{"type":"join","rid":12,"room":"session:keynote","since":{"epoch":"5d0c7f1e9a3b","seq":41}}"#]]
        .assert_eq(&client_json(join()));
}

#[test]
fn client_join_without_since() {
    let msg = ClientMsg::Join { rid: RequestId(1), room: RoomId::event(), since: None };
    expect![[r#"{"type":"join","rid":1,"room":"event"}"#]].assert_eq(&client_json(msg));
}

#[test]
fn client_leave() {
    expect![[r#"{"type":"leave","rid":2,"room":"session:keynote"}"#]].assert_eq(&client_json(leave()));
}

#[test]
fn client_stage_update() {
    expect![[r#"{"type":"stage_update","rid":3,"room":"session:keynote","state":"live","title":"Opening keynote","speaker":"Grace Hopper"}"#]].assert_eq(&client_json(stage_update()));
}

#[test]
fn client_stage_update_speaker_only() {
    let msg = ClientMsg::StageUpdate {
        rid: RequestId(4),
        room: keynote(),
        state: None,
        title: None,
        speaker: Some(String::new()),
    };
    expect![[r#"{"type":"stage_update","rid":4,"room":"session:keynote","speaker":""}"#]].assert_eq(&client_json(msg));
}

#[test]
fn client_chat_send() {
    expect![[r#"{"type":"chat_send","rid":5,"room":"session:keynote","text":"Hello from Zürich!\n\"quoted\""}"#]]
        .assert_eq(&client_json(chat_send()));
}

#[test]
fn client_chat_history() {
    expect![[r#"{"type":"chat_history","rid":6,"room":"session:keynote","before":"01945c3e8b7a7c2d9e4f5a6b7c8d9e0f","limit":20}"#]].assert_eq(&client_json(chat_history_request()));
}

#[test]
fn client_chat_history_newest() {
    let msg = ClientMsg::ChatHistory { rid: RequestId(6), room: keynote(), before: None, limit: None };
    expect![[r#"{"type":"chat_history","rid":6,"room":"session:keynote"}"#]].assert_eq(&client_json(msg));
}

#[test]
fn client_chat_delete() {
    expect![[r#"{"type":"chat_delete","rid":8,"room":"session:keynote","id":"01945c3e8b7a7c2d9e4f5a6b7c8d9e0f"}"#]]
        .assert_eq(&client_json(chat_delete()));
}

#[test]
fn client_mute() {
    expect![[r#"{"type":"mute","rid":9,"room":"session:keynote","user":"guest-7f3a9c","minutes":15}"#]]
        .assert_eq(&client_json(mute()));
}

#[test]
fn client_mute_until_unmuted() {
    let msg = ClientMsg::Mute { rid: RequestId(9), room: keynote(), user: user("guest-7f3a9c"), minutes: None };
    expect![[r#"{"type":"mute","rid":9,"room":"session:keynote","user":"guest-7f3a9c"}"#]].assert_eq(&client_json(msg));
}

#[test]
fn client_unmute() {
    expect![[r#"{"type":"unmute","rid":10,"room":"session:keynote","user":"guest-7f3a9c"}"#]]
        .assert_eq(&client_json(unmute()));
}

#[test]
fn client_announce() {
    expect![[r#"{"type":"announce","rid":11,"text":"Lunch is served in the atrium until 13:30."}"#]]
        .assert_eq(&client_json(announce()));
}

// ---- server messages ------------------------------------------------------------------------

#[test]
fn server_welcome() {
    expect![[r#"{"type":"welcome","protocol":1,"connection":"a1b2c3d4-17","user":{"id":"auth0|ada","name":"Ada Lovelace","country":"GB"},"roles":["attendee","moderator"],"expires_at":1767265200,"limits":{"max_message_bytes":16384,"max_rooms":8,"chat_max_chars":1000,"commands_per_second":20,"max_frame_bytes":1048576}}"#]].assert_eq(&server_json(welcome()));
}

#[test]
fn server_ack() {
    expect![[r#"{"type":"ack","rid":5}"#]].assert_eq(&server_json(ack()));
}

#[test]
fn server_error() {
    expect![[r#"{"type":"error","rid":5,"code":429,"message":"slow down: at most 20 chat messages a minute","retry_after_ms":2750}"#]].assert_eq(&server_json(error()));
}

#[test]
fn server_error_without_rid() {
    let msg = ServerMsg::Error {
        rid: None,
        code: ErrorCode::BadRequest,
        message: "binary frames are not supported; send JSON text".into(),
        retry_after_ms: None,
    };
    expect![[r#"{"type":"error","code":400,"message":"binary frames are not supported; send JSON text"}"#]]
        .assert_eq(&server_json(msg));
}

#[test]
fn server_snapshot() {
    expect![[r#"{"type":"snapshot","rid":1,"room":"session:keynote","epoch":"5d0c7f1e9a3b","seq":41,"recovered":false,"stage":{"state":"live","title":"Opening keynote","speaker":"Grace Hopper","started_at":1767258000000,"updated_at":1767258000000},"attendance":{"present":212,"unique":240},"chat":[{"id":"01945c3e8b7a7c2d9e4f5a6b7c8d9e0f","author":{"id":"guest-7f3a9c","name":"Alan T."},"text":"Can you hear us at the back?","at":1767258120000}],"chat_more":true,"announcements":[{"text":"Lunch is served in the atrium until 13:30.","by":{"id":"auth0|grace","name":"Grace Hopper","country":"US"},"at":1767265000000}],"you":{"role":"moderator","can_chat":true,"can_moderate":true,"can_manage_stage":true,"can_announce":false}}"#]].assert_eq(&server_json(snapshot()));
}

#[test]
fn server_snapshot_minimal() {
    let msg = ServerMsg::Snapshot {
        rid: RequestId(1),
        room: RoomId::event(),
        epoch: epoch(),
        seq: Seq::ZERO,
        recovered: None,
        stage: None,
        attendance: Attendance { present: 1, unique: 1 },
        chat: vec![],
        chat_more: false,
        announcements: vec![],
        questions: vec![],
        questions_more: false,
        my_votes: vec![],
        polls: vec![],
        my_answers: vec![],
        you: Membership {
            role: Role::Attendee,
            can_chat: false,
            can_moderate: false,
            can_manage_stage: false,
            can_announce: false,
            booth_staff: false,
        },
        booth: None,
        call: None,
        ice_servers: vec![],
        stage_tracks: vec![],
    };
    expect![[r#"{"type":"snapshot","rid":1,"room":"event","epoch":"5d0c7f1e9a3b","seq":0,"attendance":{"present":1,"unique":1},"chat":[],"chat_more":false,"you":{"role":"attendee","can_chat":false,"can_moderate":false,"can_manage_stage":false,"can_announce":false}}"#]].assert_eq(&server_json(msg));
}

#[test]
fn server_resumed() {
    expect![[r#"{"type":"resumed","rid":12,"room":"session:keynote","epoch":"5d0c7f1e9a3b","replayed":2,"attendance":{"present":212,"unique":240},"you":{"role":"moderator","can_chat":true,"can_moderate":true,"can_manage_stage":true,"can_announce":false}}"#]].assert_eq(&server_json(resumed()));
}

#[test]
fn server_event() {
    expect![[r#"{"type":"event","room":"session:keynote","seq":42,"event":{"type":"chat","message":{"id":"01945c3e8b7a7c2d9e4f5a6b7c8d9e0f","author":{"id":"guest-7f3a9c","name":"Alan T."},"text":"Can you hear us at the back?","at":1767258120000}}}"#]].assert_eq(&server_json(event()));
}

#[test]
fn server_attendance() {
    expect![[r#"{"type":"attendance","room":"session:keynote","attendance":{"present":215,"unique":243}}"#]]
        .assert_eq(&server_json(attendance_msg()));
}

#[test]
fn server_attendance_summary() {
    expect![[r#"{"type":"attendance_summary","sessions":[{"room":"session:keynote","state":"live","present":215},{"room":"session:rust-workshop","state":"break","present":38}]}"#]].assert_eq(&server_json(attendance_summary()));
}

#[test]
fn client_qa_page() {
    expect![[r#"{"type":"qa_page","rid":12,"room":"session:keynote","before":"01945c3f2a1b7c2d9e4f5a6b7c8d9e0f"}"#]]
        .assert_eq(&client_json(qa_page_request()));
}

#[test]
fn client_booth_page() {
    expect![[r#"{"type":"booth_page","rid":9,"room":"booth:itu"}"#]].assert_eq(&client_json(booth_page_request()));
}

#[test]
fn server_questions_page() {
    expect![[r#"{"type":"questions_page","rid":12,"room":"session:keynote","questions":[{"id":"01945c3f1a2b7c2d9e4f5a6b7c8d9e11","text":"How will the WSIS action lines meet the SDGs after 2030?","state":"published","version":2,"votes":14,"asker":{"id":"auth0|ada","name":"Ada Lovelace"},"asked_at":1767258300000,"updated_at":1767258360000}],"my_votes":["01945c3f1a2b7c2d9e4f5a6b7c8d9e11"],"more":true}"#]].assert_eq(&server_json(questions_page()));
}

#[test]
fn server_booth_requests() {
    expect![[r#"{"type":"booth_requests","rid":9,"room":"booth:itu","requests":[{"id":"01945c4a1b2c7d3e8f9a0b1c2d3e4f50","visitor":{"id":"guest-7f3a9c","name":"Alan T."},"kind":"live","state":"waiting","position":2,"created_at":1767258300000,"updated_at":1767258300000}],"more":false}"#]].assert_eq(&server_json(booth_requests()));
}

#[test]
fn server_chat_history() {
    expect![[r#"{"type":"chat_history","rid":6,"room":"session:keynote","messages":[{"id":"01945c3e8b7a7c2d9e4f5a6b7c8d9e0f","author":{"id":"guest-7f3a9c","name":"Alan T."},"text":"Can you hear us at the back?","at":1767258120000}],"more":false}"#]].assert_eq(&server_json(chat_history_answer()));
}

#[test]
fn qa_messages() {
    expect![[r#"{"type":"qa_ask","rid":12,"room":"session:keynote","text":"How will the WSIS action lines meet the SDGs after 2030?"}"#]].assert_eq(&client_json(qa_ask()));
    expect![[r#"{"type":"qa_moderate","rid":15,"room":"session:keynote","id":"01945c3f1a2b7c2d9e4f5a6b7c8d9e11","version":2,"action":"highlight"}"#]].assert_eq(&client_json(qa_moderate()));
    expect![[
        r#"{"type":"qa_votes","room":"session:keynote","votes":[{"id":"01945c3f1a2b7c2d9e4f5a6b7c8d9e11","votes":15}]}"#
    ]]
    .assert_eq(&server_json(qa_votes()));
}

#[test]
fn server_resync() {
    expect![[r#"{"type":"resync","room":"session:keynote","epoch":"9e41c0d2b7aa"}"#]].assert_eq(&server_json(resync()));
}

// ---- room events ----------------------------------------------------------------------------

#[test]
fn event_stage() {
    expect![[r#"{"type":"stage","stage":{"state":"live","title":"Opening keynote","speaker":"Grace Hopper","started_at":1767258000000,"updated_at":1767258000000},"by":"auth0|ada"}"#]].assert_eq(&event_json(stage_event()));
}

#[test]
fn event_stage_minimal() {
    let stage = Stage {
        state: StageState::Scheduled,
        title: "keynote".into(),
        speaker: None,
        started_at: None,
        ended_at: None,
        updated_at: 0,
    };
    expect![[r#"{"type":"stage","stage":{"state":"scheduled","title":"keynote","updated_at":0},"by":"auth0|grace"}"#]]
        .assert_eq(&event_json(RoomEvent::Stage { stage, by: user("auth0|grace") }));
}

#[test]
fn event_chat() {
    expect![[r#"{"type":"chat","message":{"id":"01945c3e8b7a7c2d9e4f5a6b7c8d9e0f","author":{"id":"guest-7f3a9c","name":"Alan T."},"text":"Can you hear us at the back?","at":1767258120000}}"#]].assert_eq(&event_json(chat_event()));
}

#[test]
fn event_chat_deleted() {
    expect![[r#"{"type":"chat_deleted","id":"01945c3e8b7a7c2d9e4f5a6b7c8d9e0f","by":"auth0|ada"}"#]]
        .assert_eq(&event_json(chat_deleted_event()));
}

#[test]
fn event_user_muted() {
    expect![[r#"{"type":"user_muted","user":"guest-7f3a9c","until":1767262200000,"by":"auth0|ada"}"#]]
        .assert_eq(&event_json(user_muted_event()));
}

#[test]
fn event_user_muted_until_unmuted() {
    let event = RoomEvent::UserMuted { user: user("guest-b41d0e"), until: None, by: user("auth0|grace") };
    expect![[r#"{"type":"user_muted","user":"guest-b41d0e","by":"auth0|grace"}"#]].assert_eq(&event_json(event));
}

#[test]
fn event_user_unmuted() {
    expect![[r#"{"type":"user_unmuted","user":"guest-7f3a9c","by":"auth0|ada"}"#]]
        .assert_eq(&event_json(user_unmuted_event()));
}

#[test]
fn event_announcement() {
    expect![[r#"{"type":"announcement","announcement":{"text":"Lunch is served in the atrium until 13:30.","by":{"id":"auth0|grace","name":"Grace Hopper","country":"US"},"at":1767265000000}}"#]].assert_eq(&event_json(announcement_event()));
}

#[test]
fn poll_messages() {
    expect![[r#"{"type":"poll_create","rid":16,"room":"session:keynote","question":"Which action line should the next Forum focus on?","options":["C3 Access to information","C5 Building confidence","C7 E-learning"],"changeable":true,"results":"live"}"#]].assert_eq(&client_json(poll_create()));
    expect![[r#"{"type":"poll_answer","rid":18,"room":"session:keynote","id":"01945c3f9a2b7c2d9e4f5a6b7c8d9e21","choices":[1]}"#]].assert_eq(&client_json(poll_answer()));
    expect![[r#"{"type":"poll_results","room":"session:keynote","tallies":[{"id":"01945c3f9a2b7c2d9e4f5a6b7c8d9e21","counts":[12,31,9],"voters":52}]}"#]].assert_eq(&server_json(poll_results()));
}

#[test]
fn booth_messages() {
    expect![[r#"{"type":"booth_status","rid":20,"room":"booth:itu","status":"busy"}"#]]
        .assert_eq(&client_json(booth_status()));
    expect![[
        r#"{"type":"booth_request","rid":21,"room":"booth:itu","message":"Please call me about the 2026 prizes"}"#
    ]]
    .assert_eq(&client_json(booth_request()));
    expect![[r#"{"type":"booth_cancel","rid":22,"room":"booth:itu","id":"01945c4a1b2c7d3e8f9a0b1c2d3e4f50"}"#]]
        .assert_eq(&client_json(booth_cancel()));
    expect![[r#"{"type":"booth_accept","rid":23,"room":"booth:itu","id":"01945c4a1b2c7d3e8f9a0b1c2d3e4f50"}"#]]
        .assert_eq(&client_json(booth_accept()));
    expect![[r#"{"type":"booth_summary","booths":[{"booth":"itu","visitors":14,"staff_on_duty":2},{"booth":"undp","visitors":3,"staff_on_duty":0}]}"#]].assert_eq(&server_json(booth_summary()));
    expect![[r#"{"type":"booth","staff":[{"user":"auth0|grace","name":"Grace Hopper","status":"available"}],"requests":[{"id":"01945c4a1b2c7d3e8f9a0b1c2d3e4f50","visitor":{"id":"guest-7f3a9c","name":"Alan T."},"kind":"live","state":"waiting","position":2,"created_at":1767258300000,"updated_at":1767258300000}]}"#]].assert_eq(&event_json(booth_event()));
    expect![[r#"{"type":"call_opened","call":{"members":[{"id":"guest-7f3a9c","name":"Alan T."},{"id":"auth0|grace","name":"Grace Hopper","country":"US"}],"booth":"itu","opened_at":1767258360000}}"#]].assert_eq(&event_json(call_opened_event()));
}

#[test]
fn booth_snapshot() {
    let msg = ServerMsg::Snapshot {
        rid: RequestId(5),
        room: booth_room(),
        epoch: epoch(),
        seq: Seq(7),
        recovered: None,
        stage: None,
        attendance: Attendance { present: 14, unique: 60 },
        chat: vec![],
        chat_more: false,
        announcements: vec![],
        questions: vec![],
        questions_more: false,
        my_votes: vec![],
        polls: vec![],
        my_answers: vec![],
        booth: Some(BoothView { staff: vec![staff_view()], requests: vec![contact_request()], more: false }),
        call: None,
        ice_servers: vec![],
        stage_tracks: vec![],
        you: Membership {
            role: Role::Exhibitor,
            can_chat: true,
            can_moderate: true,
            can_manage_stage: false,
            can_announce: false,
            booth_staff: true,
        },
    };
    expect![[r#"{"type":"snapshot","rid":5,"room":"booth:itu","epoch":"5d0c7f1e9a3b","seq":7,"attendance":{"present":14,"unique":60},"chat":[],"chat_more":false,"booth":{"staff":[{"user":"auth0|grace","name":"Grace Hopper","status":"available"}],"requests":[{"id":"01945c4a1b2c7d3e8f9a0b1c2d3e4f50","visitor":{"id":"guest-7f3a9c","name":"Alan T."},"kind":"live","state":"waiting","position":2,"created_at":1767258300000,"updated_at":1767258300000}]},"you":{"role":"exhibitor","can_chat":true,"can_moderate":true,"can_manage_stage":false,"can_announce":false,"booth_staff":true}}"#]].assert_eq(&server_json(msg));
}

#[test]
fn call_messages() {
    expect![[r#"{"type":"call_signal","rid":24,"room":"call:01945c4a1b2c7d3e8f9a0b1c2d3e4f50","to":"auth0|grace","signal":{"kind":"candidate","candidate":"candidate:842163049 1 udp 1677729535 198.51.100.7 46154 typ srflx raddr 0.0.0.0 rport 0","sdp_mid":"0","sdp_m_line_index":0,"username_fragment":"EsAw"}}"#]].assert_eq(&client_json(call_signal()));
    expect![[r#"{"type":"signal","room":"call:01945c4a1b2c7d3e8f9a0b1c2d3e4f50","from":"guest-7f3a9c","signal":{"kind":"offer","sdp":"v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"}}"#]].assert_eq(&server_json(signal_msg()));
    let bye =
        ClientMsg::CallSignal { rid: RequestId(25), room: call_room(), to: user("auth0|grace"), signal: Signal::Bye };
    expect![[r#"{"type":"call_signal","rid":25,"room":"call:01945c4a1b2c7d3e8f9a0b1c2d3e4f50","to":"auth0|grace","signal":{"kind":"bye"}}"#]].assert_eq(&client_json(bye));
    let ready =
        ServerMsg::Signal { room: call_room(), from: user("auth0|grace"), signal: Signal::Ready { reply: true } };
    expect![[r#"{"type":"signal","room":"call:01945c4a1b2c7d3e8f9a0b1c2d3e4f50","from":"auth0|grace","signal":{"kind":"ready","reply":true}}"#]].assert_eq(&server_json(ready));
    let media = ServerMsg::Signal {
        room: call_room(),
        from: user("auth0|grace"),
        signal: Signal::Media { audio: false, video: true },
    };
    expect![[r#"{"type":"signal","room":"call:01945c4a1b2c7d3e8f9a0b1c2d3e4f50","from":"auth0|grace","signal":{"kind":"media","audio":false,"video":true}}"#]].assert_eq(&server_json(media));
    let snapshot = ServerMsg::Snapshot {
        rid: RequestId(6),
        room: call_room(),
        epoch: epoch(),
        seq: Seq(1),
        recovered: None,
        stage: None,
        attendance: Attendance { present: 1, unique: 1 },
        chat: vec![],
        chat_more: false,
        announcements: vec![],
        questions: vec![],
        questions_more: false,
        my_votes: vec![],
        polls: vec![],
        my_answers: vec![],
        booth: None,
        call: None,
        ice_servers: vec![
            IceServer { urls: vec!["stun:stun.example.org:3478".into()], username: None, credential: None },
            IceServer {
                urls: vec!["turn:turn.example.org:3478?transport=udp".into(), "turns:turn.example.org:5349".into()],
                username: Some("1767272400:guest-7f3a9c".into()),
                credential: Some("3mG5yJqEGbkAqrgSPCCp1bQOc1A=".into()),
            },
        ],
        stage_tracks: vec![],
        you: Membership {
            role: Role::Attendee,
            can_chat: true,
            can_moderate: false,
            can_manage_stage: false,
            can_announce: false,
            booth_staff: false,
        },
    };
    expect![[r#"{"type":"snapshot","rid":6,"room":"call:01945c4a1b2c7d3e8f9a0b1c2d3e4f50","epoch":"5d0c7f1e9a3b","seq":1,"attendance":{"present":1,"unique":1},"chat":[],"chat_more":false,"ice_servers":[{"urls":["stun:stun.example.org:3478"]},{"urls":["turn:turn.example.org:3478?transport=udp","turns:turn.example.org:5349"],"username":"1767272400:guest-7f3a9c","credential":"3mG5yJqEGbkAqrgSPCCp1bQOc1A="}],"you":{"role":"attendee","can_chat":true,"can_moderate":false,"can_manage_stage":false,"can_announce":false}}"#]].assert_eq(&server_json(snapshot));
}

#[test]
fn green_room_events() {
    expect![[r#"{"type":"call_joined","member":{"id":"auth0|grace","name":"Grace Hopper","country":"US"}}"#]]
        .assert_eq(&event_json(RoomEvent::CallJoined { member: grace() }));
    expect![[r#"{"type":"call_left","user":"auth0|grace"}"#]]
        .assert_eq(&event_json(RoomEvent::CallLeft { user: user("auth0|grace") }));
}

// ---- the WebRTC stage -------------------------------------------------------------------------

#[test]
fn media_messages() {
    expect![[r#"{"type":"media_publish","rid":26,"room":"session:keynote","sdp":"v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n","tracks":[{"mid":"0","source":"camera"},{"mid":"1","source":"microphone"}]}"#]].assert_eq(&client_json(media_publish()));
    expect![[r#"{"type":"media_view","rid":27,"room":"session:keynote","quality":"auto"}"#]]
        .assert_eq(&client_json(media_view()));
    expect![[r#"{"type":"media_answer","rid":28,"room":"session:keynote","sdp":"v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"}"#]].assert_eq(&client_json(media_answer()));
    expect![[r#"{"type":"media_quality","rid":29,"room":"session:keynote","quality":"audio_only"}"#]]
        .assert_eq(&client_json(media_quality()));
    expect![[r#"{"type":"media_stop","rid":30,"room":"session:keynote"}"#]].assert_eq(&client_json(media_stop()));
    expect![[r#"{"type":"media_published","rid":26,"room":"session:keynote","sdp":"v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"}"#]].assert_eq(&server_json(media_published()));
    expect![[r#"{"type":"media_offer","room":"session:keynote","sdp":"v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"}"#]].assert_eq(&server_json(media_offer()));
    let event = ServerMsg::Event { room: keynote(), seq: Seq(57), event: stage_tracks_event() };
    expect![[r#"{"type":"event","room":"session:keynote","seq":57,"event":{"type":"stage_tracks","tracks":[{"id":"17-0","user":"auth0|grace","name":"Grace Hopper","source":"camera","layers":["l","m","h"]},{"id":"17-1","user":"auth0|grace","name":"Grace Hopper","source":"microphone"}]}}"#]].assert_eq(&server_json(event));
}
