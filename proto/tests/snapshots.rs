//! Snapshot tests that pin the exact wire encoding (the bytes of one text frame) of one value of
//! every [`ClientMsg`], [`ServerMsg`] and [`RoomEvent`] variant, plus the variants whose optional
//! fields are left out, so that a change to field names, tags, field order or the omission of
//! absent fields shows up as a failing test. Each encoding must also decode back to the same
//! value. After an intended change, refresh the expectations with
//! `UPDATE_EXPECT=1 cargo test -p plenary-proto --test snapshots` and review the diff.

mod common;

use std::collections::BTreeSet;

use common::values::*;
use common::{CLIENT_TAGS, EVENT_TAGS, SERVER_TAGS, client_tag, event_tag, server_tag};
use expect_test::expect;
use plenary_proto::*;

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
        stage_hand(),
        stage_invite(),
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
        stage_lineup_event(),
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
