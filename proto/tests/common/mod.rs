//! Helpers shared by the integration tests: the `type` tag of every message and room event
//! variant, from exhaustive matches, so that adding a variant fails to compile here until the
//! tests (and the examples they demand) cover it.

#![allow(dead_code)] // each test crate uses a different part

pub mod values;

use plenary_proto::{ClientMsg, RoomEvent, ServerMsg};

/// Defines `$tag_fn`, the `type` tag of a value, with an exhaustive match, and `$all`, every
/// tag of the enum, from the same list.
macro_rules! variant_tags {
    ($enum:ident, $tag_fn:ident, $all:ident { $($variant:ident => $tag:literal,)* }) => {
        /// The `type` tag this value encodes with.
        pub fn $tag_fn(value: &$enum) -> &'static str {
            match value {
                $($enum::$variant { .. } => $tag,)*
            }
        }

        /// Every `type` tag of the enum, one per variant.
        pub const $all: &[&str] = &[$($tag,)*];
    };
}

variant_tags!(ClientMsg, client_tag, CLIENT_TAGS {
    Hello => "hello",
    Refresh => "refresh",
    Join => "join",
    Leave => "leave",
    StageUpdate => "stage_update",
    ChatSend => "chat_send",
    ChatHistory => "chat_history",
    ChatDelete => "chat_delete",
    Mute => "mute",
    Unmute => "unmute",
    Announce => "announce",
    QaAsk => "qa_ask",
    QaVote => "qa_vote",
    QaWithdraw => "qa_withdraw",
    QaPage => "qa_page",
    QaModerate => "qa_moderate",
    PollCreate => "poll_create",
    PollControl => "poll_control",
    PollAnswer => "poll_answer",
    BoothStatus => "booth_status",
    BoothRequest => "booth_request",
    BoothCancel => "booth_cancel",
    BoothAccept => "booth_accept",
    BoothPage => "booth_page",
    CallSignal => "call_signal",
    MediaPublish => "media_publish",
    MediaView => "media_view",
    MediaAnswer => "media_answer",
    MediaQuality => "media_quality",
    MediaStop => "media_stop",
    StageHand => "stage_hand",
    StageInvite => "stage_invite",
});

variant_tags!(ServerMsg, server_tag, SERVER_TAGS {
    Welcome => "welcome",
    Ack => "ack",
    Error => "error",
    Snapshot => "snapshot",
    Resumed => "resumed",
    Event => "event",
    Attendance => "attendance",
    AttendanceSummary => "attendance_summary",
    ChatHistory => "chat_history",
    QuestionsPage => "questions_page",
    BoothRequests => "booth_requests",
    Resync => "resync",
    QaVotes => "qa_votes",
    PollResults => "poll_results",
    BoothSummary => "booth_summary",
    Signal => "signal",
    MediaPublished => "media_published",
    MediaOffer => "media_offer",
});

variant_tags!(RoomEvent, event_tag, EVENT_TAGS {
    Stage => "stage",
    Chat => "chat",
    ChatDeleted => "chat_deleted",
    UserMuted => "user_muted",
    UserUnmuted => "user_unmuted",
    Questions => "questions",
    Polls => "polls",
    Announcement => "announcement",
    Booth => "booth",
    CallOpened => "call_opened",
    CallJoined => "call_joined",
    CallLeft => "call_left",
    StageTracks => "stage_tracks",
    StageLineup => "stage_lineup",
});

/// The `type` field of an encoded message or event.
pub fn type_of(value: &serde_json::Value) -> &str {
    value.get("type").and_then(serde_json::Value::as_str).unwrap_or("")
}
