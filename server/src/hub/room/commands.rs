//! What a room is asked to do: the commands its mailbox takes ([`RoomCmd`]) and the
//! requests of its members ([`RoomRequest`]: [`ChatRequest`] for the core, the rest for the
//! room's kind, such as [`QaRequest`] and [`PollRequest`]).

use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use bytes::Bytes;
use plenary_proto::{MessageId, QaAction, RequestId, StreamPosition, UserId};

use super::BoothRequest;
use crate::auth::Identity;
use crate::bus::Publication;
use crate::domain::stage::StageChange;
use crate::hub::peer::Peer;

/// What a room actor is asked to do.
#[derive(Debug)]
pub enum RoomCmd {
    Join {
        peer: Arc<Peer>,
        identity: Arc<Identity>,
        rid: RequestId,
        since: Option<StreamPosition>,
        /// Told whether the member was let in, so a refused join holds no place on the
        /// connection.
        admitted: tokio::sync::oneshot::Sender<bool>,
    },
    /// `rid` is absent when the connection closed rather than asked to leave.
    Leave {
        peer: Arc<Peer>,
        rid: Option<RequestId>,
    },
    Request {
        peer: Arc<Peer>,
        identity: Arc<Identity>,
        rid: RequestId,
        request: RoomRequest,
    },
    /// A publication from the bus (possibly this node's own).
    Deliver(Publication),
    /// An unsequenced frame for every member (the event room's attendance summary).
    Broadcast(Utf8Bytes),
    /// Deliveries for this room may have been dropped: read the bus history for gaps.
    CatchUp,
    /// The room's attendance on other nodes changed ([`RoomStats::others_present`]).
    PresenceChanged,
    /// A presence round of a booth or green room: the watched users connected on any live
    /// node, sorted.
    PresenceRound {
        everywhere: Vec<UserId>,
    },
    /// A room event the node itself decided (the stage's tracks, from the media plane):
    /// published like a member's.
    Publish(plenary_proto::RoomEvent),
    /// An unsequenced notice from the bus ([`crate::bus::Bus::notify`]): call signalling,
    /// `<user id>\n<frame>`, for that user's connections here.
    Notice(Bytes),
}

/// A command that acts on a room the caller is in.
#[derive(Debug)]
pub enum RoomRequest {
    /// Chat, deletions and mutes: every kind of room has them (who may use them is the
    /// membership's concern).
    Chat(ChatRequest),
    Stage(StageChange),
    Announce {
        text: String,
    },
    Qa(QaRequest),
    /// The next page of the questions the caller may see.
    QaPage {
        before: Option<MessageId>,
    },
    Poll(PollRequest),
    Booth(BoothRequest),
    /// The next page of the booth requests the caller may see.
    BoothPage {
        after: Option<MessageId>,
    },
    /// The session's WebRTC stage.
    Media(MediaRequest),
    /// Who goes on the WebRTC stage: raised hands and a moderator's lineup.
    Lineup(LineupRequest),
    /// WebRTC signalling for one other member of a call.
    Signal {
        to: UserId,
        signal: plenary_proto::Signal,
    },
}

/// A chat command as a client sends it.
#[derive(Debug)]
pub enum ChatRequest {
    Send { text: String },
    History { before: Option<MessageId>, limit: Option<u16> },
    Delete { id: MessageId },
    Mute { user: UserId, minutes: Option<u32> },
    Unmute { user: UserId },
}

/// A stage media command as a client sends it.
#[derive(Debug)]
pub enum MediaRequest {
    Publish { sdp: String, tracks: Vec<plenary_proto::PublishedTrack> },
    View { quality: plenary_proto::StageQuality },
    Answer { sdp: String },
    Quality { quality: plenary_proto::StageQuality },
    Stop,
}

/// A lineup command as a client sends it.
#[derive(Debug)]
pub enum LineupRequest {
    Hand { raised: bool },
    Invite { user: UserId, on: bool },
}

/// A poll command as a client sends it.
#[derive(Debug, Clone)]
pub enum PollRequest {
    Create {
        question: String,
        options: Vec<String>,
        multiple: bool,
        changeable: bool,
        results: plenary_proto::PollResults,
    },
    Control {
        id: MessageId,
        version: u64,
        action: plenary_proto::PollAction,
        results: Option<plenary_proto::PollResults>,
    },
    Answer {
        id: MessageId,
        choices: Vec<u8>,
    },
}

/// A Q&A command as a client sends it.
#[derive(Debug, Clone)]
pub enum QaRequest {
    Ask {
        text: String,
        anonymous: bool,
    },
    Vote {
        id: MessageId,
        up: bool,
    },
    Withdraw {
        id: MessageId,
    },
    Moderate {
        id: MessageId,
        version: u64,
        action: QaAction,
        text: Option<String>,
        reason: Option<String>,
        into: Option<MessageId>,
        into_version: Option<u64>,
        rank: Option<i64>,
    },
}
