//! Domain rules with no IO: each module takes a command or an observation and returns a
//! decision, and is tested as plain functions. The room actor (`hub::room`) calls them.

pub mod analytics;
pub mod attendance;
pub mod booth;
pub mod booth_views;
pub mod chat;
pub mod identity;
pub mod page;
pub mod people;
pub mod permissions;
pub mod poll;
pub mod qa;
pub mod qa_views;
pub mod rate;
pub mod replay;
pub mod stage;
pub mod text;

use plenary_proto::MessageId;

/// A new id for a message, question, poll or contact request: a UUIDv7 in hex, so ids sort
/// in the order the node made them (the boards and pages rely on it).
pub fn new_id() -> MessageId {
    MessageId::parse(uuid::Uuid::now_v7().simple().to_string()).expect("32 hex digits are a valid id")
}

/// A test's id, written as a literal.
#[cfg(test)]
pub fn mid(id: &str) -> MessageId {
    MessageId::parse(id).expect("a test id is a valid id")
}
