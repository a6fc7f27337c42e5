//! Identifier newtypes. Each one validates on construction and on deserialisation, so a
//! value that reaches the hub is already well-formed.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a string was refused as an identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdError {
    pub kind: &'static str,
    pub reason: &'static str,
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.kind, self.reason)
    }
}

impl std::error::Error for IdError {}

/// The TypeScript declaration of an id: a plain alias (`type RoomId = string;`). By hand,
/// because the derive cannot read `serde(try_from, into, transparent)`.
macro_rules! ts_alias {
    ($name:ident, $ts:literal) => {
        #[cfg(feature = "ts")]
        impl ts_rs::TS for $name {
            type WithoutGenerics = Self;
            type OptionInnerType = Self;
            fn name() -> String {
                stringify!($name).to_owned()
            }
            fn decl() -> String {
                format!("type {} = {};", stringify!($name), $ts)
            }
            fn decl_concrete() -> String {
                Self::decl()
            }
            fn inline() -> String {
                $ts.to_owned()
            }
            fn inline_flattened() -> String {
                panic!("{} is not an object and cannot be flattened", stringify!($name))
            }
        }
    };
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $max:expr, $valid:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates `value` and wraps it.
            pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                if value.is_empty() {
                    return Err(IdError { kind: $kind, reason: "must not be empty" });
                }
                if value.len() > $max {
                    return Err(IdError { kind: $kind, reason: concat!("longer than ", stringify!($max), " bytes") });
                }
                let valid: fn(char) -> bool = $valid;
                if !value.chars().all(valid) {
                    return Err(IdError { kind: $kind, reason: "contains a character that is not allowed" });
                }
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        ts_alias!($name, "string");

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                Self::parse(value)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(value: &str) -> Result<Self, IdError> {
                Self::parse(value)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }
    };
}

fn is_room_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ':' | '_' | '-' | '.')
}

fn is_slug_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'
}

fn is_printable(c: char) -> bool {
    !c.is_control()
}

string_id!(
    /// A room: `event` (the event-wide room), `session:<slug>` (one session's live room),
    /// `expo` (the exhibition hall), `booth:<slug>` (one booth), `call:<id>` (a private call) or
    /// `green:<slug>` (a session's green room).
    /// ASCII letters, digits and `: _ - .`, at most 64 bytes.
    RoomId, "room id", 64, is_room_char
);
string_id!(
    /// A user, as the `sub` claim of their token names them. Printable, at most 128 bytes.
    UserId, "user id", 128, is_printable
);
string_id!(
    /// A session's or booth's slug, the name in its room id (`session:<slug>`): lowercase
    /// ASCII letters, digits and `-`, at most 48 bytes.
    Slug, "slug", 48, is_slug_char
);
string_id!(
    /// A chat message, unique within its room; ids sort in the order the node accepted them.
    MessageId, "message id", 64, is_room_char
);
string_id!(
    /// A room stream's epoch. Sequence numbers are only comparable within one epoch; a new
    /// epoch means the history before it is gone.
    Epoch, "epoch", 64, is_room_char
);
string_id!(
    /// One WebSocket connection, as the node named it in `welcome` (for support and logs).
    ConnectionId, "connection id", 64, is_room_char
);

/// What a room is for, read from its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoomKind {
    /// `event`: organiser announcements and the attendance summary of live sessions.
    Event,
    /// `session:<slug>`: one session's stage, chat and attendance.
    Session,
    /// `expo`: the exhibition hall, where every booth's visitor and staff counts arrive.
    Expo,
    /// `booth:<slug>`: one exhibition booth's chat, staff presence and contact requests.
    Booth,
    /// `call:<id>`: a private room for the people a call was opened for (a booth's visitor
    /// and the staff member who accepted its request).
    Call,
    /// `green:<slug>`: the green room of session `slug`, where its speakers and moderators
    /// meet on video before they go on stage (a small mesh call).
    Green,
}

