//! Snapshot tests of the node's messages and the room events (see `snapshots.rs` for the
//! client's and for why): the exact wire encoding of one value of every variant, checked to
//! decode back. Refresh with `UPDATE_EXPECT=1 cargo test -p plenary-proto --test
//! snapshots_server` and review the diff.

mod common;

use common::values::*;
use expect_test::expect;
use plenary_proto::*;

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
        on_stage: vec![],
        hands: vec![],
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
        on_stage: vec![],
        hands: vec![],
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
        on_stage: vec![],
        hands: vec![],
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

#[test]
fn stage_lineup_messages() {
    expect![[r#"{"type":"stage_hand","rid":31,"room":"session:keynote","raised":true}"#]]
        .assert_eq(&client_json(stage_hand()));
    expect![[r#"{"type":"stage_invite","rid":32,"room":"session:keynote","user":"guest-7f3a9c","on":true}"#]]
        .assert_eq(&client_json(stage_invite()));
    let event = ServerMsg::Event { room: keynote(), seq: Seq(58), event: stage_lineup_event() };
    expect![[r#"{"type":"event","room":"session:keynote","seq":58,"event":{"type":"stage_lineup","on_stage":[{"user":"auth0|grace","name":"Grace Hopper"}],"hands":[{"user":"guest-7f3a9c","name":"Alan T.","speaker":false,"at":1767258420000}]}}"#]].assert_eq(&server_json(event));
}
