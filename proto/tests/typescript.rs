//! The browser client's copy of the protocol types, `web/src/proto.gen.ts`, must be what
//! this crate generates (ts-rs). When a message changes, rewrite it with
//! `UPDATE_TS=1 cargo test -p plenary-proto --test typescript` and commit both.

use std::path::Path;

use plenary_proto::*;
use ts_rs::TS;

const GENERATED: &str = "../web/src/proto.gen.ts";

fn generate() -> String {
    let mut out = String::from(
        "// Generated from proto/ by `UPDATE_TS=1 cargo test -p plenary-proto --test typescript`.\n\
         // Do not edit: a test fails when this file and the Rust types disagree.\n\n",
    );
    out += "/** The `code` of an `error` message (proto/PROTOCOL.md, section 18). */\nexport const ErrorCode = {\n";
    for code in ErrorCode::ALL {
        out += &format!("  {}: {},\n", code.label(), code.as_u16());
    }
    out += "} as const;\nexport type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];\n\n";
    out += "/** WebSocket close codes (proto/PROTOCOL.md, section 19). */\nexport const CloseCode = {\n";
    for code in CloseCode::ALL {
        out += &format!("  {}: {},\n", code.label(), code.as_u16());
    }
    out += "} as const;\nexport type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];\n\n";
    out += "/** The longest text the node accepts in each field, in characters (proto/PROTOCOL.md, section 20). */\n\
             export const InputLimits = {\n";
    for (name, max_chars) in input::ALL {
        out += &format!("  {name}: {max_chars},\n");
    }
    out += "} as const;\n\n";
    out += &format!(
        "/** The protocol versions this client and the node speak. */\nexport const SUPPORTED_PROTOCOLS = {:?};\n\n",
        SUPPORTED_PROTOCOLS
    );
    let declarations = [
        RoomId::decl(),
        UserId::decl(),
        MessageId::decl(),
        Epoch::decl(),
        ConnectionId::decl(),
        RequestId::decl(),
        Seq::decl(),
        ClientMsg::decl(),
        ServerMsg::decl(),
        RoomEvent::decl(),
        Announcement::decl(),
        Stage::decl(),
        StageState::decl(),
        ChatMessage::decl(),
        UserProfile::decl(),
        Role::decl(),
        Membership::decl(),
        Attendance::decl(),
        SessionAttendance::decl(),
        StreamPosition::decl(),
        Limits::decl(),
        QaAction::decl(),
        QuestionState::decl(),
        QuestionView::decl(),
        QuestionVotes::decl(),
        PollView::decl(),
        PollState::decl(),
        PollResults::decl(),
        PollAction::decl(),
        PollTally::decl(),
        PollChoice::decl(),
        StaffStatus::decl(),
        StaffView::decl(),
        ContactKind::decl(),
        ContactState::decl(),
        ContactRequestView::decl(),
        BoothView::decl(),
        CallInfo::decl(),
        BoothCounts::decl(),
        Signal::decl(),
        IceServer::decl(),
        TrackSource::decl(),
        StageTrack::decl(),
        PublishedTrack::decl(),
        StageQuality::decl(),
        StageMember::decl(),
        RaisedHand::decl(),
    ];
    for declaration in declarations {
        // Every integer on the wire is a count, an id or a Unix time in ms: all far below
        // 2^53, so JSON.parse's number is exact (ts-rs would say bigint, which JSON.parse
        // never produces).
        out += &format!("export {}\n\n", declaration.replace("bigint", "number"));
    }
    out.trim_end().to_owned() + "\n"
}

#[test]
fn generated_typescript_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(GENERATED);
    let expected = generate();
    if std::env::var_os("UPDATE_TS").is_some() {
        std::fs::write(&path, &expected).unwrap();
        return;
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "{} is stale: run `UPDATE_TS=1 cargo test -p plenary-proto --test typescript` and commit it",
        path.display()
    );
}
