//! One value of every message and room event, and the encoders that check a value decodes
//! back to itself: shared by the snapshot tests (`snapshots.rs`, `snapshots_server.rs`).

use plenary_proto::*;

// ---- values ---------------------------------------------------------------------------------

pub fn room(id: &str) -> RoomId {
    RoomId::parse(id).unwrap()
}

pub fn keynote() -> RoomId {
    room("session:keynote")
}

pub fn user(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

pub fn message_id(id: &str) -> MessageId {
    MessageId::parse(id).unwrap()
}

pub fn epoch() -> Epoch {
    Epoch::parse("5d0c7f1e9a3b").unwrap()
}

pub fn ada() -> UserProfile {
    UserProfile { id: user("auth0|ada"), name: "Ada Lovelace".into(), country: Some("GB".into()) }
}

pub fn alan() -> UserProfile {
    UserProfile { id: user("guest-7f3a9c"), name: "Alan T.".into(), country: None }
}

pub fn grace() -> UserProfile {
    UserProfile { id: user("auth0|grace"), name: "Grace Hopper".into(), country: Some("US".into()) }
}

pub fn chat_message() -> ChatMessage {
    ChatMessage {
        id: message_id("01945c3e8b7a7c2d9e4f5a6b7c8d9e0f"),
        author: alan(),
        text: "Can you hear us at the back?".into(),
        at: 1_767_258_120_000,
    }
}

pub fn live_stage() -> Stage {
    Stage {
        state: StageState::Live,
        title: "Opening keynote".into(),
        speaker: Some("Grace Hopper".into()),
        started_at: Some(1_767_258_000_000),
        ended_at: None,
        updated_at: 1_767_258_000_000,
    }
}

pub fn announcement() -> Announcement {
    Announcement { text: "Lunch is served in the atrium until 13:30.".into(), by: grace(), at: 1_767_265_000_000 }
}

pub fn moderator_membership() -> Membership {
    Membership {
        role: Role::Moderator,
        can_chat: true,
        can_moderate: true,
        can_manage_stage: true,
        can_announce: false,
        booth_staff: false,
    }
}

pub fn attendance() -> Attendance {
    Attendance { present: 212, unique: 240 }
}

// ---- client messages ------------------------------------------------------------------------

pub fn hello() -> ClientMsg {
    ClientMsg::Hello { protocol: vec![1], token: "eyJhbGciOiJIUzI1NiJ9.e30.c2ln".into() }
}

pub fn refresh() -> ClientMsg {
    ClientMsg::Refresh { rid: RequestId(7), token: "eyJhbGciOiJIUzI1NiJ9.e30.bmV3".into() }
}

pub fn join() -> ClientMsg {
    ClientMsg::Join {
        rid: RequestId(12),
        room: keynote(),
        since: Some(StreamPosition { epoch: epoch(), seq: Seq(41) }),
    }
}

pub fn leave() -> ClientMsg {
    ClientMsg::Leave { rid: RequestId(2), room: keynote() }
}

pub fn stage_update() -> ClientMsg {
    ClientMsg::StageUpdate {
        rid: RequestId(3),
        room: keynote(),
        state: Some(StageState::Live),
        title: Some("Opening keynote".into()),
        speaker: Some("Grace Hopper".into()),
    }
}

pub fn chat_send() -> ClientMsg {
    ClientMsg::ChatSend { rid: RequestId(5), room: keynote(), text: "Hello from Zürich!\n\"quoted\"".into() }
}

pub fn chat_history_request() -> ClientMsg {
    ClientMsg::ChatHistory {
        rid: RequestId(6),
        room: keynote(),
        before: Some(message_id("01945c3e8b7a7c2d9e4f5a6b7c8d9e0f")),
        limit: Some(20),
    }
}

pub fn chat_delete() -> ClientMsg {
    ClientMsg::ChatDelete { rid: RequestId(8), room: keynote(), id: message_id("01945c3e8b7a7c2d9e4f5a6b7c8d9e0f") }
}

pub fn mute() -> ClientMsg {
    ClientMsg::Mute { rid: RequestId(9), room: keynote(), user: user("guest-7f3a9c"), minutes: Some(15) }
}

pub fn unmute() -> ClientMsg {
    ClientMsg::Unmute { rid: RequestId(10), room: keynote(), user: user("guest-7f3a9c") }
}

pub fn announce() -> ClientMsg {
    ClientMsg::Announce { rid: RequestId(11), text: "Lunch is served in the atrium until 13:30.".into() }
}

// ---- server messages ------------------------------------------------------------------------

pub fn welcome() -> ServerMsg {
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

pub fn ack() -> ServerMsg {
    ServerMsg::Ack { rid: RequestId(5) }
}

pub fn error() -> ServerMsg {
    ServerMsg::Error {
        rid: Some(RequestId(5)),
        code: ErrorCode::RateLimited,
        message: "slow down: at most 20 chat messages a minute".into(),
        retry_after_ms: Some(2_750),
    }
}

pub fn snapshot() -> ServerMsg {
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
        on_stage: vec![],
        hands: vec![],
        you: moderator_membership(),
    }
}

pub fn resumed() -> ServerMsg {
    ServerMsg::Resumed {
        rid: RequestId(12),
        room: keynote(),
        epoch: epoch(),
        replayed: 2,
        attendance: attendance(),
        you: moderator_membership(),
    }
}

pub fn event() -> ServerMsg {
    ServerMsg::Event { room: keynote(), seq: Seq(42), event: RoomEvent::Chat { message: chat_message() } }
}

pub fn attendance_msg() -> ServerMsg {
    ServerMsg::Attendance { room: keynote(), attendance: Attendance { present: 215, unique: 243 } }
}

pub fn attendance_summary() -> ServerMsg {
    ServerMsg::AttendanceSummary {
        sessions: vec![
            SessionAttendance { room: keynote(), state: StageState::Live, present: 215 },
            SessionAttendance { room: room("session:rust-workshop"), state: StageState::Break, present: 38 },
        ],
    }
}

pub fn resync() -> ServerMsg {
    ServerMsg::Resync { room: keynote(), epoch: Epoch::parse("9e41c0d2b7aa").unwrap() }
}

pub fn qa_page_request() -> ClientMsg {
    ClientMsg::QaPage {
        rid: RequestId(12),
        room: keynote(),
        before: Some(message_id("01945c3f2a1b7c2d9e4f5a6b7c8d9e0f")),
    }
}

pub fn booth_page_request() -> ClientMsg {
    ClientMsg::BoothPage { rid: RequestId(9), room: room("booth:itu"), after: None }
}

pub fn questions_page() -> ServerMsg {
    let question = question();
    ServerMsg::QuestionsPage {
        rid: RequestId(12),
        room: keynote(),
        my_votes: vec![question.id.clone()],
        questions: vec![question],
        more: true,
    }
}

pub fn booth_requests() -> ServerMsg {
    ServerMsg::BoothRequests {
        rid: RequestId(9),
        room: room("booth:itu"),
        requests: vec![contact_request()],
        more: false,
    }
}

pub fn chat_history_answer() -> ServerMsg {
    ServerMsg::ChatHistory { rid: RequestId(6), room: keynote(), messages: vec![chat_message()], more: false }
}

// ---- room events ----------------------------------------------------------------------------

pub fn stage_event() -> RoomEvent {
    RoomEvent::Stage { stage: live_stage(), by: user("auth0|ada") }
}

pub fn chat_event() -> RoomEvent {
    RoomEvent::Chat { message: chat_message() }
}

pub fn chat_deleted_event() -> RoomEvent {
    RoomEvent::ChatDeleted { id: message_id("01945c3e8b7a7c2d9e4f5a6b7c8d9e0f"), by: user("auth0|ada") }
}

pub fn user_muted_event() -> RoomEvent {
    RoomEvent::UserMuted { user: user("guest-7f3a9c"), until: Some(1_767_262_200_000), by: user("auth0|ada") }
}

pub fn user_unmuted_event() -> RoomEvent {
    RoomEvent::UserUnmuted { user: user("guest-7f3a9c"), by: user("auth0|ada") }
}

pub fn question() -> QuestionView {
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

pub fn questions_event() -> RoomEvent {
    RoomEvent::Questions { changed: vec![question()], removed: vec![] }
}

pub fn qa_ask() -> ClientMsg {
    ClientMsg::QaAsk {
        rid: RequestId(12),
        room: keynote(),
        text: "How will the WSIS action lines meet the SDGs after 2030?".into(),
        anonymous: false,
    }
}

pub fn qa_vote() -> ClientMsg {
    ClientMsg::QaVote {
        rid: RequestId(13),
        room: keynote(),
        id: message_id("01945c3f1a2b7c2d9e4f5a6b7c8d9e11"),
        up: true,
    }
}

pub fn qa_withdraw() -> ClientMsg {
    ClientMsg::QaWithdraw { rid: RequestId(14), room: keynote(), id: message_id("01945c3f1a2b7c2d9e4f5a6b7c8d9e11") }
}

pub fn qa_moderate() -> ClientMsg {
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

pub fn qa_votes() -> ServerMsg {
    ServerMsg::QaVotes {
        room: keynote(),
        votes: vec![QuestionVotes { id: message_id("01945c3f1a2b7c2d9e4f5a6b7c8d9e11"), votes: 15 }],
    }
}

pub fn poll() -> PollView {
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

pub fn polls_event() -> RoomEvent {
    RoomEvent::Polls { changed: vec![poll()], removed: vec![] }
}

pub fn poll_create() -> ClientMsg {
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

pub fn poll_control() -> ClientMsg {
    ClientMsg::PollControl {
        rid: RequestId(17),
        room: keynote(),
        id: message_id("01945c3f9a2b7c2d9e4f5a6b7c8d9e21"),
        version: 1,
        action: PollAction::Open,
        results: None,
    }
}

pub fn poll_answer() -> ClientMsg {
    ClientMsg::PollAnswer {
        rid: RequestId(18),
        room: keynote(),
        id: message_id("01945c3f9a2b7c2d9e4f5a6b7c8d9e21"),
        choices: vec![1],
    }
}

pub fn poll_results() -> ServerMsg {
    ServerMsg::PollResults {
        room: keynote(),
        tallies: vec![PollTally {
            id: message_id("01945c3f9a2b7c2d9e4f5a6b7c8d9e21"),
            counts: vec![12, 31, 9],
            voters: 52,
        }],
    }
}

pub fn booth_room() -> RoomId {
    room("booth:itu")
}

pub fn contact_request() -> ContactRequestView {
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

pub fn staff_view() -> StaffView {
    StaffView { user: user("auth0|grace"), name: "Grace Hopper".into(), status: StaffStatus::Available }
}

pub fn booth_event() -> RoomEvent {
    RoomEvent::Booth { staff: vec![staff_view()], requests: vec![contact_request()] }
}

pub fn call_opened_event() -> RoomEvent {
    RoomEvent::CallOpened {
        call: CallInfo {
            members: vec![UserProfile { id: user("guest-7f3a9c"), name: "Alan T.".into(), country: None }, grace()],
            booth: Some("itu".into()),
            opened_at: 1_767_258_360_000,
        },
    }
}

pub fn booth_status() -> ClientMsg {
    ClientMsg::BoothStatus { rid: RequestId(20), room: booth_room(), status: StaffStatus::Busy }
}

pub fn booth_request() -> ClientMsg {
    ClientMsg::BoothRequest {
        rid: RequestId(21),
        room: booth_room(),
        message: Some("Please call me about the 2026 prizes".into()),
    }
}

pub fn booth_cancel() -> ClientMsg {
    ClientMsg::BoothCancel {
        rid: RequestId(22),
        room: booth_room(),
        id: message_id("01945c4a1b2c7d3e8f9a0b1c2d3e4f50"),
    }
}

pub fn booth_accept() -> ClientMsg {
    ClientMsg::BoothAccept {
        rid: RequestId(23),
        room: booth_room(),
        id: message_id("01945c4a1b2c7d3e8f9a0b1c2d3e4f50"),
    }
}

pub fn call_room() -> RoomId {
    room("call:01945c4a1b2c7d3e8f9a0b1c2d3e4f50")
}

pub fn call_signal() -> ClientMsg {
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

pub fn signal_msg() -> ServerMsg {
    ServerMsg::Signal {
        room: call_room(),
        from: user("guest-7f3a9c"),
        signal: Signal::Offer { sdp: "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n".into() },
    }
}

pub const SDP: &str = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";

pub fn media_publish() -> ClientMsg {
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

pub fn media_view() -> ClientMsg {
    ClientMsg::MediaView { rid: RequestId(27), room: keynote(), quality: StageQuality::Auto }
}

pub fn media_answer() -> ClientMsg {
    ClientMsg::MediaAnswer { rid: RequestId(28), room: keynote(), sdp: SDP.into() }
}

pub fn media_quality() -> ClientMsg {
    ClientMsg::MediaQuality { rid: RequestId(29), room: keynote(), quality: StageQuality::AudioOnly }
}

pub fn media_stop() -> ClientMsg {
    ClientMsg::MediaStop { rid: RequestId(30), room: keynote() }
}

pub fn media_published() -> ServerMsg {
    ServerMsg::MediaPublished { rid: RequestId(26), room: keynote(), sdp: SDP.into() }
}

pub fn media_offer() -> ServerMsg {
    ServerMsg::MediaOffer { rid: None, room: keynote(), sdp: SDP.into() }
}

pub fn stage_tracks_event() -> RoomEvent {
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

pub fn booth_summary() -> ServerMsg {
    ServerMsg::BoothSummary {
        booths: vec![
            BoothCounts { booth: "itu".into(), visitors: 14, staff_on_duty: 2 },
            BoothCounts { booth: "undp".into(), visitors: 3, staff_on_duty: 0 },
        ],
    }
}

pub fn announcement_event() -> RoomEvent {
    RoomEvent::Announcement { announcement: announcement() }
}

// ---- encoding -------------------------------------------------------------------------------

/// The frame a client sends, checked to decode back to `msg`.
pub fn client_json(msg: ClientMsg) -> String {
    let json = msg.to_json();
    assert_eq!(serde_json::from_str::<ClientMsg>(&json).unwrap(), msg, "{json}");
    json
}

/// The frame a node sends, checked to decode back to `msg`.
pub fn server_json(msg: ServerMsg) -> String {
    let json = msg.to_json();
    assert_eq!(serde_json::from_str::<ServerMsg>(&json).unwrap(), msg, "{json}");
    json
}

/// A room event as published to the bus and nested in `event`, checked to decode back.
pub fn event_json(event: RoomEvent) -> String {
    let json = serde_json::to_string(&event).unwrap();
    assert_eq!(serde_json::from_str::<RoomEvent>(&json).unwrap(), event, "{json}");
    json
}

pub fn stage_hand() -> ClientMsg {
    ClientMsg::StageHand { rid: RequestId(31), room: keynote(), raised: true }
}

pub fn stage_invite() -> ClientMsg {
    ClientMsg::StageInvite { rid: RequestId(32), room: keynote(), user: user("guest-7f3a9c"), on: true }
}

pub fn stage_lineup_event() -> RoomEvent {
    RoomEvent::StageLineup {
        on_stage: vec![StageMember { user: user("auth0|grace"), name: "Grace Hopper".into() }],
        hands: vec![RaisedHand {
            user: user("guest-7f3a9c"),
            name: "Alan T.".into(),
            speaker: false,
            at: 1_767_258_420_000,
        }],
    }
}
