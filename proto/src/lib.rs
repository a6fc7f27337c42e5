//! Plenary's wire protocol: every message a client and a node exchange over one
//! WebSocket, as JSON text frames.
//!
//! - [`ids`]: identifier newtypes (`RoomId`, `UserId`, ...); a bare string never names a thing.
//! - [`msg`]: [`ClientMsg`] (client to node) and [`ServerMsg`] (node to client), tagged by `type`.
//! - [`views`]: the values messages carry (questions, polls, booths, stages, people, limits).
//! - [`codes`]: error codes carried by `error` messages and WebSocket close codes, in ranges that
//!   tell a client whether retrying or reconnecting can help.
//! - [`input`]: the fixed lengths of what people type (questions, poll texts, names, ...), which
//!   the node enforces and clients show.
//!
//! This crate is types only: no tokio, axum or Redis. `proto/PROTOCOL.md` is the prose
//! specification; `tests/protocol_doc.rs` checks that every example in it decodes.

pub mod codes;
pub mod ids;
pub mod input;
pub mod msg;
pub mod views;

pub use codes::{CloseCode, ErrorCode};
pub use ids::{ConnectionId, Epoch, IdError, MessageId, RequestId, RoomId, RoomKind, Seq, Slug, UserId};
pub use msg::*;
pub use views::*;

/// The protocol versions this build speaks, oldest first. A client lists the versions it
/// speaks in `hello`; the node answers with the highest one both sides know.
pub const SUPPORTED_PROTOCOLS: &[u16] = &[1];

/// Picks the highest protocol version offered by the client that this build supports.
pub fn negotiate_protocol(offered: &[u16]) -> Option<u16> {
    offered.iter().copied().filter(|v| SUPPORTED_PROTOCOLS.contains(v)).max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_picks_highest_common_version() {
        assert_eq!(negotiate_protocol(&[1]), Some(1));
        assert_eq!(negotiate_protocol(&[7, 1, 0]), Some(1));
        assert_eq!(negotiate_protocol(&[2, 3]), None);
        assert_eq!(negotiate_protocol(&[]), None);
    }
}