impl RoomId {
    /// The id of the event-wide room.
    pub const EVENT: &'static str = "event";

    pub fn event() -> Self {
        Self(Self::EVENT.to_owned())
    }

    /// The room of session `slug`.
    pub fn session(slug: &str) -> Result<Self, IdError> {
        Self::parse(format!("session:{slug}"))
    }

    /// The id of the exhibition hall.
    pub const EXPO: &'static str = "expo";

    pub fn expo() -> Self {
        Self(Self::EXPO.to_owned())
    }

    /// The room of booth `slug`.
    pub fn booth(slug: &str) -> Result<Self, IdError> {
        Self::parse(format!("booth:{slug}"))
    }

    /// The private room of call `id`.
    pub fn call(id: &str) -> Result<Self, IdError> {
        Self::parse(format!("call:{id}"))
    }

    /// The green room of session `slug`.
    pub fn green(slug: &str) -> Result<Self, IdError> {
        Self::parse(format!("green:{slug}"))
    }

    /// The kind of room, or `None` for an id that names no kind of room this node serves.
    pub fn kind(&self) -> Option<RoomKind> {
        let named = |prefix: &str| self.0.strip_prefix(prefix).is_some_and(|rest| !rest.is_empty());
        if self.0 == Self::EVENT {
            Some(RoomKind::Event)
        } else if self.0 == Self::EXPO {
            Some(RoomKind::Expo)
        } else if named("session:") {
            Some(RoomKind::Session)
        } else if named("booth:") {
            Some(RoomKind::Booth)
        } else if named("call:") {
            Some(RoomKind::Call)
        } else if named("green:") {
            Some(RoomKind::Green)
        } else {
            None
        }
    }

    /// What follows the kind's prefix (`hl-1` for `session:hl-1`); the whole id for `event`
    /// and `expo`.
    pub fn name(&self) -> &str {
        self.0.split_once(':').map_or(self.0.as_str(), |(_, name)| name)
    }
}

/// A client's request id, echoed in the `ack` or `error` that answers the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RequestId(pub u64);

ts_alias!(RequestId, "number");

/// A room event's position in its room's stream: strictly increasing by one per event
/// within an epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Seq(pub u64);

ts_alias!(Seq, "number");

impl Seq {
    pub const ZERO: Seq = Seq(0);

    pub fn next(self) -> Seq {
        Seq(self.0 + 1)
    }
}

impl fmt::Display for Seq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_ids_are_validated() {
        assert!(RoomId::parse("session:opening-2025").is_ok());
        assert!(RoomId::parse("").is_err());
        assert!(RoomId::parse("session:a b").is_err());
        assert!(RoomId::parse("x".repeat(65)).is_err());
        assert!(serde_json::from_str::<RoomId>("\"bad room\"").is_err());
    }

    #[test]
    fn room_kinds() {
        assert_eq!(RoomId::event().kind(), Some(RoomKind::Event));
        assert_eq!(RoomId::session("hl-1").unwrap().kind(), Some(RoomKind::Session));
        assert_eq!(RoomId::parse("session:").unwrap().kind(), None);
        assert_eq!(RoomId::parse("booth:x").unwrap().kind(), Some(RoomKind::Booth));
        assert_eq!(RoomId::parse("booth:").unwrap().kind(), None);
        assert_eq!(RoomId::expo().kind(), Some(RoomKind::Expo));
        assert_eq!(RoomId::call("0a1b").unwrap().kind(), Some(RoomKind::Call));
        assert_eq!(RoomId::green("opening").unwrap().kind(), Some(RoomKind::Green));
        assert_eq!(RoomId::parse("stage:x").unwrap().kind(), None);
        assert_eq!(RoomId::booth("itu").unwrap().name(), "itu");
        assert_eq!(RoomId::expo().name(), "expo");
    }

    #[test]
    fn user_ids_refuse_control_characters() {
        assert!(UserId::parse("auth0|abc").is_ok());
        assert!(UserId::parse("a\u{0}b").is_err());
    }
}
