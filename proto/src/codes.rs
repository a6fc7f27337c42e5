//! Error codes (in `error` messages) and WebSocket close codes, each in a documented range
//! that tells a client what to do next.
//!
//! Error codes: `400..=499` the request itself was refused and sending it again unchanged
//! fails again (`429` says when to retry); `500..=599` the node could not serve it now and a
//! retry may succeed. The connection stays open after any `error`.
//!
//! Close codes: the standard `1000`, `1001`, `1009`, `1011`; `4000..=4499` reconnect with
//! jittered backoff; `4500..=4999` do not reconnect until the cause is fixed (a new token, a
//! newer client).

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! code_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $value:literal, $label:literal;)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(into = "u16", try_from = "u16")]
        pub enum $name {
            $($(#[$vdoc])* $variant = $value,)*
        }

        impl $name {
            /// Every code, in ascending order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            pub fn as_u16(self) -> u16 {
                self as u16
            }

            /// The code's stable snake_case name, as used in docs, logs and metrics.
            pub fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label,)*
                }
            }
        }

        impl From<$name> for u16 {
            fn from(code: $name) -> u16 {
                code as u16
            }
        }

        impl TryFrom<u16> for $name {
            type Error = String;
            fn try_from(value: u16) -> Result<Self, String> {
                match value {
                    $($value => Ok($name::$variant),)*
                    other => Err(format!("unknown {} {other}", stringify!($name))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{} {}", *self as u16, self.label())
            }
        }
    };
}

code_enum!(
    /// The `code` of an `error` message.
    ErrorCode {
        /// Not valid JSON, an unknown `type`, or a missing or malformed field.
        BadRequest = 400, "bad_request";
        /// A token offered in `refresh` was refused.
        Unauthorized = 401, "unauthorized";
        /// The caller's roles do not allow this command in this room.
        Forbidden = 403, "forbidden";
        /// No such room, message or user.
        NotFound = 404, "not_found";
        /// The caller is not a member of this room (join first).
        NotJoined = 405, "not_joined";
        /// The room's current state does not allow this (e.g. an invalid stage transition).
        Conflict = 409, "conflict";
        /// A field is too long.
        TooLarge = 413, "too_large";
        /// A field has a value that is not allowed (e.g. empty chat text).
        Invalid = 422, "invalid";
        /// A moderator muted the caller in this room.
        Muted = 423, "muted";
        /// Too many rooms joined on one connection.
        TooManyRooms = 428, "too_many_rooms";
        /// Too many commands or chat messages; `retry_after_ms` says when to try again.
        RateLimited = 429, "rate_limited";
        /// A bug or an unexpected failure on the node.
        Internal = 500, "internal";
        /// The node cannot serve this now (shutting down, overloaded); retry later.
        Unavailable = 503, "unavailable";
    }
);

impl ErrorCode {
    /// Whether sending the same request again later can succeed.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorCode::RateLimited) || self.as_u16() >= 500
    }
}

code_enum!(
    /// The code of the WebSocket close frame a node sends.
    CloseCode {
        /// The client asked to close, or the node closed without an error.
        Normal = 1000, "normal";
        /// The node is shutting down or restarting: reconnect (another node may answer).
        GoingAway = 1001, "going_away";
        /// A frame was larger than the limit in `welcome.limits.max_message_bytes`.
        MessageTooBig = 1009, "message_too_big";
        /// An unexpected failure on the node: reconnect with backoff.
        InternalError = 1011, "internal_error";
        /// The client did not read its frames fast enough and its outbox overflowed:
        /// reconnect and resume from the last sequence number seen.
        SlowConsumer = 4000, "slow_consumer";
        /// Nothing was received (not even a pong) within the idle timeout.
        IdleTimeout = 4001, "idle_timeout";
        /// No `hello` arrived within the hello timeout after the upgrade.
        HelloTimeout = 4002, "hello_timeout";
        /// The node has reached its connection limit: reconnect later (with a longer backoff).
        ServerFull = 4003, "server_full";
        /// The token's user already holds `max_connections_per_user` connections on this
        /// node: close another tab or device, or reconnect later.
        TooManyConnections = 4004, "too_many_connections";
        /// An organiser changed this user's roles (a grant given or revoked): reconnect at
        /// once; the new connection has the rights now in force.
        RightsChanged = 4005, "rights_changed";
        /// The first frame was not a valid `hello` (or was binary), or a frame broke the
        /// WebSocket protocol.
        ProtocolViolation = 4500, "protocol_violation";
        /// None of the protocol versions offered in `hello` is spoken by this node.
        UnsupportedProtocol = 4501, "unsupported_protocol";
        /// The token is missing, malformed, forged, signed with an unknown key or
        /// algorithm, or has the wrong issuer or audience.
        InvalidToken = 4502, "invalid_token";
        /// The token expired (at `hello`, or on a live connection that did not `refresh` in
        /// time): reconnect only with a new token.
        TokenExpired = 4503, "token_expired";
        /// An organiser removed this user from the event (a ban, for a time or with no end;
        /// the close reason says which): do not reconnect.
        Removed = 4504, "removed";
    }
);

impl CloseCode {
    /// Whether a client should reconnect (with jittered backoff) after this close.
    pub fn should_reconnect(self) -> bool {
        match self.as_u16() {
            1000 => false,
            1001 | 1009 | 1011 => true,
            code => code < 4500,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_sit_in_their_ranges() {
        for code in ErrorCode::ALL {
            assert!((400..600).contains(&code.as_u16()), "{code}");
            assert_eq!(ErrorCode::try_from(code.as_u16()), Ok(*code));
        }
        for code in CloseCode::ALL {
            let v = code.as_u16();
            assert!(matches!(v, 1000 | 1001 | 1009 | 1011 | 4000..=4999), "{code}");
            assert_eq!(CloseCode::try_from(v), Ok(*code));
        }
    }

    #[test]
    fn reconnect_advice_follows_the_ranges() {
        assert!(CloseCode::SlowConsumer.should_reconnect());
        assert!(CloseCode::GoingAway.should_reconnect());
        assert!(!CloseCode::InvalidToken.should_reconnect());
        assert!(!CloseCode::TokenExpired.should_reconnect());
        assert!(!CloseCode::Normal.should_reconnect());
        assert!(ErrorCode::RateLimited.is_retryable());
        assert!(!ErrorCode::Forbidden.is_retryable());
    }

    #[test]
    fn codes_encode_as_numbers() {
        assert_eq!(serde_json::to_string(&ErrorCode::Forbidden).unwrap(), "403");
        assert!(serde_json::from_str::<ErrorCode>("499").is_err());
    }
}
